/* The store's runtime WireGuard peers beyond adding, listing and removing
 * them (store.h): changing one in place, as the REST API's PATCH does. */
#ifndef MOAT_STORE_WG_PEERS_H
#define MOAT_STORE_WG_PEERS_H

#include <stddef.h>

#include "wg/wg.h"

struct store;

/* Sets the preshared key, endpoint, keepalive and allowed IPs of the
 * peer of device dev with p's public key to p's. 1 changed, 0 no such
 * peer, -1 with a message in err. */
int store_wg_peer_update(struct store *s, const char *dev,
			 const struct wg_peer *p, char *err, size_t errlen);

#endif
