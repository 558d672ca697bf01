/* HCL lexer and parser: every error message with its position, and the
 * values the parser produces for the constructs moat supports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hcl/hcl.h"

static const char *fake_env(void *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "TOKEN"))
		return "s3cret";
	if (!strcmp(name, "SPACED"))
		return "  x  ";
	if (!strcmp(name, "LATIN1"))
		return "caf\xe9";
	return NULL;
}

static const struct hcl_env env = { fake_env, NULL };

static struct hcl_file *parse(const char *src, struct diag_list *dl)
{
	return hcl_parse("t.hcl", src, strlen(src), &env, dl);
}

struct err_case {
	const char *src;
	int line, col;
	const char *msg;	/* a substring of the message */
};

static const struct err_case err_cases[] = {
	/* lexer */
	{ "a = 1 \x01\n", 1, 7, "unexpected control character U+0001" },
	{ "a = 1\rb = 2\n", 1, 6, "unexpected control character U+000D" },
	{ "a = 1 @\n", 1, 7, "unexpected character '@'" },
	{ "a = 1 \xff\n", 1, 7, "invalid UTF-8 byte" },
	{ "a = 1 /* x\n", 1, 7, "unterminated /* comment" },
	/* strings */
	{ "a = \"\\q\"\n", 1, 6, "invalid escape sequence \\q" },
	{ "a = \"\\u12\"\n", 1, 6, "\\u must be followed by 4 hexadecimal" },
	{ "a = \"\\U0001F6\"\n", 1, 6, "\\U must be followed by 8 hexadecimal" },
	{ "a = \"\\uD800\"\n", 1, 6, "U+D800 is not a Unicode character" },
	{ "a = \"\\U00110000\"\n", 1, 6, "U+110000 is not a Unicode character" },
	{ "a = \"x\\", 1, 7, "backslash at the end" },
	{ "a = \"x\n", 1, 5, "quoted strings cannot span lines" },
	{ "a = \"x", 1, 5, "no closing quote before the end of the file" },
	{ "a = \"\xc3\x28\"\n", 1, 6, "invalid UTF-8 in a string" },
	{ "a = \"\xed\xa0\x80\"\n", 1, 6, "invalid UTF-8 in a string" },
	{ "a = \"${a.b}\"\n", 1, 6, "only ${NAME}" },
	{ "a = \"${1}\"\n", 1, 6, "only ${NAME}" },
	{ "a = \"${upper(x)}\"\n", 1, 6, "only ${NAME}" },
	{ "a = \"${X\"\n", 1, 6, "only ${NAME}" },
	{ "a = \"%{if x}y%{endif}\"\n", 1, 6, "template directives" },
	{ "b \"${X}\" {}\n", 1, 6, "a block label cannot contain ${...}" },
	{ "a = <<EOT x\nEOT\n", 1, 10, "must be followed directly by a newline" },
	{ "a = <<EOT\nx\n", 1, 5, "unterminated heredoc" },
	{ "a = <<EOT\nx\nEOT", 1, 5, "unterminated heredoc" },
	/* values */
	{ "a = 1 + 2\n", 1, 7, "operator '+' is not supported" },
	{ "a = 1 - 2\n", 1, 7, "operator '-' is not supported" },
	{ "a = x == y\n", 1, 5, "x is a variable reference" },
	{ "a = true == false\n", 1, 10, "operator '==' is not supported" },
	{ "a = true ? 1 : 2\n", 1, 10, "conditional expressions" },
	{ "a = [1][0]\n", 1, 8, "indexing with [...]" },
	{ "a = {b=1}.b\n", 1, 10, "attribute access and splats" },
	{ "a = [1, 2].*\n", 1, 11, "attribute access and splats" },
	{ "a = !true\n", 1, 5, "operator '!' is not supported" },
	{ "a = -\"5\"\n", 1, 5, "operator '-' is not supported by moat except" },
	{ "a = --5\n", 1, 5, "operator '-' is not supported by moat except" },
	{ "a = upper(\"x\")\n", 1, 5, "function calls are not supported by moat: upper(...)" },
	{ "a = accept\n", 1, 5, "accept is a variable reference" },
	{ "a = (1)\n", 1, 5, "parenthesized expressions" },
	{ "a = [for x in y: x]\n", 1, 6, "for expressions" },
	{ "a = {for k, v in y: k => v}\n", 1, 6, "for expressions" },
	{ "a = {(k) = 1}\n", 1, 6, "computed object keys" },
	{ "a = {[1] = 1}\n", 1, 6, "expected an object key, found '['" },
	{ "a = {k 1}\n", 1, 8, "expected '=' or ':' after an object key" },
	{ "a = {k = 1 j = 2}\n", 1, 12, "expected ',', a newline or '}' after an object item" },
	{ "a = [1 2]\n", 1, 8, "expected ',' or ']' after a list item" },
	{ "a = [1\n2]\n", 2, 1, "expected ',' or ']' after a list item" },
	{ "a = [1,,2]\n", 1, 8, "expected a value, found ','" },
	{ "a = ]\n", 1, 5, "expected a value, found ']'" },
	{ "a =\n", 1, 4, "expected a value after '='" },
	{ "a = 1e100000\n", 1, 5, "number out of range" },
	/* bodies */
	{ "a = 1 b = 2\n", 1, 7, "expected a newline after an attribute, found 'b'" },
	{ "b {} c {}\n", 1, 6, "expected a newline after a block, found 'c'" },
	{ "b\n{\n}\n", 1, 2, "expected '=' after \"b\" (an attribute) or a label or '{' (a block), found newline" },
	{ "b 5 {}\n", 1, 3, "expected '=' after \"b\"" },
	{ "b \"x\" 5 {}\n", 1, 7, "expected a label or '{' to open the block, found '5'" },
	{ "b { x = 1, y = 2 }\n", 1, 10, "a block on one line holds one attribute" },
	{ "b { x = 1\n}\n", 1, 10, "a block on one line holds one attribute" },
	{ "b { x = 1 y = 2 }\n", 1, 11, "expected '}' to close the one-line block" },
	{ "b { c {} }\n", 1, 5, "a nested block must start on its own line" },
	{ "b { 5 }\n", 1, 5, "expected an attribute, '}' or a newline after '{'" },
	{ "b { c }\n", 1, 7, "expected '=' after the attribute name, found '}'" },
	{ "}\n", 1, 1, "unexpected '}': no block is open here" },
	{ "b {\n  a = 1\n", 3, 1, "unexpected end of file: a block is not closed" },
	{ "= 1\n", 1, 1, "expected an attribute name or a block, found '='" },
	{ "\"a\" = 1\n", 1, 1, "expected an attribute name or a block, found string" },
	{ "a = 1\nb = 2\na = 3\n", 3, 1, "attribute \"a\" is already set at line 1, column 1" },
	{ "b {\n  x = 1\n  x = 2\n}\n", 3, 3, "attribute \"x\" is already set at line 2, column 3" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		struct diag_list dl = { 0 };
		struct hcl_file *f = parse(c->src, &dl);

		if (f || dl.n != 1 || !strstr(dl.v[0].msg, c->msg) ||
		    dl.v[0].line != c->line || dl.v[0].col != c->col) {
			print_error("case %zu: %s\n  want %d:%d: %s\n  got  %s\n",
				    i, c->src, c->line, c->col, c->msg,
				    dl.n ? dl.v[0].msg : "(no error)");
			if (dl.n)
				print_error("  at %d:%d\n", dl.v[0].line,
					    dl.v[0].col);
			fail();
		}
		hcl_file_free(f);
		diag_list_free(&dl);
	}
}

static const struct hcl_value *attr(const struct hcl_file *f, const char *n)
{
	const struct hcl_attr *a = hcl_body_attr(&f->body, n);

	assert_non_null(a);
	return a->val;
}

static void assert_str(const struct hcl_value *v, const char *want)
{
	assert_int_equal(v->type, HCL_STRING);
	assert_int_equal(v->len, strlen(want));
	assert_memory_equal(v->s, want, v->len);
}

static void assert_num(const struct hcl_value *v, const char *want)
{
	assert_int_equal(v->type, HCL_NUMBER);
	assert_string_equal(v->s, want);
}

static void test_numbers(void **state)
{
	struct diag_list dl = { 0 };
	struct hcl_file *f = parse(
		"a = [1e3, 1.5, 0.1, 1E+2, 1e-3, -0, -5, 007, 1.0, 2.50e1,"
		" 12345678901234567890123, 6.02e23, 1.5e-7, - 7, 0.0]\n", &dl);
	static const char *const want[] = {
		"1000", "1.5", "0.1", "100", "0.001", "-0", "-5", "7", "1",
		"25", "12345678901234567890123", "602000000000000000000000",
		"0.00000015", "-7", "0",
	};
	const struct hcl_value *a;

	(void)state;
	assert_non_null(f);
	a = attr(f, "a");
	assert_int_equal(a->type, HCL_TUPLE);
	assert_int_equal(a->n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < a->n; i++)
		assert_num(a->items[i], want[i]);
	hcl_file_free(f);
	diag_list_free(&dl);
}

static void test_strings(void **state)
{
	struct diag_list dl = { 0 };
	struct hcl_file *f = parse(
		"a = \"\\u00e9\\U0001F600 \\n\\t\\r\\\"\\\\ $${x} %%{y} $ %\"\n"
		"b = \"${TOKEN}\"\n"
		"c = \"k=${ TOKEN }!\"\n"
		"d = \"e\\u0301\"\n"
		"e = \"[${SPACED~}] [${~SPACED}]\"\n"
		"f = \"\\u0000\"\n", &dl);

	(void)state;
	assert_non_null(f);
	assert_str(attr(f, "a"), "\xc3\xa9\xf0\x9f\x98\x80 \n\t\r\"\\ ${x} %{y} $ %");
	assert_str(attr(f, "b"), "s3cret");
	assert_str(attr(f, "c"), "k=s3cret!");
	assert_str(attr(f, "d"), "\xc3\xa9");	/* NFC */
	assert_str(attr(f, "e"), "[  x  ] [  x  ]");
	assert_int_equal(attr(f, "f")->len, 1);
	hcl_file_free(f);
	diag_list_free(&dl);
}

static void test_env_errors(void **state)
{
	struct diag_list dl = { 0 };
	struct hcl_file *f = parse("a = \"${NOPE}\"\nb = [1, \"x${LATIN1}\"]\n"
				   "c { d = \"  ${NOPE}\" }\n", &dl);

	(void)state;
	assert_non_null(f);
	assert_int_equal(dl.n, 0);
	assert_int_equal(hcl_report_errors(f, &dl), 3);
	assert_string_equal(dl.v[0].msg,
			    "environment variable NOPE is not set (${NOPE})");
	assert_int_equal(dl.v[0].line, 1);
	assert_int_equal(dl.v[0].col, 8);
	assert_string_equal(dl.v[1].msg,
			    "environment variable LATIN1 is not valid UTF-8");
	assert_int_equal(dl.v[2].line, 3);
	assert_int_equal(dl.v[2].col, 14);
	hcl_file_free(f);
	diag_list_free(&dl);
}

static void test_heredocs(void **state)
{
	struct diag_list dl = { 0 };
	struct hcl_file *f = parse(
		"a = <<EOT\nhello\n  world\nEOT\n"
		"b = <<-EOT\n    x\n      y\n\n    EOT\n"
		"c = <<-EOT\n  ${TOKEN} x\n    y\n   \n  EOT\n"
		"d = <<EOT\r\nx\r\nEOT\r\n"
		"e = <<EOT\n\\n $${x}\nEOT\n", &dl);

	(void)state;
	assert_non_null(f);
	assert_str(attr(f, "a"), "hello\n  world\n");
	assert_str(attr(f, "b"), "x\n  y\n\n");
	assert_str(attr(f, "c"), "s3cret x\n  y\n   \n");
	assert_str(attr(f, "d"), "x\r\n");
	assert_str(attr(f, "e"), "\\n ${x}\n");
	hcl_file_free(f);
	diag_list_free(&dl);
}

static void test_structure(void **state)
{
	struct diag_list dl = { 0 };
	struct hcl_file *f = parse(
		"\xef\xbb\xbf# comment\n"
		"top = { x = 1, \"y z\": [true, null], x = 2 }\n"
		"zone \"lan\" {\n"
		"  match { interface = \"eth1\" }\n"
		"  services {\n  }\n"
		"}\n"
		"b \"x\" y \"\" {}", &dl);
	const struct hcl_value *top;
	const struct hcl_block *zone, *b;

	(void)state;
	assert_non_null(f);
	top = attr(f, "top");
	assert_int_equal(top->type, HCL_OBJECT);
	assert_int_equal(top->n, 2);	/* x given twice: the last wins */
	assert_string_equal(top->fields[0].key, "y z");
	assert_string_equal(top->fields[1].key, "x");
	assert_num(top->fields[1].val, "2");
	assert_int_equal(f->body.nblocks, 2);
	zone = f->body.blocks[0];
	assert_string_equal(zone->type, "zone");
	assert_int_equal(zone->pos.line, 3);
	assert_int_equal(zone->nlabels, 1);
	assert_string_equal(zone->labels[0].s, "lan");
	assert_int_equal(zone->labels[0].pos.col, 6);
	assert_int_equal(zone->body.nblocks, 2);
	assert_int_equal(zone->body.blocks[0]->body.nattrs, 1);
	assert_int_equal(zone->body.blocks[0]->body.attrs[0].pos.line, 4);
	assert_int_equal(zone->body.blocks[0]->body.attrs[0].pos.col, 11);
	b = f->body.blocks[1];
	assert_int_equal(b->nlabels, 3);
	assert_string_equal(b->labels[1].s, "y");
	assert_int_equal(b->labels[2].len, 0);
	hcl_file_free(f);
	diag_list_free(&dl);
}

static void test_columns_count_characters(void **state)
{
	struct diag_list dl = { 0 };
	/* "é" is two bytes but one column */
	struct hcl_file *f = parse("a = \"\xc3\xa9\" +\n", &dl);

	(void)state;
	assert_null(f);
	assert_int_equal(dl.v[0].col, 9);
	diag_list_free(&dl);
}

static void test_depth_limit(void **state)
{
	enum { N = 10000 };
	static char blocks[N * 6 + 16], values[N + 16];
	struct diag_list dl = { 0 };
	struct hcl_file *f;
	char *p = blocks;

	(void)state;
	for (int i = 0; i < N; i++)
		p += sprintf(p, "b {\n");
	for (int i = 0; i < N; i++)
		p += sprintf(p, "}\n");
	f = parse(blocks, &dl);
	assert_null(f);
	assert_non_null(strstr(dl.v[0].msg, "nested too deeply"));
	diag_list_free(&dl);

	memcpy(values, "a = ", 4);
	memset(values + 4, '[', N);
	f = parse(values, &dl);
	assert_null(f);
	assert_non_null(strstr(dl.v[0].msg, "nested too deeply"));
	diag_list_free(&dl);
}

static void test_dump(void **state)
{
	struct diag_list dl = { 0 };
	struct hcl_file *f = parse("a = [1, \"x\\n\"]\nb \"l\" { c = {} }\n"
				   "d = [\"${NOPE}\"]\n", &dl);
	char *json;

	(void)state;
	assert_non_null(f);
	json = hcl_dump_json(f);
	assert_non_null(strstr(json, "\"a\": [\n      1,\n      \"x\\n\"\n    ]"));
	assert_non_null(strstr(json, "\"type\": \"b\", \"labels\": [\"l\"]"));
	assert_non_null(strstr(json, "\"c\": {}"));
	assert_non_null(strstr(json, "\"d\": {\"error\": \"environment variable NOPE"));
	free(json);
	hcl_file_free(f);
	diag_list_free(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_env_errors),
		cmocka_unit_test(test_heredocs),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_columns_count_characters),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_dump),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
