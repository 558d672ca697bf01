/* Applying a compiled plan to the kernel, and the little state moat keeps
 * about it. Thin: this and nl.c are the firewall's kernel seam. */
#ifndef MOAT_FW_APPLY_H
#define MOAT_FW_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "fw/fw.h"

enum fw_outcome {
	FW_APPLIED,		/* the table was replaced */
	FW_UNCHANGED,		/* the kernel already had this plan */
	FW_CHECKED,		/* dry run: the kernel accepted it, kept nothing */
};

struct fw_apply_opts {
	bool dry_run;
	bool force;		/* replace even when the hash matches */
	const char *state_dir;	/* where fw.state lives; NULL: none */
	uint32_t *genid;	/* out, optional: the generation afterwards */
};

/* Makes table inet moat exactly plan, in one kernel transaction, and sets
 * the plan's sysctls. On failure the kernel keeps what it had, dl says
 * which config lines were refused, and -1 is returned. */
int fw_apply(const struct fw_plan *plan, const struct fw_apply_opts *o,
	     enum fw_outcome *out, struct diag_list *dl);

/* Removes table inet moat; 0 or -1 with dl saying why. */
int fw_remove(struct diag_list *dl);

/* What the last apply left in STATE_DIR/fw.state. */
struct fw_state {
	char hash[FW_HASH_HEX + 1];	/* of the last plan applied */
	long long applied_at;		/* unix time, 0: never */
	unsigned long genid;		/* ruleset generation after it */
	char content[FW_HASH_HEX + 1];	/* the table's fingerprint then */
	long long failed_at;		/* last failure, 0: none since */
	char error[1024];		/* its first message */
};

/* 0, or -errno (-ENOENT: no apply yet). */
int fw_state_load(const char *dir, struct fw_state *st);

/* The no-op fast path (see apply.c). A config file's identity, taken
 * before it is read. false for stdin or what is not a regular file. */
struct fw_fast_id {
	long long v[7];
};
bool fw_fast_stat(const char *path, struct fw_fast_id *id);
/* Whether the config at path is exactly what the last successful apply in
 * this network namespace loaded, and the kernel still holds that
 * untouched; then the sysctls are re-asserted and hash is set. The config
 * is not read. state_dir (n bytes) gets the state directory that apply
 * recorded ("" when none), whatever the answer. */
bool fw_fast_unchanged(const char *path, char *hash, char *state_dir,
		       size_t n, struct diag_list *dl);
/* Remembers a successful apply of src (the bytes read after id). */
void fw_fast_record(const char *path, const struct fw_fast_id *id,
		    const char *src, size_t len, const struct fw_plan *plan,
		    const char *state_dir, uint32_t genid);

#endif
