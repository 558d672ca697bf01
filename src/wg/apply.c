/* WireGuard apply: read, diff by peer, write only the difference; devices
 * moat made are listed in STATE_DIR/wg.state so that only those are ever
 * removed. */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/file.h"
#include "base/util.h"
#include "store/store.h"
#include "wg/apply.h"
#include "wg/genl.h"
#include "wg/go.h"
#include "wg/key.h"
#include "wg/uapi.h"

/* --- keys ---------------------------------------------------------------- */

static char *key_path(const char *state_dir, const char *name)
{
	return xasprintf("%s/wg/%s.key", state_dir, name);
}

/* A key file: base64 and optional whitespace around it. */
static bool key_file_read(const char *path, uint8_t key[WG_KEY_LEN])
{
	char *text = NULL, *s, *e;
	size_t len;
	bool ok;

	if (file_read(path, 4096, &text, &len) < 0)
		return false;
	for (s = text; isspace((unsigned char)*s); s++)
		;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	ok = wg_key_from_b64(s, key);
	sodium_memzero(text, len);
	free(text);
	return ok;
}

bool wg_device_key(const struct wg_device *d, const char *state_dir,
		   uint8_t key[WG_KEY_LEN])
{
	char *path;
	bool ok;

	if (d->has_priv) {
		memcpy(key, d->priv, WG_KEY_LEN);
		return true;
	}
	path = d->priv_file ? xstrdup(d->priv_file) :
	       key_path(state_dir, d->name);
	ok = key_file_read(path, key);
	free(path);
	return ok;
}

static int device_key(struct wg_device *d, const struct wg_apply_opts *o,
		      struct diag_list *dl)
{
	char b64[WG_KEY_B64], *path;
	int r;

	if (d->has_priv)
		return 0;
	if (d->priv_file) {
		d->has_priv = key_file_read(d->priv_file, d->priv);
		if (!d->has_priv) {
			diag_error(dl, &d->priv_pos, "private_key_file \"%s\": "
				   "cannot read a WireGuard key from it (%s)",
				   d->priv_file, access(d->priv_file, R_OK) ?
				   strerror(errno) : "not a key");
			return -1;
		}
		return 0;
	}
	path = key_path(o->state_dir, d->name);
	d->has_priv = key_file_read(path, d->priv);
	if (d->has_priv || o->dry_run) {
		free(path);
		return 0;
	}
	/* first start: a key of its own, kept 0600 in the state dir */
	wg_genkey(d->priv);
	wg_key_to_b64(d->priv, b64);
	r = file_write_atomic(path, b64, strlen(b64), 0700);
	sodium_memzero(b64, sizeof(b64));
	if (r < 0) {
		diag_error(dl, &d->pos, "%s: cannot keep the generated key: %s",
			   path, strerror(-r));
		free(path);
		return -1;
	}
	d->has_priv = true;
	free(path);
	return 0;
}

/* --- runtime peers and endpoints ------------------------------------------- */

static void peer_copy(struct wg_peer *to, const struct wg_peer *from)
{
	*to = *from;
	to->name = from->name ? xstrdup(from->name) : NULL;
	to->endpoint_text = from->endpoint_text ?
			    xstrdup(from->endpoint_text) : NULL;
	to->allowed = from->nallowed ?
		      xmalloc(from->nallowed * sizeof(*from->allowed)) : NULL;
	if (from->nallowed)
		memcpy(to->allowed, from->allowed,
		       from->nallowed * sizeof(*from->allowed));
	to->allowed_cap = from->nallowed;
}

static int merge_store(struct wg_device *d, struct store *s,
		       struct diag_list *dl)
{
	struct wg_device rt = { 0 };
	size_t nconfig = d->npeers;
	char err[256];

	if (store_wg_peers(s, d->name, &rt, err, sizeof(err)) < 0) {
		diag_error(dl, &d->pos, "wireguard %s: %s", d->name, err);
		wg_device_clear(&rt);
		return -1;
	}
	for (size_t i = 0; i < rt.npeers; i++) {
		const struct wg_peer *p = &rt.peers[i];
		bool clash = false;

		for (size_t k = 0; k < nconfig && !clash; k++) {
			const struct wg_peer *c = &d->peers[k];

			clash = !strcmp(c->name, p->name) ||
				!memcmp(c->pub, p->pub, WG_KEY_LEN);
			/* the config's peer wins and the runtime one is left
			 * out, said as a warning: runtime state must never
			 * keep a config from loading (a rollback to a config
			 * that declares a peer added at runtime since would
			 * otherwise keep ctl from starting at the next boot) */
			if (clash)
				diag_warn(dl, &c->pos, "wireguard %s: peer "
					  "\"%s\" of the config and peer "
					  "\"%s\" added at runtime have the "
					  "same %s; the config's is used and "
					  "the runtime one left out (moat wg "
					  "peer del %s %s removes it)",
					  d->name, c->name, p->name,
					  strcmp(c->name, p->name) ?
					  "public key" : "name", d->name,
					  p->name);
		}
		if (clash)
			continue;
		peer_copy(wg_device_add_peer(d), p);
	}
	wg_device_clear(&rt);
	return 0;
}

static int resolve_endpoint(struct wg_peer *p, struct diag_list *dl)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV }, *res = NULL;
	char *host, *colon;
	int r;

	if (!p->endpoint_text || p->endpoint.family)
		return 0;
	host = xstrdup(p->endpoint_text);
	colon = strrchr(host, ':');
	if (!colon) {
		free(host);
		return 0;	/* validated already */
	}
	*colon = '\0';
	r = getaddrinfo(host, colon + 1, &hints, &res);
	if (r || !res) {
		diag_error(dl, &p->pos, "peer \"%s\": endpoint \"%s\": %s",
			   p->name, p->endpoint_text, gai_strerror(r));
		free(host);
		return -1;
	}
	p->endpoint.family = res->ai_family;
	p->endpoint.port = (uint16_t)strtoul(colon + 1, NULL, 10);
	if (res->ai_family == AF_INET)
		memcpy(p->endpoint.addr, &((struct sockaddr_in *)
		       res->ai_addr)->sin_addr, 4);
	else
		memcpy(p->endpoint.addr, &((struct sockaddr_in6 *)
		       res->ai_addr)->sin6_addr, 16);
	freeaddrinfo(res);
	free(host);
	return 0;
}

int wg_prepare(struct wg_plan *plan, const struct wg_apply_opts *o,
	       struct diag_list *dl)
{
	struct store *s = NULL;
	char err[256];
	int bad = 0;

	for (size_t i = 0; i < plan->ndevs; i++) {
		struct wg_device *d = &plan->devs[i];

		if (!d->enabled)
			continue;
		bad |= device_key(d, o, dl);
		if (!s && !(s = store_open(o->state_dir, err, sizeof(err)))) {
			diag_error(dl, &d->pos, "%s", err);
			return -1;
		}
		bad |= merge_store(d, s, dl);
		for (size_t k = 0; k < d->npeers; k++)
			bad |= resolve_endpoint(&d->peers[k], dl);
	}
	store_close(s);
	return bad ? -1 : 0;
}

/* --- devices moat made --------------------------------------------------- */

static char *state_path(const char *state_dir)
{
	return xasprintf("%s/wg.state", state_dir);
}

static void owned_load(struct wg_txn *t, const char *state_dir)
{
	char *path = state_path(state_dir), *text = NULL, *line, *save = NULL;
	size_t len;

	if (file_read(path, 1 << 20, &text, &len) == 0)
		for (line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char name[IF_NAMESIZE + 1];

			if (sscanf(line, "device %16s", name) != 1)
				continue;
			t->owned = xrealloc(t->owned, (t->nowned + 1) *
					    sizeof(*t->owned));
			t->owned[t->nowned++] = xstrdup(name);
		}
	free(text);
	free(path);
}

static int owned_save(const struct wg_txn *t, const char *state_dir)
{
	struct buf b = BUF_INIT;
	char *path = state_path(state_dir);
	int r;

	buf_adds(&b, "moat-wg 1\n");
	for (size_t i = 0; i < t->nowned; i++)
		buf_printf(&b, "device %s\n", t->owned[i]);
	r = file_write_atomic(path, b.p, b.len, 0700);
	buf_free(&b);
	free(path);
	return r;
}

static bool owned_has(const struct wg_txn *t, const char *name)
{
	for (size_t i = 0; i < t->nowned; i++)
		if (!strcmp(t->owned[i], name))
			return true;
	return false;
}

static void owned_set(struct wg_txn *t, const char *name, bool on,
		      const char *state_dir)
{
	if (on && !owned_has(t, name)) {
		t->owned = xrealloc(t->owned, (t->nowned + 1) *
				    sizeof(*t->owned));
		t->owned[t->nowned++] = xstrdup(name);
	}
	for (size_t i = 0; !on && i < t->nowned; i++)
		if (!strcmp(t->owned[i], name)) {
			free(t->owned[i]);
			t->owned[i] = t->owned[--t->nowned];
			break;
		}
	owned_save(t, state_dir);
}

bool wg_state_has_devices(const char *state_dir)
{
	struct wg_txn t = { 0 };
	bool any;

	owned_load(&t, state_dir);
	any = t.nowned > 0;
	wg_txn_free(&t);
	return any;
}

/* --- backends -------------------------------------------------------------- */

enum wg_backend wg_backend_of(const char *name)
{
	if (!if_nametoindex(name))
		return WG_BACKEND_NONE;
	return wg_uapi_present(name) ? WG_BACKEND_USERSPACE :
	       WG_BACKEND_KERNEL;
}

int wg_read(const char *name, struct wg_device *out, enum wg_backend *be,
	    char *err, size_t errlen)
{
	int r;

	memset(out, 0, sizeof(*out));
	*be = WG_BACKEND_NONE;
	if (!if_nametoindex(name))
		return -ENODEV;
	if (wg_uapi_present(name)) {
		*be = WG_BACKEND_USERSPACE;
		r = wg_uapi_get(name, out, err, errlen);
	} else {
		*be = WG_BACKEND_KERNEL;
		r = wg_kernel_get(name, out, err, errlen);
		if (r == -ENODEV || r == -EOPNOTSUPP || r == -ENOENT ||
		    r == -EINVAL)
			snprintf(err, errlen, "%s exists and is not a WireGuard "
				 "device moat can talk to (%s)", name,
				 strerror(-r));
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < out->npeers; i++)
		wg_allowed_sort(out->peers[i].allowed,
				out->peers[i].nallowed);
	return 0;
}

int wg_write(enum wg_backend be, const struct wg_change *c, char *err,
	     size_t errlen)
{
	if (wg_change_empty(c))
		return 0;
	return be == WG_BACKEND_USERSPACE ? wg_uapi_set(c, err, errlen) :
	       wg_kernel_set(c, err, errlen);
}

/* The kernel's link when it has the type (unless MOAT_WG_BACKEND says
 * "userspace"), else wireguard-go under moat's supervisor. */
static int create(struct wg_dev_txn *d, const struct wg_apply_opts *o,
		  char *err, size_t errlen)
{
	const char *want = getenv("MOAT_WG_BACKEND");
	int r = -EOPNOTSUPP;

	if (!want || strcmp(want, "userspace")) {
		r = wg_kernel_link_add(d->name, err, errlen);
		if (!r) {
			d->backend = WG_BACKEND_KERNEL;
			return 0;
		}
		if (r != -EOPNOTSUPP || (want && !strcmp(want, "kernel")))
			return r;
	}
	*err = '\0';
	r = wg_go_start(d->name, o->state_dir, o->config, err, errlen);
	if (!r)
		d->backend = WG_BACKEND_USERSPACE;
	return r;
}

static int destroy(const char *name, enum wg_backend be,
		   const struct wg_apply_opts *o, char *err, size_t errlen)
{
	if (be == WG_BACKEND_USERSPACE || wg_go_running(name, o->state_dir)) {
		int r = wg_go_stop(name, o->state_dir);

		if (r < 0)
			snprintf(err, errlen, "%s: wireguard-go did not stop",
				 name);
		return r;
	}
	return wg_kernel_link_del(name, err, errlen);
}

/* --- the apply ----------------------------------------------------------- */

static struct wg_dev_txn *txn_add(struct wg_txn *t, const char *name)
{
	struct wg_dev_txn *d;

	t->d = xrealloc(t->d, (t->n + 1) * sizeof(*t->d));
	d = &t->d[t->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

int wg_plan_changes(const struct wg_plan *plan, const struct wg_apply_opts *o,
		    struct wg_txn *t, struct diag_list *dl)
{
	int bad = 0;

	memset(t, 0, sizeof(*t));
	owned_load(t, o->state_dir);
	for (size_t i = 0; i < plan->ndevs; i++) {
		const struct wg_device *dev = &plan->devs[i];
		struct wg_dev_txn *d;
		char err[256] = "";
		int r;

		if (!dev->enabled)
			continue;
		d = txn_add(t, dev->name);
		d->dev = dev;
		r = wg_read(dev->name, &d->before, &d->backend, err,
			    sizeof(err));
		if (r < 0 && r != -ENODEV) {
			diag_error(dl, &dev->pos, "wireguard %s: %s", dev->name,
				   *err ? err : strerror(-r));
			bad = -1;
			continue;
		}
		d->exists = r == 0;
		wg_diff(dev, d->exists ? &d->before : NULL, &d->c);
	}
	/* devices moat made that the plan has no more (or has disabled) */
	for (size_t i = 0; i < t->nowned; i++) {
		const struct wg_device *dev = wg_plan_device(plan, t->owned[i]);
		struct wg_dev_txn *d;
		char err[256] = "";

		if ((dev && dev->enabled) || !if_nametoindex(t->owned[i]))
			continue;
		d = txn_add(t, t->owned[i]);
		if (wg_read(d->name, &d->before, &d->backend, err,
			    sizeof(err)) == 0)
			d->exists = true;
		else
			d->backend = wg_go_running(d->name, o->state_dir) ?
				     WG_BACKEND_USERSPACE : WG_BACKEND_KERNEL;
	}
	return bad;
}

void wg_undo(struct wg_txn *t, const struct wg_apply_opts *o)
{
	for (size_t i = t->n; i-- > 0;) {
		struct wg_dev_txn *d = &t->d[i];
		struct wg_change back;
		struct wg_device now;
		enum wg_backend be;
		char err[256];

		if (d->created) {
			destroy(d->name, d->backend, o, err, sizeof(err));
			owned_set(t, d->name, false, o->state_dir);
			d->created = false;
			continue;
		}
		if (d->removed && d->exists) {
			if (create(d, o, err, sizeof(err)) < 0)
				continue;
			owned_set(t, d->name, true, o->state_dir);
			wg_diff(&d->before, NULL, &back);
			wg_write(d->backend, &back, err, sizeof(err));
			wg_change_free(&back);
			d->removed = false;
			continue;
		}
		if (!d->changed || wg_read(d->name, &now, &be, err,
					   sizeof(err)) < 0)
			continue;
		wg_diff(&d->before, &now, &back);
		wg_write(be, &back, err, sizeof(err));
		wg_change_free(&back);
		wg_device_clear(&now);
		d->changed = false;
	}
}

int wg_commit(struct wg_txn *t, const struct wg_apply_opts *o,
	      struct diag_list *dl)
{
	for (size_t i = 0; i < t->n; i++) {
		struct wg_dev_txn *d = &t->d[i];
		const struct pos *at = d->dev ? &d->dev->pos : NULL;
		char err[256] = "";
		int r = 0;

		if (!d->dev) {
			if (!d->exists && !if_nametoindex(d->name)) {
				owned_set(t, d->name, false, o->state_dir);
				continue;
			}
			r = destroy(d->name, d->backend, o, err, sizeof(err));
			if (r < 0)
				goto bad;
			d->removed = true;
			owned_set(t, d->name, false, o->state_dir);
			continue;
		}
		if (!d->exists) {
			r = create(d, o, err, sizeof(err));
			if (r < 0)
				goto bad;
			d->created = true;
			owned_set(t, d->name, true, o->state_dir);
		}
		r = wg_write(d->backend, &d->c, err, sizeof(err));
		if (r < 0)
			goto bad;
		d->changed = true;
		continue;
bad:
		if (at)
			diag_error(dl, at, "wireguard %s: %s", d->name,
				   *err ? err : strerror(-r));
		else
			diag_error(dl, NULL, "wireguard %s: cannot remove it: "
				   "%s", d->name, *err ? err : strerror(-r));
		wg_undo(t, o);
		return -1;
	}
	return 0;
}

void wg_txn_free(struct wg_txn *t)
{
	for (size_t i = 0; i < t->n; i++) {
		wg_device_clear(&t->d[i].before);
		wg_change_free(&t->d[i].c);
	}
	free(t->d);
	for (size_t i = 0; i < t->nowned; i++)
		free(t->owned[i]);
	free(t->owned);
	memset(t, 0, sizeof(*t));
}

bool wg_txn_changes(const struct wg_txn *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (!t->d[i].dev || !t->d[i].exists ||
		    !wg_change_empty(&t->d[i].c))
			return true;
	return false;
}

void wg_txn_summary(const struct wg_txn *t, char *out, size_t n)
{
	size_t add = 0, del = 0, mod = 0, devs = 0, made = 0, gone = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct wg_dev_txn *d = &t->d[i];

		if (!d->dev) {
			gone++;
			continue;
		}
		devs++;
		made += !d->exists;
		for (size_t k = 0; k < d->c.npeers; k++) {
			unsigned f = d->c.peers[k].fields;

			if (f & WG_PEER_REMOVE)
				del++;
			else if (f & WG_PEER_NEW)
				add++;
			else
				mod++;
		}
	}
	snprintf(out, n, "%zu device%s (%zu new, %zu removed), +%zu peer%s "
		 "-%zu ~%zu", devs, devs == 1 ? "" : "s", made, gone, add,
		 add == 1 ? "" : "s", del, mod);
}

void wg_txn_describe(const struct wg_txn *t, struct buf *b)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct wg_dev_txn *d = &t->d[i];

		if (!d->dev)
			buf_printf(b, "  - device %s\n", d->name);
		else if (!d->exists)
			buf_printf(b, "  + device %s (%s)\n", d->name,
				   d->dev->port ? "listen port set" :
				   "random port");
		wg_change_describe(&d->c, b);
	}
}
