/* config -> the WireGuard devices moat keeps. Pure: keys in files and keys
 * moat generates are read by apply.c; endpoints given by name are resolved
 * there too. */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "config/config.h"
#include "wg/wg.h"

static char **strs_copy(const struct cfg_strs *s, size_t *n)
{
	char **v = s->n ? xcalloc(s->n, sizeof(*v)) : NULL;

	for (size_t i = 0; i < s->n; i++)
		v[i] = xstrdup(s->v[i]);
	*n = s->n;
	return v;
}

static int peer_compile(struct wg_device *d, const struct cfg_wg_peer *cp,
			struct diag_list *dl)
{
	struct wg_peer *p = wg_device_add_peer(d);
	int bad = 0;

	p->name = xstrdup(cp->o.name);
	p->pos = cp->o.name_pos;
	if (!wg_key_from_b64(cp->public_key.v, p->pub)) {
		diag_error(dl, &cp->public_key.pos, "peer \"%s\": public_key "
			   "is not a WireGuard key", cp->o.name);
		bad = -1;
	}
	if (cp->preshared_key.v) {
		p->has_psk = wg_key_from_b64(cp->preshared_key.v, p->psk);
		if (!p->has_psk) {
			diag_error(dl, &cp->preshared_key.pos, "peer \"%s\": "
				   "preshared_key is not a WireGuard key",
				   cp->o.name);
			bad = -1;
		}
	}
	if (cp->endpoint.v) {
		p->endpoint_text = xstrdup(cp->endpoint.v);
		/* a name stays unresolved (family 0) until apply */
		wg_endpoint_parse(cp->endpoint.v, &p->endpoint);
	}
	if (cp->persistent_keepalive.set)
		p->keepalive = (uint16_t)cp->persistent_keepalive.v;
	for (size_t i = 0; i < cp->allowed_ips.n; i++) {
		struct wg_allowed a;

		if (!wg_allowed_parse(cp->allowed_ips.v[i], &a)) {
			diag_error(dl, &cp->allowed_ips.at[i], "peer \"%s\": "
				   "allowed_ips: \"%s\" is not a prefix",
				   cp->o.name, cp->allowed_ips.v[i]);
			bad = -1;
			continue;
		}
		wg_peer_add_allowed(p, &a);
	}
	return bad;
}

/* Two peers routing the same prefix: the kernel would silently give it to
 * whichever came last. */
struct owned_prefix {
	struct wg_allowed a;
	size_t peer;
};

static int owned_prefix_cmp(const void *pa, const void *pb)
{
	const struct owned_prefix *a = pa, *b = pb;

	return wg_allowed_cmp(&a->a, &b->a);
}

static int allowed_clash(const struct wg_device *d, struct diag_list *dl)
{
	struct owned_prefix *v;
	size_t n = 0;
	int bad = 0;

	for (size_t i = 0; i < d->npeers; i++)
		n += d->peers[i].nallowed;
	if (n < 2)
		return 0;
	v = xcalloc(n, sizeof(*v));
	n = 0;
	for (size_t i = 0; i < d->npeers; i++)
		for (size_t k = 0; k < d->peers[i].nallowed; k++) {
			v[n].a = d->peers[i].allowed[k];
			v[n++].peer = i;
		}
	qsort(v, n, sizeof(*v), owned_prefix_cmp);
	for (size_t i = 1; i < n; i++) {
		char s[64];

		if (wg_allowed_cmp(&v[i - 1].a, &v[i].a) ||
		    v[i - 1].peer == v[i].peer)
			continue;
		wg_allowed_format(&v[i].a, s, sizeof(s));
		diag_error(dl, &d->peers[v[i].peer].pos, "wireguard \"%s\": "
			   "peers \"%s\" and \"%s\" both have allowed IP %s",
			   d->name, d->peers[v[i - 1].peer].name,
			   d->peers[v[i].peer].name, s);
		bad = -1;
	}
	free(v);
	return bad;
}

static int device_compile(struct wg_device *d, const struct cfg_wireguard *w,
			  struct diag_list *dl)
{
	int bad = 0;

	d->name = xstrdup(w->interface.v ? w->interface.v : w->o.name);
	d->pos = w->o.name_pos;
	d->enabled = !(w->enabled.set && !w->enabled.v);
	d->zone = w->zone.v ? xstrdup(w->zone.v) : NULL;
	d->port = w->listen_port.set ? (uint16_t)w->listen_port.v : 0;
	d->fwmark = w->fwmark.set ? (uint32_t)w->fwmark.v : 0;
	d->mtu = w->mtu.set ? (int)w->mtu.v : 0;
	d->addresses = strs_copy(&w->address, &d->naddresses);
	d->dns = strs_copy(&w->dns, &d->ndns);
	d->table = w->table.v ? xstrdup(w->table.v) : NULL;
	if (w->private_key.v) {
		d->has_priv = wg_key_from_b64(w->private_key.v, d->priv);
		d->priv_pos = w->private_key.pos;
		if (!d->has_priv) {
			diag_error(dl, &w->private_key.pos, "wireguard \"%s\": "
				   "private_key is not a WireGuard key",
				   w->o.name);
			bad = -1;
		}
	} else if (w->private_key_file.v) {
		d->priv_file = xstrdup(w->private_key_file.v);
		d->priv_pos = w->private_key_file.pos;
	} else {
		d->priv_pos = w->o.name_pos;
	}
	CFG_EACH(const struct cfg_wg_peer, p, w->peers)
		bad |= peer_compile(d, p, dl);
	for (size_t i = 0; i < d->npeers; i++)
		wg_allowed_sort(d->peers[i].allowed, d->peers[i].nallowed);
	if (!bad)
		bad = allowed_clash(d, dl);
	return bad;
}

struct wg_plan *wg_compile(const struct moat_config *cfg,
			   struct diag_list *dl)
{
	struct wg_plan *p = xcalloc(1, sizeof(*p));
	size_t cap = 0;
	int bad = 0;

	p->file = xstrdup(cfg->file ? cfg->file : "");
	CFG_EACH(const struct cfg_vpn, vpn, cfg->vpn)
		CFG_EACH(const struct cfg_wireguard, w, vpn->wireguard) {
			struct wg_device *d;

			xgrow((void **)&p->devs, &cap, p->ndevs + 1,
			      sizeof(*p->devs));
			d = &p->devs[p->ndevs++];
			memset(d, 0, sizeof(*d));
			bad |= device_compile(d, w, dl);
		}
	if (bad) {
		wg_plan_free(p);
		return NULL;
	}
	/* the plan may outlive the config */
	for (size_t i = 0; i < p->ndevs; i++) {
		struct wg_device *d = &p->devs[i];

		d->pos.file = d->priv_pos.file = p->file;
		for (size_t k = 0; k < d->npeers; k++)
			d->peers[k].pos.file = p->file;
	}
	return p;
}

void wg_plan_free(struct wg_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ndevs; i++)
		wg_device_clear(&p->devs[i]);
	free(p->devs);
	free(p->file);
	free(p);
}

const struct wg_device *wg_plan_device(const struct wg_plan *p,
				       const char *name)
{
	for (size_t i = 0; p && i < p->ndevs; i++)
		if (!strcmp(p->devs[i].name, name))
			return &p->devs[i];
	return NULL;
}
