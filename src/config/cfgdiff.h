/* What changes between two config texts, for `GET /api/config/diff`
 * (running vs staged): a unified text diff and a structured diff of the
 * blocks. Pure: no I/O, and ${NAME} references are compared as written,
 * never looked up in the environment.
 *
 * The text diff shows values as they are written, secrets included: to
 * return it to a client, diff cfg_redact()ed texts (config/redact.h) and
 * rely on the structured diff, which names attributes but never shows a
 * value, to say that a secret changed. */
#ifndef MOAT_CONFIG_CFGDIFF_H
#define MOAT_CONFIG_CFGDIFF_H

#include <stddef.h>

#include <jansson.h>

#include "base/buf.h"
#include "hcl/hcl.h"

/* Beyond this many lines on either side (after the lines both texts share
 * at the start and the end), or this many edits, the text diff gives up
 * on finding the shortest edit and replaces the whole middle. */
#define CFGDIFF_MAX_LINES 20000
#define CFGDIFF_MAX_EDITS 1000

/* `diff -u` of a (alen bytes) and b: "--- aname", "+++ bname", then @@
 * hunks with 3 lines of context, and "\ No newline at end of file" where
 * one applies. Any bytes; lines end at '\n' ('\r' is part of a line).
 * Returns "" when the texts are equal. Never NULL; the caller frees;
 * *outlen (may be NULL) gets the length, as a line may hold a NUL. */
char *cfgdiff_unified(const char *a, size_t alen, const char *b, size_t blen,
		      const char *aname, const char *bname, size_t *outlen);

/* The structured diff: both texts are parsed and what a body holds is
 * paired by key: an attribute by its name, a block by its type and labels
 * and, when that key repeats, by its index among the blocks with that key.
 * The top level gives a JSON array of
 *   {"op": "added" | "removed" | "changed" | "moved",
 *    "block": "zone \"lan\"", "type": "zone", "labels": ["lan"],
 *    "index": N (only when the key repeats in either text),
 *    "old_line": N (absent for added), "new_line": N (absent for removed),
 *    "moved": true (a changed block that also moved),
 *    "changes": [...] (a changed block: the same entries one level down,
 *                      without "changes" of their own)}
 * and, for a top-level attribute, {"op", "attribute": "name", "old_line",
 * "new_line"}. Order: the old text's order, then what was added in the new
 * text's order.
 *
 * "changed" compares meaning, not bytes: comments, blank space, the order
 * of attributes (a set in HCL), how a string or number is spelled ("\u0041"
 * and "A", 1.0 and 1) do not count. The order of blocks of one type does
 * (rules are evaluated in order): a block whose place among the blocks of
 * its type changed is "moved" (the fewest such blocks are named). A value
 * holding a ${NAME} reference is compared by its source bytes.
 *
 * Returns NULL when a text does not parse, with "NAME:LINE:COL: message"
 * in err (aname or bname). The caller json_decref()s the array. */
json_t *cfgdiff_blocks(const char *a, size_t alen, const char *b, size_t blen,
		       const char *aname, const char *bname, char *err,
		       size_t errlen);

/* --- helpers shared with config/redact.c -------------------------------- */

/* Parses a config text with every ${NAME} unset (HCL_ERROR values; the
 * environment is never read). NULL when it does not parse, with
 * "LINE:COL: message" in err. */
struct hcl_file *cfg_text_parse(const char *text, size_t len, char *err,
				size_t errlen);
/* Wipes every string value of f (keys among them), then frees it. Accepts
 * NULL. */
void cfg_text_free(struct hcl_file *f);

/* Pairs the blocks of a with those of b (b may be NULL) by type, labels and
 * index among the blocks with the same type and labels: the i-th result is
 * the index in b of a's block i, or SIZE_MAX. NULL when a has no blocks;
 * the caller frees. */
size_t *cfg_match_blocks(const struct hcl_body *a, const struct hcl_body *b);

/* Appends how people name blk: its type, then each label quoted as in HCL
 * (zone "lan"). */
void cfg_block_name(struct buf *out, const struct hcl_block *blk);

#endif
