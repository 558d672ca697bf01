/* The integrity monitor's classifier: what one netlink event means to
 * ctl (pure). It reads nothing but the message it is given, checks every
 * length before reading, and says MON_NONE to what it cannot read: the
 * kernel does not send malformed messages, so one is not a tamper.
 * Where a message might concern moat and the message alone cannot tell
 * (an IPv6 address names no link), it says yes: a false alarm costs ctl
 * one check of the kernel, a missed one leaves a change standing. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include "base/util.h"
#include "ctl/monitor.h"
#include "fw/fw.h"
#include "net/net.h"

/* linux/if.h has it, but clashes with net/if.h */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

/* Every attribute the classifier reads has a type below this. */
#define ATTR_MAX 32
/* Names from the kernel (chains, sets) are cut to this in descriptions. */
#define NAME_SHOW 64

/* --- reading a message ----------------------------------------------- */

struct attrs {
	const struct nlattr *tb[ATTR_MAX];
};

/* The attributes after a family header of hdr bytes, by type; types
 * past ATTR_MAX are newer than what we read. -1 when the message is
 * shorter than its header or an attribute runs past the message's end
 * (unlike mnl_attr_parse, which stops there and reads up to the aligned
 * end: a recv buffer has that padding, a fuzzer's copy has not). */
static int attrs_read(const struct nlmsghdr *nlh, size_t hdr,
		      struct attrs *at)
{
	const struct nlattr *a;
	size_t off = NLMSG_HDRLEN + MNL_ALIGN(hdr);
	int rest;

	memset(at, 0, sizeof(*at));
	if (nlh->nlmsg_len < off || nlh->nlmsg_len > INT_MAX)
		return -1;
	a = (const struct nlattr *)((const char *)nlh + off);
	for (rest = (int)(nlh->nlmsg_len - off); mnl_attr_ok(a, rest);
	     a = mnl_attr_next(a)) {
		uint16_t type = mnl_attr_get_type(a);

		if (type < ATTR_MAX)
			at->tb[type] = a;
		rest -= (int)MNL_ALIGN(a->nla_len);
	}
	return rest > 0 ? -1 : 0;
}

/* The attribute's NUL-terminated string, NULL when absent or not one. */
static const char *attr_str(const struct attrs *at, uint16_t type)
{
	const struct nlattr *a = at->tb[type];

	if (!a || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
		return NULL;
	return mnl_attr_get_str(a);
}

static bool attr_u32(const struct attrs *at, uint16_t type, uint32_t *v)
{
	const struct nlattr *a = at->tb[type];

	if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return false;
	*v = mnl_attr_get_u32(a);
	return true;
}

static bool attr_u8(const struct attrs *at, uint16_t type, uint8_t *v)
{
	const struct nlattr *a = at->tb[type];

	if (!a || mnl_attr_validate(a, MNL_TYPE_U8) < 0)
		return false;
	*v = mnl_attr_get_u8(a);
	return true;
}

/* The family header: NULL when the message is too short for it. */
static const void *family_hdr(const struct nlmsghdr *nlh, size_t hdr)
{
	if (nlh->nlmsg_len < NLMSG_HDRLEN + hdr)
		return NULL;
	return mnl_nlmsg_get_payload(nlh);
}

/* --- writing a description ------------------------------------------- */

/* A name another program chose, fit for one line of the audit log: at
 * most NAME_SHOW bytes, anything but printable ASCII as '?'. */
static void clean_name(char *out, const char *name)
{
	size_t i;

	for (i = 0; name[i] && i < NAME_SHOW; i++)
		out[i] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
	out[i] = '\0';
}

static void say(char *what, size_t n, const char *fmt, ...)
	MOAT_PRINTF(3, 4);

static void say(char *what, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!what || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(what, n, fmt, ap);
	va_end(ap);
}

/* "ADDR/LEN" or "default"; "?/LEN" when the address is not readable. */
static void prefix_str(char *out, size_t n, int family,
		       const struct nlattr *a, unsigned len)
{
	char ip[INET6_ADDRSTRLEN];
	size_t alen = family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;

	if (!a && len == 0) {
		snprintf(out, n, "default");
		return;
	}
	if (!a || !alen || mnl_attr_get_payload_len(a) != alen ||
	    !inet_ntop(family, mnl_attr_get_payload(a), ip, sizeof(ip)))
		snprintf(out, n, "?/%u", len);
	else
		snprintf(out, n, "%s/%u", ip, len);
}

/* --- nftables ---------------------------------------------------------- */

/* For each object message: what it is called and which attributes name
 * its table and itself. Types not here (set elements, the generation,
 * resets) are not moat's behaviour. */
struct nft_kind {
	const char *noun;
	uint16_t table_attr;
	uint16_t name_attr;
	bool del;
};

static const struct nft_kind nft_kinds[NFT_MSG_MAX] = {
	[NFT_MSG_NEWTABLE] = { "table", NFTA_TABLE_NAME, NFTA_TABLE_NAME,
			       false },
	[NFT_MSG_DELTABLE] = { "table", NFTA_TABLE_NAME, NFTA_TABLE_NAME,
			       true },
	[NFT_MSG_NEWCHAIN] = { "chain", NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME,
			       false },
	[NFT_MSG_DELCHAIN] = { "chain", NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME,
			       true },
	[NFT_MSG_NEWRULE] = { "rule", NFTA_RULE_TABLE, NFTA_RULE_CHAIN,
			      false },
	[NFT_MSG_DELRULE] = { "rule", NFTA_RULE_TABLE, NFTA_RULE_CHAIN,
			      true },
	[NFT_MSG_NEWSET] = { "set", NFTA_SET_TABLE, NFTA_SET_NAME, false },
	[NFT_MSG_DELSET] = { "set", NFTA_SET_TABLE, NFTA_SET_NAME, true },
	[NFT_MSG_NEWOBJ] = { "object", NFTA_OBJ_TABLE, NFTA_OBJ_NAME, false },
	[NFT_MSG_DELOBJ] = { "object", NFTA_OBJ_TABLE, NFTA_OBJ_NAME, true },
	[NFT_MSG_NEWFLOWTABLE] = { "flowtable", NFTA_FLOWTABLE_TABLE,
				   NFTA_FLOWTABLE_NAME, false },
	[NFT_MSG_DELFLOWTABLE] = { "flowtable", NFTA_FLOWTABLE_TABLE,
				   NFTA_FLOWTABLE_NAME, true },
};

static unsigned classify_nft(const struct nlmsghdr *nlh, char *what,
			     size_t n)
{
	const struct nfgenmsg *g = family_hdr(nlh, sizeof(*g));
	const struct nft_kind *k;
	const char *table, *name;
	char shown[NAME_SHOW + 1];
	const char *verb;
	struct attrs at;
	uint32_t flags;
	unsigned type;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return MON_NONE;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (type >= NFT_MSG_MAX || !nft_kinds[type].noun)
		return MON_NONE;
	k = &nft_kinds[type];
	if (!g || g->nfgen_family != NFPROTO_INET ||
	    attrs_read(nlh, sizeof(*g), &at) < 0)
		return MON_NONE;
	table = attr_str(&at, k->table_attr);
	if (!table || strcmp(table, FW_TABLE))
		return MON_NONE;
	verb = k->del ? "deleted" : "added";
	name = attr_str(&at, k->name_attr);
	/* nftables' numbers are big-endian */
	if (type == NFT_MSG_NEWTABLE &&
	    attr_u32(&at, NFTA_TABLE_FLAGS, &flags) &&
	    (ntohl(flags) & NFT_TABLE_F_DORMANT))
		verb = "made dormant";
	if (k->name_attr == k->table_attr) {
		say(what, n, "nft: table %s %s %s", FW_FAMILY, FW_TABLE, verb);
	} else if (!name) {
		/* `nft flush table` deletes rules without naming a chain */
		say(what, n, "nft: %s %s in table %s %s", k->noun, verb,
		    FW_FAMILY, FW_TABLE);
	} else {
		clean_name(shown, name);
		if (type == NFT_MSG_NEWRULE || type == NFT_MSG_DELRULE)
			say(what, n, "nft: rule %s in chain %s", verb, shown);
		else
			say(what, n, "nft: %s %s %s", k->noun, shown, verb);
	}
	return MON_FW;
}

/* --- rtnetlink --------------------------------------------------------- */

static unsigned classify_route(const struct nlmsghdr *nlh, char *what,
			       size_t n)
{
	const struct rtmsg *r = family_hdr(nlh, sizeof(*r));
	char dst[INET6_ADDRSTRLEN + 8];
	struct attrs at;
	uint32_t table;

	if (!r || attrs_read(nlh, sizeof(*r), &at) < 0)
		return MON_NONE;
	/* PMTU and redirect exceptions are the kernel's, not a config */
	if (r->rtm_protocol != NET_RTPROT_MOAT || (r->rtm_flags & RTM_F_CLONED))
		return MON_NONE;
	if (!attr_u32(&at, RTA_TABLE, &table))
		table = r->rtm_table;
	prefix_str(dst, sizeof(dst), r->rtm_family, at.tb[RTA_DST],
		   r->rtm_dst_len);
	say(what, n, "route %s table %u %s", dst, table,
	    nlh->nlmsg_type == RTM_DELROUTE ? "deleted" : "added");
	return MON_NET;
}

static unsigned classify_rule(const struct nlmsghdr *nlh, char *what,
			      size_t n)
{
	const struct fib_rule_hdr *h = family_hdr(nlh, sizeof(*h));
	uint32_t table, prio = 0;
	struct attrs at;
	uint8_t proto;

	if (!h || attrs_read(nlh, sizeof(*h), &at) < 0)
		return MON_NONE;
	if (!attr_u8(&at, FRA_PROTOCOL, &proto) || proto != NET_RTPROT_MOAT)
		return MON_NONE;
	if (!attr_u32(&at, FRA_TABLE, &table))
		table = h->table;
	attr_u32(&at, FRA_PRIORITY, &prio);
	say(what, n, "rule priority %u table %u %s", prio, table,
	    nlh->nlmsg_type == RTM_DELRULE ? "deleted" : "added");
	return MON_NET;
}

/* name is one of links, or an IPv4 label of one ("lan0:1"). */
static bool managed(const char *const *links, const char *name)
{
	for (; links && *links; links++) {
		size_t l = strlen(*links);

		if (!strncmp(name, *links, l) &&
		    (name[l] == '\0' || name[l] == ':'))
			return true;
	}
	return false;
}

/* A link's notification carries its flags and, in ifi_change, which of
 * them changed (all for a new link; none for a change of carrier or
 * MTU). A rename needs the link down first: the "down" before it is what
 * tells of one, since the message names the link only by its new name. */
static unsigned classify_link(const struct nlmsghdr *nlh,
			      const char *const *links, char *what, size_t n)
{
	const struct ifinfomsg *ifi = family_hdr(nlh, sizeof(*ifi));
	char name[NAME_SHOW + 1], mtu_str[24] = "";
	const char *ifname;
	struct attrs at;
	uint32_t mtu;

	if (!ifi || attrs_read(nlh, sizeof(*ifi), &at) < 0)
		return MON_NONE;
	ifname = attr_str(&at, IFLA_IFNAME);
	if (!ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, ':') ||
	    !managed(links, ifname))
		return MON_NONE;
	clean_name(name, ifname);
	if (attr_u32(&at, IFLA_MTU, &mtu))
		snprintf(mtu_str, sizeof(mtu_str), " mtu %u,", mtu);
	if (nlh->nlmsg_type == RTM_DELLINK)
		say(what, n, "link %s deleted", name);
	else if (ifi->ifi_change == ~0u)
		say(what, n, "link %s added", name);
	else if (!(ifi->ifi_flags & IFF_UP))
		say(what, n, "link %s down", name);
	else if (ifi->ifi_change & IFF_UP)
		say(what, n, "link %s up", name);
	else
		say(what, n, "link %s%s carrier %s", name, mtu_str,
		    ifi->ifi_flags & IFF_LOWER_UP ? "on" : "off");
	return MON_NET;
}

/* IPv4 addresses are labelled with their link's name; IPv6 ones carry
 * only an index, which the pure classifier cannot resolve: any such
 * address but a link-local one counts while moat manages links. */
static unsigned classify_addr(const struct nlmsghdr *nlh,
			      const char *const *links, char *what, size_t n)
{
	const struct ifaddrmsg *ifa = family_hdr(nlh, sizeof(*ifa));
	const struct nlattr *a;
	const char *label, *verb;
	char pfx[INET6_ADDRSTRLEN + 8], shown[NAME_SHOW + 1];
	bool del = nlh->nlmsg_type == RTM_DELADDR;
	struct attrs at;

	if (!ifa || attrs_read(nlh, sizeof(*ifa), &at) < 0 ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return MON_NONE;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer's on a
	 * point-to-point link */
	a = at.tb[IFA_LOCAL] ? at.tb[IFA_LOCAL] : at.tb[IFA_ADDRESS];
	if (!a || mnl_attr_get_payload_len(a) !=
			  (ifa->ifa_family == AF_INET ? 4u : 16u))
		return MON_NONE;
	label = attr_str(&at, IFA_LABEL);
	if (label ? strlen(label) >= IFNAMSIZ || !managed(links, label) :
		    !links || !*links)
		return MON_NONE;
	if (!label && ifa->ifa_family == AF_INET6) {
		const uint8_t *ip = mnl_attr_get_payload(a);

		if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
			return MON_NONE;
	}
	prefix_str(pfx, sizeof(pfx), ifa->ifa_family, a, ifa->ifa_prefixlen);
	verb = del ? "removed from" : "added on";
	if (label) {
		clean_name(shown, label);
		say(what, n, "address %s %s %s", pfx, verb, shown);
	} else {
		say(what, n, "address %s %s ifindex %u", pfx, verb,
		    ifa->ifa_index);
	}
	return MON_NET;
}

static unsigned classify_rt(const struct nlmsghdr *nlh,
			    const char *const *links, char *what, size_t n)
{
	switch (nlh->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return classify_route(nlh, what, n);
	case RTM_NEWRULE:
	case RTM_DELRULE:
		return classify_rule(nlh, what, n);
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return classify_link(nlh, links, what, n);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return classify_addr(nlh, links, what, n);
	default:
		return MON_NONE;
	}
}

unsigned monitor_classify(int proto, const struct nlmsghdr *nlh,
			  const char *const *links, char *what, size_t n)
{
	unsigned k = MON_NONE;

	say(what, n, "%s", "");
	if (!nlh || nlh->nlmsg_len < NLMSG_HDRLEN)
		return MON_NONE;
	if (proto == NETLINK_NETFILTER)
		k = classify_nft(nlh, what, n);
	else if (proto == NETLINK_ROUTE)
		k = classify_rt(nlh, links, what, n);
	if (k == MON_NONE)
		say(what, n, "%s", "");
	return k;
}
