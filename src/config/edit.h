/* Changes to a config text made in place: an attribute set in a block, a
 * block added, and every other byte (comments, blank lines, formatting,
 * the order of things) left as it was. For requests that change one thing
 * of the config, such as the REST API's WireGuard devices (ctl/m_wg.c).
 * Pure: no I/O; what it writes may hold keys, so every buffer it fills or
 * leaves behind is a wiping one (base/buf.h).
 *
 * Values are HCL literals made with cfg_lit_*: a string quoted and escaped
 * so that it reads back as exactly its bytes (in NFC, as HCL reads every
 * string), a number, a list of strings. */
#ifndef MOAT_CONFIG_EDIT_H
#define MOAT_CONFIG_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

/* One step of the way to a block: its type and all its labels. */
struct cfg_step {
	const char *type;
	const char *const *labels;
	size_t nlabels;
};

/* Appends s (len bytes) as a quoted HCL string: \", \\, \n, \r, \t and
 * \u00XX for the other control characters, $${ and %%{ for ${ and %{.
 * false (nothing appended) when s is not UTF-8. */
bool cfg_lit_str(struct buf *out, const char *s, size_t len);
void cfg_lit_int(struct buf *out, long long v);
/* ["a", "b"]; false (nothing appended) when one is not UTF-8. */
bool cfg_lit_strs(struct buf *out, const char *const *v, size_t n);

/* text (len bytes) with attribute name of the block at path (npath steps
 * from the top; 0: the top level) set to value, an HCL literal: the bytes
 * of its value replaced when it is there, else a line `name = value`
 * added before the block's closing brace, indented as its other lines (a
 * block on one line is opened onto several). The result is appended to
 * out. 0, or -1 with a message in err when text does not parse
 * ("LINE:COL: ...") or when the path names no block or more than one. */
int cfg_edit_set(struct buf *out, const char *text, size_t len,
		 const struct cfg_step *path, size_t npath, const char *name,
		 const char *value, char *err, size_t errlen);

/* text with block (HCL text of one or more blocks or attributes, lines
 * indented from column 0, no heredoc) added as the last thing in the
 * block at path, indented to its depth. The blocks of the path that do
 * not exist are made around it, in the deepest one that does (at the end
 * of the file when none does): `vpn { wireguard "x" { ... } }` from an
 * empty file. 0, or -1 with err as cfg_edit_set (a step that matches more
 * than one block). */
int cfg_edit_add(struct buf *out, const char *text, size_t len,
		 const struct cfg_step *path, size_t npath, const char *block,
		 char *err, size_t errlen);

#endif
