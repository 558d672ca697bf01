/* ctl's RPC: the framing and the shape of messages (pure). A frame is a
 * 4-byte big-endian length, then that many bytes of one JSON object:
 *   request  {"id": ID, "method": "NAME", "params": {...}}
 *   answer   {"id": ID, "result": ...}  or  {"id": ID, "error": {"code",
 *            "message"}}
 *   event    {"event": "NAME", "data": {...}}
 * The CLI speaks it on /run/moat/ctl.sock, api on its socketpair. */
#ifndef MOAT_CTL_RPC_H
#define MOAT_CTL_RPC_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"

/* A frame longer than this is refused (and the connection closed). */
#define RPC_MAX_FRAME (4u << 20)

/* Error codes in {"error": {"code": ...}} (JSON-RPC's where they fit). */
enum {
	RPC_E_PARSE = -32700,		/* not JSON, not an object */
	RPC_E_REQUEST = -32600,		/* not a request */
	RPC_E_METHOD = -32601,		/* no such method */
	RPC_E_PARAMS = -32602,		/* bad params */
	RPC_E_DENIED = -32001,		/* the caller's role may not */
	RPC_E_FAILED = -32002,		/* the method ran and failed */
	RPC_E_BUSY = -32003,		/* another change is under way */
	RPC_E_NOTFOUND = -32004,	/* no such thing */
	RPC_E_CONFLICT = -32005,	/* exists, or the state forbids it */
	RPC_E_UNAUTH = -32006,		/* no valid credentials */
	RPC_E_SETUP = -32007,		/* setup is not done */
	RPC_E_LIMIT = -32008,		/* too many attempts: wait */
	RPC_E_INVALID = -32009,		/* a config that does not load */
};

/* Appends obj as one frame to b. -1 when it would exceed RPC_MAX_FRAME. */
int rpc_frame(struct buf *b, const json_t *obj);

/* Splits a byte stream into messages. */
struct rpc_reader {
	struct buf in;
	size_t off;		/* where the next frame starts in in */
};

void rpc_reader_feed(struct rpc_reader *r, const void *p, size_t n);
/* 1: *msg is the next message (the caller json_decref()s it); 0: more
 * bytes are needed; -1: the stream is bad (a frame over the limit, not
 * JSON, not an object), err says what; the connection should close. */
int rpc_next(struct rpc_reader *r, json_t **msg, char *err, size_t errlen);
void rpc_reader_free(struct rpc_reader *r);

/* Takes a request apart: id (an integer or a string, borrowed), method,
 * params (an object; an empty one when absent, borrowed from msg or a
 * static empty object). 0, or -1 with err saying what is wrong. */
int rpc_request(json_t *msg, json_t **id, const char **method,
		json_t **params, char *err, size_t errlen);

/* New answers (the caller owns them). result is stolen. */
json_t *rpc_result(json_t *id, json_t *result);
json_t *rpc_error(json_t *id, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
json_t *rpc_event(const char *name, json_t *data);	/* data stolen */
#endif
