/* `moat set` against the kernel: set metadata (NFT_MSG_GETSET), element
 * batches (NEWSETELEM/DELSETELEM between BATCH_BEGIN and BATCH_END, one
 * sendto, every ack read) and element dumps, with libnftnl + libmnl. The
 * only file of `moat set` that touches the kernel; it never runs nft and
 * never uses libnftables. Every reply is length-checked before it is read:
 * whatever the kernel sends, this file returns an error, not a crash.
 *
 * Interval sets are encoded as nft 1.0.6 does: a range [lo, hi] is a start
 * element at lo and an end element (NFT_SET_ELEM_INTERVAL_END) at hi + 1;
 * a range that reaches the last key has no end element and carries nft's
 * "open interval" user data instead. Unlike nft, moat does not add the
 * "null" end element at key 0 when it fills an empty set: knowing that the
 * set is empty would need a dump, and lookups do not need that element. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "base/buf.h"
#include "base/util.h"
#include "fw/set.h"

/* An element list nest's length is 16 bits: each message holds at most
 * this many bytes of elements, and a batch holds as many messages as it
 * needs. */
#define ELEMS_MAX 60000
/* The most one range takes in a message (a start and an end element). */
#define RANGE_ROOM 160
/* Room for a message's header and names (a set name is < 256 bytes). */
#define MSG_ROOM (ELEMS_MAX + 1024)
#define NAME_MAX_LEN 255
/* Receive buffer: a dump skb is at most 32 KiB unless we ask for more. */
#define RX_SIZE (64 * 1024)
/* The kernel answers inside sendto; this only bounds a kernel that would
 * not, rather than hanging forever. */
#define RECV_TIMEOUT_S 30
#define DUMP_RETRIES 5

struct fw_set_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	char *rx;
};

/* An element's place in a batch, to name it when the kernel refuses it
 * (the error ack carries the message's seq and the element's offset). */
struct ref {
	uint32_t seq;
	uint32_t off;
	int type;		/* NFT_MSG_NEWSETELEM or DELSETELEM */
	const struct fw_elem *e;
};

struct batch {
	char *buf;
	size_t len;
	size_t cap;
	uint32_t seq0;		/* BATCH_BEGIN's seq */
	uint32_t seq;		/* the next message's */
	size_t nmsgs;		/* element messages, each acked */
	struct nlmsghdr *msg;	/* the message being filled, or NULL */
	struct nlattr *elems;	/* its NFTA_SET_ELEM_LIST_ELEMENTS */
	int msg_type;
	struct ref *refs;
	size_t nrefs;
	size_t refcap;
};

/* What the acks of a batch said: the first error, if any. */
struct acks {
	int err;		/* 0 or -errno */
	const struct fw_elem *elem;	/* the element refused, if known */
	int elem_type;		/* NFT_MSG_NEWSETELEM or DELSETELEM */
	char kmsg[128];		/* the kernel's extack message, if any */
	size_t nacked;
	size_t nerrors;
	bool batch_error;	/* refused as a whole (ack of BATCH_BEGIN) */
};

int fw_set_nl_open(struct fw_set_nl **out, char **err)
{
	struct fw_set_nl *nl = xcalloc(1, sizeof(*nl));
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };
	int one = 1, r;

	*out = NULL;
	nl->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		if (err)
			*err = xasprintf("cannot open a netlink socket to "
					 "nf_tables: %s", strerror(-r));
		fw_set_nl_close(nl);
		return r;
	}
	/* Error acks then say which element failed (extended acks) without
	 * echoing the whole 60 KB message back (capped acks). Both are
	 * optional: without them errors are less precise, not wrong. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	nl->rx = xmalloc(RX_SIZE);
	*out = nl;
	return 0;
}

void fw_set_nl_close(struct fw_set_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->rx);
	free(nl);
}

static char *set_missing(const char *name)
{
	return xasprintf("set \"%s\" does not exist in table "
			 FW_SET_FAMILY_NAME " " FW_SET_TABLE
			 " (is the config applied?)", name);
}

static char *errno_msg(const char *name, int r)
{
	if (r == -EPERM || r == -EACCES)
		return xasprintf("set \"%s\": permission denied (changing "
				 "nftables needs root or CAP_NET_ADMIN)", name);
	return xasprintf("set \"%s\": %s", name, strerror(-r));
}

static void set_err(char **err, char *msg)
{
	if (err)
		*err = msg;
	else
		free(msg);
}

/* Receiving. */

/* Reads one datagram from the kernel: its length, or -errno. wait false
 * takes only what is queued (-EAGAIN if nothing); otherwise it waits up
 * to the socket's receive timeout. */
static ssize_t recv_one(struct fw_set_nl *nl, bool wait)
{
	struct sockaddr_nl addr;
	struct iovec iov = { nl->rx, RX_SIZE };
	struct msghdr msg = {
		.msg_name = &addr,
		.msg_namelen = sizeof(addr),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t n;

	do {
		n = recvmsg(mnl_socket_get_fd(nl->sock), &msg,
			    wait ? 0 : MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK && wait ? -ETIMEDOUT : -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (msg.msg_namelen != sizeof(addr) || addr.nl_pid != 0)
		return -EPROTO;	/* not from the kernel */
	return n;
}

/* Sends one request and runs cb on every reply until cb, the kernel's ack
 * or NLMSG_DONE says it is over. 0 or -errno (the kernel's error). */
static int talk(struct fw_set_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	int r;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = recv_one(nl, true);

		if (n < 0)
			return (int)n;
		errno = 0;
		r = mnl_cb_run(nl->rx, (size_t)n, seq, nl->portid, cb, data);
	} while (r > MNL_CB_STOP);
	return r < 0 ? (errno ? -errno : -EPROTO) : 0;
}

/* GETSET. */

struct get_ctx {
	struct fw_set_info *info;
	const char *name;
	int status;		/* 1 found, 0 not yet, -errno refused */
	char *why;
};

static int get_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *c = data;
	struct nftnl_set *s;
	uint32_t flags, key_type, key_len;
	enum fw_set_type t;
	const char *name;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSET || c->status)
		return MNL_CB_OK;
	s = nftnl_set_alloc();
	if (!s)
		fatal("out of memory");
	if (nftnl_set_nlmsg_parse(nlh, s) < 0 ||
	    !nftnl_set_is_set(s, NFTNL_SET_NAME) ||
	    !nftnl_set_is_set(s, NFTNL_SET_KEY_LEN)) {
		c->status = -EPROTO;
		c->why = xasprintf("set \"%s\": the kernel's description of "
				   "it does not parse", c->name);
		goto out;
	}
	name = nftnl_set_get_str(s, NFTNL_SET_NAME);
	if (!name || strcmp(name, c->name)) {
		c->status = -EPROTO;
		c->why = xasprintf("set \"%s\": the kernel answered about "
				   "another set", c->name);
		goto out;
	}
	flags = nftnl_set_is_set(s, NFTNL_SET_FLAGS) ?
		nftnl_set_get_u32(s, NFTNL_SET_FLAGS) : 0;
	key_type = nftnl_set_is_set(s, NFTNL_SET_KEY_TYPE) ?
		   nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) : 0;
	key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
	if (flags & (NFT_SET_MAP | NFT_SET_OBJECT)) {
		c->status = -EOPNOTSUPP;
		c->why = xasprintf("set \"%s\" is a map; moat set handles "
				   "sets of keys only", c->name);
		goto out;
	}
	if (!fw_set_type_from_nft(key_type, key_len, &t)) {
		c->status = -EOPNOTSUPP;
		c->why = xasprintf("set \"%s\" holds keys moat set does not "
				   "handle (nft type %u, %u bytes; it handles "
				   "ipv4_addr, ipv6_addr, inet_service, "
				   "ether_addr)", c->name, key_type, key_len);
		goto out;
	}
	c->info->type = t;
	c->info->interval = flags & NFT_SET_INTERVAL;
	c->info->timeout = flags & NFT_SET_TIMEOUT;
	c->info->timeout_ms = nftnl_set_is_set(s, NFTNL_SET_TIMEOUT) ?
			      nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT) : 0;
	c->status = 1;
out:
	nftnl_set_free(s);
	/* The answer is the whole reply: no ack follows (none was asked). */
	return MNL_CB_STOP;
}

static int check_name(const char *name, char **err)
{
	if (!*name || strlen(name) > NAME_MAX_LEN) {
		set_err(err, xasprintf("\"%.40s%s\": a set name is 1 to %d "
				       "bytes", name, strlen(name) > 40 ?
				       "..." : "", NAME_MAX_LEN));
		return -EINVAL;
	}
	return 0;
}

int fw_set_nl_get(struct fw_set_nl *nl, const char *name,
		  struct fw_set_info *info, char **err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct get_ctx c = { info, name, 0, NULL };
	struct nlmsghdr *nlh;
	int r;

	if ((r = check_name(name, err)))
		return r;
	memset(info, 0, sizeof(*info));
	info->name = name;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, 0,
				    nl->seq++);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, FW_SET_TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	r = talk(nl, nlh, get_cb, &c);
	if (c.status < 0) {
		set_err(err, c.why);
		return c.status;
	}
	if (r == -ENOENT) {
		set_err(err, set_missing(name));
		return r;
	}
	if (r == 0 && c.status == 0)
		r = -EPROTO;	/* done without an answer */
	if (r) {
		set_err(err, r == -EPROTO ?
			xasprintf("set \"%s\": the kernel did not describe it",
				  name) : errno_msg(name, r));
		return r;
	}
	return 0;
}

/* Building a batch. */

static void batch_init(struct batch *b, struct fw_set_nl *nl)
{
	memset(b, 0, sizeof(*b));
	xgrow((void **)&b->buf, &b->cap, MNL_SOCKET_BUFFER_SIZE, 1);
	b->seq0 = nl->seq++;
	nftnl_batch_begin(b->buf, b->seq0);
	b->len = ((struct nlmsghdr *)b->buf)->nlmsg_len;
	b->seq = nl->seq;
}

static void batch_free(struct batch *b)
{
	free(b->buf);
	free(b->refs);
}

static void msg_close(struct batch *b)
{
	if (!b->msg)
		return;
	mnl_attr_nest_end(b->msg, b->elems);
	b->len += b->msg->nlmsg_len;
	b->msg = NULL;
	b->nmsgs++;
}

static void msg_open(struct batch *b, const struct fw_set_info *info,
		     int type)
{
	uint16_t flags = NLM_F_ACK | (type == NFT_MSG_NEWSETELEM ?
				      NLM_F_CREATE : 0);

	/* Grown only between messages, so b->msg stays valid while filled. */
	xgrow((void **)&b->buf, &b->cap, b->len + MSG_ROOM, 1);
	b->msg = nftnl_nlmsg_build_hdr(b->buf + b->len, (uint16_t)type,
				       NFPROTO_INET, flags, b->seq++);
	mnl_attr_put_strz(b->msg, NFTA_SET_ELEM_LIST_TABLE, FW_SET_TABLE);
	mnl_attr_put_strz(b->msg, NFTA_SET_ELEM_LIST_SET, info->name);
	b->elems = mnl_attr_nest_start(b->msg, NFTA_SET_ELEM_LIST_ELEMENTS);
	b->msg_type = type;
}

/* One element: a key, its flags, a timeout; open marks a start element
 * whose range runs to the last key (nft's NFTNL_SET_ELEM_F_INTERVAL_OPEN
 * in the element's user data, so that nft lists it as nft would). */
static void put_key(struct batch *b, const uint8_t *key, size_t len,
		    uint32_t flags, uint64_t timeout_ms, bool open)
{
	struct nlattr *elem, *k;

	elem = mnl_attr_nest_start(b->msg, NFTA_LIST_ELEM);
	if (flags)
		mnl_attr_put_u32(b->msg, NFTA_SET_ELEM_FLAGS, htonl(flags));
	if (timeout_ms)
		mnl_attr_put_u64(b->msg, NFTA_SET_ELEM_TIMEOUT,
				 htobe64(timeout_ms));
	k = mnl_attr_nest_start(b->msg, NFTA_SET_ELEM_KEY);
	mnl_attr_put(b->msg, NFTA_DATA_VALUE, len, key);
	mnl_attr_nest_end(b->msg, k);
	if (open) {
		/* struct nftnl_udata: type, length, then a host-order u32. */
		uint8_t ud[2 + sizeof(uint32_t)];
		uint32_t v = NFTNL_SET_ELEM_F_INTERVAL_OPEN;

		ud[0] = NFTNL_UDATA_SET_ELEM_FLAGS;
		ud[1] = sizeof(v);
		memcpy(ud + 2, &v, sizeof(v));
		mnl_attr_put(b->msg, NFTA_SET_ELEM_USERDATA, sizeof(ud), ud);
	}
	mnl_attr_nest_end(b->msg, elem);
}

/* Adds (type NEWSETELEM) or deletes (DELSETELEM) one element: a key, or
 * in an interval set a start and, unless hi is the last key, an end. */
static void batch_elem(struct batch *b, const struct fw_set_info *info,
		       int type, const struct fw_elem *e)
{
	size_t len = fw_set_key_len(info->type);
	uint8_t end[FW_KEY_MAX];
	bool has_end;

	if (b->msg && (b->msg_type != type ||
		       (size_t)((char *)mnl_nlmsg_get_payload_tail(b->msg) -
				(char *)b->elems) + RANGE_ROOM > ELEMS_MAX))
		msg_close(b);
	if (!b->msg)
		msg_open(b, info, type);
	xgrow((void **)&b->refs, &b->refcap, b->nrefs + 1, sizeof(*b->refs));
	b->refs[b->nrefs++] = (struct ref){
		.seq = b->msg->nlmsg_seq,
		.off = (uint32_t)((char *)mnl_nlmsg_get_payload_tail(b->msg) -
				  (char *)b->msg),
		.type = type,
		.e = e,
	};
	if (!info->interval) {
		put_key(b, e->lo, len, 0, e->timeout_ms, false);
		return;
	}
	has_end = fw_key_next(e->hi, len, end);
	put_key(b, e->lo, len, 0, e->timeout_ms, !has_end);
	if (has_end)
		put_key(b, end, len, NFT_SET_ELEM_INTERVAL_END, 0, false);
}

static void batch_finish(struct batch *b)
{
	msg_close(b);
	xgrow((void **)&b->buf, &b->cap, b->len + MNL_SOCKET_BUFFER_SIZE, 1);
	nftnl_batch_end(b->buf + b->len, b->seq);
	b->len += ((struct nlmsghdr *)(b->buf + b->len))->nlmsg_len;
}

/* Sending a batch and reading its acks. */

/* The element the kernel points at in message seq: the last one that
 * starts at or before off (refs are in (seq, offset) order). Without an
 * offset, the message's element when it has only one. */
static const struct ref *ref_find(const struct batch *b, uint32_t seq,
				  bool has_off, uint32_t off)
{
	const struct ref *found = NULL;
	size_t n = 0;

	for (size_t i = 0; i < b->nrefs && b->refs[i].seq <= seq; i++) {
		if (b->refs[i].seq != seq)
			continue;
		n++;
		if (has_off ? b->refs[i].off <= off : n == 1)
			found = &b->refs[i];
	}
	return has_off || n == 1 ? found : NULL;
}

struct ext_ack {
	uint32_t off;
	bool has_off;
	const char *msg;
};

static int ext_ack_cb(const struct nlattr *a, void *data)
{
	struct ext_ack *x = data;

	switch (mnl_attr_get_type(a)) {
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
			x->off = mnl_attr_get_u32(a);
			x->has_off = true;
		}
		break;
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			x->msg = mnl_attr_get_str(a);
		break;
	}
	return MNL_CB_OK;
}

/* One NLMSG_ERROR of a batch, its length already checked. */
static void ack_one(const struct batch *b, const struct nlmsghdr *nlh,
		    struct acks *a)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t plen = mnl_nlmsg_get_payload_len(nlh), off = sizeof(*e);
	struct ext_ack x = { 0 };
	const struct ref *ref;

	if (nlh->nlmsg_seq == b->seq0) {
		a->batch_error = true;	/* refused before or at commit */
	} else {
		a->nacked++;
		if (e->error == 0)
			return;
	}
	a->nerrors++;
	if (a->err)
		return;		/* the first error tells the story */
	a->err = e->error < 0 ? e->error : -EPROTO;
	/* Extended ack TLVs follow the error and the echoed request (only
	 * its header when capped). */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return;
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	off = MNL_ALIGN(off);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off < plen)
		mnl_attr_parse_payload((const char *)e + off, plen - off,
				       ext_ack_cb, &x);
	ref = ref_find(b, nlh->nlmsg_seq, x.has_off, x.off);
	if (ref) {
		a->elem = ref->e;
		a->elem_type = ref->type;
	}
	if (x.msg)
		snprintf(a->kmsg, sizeof(a->kmsg), "%s", x.msg);
}

/* Walks one datagram of acks; -EPROTO if it is not made of whole netlink
 * messages. */
static int acks_read(const struct batch *b, const struct fw_set_nl *nl,
		     size_t n, struct acks *a)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->rx;
	int left = (int)n;

	while (mnl_nlmsg_ok(nlh, left)) {
		bool ours = nlh->nlmsg_seq >= b->seq0 &&
			    nlh->nlmsg_seq <= b->seq;

		if (nlh->nlmsg_type == NLMSG_ERROR && ours) {
			if (mnl_nlmsg_get_payload_len(nlh) <
			    sizeof(struct nlmsgerr))
				return -EPROTO;
			ack_one(b, nlh, a);
		}
		/* Anything else (no one asked for echoes) is not ours. */
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	return left == 0 ? 0 : -EPROTO;
}

static void grow_sockbuf(struct fw_set_nl *nl, int force, int plain,
			 size_t need)
{
	int fd = mnl_socket_get_fd(nl->sock), v;
	socklen_t l = sizeof(v);

	if (need > (size_t)1 << 30)
		need = (size_t)1 << 30;
	if (getsockopt(fd, SOL_SOCKET, plain, &v, &l) == 0 &&
	    (size_t)v >= need)
		return;
	v = (int)need;
	/* FORCE passes net.core.[rw]mem_max; it needs CAP_NET_ADMIN, which
	 * changing nftables needs anyway. */
	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v));
}

/* Sends the batch with one sendto and reads every ack. 0, or the first
 * error with a filled in. */
static int batch_talk(struct fw_set_nl *nl, struct batch *b, struct acks *a)
{
	int r;

	memset(a, 0, sizeof(*a));
	nl->seq = b->seq + 1;
	/* The defaults (~200 KB) hold any batch but a bulk load: only then
	 * is it worth two more system calls. */
	if (b->len > 128 * 1024)
		grow_sockbuf(nl, SO_SNDBUFFORCE, SO_SNDBUF, b->len + 4096);
	if (b->nmsgs > 64)
		grow_sockbuf(nl, SO_RCVBUFFORCE, SO_RCVBUF,
			     b->nmsgs * 1024 + 65536);
	if (mnl_socket_sendto(nl->sock, b->buf, b->len) < 0)
		return -errno;
	/* nfnetlink runs a batch inside sendto: when it returns, every
	 * answer is queued (an ack per element message, and a commit error
	 * on BATCH_BEGIN), so read what is there without waiting. */
	for (;;) {
		ssize_t n = recv_one(nl, false);

		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		if ((r = acks_read(b, nl, (size_t)n, a)))
			return r;
	}
	if (!a->err && a->nacked < b->nmsgs)
		a->err = -EPROTO;	/* the kernel skipped an answer */
	return a->err;
}

/* Dumping elements. */

struct dump_ctx {
	const struct fw_set_info *info;
	struct fw_bound *b;
	size_t n;
	size_t cap;
	bool interrupted;
	int bad;		/* the first element that did not parse */
};

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	/* Every attribute used here has a type below 16. */
	if (type < 16)
		tb[type] = a;
	return MNL_CB_OK;
}

/* One NFTA_LIST_ELEM into a boundary: 0, -EPROTO if it is malformed, or
 * -EOPNOTSUPP for a catch-all element (no key: it matches every key). */
static int elem_parse(const struct nlattr *nest, size_t klen,
		      struct fw_bound *out)
{
	const struct nlattr *tb[16] = { 0 }, *kb[16] = { 0 };
	uint32_t flags = 0;

	memset(out, 0, sizeof(*out));
	if (mnl_attr_parse_nested(nest, attr_cb, tb) < 0)
		return -EPROTO;
	if (tb[NFTA_SET_ELEM_FLAGS]) {
		if (mnl_attr_validate(tb[NFTA_SET_ELEM_FLAGS], MNL_TYPE_U32))
			return -EPROTO;
		flags = ntohl(mnl_attr_get_u32(tb[NFTA_SET_ELEM_FLAGS]));
	}
	if (flags & NFT_SET_ELEM_CATCHALL)
		return -EOPNOTSUPP;
	out->end = flags & NFT_SET_ELEM_INTERVAL_END;
	if (!tb[NFTA_SET_ELEM_KEY] ||
	    mnl_attr_validate(tb[NFTA_SET_ELEM_KEY], MNL_TYPE_NESTED) < 0 ||
	    mnl_attr_parse_nested(tb[NFTA_SET_ELEM_KEY], attr_cb, kb) < 0 ||
	    !kb[NFTA_DATA_VALUE] ||
	    mnl_attr_get_payload_len(kb[NFTA_DATA_VALUE]) != klen)
		return -EPROTO;
	memcpy(out->key, mnl_attr_get_payload(kb[NFTA_DATA_VALUE]), klen);
	if (tb[NFTA_SET_ELEM_TIMEOUT]) {
		if (mnl_attr_validate(tb[NFTA_SET_ELEM_TIMEOUT], MNL_TYPE_U64))
			return -EPROTO;
		out->timeout_ms =
			be64toh(mnl_attr_get_u64(tb[NFTA_SET_ELEM_TIMEOUT]));
	}
	if (tb[NFTA_SET_ELEM_EXPIRATION]) {
		if (mnl_attr_validate(tb[NFTA_SET_ELEM_EXPIRATION],
				      MNL_TYPE_U64))
			return -EPROTO;
		out->expires_ms =
			be64toh(mnl_attr_get_u64(tb[NFTA_SET_ELEM_EXPIRATION]));
	}
	return 0;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;
	const struct nlattr *tb[16] = { 0 }, *list;
	struct nlattr *a;
	size_t klen = fw_set_key_len(c->info->type);

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		c->interrupted = true;
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nfgenmsg) ||
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0) {
		c->bad = -EPROTO;
		return MNL_CB_OK;
	}
	list = tb[NFTA_SET_ELEM_LIST_ELEMENTS];
	if (!list)
		return MNL_CB_OK;
	if (mnl_attr_validate(list, MNL_TYPE_NESTED) < 0) {
		c->bad = -EPROTO;
		return MNL_CB_OK;
	}
	mnl_attr_for_each_nested(a, list) {
		if (mnl_attr_get_type(a) != NFTA_LIST_ELEM)
			continue;
		int r;

		xgrow((void **)&c->b, &c->cap, c->n + 1, sizeof(*c->b));
		if ((r = elem_parse(a, klen, &c->b[c->n])) == 0)
			c->n++;
		else if (!c->bad)
			c->bad = r;
	}
	return MNL_CB_OK;
}

/* Dumps the set into out (ranges rebuilt, sorted). 0 or -errno. */
static int dump(struct fw_set_nl *nl, const struct fw_set_info *info,
		struct fw_elems *out, char **err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct dump_ctx c = { .info = info };
	int r;

	for (int tries = 0;; tries++) {
		struct nlmsghdr *nlh;

		c.n = 0;
		c.interrupted = false;
		c.bad = 0;
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM,
					    NFPROTO_INET, NLM_F_DUMP,
					    nl->seq++);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, FW_SET_TABLE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, info->name);
		r = talk(nl, nlh, dump_cb, &c);
		/* The set changed while it was read: read it again. */
		if (r == 0 && c.interrupted && tries < DUMP_RETRIES)
			continue;
		if (r == -EINTR && tries < DUMP_RETRIES)
			continue;
		break;
	}
	if (r == 0 && c.interrupted)
		r = -EINTR;
	if (r == 0 && c.bad)
		r = c.bad;
	if (r == 0)
		fw_elems_from_bounds(info, c.b, c.n, out);
	free(c.b);
	if (r == -ENOENT)
		set_err(err, set_missing(info->name));
	else if (r == -EPROTO)
		set_err(err, xasprintf("set \"%s\": the kernel sent elements "
				       "that do not parse", info->name));
	else if (r == -EOPNOTSUPP)
		set_err(err, xasprintf("set \"%s\" has a catch-all element "
				       "(*), which moat set does not handle",
				       info->name));
	else if (r == -EINTR)
		set_err(err, xasprintf("set \"%s\" kept changing while it was "
				       "read; try again", info->name));
	else if (r)
		set_err(err, errno_msg(info->name, r));
	return r;
}

int fw_set_nl_list(struct fw_set_nl *nl, const struct fw_set_info *info,
		   struct fw_elems *out, char **err)
{
	return dump(nl, info, out, err);
}

/* Messages for a refused batch. */

static char *elem_text(const struct fw_set_info *info, const struct fw_elem *e)
{
	struct buf b = BUF_INIT;

	fw_elem_format(&b, info->type, e);
	return buf_steal(&b);
}

static char *refused(const struct fw_set_info *info, const struct acks *a)
{
	char *elem = a->elem ? elem_text(info, a->elem) : NULL;
	const char *what = elem ? elem : "the elements";
	struct buf b = BUF_INIT;
	char *msg;

	switch (a->err) {
	case -ENOENT:
		/* A missing element or a missing set: only a delete that
		 * names its element can be the former. */
		if (elem && a->elem_type == NFT_MSG_DELSETELEM &&
		    !a->batch_error) {
			buf_printf(&b, "element %s is not in set \"%s\"", elem,
				   info->name);
		} else {
			msg = set_missing(info->name);
			buf_adds(&b, msg);
			free(msg);
		}
		break;
	case -ENOTEMPTY:
	case -EEXIST:
		buf_printf(&b, "%s overlaps an element of set \"%s\"", what,
			   info->name);
		break;
	case -ENFILE:
		buf_printf(&b, "set \"%s\" is full (its size limit is "
			   "reached)", info->name);
		break;
	case -EBUSY:
		buf_printf(&b, "set \"%s\" is constant (flags constant): its "
			   "elements cannot change", info->name);
		break;
	case -ERANGE:
		buf_printf(&b, "%s: the timeout is out of range", what);
		break;
	default:
		msg = errno_msg(info->name, a->err);
		buf_adds(&b, msg);
		free(msg);
		if (elem)
			buf_printf(&b, " (refused: %s)", elem);
		break;
	}
	if (a->kmsg[0])
		buf_printf(&b, " (kernel: %s)", a->kmsg);
	if (a->nerrors > 1)
		buf_printf(&b, " (and %zu more error%s)", a->nerrors - 1,
			   a->nerrors == 2 ? "" : "s");
	free(elem);
	return buf_steal(&b);
}

/* Adding and deleting. */

static int send_elems(struct fw_set_nl *nl, const struct fw_set_info *info,
		      const struct fw_elems *del, const struct fw_elems *put,
		      struct acks *a)
{
	struct batch b;
	int r;

	batch_init(&b, nl);
	for (size_t i = 0; del && i < del->n; i++)
		batch_elem(&b, info, NFT_MSG_DELSETELEM, &del->v[i]);
	for (size_t i = 0; put && i < put->n; i++)
		batch_elem(&b, info, NFT_MSG_NEWSETELEM, &put->v[i]);
	batch_finish(&b);
	r = batch_talk(nl, &b, a);
	batch_free(&b);
	return r;
}

/* The kernel refused to add ranges that overlap what it holds: read the
 * set and replace every range an added one overlaps by their union, in
 * one transaction. */
static int add_merging(struct fw_set_nl *nl, const struct fw_set_info *info,
		       const struct fw_elems *el, char **err)
{
	struct fw_elems cur = { 0 }, del = { 0 }, put = { 0 };
	struct acks a;
	int r;

	if ((r = dump(nl, info, &cur, err)))
		return r;
	fw_elems_absorb(info, &cur, el, &del, &put);
	if (del.n || put.n) {
		r = send_elems(nl, info, &del, &put, &a);
		if (r)
			set_err(err, refused(info, &a));
	}
	fw_elems_free(&cur);
	fw_elems_free(&del);
	fw_elems_free(&put);
	return r;
}

int fw_set_nl_add(struct fw_set_nl *nl, const struct fw_set_info *info,
		  const struct fw_elems *el, char **err)
{
	struct acks a;
	int r;

	if (!el->n)
		return 0;
	r = send_elems(nl, info, NULL, el, &a);
	if (info->interval && (r == -ENOTEMPTY || r == -EEXIST) &&
	    !a.batch_error)
		return add_merging(nl, info, el, err);
	if (r)
		set_err(err, refused(info, &a));
	return r;
}

/* Why a range is not an element of an interval set: the elements it
 * touches, read from the kernel (a refused delete only, so the dump's
 * cost is paid on the error path). */
static char *not_an_element(struct fw_set_nl *nl,
			    const struct fw_set_info *info,
			    const struct fw_elem *e)
{
	struct fw_elems cur = { 0 };
	struct buf b = BUF_INIT;
	char *text = elem_text(info, e);
	size_t shown = 0, hits = 0;

	buf_printf(&b, "%s is not an element of set \"%s\"", text, info->name);
	free(text);
	if (dump(nl, info, &cur, NULL) == 0) {
		for (size_t i = 0; i < cur.n; i++) {
			const struct fw_elem *c = &cur.v[i];

			if (memcmp(c->lo, e->hi, FW_KEY_MAX) > 0 ||
			    memcmp(c->hi, e->lo, FW_KEY_MAX) < 0)
				continue;
			hits++;
			if (shown >= 3)
				continue;
			buf_adds(&b, shown++ ? ", " : "; it overlaps ");
			fw_elem_format(&b, info->type, c);
		}
		if (hits > shown)
			buf_printf(&b, " and %zu more", hits - shown);
		if (hits)
			buf_adds(&b, " (moat set del removes whole elements "
				 "as listed)");
	}
	fw_elems_free(&cur);
	return buf_steal(&b);
}

/* Deleting a range is deleting its start (lo) and its end (hi + 1). If
 * those belong to two different elements, kernels before the interval
 * checks of 6.18's nft_set_rbtree delete one half of each without a word,
 * leaving a range that runs on past hi. So for each range of more than one
 * key, ask the kernel which element holds hi (NFT_MSG_GETSETELEM answers
 * with that element's start): it must be lo. A single key cannot span two
 * elements, so deleting single keys costs nothing more. Sets *bad to the
 * first range that is not an element; 0 or -errno. */
#define GETS_PER_SEND 128

static int check_ranges(struct fw_set_nl *nl, const struct fw_set_info *info,
			const struct fw_elems *el, const struct fw_elem **bad)
{
	size_t len = fw_set_key_len(info->type), i = 0;
	char *buf = xmalloc(GETS_PER_SEND * (size_t)1024);
	int r = 0;

	*bad = NULL;
	while (i < el->n && !r && !*bad) {
		const struct fw_elem *asked[GETS_PER_SEND];
		bool held[GETS_PER_SEND] = { false };
		size_t k = 0, off = 0, acked = 0;
		uint32_t seq0 = nl->seq;

		for (; i < el->n && k < GETS_PER_SEND; i++) {
			const struct fw_elem *e = &el->v[i];
			struct nlmsghdr *nlh;
			struct nlattr *list, *elem, *key;

			if (!memcmp(e->lo, e->hi, len))
				continue;
			nlh = nftnl_nlmsg_build_hdr(buf + off, NFT_MSG_GETSETELEM,
						    NFPROTO_INET, NLM_F_ACK,
						    nl->seq++);
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
					  FW_SET_TABLE);
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, info->name);
			list = mnl_attr_nest_start(nlh,
						   NFTA_SET_ELEM_LIST_ELEMENTS);
			elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
			key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
			mnl_attr_put(nlh, NFTA_DATA_VALUE, len, e->hi);
			mnl_attr_nest_end(nlh, key);
			mnl_attr_nest_end(nlh, elem);
			mnl_attr_nest_end(nlh, list);
			off += nlh->nlmsg_len;
			asked[k++] = e;
		}
		if (!k)
			break;
		if (mnl_socket_sendto(nl->sock, buf, off) < 0) {
			r = -errno;
			break;
		}
		/* Each request gets the element holding hi, then an ack;
		 * or an ENOENT ack when no element holds it. */
		while (acked < k && !r) {
			ssize_t n = recv_one(nl, true);
			const struct nlmsghdr *nlh = (void *)nl->rx;
			int left = (int)n;

			if (n < 0) {
				r = (int)n;
				break;
			}
			for (; mnl_nlmsg_ok(nlh, left);
			     nlh = mnl_nlmsg_next(nlh, &left)) {
				size_t q = nlh->nlmsg_seq - seq0;
				struct dump_ctx c = { .info = info };

				if (nlh->nlmsg_seq < seq0 || q >= k)
					continue;	/* not ours */
				if (nlh->nlmsg_type == NLMSG_ERROR) {
					const struct nlmsgerr *e;

					if (mnl_nlmsg_get_payload_len(nlh) <
					    sizeof(*e)) {
						r = -EPROTO;
						break;
					}
					e = mnl_nlmsg_get_payload(nlh);
					acked++;
					if (e->error && e->error != -ENOENT)
						r = e->error < 0 ? e->error :
						    -EPROTO;
					continue;
				}
				dump_cb(nlh, &c);
				for (size_t b = 0; b < c.n; b++)
					if (!c.b[b].end &&
					    !memcmp(c.b[b].key, asked[q]->lo,
						    len))
						held[q] = true;
				free(c.b);
			}
			if (!r && left != 0)
				r = -EPROTO;
		}
		for (size_t q = 0; q < k && !r && !*bad; q++)
			if (!held[q])
				*bad = asked[q];
	}
	free(buf);
	return r;
}

int fw_set_nl_del(struct fw_set_nl *nl, const struct fw_set_info *info,
		  const struct fw_elems *el, char **err)
{
	const struct fw_elem *bad = NULL;
	struct acks a;
	int r;

	if (!el->n)
		return 0;
	if (info->interval && (r = check_ranges(nl, info, el, &bad))) {
		set_err(err, errno_msg(info->name, r));
		return r;
	}
	if (bad) {
		set_err(err, not_an_element(nl, info, bad));
		return -ENOENT;
	}
	r = send_elems(nl, info, el, NULL, &a);
	if (r == -ENOENT && info->interval && a.elem && !a.batch_error)
		set_err(err, not_an_element(nl, info, a.elem));
	else if (r)
		set_err(err, refused(info, &a));
	return r;
}
