/* Applying a router plan: observe the kernel, diff against the plan and
 * what moat owns, carry out the change, undo it when part of it fails,
 * and keep STATE_DIR/net.state (what moat created, how the last apply
 * went). */
#ifndef MOAT_NET_APPLY_H
#define MOAT_NET_APPLY_H

#include <stdbool.h>

#include "base/diag.h"
#include "net/net.h"
#include "net/nl.h"

enum net_outcome {
	NET_APPLIED,		/* the kernel was changed */
	NET_UNCHANGED,		/* it held the plan already */
	NET_CHECKED,		/* dry run: the change computed, none sent */
};

struct net_apply_opts {
	bool dry_run;
	const char *state_dir;	/* where net.state lives; NULL: moat owns
				 * nothing and records nothing */
};

/* Makes the kernel hold plan. When change is not NULL it receives the
 * operations for the caller to show (free it with net_change_free): those
 * a dry run would send; after an apply, those that changed the kernel
 * (an operation the kernel had done already, such as an identical route
 * of someone else's, is left out, and when that is all of them the
 * outcome is NET_UNCHANGED); after a failure, all. On failure every
 * operation done is undone, dl says what was refused (and anything that
 * could not be undone), net.state records the failure, and -1 is
 * returned. */
int net_apply(const struct net_plan *plan, const struct net_apply_opts *o,
	      enum net_outcome *out, struct net_change *change,
	      struct diag_list *dl);

/* An apply in two steps, so that the caller can check something (the
 * firewall) between seeing the change and making it, with the kernel
 * read once and net.state locked throughout. */
struct net_txn {
	struct net_apply_opts o;
	struct net_nl nl;
	struct net_plan *st;		/* the kernel as read */
	struct net_owned owned;		/* net.state as read */
	struct net_change c;		/* the change; after a commit, what
					 * changed the kernel */
	size_t from;			/* dl's first diagnostic of it */
	int lock;
};

/* Locks net.state (not for a dry run), reads it and the kernel, diffs
 * against plan into t->c. When there is nothing to change, records that
 * (clearing a failure noted before). 0, or -1 with dl saying why (and,
 * unless a dry run, the failure noted in net.state). Free t with
 * net_txn_free whatever it returns. */
int net_prepare(struct net_txn *t, const struct net_plan *plan,
		const struct net_apply_opts *o, struct diag_list *dl);
/* Carries out t->c as net_apply does (nothing for a dry run). */
int net_commit(struct net_txn *t, enum net_outcome *out,
	       struct diag_list *dl);
void net_txn_free(struct net_txn *t);

/* Reads DIR/net.state into o (zeroed first). An absent file is an empty
 * record; an unreadable or damaged one is an error in dl naming the file
 * and line. 0 or -1. */
int net_state_load(const char *dir, struct net_owned *o,
		   struct diag_list *dl);

/* The kernel's links, addresses and moat's routes and rules, for status:
 * net_observe on a socket of its own, into state as net_observe fills
 * it. 0 or -1 with dl saying why. */
int net_read(struct net_plan *state, struct diag_list *dl);

#endif
