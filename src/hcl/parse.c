/* Recursive-descent parser for HCL native syntax: bodies of attributes and
 * blocks, and literal values. Stops at the first syntax error (later ones
 * are usually echoes of it); the error says what was expected and where. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "hcl/lex.h"
#include "hcl/unicode.h"

struct parser {
	struct lexer lx;
	struct token tok;
	struct token ahead;
	bool has_ahead;
	size_t prev_end;	/* where the last consumed token ended */
	const struct hcl_env *env;
	struct diag_list *dl;
	int depth;
};

static void advance(struct parser *p)
{
	p->prev_end = p->tok.off + p->tok.len;
	token_clear(&p->tok);
	if (p->has_ahead) {
		p->tok = p->ahead;
		memset(&p->ahead, 0, sizeof(p->ahead));
		p->has_ahead = false;
	} else {
		lex_next(&p->lx, &p->tok);
	}
}

static const struct token *peek(struct parser *p)
{
	if (!p->has_ahead) {
		lex_next(&p->lx, &p->ahead);
		p->has_ahead = true;
	}
	return &p->ahead;
}

static void skip_newlines(struct parser *p)
{
	while (p->tok.type == TK_NEWLINE)
		advance(p);
}

static bool tok_is(const struct token *t, const struct parser *p,
		   const char *text)
{
	return t->len == strlen(text) && !memcmp(p->lx.src + t->off, text, t->len);
}

/* Describes the current token for "expected X, found Y" messages. */
static void found(struct parser *p, struct buf *b)
{
	const struct token *t = &p->tok;

	switch (t->type) {
	case TK_IDENT:
	case TK_NUMBER:
	case TK_OP:
		buf_printf(b, "'%.*s'", (int)(t->len > 40 ? 40 : t->len),
			   p->lx.src + t->off);
		break;
	default:
		buf_adds(b, tok_type_name(t->type));
	}
}

static bool fail_at(struct parser *p, const struct pos *at, const char *fmt,
		    ...) MOAT_PRINTF(3, 4);
static bool fail_at(struct parser *p, const struct pos *at, const char *fmt,
		    ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(p->dl, DIAG_ERROR, at, fmt, ap);
	va_end(ap);
	return false;
}

/* An operator where a value ended: name what moat does not support. */
static bool refuse_operator(struct parser *p)
{
	const struct token *t = &p->tok;
	const char *s = p->lx.src + t->off;

	if (t->type == TK_LBRACK)
		return fail_at(p, &t->pos, "indexing with [...] is not "
			       "supported by moat");
	if (t->len == 1 && *s == '?')
		return fail_at(p, &t->pos, "conditional expressions (a ? b : "
			       "c) are not supported by moat");
	if (t->len == 1 && *s == '.')
		return fail_at(p, &t->pos, "attribute access and splats (.) "
			       "are not supported by moat");
	return fail_at(p, &t->pos, "operator '%.*s' is not supported by moat: "
		       "values must be literals", (int)t->len, s);
}

static bool is_operator(const struct token *t)
{
	return t->type == TK_OP || t->type == TK_MINUS;
}

static bool expected(struct parser *p, const char *what)
{
	struct buf b = BUF_INIT;

	if (p->tok.type == TK_ERROR)
		return false;	/* the lexer said why */
	if (is_operator(&p->tok))
		return refuse_operator(p);
	found(p, &b);
	fail_at(p, &p->tok.pos, "expected %s, found %s", what, b.p);
	buf_free(&b);
	return false;
}

/* --- numbers ------------------------------------------------------------ */

#define NUMBER_MAX_DIGITS 1000

/* Turns a numeric literal into exact canonical decimal text (no exponent,
 * no trailing zeros after the point), as the reference prints numbers. */
static char *number_canon(const char *s, size_t n, bool neg)
{
	struct buf digits = BUF_INIT, out = BUF_INIT;
	long exp = 0, e = 0;
	size_t i = 0, lead = 0;
	bool eneg = false;

	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		buf_addc(&digits, s[i]);
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, exp--)
			buf_addc(&digits, s[i]);
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < n; i++) {
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
		}
	}
	exp += eneg ? -e : e;
	while (lead < digits.len && digits.p[lead] == '0')
		lead++;
	while (digits.len > lead && digits.p[digits.len - 1] == '0') {
		digits.len--;
		exp++;
	}
	if (neg)
		buf_addc(&out, '-');
	if (digits.len == lead) {
		buf_addc(&out, '0');
	} else {
		const char *d = digits.p + lead;
		long nd = (long)(digits.len - lead);

		if (exp > NUMBER_MAX_DIGITS || -exp > NUMBER_MAX_DIGITS ||
		    nd > NUMBER_MAX_DIGITS) {
			buf_free(&digits);
			buf_free(&out);
			return NULL;
		}
		if (exp >= 0) {
			buf_add(&out, d, (size_t)nd);
			for (e = 0; e < exp; e++)
				buf_addc(&out, '0');
		} else if (nd > -exp) {
			buf_add(&out, d, (size_t)(nd + exp));
			buf_addc(&out, '.');
			buf_add(&out, d + nd + exp, (size_t)-exp);
		} else {
			buf_adds(&out, "0.");
			for (e = 0; e < -exp - nd; e++)
				buf_addc(&out, '0');
			buf_add(&out, d, (size_t)nd);
		}
	}
	buf_free(&digits);
	return buf_steal(&out);
}

static struct hcl_value *parse_number(struct parser *p, bool neg,
				      const struct pos *at)
{
	struct hcl_value *v;
	char *text = number_canon(p->lx.src + p->tok.off, p->tok.len, neg);

	if (!text) {
		fail_at(p, &p->tok.pos, "number out of range: moat accepts up "
			"to %d digits and exponents up to %d",
			NUMBER_MAX_DIGITS, NUMBER_MAX_DIGITS);
		return NULL;
	}
	v = hcl_value_new(HCL_NUMBER, at);
	v->s = text;
	v->len = strlen(text);
	advance(p);
	return v;
}

/* --- values ------------------------------------------------------------- */

static struct hcl_value *parse_value(struct parser *p);

static bool enter(struct parser *p, const struct pos *at)
{
	if (p->depth >= HCL_MAX_DEPTH)
		return fail_at(p, at, "nested too deeply: moat accepts at most "
			       "%d levels of blocks and values",
			       HCL_MAX_DEPTH);
	p->depth++;
	return true;
}

static bool refuse_for(struct parser *p)
{
	if (p->tok.type == TK_IDENT && tok_is(&p->tok, p, "for") &&
	    peek(p)->type == TK_IDENT)
		return fail_at(p, &p->tok.pos, "for expressions are not "
			       "supported by moat");
	return true;
}

static struct hcl_value *parse_tuple(struct parser *p)
{
	struct hcl_value *v = hcl_value_new(HCL_TUPLE, &p->tok.pos);
	size_t cap = 0;

	advance(p);
	skip_newlines(p);
	if (!refuse_for(p))
		goto fail;
	for (;;) {
		struct hcl_value *item;

		skip_newlines(p);
		if (p->tok.type == TK_RBRACK)
			break;
		item = parse_value(p);
		if (!item)
			goto fail;
		xgrow((void **)&v->items, &cap, v->n + 1, sizeof(*v->items));
		v->items[v->n++] = item;
		skip_newlines(p);
		if (p->tok.type == TK_COMMA) {
			advance(p);
			continue;
		}
		if (p->tok.type != TK_RBRACK) {
			expected(p, "',' or ']' after a list item");
			goto fail;
		}
	}
	advance(p);
	return v;
fail:
	hcl_value_free(v);
	return NULL;
}

static int item_cmp(const void *pa, const void *pb)
{
	const struct hcl_item *a = *(const struct hcl_item *const *)pa;
	const struct hcl_item *b = *(const struct hcl_item *const *)pb;
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, n);

	if (c)
		return c;
	if (a->keylen != b->keylen)
		return a->keylen < b->keylen ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* A key given twice keeps its last value, as in HCL. Sorting pointers keeps
 * this O(n log n) for objects of any size. */
static void object_dedup(struct hcl_value *v)
{
	struct hcl_item **idx;
	size_t i, out = 0;

	if (v->n < 2)
		return;
	idx = xmalloc(v->n * sizeof(*idx));
	for (i = 0; i < v->n; i++)
		idx[i] = &v->fields[i];
	qsort(idx, v->n, sizeof(*idx), item_cmp);
	for (i = 0; i + 1 < v->n; i++) {
		if (idx[i]->keylen == idx[i + 1]->keylen &&
		    !memcmp(idx[i]->key, idx[i + 1]->key, idx[i]->keylen)) {
			hcl_value_free(idx[i]->val);
			free(idx[i]->key);
			idx[i]->val = NULL;
			idx[i]->key = NULL;
		}
	}
	free(idx);
	for (i = 0; i < v->n; i++)
		if (v->fields[i].key)
			v->fields[out++] = v->fields[i];
	v->n = out;
}

static bool parse_key(struct parser *p, struct hcl_item *it)
{
	struct hcl_value *k;

	it->pos = p->tok.pos;
	switch (p->tok.type) {
	case TK_IDENT:
		it->key = xstrndup(p->lx.src + p->tok.off, p->tok.len);
		it->keylen = p->tok.len;
		{
			/* keys are strings: NFC like every other string */
			char *nfc = uc_nfc(it->key, it->keylen, &it->keylen);

			free(it->key);
			it->key = nfc;
		}
		break;
	case TK_NUMBER:
		it->key = number_canon(p->lx.src + p->tok.off, p->tok.len, false);
		if (!it->key)
			return fail_at(p, &p->tok.pos, "number out of range");
		it->keylen = strlen(it->key);
		break;
	case TK_STRING:
		k = tmpl_eval(p->tok.tmpl, &p->tok.pos, p->env);
		if (k->type == HCL_ERROR) {
			it->key = xstrdup("");
			it->val = k;	/* surfaces as the attribute's error */
		} else {
			it->key = k->s;
			it->keylen = k->len;
			k->s = NULL;
			hcl_value_free(k);
		}
		break;
	case TK_LPAREN:
		return fail_at(p, &p->tok.pos, "computed object keys (...) are "
			       "not supported by moat");
	default:
		return expected(p, "an object key");
	}
	advance(p);
	if (p->tok.type != TK_EQUAL && p->tok.type != TK_COLON)
		return expected(p, "'=' or ':' after an object key");
	advance(p);
	return true;
}

static struct hcl_value *parse_object(struct parser *p)
{
	struct hcl_value *v = hcl_value_new(HCL_OBJECT, &p->tok.pos);
	size_t cap = 0;

	advance(p);
	skip_newlines(p);
	if (!refuse_for(p))
		goto fail;
	for (;;) {
		struct hcl_item it = { NULL, 0, { NULL, 0, 0 }, NULL };
		struct hcl_value *val;

		skip_newlines(p);
		if (p->tok.type == TK_RBRACE)
			break;
		if (!parse_key(p, &it)) {
			free(it.key);
			hcl_value_free(it.val);
			goto fail;
		}
		val = parse_value(p);
		if (!val) {
			free(it.key);
			hcl_value_free(it.val);
			goto fail;
		}
		if (it.val)	/* the key's error wins */
			hcl_value_free(val);
		else
			it.val = val;
		xgrow((void **)&v->fields, &cap, v->n + 1, sizeof(*v->fields));
		v->fields[v->n++] = it;
		if (p->tok.type == TK_COMMA) {
			advance(p);
			continue;
		}
		if (p->tok.type == TK_NEWLINE)
			continue;
		if (p->tok.type != TK_RBRACE) {
			expected(p, "',', a newline or '}' after an object item");
			goto fail;
		}
	}
	advance(p);
	object_dedup(v);
	return v;
fail:
	hcl_value_free(v);
	return NULL;
}

static struct hcl_value *parse_ident_value(struct parser *p)
{
	struct hcl_value *v;
	const struct token *t = &p->tok;
	const char *s = p->lx.src + t->off;

	if (tok_is(t, p, "true") || tok_is(t, p, "false")) {
		v = hcl_value_new(HCL_BOOL, &t->pos);
		v->b = *s == 't';
		advance(p);
		return v;
	}
	if (tok_is(t, p, "null")) {
		v = hcl_value_new(HCL_NULL, &t->pos);
		advance(p);
		return v;
	}
	if (peek(p)->type == TK_LPAREN)
		fail_at(p, &t->pos, "function calls are not supported by moat: "
			"%.*s(...)", (int)t->len, s);
	else
		fail_at(p, &t->pos, "%.*s is a variable reference, which moat "
			"does not support: write a quoted string \"%.*s\", or "
			"\"${%.*s}\" for the environment variable",
			(int)t->len, s, (int)t->len, s, (int)t->len, s);
	return NULL;
}

static struct hcl_value *parse_primary(struct parser *p)
{
	struct pos at = p->tok.pos;
	struct hcl_value *v;

	switch (p->tok.type) {
	case TK_NUMBER:
		return parse_number(p, false, &at);
	case TK_MINUS:
		advance(p);
		if (p->tok.type == TK_NUMBER)
			return parse_number(p, true, &at);
		fail_at(p, &at, "operator '-' is not supported by moat except "
			"directly before a number");
		return NULL;
	case TK_IDENT:
		return parse_ident_value(p);
	case TK_STRING:
	case TK_HEREDOC:
		v = tmpl_eval(p->tok.tmpl, &at, p->env);
		advance(p);
		return v;
	case TK_LBRACK:
		return parse_tuple(p);
	case TK_LBRACE:
		return parse_object(p);
	case TK_LPAREN:
		fail_at(p, &at, "parenthesized expressions are not supported "
			"by moat");
		return NULL;
	default:
		expected(p, "a value");
		return NULL;
	}
}

static struct hcl_value *parse_value(struct parser *p)
{
	struct hcl_value *v;

	if (!enter(p, &p->tok.pos))
		return NULL;
	v = parse_primary(p);
	p->depth--;
	if (v && (is_operator(&p->tok) || p->tok.type == TK_LBRACK)) {
		refuse_operator(p);
		hcl_value_free(v);
		return NULL;
	}
	return v;
}

/* --- bodies ------------------------------------------------------------- */

static bool parse_body(struct parser *p, struct hcl_body *b, bool top);

/* After an attribute or a block: a newline, or the end of the file. */
static bool end_of_item(struct parser *p, const char *what)
{
	if (p->tok.type == TK_NEWLINE) {
		advance(p);
		return true;
	}
	if (p->tok.type == TK_EOF)
		return true;
	if (p->tok.type == TK_ERROR)
		return false;
	if (is_operator(&p->tok))
		return refuse_operator(p);
	{
		struct buf b = BUF_INIT;

		found(p, &b);
		fail_at(p, &p->tok.pos, "expected a newline after %s, found %s "
			"(put each attribute and block on its own line)", what,
			b.p);
		buf_free(&b);
	}
	return false;
}

static void attr_add(struct hcl_body *b, size_t *cap, char *name,
		     const struct pos *at, struct hcl_value *v, size_t voff,
		     size_t vend)
{
	struct hcl_attr *a;

	xgrow((void **)&b->attrs, cap, b->nattrs + 1, sizeof(*b->attrs));
	a = &b->attrs[b->nattrs++];
	a->name = name;
	a->pos = *at;
	a->val = v;
	a->voff = voff;
	a->vlen = vend - voff;
}

static bool parse_attr_value(struct parser *p, struct hcl_body *b,
			     size_t *cap, char *name, const struct pos *at)
{
	struct hcl_value *v;
	size_t voff;

	advance(p);	/* '=' */
	if (p->tok.type == TK_NEWLINE || p->tok.type == TK_EOF) {
		free(name);
		return fail_at(p, &p->tok.pos, "expected a value after '='");
	}
	voff = p->tok.off;
	v = parse_value(p);
	if (!v) {
		free(name);
		return false;
	}
	attr_add(b, cap, name, at, v, voff, p->prev_end);
	return true;
}

static bool parse_labels(struct parser *p, struct hcl_block *blk)
{
	size_t cap = 0;

	while (p->tok.type == TK_STRING || p->tok.type == TK_IDENT) {
		struct hcl_label *l;
		struct buf s = BUF_INIT;
		size_t i;

		if (p->tok.type == TK_STRING) {
			const struct tmpl *t = p->tok.tmpl;

			for (i = 0; i < t->n; i++) {
				if (t->parts[i].is_var) {
					buf_free(&s);
					return fail_at(p, &t->parts[i].pos,
						       "a block label cannot "
						       "contain ${...}; write $${ "
						       "for a literal ${");
				}
				buf_add(&s, t->parts[i].s, t->parts[i].len);
			}
		} else {
			buf_add(&s, p->lx.src + p->tok.off, p->tok.len);
		}
		xgrow((void **)&blk->labels, &cap, blk->nlabels + 1,
		      sizeof(*blk->labels));
		l = &blk->labels[blk->nlabels++];
		l->len = s.len;
		l->s = buf_steal(&s);
		l->pos = p->tok.pos;
		advance(p);
	}
	return true;
}

/* After '{' on the same line: at most one attribute, then '}'. */
static bool parse_oneline_body(struct parser *p, struct hcl_block *blk)
{
	size_t cap = 0;
	struct pos at = p->tok.pos;
	char *name;

	if (p->tok.type != TK_IDENT)
		return expected(p, "an attribute, '}' or a newline after '{'");
	name = xstrndup(p->lx.src + p->tok.off, p->tok.len);
	advance(p);
	if (p->tok.type != TK_EQUAL) {
		free(name);
		if (p->tok.type == TK_STRING || p->tok.type == TK_IDENT ||
		    p->tok.type == TK_LBRACE)
			return fail_at(p, &at, "a nested block must start on its "
				       "own line (add a newline after '{')");
		return expected(p, "'=' after the attribute name");
	}
	if (!parse_attr_value(p, &blk->body, &cap, name, &at))
		return false;
	if (p->tok.type != TK_RBRACE) {
		if (p->tok.type == TK_COMMA || p->tok.type == TK_NEWLINE)
			return fail_at(p, &p->tok.pos, "a block on one line "
				       "holds one attribute and closes on that "
				       "line; add a newline after '{' for more");
		return expected(p, "'}' to close the one-line block");
	}
	blk->body.end = p->tok.pos;
	advance(p);
	return true;
}

static bool parse_block(struct parser *p, struct hcl_body *b, size_t *cap,
			char *type, const struct pos *at)
{
	struct hcl_block *blk = xcalloc(1, sizeof(*blk));
	bool ok = false;

	blk->type = type;
	blk->pos = *at;
	xgrow((void **)&b->blocks, cap, b->nblocks + 1, sizeof(*b->blocks));
	b->blocks[b->nblocks++] = blk;
	if (!parse_labels(p, blk))
		return false;
	if (p->tok.type != TK_LBRACE)
		return expected(p, "a label or '{' to open the block");
	if (!enter(p, &p->tok.pos))
		return false;
	advance(p);
	if (p->tok.type == TK_NEWLINE) {
		if (!parse_body(p, &blk->body, false))
			goto out;
		blk->body.end = p->tok.pos;
		advance(p);	/* '}' */
	} else if (p->tok.type == TK_RBRACE) {
		blk->body.end = p->tok.pos;
		advance(p);
	} else if (!parse_oneline_body(p, blk)) {
		goto out;
	}
	ok = true;
out:
	p->depth--;
	return ok && end_of_item(p, "a block");
}

static int attr_cmp(const void *pa, const void *pb)
{
	const struct hcl_attr *a = *(const struct hcl_attr *const *)pa;
	const struct hcl_attr *b = *(const struct hcl_attr *const *)pb;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	return a < b ? -1 : a > b;
}

/* Each attribute may be set once per body, as in HCL. */
static bool check_duplicates(struct parser *p, const struct hcl_body *b)
{
	const struct hcl_attr **idx;
	const struct hcl_attr *dup = NULL, *first = NULL;
	size_t i;

	if (b->nattrs < 2)
		return true;
	idx = xmalloc(b->nattrs * sizeof(*idx));
	for (i = 0; i < b->nattrs; i++)
		idx[i] = &b->attrs[i];
	qsort(idx, b->nattrs, sizeof(*idx), attr_cmp);
	for (i = 0; i + 1 < b->nattrs; i++) {
		if (strcmp(idx[i]->name, idx[i + 1]->name))
			continue;
		/* report the earliest redefinition in the file */
		if (!dup || idx[i + 1] < dup) {
			dup = idx[i + 1];
			first = idx[i];
		}
	}
	free(idx);
	if (!dup)
		return true;
	return fail_at(p, &dup->pos, "attribute \"%s\" is already set at "
		       "line %d, column %d; each attribute may be set once",
		       dup->name, first->pos.line, first->pos.col);
}

static bool parse_body(struct parser *p, struct hcl_body *b, bool top)
{
	size_t acap = 0, bcap = 0;

	for (;;) {
		struct pos at;
		char *name;

		skip_newlines(p);
		if (p->tok.type == TK_EOF) {
			b->end = p->tok.pos;
			if (!top)
				return fail_at(p, &p->tok.pos, "unexpected end "
					       "of file: a block is not closed "
					       "with '}'");
			break;
		}
		if (p->tok.type == TK_RBRACE) {
			if (top)
				return fail_at(p, &p->tok.pos, "unexpected "
					       "'}': no block is open here");
			break;
		}
		if (p->tok.type != TK_IDENT)
			return expected(p, "an attribute name or a block");
		at = p->tok.pos;
		name = xstrndup(p->lx.src + p->tok.off, p->tok.len);
		advance(p);
		if (p->tok.type == TK_EQUAL) {
			if (!parse_attr_value(p, b, &acap, name, &at) ||
			    !end_of_item(p, "an attribute"))
				return false;
		} else if (p->tok.type == TK_STRING || p->tok.type == TK_IDENT ||
			   p->tok.type == TK_LBRACE) {
			if (!parse_block(p, b, &bcap, name, &at))
				return false;
		} else {
			struct buf f = BUF_INIT;

			if (p->tok.type == TK_ERROR) {
				free(name);
				return false;
			}
			found(p, &f);
			fail_at(p, &p->tok.pos, "expected '=' after \"%s\" (an "
				"attribute) or a label or '{' (a block), found %s",
				name, f.p);
			buf_free(&f);
			free(name);
			return false;
		}
	}
	return check_duplicates(p, b);
}

static const char *env_getenv(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

struct hcl_file *hcl_parse(const char *name, const char *src, size_t len,
			   const struct hcl_env *env, struct diag_list *dl)
{
	static const struct hcl_env process_env = { env_getenv, NULL };
	struct hcl_file *f = xcalloc(1, sizeof(*f));
	struct parser p;
	bool ok;

	memset(&p, 0, sizeof(p));
	f->name = xstrdup(name);
	p.env = env ? env : &process_env;
	p.dl = dl;
	lex_init(&p.lx, f->name, src, len, dl);
	advance(&p);
	ok = parse_body(&p, &f->body, true);
	token_clear(&p.tok);
	token_clear(&p.ahead);
	if (!ok) {
		hcl_file_free(f);
		return NULL;
	}
	return f;
}
