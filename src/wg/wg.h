/* WireGuard: the device and peer model shared by the compiler, the two
 * backends (kernel generic netlink, wireguard-go's UAPI), the reconciler
 * and the wg-quick files. Pure types and helpers; no I/O here. */
#ifndef MOAT_WG_WG_H
#define MOAT_WG_WG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include "base/diag.h"

#define WG_KEY_LEN 32
#define WG_KEY_B64 45		/* 44 characters and the NUL */

/* One allowed IP prefix. */
struct wg_allowed {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network byte order; host bits cleared */
	uint8_t cidr;
};

/* A peer endpoint: an address and a port, both families. */
struct wg_endpoint {
	int family;		/* 0: none, AF_INET, AF_INET6 */
	uint8_t addr[16];
	uint16_t port;		/* host order */
};

struct wg_peer {
	char *name;			/* config or store name; NULL observed */
	uint8_t pub[WG_KEY_LEN];
	bool has_psk;
	uint8_t psk[WG_KEY_LEN];
	char *endpoint_text;		/* as configured ("host:port"), or NULL */
	struct wg_endpoint endpoint;	/* resolved, or observed */
	uint16_t keepalive;		/* seconds; 0: off */
	struct wg_allowed *allowed;
	size_t nallowed;
	size_t allowed_cap;
	/* observed only */
	int64_t handshake_sec;		/* 0: never */
	int64_t handshake_nsec;
	uint64_t rx_bytes, tx_bytes;
	/* planned only */
	struct pos pos;			/* where it was defined */
	bool from_store;		/* added at runtime (SQLite) */
};

struct wg_device {
	char *name;			/* the interface name */
	bool has_priv;
	uint8_t priv[WG_KEY_LEN];
	bool has_pub;			/* status: the private key's public
					 * half (the key itself wiped) */
	uint8_t pub[WG_KEY_LEN];
	uint16_t port;			/* 0: random (planned) */
	uint32_t fwmark;		/* 0: none */
	struct wg_peer *peers;
	size_t npeers;
	size_t peers_cap;
	/* planned only */
	struct pos pos;
	char *zone;
	int mtu;			/* 0: the default */
	char **addresses;		/* "10.200.0.1/24" */
	size_t naddresses;
	char **dns;
	size_t ndns;
	char *table;			/* NULL, "off", "auto" or a number */
	char *priv_file;		/* private_key_file, or NULL */
	struct pos priv_pos;		/* of the key or its file */
	bool enabled;
};

/* What one reconcile sends: device fields that differ, then per peer
 * what to change. A peer with remove set carries nothing else. */
enum wg_dev_field {
	WG_SET_PRIV = 1 << 0,
	WG_SET_PORT = 1 << 1,
	WG_SET_FWMARK = 1 << 2,
};

enum wg_peer_field {
	WG_PEER_REMOVE = 1 << 0,
	WG_PEER_PSK = 1 << 1,		/* set psk (zero: none) */
	WG_PEER_ENDPOINT = 1 << 2,
	WG_PEER_KEEPALIVE = 1 << 3,
	WG_PEER_ALLOWED = 1 << 4,	/* replace the allowed IPs */
	WG_PEER_NEW = 1 << 5,		/* not on the device yet (for people;
					 * backends need not look) */
};

struct wg_peer_change {
	const struct wg_peer *peer;	/* the planned peer (or observed, for
					 * a removal) */
	unsigned fields;		/* enum wg_peer_field */
};

struct wg_change {
	const struct wg_device *dev;	/* the planned device */
	unsigned fields;		/* enum wg_dev_field */
	struct wg_peer_change *peers;
	size_t npeers;
	size_t cap;
};

/* The devices a config asks for, enabled or not (a disabled one is
 * removed if moat made it). Positions point at plan->file. */
struct wg_plan {
	char *file;
	struct wg_device *devs;
	size_t ndevs;
};

struct moat_config;

/* Compiles the config's vpn { wireguard } blocks (validated by cfg_load).
 * Keys in files and generated keys are read by the caller (apply.c). NULL
 * with located errors in dl when something only the compiler sees is
 * wrong. */
struct wg_plan *wg_compile(const struct moat_config *cfg,
			   struct diag_list *dl);
void wg_plan_free(struct wg_plan *p);
const struct wg_device *wg_plan_device(const struct wg_plan *p,
				       const char *name);

/* The change that makes device obs (as read) into dev (planned): device
 * fields that differ; peers to add, change and remove, each with only
 * what differs. obs may be NULL (a new device). Peers are matched by key
 * through sorted indexes: O(n log n). */
void wg_diff(const struct wg_device *dev, const struct wg_device *obs,
	     struct wg_change *out);
void wg_change_free(struct wg_change *c);
bool wg_change_empty(const struct wg_change *c);
/* Appends one line per change to b, for people ("+ peer phone
 * (AbC...=) 10.200.0.2/32"). Never prints a private key or a psk. */
struct buf;
void wg_change_describe(const struct wg_change *c, struct buf *b);

/* Keys: base64 (standard alphabet, padded) both ways. */
void wg_key_to_b64(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_B64]);
bool wg_key_from_b64(const char *s, uint8_t key[WG_KEY_LEN]);
/* URL-safe base64 ('-' '_'), as wgrest names peers in paths. */
void wg_key_to_urlsafe(const uint8_t key[WG_KEY_LEN], char out[WG_KEY_B64]);
bool wg_key_from_urlsafe(const char *s, uint8_t key[WG_KEY_LEN]);
bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN]);

/* Model helpers. */
struct wg_peer *wg_device_add_peer(struct wg_device *d);
void wg_peer_add_allowed(struct wg_peer *p, const struct wg_allowed *a);
/* "10.0.0.0/24" -> allowed (host bits cleared); false when it is not a
 * prefix or an address. */
bool wg_allowed_parse(const char *s, struct wg_allowed *a);
/* "10.0.0.0/24", "fd00::/64" */
void wg_allowed_format(const struct wg_allowed *a, char *out, size_t n);
/* Family, then prefix length, then address; the order peers keep their
 * allowed IPs in (plans and devices as read), so that two lists compare
 * item by item. */
int wg_allowed_cmp(const struct wg_allowed *a, const struct wg_allowed *b);
void wg_allowed_sort(struct wg_allowed *v, size_t n);
/* "192.0.2.1:51820", "[2001:db8::1]:51820"; false when it is not an
 * address and a port (names are resolved by the caller). */
bool wg_endpoint_parse(const char *s, struct wg_endpoint *e);
void wg_endpoint_format(const struct wg_endpoint *e, char *out, size_t n);
bool wg_endpoint_equal(const struct wg_endpoint *a,
		       const struct wg_endpoint *b);
/* The first host (/32, /128) of the device's subnets of family that
 * neither one of its addresses nor a peer's allowed IPs cover: what a
 * peer added without allowed IPs gets. false when there is none. */
bool wg_device_first_free(const struct wg_device *d, int family,
			  struct wg_allowed *out);
const struct wg_peer *wg_device_find_peer(const struct wg_device *d,
					  const uint8_t pub[WG_KEY_LEN]);
void wg_peer_clear(struct wg_peer *p);
void wg_device_clear(struct wg_device *d);

#endif
