/* The router's pure core: what a config compiles to, the changes a diff
 * asks for against a kernel state built by hand (ownership, order,
 * inverses), the net.state codec and the fingerprint. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "hcl/hcl.h"
#include "net/net.h"

static const char *no_env(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

static const struct hcl_env env = { no_env, NULL };

static struct net_plan *compile(const char *src, struct diag_list *dl)
{
	struct moat_config *cfg = cfg_load("t.hcl", src, strlen(src), &env,
					   false, dl);
	struct net_plan *plan;

	if (!cfg)
		diag_print(dl, stderr);
	assert_non_null(cfg);
	plan = net_compile(cfg, dl);
	cfg_free(cfg);
	return plan;
}

static const char cfg_src[] =
	"interface \"eth0\" {\n"			/* 1 */
	"  ipv4 = [\"198.51.100.2/24\"]\n"
	"  ipv6 = [\"2001:db8::2/64\"]\n"
	"  gateway = \"198.51.100.1\"\n"
	"  gateway_v6 = \"2001:db8::1\"\n"		/* 5 */
	"  mtu = 1400\n"
	"}\n"
	"interface \"eth1\" {\n"
	"  ipv4 = [\"10.0.0.1/24\"]\n"
	"  table = 100\n"				/* 10 */
	"  vlan \"20\" {\n"
	"    ipv4 = [\"10.0.20.1/24\"]\n"
	"  }\n"
	"}\n"
	"routing_table \"t100\" {\n"			/* 15 */
	"  id = 100\n"
	"  route \"def\" {\n"
	"    destination = \"default\"\n"
	"    gateway = \"198.51.100.1\"\n"
	"  }\n"						/* 20 */
	"}\n"
	"route \"office\" {\n"
	"  destination = \"10.9.0.0/16\"\n"
	"  gateway = \"10.0.0.254\"\n"
	"  metric = 10\n"				/* 25 */
	"}\n"
	"route \"link\" {\n"
	"  destination = \"10.8.0.0/16\"\n"
	"  interface = \"eth1\"\n"
	"}\n"						/* 30 */
	"policy_route \"voip\" {\n"
	"  mark = \"0x40\"\n"
	"  mark_mask = \"0xff\"\n"
	"  table = 100\n"
	"  priority = 100\n"				/* 35 */
	"}\n"
	"policy_route \"tv\" {\n"
	"  from = \"10.0.0.50/32\"\n"
	"  table = 100\n"
	"}\n";						/* 40 */

static void fmt_route(const struct net_route *r, char *buf, size_t n)
{
	net_route_format(r, buf, n);
}

static bool has_route(const struct net_plan *p, const char *want)
{
	char s[256];

	for (size_t i = 0; i < p->nroutes; i++) {
		fmt_route(&p->routes[i], s, sizeof(s));
		if (!strcmp(s, want))
			return true;
	}
	return false;
}

static bool has_rule(const struct net_plan *p, const char *want)
{
	char s[256];

	for (size_t i = 0; i < p->nrules; i++) {
		net_rule_format(&p->rules[i], s, sizeof(s));
		if (!strcmp(s, want))
			return true;
	}
	return false;
}

static void test_compile(void **state)
{
	struct diag_list dl = { 0 };
	struct net_plan *p = compile(cfg_src, &dl);
	const struct net_link *l;
	char a[64];

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->nlinks, 3);
	l = net_plan_link(p, "eth0");
	assert_non_null(l);
	assert_int_equal(l->kind, NET_LINK_DEVICE);
	assert_int_equal(l->mtu, 1400);
	assert_int_equal(l->up, 1);
	assert_int_equal(l->naddrs, 2);
	net_addr_format(&l->addrs[1], a, sizeof(a));
	assert_string_equal(a, "2001:db8::2/64");
	assert_int_equal(l->addr_pos[1].line, 3);
	l = net_plan_link(p, "eth1.20");
	assert_non_null(l);
	assert_int_equal(l->kind, NET_LINK_VLAN);
	assert_string_equal(l->parent, "eth1");
	assert_int_equal(l->vlan_id, 20);
	assert_int_equal(l->pos.line, 11);

	assert_int_equal(p->nroutes, 5);
	assert_true(has_route(p, "default via 198.51.100.1 dev eth0"));
	assert_true(has_route(p, "default (ipv6) via 2001:db8::1 dev eth0 "
			      "metric 1024"));
	assert_true(has_route(p, "default via 198.51.100.1 table 100"));
	assert_true(has_route(p, "10.9.0.0/16 via 10.0.0.254 metric 10"));
	assert_true(has_route(p, "10.8.0.0/16 dev eth1"));
	for (size_t i = 0; i < p->nroutes; i++) {
		assert_int_equal(p->routes[i].protocol, NET_RTPROT_MOAT);
		assert_ptr_equal(p->routes[i].pos.file, p->file);
		if (!p->routes[i].has_gw)
			assert_int_equal(p->routes[i].scope, RT_SCOPE_LINK);
	}

	/* mark rule: both families; from: IPv4 only; interface table:
	 * IPv4 only (eth1 has no IPv6) */
	assert_int_equal(p->nrules, 4);
	assert_true(has_rule(p, "100: from all fwmark 0x40/0xff lookup 100"));
	assert_true(has_rule(p, "(ipv6) 100: from all fwmark 0x40/0xff "
			     "lookup 100"));
	assert_true(has_rule(p, "10001: from 10.0.0.50/32 lookup 100"));
	assert_true(has_rule(p, "30000: from all iif eth1 lookup 100"));
	net_plan_free(p);
	diag_list_free(&dl);
}

static void expect_error(const char *src, int line, const char *text)
{
	struct diag_list dl = { 0 };
	struct net_plan *p = compile(src, &dl);
	bool found = false;

	assert_null(p);
	for (size_t i = 0; i < dl.n; i++)
		if (dl.v[i].line == line && strstr(dl.v[i].msg, text))
			found = true;
	if (!found)
		diag_print(&dl, stderr);
	assert_true(found);
	diag_list_free(&dl);
}

static void test_compile_errors(void **state)
{
	(void)state;
	expect_error("route \"r\" {\n"
		     "  destination = \"10.1.2.0/16\"\n"
		     "  gateway = \"192.0.2.1\"\n"
		     "}\n", 2, "did you mean 10.1.0.0/16?");
	expect_error("route \"a\" {\n"
		     "  destination = \"10.1.0.0/16\"\n"
		     "  gateway = \"192.0.2.1\"\n"
		     "}\n"
		     "route \"b\" {\n"
		     "  destination = \"10.1.0.0/16\"\n"
		     "  gateway = \"192.0.2.2\"\n"
		     "}\n", 5, "same destination, table and metric as route "
		     "\"a\" (t.hcl:1)");
	expect_error("interface \"eth0\" {\n"
		     "  ipv4 = [\"10.0.0.1/24\", \"10.0.0.1/24\"]\n"
		     "}\n", 2, "given twice");
	expect_error("policy_route \"p\" {\n"
		     "  mark = \"0x100\"\n"
		     "  mark_mask = \"0xff\"\n"
		     "  table = 100\n"
		     "}\n"
		     "routing_table \"t\" {\n"
		     "  id = 100\n"
		     "}\n", 3, "does not fit in mark_mask");
}

/* A kernel state: eth0 and eth1 exist; eth0 has an address someone else
 * put there. */
static struct net_plan *kernel(void)
{
	struct net_plan *k = calloc(1, sizeof(*k));
	struct net_link *l;
	struct net_addr a = { .family = AF_INET, .len = 24 };

	l = net_plan_add_link(k);
	strcpy(l->name, "eth0");
	l->mtu = 1500;
	l->up = 1;
	l->ifindex = 2;
	inet_pton(AF_INET, "192.0.2.9", a.addr);
	net_link_add_addr(l, &a, NULL);
	l = net_plan_add_link(k);
	strcpy(l->name, "eth1");
	l->mtu = 1500;
	l->up = 0;
	l->ifindex = 3;
	return k;
}

static size_t count(const struct net_change *c, enum net_op_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->ops[i].kind == kind;
	return n;
}

static void test_diff_fresh(void **state)
{
	struct diag_list dl = { 0 };
	struct net_plan *p = compile(cfg_src, &dl), *k = kernel();
	struct net_owned owned = { 0 };
	struct net_change c;
	char line[256];

	(void)state;
	assert_int_equal(net_diff(p, k, &owned, &c, &dl), 0);
	assert_int_equal(count(&c, NET_OP_LINK_ADD), 1);
	/* eth0's MTU, eth1 up; eth1.20 is created up */
	assert_int_equal(count(&c, NET_OP_LINK_SET), 2);
	assert_int_equal(count(&c, NET_OP_ADDR_ADD), 4);
	assert_int_equal(count(&c, NET_OP_ROUTE_ADD), 5);
	assert_int_equal(count(&c, NET_OP_RULE_ADD), 4);
	assert_int_equal(count(&c, NET_OP_ADDR_DEL) +
			 count(&c, NET_OP_ROUTE_DEL) +
			 count(&c, NET_OP_LINK_DEL), 0);
	/* in the order they can run */
	for (size_t i = 1; i < c.n; i++)
		assert_true(c.ops[i - 1].kind <= c.ops[i].kind);
	assert_int_equal(c.ops[2].kind, NET_OP_LINK_ADD);
	net_op_format(&c.ops[2], line, sizeof(line));
	assert_string_equal(line, "+ link eth1.20 vlan 20 on eth1");
	/* what moat will own: the new addresses and the VLAN, not the
	 * address someone else put on eth0 */
	assert_int_equal(c.owned.naddrs, 4);
	assert_int_equal(c.owned.nlinks, 1);
	/* errors name the config line */
	for (size_t i = 0; i < c.n; i++)
		if (c.ops[i].kind == NET_OP_ROUTE_ADD)
			assert_true(c.ops[i].pos.line > 0 && c.ops[i].what);
	net_change_free(&c);
	net_plan_free(k);
	net_plan_free(p);
	diag_list_free(&dl);
}

/* The kernel as it is after applying plan: routes and rules tagged. */
static struct net_plan *applied(const struct net_plan *p)
{
	struct net_plan *k = calloc(1, sizeof(*k));

	for (size_t i = 0; i < p->nlinks; i++) {
		struct net_link *l = net_plan_add_link(k);

		*l = p->links[i];
		l->addrs = NULL;
		l->addr_pos = NULL;
		l->naddrs = 0;
		if (!l->mtu)
			l->mtu = 1500;
		for (size_t j = 0; j < p->links[i].naddrs; j++)
			net_link_add_addr(l, &p->links[i].addrs[j], NULL);
	}
	for (size_t i = 0; i < p->nroutes; i++) {
		*net_plan_add_route(k) = p->routes[i];
		k->routes[i].what = NULL;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		*net_plan_add_rule(k) = p->rules[i];
		k->rules[i].what = NULL;
	}
	return k;
}

static void test_diff_converged(void **state)
{
	struct diag_list dl = { 0 };
	struct net_plan *p = compile(cfg_src, &dl), *k = applied(p);
	struct net_owned owned = { 0 };
	struct net_change c;

	(void)state;
	assert_int_equal(net_diff(p, k, &owned, &c, &dl), 0);
	assert_int_equal(c.n, 0);
	/* present but not recorded as moat's: still not moat's */
	assert_int_equal(c.owned.naddrs, 0);
	net_change_free(&c);
	net_plan_free(k);
	net_plan_free(p);
	diag_list_free(&dl);
}

/* The config loses a route, an address and the VLAN; someone deleted a
 * route by hand; a route of another protocol is in the kernel. */
static void test_diff_removals(void **state)
{
	struct diag_list dl = { 0 };
	struct net_plan *p = compile(cfg_src, &dl), *k = applied(p), *p2;
	struct net_owned owned = { 0 };
	struct net_change c, first;
	struct net_route *foreign;
	char line[256];
	const char *smaller =
		"interface \"eth0\" {\n"
		"  ipv4 = [\"198.51.100.2/24\"]\n"
		"  gateway = \"198.51.100.1\"\n"
		"  mtu = 1400\n"
		"}\n"
		"interface \"eth1\" {\n"
		"  ipv4 = [\"10.0.0.1/24\"]\n"
		"}\n"
		"route \"office\" {\n"
		"  destination = \"10.9.0.0/16\"\n"
		"  gateway = \"10.0.0.254\"\n"
		"  metric = 10\n"
		"}\n";

	(void)state;
	/* ownership as the first apply recorded it */
	net_plan_free(k);
	k = kernel();
	assert_int_equal(net_diff(p, k, &owned, &first, &dl), 0);
	net_plan_free(k);
	k = applied(p);
	/* the office route was deleted by hand; someone added their own */
	for (size_t i = 0; i < k->nroutes; i++)
		if (k->routes[i].metric == 10)
			k->routes[i] = k->routes[--k->nroutes];
	foreign = net_plan_add_route(k);
	foreign->family = AF_INET;
	foreign->dst.family = AF_INET;
	foreign->dst.len = 8;
	foreign->dst.addr[0] = 172;
	foreign->dev[0] = 'x';
	foreign->table = NET_TABLE_MAIN;
	foreign->protocol = RTPROT_STATIC;

	p2 = compile(smaller, &dl);
	assert_non_null(p2);
	assert_int_equal(net_diff(p2, k, &first.owned, &c, &dl), 0);
	assert_int_equal(count(&c, NET_OP_ROUTE_ADD), 1);	/* office */
	/* ipv6 default, table 100 default, link route; not the foreign */
	assert_int_equal(count(&c, NET_OP_ROUTE_DEL), 3);
	assert_int_equal(count(&c, NET_OP_RULE_DEL), 4);
	/* the IPv6 address and eth1.20's go (the latter with its link) */
	assert_int_equal(count(&c, NET_OP_ADDR_DEL), 2);
	assert_int_equal(count(&c, NET_OP_LINK_DEL), 1);
	for (size_t i = 0; i < c.n; i++) {
		if (c.ops[i].kind == NET_OP_ROUTE_DEL)
			assert_int_equal(c.ops[i].route.protocol,
					 NET_RTPROT_MOAT);
		if (c.ops[i].kind == NET_OP_ROUTE_ADD) {
			net_op_format(&c.ops[i], line, sizeof(line));
			assert_string_equal(line, "+ route 10.9.0.0/16 via "
					    "10.0.0.254 metric 10");
		}
	}
	assert_int_equal(c.ops[c.n - 1].kind, NET_OP_LINK_DEL);
	assert_int_equal(c.owned.nlinks, 0);
	assert_int_equal(c.owned.naddrs, 2);
	net_change_free(&c);
	net_change_free(&first);
	net_plan_free(p2);
	net_plan_free(k);
	net_plan_free(p);
	diag_list_free(&dl);
}

static void test_diff_conflicts(void **state)
{
	struct diag_list dl = { 0 };
	struct net_plan *p, *k = kernel();
	struct net_owned owned = { 0 };
	struct net_change c;
	struct net_link *l;

	(void)state;
	p = compile("interface \"eth9\" {\n"
		    "  ipv4 = [\"10.0.0.1/24\"]\n"
		    "}\n"
		    "interface \"eth0.7\" {\n"
		    "}\n", &dl);
	assert_non_null(p);
	/* eth0.7 exists but is not a VLAN */
	l = net_plan_add_link(k);
	strcpy(l->name, "eth0.7");
	assert_int_equal(net_diff(p, k, &owned, &c, &dl), -1);
	assert_int_equal(dl.nerrors, 2);
	assert_int_equal(dl.v[0].line, 1);
	assert_non_null(strstr(dl.v[0].msg, "\"eth9\" does not exist"));
	assert_int_equal(dl.v[1].line, 4);
	assert_non_null(strstr(dl.v[1].msg, "is not VLAN 7 on eth0"));
	net_change_free(&c);
	net_plan_free(k);
	net_plan_free(p);
	diag_list_free(&dl);
}

static void test_replace_and_inverse(void **state)
{
	struct diag_list dl = { 0 };
	struct net_plan *p = compile(cfg_src, &dl), *k = applied(p);
	struct net_owned owned = { 0 };
	struct net_change c;
	struct net_op inv, back;
	char line[256];

	(void)state;
	/* the office route points elsewhere in the kernel */
	for (size_t i = 0; i < k->nroutes; i++)
		if (k->routes[i].metric == 10)
			k->routes[i].gw[3] = 1;
	k->links[0].mtu = 9000;
	assert_int_equal(net_diff(p, k, &owned, &c, &dl), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ops[0].kind, NET_OP_LINK_SET);
	net_op_format(&c.ops[0], line, sizeof(line));
	assert_string_equal(line, "~ link eth0 mtu 9000 -> 1400");
	net_op_inverse(&c.ops[0], &inv);
	assert_int_equal(inv.link.mtu, 9000);
	assert_int_equal(inv.link.up, -1);
	assert_int_equal(c.ops[1].kind, NET_OP_ROUTE_REPLACE);
	net_op_format(&c.ops[1], line, sizeof(line));
	assert_string_equal(line, "~ route 10.9.0.0/16 via 10.0.0.254 metric "
			    "10 (was 10.9.0.0/16 via 10.0.0.1 metric 10)");
	net_op_inverse(&c.ops[1], &inv);
	assert_int_equal(inv.route.gw[3], 1);
	net_op_inverse(&inv, &back);
	assert_true(net_route_equal(&back.route, &c.ops[1].route));
	/* every kind's inverse of its inverse is itself */
	for (int kind = NET_OP_LINK_SET; kind <= NET_OP_LINK_DEL; kind++) {
		struct net_op op = c.ops[0];

		op.kind = kind;
		net_op_inverse(&op, &inv);
		net_op_inverse(&inv, &back);
		assert_int_equal(back.kind, op.kind);
		assert_int_equal(back.link.mtu, op.link.mtu);
	}
	net_change_free(&c);
	net_plan_free(k);
	net_plan_free(p);
	diag_list_free(&dl);
}

static void test_owned_codec(void **state)
{
	const char *text = "moat-net 1\n"
			   "vlan eth1.20 eth1 20\n"
			   "addr eth1 10.0.0.1/24\n"
			   "addr eth0 2001:db8::2/64\n"
			   "applied 1700000000 "
			   "00112233445566778899aabbccddeeff"
			   "00112233445566778899aabbccddeeff\n"
			   "failed 1700000100 route \"x\": no way\n";
	struct net_owned o, o2;
	const char *why;
	char *out, *out2;
	int line;

	(void)state;
	assert_true(net_owned_parse(text, strlen(text), &o, &line, &why));
	assert_int_equal(o.naddrs, 2);
	assert_int_equal(o.nlinks, 1);
	assert_int_equal(o.applied_at, 1700000000);
	assert_int_equal(o.failed_at, 1700000100);
	assert_string_equal(o.error, "route \"x\": no way");
	out = net_owned_print(&o);
	assert_string_equal(out, text);
	assert_true(net_owned_parse(out, strlen(out), &o2, &line, &why));
	out2 = net_owned_print(&o2);
	assert_string_equal(out, out2);
	free(out);
	free(out2);
	net_owned_free(&o);
	net_owned_free(&o2);

	assert_true(net_owned_parse("", 0, &o, &line, &why));
	net_owned_free(&o);
	assert_false(net_owned_parse("addr eth0 1.2.3.4/8\n", 20, &o, &line,
				     &why));
	assert_int_equal(line, 1);
	assert_false(net_owned_parse("moat-net 1\naddr eth0 1.2.3.4\n", 28,
				     &o, &line, &why));
	assert_int_equal(line, 2);
	assert_false(net_owned_parse("moat-net 1\nvlan a b 5000\n", 24, &o,
				     &line, &why));
	assert_false(net_owned_parse("moat-net 2\n", 11, &o, &line, &why));
	assert_false(net_owned_parse("moat-net 1\nwat\n", 15, &o, &line,
				     &why));
}

static void test_fingerprint(void **state)
{
	struct diag_list dl = { 0 };
	struct net_plan *p = compile(cfg_src, &dl), *k = applied(p);
	char a[NET_HASH_HEX + 1], b[NET_HASH_HEX + 1];
	struct net_route r;

	(void)state;
	net_fingerprint(k, a);
	assert_int_equal(strlen(a), NET_HASH_HEX);
	/* order does not matter */
	r = k->routes[0];
	k->routes[0] = k->routes[k->nroutes - 1];
	k->routes[k->nroutes - 1] = r;
	net_fingerprint(k, b);
	assert_string_equal(a, b);
	/* a route that is not moat's does not matter */
	r.protocol = RTPROT_STATIC;
	*net_plan_add_route(k) = r;
	net_fingerprint(k, b);
	assert_string_equal(a, b);
	/* losing one of moat's does */
	k->nroutes -= 2;
	net_fingerprint(k, b);
	assert_string_not_equal(a, b);
	/* an MTU does */
	k->links[1].mtu = 1280;
	net_fingerprint(k, b);
	assert_string_not_equal(a, b);
	net_plan_free(k);
	net_plan_free(p);
	diag_list_free(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_diff_fresh),
		cmocka_unit_test(test_diff_converged),
		cmocka_unit_test(test_diff_removals),
		cmocka_unit_test(test_diff_conflicts),
		cmocka_unit_test(test_replace_and_inverse),
		cmocka_unit_test(test_owned_codec),
		cmocka_unit_test(test_fingerprint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
