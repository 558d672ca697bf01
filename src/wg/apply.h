/* Making the kernel hold a WireGuard plan: keys read or generated, runtime
 * peers merged from the store, endpoints resolved, devices created (the
 * kernel's wireguard link, else wireguard-go), each device changed by
 * delta, and what this apply did undone when something after it fails. */
#ifndef MOAT_WG_APPLY_H
#define MOAT_WG_APPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "wg/wg.h"

struct buf;

enum wg_backend {
	WG_BACKEND_NONE,	/* the device does not exist */
	WG_BACKEND_KERNEL,
	WG_BACKEND_USERSPACE,
};

struct wg_apply_opts {
	const char *state_dir;
	const char *config;	/* the config's path, for the supervisor */
	bool dry_run;		/* read only: no key is generated either */
};

/* One device's part of an apply. */
struct wg_dev_txn {
	const struct wg_device *dev;	/* planned; NULL: to remove */
	char name[16];
	enum wg_backend backend;
	bool exists;
	struct wg_device before;	/* as read, when it existed */
	struct wg_change c;
	bool created, changed, removed;
};

struct wg_txn {
	struct wg_dev_txn *d;
	size_t n;
	char **owned;		/* devices moat made (STATE_DIR/wg.state) */
	size_t nowned;
};

/* Completes the plan for applying: private keys (config, file, or kept
 * in STATE_DIR/wg/NAME.key, generated on first use unless dry_run), the
 * store's runtime peers (a clash with a config peer is an error), peer
 * endpoints given by name resolved. 0 or -1 with located errors. */
int wg_prepare(struct wg_plan *plan, const struct wg_apply_opts *o,
	       struct diag_list *dl);
/* Reads the devices and computes each change (nothing is touched). */
int wg_plan_changes(const struct wg_plan *plan, const struct wg_apply_opts *o,
		    struct wg_txn *t, struct diag_list *dl);
/* Creates, changes and removes devices. On a failure what it did is
 * undone and -1 returned with the error located. */
int wg_commit(struct wg_txn *t, const struct wg_apply_opts *o,
	      struct diag_list *dl);
/* Undoes a committed txn (something after it failed). */
void wg_undo(struct wg_txn *t, const struct wg_apply_opts *o);
void wg_txn_free(struct wg_txn *t);
/* "2 devices, +1 peer -1 peer" */
void wg_txn_summary(const struct wg_txn *t, char *out, size_t n);
void wg_txn_describe(const struct wg_txn *t, struct buf *b);
bool wg_txn_changes(const struct wg_txn *t);

/* Which backend holds the device, without reading it. */
enum wg_backend wg_backend_of(const char *name);
/* The device as the kernel or wireguard-go holds it. 0 or -errno. */
int wg_read(const char *name, struct wg_device *out, enum wg_backend *be,
	    char *err, size_t errlen);
int wg_write(enum wg_backend be, const struct wg_change *c, char *err,
	     size_t errlen);
/* Whether the state dir says moat made any device (so the apply fast path
 * cannot skip WireGuard). */
bool wg_state_has_devices(const char *state_dir);
/* The device's private key as apply uses it (config, file or state);
 * false when there is none yet. */
bool wg_device_key(const struct wg_device *d, const char *state_dir,
		   uint8_t key[WG_KEY_LEN]);

#endif
