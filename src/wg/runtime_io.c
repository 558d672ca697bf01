/* Runtime peers, the I/O: one peer's change in the store and on the
 * device, in that order, and the store put back when the device refuses
 * (so that the store never holds a peer the device would not take). */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "wg/apply.h"
#include "wg/runtime.h"

int wg_rt_send(const char *dev, const struct wg_peer *p, unsigned fields,
	       bool *live, char *err, size_t errlen)
{
	struct wg_device now = { .name = (char *)dev };
	struct wg_peer_change pc = { .peer = p, .fields = fields };
	struct wg_change c = { .dev = &now, .peers = &pc, .npeers = 1 };
	enum wg_backend be = wg_backend_of(dev);
	char e[256] = "";
	int r;

	*live = false;
	if (be == WG_BACKEND_NONE)
		return 0;
	r = wg_write(be, &c, e, sizeof(e));
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", dev, *e ? e : strerror(-r));
		return -1;
	}
	*live = true;
	return 0;
}

int wg_rt_add(struct store *s, const char *dev, const struct wg_peer *p,
	      bool *live, char *err, size_t errlen)
{
	char e[256];

	*live = false;
	if (store_wg_peer_add(s, dev, p, err, errlen) < 0)
		return -1;
	if (wg_rt_send(dev, p, wg_rt_new_fields(p), live, err, errlen) == 0)
		return 0;
	store_wg_peer_del(s, dev, p->name, e, sizeof(e));
	return -1;
}

int wg_rt_del(struct store *s, const char *dev, const struct wg_peer *p,
	      bool *live, char *err, size_t errlen)
{
	char e[256];
	int r;

	*live = false;
	r = store_wg_peer_del(s, dev, p->name, err, errlen);
	if (r <= 0)
		return r < 0 ? -1 : 1;
	if (wg_rt_send(dev, p, WG_PEER_REMOVE, live, err, errlen) == 0)
		return 0;
	store_wg_peer_add(s, dev, p, e, sizeof(e));
	return -1;
}

/* What the device needs to make old into p. */
static unsigned changed_fields(const struct wg_peer *old,
			       const struct wg_peer *p)
{
	unsigned f = 0;

	if (old->has_psk != p->has_psk ||
	    memcmp(old->psk, p->psk, WG_KEY_LEN))
		f |= WG_PEER_PSK;
	if (p->endpoint.family && !wg_endpoint_equal(&old->endpoint,
						     &p->endpoint))
		f |= WG_PEER_ENDPOINT;
	if (old->keepalive != p->keepalive)
		f |= WG_PEER_KEEPALIVE;
	if (old->nallowed != p->nallowed)
		f |= WG_PEER_ALLOWED;
	for (size_t i = 0; !(f & WG_PEER_ALLOWED) && i < p->nallowed; i++)
		if (wg_allowed_cmp(&old->allowed[i], &p->allowed[i]))
			f |= WG_PEER_ALLOWED;
	return f;
}

int wg_rt_update(struct store *s, const char *dev, const struct wg_peer *old,
		 const struct wg_peer *p, bool *live, char *err,
		 size_t errlen)
{
	/* the peer whole, not only what changed: a peer the device lost
	 * (removed by hand, a restart not yet synced) is made whole again
	 * rather than made with the changed fields alone; what changed
	 * covers what whole leaves out (a preshared key taken away) */
	unsigned f = (changed_fields(old, p) | wg_rt_new_fields(p)) &
		     ~(unsigned)WG_PEER_NEW;
	char e[256];
	int r;

	*live = false;
	r = store_wg_peer_update(s, dev, p, err, errlen);
	if (r <= 0) {
		if (r == 0)
			snprintf(err, errlen, "%s: the store has no peer "
				 "\"%s\"", dev, p->name);
		return -1;
	}
	if (wg_rt_send(dev, p, f, live, err, errlen) == 0)
		return 0;
	store_wg_peer_update(s, dev, old, e, sizeof(e));
	return -1;
}
