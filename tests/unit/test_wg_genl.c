/* The kernel WireGuard backend's messages (wg/genl_msg.c): SET_DEVICE
 * requests checked byte for byte and decoded again with libmnl's own
 * parsers, attribute by attribute, including the split over several
 * messages; GET_DEVICE dump messages written by hand as the kernel
 * writes them, malformed ones included. */
#include <arpa/inet.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/time_types.h>

#include "base/util.h"
#include "wg/genl.h"

#define FAMILY 0x1b	/* what the controller handed out */
#define SEQ 1000u
#define BIT(t) (1u << (t))

static const uint8_t zero_key[WG_KEY_LEN];

static void fill_key(uint8_t k[WG_KEY_LEN], unsigned seed)
{
	for (unsigned i = 0; i < WG_KEY_LEN; i++)
		k[i] = (uint8_t)(0x40 + i * 7);
	k[0] = (uint8_t)(seed >> 24);
	k[1] = (uint8_t)(seed >> 16);
	k[2] = (uint8_t)(seed >> 8);
	k[3] = (uint8_t)seed;
}

/* The i-th of a peer's allowed IPs: v4 /24s and v6 /128s by turns. */
static struct wg_allowed ip_n(unsigned seed, unsigned i)
{
	struct wg_allowed a = { 0 };

	if (i % 2 == 0) {
		a.family = AF_INET;
		a.addr[0] = 10;
		a.addr[1] = (uint8_t)(i >> 8);
		a.addr[2] = (uint8_t)i;
		a.cidr = 24;
	} else {
		a.family = AF_INET6;
		a.addr[0] = 0xfd;
		a.addr[12] = (uint8_t)(seed >> 8);
		a.addr[13] = (uint8_t)seed;
		a.addr[14] = (uint8_t)(i >> 8);
		a.addr[15] = (uint8_t)i;
		a.cidr = 128;
	}
	return a;
}

/* ---- a planned device and a change on it ---- */

struct fixture {
	struct wg_device dev;
	struct wg_change ch;
	unsigned *fields;	/* per peer, until fx_done */
	size_t fields_cap;
};

static void fx_init(struct fixture *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->dev.name = xstrdup(name);
	f->ch.dev = &f->dev;
}

static struct wg_peer *fx_peer(struct fixture *f, unsigned seed,
			       unsigned fields, unsigned nallowed)
{
	struct wg_peer *p = wg_device_add_peer(&f->dev);

	xgrow((void **)&f->fields, &f->fields_cap, f->dev.npeers,
	      sizeof(*f->fields));
	f->fields[f->dev.npeers - 1] = fields;
	fill_key(p->pub, seed);
	for (unsigned i = 0; i < nallowed; i++) {
		struct wg_allowed a = ip_n(seed, i);

		wg_peer_add_allowed(p, &a);
	}
	return p;
}

/* The change, once every peer is in place (adding moves them). */
static void fx_done(struct fixture *f)
{
	f->ch.peers = xcalloc(f->dev.npeers + 1, sizeof(*f->ch.peers));
	for (size_t i = 0; i < f->dev.npeers; i++) {
		f->ch.peers[i].peer = &f->dev.peers[i];
		f->ch.peers[i].fields = f->fields[i];
	}
	f->ch.npeers = f->ch.cap = f->dev.npeers;
}

static void fx_free(struct fixture *f)
{
	free(f->ch.peers);
	free(f->fields);
	wg_device_clear(&f->dev);
}

/* ---- decoding a SET_DEVICE request with libmnl's parsers ---- */

struct dpeer {
	unsigned seen;		/* BIT(WGPEER_A_*) */
	uint8_t pub[WG_KEY_LEN];
	uint32_t flags;
	uint8_t psk[WG_KEY_LEN];
	uint8_t ep[sizeof(struct sockaddr_in6)];
	size_t ep_len;
	uint16_t keepalive;
	struct wg_allowed *ips;
	size_t nips, cap;
};

struct dmsg {
	unsigned seen;		/* BIT(WGDEVICE_A_*) */
	int nattrs;
	int first_type;
	size_t end;		/* where the last attribute ends */
	const struct nlmsghdr *nlh;
	char name[IFNAMSIZ];
	uint8_t priv[WG_KEY_LEN];
	uint16_t port;
	uint32_t fwmark;
	struct dpeer *peers;
	size_t npeers, cap;
	int bad;		/* duplicates, wrong types, wrong sizes */
};

struct dip {
	struct wg_allowed a;
	unsigned seen;
	int bad;
};

/* The bytes between an attribute's end and the next are zero: nothing
 * of the builder's memory leaks into a message. */
static void check_pad(const struct nlattr *a)
{
	const uint8_t *p = (const uint8_t *)a;

	for (size_t i = a->nla_len; i < (size_t)MNL_ALIGN(a->nla_len); i++)
		assert_int_equal(p[i], 0);
}

static void dmsg_free(struct dmsg *d)
{
	for (size_t i = 0; i < d->npeers; i++)
		free(d->peers[i].ips);
	free(d->peers);
	memset(d, 0, sizeof(*d));
}

static int ip_attr_cb(const struct nlattr *a, void *data)
{
	struct dip *ip = data;
	uint16_t t = mnl_attr_get_type(a);
	size_t len = mnl_attr_get_payload_len(a);

	check_pad(a);

	if (t > 31 || (ip->seen & BIT(t)))
		ip->bad++;
	else
		ip->seen |= BIT(t);
	switch (t) {
	case WGALLOWEDIP_A_FAMILY:
		ip->bad += mnl_attr_validate(a, MNL_TYPE_U16) < 0;
		ip->a.family = mnl_attr_get_u16(a);
		break;
	case WGALLOWEDIP_A_IPADDR:
		ip->bad += len != 4 && len != 16;
		memcpy(ip->a.addr, mnl_attr_get_payload(a), len > 16 ? 16 : len);
		break;
	case WGALLOWEDIP_A_CIDR_MASK:
		ip->bad += mnl_attr_validate(a, MNL_TYPE_U8) < 0;
		ip->a.cidr = mnl_attr_get_u8(a);
		break;
	default:
		ip->bad++;
	}
	return MNL_CB_OK;
}

static int ip_cb(const struct nlattr *a, void *data)
{
	struct dpeer *p = data;
	struct dip ip = { 0 };

	assert_int_equal(mnl_attr_get_type(a), 0);
	assert_true(a->nla_type & NLA_F_NESTED);
	assert_int_equal(mnl_attr_parse_nested(a, ip_attr_cb, &ip), MNL_CB_OK);
	assert_int_equal(ip.bad, 0);
	assert_int_equal(ip.seen, BIT(WGALLOWEDIP_A_FAMILY) |
				  BIT(WGALLOWEDIP_A_IPADDR) |
				  BIT(WGALLOWEDIP_A_CIDR_MASK));
	assert_int_equal(mnl_attr_get_payload_len(a),
			 8 + (ip.a.family == AF_INET ? 8 : 20) + 8);
	xgrow((void **)&p->ips, &p->cap, p->nips + 1, sizeof(*p->ips));
	p->ips[p->nips++] = ip.a;
	return MNL_CB_OK;
}

static int peer_attr_cb(const struct nlattr *a, void *data)
{
	struct dpeer *p = data;
	uint16_t t = mnl_attr_get_type(a);
	size_t len = mnl_attr_get_payload_len(a);

	check_pad(a);

	assert_true(t <= WGPEER_A_MAX);
	assert_false(p->seen & BIT(t));		/* no duplicates */
	p->seen |= BIT(t);
	switch (t) {
	case WGPEER_A_PUBLIC_KEY:
		assert_int_equal(mnl_attr_validate2(a, MNL_TYPE_BINARY,
						    WG_KEY_LEN), 0);
		memcpy(p->pub, mnl_attr_get_payload(a), WG_KEY_LEN);
		break;
	case WGPEER_A_FLAGS:
		assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U32), 0);
		p->flags = mnl_attr_get_u32(a);
		break;
	case WGPEER_A_PRESHARED_KEY:
		assert_int_equal(mnl_attr_validate2(a, MNL_TYPE_BINARY,
						    WG_KEY_LEN), 0);
		memcpy(p->psk, mnl_attr_get_payload(a), WG_KEY_LEN);
		break;
	case WGPEER_A_ENDPOINT:
		assert_true(len == sizeof(struct sockaddr_in) ||
			    len == sizeof(struct sockaddr_in6));
		memcpy(p->ep, mnl_attr_get_payload(a), len);
		p->ep_len = len;
		break;
	case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
		assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U16), 0);
		p->keepalive = mnl_attr_get_u16(a);
		break;
	case WGPEER_A_ALLOWEDIPS:
		assert_true(a->nla_type & NLA_F_NESTED);
		assert_int_equal(mnl_attr_parse_nested(a, ip_cb, p),
				 MNL_CB_OK);
		break;
	default:
		fail_msg("peer attribute %u in a request", t);
	}
	return MNL_CB_OK;
}

static int peer_cb(const struct nlattr *a, void *data)
{
	struct dmsg *d = data;
	struct dpeer *p;

	assert_int_equal(mnl_attr_get_type(a), 0);
	assert_true(a->nla_type & NLA_F_NESTED);
	xgrow((void **)&d->peers, &d->cap, d->npeers + 1, sizeof(*d->peers));
	p = &d->peers[d->npeers++];
	memset(p, 0, sizeof(*p));
	assert_int_equal(mnl_attr_parse_nested(a, peer_attr_cb, p),
			 MNL_CB_OK);
	assert_true(p->seen & BIT(WGPEER_A_PUBLIC_KEY));
	return MNL_CB_OK;
}

static int dev_cb(const struct nlattr *a, void *data)
{
	struct dmsg *d = data;
	uint16_t t = mnl_attr_get_type(a);

	check_pad(a);

	if (d->nattrs++ == 0)
		d->first_type = t;
	d->end = (size_t)((const char *)a - (const char *)d->nlh) +
		 MNL_ALIGN(a->nla_len);
	if (t > 31 || (d->seen & BIT(t)))
		d->bad++;
	else
		d->seen |= BIT(t);
	switch (t) {
	case WGDEVICE_A_IFNAME:
		assert_int_equal(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
		assert_true(mnl_attr_get_payload_len(a) <= IFNAMSIZ);
		strcpy(d->name, mnl_attr_get_str(a));
		break;
	case WGDEVICE_A_PRIVATE_KEY:
		assert_int_equal(mnl_attr_validate2(a, MNL_TYPE_BINARY,
						    WG_KEY_LEN), 0);
		memcpy(d->priv, mnl_attr_get_payload(a), WG_KEY_LEN);
		break;
	case WGDEVICE_A_LISTEN_PORT:
		assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U16), 0);
		d->port = mnl_attr_get_u16(a);
		break;
	case WGDEVICE_A_FWMARK:
		assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U32), 0);
		d->fwmark = mnl_attr_get_u32(a);
		break;
	case WGDEVICE_A_PEERS:
		assert_true(a->nla_type & NLA_F_NESTED);
		assert_int_equal(mnl_attr_parse_nested(a, peer_cb, d),
				 MNL_CB_OK);
		break;
	default:	/* FLAGS (REPLACE_PEERS) above all */
		fail_msg("device attribute %u in a request", t);
	}
	return MNL_CB_OK;
}

/* Decodes message i of m and checks its headers. */
static void decode(const struct wg_genl_msgs *m, size_t i, struct dmsg *d)
{
	const struct nlmsghdr *nlh = m->buf[i];
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	memset(d, 0, sizeof(*d));
	d->nlh = nlh;
	assert_int_equal(nlh->nlmsg_len, m->len[i]);
	assert_int_equal(nlh->nlmsg_type, FAMILY);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_seq, SEQ + i);
	assert_int_equal(nlh->nlmsg_pid, 0);
	assert_int_equal(g->cmd, WG_CMD_SET_DEVICE);
	assert_int_equal(g->version, WG_GENL_VERSION);
	assert_int_equal(g->reserved, 0);
	assert_int_equal(mnl_attr_parse(nlh, GENL_HDRLEN, dev_cb, d),
			 MNL_CB_OK);
	assert_int_equal(d->bad, 0);
	/* every byte is an attribute, nothing cut or left over */
	assert_int_equal(d->end, nlh->nlmsg_len);
	assert_int_equal(d->first_type, WGDEVICE_A_IFNAME);
}

static void sockaddr_of(const struct wg_endpoint *e, uint8_t *out,
			size_t *len)
{
	if (e->family == AF_INET) {
		struct sockaddr_in sin = { 0 };

		sin.sin_family = AF_INET;
		sin.sin_port = htons(e->port);
		memcpy(&sin.sin_addr, e->addr, 4);
		memcpy(out, &sin, sizeof(sin));
		*len = sizeof(sin);
	} else {
		struct sockaddr_in6 sin6 = { 0 };

		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(e->port);
		memcpy(&sin6.sin6_addr, e->addr, 16);
		memcpy(out, &sin6, sizeof(sin6));
		*len = sizeof(sin6);
	}
}

static void check_ips(const struct wg_allowed *got, size_t ngot,
		      const struct wg_allowed *want, size_t nwant)
{
	assert_int_equal(ngot, nwant);
	for (size_t i = 0; i < nwant; i++) {
		size_t alen = want[i].family == AF_INET ? 4 : 16;

		assert_int_equal(got[i].family, want[i].family);
		assert_int_equal(got[i].cidr, want[i].cidr);
		assert_memory_equal(got[i].addr, want[i].addr, alen);
	}
}

/* A decoded peer (its parts put together) against the change asked. */
static void check_peer(const struct dpeer *dp, const struct wg_peer_change *pc)
{
	const struct wg_peer *p = pc->peer;
	unsigned f = pc->fields, want = BIT(WGPEER_A_PUBLIC_KEY);

	assert_memory_equal(dp->pub, p->pub, WG_KEY_LEN);
	if (f & WG_PEER_REMOVE) {
		assert_int_equal(dp->seen, want | BIT(WGPEER_A_FLAGS));
		assert_int_equal(dp->flags, WGPEER_F_REMOVE_ME);
		return;
	}
	if (f & WG_PEER_ALLOWED) {
		want |= BIT(WGPEER_A_FLAGS) | BIT(WGPEER_A_ALLOWEDIPS);
		assert_int_equal(dp->flags, WGPEER_F_REPLACE_ALLOWEDIPS);
		check_ips(dp->ips, dp->nips, p->allowed, p->nallowed);
	}
	if (f & WG_PEER_PSK) {
		want |= BIT(WGPEER_A_PRESHARED_KEY);
		assert_memory_equal(dp->psk, p->has_psk ? p->psk : zero_key,
				    WG_KEY_LEN);
	}
	if ((f & WG_PEER_ENDPOINT) && p->endpoint.family) {
		uint8_t sa[sizeof(struct sockaddr_in6)];
		size_t len;

		want |= BIT(WGPEER_A_ENDPOINT);
		sockaddr_of(&p->endpoint, sa, &len);
		assert_int_equal(dp->ep_len, len);
		assert_memory_equal(dp->ep, sa, len);
	}
	if (f & WG_PEER_KEEPALIVE) {
		want |= BIT(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL);
		assert_int_equal(dp->keepalive, p->keepalive);
	}
	assert_int_equal(dp->seen, want);
}

/* The first message's device fields: those asked for and no others. */
static void check_dev_fields(const struct dmsg *d, const struct fixture *f)
{
	const struct wg_device *dev = &f->dev;
	unsigned fl = f->ch.fields;

	assert_int_equal(!!(d->seen & BIT(WGDEVICE_A_PRIVATE_KEY)),
			 !!(fl & WG_SET_PRIV));
	assert_int_equal(!!(d->seen & BIT(WGDEVICE_A_LISTEN_PORT)),
			 !!(fl & WG_SET_PORT));
	assert_int_equal(!!(d->seen & BIT(WGDEVICE_A_FWMARK)),
			 !!(fl & WG_SET_FWMARK));
	if (fl & WG_SET_PRIV)
		assert_memory_equal(d->priv,
				    dev->has_priv ? dev->priv : zero_key,
				    WG_KEY_LEN);
	if (fl & WG_SET_PORT)
		assert_int_equal(d->port, dev->port);
	if (fl & WG_SET_FWMARK)
		assert_int_equal(d->fwmark, dev->fwmark);
}

/* Decodes every message of m and puts split peers together again, as
 * the kernel applies them; checks the rules of the split on the way. */
static void reassemble(const struct wg_genl_msgs *m, const struct fixture *f,
		       size_t max, struct dmsg *all, size_t *ncont)
{
	unsigned devf = BIT(WGDEVICE_A_PRIVATE_KEY) |
			BIT(WGDEVICE_A_LISTEN_PORT) | BIT(WGDEVICE_A_FWMARK);

	memset(all, 0, sizeof(*all));
	*ncont = 0;
	for (size_t i = 0; i < m->n; i++) {
		struct dmsg d;

		assert_true(m->len[i] <= max);
		decode(m, i, &d);
		assert_string_equal(d.name, f->dev.name);
		if (i > 0)
			assert_int_equal(d.seen & devf, 0);
		else
			check_dev_fields(&d, f);
		if (i > 0 || f->ch.fields == 0)
			assert_true(d.npeers > 0);	/* no empty message */
		for (size_t j = 0; j < d.npeers; j++) {
			struct dpeer *dp = &d.peers[j], *last;

			last = all->npeers ? &all->peers[all->npeers - 1] :
					     NULL;
			if (j == 0 && last &&
			    !memcmp(last->pub, dp->pub, WG_KEY_LEN)) {
				/* a continued peer: its key and more IPs */
				assert_int_equal(dp->seen,
						 BIT(WGPEER_A_PUBLIC_KEY) |
						 BIT(WGPEER_A_ALLOWEDIPS));
				/* every part carries an allowed IP */
				assert_true(last->nips > 0);
				assert_true(dp->nips > 0);
				for (size_t k = 0; k < dp->nips; k++) {
					xgrow((void **)&last->ips, &last->cap,
					      last->nips + 1,
					      sizeof(*last->ips));
					last->ips[last->nips++] = dp->ips[k];
				}
				free(dp->ips);
				(*ncont)++;
				continue;
			}
			xgrow((void **)&all->peers, &all->cap,
			      all->npeers + 1, sizeof(*all->peers));
			all->peers[all->npeers++] = *dp;
		}
		free(d.peers);
	}
}

static void check_all(const struct wg_genl_msgs *m, const struct fixture *f,
		      size_t max, size_t *ncont)
{
	struct dmsg all;

	reassemble(m, f, max, &all, ncont);
	assert_int_equal(all.npeers, f->ch.npeers);
	for (size_t i = 0; i < f->ch.npeers; i++)
		check_peer(&all.peers[i], &f->ch.peers[i]);
	dmsg_free(&all);
}

/* ---- building ---- */

static void test_device_fields_bytes(void **state)
{
	static const uint8_t want[] = {
		80, 0, 0, 0,		/* nlmsg_len */
		FAMILY, 0,		/* nlmsg_type */
		0x05, 0x00,		/* NLM_F_REQUEST | NLM_F_ACK */
		0xe8, 0x03, 0, 0,	/* seq 1000 */
		0, 0, 0, 0,		/* pid */
		WG_CMD_SET_DEVICE, WG_GENL_VERSION, 0, 0,
		8, 0, WGDEVICE_A_IFNAME, 0, 'w', 'g', '0', 0,
		36, 0, WGDEVICE_A_PRIVATE_KEY, 0,
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
		31, 32,
		6, 0, WGDEVICE_A_LISTEN_PORT, 0, 0x6c, 0xca, 0, 0,
		8, 0, WGDEVICE_A_FWMARK, 0, 0x42, 0, 0, 0,
	};
	struct wg_genl_msgs m;
	struct fixture f;

	(void)state;
	if (htons(1) == 1)
		skip();		/* the bytes are little-endian */
	fx_init(&f, "wg0");
	f.dev.has_priv = true;
	for (int i = 0; i < WG_KEY_LEN; i++)
		f.dev.priv[i] = (uint8_t)(i + 1);
	f.dev.port = 51820;
	f.dev.fwmark = 0x42;
	fx_done(&f);
	f.ch.fields = WG_SET_PRIV | WG_SET_PORT | WG_SET_FWMARK;
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.len[0], sizeof(want));
	assert_memory_equal(m.buf[0], want, sizeof(want));
	wg_genl_msgs_free(&m);
	assert_int_equal(m.n, 0);
	assert_null(m.buf);
	fx_free(&f);
}

static void test_device_fields_subset(void **state)
{
	static const unsigned cases[] = {
		0, WG_SET_PRIV, WG_SET_PORT, WG_SET_FWMARK,
		WG_SET_PORT | WG_SET_FWMARK,
	};
	struct wg_genl_msgs m;
	struct fixture f;
	struct dmsg d;

	(void)state;
	fx_init(&f, "wg-home");
	f.dev.port = 0;		/* random: still said when asked */
	f.dev.fwmark = 0xdeadbeef;
	fx_done(&f);
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		unsigned want = BIT(WGDEVICE_A_IFNAME);

		f.ch.fields = cases[c];
		assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192,
						   &m), 0);
		assert_int_equal(m.n, 1);
		decode(&m, 0, &d);
		assert_string_equal(d.name, "wg-home");
		if (cases[c] & WG_SET_PRIV) {
			/* no private key: a zero one clears it */
			want |= BIT(WGDEVICE_A_PRIVATE_KEY);
			assert_memory_equal(d.priv, zero_key, WG_KEY_LEN);
		}
		if (cases[c] & WG_SET_PORT) {
			want |= BIT(WGDEVICE_A_LISTEN_PORT);
			assert_int_equal(d.port, 0);
		}
		if (cases[c] & WG_SET_FWMARK) {
			want |= BIT(WGDEVICE_A_FWMARK);
			assert_int_equal(d.fwmark, 0xdeadbeef);
		}
		assert_int_equal(d.seen, want);
		assert_int_equal(d.npeers, 0);
		dmsg_free(&d);
		wg_genl_msgs_free(&m);
	}
	fx_free(&f);
}

static void test_remove_bytes(void **state)
{
	static const uint8_t want[] = {
		80, 0, 0, 0, FAMILY, 0, 0x05, 0x00,
		0xe8, 0x03, 0, 0, 0, 0, 0, 0,
		WG_CMD_SET_DEVICE, WG_GENL_VERSION, 0, 0,
		8, 0, WGDEVICE_A_IFNAME, 0, 'w', 'g', '1', 0,
		52, 0, WGDEVICE_A_PEERS, 0x80,		/* NLA_F_NESTED */
		48, 0, 0, 0x80,
		36, 0, WGPEER_A_PUBLIC_KEY, 0,
		0, 0, 0, 7, 0x5c, 0x63, 0x6a, 0x71, 0x78, 0x7f, 0x86, 0x8d,
		0x94, 0x9b, 0xa2, 0xa9, 0xb0, 0xb7, 0xbe, 0xc5, 0xcc, 0xd3,
		0xda, 0xe1, 0xe8, 0xef, 0xf6, 0xfd, 0x04, 0x0b, 0x12, 0x19,
		8, 0, WGPEER_A_FLAGS, 0, WGPEER_F_REMOVE_ME, 0, 0, 0,
	};
	struct wg_genl_msgs m;
	struct fixture f;
	struct wg_peer *p;

	(void)state;
	if (htons(1) == 1)
		skip();
	fx_init(&f, "wg1");
	/* whatever else the observed peer has, a removal says nothing of it */
	p = fx_peer(&f, 7, WG_PEER_REMOVE | WG_PEER_PSK | WG_PEER_ALLOWED |
			    WG_PEER_ENDPOINT | WG_PEER_KEEPALIVE, 3);
	p->has_psk = true;
	fill_key(p->psk, 99);
	p->keepalive = 25;
	assert_true(wg_endpoint_parse("192.0.2.1:51820", &p->endpoint));
	fx_done(&f);
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.len[0], sizeof(want));
	assert_memory_equal(m.buf[0], want, sizeof(want));
	wg_genl_msgs_free(&m);
	fx_free(&f);
}

static void test_peers(void **state)
{
	struct wg_genl_msgs m;
	struct fixture f;
	struct wg_peer *p;
	struct dmsg d;
	size_t ncont;

	(void)state;
	fx_init(&f, "wg0");
	f.dev.has_priv = true;
	fill_key(f.dev.priv, 1);
	f.dev.port = 51820;
	/* psk, v4 endpoint, keepalive, allowed IPs of both families */
	p = fx_peer(&f, 10, WG_PEER_PSK | WG_PEER_ENDPOINT |
			    WG_PEER_KEEPALIVE | WG_PEER_ALLOWED, 3);
	p->has_psk = true;
	fill_key(p->psk, 11);
	p->keepalive = 25;
	assert_true(wg_endpoint_parse("192.0.2.1:51820", &p->endpoint));
	/* v6 endpoint; allowed IPs replaced by none */
	p = fx_peer(&f, 20, WG_PEER_ENDPOINT | WG_PEER_ALLOWED, 0);
	assert_true(wg_endpoint_parse("[2001:db8::1]:443", &p->endpoint));
	/* a removal */
	fx_peer(&f, 30, WG_PEER_REMOVE, 2);
	/* endpoint asked but none known: nothing said; psk cleared with
	 * zeros although its bytes are not */
	p = fx_peer(&f, 40, WG_PEER_ENDPOINT | WG_PEER_PSK |
			    WG_PEER_KEEPALIVE, 1);
	fill_key(p->psk, 41);
	p->has_psk = false;
	p->keepalive = 0;
	/* nothing to change but its presence: the key alone, no flags */
	fx_peer(&f, 50, 0, 4);
	fx_done(&f);
	f.ch.fields = WG_SET_PRIV | WG_SET_PORT;

	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), 0);
	assert_int_equal(m.n, 1);
	decode(&m, 0, &d);
	assert_int_equal(d.seen, BIT(WGDEVICE_A_IFNAME) |
				 BIT(WGDEVICE_A_PRIVATE_KEY) |
				 BIT(WGDEVICE_A_LISTEN_PORT) |
				 BIT(WGDEVICE_A_PEERS));
	assert_memory_equal(d.priv, f.dev.priv, WG_KEY_LEN);
	assert_int_equal(d.port, 51820);
	assert_int_equal(d.npeers, 5);
	for (size_t i = 0; i < 5; i++)
		check_peer(&d.peers[i], &f.ch.peers[i]);
	/* spelled out, on top of check_peer */
	assert_int_equal(d.peers[0].ep_len, sizeof(struct sockaddr_in));
	assert_int_equal(d.peers[1].ep_len, sizeof(struct sockaddr_in6));
	assert_true(d.peers[1].seen & BIT(WGPEER_A_ALLOWEDIPS));
	assert_int_equal(d.peers[1].nips, 0);
	assert_int_equal(d.peers[1].flags, WGPEER_F_REPLACE_ALLOWEDIPS);
	assert_false(d.peers[3].seen & BIT(WGPEER_A_ENDPOINT));
	assert_memory_equal(d.peers[3].psk, zero_key, WG_KEY_LEN);
	assert_true(d.peers[3].seen &
		    BIT(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL));
	assert_int_equal(d.peers[3].keepalive, 0);
	assert_int_equal(d.peers[4].seen, BIT(WGPEER_A_PUBLIC_KEY));
	dmsg_free(&d);
	check_all(&m, &f, 8192, &ncont);
	assert_int_equal(ncont, 0);
	wg_genl_msgs_free(&m);
	fx_free(&f);
}

/* 500 peers of 3 allowed IPs and, among them, one of 5000. */
static void big_change(struct fixture *f)
{
	struct wg_peer *p;

	fx_init(f, "wg-big");
	f->dev.has_priv = true;
	fill_key(f->dev.priv, 2);
	f->dev.port = 51821;
	f->dev.fwmark = 7;
	for (unsigned i = 0; i < 500; i++) {
		unsigned fields = WG_PEER_ALLOWED | WG_PEER_KEEPALIVE;

		if (i % 7 == 3)
			fields = WG_PEER_REMOVE;
		p = fx_peer(f, 1000 + i, fields | (i % 2 ? WG_PEER_PSK : 0),
			    3);
		fill_key(p->psk, 5000 + i);
		p->has_psk = true;
		p->keepalive = (uint16_t)i;
		if (i == 250) {
			p = fx_peer(f, 99999, WG_PEER_ALLOWED | WG_PEER_PSK |
					      WG_PEER_ENDPOINT, 5000);
			p->has_psk = true;
			fill_key(p->psk, 7);
			assert_true(wg_endpoint_parse("[2001:db8::2]:5",
						      &p->endpoint));
		}
	}
	fx_done(f);
	f->ch.fields = WG_SET_PRIV | WG_SET_PORT | WG_SET_FWMARK;
}

/* The messages with their cmd turned to GET_DEVICE read back, through
 * wg_genl_parse_get, to the same peers and allowed IPs. */
static void check_parse_back(const struct wg_genl_msgs *m,
			     const struct fixture *f)
{
	struct wg_device dev = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < m->n; i++) {
		struct nlmsghdr *nlh = xmalloc(m->len[i]);
		struct genlmsghdr *g;

		memcpy(nlh, m->buf[i], m->len[i]);
		g = mnl_nlmsg_get_payload(nlh);
		g->cmd = WG_CMD_GET_DEVICE;
		assert_int_equal(wg_genl_parse_get(nlh, &dev), 0);
		free(nlh);
	}
	assert_string_equal(dev.name, f->dev.name);
	for (size_t i = 0; i < f->ch.npeers; i++) {
		const struct wg_peer *want = f->ch.peers[i].peer;
		unsigned fields = f->ch.peers[i].fields;

		assert_true(n < dev.npeers);
		assert_memory_equal(dev.peers[n].pub, want->pub, WG_KEY_LEN);
		if (fields & WG_PEER_ALLOWED)
			check_ips(dev.peers[n].allowed, dev.peers[n].nallowed,
				  want->allowed, want->nallowed);
		n++;
	}
	assert_int_equal(n, dev.npeers);
	wg_device_clear(&dev);
}

static void test_split(void **state)
{
	const size_t maxes[] = { 4096, (size_t)MNL_SOCKET_BUFFER_SIZE, 65535 };
	struct fixture f;

	(void)state;
	big_change(&f);
	for (size_t i = 0; i < ARRAY_SIZE(maxes); i++) {
		struct wg_genl_msgs m;
		size_t ncont;

		assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, maxes[i],
						   &m), 0);
		assert_true(m.n > 1);
		check_all(&m, &f, maxes[i], &ncont);
		/* the 5000 allowed IPs (>150 KB) went over several */
		assert_true(ncont >= 5000 * 28 / maxes[i]);
		check_parse_back(&m, &f);
		wg_genl_msgs_free(&m);
	}
	/* above what a netlink attribute can measure: capped, not broken */
	{
		struct wg_genl_msgs m;
		size_t ncont;

		assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ,
						   1 << 20, &m), 0);
		check_all(&m, &f, 65535, &ncont);
		wg_genl_msgs_free(&m);
	}
	fx_free(&f);
}

/* Every max from nothing up: -1 below some size, and above it the
 * messages say exactly the change. */
static void test_split_every_size(void **state)
{
	struct fixture f;
	struct wg_peer *p;
	size_t first_ok = 0;

	(void)state;
	fx_init(&f, "wg0");
	f.dev.has_priv = true;
	fill_key(f.dev.priv, 3);
	p = fx_peer(&f, 1, WG_PEER_ALLOWED | WG_PEER_PSK | WG_PEER_ENDPOINT,
		    9);
	assert_true(wg_endpoint_parse("[2001:db8::3]:7", &p->endpoint));
	fx_peer(&f, 2, WG_PEER_REMOVE, 0);
	fx_peer(&f, 3, WG_PEER_ALLOWED, 0);
	fx_peer(&f, 4, WG_PEER_ALLOWED | WG_PEER_KEEPALIVE, 40);
	fx_done(&f);
	f.ch.fields = WG_SET_PRIV;
	for (size_t max = 0; max < 1200; max++) {
		struct wg_genl_msgs m;
		size_t ncont;
		int r = wg_genl_build_set(&f.ch, FAMILY, SEQ, max, &m);

		if (r < 0) {
			assert_int_equal(first_ok, 0);
			assert_int_equal(m.n, 0);
			assert_null(m.buf);
			continue;
		}
		if (!first_ok)
			first_ok = max;
		check_all(&m, &f, max, &ncont);
		check_parse_back(&m, &f);
		wg_genl_msgs_free(&m);
	}
	/* a peer's head (key, flags, psk, v6 endpoint) and one IP */
	assert_true(first_ok > 0 && first_ok < 300);
	fx_free(&f);
}

static void test_build_errors(void **state)
{
	struct wg_genl_msgs m;
	struct fixture f;
	struct wg_peer *p;

	(void)state;
	fx_init(&f, "wg0");
	p = fx_peer(&f, 1, WG_PEER_ALLOWED, 2);
	fx_done(&f);
	/* room for the headers, not for a peer */
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 19, &m), -1);
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 28, &m), -1);
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 60, &m), -1);
	assert_int_equal(m.n, 0);
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), 0);
	wg_genl_msgs_free(&m);
	/* an allowed IP of no known family, a cidr too long */
	p->allowed[1].family = 7;
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), -1);
	p->allowed[1].family = AF_INET;
	p->allowed[1].cidr = 33;
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), -1);
	p->allowed[1].cidr = 32;
	/* ... unless they are not sent */
	f.ch.peers[0].fields = WG_PEER_KEEPALIVE;
	p->allowed[1].family = 7;
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), 0);
	wg_genl_msgs_free(&m);
	/* an endpoint of no known family */
	f.ch.peers[0].fields = WG_PEER_ENDPOINT;
	p->endpoint.family = 99;
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), -1);
	p->endpoint.family = 0;
	/* names the kernel cannot take */
	free(f.dev.name);
	f.dev.name = xstrdup("0123456789abcdef");
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), -1);
	free(f.dev.name);
	f.dev.name = xstrdup("");
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), -1);
	free(f.dev.name);
	f.dev.name = NULL;
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), -1);
	f.dev.name = xstrdup("0123456789abcde");	/* 15: fine */
	assert_int_equal(wg_genl_build_set(&f.ch, FAMILY, SEQ, 8192, &m), 0);
	wg_genl_msgs_free(&m);
	wg_genl_msgs_free(NULL);
	fx_free(&f);
}

/* ---- parsing GET_DEVICE, as the kernel writes it ---- */

static struct nlmsghdr *dump_msg(void *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = SEQ;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	return nlh;
}

static void put_ip(struct nlmsghdr *nlh, const char *text)
{
	struct wg_allowed a;
	struct nlattr *n = mnl_attr_nest_start(nlh, 0);

	assert_true(wg_allowed_parse(text, &a));
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, (uint16_t)a.family);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, a.family == AF_INET ? 4 : 16,
		     a.addr);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, a.cidr);
	mnl_attr_nest_end(nlh, n);
}

static void put_key(struct nlmsghdr *nlh, uint16_t type, unsigned seed)
{
	uint8_t k[WG_KEY_LEN];

	fill_key(k, seed);
	mnl_attr_put(nlh, type, WG_KEY_LEN, k);
}

/* The device attributes of a dump's first message. */
static void put_device(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 51820);
	mnl_attr_put_u32(nlh, WGDEVICE_A_FWMARK, 0x51);
	mnl_attr_put_u32(nlh, WGDEVICE_A_IFINDEX, 12);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "wg0");
	put_key(nlh, WGDEVICE_A_PRIVATE_KEY, 1);
	put_key(nlh, WGDEVICE_A_PUBLIC_KEY, 2);
}

/* A peer's head as the kernel says it. */
static void put_head(struct nlmsghdr *nlh, unsigned seed, unsigned psk,
		     const char *endpoint, int64_t sec)
{
	struct __kernel_timespec ts = { .tv_sec = sec, .tv_nsec = 123456789 };
	uint8_t zero[4] = { 0 };
	struct wg_endpoint e;
	uint8_t sa[sizeof(struct sockaddr_in6)];
	size_t len;

	put_key(nlh, WGPEER_A_PUBLIC_KEY, seed);
	if (psk)
		put_key(nlh, WGPEER_A_PRESHARED_KEY, psk);
	else
		mnl_attr_put(nlh, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN, zero_key);
	mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), &ts);
	mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
	/* the 64-bit alignment pad of nla_put_u64_64bit */
	mnl_attr_put(nlh, WGPEER_A_UNSPEC, 0, zero);
	mnl_attr_put_u64(nlh, WGPEER_A_TX_BYTES, 1ull << 40 | seed);
	mnl_attr_put_u64(nlh, WGPEER_A_RX_BYTES, 77 + seed);
	mnl_attr_put_u32(nlh, WGPEER_A_PROTOCOL_VERSION, 1);
	if (endpoint) {
		assert_true(wg_endpoint_parse(endpoint, &e));
		sockaddr_of(&e, sa, &len);
		mnl_attr_put(nlh, WGPEER_A_ENDPOINT, len, sa);
	}
}

static void check_ip(const struct wg_allowed *a, const char *text)
{
	char buf[64];

	wg_allowed_format(a, buf, sizeof(buf));
	assert_string_equal(buf, text);
}

/* Parses a copy of nlh the exact size it says, so that ASan sees any
 * read beyond it. */
static int parse_exact(const struct nlmsghdr *nlh, struct wg_device *dev)
{
	void *copy = xmalloc(nlh->nlmsg_len);
	int r;

	memcpy(copy, nlh, nlh->nlmsg_len);
	r = wg_genl_parse_get(copy, dev);
	free(copy);
	return r;
}

/* Two messages: peers A and B, B's allowed IPs continued in the second
 * with peer C after it. */
static void two_messages(void *buf1, void *buf2)
{
	struct nlmsghdr *nlh = dump_msg(buf1);
	struct nlattr *peers, *peer, *ips;

	put_device(nlh);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = mnl_attr_nest_start(nlh, 0);
	put_head(nlh, 10, 11, "192.0.2.1:51820", 1700000000);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	put_ip(nlh, "10.0.0.0/24");
	put_ip(nlh, "fd00::/64");
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	peer = mnl_attr_nest_start(nlh, 0);
	put_head(nlh, 20, 0, "[2001:db8::1]:443", 0);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	put_ip(nlh, "10.1.0.0/16");
	put_ip(nlh, "10.2.0.7/32");
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);

	nlh = dump_msg(buf2);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = mnl_attr_nest_start(nlh, 0);
	put_key(nlh, WGPEER_A_PUBLIC_KEY, 20);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	put_ip(nlh, "fd01::/48");
	put_ip(nlh, "0.0.0.0/0");
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	peer = mnl_attr_nest_start(nlh, 0);
	put_head(nlh, 30, 0, NULL, 0);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
}

static void test_parse_dump(void **state)
{
	char buf1[4096], buf2[4096];
	struct wg_device dev = { 0 };
	uint8_t k[WG_KEY_LEN];
	struct wg_peer *p;
	char text[64];

	(void)state;
	two_messages(buf1, buf2);
	assert_int_equal(parse_exact((struct nlmsghdr *)buf1, &dev), 0);
	assert_int_equal(parse_exact((struct nlmsghdr *)buf2, &dev), 0);
	assert_string_equal(dev.name, "wg0");
	assert_true(dev.has_priv);
	fill_key(k, 1);
	assert_memory_equal(dev.priv, k, WG_KEY_LEN);
	assert_int_equal(dev.port, 51820);
	assert_int_equal(dev.fwmark, 0x51);
	assert_int_equal(dev.npeers, 3);

	p = &dev.peers[0];
	fill_key(k, 10);
	assert_memory_equal(p->pub, k, WG_KEY_LEN);
	assert_true(p->has_psk);
	fill_key(k, 11);
	assert_memory_equal(p->psk, k, WG_KEY_LEN);
	wg_endpoint_format(&p->endpoint, text, sizeof(text));
	assert_string_equal(text, "192.0.2.1:51820");
	assert_int_equal(p->keepalive, 25);
	assert_int_equal(p->handshake_sec, 1700000000);
	assert_int_equal(p->handshake_nsec, 123456789);
	assert_int_equal(p->tx_bytes, 1ull << 40 | 10);
	assert_int_equal(p->rx_bytes, 87);
	assert_int_equal(p->nallowed, 2);
	check_ip(&p->allowed[0], "10.0.0.0/24");
	check_ip(&p->allowed[1], "fd00::/64");
	assert_null(p->name);

	p = &dev.peers[1];
	fill_key(k, 20);
	assert_memory_equal(p->pub, k, WG_KEY_LEN);
	assert_false(p->has_psk);
	wg_endpoint_format(&p->endpoint, text, sizeof(text));
	assert_string_equal(text, "[2001:db8::1]:443");
	assert_int_equal(p->handshake_sec, 0);
	assert_int_equal(p->rx_bytes, 97);
	/* continued in the second message */
	assert_int_equal(p->nallowed, 4);
	check_ip(&p->allowed[0], "10.1.0.0/16");
	check_ip(&p->allowed[1], "10.2.0.7/32");
	check_ip(&p->allowed[2], "fd01::/48");
	check_ip(&p->allowed[3], "0.0.0.0/0");

	p = &dev.peers[2];
	fill_key(k, 30);
	assert_memory_equal(p->pub, k, WG_KEY_LEN);
	assert_int_equal(p->endpoint.family, 0);
	assert_int_equal(p->nallowed, 0);
	wg_device_clear(&dev);

	/* the second message alone: nothing to continue, B is new */
	assert_int_equal(parse_exact((struct nlmsghdr *)buf2, &dev), 0);
	assert_null(dev.name);
	assert_false(dev.has_priv);
	assert_int_equal(dev.npeers, 2);
	assert_int_equal(dev.peers[0].nallowed, 2);
	wg_device_clear(&dev);

	/* a name already there is kept */
	dev.name = xstrdup("mine");
	assert_int_equal(parse_exact((struct nlmsghdr *)buf1, &dev), 0);
	assert_string_equal(dev.name, "mine");
	wg_device_clear(&dev);
}

static void test_parse_edges(void **state)
{
	char buf[4096];
	struct wg_device dev = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *peers, *peer, *ips;

	(void)state;
	/* no peers, no private key; attributes of newer kernels skipped */
	nlh = dump_msg(buf);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "wg9");
	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 1);
	mnl_attr_put_u32(nlh, 200, 5);
	assert_int_equal(parse_exact(nlh, &dev), 0);
	assert_string_equal(dev.name, "wg9");
	assert_false(dev.has_priv);
	assert_int_equal(dev.npeers, 0);
	wg_device_clear(&dev);

	/* host bits the kernel would never send are cleared; a second
	 * peer with the key of the last one before it is not a
	 * continuation (only a message's first peer is) */
	nlh = dump_msg(buf);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	for (int i = 0; i < 2; i++) {
		peer = mnl_attr_nest_start(nlh, 0);
		put_key(nlh, WGPEER_A_PUBLIC_KEY, 5);
		ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
		put_ip(nlh, "10.0.0.5/32");
		mnl_attr_nest_end(nlh, ips);
		mnl_attr_nest_end(nlh, peer);
	}
	mnl_attr_nest_end(nlh, peers);
	{
		/* patch the first IP's cidr to 24 */
		uint8_t *c = memmem(buf, nlh->nlmsg_len,
				    "\x05\x00\x03\x00\x20", 5);

		assert_non_null(c);
		c[4] = 24;
	}
	assert_int_equal(parse_exact(nlh, &dev), 0);
	assert_int_equal(dev.npeers, 2);
	check_ip(&dev.peers[0].allowed[0], "10.0.0.0/24");
	check_ip(&dev.peers[1].allowed[0], "10.0.0.5/32");
	wg_device_clear(&dev);

	/* an address given twice, 16 bytes then 4: the IPv4 address is
	 * the second alone, nothing of the first behind it */
	nlh = dump_msg(buf);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	peer = mnl_attr_nest_start(nlh, 0);
	put_key(nlh, WGPEER_A_PUBLIC_KEY, 5);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	{
		struct nlattr *ip = mnl_attr_nest_start(nlh, 0);
		uint8_t ones[16], v4[4] = { 10, 0, 0, 1 };

		memset(ones, 0xff, sizeof(ones));
		mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
		mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, sizeof(ones), ones);
		mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, sizeof(v4), v4);
		mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, 32);
		mnl_attr_nest_end(nlh, ip);
	}
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	assert_int_equal(parse_exact(nlh, &dev), 0);
	assert_int_equal(dev.peers[0].nallowed, 1);
	{
		static const uint8_t want[16] = { 10, 0, 0, 1 };

		assert_memory_equal(dev.peers[0].allowed[0].addr, want, 16);
	}
	wg_device_clear(&dev);
}

/* ---- malformed dump messages ---- */

static void bad_short_priv(struct nlmsghdr *nlh)
{
	mnl_attr_put(nlh, WGDEVICE_A_PRIVATE_KEY, 31, zero_key);
}

static void bad_long_pub(struct nlmsghdr *nlh)
{
	uint8_t k[33] = { 0 };

	mnl_attr_put(nlh, WGDEVICE_A_PUBLIC_KEY, sizeof(k), k);
}

static void bad_port_u32(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, WGDEVICE_A_LISTEN_PORT, 1);
}

static void bad_fwmark_u16(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, WGDEVICE_A_FWMARK, 1);
}

static void bad_ifindex_u8(struct nlmsghdr *nlh)
{
	mnl_attr_put_u8(nlh, WGDEVICE_A_IFINDEX, 1);
}

static void bad_name_unterminated(struct nlmsghdr *nlh)
{
	mnl_attr_put(nlh, WGDEVICE_A_IFNAME, 3, "wg0");
}

static void bad_name_long(struct nlmsghdr *nlh)
{
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "0123456789abcdefghij");
}

/* A peers nest with one peer whose attributes put_fn writes. */
static void one_peer(struct nlmsghdr *nlh,
		     void (*put_fn)(struct nlmsghdr *nlh))
{
	struct nlattr *peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	struct nlattr *peer = mnl_attr_nest_start(nlh, 0);

	put_fn(nlh);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
}

static void p_no_pub(struct nlmsghdr *nlh)
{
	mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 1);
}

static void p_short_pub(struct nlmsghdr *nlh)
{
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 16, zero_key);
}

static void p_long_psk(struct nlmsghdr *nlh)
{
	uint8_t k[40] = { 0 };

	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	mnl_attr_put(nlh, WGPEER_A_PRESHARED_KEY, sizeof(k), k);
}

static void p_endpoint_short(struct nlmsghdr *nlh)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(sin) - 2, &sin);
}

static void p_endpoint_mixed(struct nlmsghdr *nlh)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET };

	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
}

static void p_endpoint_one_byte(struct nlmsghdr *nlh)
{
	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, 1, zero_key);
}

static void p_handshake_short(struct nlmsghdr *nlh)
{
	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, 8, zero_key);
}

static void p_rx_u32(struct nlmsghdr *nlh)
{
	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	mnl_attr_put_u32(nlh, WGPEER_A_RX_BYTES, 1);
}

static void p_keepalive_u32(struct nlmsghdr *nlh)
{
	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	mnl_attr_put_u32(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 1);
}

/* One allowed IP of (family, address length, cidr); -1 leaves one out. */
static void put_raw_ip(struct nlmsghdr *nlh, int family, int alen, int cidr)
{
	struct nlattr *ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	struct nlattr *ip = mnl_attr_nest_start(nlh, 0);

	if (family >= 0)
		mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, (uint16_t)family);
	if (alen >= 0)
		mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, (size_t)alen, zero_key);
	if (cidr >= 0)
		mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, (uint8_t)cidr);
	mnl_attr_nest_end(nlh, ip);
	mnl_attr_nest_end(nlh, ips);
}

#define RAW_IP(fn, fam, alen, cidr)                                          \
	static void fn(struct nlmsghdr *nlh)                                 \
	{                                                                    \
		put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);                        \
		put_raw_ip(nlh, fam, alen, cidr);                            \
	}
RAW_IP(ip_no_family, -1, 4, 8)
RAW_IP(ip_no_addr, AF_INET, -1, 8)
RAW_IP(ip_no_cidr, AF_INET, 4, -1)
RAW_IP(ip_v4_cidr33, AF_INET, 4, 33)
RAW_IP(ip_v6_cidr129, AF_INET6, 16, 129)
RAW_IP(ip_v4_len16, AF_INET, 16, 8)
RAW_IP(ip_v6_len4, AF_INET6, 4, 8)
RAW_IP(ip_family7, 7, 4, 8)
RAW_IP(ip_len5, AF_INET, 5, 8)
RAW_IP(ip_good, AF_INET, 4, 8)

static void p_ip_cidr_u16(struct nlmsghdr *nlh)
{
	struct nlattr *ips, *ip;

	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	ip = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, AF_INET);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, 4, zero_key);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_CIDR_MASK, 8);
	mnl_attr_nest_end(nlh, ip);
	mnl_attr_nest_end(nlh, ips);
}

#define PEER_CASE(fn)                                                        \
	static void bad_##fn(struct nlmsghdr *nlh)                           \
	{                                                                    \
		one_peer(nlh, fn);                                           \
	}
PEER_CASE(p_no_pub)
PEER_CASE(p_short_pub)
PEER_CASE(p_long_psk)
PEER_CASE(p_endpoint_short)
PEER_CASE(p_endpoint_mixed)
PEER_CASE(p_endpoint_one_byte)
PEER_CASE(p_handshake_short)
PEER_CASE(p_rx_u32)
PEER_CASE(p_keepalive_u32)
PEER_CASE(ip_no_family)
PEER_CASE(ip_no_addr)
PEER_CASE(ip_no_cidr)
PEER_CASE(ip_v4_cidr33)
PEER_CASE(ip_v6_cidr129)
PEER_CASE(ip_v4_len16)
PEER_CASE(ip_v6_len4)
PEER_CASE(ip_family7)
PEER_CASE(ip_len5)
PEER_CASE(p_ip_cidr_u16)

/* A peer nest that says it is shorter than the key inside it. */
static void bad_nest_short(struct nlmsghdr *nlh)
{
	struct nlattr *peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	struct nlattr *peer = mnl_attr_nest_start(nlh, 0);

	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	peer->nla_len = 4 + 20;
}

/* An allowed-IPs nest whose IP runs past it. */
static void bad_ip_past_nest(struct nlmsghdr *nlh)
{
	struct nlattr *peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	struct nlattr *peer = mnl_attr_nest_start(nlh, 0);
	struct nlattr *ips;

	put_key(nlh, WGPEER_A_PUBLIC_KEY, 1);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	put_ip(nlh, "10.0.0.0/8");
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, peers);
	ips->nla_len -= 8;
}

/* An attribute shorter than its own header. */
static void bad_tiny_attr(struct nlmsghdr *nlh)
{
	struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);

	mnl_attr_put_u32(nlh, WGDEVICE_A_FWMARK, 1);
	a->nla_len = 2;
}

/* Bytes after the last attribute that are not one. */
static void bad_trailing(struct nlmsghdr *nlh)
{
	mnl_attr_put_u32(nlh, WGDEVICE_A_FWMARK, 1);
	nlh->nlmsg_len += 2;
}

/* The message ends inside its last attribute. */
static void bad_truncated(struct nlmsghdr *nlh)
{
	put_key(nlh, WGDEVICE_A_PRIVATE_KEY, 1);
	nlh->nlmsg_len -= 8;
}

static void test_parse_malformed(void **state)
{
	static void (*const cases[])(struct nlmsghdr *) = {
		bad_short_priv, bad_long_pub, bad_port_u32, bad_fwmark_u16,
		bad_ifindex_u8, bad_name_unterminated, bad_name_long,
		bad_p_no_pub, bad_p_short_pub, bad_p_long_psk,
		bad_p_endpoint_short, bad_p_endpoint_mixed,
		bad_p_endpoint_one_byte, bad_p_handshake_short, bad_p_rx_u32,
		bad_p_keepalive_u32, bad_ip_no_family, bad_ip_no_addr,
		bad_ip_no_cidr, bad_ip_v4_cidr33, bad_ip_v6_cidr129,
		bad_ip_v4_len16, bad_ip_v6_len4, bad_ip_family7, bad_ip_len5,
		bad_p_ip_cidr_u16, bad_nest_short, bad_ip_past_nest,
		bad_tiny_attr, bad_trailing, bad_truncated,
	};
	char buf[4096] = { 0 };
	struct wg_device dev = { 0 };
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		nlh = dump_msg(buf);
		mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 1);
		cases[i](nlh);
		if (parse_exact(nlh, &dev) != -1)
			fail_msg("malformed case %zu parsed", i);
		wg_device_clear(&dev);
	}
	/* the same shape, well formed, parses */
	nlh = dump_msg(buf);
	one_peer(nlh, ip_good);
	assert_int_equal(parse_exact(nlh, &dev), 0);
	assert_int_equal(dev.npeers, 1);
	check_ip(&dev.peers[0].allowed[0], "0.0.0.0/8");
	wg_device_clear(&dev);
	/* headers: too short for the genl header; another command */
	nlh = dump_msg(buf);
	nlh->nlmsg_len = 19;
	assert_int_equal(parse_exact(nlh, &dev), -1);
	nlh = dump_msg(buf);
	g = mnl_nlmsg_get_payload(nlh);
	g->cmd = WG_CMD_SET_DEVICE;
	assert_int_equal(parse_exact(nlh, &dev), -1);
	wg_device_clear(&dev);
}

/* Every prefix and every byte changed of a good message: an answer,
 * never a read outside it (ASan) or a leak. */
static void test_parse_mutations(void **state)
{
	static const uint8_t vals[] = { 0x00, 0xff, 0x01, 0x80 };
	char buf1[4096], buf2[4096];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf1;
	struct wg_device dev = { 0 };
	uint32_t len;
	uint8_t *copy;

	(void)state;
	two_messages(buf1, buf2);
	len = nlh->nlmsg_len;
	for (uint32_t cut = 0; cut < len; cut++) {
		copy = xmalloc(cut < 20 ? 20 : cut);
		memcpy(copy, buf1, cut < 20 ? 20 : cut);
		((struct nlmsghdr *)copy)->nlmsg_len = cut < 20 ? 19 : cut;
		(void)wg_genl_parse_get((struct nlmsghdr *)copy, &dev);
		wg_device_clear(&dev);
		free(copy);
	}
	for (uint32_t at = sizeof(struct nlmsghdr); at < len; at++) {
		for (size_t v = 0; v < ARRAY_SIZE(vals); v++) {
			copy = xmalloc(len);
			memcpy(copy, buf1, len);
			copy[at] = vals[v];
			(void)wg_genl_parse_get((struct nlmsghdr *)copy, &dev);
			wg_device_clear(&dev);
			free(copy);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_fields_bytes),
		cmocka_unit_test(test_device_fields_subset),
		cmocka_unit_test(test_remove_bytes),
		cmocka_unit_test(test_peers),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_every_size),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_parse_dump),
		cmocka_unit_test(test_parse_edges),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
