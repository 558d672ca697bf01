/* The router's part of the apply, diff and status commands. */
#ifndef MOAT_CLI_NET_CLI_H
#define MOAT_CLI_NET_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/buf.h"
#include "net/net.h"

struct moat_config;

/* net_compile, its diagnostics printed; NULL when it failed. */
struct net_plan *cli_net_compile(const struct moat_config *cfg);
/* Whether the kernel still holds exactly what the last successful apply
 * recorded in STATE_DIR/net.state left (the fingerprints agree). */
bool cli_net_unchanged(const char *state_dir);
/* "+2 addresses, +3 routes, -1 rule", or "no changes". */
void cli_net_summary(const struct net_change *c, char *buf, size_t n);
/* One line per operation, with its config line. */
void cli_net_print_ops(const struct net_change *c, FILE *out);

struct cli_net_status {
	struct net_plan *plan;		/* NULL: no config */
	struct net_plan *state;		/* the kernel */
	struct net_owned owned;
	const char *problems[6];
	size_t nproblems;
};

void cli_net_status_read(struct cli_net_status *s,
			 const struct moat_config *cfg, const char *state_dir);
/* As text on stdout, or as one JSON object appended to json. */
void cli_net_status_print(const struct cli_net_status *s, struct buf *json);
void cli_net_status_free(struct cli_net_status *s);

#endif
