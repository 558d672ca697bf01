/* The kernel WireGuard backend: generic netlink messages (genl_msg.c,
 * pure: built and parsed in memory, testable byte for byte) and the
 * sockets that carry them (genl.c, the only file here that talks to the
 * kernel). The reconciler decides what to send; nothing here compares
 * the running device with the planned one. */
#ifndef MOAT_WG_GENL_H
#define MOAT_WG_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <linux/wireguard.h>	/* WG_CMD_*, WGDEVICE_A_*, WGPEER_A_* */

#include "wg/wg.h"

/* The messages of one change, in the order they must be sent. Each
 * buffer holds exactly len[i] bytes; they may carry keys. */
struct wg_genl_msgs {
	void **buf;
	size_t *len;
	size_t n;
};

/* Wipes and frees every message; accepts an empty or zeroed set. */
void wg_genl_msgs_free(struct wg_genl_msgs *m);

/* Builds the WG_CMD_SET_DEVICE requests for ch (NLM_F_REQUEST|NLM_F_ACK,
 * sequence numbers seq, seq+1, ...), each at most max bytes (capped at
 * 65535, what a netlink attribute's length can say). The device fields
 * go in the first message only; peers that do not fit continue in the
 * next, and a peer whose allowed IPs do not fit is repeated there by its
 * public key with the rest of them. Never WGDEVICE_F_REPLACE_PEERS.
 * 0, or -1 when ch cannot be said in messages of max bytes (or names no
 * device, or has an allowed IP of an unknown family); out is then empty. */
int wg_genl_build_set(const struct wg_change *ch, uint16_t family,
		      uint32_t seq, size_t max, struct wg_genl_msgs *out);

/* Adds one message of a WG_CMD_GET_DEVICE dump to dev (zeroed before the
 * first one; dev->name is set from the first that names it). A message
 * whose first peer is the last peer already in dev continues it. nlh
 * must be readable for nlh->nlmsg_len bytes (mnl_cb_run checks that).
 * 0, or -1 on a malformed message; dev may then hold a part of it and
 * is only fit for wg_device_clear(). */
int wg_genl_parse_get(const struct nlmsghdr *nlh, struct wg_device *dev);

/* The kernel (genl.c). Each returns 0 or -errno; on failure err (errlen
 * bytes, may be 0) says what failed and why, with the kernel's own
 * message when it sent one. */

/* Reads the device ifname, peers and counters included, into out (which
 * it initialises; wg_device_clear() it after success). -ENODEV when
 * there is no such device. */
int wg_kernel_get(const char *ifname, struct wg_device *out, char *err,
		  size_t errlen);

/* Applies ch to the running device ch->dev->name, message by message;
 * stops at the first the kernel refuses. */
int wg_kernel_set(const struct wg_change *ch, char *err, size_t errlen);

/* Creates the wireguard link ifname (down, no address). -EEXIST when
 * there is one; -EOPNOTSUPP when the kernel has no wireguard link type
 * (the caller then falls back to wireguard-go). */
int wg_kernel_link_add(const char *ifname, char *err, size_t errlen);

/* Deletes the link ifname; -EINVAL, and nothing deleted, when it is not
 * a wireguard link; -ENODEV when there is none. */
int wg_kernel_link_del(const char *ifname, char *err, size_t errlen);

/* Whether the kernel speaks the wireguard generic netlink family (asking
 * may load the module). */
bool wg_kernel_available(void);

#endif
