/* A planned device against the device as read: the smallest change, by
 * peer. Pure. Peers are matched by public key through sorted indexes, so
 * that one peer more costs the same on a device of ten peers or ten
 * thousand (plus the sort). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "wg/wg.h"

static int peer_ptr_cmp(const void *pa, const void *pb)
{
	const struct wg_peer *a = *(const struct wg_peer *const *)pa;
	const struct wg_peer *b = *(const struct wg_peer *const *)pb;

	return memcmp(a->pub, b->pub, WG_KEY_LEN);
}

static const struct wg_peer **peer_index(const struct wg_device *d)
{
	const struct wg_peer **v;

	if (!d || !d->npeers)
		return NULL;
	v = xcalloc(d->npeers, sizeof(*v));
	for (size_t i = 0; i < d->npeers; i++)
		v[i] = &d->peers[i];
	qsort(v, d->npeers, sizeof(*v), peer_ptr_cmp);
	return v;
}

static void change_add(struct wg_change *c, const struct wg_peer *p,
		       unsigned fields)
{
	xgrow((void **)&c->peers, &c->cap, c->npeers + 1, sizeof(*c->peers));
	c->peers[c->npeers].peer = p;
	c->peers[c->npeers++].fields = fields;
}

/* Allowed IPs as sets: the plan's are sorted; the kernel's come in its
 * own order. */
static bool allowed_same(const struct wg_peer *p, const struct wg_peer *k)
{
	struct wg_allowed *v;
	bool same = true;

	if (p->nallowed != k->nallowed)
		return false;
	if (!p->nallowed)
		return true;
	v = xmalloc(k->nallowed * sizeof(*v));
	memcpy(v, k->allowed, k->nallowed * sizeof(*v));
	wg_allowed_sort(v, k->nallowed);
	for (size_t i = 0; same && i < p->nallowed; i++)
		same = !wg_allowed_cmp(&p->allowed[i], &v[i]);
	free(v);
	return same;
}

static unsigned peer_fields(const struct wg_peer *p, const struct wg_peer *k)
{
	static const uint8_t zero[WG_KEY_LEN];
	unsigned f = 0;

	if (!k)
		return WG_PEER_ALLOWED |
		       (p->has_psk ? WG_PEER_PSK : 0) |
		       (p->endpoint.family ? WG_PEER_ENDPOINT : 0) |
		       (p->keepalive ? WG_PEER_KEEPALIVE : 0);
	if (memcmp(p->has_psk ? p->psk : zero, k->has_psk ? k->psk : zero,
		   WG_KEY_LEN))
		f |= WG_PEER_PSK;
	/* a peer without a configured endpoint keeps the one it roamed to */
	if (p->endpoint.family && !wg_endpoint_equal(&p->endpoint, &k->endpoint))
		f |= WG_PEER_ENDPOINT;
	if (p->keepalive != k->keepalive)
		f |= WG_PEER_KEEPALIVE;
	if (!allowed_same(p, k))
		f |= WG_PEER_ALLOWED;
	return f;
}

void wg_diff(const struct wg_device *dev, const struct wg_device *obs,
	     struct wg_change *out)
{
	const struct wg_peer **pv = peer_index(dev), **kv = peer_index(obs);
	size_t i = 0, k = 0, nk = obs ? obs->npeers : 0;

	memset(out, 0, sizeof(*out));
	out->dev = dev;
	if (dev->has_priv && (!obs || !obs->has_priv ||
			      memcmp(dev->priv, obs->priv, WG_KEY_LEN)))
		out->fields |= WG_SET_PRIV;
	if (dev->port && (!obs || obs->port != dev->port))
		out->fields |= WG_SET_PORT;
	if (obs ? obs->fwmark != dev->fwmark : dev->fwmark != 0)
		out->fields |= WG_SET_FWMARK;
	while (i < dev->npeers || k < nk) {
		int c = i == dev->npeers ? 1 : k == nk ? -1 :
			memcmp(pv[i]->pub, kv[k]->pub, WG_KEY_LEN);
		unsigned f;

		if (c < 0) {
			change_add(out, pv[i],
				   peer_fields(pv[i], NULL) | WG_PEER_NEW);
			i++;
		} else if (c > 0) {
			change_add(out, kv[k], WG_PEER_REMOVE);
			k++;
		} else {
			f = peer_fields(pv[i], kv[k]);
			if (f)
				change_add(out, pv[i], f);
			i++;
			k++;
		}
	}
	free(pv);
	free(kv);
}

void wg_change_free(struct wg_change *c)
{
	free(c->peers);
	memset(c, 0, sizeof(*c));
}

bool wg_change_empty(const struct wg_change *c)
{
	return !c->fields && !c->npeers;
}

static void describe_peer(const struct wg_peer_change *pc, struct buf *b)
{
	const struct wg_peer *p = pc->peer;
	char key[WG_KEY_B64], s[64];
	static const struct {
		unsigned bit;
		const char *what;
	} parts[] = {
		{ WG_PEER_PSK, "preshared key" },
		{ WG_PEER_ENDPOINT, "endpoint" },
		{ WG_PEER_KEEPALIVE, "keepalive" },
		{ WG_PEER_ALLOWED, "allowed IPs" },
	};
	bool first = true;

	wg_key_to_b64(p->pub, key);
	if (pc->fields & WG_PEER_REMOVE) {
		buf_printf(b, "  - peer %s%s%s\n", p->name ? p->name : key,
			   p->name ? " " : "", p->name ? key : "");
		return;
	}
	buf_printf(b, "  %c peer %s (%s)", pc->fields & WG_PEER_NEW ? '+' : '~',
		   p->name ? p->name : "?", key);
	for (size_t i = 0; i < p->nallowed; i++) {
		wg_allowed_format(&p->allowed[i], s, sizeof(s));
		buf_printf(b, "%s%s", i ? ", " : " ", s);
	}
	buf_adds(b, ":");
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (pc->fields & parts[i].bit) {
			buf_printf(b, "%s%s", first ? " " : ", ", parts[i].what);
			first = false;
		}
	buf_adds(b, "\n");
}

void wg_change_describe(const struct wg_change *c, struct buf *b)
{
	if (c->fields & WG_SET_PRIV)
		buf_printf(b, "  ~ %s private key\n", c->dev->name);
	if (c->fields & WG_SET_PORT)
		buf_printf(b, "  ~ %s listen port %u\n", c->dev->name,
			   c->dev->port);
	if (c->fields & WG_SET_FWMARK)
		buf_printf(b, "  ~ %s fwmark 0x%x\n", c->dev->name,
			   c->dev->fwmark);
	for (size_t i = 0; i < c->npeers; i++)
		describe_peer(&c->peers[i], b);
}
