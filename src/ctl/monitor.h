/* The integrity monitor: netlink events, not polling. ctl subscribes to
 * nftables events (NFNLGRP_NFTABLES) and to rtnetlink's link, address,
 * route and rule groups; every change to table inet moat (except set
 * elements: those are data, `moat set` changes them) and every change to
 * a route or rule of moat's protocol (77), or to a link or address of an
 * interface moat manages, is reported to ctl, which then checks the
 * kernel against its plan and restores it. What ctl did itself is
 * reported too: ctl's check finds nothing wrong then.
 *
 * monitor_classify is pure (unit-tested and fuzzed); monitor.c holds the
 * sockets and the libuv handles. */
#ifndef MOAT_CTL_MONITOR_H
#define MOAT_CTL_MONITOR_H
#include <stdbool.h>
#include <stddef.h>

struct nlmsghdr;

enum mon_kind {
	MON_NONE = 0,
	MON_FW = 1 << 0,	/* table inet moat changed */
	MON_NET = 1 << 1,	/* moat's routes/rules, or a managed link or
				 * address changed */
	MON_LOST = 1 << 2,	/* events were lost (ENOBUFS): check all */
};

/* What a message means to ctl. links: the interface names moat manages
 * (NULL-terminated; NULL: none). what (n bytes) gets a short description
 * for the audit log: "nft: rule deleted in chain input",
 * "nft: table inet moat deleted", "route 10.9.0.0/16 table 100 deleted",
 * "address 192.0.2.1/24 removed from lan0", "link lan0 down". proto:
 * NETLINK_NETFILTER or NETLINK_ROUTE; nlh: one message, its nlmsg_len
 * bytes readable (as mnl_nlmsg_ok checks). Returns MON_NONE for what
 * does not concern moat (another table, someone else's route, a set
 * element) and for what cannot be read. */
unsigned monitor_classify(int proto, const struct nlmsghdr *nlh,
			  const char *const *links, char *what, size_t n);

#include <uv.h>

struct monitor;
/* Called at most once per debounce period (10 ms after the first event of
 * a burst) with the kinds seen and the first event of each kind,
 * described and joined by "; ". */
typedef void (*monitor_cb)(struct monitor *m, unsigned kinds,
			   const char *what, void *data);

/* Opens both netlink sockets in the current network namespace and
 * watches them on loop. links as in monitor_classify (copied). NULL with
 * a message in err. */
struct monitor *monitor_open(uv_loop_t *loop, const char *const *links,
			     monitor_cb cb, void *data, char *err,
			     size_t errlen);
/* Reads and forgets the events queued now: ctl calls it after changing
 * the kernel itself, whose own events would otherwise read as a tamper.
 * Returns the kinds they were, so that ctl can check once more (a change
 * by someone else in the same moment is among them). */
unsigned monitor_drain(struct monitor *m);
/* Replaces the managed links (after a reload). */
void monitor_set_links(struct monitor *m, const char *const *links);
/* Closes the sockets; the handles are closed on the loop. */
void monitor_close(struct monitor *m);
#endif
