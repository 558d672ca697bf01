/* RFC 6455 framing (pure): see ws.h. Everything a client sends is
 * untrusted: each length is checked before it is read, and a frame is
 * only looked at once it is whole. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/ws.h"

/* ---- SHA-1 (RFC 3174) ---- */

struct sha1 {
	uint32_t h[5];
	uint8_t block[64];
	size_t fill;
	uint64_t bytes;
};

static uint32_t rol(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(struct sha1 *s, const uint8_t *p)
{
	uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3],
		 e = s->h[4];

	for (int t = 0; t < 16; t++)
		w[t] = (uint32_t)p[4 * t] << 24 | (uint32_t)p[4 * t + 1] << 16 |
		       (uint32_t)p[4 * t + 2] << 8 | p[4 * t + 3];
	for (int t = 16; t < 80; t++)
		w[t] = rol(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	for (int t = 0; t < 80; t++) {
		uint32_t f, k, tmp;

		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		tmp = rol(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = tmp;
	}
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

static void sha1_update(struct sha1 *s, const uint8_t *p, size_t n)
{
	s->bytes += n;
	while (n) {
		size_t take = 64 - s->fill < n ? 64 - s->fill : n;

		memcpy(s->block + s->fill, p, take);
		s->fill += take;
		p += take;
		n -= take;
		if (s->fill == 64) {
			sha1_block(s, s->block);
			s->fill = 0;
		}
	}
}

void ws_sha1(const void *data, size_t n, uint8_t out[20])
{
	struct sha1 s = { .h = { 0x67452301, 0xefcdab89, 0x98badcfe,
				 0x10325476, 0xc3d2e1f0 } };
	uint64_t bits;
	uint8_t pad = 0x80, zero = 0, len[8];

	sha1_update(&s, data, n);
	bits = s.bytes * 8;
	sha1_update(&s, &pad, 1);
	while (s.fill != 56)
		sha1_update(&s, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(&s, len, 8);
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(s.h[i / 4] >> (24 - 8 * (i % 4)));
}

/* ---- the opening handshake ---- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void ws_base64(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
}

bool ws_key_ok(const char *key)
{
	const char *last;

	/* 16 bytes: 21 full characters, one with 2 bits, then "==" */
	if (!key || strlen(key) != 24 || strcmp(key + 22, "=="))
		return false;
	for (size_t i = 0; i < 22; i++)
		if (!key[i] || !strchr(b64, key[i]))
			return false;
	/* the last character holds 2 bits of data and 4 of padding */
	last = strchr(b64, key[21]);
	return ((last - b64) & 15) == 0;
}

void ws_accept(const char *key, char out[WS_ACCEPT_LEN])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char text[24 + sizeof(guid)];
	uint8_t d[20];

	snprintf(text, sizeof(text), "%.24s%s", key, guid);
	ws_sha1(text, strlen(text), d);
	ws_base64(d, sizeof(d), out);
}

bool ws_has_token(const char *value, const char *token)
{
	size_t n = strlen(token);

	while (value && *value) {
		size_t len;

		while (*value == ' ' || *value == '\t' || *value == ',')
			value++;
		len = strcspn(value, ",");
		/* trailing blanks are not part of the token */
		while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
			len--;
		if (len == n && !strncasecmp(value, token, n))
			return true;
		value += strcspn(value, ",");
	}
	return false;
}

/* Splits "host", "host:port", "[v6]" or "[v6]:port" (n bytes at s) into
 * the host (brackets kept, so that "[::1]" compares as a whole) and the
 * port; *port 0 when there is none. false when malformed. */
static bool split_authority(const char *s, size_t n, const char **host,
			    size_t *hlen, unsigned *port)
{
	const char *colon;

	*port = 0;
	if (n == 0)
		return false;
	if (s[0] == '[') {
		const char *end = memchr(s, ']', n);

		if (!end)
			return false;
		colon = end + 1 < s + n ? end + 1 : NULL;
		if (colon && *colon != ':')
			return false;
	} else {
		colon = memchr(s, ':', n);
	}
	*host = s;
	*hlen = colon ? (size_t)(colon - s) : n;
	if (colon) {
		unsigned long v = 0;
		size_t digits = (size_t)(s + n - colon - 1);

		if (digits == 0 || digits > 5)
			return false;
		for (const char *d = colon + 1; d < s + n; d++) {
			if (!isdigit((unsigned char)*d))
				return false;
			v = v * 10 + (unsigned long)(*d - '0');
		}
		if (v == 0 || v > 65535)
			return false;
		*port = (unsigned)v;
	}
	return *hlen > 0;
}

bool ws_origin_ok(const char *origin, const char *host)
{
	const char *oh, *hh, *auth;
	size_t ohl, hhl;
	unsigned oport, hport, def;

	if (!origin || !host)
		return false;
	if (!strncasecmp(origin, "http://", 7)) {
		def = 80;
		auth = origin + 7;
	} else if (!strncasecmp(origin, "https://", 8)) {
		def = 443;
		auth = origin + 8;
	} else {
		return false;	/* "null", a file, an extension */
	}
	/* an origin has no path, but be lenient with a final slash */
	if (!split_authority(auth, strcspn(auth, "/"), &oh, &ohl, &oport) ||
	    !split_authority(host, strlen(host), &hh, &hhl, &hport))
		return false;
	if (auth[strcspn(auth, "/")] && strcmp(auth + strcspn(auth, "/"), "/"))
		return false;
	if (!oport)
		oport = def;
	if (ohl != hhl || strncasecmp(oh, hh, ohl))
		return false;
	return hport ? hport == oport : oport == def;
}

/* ---- frames ---- */

static bool opcode_known(unsigned op)
{
	return op == WS_OP_CONT || op == WS_OP_TEXT || op == WS_OP_BINARY ||
	       op == WS_OP_CLOSE || op == WS_OP_PING || op == WS_OP_PONG;
}

static int bad(uint16_t *code, uint16_t c)
{
	*code = c;
	return -1;
}

int ws_frame_header(const uint8_t *p, size_t n, bool require_mask,
		    uint64_t max, struct ws_frame *f, uint16_t *code)
{
	size_t hl = 2;
	unsigned len7;

	if (n < 2)
		return 0;
	memset(f, 0, sizeof(*f));
	f->fin = p[0] & 0x80;
	f->opcode = p[0] & 0x0f;
	f->masked = p[1] & 0x80;
	len7 = p[1] & 0x7f;
	if (p[0] & 0x70)
		return bad(code, WS_CLOSE_PROTOCOL);	/* no extensions */
	if (!opcode_known(f->opcode))
		return bad(code, WS_CLOSE_PROTOCOL);
	if (f->masked != require_mask)
		return bad(code, WS_CLOSE_PROTOCOL);
	if ((f->opcode & 0x8) && (!f->fin || len7 > WS_CONTROL_MAX))
		return bad(code, WS_CLOSE_PROTOCOL);
	if (len7 == 126) {
		if (n < 4)
			return 0;
		f->len = (uint64_t)p[2] << 8 | p[3];
		if (f->len < 126)
			return bad(code, WS_CLOSE_PROTOCOL);
		hl = 4;
	} else if (len7 == 127) {
		if (n < 10)
			return 0;
		for (int i = 0; i < 8; i++)
			f->len = f->len << 8 | p[2 + i];
		if ((f->len >> 63) || f->len <= 0xffff)
			return bad(code, WS_CLOSE_PROTOCOL);
		hl = 10;
	} else {
		f->len = len7;
	}
	if (f->len > max && !(f->opcode & 0x8))
		return bad(code, WS_CLOSE_TOO_BIG);
	if (f->masked) {
		if (n < hl + 4)
			return 0;
		memcpy(f->mask, p + hl, 4);
		hl += 4;
	}
	f->header_len = hl;
	return 1;
}

void ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset)
{
	for (size_t i = 0; i < n; i++)
		p[i] ^= mask[(offset + i) & 3];
}

void ws_frame_encode(struct buf *b, unsigned opcode, bool fin,
		     const void *payload, size_t n, const uint8_t *mask)
{
	uint8_t h[WS_HEADER_MAX];
	size_t hl = 2, start;

	h[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (n < 126) {
		h[1] = (uint8_t)n;
	} else if (n <= 0xffff) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	if (mask) {
		h[1] |= 0x80;
		memcpy(h + hl, mask, 4);
		hl += 4;
	}
	buf_add(b, h, hl);
	start = b->len;
	if (n)
		buf_add(b, payload, n);
	if (mask)
		ws_mask((uint8_t *)b->p + start, n, mask, 0);
}

/* The longest prefix of s, at most max bytes, that does not cut a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

void ws_close_encode(struct buf *b, uint16_t code, const char *reason,
		     const uint8_t *mask)
{
	uint8_t p[WS_CONTROL_MAX];
	size_t n = 0;

	if (code) {
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		n = 2;
		if (reason) {
			size_t r = utf8_cut(reason, WS_CONTROL_MAX - 2);

			memcpy(p + 2, reason, r);
			n += r;
		}
	}
	ws_frame_encode(b, WS_OP_CLOSE, true, p, n, mask);
}

bool ws_close_code_ok(unsigned code)
{
	return (code >= 1000 && code <= 1003) ||
	       (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

bool ws_utf8_ok(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];
		size_t len;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* ---- reading a client ---- */

void ws_reader_init(struct ws_reader *r, size_t max_message)
{
	memset(r, 0, sizeof(*r));
	r->in = (struct buf)BUF_INIT;
	r->msg = (struct buf)BUF_INIT;
	r->max_message = max_message;
}

void ws_reader_free(struct ws_reader *r)
{
	buf_free(&r->in);
	buf_free(&r->msg);
	r->off = 0;
}

void ws_reader_feed(struct ws_reader *r, const void *p, size_t n)
{
	if (!r->done && n)
		buf_add(&r->in, p, n);
}

size_t ws_reader_buffered(const struct ws_reader *r)
{
	return r->in.len - r->off + r->msg.len;
}

/* Moves what is left to the start of in. */
static void compact(struct ws_reader *r)
{
	if (!r->off)
		return;
	r->in.len -= r->off;
	memmove(r->in.p, r->in.p + r->off, r->in.len);
	r->in.p[r->in.len] = '\0';
	r->off = 0;
}

static int fail(struct ws_reader *r, struct ws_event *ev, uint16_t code,
		const char *why)
{
	r->done = true;
	ev->kind = WS_EV_ERROR;
	ev->code = code;
	ev->why = why;
	ev->data = NULL;
	ev->len = 0;
	return 1;
}

/* A close frame's payload: its code and reason checked. */
static int on_close(struct ws_reader *r, struct ws_event *ev,
		    const uint8_t *p, size_t n)
{
	if (n == 1)
		return fail(r, ev, WS_CLOSE_PROTOCOL, "a close frame of 1 byte");
	ev->code = WS_CLOSE_NO_STATUS;
	if (n >= 2) {
		ev->code = (uint16_t)(p[0] << 8 | p[1]);
		if (!ws_close_code_ok(ev->code))
			return fail(r, ev, WS_CLOSE_PROTOCOL,
				    "a close code that may not be sent");
		if (!ws_utf8_ok(p + 2, n - 2))
			return fail(r, ev, WS_CLOSE_BAD_DATA,
				    "a close reason that is not UTF-8");
	}
	r->done = true;
	ev->kind = WS_EV_CLOSE;
	ev->data = n > 2 ? p + 2 : NULL;
	ev->len = n > 2 ? n - 2 : 0;
	return 1;
}

/* A whole message: text must be UTF-8. */
static int on_message(struct ws_reader *r, struct ws_event *ev,
		      unsigned opcode, const uint8_t *p, size_t n)
{
	if (opcode == WS_OP_TEXT && !ws_utf8_ok(p, n))
		return fail(r, ev, WS_CLOSE_BAD_DATA,
			    "a text message that is not UTF-8");
	ev->kind = WS_EV_MESSAGE;
	ev->opcode = opcode;
	ev->data = p;
	ev->len = n;
	return 1;
}

/* A data frame (payload p, n bytes): a message, a fragment of one, or
 * 0 when it only added to the one under way. */
static int on_data(struct ws_reader *r, struct ws_event *ev,
		   const struct ws_frame *f, const uint8_t *p, size_t n)
{
	if (f->opcode == WS_OP_CONT) {
		if (!r->msg_opcode)
			return fail(r, ev, WS_CLOSE_PROTOCOL,
				    "a continuation with no message under "
				    "way");
		buf_add(&r->msg, p, n);
		if (!f->fin)
			return 0;
		r->msg_ready = true;
		return on_message(r, ev, r->msg_opcode,
				  (const uint8_t *)r->msg.p, r->msg.len);
	}
	if (r->msg_opcode)
		return fail(r, ev, WS_CLOSE_PROTOCOL, "a new message before "
			    "the last one ended");
	if (f->fin)
		return on_message(r, ev, f->opcode, p, n);
	r->msg_opcode = f->opcode;
	buf_add(&r->msg, p, n);
	return 0;
}

int ws_reader_next(struct ws_reader *r, struct ws_event *ev)
{
	struct ws_frame f;
	uint16_t code;

	if (r->msg_ready) {
		buf_reset(&r->msg);
		r->msg_opcode = 0;
		r->msg_ready = false;
	}
	while (!r->done) {
		uint8_t *p = (uint8_t *)r->in.p + r->off;
		size_t avail = r->in.len - r->off;
		int st = ws_frame_header(p, avail, true, r->max_message -
					 r->msg.len, &f, &code);
		const char *why = "a malformed frame header";

		if (st < 0) {
			if (code == WS_CLOSE_TOO_BIG)
				why = "a message over the limit";
			return fail(r, ev, code, why);
		}
		if (st == 0 || avail - f.header_len < f.len) {
			compact(r);
			return 0;
		}
		p += f.header_len;
		ws_mask(p, (size_t)f.len, f.mask, 0);
		r->off += f.header_len + (size_t)f.len;
		switch (f.opcode) {
		case WS_OP_PING:
		case WS_OP_PONG:
			ev->kind = f.opcode == WS_OP_PING ? WS_EV_PING :
				   WS_EV_PONG;
			ev->data = p;
			ev->len = (size_t)f.len;
			return 1;
		case WS_OP_CLOSE:
			return on_close(r, ev, p, (size_t)f.len);
		default:
			if (on_data(r, ev, &f, p, (size_t)f.len))
				return 1;
		}
	}
	return 0;
}
