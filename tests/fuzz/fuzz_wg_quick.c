/* libFuzzer harness for wg-quick files (src/wg/quick.c).
 *  - An input is a wg-quick file. It parses, or fails with located errors;
 *  - what parses turns into HCL, or fails with errors; HCL it produced
 *    must load through moat's own loader, strictly (no warning either),
 *    with the same device and as many peers;
 *  - a client file made of what was parsed must parse again to the same
 *    keys and lists. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "wg/quick.h"
#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_hcl(const struct wg_quick *q)
{
	struct diag_list dl = { 0 };
	struct moat_config *cfg;
	const struct cfg_wireguard *wg;
	size_t errors;
	char *hcl;

	hcl = wg_quick_to_hcl(q, "wg0", &dl);
	errors = dl.nerrors;
	diag_list_free(&dl);
	if (!hcl) {
		if (!errors)
			abort();	/* a refusal must say why */
		return;
	}
	if (errors)
		abort();
	cfg = cfg_load("import.hcl", hcl, strlen(hcl), &fuzz_env, true, &dl);
	if (!cfg || dl.nerrors || dl.nwarnings)
		abort();	/* moat refuses what import printed */
	wg = ((const struct cfg_vpn *)cfg->vpn.v)->wireguard.v;
	if (strcmp(wg->o.name, "wg0") || wg->peers.n != q->npeers ||
	    wg->address.n != q->address.n || wg->dns.n != q->dns.n)
		abort();
	cfg_free(cfg);
	diag_list_free(&dl);
	free(hcl);
}

static void check_client(const struct wg_quick *q)
{
	const struct wg_quick_peer *p = q->npeers ? &q->peers[0] : NULL;
	struct wg_client_conf c = { 0 };
	struct diag_list dl = { 0 };
	struct wg_quick back;
	char *text;

	if (!p)
		return;
	c.has_priv = q->has_priv;
	memcpy(c.priv, q->priv, sizeof(c.priv));
	c.address = q->address.v;
	c.naddress = q->address.n;
	c.dns = q->dns.v;
	c.ndns = q->dns.n;
	c.mtu = q->mtu;
	memcpy(c.server_pub, p->pub, sizeof(c.server_pub));
	c.has_psk = p->has_psk;
	memcpy(c.psk, p->psk, sizeof(c.psk));
	c.endpoint = p->endpoint;
	c.allowed_ips = p->allowed_ips.v;
	c.nallowed = p->allowed_ips.n;
	c.keepalive = p->keepalive;
	text = wg_quick_client(&c);
	if (wg_quick_parse(text, strlen(text), "client.conf", &back, &dl))
		abort();	/* we wrote what we cannot read */
	if (back.has_priv != q->has_priv ||
	    memcmp(back.priv, q->priv, sizeof(q->priv)) ||
	    back.npeers != 1 || memcmp(back.peers[0].pub, p->pub,
				       sizeof(p->pub)) ||
	    back.address.n != q->address.n || back.dns.n != q->dns.n ||
	    back.peers[0].allowed_ips.n != p->allowed_ips.n ||
	    back.peers[0].has_psk != p->has_psk || back.mtu != q->mtu)
		abort();
	for (size_t i = 0; i < q->address.n; i++)
		if (strcmp(back.address.v[i], q->address.v[i]))
			abort();
	for (size_t i = 0; i < p->allowed_ips.n; i++)
		if (strcmp(back.peers[0].allowed_ips.v[i],
			   p->allowed_ips.v[i]))
			abort();
	wg_quick_free(&back);
	diag_list_free(&dl);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = { 0 };
	struct wg_quick q;

	if (wg_quick_parse((const char *)data, size, "fuzz.conf", &q, &dl)) {
		if (!dl.nerrors)
			abort();	/* a failure must say why */
		for (size_t i = 0; i < dl.n; i++)
			if (dl.v[i].sev == DIAG_ERROR && dl.v[i].line < 0)
				abort();
		diag_list_free(&dl);
		return 0;
	}
	if (dl.nerrors)
		abort();
	for (size_t i = 0; i < q.npeers; i++) {
		if (!q.peers[i].has_pub || !q.peers[i].name)
			abort();
		for (size_t j = 0; j < i; j++)
			if (!strcmp(q.peers[i].name, q.peers[j].name))
				abort();
	}
	check_hcl(&q);
	check_client(&q);
	wg_quick_free(&q);
	diag_list_free(&dl);
	return 0;
}
