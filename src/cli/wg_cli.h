/* WireGuard's part of the apply, diff and status commands. */
#ifndef MOAT_CLI_WG_CLI_H
#define MOAT_CLI_WG_CLI_H

#include <stdio.h>

#include "base/buf.h"
#include "wg/apply.h"
#include "wg/wg.h"

struct moat_config;

/* wg_compile, its diagnostics printed; NULL when it failed. */
struct wg_plan *cli_wg_compile(const struct moat_config *cfg);
/* One line per change: devices made and removed, peers. */
void cli_wg_print_ops(const struct wg_txn *t, FILE *out);

struct cli_wg_status {
	struct wg_device *devs;		/* as read */
	char **errors;			/* per device: NULL or why unread */
	size_t n;
	const char *problems[4];
	size_t nproblems;
};

/* Reads every enabled device the config names. */
void cli_wg_status_read(struct cli_wg_status *s, const struct moat_config *cfg);
/* As text on stdout, or as one JSON array appended to json. */
void cli_wg_status_print(const struct cli_wg_status *s, struct buf *json);
void cli_wg_status_free(struct cli_wg_status *s);

/* The subcommands of `moat wg` in wg_peer.c; argv[0] is the
 * subcommand's name. */
int cli_wg_peer(int argc, char **argv);
int cli_wg_export(int argc, char **argv);
int cli_wg_supervise(int argc, char **argv);

#endif
