/* The firewall: a validated config becomes one nftables table, `inet moat`,
 * that moat owns entirely. Compiling is pure (this header's fw_compile and
 * friends do no I/O); fw_apply.c and fw_status.c are the only files that
 * talk to the kernel. */
#ifndef MOAT_FW_FW_H
#define MOAT_FW_FW_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"

struct moat_config;

#define FW_FAMILY "inet"
#define FW_TABLE "moat"
/* The table's comment carries the hash of what was compiled, so that an
 * unchanged config is recognised without reading the ruleset back. */
#define FW_HASH_TAG "moat sha256:"
#define FW_HASH_HEX 64

/* Where a line of the compiled script came from. */
struct fw_origin {
	struct pos pos;		/* in the config; line 0 when built in */
	char *what;		/* "policy lan->wan rule allow_web" */
};

/* A sysctl the firewall needs (ip_forwarding). */
struct fw_sysctl {
	const char *path;	/* under /proc/sys */
	const char *value;
	struct pos pos;
};

struct fw_plan {
	char *file;		/* the config's name: origins point here */
	char *script;		/* `nft -f` input defining table inet moat */
	size_t len;
	char hash[FW_HASH_HEX + 1];	/* sha256 of the script's body */
	struct fw_origin *lines;	/* lines[i]: line i + 1 of script */
	size_t nlines;
	size_t nchains;
	size_t nrules;
	size_t nsets;
	struct fw_sysctl sysctl[4];
	size_t nsysctl;
};

/* Compiles cfg (already validated by cfg_load) into a plan. Problems only
 * the compiler can see go to dl with their config location; returns NULL
 * when there was an error. */
struct fw_plan *fw_compile(const struct moat_config *cfg,
			   struct diag_list *dl);
void fw_plan_free(struct fw_plan *plan);

/* The origin of line (1-based) of plan->script, or NULL. */
const struct fw_origin *fw_plan_origin(const struct fw_plan *plan, int line);

/* Extracts the hash from a table comment ("moat sha256:HEX"); false when
 * the comment is not one of ours. out has FW_HASH_HEX + 1 bytes. */
bool fw_hash_from_comment(const char *comment, char *out);

/* Adds to dl one error per "FILE:LINE:COL: Error: ..." of err (what
 * libnftables printed about plan->script loaded after skip lines of
 * preamble), placed at the config line the refused line came from.
 * Returns how many it found. */
int fw_explain(const struct fw_plan *plan, const char *err, int skip,
	       struct diag_list *dl);

#endif
