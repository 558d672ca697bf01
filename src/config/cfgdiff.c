/* The diff of two config texts: `diff -u` for people, and a structured
 * diff of the blocks for tools and the web UI. Pure: no I/O, no
 * environment. The text diff is bounded (base/linediff.c, Myers, capped);
 * the structured one compares parsed trees, so formatting does not count. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/linediff.h"
#include "config/cfgdiff.h"

#define CONTEXT 3

/* --- the text diff ------------------------------------------------------ */

struct line {
	const char *s;
	size_t len;		/* without the '\n' */
	bool nl;		/* ends with '\n' (only the last may not) */
};

static size_t split_lines(const char *t, size_t len, struct line **out)
{
	size_t n = 0, cap = 0, i = 0;

	*out = NULL;
	while (i < len) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - t) : len;

		xgrow((void **)out, &cap, n + 1, sizeof(**out));
		(*out)[n++] = (struct line){ t + i, end - i, nl != NULL };
		i = nl ? end + 1 : len;
	}
	return n;
}

static bool line_eq(const struct line *a, const struct line *b)
{
	return a->len == b->len && a->nl == b->nl && !memcmp(a->s, b->s, a->len);
}

static uint64_t line_hash(const struct line *l)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < l->len; i++)
		h = (h ^ (unsigned char)l->s[i]) * 1099511628211ULL;
	return (h ^ l->nl) * 1099511628211ULL;
}

/* Numbers every distinct line (both texts together), so that the edit
 * search compares numbers: exact for lines holding NUL bytes, and fast. */
static size_t *intern(const struct line *all, size_t n, size_t *nids)
{
	size_t cap = 16, mask, i, *ids = xmalloc((n ? n : 1) * sizeof(*ids));
	size_t *slot;

	while (cap < 2 * n)
		cap *= 2;
	mask = cap - 1;
	slot = xmalloc(cap * sizeof(*slot));
	for (i = 0; i < cap; i++)
		slot[i] = SIZE_MAX;
	*nids = 0;
	for (i = 0; i < n; i++) {
		size_t s = (size_t)line_hash(&all[i]) & mask;

		while (slot[s] != SIZE_MAX && !line_eq(&all[slot[s]], &all[i]))
			s = (s + 1) & mask;
		if (slot[s] == SIZE_MAX) {
			slot[s] = i;
			ids[i] = (*nids)++;
		} else {
			ids[i] = ids[slot[s]];
		}
	}
	free(slot);
	return ids;
}

/* One step of the edit script: a line both keep (' '), or one that goes
 * ('-') or comes ('+'). */
struct step {
	char op;
	size_t a;		/* index in a (' ', '-'), or of the next a line */
	size_t b;
};

struct script {
	struct step *v;
	size_t n;
	size_t cap;
};

static void script_add(struct script *s, char op, size_t a, size_t b)
{
	xgrow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = (struct step){ op, a, b };
}

/* The edit between the lines [lo, na - suf) of a and [lo, nb - suf) of b,
 * whose keys are ka and kb: the shortest one, or everything replaced when
 * that is too big to find. Appends to s, *i and *j following. */
static void script_middle(struct script *s, char *const *ka, size_t na,
			  char *const *kb, size_t nb, size_t lo, size_t *i,
			  size_t *j)
{
	struct linediff_op *ops = NULL;
	long nops = -1;
	size_t k;

	if (na - lo <= CFGDIFF_MAX_LINES && nb - lo <= CFGDIFF_MAX_LINES)
		nops = linediff(ka + lo, na - lo, kb + lo, nb - lo,
				CFGDIFF_MAX_EDITS, &ops);
	if (nops < 0) {
		for (; *i < na; (*i)++)
			script_add(s, '-', *i, *j);
		for (; *j < nb; (*j)++)
			script_add(s, '+', *i, *j);
		return;
	}
	for (k = 0; k < (size_t)nops; k++) {
		size_t to = ops[k].op == '-' ? lo + ops[k].a : lo + ops[k].b;
		size_t *at = ops[k].op == '-' ? i : j;

		while (*at < to) {
			script_add(s, ' ', *i, *j);
			(*i)++;
			(*j)++;
		}
		script_add(s, ops[k].op, *i, *j);
		(*at)++;
	}
	free(ops);
	while (*i < na && *j < nb) {
		script_add(s, ' ', *i, *j);
		(*i)++;
		(*j)++;
	}
}

/* ids: one per line, a's then b's. */
static void script_build(struct script *s, const size_t *ids, size_t na,
			 size_t nb, size_t nids)
{
	const size_t *ia = ids, *ib = ids + na;
	size_t pre = 0, suf = 0, i, j, k;
	char (*names)[8] = xmalloc((nids ? nids : 1) * sizeof(*names));
	char **ka = xmalloc((na + nb + 1) * sizeof(*ka)), **kb = ka + na;

	while (pre < na && pre < nb && ia[pre] == ib[pre])
		pre++;
	while (suf < na - pre && suf < nb - pre &&
	       ia[na - 1 - suf] == ib[nb - 1 - suf])
		suf++;
	/* each id as a short string without NUL, for linediff's strcmp */
	for (k = 0; k < nids; k++) {
		size_t v = k, n = 0;

		do {
			names[k][n++] = (char)(1 + v % 255);
			v /= 255;
		} while (v && n < 7);
		names[k][n] = '\0';
	}
	for (k = 0; k < na; k++)
		ka[k] = names[ia[k]];
	for (k = 0; k < nb; k++)
		kb[k] = names[ib[k]];
	for (i = j = 0; i < pre; i++, j++)
		script_add(s, ' ', i, j);
	script_middle(s, ka, na - suf, kb, nb - suf, pre, &i, &j);
	for (; i < na; i++, j++)
		script_add(s, ' ', i, j);
	free(ka);
	free(names);
}

static void print_line(struct buf *out, char op, const struct line *l)
{
	buf_addc(out, op);
	buf_add(out, l->s, l->len);
	buf_addc(out, '\n');
	if (!l->nl)
		buf_adds(out, "\\ No newline at end of file\n");
}

static void print_range(struct buf *out, char sign, size_t start, size_t n)
{
	/* as diff -u: an empty range names the line before it */
	buf_printf(out, " %c%zu", sign, n ? start + 1 : start);
	if (n != 1)
		buf_printf(out, ",%zu", n);
}

/* Prints steps [lo, hi) as one hunk, each change's removals before its
 * additions. */
static void print_hunk(struct buf *out, const struct script *s, size_t lo,
		       size_t hi, const struct line *la, const struct line *lb)
{
	size_t na = 0, nb = 0, k, m;

	for (k = lo; k < hi; k++) {
		na += s->v[k].op != '+';
		nb += s->v[k].op != '-';
	}
	buf_adds(out, "@@");
	print_range(out, '-', s->v[lo].a, na);
	print_range(out, '+', s->v[lo].b, nb);
	buf_adds(out, " @@\n");
	for (k = lo; k < hi; k = m) {
		if (s->v[k].op == ' ') {
			print_line(out, ' ', &la[s->v[k].a]);
			m = k + 1;
			continue;
		}
		for (m = k; m < hi && s->v[m].op != ' '; m++)
			if (s->v[m].op == '-')
				print_line(out, '-', &la[s->v[m].a]);
		for (m = k; m < hi && s->v[m].op != ' '; m++)
			if (s->v[m].op == '+')
				print_line(out, '+', &lb[s->v[m].b]);
	}
}

static void print_script(struct buf *out, const struct script *s,
			 const struct line *la, const struct line *lb)
{
	size_t k = 0, lo, hi, last;

	while (k < s->n) {
		while (k < s->n && s->v[k].op == ' ')
			k++;
		if (k == s->n)
			break;
		lo = k > CONTEXT ? k - CONTEXT : 0;
		/* extend while the next change is within twice the context */
		for (;;) {
			while (k < s->n && s->v[k].op != ' ')
				k++;
			last = k;
			while (k < s->n && s->v[k].op == ' ' &&
			       k - last < 2 * CONTEXT)
				k++;
			if (k == s->n || s->v[k].op == ' ')
				break;
		}
		hi = last + CONTEXT < s->n ? last + CONTEXT : s->n;
		print_hunk(out, s, lo, hi, la, lb);
		k = hi;
	}
}

char *cfgdiff_unified(const char *a, size_t alen, const char *b, size_t blen,
		      const char *aname, const char *bname, size_t *outlen)
{
	struct buf out = BUF_INIT;
	struct script s = { NULL, 0, 0 };
	struct line *la, *lb, *all;
	size_t na, nb, nids, *ids;

	if (alen == blen && (!alen || !memcmp(a, b, alen)))
		goto out;
	na = split_lines(a, alen, &la);
	nb = split_lines(b, blen, &lb);
	all = xmalloc((na + nb + 1) * sizeof(*all));
	if (na)
		memcpy(all, la, na * sizeof(*all));
	if (nb)
		memcpy(all + na, lb, nb * sizeof(*all));
	ids = intern(all, na + nb, &nids);
	script_build(&s, ids, na, nb, nids);
	buf_printf(&out, "--- %s\n+++ %s\n", aname, bname);
	print_script(&out, &s, la, lb);
	free(s.v);
	free(ids);
	free(all);
	free(la);
	free(lb);
out:
	if (outlen)
		*outlen = out.len;
	return buf_steal(&out);
}

/* --- parsing without the environment ------------------------------------ */

static const char *env_unset(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

struct hcl_file *cfg_text_parse(const char *text, size_t len, char *err,
				size_t errlen)
{
	static const struct hcl_env no_env = { env_unset, NULL };
	struct diag_list dl = { 0 };
	struct hcl_file *f = hcl_parse("config", text, len, &no_env, &dl);

	if (!f && errlen) {
		const struct diag *d = dl.n ? &dl.v[0] : NULL;

		if (d)
			snprintf(err, errlen, "%d:%d: %s", d->line, d->col,
				 d->msg);
		else
			snprintf(err, errlen, "1:1: the text does not parse");
	}
	diag_list_free(&dl);
	return f;
}

static void wipe_value(struct hcl_value *v)
{
	size_t i;

	if (v->s)
		sodium_memzero(v->s, v->len);
	for (i = 0; v->type == HCL_TUPLE && i < v->n; i++)
		wipe_value(v->items[i]);
	for (i = 0; v->type == HCL_OBJECT && i < v->n; i++)
		wipe_value(v->fields[i].val);
}

static void wipe_body(struct hcl_body *b)
{
	size_t i;

	for (i = 0; i < b->nattrs; i++)
		wipe_value(b->attrs[i].val);
	for (i = 0; i < b->nblocks; i++)
		wipe_body(&b->blocks[i]->body);
}

void cfg_text_free(struct hcl_file *f)
{
	if (!f)
		return;
	wipe_body(&f->body);
	hcl_file_free(f);
}

/* --- pairing what two bodies hold --------------------------------------- */

/* An attribute or a block of a body. */
struct node {
	const struct hcl_attr *attr;	/* one of the two is set */
	const struct hcl_block *blk;
	struct pos pos;
	size_t ord;		/* source order in its body */
	size_t index;		/* among the nodes with the same key */
	size_t nsame;		/* how many nodes have that key */
	struct node *peer;	/* the paired node of the other body */
	bool moved;
};

struct nodes {
	struct node *v;
	size_t n;
};

static int str_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int block_key_cmp(const struct hcl_block *a, const struct hcl_block *b)
{
	int c = strcmp(a->type, b->type);
	size_t i;

	if (c)
		return c;
	if (a->nlabels != b->nlabels)
		return a->nlabels < b->nlabels ? -1 : 1;
	for (i = 0; i < a->nlabels; i++) {
		c = str_cmp(a->labels[i].s, a->labels[i].len, b->labels[i].s,
			    b->labels[i].len);
		if (c)
			return c;
	}
	return 0;
}

/* Attributes before blocks, then by name, type and labels. */
static int node_key_cmp(const struct node *a, const struct node *b)
{
	if (!a->attr != !b->attr)
		return a->attr ? -1 : 1;
	if (a->attr)
		return strcmp(a->attr->name, b->attr->name);
	return block_key_cmp(a->blk, b->blk);
}

static int node_ptr_cmp(const void *pa, const void *pb)
{
	const struct node *a = *(const struct node *const *)pa;
	const struct node *b = *(const struct node *const *)pb;
	int c = node_key_cmp(a, b);

	if (c)
		return c;
	return a->ord < b->ord ? -1 : a->ord > b->ord;
}

static bool pos_before(const struct pos *a, const struct pos *b)
{
	return a->line < b->line || (a->line == b->line && a->col < b->col);
}

/* The nodes of body in source order (attributes too when with_attrs), and
 * pointers to them sorted by key, numbering the nodes of each key. */
static struct node **nodes_build(struct nodes *ns, const struct hcl_body *b,
				 bool with_attrs)
{
	size_t na = with_attrs ? b->nattrs : 0, i = 0, j = 0, k, first;
	struct node **idx;

	ns->n = na + b->nblocks;
	ns->v = xcalloc(ns->n + 1, sizeof(*ns->v));
	idx = xmalloc((ns->n + 1) * sizeof(*idx));
	for (k = 0; k < ns->n; k++) {
		struct node *n = &ns->v[k];

		if (i < na && (j == b->nblocks ||
			       pos_before(&b->attrs[i].pos, &b->blocks[j]->pos))) {
			n->attr = &b->attrs[i++];
			n->pos = n->attr->pos;
		} else {
			n->blk = b->blocks[j++];
			n->pos = n->blk->pos;
		}
		n->ord = k;
		idx[k] = n;
	}
	qsort(idx, ns->n, sizeof(*idx), node_ptr_cmp);
	for (k = first = 0; k < ns->n; k++) {
		if (k && node_key_cmp(idx[k - 1], idx[k]))
			first = k;
		idx[k]->index = k - first;
		if (k + 1 == ns->n || node_key_cmp(idx[k], idx[k + 1]))
			for (i = first; i <= k; i++)
				idx[i]->nsame = k - first + 1;
	}
	return idx;
}

/* Pairs the nodes of a and b with the same key and index: a merge of the
 * two sorted indexes. */
static void nodes_pair(struct node **ia, size_t na, struct node **ib,
		       size_t nb)
{
	size_t i = 0, j = 0;

	while (i < na && j < nb) {
		int c = node_key_cmp(ia[i], ib[j]);

		if (!c)
			c = ia[i]->index < ib[j]->index ? -1
			    : ia[i]->index > ib[j]->index;
		if (c < 0) {
			i++;
		} else if (c > 0) {
			j++;
		} else {
			ia[i]->peer = ib[j];
			ib[j]->peer = ia[i];
			i++;
			j++;
		}
	}
}

size_t *cfg_match_blocks(const struct hcl_body *a, const struct hcl_body *b)
{
	struct nodes na, nb = { NULL, 0 };
	struct node **ia, **ib = NULL;
	size_t *out = NULL, i;

	if (!a->nblocks)
		return NULL;
	ia = nodes_build(&na, a, false);
	if (b)
		ib = nodes_build(&nb, b, false);
	nodes_pair(ia, na.n, ib, nb.n);
	out = xmalloc(na.n * sizeof(*out));
	for (i = 0; i < na.n; i++)
		out[i] = na.v[i].peer ? na.v[i].peer->ord : SIZE_MAX;
	free(ia);
	free(ib);
	free(na.v);
	free(nb.v);
	return out;
}

void cfg_block_name(struct buf *out, const struct hcl_block *blk)
{
	size_t i, k;

	buf_adds(out, blk->type);
	for (i = 0; i < blk->nlabels; i++) {
		const struct hcl_label *l = &blk->labels[i];

		buf_adds(out, " \"");
		for (k = 0; k < l->len; k++) {
			unsigned char c = (unsigned char)l->s[k];

			if (c == '"' || c == '\\')
				buf_printf(out, "\\%c", c);
			else if (c == '\n')
				buf_adds(out, "\\n");
			else if (c < 0x20 || c == 0x7f)
				buf_printf(out, "\\u%04x", c);
			else
				buf_addc(out, (char)c);
		}
		buf_addc(out, '"');
	}
}

/* --- equal in meaning ---------------------------------------------------- */

/* The two texts, for values compared by their bytes. */
struct cmp {
	const char *asrc;
	const char *bsrc;
};

static bool value_equal(const struct hcl_value *a, const struct hcl_value *b);

static int field_ptr_cmp(const void *pa, const void *pb)
{
	const struct hcl_item *a = *(const struct hcl_item *const *)pa;
	const struct hcl_item *b = *(const struct hcl_item *const *)pb;

	return str_cmp(a->key, a->keylen, b->key, b->keylen);
}

/* Objects are maps: the order of their keys does not count. */
static bool object_equal(const struct hcl_value *a, const struct hcl_value *b)
{
	const struct hcl_item **ia, **ib;
	bool eq = true;
	size_t i;

	if (a->n != b->n)
		return false;
	if (!a->n)
		return true;
	ia = xmalloc(a->n * sizeof(*ia));
	ib = xmalloc(b->n * sizeof(*ib));
	for (i = 0; i < a->n; i++) {
		ia[i] = &a->fields[i];
		ib[i] = &b->fields[i];
	}
	qsort(ia, a->n, sizeof(*ia), field_ptr_cmp);
	qsort(ib, b->n, sizeof(*ib), field_ptr_cmp);
	for (i = 0; i < a->n && eq; i++)
		eq = !field_ptr_cmp(&ia[i], &ib[i]) &&
		     value_equal(ia[i]->val, ib[i]->val);
	free(ia);
	free(ib);
	return eq;
}

static bool value_equal(const struct hcl_value *a, const struct hcl_value *b)
{
	size_t i;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case HCL_NULL:
		return true;
	case HCL_BOOL:
		return a->b == b->b;
	case HCL_NUMBER:	/* canonical text */
	case HCL_STRING:
	case HCL_ERROR:
		return !str_cmp(a->s, a->len, b->s, b->len);
	case HCL_TUPLE:
		if (a->n != b->n)
			return false;
		for (i = 0; i < a->n; i++)
			if (!value_equal(a->items[i], b->items[i]))
				return false;
		return true;
	case HCL_OBJECT:
		return object_equal(a, b);
	}
	return false;
}

/* A ${NAME} was not evaluated (nothing is looked up): such a value is
 * compared as written. */
static bool attr_equal(const struct cmp *c, const struct hcl_attr *a,
		       const struct hcl_attr *b)
{
	if (hcl_value_error(a->val) || hcl_value_error(b->val))
		return !str_cmp(c->asrc + a->voff, a->vlen, c->bsrc + b->voff,
				b->vlen);
	return value_equal(a->val, b->val);
}

static int attr_ptr_cmp(const void *pa, const void *pb)
{
	const struct hcl_attr *a = *(const struct hcl_attr *const *)pa;
	const struct hcl_attr *b = *(const struct hcl_attr *const *)pb;

	return strcmp(a->name, b->name);
}

/* By type, keeping the source order within a type. */
static int block_ptr_cmp(const void *pa, const void *pb)
{
	const struct hcl_block *const *a = *(const struct hcl_block *const *const *)pa;
	const struct hcl_block *const *b = *(const struct hcl_block *const *const *)pb;
	int c = strcmp((*a)->type, (*b)->type);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

static bool body_equal(const struct cmp *c, const struct hcl_body *a,
		       const struct hcl_body *b);

static bool attrs_equal(const struct cmp *c, const struct hcl_body *a,
			const struct hcl_body *b)
{
	const struct hcl_attr **ia, **ib;
	bool eq = true;
	size_t i, n = a->nattrs;

	if (!n)
		return true;
	ia = xmalloc(n * sizeof(*ia));
	ib = xmalloc(n * sizeof(*ib));
	for (i = 0; i < n; i++) {
		ia[i] = &a->attrs[i];
		ib[i] = &b->attrs[i];
	}
	qsort(ia, n, sizeof(*ia), attr_ptr_cmp);
	qsort(ib, n, sizeof(*ib), attr_ptr_cmp);
	for (i = 0; i < n && eq; i++)
		eq = !strcmp(ia[i]->name, ib[i]->name) &&
		     attr_equal(c, ia[i], ib[i]);
	free(ia);
	free(ib);
	return eq;
}

/* Blocks of one type in the same order, blocks of different types in any
 * order relative to each other. */
static bool blocks_equal(const struct cmp *c, const struct hcl_body *a,
			 const struct hcl_body *b)
{
	struct hcl_block *const **ia, *const **ib;
	bool eq = true;
	size_t i, n = a->nblocks;

	if (!n)
		return true;
	ia = xmalloc(n * sizeof(*ia));
	ib = xmalloc(n * sizeof(*ib));
	for (i = 0; i < n; i++) {
		ia[i] = &a->blocks[i];
		ib[i] = &b->blocks[i];
	}
	qsort(ia, n, sizeof(*ia), block_ptr_cmp);
	qsort(ib, n, sizeof(*ib), block_ptr_cmp);
	for (i = 0; i < n && eq; i++)
		eq = !block_key_cmp(*ia[i], *ib[i]) &&
		     body_equal(c, &(*ia[i])->body, &(*ib[i])->body);
	free(ia);
	free(ib);
	return eq;
}

static bool body_equal(const struct cmp *c, const struct hcl_body *a,
		       const struct hcl_body *b)
{
	return a->nattrs == b->nattrs && a->nblocks == b->nblocks &&
	       attrs_equal(c, a, b) && blocks_equal(c, a, b);
}

static bool node_equal(const struct cmp *c, const struct node *a,
		       const struct node *b)
{
	if (a->attr)
		return attr_equal(c, a->attr, b->attr);
	return body_equal(c, &a->blk->body, &b->blk->body);
}

/* --- moved blocks -------------------------------------------------------- */

static int moved_cmp(const void *pa, const void *pb)
{
	const struct node *a = *(const struct node *const *)pa;
	const struct node *b = *(const struct node *const *)pb;
	int c = strcmp(a->blk->type, b->blk->type);

	if (c)
		return c;
	return a->ord < b->ord ? -1 : a->ord > b->ord;
}

/* v: paired blocks of one type in the old order. The longest run whose
 * new order increases stayed; the others moved. */
static void mark_moved_run(struct node **v, size_t n)
{
	size_t *tail = xmalloc(n * sizeof(*tail));
	size_t *prev = xmalloc(n * sizeof(*prev));
	size_t i, len = 0;

	for (i = 0; i < n; i++) {
		size_t x = v[i]->peer->ord, lo = 0, hi = len;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (v[tail[mid]]->peer->ord < x)
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo ? tail[lo - 1] : SIZE_MAX;
		tail[lo] = i;
		if (lo == len)
			len++;
		v[i]->moved = true;
	}
	for (i = len ? tail[len - 1] : SIZE_MAX; i != SIZE_MAX; i = prev[i])
		v[i]->moved = false;
	free(tail);
	free(prev);
}

static void mark_moved(struct nodes *ns)
{
	struct node **v = xmalloc((ns->n + 1) * sizeof(*v));
	size_t n = 0, i, first;

	for (i = 0; i < ns->n; i++)
		if (ns->v[i].blk && ns->v[i].peer)
			v[n++] = &ns->v[i];
	qsort(v, n, sizeof(*v), moved_cmp);
	for (i = first = 0; i < n; i++)
		if (i + 1 == n || strcmp(v[i]->blk->type, v[i + 1]->blk->type)) {
			mark_moved_run(v + first, i + 1 - first);
			first = i + 1;
		}
	free(v);
}

/* --- the structured diff ------------------------------------------------- */

static json_t *text(const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);

	/* invalid UTF-8 cannot come from a parsed text; say so if it does */
	return v ? v : json_string("(invalid UTF-8)");
}

static void set_text(json_t *o, const char *key, const char *s, size_t n)
{
	json_object_set_new(o, key, text(s, n));
}

/* An entry named by o (the old node) or else n. */
static json_t *node_entry(const char *op, const struct node *o,
			  const struct node *n)
{
	const struct node *k = o ? o : n;
	json_t *e = json_object(), *labels;
	struct buf name = BUF_INIT;
	size_t i;

	json_object_set_new(e, "op", json_string(op));
	if (k->attr) {
		set_text(e, "attribute", k->attr->name, strlen(k->attr->name));
	} else {
		cfg_block_name(&name, k->blk);
		set_text(e, "block", name.p, name.len);
		set_text(e, "type", k->blk->type, strlen(k->blk->type));
		labels = json_array();
		for (i = 0; i < k->blk->nlabels; i++)
			json_array_append_new(labels,
				text(k->blk->labels[i].s, k->blk->labels[i].len));
		json_object_set_new(e, "labels", labels);
		buf_free(&name);
	}
	if ((o && o->nsame > 1) || (n && n->nsame > 1))
		json_object_set_new(e, "index", json_integer((json_int_t)k->index));
	if (o)
		json_object_set_new(e, "old_line", json_integer(o->pos.line));
	if (n)
		json_object_set_new(e, "new_line", json_integer(n->pos.line));
	return e;
}

static json_t *diff_body(const struct cmp *c, const struct hcl_body *a,
			 const struct hcl_body *b, bool deep)
{
	struct nodes na, nb;
	struct node **ia = nodes_build(&na, a, true);
	struct node **ib = nodes_build(&nb, b, true);
	json_t *out = json_array(), *e;
	size_t k;

	nodes_pair(ia, na.n, ib, nb.n);
	mark_moved(&na);
	for (k = 0; k < na.n; k++) {
		struct node *o = &na.v[k], *n = o->peer;

		if (!n) {
			json_array_append_new(out, node_entry("removed", o, NULL));
			continue;
		}
		if (node_equal(c, o, n)) {
			if (o->moved)
				json_array_append_new(out,
					node_entry("moved", o, n));
			continue;
		}
		e = node_entry("changed", o, n);
		if (o->moved)
			json_object_set_new(e, "moved", json_true());
		if (deep && o->blk)
			json_object_set_new(e, "changes",
				diff_body(c, &o->blk->body, &n->blk->body,
					  false));
		json_array_append_new(out, e);
	}
	for (k = 0; k < nb.n; k++)
		if (!nb.v[k].peer)
			json_array_append_new(out,
				node_entry("added", NULL, &nb.v[k]));
	free(ia);
	free(ib);
	free(na.v);
	free(nb.v);
	return out;
}

json_t *cfgdiff_blocks(const char *a, size_t alen, const char *b, size_t blen,
		       const char *aname, const char *bname, char *err,
		       size_t errlen)
{
	struct hcl_file *fa, *fb = NULL;
	struct cmp c = { a, b };
	json_t *out = NULL;
	char e[512];

	fa = cfg_text_parse(a, alen, e, sizeof(e));
	if (!fa) {
		if (errlen)
			snprintf(err, errlen, "%s:%s", aname, e);
		goto out;
	}
	fb = cfg_text_parse(b, blen, e, sizeof(e));
	if (!fb) {
		if (errlen)
			snprintf(err, errlen, "%s:%s", bname, e);
		goto out;
	}
	out = diff_body(&c, &fa->body, &fb->body, true);
out:
	cfg_text_free(fa);
	cfg_text_free(fb);
	return out;
}
