/* A command-line driver of the kernel WireGuard backend (wg/genl.c), for
 * tests/vm/wg_genl_smoke.sh under a kernel that has WireGuard. `get`
 * prints what `wg show IFNAME dump` prints, so the two can be diffed;
 * like it, it shows the private key: a test tool, for test keys only.
 *
 *   wg_genl_drive add|del|get|avail IFNAME
 *   wg_genl_drive set IFNAME [private-key=K] [port=N] [fwmark=N]
 *       [peer=K [remove] [psk=K|psk=] [endpoint=A:P] [keepalive=N]
 *        [allowed=P,P...|allowed=]]...
 *
 * Exits 0, or with the errno the backend returned (EEXIST, ENODEV...). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/util.h"
#include "wg/genl.h"

static int usage(void)
{
	fprintf(stderr, "usage: wg_genl_drive add|del|get|avail IFNAME\n"
		"       wg_genl_drive set IFNAME [private-key=K] [port=N] "
		"[fwmark=N] [peer=K [remove] [psk=K] [endpoint=A:P] "
		"[keepalive=N] [allowed=P,...]]...\n");
	return 2;
}

static const char *key_or_none(const uint8_t *k, bool has, char *buf)
{
	if (!has)
		return "(none)";
	wg_key_to_b64(k, buf);
	return buf;
}

static void print_dump(const struct wg_device *d)
{
	char k[WG_KEY_B64], text[64];
	uint8_t pub[WG_KEY_LEN];

	if (d->has_priv)
		crypto_scalarmult_base(pub, d->priv);
	printf("%s\t", key_or_none(d->priv, d->has_priv, k));
	printf("%s\t%u\t", key_or_none(pub, d->has_priv, k), d->port);
	if (d->fwmark)
		printf("0x%x\n", d->fwmark);
	else
		printf("off\n");
	for (size_t i = 0; i < d->npeers; i++) {
		const struct wg_peer *p = &d->peers[i];

		printf("%s\t", key_or_none(p->pub, true, k));
		printf("%s\t", key_or_none(p->psk, p->has_psk, k));
		wg_endpoint_format(&p->endpoint, text, sizeof(text));
		printf("%s\t", text);
		for (size_t j = 0; j < p->nallowed; j++) {
			wg_allowed_format(&p->allowed[j], text, sizeof(text));
			printf("%s%c", text, j + 1 < p->nallowed ? ',' : '\t');
		}
		if (!p->nallowed)
			printf("(none)\t");
		printf("%lld\t%llu\t%llu\t", (long long)p->handshake_sec,
		       (unsigned long long)p->rx_bytes,
		       (unsigned long long)p->tx_bytes);
		if (p->keepalive)
			printf("%u\n", p->keepalive);
		else
			printf("off\n");
	}
	sodium_memzero(pub, sizeof(pub));
}

static bool parse_allowed(struct wg_peer *p, const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *s;
	struct wg_allowed a;
	bool ok = true;

	for (s = strtok_r(copy, ",", &save); s && ok;
	     s = strtok_r(NULL, ",", &save)) {
		ok = wg_allowed_parse(s, &a);
		if (ok)
			wg_peer_add_allowed(p, &a);
	}
	free(copy);
	return ok;
}

static bool parse_num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return *s && !*end && !errno && *v <= max;
}

/* One word of `set`: a device field, a new peer, or a field of the last
 * peer. fields[] runs along dev->peers. */
static bool set_word(struct wg_device *d, struct wg_change *ch,
		     unsigned **fields, size_t *fcap, const char *w)
{
	struct wg_peer *p = d->npeers ? &d->peers[d->npeers - 1] : NULL;
	unsigned *f = d->npeers ? &(*fields)[d->npeers - 1] : NULL;
	unsigned long v;

	if (!strncmp(w, "private-key=", 12)) {
		ch->fields |= WG_SET_PRIV;
		d->has_priv = wg_key_from_b64(w + 12, d->priv);
		return d->has_priv;
	}
	if (!strncmp(w, "port=", 5)) {
		ch->fields |= WG_SET_PORT;
		if (!parse_num(w + 5, 65535, &v))
			return false;
		d->port = (uint16_t)v;
		return true;
	}
	if (!strncmp(w, "fwmark=", 7)) {
		ch->fields |= WG_SET_FWMARK;
		if (!parse_num(w + 7, UINT32_MAX, &v))
			return false;
		d->fwmark = (uint32_t)v;
		return true;
	}
	if (!strncmp(w, "peer=", 5)) {
		p = wg_device_add_peer(d);
		xgrow((void **)fields, fcap, d->npeers, sizeof(**fields));
		(*fields)[d->npeers - 1] = 0;
		return wg_key_from_b64(w + 5, p->pub);
	}
	if (!p)
		return false;
	if (!strcmp(w, "remove")) {
		*f |= WG_PEER_REMOVE;
		return true;
	}
	if (!strncmp(w, "psk=", 4)) {
		*f |= WG_PEER_PSK;
		p->has_psk = w[4] != '\0';
		return !p->has_psk || wg_key_from_b64(w + 4, p->psk);
	}
	if (!strncmp(w, "endpoint=", 9)) {
		*f |= WG_PEER_ENDPOINT;
		return wg_endpoint_parse(w + 9, &p->endpoint);
	}
	if (!strncmp(w, "keepalive=", 10)) {
		*f |= WG_PEER_KEEPALIVE;
		if (!parse_num(w + 10, 65535, &v))
			return false;
		p->keepalive = (uint16_t)v;
		return true;
	}
	if (!strncmp(w, "allowed=", 8)) {
		*f |= WG_PEER_ALLOWED;
		return parse_allowed(p, w + 8);
	}
	return false;
}

static int cmd_set(const char *ifname, int argc, char **argv, char *err,
		   size_t errlen)
{
	struct wg_device d = { .name = xstrdup(ifname) };
	struct wg_change ch = { .dev = &d };
	unsigned *fields = NULL;
	size_t fcap = 0;
	int r = -EINVAL;

	for (int i = 0; i < argc; i++)
		if (!set_word(&d, &ch, &fields, &fcap, argv[i])) {
			snprintf(err, errlen, "bad word: %.40s", argv[i]);
			goto out;
		}
	ch.peers = xcalloc(d.npeers + 1, sizeof(*ch.peers));
	for (size_t i = 0; i < d.npeers; i++) {
		ch.peers[i].peer = &d.peers[i];
		ch.peers[i].fields = fields[i];
	}
	ch.npeers = d.npeers;
	r = wg_kernel_set(&ch, err, errlen);
out:
	free(ch.peers);
	free(fields);
	wg_device_clear(&d);
	return r;
}

int main(int argc, char **argv)
{
	struct wg_device d;
	char err[512] = "";
	int r;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "avail")) {
		bool yes = wg_kernel_available();

		printf("%s\n", yes ? "yes" : "no");
		return yes ? 0 : 1;
	}
	if (argc < 3 || sodium_init() < 0)
		return usage();
	if (!strcmp(argv[1], "add") && argc == 3)
		r = wg_kernel_link_add(argv[2], err, sizeof(err));
	else if (!strcmp(argv[1], "del") && argc == 3)
		r = wg_kernel_link_del(argv[2], err, sizeof(err));
	else if (!strcmp(argv[1], "set"))
		r = cmd_set(argv[2], argc - 3, argv + 3, err, sizeof(err));
	else if (!strcmp(argv[1], "get") && argc == 3) {
		r = wg_kernel_get(argv[2], &d, err, sizeof(err));
		if (!r) {
			print_dump(&d);
			wg_device_clear(&d);
		}
	} else
		return usage();
	if (r) {
		fprintf(stderr, "wg_genl_drive %s: %s (%d)\n", argv[1], err, r);
		return -r & 0xff;
	}
	return 0;
}
