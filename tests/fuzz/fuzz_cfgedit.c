/* libFuzzer harness for config texts changed in place (config/edit.c).
 * The input is four bytes of choices, a value up to the first NUL, and a
 * text: an attribute of one of the text's blocks (or of the top level) is
 * set to the value (a string, a number or a list of strings), or a block
 * holding it is added there (with a missing parent, sometimes). When the
 * text parses and the path names one block, the edit must succeed, the
 * result must parse, the value must read back as set, and every other
 * attribute of every block must be as it was; never a crash, a hang or a
 * leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/cfgdiff.h"
#include "config/edit.h"
#include "hcl/unicode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* The value, and how it reads back. */
struct want {
	int kind;			/* 0 string, 1 number, 2 strings */
	char *s[8];			/* expected strings (NFC) or number */
	size_t len[8];
	size_t n;
};

static bool value_eq(const struct hcl_value *a, const struct hcl_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case HCL_BOOL:
		return a->b == b->b;
	case HCL_NUMBER:
	case HCL_STRING:
		return a->len == b->len && !memcmp(a->s, b->s, a->len);
	case HCL_TUPLE:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++)
			if (!value_eq(a->items[i], b->items[i]))
				return false;
		return true;
	case HCL_OBJECT:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++)
			if (a->fields[i].keylen != b->fields[i].keylen ||
			    memcmp(a->fields[i].key, b->fields[i].key,
				   a->fields[i].keylen) ||
			    !value_eq(a->fields[i].val, b->fields[i].val))
				return false;
		return true;
	default:
		return true;	/* null; an unset ${NAME} */
	}
}

static bool reads_as(const struct hcl_value *v, const struct want *w)
{
	if (w->kind == 0)
		return v->type == HCL_STRING && v->len == w->len[0] &&
		       !memcmp(v->s, w->s[0], v->len);
	if (w->kind == 1)
		return v->type == HCL_NUMBER && !strcmp(v->s, w->s[0]);
	if (v->type != HCL_TUPLE || v->n != w->n)
		return false;
	for (size_t i = 0; i < w->n; i++)
		if (v->items[i]->type != HCL_STRING ||
		    v->items[i]->len != w->len[i] ||
		    memcmp(v->items[i]->s, w->s[i], w->len[i]))
			return false;
	return true;
}

static bool same_block(const struct hcl_block *a, const struct hcl_block *b)
{
	if (strcmp(a->type, b->type) || a->nlabels != b->nlabels)
		return false;
	for (size_t i = 0; i < a->nlabels; i++)
		if (a->labels[i].len != b->labels[i].len ||
		    memcmp(a->labels[i].s, b->labels[i].s, a->labels[i].len))
			return false;
	return true;
}

/* What was edited: the body (target), the attribute set there (name, NULL
 * for an added block), and the value. */
struct check {
	const struct hcl_body *target;
	const char *name;
	const struct want *w;
	bool added;			/* add: the block is there */
};

/* b (after) holds what a (before) held, but the edit at c->target. */
static void compare(const struct hcl_body *a, const struct hcl_body *b,
		    struct check *c)
{
	size_t i, k = 0, extra = 0;

	for (i = 0; i < a->nattrs; i++) {
		const struct hcl_attr *x = &a->attrs[i];
		const struct hcl_attr *y = hcl_body_attr(b, x->name);

		CHECK(y);
		if (a == c->target && c->name && !strcmp(x->name, c->name))
			continue;
		CHECK(value_eq(x->val, y->val));
	}
	if (a == c->target && c->name) {
		const struct hcl_attr *y = hcl_body_attr(b, c->name);

		CHECK(y && reads_as(y->val, c->w));
		extra = !hcl_body_attr(a, c->name);
	}
	CHECK(b->nattrs == a->nattrs + extra);
	if (a == c->target && !c->name) {
		/* the block added comes last: moat_added, or moat_new around
		 * it */
		const struct hcl_block *n;
		const struct hcl_attr *y;

		CHECK(b->nblocks == a->nblocks + 1);
		n = b->blocks[b->nblocks - 1];
		if (!strcmp(n->type, "moat_new")) {
			CHECK(n->body.nblocks == 1 && !n->body.nattrs);
			n = n->body.blocks[0];
		}
		CHECK(!strcmp(n->type, "moat_added"));
		y = hcl_body_attr(&n->body, "moat_attr");
		CHECK(y && reads_as(y->val, c->w) && n->body.nattrs == 1);
		c->added = true;
	} else {
		CHECK(b->nblocks == a->nblocks);
	}
	for (i = 0; i < a->nblocks; i++, k++) {
		CHECK(same_block(a->blocks[i], b->blocks[k]));
		compare(&a->blocks[i]->body, &b->blocks[k]->body, c);
	}
}

/* --- choosing a target ------------------------------------------------------ */

#define MAX_PATH 16

struct pick {
	size_t want, seen;
	const struct hcl_block *chain[MAX_PATH];
	size_t depth;
	bool found;
};

/* The want-th block in document order, with the blocks above it. */
static void pick_block(const struct hcl_body *b, struct pick *p, size_t depth)
{
	for (size_t i = 0; i < b->nblocks && !p->found; i++) {
		if (depth >= MAX_PATH)
			return;
		p->chain[depth] = b->blocks[i];
		if (p->seen++ == p->want) {
			p->found = true;
			p->depth = depth + 1;
			return;
		}
		pick_block(&b->blocks[i]->body, p, depth + 1);
	}
}

static size_t count_blocks(const struct hcl_body *b, size_t depth)
{
	size_t n = 0;

	for (size_t i = 0; depth < MAX_PATH && i < b->nblocks; i++)
		n += 1 + count_blocks(&b->blocks[i]->body, depth + 1);
	return n;
}

/* A label holds a NUL: a step's labels are C strings, so the path would
 * name another block. */
static bool nul_label(const struct pick *p)
{
	for (size_t d = 0; d < p->depth; d++)
		for (size_t i = 0; i < p->chain[d]->nlabels; i++)
			if (memchr(p->chain[d]->labels[i].s, 0,
				   p->chain[d]->labels[i].len))
				return true;
	return false;
}

/* The path names one block: each step is the only one of its kind among
 * its siblings. */
static bool unique(const struct hcl_body *top, const struct pick *p)
{
	const struct hcl_body *b = top;

	for (size_t d = 0; d < p->depth; d++) {
		size_t same = 0;

		for (size_t i = 0; i < b->nblocks; i++)
			same += same_block(b->blocks[i], p->chain[d]);
		if (same != 1)
			return false;
		b = &p->chain[d]->body;
	}
	return true;
}

/* --- the value --------------------------------------------------------------- */

/* The literal of kind (0 string, 1 number, 2 strings split at ',') from
 * v, and what it reads back as; false when v is not UTF-8. */
static bool make_value(int kind, const char *v, size_t n, struct buf *lit,
		       struct want *w)
{
	w->kind = kind;
	if (kind == 1) {
		long long x = 0;

		memcpy(&x, v, n < sizeof(x) ? n : sizeof(x));
		cfg_lit_int(lit, x);
		w->s[0] = xstrdup(lit->p);
		w->n = 1;
		return true;
	}
	if (!utf8_valid(v, n))
		return false;
	if (kind == 0) {
		CHECK(cfg_lit_str(lit, v, n));
		w->s[0] = uc_nfc(v, n, &w->len[0]);
		w->n = 1;
		return true;
	}
	{
		const char *items[8];
		char *copy = xstrndup(v, n);	/* ends at a NUL in v */
		char *s = copy, *save = NULL, *t;

		for (t = strtok_r(s, ",", &save); t && w->n < 8;
		     t = strtok_r(NULL, ",", &save)) {
			items[w->n] = t;
			w->s[w->n] = uc_nfc(t, strlen(t), &w->len[w->n]);
			w->n++;
		}
		CHECK(cfg_lit_strs(lit, items, w->n));
		free(copy);
	}
	return true;
}

static void want_free(struct want *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->s[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data, *val, *text, *nul;
	size_t vlen, tlen, nblocks;
	struct buf lit = BUF_INIT, out = BUF_INIT, blk = BUF_INIT;
	struct cfg_step path[MAX_PATH + 1];
	const char *labels[MAX_PATH][4];
	struct want w = { 0 };
	struct hcl_file *f = NULL, *g = NULL;
	struct pick p = { 0 };
	struct check c = { 0 };
	const char *name = "moat_edit";
	char err[256];
	bool add, ok;
	size_t npath;
	int r;

	if (size < 4)
		return 0;
	add = data[0] & 1;
	val = d + 4;
	nul = memchr(val, 0, size - 4);
	vlen = nul ? (size_t)(nul - val) : 0;
	text = nul ? nul + 1 : val;
	tlen = size - (size_t)(text - d);
	f = cfg_text_parse(text, tlen, NULL, 0);
	if (!f || !make_value(data[3] % 3, val, vlen, &lit, &w))
		goto out;
	nblocks = count_blocks(&f->body, 0);
	p.want = data[1] % (nblocks + 1);	/* nblocks: the top level */
	pick_block(&f->body, &p, 0);
	if (nul_label(&p))
		goto out;
	for (size_t i = 0; i < p.depth; i++) {
		const struct hcl_block *b = p.chain[i];

		if (b->nlabels > 4)
			goto out;
		for (size_t k = 0; k < b->nlabels; k++)
			labels[i][k] = b->labels[k].s;
		path[i] = (struct cfg_step){ b->type, labels[i], b->nlabels };
	}
	npath = p.depth;
	ok = unique(&f->body, &p);
	c.target = npath ? &p.chain[npath - 1]->body : &f->body;
	c.w = &w;
	if (!add) {
		if ((data[2] & 1) && c.target->nattrs)
			name = c.target->attrs[(data[2] >> 1) %
					       c.target->nattrs].name;
		c.name = name;
		r = cfg_edit_set(&out, text, tlen, path, npath, name, lit.p,
				 err, sizeof(err));
	} else {
		buf_printf(&blk, "moat_added \"l\" {\n  moat_attr = %s\n}\n",
			   lit.p);
		if (data[2] & 2) {
			/* a parent that may be missing, or there already */
			const struct hcl_block *there = NULL;
			size_t same = 0;

			path[npath++] = (struct cfg_step){ "moat_new", NULL,
							   0 };
			for (size_t i = 0; i < c.target->nblocks; i++)
				if (!strcmp(c.target->blocks[i]->type,
					    "moat_new") &&
				    !c.target->blocks[i]->nlabels) {
					there = c.target->blocks[i];
					same++;
				}
			ok &= same <= 1;
			if (there)
				c.target = &there->body;
		}
		r = cfg_edit_add(&out, text, tlen, path, npath, blk.p, err,
				 sizeof(err));
	}
	CHECK((r == 0) == ok);
	if (r < 0)
		goto out;
	g = cfg_text_parse(out.p, out.len, NULL, 0);
	CHECK(g);
	compare(&f->body, &g->body, &c);
	CHECK(!add || c.added);
out:
	want_free(&w);
	cfg_text_free(f);
	cfg_text_free(g);
	buf_free(&lit);
	buf_free(&out);
	buf_free(&blk);
	return 0;
}
