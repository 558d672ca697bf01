/* wg-quick configuration files (/etc/wireguard/wg0.conf): read into a
 * model with every value located, turned into moat HCL, and written for a
 * client. Pure: the callers read and write the files. */
#ifndef MOAT_WG_QUICK_H
#define MOAT_WG_QUICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"
#include "wg/wg.h"

/* Values of a key that may hold several, in file order, each located. */
struct wg_quick_list {
	char **v;
	struct pos *at;
	size_t n;
	size_t cap;
};

struct wg_quick_peer {
	char *name;			/* "# Name = x" comment, else "peerN" */
	struct pos pos;			/* the [Peer] line */
	struct pos name_at;		/* the comment it came from, or pos */
	bool has_pub;
	uint8_t pub[WG_KEY_LEN];
	struct pos pub_at;
	bool has_psk;
	uint8_t psk[WG_KEY_LEN];
	struct pos psk_at;
	char *endpoint;			/* "host:port" as written, or NULL */
	struct pos endpoint_at;
	struct wg_quick_list allowed_ips;	/* "10.0.0.0/24": host bits
						 * cleared, /LEN always */
	int keepalive;			/* seconds; -1 unset, 0 "off" */
	struct pos keepalive_at;
};

struct wg_quick {
	char *file;			/* every pos.file points here */
	bool has_interface;
	struct pos interface_at;
	bool has_priv;
	uint8_t priv[WG_KEY_LEN];
	struct pos priv_at;
	struct wg_quick_list address;	/* "10.8.0.1/24"; /32 or /128 added
					 * when written without a length */
	struct wg_quick_list dns;	/* DNS entries that are addresses */
	struct wg_quick_list dns_search;	/* the others: search domains */
	int mtu;			/* 0: unset */
	struct pos mtu_at;
	int listen_port;		/* -1: unset; 0: random */
	struct pos listen_port_at;
	bool has_fwmark;
	uint32_t fwmark;		/* 0: "off" */
	struct pos fwmark_at;
	char *table;			/* as written, or NULL */
	struct pos table_at;
	int save_config;		/* -1: unset, 0 false, 1 true */
	struct pos save_config_at;
	struct wg_quick_list pre_up, post_up, pre_down, post_down;
	struct wg_quick_peer *peers;
	size_t npeers;
	size_t peers_cap;
};

/* Parses text (len bytes, from a file named file) as wg-quick reads it:
 * keys in any case, '#' comments, CRLF. Stricter than wg-quick where it
 * would silently take the last of two values: unknown keys, repeated
 * single keys and keys outside a section are errors. Every error goes to
 * dl with its line and column. Returns 0, or -1 with *out cleared. */
int wg_quick_parse(const char *text, size_t len, const char *file,
		   struct wg_quick *out, struct diag_list *dl);
/* Wipes the keys and frees everything; q may be NULL. */
void wg_quick_free(struct wg_quick *q);

/* moat HCL for q as `vpn { wireguard "NAME" { ... } }`, interface NAME.
 * What moat does not do (PreUp, PostUp, PreDown, PostDown, SaveConfig,
 * DNS search domains) is a warning at its line, never run. Returns the
 * text (the caller frees), or NULL when an error went to dl. */
char *wg_quick_to_hcl(const struct wg_quick *q, const char *name,
		      struct diag_list *dl);

/* What a client's wg-quick file holds: its side of one peer of a moat
 * device. Text values are copied as given (the caller validated them). */
struct wg_client_conf {
	bool has_priv;			/* false: the client keeps its own */
	uint8_t priv[WG_KEY_LEN];
	char *const *address;		/* the client's "10.8.0.2/32" */
	size_t naddress;
	char *const *dns;
	size_t ndns;
	int mtu;			/* 0: unset */
	uint8_t server_pub[WG_KEY_LEN];
	bool has_psk;
	uint8_t psk[WG_KEY_LEN];
	const char *endpoint;		/* the server's "host:port", or NULL */
	char *const *allowed_ips;	/* routed to the server: "0.0.0.0/0" */
	size_t nallowed;
	int keepalive;			/* seconds; 0: unset */
};

/* The client's wg-quick file; the caller frees (and wipes: it may hold
 * the private key). */
char *wg_quick_client(const struct wg_client_conf *c);

#endif
