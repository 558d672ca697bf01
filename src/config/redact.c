/* Secrets out of a config text and back in, by editing the text at the
 * byte offsets the parser keeps for each attribute's value: what is not a
 * secret is never rewritten. Pure; the parsed trees are wiped when freed
 * (config/cfgdiff.c: cfg_text_free), and the text that holds the running
 * secrets is built in a buffer that wipes what it leaves behind. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/cfgdiff.h"
#include "config/redact.h"

static const char *const secret_attrs[] = {
	"private_key", "preshared_key", "password", "smtp_password", "secret",
	"secret_key", "psk", "token", "api_token", "auth_key", "bootstrap_key",
	"user_key", "license_key", "key",
};

bool cfg_secret_attr(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(secret_attrs); i++)
		if (!strcmp(secret_attrs[i], name))
			return true;
	return false;
}

/* --- edits of a text ----------------------------------------------------- */

/* Replace len bytes at off with the wlen bytes at with. */
struct edit {
	size_t off;
	size_t len;
	const char *with;
	size_t wlen;
};

struct edits {
	struct edit *v;
	size_t n;
	size_t cap;
};

static void edits_add(struct edits *e, size_t off, size_t len,
		      const char *with, size_t wlen)
{
	xgrow((void **)&e->v, &e->cap, e->n + 1, sizeof(*e->v));
	e->v[e->n++] = (struct edit){ off, len, with, wlen };
}

static int edit_cmp(const void *pa, const void *pb)
{
	const struct edit *a = pa, *b = pb;

	return a->off < b->off ? -1 : a->off > b->off;
}

/* The edits do not overlap: each is the value of another attribute. */
static char *edits_apply(const char *text, size_t len, struct edits *e,
			 bool secret, size_t *outlen)
{
	struct buf out = BUF_INIT;
	size_t at = 0, i;

	out.secret = secret;
	if (e->n)
		qsort(e->v, e->n, sizeof(*e->v), edit_cmp);
	for (i = 0; i < e->n; i++) {
		buf_add(&out, text + at, e->v[i].off - at);
		buf_add(&out, e->v[i].with, e->v[i].wlen);
		at = e->v[i].off + e->v[i].len;
	}
	buf_add(&out, text + at, len - at);
	if (outlen)
		*outlen = out.len;
	return buf_steal(&out);
}

/* --- redact -------------------------------------------------------------- */

static const char quoted_placeholder[] = "\"" CFG_REDACTED "\"";

static void redact_body(struct edits *e, const struct hcl_body *b)
{
	size_t i;

	for (i = 0; i < b->nattrs; i++) {
		const struct hcl_attr *a = &b->attrs[i];

		if (cfg_secret_attr(a->name) && a->val->type != HCL_NULL)
			edits_add(e, a->voff, a->vlen, quoted_placeholder,
				  sizeof(quoted_placeholder) - 1);
	}
	for (i = 0; i < b->nblocks; i++)
		redact_body(e, &b->blocks[i]->body);
}

char *cfg_redact(const char *text, size_t len, size_t *outlen)
{
	struct hcl_file *f = cfg_text_parse(text, len, NULL, 0);
	struct edits e = { NULL, 0, 0 };
	char *out;

	if (!f)
		return NULL;
	redact_body(&e, &f->body);
	out = edits_apply(text, len, &e, false, outlen);
	free(e.v);
	cfg_text_free(f);
	return out;
}

/* --- unredact ------------------------------------------------------------ */

struct unredact {
	const char *staged;
	size_t slen;
	const char *running;
	struct edits e;
	struct buf path;	/* the chain of blocks, for messages */
	char *err;
	size_t errlen;
};

static bool is_placeholder(const struct hcl_value *v)
{
	return v->type == HCL_STRING && v->len == strlen(CFG_REDACTED) &&
	       !memcmp(v->s, CFG_REDACTED, v->len);
}

/* A heredoc ends its line: it can go only where a newline follows. */
static bool heredoc_fits(const struct unredact *u, const struct hcl_attr *a,
			 const struct hcl_attr *ra)
{
	size_t i = a->voff + a->vlen;

	if (ra->vlen < 2 || memcmp(u->running + ra->voff, "<<", 2))
		return true;
	while (i < u->slen && (u->staged[i] == ' ' || u->staged[i] == '\t'))
		i++;
	return i < u->slen && (u->staged[i] == '\n' ||
			       (u->staged[i] == '\r' && i + 1 < u->slen &&
				u->staged[i + 1] == '\n'));
}

/* a's placeholder gets r's value for it; r is a's block in running, NULL
 * when running has none. */
static bool unredact_attr(struct unredact *u, const struct hcl_attr *a,
			  const struct hcl_body *r)
{
	const struct hcl_attr *ra = r ? hcl_body_attr(r, a->name) : NULL;
	const struct pos *at = &a->val->pos;
	int n;

	if (ra && heredoc_fits(u, a, ra)) {
		edits_add(&u->e, a->voff, a->vlen, u->running + ra->voff,
			  ra->vlen);
		return true;
	}
	if (!u->errlen)
		return false;
	n = snprintf(u->err, u->errlen, "%d:%d: %s is \"" CFG_REDACTED
		     "\" but ", at->line, at->col, a->name);
	if (n < 0 || (size_t)n >= u->errlen)
		return false;
	if (ra)
		snprintf(u->err + n, u->errlen - (size_t)n, "its running value "
			 "is a heredoc, which must end its line: move what "
			 "follows it to the next line");
	else if (!u->path.len)
		snprintf(u->err + n, u->errlen - (size_t)n, "the running config "
			 "has no top-level %s", a->name);
	else if (!r)
		snprintf(u->err + n, u->errlen - (size_t)n, "the running config "
			 "has no %s", u->path.p);
	else
		snprintf(u->err + n, u->errlen - (size_t)n, "%s in the running "
			 "config has no %s", u->path.p, a->name);
	return false;
}

static bool unredact_body(struct unredact *u, const struct hcl_body *s,
			  const struct hcl_body *r)
{
	size_t *match, i, mark;
	bool ok = true;

	for (i = 0; i < s->nattrs; i++) {
		const struct hcl_attr *a = &s->attrs[i];

		if (cfg_secret_attr(a->name) && is_placeholder(a->val) &&
		    !unredact_attr(u, a, r))
			return false;
	}
	match = cfg_match_blocks(s, r);
	for (i = 0; i < s->nblocks && ok; i++) {
		const struct hcl_body *rb = NULL;

		if (match[i] != SIZE_MAX)
			rb = &r->blocks[match[i]]->body;
		mark = u->path.len;
		if (mark)
			buf_addc(&u->path, '.');
		cfg_block_name(&u->path, s->blocks[i]);
		ok = unredact_body(u, &s->blocks[i]->body, rb);
		u->path.len = mark;
		u->path.p[mark] = '\0';
	}
	free(match);
	return ok;
}

char *cfg_unredact(const char *staged, size_t slen, const char *running,
		   size_t rlen, size_t *outlen, char *err, size_t errlen)
{
	struct unredact u = { staged, slen, running, { NULL, 0, 0 }, BUF_INIT,
			      err, errlen };
	struct hcl_file *fs, *fr = NULL;
	char *out = NULL, e[512];

	fs = cfg_text_parse(staged, slen, err, errlen);
	if (!fs)
		goto out;
	fr = cfg_text_parse(running, rlen, e, sizeof(e));
	if (!fr) {
		/* the location only: the message may quote running's text */
		if (errlen)
			snprintf(err, errlen, "running config: %.*s does not "
				 "parse", (int)strcspn(e, " ") - 1, e);
		goto out;
	}
	if (unredact_body(&u, &fs->body, &fr->body))
		out = edits_apply(staged, slen, &u.e, true, outlen);
out:
	free(u.e.v);
	buf_free(&u.path);
	cfg_text_free(fs);
	cfg_text_free(fr);
	return out;
}
