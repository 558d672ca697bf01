/* The WireGuard model: keys in base64, allowed IPs, endpoints, peers and
 * devices. Pure. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/util.h"
#include "wg/wg.h"

static void key_encode(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_B64],
		       int variant)
{
	sodium_bin2base64(out, WG_KEY_B64, key, WG_KEY_LEN, variant);
}

static bool key_decode(const char *s, uint8_t key[WG_KEY_LEN], int variant)
{
	size_t n = 0;
	const char *end;

	/* 44 characters, the last '=', and no other padding */
	if (!s || strlen(s) != WG_KEY_B64 - 1 || s[WG_KEY_B64 - 2] != '=')
		return false;
	if (sodium_base642bin(key, WG_KEY_LEN, s, WG_KEY_B64 - 1, NULL, &n,
			      &end, variant) || n != WG_KEY_LEN || *end)
		return false;
	return true;
}

void wg_key_to_b64(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_B64])
{
	key_encode(key, out, sodium_base64_VARIANT_ORIGINAL);
}

bool wg_key_from_b64(const char *s, uint8_t key[WG_KEY_LEN])
{
	return key_decode(s, key, sodium_base64_VARIANT_ORIGINAL);
}

void wg_key_to_urlsafe(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_B64])
{
	key_encode(key, out, sodium_base64_VARIANT_URLSAFE);
}

bool wg_key_from_urlsafe(const char *s, uint8_t key[WG_KEY_LEN])
{
	return key_decode(s, key, sodium_base64_VARIANT_URLSAFE);
}

bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN])
{
	return sodium_is_zero(key, WG_KEY_LEN);
}

struct wg_peer *wg_device_add_peer(struct wg_device *d)
{
	struct wg_peer *p;

	xgrow((void **)&d->peers, &d->peers_cap, d->npeers + 1,
	      sizeof(*d->peers));
	p = &d->peers[d->npeers++];
	memset(p, 0, sizeof(*p));
	return p;
}

void wg_peer_add_allowed(struct wg_peer *p, const struct wg_allowed *a)
{
	xgrow((void **)&p->allowed, &p->allowed_cap, p->nallowed + 1,
	      sizeof(*p->allowed));
	p->allowed[p->nallowed++] = *a;
}

bool wg_allowed_parse(const char *s, struct wg_allowed *a)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long cidr;
	char *end;
	int max;

	memset(a, 0, sizeof(*a));
	if (!n || n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = AF_INET6;
	else
		return false;
	max = a->family == AF_INET ? 32 : 128;
	cidr = (unsigned long)max;
	if (slash) {
		if (slash[1] < '0' || slash[1] > '9')
			return false;
		cidr = strtoul(slash + 1, &end, 10);
		if (*end || cidr > (unsigned long)max)
			return false;
	}
	a->cidr = (uint8_t)cidr;
	for (int bit = (int)cidr; bit < max; bit++)
		a->addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	return true;
}

int wg_allowed_cmp(const struct wg_allowed *a, const struct wg_allowed *b)
{
	if (a->family != b->family)
		return a->family - b->family;
	if (a->cidr != b->cidr)
		return a->cidr - b->cidr;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int allowed_qcmp(const void *a, const void *b)
{
	return wg_allowed_cmp(a, b);
}

void wg_allowed_sort(struct wg_allowed *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), allowed_qcmp);
}

void wg_allowed_format(const struct wg_allowed *a, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN];

	inet_ntop(a->family, a->addr, host, sizeof(host));
	snprintf(out, n, "%s/%u", host, a->cidr);
}

bool wg_endpoint_parse(const char *s, struct wg_endpoint *e)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *h = s;
	size_t n;
	unsigned long port;
	char *end;

	memset(e, 0, sizeof(*e));
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return false;
		h = s + 1;
		n = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		n = (size_t)(colon - s);
	}
	if (!n || n >= sizeof(host) || colon[1] < '0' || colon[1] > '9')
		return false;
	port = strtoul(colon + 1, &end, 10);
	if (*end || port == 0 || port > 65535)
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	if (*s != '[' && inet_pton(AF_INET, host, e->addr) == 1)
		e->family = AF_INET;
	else if (*s == '[' && inet_pton(AF_INET6, host, e->addr) == 1)
		e->family = AF_INET6;
	else
		return false;
	e->port = (uint16_t)port;
	return true;
}

void wg_endpoint_format(const struct wg_endpoint *e, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN];

	if (!e->family) {
		snprintf(out, n, "(none)");
		return;
	}
	inet_ntop(e->family, e->addr, host, sizeof(host));
	snprintf(out, n, e->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
		 e->port);
}

bool wg_endpoint_equal(const struct wg_endpoint *a,
		       const struct wg_endpoint *b)
{
	size_t len = a->family == AF_INET ? 4 : 16;

	if (a->family != b->family)
		return false;
	return !a->family ||
	       (a->port == b->port && !memcmp(a->addr, b->addr, len));
}

/* Whether prefix net holds a (all of it). */
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

/* The device's own address: "10.200.0.1/24" as 10.200.0.1/32. */
static bool own_host(const char *addr, struct wg_allowed *h)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(addr, '/');
	size_t n = slash ? (size_t)(slash - addr) : strlen(addr);

	if (n >= sizeof(host))
		return false;
	memcpy(host, addr, n);
	host[n] = '\0';
	return wg_allowed_parse(host, h);
}

static bool taken(const struct wg_device *d, const struct wg_allowed *own,
		  size_t nown, const struct wg_allowed *a)
{
	for (size_t i = 0; i < nown; i++)
		if (covers(&own[i], a))
			return true;
	for (size_t i = 0; i < d->npeers; i++)
		for (size_t k = 0; k < d->peers[i].nallowed; k++)
			if (covers(&d->peers[i].allowed[k], a) ||
			    covers(a, &d->peers[i].allowed[k]))
				return true;
	return false;
}

bool wg_device_first_free(const struct wg_device *d, int family,
			  struct wg_allowed *out)
{
	int max = family == AF_INET ? 32 : 128;
	struct wg_allowed *own = xcalloc(d->naddresses + 1, sizeof(*own));
	size_t nown = 0;
	bool found = false;

	for (size_t i = 0; i < d->naddresses; i++)
		nown += own_host(d->addresses[i], &own[nown]);
	for (size_t i = 0; i < d->naddresses && !found; i++) {
		struct wg_allowed net;
		uint64_t hosts;

		if (!wg_allowed_parse(d->addresses[i], &net) ||
		    net.family != family || net.cidr >= max - 1)
			continue;
		/* at most 2^24 candidates: an IPv6 /64 is not walked whole */
		hosts = max - net.cidr >= 24 ? (1u << 24) :
			(1ull << (max - net.cidr));
		/* IPv4: neither the network nor the broadcast address */
		for (uint64_t n = 1; !found && n + (family == AF_INET) < hosts;
		     n++) {
			*out = net;
			out->cidr = (uint8_t)max;
			for (int b = 0; b < 32 && (n >> b); b++)
				if (n >> b & 1)
					out->addr[max / 8 - 1 - b / 8] |=
						(uint8_t)(1u << (b % 8));
			found = !taken(d, own, nown, out);
		}
	}
	free(own);
	return found;
}

const struct wg_peer *wg_device_find_peer(const struct wg_device *d,
					  const uint8_t pub[WG_KEY_LEN])
{
	for (size_t i = 0; i < d->npeers; i++)
		if (!memcmp(d->peers[i].pub, pub, WG_KEY_LEN))
			return &d->peers[i];
	return NULL;
}

void wg_peer_clear(struct wg_peer *p)
{
	free(p->name);
	free(p->endpoint_text);
	free(p->allowed);
	sodium_memzero(p, sizeof(*p));
}

void wg_device_clear(struct wg_device *d)
{
	for (size_t i = 0; i < d->npeers; i++)
		wg_peer_clear(&d->peers[i]);
	free(d->peers);
	free(d->name);
	free(d->zone);
	for (size_t i = 0; i < d->naddresses; i++)
		free(d->addresses[i]);
	free(d->addresses);
	for (size_t i = 0; i < d->ndns; i++)
		free(d->dns[i]);
	free(d->dns);
	free(d->table);
	free(d->priv_file);
	sodium_memzero(d, sizeof(*d));
}
