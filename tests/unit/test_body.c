/* The REST API's strict body decoder (api/body.c): a schema with every
 * type accepted and read back; each rule refused with its status, field
 * and message; messages that stay short, escaped and valid UTF-8; the
 * error answer's shape. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/body.h"
#include "base/util.h"

#define LIMIT 65536
#define D40 "0123456789012345678901234567890123456789"

static const struct body_field peer_schema[] = {
	{ .name = "name", .type = BODY_STRING, .required = true,
	  .max_len = 16 },
	{ .name = "port", .type = BODY_INT, .required = true, .min = 1,
	  .max = 65535 },
	{ .name = "enabled", .type = BODY_BOOL },
	{ .name = "allowed_ips", .type = BODY_STRING_ARRAY, .max_len = 3 },
	{ .name = "extra", .type = BODY_OBJECT },
	{ .name = "count", .type = BODY_INT },	/* any value */
	{ .name = "note", .type = BODY_STRING },	/* any length */
	{ .name = NULL },
};

/* --- helpers ------------------------------------------------------------ */

/* True when s is valid UTF-8 without control characters. */
static bool clean_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n, i;

		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (*p < 0x80) {
			p++;
			continue;
		}
		n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
		if (!n)
			return false;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

static json_t *parse_n(const char *data, size_t len, struct body_error *e)
{
	json_t *o = body_parse(data, len, LIMIT, peer_schema, e);

	if (!o) {
		assert_true(e->status == 400 || e->status == 413);
		assert_true(clean_text(e->message));
		assert_true(clean_text(e->field));
		assert_true(e->message[0]);
	}
	return o;
}

static json_t *ok(const char *body)
{
	struct body_error e;
	json_t *o = parse_n(body, strlen(body), &e);

	if (!o)
		fail_msg("refused %s: %s", body, e.message);
	return o;
}

static void expect_n(const char *body, size_t len, int status,
		     const char *field, const char *message)
{
	struct body_error e;
	json_t *o = parse_n(body, len, &e);

	assert_null(o);
	assert_int_equal(e.status, status);
	assert_string_equal(e.message, message);
	assert_string_equal(e.field, field);
}

static void expect(const char *body, const char *field, const char *message)
{
	expect_n(body, strlen(body), 400, field, message);
}

/* --- accepted ----------------------------------------------------------- */

static void test_every_type(void **state)
{
	json_t *o = ok("{\"name\": \"wg-peer\", \"port\": 51820, "
		       "\"enabled\": false, \"allowed_ips\": [\"10.0.0.2/32\","
		       " \"fd00::2/128\"], \"extra\": {\"a\": [1, {\"b\": "
		       "null}]}, \"count\": -9223372036854775807, "
		       "\"note\": \"caf\\u00e9 \xe2\x82\xac\"}");

	(void)state;
	assert_string_equal(body_str(o, "name"), "wg-peer");
	assert_int_equal(body_int(o, "port", 0), 51820);
	assert_false(body_bool(o, "enabled", true));
	assert_true(body_int(o, "count", 0) == -9223372036854775807LL);
	assert_string_equal(body_str(o, "note"), "caf\xc3\xa9 \xe2\x82\xac");
	assert_int_equal(json_array_size(json_object_get(o, "allowed_ips")),
			 2);
	assert_true(json_is_object(json_object_get(o, "extra")));
	json_decref(o);
}

static void test_optional_and_helpers(void **state)
{
	json_t *o = ok(" \r\n\t{\"port\": 1, \"name\": \"\"}\n");

	(void)state;
	assert_string_equal(body_str(o, "name"), "");
	assert_null(body_str(o, "note"));
	assert_null(body_str(o, "port"));	/* not a string */
	assert_int_equal(body_int(o, "count", 7), 7);
	assert_int_equal(body_int(o, "name", 7), 7);
	assert_true(body_bool(o, "enabled", true));
	assert_false(body_bool(o, "enabled", false));
	json_decref(o);

	o = ok("{\"name\": \"x\", \"port\": 65535, \"enabled\": true, "
	       "\"allowed_ips\": [], \"extra\": {}}");
	assert_true(body_bool(o, "enabled", false));
	assert_int_equal(body_int(o, "port", 0), 65535);
	json_decref(o);

	/* an empty schema takes {} and nothing else */
	{
		static const struct body_field none[] = { { .name = NULL } };
		struct body_error e;

		o = body_parse("{}", 2, 10, none, &e);
		assert_non_null(o);
		json_decref(o);
		assert_null(body_parse("{\"a\": 1}", 8, 10, none, &e));
		assert_string_equal(e.message, "unknown field \"a\"");
	}
}

/* --- the bytes ---------------------------------------------------------- */

static void test_limit(void **state)
{
	const char *body = "{\"name\": \"a\", \"port\": 1}";
	size_t len = strlen(body);
	struct body_error e;
	json_t *o;

	(void)state;
	o = body_parse(body, len, len, peer_schema, &e);
	assert_non_null(o);
	json_decref(o);
	assert_null(body_parse(body, len, len - 1, peer_schema, &e));
	assert_int_equal(e.status, 413);
	assert_string_equal(e.field, "");
	assert_string_equal(e.message, "the body is over 23 bytes");
	/* the limit comes first, even for garbage */
	assert_null(body_parse("\xff\xff\xff", 3, 2, peer_schema, &e));
	assert_int_equal(e.status, 413);
}

static void test_empty(void **state)
{
	(void)state;
	expect("", "", "a JSON object is expected");
	expect(" \r\n\t ", "", "a JSON object is expected");
	expect_n(NULL, 0, 400, "", "a JSON object is expected");
}

static void test_utf8(void **state)
{
	(void)state;
	expect("{\"name\": \"\xc3\x28\"}", "",
	       "the body is not valid UTF-8 (byte 10)");
	expect("{\"name\": \"\x80\"}", "",
	       "the body is not valid UTF-8 (byte 10)");
	/* overlong '/', a surrogate, past U+10FFFF, 0xf5 */
	expect("{\"a\": \"\xc0\xaf\"}", "",
	       "the body is not valid UTF-8 (byte 7)");
	expect("{\"a\": \"\xe0\x80\xaf\"}", "",
	       "the body is not valid UTF-8 (byte 7)");
	expect("{\"a\": \"\xed\xa0\x80\"}", "",
	       "the body is not valid UTF-8 (byte 7)");
	expect("{\"a\": \"\xf4\x90\x80\x80\"}", "",
	       "the body is not valid UTF-8 (byte 7)");
	expect("{\"a\": \"\xf5\x80\x80\x80\"}", "",
	       "the body is not valid UTF-8 (byte 7)");
	/* cut short at the end */
	expect("{\"a\": \"\xe2\x82", "",
	       "the body is not valid UTF-8 (byte 7)");
	/* outside strings too */
	expect("\xef\xbb\xbf{}", "", "invalid JSON at line 1, column 1: "
	       "invalid token near '\xef\xbb\xbf'");
	expect_n("{\"a\"\0: 1}", 9, 400, "",
		 "the body has a NUL byte (byte 4)");
	expect_n("{\"name\": \"\\\0\"}", 14, 400, "",
		 "the body has a NUL byte (byte 11)");
}

static void test_not_json(void **state)
{
	(void)state;
	expect("{\"name\": \"a\",}", "", "invalid JSON at line 1, column 14:"
	       " string or '}' expected near '}'");
	expect("{\n  \"name\": 'a'\n}", "", "invalid JSON at line 2, "
	       "column 11: invalid token near '''");
	expect("{\"name\": \"a\"", "", "invalid JSON at line 1, column 12: "
	       "'}' expected near end of file");
	expect("{\"name\": \"a\", \"port\": 1} {}", "", "invalid JSON at "
	       "line 1, column 26: end of file expected near '{'");
	expect("{\"port\": 01}", "", "invalid JSON at line 1, column 10: "
	       "invalid token near '0'");
	expect("{\"port\": 99999999999999999999}", "", "invalid JSON at "
	       "line 1, column 29: too big integer near "
	       "'99999999999999999999'");
	expect("{\"name\": \"a\tb\"}", "", "invalid JSON at line 1, column "
	       "11: control character 0x9 near '\"a'");
	expect("{\"name\": \"\\u0000\"}", "", "invalid JSON at line 1, "
	       "column 17: a string has a NUL character (\\u0000)");
	expect("{\"name\": \"\\ud800\"}", "", "invalid JSON at line 1, "
	       "column 17: invalid Unicode '\\uD800' near '\"\\ud800\"'");
	expect("{\"name\": NaN}", "", "invalid JSON at line 1, column 12: "
	       "invalid token near 'NaN'");
}

static void test_duplicate(void **state)
{
	(void)state;
	expect("{\"name\": \"a\", \"port\": 1, \"name\": \"b\"}", "",
	       "duplicate field \"name\" (line 1, column 31)");
	/* in a free-form object too */
	expect("{\"extra\": {\"k\": 1, \"k\": 2}}", "",
	       "duplicate field \"k\" (line 1, column 22)");
}

static void test_not_object(void **state)
{
	(void)state;
	expect("[{\"name\": \"a\"}]", "",
	       "a JSON object is expected, got an array");
	expect("\"name\"", "", "a JSON object is expected, got a string");
	expect("null", "", "a JSON object is expected, got null");
	expect("1.5", "", "a JSON object is expected, got a number");
	expect("true", "", "a JSON object is expected, got a boolean");
}

/* n levels: {"extra": {"x": [[...]]}} */
static char *nested(int n)
{
	size_t cap = 32 + 2 * (size_t)n;
	char *s = xmalloc(cap), *p = s;
	int i;

	p += sprintf(p, "{\"extra\":{\"x\":");
	for (i = 2; i < n; i++)
		*p++ = '[';
	for (i = 2; i < n; i++)
		*p++ = ']';
	strcpy(p, "}}");
	return s;
}

static void test_depth(void **state)
{
	char *s;
	struct body_error e;
	json_t *o;

	(void)state;
	s = nested(BODY_MAX_DEPTH);
	o = body_parse(s, strlen(s), 1 << 16, peer_schema, &e);
	assert_null(o);	/* name and port are missing, but it is deep */
	assert_string_equal(e.message, "missing field \"name\"");
	free(s);
	s = nested(BODY_MAX_DEPTH + 1);
	expect(s, "", "the body nests deeper than 32 levels (byte 44)");
	free(s);
	/* far deeper than jansson's own limit */
	s = nested(5000);
	expect(s, "", "the body nests deeper than 32 levels (byte 44)");
	free(s);
	/* brackets in strings, after escaped quotes, do not count */
	o = ok("{\"name\": \"a\", \"note\": \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	       "[[[[\\\"[[[[\", \"port\": 1, \"allowed_ips\": [\"\\\\\\\"{{{{{{{{{"
	       "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\"]}");
	json_decref(o);
}

/* --- the schema --------------------------------------------------------- */

static void test_unknown(void **state)
{
	char body[256];

	(void)state;
	expect("{\"nmae\": \"a\", \"port\": 1}", "nmae",
	       "unknown field \"nmae\" (did you mean \"name\"?)");
	expect("{\"name\": \"a\", \"port\": 1, \"enable\": true}", "enable",
	       "unknown field \"enable\" (did you mean \"enabled\"?)");
	expect("{\"name\": \"a\", \"port\": 1, \"peers\": []}", "peers",
	       "unknown field \"peers\"");
	/* quoted, escaped and cut */
	expect("{\"na\\\"\\\\\\u0001\": 1}", "na\"\\\\x01",
	       "unknown field \"na\\\"\\\\\\x01\"");
	/* 80 digits: 64 in the message, what fits in the field */
	snprintf(body, sizeof(body), "{\"%s%s\": 1}", D40, D40);
	expect(body, D40 "01234567890123456789...",
	       "unknown field \"" D40 "012345678901234567890123...\"");
	/* a multi-byte character is not cut in half: 63 digits and a euro */
	snprintf(body, sizeof(body), "{\"%s%s\": 1}", D40,
		 "01234567890123456789012\xe2\x82\xac");
	expect(body, D40 "01234567890123456789...",
	       "unknown field \"" D40 "01234567890123456789012...\"");
}

static void test_missing(void **state)
{
	(void)state;
	expect("{\"port\": 1}", "name", "missing field \"name\"");
	expect("{\"name\": \"a\"}", "port", "missing field \"port\"");
	expect("{}", "name", "missing field \"name\"");
}

static void test_types(void **state)
{
	(void)state;
	expect("{\"name\": 1, \"port\": 1}", "name",
	       "field \"name\": expected a string, got an integer");
	expect("{\"name\": null, \"port\": 1}", "name",
	       "field \"name\": expected a string, got null");
	expect("{\"name\": \"a\", \"port\": \"51820\"}", "port",
	       "field \"port\": expected an integer, got a string");
	expect("{\"name\": \"a\", \"port\": 1.5}", "port",
	       "field \"port\": expected an integer, got a number");
	expect("{\"name\": \"a\", \"port\": 1.0}", "port",
	       "field \"port\": expected an integer, got a number");
	expect("{\"name\": \"a\", \"port\": 1e3}", "port",
	       "field \"port\": expected an integer, got a number");
	expect("{\"name\": \"a\", \"port\": 1, \"enabled\": 1}", "enabled",
	       "field \"enabled\": expected a boolean, got an integer");
	expect("{\"name\": \"a\", \"port\": 1, \"enabled\": 0}", "enabled",
	       "field \"enabled\": expected a boolean, got an integer");
	expect("{\"name\": \"a\", \"port\": 1, \"enabled\": \"true\"}",
	       "enabled", "field \"enabled\": expected a boolean, got a "
	       "string");
	expect("{\"name\": \"a\", \"port\": 1, \"allowed_ips\": \"10.0.0.1\"}",
	       "allowed_ips", "field \"allowed_ips\": expected an array of "
	       "strings, got a string");
	expect("{\"name\": \"a\", \"port\": 1, \"extra\": []}", "extra",
	       "field \"extra\": expected an object, got an array");
	/* null: absent for an optional field (removed), refused for a
	 * required one (above) */
	{
		struct body_error e;
		const char *b = "{\"name\": \"a\", \"port\": 1, \"extra\": null, "
				"\"note\": null}";
		json_t *o = body_parse(b, strlen(b), 1024, peer_schema, &e);

		assert_non_null(o);
		assert_null(json_object_get(o, "extra"));
		assert_null(json_object_get(o, "note"));
		assert_int_equal(json_object_size(o), 2);
		json_decref(o);
	}
}

static void test_range(void **state)
{
	json_t *o;

	(void)state;
	expect("{\"name\": \"a\", \"port\": 0}", "port",
	       "field \"port\": 0 is out of range [1, 65535]");
	expect("{\"name\": \"a\", \"port\": -1}", "port",
	       "field \"port\": -1 is out of range [1, 65535]");
	expect("{\"name\": \"a\", \"port\": 65536}", "port",
	       "field \"port\": 65536 is out of range [1, 65535]");
	o = ok("{\"name\": \"a\", \"port\": 1, \"count\": "
	       "-9223372036854775808}");
	assert_true(body_int(o, "count", 0) == INT64_MIN);
	json_decref(o);
	o = ok("{\"name\": \"a\", \"port\": 1, \"count\": 0}");
	json_decref(o);
}

static void test_strings(void **state)
{
	json_t *o;

	(void)state;
	o = ok("{\"name\": \"0123456789abcdef\", \"port\": 1}");
	json_decref(o);
	expect("{\"name\": \"0123456789abcdefg\", \"port\": 1}", "name",
	       "field \"name\": longer than 16 bytes");
	/* bytes, not characters: 6 euros are 18 bytes */
	expect("{\"name\": \"\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
	       "\xe2\x82\xac\xe2\x82\xac\", \"port\": 1}", "name",
	       "field \"name\": longer than 16 bytes");
	expect("{\"name\": \"\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\\u20ac\", "
	       "\"port\": 1}", "name", "field \"name\": longer than 16 bytes");
	expect("{\"name\": \"a\\nb\", \"port\": 1}", "name",
	       "field \"name\": control character 0x0a at byte 1");
	expect("{\"name\": \"a\", \"port\": 1, \"note\": \"\\u001f\"}", "note",
	       "field \"note\": control character 0x1f at byte 0");
	/* DEL and beyond are text */
	o = ok("{\"name\": \"\\u007f\\u0080\", \"port\": 1}");
	json_decref(o);
}

static void test_arrays(void **state)
{
	json_t *o;

	(void)state;
	o = ok("{\"name\": \"a\", \"port\": 1, \"allowed_ips\": [\"a\", \"b\", "
	       "\"c\"]}");
	json_decref(o);
	expect("{\"name\": \"a\", \"port\": 1, \"allowed_ips\": [\"a\", \"b\", "
	       "\"c\", \"d\"]}", "allowed_ips",
	       "field \"allowed_ips\": more than 3 items");
	expect("{\"name\": \"a\", \"port\": 1, \"allowed_ips\": [\"a\", 2]}",
	       "allowed_ips", "field \"allowed_ips\": item 1: expected a "
	       "string, got an integer");
	expect("{\"name\": \"a\", \"port\": 1, \"allowed_ips\": [[\"a\"]]}",
	       "allowed_ips", "field \"allowed_ips\": item 0: expected a "
	       "string, got an array");
	expect("{\"name\": \"a\", \"port\": 1, \"allowed_ips\": [null]}",
	       "allowed_ips", "field \"allowed_ips\": item 0: expected a "
	       "string, got null");
	expect("{\"name\": \"a\", \"port\": 1, \"allowed_ips\": [\"a\", "
	       "\"b\\r\"]}", "allowed_ips", "field \"allowed_ips\": item 1: "
	       "control character 0x0d at byte 1");
}

/* --- messages ----------------------------------------------------------- */

/* Whatever the client sends, at most 64 of its bytes reach a message. */
static void test_echo_bounded(void **state)
{
	static const char *const around[][2] = {
		{ "{\"", "\": 1}" },
		{ "{\"name\": \"a\", \"port\": 1, \"", "\": 1}" },
		{ "{\"name\": ", "}" },
		{ "{\"name\": \"", "" },
		{ "{\"name\": \"a\"}", "" },
	};
	char big[600], body[800];
	size_t i, j;

	(void)state;
	for (i = 0; i < 3; i++) {
		for (j = 0; j + 1 < sizeof(big); j++)
			big[j] = i == 0 ? 'q' : i == 1 ? '\x01' : '"';
		big[j] = '\0';
		for (j = 0; j < ARRAY_SIZE(around); j++) {
			struct body_error e;
			const char *q;
			size_t run = 0, max = 0;

			snprintf(body, sizeof(body), "%s%s%s", around[j][0],
				 big, around[j][1]);
			assert_null(parse_n(body, strlen(body), &e));
			/* the longest run of the client's character */
			for (q = e.message; *q; q++) {
				run = *q == big[0] ? run + 1 : 0;
				if (run > max)
					max = run;
			}
			assert_true(max <= BODY_MAX_ECHO);
			assert_true(strlen(e.message) < sizeof(e.message) - 1);
		}
	}
}

static void test_error_json(void **state)
{
	struct body_error e;
	json_error_t je;
	json_t *j;
	char *s;

	(void)state;
	assert_null(parse_n("{\"name\": \"a\", \"port\": \"x\"}", 26, &e));
	s = body_error_json(&e);
	j = json_loads(s, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "code")), 400);
	assert_string_equal(json_string_value(json_object_get(j, "message")),
			    "field \"port\": expected an integer, got a string");
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
			    "port");
	json_decref(j);
	free(s);

	body_parse("{}", 2, 1, peer_schema, &e);
	s = body_error_json(&e);
	assert_string_equal(s, "{\"code\":413,\"message\":\"the body is over "
			    "1 bytes\",\"detail\":\"\"}");
	free(s);

	/* one not made by body_parse, not UTF-8, still answers */
	memset(&e, 0, sizeof(e));
	e.status = 400;
	strcpy(e.message, "\xff");
	s = body_error_json(&e);
	assert_string_equal(s, "{\"code\":400,\"message\":\"invalid request\","
			    "\"detail\":\"\"}");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_type),
		cmocka_unit_test(test_optional_and_helpers),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_echo_bounded),
		cmocka_unit_test(test_error_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
