/* An rtnetlink socket (libmnl): requests that are acked and checked, and
 * dumps. Thin: the only code here sends and receives; what to send is
 * built by the callers (observe.c, exec.c, the lab). */
#ifndef MOAT_NET_NL_H
#define MOAT_NET_NL_H

#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

struct net_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char err[256];		/* the kernel's extended ack message of the
				 * last failed request, "" if none */
};

/* Opens a NETLINK_ROUTE socket in the caller's network namespace, with
 * extended acks and strict dump checking on. 0 or -errno. */
int net_nl_open(struct net_nl *nl);
void net_nl_close(struct net_nl *nl);

/* Starts a message in buf (at least MNL_SOCKET_BUFFER_SIZE bytes) with
 * the next sequence number and flags | NLM_F_REQUEST. */
struct nlmsghdr *net_nl_msg(struct net_nl *nl, void *buf, uint16_t type,
			    uint16_t flags);

/* Sends nlh (which must carry NLM_F_ACK or NLM_F_DUMP) and feeds each
 * reply to cb (may be NULL) until the ack or the end of the dump.
 * 0 or -errno; on a kernel error nl->err holds its message. */
int net_nl_talk(struct net_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		void *data);

#endif
