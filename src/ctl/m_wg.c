/* ctl's WireGuard methods for the REST API (api/h_wg.c, wgrest's shapes):
 * devices and their peers as the running plan has them, with the
 * devices' own view (handshakes, counters, roaming endpoints), and
 * runtime peers added, changed and removed by ctl itself: the store, the
 * device, and the running plan, so that a reload or a rollback keeps
 * them (wg/runtime.h, shared with `moat wg peer`).
 *
 * Reading a device is I/O (wireguard-go's UAPI socket, or generic
 * netlink) and grows with its peers, so a device's view is kept for
 * LIVE_TTL_MS, then read again on libuv's thread pool while the old one
 * is served: a page of 100 peers among 1,000 costs a lookup per peer,
 * never a read of the device on the loop (but the first). Pages carry a
 * version so that api can keep them (m_peers_page).
 *
 * Devices are the config's: creating or changing one edits the running
 * config's text in place (config/edit.h) and applies it as a staged
 * config is applied (ctl_apply), so that the file, the revisions and a
 * reload all agree with what runs.
 *
 * Nothing here logs or audits a key but public ones; the preshared key
 * goes only to operators and admins, and a private key the server makes
 * is answered once and never kept. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/util.h"
#include "config/addr.h"
#include "config/config.h"
#include "config/edit.h"
#include "ctl/ctl.h"
#include "ctl/method.h"
#include "store/store.h"
#include "wg/apply.h"
#include "wg/key.h"
#include "wg/rest.h"
#include "wg/runtime.h"

/* How long a device's view is served before it is read again. */
#define LIVE_TTL_MS 1000

/* One device as last read, its peers sorted by key for lookups. */
struct wg_live {
	char name[16];
	bool up;			/* read: it exists */
	bool read;			/* it was read once */
	bool stale;			/* its peers changed since */
	bool reading;			/* a read is on the thread pool */
	uint64_t at_ms;			/* uv_now of the read */
	uint64_t gen;			/* which read (for page versions) */
	uint64_t epoch;			/* reads queued before a change of
					 * the device are dropped */
	struct wg_device dev;
};

struct ctl_wg {
	struct wg_live *v;
	size_t n;
};

/* A read of a device on libuv's thread pool: the loop goes on serving the
 * view before it (reading wireguard-go's 1,000 peers takes milliseconds,
 * which every request meanwhile would wait for). */
struct live_job {
	uv_work_t w;
	struct ctl *c;
	char name[16];
	uint64_t epoch;
	bool up;
	struct wg_device dev;
};

static struct ctl_wg *wg_of(struct ctl *c)
{
	if (!c->wg)
		c->wg = xcalloc(1, sizeof(*c->wg));
	return c->wg;
}

void ctl_wg_free(struct ctl *c)
{
	if (!c->wg)
		return;
	for (size_t i = 0; i < c->wg->n; i++)
		wg_device_clear(&c->wg->v[i].dev);
	free(c->wg->v);
	free(c->wg);
	c->wg = NULL;
}

static int cmp_pub(const void *a, const void *b)
{
	return memcmp(((const struct wg_peer *)a)->pub,
		      ((const struct wg_peer *)b)->pub, WG_KEY_LEN);
}

/* Reads device name into d, peers sorted by key, private key wiped (it
 * is not needed here). Any thread. */
static bool read_device(const char *name, struct wg_device *d)
{
	enum wg_backend be;
	char err[256];
	bool up = wg_read(name, d, &be, err, sizeof(err)) == 0;

	if (!up)
		wg_device_clear(d);
	sodium_memzero(d->priv, sizeof(d->priv));
	d->has_priv = false;
	if (d->npeers)
		qsort(d->peers, d->npeers, sizeof(*d->peers), cmp_pub);
	return up;
}

static struct wg_live *live_find(struct ctl *c, const char *name)
{
	struct ctl_wg *w = wg_of(c);

	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].name, name))
			return &w->v[i];
	return NULL;
}

static void live_set(struct ctl *c, struct wg_live *l, bool up,
		     struct wg_device *dev)
{
	wg_device_clear(&l->dev);
	l->dev = *dev;
	memset(dev, 0, sizeof(*dev));
	l->up = up;
	l->read = true;
	l->at_ms = uv_now(c->loop);
	l->gen++;
}

static void job_work(uv_work_t *w)
{
	struct live_job *j = w->data;

	j->up = read_device(j->name, &j->dev);
}

static void job_done(uv_work_t *w, int status)
{
	struct live_job *j = w->data;
	struct wg_live *l = j->c->wg ? live_find(j->c, j->name) : NULL;

	if (l) {
		l->reading = false;
		if (status == 0 && j->epoch == l->epoch)
			live_set(j->c, l, j->up, &j->dev);
	}
	wg_device_clear(&j->dev);
	free(j);
}

/* The device's view; NULL when it is not up (or cannot be read: the
 * plan's data is shown alone). The first time it is read at once; after
 * that, a view older than LIVE_TTL_MS (or before a change of its peers)
 * is served while a fresh one is read on the thread pool. *stamp (may be
 * NULL) says which read it is. */
static const struct wg_device *live_at(struct ctl *c, const char *name,
				       uint64_t *stamp)
{
	struct ctl_wg *w = wg_of(c);
	struct wg_live *l = live_find(c, name);
	uint64_t now = uv_now(c->loop);

	if (!l) {
		w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
		l = &w->v[w->n++];
		memset(l, 0, sizeof(*l));
		snprintf(l->name, sizeof(l->name), "%s", name);
	}
	if (!l->read) {
		struct wg_device d = { 0 };
		bool up = read_device(name, &d);

		live_set(c, l, up, &d);
	} else if (!l->reading && (l->stale || now - l->at_ms >=
				   LIVE_TTL_MS)) {
		struct live_job *j = xcalloc(1, sizeof(*j));

		j->w.data = j;
		j->c = c;
		j->epoch = l->epoch;
		snprintf(j->name, sizeof(j->name), "%s", name);
		l->stale = false;
		l->reading = uv_queue_work(c->loop, &j->w, job_work,
					   job_done) == 0;
		if (!l->reading)
			free(j);
	}
	if (stamp)
		*stamp = l->gen;
	return l->up ? &l->dev : NULL;
}

static const struct wg_device *live_of(struct ctl *c, const char *name)
{
	return live_at(c, name, NULL);
}

/* After a change of its peers: read again (the plan has the change
 * already; the view brings its counters). */
static void live_drop(struct ctl *c, const char *name)
{
	struct wg_live *l = live_find(c, name);

	if (l)
		l->stale = true;
}

/* After a change of the device itself (its port, its key): the next view
 * is read at once, and a read already queued is dropped. */
static void live_forget(struct ctl *c, const char *name)
{
	struct wg_live *l = live_find(c, name);

	if (l) {
		l->epoch++;
		l->read = false;
		l->stale = false;
	}
}

static const struct wg_peer *live_peer(const struct wg_device *live,
				       const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer k;

	if (!live)
		return NULL;
	memcpy(k.pub, pub, WG_KEY_LEN);
	return bsearch(&k, live->peers, live->npeers, sizeof(k), cmp_pub);
}

/* --- the running plan -------------------------------------------------------- */

static struct wg_device *plan_device(struct ctl_gen *g, const char *name)
{
	struct wg_plan *p = g ? g->plans[COMP_WG] : NULL;

	for (size_t i = 0; p && i < p->ndevs; i++)
		if (p->devs[i].enabled && !strcmp(p->devs[i].name, name))
			return &p->devs[i];
	return NULL;
}

static void peer_copy(struct wg_peer *to, const struct wg_peer *from)
{
	*to = *from;
	to->name = from->name ? xstrdup(from->name) : NULL;
	to->endpoint_text = from->endpoint_text ?
			    xstrdup(from->endpoint_text) : NULL;
	to->allowed = NULL;
	to->nallowed = to->allowed_cap = 0;
	for (size_t i = 0; i < from->nallowed; i++)
		wg_peer_add_allowed(to, &from->allowed[i]);
}

/* Puts runtime peer p (NULL: none) in place of the runtime peer keyed
 * pub in device dev of generation g, and hashes the plan again: what
 * wg.peers.changed does by compiling again, for one peer. */
static void gen_put(struct ctl_gen *g, const char *dev,
		    const uint8_t pub[WG_KEY_LEN], const struct wg_peer *p)
{
	struct wg_device *d = plan_device(g, dev);
	size_t i = 0;

	if (!d)
		return;
	while (i < d->npeers && memcmp(d->peers[i].pub, pub, WG_KEY_LEN))
		i++;
	if (i < d->npeers && !d->peers[i].from_store)
		return;		/* that generation's config has the key */
	if (i < d->npeers) {
		wg_peer_clear(&d->peers[i]);
		if (p) {
			peer_copy(&d->peers[i], p);
		} else {
			memmove(&d->peers[i], &d->peers[i + 1],
				(d->npeers - i - 1) * sizeof(*d->peers));
			d->npeers--;
		}
	} else if (p) {
		peer_copy(wg_device_add_peer(d), p);
	}
	components[COMP_WG]->hash(g->plans[COMP_WG], g->phash[COMP_WG]);
}

/* In the running generation and in the one a pending confirmation would
 * go back to: both compile the store's peers. */
static void plans_put(struct ctl *c, const char *dev,
		      const uint8_t pub[WG_KEY_LEN], const struct wg_peer *p)
{
	gen_put(c->cur, dev, pub, p);
	gen_put(c->prev, dev, pub, p);
	live_drop(c, dev);
}

/* --- helpers ----------------------------------------------------------------- */

/* An error with wgrest's code string (it replaces api's) and the field. */
static int fail(json_t **res, int status, const char *code,
		const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(json_t **res, int status, const char *code,
		const char *detail, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*res = json_pack("{ssss}", "error", msg, "code", code);
	if (detail)
		json_object_set_new(*res, "detail", json_string(detail));
	return status;
}

/* The device named in params, or NULL with *st and *res (404). */
static struct wg_device *device_param(struct ctl_req *r, json_t *params,
				      int *st, json_t **res)
{
	const char *name = json_string_value(json_object_get(params,
							     "device"));
	struct wg_device *d;

	if (!name) {
		*st = fail(res, CTL_PARAMS, "invalid_request", "device",
			   "params: {\"device\": name, ...}");
		return NULL;
	}
	d = plan_device(r->c->cur, name);
	if (!d)
		*st = fail(res, CTL_NOTFOUND, "device_not_found", NULL,
			   "no WireGuard device \"%.32s\" in the running "
			   "config", name);
	return d;
}

/* The peer of d keyed as params' "key" (URL-safe base64, as in the
 * path), or NULL with *st and *res (400, 404). */
static struct wg_peer *peer_param(struct wg_device *d, json_t *params,
				  int *st, json_t **res)
{
	const char *k = json_string_value(json_object_get(params, "key"));
	uint8_t pub[WG_KEY_LEN];

	if (!k || !wg_rest_key_parse(k, pub)) {
		*st = fail(res, CTL_PARAMS, "invalid_request",
			   "url_safe_public_key", "the peer in the path is not "
			   "a public key in URL-safe base64 (44 characters, "
			   "as url_safe_public_key)");
		return NULL;
	}
	for (size_t i = 0; i < d->npeers; i++)
		if (!memcmp(d->peers[i].pub, pub, WG_KEY_LEN))
			return &d->peers[i];
	*st = fail(res, CTL_NOTFOUND, "peer_not_found", NULL, "%s has no peer "
		   "with that public key", d->name);
	return NULL;
}

/* A config peer cannot change through the API (409). */
static int config_peer(const struct wg_device *d, const struct wg_peer *p,
		       json_t **res)
{
	return fail(res, CTL_CONFLICT, "peer_in_config", NULL, "peer \"%s\" "
		    "of %s is declared in the config (%s:%d): change it there "
		    "(PUT /api/config/staged, then POST /api/config/apply)",
		    p->name, d->name, p->pos.file ? p->pos.file : "?",
		    p->pos.line);
}

static bool sees_psk(const struct ctl_req *r)
{
	return r->who.role >= ROLE_OPERATOR;
}

static void audit_peer(struct ctl_req *r, const char *action,
		       const struct wg_device *d, const struct wg_peer *p,
		       const char *result)
{
	char key[WG_KEY_B64], detail[200];

	wg_key_to_b64(p->pub, key);
	snprintf(detail, sizeof(detail), "%.16s peer %.64s (%s)", d->name,
		 p->name ? p->name : "", key);
	ctl_audit(r->c, &r->who, action, detail, result);
}

static void peer_event(struct ctl *c, const char *name,
		       const struct wg_device *d, const struct wg_peer *p)
{
	char key[WG_KEY_B64];

	wg_key_to_b64(p->pub, key);
	ctl_event(c, name, json_pack("{ssssss}", "device", d->name,
		  "public_key", key, "name", p->name ? p->name : ""));
}

/* While a config change awaits confirmation, runtime peers and devices
 * are not changed: the peer checks run against the running config only,
 * and the rollback would bring back a config that may declare the same
 * peer or address, or lacks the device (409). */
static int awaiting_confirm(struct ctl_req *r, json_t **res)
{
	if (!r->c->prev)
		return CTL_OK;
	return fail(res, CTL_CONFLICT, "awaiting_confirm", NULL,
		    "a config change awaits confirmation: confirm it (POST "
		    "/api/config/confirm) or let it roll back first");
}

/* --- devices ------------------------------------------------------------------ */

static json_t *strs(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* wgrest's Device, with the running config's addresses as networks. */
static json_t *device_json(struct ctl *c, const struct wg_device *d)
{
	const struct wg_device *live = live_of(c, d->name);
	uint64_t rx = 0, tx = 0;
	uint8_t pub[WG_KEY_LEN];
	char key[WG_KEY_B64] = "";
	json_t *o;

	for (size_t i = 0; live && i < live->npeers; i++) {
		rx += live->peers[i].rx_bytes;
		tx += live->peers[i].tx_bytes;
	}
	if (d->has_priv && wg_pubkey(d->priv, pub))
		wg_key_to_b64(pub, key);
	else if (live && live->has_pub)
		wg_key_to_b64(live->pub, key);
	o = json_pack("{sssisssIsosIsIsIsIsbso}", "name", d->name,
		      "listen_port", live && live->port ? live->port : d->port,
		      "public_key", key, "firewall_mark", (json_int_t)d->fwmark,
		      "networks", strs(d->addresses, d->naddresses),
		      "peers_count", (json_int_t)d->npeers,
		      "total_receive_bytes",
		      (json_int_t)rx, "total_transmit_bytes", (json_int_t)tx,
		      "mtu", (json_int_t)d->mtu, "running", live != NULL,
		      "dns", strs(d->dns, d->ndns));
	if (o)
		json_object_set(o, "addresses", json_object_get(o,
				"networks"));
	return o;
}

static int m_devices(struct ctl_req *r, json_t *p, json_t **res)
{
	const struct wg_plan *w = r->c->cur->plans[COMP_WG];
	json_t *a = json_array();

	(void)p;
	for (size_t i = 0; i < w->ndevs; i++)
		if (w->devs[i].enabled)
			json_array_append_new(a, device_json(r->c,
							     &w->devs[i]));
	*res = json_pack("{so}", "devices", a);
	return CTL_OK;
}

static int m_device(struct ctl_req *r, json_t *p, json_t **res)
{
	int st;
	struct wg_device *d = device_param(r, p, &st, res);

	if (!d)
		return st;
	*res = device_json(r->c, d);
	return CTL_OK;
}

/* --- devices changed through the config ------------------------------------- */

/* A device request (wgrest's DeviceCreateOrUpdateRequest) as the
 * attributes of its wireguard block: each one given, checked, as an HCL
 * literal. The literals may hold the private key: wiping buffers. */
enum dev_attr {
	DA_INTERFACE, DA_PORT, DA_KEY, DA_MARK, DA_ADDRESS, DA_DNS, DA_MTU,
	DA_TABLE, NDA,
};

static const char *const dev_attr_names[NDA] = {
	[DA_INTERFACE] = "interface", [DA_PORT] = "listen_port",
	[DA_KEY] = "private_key", [DA_MARK] = "fwmark",
	[DA_ADDRESS] = "address", [DA_DNS] = "dns", [DA_MTU] = "mtu",
	[DA_TABLE] = "table",
};

struct dev_req {
	const char *name;		/* "name", NULL when absent */
	struct buf lit[NDA];		/* len 0: not given */
	struct buf fields;		/* the body's field names, for the audit */
};

static void dev_req_clear(struct dev_req *q)
{
	for (size_t i = 0; i < NDA; i++)
		buf_free(&q->lit[i]);
	buf_free(&q->fields);
}

static int bad(json_t **res, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(json_t **res, const char *field, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(res, CTL_PARAMS, "invalid_request", field, "%s", msg);
}

/* A string without NUL, or NULL. */
static const char *str_of(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* An integer in [min, max] as a literal into out; false when it is not. */
static bool int_lit(const json_t *v, json_int_t min, json_int_t max,
		    struct buf *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return false;
	cfg_lit_int(out, json_integer_value(v));
	return true;
}

/* An array of at most 64 addresses (with /LEN when flags say so) as a
 * literal into out; 0, or 400 in *res. */
static int addrs_lit(const json_t *v, const char *field, unsigned flags,
		     struct buf *out, json_t **res)
{
	const char *items[64], *why = "not a string";
	struct cfg_prefix pfx;
	size_t i, n = json_array_size(v);

	if (!json_is_array(v) || n > 64)
		return bad(res, field, "%s: an array of at most 64 %s", field,
			   flags ? "prefixes" : "addresses");
	for (i = 0; i < n; i++) {
		items[i] = str_of(json_array_get(v, i));
		if (!items[i] || !addr_parse(items[i], flags, &pfx, &why))
			return bad(res, field, "%s[%zu]: %s", field, i, why);
	}
	cfg_lit_strs(out, items, n);
	return CTL_OK;
}

/* wgrest's hooks (wg-quick's PreUp and so on): moat runs none. */
static bool is_hook(const char *k)
{
	return !strcmp(k, "pre_up") || !strcmp(k, "post_up") ||
	       !strcmp(k, "pre_down") || !strcmp(k, "post_down");
}

/* "off", "auto", or a routing table's number (1 to 2^32 - 1). */
static bool table_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (!strcmp(s, "off") || !strcmp(s, "auto"))
		return true;
	return n && n <= 10 && !s[n] && s[0] != '0' &&
	       strtoull(s, NULL, 10) <= 4294967295ULL;
}

/* One field of the body into q; 0, or 400 in *res. */
static int dev_field(struct dev_req *q, const char *k, const json_t *v,
		     json_t **res)
{
	const char *s = str_of(v), *why = "not a string";

	if (!strcmp(k, "name")) {
		if (!s || !ifname_valid(s, false, &why))
			return bad(res, "name", "name: %s", why);
		q->name = s;
		cfg_lit_str(&q->lit[DA_INTERFACE], s, strlen(s));
	} else if (!strcmp(k, "listen_port")) {
		if (!int_lit(v, 1, 65535, &q->lit[DA_PORT]))
			return bad(res, k, "listen_port: 1 to 65535");
	} else if (!strcmp(k, "firewall_mark")) {
		if (!int_lit(v, 0, 4294967295LL, &q->lit[DA_MARK]))
			return bad(res, k, "firewall_mark: 0 to 4294967295");
	} else if (!strcmp(k, "mtu")) {
		if (!int_lit(v, 1280, 65535, &q->lit[DA_MTU]))
			return bad(res, k, "mtu: 1280 to 65535");
	} else if (!strcmp(k, "private_key")) {
		/* never quoted back: it is a secret */
		if (!s || !wg_key_valid(s))
			return bad(res, k, "private_key: not a WireGuard key "
				   "(44 characters of base64)");
		cfg_lit_str(&q->lit[DA_KEY], s, strlen(s));
	} else if (!strcmp(k, "networks") || !strcmp(k, "addresses")) {
		struct buf lit = BUF_INIT;
		int st = addrs_lit(v, k, ADDR_NEED_PREFIX, &lit, res);

		/* the same list twice (the Device answers both) is fine */
		if (!st && q->lit[DA_ADDRESS].len &&
		    strcmp(lit.p, q->lit[DA_ADDRESS].p))
			st = bad(res, k, "networks and addresses differ: give "
				 "one of them");
		/* an empty list leaves them, as for a peer's allowed_ips */
		if (!st && json_array_size(v) && !q->lit[DA_ADDRESS].len)
			buf_adds(&q->lit[DA_ADDRESS], lit.p);
		buf_free(&lit);
		return st;
	} else if (!strcmp(k, "dns")) {
		return addrs_lit(v, k, 0, &q->lit[DA_DNS], res);
	} else if (!strcmp(k, "table")) {
		if (!s || !table_ok(s))
			return bad(res, k, "table: \"off\", \"auto\" or a "
				   "table number");
		cfg_lit_str(&q->lit[DA_TABLE], s, strlen(s));
	} else if (is_hook(k)) {
		if (!json_is_array(v) || json_array_size(v))
			return bad(res, k, "%s: moat runs no hook commands "
				   "(leave it out or empty)", k);
	} else {
		return bad(res, NULL, "unknown field \"%.32s\"", k);
	}
	return CTL_OK;
}

/* The body as q; 0, or 400 in *res. Nothing is quoted back from it but
 * its field names and what was wrong. */
static int dev_req_parse(const json_t *body, struct dev_req *q, json_t **res)
{
	const char *k;
	json_t *v;
	int st;

	if (!json_is_object(body))
		return bad(res, "body", "the body is not a JSON object");
	json_object_foreach((json_t *)body, k, v) {
		if ((st = dev_field(q, k, v, res)) != CTL_OK)
			return st;
		buf_printf(&q->fields, "%s%.32s", q->fields.len ? ", " : "", k);
	}
	return CTL_OK;
}

static bool wg_enabled(const struct cfg_wireguard *w)
{
	return !(w->enabled.set && !w->enabled.v);
}

/* The config's block of device name (by its interface, or its label when
 * it has none), enabled, or with any also disabled ones and those whose
 * label is name. */
static const struct cfg_wireguard *config_device(const struct ctl_gen *g,
						 const char *name, bool any)
{
	CFG_EACH(const struct cfg_vpn, vpn, g->cfg->vpn)
		CFG_EACH(const struct cfg_wireguard, w, vpn->wireguard) {
			const char *ifn = w->interface.v ? w->interface.v :
					  w->o.name;

			if (!strcmp(ifn, name) && (any || wg_enabled(w)))
				return w;
			if (any && !strcmp(w->o.name, name))
				return w;
		}
	return NULL;
}

/* The running text with a new device's block in vpn (made when there is
 * none) into out; 0, or -1 with err. */
static int text_with_device(const struct ctl_gen *g, const struct dev_req *q,
			    struct buf *out, char *err, size_t errlen)
{
	static const struct cfg_step vpn = { "vpn", NULL, 0 };
	struct buf blk = BUF_SECRET_INIT;
	int r;

	buf_adds(&blk, "wireguard ");
	cfg_lit_str(&blk, q->name, strlen(q->name));
	buf_adds(&blk, " {\n");
	for (size_t i = 0; i < NDA; i++)
		if (q->lit[i].len)
			buf_printf(&blk, "  %s = %s\n", dev_attr_names[i],
				   q->lit[i].p);
	buf_adds(&blk, "}\n");
	r = cfg_edit_add(out, g->text, g->len, &vpn, 1, blk.p, err, errlen);
	buf_free(&blk);
	return r;
}

/* The running text with what q gives set in w's block into out; 0, or -1
 * with err. */
static int text_changed(const struct ctl_gen *g,
			const struct cfg_wireguard *w, const struct dev_req *q,
			struct buf *out, char *err, size_t errlen)
{
	const char *const label[] = { w->o.name };
	const struct cfg_step path[] = { { "vpn", NULL, 0 },
					 { "wireguard", label, 1 } };
	struct buf cur = BUF_SECRET_INIT;
	int r = 0;

	buf_add(&cur, g->text, g->len);
	/* the interface is the device's name: it does not change */
	for (size_t i = DA_INTERFACE + 1; i < NDA && !r; i++) {
		if (!q->lit[i].len)
			continue;
		buf_reset(out);
		r = cfg_edit_set(out, cur.p, cur.len, path, 2,
				 dev_attr_names[i], q->lit[i].p, err, errlen);
		if (!r) {
			buf_reset(&cur);
			buf_add(&cur, out->p, out->len);
		}
	}
	buf_reset(out);
	if (!r)
		buf_add(out, cur.p, cur.len);
	buf_free(&cur);
	return r;
}

/* ctl_apply refused the text: 422 with its diagnostics. */
static int not_applied(json_t **res)
{
	const char *first = NULL;
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(*res, "diagnostics"), i, d) {
		const char *sev = json_string_value(json_object_get(d,
						    "severity"));

		if (sev && !strcmp(sev, "error")) {
			first = json_string_value(json_object_get(d,
						  "message"));
			break;
		}
	}
	/* an error, not an apply's answer (server.c answers one with
	 * "components" as a result): the diagnostics say what went wrong */
	json_object_del(*res, "components");
	json_object_del(*res, "ok");
	json_object_set_new(*res, "error", json_string(first ? first :
			    "the config did not apply"));
	json_object_set_new(*res, "code", json_string("invalid_config"));
	return CTL_INVALID;
}

/* Applies text as the running config, as `POST /api/config/apply` does
 * (validated, only what changed applied, written to the config file,
 * a revision recorded and audited, rolled back on failure), and answers
 * device name as it now runs. */
static int apply_device(struct ctl_req *r, const char *action,
			const char *name, const struct dev_req *q,
			const struct buf *text, json_t **res)
{
	struct ctl *c = r->c;
	struct wg_device *d;
	char detail[200];
	int st;

	snprintf(detail, sizeof(detail), "%.16s: %.150s", name,
		 q->fields.len ? q->fields.p : "");
	if (ctl_apply(c, c->config_path, text->p, 0, &r->who, res) < 0) {
		st = not_applied(res);
		ctl_audit(c, &r->who, action, detail, json_string_value(
			  json_object_get(*res, "error")));
		return st;
	}
	snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
		 " (revision %lld)", c->cur->revision);
	ctl_audit(c, &r->who, action, detail, "ok");
	json_decref(*res);
	live_forget(c, name);
	if (!(d = plan_device(c->cur, name)))
		return fail(res, CTL_FAILED, "internal_error", NULL, "%s is "
			    "not in the applied config", name);
	*res = device_json(c, d);
	return CTL_OK;
}

/* POST /v1/devices/: a wireguard block added to the config (in vpn,
 * labelled and with interface = the name), applied. */
static int device_add(struct ctl_req *r, struct dev_req *q, json_t **res)
{
	struct buf text = BUF_SECRET_INIT;
	char err[512];
	int st;

	if (!q->name)
		return bad(res, "name", "name: the device's interface name is "
			   "required");
	if (config_device(r->c->cur, q->name, true))
		return fail(res, CTL_CONFLICT, "device_exists", "name", "the "
			    "config has a WireGuard device \"%s\" already",
			    q->name);
	if (text_with_device(r->c->cur, q, &text, err, sizeof(err)) < 0)
		st = fail(res, CTL_CONFLICT, "device_in_config", NULL, "the "
			  "running config cannot take a new device: %s", err);
	else
		st = apply_device(r, "wg.device.add", q->name, q, &text, res);
	buf_free(&text);
	return st;
}

/* PATCH /v1/devices/NAME/: what the body gives set in the device's
 * block, applied; nothing to change answers the device. */
static int device_update(struct ctl_req *r, const char *name,
			 struct dev_req *q, json_t **res)
{
	const struct cfg_wireguard *w = config_device(r->c->cur, name, false);
	struct buf text = BUF_SECRET_INIT;
	char err[512];
	int st;

	if (q->name && strcmp(q->name, name))
		return bad(res, "name", "a device's name cannot change");
	if (!w)
		return fail(res, CTL_CONFLICT, "device_in_config", NULL, "%s "
			    "has no wireguard block in the running config",
			    name);
	if (q->lit[DA_KEY].len && w->private_key_file.v)
		return fail(res, CTL_CONFLICT, "device_in_config",
			    "private_key", "%s's key is read from "
			    "private_key_file: change that file, or the "
			    "config (PUT /api/config/staged)", name);
	if (text_changed(r->c->cur, w, q, &text, err, sizeof(err)) < 0) {
		st = fail(res, CTL_CONFLICT, "device_in_config", NULL, "the "
			  "block of %s cannot be changed in the config text "
			  "(%s): change it with PUT /api/config/staged", name,
			  err);
	} else if (text.len == r->c->cur->len &&
		   !memcmp(text.p, r->c->cur->text, text.len)) {
		*res = device_json(r->c, plan_device(r->c->cur, name));
		st = CTL_OK;
	} else {
		st = apply_device(r, "wg.device.update", name, q, &text, res);
	}
	buf_free(&text);
	return st;
}

/* {"device": NAME (PATCH), "create": bool, "body": {...}}: POST
 * /v1/devices/ and PATCH /v1/devices/NAME/ as changes of the config (a
 * device made beside it would vanish at the next reload). The private
 * key in the body is wiped once it is in the literal. */
static int m_device_set(struct ctl_req *r, json_t *p, json_t **res)
{
	const char *name = json_string_value(json_object_get(p, "device"));
	json_t *body = json_object_get(p, "body");
	json_t *key = json_object_get(body, "private_key");
	bool create = json_is_true(json_object_get(p, "create"));
	struct dev_req q = { .name = NULL };
	int st;

	for (size_t i = 0; i < NDA; i++)
		q.lit[i].secret = true;
	if (!json_is_object(body) || (!create && !name)) {
		st = fail(res, CTL_PARAMS, "invalid_request", "body",
			  "params: {\"device\", \"create\", \"body\"}");
		goto out;
	}
	if (!create && !plan_device(r->c->cur, name)) {
		st = fail(res, CTL_NOTFOUND, "device_not_found", NULL, "no "
			  "WireGuard device \"%.32s\" in the running config",
			  name);
		goto out;
	}
	if ((st = dev_req_parse(body, &q, res)) != CTL_OK)
		goto out;
	if (!create && !json_object_size(body)) {
		*res = device_json(r->c, plan_device(r->c->cur, name));
		goto out;
	}
	if ((st = awaiting_confirm(r, res)) != CTL_OK)
		goto out;
	st = create ? device_add(r, &q, res) : device_update(r, name, &q, res);
out:
	if (json_is_string(key))
		sodium_memzero((char *)json_string_value(key),
			       json_string_length(key));
	dev_req_clear(&q);
	return st;
}

/* --- peers ------------------------------------------------------------------- */

/* A page asked for: its device and query. */
struct page_ask {
	struct wg_device *d;
	const char *q, *sort;
	enum wg_rest_sort key;
	bool desc, psk;
	size_t page, per_page;
};

/* The page's peers as a JSON array's text into b; the count of peers q
 * matches into *total. Without q and sort, only the page's peers are
 * looked at. */
static void render_page(const struct page_ask *a,
			const struct wg_device *live, struct buf *b,
			size_t *total)
{
	const struct wg_device *d = a->d;
	bool all = *a->q || a->key != WG_SORT_NONE;
	struct wg_rest_row *rows = xcalloc((all ? d->npeers : a->per_page) + 1,
					   sizeof(*rows));
	size_t start, end, n = 0;

	if (!all) {
		*total = d->npeers;
		wg_rest_page(*total, a->page, a->per_page, &start, &end);
		for (size_t i = start; i < end; i++)
			rows[n++].plan = &d->peers[i];
		for (size_t i = 0; i < n; i++)
			rows[i].live = live_peer(live, rows[i].plan->pub);
	} else {
		for (size_t i = 0; i < d->npeers; i++) {
			rows[i].plan = &d->peers[i];
			rows[i].live = live_peer(live, d->peers[i].pub);
		}
		*total = wg_rest_select(rows, d->npeers, a->q, a->key, a->desc);
		wg_rest_page(*total, a->page, a->per_page, &start, &end);
		memmove(rows, rows + start, (end - start) * sizeof(*rows));
		n = end - start;
	}
	buf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(b, ',');
		wg_rest_peer_text(b, rows[i].plan, rows[i].live, a->psk, NULL);
	}
	buf_addc(b, ']');
	free(rows);
}

/* What a page's text depends on, as a short token: the plan's hash (every
 * peer change changes it), which read of the device, the query, and
 * whether preshared keys are shown. api keeps the text of a page with its
 * token and sends the token back ("have"): an unchanged page is not sent
 * again, since parsing a page's JSON in api costs more than anything else
 * of the request. */
static void page_version(struct ctl *c, const struct page_ask *a,
			 uint64_t stamp, char out[33])
{
	unsigned char h[16];
	crypto_generichash_state hs;
	char num[64];

	crypto_generichash_init(&hs, NULL, 0, sizeof(h));
	crypto_generichash_update(&hs, (const unsigned char *)a->d->name,
				  strlen(a->d->name) + 1);
	crypto_generichash_update(&hs, (const unsigned char *)
				  c->cur->phash[COMP_WG], 64);
	snprintf(num, sizeof(num), "%llu %zu %zu %d", (unsigned long long)
		 stamp, a->page, a->per_page, a->psk);
	crypto_generichash_update(&hs, (const unsigned char *)num,
				  strlen(num) + 1);
	crypto_generichash_update(&hs, (const unsigned char *)a->q,
				  strlen(a->q) + 1);
	crypto_generichash_update(&hs, (const unsigned char *)a->sort,
				  strlen(a->sort) + 1);
	crypto_generichash_final(&hs, h, sizeof(h));
	sodium_bin2hex(out, 33, h, sizeof(h));
}

/* {"version", "total", "peers": "[...]"}, or {"version", "unchanged":
 * true} when the caller has that version: the page of the peers q
 * matches, sorted, as JSON text that api answers as it is. */
static int m_peers_page(struct ctl_req *r, json_t *p, json_t **res)
{
	json_int_t page = 0, per_page = WG_REST_PER_PAGE;
	const char *dev = NULL, *have = NULL;
	struct page_ask a = { .q = "", .sort = "", .psk = sees_psk(r) };
	const struct wg_device *live;
	struct buf b = BUF_INIT;
	char ver[33];
	uint64_t stamp = 0;
	size_t total;
	int st;

	if (json_unpack(p, "{s:s,s?I,s?I,s?s,s?s,s?s!}", "device", &dev,
			"page", &page, "per_page", &per_page, "q", &a.q,
			"sort", &a.sort, "have", &have) < 0 || page < 0 ||
	    per_page < 1 || per_page > WG_REST_PER_PAGE_MAX ||
	    strlen(a.q) > WG_REST_Q_MAX)
		return fail(res, CTL_PARAMS, "invalid_request", NULL,
			    "params: {\"device\", \"page\": 0.., \"per_page\": "
			    "1..%d, \"q\": at most %d bytes, \"sort\", "
			    "\"have\"}", WG_REST_PER_PAGE_MAX, WG_REST_Q_MAX);
	if (!wg_rest_sort_parse(a.sort, &a.key, &a.desc))
		return fail(res, CTL_PARAMS, "invalid_request", "sort",
			    "sort: one of pub_key, receive_bytes, "
			    "transmit_bytes, total_bytes, last_handshake_time, "
			    "each with \"-\" first for descending");
	if (!(a.d = device_param(r, p, &st, res)))
		return st;
	a.page = (size_t)page;
	a.per_page = (size_t)per_page;
	live = live_at(r->c, a.d->name, &stamp);
	page_version(r->c, &a, stamp, ver);
	if (have && !strcmp(have, ver)) {
		*res = json_pack("{sssb}", "version", ver, "unchanged", 1);
		return CTL_OK;
	}
	b.secret = a.psk;
	render_page(&a, live, &b, &total);
	*res = json_pack("{sssIss#}", "version", ver, "total",
			 (json_int_t)total, "peers", b.p, b.len);
	buf_free(&b);
	return CTL_OK;
}

static int m_peer_get(struct ctl_req *r, json_t *p, json_t **res)
{
	struct wg_device *d;
	struct wg_peer *q;
	int st;

	if (!(d = device_param(r, p, &st, res)) ||
	    !(q = peer_param(d, p, &st, res)))
		return st;
	*res = wg_rest_peer_json(q, live_peer(live_of(r->c, d->name), q->pub),
				 sees_psk(r), NULL);
	return CTL_OK;
}

/* The new peer of request rq: its key (made here when the request has
 * none: *made holds the private key), name, addresses. */
static int new_peer(const struct wg_device *d, struct wg_rest_req *rq,
		    struct wg_peer *np, uint8_t made[WG_KEY_LEN], bool *gen,
		    json_t **res)
{
	char url[WG_KEY_B64];

	*gen = !rq->has_pub;
	if (*gen) {
		wg_genkey(made);
		if (!wg_pubkey(made, np->pub))
			return fail(res, CTL_FAILED, "internal_error", NULL,
				    "cannot make a key pair");
	} else {
		memcpy(np->pub, rq->pub, WG_KEY_LEN);
	}
	wg_key_to_urlsafe(np->pub, url);
	np->name = *rq->name ? xstrdup(rq->name) :
		   xasprintf("peer-%.10s", url);
	np->from_store = true;
	np->has_psk = rq->has_psk && !wg_key_is_zero(rq->psk);
	memcpy(np->psk, rq->psk, WG_KEY_LEN);
	np->keepalive = (uint16_t)rq->keepalive;
	if (rq->endpoint.family) {
		np->endpoint = rq->endpoint;
		np->endpoint_text = xstrdup(rq->endpoint_text);
	}
	if (rq->has_allowed) {
		for (size_t i = 0; i < rq->allowed.nallowed; i++)
			wg_peer_add_allowed(np, &rq->allowed.allowed[i]);
	} else {
		struct wg_allowed v4, v6;
		bool h4 = wg_rt_first_free(d, AF_INET, &v4);
		bool h6 = wg_rt_first_free(d, AF_INET6, &v6);

		if (!h4 && !h6)
			return fail(res, CTL_CONFLICT, "no_free_address",
				    "allowed_ips", "%s has no free address in "
				    "its subnets: give allowed_ips", d->name);
		if (h4)
			wg_peer_add_allowed(np, &v4);
		if (h6)
			wg_peer_add_allowed(np, &v6);
	}
	return CTL_OK;
}

/* A clash with another peer of d: the key, the name, or an allowed IP
 * exactly (WireGuard would move it over silently). */
static int clashes(const struct wg_device *d, const struct wg_peer *np,
		   bool check_key, json_t **res)
{
	const struct wg_peer *o;
	struct wg_allowed which;
	const char *what;
	char ip[64];

	if (check_key && (o = wg_rt_clash(d, np, &what)))
		return fail(res, CTL_CONFLICT, "peer_exists", strcmp(what,
			    "name") ? "public_key" : "name", "%s has a peer "
			    "with that %s already (\"%s\", %s)", d->name, what,
			    o->name, o->from_store ? "runtime" : "config");
	if ((o = wg_rt_allowed_taken(d, np, &which))) {
		wg_allowed_format(&which, ip, sizeof(ip));
		return fail(res, CTL_CONFLICT, "allowed_ip_taken",
			    "allowed_ips", "%s is peer \"%s\"'s already", ip,
			    o->name);
	}
	return CTL_OK;
}

static int m_peer_add(struct ctl_req *r, json_t *p, json_t **res)
{
	struct wg_rest_req rq;
	struct wg_peer np = { 0 };
	uint8_t made[WG_KEY_LEN];
	struct wg_device *d;
	char err[512];
	bool gen = false, live;
	int st;

	if ((st = awaiting_confirm(r, res)) != CTL_OK)
		return st;
	if (!(d = device_param(r, p, &st, res)))
		return st;
	if (!wg_rest_req_parse(json_object_get(p, "body"), &rq, err,
			       sizeof(err))) {
		st = fail(res, CTL_PARAMS, "invalid_request", NULL, "%s", err);
		goto out;
	}
	if ((st = new_peer(d, &rq, &np, made, &gen, res)) != CTL_OK ||
	    (st = clashes(d, &np, true, res)) != CTL_OK)
		goto out;
	if (wg_rt_add(r->c->store, d->name, &np, &live, err,
		      sizeof(err)) < 0) {
		audit_peer(r, "wg.peer.add", d, &np, err);
		st = fail(res, CTL_FAILED, "internal_error", NULL, "%s", err);
		goto out;
	}
	audit_peer(r, "wg.peer.add", d, &np, "ok");
	plans_put(r->c, d->name, np.pub, &np);
	peer_event(r->c, "wg.peer.added", d, &np);
	/* made here: answered this once, kept nowhere */
	*res = wg_rest_peer_json(&np, NULL, true, gen ? made : NULL);
	st = CTL_OK;
out:
	sodium_memzero(made, sizeof(made));
	wg_peer_clear(&np);
	wg_rest_req_clear(&rq);
	return st;
}

/* rq applied to a copy of peer o, as wgrest's PATCH does: what the body
 * names changes, the rest stays. */
static int changed_peer(const struct wg_peer *o, const struct wg_rest_req *rq,
			struct wg_peer *np, json_t **res)
{
	if (rq->has_pub && memcmp(rq->pub, o->pub, WG_KEY_LEN))
		return fail(res, CTL_PARAMS, "invalid_request", rq->has_priv ?
			    "private_key" : "public_key", "%s is not this "
			    "peer's (a peer's key cannot change: add a new "
			    "peer)", rq->has_priv ? "private_key" :
			    "public_key");
	if (*rq->name && strcmp(rq->name, o->name))
		return fail(res, CTL_PARAMS, "invalid_request", "name",
			    "a peer's name cannot change");
	peer_copy(np, o);
	if (rq->has_psk) {
		np->has_psk = !wg_key_is_zero(rq->psk);
		memcpy(np->psk, rq->psk, WG_KEY_LEN);
	}
	if (rq->has_keepalive)
		np->keepalive = (uint16_t)rq->keepalive;
	if (rq->has_endpoint) {
		free(np->endpoint_text);
		np->endpoint_text = rq->endpoint.family ?
				    xstrdup(rq->endpoint_text) : NULL;
		np->endpoint = rq->endpoint;
	}
	/* an empty list leaves them, as wgrest does */
	if (rq->has_allowed && rq->allowed.nallowed) {
		np->nallowed = 0;
		for (size_t i = 0; i < rq->allowed.nallowed; i++)
			wg_peer_add_allowed(np, &rq->allowed.allowed[i]);
	}
	return CTL_OK;
}

static int m_peer_update(struct ctl_req *r, json_t *p, json_t **res)
{
	struct wg_rest_req rq;
	struct wg_peer np = { 0 };
	struct wg_device *d;
	struct wg_peer *o;
	char err[512];
	bool live;
	int st;

	memset(&rq, 0, sizeof(rq));
	if ((st = awaiting_confirm(r, res)) != CTL_OK)
		return st;
	if (!(d = device_param(r, p, &st, res)) ||
	    !(o = peer_param(d, p, &st, res)))
		return st;
	if (!o->from_store)
		return config_peer(d, o, res);
	if (!wg_rest_req_parse(json_object_get(p, "body"), &rq, err,
			       sizeof(err))) {
		st = fail(res, CTL_PARAMS, "invalid_request", NULL, "%s", err);
		goto out;
	}
	if ((st = changed_peer(o, &rq, &np, res)) != CTL_OK ||
	    (st = clashes(d, &np, false, res)) != CTL_OK)
		goto out;
	if (wg_rt_update(r->c->store, d->name, o, &np, &live, err,
			 sizeof(err)) < 0) {
		audit_peer(r, "wg.peer.update", d, &np, err);
		st = fail(res, CTL_FAILED, "internal_error", NULL, "%s", err);
		goto out;
	}
	audit_peer(r, "wg.peer.update", d, &np, "ok");
	plans_put(r->c, d->name, np.pub, &np);
	*res = wg_rest_peer_json(&np, live_peer(live_of(r->c, d->name),
				 np.pub), true, NULL);
	st = CTL_OK;
out:
	wg_peer_clear(&np);
	wg_rest_req_clear(&rq);
	return st;
}

static int m_peer_del(struct ctl_req *r, json_t *p, json_t **res)
{
	struct wg_device *d;
	struct wg_peer *o, gone = { 0 };
	json_t *was;
	char err[512];
	bool live;
	int st;

	if ((st = awaiting_confirm(r, res)) != CTL_OK)
		return st;
	if (!(d = device_param(r, p, &st, res)) ||
	    !(o = peer_param(d, p, &st, res)))
		return st;
	if (!o->from_store)
		return config_peer(d, o, res);
	/* answered as it was, counters included, as wgrest does */
	was = wg_rest_peer_json(o, live_peer(live_of(r->c, d->name), o->pub),
				true, NULL);
	st = wg_rt_del(r->c->store, d->name, o, &live, err, sizeof(err));
	if (st) {
		if (st > 0)
			snprintf(err, sizeof(err), "the store has no peer "
				 "\"%s\" any more", o->name);
		audit_peer(r, "wg.peer.del", d, o, err);
		json_decref(was);
		return fail(res, CTL_FAILED, "internal_error", NULL, "%s", err);
	}
	audit_peer(r, "wg.peer.del", d, o, "ok");
	peer_copy(&gone, o);
	plans_put(r->c, d->name, gone.pub, NULL);	/* o is gone now */
	peer_event(r->c, "wg.peer.removed", d, &gone);
	wg_peer_clear(&gone);
	*res = was;
	return CTL_OK;
}

/* {"text": the client's wg-quick file, "endpoint": bool}. The server
 * keeps no client's private key: the file has a commented PrivateKey
 * line for the client to fill in. */
static int m_peer_quick(struct ctl_req *r, json_t *p, json_t **res)
{
	const char *given = json_string_value(json_object_get(p, "endpoint"));
	const struct wg_device *live;
	uint8_t pub[WG_KEY_LEN];
	struct wg_device *d;
	struct wg_peer *q;
	char *endpoint, *text;
	uint16_t port;
	int st;

	if (!(d = device_param(r, p, &st, res)) ||
	    !(q = peer_param(d, p, &st, res)))
		return st;
	if (given && !wg_rest_host_ok(given))
		return fail(res, CTL_PARAMS, "invalid_request", "endpoint",
			    "endpoint: HOST, HOST:PORT or [IPV6]:PORT");
	if (!d->has_priv || !wg_pubkey(d->priv, pub))
		return fail(res, CTL_CONFLICT, "no_device_key", NULL, "%s has "
			    "no private key yet", d->name);
	live = live_of(r->c, d->name);
	port = live && live->port ? live->port : d->port;
	endpoint = wg_rt_server_endpoint(r->c->cur->cfg, given, port);
	text = wg_rt_client_conf(d, q, pub, NULL, endpoint, false);
	*res = json_pack("{sssb}", "text", text, "endpoint", endpoint != NULL);
	sodium_memzero(text, strlen(text));
	free(text);
	free(endpoint);
	audit_peer(r, "wg.peer.quick", d, q, "ok");
	return CTL_OK;
}

const struct ctl_method ctl_wg_methods[] = {
	{ "wg.devices", ROLE_VIEWER, M_API, m_devices },
	{ "wg.device", ROLE_VIEWER, M_API, m_device },
	{ "wg.device.set", ROLE_ADMIN, M_API | M_MUTATES, m_device_set },
	{ "wg.peers.page", ROLE_VIEWER, M_API, m_peers_page },
	{ "wg.peer.get", ROLE_VIEWER, M_API, m_peer_get },
	{ "wg.peer.add", ROLE_OPERATOR, M_API | M_MUTATES, m_peer_add },
	{ "wg.peer.update", ROLE_OPERATOR, M_API | M_MUTATES, m_peer_update },
	{ "wg.peer.del", ROLE_OPERATOR, M_API | M_MUTATES, m_peer_del },
	/* it holds the preshared key */
	{ "wg.peer.quick", ROLE_OPERATOR, M_API, m_peer_quick },
	{ NULL, 0, 0, NULL },
};
