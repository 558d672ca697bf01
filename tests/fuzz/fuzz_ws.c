/* libFuzzer harness for the WebSocket frame decoder (src/api/ws.c): the
 * input is what a client sends after the handshake. Its first byte picks
 * how the rest is fed (whole, or in chunks of 1 to 255 bytes), as a
 * socket would hand it over in pieces, to a reader taking messages of at
 * most 1024 bytes. Checked for every event:
 *  - a message is at most the limit, and text is valid UTF-8;
 *  - a ping or pong carries at most 125 bytes;
 *  - a close carries a code a peer may send (or 1005 for none) and a
 *    UTF-8 reason; an error carries 1002, 1007 or 1009;
 *  - nothing comes after a close or an error;
 *  - the reader never holds more than one frame, one message and a
 *    chunk;
 *  - a message encoded again (masked, in one frame or two) reads back
 *    the same;
 *  - the header decoder agrees with itself on any prefix. */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/ws.h"

#define LIMIT 1024u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(unsigned opcode, const uint8_t *p, size_t n)
{
	static const uint8_t mask[4] = { 1, 2, 3, 4 };
	struct buf b = BUF_INIT;
	struct ws_reader r;
	struct ws_event ev;
	size_t half = n / 2;

	ws_frame_encode(&b, opcode, false, p, half, mask);
	ws_frame_encode(&b, WS_OP_CONT, true, p + half, n - half, mask);
	ws_reader_init(&r, LIMIT);
	ws_reader_feed(&r, b.p, b.len);
	assert(ws_reader_next(&r, &ev) == 1);
	assert(ev.kind == WS_EV_MESSAGE && ev.opcode == opcode);
	assert(ev.len == n && (!n || !memcmp(ev.data, p, n)));
	assert(ws_reader_next(&r, &ev) == 0);
	ws_reader_free(&r);
	buf_free(&b);
}

static void check(const struct ws_event *ev)
{
	switch (ev->kind) {
	case WS_EV_MESSAGE:
		assert(ev->len <= LIMIT);
		assert(ev->opcode == WS_OP_TEXT || ev->opcode == WS_OP_BINARY);
		assert(ev->opcode != WS_OP_TEXT ||
		       ws_utf8_ok(ev->data, ev->len));
		roundtrip(ev->opcode, ev->data, ev->len);
		break;
	case WS_EV_PING:
	case WS_EV_PONG:
		assert(ev->len <= WS_CONTROL_MAX);
		break;
	case WS_EV_CLOSE:
		assert(ev->code == WS_CLOSE_NO_STATUS ||
		       ws_close_code_ok(ev->code));
		assert(ev->len <= WS_CONTROL_MAX - 2);
		assert(ws_utf8_ok(ev->data, ev->len));
		break;
	case WS_EV_ERROR:
		assert(ev->code == WS_CLOSE_PROTOCOL ||
		       ev->code == WS_CLOSE_BAD_DATA ||
		       ev->code == WS_CLOSE_TOO_BIG);
		assert(ev->why && *ev->why);
		break;
	}
}

/* The header decoder on every prefix of p: "need more" until it decides,
 * then the same decision. */
static void headers(const uint8_t *p, size_t n)
{
	struct ws_frame f, g;
	uint16_t code, code2;
	int last = 0;

	n = n < WS_HEADER_MAX ? n : WS_HEADER_MAX;
	for (size_t i = 0; i <= n; i++) {
		int st = ws_frame_header(p, i, true, LIMIT, &f, &code);

		if (last) {
			assert(st == last);
			continue;
		}
		last = st;
		if (st == 1) {
			assert(f.header_len <= i && f.masked);
			assert(f.len <= LIMIT || (f.opcode & 8));
			assert(!(f.opcode & 8) || (f.fin && f.len <= 125));
		}
	}
	(void)ws_frame_header(p, n, false, LIMIT, &g, &code2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_reader r;
	struct ws_event ev;
	size_t chunk, off = 0;
	bool over = false;

	if (size < 1)
		return 0;
	chunk = data[0] ? data[0] : size;
	data++;
	size--;
	headers(data, size);
	ws_reader_init(&r, LIMIT);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		ws_reader_feed(&r, data + off, n);
		off += n;
		while (ws_reader_next(&r, &ev) == 1) {
			assert(!over);
			check(&ev);
			over = ev.kind == WS_EV_CLOSE || ev.kind == WS_EV_ERROR;
		}
		assert(over || ws_reader_buffered(&r) <=
		       WS_HEADER_MAX + 2 * LIMIT + chunk);
	}
	ws_reader_free(&r);
	return 0;
}
