/* ctl's RPC codec (ctl/rpc.c): frames written and read back whole, byte
 * by byte and thousands at a time; streams cut short, too long, not JSON
 * or not objects; requests taken apart and refused with a reason; the
 * shapes of answers and events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "ctl/rpc.h"

/* --- helpers ------------------------------------------------------------ */

static json_t *parse(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);

	assert_non_null(j);
	return j;
}

/* Appends a frame of exactly these bytes (not checked to be JSON). */
static void raw_frame(struct buf *b, const void *p, size_t n)
{
	unsigned char len[4] = {
		(unsigned char)(n >> 24), (unsigned char)(n >> 16),
		(unsigned char)(n >> 8), (unsigned char)n,
	};

	buf_add(b, len, sizeof(len));
	buf_add(b, p, n);
}

static void frame_text(struct buf *b, const char *text)
{
	json_t *j = parse(text);

	assert_int_equal(rpc_frame(b, j), 0);
	json_decref(j);
}

/* What a reader says about these bytes fed at once: the result of the
 * first rpc_next, its message freed, its error in err. */
static int read_one(const void *p, size_t n, char *err, size_t errlen)
{
	struct rpc_reader r = { BUF_INIT, 0 };
	json_t *msg;
	int ret;

	err[0] = '\0';
	rpc_reader_feed(&r, p, n);
	ret = rpc_next(&r, &msg, err, errlen);
	if (ret == 1)
		assert_non_null(msg);
	else
		assert_null(msg);
	json_decref(msg);
	rpc_reader_free(&r);
	return ret;
}

static int read_raw(const char *body, size_t n, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	int ret;

	raw_frame(&b, body, n);
	ret = read_one(b.p, b.len, err, errlen);
	buf_free(&b);
	return ret;
}

#define READ_TEXT(s, err) read_raw((s), sizeof(s) - 1, (err), sizeof(err))

/* rpc_request on text: its result, with err filled. */
static int request(const char *text, char *err, size_t errlen)
{
	json_t *msg = parse(text), *id, *params;
	const char *method;
	int ret;

	err[0] = '\0';
	ret = rpc_request(msg, &id, &method, &params, err, errlen);
	json_decref(msg);
	return ret;
}

/* --- frames ------------------------------------------------------------- */

static void test_round_trip(void **state)
{
	static const char *const texts[] = {
		"{}",
		"{\"id\":1,\"method\":\"status\"}",
		"{\"id\":\"a-b\",\"method\":\"apply\",\"params\":{\"config\":"
		"\"zone lan {}\\n\",\"confirm\":30,\"dry\":true}}",
		"{\"event\":\"applied\",\"data\":{\"revision\":7,\"list\":"
		"[1,2.5,null,false,\"\\u00e9\\u2603\\ud83d\\ude00\"]}}",
		"{\"id\":-9007199254740993,"
		"\"s\":\"tab\\there \\\"q\\\" \\\\\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct rpc_reader r = { BUF_INIT, 0 };
		struct buf b = BUF_INIT;
		json_t *in = parse(texts[i]), *out;
		char err[256];

		assert_int_equal(rpc_frame(&b, in), 0);
		rpc_reader_feed(&r, b.p, b.len);
		assert_int_equal(rpc_next(&r, &out, err, sizeof(err)), 1);
		assert_true(json_equal(in, out));
		/* nothing left */
		json_decref(out);
		assert_int_equal(rpc_next(&r, &out, err, sizeof(err)), 0);
		assert_null(out);
		json_decref(in);
		buf_free(&b);
		rpc_reader_free(&r);
	}
}

/* 4-byte big-endian length, then the compact JSON, nothing else. */
static void test_frame_bytes(void **state)
{
	static const unsigned char want[] = {
		0, 0, 0, 26, '{', '"', 'i', 'd', '"', ':', '1', ',', '"',
		'm', 'e', 't', 'h', 'o', 'd', '"', ':', '"', 's', 't', 'a',
		't', 'u', 's', '"', '}',
	};
	struct buf b = BUF_INIT;
	json_t *j;
	char *big, *text;
	size_t n;

	(void)state;
	j = json_pack("{siss}", "id", 1, "method", "status");
	assert_int_equal(rpc_frame(&b, j), 0);
	json_decref(j);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.p, want, sizeof(want));

	/* appended after what is there, with all four length bytes used */
	big = malloc(0x012345);
	memset(big, 'x', 0x012345 - 1);
	big[0x012345 - 1] = '\0';
	j = json_pack("{ss}", "k", big);
	text = json_dumps(j, JSON_COMPACT);
	n = strlen(text);
	assert_int_equal(n, 0x012345 - 1 + 8);	/* {"k":""} */
	assert_int_equal(rpc_frame(&b, j), 0);
	assert_int_equal(b.len, sizeof(want) + 4 + n);
	assert_memory_equal(b.p, want, sizeof(want));
	assert_int_equal((unsigned char)b.p[sizeof(want)], n >> 24);
	assert_int_equal((unsigned char)b.p[sizeof(want) + 1],
			 (n >> 16) & 0xff);
	assert_int_equal((unsigned char)b.p[sizeof(want) + 2], (n >> 8) & 0xff);
	assert_int_equal((unsigned char)b.p[sizeof(want) + 3], n & 0xff);
	assert_memory_equal(b.p + sizeof(want) + 4, text, n);
	free(text);
	json_decref(j);
	free(big);
	buf_free(&b);
}

/* rpc_frame refuses what the reader would refuse, and leaves b alone. */
static void test_frame_too_big(void **state)
{
	struct buf b = BUF_INIT;
	char *big = malloc(RPC_MAX_FRAME);
	json_t *j;

	(void)state;
	buf_adds(&b, "before");
	/* {"k":"..."} is 8 bytes more than the string */
	memset(big, 'x', RPC_MAX_FRAME - 8);
	big[RPC_MAX_FRAME - 8] = '\0';
	j = json_pack("{ss}", "k", big);
	assert_int_equal(rpc_frame(&b, j), 0);
	assert_int_equal(b.len, 6 + 4 + RPC_MAX_FRAME);
	json_decref(j);

	buf_reset(&b);
	buf_adds(&b, "before");
	big[RPC_MAX_FRAME - 8] = 'x';
	big[RPC_MAX_FRAME - 7] = '\0';
	j = json_pack("{ss}", "k", big);
	assert_int_equal(rpc_frame(&b, j), -1);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.p, "before");
	json_decref(j);
	free(big);
	buf_free(&b);
}

/* --- the reader --------------------------------------------------------- */

static void test_byte_at_a_time(void **state)
{
	static const char *const texts[] = {
		"{\"id\":1,\"method\":\"status\"}",
		"{\"id\":\"two\",\"method\":\"reload\",\"params\":{}}",
		"{\"event\":\"changed\",\"data\":{\"what\":\"\\u00e9\"}}",
	};
	struct rpc_reader r = { BUF_INIT, 0 };
	struct buf b = BUF_INIT;
	size_t got = 0, end[3];
	json_t *msg;
	char err[256];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		frame_text(&b, texts[i]);
		end[i] = b.len;
	}
	for (size_t i = 0; i < b.len; i++) {
		rpc_reader_feed(&r, b.p + i, 1);
		while (rpc_next(&r, &msg, err, sizeof(err)) == 1) {
			json_t *want;

			assert_true(got < 3);
			want = parse(texts[got]);
			assert_true(json_equal(msg, want));
			json_decref(want);
			json_decref(msg);
			got++;
		}
		/* a message as soon as its last byte is in, not before */
		assert_int_equal(got, (i + 1 >= end[0]) + (i + 1 >= end[1]) +
				 (i + 1 >= end[2]));
	}
	assert_int_equal(got, 3);
	buf_free(&b);
	rpc_reader_free(&r);
}

static void test_partial(void **state)
{
	static const char text[] = "{\"id\":1,\"method\":\"status\"}";
	struct rpc_reader r = { BUF_INIT, 0 };
	struct buf b = BUF_INIT;
	json_t *msg;
	char err[256];

	(void)state;
	/* nothing yet */
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 0);
	assert_null(msg);
	frame_text(&b, text);
	/* 3 bytes of header */
	rpc_reader_feed(&r, b.p, 3);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 0);
	assert_null(msg);
	/* the header, no body */
	rpc_reader_feed(&r, b.p + 3, 1);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 0);
	assert_null(msg);
	/* all but the last byte: still waiting, and asking again is fine */
	rpc_reader_feed(&r, b.p + 4, b.len - 5);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 0);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 0);
	assert_null(msg);
	rpc_reader_feed(&r, b.p + b.len - 1, 1);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 1);
	assert_string_equal(json_string_value(json_object_get(msg, "method")),
			    "status");
	json_decref(msg);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 0);
	rpc_reader_free(&r);
	/* freed, the reader can be used again */
	rpc_reader_feed(&r, b.p, b.len);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 1);
	json_decref(msg);
	rpc_reader_free(&r);
	rpc_reader_free(&r);
	buf_free(&b);
}

static void test_frame_over_limit(void **state)
{
	static const unsigned char over[] = { 0x00, 0x40, 0x00, 0x01 };
	static const unsigned char max[] = { 0x00, 0x40, 0x00, 0x00 };
	static const unsigned char huge[] = { 0xff, 0xff, 0xff, 0xff, '{' };
	char err[256];

	(void)state;
	/* refused from its header alone, before any body comes */
	assert_int_equal(read_one(over, sizeof(over), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "4194305"));
	assert_non_null(strstr(err, "4194304"));
	assert_int_equal(read_one(huge, sizeof(huge), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "4294967295"));
	/* exactly the limit is waited for */
	assert_int_equal(read_one(max, sizeof(max), err, sizeof(err)), 0);
	/* a short err is cut, not overrun */
	{
		char small[8];

		memset(small, 'Z', sizeof(small));
		assert_int_equal(read_one(over, sizeof(over), small, 6), -1);
		assert_int_equal(strlen(small), 5);
		assert_int_equal(small[6], 'Z');
	}
}

/* A frame the reader refuses, and the reader keeps refusing it. */
static void test_over_limit_sticks(void **state)
{
	static const unsigned char over[] = { 0x7f, 0x00, 0x00, 0x00 };
	struct rpc_reader r = { BUF_INIT, 0 };
	json_t *msg;
	char err[256];

	(void)state;
	rpc_reader_feed(&r, over, sizeof(over));
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), -1);
	assert_null(msg);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), -1);
	rpc_reader_free(&r);
}

static void test_not_json(void **state)
{
	static const char nul_escaped[] = "{\"a\":\"x\\u0000y\"}";
	static const char nul_raw[] = "{\"a\":\"x\0y\"}";
	static const char nul_key[] = "{\"a\\u0000b\":1}";
	static const char nul_after[] = "{\"a\":1}\0";
	char err[256];

	(void)state;
	assert_int_equal(READ_TEXT("hello", err), -1);
	assert_true(!strncmp(err, "not JSON: ", 10));
	assert_int_equal(READ_TEXT("", err), -1);
	assert_true(!strncmp(err, "not JSON: ", 10));
	assert_int_equal(READ_TEXT("{\"id\":1", err), -1);
	assert_int_equal(READ_TEXT("{\"id\":1}{}", err), -1);
	assert_int_equal(READ_TEXT("{\"id\":1,}", err), -1);
	assert_int_equal(READ_TEXT("{'id':1}", err), -1);
	assert_int_equal(READ_TEXT("{\"a\":\"\xff\"}", err), -1);
	assert_int_equal(READ_TEXT("{\"a\":\"\xc3\"}", err), -1);
	/* more digits than an integer holds */
	assert_int_equal(READ_TEXT("{\"id\":99999999999999999999}", err), -1);

	/* JSON, but not an object */
	assert_int_equal(READ_TEXT("[1,2]", err), -1);
	assert_string_equal(err, "a message must be a JSON object");
	assert_int_equal(READ_TEXT("[]", err), -1);
	assert_int_equal(READ_TEXT("42", err), -1);
	assert_int_equal(READ_TEXT("\"id\"", err), -1);
	assert_int_equal(READ_TEXT("null", err), -1);
	assert_int_equal(READ_TEXT("true", err), -1);

	/* a duplicate key must not mean whatever the last one says */
	assert_int_equal(READ_TEXT("{\"id\":1,\"id\":2}", err), -1);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(READ_TEXT("{\"p\":{\"role\":\"viewer\","
				   "\"role\":\"admin\"}}", err), -1);

	/* NUL: escaped, raw, in a key, or after the object */
	assert_int_equal(read_raw(nul_escaped, sizeof(nul_escaped) - 1, err,
				  sizeof(err)), -1);
	assert_int_equal(read_raw(nul_raw, sizeof(nul_raw) - 1, err,
				  sizeof(err)), -1);
	assert_int_equal(read_raw(nul_key, sizeof(nul_key) - 1, err,
				  sizeof(err)), -1);
	assert_int_equal(read_raw(nul_after, sizeof(nul_after) - 1, err,
				  sizeof(err)), -1);

	/* and what passes */
	assert_int_equal(READ_TEXT(" {\"id\":1} \n", err), 1);
	assert_int_equal(READ_TEXT("{\"a\":{\"id\":1},\"id\":2}", err), 1);
}

/* After a bad frame the next one is not read as its continuation: the
 * bad one is consumed (the connection closes anyway). */
static void test_bad_then_good(void **state)
{
	struct rpc_reader r = { BUF_INIT, 0 };
	struct buf b = BUF_INIT;
	json_t *msg;
	char err[256];

	(void)state;
	raw_frame(&b, "{\"id\":", 6);
	frame_text(&b, "{\"id\":2}");
	rpc_reader_feed(&r, b.p, b.len);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), -1);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 1);
	assert_int_equal(json_integer_value(json_object_get(msg, "id")), 2);
	json_decref(msg);
	buf_free(&b);
	rpc_reader_free(&r);
}

/* Many frames fed in pieces that straddle frames, consumed as they come,
 * so that the reader drops what it has read again and again. */
static void test_compaction(void **state)
{
	enum { FRAMES = 5000 };
	struct rpc_reader r = { BUF_INIT, 0 };
	struct buf b = BUF_INIT;
	size_t fed = 0, step = 1, max_cap = 0;
	json_int_t want = 0;
	json_t *msg;
	char err[256];

	(void)state;
	for (json_int_t i = 0; i < FRAMES; i++) {
		json_t *j = json_pack("{sIsss{si}}", "id", i, "method", "ping",
				      "params", "pad", (int)(i % 97));

		assert_int_equal(rpc_frame(&b, j), 0);
		json_decref(j);
	}
	while (fed < b.len) {
		size_t n = step < b.len - fed ? step : b.len - fed;

		rpc_reader_feed(&r, b.p + fed, n);
		fed += n;
		step = step * 7 % 173 + 1;
		while (rpc_next(&r, &msg, err, sizeof(err)) == 1) {
			assert_int_equal(json_integer_value(
				json_object_get(msg, "id")), want);
			json_decref(msg);
			want++;
		}
		if (r.in.cap > max_cap)
			max_cap = r.in.cap;
	}
	assert_int_equal(want, FRAMES);
	assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 0);
	/* read bytes were dropped: the buffer never held the stream */
	assert_true(max_cap < 4096);

	/* a thousand frames at once, half read, a thousand more, all read */
	rpc_reader_free(&r);
	want = 0;
	rpc_reader_feed(&r, b.p, b.len / 5);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(rpc_next(&r, &msg, err, sizeof(err)), 1);
		assert_int_equal(json_integer_value(json_object_get(msg, "id")),
				 want++);
		json_decref(msg);
	}
	rpc_reader_feed(&r, b.p + b.len / 5, b.len - b.len / 5);
	while (rpc_next(&r, &msg, err, sizeof(err)) == 1) {
		assert_int_equal(json_integer_value(json_object_get(msg, "id")),
				 want++);
		json_decref(msg);
	}
	assert_int_equal(want, FRAMES);
	buf_free(&b);
	rpc_reader_free(&r);
}

/* --- requests ----------------------------------------------------------- */

static void test_request(void **state)
{
	json_t *msg, *id, *params;
	const char *method;
	char err[256];

	(void)state;
	msg = parse("{\"id\":7,\"method\":\"apply\",\"params\":{\"confirm\":"
		    "30},\"extra\":1}");
	assert_int_equal(rpc_request(msg, &id, &method, &params, err,
				     sizeof(err)), 0);
	assert_int_equal(json_integer_value(id), 7);
	assert_ptr_equal(id, json_object_get(msg, "id"));
	assert_string_equal(method, "apply");
	assert_ptr_equal(params, json_object_get(msg, "params"));
	json_decref(msg);

	msg = parse("{\"method\":\"status\",\"id\":\"req-1\"}");
	assert_int_equal(rpc_request(msg, &id, &method, &params, err,
				     sizeof(err)), 0);
	assert_string_equal(json_string_value(id), "req-1");
	assert_string_equal(method, "status");
	assert_true(json_is_object(params));
	assert_int_equal(json_object_size(params), 0);
	json_decref(msg);

	msg = parse("{\"id\":0,\"method\":\"reload\",\"params\":null}");
	assert_int_equal(rpc_request(msg, &id, &method, &params, err,
				     sizeof(err)), 0);
	assert_int_equal(json_integer_value(id), 0);
	assert_true(json_is_object(params));
	assert_int_equal(json_object_size(params), 0);
	json_decref(msg);

	/* an empty string id and a negative one are ids */
	assert_int_equal(request("{\"id\":\"\",\"method\":\"m\"}", err,
				 sizeof(err)), 0);
	assert_int_equal(request("{\"id\":-1,\"method\":\"m\"}", err,
				 sizeof(err)), 0);
}

static void test_request_bad(void **state)
{
	static const char *const bad_id[] = {
		"{\"method\":\"status\"}",
		"{\"id\":null,\"method\":\"status\"}",
		"{\"id\":{},\"method\":\"status\"}",
		"{\"id\":[1],\"method\":\"status\"}",
		"{\"id\":1.5,\"method\":\"status\"}",
		"{\"id\":1.0,\"method\":\"status\"}",
		"{\"id\":true,\"method\":\"status\"}",
		"{\"id\":false,\"method\":\"status\"}",
	};
	static const char *const bad_method[] = {
		"{\"id\":1}",
		"{\"id\":1,\"method\":\"\"}",
		"{\"id\":1,\"method\":null}",
		"{\"id\":1,\"method\":3}",
		"{\"id\":1,\"method\":[\"status\"]}",
		"{\"id\":1,\"method\":{}}",
	};
	static const char *const bad_params[] = {
		"{\"id\":1,\"method\":\"m\",\"params\":[]}",
		"{\"id\":1,\"method\":\"m\",\"params\":[{}]}",
		"{\"id\":1,\"method\":\"m\",\"params\":\"x\"}",
		"{\"id\":1,\"method\":\"m\",\"params\":0}",
		"{\"id\":1,\"method\":\"m\",\"params\":false}",
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_id) / sizeof(bad_id[0]); i++) {
		assert_int_equal(request(bad_id[i], err, sizeof(err)), -1);
		assert_string_equal(err, "a request needs an \"id\" (integer "
				    "or string)");
	}
	for (size_t i = 0; i < sizeof(bad_method) / sizeof(bad_method[0]);
	     i++) {
		assert_int_equal(request(bad_method[i], err, sizeof(err)), -1);
		assert_string_equal(err, "a request needs a \"method\" string");
	}
	for (size_t i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]);
	     i++) {
		assert_int_equal(request(bad_params[i], err, sizeof(err)), -1);
		assert_string_equal(err, "\"params\" must be an object");
	}
}

/* --- answers and events ------------------------------------------------- */

static void test_result(void **state)
{
	json_t *msg = parse("{\"id\":\"x1\",\"method\":\"status\"}");
	json_t *id = json_object_get(msg, "id"), *a, *want;

	(void)state;
	a = rpc_result(id, json_pack("{si}", "revision", 3));
	/* the id is held, not borrowed from the request */
	json_decref(msg);
	want = parse("{\"id\":\"x1\",\"result\":{\"revision\":3}}");
	assert_true(json_equal(a, want));
	json_decref(want);
	json_decref(a);

	id = json_integer(42);
	a = rpc_result(id, NULL);
	want = parse("{\"id\":42,\"result\":{}}");
	assert_true(json_equal(a, want));
	json_decref(want);
	json_decref(a);
	json_decref(id);

	/* a result need not be an object */
	a = rpc_result(NULL, json_pack("[ii]", 1, 2));
	want = parse("{\"id\":null,\"result\":[1,2]}");
	assert_true(json_equal(a, want));
	json_decref(want);
	json_decref(a);
}

static void test_error(void **state)
{
	json_t *id = json_integer(5), *a, *want;
	char long_msg[2048];
	const char *m;

	(void)state;
	a = rpc_error(id, RPC_E_METHOD, "no method \"%s\"", "nope");
	want = parse("{\"id\":5,\"error\":{\"code\":-32601,\"message\":"
		     "\"no method \\\"nope\\\"\"}}");
	assert_true(json_equal(a, want));
	json_decref(want);
	json_decref(a);
	json_decref(id);

	a = rpc_error(NULL, RPC_E_PARSE, "%s: %d", "bad", 3);
	want = parse("{\"id\":null,\"error\":{\"code\":-32700,\"message\":"
		     "\"bad: 3\"}}");
	assert_true(json_equal(a, want));
	json_decref(want);
	json_decref(a);

	/* a long message is cut */
	memset(long_msg, 'a', sizeof(long_msg) - 1);
	long_msg[sizeof(long_msg) - 1] = '\0';
	a = rpc_error(NULL, RPC_E_FAILED, "%s", long_msg);
	assert_non_null(a);
	m = json_string_value(json_object_get(json_object_get(a, "error"),
					      "message"));
	assert_int_equal(strlen(m), 1023);
	json_decref(a);
}

/* Messages that are not UTF-8 still give an answer: a character cut by
 * the message's size or a caller's %.64s, or bytes that never were. */
static void test_error_utf8(void **state)
{
	char long_msg[1100];
	const char *m;
	json_t *a;
	size_t i;

	(void)state;
	/* "ab" then 2-byte characters: the last byte kept (1022) is the
	 * first half of one */
	memcpy(long_msg, "ab", 2);
	for (i = 2; i + 2 < sizeof(long_msg); i += 2)
		memcpy(long_msg + i, "\xc3\xa9", 2);
	long_msg[i] = '\0';
	a = rpc_error(NULL, RPC_E_FAILED, "%s", long_msg);
	assert_non_null(a);
	m = json_string_value(json_object_get(json_object_get(a, "error"),
					      "message"));
	assert_int_equal(strlen(m), 1023);
	assert_memory_equal(m, long_msg, 1022);
	assert_int_equal(m[1022], '?');
	json_decref(a);

	a = rpc_error(NULL, RPC_E_METHOD, "no method \"%.2s\"", "\xe2\x98\x83");
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(a, "error"), "message")), "no method \"??\"");
	json_decref(a);

	/* not UTF-8: stray continuation, overlong, surrogate, > U+10FFFF,
	 * a lead byte without its continuation; good ones kept */
	a = rpc_error(NULL, RPC_E_FAILED, "%s", "\x80|\xc0\xaf|\xed\xa0\x80|"
		      "\xf4\x90\x80\x80|\xe2\x98x|\xff|\xf0\x9f\x98\x80\xe2\x98"
		      "\x83");
	assert_non_null(a);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(a, "error"), "message")),
		"?|??|???|????|??x|?|\xf0\x9f\x98\x80\xe2\x98\x83");
	json_decref(a);
}

/* What the reader says about a bad frame can always be answered, though
 * jansson quotes the token it stopped at. */
static void test_reader_error_answerable(void **state)
{
	static const char *const bodies[] = {
		"{\"a\":\xff}", "\x80", "{\"a\":\xc3}", "{\"a\":\xc3\xa9}",
		"{\xe2\x98\x83:1}", "{\"a\":\"\xed\xa0\x80\"}",
		"{\"a\":tru\xc3\xa9}", "[\"\xf4\x90\x80\x80\"]",
	};
	struct buf body = BUF_INIT;
	char err[256];
	json_t *a;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(read_raw(bodies[i], strlen(bodies[i]), err,
					  sizeof(err)), -1);
		a = rpc_error(NULL, RPC_E_PARSE, "%s", err);
		assert_non_null(a);
		json_decref(a);
	}
	/* a long token, with 2-byte characters across the end of err */
	buf_adds(&body, "{\"a\":x");
	for (int i = 0; i < 300; i++)
		buf_adds(&body, "\xc3\xa9");
	buf_adds(&body, "}");
	assert_int_equal(read_raw(body.p, body.len, err, sizeof(err)), -1);
	a = rpc_error(NULL, RPC_E_PARSE, "%s", err);
	assert_non_null(a);
	json_decref(a);
	buf_free(&body);
}

static void test_event(void **state)
{
	json_t *a, *want;

	(void)state;
	a = rpc_event("applied", json_pack("{si}", "revision", 4));
	want = parse("{\"event\":\"applied\",\"data\":{\"revision\":4}}");
	assert_true(json_equal(a, want));
	json_decref(want);
	json_decref(a);

	a = rpc_event("drift", NULL);
	want = parse("{\"event\":\"drift\",\"data\":{}}");
	assert_true(json_equal(a, want));
	json_decref(want);
	json_decref(a);
}

/* An answer framed and read back keeps its id, whatever its type. */
static void test_answer_round_trip(void **state)
{
	static const char *const ids[] = {
		"{\"id\":0}", "{\"id\":-5}", "{\"id\":9223372036854775807}",
		"{\"id\":\"\"}", "{\"id\":\"\\u00e9\\\"\\n\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		json_t *req = parse(ids[i]), *id = json_object_get(req, "id");
		json_t *ans[2], *back;
		struct rpc_reader r = { BUF_INIT, 0 };
		struct buf b = BUF_INIT;
		char err[256];

		ans[0] = rpc_result(id, NULL);
		ans[1] = rpc_error(id, RPC_E_BUSY, "busy");
		for (int k = 0; k < 2; k++) {
			assert_int_equal(rpc_frame(&b, ans[k]), 0);
			json_decref(ans[k]);
		}
		rpc_reader_feed(&r, b.p, b.len);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(rpc_next(&r, &back, err, sizeof(err)),
					 1);
			assert_true(json_equal(json_object_get(back, "id"),
					       id));
			json_decref(back);
		}
		json_decref(req);
		buf_free(&b);
		rpc_reader_free(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_frame_bytes),
		cmocka_unit_test(test_frame_too_big),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_frame_over_limit),
		cmocka_unit_test(test_over_limit_sticks),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_bad_then_good),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_bad),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_error_utf8),
		cmocka_unit_test(test_reader_error_answerable),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_answer_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
