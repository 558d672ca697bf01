/* From the HCL tree to struct moat_config, driven by the tables in
 * schema.c. Reports every problem it finds, each at its place, and keeps
 * going: a user fixes a config in one pass, not one error per run. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/internal.h"
#include "hcl/hcl.h"

void cfg_error(struct cfg_ctx *c, const struct pos *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(c->dl, DIAG_ERROR, at, fmt, ap);
	va_end(ap);
}

void cfg_warn(struct cfg_ctx *c, const struct pos *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(c->dl, c->strict ? DIAG_ERROR : DIAG_WARNING, at, fmt, ap);
	va_end(ap);
}

void cfg_warn_soft(struct cfg_ctx *c, const struct pos *at, const char *fmt,
		   ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(c->dl, DIAG_WARNING, at, fmt, ap);
	va_end(ap);
}

const char *cfg_suggest(const char *name, const char *const *candidates)
{
	size_t best = 3, len = strlen(name), i;
	const char *pick = NULL;

	/* allow about one typo per three characters, at most three */
	if (len / 3 + 1 < best)
		best = len / 3 + 1;
	for (i = 0; candidates[i]; i++) {
		size_t d = edit_distance(name, candidates[i], best), cl;

		/* "mtu_size" for "mtu": a known name with something added */
		cl = strlen(candidates[i]);
		if (d > best && cl >= 3 && len > cl &&
		    !strncmp(name, candidates[i], cl) && !pick)
			pick = candidates[i];

		if (d <= best && (!pick || d < best)) {
			pick = candidates[i];
			best = d;
		}
	}
	return pick;
}

/* --- scalar conversions (as HCL's type conversion does them) ------------- */

static bool str_has_nul(const struct hcl_value *v)
{
	return memchr(v->s, '\0', v->len) != NULL;
}

/* A string from a string, number or bool value. */
static bool to_string(struct cfg_ctx *c, const struct hcl_value *v,
		      const char *what, char **out)
{
	switch (v->type) {
	case HCL_STRING:
		if (str_has_nul(v)) {
			cfg_error(c, &v->pos, "%s contains a NUL character", what);
			return false;
		}
		*out = xstrdup(v->s);
		return true;
	case HCL_NUMBER:
		*out = xstrdup(v->s);
		return true;
	case HCL_BOOL:
		*out = xstrdup(v->b ? "true" : "false");
		return true;
	default:
		cfg_error(c, &v->pos, "%s must be a string, not %s", what,
			  hcl_type_name(v->type));
		return false;
	}
}

static bool parse_int(const char *s, long long *out)
{
	char *end;

	errno = 0;
	if (!*s || (!isdigit((unsigned char)*s) && *s != '-'))
		return false;
	*out = strtoll(s, &end, 10);
	return !errno && !*end;
}

static bool to_int(struct cfg_ctx *c, const struct hcl_value *v,
		   const char *what, long long min, long long max,
		   long long *out)
{
	const char *s = NULL;

	if (v->type == HCL_NUMBER || (v->type == HCL_STRING && !str_has_nul(v)))
		s = v->s;
	if (!s) {
		cfg_error(c, &v->pos, "%s must be a number, not %s", what,
			  hcl_type_name(v->type));
		return false;
	}
	if (!parse_int(s, out)) {
		cfg_error(c, &v->pos, "%s must be a whole number, not \"%s\"",
			  what, s);
		return false;
	}
	if (*out < min || *out > max) {
		cfg_error(c, &v->pos, "%s must be between %lld and %lld, not "
			  "%lld", what, min, max, *out);
		return false;
	}
	return true;
}

static bool to_bool(struct cfg_ctx *c, const struct hcl_value *v,
		    const char *what, bool *out)
{
	if (v->type == HCL_BOOL) {
		*out = v->b;
		return true;
	}
	if (v->type == HCL_STRING &&
	    (!strcmp(v->s, "true") || !strcmp(v->s, "false"))) {
		*out = v->s[0] == 't';
		return true;
	}
	cfg_error(c, &v->pos, "%s must be true or false, not %s", what,
		  v->type == HCL_STRING ? "a string" : hcl_type_name(v->type));
	return false;
}

/* "80", "8000-8100" (also "8000:8100"), "80,443" */
static bool parse_ports_text(struct cfg_ctx *c, const struct pos *at,
			     const char *what, const char *s,
			     struct cfg_ports *p)
{
	char *copy = xstrdup(s), *tok, *save = NULL;
	bool ok = true;

	for (tok = strtok_r(copy, ",", &save); tok && ok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *dash = strpbrk(tok, "-:");
		long long lo, hi;
		char *a = tok, *b;

		while (*a == ' ')
			a++;
		if (dash)
			*dash = '\0';
		b = dash ? dash + 1 : a;
		while (*b == ' ')
			b++;
		for (char *e = a + strlen(a); e > a && e[-1] == ' '; )
			*--e = '\0';
		for (char *e = b + strlen(b); e > b && e[-1] == ' '; )
			*--e = '\0';
		if (!parse_int(a, &lo) || !parse_int(b, &hi) || lo < 1 ||
		    hi > 65535 || lo > 65535 || hi < 1) {
			cfg_error(c, at, "%s: \"%s\" is not a port (1-65535) or "
				  "a range of ports (\"8000-8100\")", what, s);
			ok = false;
			break;
		}
		if (lo > hi) {
			cfg_error(c, at, "%s: the range \"%s\" ends before it "
				  "starts", what, s);
			ok = false;
			break;
		}
		p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
		p->v[p->n].lo = (uint16_t)lo;
		p->v[p->n].hi = (uint16_t)hi;
		p->n++;
	}
	if (ok && !p->n) {
		cfg_error(c, at, "%s: no port given", what);
		ok = false;
	}
	free(copy);
	return ok;
}

static bool add_port_value(struct cfg_ctx *c, const struct hcl_value *v,
			   const char *what, struct cfg_ports *p)
{
	long long n;

	if (v->type == HCL_NUMBER) {
		if (!to_int(c, v, what, 1, 65535, &n))
			return false;
		p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
		p->v[p->n].lo = p->v[p->n].hi = (uint16_t)n;
		p->n++;
		return true;
	}
	if (v->type == HCL_STRING && !str_has_nul(v))
		return parse_ports_text(c, &v->pos, what, v->s, p);
	cfg_error(c, &v->pos, "%s must be a port number, a \"LOW-HIGH\" range "
		  "or a list of them, not %s", what, hcl_type_name(v->type));
	return false;
}

/* --- fields -------------------------------------------------------------- */

static void decode_field(struct cfg_ctx *c, const struct cfg_field *f,
			 void *obj, const struct hcl_attr *a,
			 const char *block)
{
	void *p = (char *)obj + f->off;
	const struct hcl_value *v = a->val;
	char what[160];

	snprintf(what, sizeof(what), "%s%s%s", block, *block ? "." : "",
		 f->name);
	if (hcl_value_error(v))
		return;		/* reported once, by hcl_report_errors */
	if (v->type == HCL_NULL)
		return;		/* null means unset, as in HCL */
	switch (f->kind) {
	case CK_STR:
	case CK_ENUM: {
		struct cfg_str *s = p;
		char *str;

		if (!to_string(c, v, what, &str))
			return;
		if (f->kind == CK_ENUM || f->lower)
			for (char *q = str; *q; q++)
				*q = (char)tolower((unsigned char)*q);
		if (f->kind == CK_ENUM) {
			size_t i;

			for (i = 0; f->choices[i]; i++)
				if (!strcmp(f->choices[i], str))
					break;
			if (!f->choices[i]) {
				struct buf b = BUF_INIT;

				for (i = 0; f->choices[i]; i++)
					buf_printf(&b, "%s%s", i ? ", " : "",
						   f->choices[i]);
				cfg_error(c, &v->pos, "%s: \"%s\" is not one of "
					  "%s", what, v->type == HCL_STRING ?
					  v->s : str, b.p);
				buf_free(&b);
				free(str);
				return;
			}
		}
		s->v = str;
		s->pos = v->pos;
		break;
	}
	case CK_BOOL: {
		struct cfg_bool *b = p;

		if (to_bool(c, v, what, &b->v)) {
			b->set = true;
			b->pos = v->pos;
		}
		break;
	}
	case CK_INT: {
		struct cfg_int *n = p;

		if (to_int(c, v, what, f->min, f->max, &n->v)) {
			n->set = true;
			n->pos = v->pos;
		}
		break;
	}
	case CK_STRS: {
		struct cfg_strs *l = p;
		size_t i;

		if (v->type != HCL_TUPLE) {
			cfg_error(c, &v->pos, "%s must be a list of strings "
				  "([\"...\"]), not %s", what,
				  hcl_type_name(v->type));
			return;
		}
		l->v = xcalloc(v->n + 1, sizeof(*l->v));
		l->at = xcalloc(v->n + 1, sizeof(*l->at));
		for (i = 0; i < v->n; i++) {
			if (!to_string(c, v->items[i], what, &l->v[l->n]))
				continue;
			l->at[l->n++] = v->items[i]->pos;
		}
		l->set = true;
		l->pos = v->pos;
		break;
	}
	case CK_PORTS: {
		struct cfg_ports *ports = p;
		size_t i;

		if (v->type == HCL_TUPLE) {
			if (!v->n)
				break;
			for (i = 0; i < v->n; i++)
				add_port_value(c, v->items[i], what, ports);
		} else {
			add_port_value(c, v, what, ports);
		}
		ports->set = ports->n > 0;
		ports->pos = v->pos;
		break;
	}
	}
}

/* --- blocks -------------------------------------------------------------- */

static void decode_body(struct cfg_ctx *c, const struct cfg_section *sec,
			void *obj, const struct hcl_body *body,
			const char *path);

static const struct cfg_field *find_field(const struct cfg_section *sec,
					  const char *name)
{
	for (const struct cfg_field *f = sec->fields; f && f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

static const struct cfg_child *find_child(const struct cfg_section *sec,
					  const char *type)
{
	for (const struct cfg_child *ch = sec->children; ch && ch->type; ch++)
		if (!strcmp(ch->type, type))
			return ch;
	return NULL;
}

static bool flywall_has_attr(const struct cfg_section *sec, const char *name)
{
	const char *const *a = fly_types[sec->flywall].attrs;

	for (; *a; a++)
		if (!strcmp(*a, name))
			return true;
	return false;
}

static bool flywall_has_child(const struct cfg_section *sec, const char *name)
{
	const struct fly_child *ch = fly_types[sec->flywall].children;

	for (; ch->name; ch++)
		if (!strcmp(ch->name, name))
			return true;
	return false;
}

/* Every name that could have been meant, for did-you-mean. */
static const char **candidates(const struct cfg_section *sec, bool blocks)
{
	size_t n = 0, cap = 0;
	const char **v = NULL;

#define PUSH(s) do { \
		xgrow((void **)&v, &cap, n + 2, sizeof(*v)); \
		v[n++] = (s); \
	} while (0)
	if (blocks) {
		for (const struct cfg_child *ch = sec->children; ch && ch->type; ch++)
			PUSH(ch->type);
		for (const struct fly_child *fc = fly_types[sec->flywall].children;
		     fc->name; fc++)
			PUSH(fc->name);
	} else {
		for (const struct cfg_field *f = sec->fields; f && f->name; f++)
			PUSH(f->name);
		for (const char *const *a = fly_types[sec->flywall].attrs; *a; a++)
			PUSH(*a);
	}
	PUSH(NULL);
#undef PUSH
	return v;
}

static void unknown(struct cfg_ctx *c, const struct cfg_section *sec,
		    const char *name, const struct pos *at, bool block,
		    const char *path)
{
	const char **cand = candidates(sec, block);
	const char *hint = cfg_suggest(name, cand);
	const char *kind = block ? "block" : "attribute";

	if (hint)
		cfg_error(c, at, "unknown %s \"%s\"%s%s; did you mean \"%s\"?",
			  kind, name, *path ? " in " : "", path, hint);
	else
		cfg_error(c, at, "unknown %s \"%s\"%s%s", kind, name,
			  *path ? " in " : "", path);
	free(cand);
}

static void *vec_push(struct cfg_vec *vec, size_t size)
{
	void *obj;

	xgrow(&vec->v, &vec->cap, vec->n + 1, size);
	obj = (char *)vec->v + vec->n * size;
	memset(obj, 0, size);
	vec->n++;
	return obj;
}

static void decode_block(struct cfg_ctx *c, const struct cfg_child *ch,
			 void *parent, const struct hcl_block *blk)
{
	const struct cfg_section *sec = ch->sec;
	struct cfg_vec *vec = (struct cfg_vec *)((char *)parent + ch->off);
	struct cfg_obj *o;
	char path[160];

	if (ch->single && vec->n) {
		o = vec->v;
		cfg_error(c, &blk->pos, "block \"%s\" may appear only once here "
			  "(it is already at line %d)", blk->type, o->pos.line);
		return;
	}
	if ((int)blk->nlabels < sec->min_labels ||
	    (int)blk->nlabels > sec->max_labels) {
		if (sec->max_labels == 0)
			cfg_error(c, &blk->pos, "block \"%s\" takes no labels",
				  blk->type);
		else
			cfg_error(c, &blk->pos, "block \"%s\" needs %s: %s %s%s{ "
				  "... }", blk->type,
				  sec->min_labels == sec->max_labels ?
				  "its label" : "its labels", blk->type,
				  sec->labels, " ");
		return;
	}
	for (size_t i = 0; i < blk->nlabels; i++) {
		if (memchr(blk->labels[i].s, '\0', blk->labels[i].len) ||
		    !blk->labels[i].len) {
			cfg_error(c, &blk->labels[i].pos, "the label of block "
				  "\"%s\" must not be empty or contain NUL",
				  blk->type);
			return;
		}
	}
	o = vec_push(vec, sec->size);
	o->pos = blk->pos;
	if (blk->nlabels > 0) {
		o->name = xstrdup(blk->labels[0].s);
		o->name_pos = blk->labels[0].pos;
	}
	if (blk->nlabels > 1) {
		o->name2 = xstrdup(blk->labels[1].s);
		o->name2_pos = blk->labels[1].pos;
	}
	if (o->name)
		snprintf(path, sizeof(path), "%s \"%s\"", blk->type, o->name);
	else
		snprintf(path, sizeof(path), "%s", blk->type);
	decode_body(c, sec, o, &blk->body, path);
}

static void decode_body(struct cfg_ctx *c, const struct cfg_section *sec,
			void *obj, const struct hcl_body *body,
			const char *path)
{
	size_t i;

	for (i = 0; i < body->nattrs; i++) {
		const struct hcl_attr *a = &body->attrs[i];
		const struct cfg_field *f = find_field(sec, a->name);

		if (f)
			decode_field(c, f, obj, a, sec->type);
		else if (flywall_has_attr(sec, a->name))
			cfg_warn(c, &a->pos, "not supported by moat yet: "
				 "attribute \"%s\"%s%s", a->name,
				 *path ? " in " : "", path);
		else
			unknown(c, sec, a->name, &a->pos, false, path);
	}
	for (i = 0; i < body->nblocks; i++) {
		const struct hcl_block *blk = body->blocks[i];
		const struct cfg_child *ch = find_child(sec, blk->type);

		if (ch)
			decode_block(c, ch, obj, blk);
		else if (flywall_has_child(sec, blk->type))
			cfg_warn(c, &blk->pos, "not supported by moat yet: "
				 "block \"%s\"%s%s", blk->type,
				 *path ? " in " : "", path);
		else
			unknown(c, sec, blk->type, &blk->pos, true, path);
	}
	for (const struct cfg_field *f = sec->fields; f && f->name; f++) {
		if (f->required && !hcl_body_attr(body, f->name)) {
			const struct cfg_obj *o = obj;

			cfg_error(c, sec == &cfg_root_section ? NULL : &o->pos,
				  "%s needs the attribute \"%s\"", path,
				  f->name);
		}
	}
}

/* --- freeing ------------------------------------------------------------- */

void cfg_obj_release(const struct cfg_section *sec, void *obj)
{
	struct cfg_obj *o = obj;

	for (const struct cfg_field *f = sec->fields; f && f->name; f++) {
		void *p = (char *)obj + f->off;

		switch (f->kind) {
		case CK_STR:
		case CK_ENUM:
			free(((struct cfg_str *)p)->v);
			break;
		case CK_STRS: {
			struct cfg_strs *l = p;

			for (size_t i = 0; i < l->n; i++)
				free(l->v[i]);
			free(l->v);
			free(l->at);
			break;
		}
		case CK_PORTS:
			free(((struct cfg_ports *)p)->v);
			break;
		default:
			break;
		}
	}
	for (const struct cfg_child *ch = sec->children; ch && ch->type; ch++) {
		struct cfg_vec *vec = (struct cfg_vec *)((char *)obj + ch->off);

		for (size_t i = 0; i < vec->n; i++)
			cfg_obj_release(ch->sec, (char *)vec->v +
					i * ch->sec->size);
		free(vec->v);
	}
	if (sec != &cfg_root_section) {
		free(o->name);
		free(o->name2);
	}
}

void cfg_free(struct moat_config *cfg)
{
	if (!cfg)
		return;
	cfg_obj_release(&cfg_root_section, cfg);
	free(cfg->file);
	free(cfg);
}

struct moat_config *cfg_load(const char *name, const char *src, size_t len,
			     const struct hcl_env *env, bool strict,
			     struct diag_list *dl)
{
	struct hcl_file *f = hcl_parse(name, src, len, env, dl);
	struct moat_config *cfg;
	struct cfg_ctx c;
	size_t errors = dl->nerrors;

	if (!f)
		return NULL;
	cfg = xcalloc(1, sizeof(*cfg));
	cfg->file = f->name;	/* the tree's name moves to the config */
	f->name = NULL;
	c.cfg = cfg;
	c.dl = dl;
	c.strict = strict;
	hcl_report_errors(f, dl);
	decode_body(&c, &cfg_root_section, cfg, &f->body, "");
	hcl_file_free(f);
	cfg_validate(&c);
	if (dl->nerrors > errors) {
		cfg_free(cfg);
		return NULL;
	}
	return cfg;
}
