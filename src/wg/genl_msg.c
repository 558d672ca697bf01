/* The kernel WireGuard backend's generic netlink messages: SET_DEVICE
 * requests built and GET_DEVICE dump messages parsed, in memory, with
 * libmnl's buffer helpers. Pure: no sockets here (genl.c carries them),
 * so that the tests can check every byte. Must not log: the messages
 * carry private and preshared keys. */
#include <arpa/inet.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/time_types.h>
#include <sodium.h>

#include "base/util.h"
#include "wg/genl.h"

/* The peers nest spans nearly the whole message and a netlink attribute
 * says its length in 16 bits. */
#define MSG_MAX UINT16_MAX

void wg_genl_msgs_free(struct wg_genl_msgs *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		sodium_memzero(m->buf[i], m->len[i]);
		free(m->buf[i]);
	}
	free(m->buf);
	free(m->len);
	memset(m, 0, sizeof(*m));
}

/* ---- building SET_DEVICE ---- */

struct build {
	const struct wg_change *ch;
	struct nlmsghdr *nlh;	/* the message being built */
	size_t max;
	size_t peer;		/* the next peer change to put */
	size_t allowed;		/* and its next allowed IP */
	bool cont;		/* its head went in an earlier message */
};

static bool allowed_ok(const struct wg_allowed *a)
{
	return (a->family == AF_INET && a->cidr <= 32) ||
	       (a->family == AF_INET6 && a->cidr <= 128);
}

static bool peer_change_ok(const struct wg_peer_change *pc)
{
	const struct wg_peer *p = pc->peer;
	int fam;

	if (!p)
		return false;
	if (pc->fields & WG_PEER_REMOVE)
		return true;
	fam = p->endpoint.family;
	if ((pc->fields & WG_PEER_ENDPOINT) && fam && fam != AF_INET &&
	    fam != AF_INET6)
		return false;
	if (pc->fields & WG_PEER_ALLOWED)
		for (size_t i = 0; i < p->nallowed; i++)
			if (!allowed_ok(&p->allowed[i]))
				return false;
	return true;
}

/* What the builder assumes: a device name the kernel can take, and only
 * families it can say. */
static bool change_ok(const struct wg_change *ch)
{
	const char *name = ch->dev ? ch->dev->name : NULL;

	if (!name || !*name || strnlen(name, IFNAMSIZ) == IFNAMSIZ)
		return false;
	for (size_t i = 0; i < ch->npeers; i++)
		if (!peer_change_ok(&ch->peers[i]))
			return false;
	return true;
}

static bool put(struct build *b, uint16_t type, size_t len, const void *data)
{
	return mnl_attr_put_check(b->nlh, b->max, type, len, data);
}

static bool put_u16(struct build *b, uint16_t type, uint16_t v)
{
	return mnl_attr_put_u16_check(b->nlh, b->max, type, v);
}

static bool put_u32(struct build *b, uint16_t type, uint32_t v)
{
	return mnl_attr_put_u32_check(b->nlh, b->max, type, v);
}

/* The header, the device's name and, in the first message only, the
 * device fields that change. */
static bool msg_start(struct build *b, void *buf, uint16_t family,
		      uint32_t seq, bool first)
{
	static const uint8_t zero[WG_KEY_LEN];
	const struct wg_device *d = b->ch->dev;
	unsigned f = first ? b->ch->fields : 0;
	struct genlmsghdr *g;

	/* libmnl (1.0.4) leaves attribute padding as it finds it, and a
	 * cancelled nest leaves its bytes: start from zeros */
	memset(buf, 0, b->max);
	b->nlh = mnl_nlmsg_put_header(buf);
	b->nlh->nlmsg_type = family;
	b->nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	b->nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(b->nlh, sizeof(*g));
	g->cmd = WG_CMD_SET_DEVICE;
	g->version = WG_GENL_VERSION;
	return mnl_attr_put_strz_check(b->nlh, b->max, WGDEVICE_A_IFNAME,
				       d->name) &&
	       (!(f & WG_SET_PRIV) ||
		put(b, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN,
		    d->has_priv ? d->priv : zero)) &&
	       (!(f & WG_SET_PORT) ||
		put_u16(b, WGDEVICE_A_LISTEN_PORT, d->port)) &&
	       (!(f & WG_SET_FWMARK) ||
		put_u32(b, WGDEVICE_A_FWMARK, d->fwmark));
}

static bool put_endpoint(struct build *b, const struct wg_endpoint *e)
{
	if (e->family == AF_INET) {
		struct sockaddr_in sin = {
			.sin_family = AF_INET,
			.sin_port = htons(e->port),
		};

		memcpy(&sin.sin_addr, e->addr, sizeof(sin.sin_addr));
		return put(b, WGPEER_A_ENDPOINT, sizeof(sin), &sin);
	} else {
		struct sockaddr_in6 sin6 = {
			.sin6_family = AF_INET6,
			.sin6_port = htons(e->port),
		};

		memcpy(&sin6.sin6_addr, e->addr, sizeof(sin6.sin6_addr));
		return put(b, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
	}
}

/* Everything of a peer but its key and allowed IPs: sent once, in the
 * first message that carries the peer. */
static bool put_peer_head(struct build *b, const struct wg_peer_change *pc)
{
	static const uint8_t zero[WG_KEY_LEN];
	const struct wg_peer *p = pc->peer;
	unsigned f = pc->fields;

	return (!(f & WG_PEER_ALLOWED) ||
		put_u32(b, WGPEER_A_FLAGS, WGPEER_F_REPLACE_ALLOWEDIPS)) &&
	       (!(f & WG_PEER_PSK) ||
		put(b, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN,
		    p->has_psk ? p->psk : zero)) &&
	       (!(f & WG_PEER_ENDPOINT) || !p->endpoint.family ||
		put_endpoint(b, &p->endpoint)) &&
	       (!(f & WG_PEER_KEEPALIVE) ||
		put_u16(b, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL,
			p->keepalive));
}

static bool put_allowed(struct build *b, const struct wg_allowed *a)
{
	struct nlattr *nest = mnl_attr_nest_start_check(b->nlh, b->max, 0);

	if (nest && put_u16(b, WGALLOWEDIP_A_FAMILY, (uint16_t)a->family) &&
	    put(b, WGALLOWEDIP_A_IPADDR, a->family == AF_INET ? 4 : 16,
		a->addr) &&
	    mnl_attr_put_u8_check(b->nlh, b->max, WGALLOWEDIP_A_CIDR_MASK,
				  a->cidr)) {
		mnl_attr_nest_end(b->nlh, nest);
		return true;
	}
	if (nest)
		mnl_attr_nest_cancel(b->nlh, nest);
	return false;
}

enum fit { FIT_NONE, FIT_PART, FIT_ALL };

/* Puts the next peer change whole, or its head and as many of its
 * allowed IPs as fit (FIT_PART: it continues in the next message), or
 * nothing. Every part of a split peer carries at least one allowed IP. */
static enum fit put_peer(struct build *b)
{
	const struct wg_peer_change *pc = &b->ch->peers[b->peer];
	const struct wg_peer *p = pc->peer;
	size_t from = b->allowed;
	struct nlattr *nest, *ips;

	nest = mnl_attr_nest_start_check(b->nlh, b->max, 0);
	if (!nest)
		return FIT_NONE;
	if (!put(b, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, p->pub))
		goto none;
	if (pc->fields & WG_PEER_REMOVE) {
		if (!put_u32(b, WGPEER_A_FLAGS, WGPEER_F_REMOVE_ME))
			goto none;
		goto all;
	}
	if (!b->cont && !put_peer_head(b, pc))
		goto none;
	if (!(pc->fields & WG_PEER_ALLOWED))
		goto all;
	/* an empty nest with the replace flag clears them */
	ips = mnl_attr_nest_start_check(b->nlh, b->max, WGPEER_A_ALLOWEDIPS);
	if (!ips)
		goto none;
	while (b->allowed < p->nallowed &&
	       put_allowed(b, &p->allowed[b->allowed]))
		b->allowed++;
	mnl_attr_nest_end(b->nlh, ips);
	if (b->allowed == p->nallowed)
		goto all;
	if (b->allowed == from)
		goto none;
	mnl_attr_nest_end(b->nlh, nest);
	b->cont = true;
	return FIT_PART;
all:
	mnl_attr_nest_end(b->nlh, nest);
	b->peer++;
	b->allowed = 0;
	b->cont = false;
	return FIT_ALL;
none:
	mnl_attr_nest_cancel(b->nlh, nest);
	return FIT_NONE;
}

/* Builds the next message into buf: as many peers as fit. -1 when it
 * would carry nothing new, so that the caller cannot loop forever. */
static int build_msg(struct build *b, void *buf, uint16_t family,
		     uint32_t seq, bool first)
{
	struct nlattr *peers;
	enum fit f = FIT_ALL;
	bool any = false;

	if (!msg_start(b, buf, family, seq, first))
		return -1;
	if (b->peer == b->ch->npeers)
		return 0;	/* no peers at all */
	peers = mnl_attr_nest_start_check(b->nlh, b->max, WGDEVICE_A_PEERS);
	while (peers && f == FIT_ALL && b->peer < b->ch->npeers) {
		f = put_peer(b);
		any |= f != FIT_NONE;
	}
	if (any)
		mnl_attr_nest_end(b->nlh, peers);
	else if (peers)
		mnl_attr_nest_cancel(b->nlh, peers);
	/* a first message of device fields alone is progress too: the
	 * peers start afresh in the next */
	return any || (first && b->ch->fields) ? 0 : -1;
}

static void msgs_push(struct wg_genl_msgs *m, size_t *cap,
		      const struct nlmsghdr *nlh)
{
	size_t bcap = *cap, lcap = *cap;

	xgrow((void **)&m->buf, &bcap, m->n + 1, sizeof(*m->buf));
	xgrow((void **)&m->len, &lcap, m->n + 1, sizeof(*m->len));
	*cap = bcap;
	m->buf[m->n] = xmalloc(nlh->nlmsg_len);
	memcpy(m->buf[m->n], nlh, nlh->nlmsg_len);
	m->len[m->n++] = nlh->nlmsg_len;
}

int wg_genl_build_set(const struct wg_change *ch, uint16_t family,
		      uint32_t seq, size_t max, struct wg_genl_msgs *out)
{
	struct build b = { .ch = ch, .max = max < MSG_MAX ? max : MSG_MAX };
	size_t cap = 0;
	void *scratch;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (!change_ok(ch) || b.max < mnl_nlmsg_size(GENL_HDRLEN))
		return -1;
	/* one scratch buffer, wiped once; each message is copied out at
	 * its exact size */
	scratch = xmalloc(b.max);
	do {
		if (build_msg(&b, scratch, family, seq + (uint32_t)out->n,
			      out->n == 0) < 0)
			goto out;
		msgs_push(out, &cap, b.nlh);
	} while (b.peer < ch->npeers);
	r = 0;
out:
	sodium_memzero(scratch, b.max);
	free(scratch);
	if (r)
		wg_genl_msgs_free(out);
	return r;
}

/* ---- parsing GET_DEVICE ---- */

struct parse {
	struct wg_device *dev;
	bool first_peer;	/* the next peer is the message's first */
	struct wg_peer *peer;	/* the peer being read */
	bool has_pub;
};

/* The attributes in [p, p + len), each handed to cb. Unlike
 * mnl_attr_parse, a truncated attribute or trailing bytes are an error,
 * not the end. */
static int parse_attrs(const void *p, size_t len, mnl_attr_cb_t cb,
		       void *data)
{
	const struct nlattr *a = p;
	int rest;

	if (len > INT_MAX)
		return -1;
	for (rest = (int)len; mnl_attr_ok(a, rest); a = mnl_attr_next(a)) {
		if (cb(a, data) != MNL_CB_OK)
			return -1;
		rest -= (int)MNL_ALIGN(a->nla_len);
	}
	return rest > 0 ? -1 : 0;
}

static int parse_nested(const struct nlattr *a, mnl_attr_cb_t cb,
			void *data)
{
	return parse_attrs(mnl_attr_get_payload(a),
			   mnl_attr_get_payload_len(a), cb, data) ?
		       MNL_CB_ERROR : MNL_CB_OK;
}

static int check(const struct nlattr *a, enum mnl_attr_data_type t)
{
	return mnl_attr_validate(a, t) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* A key attribute into key; false unless it is exactly a key long. */
static bool get_key(const struct nlattr *a, uint8_t key[WG_KEY_LEN])
{
	if (mnl_attr_get_payload_len(a) != WG_KEY_LEN)
		return false;
	memcpy(key, mnl_attr_get_payload(a), WG_KEY_LEN);
	return true;
}

/* struct sockaddr_in or sockaddr_in6, nothing shorter or longer. */
static bool get_endpoint(const struct nlattr *a, struct wg_endpoint *e)
{
	const void *p = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);
	sa_family_t fam;

	memset(e, 0, sizeof(*e));
	if (len < sizeof(fam))
		return false;
	memcpy(&fam, p, sizeof(fam));
	if (fam == AF_INET && len == sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, p, sizeof(sin));
		memcpy(e->addr, &sin.sin_addr, sizeof(sin.sin_addr));
		e->port = ntohs(sin.sin_port);
	} else if (fam == AF_INET6 && len == sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, p, sizeof(sin6));
		memcpy(e->addr, &sin6.sin6_addr, sizeof(sin6.sin6_addr));
		e->port = ntohs(sin6.sin6_port);
	} else {
		return false;
	}
	e->family = fam;
	return true;
}

struct ip_parse {
	struct wg_allowed a;
	size_t addr_len;	/* 0: not seen */
	bool has_family, has_cidr;
};

static int ip_attr(const struct nlattr *a, void *data)
{
	struct ip_parse *ip = data;
	size_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case WGALLOWEDIP_A_FAMILY:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		ip->a.family = mnl_attr_get_u16(a);
		ip->has_family = true;
		break;
	case WGALLOWEDIP_A_IPADDR:
		if (len != 4 && len != 16)
			return MNL_CB_ERROR;
		/* a repeated attribute replaces the whole address: a
		 * 16-byte one then a 4-byte one must not leave bytes of
		 * the first behind an IPv4 address */
		memset(ip->a.addr, 0, sizeof(ip->a.addr));
		memcpy(ip->a.addr, mnl_attr_get_payload(a), len);
		ip->addr_len = len;
		break;
	case WGALLOWEDIP_A_CIDR_MASK:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			return MNL_CB_ERROR;
		ip->a.cidr = mnl_attr_get_u8(a);
		ip->has_cidr = true;
		break;
	}
	return MNL_CB_OK;
}

/* One allowed IP: all three attributes, and they must agree. */
static int ip_nest(const struct nlattr *a, void *data)
{
	struct parse *ps = data;
	struct ip_parse ip = { 0 };
	int max;

	if (parse_nested(a, ip_attr, &ip) != MNL_CB_OK || !ip.has_family ||
	    !ip.has_cidr || !allowed_ok(&ip.a) ||
	    ip.addr_len != (ip.a.family == AF_INET ? 4u : 16u))
		return MNL_CB_ERROR;
	/* the model keeps host bits cleared; the kernel does too */
	max = ip.a.family == AF_INET ? 32 : 128;
	for (int bit = ip.a.cidr; bit < max; bit++)
		ip.a.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	wg_peer_add_allowed(ps->peer, &ip.a);
	return MNL_CB_OK;
}

static int peer_attr(const struct nlattr *a, void *data)
{
	struct parse *ps = data;
	struct wg_peer *p = ps->peer;
	struct __kernel_timespec ts;

	switch (mnl_attr_get_type(a)) {
	case WGPEER_A_PUBLIC_KEY:
		if (!get_key(a, p->pub))
			return MNL_CB_ERROR;
		ps->has_pub = true;
		break;
	case WGPEER_A_PRESHARED_KEY:
		if (!get_key(a, p->psk))
			return MNL_CB_ERROR;
		p->has_psk = !wg_key_is_zero(p->psk);
		break;
	case WGPEER_A_ENDPOINT:
		if (!get_endpoint(a, &p->endpoint))
			return MNL_CB_ERROR;
		break;
	case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		p->keepalive = mnl_attr_get_u16(a);
		break;
	case WGPEER_A_LAST_HANDSHAKE_TIME:
		if (mnl_attr_get_payload_len(a) != sizeof(ts))
			return MNL_CB_ERROR;
		memcpy(&ts, mnl_attr_get_payload(a), sizeof(ts));
		p->handshake_sec = ts.tv_sec;
		p->handshake_nsec = ts.tv_nsec;
		break;
	case WGPEER_A_RX_BYTES:
		if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
			return MNL_CB_ERROR;
		p->rx_bytes = mnl_attr_get_u64(a);
		break;
	case WGPEER_A_TX_BYTES:
		if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
			return MNL_CB_ERROR;
		p->tx_bytes = mnl_attr_get_u64(a);
		break;
	case WGPEER_A_FLAGS:
	case WGPEER_A_PROTOCOL_VERSION:
		return check(a, MNL_TYPE_U32);
	case WGPEER_A_ALLOWEDIPS:
		return parse_nested(a, ip_nest, ps);
	}
	return MNL_CB_OK;	/* padding (UNSPEC) and what newer kernels add */
}

/* One peer. A message's first peer that is the last one already read
 * continues it: the kernel ran out of room in its allowed IPs. */
static int peer_nest(const struct nlattr *a, void *data)
{
	struct parse *ps = data;
	struct wg_device *d = ps->dev;
	struct wg_peer p = { 0 }, *last;
	int r = MNL_CB_ERROR;

	ps->peer = &p;
	ps->has_pub = false;
	if (parse_nested(a, peer_attr, ps) != MNL_CB_OK || !ps->has_pub)
		goto out;
	last = d->npeers ? &d->peers[d->npeers - 1] : NULL;
	if (ps->first_peer && last && !memcmp(last->pub, p.pub, WG_KEY_LEN)) {
		for (size_t i = 0; i < p.nallowed; i++)
			wg_peer_add_allowed(last, &p.allowed[i]);
	} else {
		*wg_device_add_peer(d) = p;	/* moves p */
		memset(&p, 0, sizeof(p));
	}
	r = MNL_CB_OK;
out:
	ps->first_peer = false;
	ps->peer = NULL;
	wg_peer_clear(&p);
	return r;
}

static int dev_attr(const struct nlattr *a, void *data)
{
	struct parse *ps = data;
	struct wg_device *d = ps->dev;
	uint8_t pub[WG_KEY_LEN];

	switch (mnl_attr_get_type(a)) {
	case WGDEVICE_A_IFINDEX:
	case WGDEVICE_A_FLAGS:
		return check(a, MNL_TYPE_U32);
	case WGDEVICE_A_IFNAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_get_payload_len(a) > IFNAMSIZ)
			return MNL_CB_ERROR;
		if (!d->name)
			d->name = xstrdup(mnl_attr_get_str(a));
		break;
	case WGDEVICE_A_PRIVATE_KEY:
		if (!get_key(a, d->priv))
			return MNL_CB_ERROR;
		d->has_priv = true;
		break;
	case WGDEVICE_A_PUBLIC_KEY:
		/* derived from the private key; checked, not kept */
		return get_key(a, pub) ? MNL_CB_OK : MNL_CB_ERROR;
	case WGDEVICE_A_LISTEN_PORT:
		if (mnl_attr_validate(a, MNL_TYPE_U16) < 0)
			return MNL_CB_ERROR;
		d->port = mnl_attr_get_u16(a);
		break;
	case WGDEVICE_A_FWMARK:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		d->fwmark = mnl_attr_get_u32(a);
		break;
	case WGDEVICE_A_PEERS:
		return parse_nested(a, peer_nest, ps);
	}
	return MNL_CB_OK;
}

int wg_genl_parse_get(const struct nlmsghdr *nlh, struct wg_device *dev)
{
	struct parse ps = { .dev = dev, .first_peer = true };
	const struct genlmsghdr *g;
	size_t hdr = mnl_nlmsg_size(GENL_HDRLEN);

	if (nlh->nlmsg_len < hdr)
		return -1;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->cmd != WG_CMD_GET_DEVICE)
		return -1;
	return parse_attrs((const char *)g + GENL_HDRLEN,
			   nlh->nlmsg_len - hdr, dev_attr, &ps);
}
