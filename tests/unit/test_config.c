/* The config schema and its validation: what loads, and every kind of
 * error and warning, at its place. */
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/addr.h"
#include "config/config.h"
#include "hcl/hcl.h"

static const char *no_env(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

static const struct hcl_env env = { no_env, NULL };

static struct moat_config *load(const char *src, bool strict,
				struct diag_list *dl)
{
	return cfg_load("t.hcl", src, strlen(src), &env, strict, dl);
}

struct diag_case {
	const char *src;
	int line, col;
	const char *msg;
	bool warning;
};

static const struct diag_case cases[] = {
	{ "ipset \"s\" {\n  timeout = \"-5s\"\n}\n", 2, 13,
	  "timeout: \"-5s\" is not a duration", false },
	{ "ipset \"s\" {\n  timeout = \"10x\"\n}\n", 2, 13,
	  "timeout: \"10x\" is not a duration", false },
	{ "interfce \"eth0\" {}\n", 1, 1,
	  "unknown block \"interfce\"; did you mean \"interface\"?", false },
	{ "interface \"eth0\" {\n  mtu_size = 1500\n}\n", 2, 3,
	  "unknown attribute \"mtu_size\" in interface \"eth0\"; did you mean \"mtu\"?", false },
	{ "qos_policy \"x\" {\n  interface = \"eth0\"\n}\n", 1, 1,
	  "not supported by moat yet: block \"qos_policy\"", true },
	{ "interface \"eth0\" {\n  vrf = \"blue\"\n}\n", 2, 3,
	  "not supported by moat yet: attribute \"vrf\" in interface \"eth0\"", true },
	{ "interface \"eth0\" {\n  dhcp = true\n}\n", 2, 10,
	  "not supported by moat yet: dhcp = true", true },
	{ "interface \"eth0\" {\n  mtu = \"big\"\n}\n", 2, 9,
	  "interface.mtu must be a whole number, not \"big\"", false },
	{ "interface \"eth0\" {\n  mtu = 10\n}\n", 2, 9,
	  "interface.mtu must be between 68 and 65535, not 10", false },
	{ "interface \"eth0\" {\n  ipv4 = \"10.0.0.1/24\"\n}\n", 2, 10,
	  "interface.ipv4 must be a list of strings", false },
	{ "interface \"eth0\" {\n  ipv4 = [\"10.0.0.300/24\"]\n}\n", 2, 11,
	  "ipv4: \"10.0.0.300/24\" is not an IP address", false },
	{ "interface \"eth0\" {\n  ipv4 = [\"10.0.0.1\"]\n}\n", 2, 11,
	  "a prefix length is needed", false },
	{ "interface \"eth0\" {\n  ipv4 = [\"fe80::1/64\"]\n}\n", 2, 11,
	  "is not an IPv4 address", false },
	{ "interface \"eth0\" {\n  disabled = \"yes\"\n}\n", 2, 14,
	  "interface.disabled must be true or false", false },
	{ "interface \"this-name-is-too-long\" {}\n", 1, 11,
	  "interface names are 1 to 15 characters", false },
	{ "interface \"eth0\" {}\ninterface \"eth0\" {}\n", 2, 11,
	  "duplicate interface \"eth0\" (already defined at line 1)", false },
	{ "interface \"eth0\" {\n  vlan \"5000\" {}\n}\n", 2, 8,
	  "a VLAN id is a number 1-4094", false },
	{ "interface {}\n", 1, 1, "block \"interface\" needs its label", false },
	{ "zone \"lan\" {\n  interface = \"eth1\"\n}\nzone \"iot\" {\n  interface = \"eth1\"\n}\ninterface \"eth1\" {}\n",
	  5, 15, "interface \"eth1\" is in two zones: \"lan\" (line 2) and \"iot\"", false },
	{ "interface \"eth1\" {}\nzone \"lan\" {\n  interface = \"eht1\"\n}\n", 3, 15,
	  "unknown interface \"eht1\"; did you mean \"eth1\"?", false },
	{ "zone \"lan\" {\n  interface = \"enp3s0\"\n}\n", 2, 15,
	  "interface \"enp3s0\" is not declared in this config", true },
	{ "zone \"lan\" {}\npolicy \"lna\" \"wan\" {}\n", 2, 8,
	  "policy from: unknown zone \"lna\"; did you mean \"lan\"?", false },
	{ "zone \"lan\" {}\nzone \"wan\" {}\npolicy \"x\" {}\n", 3, 1,
	  "policy \"x\" needs its zones", false },
	{ "zone \"lan\" {}\nzone \"wan\" {}\npolicy \"lan\" \"wan\" {}\npolicy \"lan\" \"wan\" {}\n", 4, 1,
	  "duplicate policy \"\"lan\" -> \"wan\"\"", false },
	{ "zone \"a\" {}\npolicy \"a\" \"a\" {\n  rule \"r\" {\n    proto = \"icmp\"\n    dest_port = 80\n    action = \"accept\"\n  }\n}\n",
	  5, 17, "ports make no sense with protocol \"icmp\"", false },
	{ "zone \"a\" {}\npolicy \"a\" \"a\" {\n  rule \"r\" {\n    proto = \"tcp\"\n    dest_port = \"90-80\"\n    action = \"accept\"\n  }\n}\n",
	  5, 17, "the range \"90-80\" ends before it starts", false },
	{ "zone \"a\" {}\npolicy \"a\" \"a\" {\n  rule \"r\" {\n    dest_port = 70000\n    action = \"accept\"\n  }\n}\n",
	  4, 17, "must be between 1 and 65535", false },
	{ "zone \"a\" {}\npolicy \"a\" \"a\" {\n  rule \"r\" {\n    action = \"allow\"\n  }\n}\n",
	  4, 14, "\"allow\" is not one of accept, drop, reject, jump, return", false },
	{ "zone \"a\" {}\npolicy \"a\" \"a\" {\n  rule \"r\" {\n    proto = \"tcp\"\n  }\n}\n",
	  3, 3, "rule \"r\" needs the attribute \"action\"", false },
	{ "zone \"a\" {}\npolicy \"a\" \"a\" {\n  rule \"r\" {\n    src_ipset = \"bad\"\n    action = \"drop\"\n  }\n}\nipset \"bad_hosts\" {}\n",
	  4, 17, "src_ipset: unknown ipset \"bad\"", false },
	{ "zone \"a\" {}\npolicy \"a\" \"a\" {\n  rule \"r\" {\n    action = \"jump\"\n  }\n}\n",
	  4, 14, "action \"jump\" needs jump_target", false },
	{ "zone \"a\" {}\npolicy \"a\" \"a\" {\n  rule \"r\" {\n    conn_state = \"new,estab\"\n    action = \"accept\"\n  }\n}\n",
	  4, 18, "unknown connection state \"estab\"", false },
	{ "zone \"a\" {}\npolicy \"a\" \"a\" {\n  rule \"r\" {\n    limit = \"fast\"\n    action = \"accept\"\n  }\n}\n",
	  4, 13, "limit: \"fast\" is not a rate", false },
	{ "nat \"pf\" {\n  type = \"dnat\"\n  proto = \"tcp\"\n  dest_port = 80\n}\n", 1, 1,
	  "nat \"pf\": dnat needs to_ip", false },
	{ "nat \"r\" {\n  type = \"redirect\"\n}\n", 1, 1,
	  "redirect needs to_port", false },
	{ "nat \"m\" {\n  type = \"masq\"\n}\n", 2, 10,
	  "\"masq\" is not one of masquerade, snat, dnat, redirect", false },
	{ "ipset \"s\" {\n  entries = [\"10.0.0.0/33\"]\n}\n", 2, 14,
	  "the prefix length must be 0-32", false },
	{ "ipset \"s\" {\n  type = \"ether_addr\"\n  entries = [\"00:11:22:33:44\"]\n}\n", 3, 14,
	  "is not a MAC address", false },
	{ "route \"r\" {\n  destination = \"10.1.0.0/16\"\n}\n", 1, 1,
	  "route \"r\" needs a gateway or an interface", false },
	{ "route \"r\" {\n  destination = \"10.1.0.0/16\"\n  gateway = \"fe80::1\"\n}\n", 3, 13,
	  "are of different address families", false },
	{ "route \"r\" {\n  destination = \"10.1.0.0/16\"\n  gateway = \"10.0.0.1\"\n  table = 7\n}\n", 4, 11,
	  "table: unknown routing table id \"7\"", false },
	{ "routing_table \"t\" {\n  id = 254\n}\n", 2, 8,
	  "id 254 is reserved by the kernel", false },
	{ "policy_route \"p\" {\n  from = \"10.0.0.0/8\"\n}\n", 1, 1,
	  "policy_route \"p\" needs a table", false },
	{ "mark_rule \"m\" {\n  mark = \"0xZZ\"\n}\n", 2, 10,
	  "mark: \"0xZZ\" is not a mark", false },
	{ "vpn {\n  wireguard \"wg0\" {\n    private_key = \"abc\"\n  }\n}\n", 3, 19,
	  "private_key: not a WireGuard key", false },
	{ "vpn {\n  wireguard \"wg0\" {\n    peer \"p\" {\n      public_key = \"X/puW7K9PTID5DHSPvYDa901/BkFzlGF3EN2/Rfv4KY=\"\n      endpoint = \"vpn.example.com\"\n    }\n  }\n}\n",
	  5, 18, "endpoint: \"vpn.example.com\": expected HOST:PORT", false },
	{ "vpn {}\nvpn {}\n", 2, 1, "block \"vpn\" may appear only once here", false },
	{ "api {\n  listen = \"0.0.0.0\"\n}\n", 2, 12,
	  "api: \"0.0.0.0\" is not ADDR:PORT", false },
	{ "web {\n  listen = \"[::1:80\"\n}\n", 2, 12,
	  "web: \"[::1:80\" is not ADDR:PORT", false },
	{ "web {\n  listen = \":0\"\n}\n", 2, 12, "is not ADDR:PORT", false },
	{ "web {\n  tls_listen = \":8443\"\n  tls_cert = \"c.pem\"\n}\n", 2, 16,
	  "web: tls_listen needs tls_cert and tls_key", false },
	{ "api {\n  tls_key = \"k.pem\"\n}\n", 2, 13,
	  "tls_cert and tls_key are used only with tls_listen", true },
	{ "a = \"${SECRET}\"\n", 1, 8, "environment variable SECRET is not set", false },
	{ "schema_version = \"9\"\n", 1, 18, "moat reads schema versions 1.0 and 1.1", true },
};

static void test_diagnostics(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct diag_case *c = &cases[i];
		struct diag_list dl = { 0 };
		struct moat_config *cfg = load(c->src, false, &dl);
		const struct diag *hit = NULL;

		for (size_t k = 0; k < dl.n; k++)
			if (strstr(dl.v[k].msg, c->msg))
				hit = &dl.v[k];
		if (!hit || hit->line != c->line || hit->col != c->col ||
		    (hit->sev == DIAG_WARNING) != c->warning ||
		    (!c->warning && cfg)) {
			print_error("case %zu:\n%s\n  want %d:%d %s\n", i,
				    c->src, c->line, c->col, c->msg);
			for (size_t k = 0; k < dl.n; k++)
				print_error("  got %d:%d %s: %s\n", dl.v[k].line,
					    dl.v[k].col,
					    diag_sev_name(dl.v[k].sev),
					    dl.v[k].msg);
			fail();
		}
		cfg_free(cfg);
		diag_list_free(&dl);
	}
}

static void test_all_errors_in_one_run(void **state)
{
	struct diag_list dl = { 0 };
	struct moat_config *cfg = load(
		"interface \"eth0\" {\n  mtu = 1\n  bogus = 2\n}\n"
		"zone \"lan\" {}\npolicy \"lan\" \"nowhere\" {}\n"
		"nat \"n\" {\n  type = \"dnat\"\n}\n", false, &dl);

	(void)state;
	assert_null(cfg);
	assert_int_equal(dl.nerrors, 4);
	diag_list_free(&dl);
}

static void test_strict(void **state)
{
	struct diag_list dl = { 0 };
	const char *src = "qos_policy \"x\" {}\n";
	struct moat_config *cfg = load(src, false, &dl);

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(dl.nwarnings, 1);
	cfg_free(cfg);
	diag_list_free(&dl);
	cfg = load(src, true, &dl);
	assert_null(cfg);
	assert_int_equal(dl.nerrors, 1);
	diag_list_free(&dl);
}

static void test_values(void **state)
{
	struct diag_list dl = { 0 };
	struct moat_config *cfg = load(
		"ip_forwarding = true\n"
		"interface \"eth0\" {\n  zone = \"wan\"\n  mtu = 1500\n}\n"
		"interface \"eth1\" {\n  ipv4 = [\"10.0.0.1/24\"]\n}\n"
		"zone \"lan\" {\n  interface = \"eth1\"\n}\n"
		"policy \"lan\" \"wan\" {\n  rule \"web\" {\n"
		"    proto = \"TCP\"\n    dest_port = \"80,8000-8080\"\n"
		"    action = \"Accept\"\n  }\n}\n", false, &dl);
	const struct cfg_interface *ifs;
	const struct cfg_policy *p;
	const struct cfg_rule *r;

	(void)state;
	assert_non_null(cfg);
	assert_true(cfg->ip_forwarding.set && cfg->ip_forwarding.v);
	assert_int_equal(cfg->interfaces.n, 2);
	ifs = cfg->interfaces.v;
	assert_string_equal(ifs[0].o.name, "eth0");
	assert_int_equal(ifs[0].mtu.v, 1500);
	assert_int_equal(ifs[0].mtu.pos.line, 4);
	assert_string_equal(ifs[1].ipv4.v[0], "10.0.0.1/24");
	p = cfg->policies.v;
	assert_string_equal(p->o.name, "lan");
	assert_string_equal(p->o.name2, "wan");
	r = p->rules.v;
	assert_string_equal(r->proto.v, "tcp");
	assert_string_equal(r->action.v, "accept");
	assert_int_equal(r->dest_port.n, 2);
	assert_int_equal(r->dest_port.v[0].lo, 80);
	assert_int_equal(r->dest_port.v[1].lo, 8000);
	assert_int_equal(r->dest_port.v[1].hi, 8080);
	assert_string_equal(r->o.pos.file, "t.hcl");
	cfg_free(cfg);
	diag_list_free(&dl);
}

static void test_listen(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
	static const char *const bad[] = {
		"", ":", "80", "1.2.3.4", "1.2.3.4:", "1.2.3.4:0",
		"1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+80", "1.2.3.4:8 0",
		"host:80", "[::1]", "[::1:80", "::1:80", "[1.2.3.4]:80",
		"[]:80", "1.2.3.4.5:80",
	};
	unsigned len;

	(void)state;
	assert_true(listen_parse("127.0.0.1:8080", &ss, &len));
	assert_int_equal(v4->sin_family, AF_INET);
	assert_int_equal(ntohs(v4->sin_port), 8080);
	assert_int_equal(ntohl(v4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(len, sizeof(*v4));
	assert_true(listen_parse(":443", &ss, &len));
	assert_int_equal(v4->sin_addr.s_addr, 0);
	assert_true(listen_parse("[::1]:65535", &ss, &len));
	assert_int_equal(v6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(v6->sin6_port), 65535);
	assert_int_equal(v6->sin6_addr.s6_addr[15], 1);
	assert_int_equal(len, sizeof(*v6));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (listen_parse(bad[i], NULL, NULL))
			fail_msg("\"%s\" accepted", bad[i]);
}

static void test_addr(void **state)
{
	struct cfg_prefix p;
	const char *why;

	(void)state;
	assert_true(addr_parse("10.0.0.0/8", ADDR_PREFIX, &p, &why));
	assert_int_equal(p.len, 8);
	assert_true(addr_parse("2001:db8::/32", ADDR_PREFIX, &p, &why));
	assert_false(addr_parse("2001:db8::/129", ADDR_PREFIX, &p, &why));
	assert_false(addr_parse("10.0.0.1/24", 0, &p, &why));
	assert_false(addr_parse("10.0.0.1/", ADDR_PREFIX, &p, &why));
	assert_false(addr_parse("", ADDR_PREFIX, &p, &why));
	assert_true(endpoint_parse("[2001:db8::1]:51820", &why));
	assert_true(endpoint_parse("vpn.example.com:51820", &why));
	assert_false(endpoint_parse("1.2.3.4:0", &why));
	assert_true(wg_key_valid("X/puW7K9PTID5DHSPvYDa901/BkFzlGF3EN2/Rfv4KY="));
	assert_false(wg_key_valid("X/puW7K9PTID5DHSPvYDa901/BkFzlGF3EN2/Rfv4KZ="));
	assert_true(ifname_valid("wg+", true, &why));
	assert_false(ifname_valid("wg+", false, &why));
	assert_false(ifname_valid("a b", false, &why));
}

/* Plain HTTP only on loopback: which listening addresses are, and the
 * warning (not an error: Flywall's configs listen on 0.0.0.0:8080) for
 * those that are not; HTTPS with both tls_cert and tls_key or neither. */
static void test_listen_loopback(void **state)
{
	static const char *const loop[] = {
		"127.0.0.1:8080", "127.1.2.3:1", "[::1]:443",
		"[::ffff:127.0.0.1]:80",
	};
	static const char *const not_loop[] = {
		":8080", "0.0.0.0:8080", "[::]:8080", "192.0.2.1:80",
		"128.0.0.1:80", "[2001:db8::1]:443", "[::2]:80",
		"[::ffff:192.0.2.1]:80", "localhost:80", "127.0.0.1", "",
	};
	static const struct {
		const char *src;
		int warnings, errors;
	} plain[] = {
		{ "api {\n  listen = \"127.0.0.1:8080\"\n}\n", 0, 0 },
		{ "api {\n  listen = \"0.0.0.0:8080\"\n}\n", 1, 0 },
		{ "web {\n  listen = \":80\"\n}\n", 1, 0 },
		{ "api {\n  listen = \"0.0.0.0:8080\"\n"
		  "  allow_plain_http = true\n}\n", 0, 0 },
		{ "api {\n  listen = \"0.0.0.0:8080\"\n"
		  "  allow_plain_http = false\n}\n", 1, 0 },
		{ "api {\n  tls_listen = \":8443\"\n}\n", 0, 0 },
		{ "api {\n  tls_listen = \":8443\"\n  tls_key = \"k\"\n}\n",
		  0, 1 },
		{ "api {\n  tls_listen = \":8443\"\n  tls_cert = \"c\"\n"
		  "  tls_key = \"k\"\n}\n", 0, 0 },
	};
	struct diag_list dl = { 0 };
	struct moat_config *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++)
		if (!listen_is_loopback(loop[i]))
			fail_msg("\"%s\" not loopback", loop[i]);
	for (size_t i = 0; i < sizeof(not_loop) / sizeof(not_loop[0]); i++)
		if (listen_is_loopback(not_loop[i]))
			fail_msg("\"%s\" taken for loopback", not_loop[i]);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		cfg = load(plain[i].src, false, &dl);
		if ((int)dl.nwarnings != plain[i].warnings ||
		    (int)dl.nerrors != plain[i].errors ||
		    !cfg != (plain[i].errors > 0))
			fail_msg("case %zu: %zu warnings, %zu errors\n%s", i,
				 dl.nwarnings, dl.nerrors, plain[i].src);
		cfg_free(cfg);
		diag_list_free(&dl);
		memset(&dl, 0, sizeof(dl));
	}
	cfg = load("api {\n  listen = \"0.0.0.0:8080\"\n}\n", false, &dl);
	assert_non_null(cfg);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.v[0].line, 2);
	assert_int_equal(dl.v[0].col, 12);
	assert_string_equal(dl.v[0].msg, "api: listen 0.0.0.0:8080 is plain "
			    "HTTP on a non-loopback address and is not opened; "
			    "use tls_listen, or set allow_plain_http = true");
	cfg_free(cfg);
	diag_list_free(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diagnostics),
		cmocka_unit_test(test_all_errors_in_one_run),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_listen_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
