/* The REST API's configuration and status methods (api/h_config.c calls
 * them): the running config with its secrets redacted; a staged config,
 * un-redacted against the running one, checked, and kept in memory and in
 * STATE_DIR/staged.json (mode 0600) so that it survives a restart of
 * ctl; its diff against the running config; apply, confirm, discard and
 * rollback with HTTP-shaped failures; the interfaces and the firewall's
 * counters as the kernel has them.
 *
 * Nothing here answers a secret: texts go out through cfg_redact, the
 * structured diff names attributes and never values, and the staged text
 * is wiped before it is freed. The audit log gets sizes and hashes. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if.h>
#include <nftables/libnftables.h>
#include <sodium.h>

#include "base/file.h"
#include "base/util.h"
#include "config/cfgdiff.h"
#include "config/config.h"
#include "config/redact.h"
#include "ctl/method.h"
#include "fw/apply.h"
#include "fw/fw.h"
#include "fw/nl.h"
#include "net/io.h"
#include "net/net.h"
#include "net/nl.h"
#include "store/store.h"
#include "wg/wg.h"

/* The staged config. text holds secrets (the running config's, put back
 * for the placeholders the client kept). */
struct ctl_staged {
	bool loaded;			/* staged.json was read */
	char *text;			/* NULL: nothing staged */
	size_t len;
	char hash[65];			/* sha256 of text */
	char who[80];
	long long at_ms;
	long long base;			/* the revision running then */
};

static void wipe_free(char *p, size_t n)
{
	if (p) {
		sodium_memzero(p, n);
		free(p);
	}
}

static void sha256_hex(const char *p, size_t n, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)p, n);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void staged_clear(struct ctl_staged *s)
{
	wipe_free(s->text, s->len);
	s->text = NULL;
	s->len = 0;
	s->hash[0] = s->who[0] = '\0';
	s->at_ms = s->base = 0;
}

void ctl_config_free(struct ctl *c)
{
	if (!c->staged)
		return;
	staged_clear(c->staged);
	free(c->staged);
	c->staged = NULL;
}

static char *staged_path(const struct ctl *c)
{
	return xasprintf("%s/staged.json", c->state_dir);
}

/* staged.json as a ctl before this one left it; a file that does not
 * read as one is left alone and logged. */
static void staged_load(struct ctl *c, struct ctl_staged *s)
{
	char *path = staged_path(c), *data = NULL;
	const char *text, *who;
	json_int_t at, base;
	size_t len = 0, tlen;
	json_t *j = NULL;
	int r;

	r = file_read(path, 2 * MOAT_MAX_CONFIG_BYTES, &data, &len);
	if (r < 0) {
		if (r != -ENOENT)
			ctl_log("%s: %s", path, strerror(-r));
		goto out;
	}
	j = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_unpack(j, "{s:s%,s:s,s:I,s:I}", "text", &text, &tlen,
			"who", &who, "at_ms", &at, "base_revision",
			&base) < 0 || memchr(text, '\0', tlen)) {
		ctl_log("%s: not a staged config; ignored", path);
		goto out;
	}
	s->text = xstrndup(text, tlen);
	s->len = tlen;
	sha256_hex(s->text, s->len, s->hash);
	snprintf(s->who, sizeof(s->who), "%s", who);
	s->at_ms = at;
	s->base = base;
	sodium_memzero((char *)text, tlen);
out:
	json_decref(j);
	wipe_free(data, len);
	free(path);
}

/* Writes (or, with nothing staged, removes) staged.json. 0 or -1
 * (logged: the staged config still lives in memory). */
static int staged_save(struct ctl *c, const struct ctl_staged *s)
{
	char *path = staged_path(c), *data = NULL;
	json_t *j;
	int r = 0;

	if (!s->text) {
		if (unlink(path) < 0 && errno != ENOENT) {
			ctl_log("%s: %s", path, strerror(errno));
			r = -1;
		}
		free(path);
		return r;
	}
	j = json_pack("{s:s%,s:s,s:I,s:I}", "text", s->text, s->len, "who",
		      s->who, "at_ms", (json_int_t)s->at_ms, "base_revision",
		      (json_int_t)s->base);
	data = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (j) {
		json_t *t = json_object_get(j, "text");

		sodium_memzero((char *)json_string_value(t),
			       json_string_length(t));
		json_decref(j);
	}
	/* mkstemp's 0600 stays through the rename */
	if (!data || (r = file_write_atomic(path, data, strlen(data),
					    0700)) < 0) {
		ctl_log("%s: cannot write it: %s", path, data ?
			strerror(-r) : "out of memory");
		r = -1;
	}
	if (data)
		wipe_free(data, strlen(data));
	free(path);
	return r;
}

static struct ctl_staged *staged_of(struct ctl *c)
{
	if (!c->staged)
		c->staged = xcalloc(1, sizeof(*c->staged));
	if (!c->staged->loaded) {
		c->staged->loaded = true;
		staged_load(c, c->staged);
	}
	return c->staged;
}

/* --- checking a text ----------------------------------------------------- */

/* [{severity, line, column, message}]: the text has no file name for the
 * client. */
static json_t *diags_json(const struct diag_list *dl)
{
	json_t *a = json_array();

	for (size_t i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];
		json_t *o = json_pack("{sssisiss}", "severity",
				      diag_sev_name(d->sev), "line", d->line,
				      "column", d->col, "message", d->msg);

		json_array_append_new(a, o ? o : json_pack("{sssisiss}",
			"severity", diag_sev_name(d->sev), "line", d->line,
			"column", d->col, "message", "(not UTF-8)"));
	}
	return a;
}

/* What `moat check` checks: parse, validate, and the compilers (what only
 * they see). No key file, store or kernel is read: apply checks those.
 * 0 valid (warnings allowed), -1 errors in dl. */
static int check_text(struct ctl *c, const char *text, size_t len,
		      struct diag_list *dl)
{
	struct moat_config *cfg = cfg_load(c->config_path, text, len, NULL,
					   false, dl);
	int r = -1;

	if (cfg) {
		struct fw_plan *fw = fw_compile(cfg, dl);
		struct net_plan *net = net_compile(cfg, dl);
		struct wg_plan *wg = wg_compile(cfg, dl);

		r = fw && net && wg ? 0 : -1;
		fw_plan_free(fw);
		net_plan_free(net);
		wg_plan_free(wg);
	}
	cfg_free(cfg);
	diag_sort(dl);
	return r;
}

/* "LINE:COL: message" (cfg_unredact's errors) as a diagnostic. It
 * replaces the loader's error at that place: the same syntax error, or
 * "not a WireGuard key" for a placeholder that has no running value. */
static void add_located(struct diag_list *dl, const char *file,
			const char *e)
{
	struct pos at = { .file = file };
	int n = 0;

	if (sscanf(e, "%d:%d: %n", &at.line, &at.col, &n) >= 2 && n > 0)
		e += n;
	else
		at.line = at.col = 0;
	for (size_t i = 0; at.line && i < dl->n; i++)
		if (dl->v[i].sev == DIAG_ERROR && dl->v[i].line == at.line &&
		    dl->v[i].col == at.col) {
			free(dl->v[i].msg);
			dl->v[i].msg = xstrdup(e);
			return;
		}
	diag_error(dl, at.line ? &at : NULL, "%s", e);
	diag_sort(dl);
}

/* The client's text with the running config's secrets for the
 * "(redacted)" it kept, checked: the text (the caller wipes and frees it)
 * or NULL with the problems in dl. Lines and columns are the client's
 * unless a secret put back spans lines (a heredoc). */
static char *take_text(struct ctl *c, const char *in, size_t inlen,
		       size_t *outlen, struct diag_list *dl)
{
	char err[512];
	char *t = cfg_unredact(in, inlen, c->cur->text, c->cur->len, outlen,
			       err, sizeof(err));

	if (!t) {
		/* every problem of the text, not just the first */
		check_text(c, in, inlen, dl);
		add_located(dl, c->config_path, err);
		return NULL;
	}
	if (check_text(c, t, *outlen, dl) < 0) {
		wipe_free(t, *outlen);
		return NULL;
	}
	return t;
}

/* --- the config methods --------------------------------------------------- */

static int no_params(json_t *p, json_t **res)
{
	if (json_unpack(p, "{!}") < 0) {
		*res = ctl_err("params: {}");
		return CTL_PARAMS;
	}
	return CTL_OK;
}

/* {"config": redacted text} merged into o; -1 when the text does not
 * parse or is not UTF-8 (never the unredacted text instead). */
static int put_redacted(json_t *o, const char *text, size_t len)
{
	size_t n;
	char *red = cfg_redact(text, len, &n);
	json_t *s = red ? json_stringn(red, n) : NULL;

	free(red);
	if (!s)
		return -1;
	json_object_set_new(o, "config", s);
	return 0;
}

/* The running config, redacted. */
static int m_show(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	int st = no_params(p, res);

	if (st)
		return st;
	char h[65];

	ctl_hash_for_api(c, c->cur->hash, h);
	*res = json_pack("{sIsssssb}", "revision", (json_int_t)c->cur->revision,
			 "hash", h, "path", c->config_path,
			 "awaiting_confirm", c->prev != NULL);
	if (put_redacted(*res, c->cur->text, c->cur->len) < 0) {
		json_decref(*res);
		*res = ctl_err("the running config cannot be redacted");
		return CTL_FAILED;
	}
	return CTL_OK;
}

static json_t *staged_info(struct ctl *c, const struct ctl_staged *s)
{
	char h[65];

	ctl_hash_for_api(c, s->hash, h);
	return json_pack("{sssIsssIsIsI}", "hash", h, "bytes",
			 (json_int_t)s->len, "staged_by", s->who, "staged_at_ms",
			 (json_int_t)s->at_ms, "base_revision",
			 (json_int_t)s->base, "running_revision",
			 (json_int_t)c->cur->revision);
}

static int nothing_staged(json_t **res, int status)
{
	*res = ctl_err("nothing is staged: PUT /api/config/staged first");
	return status;
}

/* The staged config, redacted. */
static int m_staged(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl_staged *s = staged_of(r->c);
	int st = no_params(p, res);

	if (st)
		return st;
	if (!s->text)
		return nothing_staged(res, CTL_NOTFOUND);
	*res = staged_info(r->c, s);
	if (put_redacted(*res, s->text, s->len) < 0) {
		json_decref(*res);
		*res = ctl_err("the staged config cannot be redacted");
		return CTL_FAILED;
	}
	return CTL_OK;
}

/* {"text"}: un-redacted, checked and kept; CTL_INVALID with the
 * diagnostics and nothing kept when it has errors. */
static int m_stage(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	struct ctl_staged *s = staged_of(c);
	struct diag_list dl = { 0 };
	const char *in;
	char detail[160], e[512];
	size_t inlen, len = 0;
	char *t;
	bool saved;

	if (json_unpack(p, "{s:s%!}", "text", &in, &inlen) < 0) {
		*res = ctl_err("params: {\"text\": string}");
		return CTL_PARAMS;
	}
	if (memchr(in, '\0', inlen)) {
		*res = ctl_err("the config holds a NUL byte");
		return CTL_PARAMS;
	}
	t = take_text(c, in, inlen, &len, &dl);
	if (!t) {
		/* where, not what: a message may quote the text */
		snprintf(e, sizeof(e), "%zu error(s)", dl.nerrors);
		for (size_t i = 0; i < dl.n; i++)
			if (dl.v[i].sev == DIAG_ERROR) {
				snprintf(e, sizeof(e), "%zu error(s), the "
					 "first at %d:%d", dl.nerrors,
					 dl.v[i].line, dl.v[i].col);
				break;
			}
		ctl_audit(c, &r->who, "config.stage", "refused", e);
		*res = json_pack("{sssosI}", "error", "the config has errors; "
				 "nothing was staged", "diagnostics",
				 diags_json(&dl), "errors",
				 (json_int_t)dl.nerrors);
		diag_list_free(&dl);
		return CTL_INVALID;
	}
	staged_clear(s);
	s->text = t;
	s->len = len;
	sha256_hex(t, len, s->hash);
	snprintf(s->who, sizeof(s->who), "%s", r->who.who);
	s->at_ms = ctl_now_ms();
	s->base = c->cur->revision;
	saved = staged_save(c, s) == 0;
	snprintf(detail, sizeof(detail), "%zu bytes, against revision %lld",
		 len, s->base);
	ctl_audit(c, &r->who, "config.stage", detail, "ok");
	ctl_event(c, "config.staged", json_pack("{sIsssI}", "base_revision",
		  (json_int_t)s->base, "by", s->who, "bytes",
		  (json_int_t)s->len));
	*res = staged_info(c, s);
	json_object_set_new(*res, "staged", json_true());
	json_object_set_new(*res, "persisted", json_boolean(saved));
	json_object_set_new(*res, "changed", json_boolean(
		len != c->cur->len || memcmp(t, c->cur->text, len)));
	json_object_set_new(*res, "diagnostics", diags_json(&dl));
	diag_list_free(&dl);
	return CTL_OK;
}

/* Which components' plans the staged config changes: each "changed" or
 * "unchanged", or null with the diagnostics when it does not compile
 * (a key file missing, a runtime peer's clash). */
static void diff_components(struct ctl *c, const struct ctl_staged *s,
			    json_t *out)
{
	char phash[NCOMPONENTS][65];
	struct diag_list dl = { 0 };
	json_t *o;

	if (ctl_compile(c, s->text, s->len, phash, &dl) < 0) {
		diag_sort(&dl);
		json_object_set_new(out, "components", json_null());
		json_object_set_new(out, "diagnostics", diags_json(&dl));
		diag_list_free(&dl);
		return;
	}
	o = json_object();
	for (size_t i = 0; i < NCOMPONENTS; i++)
		json_object_set_new(o, components[i]->name, json_string(
			strcmp(phash[i], c->cur->phash[i]) ? "changed" :
			"unchanged"));
	json_object_set_new(out, "components", o);
	json_object_set_new(out, "diagnostics", diags_json(&dl));
	diag_list_free(&dl);
}

/* Staged against running: the unified diff of the redacted texts, the
 * blocks (names, never values), the components. */
static int m_diff(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	struct ctl_staged *s = staged_of(c);
	char *ra = NULL, *rb = NULL, *text;
	size_t na, nb, nt;
	char err[512];
	json_t *blocks, *t;
	int st = no_params(p, res);

	if (st)
		return st;
	if (!s->text)
		return nothing_staged(res, CTL_CONFLICT);
	ra = cfg_redact(c->cur->text, c->cur->len, &na);
	rb = cfg_redact(s->text, s->len, &nb);
	if (!ra || !rb) {
		free(ra);
		free(rb);
		*res = ctl_err("a config cannot be redacted");
		return CTL_FAILED;
	}
	text = cfgdiff_unified(ra, na, rb, nb, "running", "staged", &nt);
	t = json_stringn(text, nt);
	free(text);
	free(ra);
	free(rb);
	blocks = cfgdiff_blocks(c->cur->text, c->cur->len, s->text, s->len,
				"running", "staged", err, sizeof(err));
	*res = staged_info(c, s);
	json_object_set_new(*res, "text", t ? t : json_string(""));
	json_object_set_new(*res, "blocks", blocks ? blocks : json_null());
	json_object_set_new(*res, "changed", json_boolean(
		s->len != c->cur->len || memcmp(s->text, c->cur->text,
						s->len)));
	diff_components(c, s, *res);
	return CTL_OK;
}

/* {"text"?}: the text, or the staged config; CTL_OK either way, with
 * {"valid", "diagnostics"}. */
static int m_validate(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	struct diag_list dl = { 0 };
	const char *in = NULL;
	size_t inlen = 0, len = 0;
	bool valid;

	if (json_unpack(p, "{s?s%!}", "text", &in, &inlen) < 0) {
		*res = ctl_err("params: {\"text\": string} or {}");
		return CTL_PARAMS;
	}
	if (in && memchr(in, '\0', inlen)) {
		*res = ctl_err("the config holds a NUL byte");
		return CTL_PARAMS;
	}
	if (in) {
		char *t = take_text(c, in, inlen, &len, &dl);

		valid = t != NULL;
		wipe_free(t, len);
	} else {
		struct ctl_staged *s = staged_of(c);

		if (!s->text)
			return nothing_staged(res, CTL_CONFLICT);
		valid = check_text(c, s->text, s->len, &dl) == 0;
	}
	*res = json_pack("{sbsosIsI}", "valid", valid, "diagnostics",
			 diags_json(&dl), "errors", (json_int_t)dl.nerrors,
			 "warnings", (json_int_t)dl.nwarnings);
	diag_list_free(&dl);
	return CTL_OK;
}

static int awaiting(struct ctl *c, json_t **res)
{
	if (!c->prev)
		return CTL_OK;
	*res = ctl_err("a change awaits confirmation: POST /api/config/"
		       "confirm keeps it, or it rolls back by itself");
	return CTL_CONFLICT;
}

/* What ctl_apply or ctl_rollback answered: a failed apply carries its
 * components and goes back as a result with "ok": false (api answers
 * 422 with it); any other failure is an error. */
static int apply_status(int r, json_t *res)
{
	if (r == 0)
		return CTL_OK;
	return json_object_get(res, "components") ? CTL_INVALID :
	       CTL_CONFLICT;
}

/* {"confirm_within"?}: the staged config through ctl_apply, written to
 * ctl's config file; the staged one is gone once it applied. */
static int m_apply(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	struct ctl_staged *s = staged_of(c);
	json_int_t confirm = 0;
	int st;

	if (json_unpack(p, "{s?I!}", "confirm_within", &confirm) < 0 ||
	    confirm < 0 || confirm > 86400) {
		*res = ctl_err("params: {\"confirm_within\": 0..86400}");
		return CTL_PARAMS;
	}
	if ((st = awaiting(c, res)))
		return st;
	if (!s->text)
		return nothing_staged(res, CTL_CONFLICT);
	/* its redacted secrets were filled from the config that ran when it
	 * was staged: applied over a newer one, it would bring back what
	 * that one changed (a rotated key) without the diff showing it */
	if (s->base != c->cur->revision) {
		*res = json_pack("{sssIsI}", "error", "the running config "
				 "changed since this was staged: stage it "
				 "again (GET /api/config, edit, PUT)",
				 "staged_against", (json_int_t)s->base,
				 "running_revision",
				 (json_int_t)c->cur->revision);
		return CTL_CONFLICT;
	}
	st = apply_status(ctl_apply(c, c->config_path, s->text, (int)confirm,
				    &r->who, res), *res);
	if (st == CTL_OK) {
		staged_clear(s);
		staged_save(c, s);
	}
	return st;
}

static int m_confirm(struct ctl_req *r, json_t *p, json_t **res)
{
	int st = no_params(p, res);

	if (st)
		return st;
	if (!r->c->prev) {
		*res = ctl_err("nothing awaits confirmation");
		return CTL_CONFLICT;
	}
	return ctl_confirm(r->c, &r->who, res) == 0 ? CTL_OK : CTL_FAILED;
}

static int m_discard(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	struct ctl_staged *s = staged_of(c);
	char detail[96];
	bool had = s->text != NULL;
	int st = no_params(p, res);

	if (st)
		return st;
	if (had) {
		snprintf(detail, sizeof(detail), "sha256 %.16s", s->hash);
		staged_clear(s);
		staged_save(c, s);
		ctl_audit(c, &r->who, "config.discard", detail, "ok");
		ctl_event(c, "config.discarded", json_pack("{ss}", "by",
			  r->who.who));
	}
	*res = json_pack("{sb}", "discarded", had);
	return CTL_OK;
}

/* {"revision"}: CTL_NOTFOUND for a revision the store does not have. */
static int m_rollback(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	struct store_revision v = { 0 };
	json_int_t rev;
	char err[256];
	int st;

	if (json_unpack(p, "{sI!}", "revision", &rev) < 0 || rev <= 0) {
		*res = ctl_err("params: {\"revision\": id}");
		return CTL_PARAMS;
	}
	if ((st = awaiting(c, res)))
		return st;
	st = store_revision_get(c->store, rev, &v, err, sizeof(err));
	store_revision_clear(&v);
	if (st < 0) {
		*res = ctl_err("%s", err);
		return CTL_FAILED;
	}
	if (st == 1) {
		*res = ctl_err("no revision %lld", (long long)rev);
		return CTL_NOTFOUND;
	}
	return apply_status(ctl_rollback(c, rev, &r->who, res), *res);
}

/* --- what the kernel has -------------------------------------------------- */

static const char *operstate_name(unsigned s)
{
	static const char *const names[] = {
		[IF_OPER_UNKNOWN] = "unknown",
		[IF_OPER_NOTPRESENT] = "notpresent",
		[IF_OPER_DOWN] = "down",
		[IF_OPER_LOWERLAYERDOWN] = "lowerlayerdown",
		[IF_OPER_TESTING] = "testing",
		[IF_OPER_DORMANT] = "dormant",
		[IF_OPER_UP] = "up",
	};

	return s < ARRAY_SIZE(names) && names[s] ? names[s] : "unknown";
}

static json_t *link_json(const struct net_link *l,
			 const struct net_plan *plan)
{
	static const char *const kinds[] = {
		[NET_LINK_DEVICE] = "device",
		[NET_LINK_VLAN] = "vlan",
		[NET_LINK_WIREGUARD] = "wireguard",
	};
	json_t *addrs = json_array();
	char a[64], mac[18] = "";

	for (size_t i = 0; i < l->naddrs; i++)
		if (net_addr_format(&l->addrs[i], a, sizeof(a)) >= 0)
			json_array_append_new(addrs, json_string(a));
	if (l->has_mac)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 l->mac[0], l->mac[1], l->mac[2], l->mac[3], l->mac[4],
			 l->mac[5]);
	return json_pack("{sssIssss*sIsbsbsssbsos{sIsIsIsIsIsIsIsI}}",
		"name", l->name, "index", (json_int_t)l->ifindex,
		"kind", l->kind < ARRAY_SIZE(kinds) ? kinds[l->kind] : "device",
		"mac", mac[0] ? mac : NULL, "mtu", (json_int_t)l->mtu,
		"up", (l->flags & IFF_UP) != 0,
		"carrier", (l->flags & IFF_LOWER_UP) != 0,
		"operstate", operstate_name(l->operstate),
		"managed", plan && net_plan_link(plan, l->name) != NULL,
		"addresses", addrs, "stats",
		"rx_bytes", (json_int_t)l->rx_bytes,
		"tx_bytes", (json_int_t)l->tx_bytes,
		"rx_packets", (json_int_t)l->rx_packets,
		"tx_packets", (json_int_t)l->tx_packets,
		"rx_errors", (json_int_t)l->rx_errors,
		"tx_errors", (json_int_t)l->tx_errors,
		"rx_dropped", (json_int_t)l->rx_dropped,
		"tx_dropped", (json_int_t)l->tx_dropped);
}

/* Every link of ctl's namespace, with its addresses and counters;
 * "managed": the running config names it. */
static int m_interfaces(struct ctl_req *r, json_t *p, json_t **res)
{
	const struct net_plan *plan = r->c->cur->plans[COMP_NET];
	struct net_plan *state = xcalloc(1, sizeof(*state));
	struct net_nl nl = { 0 };
	struct diag_list dl = { 0 };
	char e[512];
	json_t *a;
	int st = no_params(p, res);

	if (st) {
		free(state);
		return st;
	}
	st = net_nl_open(&nl);
	if (st == 0)
		st = net_observe(&nl, state, &dl);
	else
		diag_error(&dl, NULL, "rtnetlink: %s", strerror(-st));
	net_nl_close(&nl);
	if (st < 0) {
		diag_first_error(&dl, 0, "cannot read the interfaces", e,
				 sizeof(e));
		*res = ctl_err("%s", e);
		st = CTL_FAILED;
		goto out;
	}
	a = json_array();
	for (size_t i = 0; i < state->nlinks; i++)
		json_array_append_new(a, link_json(&state->links[i], plan));
	*res = json_pack("{so}", "interfaces", a);
	st = CTL_OK;
out:
	diag_list_free(&dl);
	net_plan_free(state);
	return st;
}

/* The counter of a rule's expressions (libnftables' JSON), NULL when it
 * has none. */
static json_t *rule_counter(json_t *expr)
{
	size_t i;
	json_t *x, *ctr;

	json_array_foreach(expr, i, x)
		if (json_is_object(ctr = json_object_get(x, "counter")) &&
		    json_object_get(ctr, "packets"))
			return json_pack("{sOsO}", "packets", json_object_get(
					 ctr, "packets"), "bytes",
					 json_object_get(ctr, "bytes"));
	return NULL;
}

/* The chains and rules of table inet moat with their counters, read with
 * libnftables (terse: no set elements). NULL with err. */
static json_t *fw_rules(char *err, size_t errlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	json_t *all, *o, *chains, *rules, *out = NULL;
	size_t i;

	if (!nft) {
		snprintf(err, errlen, "libnftables: out of memory");
		return NULL;
	}
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON |
				 NFT_CTX_OUTPUT_HANDLE | NFT_CTX_OUTPUT_TERSE);
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (nft_run_cmd_from_buffer(nft, "list table inet " FW_TABLE) != 0) {
		snprintf(err, errlen, "nft: %.*s", (int)strcspn(
			 nft_ctx_get_error_buffer(nft), "\n"),
			 nft_ctx_get_error_buffer(nft));
		nft_ctx_free(nft);
		return NULL;
	}
	all = json_loads(nft_ctx_get_output_buffer(nft), 0, NULL);
	nft_ctx_free(nft);
	if (!json_is_array(json_object_get(all, "nftables"))) {
		snprintf(err, errlen, "nft: cannot read its JSON");
		json_decref(all);
		return NULL;
	}
	chains = json_array();
	rules = json_array();
	json_array_foreach(json_object_get(all, "nftables"), i, o) {
		json_t *ch = json_object_get(o, "chain");
		json_t *ru = json_object_get(o, "rule");

		if (ch)
			json_array_append_new(chains, json_pack(
				"{sOsOsO*sO*}", "name", json_object_get(ch,
				"name"), "handle", json_object_get(ch,
				"handle"), "hook", json_object_get(ch, "hook"),
				"policy", json_object_get(ch, "policy")));
		if (ru)
			json_array_append_new(rules, json_pack(
				"{sOsOsO*so?}", "chain", json_object_get(ru,
				"chain"), "handle", json_object_get(ru,
				"handle"), "comment", json_object_get(ru,
				"comment"), "counter", rule_counter(
				json_object_get(ru, "expr"))));
	}
	out = json_pack("{soso}", "chains", chains, "rules", rules);
	json_decref(all);
	return out;
}

/* Table inet moat as the kernel has it against the running plan, the
 * last apply, and each rule with its counter (rules with `counter =
 * true` count packets and bytes). */
static int m_fw_status(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	const struct fw_plan *plan = c->cur->plans[COMP_FW];
	struct fw_kernel k = { 0 };
	struct fw_state fs = { 0 };
	struct fw_nl nl = { 0 };
	char err[512];
	json_t *rules = NULL;
	int e, st = no_params(p, res);

	if (st)
		return st;
	e = fw_nl_open(&nl);
	if (!e)
		e = fw_nl_inspect(&nl, &k);
	fw_nl_close(&nl);
	if (e < 0) {
		*res = ctl_err("cannot read the kernel's nftables: %s",
			       strerror(-e));
		return CTL_FAILED;
	}
	if (k.present && !(rules = fw_rules(err, sizeof(err)))) {
		*res = ctl_err("%s", err);
		return CTL_FAILED;
	}
	*res = json_pack("{sbsbs{sIsIsIsI}ss*sssb}", "present", k.present,
		"ours", k.ours, "table", "chains", (json_int_t)k.nchains,
		"hooked", (json_int_t)k.nbase, "rules", (json_int_t)k.nrules,
		"sets", (json_int_t)k.nsets, "installed_hash", k.ours ?
		k.hash : NULL, "running_hash", plan->hash, "in_sync",
		k.ours && !strcmp(k.hash, plan->hash));
	if (fw_state_load(c->state_dir, &fs) == 0) {
		json_object_set_new(*res, "last_apply", json_integer(
				    fs.applied_at));
		if (fs.failed_at)
			json_object_set_new(*res, "last_error", json_pack(
				"{sIss}", "at", (json_int_t)fs.failed_at,
				"message", fs.error));
	}
	json_object_set_new(*res, "chains", json_incref(json_object_get(
			    rules, "chains")) ?: json_array());
	json_object_set_new(*res, "rules", json_incref(json_object_get(
			    rules, "rules")) ?: json_array());
	json_decref(rules);
	return CTL_OK;
}

const struct ctl_method ctl_config_methods[] = {
	/* redacted: an admin's, but never a secret */
	{ "config.show", ROLE_ADMIN, M_API, m_show },
	{ "config.staged", ROLE_ADMIN, M_API, m_staged },
	{ "config.stage", ROLE_ADMIN, M_API | M_MUTATES, m_stage },
	{ "config.diff", ROLE_ADMIN, M_API, m_diff },
	{ "config.validate", ROLE_OPERATOR, M_API, m_validate },
	{ "config.apply", ROLE_ADMIN, M_API | M_MUTATES, m_apply },
	{ "config.confirm", ROLE_OPERATOR, M_API | M_MUTATES, m_confirm },
	{ "config.discard", ROLE_ADMIN, M_API | M_MUTATES, m_discard },
	{ "config.rollback", ROLE_ADMIN, M_API | M_MUTATES, m_rollback },
	{ "net.interfaces", ROLE_VIEWER, M_API, m_interfaces },
	{ "fw.status", ROLE_VIEWER, M_API, m_fw_status },
	{ NULL, 0, 0, NULL },
};
