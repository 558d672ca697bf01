/* Reading the kernel into a state: four dumps (links, addresses, routes,
 * rules), each message checked before a byte of it is read. A message
 * moat cannot read fails the observation rather than leaving a hole in
 * the state that the diff would then try to fill. Routes and rules are
 * moat's only (protocol NET_RTPROT_MOAT); links and addresses are all. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "net/io.h"

/* A dump that raced a change (NLM_F_DUMP_INTR, or an index no link has)
 * is taken again, a few times, before giving up. */
#define OBSERVE_TRIES 5

/* Where each link's ifindex and parent sit, kept beside the state
 * because struct net_link has no place for the parent's index. */
struct ifx {
	int ifindex;
	int parent;		/* IFLA_LINK of a VLAN, 0 none */
	size_t i;		/* in state->links */
};

struct obs {
	struct net_plan *st;
	int family;		/* of the dump under way */
	int err;		/* first unreadable message: -EBADMSG */
	bool stale;		/* the kernel changed during the dumps */
	struct ifx *idx;	/* sorted by ifindex once links are read */
	size_t nidx, cap;
};

static const struct pos nowhere;

/* --- attributes -------------------------------------------------------- */

struct attrs {
	const struct nlattr **tb;
	uint16_t max;
};

/* Types above max are newer than our headers: not ours to read. */
static int collect_cb(const struct nlattr *a, void *data)
{
	struct attrs *at = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= at->max)
		at->tb[type] = a;
	return MNL_CB_OK;
}

static void attrs_parse(const struct nlmsghdr *nlh, size_t hdr,
			const struct nlattr **tb, uint16_t max)
{
	struct attrs at = { tb, max };

	memset(tb, 0, (max + 1u) * sizeof(*tb));
	mnl_attr_parse(nlh, (unsigned)hdr, collect_cb, &at);
}

static void attrs_nested(const struct nlattr *nest, const struct nlattr **tb,
			 uint16_t max)
{
	struct attrs at = { tb, max };

	memset(tb, 0, (max + 1u) * sizeof(*tb));
	mnl_attr_parse_nested(nest, collect_cb, &at);
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int get_u32(const struct nlattr *a, uint32_t *v)
{
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -EBADMSG;
	*v = mnl_attr_get_u32(a);
	return 0;
}

static int get_u8(const struct nlattr *a, uint8_t *v)
{
	if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
		return -EBADMSG;
	*v = mnl_attr_get_u8(a);
	return 0;
}

/* A NUL-terminated string that fits in n bytes. */
static int get_str(const struct nlattr *a, char *buf, size_t n)
{
	if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0 ||
	    strlen(mnl_attr_get_str(a)) >= n)
		return -EBADMSG;
	strcpy(buf, mnl_attr_get_str(a));
	return 0;
}

/* An address of exactly the family's length. */
static int get_addr(const struct nlattr *a, int family, uint8_t *out)
{
	size_t n = addr_len(family);

	if (mnl_attr_validate(a, MNL_TYPE_BINARY) < 0 || !n ||
	    mnl_attr_get_payload_len(a) != n)
		return -EBADMSG;
	memcpy(out, mnl_attr_get_payload(a), n);
	return 0;
}

/* --- links ------------------------------------------------------------- */

/* The first eight counters of rtnl_link_stats64; the struct grows with
 * kernels, so only a minimum length is required. */
static int link_stats(const struct nlattr *a, struct net_link *l)
{
	uint64_t s[8];

	if (mnl_attr_validate(a, MNL_TYPE_BINARY) < 0 ||
	    mnl_attr_get_payload_len(a) < sizeof(s))
		return -EBADMSG;
	memcpy(s, mnl_attr_get_payload(a), sizeof(s));
	l->rx_packets = s[0];
	l->tx_packets = s[1];
	l->rx_bytes = s[2];
	l->tx_bytes = s[3];
	l->rx_errors = s[4];
	l->tx_errors = s[5];
	l->rx_dropped = s[6];
	l->tx_dropped = s[7];
	return 0;
}

/* IFLA_LINKINFO: a VLAN's kind and id; any other kind is a device. */
static int link_info(const struct nlattr *a, struct net_link *l)
{
	const struct nlattr *info[IFLA_INFO_MAX + 1];
	const struct nlattr *vlan[IFLA_VLAN_MAX + 1];

	if (mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	attrs_nested(a, info, IFLA_INFO_MAX);
	if (!info[IFLA_INFO_KIND])
		return 0;
	if (mnl_attr_validate(info[IFLA_INFO_KIND], MNL_TYPE_NUL_STRING) < 0)
		return -EBADMSG;
	if (strcmp(mnl_attr_get_str(info[IFLA_INFO_KIND]), "vlan"))
		return 0;
	l->kind = NET_LINK_VLAN;
	if (!info[IFLA_INFO_DATA])
		return 0;
	if (mnl_attr_validate(info[IFLA_INFO_DATA], MNL_TYPE_NESTED) < 0)
		return -EBADMSG;
	attrs_nested(info[IFLA_INFO_DATA], vlan, IFLA_VLAN_MAX);
	if (vlan[IFLA_VLAN_ID]) {
		if (mnl_attr_validate(vlan[IFLA_VLAN_ID], MNL_TYPE_U16) < 0)
			return -EBADMSG;
		l->vlan_id = mnl_attr_get_u16(vlan[IFLA_VLAN_ID]);
	}
	return 0;
}

static int link_attrs(const struct nlattr **tb, struct net_link *l)
{
	int r = get_str(tb[IFLA_IFNAME], l->name, sizeof(l->name));

	if (r == 0 && tb[IFLA_MTU])
		r = get_u32(tb[IFLA_MTU], &l->mtu);
	if (r == 0 && tb[IFLA_OPERSTATE])
		r = get_u8(tb[IFLA_OPERSTATE], &l->operstate);
	if (r == 0 && tb[IFLA_ADDRESS]) {
		if (mnl_attr_validate(tb[IFLA_ADDRESS], MNL_TYPE_BINARY) < 0)
			return -EBADMSG;
		/* only Ethernet's is a MAC; a tunnel's is an IP or none */
		if (mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
			memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]),
			       6);
			l->has_mac = true;
		}
	}
	if (r == 0 && tb[IFLA_STATS64])
		r = link_stats(tb[IFLA_STATS64], l);
	if (r == 0 && tb[IFLA_LINKINFO])
		r = link_info(tb[IFLA_LINKINFO], l);
	return r;
}

static int link_parse(struct obs *o, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;
	struct net_link l = { 0 };
	uint32_t parent = 0;
	struct ifx *x;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return -EBADMSG;
	ifi = mnl_nlmsg_get_payload(nlh);
	attrs_parse(nlh, sizeof(*ifi), tb, IFLA_MAX);
	if (ifi->ifi_index <= 0 || !tb[IFLA_IFNAME] || link_attrs(tb, &l) < 0)
		return -EBADMSG;
	/* a parent in another namespace has an index that means nothing
	 * here */
	if (l.kind == NET_LINK_VLAN && tb[IFLA_LINK] &&
	    !tb[IFLA_LINK_NETNSID] && get_u32(tb[IFLA_LINK], &parent) < 0)
		return -EBADMSG;
	l.ifindex = ifi->ifi_index;
	l.flags = ifi->ifi_flags;
	l.up = (ifi->ifi_flags & IFF_UP) != 0;
	xgrow((void **)&o->idx, &o->cap, o->nidx + 1, sizeof(*o->idx));
	x = &o->idx[o->nidx++];
	x->ifindex = l.ifindex;
	x->parent = (int)parent;
	x->i = o->st->nlinks;
	*net_plan_add_link(o->st) = l;
	return 0;
}

static int ifx_cmp(const void *a, const void *b)
{
	const struct ifx *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

static struct net_link *link_by_index(struct obs *o, int ifindex)
{
	struct ifx key = { .ifindex = ifindex }, *x;

	x = bsearch(&key, o->idx, o->nidx, sizeof(*o->idx), ifx_cmp);
	return x ? &o->st->links[x->i] : NULL;
}

/* Indexes sorted, VLAN parents named. */
static void links_index(struct obs *o)
{
	qsort(o->idx, o->nidx, sizeof(*o->idx), ifx_cmp);
	for (size_t k = 0; k < o->nidx; k++) {
		struct net_link *l = &o->st->links[o->idx[k].i];
		const struct net_link *p;

		if (!o->idx[k].parent)
			continue;
		p = link_by_index(o, o->idx[k].parent);
		if (p)
			memcpy(l->parent, p->name, sizeof(l->parent));
		else
			o->stale = true;
	}
}

/* --- addresses, routes, rules ------------------------------------------ */

static int addr_parse(struct obs *o, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[IFA_MAX + 1], *a;
	const struct ifaddrmsg *ifa;
	struct net_addr addr = { 0 };
	struct net_link *l;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return -EBADMSG;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != o->family)
		return 0;
	attrs_parse(nlh, sizeof(*ifa), tb, IFA_MAX);
	/* IFA_ADDRESS is the peer's on a point-to-point link */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || ifa->ifa_prefixlen > 8 * addr_len(ifa->ifa_family) ||
	    get_addr(a, ifa->ifa_family, addr.addr) < 0)
		return -EBADMSG;
	addr.family = ifa->ifa_family;
	addr.len = ifa->ifa_prefixlen;
	l = link_by_index(o, (int)ifa->ifa_index);
	if (!l) {
		o->stale = true;
		return 0;
	}
	net_link_add_addr(l, &addr, &nowhere);
	return 0;
}

int net_route_parse(const struct nlmsghdr *nlh, struct net_route *r,
		    int *oif)
{
	const struct nlattr *tb[RTA_MAX + 1];
	const struct rtmsg *rtm;
	uint32_t v = 0;
	int e = 0;

	memset(r, 0, sizeof(*r));
	*oif = 0;
	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return 1;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return -EBADMSG;
	rtm = mnl_nlmsg_get_payload(nlh);
	if ((rtm->rtm_flags & RTM_F_CLONED) || !addr_len(rtm->rtm_family))
		return 1;
	if (rtm->rtm_dst_len > 8 * addr_len(rtm->rtm_family))
		return -EBADMSG;
	attrs_parse(nlh, sizeof(*rtm), tb, RTA_MAX);
	r->family = r->dst.family = rtm->rtm_family;
	r->dst.len = rtm->rtm_dst_len;
	r->table = rtm->rtm_table;
	r->type = rtm->rtm_type;
	r->scope = rtm->rtm_scope;
	r->protocol = rtm->rtm_protocol;
	if (tb[RTA_DST])
		e |= get_addr(tb[RTA_DST], r->family, r->dst.addr);
	if (tb[RTA_GATEWAY]) {
		e |= get_addr(tb[RTA_GATEWAY], r->family, r->gw);
		r->has_gw = true;
	}
	if (tb[RTA_TABLE])
		e |= get_u32(tb[RTA_TABLE], &r->table);
	if (tb[RTA_PRIORITY])
		e |= get_u32(tb[RTA_PRIORITY], &r->metric);
	if (tb[RTA_OIF]) {
		e |= get_u32(tb[RTA_OIF], &v);
		*oif = (int)v;
	}
	return e ? -EBADMSG : 0;
}

static int route_parse(struct obs *o, const struct nlmsghdr *nlh)
{
	const struct net_link *l;
	struct net_route r;
	int oif, e = net_route_parse(nlh, &r, &oif);

	if (e)
		return e < 0 ? e : 0;
	if (r.protocol != NET_RTPROT_MOAT || r.family != o->family)
		return 0;
	if (oif) {
		l = link_by_index(o, oif);
		if (!l) {
			o->stale = true;
			return 0;
		}
		memcpy(r.dev, l->name, sizeof(r.dev));
	}
	*net_plan_add_route(o->st) = r;
	return 0;
}

static int rule_prefix(const struct nlattr *a, int family, uint8_t len,
		       struct net_addr *out)
{
	out->family = family;
	out->len = len;
	if (len > 8 * addr_len(family))
		return -EBADMSG;
	return a ? get_addr(a, family, out->addr) : len ? -EBADMSG : 0;
}

static int rule_parse(struct obs *o, const struct nlmsghdr *nlh)
{
	const struct nlattr *tb[FRA_MAX + 1];
	const struct fib_rule_hdr *frh;
	struct net_rule r = { 0 };
	int e = 0;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)))
		return -EBADMSG;
	frh = mnl_nlmsg_get_payload(nlh);
	if (frh->family != o->family)
		return 0;
	attrs_parse(nlh, sizeof(*frh), tb, FRA_MAX);
	if (!tb[FRA_PROTOCOL] || get_u8(tb[FRA_PROTOCOL], &r.protocol) < 0)
		return tb[FRA_PROTOCOL] ? -EBADMSG : 0;
	if (r.protocol != NET_RTPROT_MOAT)
		return 0;
	r.family = frh->family;
	r.action = frh->action;
	r.table = frh->table;
	e |= rule_prefix(tb[FRA_SRC], r.family, frh->src_len, &r.src);
	e |= rule_prefix(tb[FRA_DST], r.family, frh->dst_len, &r.dst);
	if (tb[FRA_PRIORITY])
		e |= get_u32(tb[FRA_PRIORITY], &r.priority);
	if (tb[FRA_FWMARK])
		e |= get_u32(tb[FRA_FWMARK], &r.fwmark);
	if (tb[FRA_FWMASK])
		e |= get_u32(tb[FRA_FWMASK], &r.fwmask);
	if (tb[FRA_TABLE])
		e |= get_u32(tb[FRA_TABLE], &r.table);
	if (tb[FRA_IIFNAME])
		e |= get_str(tb[FRA_IIFNAME], r.iif, sizeof(r.iif));
	if (tb[FRA_OIFNAME])
		e |= get_str(tb[FRA_OIFNAME], r.oif, sizeof(r.oif));
	if (e)
		return -EBADMSG;
	*net_plan_add_rule(o->st) = r;
	return 0;
}

/* --- the dumps --------------------------------------------------------- */

typedef int (*parse_fn)(struct obs *o, const struct nlmsghdr *nlh);

struct dump {
	struct obs *o;
	parse_fn parse;
};

/* Reads on to the end of the dump whatever happens, so that the socket
 * stays in step; the first problem is kept in o->err. */
static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->o->stale = true;
	if (!d->o->err)
		d->o->err = d->parse(d->o, nlh);
	return MNL_CB_OK;
}

/* hdr (len bytes) follows the netlink header; with strict checking the
 * kernel filters on what it says (the routes' protocol). */
static int dump(struct net_nl *nl, struct obs *o, uint16_t type, int family,
		const void *hdr, size_t len, parse_fn parse)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = net_nl_msg(nl, buf, type, NLM_F_DUMP);
	struct dump d = { o, parse };
	int r;

	memcpy(mnl_nlmsg_put_extra_header(nlh, len), hdr, len);
	o->family = family;
	r = net_nl_talk(nl, nlh, dump_cb, &d);
	/* some dumps end in EINTR rather than NLM_F_DUMP_INTR when the
	 * kernel changed under them */
	if (r == -EINTR) {
		o->stale = true;
		return 0;
	}
	/* a kernel without IPv6 has nothing of it to show */
	if (family == AF_INET6 && (r == -EAFNOSUPPORT || r == -EOPNOTSUPP))
		return 0;
	return r < 0 ? r : o->err;
}

static int dump_all(struct net_nl *nl, struct obs *o)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	int r = dump(nl, o, RTM_GETLINK, AF_UNSPEC, &ifi, sizeof(ifi),
		     link_parse);

	if (r < 0)
		return r;
	links_index(o);
	for (size_t k = 0; k < ARRAY_SIZE(fams) && r == 0; k++) {
		struct ifaddrmsg ifa = { .ifa_family = fams[k] };
		struct rtmsg rtm = { .rtm_family = fams[k],
				     .rtm_protocol = NET_RTPROT_MOAT };
		struct fib_rule_hdr frh = { .family = fams[k] };

		r = dump(nl, o, RTM_GETADDR, fams[k], &ifa, sizeof(ifa),
			 addr_parse);
		if (r == 0)
			r = dump(nl, o, RTM_GETROUTE, fams[k], &rtm,
				 sizeof(rtm), route_parse);
		if (r == 0)
			r = dump(nl, o, RTM_GETRULE, fams[k], &frh,
				 sizeof(frh), rule_parse);
	}
	return r;
}

int net_observe(struct net_nl *nl, struct net_plan *state,
		struct diag_list *dl)
{
	struct obs o = { 0 };
	int r = 0;

	for (int tries = 0; tries < OBSERVE_TRIES; tries++) {
		o.st = xcalloc(1, sizeof(*o.st));
		o.err = 0;
		o.stale = false;
		o.nidx = 0;
		r = dump_all(nl, &o);
		if (r < 0 || !o.stale)
			break;
		net_plan_free(o.st);
		o.st = NULL;
		r = -EAGAIN;
	}
	free(o.idx);
	if (r < 0) {
		net_plan_free(o.st);
		diag_error(dl, NULL, "cannot read the kernel's links, "
			   "addresses, routes and rules: %s%s%s",
			   r == -EBADMSG ? "it sent a message moat cannot "
			   "read" : r == -EAGAIN ? "they kept changing while "
			   "moat read them" : strerror(-r),
			   nl->err[0] ? ": " : "", nl->err);
		return r;
	}
	*state = *o.st;		/* the contents move; the shell goes */
	free(o.st);
	return 0;
}
