/* WebSocket framing (api/ws.c): SHA-1 against RFC 3174's vectors, the
 * handshake's accept key against RFC 6455's example, keys, tokens and
 * origins; frames against RFC 6455 5.7's examples; the reader fed whole
 * and byte by byte, with fragments and control frames between them; and
 * every way a client can break the protocol, with its close code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/ws.h"

static const uint8_t MASK[4] = { 0x37, 0xfa, 0x21, 0x3d };

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void sha1_is(const void *p, size_t n, const char *want)
{
	uint8_t d[20];
	char h[41];

	ws_sha1(p, n, d);
	hex(d, 20, h);
	assert_string_equal(h, want);
}

/* RFC 3174 section 7.3's four tests, and the empty message. */
static void test_sha1(void **state)
{
	const char *t4 = "0123456701234567012345670123456701234567012345670"
			 "123456701234567";
	char *big = malloc(1000000), *rep = malloc(640);

	(void)state;
	sha1_is("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1_is("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		56, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	memset(big, 'a', 1000000);
	sha1_is(big, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	for (int i = 0; i < 10; i++)
		memcpy(rep + 64 * i, t4, 64);
	sha1_is(rep, 640, "dea356a2cddd90c7a7ecedc5ebb563934f460452");
	sha1_is("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	/* lengths around the padding's block boundary */
	sha1_is(big, 55, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
	sha1_is(big, 56, "c2db330f6083854c99d4b5bfb6e8f29f201be699");
	sha1_is(big, 64, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
	free(big);
	free(rep);
}

static void test_handshake(void **state)
{
	char acc[WS_ACCEPT_LEN], b[16];

	(void)state;
	/* RFC 6455 1.3 */
	assert_true(ws_key_ok("dGhlIHNhbXBsZSBub25jZQ=="));
	ws_accept("dGhlIHNhbXBsZSBub25jZQ==", acc);
	assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_false(ws_key_ok(NULL));
	assert_false(ws_key_ok(""));
	assert_false(ws_key_ok("dGhlIHNhbXBsZSBub25jZQ="));	/* short */
	assert_false(ws_key_ok("dGhlIHNhbXBsZSBub25jZQ==="));
	assert_false(ws_key_ok("dGhlIHNhbXBsZSBub25jZ!=="));	/* char */
	assert_false(ws_key_ok("dGhlIHNhbXBsZSBub25jZR=="));	/* bits */
	assert_false(ws_key_ok("dGhlIHNhbXBsZSBub25jZQ=A"));
	ws_base64((const uint8_t *)"foob", 4, b);
	assert_string_equal(b, "Zm9vYg==");
	ws_base64((const uint8_t *)"fooba", 5, b);
	assert_string_equal(b, "Zm9vYmE=");
	ws_base64((const uint8_t *)"foobar", 6, b);
	assert_string_equal(b, "Zm9vYmFy");

	assert_true(ws_has_token("Upgrade", "upgrade"));
	assert_true(ws_has_token("keep-alive, Upgrade", "upgrade"));
	assert_true(ws_has_token(" keep-alive ,upgrade ", "upgrade"));
	assert_false(ws_has_token("upgraded", "upgrade"));
	assert_false(ws_has_token("keep-alive", "upgrade"));
	assert_false(ws_has_token(NULL, "upgrade"));
	assert_false(ws_has_token("", "upgrade"));
}

static void test_origin(void **state)
{
	(void)state;
	assert_true(ws_origin_ok("http://127.0.0.1:18090", "127.0.0.1:18090"));
	assert_true(ws_origin_ok("HTTPS://GW.lan", "gw.LAN"));
	assert_true(ws_origin_ok("https://gw.lan", "gw.lan:443"));
	assert_true(ws_origin_ok("http://gw.lan:80", "gw.lan"));
	assert_true(ws_origin_ok("http://[::1]:8080", "[::1]:8080"));
	assert_true(ws_origin_ok("https://gw.lan/", "gw.lan"));
	assert_false(ws_origin_ok("http://evil.example", "gw.lan"));
	assert_false(ws_origin_ok("http://gw.lan.evil.example", "gw.lan"));
	assert_false(ws_origin_ok("http://gw.lan:8080", "gw.lan:8081"));
	assert_false(ws_origin_ok("http://gw.lan:8080", "gw.lan"));
	assert_false(ws_origin_ok("https://gw.lan", "gw.lan:80"));
	assert_false(ws_origin_ok("null", "gw.lan"));
	assert_false(ws_origin_ok("file://", "gw.lan"));
	assert_false(ws_origin_ok("http://", "gw.lan"));
	assert_false(ws_origin_ok("http://gw.lan:99999", "gw.lan:99999"));
	assert_false(ws_origin_ok("http://gw.lan:x", "gw.lan"));
	assert_false(ws_origin_ok("http://gw.lan/path", "gw.lan"));
	assert_false(ws_origin_ok("http://[::1", "[::1"));
	assert_false(ws_origin_ok(NULL, "gw.lan"));
	assert_false(ws_origin_ok("http://gw.lan", NULL));
}

static void bytes_are(const struct buf *b, const uint8_t *want, size_t n)
{
	assert_int_equal(b->len, n);
	assert_memory_equal(b->p, want, n);
}

/* RFC 6455 5.7 */
static void test_encode_examples(void **state)
{
	static const uint8_t hello[] = { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' };
	static const uint8_t masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
		0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	static const uint8_t frag[] = { 0x01, 0x03, 'H', 'e', 'l',
		0x80, 0x02, 'l', 'o' };
	static const uint8_t ping[] = { 0x89, 0x05, 'H', 'e', 'l', 'l', 'o' };
	struct buf b = BUF_INIT;
	uint8_t *big = calloc(1, 65536);

	(void)state;
	ws_frame_encode(&b, WS_OP_TEXT, true, "Hello", 5, NULL);
	bytes_are(&b, hello, sizeof(hello));
	buf_reset(&b);
	ws_frame_encode(&b, WS_OP_TEXT, true, "Hello", 5, MASK);
	bytes_are(&b, masked, sizeof(masked));
	buf_reset(&b);
	ws_frame_encode(&b, WS_OP_TEXT, false, "Hel", 3, NULL);
	ws_frame_encode(&b, WS_OP_CONT, true, "lo", 2, NULL);
	bytes_are(&b, frag, sizeof(frag));
	buf_reset(&b);
	ws_frame_encode(&b, WS_OP_PING, true, "Hello", 5, NULL);
	bytes_are(&b, ping, sizeof(ping));
	buf_reset(&b);
	ws_frame_encode(&b, WS_OP_BINARY, true, big, 256, NULL);
	assert_int_equal(b.len, 4 + 256);
	assert_memory_equal(b.p, "\x82\x7e\x01\x00", 4);
	buf_reset(&b);
	ws_frame_encode(&b, WS_OP_BINARY, true, big, 65536, NULL);
	assert_int_equal(b.len, 10 + 65536);
	assert_memory_equal(b.p, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
			    10);
	buf_reset(&b);
	ws_frame_encode(&b, WS_OP_BINARY, true, big, 125, NULL);
	assert_memory_equal(b.p, "\x82\x7d", 2);
	buf_reset(&b);
	ws_frame_encode(&b, WS_OP_BINARY, true, big, 126, NULL);
	assert_memory_equal(b.p, "\x82\x7e\x00\x7e", 4);
	buf_reset(&b);
	ws_frame_encode(&b, WS_OP_BINARY, true, big, 65535, NULL);
	assert_memory_equal(b.p, "\x82\x7e\xff\xff", 4);
	buf_free(&b);
	free(big);
}

static void test_close_encode(void **state)
{
	struct buf b = BUF_INIT;
	char reason[200];

	(void)state;
	ws_close_encode(&b, 1000, NULL, NULL);
	bytes_are(&b, (const uint8_t *)"\x88\x02\x03\xe8", 4);
	buf_reset(&b);
	ws_close_encode(&b, 0, NULL, NULL);
	bytes_are(&b, (const uint8_t *)"\x88\x00", 2);
	buf_reset(&b);
	/* a reason cut to fit 125 bytes, never inside a character */
	memset(reason, 'a', 122);
	strcpy(reason + 122, "\xc3\xa9\xc3\xa9");	/* "éé" */
	ws_close_encode(&b, 1008, reason, NULL);
	assert_int_equal((unsigned char)b.p[1], 2 + 122);
	assert_true(ws_utf8_ok((const uint8_t *)b.p + 4, b.len - 4));
	buf_free(&b);
	assert_true(ws_close_code_ok(1000));
	assert_true(ws_close_code_ok(1011));
	assert_true(ws_close_code_ok(3000));
	assert_true(ws_close_code_ok(4999));
	assert_false(ws_close_code_ok(999));
	assert_false(ws_close_code_ok(1004));
	assert_false(ws_close_code_ok(1005));
	assert_false(ws_close_code_ok(1006));
	assert_false(ws_close_code_ok(1015));
	assert_false(ws_close_code_ok(2000));
	assert_false(ws_close_code_ok(5000));
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(ws_utf8_ok((const uint8_t *)"", 0));
	assert_true(ws_utf8_ok((const uint8_t *)"plain", 5));
	assert_true(ws_utf8_ok((const uint8_t *)"\xce\xba\xe1\xbd\xb9", 5));
	assert_true(ws_utf8_ok((const uint8_t *)"\xf0\x9f\x98\x80", 4));
	assert_true(ws_utf8_ok((const uint8_t *)"\xf4\x8f\xbf\xbf", 4));
	assert_false(ws_utf8_ok((const uint8_t *)"\xc0\x80", 2));	/* over */
	assert_false(ws_utf8_ok((const uint8_t *)"\xe0\x80\x80", 3));
	assert_false(ws_utf8_ok((const uint8_t *)"\xed\xa0\x80", 3));	/* sur */
	assert_false(ws_utf8_ok((const uint8_t *)"\xf4\x90\x80\x80", 4));
	assert_false(ws_utf8_ok((const uint8_t *)"\xce", 1));	/* cut */
	assert_false(ws_utf8_ok((const uint8_t *)"\x80", 1));
	assert_false(ws_utf8_ok((const uint8_t *)"\xff", 1));
}

/* ---- the reader ---- */

struct got {
	int n;
	enum ws_event_kind kind[16];
	char data[16][512];
	size_t len[16];
	uint16_t code[16];
};

static void drain(struct ws_reader *r, struct got *g)
{
	struct ws_event ev;

	while (g->n < 16 && ws_reader_next(r, &ev) == 1) {
		g->kind[g->n] = ev.kind;
		g->len[g->n] = ev.len;
		g->code[g->n] = ev.code;
		if (ev.len < sizeof(g->data[0]))
			memcpy(g->data[g->n], ev.data ? (const void *)ev.data :
			       "", ev.len);
		g->n++;
	}
}

/* Feeds b whole, or one byte at a time. */
static struct got read_all(const struct buf *b, bool bytewise, size_t max)
{
	struct ws_reader r;
	struct got g = { 0 };

	ws_reader_init(&r, max);
	if (bytewise) {
		for (size_t i = 0; i < b->len; i++) {
			ws_reader_feed(&r, b->p + i, 1);
			drain(&r, &g);
		}
	} else {
		ws_reader_feed(&r, b->p, b->len);
		drain(&r, &g);
	}
	ws_reader_free(&r);
	return g;
}

static void test_reader_messages(void **state)
{
	struct buf b = BUF_INIT;
	static const uint8_t pong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
		0x7f, 0x9f, 0x4d, 0x51, 0x58 };

	(void)state;
	ws_frame_encode(&b, WS_OP_TEXT, true, "Hello", 5, MASK);
	/* fragments with a ping between them; a character split across
	 * two of them */
	ws_frame_encode(&b, WS_OP_TEXT, false, "caf\xc3", 4, MASK);
	ws_frame_encode(&b, WS_OP_PING, true, "p", 1, MASK);
	ws_frame_encode(&b, WS_OP_CONT, false, "\xa9 ", 2, MASK);
	ws_frame_encode(&b, WS_OP_CONT, true, "ok", 2, MASK);
	buf_add(&b, pong, sizeof(pong));
	ws_frame_encode(&b, WS_OP_BINARY, true, "\xff\x00", 2, MASK);
	ws_frame_encode(&b, WS_OP_TEXT, true, "", 0, MASK);
	ws_close_encode(&b, 1001, "bye", MASK);
	/* after the close: nothing */
	ws_frame_encode(&b, WS_OP_TEXT, true, "late", 4, MASK);
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct got g = read_all(&b, bytewise, 4096);

		assert_int_equal(g.n, 7);
		assert_int_equal(g.kind[0], WS_EV_MESSAGE);
		assert_memory_equal(g.data[0], "Hello", 5);
		assert_int_equal(g.kind[1], WS_EV_PING);
		assert_memory_equal(g.data[1], "p", 1);
		assert_int_equal(g.kind[2], WS_EV_MESSAGE);
		assert_int_equal(g.len[2], 8);
		assert_memory_equal(g.data[2], "caf\xc3\xa9 ok", 8);
		assert_int_equal(g.kind[3], WS_EV_PONG);
		assert_memory_equal(g.data[3], "Hello", 5);
		assert_int_equal(g.kind[4], WS_EV_MESSAGE);
		assert_int_equal(g.len[4], 2);
		assert_int_equal(g.kind[5], WS_EV_MESSAGE);
		assert_int_equal(g.len[5], 0);
		assert_int_equal(g.kind[6], WS_EV_CLOSE);
		assert_int_equal(g.code[6], 1001);
		assert_memory_equal(g.data[6], "bye", 3);
	}
	buf_reset(&b);
	ws_frame_encode(&b, WS_OP_CLOSE, true, NULL, 0, MASK);
	{
		struct got g = read_all(&b, false, 4096);

		assert_int_equal(g.n, 1);
		assert_int_equal(g.kind[0], WS_EV_CLOSE);
		assert_int_equal(g.code[0], WS_CLOSE_NO_STATUS);
	}
	buf_free(&b);
}

/* raw bytes (masked by the test where it says so) -> one error. */
static void error_is(const void *raw, size_t n, uint16_t code)
{
	struct buf b = BUF_INIT;

	buf_add(&b, raw, n);
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct got g = read_all(&b, bytewise, 1000);

		assert_int_equal(g.n, 1);
		assert_int_equal(g.kind[0], WS_EV_ERROR);
		assert_int_equal(g.code[0], code);
	}
	buf_free(&b);
}

/* A frame encoded masked, then broken by fn. */
static void masked_error(unsigned op, bool fin, const void *p, size_t n,
			 uint16_t code)
{
	struct buf b = BUF_INIT;

	ws_frame_encode(&b, op, fin, p, n, MASK);
	error_is(b.p, b.len, code);
	buf_free(&b);
}

static void test_reader_errors(void **state)
{
	struct buf b = BUF_INIT;
	uint8_t big[1001] = { 0 };

	(void)state;
	/* a client's frame must be masked */
	error_is("\x81\x05Hello", 7, WS_CLOSE_PROTOCOL);
	/* reserved bits: no extension was agreed */
	error_is("\xc1\x80\0\0\0\0", 6, WS_CLOSE_PROTOCOL);
	error_is("\x91\x80\0\0\0\0", 6, WS_CLOSE_PROTOCOL);
	/* unknown opcodes */
	error_is("\x83\x80\0\0\0\0", 6, WS_CLOSE_PROTOCOL);
	error_is("\x8b\x80\0\0\0\0", 6, WS_CLOSE_PROTOCOL);
	/* a control frame fragmented, or long */
	masked_error(WS_OP_PING, false, "x", 1, WS_CLOSE_PROTOCOL);
	error_is("\x89\xfe\x00\x7e", 4, WS_CLOSE_PROTOCOL);
	/* lengths not in their shortest form, or with the top bit */
	error_is("\x82\xfe\x00\x05", 4, WS_CLOSE_PROTOCOL);
	error_is("\x82\xff\x00\x00\x00\x00\x00\x00\x01\x00", 10,
		 WS_CLOSE_PROTOCOL);
	error_is("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10,
		 WS_CLOSE_PROTOCOL);
	/* over the limit: refused from its header, before its payload */
	error_is("\x82\xff\x00\x00\x00\x01\x00\x00\x00\x00", 10,
		 WS_CLOSE_TOO_BIG);
	masked_error(WS_OP_BINARY, true, big, sizeof(big), WS_CLOSE_TOO_BIG);
	/* ... and fragments that add up to over it */
	ws_frame_encode(&b, WS_OP_BINARY, false, big, 600, MASK);
	ws_frame_encode(&b, WS_OP_CONT, true, big, 401, MASK);
	error_is(b.p, b.len, WS_CLOSE_TOO_BIG);
	buf_reset(&b);
	/* a continuation of nothing; a new message in the middle of one */
	masked_error(WS_OP_CONT, true, "x", 1, WS_CLOSE_PROTOCOL);
	ws_frame_encode(&b, WS_OP_TEXT, false, "a", 1, MASK);
	ws_frame_encode(&b, WS_OP_TEXT, true, "b", 1, MASK);
	error_is(b.p, b.len, WS_CLOSE_PROTOCOL);
	buf_reset(&b);
	/* text that is not UTF-8, whole or once joined */
	masked_error(WS_OP_TEXT, true, "\xc0\x80", 2, WS_CLOSE_BAD_DATA);
	ws_frame_encode(&b, WS_OP_TEXT, false, "\xce", 1, MASK);
	ws_frame_encode(&b, WS_OP_CONT, true, "x", 1, MASK);
	error_is(b.p, b.len, WS_CLOSE_BAD_DATA);
	buf_reset(&b);
	/* close frames: one byte, a code that may not be sent, a reason
	 * that is not UTF-8 */
	masked_error(WS_OP_CLOSE, true, "\x03", 1, WS_CLOSE_PROTOCOL);
	masked_error(WS_OP_CLOSE, true, "\x03\xed", 2, WS_CLOSE_PROTOCOL);
	masked_error(WS_OP_CLOSE, true, "\x03\xe7", 2, WS_CLOSE_PROTOCOL);
	masked_error(WS_OP_CLOSE, true, "\x03\xe8\xff", 3, WS_CLOSE_BAD_DATA);
	buf_free(&b);
}

/* A frame header is only decoded once whole; nothing past what was fed
 * is read (ASan would tell). */
static void test_header_partial(void **state)
{
	static const uint8_t h[] = { 0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0, 0,
		1, 2, 3, 4 };
	struct ws_frame f;
	uint16_t code;

	(void)state;
	for (size_t n = 0; n < sizeof(h); n++) {
		uint8_t *p = malloc(n ? n : 1);

		memcpy(p, h, n);
		assert_int_equal(ws_frame_header(p, n, true, 1 << 20, &f,
						 &code), 0);
		free(p);
	}
	assert_int_equal(ws_frame_header(h, sizeof(h), true, 1 << 20, &f,
					 &code), 1);
	assert_int_equal(f.len, 256 * 256);
	assert_int_equal(f.header_len, 14);
	assert_memory_equal(f.mask, "\x01\x02\x03\x04", 4);
	/* a server's frames are not masked: require_mask false */
	assert_int_equal(ws_frame_header((const uint8_t *)"\x81\x05", 2, false,
					 100, &f, &code), 1);
	assert_int_equal(ws_frame_header((const uint8_t *)"\x81\x85", 2, false,
					 100, &f, &code), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha1),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_encode_examples),
		cmocka_unit_test(test_close_encode),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_reader_messages),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_header_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
