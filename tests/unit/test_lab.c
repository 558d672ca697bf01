/* moat lab's pure parts: the topology decided from a config (which
 * interfaces face the internet, which get a client, every address and
 * route, what is left out and why) and the text read back from ip and
 * /proc. No root, no namespaces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "lab/lab.h"

static struct moat_config *load(const char *src)
{
	struct diag_list dl = { 0 };
	struct moat_config *cfg;

	cfg = cfg_load("t.hcl", src, strlen(src), NULL, false, &dl);
	if (!cfg) {
		diag_print(&dl, stderr);
		fail();
	}
	diag_list_free(&dl);
	return cfg;
}

static struct lab_topo *topo_of(const char *src)
{
	struct moat_config *cfg = load(src);
	struct lab_topo *t = lab_topo_new(cfg);

	cfg_free(cfg);
	return t;
}

static const struct lab_node *node(const struct lab_topo *t, const char *n)
{
	const struct lab_node *nd = lab_topo_node(t, n);

	if (!nd) {
		print_error("no node %s\n", n);
		fail();
	}
	return nd;
}

static const struct lab_iface *iface(const struct lab_node *n,
				     const char *name)
{
	for (size_t i = 0; i < n->nifaces; i++)
		if (!strcmp(n->ifaces[i].name, name))
			return &n->ifaces[i];
	print_error("%s has no %s\n", n->name, name);
	fail();
	return NULL;
}

/* The address of n's interface name, "a.b.c.d/len" or "" for none. */
static const char *addr_of(const struct lab_node *n, const char *name)
{
	static char buf[24];
	const struct lab_iface *i = iface(n, name);

	if (!i->addr.set)
		return "";
	return lab_addr_str(&i->addr, true, buf);
}

static bool has_note(const struct lab_topo *t, const char *part)
{
	for (size_t i = 0; i < t->nnotes; i++)
		if (strstr(t->notes[i], part))
			return true;
	return false;
}

static bool has_link(const struct lab_topo *t, const char *a_if,
		     const char *b, const char *b_if)
{
	for (size_t i = 0; i < t->nlinks; i++) {
		const struct lab_link *l = &t->links[i];

		if (l->a == 0 && !strcmp(l->a_if, a_if) &&
		    !strcmp(t->nodes[l->b].name, b) && !strcmp(l->b_if, b_if))
			return true;
	}
	return false;
}

static bool has_route(const struct lab_node *n, const char *dst,
		      const char *via)
{
	char d[24], v[24];

	for (size_t i = 0; i < n->nroutes; i++) {
		const struct lab_route *r = &n->routes[i];

		if (r->dst.len)
			lab_addr_str(&r->dst, true, d);
		else
			strcpy(d, "default");
		if (!strcmp(d, dst) && !strcmp(lab_ip_str(r->via, v), via))
			return true;
	}
	return false;
}

static bool has_http(const struct lab_node *n, unsigned port,
		     const char *text)
{
	for (size_t i = 0; i < n->nsvcs; i++)
		if (n->svcs[i].kind == LAB_SVC_HTTP && n->svcs[i].port == port)
			return !text || !strcmp(n->svcs[i].text, text);
	return false;
}

static const char home[] =
	"interface \"eth0\" {\n zone = \"wan\"\n"
	" ipv4 = [\"198.51.100.2/24\"]\n gateway = \"198.51.100.1\"\n}\n"
	"interface \"eth1\" {\n zone = \"lan\"\n ipv4 = [\"10.0.0.1/24\"]\n}\n"
	"interface \"eth2\" {\n zone = \"iot\"\n ipv4 = [\"10.0.20.1/24\"]\n}\n"
	"interface \"eth4\" {\n zone = \"dmz\"\n ipv4 = [\"10.0.50.1/24\"]\n}\n"
	"nat \"web\" {\n type = \"dnat\"\n in_interface = \"eth0\"\n"
	" proto = \"tcp\"\n dest_port = \"80\"\n to_ip = \"10.0.50.10\"\n"
	" to_port = \"8080\"\n}\n";

static void test_home(void **state)
{
	struct lab_topo *t = topo_of(home);
	const struct lab_node *gw, *wan, *lan1, *lan3;

	(void)state;
	assert_int_equal(t->nnodes, 5);
	assert_int_equal(t->nlinks, 4);
	gw = &t->nodes[0];
	wan = &t->nodes[1];
	assert_string_equal(gw->name, "gw");
	assert_string_equal(wan->name, "wan");
	/* gw's interfaces are moat's: known, never added by the lab */
	assert_int_equal(gw->kind, LAB_GW);
	assert_non_null(iface(gw, "eth0"));
	assert_string_equal(addr_of(gw, "eth1"), "10.0.0.1/24");
	/* the upstream's other end is the config's gateway */
	assert_true(has_link(t, "eth0", "wan", "eth0"));
	assert_string_equal(addr_of(wan, "eth0"), "198.51.100.1/24");
	assert_string_equal(addr_of(wan, "lo"), LAB_INTERNET_ADDR "/32");
	assert_true(has_http(wan, 80, "moat lab: hello from the internet "
			     "(" LAB_INTERNET_ADDR ")\n"));
	/* clients in config order, the interface's address + 1 */
	lan1 = node(t, "lan1");
	assert_true(has_link(t, "eth1", "lan1", "eth0"));
	assert_string_equal(addr_of(lan1, "eth0"), "10.0.0.2/24");
	assert_true(has_route(lan1, "default", "10.0.0.1"));
	assert_true(has_http(lan1, 80, "moat lab: hello from lan1 "
			     "(10.0.0.2)\n"));
	assert_string_equal(addr_of(node(t, "lan2"), "eth0"), "10.0.20.2/24");
	/* the port forward's target is the dmz client, serving to_port */
	lan3 = node(t, "lan3");
	assert_true(has_link(t, "eth4", "lan3", "eth0"));
	assert_string_equal(addr_of(lan3, "eth0"), "10.0.50.10/24");
	assert_true(has_http(lan3, 8080, "moat lab: hello from lan3 "
			     "(10.0.50.10)\n"));
	assert_true(has_http(lan3, 80, NULL));
	/* wan reaches every LAN through gw: only the firewall stops it */
	assert_true(has_route(wan, "10.0.0.0/24", "198.51.100.2"));
	assert_true(has_route(wan, "10.0.20.0/24", "198.51.100.2"));
	assert_true(has_route(wan, "10.0.50.0/24", "198.51.100.2"));
	assert_int_equal(wan->nroutes, 3);
	assert_int_equal(t->nnotes, 0);
	lab_topo_free(t);
}

/* Upstream: a gateway, DHCP, or zone wan by any spelling or by a zone
 * block; the first interface only when none is. */
static void test_upstreams(void **state)
{
	struct lab_topo *t;

	(void)state;
	t = topo_of("interface \"a\" {\n ipv4 = [\"10.1.0.1/24\"]\n}\n"
		    "interface \"b\" {\n ipv4 = [\"192.0.2.2/24\"]\n"
		    " gateway = \"192.0.2.1\"\n}\n");
	assert_true(has_link(t, "b", "wan", "b"));
	assert_true(has_link(t, "a", "lan1", "eth0"));
	lab_topo_free(t);

	t = topo_of("interface \"a\" {\n ipv4 = [\"10.1.0.1/24\"]\n}\n"
		    "interface \"b\" {\n dhcp = true\n}\n");
	assert_true(has_link(t, "b", "wan", "b"));
	assert_true(has_note(t, "b has no static IPv4 address (DHCP"));
	assert_string_equal(addr_of(&t->nodes[1], "b"), "");
	assert_true(has_note(t, "wan has no route to the LAN"));
	lab_topo_free(t);

	t = topo_of("interface \"a\" {\n ipv4 = [\"10.1.0.1/24\"]\n}\n"
		    "interface \"up1\" {\n ipv4 = [\"192.0.2.2/24\"]\n}\n"
		    "zone \"WAN\" {\n interfaces = [\"up+\"]\n}\n");
	assert_true(has_link(t, "up1", "wan", "up1"));
	/* no gateway in the config: wan takes the first other address */
	assert_string_equal(addr_of(&t->nodes[1], "up1"), "192.0.2.1/24");
	assert_true(has_note(t, "up1 has no gateway in the config"));
	assert_true(has_route(&t->nodes[1], "10.1.0.0/24", "192.0.2.2"));
	lab_topo_free(t);

	t = topo_of("interface \"x\" {\n ipv4 = [\"10.1.0.1/24\"]\n}\n"
		    "interface \"y\" {\n ipv4 = [\"10.2.0.1/24\"]\n}\n");
	assert_true(has_link(t, "x", "wan", "x"));
	assert_true(has_link(t, "y", "lan1", "eth0"));
	assert_string_equal(addr_of(&t->nodes[1], "x"), "10.1.0.2/24");
	lab_topo_free(t);
}

/* A client's address skips the gateway's and the broadcast; a /31 has
 * two hosts; a /32 none. */
static void test_client_addr(void **state)
{
	static const struct {
		const char *gw, *client;
	} cases[] = {
		{ "10.0.0.1/24", "10.0.0.2/24" },
		{ "10.0.0.254/24", "10.0.0.1/24" },
		{ "10.0.0.1/30", "10.0.0.2/30" },
		{ "10.0.0.2/30", "10.0.0.1/30" },
		{ "10.0.0.1/31", "10.0.0.0/31" },
		{ "10.0.0.0/31", "10.0.0.1/31" },
		{ "10.0.0.1/32", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *src = NULL;
		struct lab_topo *t;

		if (asprintf(&src, "interface \"w\" {\n zone = \"wan\"\n}\n"
			     "interface \"l\" {\n ipv4 = [\"%s\"]\n}\n",
			     cases[i].gw) < 0)
			fail();
		t = topo_of(src);
		if (strcmp(addr_of(node(t, "lan1"), "eth0"), cases[i].client)) {
			print_error("%s: got %s, want %s\n", cases[i].gw,
				    addr_of(node(t, "lan1"), "eth0"),
				    cases[i].client);
			fail();
		}
		lab_topo_free(t);
		free(src);
	}
}

/* VLANs, disabled interfaces and interfaces without an address. */
static void test_left_out(void **state)
{
	struct lab_topo *t;
	const struct lab_node *c;

	(void)state;
	t = topo_of("interface \"eth0\" {\n zone = \"wan\"\n"
		    " ipv4 = [\"192.0.2.2/24\"]\n gateway = \"192.0.2.1\"\n}\n"
		    "interface \"eth1\" {\n vlan \"10\" {\n"
		    "  ipv4 = [\"10.10.10.1/24\"]\n }\n}\n"
		    "interface \"eth1.20\" {\n ipv4 = [\"10.20.0.1/24\"]\n}\n"
		    "interface \"eth2\" {\n disabled = true\n"
		    " ipv4 = [\"10.2.0.1/24\"]\n}\n");
	assert_true(has_note(t, "VLAN 10 on eth1 left out"));
	assert_true(has_note(t, "eth1.20 left out"));
	assert_true(has_note(t, "eth2 is disabled"));
	assert_int_equal(t->nnodes, 3);
	assert_int_equal(t->nlinks, 2);
	c = node(t, "lan1");
	assert_true(has_link(t, "eth1", "lan1", "eth0"));
	assert_string_equal(addr_of(c, "eth0"), "");
	assert_int_equal(c->nroutes, 0);
	assert_int_equal(c->nsvcs, 0);
	assert_true(has_note(t, "lan1 has no address: eth1 has no static"));
	assert_int_equal(t->nodes[1].nroutes, 0);
	lab_topo_free(t);
}

/* One client per interface: a second forward target in the subnet is a
 * note; forwards elsewhere do not move the client. */
static void test_dnat_targets(void **state)
{
	struct lab_topo *t;
	const struct lab_node *c;

	(void)state;
	t = topo_of("interface \"eth0\" {\n zone = \"wan\"\n"
		    " ipv4 = [\"192.0.2.2/24\"]\n}\n"
		    "interface \"eth1\" {\n ipv4 = [\"10.0.0.1/24\"]\n}\n"
		    "nat \"a\" {\n type = \"dnat\"\n proto = \"tcp\"\n"
		    " dest_port = \"2222\"\n to_ip = \"10.0.0.7\"\n}\n"
		    "nat \"b\" {\n type = \"dnat\"\n proto = \"tcp\"\n"
		    " dest_port = \"25\"\n to_ip = \"10.0.0.8\"\n}\n"
		    "nat \"c\" {\n type = \"dnat\"\n proto = \"tcp\"\n"
		    " dest_port = \"443\"\n to_ip = \"10.9.0.1\"\n}\n");
	c = node(t, "lan1");
	assert_string_equal(addr_of(c, "eth0"), "10.0.0.7/24");
	assert_true(has_http(c, 2222, "moat lab: hello from lan1 "
			     "(10.0.0.7)\n"));
	assert_false(has_http(c, 25, NULL));
	assert_true(has_note(t, "nat b forwards to 10.0.0.8, which has no "
			     "node"));
	lab_topo_free(t);
}

static void test_ns_names(void **state)
{
	char buf[64], node[LAB_NAMSIZ];

	(void)state;
	lab_ns_name("", "gw", buf);
	assert_string_equal(buf, "moat-lab-gw");
	lab_ns_name("t1", "lan2", buf);
	assert_string_equal(buf, "moat-lab-t1-lan2");
	assert_true(lab_ns_node("", "moat-lab-lan12", node));
	assert_string_equal(node, "lan12");
	/* another lab's, or nobody's */
	assert_false(lab_ns_node("", "moat-lab-t1-gw", node));
	assert_false(lab_ns_node("", "moat-lab-", node));
	assert_false(lab_ns_node("", "moat-labgw", node));
	assert_false(lab_ns_node("", "moat-lab-GW", node));
	assert_false(lab_ns_node("t1", "moat-lab-gw", node));
	assert_false(lab_ns_node("t1", "moat-lab-t10-gw", node));
	assert_true(lab_ns_node("t1", "moat-lab-t1-gw", node));
	assert_string_equal(node, "gw");
	assert_true(lab_id_valid(""));
	assert_true(lab_id_valid("t1234567"));
	assert_false(lab_id_valid("t12345678"));
	assert_false(lab_id_valid("a-b"));
	assert_false(lab_id_valid("../x"));
}

static void test_proc_text(void **state)
{
	static const char tcp[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr "
		"tm->when retrnsmt   uid  timeout inode\n"
		"   0: 0A0A0002:0050 00000000:0000 0A 00000000:00000000 "
		"00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n"
		"   1: 0A0A0002:1F90 0A0A0001:C000 01 00000000:00000000 "
		"00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1\n";
	static const char udp[] =
		"   sl  local_address rem_address   st tx_queue rx_queue tr "
		"tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
		"  5: 0A6433C6:0035 00000000:0000 07 00000000:00000000 "
		"00:00000000 00000000     0        0 3 2 0 0\n";
	static const char stat[] = "42 (a) b (c)) S 1 42 42 0 -1 4194560 "
		"100 0 0 0 1 2 0 0 20 0 1 0 123456 1000 10";
	struct lab_proc p, q;
	unsigned long long start;
	char state_c, line[128];

	(void)state;
	assert_true(lab_proc_net_listening(tcp, 80, false));
	assert_false(lab_proc_net_listening(tcp, 8080, false));	/* ESTAB */
	assert_false(lab_proc_net_listening(tcp, 80, true));
	assert_true(lab_proc_net_listening(udp, 53, true));
	assert_false(lab_proc_net_listening("", 53, true));
	assert_true(lab_proc_stat(stat, &state_c, &start));
	assert_int_equal(state_c, 'S');
	assert_int_equal(start, 123456);
	assert_false(lab_proc_stat("42 (x) S 1 2", &state_c, &start));

	p = (struct lab_proc){ 4242, 987654321ULL, "lan1", "http:8080" };
	lab_proc_format(&p, line);
	assert_string_equal(line, "4242 987654321 lan1 http:8080\n");
	assert_true(lab_proc_parse(line, &q));
	assert_int_equal(q.pid, 4242);
	assert_true(q.starttime == 987654321ULL);
	assert_string_equal(q.node, "lan1");
	assert_string_equal(q.what, "http:8080");
	assert_false(lab_proc_parse("-1 5 x y", &q));
	assert_false(lab_proc_parse("garbage", &q));
}

static void test_brief(void **state)
{
	static const char wan[] =
		"lo               UNKNOWN        127.0.0.1/8 198.51.100.10/32 "
		"::1/128 \n"
		"eth0@if2         UP             198.51.100.1/24 "
		"fe80::1/64 \n";
	static const char lan[] =
		"lo               UNKNOWN        127.0.0.1/8 ::1/128 \n"
		"eth0@if3         DOWN           \n";
	char *s;

	(void)state;
	s = lab_brief_addrs(wan);
	assert_string_equal(s, "lo 198.51.100.10/32, eth0 198.51.100.1/24");
	free(s);
	s = lab_brief_addrs(lan);
	assert_string_equal(s, "eth0 (no address) (down)");
	free(s);
	s = lab_brief_addrs("");
	assert_string_equal(s, "");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_home),
		cmocka_unit_test(test_upstreams),
		cmocka_unit_test(test_client_addr),
		cmocka_unit_test(test_left_out),
		cmocka_unit_test(test_dnat_targets),
		cmocka_unit_test(test_ns_names),
		cmocka_unit_test(test_proc_text),
		cmocka_unit_test(test_brief),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
