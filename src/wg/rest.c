/* wgrest's shapes for the REST API (see rest.h). Go is the reference for
 * every text here (time.Time, time.Duration, url.Values, base64), since
 * wgrest's clients parse what Go printed. Pure. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/util.h"
#include "wg/key.h"
#include "wg/rest.h"
#include "wg/runtime.h"

/* At most this many allowed IPs in a request. */
#define REQ_MAX_ALLOWED 256

/* --- query parameters ---------------------------------------------------- */

static const struct {
	const char *name;
	enum wg_rest_sort key;
} sorts[] = {
	{ "pub_key", WG_SORT_PUBKEY },
	{ "receive_bytes", WG_SORT_RX },
	{ "transmit_bytes", WG_SORT_TX },
	{ "total_bytes", WG_SORT_TOTAL },
	{ "last_handshake_time", WG_SORT_HANDSHAKE },
};

bool wg_rest_sort_parse(const char *s, enum wg_rest_sort *key, bool *desc)
{
	*key = WG_SORT_NONE;
	*desc = s && *s == '-';
	if (!s || !*s)
		return true;
	s += *desc;
	for (size_t i = 0; i < ARRAY_SIZE(sorts); i++)
		if (!strcmp(s, sorts[i].name)) {
			*key = sorts[i].key;
			return true;
		}
	return false;
}

bool wg_rest_uint_parse(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!s || !*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
		return false;
	for (; *s; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* --- selecting a page ------------------------------------------------------ */

/* Whether hay holds needle (lowercase already), ignoring case. */
static bool ci_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return true;
	for (; *hay; hay++) {
		size_t i = 0;

		while (i < n && hay[i] && tolower((unsigned char)hay[i]) ==
		       needle[i])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* The endpoint a peer object shows: where the device last heard it,
 * else the configured one. */
static void endpoint_text(const struct wg_peer *plan,
			  const struct wg_peer *live, char *out, size_t n)
{
	*out = '\0';
	if (live && live->endpoint.family)
		wg_endpoint_format(&live->endpoint, out, n);
	else if (plan->endpoint.family)
		wg_endpoint_format(&plan->endpoint, out, n);
	else if (plan->endpoint_text)
		snprintf(out, n, "%s", plan->endpoint_text);
}

static bool row_matches(const struct wg_rest_row *r, const char *q)
{
	char s[80];

	if (ci_contains(r->key, q) || (r->plan->name &&
				       ci_contains(r->plan->name, q)))
		return true;
	endpoint_text(r->plan, r->live, s, sizeof(s));
	if (ci_contains(s, q))
		return true;
	for (size_t i = 0; i < r->plan->nallowed; i++) {
		wg_allowed_format(&r->plan->allowed[i], s, sizeof(s));
		if (ci_contains(s, q))
			return true;
	}
	return false;
}

struct sort_by {
	enum wg_rest_sort key;
	bool desc;
};

static uint64_t row_value(const struct wg_rest_row *r, enum wg_rest_sort key)
{
	const struct wg_peer *l = r->live;

	if (!l)
		return 0;
	switch (key) {
	case WG_SORT_RX: return l->rx_bytes;
	case WG_SORT_TX: return l->tx_bytes;
	case WG_SORT_TOTAL: return l->rx_bytes + l->tx_bytes;
	case WG_SORT_HANDSHAKE:
		return (uint64_t)l->handshake_sec * 1000000000u +
		       (uint64_t)l->handshake_nsec;
	default: return 0;
	}
}

static int cmp_rows(const void *pa, const void *pb, void *data)
{
	const struct wg_rest_row *a = pa, *b = pb;
	const struct sort_by *by = data;
	int c = 0;

	if (by->key == WG_SORT_PUBKEY) {
		c = strcmp(a->key, b->key);
	} else {
		uint64_t va = row_value(a, by->key), vb = row_value(b, by->key);

		c = va < vb ? -1 : va > vb;
	}
	if (by->desc)
		c = -c;
	/* a total order: the same query pages the same way every time */
	return c ? c : memcmp(a->plan->pub, b->plan->pub, WG_KEY_LEN);
}

size_t wg_rest_select(struct wg_rest_row *rows, size_t n, const char *q,
		      enum wg_rest_sort key, bool desc)
{
	char low[WG_REST_Q_MAX + 1];
	struct sort_by by = { key, desc };
	size_t kept = 0, i;

	for (i = 0; q && q[i] && i < WG_REST_Q_MAX; i++)
		low[i] = (char)tolower((unsigned char)q[i]);
	low[i] = '\0';
	for (i = 0; i < n; i++) {
		/* the text only when it is looked at: 1,000 keys cost */
		if (*low || key == WG_SORT_PUBKEY)
			wg_key_to_b64(rows[i].plan->pub, rows[i].key);
		if (*low && !row_matches(&rows[i], low))
			continue;
		if (kept != i) {
			struct wg_rest_row t = rows[kept];

			rows[kept] = rows[i];
			rows[i] = t;
		}
		kept++;
	}
	if (key != WG_SORT_NONE)
		qsort_r(rows, kept, sizeof(*rows), cmp_rows, &by);
	return kept;
}

void wg_rest_page(size_t total, size_t page, size_t per_page, size_t *start,
		  size_t *end)
{
	*start = *end = total;
	if (!per_page || page > total / per_page)
		return;
	*start = page * per_page;
	*end = total - *start < per_page ? total : *start + per_page;
}

/* --- the Link header --------------------------------------------------------- */

/* As Go's url.QueryEscape: unreserved bytes stay, space is '+'. */
static void query_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
			buf_addc(b, (char)c);
		else if (c == ' ')
			buf_addc(b, '+');
		else
			buf_printf(b, "%%%02X", c);
	}
}

static void link_one(struct buf *b, const char *path, const char *q,
		     const char *sort, size_t page, size_t per_page,
		     const char *rel)
{
	if (b->len)
		buf_adds(b, ", ");
	buf_printf(b, "<%s?page=%zu&per_page=%zu", path, page, per_page);
	if (q && *q) {
		buf_adds(b, "&q=");
		query_escape(b, q);
	}
	if (sort && *sort) {
		buf_adds(b, "&sort=");
		query_escape(b, sort);
	}
	buf_printf(b, ">; rel=\"%s\"", rel);
}

void wg_rest_link(struct buf *out, const char *path, const char *q,
		  const char *sort, size_t page, size_t per_page,
		  size_t total)
{
	size_t pages;

	if (!total || !per_page)
		return;
	pages = (total + per_page - 1) / per_page;
	link_one(out, path, q, sort, 0, per_page, "first");
	link_one(out, path, q, sort, pages - 1, per_page, "last");
	if (page > 0)
		link_one(out, path, q, sort, page - 1, per_page, "prev");
	if (page + 1 < pages)
		link_one(out, path, q, sort, page + 1, per_page, "next");
}

/* --- times, durations, keys ------------------------------------------------ */

void wg_rest_time(int64_t sec, int64_t nsec, char out[40])
{
	time_t t = (time_t)sec;
	struct tm tm;
	char frac[16] = "";
	size_t n;

	if ((sec == 0 && nsec == 0) || !gmtime_r(&t, &tm)) {
		snprintf(out, 40, "0001-01-01T00:00:00Z");
		return;
	}
	if (nsec > 0 && nsec < 1000000000) {
		snprintf(frac, sizeof(frac), ".%09lld", (long long)nsec);
		for (n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
	}
	snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d%sZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, frac);
}

void wg_rest_duration(unsigned sec, char out[32])
{
	unsigned h = sec / 3600, m = sec / 60 % 60, s = sec % 60;

	if (h)
		snprintf(out, 32, "%uh%um%us", h, m, s);
	else if (m)
		snprintf(out, 32, "%um%us", m, s);
	else
		snprintf(out, 32, "%us", s);
}

/* The unit at *s in nanoseconds, *s moved past it; 0 when none. */
static uint64_t duration_unit(const char **s)
{
	static const struct { const char *name; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 },
		{ "\xce\xbcs", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000ull }, { "m", 60000000000ull },
		{ "h", 3600000000000ull },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		size_t n = strlen(units[i].name);

		/* "ms" comes before "m" in the table */
		if (!strncmp(*s, units[i].name, n)) {
			*s += n;
			return units[i].ns;
		}
	}
	return 0;
}

bool wg_rest_duration_parse(const char *s, unsigned *sec)
{
	const uint64_t max = 65535ull * 1000000000ull;
	uint64_t total = 0;

	if (!s || !*s)
		return false;
	if (*s == '+')
		s++;
	if (!strcmp(s, "0")) {
		*sec = 0;
		return true;
	}
	while (*s) {
		uint64_t whole = 0, frac = 0, scale = 1, unit;
		bool digits = false;

		for (; isdigit((unsigned char)*s); s++, digits = true) {
			whole = whole * 10 + (uint64_t)(*s - '0');
			if (whole > max)
				return false;
		}
		if (*s == '.')
			for (s++; isdigit((unsigned char)*s); s++,
			     digits = true) {
				if (scale == 1000000000ull)
					return false;
				frac = frac * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
		unit = digits ? duration_unit(&s) : 0;
		if (!unit || whole > max / unit)
			return false;
		total += whole * unit + frac * unit / scale;
		if (total > max)
			return false;
	}
	if (total % 1000000000ull)
		return false;
	*sec = (unsigned)(total / 1000000000ull);
	return true;
}

bool wg_rest_key_parse(const char *s, uint8_t key[WG_KEY_LEN])
{
	char k[WG_KEY_B64];
	size_t n = s ? strlen(s) : 0;

	if (n != WG_KEY_B64 - 1 && n != WG_KEY_B64 - 2)
		return false;
	for (size_t i = 0; i < n; i++)
		k[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	if (n == WG_KEY_B64 - 2)
		k[n++] = '=';
	k[n] = '\0';
	return wg_key_from_b64(k, key);
}

bool wg_rest_host_ok(const char *s)
{
	const char *port = NULL, *host_end;
	size_t n = strlen(s);

	if (!n || n > 260)
		return false;
	if (*s == '[') {
		host_end = strchr(s, ']');
		if (!host_end || host_end == s + 1 ||
		    strspn(s + 1, "0123456789abcdefABCDEF:.") !=
		    (size_t)(host_end - s - 1) || host_end[1] != ':')
			return false;
		port = host_end + 2;
	} else {
		host_end = strchr(s, ':');
		if (!host_end)
			host_end = s + n;
		else
			port = host_end + 1;
		if (host_end == s || strspn(s, "abcdefghijklmnopqrstuvwxyz"
					    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					    "0123456789.-") != (size_t)
		    (host_end - s) || *s == '-' || *s == '.')
			return false;
	}
	if (port) {
		unsigned long p;

		if (!wg_rest_uint_parse(port, 65535, &p) || !p)
			return false;
	}
	return true;
}

/* --- objects ----------------------------------------------------------------- */

static void text_member(struct buf *b, const char *name, const char *v)
{
	buf_printf(b, ",\"%s\":", name);
	buf_json_str(b, v, strlen(v));
}

void wg_rest_peer_text(struct buf *b, const struct wg_peer *plan,
		       const struct wg_peer *live, bool with_psk,
		       const uint8_t *priv)
{
	char key[WG_KEY_B64], ep[80], when[40], ka[32], ip[64];

	wg_key_to_b64(plan->pub, key);
	buf_printf(b, "{\"public_key\":\"%s\"", key);
	wg_key_to_urlsafe(plan->pub, key);
	buf_printf(b, ",\"url_safe_public_key\":\"%s\"", key);
	if (with_psk && plan->has_psk) {
		wg_key_to_b64(plan->psk, key);
		buf_printf(b, ",\"preshared_key\":\"%s\"", key);
	}
	if (priv) {
		wg_key_to_b64(priv, key);
		buf_printf(b, ",\"private_key\":\"%s\"", key);
	}
	sodium_memzero(key, sizeof(key));
	buf_adds(b, ",\"allowed_ips\":[");
	for (size_t i = 0; i < plan->nallowed; i++) {
		wg_allowed_format(&plan->allowed[i], ip, sizeof(ip));
		buf_printf(b, "%s\"%s\"", i ? "," : "", ip);
	}
	wg_rest_time(live ? live->handshake_sec : 0,
		     live ? live->handshake_nsec : 0, when);
	wg_rest_duration(plan->keepalive, ka);
	endpoint_text(plan, live, ep, sizeof(ep));
	buf_printf(b, "],\"last_handshake_time\":\"%s\","
		   "\"persistent_keepalive_interval\":\"%s\"", when, ka);
	text_member(b, "endpoint", ep);
	buf_printf(b, ",\"receive_bytes\":%" PRIu64 ",\"transmit_bytes\":%"
		   PRIu64, live ? live->rx_bytes : 0,
		   live ? live->tx_bytes : 0);
	text_member(b, "name", plan->name ? plan->name : "");
	text_member(b, "source", plan->from_store ? "runtime" : "config");
	buf_adds(b, "}");
}

json_t *wg_rest_peer_json(const struct wg_peer *plan,
			  const struct wg_peer *live, bool with_psk,
			  const uint8_t *priv)
{
	struct buf b = BUF_SECRET_INIT;
	json_t *o;

	wg_rest_peer_text(&b, plan, live, with_psk, priv);
	o = json_loadb(b.p, b.len, 0, NULL);
	buf_free(&b);
	return o;
}

/* --- requests ------------------------------------------------------------------ */

static bool req_fail(char *err, size_t errlen, const char *field,
		     const char *msg)
{
	snprintf(err, errlen, "%s: %s", field, msg);
	return false;
}

/* A string member, NULL when absent or null; *bad when another type. */
static const char *member_str(const json_t *o, const char *name, bool *bad)
{
	const json_t *v = json_object_get(o, name);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

static bool req_keys(const json_t *o, struct wg_rest_req *r, char *err,
		     size_t errlen)
{
	bool bad = false;
	const char *pub = member_str(o, "public_key", &bad);
	const char *priv = member_str(o, "private_key", &bad);
	const char *psk = member_str(o, "preshared_key", &bad);
	uint8_t derived[WG_KEY_LEN];

	if (bad)
		return req_fail(err, errlen, "keys", "public_key, private_key "
				"and preshared_key are strings");
	if (pub && !(r->has_pub = wg_key_from_b64(pub, r->pub)))
		return req_fail(err, errlen, "public_key", "not a WireGuard "
				"key (44 characters of base64)");
	/* the message never quotes a secret */
	if (priv && !(r->has_priv = wg_key_from_b64(priv, r->priv)))
		return req_fail(err, errlen, "private_key", "not a WireGuard "
				"key (44 characters of base64)");
	if (r->has_priv) {
		if (!wg_pubkey(r->priv, derived))
			return req_fail(err, errlen, "private_key", "not a "
					"usable key");
		if (r->has_pub && memcmp(derived, r->pub, WG_KEY_LEN))
			return req_fail(err, errlen, "private_key", "it is "
					"not the private key of public_key");
		memcpy(r->pub, derived, WG_KEY_LEN);
		r->has_pub = true;
	}
	if (psk) {
		r->has_psk = true;
		if (*psk && !wg_key_from_b64(psk, r->psk))
			return req_fail(err, errlen, "preshared_key", "not a "
					"WireGuard key (44 characters of "
					"base64; \"\" for none)");
	}
	return true;
}

static bool req_allowed(const json_t *o, struct wg_rest_req *r, char *err,
			size_t errlen)
{
	const json_t *a = json_object_get(o, "allowed_ips"), *v;
	size_t i;

	if (!a || json_is_null(a))
		return true;
	if (!json_is_array(a) || json_array_size(a) > REQ_MAX_ALLOWED)
		return req_fail(err, errlen, "allowed_ips", "a list of at most "
				"256 prefixes (\"10.0.0.2/32\")");
	r->has_allowed = true;
	json_array_foreach(a, i, v) {
		struct wg_allowed p;
		char msg[128];

		if (!json_is_string(v) || !wg_allowed_parse(json_string_value(v),
							    &p)) {
			snprintf(msg, sizeof(msg), "item %zu is not an address "
				 "or a prefix (\"10.0.0.2/32\")", i);
			return req_fail(err, errlen, "allowed_ips", msg);
		}
		wg_peer_add_allowed(&r->allowed, &p);
	}
	wg_allowed_sort(r->allowed.allowed, r->allowed.nallowed);
	return true;
}

bool wg_rest_req_parse(const json_t *o, struct wg_rest_req *r, char *err,
		       size_t errlen)
{
	bool bad = false;
	const char *ka = member_str(o, "persistent_keepalive_interval", &bad);
	const char *ep = member_str(o, "endpoint", &bad);
	const char *name = member_str(o, "name", &bad);

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o))
		return req_fail(err, errlen, "body", "a JSON object");
	if (bad)
		return req_fail(err, errlen, "body", "endpoint, name and "
				"persistent_keepalive_interval are strings");
	if (!req_keys(o, r, err, errlen) || !req_allowed(o, r, err, errlen))
		return false;
	if (ka && !(r->has_keepalive = wg_rest_duration_parse(ka,
							      &r->keepalive)))
		return req_fail(err, errlen, "persistent_keepalive_interval",
				"whole seconds from 0 to 65535, as \"25s\"");
	if (ep) {
		r->has_endpoint = true;
		if (*ep && (strlen(ep) >= sizeof(r->endpoint_text) ||
			    !wg_endpoint_parse(ep, &r->endpoint)))
			return req_fail(err, errlen, "endpoint", "ADDRESS:PORT "
					"(\"192.0.2.7:51820\", "
					"\"[2001:db8::7]:51820\"; no names)");
		if (*ep)
			wg_endpoint_format(&r->endpoint, r->endpoint_text,
					   sizeof(r->endpoint_text));
	}
	if (name) {
		if (!wg_rt_name_ok(name))
			return req_fail(err, errlen, "name", "letters, digits, "
					"_ . - @ (at most 64)");
		snprintf(r->name, sizeof(r->name), "%s", name);
	}
	return true;
}

void wg_rest_req_clear(struct wg_rest_req *r)
{
	free(r->allowed.allowed);
	sodium_memzero(r, sizeof(*r));
}
