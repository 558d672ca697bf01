/* The config diff (config/cfgdiff.c) and secret redaction
 * (config/redact.c): unified text exactly as `diff -u` prints it, the
 * bounded fallback, the structured diff's entries and order, and
 * redaction that keeps every other byte and comes back byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "config/cfgdiff.h"
#include "config/redact.h"

/* --- helpers ------------------------------------------------------------ */

static char *unified(const char *a, const char *b)
{
	return cfgdiff_unified(a, strlen(a), b, strlen(b), "running", "staged",
			       NULL);
}

static void assert_unified(const char *a, const char *b, const char *want)
{
	char *got = unified(a, b);

	assert_string_equal(got, want);
	free(got);
}

static json_t *blocks(const char *a, const char *b)
{
	char err[256] = "";
	json_t *j = cfgdiff_blocks(a, strlen(a), b, strlen(b), "running",
				   "staged", err, sizeof(err));

	if (!j)
		fail_msg("%s", err);
	return j;
}

/* The structured diff, dumped compactly with sorted keys. */
static void assert_blocks(const char *a, const char *b, const char *want)
{
	json_t *j = blocks(a, b);
	char *got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	assert_string_equal(got, want);
	free(got);
	json_decref(j);
}

static char *redact(const char *text)
{
	size_t n;
	char *out = cfg_redact(text, strlen(text), &n);

	if (out)
		assert_int_equal(n, strlen(out));
	return out;
}

static char *unredact(const char *staged, const char *running, char *err,
		      size_t errlen)
{
	return cfg_unredact(staged, strlen(staged), running, strlen(running),
			    NULL, err, errlen);
}

/* Applies a unified diff to a; the result must be b. */
static void assert_applies(const char *a, size_t alen, const char *d,
			   size_t dlen, const char *b, size_t blen)
{
	struct buf out = BUF_INIT;
	const char **la = NULL;
	const char *p = d, *end = d + dlen, *q;
	size_t na = 0, cap = 0, ai = 0, from, cnt, k;
	char prev = 0;

	for (q = a; q < a + alen; q = memchr(q, '\n', alen - (size_t)(q - a)) + 1) {
		xgrow((void **)&la, &cap, na + 2, sizeof(*la));
		la[na++] = q;
		if (!memchr(q, '\n', alen - (size_t)(q - a)))
			break;
	}
	xgrow((void **)&la, &cap, na + 2, sizeof(*la));
	la[na] = a + alen;	/* a line ends where the next starts */
	for (k = 0; dlen && k < 2; k++)		/* --- and +++ */
		p = memchr(p, '\n', (size_t)(end - p)) + 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)(nl - p);

		assert_non_null(nl);
		if (*p == '@') {
			from = strtoul(p + 4, (char **)&q, 10);
			cnt = *q == ',' ? strtoul(q + 1, NULL, 10) : 1;
			k = cnt ? from - 1 : from;
			assert_true(k >= ai && k <= na);
			buf_add(&out, la[ai], (size_t)(la[k] - la[ai]));
			ai = k;
		} else if (*p == ' ' || *p == '-') {
			assert_true(ai < na);
			assert_true((size_t)(la[ai + 1] - la[ai]) >= n - 1);
			assert_memory_equal(la[ai], p + 1, n - 1);
			if (*p == ' ')
				buf_add(&out, la[ai], (size_t)(la[ai + 1] - la[ai]));
			ai++;
		} else if (*p == '+') {
			buf_add(&out, p + 1, n);	/* with its newline */
		} else if (*p == '\\') {
			if (prev == '+')
				out.len--;	/* no newline after it */
		} else {
			fail_msg("unexpected line %.*s", (int)n, p);
		}
		prev = *p;
		p = nl + 1;
	}
	buf_add(&out, la[ai], (size_t)(la[na] - la[ai]));
	assert_int_equal(out.len, blen);
	assert_memory_equal(out.p, b, blen);
	buf_free(&out);
	free(la);
}

/* --- the text diff ------------------------------------------------------ */

static void test_unified_equal(void **state)
{
	size_t n = 42;
	char *d;

	(void)state;
	assert_unified("", "", "");
	assert_unified("a\nb\n", "a\nb\n", "");
	d = cfgdiff_unified("x\0y", 3, "x\0y", 3, "a", "b", &n);
	assert_string_equal(d, "");
	assert_int_equal(n, 0);
	free(d);
}

static void test_unified_change(void **state)
{
	(void)state;
	assert_unified("1\n2\n3\n4\n5\n6\n7\n8\n9\n",
		       "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
		       "--- running\n+++ staged\n"
		       "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
	/* removals before additions, one line ranges without ",1" */
	assert_unified("a\n", "b\n",
		       "--- running\n+++ staged\n@@ -1 +1 @@\n-a\n+b\n");
	assert_unified("", "a\n",
		       "--- running\n+++ staged\n@@ -0,0 +1 @@\n+a\n");
	assert_unified("a\n", "",
		       "--- running\n+++ staged\n@@ -1 +0,0 @@\n-a\n");
	assert_unified("a\nb\n", "a\nb\nc\n",
		       "--- running\n+++ staged\n@@ -1,2 +1,3 @@\n a\n b\n+c\n");
}

static void test_unified_no_newline(void **state)
{
	(void)state;
	assert_unified("a\nb", "a\nb\n",
		       "--- running\n+++ staged\n@@ -1,2 +1,2 @@\n a\n-b\n"
		       "\\ No newline at end of file\n+b\n");
	assert_unified("a\n", "a\nb",
		       "--- running\n+++ staged\n@@ -1 +1,2 @@\n a\n+b\n"
		       "\\ No newline at end of file\n");
}

static void test_unified_hunks(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	char *d;

	(void)state;
	/* changes 7 lines apart: two hunks; 6 apart: one */
	for (int i = 0; i < 20; i++) {
		buf_printf(&a, "%d\n", i);
		buf_printf(&b, "%d%s\n", i, i == 3 || i == 11 ? "x" : "");
	}
	assert_unified(a.p, b.p,
		       "--- running\n+++ staged\n"
		       "@@ -1,7 +1,7 @@\n 0\n 1\n 2\n-3\n+3x\n 4\n 5\n 6\n"
		       "@@ -9,7 +9,7 @@\n 8\n 9\n 10\n-11\n+11x\n 12\n 13\n 14\n");
	buf_reset(&b);
	for (int i = 0; i < 20; i++)
		buf_printf(&b, "%d%s\n", i, i == 3 || i == 10 ? "x" : "");
	d = unified(a.p, b.p);
	assert_non_null(strstr(d, "@@ -1,14 +1,14 @@\n"));
	assert_null(strstr(strstr(d, "@@") + 2, "\n@@"));
	assert_applies(a.p, a.len, d, strlen(d), b.p, b.len);
	free(d);
	buf_free(&a);
	buf_free(&b);
}

/* Lines with NUL bytes and CRs are lines like others. */
static void test_unified_bytes(void **state)
{
	size_t n;
	char *d;

	(void)state;
	d = cfgdiff_unified("a\0b\nc\r\n", 7, "a\0c\nc\r\n", 7, "x", "y", &n);
	assert_int_equal(n, strlen("--- x\n+++ y\n@@ -1,2 +1,2 @@\n-a?b\n"
				   "+a?c\n c\r\n"));
	assert_memory_equal(d, "--- x\n+++ y\n@@ -1,2 +1,2 @@\n-a\0b\n+a\0c\n"
			    " c\r\n", n);
	free(d);
}

/* Too many edits for the bounded search: the middle is replaced whole,
 * and the lines both keep at the ends stay context. */
static void test_unified_fallback(void **state)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t n;
	char *d;

	(void)state;
	buf_adds(&a, "head\n");
	buf_adds(&b, "head\n");
	for (int i = 0; i < 3000; i++) {
		buf_printf(&a, "a%d\n", i);
		buf_printf(&b, "b%d\n", i);
		buf_adds(&a, "same\n");
		buf_adds(&b, "same\n");
	}
	buf_adds(&a, "tail\n");
	buf_adds(&b, "tail\n");
	d = cfgdiff_unified(a.p, a.len, b.p, b.len, "running", "staged", &n);
	assert_non_null(strstr(d, "@@ -1,6002 +1,6002 @@\n head\n-a0\n"));
	assert_applies(a.p, a.len, d, n, b.p, b.len);
	free(d);
	/* a few edits in a long text are still found */
	buf_reset(&b);
	buf_adds(&b, "head\n");
	for (int i = 0; i < 3000; i++)
		buf_printf(&b, "%s%d\nsame\n", i == 1500 ? "b" : "a", i);
	buf_adds(&b, "tail\n");
	d = cfgdiff_unified(a.p, a.len, b.p, b.len, "running", "staged", &n);
	assert_non_null(strstr(d, "@@ -2999,7 +2999,7 @@\n"));
	assert_applies(a.p, a.len, d, n, b.p, b.len);
	free(d);
	buf_free(&a);
	buf_free(&b);
}

/* --- the structured diff ------------------------------------------------ */

#define LAN "zone \"lan\" {\n  interfaces = [\"eth1\"]\n}\n"
#define WAN "zone \"wan\" {\n  interfaces = [\"eth0\"]\n}\n"

static void test_blocks_equal(void **state)
{
	(void)state;
	assert_blocks("", "", "[]");
	assert_blocks(LAN WAN, LAN WAN, "[]");
	/* comments, blank space, spelling of values and the order of
	 * attributes do not count; the text diff still shows them */
	assert_blocks("# lan\n" LAN "a = 1\nb = \"A\"\n",
		      "b = \"\\u0041\" // a comment\n\n"
		      "zone   lan {\n  /* x */ interfaces = [ \"eth1\", ]\n}\n"
		      "a = 1.0\n", "[]");
}

/* Comments only: the text diff shows them, the structured one does not. */
static void test_comments_only(void **state)
{
	const char *a = LAN "# one\n", *b = "# zero\n" LAN "# one\n";
	char *d = unified(a, b);

	(void)state;
	assert_string_equal(d, "--- running\n+++ staged\n@@ -1,3 +1,4 @@\n"
			    "+# zero\n zone \"lan\" {\n   interfaces = "
			    "[\"eth1\"]\n }\n");
	free(d);
	assert_blocks(a, b, "[]");
}

static void test_blocks_attr(void **state)
{
	(void)state;
	assert_blocks(LAN WAN "ip_forwarding = true\n",
		      LAN "zone \"wan\" {\n  interfaces = [\"eth2\"]\n}\n"
		      "ip_forwarding = false\n",
		      "[{\"block\":\"zone \\\"wan\\\"\",\"changes\":["
		      "{\"attribute\":\"interfaces\",\"new_line\":5,"
		      "\"old_line\":5,\"op\":\"changed\"}],"
		      "\"labels\":[\"wan\"],\"new_line\":4,\"old_line\":4,"
		      "\"op\":\"changed\",\"type\":\"zone\"},"
		      "{\"attribute\":\"ip_forwarding\",\"new_line\":7,"
		      "\"old_line\":7,\"op\":\"changed\"}]");
	/* attributes added and removed inside a block */
	assert_blocks("api {\n  listen = \"a\"\n}\n",
		      "api {\n  tls_listen = \"b\"\n}\n",
		      "[{\"block\":\"api\",\"changes\":["
		      "{\"attribute\":\"listen\",\"old_line\":2,\"op\":\"removed\"},"
		      "{\"attribute\":\"tls_listen\",\"new_line\":2,"
		      "\"op\":\"added\"}],\"labels\":[],\"new_line\":1,"
		      "\"old_line\":1,\"op\":\"changed\",\"type\":\"api\"}]");
}

static void test_blocks_added_removed(void **state)
{
	(void)state;
	/* old order, then what was added in the new order */
	assert_blocks(LAN WAN, "zone \"dmz\" {\n}\n" WAN "zone \"x\" {\n}\n",
		      "[{\"block\":\"zone \\\"lan\\\"\",\"labels\":[\"lan\"],"
		      "\"old_line\":1,\"op\":\"removed\",\"type\":\"zone\"},"
		      "{\"block\":\"zone \\\"dmz\\\"\",\"labels\":[\"dmz\"],"
		      "\"new_line\":1,\"op\":\"added\",\"type\":\"zone\"},"
		      "{\"block\":\"zone \\\"x\\\"\",\"labels\":[\"x\"],"
		      "\"new_line\":6,\"op\":\"added\",\"type\":\"zone\"}]");
}

static void test_blocks_labels(void **state)
{
	(void)state;
	/* two labels; a label with a quote is escaped as in HCL */
	assert_blocks("policy \"lan\" \"wan\" {\n}\npolicy \"a\\\"b\" \"c\" {\n}\n",
		      "policy \"lan\" \"wan\" {\n  x = 1\n}\n",
		      "[{\"block\":\"policy \\\"lan\\\" \\\"wan\\\"\",\"changes\":"
		      "[{\"attribute\":\"x\",\"new_line\":2,\"op\":\"added\"}],"
		      "\"labels\":[\"lan\",\"wan\"],\"new_line\":1,"
		      "\"old_line\":1,\"op\":\"changed\",\"type\":\"policy\"},"
		      "{\"block\":\"policy \\\"a\\\\\\\"b\\\" \\\"c\\\"\","
		      "\"labels\":[\"a\\\"b\",\"c\"],\"old_line\":3,"
		      "\"op\":\"removed\",\"type\":\"policy\"}]");
}

static void test_blocks_repeated(void **state)
{
	(void)state;
	/* unlabeled blocks of one type pair by their index among them */
	assert_blocks("dhcp {\n  a = 1\n}\ndhcp {\n  a = 2\n}\n",
		      "dhcp {\n  a = 1\n}\ndhcp {\n  a = 3\n}\ndhcp {\n}\n",
		      "[{\"block\":\"dhcp\",\"changes\":[{\"attribute\":\"a\","
		      "\"new_line\":5,\"old_line\":5,\"op\":\"changed\"}],"
		      "\"index\":1,\"labels\":[],\"new_line\":4,\"old_line\":4,"
		      "\"op\":\"changed\",\"type\":\"dhcp\"},"
		      "{\"block\":\"dhcp\",\"index\":2,\"labels\":[],"
		      "\"new_line\":7,\"op\":\"added\",\"type\":\"dhcp\"}]");
}

static void test_blocks_moved(void **state)
{
	const char *a = "nat \"a\" {\n}\nnat \"b\" {\n}\nnat \"c\" {\n}\n"
			"zone \"z\" {\n}\n";

	(void)state;
	/* blocks of one type are in order; one moved is named, not all */
	assert_blocks(a, "nat \"b\" {\n}\nnat \"c\" {\n}\nnat \"a\" {\n}\n"
		      "zone \"z\" {\n}\n",
		      "[{\"block\":\"nat \\\"a\\\"\",\"labels\":[\"a\"],"
		      "\"new_line\":5,\"old_line\":1,\"op\":\"moved\","
		      "\"type\":\"nat\"}]");
	/* the order of blocks of different types does not count */
	assert_blocks(a, "zone \"z\" {\n}\nnat \"a\" {\n}\nnat \"b\" {\n}\n"
		      "nat \"c\" {\n}\n", "[]");
	/* one level down: a changed block lists its moved children */
	assert_blocks("policy \"x\" {\n  rule \"1\" {\n  }\n  rule \"2\" {\n  }\n}\n",
		      "policy \"x\" {\n  rule \"2\" {\n  }\n  rule \"1\" {\n  }\n}\n",
		      "[{\"block\":\"policy \\\"x\\\"\",\"changes\":["
		      "{\"block\":\"rule \\\"1\\\"\",\"labels\":[\"1\"],"
		      "\"new_line\":4,\"old_line\":2,\"op\":\"moved\","
		      "\"type\":\"rule\"}],\"labels\":[\"x\"],\"new_line\":1,"
		      "\"old_line\":1,\"op\":\"changed\",\"type\":\"policy\"}]");
}

/* Deeper changes show as a changed child, without more detail. */
static void test_blocks_nested(void **state)
{
	(void)state;
	assert_blocks("vpn {\n  wireguard \"wg0\" {\n    peer \"x\" {\n"
		      "      preshared_key = \"k1\"\n    }\n  }\n}\n",
		      "vpn {\n  wireguard \"wg0\" {\n    peer \"x\" {\n"
		      "      preshared_key = \"k2\"\n    }\n  }\n}\n",
		      "[{\"block\":\"vpn\",\"changes\":[{\"block\":"
		      "\"wireguard \\\"wg0\\\"\",\"labels\":[\"wg0\"],"
		      "\"new_line\":2,\"old_line\":2,\"op\":\"changed\","
		      "\"type\":\"wireguard\"}],\"labels\":[],\"new_line\":1,"
		      "\"old_line\":1,\"op\":\"changed\",\"type\":\"vpn\"}]");
}

/* ${NAME} is never looked up: such values compare as written. */
static void test_blocks_templates(void **state)
{
	(void)state;
	setenv("CFGDIFF_A", "same", 1);
	setenv("CFGDIFF_B", "same", 1);
	assert_blocks("x = \"${CFGDIFF_A}\"\n", "x = \"${CFGDIFF_A}\"\n", "[]");
	assert_blocks("x = \"${CFGDIFF_A}\"\n", "x = \"${CFGDIFF_B}\"\n",
		      "[{\"attribute\":\"x\",\"new_line\":1,\"old_line\":1,"
		      "\"op\":\"changed\"}]");
	assert_blocks("x = \"$${CFGDIFF_A}\"\n", "x = \"${CFGDIFF_A}\"\n",
		      "[{\"attribute\":\"x\",\"new_line\":1,\"old_line\":1,"
		      "\"op\":\"changed\"}]");
}

static void test_blocks_error(void **state)
{
	char err[128];

	(void)state;
	assert_null(cfgdiff_blocks("a = 1\n", 6, "a = \n", 5, "running",
				   "staged", err, sizeof(err)));
	assert_string_equal(err, "staged:1:5: expected a value after '='");
	assert_null(cfgdiff_blocks("}", 1, "", 0, "running", "staged", err,
				   sizeof(err)));
	assert_non_null(strstr(err, "running:1:1: "));
}

/* --- redaction ---------------------------------------------------------- */

#define WG_RUNNING \
	"# secrets below\n" \
	"vpn {\n" \
	"  wireguard \"wg0\" {\n" \
	"    private_key = \"cHJpdmF0ZQ==\"   # the key\n" \
	"    private_key_file = \"/etc/k\"\n" \
	"    listen_port = 51820\n" \
	"    peer \"x\" {\n" \
	"      public_key    = \"cHVibGlj\"\n" \
	"      preshared_key = <<EOT\n" \
	"c2hhcmVk\n" \
	"EOT\n" \
	"    }\n" \
	"    peer \"y\" { preshared_key = \"p-${WG_PSK}\" }\n" \
	"  }\n" \
	"}\n" \
	"api {\n" \
	"  tls_key = \"/etc/api.key\"\n" \
	"  password = 12\n" \
	"  token = null\n" \
	"}\n"

#define WG_REDACTED \
	"# secrets below\n" \
	"vpn {\n" \
	"  wireguard \"wg0\" {\n" \
	"    private_key = \"(redacted)\"   # the key\n" \
	"    private_key_file = \"/etc/k\"\n" \
	"    listen_port = 51820\n" \
	"    peer \"x\" {\n" \
	"      public_key    = \"cHVibGlj\"\n" \
	"      preshared_key = \"(redacted)\"\n" \
	"    }\n" \
	"    peer \"y\" { preshared_key = \"(redacted)\" }\n" \
	"  }\n" \
	"}\n" \
	"api {\n" \
	"  tls_key = \"/etc/api.key\"\n" \
	"  password = \"(redacted)\"\n" \
	"  token = null\n" \
	"}\n"

static void test_redact(void **state)
{
	char *r;

	(void)state;
	assert_true(cfg_secret_attr("private_key"));
	assert_true(cfg_secret_attr("preshared_key"));
	assert_false(cfg_secret_attr("private_key_file"));
	assert_false(cfg_secret_attr("public_key"));
	r = redact(WG_RUNNING);
	assert_string_equal(r, WG_REDACTED);
	free(r);
	/* nothing secret: the same bytes, CRLF and a BOM included */
	r = redact("\xef\xbb\xbfzone \"a\" {\r\n  x = 1 // c\r\n}\r\n");
	assert_string_equal(r, "\xef\xbb\xbfzone \"a\" {\r\n  x = 1 // c\r\n}\r\n");
	free(r);
	r = redact("");
	assert_string_equal(r, "");
	free(r);
	/* redacting twice changes nothing more */
	r = redact(WG_REDACTED);
	assert_string_equal(r, WG_REDACTED);
	free(r);
	/* never unparsed text */
	assert_null(redact("private_key = \"abc"));
	assert_null(redact("private_key = abc\n"));
}

static void test_unredact_round_trip(void **state)
{
	char err[256], *r, *back;

	(void)state;
	r = redact(WG_RUNNING);
	back = unredact(r, WG_RUNNING, err, sizeof(err));
	assert_non_null(back);
	assert_string_equal(back, WG_RUNNING);
	free(back);
	free(r);
}

/* What the user edited stays; placeholders they left get running's value;
 * a new secret they typed is kept. */
static void test_unredact_edit(void **state)
{
	const char *staged =
		"vpn {\n"
		"  wireguard \"wg0\" {\n"
		"    private_key = \"bmV3\"\n"
		"    listen_port = 51821 # moved\n"
		"    peer \"y\" { preshared_key = \"(redacted)\" }\n"
		"    peer \"x\" {\n"
		"      public_key    = \"(redacted)\"\n"
		"      preshared_key = \"(redacted)\"\n"
		"    }\n"
		"  }\n"
		"}\n";
	char err[256], *back;

	(void)state;
	back = unredact(staged, WG_RUNNING, err, sizeof(err));
	assert_non_null(back);
	assert_string_equal(back,
		"vpn {\n"
		"  wireguard \"wg0\" {\n"
		"    private_key = \"bmV3\"\n"
		"    listen_port = 51821 # moved\n"
		"    peer \"y\" { preshared_key = \"p-${WG_PSK}\" }\n"
		"    peer \"x\" {\n"
		"      public_key    = \"(redacted)\"\n"
		"      preshared_key = <<EOT\nc2hhcmVk\nEOT\n"
		"    }\n"
		"  }\n"
		"}\n");
	free(back);
	/* "(redacted)" written as a template is not the placeholder */
	back = unredact("token = \"${X}(redacted)\"\n", "", err, sizeof(err));
	assert_string_equal(back, "token = \"${X}(redacted)\"\n");
	free(back);
}

static void test_unredact_errors(void **state)
{
	char err[256];

	(void)state;
	assert_null(unredact("vpn {\n  wireguard \"wg1\" {\n"
			     "    private_key = \"(redacted)\"\n  }\n}\n",
			     WG_RUNNING, err, sizeof(err)));
	assert_string_equal(err, "3:19: private_key is \"(redacted)\" but the "
			    "running config has no vpn.wireguard \"wg1\"");
	assert_null(unredact("vpn {\n  wireguard \"wg0\" {\n    peer \"y\" {\n"
			     "      password = \"(redacted)\"\n    }\n  }\n}\n",
			     WG_RUNNING, err, sizeof(err)));
	assert_string_equal(err, "4:18: password is \"(redacted)\" but "
			    "vpn.wireguard \"wg0\".peer \"y\" in the running "
			    "config has no password");
	assert_null(unredact("psk = \"(redacted)\"\n", WG_RUNNING, err,
			     sizeof(err)));
	assert_string_equal(err, "1:7: psk is \"(redacted)\" but the running "
			    "config has no top-level psk");
	assert_null(unredact("psk = \n", WG_RUNNING, err, sizeof(err)));
	assert_string_equal(err, "1:7: expected a value after '='");
	assert_null(unredact("", "}", err, sizeof(err)));
	assert_string_equal(err, "running config: 1:1 does not parse");
	/* a heredoc cannot be put back where something follows on its line */
	assert_null(unredact("vpn {\n  wireguard \"wg0\" {\n    peer \"x\" {\n"
			     "      preshared_key = \"(redacted)\" # c\n    }\n"
			     "  }\n}\n", WG_RUNNING, err, sizeof(err)));
	assert_string_equal(err, "4:23: preshared_key is \"(redacted)\" but "
			    "its running value is a heredoc, which must end its "
			    "line: move what follows it to the next line");
	/* a short buffer is cut, not overrun */
	assert_null(unredact("psk = \"(redacted)\"\n", "", err, 8));
	assert_int_equal(strlen(err), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unified_equal),
		cmocka_unit_test(test_unified_change),
		cmocka_unit_test(test_unified_no_newline),
		cmocka_unit_test(test_unified_hunks),
		cmocka_unit_test(test_unified_bytes),
		cmocka_unit_test(test_unified_fallback),
		cmocka_unit_test(test_blocks_equal),
		cmocka_unit_test(test_comments_only),
		cmocka_unit_test(test_blocks_attr),
		cmocka_unit_test(test_blocks_added_removed),
		cmocka_unit_test(test_blocks_labels),
		cmocka_unit_test(test_blocks_repeated),
		cmocka_unit_test(test_blocks_moved),
		cmocka_unit_test(test_blocks_nested),
		cmocka_unit_test(test_blocks_templates),
		cmocka_unit_test(test_blocks_error),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_unredact_round_trip),
		cmocka_unit_test(test_unredact_edit),
		cmocka_unit_test(test_unredact_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
