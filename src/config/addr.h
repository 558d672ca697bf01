/* Addresses, prefixes and endpoints as configs write them. Pure. */
#ifndef MOAT_CONFIG_ADDR_H
#define MOAT_CONFIG_ADDR_H

#include <stdbool.h>
#include <stdint.h>

struct cfg_prefix {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int len;		/* prefix length; 32 or 128 for an address */
	bool has_len;		/* written with /LEN */
};

enum {
	ADDR_PREFIX = 1 << 0,	/* "/LEN" allowed */
	ADDR_NEED_PREFIX = 1 << 1,	/* "/LEN" required */
	ADDR_V4 = 1 << 2,	/* only IPv4 */
	ADDR_V6 = 1 << 3,	/* only IPv6 */
};

/* Parses s; on failure returns false and sets *why to a reason. */
bool addr_parse(const char *s, unsigned flags, struct cfg_prefix *p,
		const char **why);
/* "host:port" or "[v6]:port"; the host may be a name. */
bool endpoint_parse(const char *s, const char **why);
/* A Linux interface name (1-15 bytes, no '/', ':' or spaces); a trailing
 * '+' (wildcard) is allowed when wildcard is true. */
bool ifname_valid(const char *s, bool wildcard, const char **why);
/* A WireGuard key: 32 bytes in base64 (44 characters ending in '='). */
bool wg_key_valid(const char *s);
/* A mark: decimal or 0x hex, fitting 32 bits. */
bool mark_parse(const char *s, uint32_t *out);
/* A listening address: "ADDR:PORT", "[V6]:PORT" or ":PORT" (every IPv4
 * address). ss gets it when not NULL. */
struct sockaddr_storage;
bool listen_parse(const char *s, struct sockaddr_storage *ss,
		  unsigned *len);
/* A duration: "3600" (seconds), "90s", "30m", "12h" or "7d", more than
 * zero and at most 10 years. *ms gets it in milliseconds (may be NULL). */
bool duration_parse(const char *s, long long *ms);

/* Whether a listening address (listen_parse's syntax) takes connections
 * from this host only: 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. ":PORT",
 * 0.0.0.0, :: and anything that does not parse are not loopback. */
bool listen_is_loopback(const char *s);

#endif
