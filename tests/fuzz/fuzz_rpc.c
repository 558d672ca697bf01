/* libFuzzer harness for ctl's RPC codec (src/ctl/rpc.c).
 *  - The first byte says how the rest is cut, as recv would cut it: its
 *    low 3 bits are a count of chunk-size bytes that follow (0: the
 *    stream comes in one piece), its high bits a shift; the sizes,
 *    (c + 1) << shift, are used in turn. The rest is the stream;
 *  - after each piece, rpc_next until it wants more or says the stream
 *    is bad, which ends it, as ctl closes the connection;
 *  - whatever the reader says, ctl can answer it: every rpc_error,
 *    rpc_result and rpc_event made as server.c makes them exists, frames
 *    and reads back to the same object, with the same id;
 *  - a request that passes has an integer or string id, a method and an
 *    object for params; one that fails says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "ctl/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Frames ans, reads it back and checks it is the same; takes ans. */
static void round_trip(json_t *ans)
{
	struct rpc_reader r = { BUF_INIT, 0 };
	struct buf b = BUF_INIT;
	char err[256];
	json_t *back, *id;

	if (!ans || rpc_frame(&b, ans) < 0)
		abort();	/* no answer at all: the client would hang */
	rpc_reader_feed(&r, b.p, b.len);
	if (rpc_next(&r, &back, err, sizeof(err)) != 1 ||
	    !json_equal(ans, back))
		abort();
	/* an event has none (and json_equal(NULL, NULL) is false) */
	id = json_object_get(ans, "id");
	if (id && !json_equal(id, json_object_get(back, "id")))
		abort();
	json_decref(back);
	if (rpc_next(&r, &back, err, sizeof(err)) != 0 || back)
		abort();
	rpc_reader_free(&r);
	buf_free(&b);
	json_decref(ans);
}

/* What dispatch() in server.c does with a message, minus the methods. */
static void answer(json_t *msg)
{
	json_t *id, *params;
	const char *method;
	char err[256];

	err[0] = '\0';
	if (rpc_request(msg, &id, &method, &params, err, sizeof(err)) < 0) {
		if (!err[0] || strnlen(err, sizeof(err)) == sizeof(err))
			abort();
		round_trip(rpc_error(json_object_get(msg, "id"),
				     RPC_E_REQUEST, "%s", err));
		return;
	}
	if (!(json_is_integer(id) || json_is_string(id)) || !method ||
	    !method[0] || !json_is_object(params) ||
	    id != json_object_get(msg, "id"))
		abort();
	round_trip(rpc_error(id, RPC_E_METHOD, "no method \"%.64s\"",
			     method));
	round_trip(rpc_error(id, RPC_E_FAILED, "%s", method));
	round_trip(rpc_result(id, json_pack("{sO}", "params", params)));
	round_trip(rpc_event(method, json_deep_copy(params)));
}

static void feed(const uint8_t *p, size_t n, const uint8_t *sizes,
		 size_t nsizes, unsigned shift)
{
	struct rpc_reader r = { BUF_INIT, 0 };
	size_t off = 0, i = 0;
	char err[256];
	json_t *msg;
	int ret = 0;

	while (off < n && ret >= 0) {
		size_t c = nsizes ? (size_t)(sizes[i++ % nsizes] + 1) << shift
				  : n;

		if (c > n - off)
			c = n - off;
		rpc_reader_feed(&r, p + off, c);
		off += c;
		err[0] = '\0';
		while ((ret = rpc_next(&r, &msg, err, sizeof(err))) == 1) {
			if (!json_is_object(msg))
				abort();
			answer(msg);
			json_decref(msg);
			err[0] = '\0';
		}
		if (msg)
			abort();
		if (ret < 0) {
			/* a bad stream says why, and ctl can tell the
			 * client before closing */
			if (!err[0] || strnlen(err, sizeof(err)) == sizeof(err))
				abort();
			round_trip(rpc_error(NULL, RPC_E_PARSE, "%s", err));
		}
	}
	rpc_reader_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nsizes;

	/* a request echoed can grow (1e-5 prints as 22 bytes): stay far
	 * below RPC_MAX_FRAME so that every answer frames */
	if (size < 1 || size > 1 << 18)
		return 0;
	nsizes = data[0] & 7;
	if (size - 1 < nsizes)
		return 0;
	feed(data + 1 + nsizes, size - 1 - nsizes, data + 1, nsizes,
	     (data[0] >> 3) % 9);
	return 0;
}
