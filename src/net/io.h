/* The router's kernel seam: reading the namespace's links, addresses,
 * moat's routes and rules into a state (observe.c), and carrying out a
 * change, one acked rtnetlink request per operation (exec.c). Nothing
 * here decides what to change: that is net_diff's job. */
#ifndef MOAT_NET_IO_H
#define MOAT_NET_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "base/diag.h"
#include "net/net.h"
#include "net/nl.h"

struct nlmsghdr;

/* Fills state with every link of the namespace and its addresses, and
 * the routes and rules of protocol NET_RTPROT_MOAT, in all tables and
 * both families. state is an empty plan from xcalloc, which the caller
 * frees with net_plan_free either way. 0, or -errno with a message in dl
 * (-EBADMSG: the kernel sent something moat cannot read). */
int net_observe(struct net_nl *nl, struct net_plan *state,
		struct diag_list *dl);

/* Reads one RTM_NEWROUTE message of a dump into r (dev left empty; the
 * output interface's index goes to *oif, 0 for none). 0; 1 for what is
 * not a route of the FIB (a cached clone, another message type); or
 * -EBADMSG. */
int net_route_parse(const struct nlmsghdr *nlh, struct net_route *r,
		    int *oif);

/* What became of each operation of a change. */
enum net_op_result {
	NET_OP_NOT_RUN,		/* not sent: an earlier batch failed */
	NET_OP_DONE,		/* the kernel did it: undo with the inverse */
	NET_OP_SKIPPED,		/* the kernel was so already (an address or
				 * an identical route that exists, a
				 * removal of what is gone): nothing to undo,
				 * and an address so is not moat's */
	NET_OP_FAILED,		/* refused; the reason is in dl */
};

/* Undoing a failed apply: best effort, so every operation is tried
 * whatever befalls the others, and messages say it was the undo. */
#define NET_EXEC_UNDO 0x1

/* Carries out c's operations in their order, against the kernel that
 * state was observed from: names resolve to indexes through state, links
 * the change creates and, failing both, the kernel. Requests are sent in
 * batches of many (one sendmsg, then every ack), so when one is refused
 * the others of its batch have still been tried; later batches are not
 * sent unless flags has NET_EXEC_UNDO. res (c->n entries) says
 * what happened to each. Refusals go to dl at the op's config line.
 * 0 when no operation failed, else -1. */
int net_exec(struct net_nl *nl, const struct net_plan *state,
	     const struct net_change *c, unsigned flags,
	     enum net_op_result *res, struct diag_list *dl);

#endif
