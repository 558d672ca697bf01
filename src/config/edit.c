/* Config texts changed in place (config/edit.h): the text is parsed, the
 * block found by its path, and the change made as at most two
 * replacements of byte ranges, located by the value offsets the parser
 * keeps (hcl_attr.voff) and the positions it gives (hcl_offset). Nothing
 * else is rewritten. Pure; every buffer is a wiping one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfgdiff.h"
#include "config/edit.h"
#include "hcl/hcl.h"
#include "hcl/unicode.h"

/* --- literals ------------------------------------------------------------ */

bool cfg_lit_str(struct buf *out, const char *s, size_t len)
{
	if (!utf8_valid(s, len))
		return false;
	buf_addc(out, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': buf_adds(out, "\\\""); break;
		case '\\': buf_adds(out, "\\\\"); break;
		case '\n': buf_adds(out, "\\n"); break;
		case '\r': buf_adds(out, "\\r"); break;
		case '\t': buf_adds(out, "\\t"); break;
		case '$':
		case '%':
			/* ${ and %{ open templates: $${ and %%{ are literal */
			buf_addc(out, (char)c);
			if (i + 1 < len && s[i + 1] == '{')
				buf_addc(out, (char)c);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(out, "\\u%04x", c);
			else
				buf_addc(out, (char)c);
		}
	}
	buf_addc(out, '"');
	return true;
}

void cfg_lit_int(struct buf *out, long long v)
{
	buf_printf(out, "%lld", v);
}

bool cfg_lit_strs(struct buf *out, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!utf8_valid(v[i], strlen(v[i])))
			return false;
	buf_addc(out, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(out, ", ");
		cfg_lit_str(out, v[i], strlen(v[i]));
	}
	buf_addc(out, ']');
	return true;
}

/* --- a text and its edits ------------------------------------------------ */

/* Replace len bytes at off with the bytes of with. */
struct edit {
	size_t off;
	size_t len;
	struct buf with;
};

struct ed {
	const char *t;
	size_t len;
	const char *nl;			/* the text's line ending */
	struct hcl_file *f;
	struct edit v[2];
	size_t n;
	char *err;
	size_t errlen;
};

static int ed_init(struct ed *e, const char *text, size_t len, char *err,
		   size_t errlen)
{
	const char *lf = memchr(text, '\n', len);

	memset(e, 0, sizeof(*e));
	e->t = text;
	e->len = len;
	e->nl = lf && lf > text && lf[-1] == '\r' ? "\r\n" : "\n";
	e->err = err;
	e->errlen = errlen;
	e->f = cfg_text_parse(text, len, err, errlen);
	return e->f ? 0 : -1;
}

static void ed_free(struct ed *e)
{
	for (size_t i = 0; i < e->n; i++)
		buf_free(&e->v[i].with);
	cfg_text_free(e->f);
}

/* The next edit's replacement, to fill. */
static struct buf *ed_add(struct ed *e, size_t off, size_t len)
{
	struct edit *x = &e->v[e->n++];

	x->off = off;
	x->len = len;
	x->with = (struct buf)BUF_SECRET_INIT;
	return &x->with;
}

/* The edits do not overlap; at most two, in any order. */
static void ed_apply(struct ed *e, struct buf *out)
{
	size_t at = 0;

	if (e->n == 2 && e->v[1].off < e->v[0].off) {
		struct edit x = e->v[0];

		e->v[0] = e->v[1];
		e->v[1] = x;
	}
	for (size_t i = 0; i < e->n; i++) {
		buf_add(out, e->t + at, e->v[i].off - at);
		buf_add(out, e->v[i].with.p, e->v[i].with.len);
		at = e->v[i].off + e->v[i].len;
	}
	buf_add(out, e->t + at, e->len - at);
}

/* A buffer's text, "" before anything was added. */
static const char *text_of(const struct buf *b)
{
	return b->p ? b->p : "";
}

static size_t offset_of(const struct ed *e, const struct pos *at)
{
	return hcl_offset(e->t, e->len, at);
}

/* The blanks that start the line holding off, into out. */
static void line_indent(const struct ed *e, size_t off, struct buf *out)
{
	size_t s = off;

	while (s > 0 && e->t[s - 1] != '\n')
		s--;
	while (s < off && (e->t[s] == ' ' || e->t[s] == '\t'))
		buf_addc(out, e->t[s++]);
}

/* Each line of lines (indented from column 0) with ind before it (blank
 * lines stay blank) and the text's line ending after it. */
static void add_lines(const struct ed *e, struct buf *out, const char *ind,
		      const char *lines)
{
	while (*lines) {
		size_t n = strcspn(lines, "\n");

		if (n)
			buf_adds(out, ind);
		buf_add(out, lines, n);
		buf_adds(out, e->nl);
		lines += n + (lines[n] == '\n');
	}
}

/* --- finding a block ------------------------------------------------------ */

static bool step_matches(const struct hcl_block *b, const struct cfg_step *s)
{
	if (strcmp(b->type, s->type) || b->nlabels != s->nlabels)
		return false;
	for (size_t i = 0; i < s->nlabels; i++)
		if (b->labels[i].len != strlen(s->labels[i]) ||
		    memcmp(b->labels[i].s, s->labels[i], b->labels[i].len))
			return false;
	return true;
}

static void path_name(struct buf *b, const struct cfg_step *path, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(b, '.');
		buf_adds(b, path[i].type);
		for (size_t k = 0; k < path[i].nlabels; k++) {
			buf_addc(b, ' ');
			if (!cfg_lit_str(b, path[i].labels[k],
					 strlen(path[i].labels[k])))
				buf_adds(b, "\"?\"");
		}
	}
}

static int path_error(struct ed *e, const struct cfg_step *path, size_t n,
		      const char *what)
{
	struct buf b = BUF_INIT;

	path_name(&b, path, n);
	if (e->errlen)
		snprintf(e->err, e->errlen, "%s %s", what, b.p);
	buf_free(&b);
	return -1;
}

/* Follows path from the top as far as it goes: the number of steps found
 * into *depth and the last block found into *blk (NULL: the top level).
 * -1 when a step matches more than one block. */
static int walk(struct ed *e, const struct cfg_step *path, size_t npath,
		size_t *depth, const struct hcl_block **blk)
{
	const struct hcl_body *body = &e->f->body;

	*blk = NULL;
	for (*depth = 0; *depth < npath; (*depth)++) {
		const struct hcl_block *found = NULL;

		for (size_t i = 0; i < body->nblocks; i++) {
			if (!step_matches(body->blocks[i], &path[*depth]))
				continue;
			if (found)
				return path_error(e, path, *depth + 1,
						  "more than one block");
			found = body->blocks[i];
		}
		if (!found)
			break;
		*blk = found;
		body = &found->body;
	}
	return 0;
}

/* --- adding lines to a body ---------------------------------------------- */

/* A block on one line with its one attribute: `x { a = 1 }`. Only blanks
 * and comments can follow the value on that line. */
static bool one_line_attr(const struct ed *e, const struct hcl_body *b,
			  size_t close)
{
	size_t i;

	if (b->nattrs != 1 || b->nblocks)
		return false;
	i = b->attrs[0].voff + b->attrs[0].vlen;
	while (i < close) {
		const char *end;

		if (e->t[i] == ' ' || e->t[i] == '\t') {
			i++;
			continue;
		}
		if (e->t[i] != '/' || i + 1 >= close || e->t[i + 1] != '*')
			return false;
		end = memmem(e->t + i + 2, close - i - 2, "*/", 2);
		if (!end)
			return false;
		i = (size_t)(end + 2 - e->t);
	}
	return true;
}

/* How the items of blk are indented: as its first one, or one step more
 * than blk itself (two spaces, or a tab where blk is indented by tabs). */
static void item_indent(const struct ed *e, const struct hcl_block *blk,
			bool one_line, struct buf *out)
{
	const struct hcl_body *b = &blk->body;
	size_t mark = out->len;

	if (!one_line && b->nattrs) {
		line_indent(e, offset_of(e, &b->attrs[0].pos), out);
		return;
	}
	if (!one_line && b->nblocks) {
		line_indent(e, offset_of(e, &b->blocks[0]->pos), out);
		return;
	}
	line_indent(e, offset_of(e, &blk->pos), out);
	buf_adds(out, out->len > mark && memchr(out->p + mark, '\t',
					       out->len - mark) ? "\t" : "  ");
}

/* lines (indented from column 0) as the last items of the file. */
static void append_top(struct ed *e, const char *lines, bool blank)
{
	struct buf *w = ed_add(e, e->len, 0);
	const char *t = e->t;
	size_t n = e->len;

	if (n && t[n - 1] != '\n')
		buf_adds(w, e->nl);
	if (blank && n && !(n >= 2 && t[n - 1] == '\n' &&
			   (t[n - 2] == '\n' || (n >= 3 && t[n - 2] == '\r' &&
						 t[n - 3] == '\n'))))
		buf_adds(w, e->nl);
	add_lines(e, w, "", lines);
}

/* lines (indented from column 0) as the last items of blk's body, before
 * its closing brace. A brace that shares its line with something is put
 * on a line of its own; a block on one line is opened onto several. */
static void append_in(struct ed *e, const struct hcl_block *blk,
		      const char *lines)
{
	const struct hcl_body *b = &blk->body;
	size_t close = offset_of(e, &b->end), at = close;
	bool one = one_line_attr(e, b, close);
	struct buf ind = BUF_INIT, *w;

	item_indent(e, blk, one, &ind);
	while (at > 0 && (e->t[at - 1] == ' ' || e->t[at - 1] == '\t'))
		at--;
	if (!one && at > 0 && e->t[at - 1] == '\n') {
		/* before the brace's line, which stays as it is */
		add_lines(e, ed_add(e, at, 0), text_of(&ind), lines);
		buf_free(&ind);
		return;
	}
	if (one) {
		size_t name = offset_of(e, &b->attrs[0].pos), s = name;

		while (s > 0 && (e->t[s - 1] == ' ' || e->t[s - 1] == '\t'))
			s--;
		w = ed_add(e, s, name - s);
		buf_adds(w, e->nl);
		buf_adds(w, text_of(&ind));
	}
	w = ed_add(e, at, close - at);
	buf_adds(w, e->nl);
	add_lines(e, w, text_of(&ind), lines);
	line_indent(e, offset_of(e, &blk->pos), w);
	buf_free(&ind);
}

/* --- the edits ------------------------------------------------------------- */

int cfg_edit_set(struct buf *out, const char *text, size_t len,
		 const struct cfg_step *path, size_t npath, const char *name,
		 const char *value, char *err, size_t errlen)
{
	const struct hcl_block *blk;
	const struct hcl_attr *a;
	struct buf line = BUF_SECRET_INIT;
	struct ed e;
	size_t depth;
	int r = -1;

	if (ed_init(&e, text, len, err, errlen) < 0 ||
	    walk(&e, path, npath, &depth, &blk) < 0)
		goto out;
	if (depth < npath) {
		path_error(&e, path, npath, "no block");
		goto out;
	}
	a = hcl_body_attr(blk ? &blk->body : &e.f->body, name);
	if (a) {
		buf_adds(ed_add(&e, a->voff, a->vlen), value);
	} else {
		buf_printf(&line, "%s = %s\n", name, value);
		if (blk)
			append_in(&e, blk, line.p);
		else
			append_top(&e, line.p, false);
	}
	ed_apply(&e, out);
	r = 0;
out:
	buf_free(&line);
	ed_free(&e);
	return r;
}

/* The blocks of path from step from on, around block: each opened, the
 * next inside it one step further in, then closed. */
static void nest(struct buf *out, const struct cfg_step *path, size_t from,
		 size_t npath, const char *block, const char *unit)
{
	struct buf ind = BUF_INIT;
	size_t i;

	for (i = from; i < npath; i++) {
		buf_adds(out, text_of(&ind));
		buf_adds(out, path[i].type);
		for (size_t k = 0; k < path[i].nlabels; k++) {
			buf_addc(out, ' ');
			if (!cfg_lit_str(out, path[i].labels[k],
					 strlen(path[i].labels[k])))
				buf_adds(out, "\"\"");
		}
		buf_adds(out, " {\n");
		buf_adds(&ind, unit);
	}
	while (*block) {
		size_t n = strcspn(block, "\n");

		if (n)
			buf_adds(out, text_of(&ind));
		buf_add(out, block, n);
		buf_addc(out, '\n');
		block += n + (block[n] == '\n');
	}
	for (i = npath; i > from; i--) {
		ind.len -= strlen(unit);
		buf_add(out, ind.p, ind.len);
		buf_adds(out, "}\n");
	}
	buf_free(&ind);
}

int cfg_edit_add(struct buf *out, const char *text, size_t len,
		 const struct cfg_step *path, size_t npath, const char *block,
		 char *err, size_t errlen)
{
	const struct hcl_block *blk;
	struct buf lines = BUF_SECRET_INIT, ind = BUF_INIT;
	struct ed e;
	size_t depth;
	int r = -1;

	if (ed_init(&e, text, len, err, errlen) < 0 ||
	    walk(&e, path, npath, &depth, &blk) < 0)
		goto out;
	if (blk)
		item_indent(&e, blk, false, &ind);
	nest(&lines, path, depth, npath, block, ind.len && memchr(ind.p, '\t',
	     ind.len) ? "\t" : "  ");
	if (blk)
		append_in(&e, blk, lines.p);
	else
		append_top(&e, lines.p, true);
	ed_apply(&e, out);
	r = 0;
out:
	buf_free(&lines);
	buf_free(&ind);
	ed_free(&e);
	return r;
}
