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
/* Sets the preshared key, endpoint, keepalive and allowed IPs of the
 * peer of device dev with p's public key to p's (the REST API's PATCH).
 * 1 changed, 0 no such peer, -1 with a message in err. */
int store_wg_peer_update(struct store *s, const char *dev,
			 const struct wg_peer *p, char *err, size_t errlen);
int store_wg_peer_add(struct store *s, const char *dev,
		      const struct wg_peer *p, char *err, size_t errlen);
/* Removes the peer named (or keyed, base64) who from device dev: 1
 * removed, 0 no such peer, -1 error. */
int store_wg_peer_del(struct store *s, const char *dev, const char *who,
		      char *err, size_t errlen);

/* Config revisions: one row per config applied through ctl, with who,
 * from where and how it ended. */
struct store_revision {
	long long id, created_at;	/* created_at: unix seconds */
	char *author, *origin, *config_path, *config, *hash, *result,
	     *detail;
};

/* Adds r (created_at 0: now); hash is computed here from config (r->hash
 * is ignored); result is one of "applied", "failed", "rolled-back",
 * "pending" (awaiting confirm), "confirmed". Sets *id. 0 or -1. */
int store_revision_add(struct store *s, const struct store_revision *r,
		       long long *id, char *err, size_t errlen);
/* Sets the result (and detail, NULL: unchanged) of revision id. 0, or -1
 * with a message, also when there is no such revision. */
int store_revision_set_result(struct store *s, long long id,
			      const char *result, const char *detail,
			      char *err, size_t errlen);
/* Newest first, at most limit (0: all), config left NULL; *out is freed
 * with store_revisions_free. 0 or -1. */
int store_revisions_list(struct store *s, size_t limit,
			 struct store_revision **out, size_t *n,
			 char *err, size_t errlen);
/* Revision id with its config text: 0 found, 1 no such revision, -1
 * error. out is cleared with store_revision_clear. */
int store_revision_get(struct store *s, long long id,
		       struct store_revision *out, char *err, size_t errlen);
void store_revision_clear(struct store_revision *r);
void store_revisions_free(struct store_revision *v, size_t n);

/* The audit log: append-only, each row holding the SHA-256 of the row
 * before (prev) and of itself (hash), so an edited or deleted row breaks
 * the chain. Nothing secret goes in it: callers pass key names or public
 * keys, never private or preshared keys or passwords. */
struct store_audit {
	long long id, at;		/* at: unix milliseconds */
	const char *who;		/* "root", "uid 1000", "ctl" */
	const char *origin;		/* "ctl.sock", "api 192.0.2.5" */
	const char *action;		/* "apply", "wg.peer.add" */
	const char *detail;
	const char *result;		/* "ok" or the error */
	char prev[65], hash[65];	/* hex; prev of row 1 is 64 zeros */
};

/* Appends e (at 0: now); id, prev and hash are computed here, in one
 * transaction with reading the last row, so concurrent writers still
 * make one chain. Sets *id (may be NULL). 0 or -1. */
int store_audit_append(struct store *s, const struct store_audit *e,
		       long long *id, char *err, size_t errlen);
/* Calls cb on the rows with id > after, oldest first, at most limit (0:
 * all); strings live during the call; cb returns nonzero to stop. 0 or
 * -1. */
int store_audit_each(struct store *s, long long after, size_t limit,
		     int (*cb)(const struct store_audit *e, void *data),
		     void *data, char *err, size_t errlen);
/* Like store_audit_each on the last n rows (0: all), oldest first. */
int store_audit_tail(struct store *s, size_t n,
		     int (*cb)(const struct store_audit *e, void *data),
		     void *data, char *err, size_t errlen);
/* Recomputes the chain. 0 intact, with the row count in *rows; 1 broken,
 * with in *bad the first id where it breaks (a row whose hash or prev
 * does not verify, or the first missing id of a deleted row) and why in
 * err; -1 error. last (may be NULL) gets the hash of the last row
 * checked: the log's cutting off its newest rows can only be seen
 * against a copy of it kept elsewhere. */
int store_audit_verify(struct store *s, size_t *rows, long long *bad,
		       char last[65], char *err, size_t errlen);
/* The hash of e from its id, at, strings and prev (pure; for tests and
 * tools that check an exported log). */
void store_audit_hash(const struct store_audit *e, char hash[65]);

#endif
