/* /v1/devices/...: the WireGuard REST API of wgrest (paths, JSON shapes,
 * pagination with a Link header, errors as {code, message, detail}), so
 * that wgrest's clients work unchanged against moat. ctl decides and does
 * everything (ctl/m_wg.c); this file turns HTTP into its calls and back,
 * and draws quick.conf.png (pure: wg/qr.c).
 *
 * Bodies may hold a private or preshared key: they are wiped once sent
 * to ctl, and never logged. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/internal.h"
#include "base/buf.h"
#include "wg/qr.h"
#include "wg/rest.h"

#define PEER_BODY_MAX ((size_t)32 * 1024)
#define DEVICE_BODY_MAX ((size_t)8 * 1024)

/* wgrest's PeerCreateOrUpdateRequest, and moat's "name". */
static const struct body_field peer_schema[] = {
	{ .name = "public_key", .type = BODY_STRING, .max_len = 64 },
	{ .name = "private_key", .type = BODY_STRING, .max_len = 64 },
	{ .name = "preshared_key", .type = BODY_STRING, .max_len = 64 },
	{ .name = "allowed_ips", .type = BODY_STRING_ARRAY, .max_len = 256 },
	{ .name = "persistent_keepalive_interval", .type = BODY_STRING,
	  .max_len = 32 },
	{ .name = "endpoint", .type = BODY_STRING, .max_len = 80 },
	{ .name = "name", .type = BODY_STRING, .max_len = 64 },
	{ 0 },
};

/* wgrest's DeviceCreateOrUpdateRequest (both of its versions): ctl
 * checks each field (ctl/m_wg.c dev_field). */
static const struct body_field device_schema[] = {
	{ .name = "name", .type = BODY_STRING, .max_len = 15 },
	{ .name = "listen_port", .type = BODY_INT, .min = 0, .max = 65535 },
	{ .name = "private_key", .type = BODY_STRING, .max_len = 64 },
	{ .name = "firewall_mark", .type = BODY_INT, .min = 0,
	  .max = 4294967295LL },
	{ .name = "networks", .type = BODY_STRING_ARRAY, .max_len = 64 },
	{ .name = "addresses", .type = BODY_STRING_ARRAY, .max_len = 64 },
	{ .name = "dns", .type = BODY_STRING_ARRAY, .max_len = 16 },
	{ .name = "mtu", .type = BODY_INT, .min = 0, .max = 65535 },
	{ .name = "table", .type = BODY_STRING, .max_len = 16 },
	{ .name = "pre_up", .type = BODY_STRING_ARRAY, .max_len = 16 },
	{ .name = "post_up", .type = BODY_STRING_ARRAY, .max_len = 16 },
	{ .name = "pre_down", .type = BODY_STRING_ARRAY, .max_len = 16 },
	{ .name = "post_down", .type = BODY_STRING_ARRAY, .max_len = 16 },
	{ 0 },
};

static const char *const secret_keys[] = { "private_key", "preshared_key",
					   NULL };

/* A body that may hold keys is wiped before it is freed. */
static void wipe_decref(json_t *o)
{
	for (const char *const *k = secret_keys; *k; k++) {
		json_t *v = json_object_get(o, *k);

		if (json_is_string(v))
			sodium_memzero((char *)json_string_value(v),
				       json_string_length(v));
	}
	json_decref(o);
}

/* ctl's answer to method(params), which names the device and the peer of
 * the path. */
static json_t *call_peer(struct api_req *q, const char *method,
			 json_t *params, int timeout_ms)
{
	json_object_set_new(params, "device", json_string(api_param(q, 0)));
	if (q->m.nparams > 1)
		json_object_set_new(params, "key", json_string(api_param(q,
								     1)));
	return api_call(q, method, params, timeout_ms);
}

/* A query number, dflt when absent; false when answered (400). */
static bool query_num(struct api_req *q, const char *name, unsigned long max,
		      unsigned long dflt, unsigned long *out)
{
	const char *s = api_query(q, name);

	*out = dflt;
	if (!s || wg_rest_uint_parse(s, max, out))
		return true;
	api_reply_error(q, 400, name, "%s: a number from 0 to %lu", name, max);
	return false;
}

/* page and per_page as wgrest reads them: from 0, and 100 when absent or
 * 0. */
static bool paging(struct api_req *q, unsigned long *page,
		   unsigned long *per_page)
{
	if (!query_num(q, "page", 1000000, 0, page) ||
	    !query_num(q, "per_page", WG_REST_PER_PAGE_MAX, WG_REST_PER_PAGE,
		       per_page))
		return false;
	if (!*per_page)
		*per_page = WG_REST_PER_PAGE;
	return true;
}

static void set_link(struct api_req *q, const char *qs, const char *sort,
		     size_t page, size_t per_page, size_t total)
{
	struct buf b = BUF_INIT;

	wg_rest_link(&b, q->path, qs, sort, page, per_page, total);
	if (b.len)
		api_header(q, "Link", b.p);
	buf_free(&b);
}

/* --- devices ----------------------------------------------------------------- */

static void list_devices(struct api_req *q)
{
	unsigned long page, per_page;
	size_t start, end, total;
	json_t *r, *all, *a;

	if (!paging(q, &page, &per_page))
		return;
	r = api_call(q, "wg.devices", json_object(), API_RPC_TIMEOUT_MS);
	if (!r)
		return;
	all = json_object_get(r, "devices");
	total = json_array_size(all);
	wg_rest_page(total, page, per_page, &start, &end);
	a = json_array();
	for (size_t i = start; i < end; i++)
		json_array_append(a, json_array_get(all, i));
	set_link(q, NULL, NULL, page, per_page, total);
	json_decref(r);
	api_reply(q, 200, a);
}

static void get_device(struct api_req *q)
{
	json_t *r = call_peer(q, "wg.device", json_object(),
			      API_RPC_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

/* A device created or changed: ctl edits the config and applies it
 * (ctl/m_wg.c). The body goes to ctl whole; it may hold a private key,
 * wiped here once sent. */
static void set_device(struct api_req *q, bool create)
{
	json_t *b = api_body(q, device_schema), *p, *r;

	if (!b)
		return;
	p = json_pack("{sbsO}", "create", create, "body", b);
	if (!create)
		json_object_set_new(p, "device", json_string(api_param(q, 0)));
	r = api_call(q, "wg.device.set", p, API_SLOW_TIMEOUT_MS);
	wipe_decref(b);
	if (r)
		api_reply(q, create ? 201 : 200, r);
}

static void create_device(struct api_req *q)
{
	set_device(q, true);
}

static void patch_device(struct api_req *q)
{
	set_device(q, false);
}

/* --- peers ------------------------------------------------------------------- */

/* --- pages of peers, kept ------------------------------------------------------ */

/* The pages of peers ctl sent last, each with ctl's version of it. A
 * request for a page api has sends that version, and ctl answers
 * "unchanged" when the page would be the same (the same plan, the same
 * read of the device, the same query and role): then the text is served
 * from here and not parsed out of ctl's answer again, which is most of a
 * page's cost (jansson reads about 75 MB/s: half a millisecond for a
 * hundred peers, on api's one reader thread). ctl still checks the
 * credentials of every request. One table for the process: api serves
 * one ctl. */
#define PAGES_KEPT 16

struct kept_page {
	char *key;			/* path, page, per_page, q, sort */
	char version[33];
	char *text;			/* may hold preshared keys: wiped */
	size_t len, total;
	uint64_t used;
};

static struct {
	pthread_mutex_t lock;
	struct kept_page v[PAGES_KEPT];
	uint64_t clock;
} kept = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct kept_page *kept_find(const char *key)
{
	for (size_t i = 0; i < PAGES_KEPT; i++)
		if (kept.v[i].key && !strcmp(kept.v[i].key, key))
			return &kept.v[i];
	return NULL;
}

/* The version kept for key into ver ("" none). */
static void kept_version(const char *key, char ver[33])
{
	struct kept_page *k;

	pthread_mutex_lock(&kept.lock);
	k = kept_find(key);
	snprintf(ver, 33, "%s", k ? k->version : "");
	pthread_mutex_unlock(&kept.lock);
}

/* Answers the page kept for key at version ver; false when it is not
 * kept (any more). */
static bool kept_serve(struct api_req *q, const char *key, const char *ver,
		       size_t *total)
{
	struct kept_page *k;
	bool ok;

	pthread_mutex_lock(&kept.lock);
	k = kept_find(key);
	ok = k && !strcmp(k->version, ver);
	if (ok) {
		k->used = ++kept.clock;
		*total = k->total;
		api_reply_data(q, 200, "application/json", k->text, k->len);
	}
	pthread_mutex_unlock(&kept.lock);
	return ok;
}

static void kept_drop(struct kept_page *k)
{
	free(k->key);
	if (k->text)
		sodium_memzero(k->text, k->len);
	free(k->text);
	memset(k, 0, sizeof(*k));
}

/* Keeps text (len bytes) as key's page at version ver, in place of the
 * page kept for key or of the one used longest ago. */
static void kept_put(const char *key, const char *ver, const char *text,
		     size_t len, size_t total)
{
	struct kept_page *k;

	pthread_mutex_lock(&kept.lock);
	k = kept_find(key);
	if (!k) {
		k = &kept.v[0];
		for (size_t i = 1; i < PAGES_KEPT; i++)
			if (kept.v[i].used < k->used)
				k = &kept.v[i];
	}
	kept_drop(k);
	k->key = xstrdup(key);
	snprintf(k->version, sizeof(k->version), "%s", ver);
	k->text = xmalloc(len + 1);
	memcpy(k->text, text, len);
	k->text[len] = '\0';
	k->len = len;
	k->total = total;
	k->used = ++kept.clock;
	pthread_mutex_unlock(&kept.lock);
}

/* ctl's page for params (stolen), with the version api keeps when have:
 * its answer, or NULL when answered. */
static json_t *ask_page(struct api_req *q, json_t *params, const char *have)
{
	if (*have)
		json_object_set_new(params, "have", json_string(have));
	return call_peer(q, "wg.peers.page", params, API_RPC_TIMEOUT_MS);
}

static void list_peers(struct api_req *q)
{
	const char *qs = api_query(q, "q"), *sort = api_query(q, "sort");
	const char *text, *ver;
	unsigned long page, per_page;
	size_t total = 0;
	char have[33], *key;
	json_t *p, *r;

	if (!paging(q, &page, &per_page))
		return;
	if (qs && strlen(qs) > WG_REST_Q_MAX) {
		api_reply_error(q, 400, "q", "q: at most %d bytes",
				WG_REST_Q_MAX);
		return;
	}
	p = json_pack("{sIsI}", "page", (json_int_t)page, "per_page",
		      (json_int_t)per_page);
	/* a value that is not UTF-8 is not set: ctl answers 400 */
	if (qs && *qs && json_object_set_new(p, "q", json_string(qs)) < 0)
		json_object_set_new(p, "q", json_integer(0));
	if (sort && *sort && json_object_set_new(p, "sort",
						 json_string(sort)) < 0)
		json_object_set_new(p, "sort", json_integer(0));
	key = xasprintf("%s\n%lu\n%lu\n%zu:%s\n%s", q->path, page, per_page,
			qs ? strlen(qs) : 0, qs ? qs : "", sort ? sort : "");
	kept_version(key, have);
	r = ask_page(q, json_deep_copy(p), have);
	ver = json_string_value(json_object_get(r, "version"));
	if (r && json_is_true(json_object_get(r, "unchanged"))) {
		if (ver && kept_serve(q, key, ver, &total))
			goto link;
		/* dropped meanwhile: the whole page after all */
		json_decref(r);
		r = ask_page(q, json_incref(p), "");
		ver = json_string_value(json_object_get(r, "version"));
	}
	if (!r)
		goto out;
	/* ctl wrote the array as text: answered as it is, not parsed */
	text = json_string_value(json_object_get(r, "peers"));
	total = (size_t)json_integer_value(json_object_get(r, "total"));
	if (!text || !ver) {
		api_reply_error(q, 500, NULL, "ctl answered no peers");
		goto out;
	}
	api_reply_data(q, 200, "application/json", text,
		       json_string_length(json_object_get(r, "peers")));
	kept_put(key, ver, text, json_string_length(json_object_get(r,
		 "peers")), total);
	sodium_memzero((char *)text, strlen(text));
link:
	set_link(q, qs, sort, page, per_page, total);
out:
	json_decref(r);
	json_decref(p);
	free(key);
}

static void create_peer(struct api_req *q)
{
	json_t *b = api_body(q, peer_schema), *r;

	if (!b)
		return;
	r = call_peer(q, "wg.peer.add", json_pack("{sO}", "body", b),
		      API_SLOW_TIMEOUT_MS);
	wipe_decref(b);
	if (r)
		api_reply(q, 201, r);
}

static void get_peer(struct api_req *q)
{
	json_t *r = call_peer(q, "wg.peer.get", json_object(),
			      API_RPC_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

static void patch_peer(struct api_req *q)
{
	json_t *b = api_body(q, peer_schema), *r;

	if (!b)
		return;
	r = call_peer(q, "wg.peer.update", json_pack("{sO}", "body", b),
		      API_SLOW_TIMEOUT_MS);
	wipe_decref(b);
	if (r)
		api_reply(q, 200, r);
}

/* 200 with the peer as it was, as wgrest's v1 API answers. */
static void delete_peer(struct api_req *q)
{
	json_t *r = call_peer(q, "wg.peer.del", json_object(),
			      API_SLOW_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

/* The client's wg-quick file from ctl (the caller wipes and frees), or
 * NULL when answered. ?endpoint=HOST[:PORT] names where clients reach
 * the gateway (moat's addition; else ctl's guess from the uplink). */
static char *quick_text(struct api_req *q)
{
	const char *ep = api_query(q, "endpoint");
	json_t *p = json_object(), *r;
	const char *s;
	char *text;

	if (ep && json_object_set_new(p, "endpoint", json_string(ep)) < 0)
		json_object_set_new(p, "endpoint", json_string("?"));
	r = call_peer(q, "wg.peer.quick", p, API_RPC_TIMEOUT_MS);
	if (!r)
		return NULL;
	s = json_string_value(json_object_get(r, "text"));
	text = s ? xstrdup(s) : NULL;
	/* the file holds the preshared key */
	if (s)
		sodium_memzero((char *)s, strlen(s));
	else
		api_reply_error(q, 500, NULL, "ctl answered no config");
	json_decref(r);
	return text;
}

static void quick_conf(struct api_req *q)
{
	char *text = quick_text(q);

	if (!text)
		return;
	api_reply_data(q, 200, "text/plain; charset=utf-8", text,
		       strlen(text));
	sodium_memzero(text, strlen(text));
	free(text);
}

static void quick_png(struct api_req *q)
{
	const char *w = api_query(q, "width");
	unsigned long width = WG_REST_PNG_WIDTH;
	struct buf png = BUF_SECRET_INIT;
	char *text;

	if (w && (!wg_rest_uint_parse(w, WG_REST_PNG_MAX, &width) ||
		  width < WG_REST_PNG_MIN)) {
		api_reply_error(q, 400, "width", "width: %d to %d pixels",
				WG_REST_PNG_MIN, WG_REST_PNG_MAX);
		return;
	}
	if (!(text = quick_text(q)))
		return;
	if (wg_qr_png(text, (unsigned)width, &png) < 0)
		api_reply_error(q, 500, NULL, "the config does not fit a QR "
				"code");
	else
		api_reply_data(q, 200, "image/png", png.p, png.len);
	sodium_memzero(text, strlen(text));
	free(text);
	buf_free(&png);
}

const struct api_route api_wg_routes[] = {
	{ "GET", "/v1/devices/", list_devices, 0, 0,
	  "WireGuard devices (wgrest), paged" },
	{ "POST", "/v1/devices/", create_device, 0, DEVICE_BODY_MAX,
	  "Adds a device to the config and applies it: 201 (admin)" },
	{ "GET", "/v1/devices/{}/", get_device, 0, 0,
	  "A WireGuard device" },
	{ "PATCH", "/v1/devices/{}/", patch_device, 0, DEVICE_BODY_MAX,
	  "Changes a device in the config and applies it (admin)" },
	{ "GET", "/v1/devices/{}/peers/", list_peers, 0, 0,
	  "A device's peers: page, per_page, q, sort; Link header" },
	{ "POST", "/v1/devices/{}/peers/", create_peer, 0, PEER_BODY_MAX,
	  "Adds a peer; without a public key the pair is made and its "
	  "private key answered once (operator)" },
	{ "GET", "/v1/devices/{}/peers/{}/", get_peer, 0, 0,
	  "A peer, by its URL-safe public key" },
	{ "PATCH", "/v1/devices/{}/peers/{}/", patch_peer, 0, PEER_BODY_MAX,
	  "Changes a runtime peer (operator)" },
	{ "DELETE", "/v1/devices/{}/peers/{}/", delete_peer, 0, 0,
	  "Removes a runtime peer, answering it (operator)" },
	{ "GET", "/v1/devices/{}/peers/{}/quick.conf", quick_conf, R_RAW, 0,
	  "The peer's wg-quick file (operator)" },
	{ "GET", "/v1/devices/{}/peers/{}/quick.conf.png", quick_png, R_RAW,
	  0, "The peer's wg-quick file as a QR code, ?width= (operator)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
