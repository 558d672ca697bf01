/* The firewall compiler: what a config compiles to, that every line of the
 * script knows its config origin, the errors only the compiler can see,
 * kernel messages mapped back to config lines, and the line diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/linediff.h"
#include "config/config.h"
#include "fw/fw.h"
#include "hcl/hcl.h"

static const char *no_env(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

static const struct hcl_env env = { no_env, NULL };

/* Compiles src; on a config error fails the test. */
static struct fw_plan *compile(const char *src, struct diag_list *dl)
{
	struct moat_config *cfg = cfg_load("t.hcl", src, strlen(src), &env,
					   false, dl);
	struct fw_plan *plan;

	if (!cfg)
		diag_print(dl, stderr);
	assert_non_null(cfg);
	plan = fw_compile(cfg, dl);
	cfg_free(cfg);
	return plan;
}

static bool has_line(const struct fw_plan *p, const char *line)
{
	const char *s = p->script;
	size_t n = strlen(line);

	while ((s = strstr(s, line))) {
		if ((s == p->script || s[-1] == '\t') &&
		    (s[n] == '\n' || s[n] == '\0'))
			return true;
		s += n;
	}
	return false;
}

static const char base_cfg[] =
	"interface \"eth0\" {\n"		/* 1 */
	"  zone = \"wan\"\n"
	"}\n"
	"interface \"eth1\" {\n"
	"  zone = \"lan\"\n"			/* 5 */
	"}\n"
	"policy \"lan\" \"wan\" {\n"
	"  action = \"accept\"\n"
	"  rule \"web\" {\n"
	"    proto = \"tcp\"\n"			/* 10 */
	"    dest_port = [80, 443]\n"
	"    action = \"accept\"\n"
	"  }\n"
	"}\n"
	"nat \"out\" {\n"			/* 15 */
	"  type = \"masquerade\"\n"
	"  out_interface = \"eth0\"\n"
	"}\n";

static void test_compile_basics(void **state)
{
	struct diag_list dl = { 0 };
	struct fw_plan *p = compile(base_cfg, &dl);

	(void)state;
	assert_non_null(p);
	assert_true(has_line(p, "\"eth1\" : goto from_lan"));
	assert_true(has_line(p, "oifname vmap { \"eth0\" : goto policy_lan_wan "
			     "} comment \"zone lan: destinations\""));
	assert_true(has_line(p, "tcp dport { 80, 443 } accept comment "
			     "\"policy lan->wan rule web\""));
	assert_true(has_line(p, "accept comment \"policy lan->wan\""));
	assert_true(has_line(p, "meta nfproto ipv4 oifname \"eth0\" masquerade "
			     "comment \"nat out\""));
	assert_true(has_line(p, "type filter hook forward priority filter; "
			     "policy drop;"));
	assert_int_equal(strlen(p->hash), FW_HASH_HEX);
	assert_non_null(strstr(p->script, FW_HASH_TAG));
	fw_plan_free(p);
	diag_list_free(&dl);
}

/* management { web, api } open the ports ctl listens on for api when the
 * config names them, else 80/443 and 8080. */
static void test_management_ports(void **state)
{
	static const char mgmt[] =
		"zone \"lan\" {\n  interface = \"eth1\"\n"
		"  management {\n    web = true\n    api = true\n  }\n}\n";
	static const struct {
		const char *extra, *web, *api;
	} cases[] = {
		{ "", "tcp dport { 80, 443 }", "tcp dport 8080" },
		{ "api {\n  listen = \"127.0.0.1:9443\"\n}\n",
		  "tcp dport { 80, 443 }", "tcp dport 9443" },
		{ "web {\n  listen = \":8081\"\n  tls_listen = \"[::]:8444\"\n"
		  "  tls_cert = \"c\"\n  tls_key = \"k\"\n}\n",
		  "tcp dport { 8081, 8444 }", "tcp dport 8080" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_list dl = { 0 };
		char *src = xasprintf("%s%s", mgmt, cases[i].extra);
		char *web = xasprintf("%s accept comment \"zone lan management "
				      "web\"", cases[i].web);
		char *api = xasprintf("%s accept comment \"zone lan management "
				      "api\"", cases[i].api);
		struct fw_plan *p = compile(src, &dl);

		assert_non_null(p);
		if (!has_line(p, web) || !has_line(p, api))
			fail_msg("case %zu:\n%s", i, p->script);
		fw_plan_free(p);
		diag_list_free(&dl);
		free(src);
		free(web);
		free(api);
	}
}

/* Every line that carries a comment maps back to that origin, at a real
 * config line; the map covers every line of the script. */
static void test_origins(void **state)
{
	struct diag_list dl = { 0 };
	struct fw_plan *p = compile(base_cfg, &dl);
	const char *s;
	int line = 1, checked = 0;
	bool seen_web = false, seen_nat = false;

	(void)state;
	assert_non_null(p);
	for (s = p->script; *s; line++) {
		const char *e = strchr(s, '\n'), *c;
		const struct fw_origin *o = fw_plan_origin(p, line);

		assert_non_null(e);
		assert_non_null(o);
		c = memmem(s, (size_t)(e - s), " comment \"", 10);
		if (c && strncmp(c + 10, FW_HASH_TAG, strlen(FW_HASH_TAG))) {
			assert_non_null(o->what);
			assert_memory_equal(c + 10, o->what, strlen(o->what));
			assert_true(o->pos.line > 0);
			if (!strcmp(o->what, "policy lan->wan rule web")) {
				assert_int_equal(o->pos.line, 9);
				seen_web = true;
			}
			if (!strcmp(o->what, "nat out")) {
				assert_int_equal(o->pos.line, 15);
				seen_nat = true;
			}
			checked++;
		}
		s = e + 1;
	}
	assert_int_equal((size_t)line - 1, p->nlines);
	assert_null(fw_plan_origin(p, line));
	assert_null(fw_plan_origin(p, 0));
	assert_true(checked >= 3);
	assert_true(seen_web);
	assert_true(seen_nat);
	fw_plan_free(p);
	diag_list_free(&dl);
}

static int line_of(const struct fw_plan *p, const char *needle)
{
	const char *at = strstr(p->script, needle);
	int line = 1;

	assert_non_null(at);
	for (const char *s = p->script; s < at; s++)
		line += *s == '\n';
	return line;
}

/* What libnftables prints about the script becomes an error at the
 * config line of the refused rule. */
static void test_explain(void **state)
{
	struct diag_list dl = { 0 };
	struct fw_plan *p = compile(base_cfg, &dl);
	char err[256];
	int line;

	(void)state;
	assert_non_null(p);
	line = line_of(p, "tcp dport { 80, 443 }");
	snprintf(err, sizeof(err), "/proc/self/fd/7:%d:3-20: Error: Could not "
		 "process rule: No such file or directory\n  tcp dport\n  ^^^\n",
		 line + 2);
	assert_int_equal(fw_explain(p, err, 2, &dl), 1);
	assert_int_equal(dl.nerrors, 1);
	assert_int_equal(dl.v[dl.n - 1].line, 9);
	assert_non_null(strstr(dl.v[dl.n - 1].msg, "the kernel refused policy "
			       "lan->wan rule web: Could not process rule"));
	/* a built-in line: no config place, but the script line */
	assert_int_equal(fw_explain(p, "/x:3:1: Error: boom\n", 2, &dl), 1);
	assert_non_null(strstr(dl.v[dl.n - 1].msg, "line 1 of the compiled"));
	/* text without a location is passed on whole */
	assert_int_equal(fw_explain(p, "something odd\n", 2, &dl), 0);
	assert_non_null(strstr(dl.v[dl.n - 1].msg, "nftables: something odd"));
	/* nonsense line numbers are no crash */
	assert_int_equal(fw_explain(p, "a:99999999:1: Error: x\nb:-4:1: Error: "
				    "y\n:::\n", 2, &dl), 1);
	fw_plan_free(p);
	diag_list_free(&dl);
}

static void test_hash(void **state)
{
	struct diag_list dl = { 0 };
	struct fw_plan *a = compile(base_cfg, &dl), *b = compile(base_cfg, &dl);
	char *other = xasprintf("%s%s", base_cfg, "mss_clamping = true\n");
	struct fw_plan *c = compile(other, &dl);
	char h[FW_HASH_HEX + 1];
	char comment[100];

	(void)state;
	assert_string_equal(a->hash, b->hash);
	assert_string_not_equal(a->hash, c->hash);
	snprintf(comment, sizeof(comment), "%s%s", FW_HASH_TAG, a->hash);
	assert_true(fw_hash_from_comment(comment, h));
	assert_string_equal(h, a->hash);
	assert_false(fw_hash_from_comment("moat sha256:abc", h));
	assert_false(fw_hash_from_comment(NULL, h));
	comment[20] = 'X';
	assert_false(fw_hash_from_comment(comment, h));
	fw_plan_free(a);
	fw_plan_free(b);
	fw_plan_free(c);
	free(other);
	diag_list_free(&dl);
}

struct err_case {
	const char *src;
	int line, col;
	const char *msg;
};

#define IFACES "interface \"eth0\" {\n  zone = \"wan\"\n}\n" \
	       "interface \"eth1\" {\n  zone = \"lan\"\n}\n"

static const struct err_case errs[] = {
	{ IFACES "policy \"lan\" \"wan\" {\n  name = \"a\"\n  rule \"j\" {\n"
	  "    action = \"jump\"\n    jump_target = \"a\"\n  }\n}\n", 11, 19,
	  "jump_target \"a\": the rule's own policy; the kernel refuses loops" },
	{ IFACES "policy \"lan\" \"wan\" {\n  rule \"j\" {\n"
	  "    action = \"jump\"\n    jump_target = \"nobody\"\n  }\n}\n", 10, 19,
	  "jump_target \"nobody\" names no policy" },
	{ IFACES "policy \"lan\" \"wan\" {\n  rule \"r\" {\n"
	  "    src_ip = \"10.0.0.1\"\n    dest_ip = \"2001:db8::1\"\n"
	  "    action = \"drop\"\n  }\n}\n", 10, 15,
	  "src_ip and dest_ip are of different families" },
	{ IFACES "policy \"lan\" \"wan\" {\n  rule \"r\" {\n"
	  "    proto = \"icmpv6\"\n    dest_ip = \"10.0.0.1\"\n"
	  "    action = \"drop\"\n  }\n}\n", 9, 13,
	  "protocol icmpv6 with an IPv4 address" },
	{ IFACES "nat \"n\" {\n  type = \"dnat\"\n  in_interface = \"eth0\"\n"
	  "  dest_port = 80\n  to_ip = \"10.0.0.2\"\n  hairpin = true\n}\n",
	  12, 13, "hairpin needs the address the forward is reached at" },
	{ IFACES "nat \"n\" {\n  type = \"dnat\"\n  proto = \"tcp\"\n"
	  "  dest_port = \"100-110\"\n  to_ip = \"10.0.0.2\"\n"
	  "  to_port = \"200-205\"\n}\n", 12, 13,
	  "to_port 200-205 has 6 ports but dest_port has 11" },
	{ IFACES "ipset \"zone_in\" {\n  entries = [\"10.0.0.1\"]\n}\n", 7, 7,
	  "the name is moat's own" },
	{ IFACES "ipset \"9lives\" {\n  entries = [\"10.0.0.1\"]\n}\n", 7, 7,
	  "a set name is a letter or '_'" },
	{ IFACES "ipset \"p\" {\n  type = \"inet_service\"\n"
	  "  entries = [\"22\"]\n}\npolicy \"lan\" \"wan\" {\n  rule \"r\" {\n"
	  "    src_ipset = \"p\"\n    action = \"drop\"\n  }\n}\n", 13, 17,
	  "ipset \"p\" holds ports, not addresses" },
	{ "interface \"e\\\"x\" {\n  zone = \"lan\"\n}\n"
	  "policy \"lan\" \"lan\" {\n  action = \"accept\"\n}\n", 2, 10,
	  "nftables cannot carry" },
	{ IFACES "ipset \"m\" {\n  type = \"ether_addr\"\n"
	  "  entries = [\"00:11:22:33:44:55\"]\n}\nmark_rule \"r\" {\n"
	  "  src_zone = \"self\"\n  ipset = \"m\"\n  mark = \"1\"\n}\n", 13, 11,
	  "mark_rule \"r\": ipset \"m\" holds MAC addresses, which the "
	  "gateway's own packets do not have" },
	{ IFACES "mark_rule \"r\" {\n  src_ip = \"10.0.0.1\"\n"
	  "  dst_ip = \"2001:db8::1\"\n  mark = \"1\"\n}\n", 9, 12,
	  "mix IPv4 and IPv6; no packet can match" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct diag_list dl = { 0 };
		struct moat_config *cfg = cfg_load("t.hcl", errs[i].src,
						   strlen(errs[i].src), &env,
						   false, &dl);
		struct fw_plan *p;
		bool found = false;

		if (!cfg) {
			diag_print(&dl, stderr);
			fail_msg("case %zu does not load", i);
		}
		p = fw_compile(cfg, &dl);
		if (p)
			fail_msg("case %zu compiled: %s", i, p->script);
		for (size_t k = 0; k < dl.n; k++)
			if (dl.v[k].sev == DIAG_ERROR &&
			    strstr(dl.v[k].msg, errs[i].msg) &&
			    dl.v[k].line == errs[i].line &&
			    dl.v[k].col == errs[i].col)
				found = true;
		if (!found) {
			diag_print(&dl, stderr);
			fail_msg("case %zu: no error \"%s\" at %d:%d", i,
				 errs[i].msg, errs[i].line, errs[i].col);
		}
		cfg_free(cfg);
		diag_list_free(&dl);
	}
}

/* --- marks --------------------------------------------------------------- */

static int count_lines(const struct fw_plan *p, const char *line)
{
	const char *s = p->script;
	size_t n = strlen(line);
	int k = 0;

	while ((s = strstr(s, line))) {
		k += s[-1] == '\t' && (s[n] == '\n' || s[n] == '\0');
		s += n;
	}
	return k;
}

static const char marks_cfg[] =
	IFACES
	"mark_rule \"sip\" {\n"			/* 7 */
	"  proto = \"udp\"\n"
	"  dst_port = 5060\n"
	"  mark = \"0x40\"\n"			/* 10 */
	"}\n"
	"mark_rule \"wan2\" {\n"
	"  in_interface = \"eth0\"\n"
	"  mark = \"0x2\"\n"
	"  mask = \"0xff\"\n"			/* 15 */
	"  save_mark = true\n"
	"  restore_mark = true\n"
	"}\n"
	"mark_rule \"lan\" {\n"
	"  src_zone = \"lan\"\n"			/* 20 */
	"  mark = \"0x4\"\n"
	"}\n"
	"mark_rule \"off\" {\n"
	"  enabled = false\n"
	"  mark = \"0x9\"\n"			/* 25 */
	"}\n";

/* The two chains, which rules each holds, and their config lines. */
static void test_marks(void **state)
{
	struct diag_list dl = { 0 };
	struct fw_plan *p = compile(marks_cfg, &dl);
	const struct fw_origin *o;

	(void)state;
	assert_non_null(p);
	assert_true(has_line(p, "type filter hook prerouting priority mangle; "
			     "policy accept;"));
	assert_true(has_line(p, "type route hook output priority mangle; "
			     "policy accept;"));
	/* restored once per chain, before every rule */
	assert_int_equal(count_lines(p, "ct mark != 0 meta mark set ct mark "
				     "comment \"mark_rule wan2: restore_mark\""),
			 2);
	assert_true(line_of(p, "ct mark != 0") < line_of(p, "udp dport 5060"));
	/* the whole mark, or the mask's bits only, then saved */
	assert_int_equal(count_lines(p, "udp dport 5060 meta mark set 0x40 "
				     "comment \"mark_rule sip\""), 2);
	assert_int_equal(count_lines(p, "iifname \"eth0\" meta mark set meta "
				     "mark and 0xffffff00 or 0x2 ct mark set "
				     "meta mark comment \"mark_rule wan2\""), 1);
	assert_int_equal(count_lines(p, "iifname \"eth1\" meta mark set 0x4 "
				     "comment \"mark_rule lan\""), 1);
	assert_null(strstr(p->script, "0x9"));
	/* kernel errors name the rule's config line */
	o = fw_plan_origin(p, line_of(p, "udp dport 5060"));
	assert_non_null(o);
	assert_int_equal(o->pos.line, 7);
	assert_string_equal(o->what, "mark_rule sip");
	o = fw_plan_origin(p, line_of(p, "ct mark != 0"));
	assert_int_equal(o->pos.line, 17);
	fw_plan_free(p);

	/* no enabled rule, no chains */
	p = compile(base_cfg, &dl);
	assert_null(strstr(p->script, "mark_"));
	fw_plan_free(p);
	p = compile(IFACES "mark_rule \"off\" {\n  enabled = false\n"
		    "  mark = \"1\"\n}\n", &dl);
	assert_null(strstr(p->script, "mark_"));
	fw_plan_free(p);
	/* rules that only incoming packets match: no output chain */
	p = compile(IFACES "mark_rule \"in\" {\n  in_interface = \"eth0\"\n"
		    "  mark = \"1\"\n}\n", &dl);
	assert_non_null(strstr(p->script, "chain mark_prerouting {"));
	assert_null(strstr(p->script, "mark_output"));
	fw_plan_free(p);
	diag_list_free(&dl);
}

/* Configs the validation refuses, at the value that is wrong. */
static const struct err_case mark_errs[] = {
	{ IFACES "mark_rule \"x\" {\n  out_interface = \"eth0\"\n"
	  "  mark = \"0x40\"\n}\n", 8, 19,
	  "mark_rule \"x\": out_interface: marks are set before routing (to "
	  "steer it), when the output interface is not known yet" },
	{ IFACES "mark_rule \"x\" {\n  dst_zone = \"wan\"\n"
	  "  mark = \"0x40\"\n}\n", 8, 14,
	  "mark_rule \"x\": dst_zone: marks are set before routing" },
	{ IFACES "mark_rule \"x\" {\n  mark = \"0x140\"\n"
	  "  mask = \"0xff\"\n}\n", 8, 10, "mark_rule \"x\": mark 0x140 does not fit in mask 0xff (bits "
	  "0x100 are outside it)" },
	{ IFACES "mark_rule \"x\" {\n  mark = \"0\"\n  mask = \"0\"\n}\n",
	  9, 10, "mark_rule \"x\": mask 0 leaves no bit to set" },
	{ IFACES "mark_rule \"x\" {\n  src_zone = \"self\"\n"
	  "  in_interface = \"eth0\"\n  mark = \"1\"\n}\n", 9, 18,
	  "in_interface with src_zone \"self\"" },
};

static void test_mark_validation(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(mark_errs); i++) {
		const struct err_case *e = &mark_errs[i];
		struct diag_list dl = { 0 };
		struct moat_config *cfg = cfg_load("t.hcl", e->src,
						   strlen(e->src), &env, false,
						   &dl);
		bool found = false;

		if (cfg)
			fail_msg("case %zu loads", i);
		for (size_t k = 0; k < dl.n; k++)
			found |= dl.v[k].sev == DIAG_ERROR &&
				 strstr(dl.v[k].msg, e->msg) &&
				 dl.v[k].line == e->line &&
				 dl.v[k].col == e->col;
		if (!found) {
			diag_print(&dl, stderr);
			fail_msg("case %zu: no error \"%s\" at %d:%d", i,
				 e->msg, e->line, e->col);
		}
		diag_list_free(&dl);
	}
}

/* --- linediff ------------------------------------------------------------ */

static void apply_ops(char *const *a, size_t na, char *const *b,
		      const struct linediff_op *ops, long n, char **out,
		      size_t *nout)
{
	size_t ai = 0;

	*nout = 0;
	for (long i = 0; i < n; i++) {
		while (ai < ops[i].a)
			out[(*nout)++] = a[ai++];
		if (ops[i].op == '-')
			ai++;
		else
			out[(*nout)++] = b[ops[i].b];
	}
	while (ai < na)
		out[(*nout)++] = a[ai++];
}

static void check_diff(char **a, size_t na, char **b, size_t nb, long want)
{
	struct linediff_op *ops;
	long n = linediff(a, na, b, nb, 100, &ops);
	char *out[32];
	size_t nout;

	assert_int_equal(n, want);
	apply_ops(a, na, b, ops, n, out, &nout);
	assert_int_equal(nout, nb);
	for (size_t i = 0; i < nb; i++)
		assert_string_equal(out[i], b[i]);
	free(ops);
}

static void test_linediff(void **state)
{
	char *a[] = { "a", "b", "c", "d", "e" };
	char *b[] = { "a", "x", "c", "d", "e", "f" };
	char *c[] = { "e", "d", "c", "b", "a" };
	struct linediff_op *ops;

	(void)state;
	check_diff(a, 5, a, 5, 0);
	check_diff(a, 5, b, 6, 3);	/* -b +x +f */
	check_diff(a, 0, b, 6, 6);
	check_diff(a, 5, b, 0, 5);
	check_diff(a, 5, c, 5, 8);
	check_diff(a, 0, b, 0, 0);
	assert_int_equal(linediff(a, 5, c, 5, 3, &ops), -1);
	assert_null(ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_basics),
		cmocka_unit_test(test_management_ports),
		cmocka_unit_test(test_origins),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_mark_validation),
		cmocka_unit_test(test_linediff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
