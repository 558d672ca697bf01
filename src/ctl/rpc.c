/* ctl's RPC framing and message shapes. Pure: bytes in, JSON out. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl/rpc.h"

int rpc_frame(struct buf *b, const json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	size_t n = text ? strlen(text) : 0;
	unsigned char len[4];

	if (!text || n > RPC_MAX_FRAME) {
		free(text);
		return -1;
	}
	len[0] = (unsigned char)(n >> 24);
	len[1] = (unsigned char)(n >> 16);
	len[2] = (unsigned char)(n >> 8);
	len[3] = (unsigned char)n;
	buf_add(b, len, sizeof(len));
	buf_add(b, text, n);
	free(text);
	return 0;
}

void rpc_reader_feed(struct rpc_reader *r, const void *p, size_t n)
{
	/* drop what was read once it is most of the buffer */
	if (r->off && r->off >= r->in.len / 2) {
		memmove(r->in.p, r->in.p + r->off, r->in.len - r->off);
		r->in.len -= r->off;
		r->in.p[r->in.len] = '\0';
		r->off = 0;
	}
	buf_add(&r->in, p, n);
}

int rpc_next(struct rpc_reader *r, json_t **msg, char *err, size_t errlen)
{
	const unsigned char *p = (const unsigned char *)r->in.p + r->off;
	size_t have = r->in.len - r->off, n;
	json_error_t je;

	*msg = NULL;
	if (have < 4)
		return 0;
	n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (n > RPC_MAX_FRAME) {
		snprintf(err, errlen, "a frame of %zu bytes (at most %u)", n,
			 RPC_MAX_FRAME);
		return -1;
	}
	if (have - 4 < n)
		return 0;
	/* JSON_REJECT_DUPLICATES: {"role":"viewer","role":"admin"} must
	 * not mean whatever the last key says */
	*msg = json_loadb((const char *)p + 4, n, JSON_REJECT_DUPLICATES, &je);
	r->off += 4 + n;
	if (!*msg) {
		snprintf(err, errlen, "not JSON: %s (at byte %d)", je.text,
			 je.position);
		return -1;
	}
	if (!json_is_object(*msg)) {
		json_decref(*msg);
		*msg = NULL;
		snprintf(err, errlen, "a message must be a JSON object");
		return -1;
	}
	return 1;
}

void rpc_reader_free(struct rpc_reader *r)
{
	buf_free(&r->in);
	r->off = 0;
}

int rpc_request(json_t *msg, json_t **id, const char **method,
		json_t **params, char *err, size_t errlen)
{
	static json_t *empty;
	json_t *m;

	*id = json_object_get(msg, "id");
	if (!*id || !(json_is_integer(*id) || json_is_string(*id))) {
		snprintf(err, errlen, "a request needs an \"id\" (integer or "
			 "string)");
		return -1;
	}
	m = json_object_get(msg, "method");
	if (!json_is_string(m) || !json_string_length(m)) {
		snprintf(err, errlen, "a request needs a \"method\" string");
		return -1;
	}
	*method = json_string_value(m);
	*params = json_object_get(msg, "params");
	if (!*params || json_is_null(*params)) {
		if (!empty)
			empty = json_object();
		*params = empty;
	} else if (!json_is_object(*params)) {
		snprintf(err, errlen, "\"params\" must be an object");
		return -1;
	}
	return 0;
}

json_t *rpc_result(json_t *id, json_t *result)
{
	return json_pack("{sOso}", "id", id ? id : json_null(), "result",
			 result ? result : json_object());
}

/* The length of the UTF-8 character at s (n bytes left), 0 when it is not
 * a valid one (cut, overlong, a surrogate, over U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t c;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (len > n)
		return 0;
	c = s[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return len;
}

json_t *rpc_error(json_t *id, int code, const char *fmt, ...)
{
	char msg[1024];
	size_t n, k;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* jansson refuses a string that is not UTF-8, and then there would
	 * be no answer at all: a character cut by the 1024 bytes here or by
	 * a caller's %.64s (server.c's "no method"), or any byte that is not
	 * UTF-8, becomes '?' */
	n = strlen(msg);
	for (size_t i = 0; i < n; i += k)
		if (!(k = utf8_len((unsigned char *)msg + i, n - i))) {
			msg[i] = '?';
			k = 1;
		}
	return json_pack("{sOs{siss}}", "id", id ? id : json_null(), "error",
			 "code", code, "message", msg);
}

json_t *rpc_event(const char *name, json_t *data)
{
	return json_pack("{ssso}", "event", name, "data",
			 data ? data : json_object());
}
