/* Config texts changed in place (config/edit.c): a value replaced and
 * nothing else touched, attributes added to multi-line, one-line and
 * empty blocks, blocks added with their missing parents, CRLF and tabs
 * kept, hostile strings written so that they read back exactly, and the
 * failures (no parse, no block, two blocks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "config/cfgdiff.h"
#include "config/edit.h"

static const char *const wg0[] = { "wg0" };
static const struct cfg_step to_wg0[] = {
	{ "vpn", NULL, 0 }, { "wireguard", wg0, 1 },
};

/* text with name set to value in vpn.wireguard "wg0"; fails the test when
 * the edit fails. */
static char *set(const char *text, const char *name, const char *value)
{
	struct buf out = BUF_INIT;
	char err[256] = "";

	if (cfg_edit_set(&out, text, strlen(text), to_wg0, 2, name, value, err,
			 sizeof(err)) < 0)
		fail_msg("%s", err);
	return buf_steal(&out);
}

static void assert_set(const char *text, const char *name, const char *value,
		       const char *want)
{
	char *got = set(text, name, value);

	assert_string_equal(got, want);
	free(got);
}

static void assert_parses(const char *text)
{
	char err[256] = "";
	struct hcl_file *f = cfg_text_parse(text, strlen(text), err,
					    sizeof(err));

	if (!f)
		fail_msg("%s in:\n%s", err, text);
	cfg_text_free(f);
}

/* --- setting ------------------------------------------------------------- */

static const char tunnel[] =
	"# the gateway\n"
	"vpn {\n"
	"  // the tunnel\n"
	"  wireguard \"wg0\" {\n"
	"    interface   = \"wg0\"   # trailing comment\n"
	"    listen_port = 51820\n"
	"    address = [\n"
	"      \"10.0.0.1/24\",   # first\n"
	"    ]\n"
	"    peer \"a\" {\n"
	"      public_key = \"x\"\n"
	"    }\n"
	"  }\n"
	"}\n"
	"/* the end */\n";

static void test_replace_keeps_every_other_byte(void **state)
{
	(void)state;
	assert_set(tunnel, "listen_port", "51821",
		   "# the gateway\n"
		   "vpn {\n"
		   "  // the tunnel\n"
		   "  wireguard \"wg0\" {\n"
		   "    interface   = \"wg0\"   # trailing comment\n"
		   "    listen_port = 51821\n"
		   "    address = [\n"
		   "      \"10.0.0.1/24\",   # first\n"
		   "    ]\n"
		   "    peer \"a\" {\n"
		   "      public_key = \"x\"\n"
		   "    }\n"
		   "  }\n"
		   "}\n"
		   "/* the end */\n");
	/* a value over several lines is replaced whole */
	assert_set(tunnel, "address", "[\"10.9.0.1/24\"]",
		   "# the gateway\n"
		   "vpn {\n"
		   "  // the tunnel\n"
		   "  wireguard \"wg0\" {\n"
		   "    interface   = \"wg0\"   # trailing comment\n"
		   "    listen_port = 51820\n"
		   "    address = [\"10.9.0.1/24\"]\n"
		   "    peer \"a\" {\n"
		   "      public_key = \"x\"\n"
		   "    }\n"
		   "  }\n"
		   "}\n"
		   "/* the end */\n");
	/* a heredoc too; its line ending stays */
	assert_set("vpn {\n  wireguard \"wg0\" {\n    private_key = <<EOT\n"
		   "abc\nEOT\n    mtu = 1400\n  }\n}\n", "private_key", "\"k\"",
		   "vpn {\n  wireguard \"wg0\" {\n    private_key = \"k\"\n"
		   "    mtu = 1400\n  }\n}\n");
}

static void test_insert_in_a_block(void **state)
{
	(void)state;
	/* before the closing brace's line, indented as the block's lines */
	assert_set(tunnel, "fwmark", "7",
		   "# the gateway\n"
		   "vpn {\n"
		   "  // the tunnel\n"
		   "  wireguard \"wg0\" {\n"
		   "    interface   = \"wg0\"   # trailing comment\n"
		   "    listen_port = 51820\n"
		   "    address = [\n"
		   "      \"10.0.0.1/24\",   # first\n"
		   "    ]\n"
		   "    peer \"a\" {\n"
		   "      public_key = \"x\"\n"
		   "    }\n"
		   "    fwmark = 7\n"
		   "  }\n"
		   "}\n"
		   "/* the end */\n");
	/* only blocks inside: indented as the first one */
	assert_set("vpn {\n wireguard \"wg0\" {\n   peer \"a\" {\n   }\n }\n}\n",
		   "mtu", "1400",
		   "vpn {\n wireguard \"wg0\" {\n   peer \"a\" {\n   }\n"
		   "   mtu = 1400\n }\n}\n");
	/* tabs */
	assert_set("vpn {\n\twireguard \"wg0\" {\n\t}\n}\n", "mtu", "1400",
		   "vpn {\n\twireguard \"wg0\" {\n\t\tmtu = 1400\n\t}\n}\n");
	/* an empty block over two lines: one step in from the block */
	assert_set("vpn {\n  wireguard \"wg0\" {\n  }\n}\n", "mtu", "1400",
		   "vpn {\n  wireguard \"wg0\" {\n    mtu = 1400\n  }\n}\n");
	/* a brace after a comment gets a line of its own */
	assert_set("vpn {\n  wireguard \"wg0\" {\n    mtu = 1\n    /* c */ }\n"
		   "}\n", "fwmark", "2",
		   "vpn {\n  wireguard \"wg0\" {\n    mtu = 1\n    /* c */\n"
		   "    fwmark = 2\n  }\n}\n");
}

static void test_one_line_blocks(void **state)
{
	(void)state;
	assert_set("vpn {\n  wireguard \"wg0\" { listen_port = 1 }\n}\n",
		   "fwmark", "2",
		   "vpn {\n  wireguard \"wg0\" {\n    listen_port = 1\n"
		   "    fwmark = 2\n  }\n}\n");
	/* replacing in one keeps it on one line */
	assert_set("vpn {\n  wireguard \"wg0\" { listen_port = 1 }\n}\n",
		   "listen_port", "2",
		   "vpn {\n  wireguard \"wg0\" { listen_port = 2 }\n}\n");
	assert_set("vpn {\n  wireguard \"wg0\" {}\n}\n", "mtu", "1400",
		   "vpn {\n  wireguard \"wg0\" {\n    mtu = 1400\n  }\n}\n");
	assert_set("vpn {\n  wireguard \"wg0\" { }\n}\n", "mtu", "1400",
		   "vpn {\n  wireguard \"wg0\" {\n    mtu = 1400\n  }\n}\n");
	/* comments around the attribute stay */
	assert_set("vpn {\n  wireguard \"wg0\" { /* a */ mtu = 1 /* b */ }\n}\n",
		   "fwmark", "2",
		   "vpn {\n  wireguard \"wg0\" { /* a */\n    mtu = 1 /* b */\n"
		   "    fwmark = 2\n  }\n}\n");
}

static void test_crlf_and_top_level(void **state)
{
	struct buf out = BUF_INIT;
	char err[256];

	(void)state;
	assert_set("vpn {\r\n  wireguard \"wg0\" {\r\n    mtu = 1\r\n  }\r\n}\r\n",
		   "fwmark", "2",
		   "vpn {\r\n  wireguard \"wg0\" {\r\n    mtu = 1\r\n"
		   "    fwmark = 2\r\n  }\r\n}\r\n");
	/* the top level: replaced, or added at the end */
	assert_int_equal(cfg_edit_set(&out, "a = 1\n# end", 11, NULL, 0, "b",
				      "2", err, sizeof(err)), 0);
	assert_string_equal(out.p, "a = 1\n# end\nb = 2\n");
	buf_reset(&out);
	assert_int_equal(cfg_edit_set(&out, "a = 1\n", 6, NULL, 0, "a", "2",
				      err, sizeof(err)), 0);
	assert_string_equal(out.p, "a = 2\n");
	buf_free(&out);
}

/* --- adding blocks -------------------------------------------------------- */

static const char new_wg[] = "wireguard \"wg1\" {\n  interface = \"wg1\"\n}\n";

static char *add(const char *text, size_t npath)
{
	struct buf out = BUF_INIT;
	char err[256] = "";

	if (cfg_edit_add(&out, text, strlen(text), to_wg0, npath, new_wg, err,
			 sizeof(err)) < 0)
		fail_msg("%s", err);
	return buf_steal(&out);
}

static void assert_add(const char *text, const char *want)
{
	char *got = add(text, 1);

	assert_string_equal(got, want);
	assert_parses(got);
	free(got);
}

static void test_add_block(void **state)
{
	(void)state;
	/* after what vpn holds */
	assert_add("vpn {\n  wireguard \"wg0\" {\n  }\n}\n# end\n",
		   "vpn {\n  wireguard \"wg0\" {\n  }\n"
		   "  wireguard \"wg1\" {\n    interface = \"wg1\"\n  }\n}\n"
		   "# end\n");
	/* vpn made at the end of the file, after a blank line */
	assert_add("# nothing\nzone \"lan\" {\n}\n",
		   "# nothing\nzone \"lan\" {\n}\n\n"
		   "vpn {\n  wireguard \"wg1\" {\n    interface = \"wg1\"\n  }\n"
		   "}\n");
	assert_add("x = 1", "x = 1\n\nvpn {\n  wireguard \"wg1\" {\n"
		   "    interface = \"wg1\"\n  }\n}\n");
	assert_add("", "vpn {\n  wireguard \"wg1\" {\n    interface = \"wg1\"\n"
		   "  }\n}\n");
	assert_add("x = 1\n\n", "x = 1\n\nvpn {\n  wireguard \"wg1\" {\n"
		   "    interface = \"wg1\"\n  }\n}\n");
	/* in an empty vpn on one line */
	assert_add("vpn {}\n", "vpn {\n  wireguard \"wg1\" {\n"
		   "    interface = \"wg1\"\n  }\n}\n");
	/* the missing steps made inside the deepest one found */
	{
		char *got = add("vpn {\n}\n", 2);

		assert_string_equal(got, "vpn {\n  wireguard \"wg0\" {\n"
				    "    wireguard \"wg1\" {\n"
				    "      interface = \"wg1\"\n    }\n  }\n}\n");
		free(got);
	}
}

/* --- strings --------------------------------------------------------------- */

/* s written with cfg_lit_str reads back as exactly s. */
static void assert_round_trip(const char *s, size_t len)
{
	struct buf lit = BUF_INIT, out = BUF_INIT;
	const struct hcl_attr *a;
	struct hcl_file *f;
	char err[256] = "";

	assert_true(cfg_lit_str(&lit, s, len));
	assert_int_equal(cfg_edit_set(&out, tunnel, strlen(tunnel), to_wg0, 2,
				      "interface", lit.p, err, sizeof(err)), 0);
	f = cfg_text_parse(out.p, out.len, err, sizeof(err));
	if (!f)
		fail_msg("%s: %s", lit.p, err);
	a = hcl_body_attr(&f->body.blocks[0]->body.blocks[0]->body,
			  "interface");
	assert_non_null(a);
	assert_int_equal(a->val->type, HCL_STRING);
	assert_int_equal(a->val->len, len);
	assert_memory_equal(a->val->s, s, len);
	/* on one line: the rest of the file is as it was */
	assert_non_null(strstr(out.p, "listen_port = 51820\n"));
	cfg_text_free(f);
	buf_free(&lit);
	buf_free(&out);
}

static void test_hostile_strings(void **state)
{
	static const char *const v[] = {
		"", "plain", "a\"b", "\\", "a\\\"", "\"", "${HOME}", "%{if x}",
		"$${", "%%{", "$", "%", "$$", "${", "x}${y}", "line\nbreak",
		"\r\n\t", "\x01\x1f\x7f", "}\n}\nvpn {", "# not a comment",
		"/* no */", "<<EOT", "caf\xc3\xa9", "\xe2\x80\xa8",
	};
	struct buf b = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_round_trip(v[i], strlen(v[i]));
	assert_round_trip("a\0b", 3);
	/* not UTF-8: nothing written */
	assert_false(cfg_lit_str(&b, "\xff", 1));
	assert_false(cfg_lit_str(&b, "a\xc3", 2));
	assert_int_equal(b.len, 0);
	{
		const char *bad[] = { "ok", "\xc0\x80" };
		const char *good[] = { "10.0.0.1/24", "a\"b" };

		assert_false(cfg_lit_strs(&b, bad, 2));
		assert_int_equal(b.len, 0);
		assert_true(cfg_lit_strs(&b, good, 2));
		assert_string_equal(b.p, "[\"10.0.0.1/24\", \"a\\\"b\"]");
		buf_reset(&b);
		assert_true(cfg_lit_strs(&b, good, 0));
		assert_string_equal(b.p, "[]");
	}
	cfg_lit_int(&b, -12);
	assert_string_equal(b.p, "[]-12");
	buf_free(&b);
}

/* A label with quotes and ${ is matched by its value and written escaped
 * when made. */
static void test_hostile_labels(void **state)
{
	static const char *const lab[] = { "we\"ird${x}" };
	const struct cfg_step p[] = { { "vpn", NULL, 0 },
				      { "wireguard", lab, 1 } };
	struct buf out = BUF_INIT, again = BUF_INIT;
	char err[256] = "";

	(void)state;
	assert_int_equal(cfg_edit_add(&out, "", 0, p, 2, "mtu = 1\n", err,
				      sizeof(err)), 0);
	assert_string_equal(out.p, "vpn {\n  wireguard \"we\\\"ird$${x}\" {\n"
			    "    mtu = 1\n  }\n}\n");
	assert_parses(out.p);
	assert_int_equal(cfg_edit_set(&again, out.p, out.len, p, 2, "mtu", "2",
				      err, sizeof(err)), 0);
	assert_non_null(strstr(again.p, "mtu = 2\n"));
	buf_free(&out);
	buf_free(&again);
}

/* --- failures ------------------------------------------------------------- */

static void test_errors(void **state)
{
	static const char *const nope[] = { "nope" };
	const struct cfg_step p[] = { { "vpn", NULL, 0 },
				      { "wireguard", nope, 1 } };
	struct buf out = BUF_INIT;
	char err[256];

	(void)state;
	assert_int_equal(cfg_edit_set(&out, "vpn {\n", 6, to_wg0, 2, "a", "1",
				      err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2:1: "));
	assert_int_equal(cfg_edit_set(&out, tunnel, strlen(tunnel), p, 2, "a",
				      "1", err, sizeof(err)), -1);
	assert_string_equal(err, "no block vpn.wireguard \"nope\"");
	assert_int_equal(cfg_edit_set(&out, "x = 1\n", 6, to_wg0, 2, "a", "1",
				      err, sizeof(err)), -1);
	assert_string_equal(err, "no block vpn.wireguard \"wg0\"");
	/* two blocks of the same path: neither is chosen */
	assert_int_equal(cfg_edit_set(&out, "vpn {\n}\nvpn {\n}\n", 16, to_wg0,
				      2, "a", "1", err, sizeof(err)), -1);
	assert_string_equal(err, "more than one block vpn");
	assert_int_equal(cfg_edit_add(&out, "vpn {\n}\nvpn {\n}\n", 16, to_wg0,
				      1, new_wg, err, sizeof(err)), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_keeps_every_other_byte),
		cmocka_unit_test(test_insert_in_a_block),
		cmocka_unit_test(test_one_line_blocks),
		cmocka_unit_test(test_crlf_and_top_level),
		cmocka_unit_test(test_add_block),
		cmocka_unit_test(test_hostile_strings),
		cmocka_unit_test(test_hostile_labels),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
