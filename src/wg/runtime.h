/* Runtime peers: those added after the config, by `moat wg peer` or the
 * REST API, kept in the store (STATE_DIR/moat.db) and sent to the device
 * one at a time. The CLI (cli/wg_peer.c) and ctl (ctl/m_wg.c) share this
 * one implementation: the checks and the client config are pure
 * (runtime.c); changing the store and the device is runtime_io.c.
 *
 * A change of one peer costs the same beside ten peers or ten thousand:
 * nothing here reads the device's other peers or the whole store. */
#ifndef MOAT_WG_RUNTIME_H
#define MOAT_WG_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/wg.h"

struct moat_config;
struct store;

/* A peer's name: letters, digits, "_.-@", 1 to 64 bytes. */
bool wg_rt_name_ok(const char *s);
/* "10.0.0.2/32, fd00::2/128" (commas, optional spaces) appended to p's
 * allowed IPs, sorted. false with the item at fault in bad. */
bool wg_rt_allowed_parse(const char *list, struct wg_peer *p, char *bad,
			 size_t badlen);
/* The peer of d named who, or keyed who (base64 or URL-safe). */
const struct wg_peer *wg_rt_find(const struct wg_device *d, const char *who);
/* The peer of d with p's name or p's key (*what says which), or NULL. */
const struct wg_peer *wg_rt_clash(const struct wg_device *d,
				  const struct wg_peer *p, const char **what);
/* A peer of d other than p's key that has one of p's allowed IPs exactly
 * (WireGuard would move it to p silently), with that prefix in *which; or
 * NULL. */
const struct wg_peer *wg_rt_allowed_taken(const struct wg_device *d,
					  const struct wg_peer *p,
					  struct wg_allowed *which);
/* wg_device_first_free's answer (the first host of d's subnets of family
 * that neither one of its addresses nor a peer's allowed IPs cover) in
 * O(n log n) of the peers rather than a walk of every peer per host: a
 * peer added beside 10,000 costs a sort, not 10,000 walks. */
bool wg_rt_first_free(const struct wg_device *d, int family,
		      struct wg_allowed *out);
/* The fields a runtime peer's first sending sets. */
unsigned wg_rt_new_fields(const struct wg_peer *p);

/* Where clients reach the gateway: given ("HOST" gets port), else the
 * first IPv4 address of an interface with a gateway (the uplink) and
 * port; NULL when neither. The caller frees. */
char *wg_rt_server_endpoint(const struct moat_config *cfg, const char *given,
			    uint16_t port);
/* The client's wg-quick file for peer p of device d: Address = p's
 * allowed IPs, AllowedIPs = d's subnets (all_traffic: 0.0.0.0/0, ::/0),
 * DNS, MTU, the server's public key, the preshared key, endpoint (may be
 * NULL: no Endpoint line). priv NULL: a commented PrivateKey line for the
 * client to fill in. The caller wipes and frees it. */
char *wg_rt_client_conf(const struct wg_device *d, const struct wg_peer *p,
			const uint8_t server_pub[WG_KEY_LEN],
			const uint8_t *priv, const char *endpoint,
			bool all_traffic);

/* ---- the store and the device (runtime_io.c) ---- */

/* Sends fields of peer p to device dev, whatever else it holds. 0 (also
 * when the device is not up: *live false), or -1 with err. */
int wg_rt_send(const char *dev, const struct wg_peer *p, unsigned fields,
	       bool *live, char *err, size_t errlen);
/* Stores p (the caller checked wg_rt_clash) and sends it; when the device
 * refuses it, it leaves the store again. 0 or -1 with err. */
int wg_rt_add(struct store *s, const char *dev, const struct wg_peer *p,
	      bool *live, char *err, size_t errlen);
/* Removes stored peer p from the store and the device; when the device
 * refuses, p goes back to the store. 0, 1 when the store had no such
 * peer, -1 with err. */
int wg_rt_del(struct store *s, const char *dev, const struct wg_peer *p,
	      bool *live, char *err, size_t errlen);
/* Makes stored peer old into p (same key and name): the store, then what
 * differs on the device; when the device refuses, the store gets old
 * back. 0 or -1 with err. */
int wg_rt_update(struct store *s, const char *dev, const struct wg_peer *old,
		 const struct wg_peer *p, bool *live, char *err,
		 size_t errlen);

#endif
