/* The state store: SQLite in WAL mode at STATE_DIR/moat.db, schema by
 * versioned migrations (PRAGMA user_version). What changes at runtime
 * lives here: for now the WireGuard peers added with `moat wg peer add`. */
#ifndef MOAT_STORE_STORE_H
#define MOAT_STORE_STORE_H

#include <stddef.h>

#include "wg/wg.h"

struct store;

/* Opens (creating the file, mode 0600, and migrating the schema) the
 * store of state_dir. NULL with a message in err. */
struct store *store_open(const char *state_dir, char *err, size_t errlen);
void store_close(struct store *s);

/* Runtime peers of device dev, appended to d->peers with from_store set.
 * 0, or -1 with a message in err. */
int store_wg_peers(struct store *s, const char *dev, struct wg_device *d,
		   char *err, size_t errlen);
/* Adds peer p to device dev. -1 with a message when the name or the key
 * is taken on that device. */
int store_wg_peer_add(struct store *s, const char *dev,
		      const struct wg_peer *p, char *err, size_t errlen);
/* Removes the peer named (or keyed, base64) who from device dev: 1
 * removed, 0 no such peer, -1 error. */
int store_wg_peer_del(struct store *s, const char *dev, const char *who,
		      char *err, size_t errlen);

#endif
