/* Runtime peers, the pure part: names, allowed IP lists, clashes with the
 * device's other peers, and the client's wg-quick file. No I/O here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/util.h"
#include "config/config.h"
#include "wg/quick.h"
#include "wg/runtime.h"

bool wg_rt_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				      "_.-@") == n;
}

bool wg_rt_allowed_parse(const char *list, struct wg_peer *p, char *bad,
			 size_t badlen)
{
	char *copy = xstrdup(list), *tok, *save = NULL;
	bool ok = true;

	for (tok = strtok_r(copy, ",", &save); tok && ok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct wg_allowed a;

		while (*tok == ' ')
			tok++;
		ok = wg_allowed_parse(tok, &a);
		if (ok)
			wg_peer_add_allowed(p, &a);
		else
			snprintf(bad, badlen, "%.64s", tok);
	}
	free(copy);
	wg_allowed_sort(p->allowed, p->nallowed);
	return ok;
}

const struct wg_peer *wg_rt_find(const struct wg_device *d, const char *who)
{
	uint8_t key[WG_KEY_LEN];
	bool is_key = wg_key_from_b64(who, key) ||
		      wg_key_from_urlsafe(who, key);

	for (size_t i = 0; i < d->npeers; i++) {
		const struct wg_peer *p = &d->peers[i];

		if ((p->name && !strcmp(p->name, who)) ||
		    (is_key && !memcmp(p->pub, key, WG_KEY_LEN)))
			return p;
	}
	return NULL;
}

const struct wg_peer *wg_rt_clash(const struct wg_device *d,
				  const struct wg_peer *p, const char **what)
{
	for (size_t i = 0; i < d->npeers; i++) {
		const struct wg_peer *o = &d->peers[i];
		bool same_name = o->name && p->name && !strcmp(o->name,
							       p->name);

		if (!same_name && memcmp(o->pub, p->pub, WG_KEY_LEN))
			continue;
		*what = same_name ? "name" : "public key";
		return o;
	}
	return NULL;
}

const struct wg_peer *wg_rt_allowed_taken(const struct wg_device *d,
					  const struct wg_peer *p,
					  struct wg_allowed *which)
{
	for (size_t i = 0; i < d->npeers; i++) {
		const struct wg_peer *o = &d->peers[i];

		if (!memcmp(o->pub, p->pub, WG_KEY_LEN))
			continue;
		for (size_t a = 0; a < p->nallowed; a++)
			for (size_t b = 0; b < o->nallowed; b++)
				if (!wg_allowed_cmp(&p->allowed[a],
						    &o->allowed[b])) {
					*which = p->allowed[a];
					return o;
				}
	}
	return NULL;
}

/* --- the first free address -------------------------------------------------- */

/* At most this many hosts of a subnet are looked at (an IPv6 /64 is not
 * walked whole); wg_device_first_free's bound too. */
#define FREE_MAX_HOSTS (1ull << 24)

struct span {
	uint64_t start, end;		/* [start, end) host offsets */
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The offset of addr's bits from c to max in net, when it is below
 * cap. */
static bool offset_in(const uint8_t addr[16], int c, int max, uint64_t cap,
		      uint64_t *off)
{
	uint64_t v = 0;

	for (int bit = c; bit < max; bit++) {
		v = v * 2 + ((addr[bit / 8] >> (7 - bit % 8)) & 1);
		if (v >= cap)
			return false;
	}
	*off = v;
	return true;
}

/* Whether prefix net holds all of a. */
static bool covers(const struct wg_allowed *net, const struct wg_allowed *a)
{
	if (net->family != a->family || net->cidr > a->cidr)
		return false;
	for (int bit = 0; bit < net->cidr; bit++)
		if ((net->addr[bit / 8] ^ a->addr[bit / 8]) &
		    (0x80u >> (bit % 8)))
			return false;
	return true;
}

/* The hosts of net (hosts of them looked at) that prefix p takes, as a
 * span; false when it takes none. */
static bool span_of(const struct wg_allowed *net, const struct wg_allowed *p,
		    int max, uint64_t hosts, struct span *s)
{
	uint64_t off;

	if (p->cidr <= net->cidr) {
		if (!covers(p, net))
			return false;
		*s = (struct span){ 0, hosts };
		return true;
	}
	if (!covers(net, p) ||
	    !offset_in(p->addr, net->cidr, max, hosts, &off))
		return false;
	s->start = off;
	s->end = max - p->cidr >= 24 ? hosts : off + (1ull << (max - p->cidr));
	if (s->end > hosts)
		s->end = hosts;
	return true;
}

static void add_span(struct span **v, size_t *n, size_t *cap,
		     const struct span *s)
{
	xgrow((void **)v, cap, *n + 1, sizeof(**v));
	(*v)[(*n)++] = *s;
}

/* The first host of subnet net of d that nothing takes. */
static bool free_in(const struct wg_device *d, const struct wg_allowed *net,
		    const struct wg_allowed *own, size_t nown,
		    struct wg_allowed *out)
{
	int max = net->family == AF_INET ? 32 : 128;
	uint64_t hosts = max - net->cidr >= 24 ? FREE_MAX_HOSTS :
			 1ull << (max - net->cidr);
	/* IPv4: neither the network nor the broadcast address */
	uint64_t limit = hosts - (net->family == AF_INET), cand = 1;
	struct span *v = NULL, s;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < nown; i++)
		if (span_of(net, &own[i], max, hosts, &s))
			add_span(&v, &n, &cap, &s);
	for (size_t i = 0; i < d->npeers; i++)
		for (size_t k = 0; k < d->peers[i].nallowed; k++)
			if (span_of(net, &d->peers[i].allowed[k], max, hosts,
				    &s))
				add_span(&v, &n, &cap, &s);
	qsort(v, n, sizeof(*v), cmp_span);
	for (size_t i = 0; i < n && v[i].start <= cand; i++)
		if (v[i].end > cand)
			cand = v[i].end;
	free(v);
	if (cand >= limit)
		return false;
	*out = *net;
	out->cidr = (uint8_t)max;
	for (int b = 0; b < 64 && (cand >> b); b++)
		if (cand >> b & 1)
			out->addr[max / 8 - 1 - b / 8] |= (uint8_t)(1u << (b % 8));
	return true;
}

bool wg_rt_first_free(const struct wg_device *d, int family,
		      struct wg_allowed *out)
{
	struct wg_allowed *own = xcalloc(d->naddresses + 1, sizeof(*own));
	int max = family == AF_INET ? 32 : 128;
	size_t nown = 0;
	bool found = false;

	for (size_t i = 0; i < d->naddresses; i++) {
		char host[64];
		size_t len = strcspn(d->addresses[i], "/");

		snprintf(host, sizeof(host), "%.*s", (int)len,
			 d->addresses[i]);
		nown += len < sizeof(host) && wg_allowed_parse(host,
							      &own[nown]);
	}
	for (size_t i = 0; i < d->naddresses && !found; i++) {
		struct wg_allowed net;

		if (wg_allowed_parse(d->addresses[i], &net) &&
		    net.family == family && net.cidr < max - 1)
			found = free_in(d, &net, own, nown, out);
	}
	free(own);
	return found;
}

unsigned wg_rt_new_fields(const struct wg_peer *p)
{
	return WG_PEER_ALLOWED | WG_PEER_NEW |
	       (p->has_psk ? WG_PEER_PSK : 0) |
	       (p->endpoint.family ? WG_PEER_ENDPOINT : 0) |
	       (p->keepalive ? WG_PEER_KEEPALIVE : 0);
}

/* --- the client's file --------------------------------------------------- */

char *wg_rt_server_endpoint(const struct moat_config *cfg, const char *given,
			    uint16_t port)
{
	if (given)
		return strchr(given, ':') && given[0] != '[' ? xstrdup(given) :
		       given[0] == '[' && strstr(given, "]:") ?
		       xstrdup(given) : xasprintf("%s:%u", given, port);
	if (!port)
		return NULL;
	CFG_EACH(struct cfg_interface, i, cfg->interfaces)
		if (i->gateway.v && i->ipv4.n) {
			char *h = xstrdup(i->ipv4.v[0]), *slash = strchr(h, '/');
			char *e;

			if (slash)
				*slash = '\0';
			e = xasprintf("%s:%u", h, port);
			free(h);
			return e;
		}
	return NULL;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char *wg_rt_client_conf(const struct wg_device *d, const struct wg_peer *p,
			const uint8_t server_pub[WG_KEY_LEN],
			const uint8_t *priv, const char *endpoint,
			bool all_traffic)
{
	struct wg_client_conf cc = { 0 };
	char **addr = xcalloc(p->nallowed + 1, sizeof(*addr));
	char **allowed = xcalloc(d->naddresses + 2, sizeof(*allowed));
	char *text;

	memcpy(cc.server_pub, server_pub, WG_KEY_LEN);
	if (priv) {
		cc.has_priv = true;
		memcpy(cc.priv, priv, WG_KEY_LEN);
	}
	for (size_t i = 0; i < p->nallowed; i++) {
		addr[i] = xmalloc(64);
		wg_allowed_format(&p->allowed[i], addr[i], 64);
	}
	cc.address = addr;
	cc.naddress = p->nallowed;
	cc.dns = d->dns;
	cc.ndns = d->ndns;
	cc.mtu = d->mtu;
	cc.has_psk = p->has_psk;
	memcpy(cc.psk, p->psk, WG_KEY_LEN);
	cc.endpoint = endpoint;
	if (all_traffic) {
		allowed[cc.nallowed++] = xstrdup("0.0.0.0/0");
		allowed[cc.nallowed++] = xstrdup("::/0");
	} else {
		for (size_t i = 0; i < d->naddresses; i++) {
			struct wg_allowed net;

			if (!wg_allowed_parse(d->addresses[i], &net))
				continue;
			allowed[cc.nallowed] = xmalloc(64);
			wg_allowed_format(&net, allowed[cc.nallowed++], 64);
		}
	}
	cc.allowed_ips = allowed;
	cc.keepalive = p->keepalive;
	text = wg_quick_client(&cc);
	sodium_memzero(&cc, sizeof(cc));
	free_list(addr, p->nallowed);
	free_list(allowed, d->naddresses + 2);
	return text;
}
