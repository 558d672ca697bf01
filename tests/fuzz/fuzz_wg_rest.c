/* libFuzzer harness for what ctl reads of the wgrest requests api passes
 * on (src/wg/rest.c): the RPC params of a peer's create or change, and
 * the query values of a page.
 *  - byte 0 picks the part, the rest is its input;
 *  - 'b': a JSON body for wg_rest_req_parse: it takes it or says why in
 *    a message (never empty); what it took holds no more allowed IPs
 *    than the body had items;
 *  - 'q': a query value for sort, page numbers, keepalive durations, a
 *    key in a path, an endpoint host: each takes it or not; a duration
 *    it takes prints back and parses to the same; a host it takes has no
 *    byte that could end a line of a file;
 *  - 'l': q and sort as a client sends them, into the Link header: never
 *    a CR, LF or NUL (a header split). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "wg/rest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void body(const char *s, size_t n)
{
	json_t *o = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
	json_t *ips;
	struct wg_rest_req r;
	char err[256];

	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	memset(&r, 0, sizeof(r));
	err[0] = '\0';
	if (!wg_rest_req_parse(o, &r, err, sizeof(err))) {
		if (!err[0])
			abort();
	} else {
		ips = json_object_get(o, "allowed_ips");
		if (r.has_allowed && (!json_is_array(ips) ||
				      r.allowed.nallowed > json_array_size(ips)))
			abort();
		if (r.keepalive > 65535)
			abort();
	}
	wg_rest_req_clear(&r);
	json_decref(o);
}

static void query(const char *s)
{
	enum wg_rest_sort key;
	unsigned long v;
	unsigned sec, back;
	uint8_t k[WG_KEY_LEN];
	char d[32];
	bool desc;

	wg_rest_sort_parse(s, &key, &desc);
	if (wg_rest_uint_parse(s, 1000000, &v) && v > 1000000)
		abort();
	if (wg_rest_duration_parse(s, &sec)) {
		if (sec > 65535)
			abort();
		wg_rest_duration(sec, d);
		if (!wg_rest_duration_parse(d, &back) || back != sec)
			abort();
	}
	wg_rest_key_parse(s, k);
	if (wg_rest_host_ok(s) && strpbrk(s, "\r\n#\"'\\ \t"))
		abort();
}

static void link_header(const char *s, size_t n)
{
	const char *sort = memchr(s, '\n', n) ? strchr(s, '\n') + 1 : "";
	struct buf b = BUF_INIT;
	char q[256];
	size_t qn = (size_t)(sort[0] ? sort - 1 - s : n);

	if (qn >= sizeof(q))
		qn = sizeof(q) - 1;
	memcpy(q, s, qn);
	q[qn] = '\0';
	wg_rest_link(&b, "/v1/devices/wg0/peers/", q, sort, n % 7, 1 + n % 5,
		     n % 40);
	if (b.len && (memchr(b.p, '\r', b.len) || memchr(b.p, '\n', b.len) ||
		      memchr(b.p, '\0', b.len)))
		abort();
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0]) {
	case 'b':
		body(s, size - 1);
		break;
	case 'q':
		query(s);
		break;
	default:
		link_header(s, strlen(s));
		break;
	}
	free(s);
	return 0;
}
