/* moat diff: what `moat apply` would change in the kernel, for people.
 *
 * Both sides are listed by nft itself, so that they read alike: the table
 * the kernel holds, and the plan loaded into a scratch network namespace
 * (unshare(CLONE_NEWNET)) and listed back from there. Counters and set
 * element expiry are dropped before comparing; the rest is a line diff.
 * Touches the kernel only to read, and the scratch namespace dies with
 * its last reference when this returns. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "base/buf.h"
#include "base/linediff.h"
#include "fw/diff.h"

#define DIFF_MAX_EDITS 2000

/* `nft list table inet moat` in the current namespace; NULL when absent. */
static char *list_table(const char *load, char **err)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	char *out = NULL;

	if (!nft) {
		*err = xstrdup("libnftables: cannot create a context");
		return NULL;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (load && nft_run_cmd_from_buffer(nft, load) != 0) {
		*err = xasprintf("the compiled ruleset does not load: %s",
				 nft_ctx_get_error_buffer(nft));
		goto out;
	}
	if (nft_run_cmd_from_buffer(nft, "list table " FW_FAMILY " "
				    FW_TABLE) == 0)
		out = xstrdup(nft_ctx_get_output_buffer(nft));
out:
	nft_ctx_free(nft);
	return out;
}

/* The plan as nft lists it, from a scratch namespace. */
static char *list_plan(const struct fw_plan *plan, char **err)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	char *out = NULL;

	if (home < 0) {
		*err = xasprintf("cannot open /proc/self/ns/net: %s",
				 strerror(errno));
		return NULL;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		*err = xasprintf("cannot make a scratch network namespace: %s",
				 strerror(errno));
		close(home);
		return NULL;
	}
	out = list_table(plan->script, err);
	if (setns(home, CLONE_NEWNET) < 0)
		fatal("cannot return to the original network namespace: %s",
		      strerror(errno));
	close(home);
	if (!out && !*err)
		*err = xstrdup("the compiled ruleset does not list back");
	return out;
}

/* Splits text into lines in place, dropping what differs without being a
 * change: counter values, element expiry, the hash comment. */
static char **lines(char *text, size_t *n, char *hash)
{
	char **v = NULL;
	size_t cap = 0;
	regex_t counter, expires;

	*n = 0;
	regcomp(&counter, " counter packets [0-9]+ bytes [0-9]+", REG_EXTENDED);
	regcomp(&expires, " expires [0-9a-z]+", REG_EXTENDED);
	for (char *s = strtok(text, "\n"); s; s = strtok(NULL, "\n")) {
		regmatch_t m;
		char *c = strstr(s, "comment \"" FW_HASH_TAG);

		if (c && hash) {
			/* comment "moat sha256:HEX": keep HEX, drop the line */
			c += strlen("comment \"");
			c[strcspn(c, "\"")] = '\0';
			if (!fw_hash_from_comment(c, hash))
				hash[0] = '\0';
			continue;
		}
		while (regexec(&counter, s, 1, &m, 0) == 0)
			memmove(s + m.rm_so + 8, s + m.rm_eo,
				strlen(s + m.rm_eo) + 1);	/* " counter" */
		while (regexec(&expires, s, 1, &m, 0) == 0)
			memmove(s + m.rm_so, s + m.rm_eo,
				strlen(s + m.rm_eo) + 1);
		xgrow((void **)&v, &cap, *n + 1, sizeof(*v));
		v[(*n)++] = s;
	}
	regfree(&counter);
	regfree(&expires);
	return v;
}

static bool is_block(const char *s)
{
	return !strncmp(s, "\tchain ", 7) || !strncmp(s, "\tset ", 5) ||
	       !strncmp(s, "\tmap ", 5);
}

/* The set, map or chain line i opens or sits in, for a hunk header. */
static const char *block_of(char *const *v, size_t i)
{
	for (i++; i-- > 0;)
		if (is_block(v[i]))
			return v[i] + 1;
	return "table " FW_FAMILY " " FW_TABLE;
}

int fw_diff(const struct fw_plan *plan, struct buf *out, char **err)
{
	char *have = list_table(NULL, err), *want;
	char hh[FW_HASH_HEX + 8] = "", wh[FW_HASH_HEX + 8] = "";
	char **a = NULL, **b = NULL;
	struct linediff_op *ops = NULL;
	size_t na = 0, nb = 0;
	const char *last = NULL;
	long nops;
	int r = -1;

	if (*err)
		return -1;
	want = list_plan(plan, err);
	if (!want)
		goto out;
	if (!have) {
		buf_printf(out, "table inet moat is not in the kernel; moat apply "
			   "would create it: %zu chains, %zu rules, %zu sets\n",
			   plan->nchains, plan->nrules, plan->nsets);
		r = 1;
		goto out;
	}
	a = lines(have, &na, hh);
	b = lines(want, &nb, wh);
	nops = linediff(a, na, b, nb, DIFF_MAX_EDITS, &ops);
	if (nops == 0) {
		buf_printf(out, "no changes: the kernel holds this config%s\n",
			   strcmp(hh, wh) ? " (from a config written "
			   "differently)" : "");
		r = 0;
		goto out;
	}
	r = 1;
	if (nops < 0) {
		buf_printf(out, "table inet moat differs throughout (more than "
			   "%d lines); moat apply would replace %zu lines with "
			   "%zu\n", DIFF_MAX_EDITS, na, nb);
		goto out;
	}
	buf_printf(out, "table inet moat: %ld line%s would change\n", nops,
		   nops == 1 ? "" : "s");
	for (long i = 0; i < nops; i++) {
		const struct linediff_op *o = &ops[i];
		const char *line = o->op == '+' ? b[o->b] : a[o->a];
		const char *blk = o->op == '+' ? block_of(b, o->b) :
				  block_of(a, o->a);

		/* name the block once, unless the line is its head */
		if (!is_block(line) && (!last || strcmp(blk, last)))
			buf_printf(out, "  %s\n", blk);
		last = blk;
		buf_printf(out, "%c %s\n", o->op, line + 1);
	}
out:
	free(ops);
	free(a);
	free(b);
	free(have);
	free(want);
	return r;
}
