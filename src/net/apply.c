/* Applying a router plan. The kernel has no transactions for links,
 * addresses, routes and rules, so moat makes one: it observes, diffs,
 * carries out only the difference, and when any of it is refused undoes
 * what it did, newest first. What it created (addresses, VLANs; routes
 * and rules carry its protocol number instead) is recorded in
 * STATE_DIR/net.state, written whole to a temporary file and renamed, so
 * that the next apply may remove it and nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "net/apply.h"
#include "net/io.h"

/* --- net.state ---------------------------------------------------------- */

static char *state_path(const char *dir)
{
	return xasprintf("%s/net.state", dir);
}

int net_state_load(const char *dir, struct net_owned *o,
		   struct diag_list *dl)
{
	char *path = state_path(dir), *text = NULL;
	struct pos at = { path, 0, 0 };
	const char *why = NULL;
	size_t len;
	int r = file_read(path, MOAT_MAX_CONFIG_BYTES, &text, &len);

	memset(o, 0, sizeof(*o));
	if (r == -ENOENT) {
		r = 0;		/* no apply yet: moat owns nothing */
	} else if (r < 0) {
		diag_error(dl, &at, "cannot read moat's record of what it "
			   "created: %s", strerror(-r));
		r = -1;
	} else if (!net_owned_parse(text, len, o, &at.line, &why)) {
		diag_error(dl, &at, "moat's record of what it created is "
			   "damaged: %s", why);
		r = -1;
	}
	free(text);
	free(path);
	return r;
}

static int state_save(const char *dir, const struct net_owned *o,
		      struct diag_list *dl)
{
	char *text = net_owned_print(o), *path = state_path(dir);
	int r = file_write_atomic(path, text, strlen(text), 0700);

	if (r < 0)
		diag_error(dl, NULL, "cannot write %s/net.state: %s", dir,
			   strerror(-r));
	free(text);
	free(path);
	return r < 0 ? -1 : 0;
}

/* One apply at a time per state directory: two would each undo and
 * record over the other. Held until the process closes the fd. */
static int state_lock(const char *dir, struct diag_list *dl)
{
	char *path = xasprintf("%s/net.lock", dir);
	int fd = -1, r = file_mkdir_p(dir, 0700);

	if (r == 0 && (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
				 0600)) < 0)
		r = -errno;
	if (r == 0 && flock(fd, LOCK_EX) < 0)
		r = -errno;
	if (r < 0) {
		diag_error(dl, NULL, "cannot lock %s: %s", path, strerror(-r));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(path);
	return fd;
}

/* --- owned --------------------------------------------------------------- */

/* An address that was there already is someone else's: moat must never
 * remove it. */
static void owned_after(struct net_change *c, const enum net_op_result *res)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ops[i].kind == NET_OP_ADDR_ADD &&
		    res[i] == NET_OP_SKIPPED)
			net_owned_drop_addr(&c->owned, c->ops[i].ifname,
					&c->ops[i].addr);
}

/* --- undo ---------------------------------------------------------------- */

/* Runs the inverse of every operation done, newest first, going on past
 * refusals. What stays done is added to owned (addresses and VLANs moat
 * made must stay removable). 0, or -1 when something could not be
 * undone. */
static int undo(struct net_nl *nl, const struct net_plan *st,
		const struct net_change *c, const enum net_op_result *res,
		struct net_owned *owned, struct diag_list *dl)
{
	struct net_change u = { 0 };
	enum net_op_result *ures;
	size_t *from, bad = 0;
	int r;

	u.ops = xcalloc(c->n + 1, sizeof(*u.ops));
	from = xcalloc(c->n + 1, sizeof(*from));
	for (size_t i = c->n; i-- > 0;)
		if (res[i] == NET_OP_DONE) {
			from[u.n] = i;
			net_op_inverse(&c->ops[i], &u.ops[u.n++]);
		}
	ures = xcalloc(u.n + 1, sizeof(*ures));
	r = net_exec(nl, st, &u, NET_EXEC_UNDO, ures, dl);
	for (size_t k = 0; k < u.n; k++)
		if (ures[k] != NET_OP_DONE && ures[k] != NET_OP_SKIPPED) {
			net_owned_keep(owned, &c->ops[from[k]]);
			bad++;
		}
	if (r < 0 || bad)
		diag_error(dl, NULL, "undoing the failed apply failed too: "
			   "%zu of its %zu change%s could not be undone, so "
			   "the kernel is left part way; see the errors above",
			   bad, u.n, u.n == 1 ? "" : "s");
	free(ures);
	free(from);
	free(u.ops);
	return r < 0 || bad ? -1 : 0;
}

/* --- apply --------------------------------------------------------------- */

static void note_failure(const struct net_apply_opts *o,
			 struct net_owned *owned, size_t from,
			 struct diag_list *dl)
{
	owned->failed_at = (long long)time(NULL);
	diag_first_error(dl, from, "the apply failed", owned->error,
			 sizeof(owned->error));
	state_save(o->state_dir, owned, dl);
}

/* The fingerprint of the kernel as the apply left it, to tell later
 * whether someone changed it. */
static void fingerprint_now(struct net_nl *nl, char *out,
			    struct diag_list *dl)
{
	struct net_plan *st = xcalloc(1, sizeof(*st));
	struct diag_list quiet = { 0 };

	out[0] = '\0';
	if (net_observe(nl, st, &quiet) == 0)
		net_fingerprint(st, out);
	else
		diag_warn(dl, NULL, "applied, but cannot read the kernel back "
			  "to fingerprint it: %s", quiet.n ? quiet.v[0].msg :
			  "?");
	diag_list_free(&quiet);
	net_plan_free(st);
}

/* Nothing to change: net.state is rewritten only when it is out of date
 * (a failure recorded, someone else's change to the kernel, something
 * owned that is gone), so an unchanged apply writes nothing. */
static int record_unchanged(const struct net_apply_opts *o,
			    const struct net_plan *st,
			    const struct net_owned *old, struct net_change *c,
			    struct diag_list *dl)
{
	char *before = net_owned_print(old), *after;
	int r = 0;

	net_fingerprint(st, c->owned.fingerprint);
	c->owned.applied_at = old->applied_at;
	if (strcmp(old->fingerprint, c->owned.fingerprint) || !old->applied_at)
		c->owned.applied_at = (long long)time(NULL);
	after = net_owned_print(&c->owned);
	if (strcmp(before, after))
		r = state_save(o->state_dir, &c->owned, dl);
	free(before);
	free(after);
	return r;
}

/* After an apply, the change shows what changed the kernel: what was so
 * already is not news. */
static void keep_done(struct net_change *c, const enum net_op_result *res)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++)
		if (res[i] == NET_OP_DONE)
			c->ops[k++] = c->ops[i];
	c->n = k;
}

/* Sends c; on success records what moat owns now, on failure undoes. */
static int run(struct net_nl *nl, const struct net_apply_opts *o,
	       const struct net_plan *st, struct net_change *c,
	       struct net_owned *owned, size_t from, enum net_outcome *out,
	       struct diag_list *dl)
{
	enum net_op_result *res = xcalloc(c->n + 1, sizeof(*res));
	int r = net_exec(nl, st, c, 0, res, dl);
	bool any = false;

	for (size_t i = 0; i < c->n; i++)
		any |= res[i] == NET_OP_DONE;
	if (r == 0)
		owned_after(c, res);
	*out = any ? NET_APPLIED : NET_UNCHANGED;
	if (r == 0 && !any && o->state_dir) {
		r = record_unchanged(o, st, owned, c, dl);
	} else if (r == 0 && o->state_dir) {
		fingerprint_now(nl, c->owned.fingerprint, dl);
		c->owned.applied_at = (long long)time(NULL);
		/* an owned list that is not on disk is worse than no change:
		 * the next apply could not remove what this one made */
		r = state_save(o->state_dir, &c->owned, dl);
	}
	if (r < 0) {
		undo(nl, st, c, res, owned, dl);
		if (o->state_dir)
			note_failure(o, owned, from, dl);
	}
	if (r == 0)
		keep_done(c, res);
	free(res);
	return r;
}

int net_read(struct net_plan *state, struct diag_list *dl)
{
	struct net_nl nl;
	int r = net_nl_open(&nl);

	if (r < 0) {
		diag_error(dl, NULL, "cannot open a netlink socket: %s",
			   strerror(-r));
		return -1;
	}
	r = net_observe(&nl, state, dl);
	net_nl_close(&nl);
	return r < 0 ? -1 : 0;
}

void net_txn_free(struct net_txn *t)
{
	net_nl_close(&t->nl);
	if (t->lock >= 0)
		close(t->lock);
	t->lock = -1;
	net_change_free(&t->c);
	net_owned_free(&t->owned);
	net_plan_free(t->st);
	t->st = NULL;
}

int net_prepare(struct net_txn *t, const struct net_plan *plan,
		const struct net_apply_opts *o, struct diag_list *dl)
{
	size_t errors = dl->nerrors;
	int r = -1;

	memset(t, 0, sizeof(*t));
	t->o = *o;
	t->lock = -1;
	t->from = dl->n;
	t->st = xcalloc(1, sizeof(*t->st));
	if (o->state_dir && !o->dry_run &&
	    (t->lock = state_lock(o->state_dir, dl)) < 0)
		return -1;
	if (o->state_dir && net_state_load(o->state_dir, &t->owned, dl) < 0)
		return -1;
	r = net_nl_open(&t->nl);
	if (r < 0) {
		diag_error(dl, NULL, "cannot open a netlink socket: %s (moat "
			   "needs root or CAP_NET_ADMIN)", strerror(-r));
		return -1;
	}
	r = net_observe(&t->nl, t->st, dl);
	if (r == 0)
		r = net_diff(plan, t->st, &t->owned, &t->c, dl);
	if (r < 0) {
		/* only this apply's errors, not the caller's earlier ones */
		if (o->state_dir && !o->dry_run && dl->nerrors > errors)
			note_failure(&t->o, &t->owned, t->from, dl);
		return -1;
	}
	if (t->c.n == 0 && o->state_dir && !o->dry_run)
		return record_unchanged(&t->o, t->st, &t->owned, &t->c, dl);
	return 0;
}

int net_commit(struct net_txn *t, enum net_outcome *out,
	       struct diag_list *dl)
{
	*out = NET_UNCHANGED;
	if (t->c.n == 0)
		return 0;
	if (t->o.dry_run) {
		*out = NET_CHECKED;
		return 0;
	}
	return run(&t->nl, &t->o, t->st, &t->c, &t->owned, t->from, out, dl);
}

int net_apply(const struct net_plan *plan, const struct net_apply_opts *o,
	      enum net_outcome *out, struct net_change *change,
	      struct diag_list *dl)
{
	struct net_txn t;
	int r;

	*out = NET_UNCHANGED;
	r = net_prepare(&t, plan, o, dl);
	if (r == 0)
		r = net_commit(&t, out, dl);
	if (change) {
		*change = t.c;
		memset(&t.c, 0, sizeof(t.c));
	}
	net_txn_free(&t);
	return r < 0 ? -1 : 0;
}
