/* The WireGuard REST API's shapes, as wgrest (github.com/suquant/wgrest)
 * has them, so that its clients work unchanged: peer and device objects,
 * a page of peers filtered (q) and sorted (sort, "-" for descending), the
 * GitHub-style Link header, RFC 3339 times, Go's durations ("25s") and
 * URL-safe keys. Pure: no I/O, no clock; the callers (ctl/m_wg.c,
 * api/h_wg.c) pass what they read. */
#ifndef MOAT_WG_REST_H
#define MOAT_WG_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "wg/wg.h"

struct buf;

/* per_page when the query has none, and the most a page may hold. */
#define WG_REST_PER_PAGE 100
#define WG_REST_PER_PAGE_MAX 1000
/* quick.conf.png: its width when the query has none, and the bounds. */
#define WG_REST_PNG_WIDTH 256
#define WG_REST_PNG_MIN 64
#define WG_REST_PNG_MAX 2048
/* The longest q accepted (bytes). */
#define WG_REST_Q_MAX 128

enum wg_rest_sort {
	WG_SORT_NONE,		/* the plan's order: config, then runtime */
	WG_SORT_PUBKEY,		/* "pub_key": the base64 text */
	WG_SORT_RX,		/* "receive_bytes" */
	WG_SORT_TX,		/* "transmit_bytes" */
	WG_SORT_TOTAL,		/* "total_bytes" */
	WG_SORT_HANDSHAKE,	/* "last_handshake_time" */
};

/* A peer as listed: the planned one and, when the device has it, the
 * device's (handshake, counters, the endpoint it roams to). */
struct wg_rest_row {
	const struct wg_peer *plan;
	const struct wg_peer *live;	/* NULL: not on the device (yet) */
	char key[WG_KEY_B64];		/* plan->pub in base64, filled by
					 * wg_rest_select for q and pub_key */
};

/* sort: "", "pub_key", "-receive_bytes", ... false when unknown. */
bool wg_rest_sort_parse(const char *s, enum wg_rest_sort *key, bool *desc);
/* A query number (page, per_page, width): decimal digits only, at most
 * max. false when it is not. */
bool wg_rest_uint_parse(const char *s, unsigned long max, unsigned long *out);

/* Keeps the rows q matches (case-insensitive, in the public key, the
 * endpoint, an allowed IP or the name; "" matches all) at the front,
 * sorted by key (ties: by the public key's bytes, so that pages never
 * overlap); returns how many. */
size_t wg_rest_select(struct wg_rest_row *rows, size_t n, const char *q,
		      enum wg_rest_sort key, bool desc);
/* The rows [*start, *end) of page (from 0) of per_page among total. */
void wg_rest_page(size_t total, size_t page, size_t per_page, size_t *start,
		  size_t *end);
/* The Link header of a page (nothing when total is 0): first, last,
 * prev, next, each "<path?page=..&per_page=..&q=..&sort=..>; rel=..."
 * with the query escaped as Go's url.Values.Encode does (keys sorted). */
void wg_rest_link(struct buf *out, const char *path, const char *q,
		  const char *sort, size_t page, size_t per_page,
		  size_t total);

/* RFC 3339 in UTC as Go's time.Time marshals it ("2024-05-01T10:00:00Z",
 * a fraction without trailing zeros); a zero time (never) is
 * "0001-01-01T00:00:00Z". */
void wg_rest_time(int64_t sec, int64_t nsec, char out[40]);
/* Whole seconds as Go's time.Duration.String(): "0s", "25s", "1m30s". */
void wg_rest_duration(unsigned sec, char out[32]);
/* Go's time.ParseDuration for a keepalive: "25s", "1m", "1m30s", "0",
 * "25000ms"; whole seconds from 0 to 65535. false otherwise. */
bool wg_rest_duration_parse(const char *s, unsigned *sec);
/* A key in a path: URL-safe base64 with or without its '=' (wgrest's
 * url_safe_public_key), or the standard alphabet. */
bool wg_rest_key_parse(const char *s, uint8_t key[WG_KEY_LEN]);
/* An endpoint a client config may name: HOST, HOST:PORT, [V6]:PORT,
 * where HOST is a DNS name or an address; no other bytes (it goes into
 * a file). */
bool wg_rest_host_ok(const char *s);

/* A peer object (wgrest's Peer) as JSON text appended to b, from the
 * planned peer and the device's: preshared_key only when with_psk,
 * private_key only when priv is given (a key pair made for the client,
 * answered once). Written as text, not built as jansson values: a page of
 * a hundred peers is answered a thousand times a second. b should be a
 * secret buffer when it may hold a key. */
void wg_rest_peer_text(struct buf *b, const struct wg_peer *plan,
		       const struct wg_peer *live, bool with_psk,
		       const uint8_t *priv);
/* The same as a JSON object; the caller decrefs it. */
json_t *wg_rest_peer_json(const struct wg_peer *plan,
			  const struct wg_peer *live, bool with_psk,
			  const uint8_t *priv);

/* A request to create or change a peer (wgrest's PeerCreateOrUpdateRequest
 * and moat's "name"), checked. */
struct wg_rest_req {
	bool has_pub, has_priv, has_psk, has_allowed, has_keepalive,
	     has_endpoint;
	uint8_t pub[WG_KEY_LEN];
	uint8_t priv[WG_KEY_LEN];	/* wiped by wg_rest_req_clear */
	uint8_t psk[WG_KEY_LEN];	/* zero: none */
	struct wg_peer allowed;		/* only allowed/nallowed used */
	unsigned keepalive;
	struct wg_endpoint endpoint;	/* family 0: none ("") */
	char endpoint_text[64];
	char name[65];			/* "" none */
};

/* Reads o (the request body as api passed it) into r. false with a
 * message and the field at fault in err (both safe to send back: no
 * secret is quoted). */
bool wg_rest_req_parse(const json_t *o, struct wg_rest_req *r, char *err,
		       size_t errlen);
void wg_rest_req_clear(struct wg_rest_req *r);

#endif
