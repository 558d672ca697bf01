/* wireguard-go's UAPI text protocol (the cross-platform interface of
 * wireguard.com/xplatform): a change as a "set=1" request, a "get=1"
 * answer into a device. Pure. Keys travel as hex. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/util.h"
#include "wg/uapi.h"

static void put_key(struct buf *b, const char *k, const uint8_t key[WG_KEY_LEN])
{
	char hex[2 * WG_KEY_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), key, WG_KEY_LEN);
	buf_printf(b, "%s=%s\n", k, hex);
	sodium_memzero(hex, sizeof(hex));
}

void wg_uapi_set_text(const struct wg_change *c, struct buf *b)
{
	static const uint8_t zero[WG_KEY_LEN];

	buf_adds(b, "set=1\n");
	if (c->fields & WG_SET_PRIV)
		put_key(b, "private_key", c->dev->priv);
	if (c->fields & WG_SET_PORT)
		buf_printf(b, "listen_port=%u\n", c->dev->port);
	if (c->fields & WG_SET_FWMARK)
		buf_printf(b, "fwmark=%u\n", c->dev->fwmark);
	for (size_t i = 0; i < c->npeers; i++) {
		const struct wg_peer *p = c->peers[i].peer;
		unsigned f = c->peers[i].fields;
		char s[80];

		put_key(b, "public_key", p->pub);
		if (f & WG_PEER_REMOVE) {
			buf_adds(b, "remove=true\n");
			continue;
		}
		if (f & WG_PEER_PSK)
			put_key(b, "preshared_key", p->has_psk ? p->psk : zero);
		if ((f & WG_PEER_ENDPOINT) && p->endpoint.family) {
			wg_endpoint_format(&p->endpoint, s, sizeof(s));
			buf_printf(b, "endpoint=%s\n", s);
		}
		if (f & WG_PEER_KEEPALIVE)
			buf_printf(b, "persistent_keepalive_interval=%u\n",
				   p->keepalive);
		if (f & WG_PEER_ALLOWED) {
			buf_adds(b, "replace_allowed_ips=true\n");
			for (size_t k = 0; k < p->nallowed; k++) {
				wg_allowed_format(&p->allowed[k], s, sizeof(s));
				buf_printf(b, "allowed_ip=%s\n", s);
			}
		}
	}
	buf_adds(b, "\n");
}

static bool get_key(const char *v, uint8_t key[WG_KEY_LEN])
{
	size_t n = 0;
	const char *end;

	return strlen(v) == 2 * WG_KEY_LEN &&
	       !sodium_hex2bin(key, WG_KEY_LEN, v, 2 * WG_KEY_LEN, NULL, &n,
			       &end) && n == WG_KEY_LEN && !*end;
}

static bool get_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x > max)
		return false;
	*out = x;
	return true;
}

/* One key=value of a get answer. 0, or -1 when it is malformed. */
static int get_line(struct wg_device *d, struct wg_peer **p, const char *k,
		    const char *v, int *err)
{
	uint64_t x;
	struct wg_allowed a;

	if (!strcmp(k, "errno"))
		return get_u64(v, 4095, &x) ? (*err = (int)x, 0) : -1;
	if (!strcmp(k, "public_key")) {
		*p = wg_device_add_peer(d);
		return get_key(v, (*p)->pub) ? 0 : -1;
	}
	if (!*p) {
		if (!strcmp(k, "private_key"))
			return (d->has_priv = get_key(v, d->priv)) ? 0 : -1;
		if (!strcmp(k, "listen_port"))
			return get_u64(v, 65535, &x) ?
			       (d->port = (uint16_t)x, 0) : -1;
		if (!strcmp(k, "fwmark"))
			return get_u64(v, UINT32_MAX, &x) ?
			       (d->fwmark = (uint32_t)x, 0) : -1;
		return 0;	/* newer keys: not ours to refuse */
	}
	if (!strcmp(k, "preshared_key")) {
		if (!get_key(v, (*p)->psk))
			return -1;
		(*p)->has_psk = !wg_key_is_zero((*p)->psk);
		return 0;
	}
	if (!strcmp(k, "endpoint"))
		return wg_endpoint_parse(v, &(*p)->endpoint) ? 0 : -1;
	if (!strcmp(k, "persistent_keepalive_interval"))
		return get_u64(v, 65535, &x) ?
		       ((*p)->keepalive = (uint16_t)x, 0) : -1;
	if (!strcmp(k, "last_handshake_time_sec"))
		return get_u64(v, INT64_MAX, &x) ?
		       ((*p)->handshake_sec = (int64_t)x, 0) : -1;
	if (!strcmp(k, "last_handshake_time_nsec"))
		return get_u64(v, 999999999, &x) ?
		       ((*p)->handshake_nsec = (int64_t)x, 0) : -1;
	if (!strcmp(k, "rx_bytes"))
		return get_u64(v, UINT64_MAX, &(*p)->rx_bytes) ? 0 : -1;
	if (!strcmp(k, "tx_bytes"))
		return get_u64(v, UINT64_MAX, &(*p)->tx_bytes) ? 0 : -1;
	if (!strcmp(k, "allowed_ip")) {
		if (!wg_allowed_parse(v, &a) || !strchr(v, '/'))
			return -1;
		wg_peer_add_allowed(*p, &a);
	}
	return 0;
}

int wg_uapi_parse(const char *text, size_t len, struct wg_device *d,
		  char *err, size_t errlen)
{
	struct wg_peer *p = NULL;
	size_t at = 0, line = 0;
	int kerr = 0;

	while (at < len) {
		const char *s = text + at, *nl = memchr(s, '\n', len - at);
		size_t n = nl ? (size_t)(nl - s) : len - at;
		char buf[256], *eq;

		line++;
		at += n + (nl != NULL);
		if (!n)
			return kerr ? (snprintf(err, errlen, "the device "
						"answered errno %d", kerr),
				       -kerr) : 0;
		if (!nl || n >= sizeof(buf) || memchr(s, '\0', n)) {
			snprintf(err, errlen, "answer line %zu: malformed",
				 line);
			return -EPROTO;
		}
		memcpy(buf, s, n);
		buf[n] = '\0';
		eq = strchr(buf, '=');
		if (!eq || eq == buf) {
			snprintf(err, errlen, "answer line %zu: no key=value",
				 line);
			return -EPROTO;
		}
		*eq = '\0';
		if (get_line(d, &p, buf, eq + 1, &kerr) < 0) {
			snprintf(err, errlen, "answer line %zu: bad %s",
				 line, buf);
			sodium_memzero(buf, sizeof(buf));
			return -EPROTO;
		}
		sodium_memzero(buf, sizeof(buf));
	}
	snprintf(err, errlen, "the answer ended without an empty line");
	return -EPROTO;
}
