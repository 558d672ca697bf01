/* RFC 6455 WebSockets, the pure half: the opening handshake's checks and
 * its Sec-WebSocket-Accept (SHA-1, base64), frames encoded (server to
 * client, never masked) and decoded (client to server, always masked),
 * messages reassembled from fragments, UTF-8 and close codes checked,
 * every length bounded. No I/O and no clock: ws_io.c moves the bytes. */
#ifndef MOAT_API_WS_H
#define MOAT_API_WS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* A control frame's payload is at most this (RFC 6455 5.5). */
#define WS_CONTROL_MAX 125
/* "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" and the NUL. */
#define WS_ACCEPT_LEN 29
/* A frame header is at most 2 + 8 + 4 bytes. */
#define WS_HEADER_MAX 14

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

/* Close codes (RFC 6455 7.4.1). */
enum {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS = 1005,	/* never sent: none was given */
	WS_CLOSE_BAD_DATA = 1007,
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
	WS_CLOSE_TRY_AGAIN = 1013,
};

/* ---- the opening handshake ---- */

/* SHA-1 (RFC 3174): only for the handshake, which RFC 6455 fixes to it. */
void ws_sha1(const void *data, size_t n, uint8_t out[20]);
/* Standard base64 with padding; out has room for 4 * ((n + 2) / 3) + 1. */
void ws_base64(const uint8_t *p, size_t n, char *out);
/* Whether a Sec-WebSocket-Key is what RFC 6455 4.1 says: base64 of 16
 * bytes (24 characters). */
bool ws_key_ok(const char *key);
/* Sec-WebSocket-Accept for key (checked with ws_key_ok first). */
void ws_accept(const char *key, char out[WS_ACCEPT_LEN]);
/* Whether a header's comma-separated list holds token (case-insensitive):
 * "keep-alive, Upgrade" has "upgrade". NULL has nothing. */
bool ws_has_token(const char *value, const char *token);
/* Whether the Origin a browser sent ("https://gw.lan:8443") names the
 * host and port of the Host header the request came with. A Host without
 * a port takes the origin's scheme's default (a proxy may have ended
 * TLS). "null", another scheme than http(s), another host: false. */
bool ws_origin_ok(const char *origin, const char *host);

/* ---- frames ---- */

/* A frame's header as decoded. */
struct ws_frame {
	bool fin;
	unsigned opcode;
	bool masked;
	uint8_t mask[4];
	uint64_t len;			/* of the payload */
	size_t header_len;
};

/* Decodes the frame header at p (n bytes). 1 with f filled, 0 when more
 * bytes are needed, -1 with *code the close code to answer: reserved bits
 * set (no extension is agreed), an unknown opcode, a fragmented or long
 * control frame, a mask missing (require_mask) or there (a server's
 * frame), a length not in its shortest form or with the top bit set, a
 * payload over max. */
int ws_frame_header(const uint8_t *p, size_t n, bool require_mask,
		    uint64_t max, struct ws_frame *f, uint16_t *code);
/* XORs n bytes with the mask, as if they started at offset in the
 * payload. Masking and unmasking are the same. */
void ws_mask(uint8_t *p, size_t n, const uint8_t mask[4], uint64_t offset);
/* Appends one frame. mask NULL: unmasked, as a server sends. */
void ws_frame_encode(struct buf *b, unsigned opcode, bool fin,
		     const void *payload, size_t n, const uint8_t *mask);
/* Appends a close frame: code (none when 0) and a reason (UTF-8, cut to
 * what fits in a control frame). */
void ws_close_encode(struct buf *b, uint16_t code, const char *reason,
		     const uint8_t *mask);
/* Whether a peer may send code in a close frame (RFC 6455 7.4). */
bool ws_close_code_ok(unsigned code);
/* Whether p is well-formed UTF-8: no overlong forms, no surrogates,
 * nothing past U+10FFFF. */
bool ws_utf8_ok(const uint8_t *p, size_t n);

/* ---- reading a client ---- */

enum ws_event_kind {
	WS_EV_MESSAGE,		/* a whole text or binary message */
	WS_EV_PING,		/* answer with a pong of the same data */
	WS_EV_PONG,
	WS_EV_CLOSE,		/* the client closes: answer, then close */
	WS_EV_ERROR,		/* the client broke the protocol: close
				 * with code */
};

struct ws_event {
	enum ws_event_kind kind;
	unsigned opcode;		/* WS_EV_MESSAGE: text or binary */
	const uint8_t *data;		/* valid until the next call */
	size_t len;
	uint16_t code;			/* close: the client's (1005 when
					 * none); error: the one to send */
	const char *why;		/* error: for the log (static) */
};

/* A client's bytes, turned into events. */
struct ws_reader {
	struct buf in;			/* bytes not yet a whole frame */
	size_t off;			/* consumed from in */
	struct buf msg;			/* a fragmented message so far */
	unsigned msg_opcode;		/* 0: none under way */
	bool msg_ready;			/* msg was handed out: reset it */
	size_t max_message;
	bool done;			/* after a close or an error */
};

/* A reader taking messages of at most max_message bytes (1009 beyond). */
void ws_reader_init(struct ws_reader *r, size_t max_message);
void ws_reader_free(struct ws_reader *r);
/* Appends bytes read from the client. */
void ws_reader_feed(struct ws_reader *r, const void *p, size_t n);
/* The next event: 1 with ev, 0 when more bytes are needed. After a close
 * or an error, 0 for ever. Buffered bytes never exceed one frame header,
 * one payload of at most max_message and what the last feed added. */
int ws_reader_next(struct ws_reader *r, struct ws_event *ev);
/* Bytes held, for the caller's bound on what it reads. */
size_t ws_reader_buffered(const struct ws_reader *r);

#endif
