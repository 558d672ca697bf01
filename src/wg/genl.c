/* The kernel WireGuard backend's sockets: the wireguard generic netlink
 * family (read a device, apply a change) and rtnetlink for the link
 * itself. What to send is built, and what comes back parsed, by
 * genl_msg.c; this file only carries it.
 *
 * Its own small socket rather than net/nl.c's: that one speaks
 * NETLINK_ROUTE only and receives into a stack buffer it does not wipe,
 * and these replies carry private keys. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sodium.h>

#include "base/util.h"
#include "wg/genl.h"

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

#define RECV_SIZE 65536		/* a dump page is at most 32 KiB */
/* Requests other than SET_DEVICE: a header, a name and a kind. Zeroed,
 * since libmnl (1.0.4) does not zero attribute padding. */
#define REQ_SIZE 256
#define GET_TRIES 5		/* dumps interrupted by a concurrent change */

struct wnl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char *buf;		/* receive buffer; wiped on close */
	char err[256];		/* the kernel's message of the last error */
};

static int wnl_open(struct wnl *nl, int proto)
{
	int one = 1, e;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open(proto);
	if (!nl->sock)
		return -errno;
	/* optional, older kernels answer without them; a capped ack does
	 * not echo our request (and its keys) back */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one,
			      sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = -errno;
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return e;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	nl->buf = xmalloc(RECV_SIZE);
	return 0;
}

static void wnl_close(struct wnl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	if (nl->buf) {
		sodium_memzero(nl->buf, RECV_SIZE);
		free(nl->buf);
	}
	memset(nl, 0, sizeof(*nl));
}

static int extack_attr(const struct nlattr *a, void *data)
{
	struct wnl *nl = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->err, sizeof(nl->err), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* An ack, or an error with the kernel's text. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct wnl *nl = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, (unsigned)off, extack_attr, nl);
	}
	errno = -e->error;
	return MNL_CB_ERROR;
}

/* The end of a dump; it carries an error when the dump failed. */
static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	int e;

	(void)data;
	if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(e))) {
		memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
		if (e < 0) {
			errno = -e;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int noop_cb(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

/* mnl_cb_run2 hands the data and control callbacks one pointer; the
 * control ones need the socket, the data one its own argument. */
struct talk {
	struct wnl *nl;
	mnl_cb_t cb;
	void *data;
};

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

static int talk_error_cb(const struct nlmsghdr *nlh, void *data)
{
	return error_cb(nlh, ((struct talk *)data)->nl);
}

/* Sends nlh (with NLM_F_ACK or NLM_F_DUMP) and feeds each reply to cb
 * until the ack or the end of the dump. 0 or -errno; -EINTR when a dump
 * was interrupted (the socket then holds its rest: close it). */
static int wnl_talk(struct wnl *nl, const struct nlmsghdr *nlh, mnl_cb_t cb,
		    void *data)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_NOOP] = noop_cb,
		[NLMSG_ERROR] = talk_error_cb,
		[NLMSG_DONE] = done_cb,
	};
	struct talk t = { nl, cb, data };
	ssize_t n;
	int r;

	nl->err[0] = '\0';
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, RECV_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		errno = 0;
		r = mnl_cb_run2(nl->buf, (size_t)n, nlh->nlmsg_seq,
				nl->portid, data_cb, &t, ctl, NLMSG_MIN_TYPE);
		if (r < 0)
			return errno ? -errno : -EPROTO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

/* "what: why", why being the kernel's message when it sent one. */
static int fail(char *err, size_t errlen, const struct wnl *nl, int r,
		const char *what, const char *name)
{
	const char *why = nl && nl->err[0] ? nl->err : strerror(-r);

	if (errlen)
		snprintf(err, errlen, "%s %s: %s", what, name, why);
	return r;
}

static int family_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
		*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_len < mnl_nlmsg_size(GENL_HDRLEN))
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, GENL_HDRLEN, family_attr, data) < 0 ?
		       MNL_CB_ERROR : MNL_CB_OK;
}

/* Starts a generic netlink request in buf. */
static struct nlmsghdr *genl_msg(struct wnl *nl, void *buf, uint16_t type,
				 uint16_t flags, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

/* Opens a generic netlink socket and resolves the wireguard family
 * (asking for it loads the module when there is one). -ENOENT: none. */
static int genl_open(struct wnl *nl, uint16_t *family)
{
	char buf[REQ_SIZE] = { 0 };
	struct nlmsghdr *nlh;
	int r;

	r = wnl_open(nl, NETLINK_GENERIC);
	if (r)
		return r;
	nlh = genl_msg(nl, buf, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY,
		       1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
	*family = 0;
	r = wnl_talk(nl, nlh, family_cb, family);
	if (!r && !*family)
		r = -EPROTO;
	return r;
}

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	if (wg_genl_parse_get(nlh, data) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* One dump of the device on a fresh socket. */
static int get_once(const char *ifname, struct wg_device *out, char *err,
		    size_t errlen)
{
	char buf[REQ_SIZE] = { 0 };
	struct nlmsghdr *nlh;
	struct wnl nl;
	uint16_t family;
	int r;

	r = genl_open(&nl, &family);
	if (r) {
		fail(err, errlen, &nl, r, "resolve genl family", WG_GENL_NAME);
		goto out;
	}
	nlh = genl_msg(&nl, buf, family, NLM_F_DUMP, WG_CMD_GET_DEVICE,
		       WG_GENL_VERSION);
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, ifname);
	r = wnl_talk(&nl, nlh, get_cb, out);
	if (r)
		fail(err, errlen, &nl, r, "WG_CMD_GET_DEVICE", ifname);
out:
	wnl_close(&nl);
	return r;
}

int wg_kernel_get(const char *ifname, struct wg_device *out, char *err,
		  size_t errlen)
{
	int r = -EINTR;

	if (errlen)
		err[0] = '\0';
	memset(out, 0, sizeof(*out));
	if (strnlen(ifname, IFNAMSIZ) == IFNAMSIZ)
		return fail(err, errlen, NULL, -EINVAL, "get", ifname);
	/* a peer added or removed during the dump makes it inconsistent
	 * (NLM_F_DUMP_INTR): read it again */
	for (int i = 0; i < GET_TRIES && r == -EINTR; i++) {
		wg_device_clear(out);
		r = get_once(ifname, out, err, errlen);
	}
	if (r)
		wg_device_clear(out);
	return r;
}

int wg_kernel_set(const struct wg_change *ch, char *err, size_t errlen)
{
	const char *name = ch->dev && ch->dev->name ? ch->dev->name : "?";
	struct wg_genl_msgs m = { 0 };
	struct wnl nl;
	uint16_t family;
	int r;

	if (errlen)
		err[0] = '\0';
	r = genl_open(&nl, &family);
	if (r) {
		fail(err, errlen, &nl, r, "resolve genl family", WG_GENL_NAME);
		goto out;
	}
	if (wg_genl_build_set(ch, family, nl.seq + 1,
			      (size_t)MNL_SOCKET_BUFFER_SIZE, &m) < 0) {
		r = -EINVAL;
		snprintf(nl.err, sizeof(nl.err), "no message can say this "
			 "change (a bad name or family, or a peer too big)");
		fail(err, errlen, &nl, r, "WG_CMD_SET_DEVICE", name);
		goto out;
	}
	nl.seq += (uint32_t)m.n;
	/* one at a time: a later message may continue a peer the kernel
	 * refused in an earlier one */
	for (size_t i = 0; i < m.n && !r; i++) {
		r = wnl_talk(&nl, m.buf[i], NULL, NULL);
		if (r)
			fail(err, errlen, &nl, r, "WG_CMD_SET_DEVICE", name);
	}
out:
	wg_genl_msgs_free(&m);
	wnl_close(&nl);
	return r;
}

/* An RTM_*LINK request for ifname, ready for more attributes. */
static struct nlmsghdr *link_msg(struct wnl *nl, void *buf, uint16_t type,
				 uint16_t flags, const char *ifname)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nlh;
}

int wg_kernel_link_add(const char *ifname, char *err, size_t errlen)
{
	char buf[REQ_SIZE] = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *info;
	struct wnl nl;
	int r;

	if (errlen)
		err[0] = '\0';
	if (!*ifname || strnlen(ifname, IFNAMSIZ) == IFNAMSIZ)
		return fail(err, errlen, NULL, -EINVAL, "add link", ifname);
	r = wnl_open(&nl, NETLINK_ROUTE);
	if (r) {
		fail(err, errlen, NULL, r, "add link", ifname);
		goto out;
	}
	nlh = link_msg(&nl, buf, RTM_NEWLINK,
		       NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, ifname);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, WG_GENL_NAME);
	mnl_attr_nest_end(nlh, info);
	/* no wireguard link type: -EOPNOTSUPP, "Unknown device type" */
	r = wnl_talk(&nl, nlh, NULL, NULL);
	if (r)
		fail(err, errlen, &nl, r, "add link", ifname);
out:
	wnl_close(&nl);
	return r;
}

static int kind_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_INFO_KIND &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*(bool *)data = !strcmp(mnl_attr_get_str(a), WG_GENL_NAME);
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_LINKINFO &&
	    mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
		return mnl_attr_parse_nested(a, kind_attr, data);
	return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct ifinfomsg)))
		return MNL_CB_OK;
	return mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr,
			      data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int wg_kernel_link_del(const char *ifname, char *err, size_t errlen)
{
	char buf[REQ_SIZE] = { 0 };
	struct nlmsghdr *nlh;
	bool is_wg = false;
	struct wnl nl;
	int r;

	if (errlen)
		err[0] = '\0';
	if (!*ifname || strnlen(ifname, IFNAMSIZ) == IFNAMSIZ)
		return fail(err, errlen, NULL, -EINVAL, "delete link", ifname);
	r = wnl_open(&nl, NETLINK_ROUTE);
	if (r) {
		fail(err, errlen, NULL, r, "delete link", ifname);
		goto out;
	}
	/* a wrong name must not take down the uplink */
	nlh = link_msg(&nl, buf, RTM_GETLINK, NLM_F_ACK, ifname);
	r = wnl_talk(&nl, nlh, link_cb, &is_wg);
	if (!r && !is_wg) {
		r = -EINVAL;
		snprintf(nl.err, sizeof(nl.err), "not a wireguard link");
	}
	if (!r) {
		nlh = link_msg(&nl, buf, RTM_DELLINK, NLM_F_ACK, ifname);
		r = wnl_talk(&nl, nlh, NULL, NULL);
	}
	if (r)
		fail(err, errlen, &nl, r, "delete link", ifname);
out:
	wnl_close(&nl);
	return r;
}

bool wg_kernel_available(void)
{
	struct wnl nl;
	uint16_t family;
	int r = genl_open(&nl, &family);

	wnl_close(&nl);
	return r == 0;
}
