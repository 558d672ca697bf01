/* The three components of ctl so far: WireGuard, the network, the
 * firewall. Each wraps its subsystem's compile and apply, which already
 * read the kernel and change only the difference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ctl/component.h"
#include "fw/apply.h"
#include "fw/fw.h"
#include "net/apply.h"
#include "net/net.h"
#include "wg/apply.h"
#include "wg/wg.h"

static void hex(const unsigned char *h, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The test-only fault: MOAT_CTL_FAULT=NAME fails NAME's applies. */
static bool faulted(const struct comp_env *env, const char *name,
		    struct diag_list *dl)
{
	if (!env->fault || strcmp(env->fault, name))
		return false;
	diag_error(dl, NULL, "%s: a fault injected by MOAT_CTL_FAULT", name);
	return true;
}

/* --- WireGuard ------------------------------------------------------------ */

static void *wg_comp_compile(const struct moat_config *cfg,
			     const struct comp_env *env, struct diag_list *dl)
{
	struct wg_apply_opts o = { .state_dir = env->state_dir,
				   .config = env->config_path };
	struct wg_plan *p = wg_compile(cfg, dl);

	if (p && wg_prepare(p, &o, dl) < 0) {
		wg_plan_free(p);
		return NULL;
	}
	return p;
}

static void hash_str(crypto_hash_sha256_state *hs, const char *s)
{
	s = s ? s : "";
	crypto_hash_sha256_update(hs, (const unsigned char *)s, strlen(s) + 1);
}

static void hash_bytes(crypto_hash_sha256_state *hs, const void *p, size_t n)
{
	crypto_hash_sha256_update(hs, p, n);
}

/* Everything that reaches a device or its peers. The private key is in
 * it, hashed: a changed key must change the hash. */
static void wg_comp_hash(const void *plan, char *out)
{
	const struct wg_plan *p = plan;
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state hs;

	crypto_hash_sha256_init(&hs);
	for (size_t i = 0; p && i < p->ndevs; i++) {
		const struct wg_device *d = &p->devs[i];
		uint32_t v[4] = { d->port, d->fwmark, (uint32_t)d->mtu,
				  d->enabled };

		hash_str(&hs, d->name);
		hash_bytes(&hs, v, sizeof(v));
		hash_bytes(&hs, &d->has_priv, 1);
		hash_bytes(&hs, d->priv, sizeof(d->priv));
		for (size_t j = 0; j < d->naddresses; j++)
			hash_str(&hs, d->addresses[j]);
		for (size_t j = 0; j < d->npeers; j++) {
			const struct wg_peer *q = &d->peers[j];

			hash_str(&hs, q->name);
			hash_bytes(&hs, q->pub, sizeof(q->pub));
			hash_bytes(&hs, &q->has_psk, 1);
			hash_bytes(&hs, q->psk, sizeof(q->psk));
			hash_bytes(&hs, &q->endpoint, sizeof(q->endpoint));
			hash_bytes(&hs, &q->keepalive, sizeof(q->keepalive));
			for (size_t k = 0; k < q->nallowed; k++)
				hash_bytes(&hs, &q->allowed[k],
					   sizeof(q->allowed[k]));
		}
	}
	crypto_hash_sha256_final(&hs, h);
	hex(h, sizeof(h), out);
	sodium_memzero(&hs, sizeof(hs));
}

static int wg_comp_apply(const void *plan, const struct comp_env *env,
			 bool force, enum comp_outcome *out,
			 struct diag_list *dl)
{
	static const struct wg_plan none;
	struct wg_apply_opts o = { .state_dir = env->state_dir,
				   .config = env->config_path };
	const struct wg_plan *p = plan ? plan : &none;
	struct wg_txn t = { 0 };
	int r = -1;

	(void)force;	/* the delta is read from the devices every time */
	*out = COMP_UNCHANGED;
	if (faulted(env, "wg", dl))
		return -1;
	if (wg_plan_changes(p, &o, &t, dl) < 0)
		goto out;
	if (wg_txn_changes(&t)) {
		if (wg_commit(&t, &o, dl) < 0)
			goto out;
		*out = COMP_APPLIED;
	}
	r = 0;
out:
	wg_txn_free(&t);
	return r;
}

static void wg_comp_free(void *plan)
{
	wg_plan_free(plan);
}

static json_t *wg_comp_summary(const void *plan)
{
	const struct wg_plan *p = plan;
	size_t peers = 0;

	for (size_t i = 0; p && i < p->ndevs; i++)
		peers += p->devs[i].npeers;
	return json_pack("{sIsI}", "devices", (json_int_t)(p ? p->ndevs : 0),
			 "peers", (json_int_t)peers);
}

static const struct component wg_component = {
	.name = "wg",
	.compile = wg_comp_compile,
	.hash = wg_comp_hash,
	.apply = wg_comp_apply,
	.free_plan = wg_comp_free,
	.summary = wg_comp_summary,
};

/* --- the network ---------------------------------------------------------- */

static void *net_comp_compile(const struct moat_config *cfg,
			      const struct comp_env *env, struct diag_list *dl)
{
	(void)env;
	return net_compile(cfg, dl);
}

static void net_comp_hash(const void *plan, char *out)
{
	static const struct net_plan none;

	net_fingerprint(plan ? plan : &none, out);
}

static int net_comp_apply(const void *plan, const struct comp_env *env,
			  bool force, enum comp_outcome *out,
			  struct diag_list *dl)
{
	static const struct net_plan none;
	struct net_apply_opts o = { .state_dir = env->state_dir };
	enum net_outcome no = NET_UNCHANGED;

	(void)force;	/* net always reads the kernel */
	*out = COMP_UNCHANGED;
	if (faulted(env, "net", dl))
		return -1;
	if (net_apply(plan ? plan : &none, &o, &no, NULL, dl) < 0)
		return -1;
	if (no == NET_APPLIED)
		*out = COMP_APPLIED;
	return 0;
}

static void net_comp_free(void *plan)
{
	net_plan_free(plan);
}

static json_t *net_comp_summary(const void *plan)
{
	const struct net_plan *p = plan;

	return json_pack("{sIsIsI}", "links", (json_int_t)p->nlinks,
			 "routes", (json_int_t)p->nroutes, "rules",
			 (json_int_t)p->nrules);
}

static const struct component net_component = {
	.name = "net",
	.compile = net_comp_compile,
	.hash = net_comp_hash,
	.apply = net_comp_apply,
	.free_plan = net_comp_free,
	.summary = net_comp_summary,
};

/* --- the firewall --------------------------------------------------------- */

static void *fw_comp_compile(const struct moat_config *cfg,
			     const struct comp_env *env, struct diag_list *dl)
{
	(void)env;
	return fw_compile(cfg, dl);
}

static void fw_comp_hash(const void *plan, char *out)
{
	const struct fw_plan *p = plan;

	snprintf(out, 65, "%s", p ? p->hash : "");
}

static int fw_comp_apply(const void *plan, const struct comp_env *env,
			 bool force, enum comp_outcome *out,
			 struct diag_list *dl)
{
	struct fw_apply_opts o = { .state_dir = env->state_dir,
				   .force = force };
	enum fw_outcome fo = FW_UNCHANGED;

	*out = COMP_UNCHANGED;
	if (faulted(env, "fw", dl))
		return -1;
	if (!plan) {
		if (fw_remove(dl) < 0)
			return -1;
		*out = COMP_APPLIED;
		return 0;
	}
	if (fw_apply(plan, &o, &fo, dl) < 0)
		return -1;
	if (fo == FW_APPLIED)
		*out = COMP_APPLIED;
	return 0;
}

static void fw_comp_free(void *plan)
{
	fw_plan_free(plan);
}

static json_t *fw_comp_summary(const void *plan)
{
	const struct fw_plan *p = plan;

	return json_pack("{sIsIsIss}", "chains", (json_int_t)p->nchains,
			 "rules", (json_int_t)p->nrules, "sets",
			 (json_int_t)p->nsets, "hash", p->hash);
}

static const struct component fw_component = {
	.name = "fw",
	.compile = fw_comp_compile,
	.hash = fw_comp_hash,
	.apply = fw_comp_apply,
	.free_plan = fw_comp_free,
	.summary = fw_comp_summary,
};

const struct component *const components[NCOMPONENTS] = {
	&wg_component, &net_component, &fw_component,
};
