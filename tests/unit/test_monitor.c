/* The integrity monitor's classifier (ctl/monitor_ev.c): notifications
 * written with libmnl as the kernel writes them (nftables objects of
 * table inet moat and of others, routes and rules by protocol, links and
 * addresses in and out of the managed list), and cut or broken ones,
 * which must say nothing. */
#include <arpa/inet.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>

#include "ctl/monitor.h"

/* linux/if.h has it, but clashes with net/if.h */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

static const char *const links[] = { "lan0", "wan0", NULL };

struct msg {
	uint32_t buf[1024];	/* aligned, as a recv buffer is */
	struct nlmsghdr *nlh;
	char what[256];
};

/* --- writing notifications --------------------------------------------- */

static void *start(struct msg *m, uint16_t type, size_t hdr)
{
	memset(m, 0, sizeof(*m));
	m->nlh = mnl_nlmsg_put_header(m->buf);
	m->nlh->nlmsg_type = type;
	return mnl_nlmsg_put_extra_header(m->nlh, hdr);
}

/* An nftables notification of table in family, with more string
 * attributes as (type, value) pairs ending at 0. */
static void nft(struct msg *m, int msg, uint8_t family, uint16_t table_attr,
		const char *table, ...)
{
	struct nfgenmsg *g = start(m, (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 |
						 msg), sizeof(*g));
	va_list ap;
	int t;

	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(42);
	if (table)
		mnl_attr_put_strz(m->nlh, table_attr, table);
	va_start(ap, table);
	while ((t = va_arg(ap, int)))
		mnl_attr_put_strz(m->nlh, (uint16_t)t, va_arg(ap, char *));
	va_end(ap);
}

static unsigned classify(struct msg *m, int proto, const char *const *l)
{
	return monitor_classify(proto, m->nlh, l, m->what, sizeof(m->what));
}

static unsigned classify_nft(struct msg *m)
{
	return classify(m, NETLINK_NETFILTER, links);
}

static void route(struct msg *m, int msg, int family, uint8_t proto,
		  const char *dst, uint8_t len, uint32_t table)
{
	struct rtmsg *r = start(m, (uint16_t)msg, sizeof(*r));
	uint8_t ip[16];

	r->rtm_family = (uint8_t)family;
	r->rtm_dst_len = len;
	r->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_COMPAT;
	r->rtm_protocol = proto;
	r->rtm_scope = RT_SCOPE_UNIVERSE;
	r->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(m->nlh, RTA_TABLE, table);
	if (dst) {
		assert_int_equal(inet_pton(family, dst, ip), 1);
		mnl_attr_put(m->nlh, RTA_DST, family == AF_INET ? 4 : 16, ip);
	}
	mnl_attr_put_u32(m->nlh, RTA_OIF, 1);
}

static void rule(struct msg *m, int msg, int family, int proto,
		 uint32_t prio, uint32_t table)
{
	struct fib_rule_hdr *h = start(m, (uint16_t)msg, sizeof(*h));

	h->family = (uint8_t)family;
	h->table = table < 256 ? (uint8_t)table : RT_TABLE_COMPAT;
	h->action = FR_ACT_TO_TBL;
	mnl_attr_put_u32(m->nlh, FRA_TABLE, table);
	if (prio)
		mnl_attr_put_u32(m->nlh, FRA_PRIORITY, prio);
	if (proto >= 0)
		mnl_attr_put_u8(m->nlh, FRA_PROTOCOL, (uint8_t)proto);
}

static void link_msg(struct msg *m, int msg, const char *name,
		     unsigned flags, unsigned change, uint32_t mtu)
{
	struct ifinfomsg *ifi = start(m, (uint16_t)msg, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = 3;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	mnl_attr_put_strz(m->nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(m->nlh, IFLA_MTU, mtu);
}

static void addr(struct msg *m, int msg, int family, const char *ip,
		 uint8_t len, const char *label)
{
	struct ifaddrmsg *ifa = start(m, (uint16_t)msg, sizeof(*ifa));
	uint8_t a[16];

	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = len;
	ifa->ifa_index = 7;
	assert_int_equal(inet_pton(family, ip, a), 1);
	mnl_attr_put(m->nlh, IFA_ADDRESS, family == AF_INET ? 4 : 16, a);
	if (family == AF_INET)
		mnl_attr_put(m->nlh, IFA_LOCAL, 4, a);
	if (label)
		mnl_attr_put_strz(m->nlh, IFA_LABEL, label);
}

#define assert_fw(m, s)                                                 \
	do {                                                            \
		assert_int_equal(classify_nft(m), MON_FW);              \
		assert_string_equal((m)->what, s);                      \
	} while (0)

#define assert_net(m, l, s)                                             \
	do {                                                            \
		assert_int_equal(classify(m, NETLINK_ROUTE, l), MON_NET); \
		assert_string_equal((m)->what, s);                      \
	} while (0)

#define assert_none(m, proto, l)                                        \
	do {                                                            \
		assert_int_equal(classify(m, proto, l), MON_NONE);      \
		assert_string_equal((m)->what, "");                     \
	} while (0)

/* --- nftables ------------------------------------------------------------ */

static void test_nft_table(void **state)
{
	struct msg m;
	uint32_t flags = htonl(NFT_TABLE_F_DORMANT);

	nft(&m, NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "moat", 0);
	assert_fw(&m, "nft: table inet moat deleted");
	nft(&m, NFT_MSG_NEWTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "moat", 0);
	assert_fw(&m, "nft: table inet moat added");
	mnl_attr_put(m.nlh, NFTA_TABLE_FLAGS, sizeof(flags), &flags);
	assert_fw(&m, "nft: table inet moat made dormant");

	/* another table, the same name in another family */
	nft(&m, NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "other", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
	nft(&m, NFT_MSG_DELTABLE, NFPROTO_IPV4, NFTA_TABLE_NAME, "moat", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
	nft(&m, NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "moat2", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
	nft(&m, NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "moa", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
	/* no name at all */
	nft(&m, NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, NULL, 0);
	assert_none(&m, NETLINK_NETFILTER, links);
}

static void test_nft_objects(void **state)
{
	struct msg m;

	nft(&m, NFT_MSG_NEWCHAIN, NFPROTO_INET, NFTA_CHAIN_TABLE, "moat",
	    NFTA_CHAIN_NAME, "fwd_x", 0);
	assert_fw(&m, "nft: chain fwd_x added");
	nft(&m, NFT_MSG_DELCHAIN, NFPROTO_INET, NFTA_CHAIN_TABLE, "moat",
	    NFTA_CHAIN_NAME, "input", 0);
	assert_fw(&m, "nft: chain input deleted");
	nft(&m, NFT_MSG_DELSET, NFPROTO_INET, NFTA_SET_TABLE, "moat",
	    NFTA_SET_NAME, "blocked", 0);
	assert_fw(&m, "nft: set blocked deleted");
	nft(&m, NFT_MSG_NEWOBJ, NFPROTO_INET, NFTA_OBJ_TABLE, "moat",
	    NFTA_OBJ_NAME, "cnt", 0);
	assert_fw(&m, "nft: object cnt added");
	nft(&m, NFT_MSG_DELFLOWTABLE, NFPROTO_INET, NFTA_FLOWTABLE_TABLE,
	    "moat", NFTA_FLOWTABLE_NAME, "ft", 0);
	assert_fw(&m, "nft: flowtable ft deleted");

	nft(&m, NFT_MSG_NEWCHAIN, NFPROTO_INET, NFTA_CHAIN_TABLE, "filter",
	    NFTA_CHAIN_NAME, "input", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
	nft(&m, NFT_MSG_DELSET, NFPROTO_IPV6, NFTA_SET_TABLE, "moat",
	    NFTA_SET_NAME, "blocked", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
}

static void test_nft_rules(void **state)
{
	struct msg m;

	nft(&m, NFT_MSG_DELRULE, NFPROTO_INET, NFTA_RULE_TABLE, "moat",
	    NFTA_RULE_CHAIN, "input", 0);
	assert_fw(&m, "nft: rule deleted in chain input");
	nft(&m, NFT_MSG_NEWRULE, NFPROTO_INET, NFTA_RULE_TABLE, "moat",
	    NFTA_RULE_CHAIN, "forward", 0);
	assert_fw(&m, "nft: rule added in chain forward");
	/* a flush of the whole table may name no chain */
	nft(&m, NFT_MSG_DELRULE, NFPROTO_INET, NFTA_RULE_TABLE, "moat", 0);
	assert_fw(&m, "nft: rule deleted in table inet moat");
	nft(&m, NFT_MSG_DELRULE, NFPROTO_INET, NFTA_RULE_TABLE, "other",
	    NFTA_RULE_CHAIN, "input", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
}

/* Set elements are data (`moat set` changes them); the generation is the
 * end of every batch. Neither is a change of moat's behaviour. */
static void test_nft_data(void **state)
{
	struct msg m;

	nft(&m, NFT_MSG_NEWSETELEM, NFPROTO_INET, NFTA_SET_ELEM_LIST_TABLE,
	    "moat", NFTA_SET_ELEM_LIST_SET, "blocked", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
	nft(&m, NFT_MSG_DELSETELEM, NFPROTO_INET, NFTA_SET_ELEM_LIST_TABLE,
	    "moat", NFTA_SET_ELEM_LIST_SET, "blocked", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
	nft(&m, NFT_MSG_NEWGEN, NFPROTO_UNSPEC, NFTA_GEN_ID, NULL, 0);
	mnl_attr_put_u32(m.nlh, NFTA_GEN_ID, htonl(7));
	mnl_attr_put_u32(m.nlh, NFTA_GEN_PROC_PID, htonl(100));
	mnl_attr_put_strz(m.nlh, NFTA_GEN_PROC_NAME, "nft");
	assert_none(&m, NETLINK_NETFILTER, links);
	/* a GET is a request, never a notification */
	nft(&m, NFT_MSG_GETTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "moat", 0);
	assert_none(&m, NETLINK_NETFILTER, links);
	/* another nfnetlink subsystem with the same message number */
	nft(&m, NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "moat", 0);
	m.nlh->nlmsg_type = (uint16_t)(NFNL_SUBSYS_IPSET << 8 |
				       NFT_MSG_DELTABLE);
	assert_none(&m, NETLINK_NETFILTER, links);
	/* and the right one read as rtnetlink */
	nft(&m, NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "moat", 0);
	assert_none(&m, NETLINK_ROUTE, links);
}

/* Names from the kernel are cut and made printable. */
static void test_nft_names(void **state)
{
	char name[200];
	struct msg m;

	nft(&m, NFT_MSG_NEWCHAIN, NFPROTO_INET, NFTA_CHAIN_TABLE, "moat",
	    NFTA_CHAIN_NAME, "a\nb\x1b[0m", 0);
	assert_fw(&m, "nft: chain a?b?[0m added");
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	nft(&m, NFT_MSG_NEWCHAIN, NFPROTO_INET, NFTA_CHAIN_TABLE, "moat",
	    NFTA_CHAIN_NAME, name, 0);
	assert_int_equal(classify_nft(&m), MON_FW);
	assert_int_equal(strlen(m.what), strlen("nft: chain  added") + 64);
	/* a small description buffer is cut, not overrun */
	assert_int_equal(monitor_classify(NETLINK_NETFILTER, m.nlh, links,
					  m.what, 8), MON_FW);
	assert_string_equal(m.what, "nft: ch");
	assert_int_equal(monitor_classify(NETLINK_NETFILTER, m.nlh, links,
					  NULL, 0), MON_FW);
}

/* --- rtnetlink ----------------------------------------------------------- */

static void test_routes(void **state)
{
	struct msg m;

	route(&m, RTM_NEWROUTE, AF_INET, 77, "10.9.0.0", 16, 100);
	assert_net(&m, links, "route 10.9.0.0/16 table 100 added");
	route(&m, RTM_DELROUTE, AF_INET, 77, "10.9.0.0", 16, 254);
	assert_net(&m, NULL, "route 10.9.0.0/16 table 254 deleted");
	route(&m, RTM_DELROUTE, AF_INET6, 77, "2001:db8::", 32, 254);
	assert_net(&m, NULL, "route 2001:db8::/32 table 254 deleted");
	route(&m, RTM_NEWROUTE, AF_INET6, 77, NULL, 0, 1000);
	assert_net(&m, NULL, "route default table 1000 added");

	/* someone else's: boot, kernel, static, dhcp */
	route(&m, RTM_DELROUTE, AF_INET, RTPROT_BOOT, "10.9.0.0", 16, 254);
	assert_none(&m, NETLINK_ROUTE, links);
	route(&m, RTM_NEWROUTE, AF_INET, RTPROT_STATIC, "10.9.0.0", 16, 254);
	assert_none(&m, NETLINK_ROUTE, links);
	route(&m, RTM_NEWROUTE, AF_INET, RTPROT_KERNEL, "10.9.0.0", 16, 254);
	assert_none(&m, NETLINK_ROUTE, links);
	/* a PMTU exception under one of ours */
	route(&m, RTM_NEWROUTE, AF_INET6, 77, "2001:db8::1", 128, 254);
	((struct rtmsg *)mnl_nlmsg_get_payload(m.nlh))->rtm_flags =
		RTM_F_CLONED;
	assert_none(&m, NETLINK_ROUTE, links);
}

static void test_rules(void **state)
{
	struct msg m;

	rule(&m, RTM_NEWRULE, AF_INET, 77, 1000, 100);
	assert_net(&m, NULL, "rule priority 1000 table 100 added");
	rule(&m, RTM_DELRULE, AF_INET6, 77, 2000, 200);
	assert_net(&m, links, "rule priority 2000 table 200 deleted");
	rule(&m, RTM_DELRULE, AF_INET, 77, 0, 254);
	assert_net(&m, links, "rule priority 0 table 254 deleted");

	rule(&m, RTM_DELRULE, AF_INET, RTPROT_KERNEL, 32766, 254);
	assert_none(&m, NETLINK_ROUTE, links);
	rule(&m, RTM_NEWRULE, AF_INET, RTPROT_BOOT, 1000, 100);
	assert_none(&m, NETLINK_ROUTE, links);
	/* older kernels send no protocol: not ours to claim */
	rule(&m, RTM_NEWRULE, AF_INET, -1, 1000, 100);
	assert_none(&m, NETLINK_ROUTE, links);
}

static void test_links(void **state)
{
	struct msg m;

	link_msg(&m, RTM_NEWLINK, "lan0", IFF_BROADCAST, IFF_UP, 1500);
	assert_net(&m, links, "link lan0 down");
	link_msg(&m, RTM_NEWLINK, "lan0", IFF_UP | IFF_RUNNING, IFF_UP, 1500);
	assert_net(&m, links, "link lan0 up");
	/* the kernel says nothing of what changed: carrier or MTU */
	link_msg(&m, RTM_NEWLINK, "wan0", IFF_UP | IFF_LOWER_UP, 0, 1400);
	assert_net(&m, links, "link wan0 mtu 1400, carrier on");
	link_msg(&m, RTM_NEWLINK, "wan0", IFF_UP, 0, 0);
	assert_net(&m, links, "link wan0 carrier off");
	link_msg(&m, RTM_NEWLINK, "wan0", IFF_BROADCAST, ~0u, 1500);
	assert_net(&m, links, "link wan0 added");
	link_msg(&m, RTM_DELLINK, "lan0", IFF_UP, 0, 1500);
	assert_net(&m, links, "link lan0 deleted");

	link_msg(&m, RTM_NEWLINK, "eth9", IFF_BROADCAST, IFF_UP, 1500);
	assert_none(&m, NETLINK_ROUTE, links);
	link_msg(&m, RTM_NEWLINK, "lan00", IFF_BROADCAST, IFF_UP, 1500);
	assert_none(&m, NETLINK_ROUTE, links);
	link_msg(&m, RTM_NEWLINK, "lan", IFF_BROADCAST, IFF_UP, 1500);
	assert_none(&m, NETLINK_ROUTE, links);
	link_msg(&m, RTM_DELLINK, "lan0", IFF_UP, 0, 1500);
	assert_none(&m, NETLINK_ROUTE, NULL);
}

static void test_addresses(void **state)
{
	static const char *const none[] = { NULL };
	struct msg m;

	addr(&m, RTM_DELADDR, AF_INET, "192.0.2.1", 24, "lan0");
	assert_net(&m, links, "address 192.0.2.1/24 removed from lan0");
	addr(&m, RTM_NEWADDR, AF_INET, "192.0.2.9", 32, "lan0:1");
	assert_net(&m, links, "address 192.0.2.9/32 added on lan0:1");
	addr(&m, RTM_NEWADDR, AF_INET, "192.0.2.1", 24, "eth9");
	assert_none(&m, NETLINK_ROUTE, links);
	addr(&m, RTM_NEWADDR, AF_INET, "192.0.2.1", 24, "lan0x");
	assert_none(&m, NETLINK_ROUTE, links);

	/* IPv6: an index, no name */
	addr(&m, RTM_NEWADDR, AF_INET6, "2001:db8::1", 64, NULL);
	assert_net(&m, links, "address 2001:db8::1/64 added on ifindex 7");
	addr(&m, RTM_DELADDR, AF_INET6, "fd00::1", 64, NULL);
	assert_net(&m, links, "address fd00::1/64 removed from ifindex 7");
	addr(&m, RTM_NEWADDR, AF_INET6, "fe80::1", 64, NULL);
	assert_none(&m, NETLINK_ROUTE, links);
	addr(&m, RTM_NEWADDR, AF_INET6, "febf::1", 64, NULL);
	assert_none(&m, NETLINK_ROUTE, links);
	addr(&m, RTM_NEWADDR, AF_INET6, "fec0::1", 64, NULL);
	assert_int_equal(classify(&m, NETLINK_ROUTE, links), MON_NET);
	addr(&m, RTM_NEWADDR, AF_INET6, "2001:db8::1", 64, NULL);
	assert_none(&m, NETLINK_ROUTE, NULL);
	assert_none(&m, NETLINK_ROUTE, none);
}

/* --- what cannot be read ------------------------------------------------- */

/* Every prefix of a message that concerns moat that does not end
 * after an attribute (or in its padding) is read as nothing, and so is the message with
 * any one attribute's length broken. */
static void cut_and_break(struct msg *m, int proto, size_t hdr)
{
	uint32_t len = m->nlh->nlmsg_len;
	bool ends[sizeof(m->buf)] = { false };
	struct nlattr *a;

	assert_int_not_equal(classify(m, proto, links), MON_NONE);
	ends[NLMSG_HDRLEN + NLMSG_ALIGN(hdr)] = true;
	/* the last attribute's padding may be left out */
	mnl_attr_for_each(a, m->nlh, hdr) {
		for (char *p = (char *)a + a->nla_len;
		     p <= (char *)mnl_attr_next(a); p++)
			ends[p - (char *)m->nlh] = true;
	}
	for (uint32_t l = 0; l < len; l++) {
		m->nlh->nlmsg_len = l;
		if (ends[l])
			classify(m, proto, links);
		else if (classify(m, proto, links))
			fail_msg("cut at %u of %u: %s", l, len, m->what);
	}
	m->nlh->nlmsg_len = len;
	mnl_attr_for_each(a, m->nlh, hdr) {
		uint16_t was = a->nla_len;

		a->nla_len = 2;
		assert_none(m, proto, links);
		a->nla_len = (uint16_t)(len + 4);
		assert_none(m, proto, links);
		a->nla_len = was;
	}
	assert_int_not_equal(classify(m, proto, links), MON_NONE);
}

static void test_malformed(void **state)
{
	struct msg m;

	nft(&m, NFT_MSG_DELRULE, NFPROTO_INET, NFTA_RULE_TABLE, "moat",
	    NFTA_RULE_CHAIN, "input", 0);
	cut_and_break(&m, NETLINK_NETFILTER, sizeof(struct nfgenmsg));
	route(&m, RTM_DELROUTE, AF_INET, 77, "10.9.0.0", 16, 100);
	cut_and_break(&m, NETLINK_ROUTE, sizeof(struct rtmsg));
	rule(&m, RTM_DELRULE, AF_INET, 77, 1000, 100);
	cut_and_break(&m, NETLINK_ROUTE, sizeof(struct fib_rule_hdr));
	link_msg(&m, RTM_DELLINK, "lan0", IFF_UP, 0, 1500);
	cut_and_break(&m, NETLINK_ROUTE, sizeof(struct ifinfomsg));
	addr(&m, RTM_DELADDR, AF_INET6, "2001:db8::1", 64, NULL);
	cut_and_break(&m, NETLINK_ROUTE, sizeof(struct ifaddrmsg));
	addr(&m, RTM_DELADDR, AF_INET, "192.0.2.1", 24, "lan0");
	cut_and_break(&m, NETLINK_ROUTE, sizeof(struct ifaddrmsg));

	/* a table name not NUL-terminated */
	nft(&m, NFT_MSG_DELTABLE, NFPROTO_INET, 0, NULL, 0);
	mnl_attr_put(m.nlh, NFTA_TABLE_NAME, 4, "moat");
	assert_none(&m, NETLINK_NETFILTER, links);
	/* an address of the wrong length */
	addr(&m, RTM_DELADDR, AF_INET6, "2001:db8::1", 64, NULL);
	m.nlh->nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct ifaddrmsg));
	mnl_attr_put(m.nlh, IFA_ADDRESS, 4, "\x0a\0\0\x01");
	assert_none(&m, NETLINK_ROUTE, links);
	/* a protocol we do not speak */
	route(&m, RTM_DELROUTE, AF_INET, 77, "10.9.0.0", 16, 100);
	assert_int_equal(monitor_classify(NETLINK_GENERIC, m.nlh, links,
					  m.what, sizeof(m.what)), MON_NONE);
	assert_int_equal(monitor_classify(NETLINK_ROUTE, NULL, links, m.what,
					  sizeof(m.what)), MON_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nft_table),
		cmocka_unit_test(test_nft_objects),
		cmocka_unit_test(test_nft_rules),
		cmocka_unit_test(test_nft_data),
		cmocka_unit_test(test_nft_names),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
