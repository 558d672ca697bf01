/* rtnetlink requests over libmnl: each one acked, each error read with
 * the kernel's own message (extended ack). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <linux/netlink.h>

#include "net/nl.h"

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

int net_nl_open(struct net_nl *nl)
{
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open(NETLINK_ROUTE);
	if (!nl->sock)
		return -errno;
	/* both are optional: older kernels answer without them */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one,
			      sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return e;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void net_nl_close(struct net_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

struct nlmsghdr *net_nl_msg(struct net_nl *nl, void *buf, uint16_t type,
			    uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* mnl_cb_run2 gives the data and control callbacks one pointer. */
struct talk {
	struct net_nl *nl;
	mnl_cb_t cb;
	void *data;
};

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

static int extack_attr(const struct nlattr *a, void *data)
{
	struct net_nl *nl = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->err, sizeof(nl->err), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* An error message: keep the kernel's text, return its errno. */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct net_nl *nl = ((struct talk *)data)->nl;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (e->error == 0)
		return MNL_CB_STOP;	/* the ack */
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		/* the request is echoed unless NLM_F_CAPPED */
		off = sizeof(*e);
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

int net_nl_talk(struct net_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		void *data)
{
	char buf[65536];	/* a dump page is at most 32 KiB */
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_NOOP] = noop_cb,
		[NLMSG_ERROR] = error_cb,
		[NLMSG_DONE] = done_cb,
	};
	struct talk t = { nl, cb, data };
	uint32_t seq = nlh->nlmsg_seq;
	int r;

	nl->err[0] = '\0';
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		errno = 0;
		r = mnl_cb_run2(buf, (size_t)n, seq, nl->portid, data_cb, &t,
				ctl, NLMSG_MIN_TYPE);
		if (r < 0)
			return errno ? -errno : -EPROTO;
		if (r == MNL_CB_STOP)
			return 0;
	}
}
