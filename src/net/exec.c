/* Carrying out a change: each operation is one rtnetlink request with
 * NLM_F_ACK, and nothing counts as done until its ack says so.
 *
 * Requests go in batches: up to BATCH_BYTES of them in one sendmsg, then
 * every ack is read. rtnetlink handles the messages of a batch one by
 * one, each on its own, so the acks say exactly which were done and which
 * refused (a batch is not a transaction: what follows a refusal still
 * runs, and the caller's undo covers it). The kernel queues all the acks
 * of a batch before sendmsg returns, so a batch is never larger than the
 * receive buffer can hold acks for: a lost ack would leave an operation
 * neither known done nor known refused.
 *
 * Creating a VLAN is the exception: it goes alone, and its new index is
 * asked for before anything can refer to it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include "net/io.h"

#define BATCH_BYTES 65536
/* room for the largest request built here (a rule: under 200 bytes) */
#define REQ_MAX 512
/* What one queued ack costs the receive buffer: the skb's truesize,
 * measured at 832 bytes on Linux 6.18 with NETLINK_CAP_ACK, error or not;
 * with a margin. */
#define ACK_COST 1536
#define RCVBUF_WANT (4 << 20)

struct ifname_ix {
	char name[NET_IFNAMSIZ];
	int ifindex;
};

/* An operation sent and not yet acked. */
struct pending {
	uint32_t seq;
	size_t op;
};

/* A route of the kernel's, kept to judge an EEXIST. */
struct seen_route {
	struct net_route r;
	int oif;
};

struct seen_table {
	int family;
	uint32_t table;
};

struct exec {
	struct net_nl *nl;
	const struct net_change *c;
	enum net_op_result *res;
	struct diag_list *dl;
	bool undoing;		/* go on past refusals, and say so */
	bool failed;
	/* names to indexes: the state's, then what was learnt */
	struct ifname_ix *names;
	size_t nnames, capnames;
	/* the batch */
	char *buf;
	size_t len;
	struct pending *pend;
	size_t npend, max_pend, acked;
	/* ROUTE_ADDs refused with EEXIST in this batch */
	size_t *exists;
	size_t nexists, capexists;
	/* the kernel's routes of the tables looked at for that */
	struct seen_route *seen;
	size_t nseen, capseen;
	struct seen_table *tables;
	size_t ntables, captables;
};

/* --- names ------------------------------------------------------------- */

static struct ifname_ix *name_find(struct exec *x, const char *name)
{
	for (size_t i = 0; i < x->nnames; i++)
		if (!strcmp(x->names[i].name, name))
			return &x->names[i];
	return NULL;
}

static void name_set(struct exec *x, const char *name, int ifindex)
{
	struct ifname_ix *n = name_find(x, name);

	if (!n) {
		xgrow((void **)&x->names, &x->capnames, x->nnames + 1,
		      sizeof(*x->names));
		n = &x->names[x->nnames++];
		snprintf(n->name, sizeof(n->name), "%s", name);
	}
	n->ifindex = ifindex;
}

static const char *name_of(struct exec *x, int ifindex)
{
	for (size_t i = 0; i < x->nnames; i++)
		if (x->names[i].ifindex == ifindex)
			return x->names[i].name;
	return NULL;
}

static int getlink_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	*(int *)data = ifi->ifi_index;
	return MNL_CB_OK;
}

/* The kernel's index for name: > 0, or -errno (-ENODEV: none). */
static int link_query(struct net_nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = net_nl_msg(nl, buf, RTM_GETLINK, NLM_F_ACK);
	struct ifinfomsg *ifi;
	int ifindex = 0, r;

	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	r = net_nl_talk(nl, nlh, getlink_cb, &ifindex);
	if (r < 0)
		return r;
	return ifindex > 0 ? ifindex : -ENODEV;
}

/* Names the state does not know (created by someone since, or by this
 * change) are asked of the kernel once. */
static int ifindex_of(struct exec *x, const char *name)
{
	struct ifname_ix *n = name_find(x, name);
	int r;

	if (n)
		return n->ifindex > 0 ? n->ifindex : -ENODEV;
	r = link_query(x->nl, name);
	if (r > 0 || r == -ENODEV)
		name_set(x, name, r > 0 ? r : 0);
	return r;
}

/* --- messages ---------------------------------------------------------- */

static bool is_removal(enum net_op_kind k)
{
	return k == NET_OP_LINK_DEL || k == NET_OP_ADDR_DEL ||
	       k == NET_OP_ROUTE_DEL || k == NET_OP_RULE_DEL;
}

/* "route \"voip\" (10.1.0.0/16 via 192.0.2.1)", or the object alone
 * when no config line asked for it. */
static void describe(const struct exec *x, const struct net_op *op,
		     char *buf, size_t n)
{
	const char *noun = "?";
	char obj[320] = "", a[64];

	switch (op->kind) {
	case NET_OP_LINK_ADD:
		noun = "VLAN";
		snprintf(obj, sizeof(obj), "%s, id %u on %s", op->link.name,
			 op->link.vlan_id, op->link.parent);
		break;
	case NET_OP_LINK_SET:
	case NET_OP_LINK_DEL:
		noun = "interface";
		snprintf(obj, sizeof(obj), "%s", op->link.name);
		break;
	case NET_OP_ADDR_ADD:
	case NET_OP_ADDR_DEL:
		noun = "address";
		net_addr_format(&op->addr, a, sizeof(a));
		snprintf(obj, sizeof(obj), "%s on %s", a, op->ifname);
		break;
	case NET_OP_ROUTE_ADD:
	case NET_OP_ROUTE_DEL:
	case NET_OP_ROUTE_REPLACE:
		noun = "route";
		net_route_format(&op->route, obj, sizeof(obj));
		break;
	case NET_OP_RULE_ADD:
	case NET_OP_RULE_DEL:
		noun = "rule";
		net_rule_format(&op->rule, obj, sizeof(obj));
		break;
	}
	if (op->what)
		snprintf(buf, n, "%s%s (%s)", x->undoing ? "undoing: " : "",
			 op->what, obj);
	else
		snprintf(buf, n, "%s%s %s", x->undoing ? "undoing: " : "", noun,
			 obj);
}

static void refused(struct exec *x, size_t i, int err, const char *kmsg)
{
	const struct net_op *op = &x->c->ops[i];
	char what[400];

	describe(x, op, what, sizeof(what));
	diag_error(x->dl, &op->pos, "%s: the kernel refused %s: %s%s%s%s",
		   what, is_removal(op->kind) ? "to remove it" :
		   op->kind == NET_OP_LINK_SET ||
		   op->kind == NET_OP_ROUTE_REPLACE ? "the change" : "it",
		   kmsg ? kmsg : "", kmsg && *kmsg ? " (" : "", strerror(err),
		   kmsg && *kmsg ? ")" : "");
	x->res[i] = NET_OP_FAILED;
	x->failed = true;
}

/* A problem found before anything was sent: an unknown interface. */
static void unsent(struct exec *x, size_t i, int err, const char *name)
{
	const struct net_op *op = &x->c->ops[i];
	char what[400];

	describe(x, op, what, sizeof(what));
	if (err == -ENODEV)
		diag_error(x->dl, &op->pos, "%s: interface \"%s\" does not "
			   "exist", what, name);
	else
		diag_error(x->dl, &op->pos, "%s: cannot look up interface "
			   "\"%s\": %s", what, name, strerror(-err));
	x->res[i] = NET_OP_FAILED;
	x->failed = true;
}

/* --- requests ---------------------------------------------------------- */

static size_t alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static int build_link(struct exec *x, const struct net_op *op,
		      struct nlmsghdr *nlh, const char **name)
{
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *info, *data;
	int idx;

	ifi->ifi_family = AF_UNSPEC;
	if (op->link.up >= 0 && op->kind != NET_OP_LINK_DEL) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = op->link.up ? IFF_UP : 0;
	}
	if (op->link.mtu && op->kind != NET_OP_LINK_DEL)
		mnl_attr_put_u32(nlh, IFLA_MTU, op->link.mtu);
	if (op->kind != NET_OP_LINK_ADD) {
		*name = op->link.name;
		idx = ifindex_of(x, op->link.name);
		ifi->ifi_index = idx;
		return idx < 0 ? idx : 0;
	}
	*name = op->link.parent;
	idx = ifindex_of(x, op->link.parent);
	if (idx < 0)
		return idx;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, op->link.name);
	mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)idx);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u16(nlh, IFLA_VLAN_ID, op->link.vlan_id);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return 0;
}

static int build_addr(struct exec *x, const struct net_op *op,
		      struct nlmsghdr *nlh, const char **name)
{
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	const struct net_addr *a = &op->addr;
	int idx = ifindex_of(x, op->ifname);

	*name = op->ifname;
	if (idx < 0)
		return idx;
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = a->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)idx;
	if (a->family == AF_INET6) {
		mnl_attr_put(nlh, IFA_ADDRESS, 16, a->addr);
		return 0;
	}
	mnl_attr_put(nlh, IFA_LOCAL, 4, a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, a->addr);
	if (a->len < 31 && op->kind == NET_OP_ADDR_ADD) {
		uint32_t brd, host = a->len ? 0xffffffffu >> a->len :
				     0xffffffffu;

		memcpy(&brd, a->addr, 4);
		brd |= htonl(host);
		mnl_attr_put(nlh, IFA_BROADCAST, 4, &brd);
	}
	return 0;
}

/* A removal names the route by its key (destination, table, metric) and
 * moat's protocol, so it can only ever take moat's own. */
static int build_route(struct exec *x, const struct net_op *op,
		       struct nlmsghdr *nlh, const char **name)
{
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	const struct net_route *r = &op->route;
	bool del = op->kind == NET_OP_ROUTE_DEL;
	int idx;

	rtm->rtm_family = (uint8_t)r->family;
	rtm->rtm_dst_len = r->dst.len;
	rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = NET_RTPROT_MOAT;
	rtm->rtm_scope = del ? RT_SCOPE_NOWHERE : r->scope;
	rtm->rtm_type = r->type;
	mnl_attr_put_u32(nlh, RTA_TABLE, r->table);
	if (r->dst.len)
		mnl_attr_put(nlh, RTA_DST, alen(r->family), r->dst.addr);
	mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	if (del)
		return 0;
	if (r->has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, alen(r->family), r->gw);
	if (r->dev[0]) {
		*name = r->dev;
		idx = ifindex_of(x, r->dev);
		if (idx < 0)
			return idx;
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)idx);
	}
	return 0;
}

/* As iproute2 does: a small table in the header, a large one in
 * FRA_TABLE. The protocol goes on removals too, so that only moat's
 * rule can match. */
static void build_rule(const struct net_op *op, struct nlmsghdr *nlh)
{
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh,
							      sizeof(*frh));
	const struct net_rule *r = &op->rule;

	frh->family = (uint8_t)r->family;
	frh->src_len = r->src.len;
	frh->dst_len = r->dst.len;
	frh->action = r->action;
	if (r->action == FR_ACT_TO_TBL) {
		frh->table = r->table < 256 ? (uint8_t)r->table :
			     RT_TABLE_UNSPEC;
		if (r->table >= 256)
			mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	}
	mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	if (r->src.len)
		mnl_attr_put(nlh, FRA_SRC, alen(r->family), r->src.addr);
	if (r->dst.len)
		mnl_attr_put(nlh, FRA_DST, alen(r->family), r->dst.addr);
	if (r->fwmask) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, r->fwmark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, r->fwmask);
	}
	if (r->iif[0])
		mnl_attr_put_strz(nlh, FRA_IIFNAME, r->iif);
	if (r->oif[0])
		mnl_attr_put_strz(nlh, FRA_OIFNAME, r->oif);
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, NET_RTPROT_MOAT);
}

static const struct {
	uint16_t type;
	uint16_t flags;
} req_of[] = {
	[NET_OP_LINK_ADD] = { RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL },
	[NET_OP_LINK_SET] = { RTM_NEWLINK, 0 },
	[NET_OP_LINK_DEL] = { RTM_DELLINK, 0 },
	[NET_OP_ADDR_ADD] = { RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL },
	[NET_OP_ADDR_DEL] = { RTM_DELADDR, 0 },
	[NET_OP_ROUTE_ADD] = { RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL },
	[NET_OP_ROUTE_REPLACE] = { RTM_NEWROUTE,
				   NLM_F_CREATE | NLM_F_REPLACE },
	[NET_OP_ROUTE_DEL] = { RTM_DELROUTE, 0 },
	[NET_OP_RULE_ADD] = { RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL },
	[NET_OP_RULE_DEL] = { RTM_DELRULE, 0 },
};

/* Builds op's request in buf. 0, or -errno when a name does not
 * resolve (*name says which). */
static int build(struct exec *x, const struct net_op *op, void *buf,
		 struct nlmsghdr **out, const char **name)
{
	struct nlmsghdr *nlh = net_nl_msg(x->nl, buf, req_of[op->kind].type,
					  req_of[op->kind].flags | NLM_F_ACK);

	*out = nlh;
	*name = "";
	switch (op->kind) {
	case NET_OP_LINK_ADD:
	case NET_OP_LINK_SET:
	case NET_OP_LINK_DEL:
		return build_link(x, op, nlh, name);
	case NET_OP_ADDR_ADD:
	case NET_OP_ADDR_DEL:
		return build_addr(x, op, nlh, name);
	case NET_OP_ROUTE_ADD:
	case NET_OP_ROUTE_REPLACE:
	case NET_OP_ROUTE_DEL:
		return build_route(x, op, nlh, name);
	case NET_OP_RULE_ADD:
	case NET_OP_RULE_DEL:
		build_rule(op, nlh);
		return 0;
	}
	return -EINVAL;
}

/* --- an EEXIST on a route ------------------------------------------------ */

static int seen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct exec *x = data;
	struct seen_route s;

	if (net_route_parse(nlh, &s.r, &s.oif) != 0)
		return MNL_CB_OK;	/* what cannot be read matches nothing */
	xgrow((void **)&x->seen, &x->capseen, x->nseen + 1, sizeof(*x->seen));
	x->seen[x->nseen++] = s;
	return MNL_CB_OK;
}

/* Every route of a table, whoever made it, read once per change. The
 * table counts as read only when its whole dump came: a partial list
 * would be trusted by the next EEXIST. */
static int seen_load(struct exec *x, int family, uint32_t table)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	size_t before = x->nseen;
	int r;

	for (size_t i = 0; i < x->ntables; i++)
		if (x->tables[i].family == family &&
		    x->tables[i].table == table)
			return 0;
	nlh = net_nl_msg(x->nl, buf, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	r = net_nl_talk(x->nl, nlh, seen_cb, x);
	if (r < 0) {
		x->nseen = before;
		return r;
	}
	xgrow((void **)&x->tables, &x->captables, x->ntables + 1,
	      sizeof(*x->tables));
	x->tables[x->ntables].family = family;
	x->tables[x->ntables++].table = table;
	return 0;
}

/* The kernel's route with op's key (destination, table, metric), with
 * its device named, or NULL. */
static bool in_the_way(struct exec *x, const struct net_route *r,
		       struct net_route *out)
{
	for (size_t i = 0; i < x->nseen; i++) {
		const char *dev;

		if (!net_route_same_key(&x->seen[i].r, r))
			continue;
		*out = x->seen[i].r;
		dev = x->seen[i].oif ? name_of(x, x->seen[i].oif) : NULL;
		snprintf(out->dev, sizeof(out->dev), "%s", dev ? dev : "");
		return true;
	}
	return false;
}

/* "Creating what exists already is not an error": an identical route
 * of someone else's is left as it is; a different one is in the way. */
static void route_exists(struct exec *x, size_t i)
{
	const struct net_op *op = &x->c->ops[i];
	struct net_route k;
	char what[400], other[320];
	int r = seen_load(x, op->route.family, op->route.table);

	describe(x, op, what, sizeof(what));
	if (r < 0) {
		refused(x, i, EEXIST, NULL);
		diag_error(x->dl, &op->pos, "%s: cannot read the kernel's "
			   "routes to see what is in the way: %s", what,
			   strerror(-r));
		return;
	}
	if (!in_the_way(x, &op->route, &k)) {
		refused(x, i, EEXIST, NULL);
		return;
	}
	if (net_route_equal(&k, &op->route)) {
		diag_warn(x->dl, &op->pos, "%s exists already, not moat's: "
			  "left as it is", what);
		x->res[i] = NET_OP_SKIPPED;
		return;
	}
	net_route_format(&k, other, sizeof(other));
	diag_error(x->dl, &op->pos, "%s: the kernel has another route with "
		   "this destination and metric (%s, protocol %u), not "
		   "moat's; moat leaves it alone: remove it or give this "
		   "route another metric", what, other, k.protocol);
	x->res[i] = NET_OP_FAILED;
	x->failed = true;
}

/* --- the batch ---------------------------------------------------------- */

/* What an ack means for op i: done, so already, or refused. */
static void acked(struct exec *x, size_t i, int err, const char *kmsg)
{
	const struct net_op *op = &x->c->ops[i];

	if (err == 0) {
		x->res[i] = NET_OP_DONE;
		if (op->kind == NET_OP_LINK_DEL)
			name_set(x, op->link.name, 0);
		return;
	}
	if (err == EEXIST && op->kind == NET_OP_ROUTE_ADD) {
		xgrow((void **)&x->exists, &x->capexists, x->nexists + 1,
		      sizeof(*x->exists));
		x->exists[x->nexists++] = i;
		return;
	}
	/* the kernel tells rules apart by protocol too, so an existing
	 * one is moat's own */
	if (err == EEXIST && (op->kind == NET_OP_ADDR_ADD ||
			      op->kind == NET_OP_RULE_ADD)) {
		x->res[i] = NET_OP_SKIPPED;
		return;
	}
	/* removing what is gone already */
	if (is_removal(op->kind) && (err == ESRCH || err == ENOENT ||
				     err == EADDRNOTAVAIL || err == ENODEV)) {
		x->res[i] = NET_OP_SKIPPED;
		return;
	}
	refused(x, i, err, kmsg);
}

static int extack_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		*(const char **)data = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static struct pending *pending_find(struct exec *x, uint32_t seq)
{
	size_t lo = 0, hi = x->npend;

	/* sequence numbers rise through a batch (modulo 2^32) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((int32_t)(x->pend[mid].seq - seq) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->npend && x->pend[lo].seq == seq ? &x->pend[lo] : NULL;
}

/* One ack: the error number and, with extended acks, the kernel's own
 * words. Anything else (a stray reply, a malformed message) is not an
 * ack of ours and is passed over. */
static void ack_read(struct exec *x, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const char *kmsg = NULL;
	struct pending *p;
	size_t off;

	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)) ||
	    nlh->nlmsg_pid != x->nl->portid)
		return;
	p = pending_find(x, nlh->nlmsg_seq);
	if (!p || x->res[p->op] != NET_OP_NOT_RUN ||
	    e->msg.nlmsg_seq != nlh->nlmsg_seq)
		return;
	if (e->error && (nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    e->msg.nlmsg_len >= sizeof(e->msg)) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, (unsigned)off, extack_cb, &kmsg);
	}
	x->acked++;
	acked(x, p->op, -e->error, kmsg);
}

/* The ops of a batch that got no answer: an error of the socket. */
static void batch_lost(struct exec *x, int err)
{
	size_t lost = 0;

	for (size_t k = 0; k < x->npend; k++)
		if (x->res[x->pend[k].op] == NET_OP_NOT_RUN) {
			x->res[x->pend[k].op] = NET_OP_FAILED;
			lost++;
		}
	diag_error(x->dl, NULL, "talking to the kernel failed (%s): what "
		   "became of %zu change%s is not known", strerror(err), lost,
		   lost == 1 ? "" : "s");
	x->failed = true;
}

static void batch_send(struct exec *x)
{
	char buf[16384];

	if (!x->npend)
		return;
	x->acked = 0;
	if (mnl_socket_sendto(x->nl->sock, x->buf, x->len) < 0) {
		batch_lost(x, errno);
		goto out;
	}
	while (x->acked < x->npend) {
		ssize_t n = mnl_socket_recvfrom(x->nl->sock, buf, sizeof(buf));
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int len = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			batch_lost(x, errno);
			break;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			ack_read(x, nlh);
	}
	for (size_t k = 0; k < x->nexists; k++)
		route_exists(x, x->exists[k]);
out:
	x->nexists = 0;
	x->npend = 0;
	x->len = 0;
}

/* --- running ------------------------------------------------------------- */

/* Creating a VLAN: alone, then its index, so what follows can use it. */
static void link_add(struct exec *x, size_t i)
{
	const struct net_op *op = &x->c->ops[i];
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	const char *name;
	int r = build(x, op, buf, &nlh, &name);

	if (r < 0) {
		unsent(x, i, r, name);
		return;
	}
	r = net_nl_talk(x->nl, nlh, NULL, NULL);
	if (r == -EOPNOTSUPP) {
		char why[320];

		snprintf(why, sizeof(why), "%s%sthis kernel has no VLAN "
			 "support (module 8021q)", x->nl->err,
			 x->nl->err[0] ? "; " : "");
		refused(x, i, -r, why);
		return;
	}
	if (r < 0) {
		refused(x, i, -r, x->nl->err);
		return;
	}
	x->res[i] = NET_OP_DONE;
	r = link_query(x->nl, op->link.name);
	if (r < 0) {
		diag_error(x->dl, &op->pos, "VLAN %s was created but cannot "
			   "be found: %s", op->link.name, strerror(-r));
		x->failed = true;
		return;
	}
	name_set(x, op->link.name, r);
}

/* Adds op i to the batch. An interface that is not there fails it
 * unsent, except for a removal, which then has nothing to do. */
static void batch_add(struct exec *x, size_t i)
{
	const struct net_op *op = &x->c->ops[i];
	struct nlmsghdr *nlh;
	const char *name;
	int r = build(x, op, x->buf + x->len, &nlh, &name);

	if (r == -ENODEV && is_removal(op->kind)) {
		x->res[i] = NET_OP_SKIPPED;
		return;
	}
	if (r < 0) {
		unsent(x, i, r, name);
		return;
	}
	x->len += nlh->nlmsg_len;
	x->pend[x->npend].seq = nlh->nlmsg_seq;
	x->pend[x->npend++].op = i;
}

/* How many acks the receive buffer holds: made as large as the kernel
 * lets root make it, then measured. */
static size_t acks_max(struct net_nl *nl)
{
	int fd = mnl_socket_get_fd(nl->sock), want = RCVBUF_WANT, one = 1;
	int have = 0;
	socklen_t len = sizeof(have);

	/* error acks carry the kernel's message, not a copy of the
	 * request */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want,
		       sizeof(want)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &have, &len) < 0 ||
	    have < ACK_COST * 16)
		return 8;
	return (size_t)have / ACK_COST;
}

static void exec_free(struct exec *x)
{
	free(x->names);
	free(x->buf);
	free(x->pend);
	free(x->exists);
	free(x->seen);
	free(x->tables);
}

/* An undo goes on past refusals; an apply stops at the first. */
static bool go_on(const struct exec *x)
{
	return x->undoing || !x->failed;
}

int net_exec(struct net_nl *nl, const struct net_plan *state,
	     const struct net_change *c, unsigned flags,
	     enum net_op_result *res, struct diag_list *dl)
{
	struct exec x = { .nl = nl, .c = c, .res = res, .dl = dl,
			  .undoing = flags & NET_EXEC_UNDO };
	size_t i;

	for (i = 0; i < c->n; i++)
		res[i] = NET_OP_NOT_RUN;
	for (i = 0; state && i < state->nlinks; i++)
		name_set(&x, state->links[i].name, state->links[i].ifindex);
	x.max_pend = acks_max(nl);
	x.buf = xmalloc(BATCH_BYTES);
	x.pend = xcalloc(x.max_pend, sizeof(*x.pend));
	for (i = 0; i < c->n && go_on(&x); i++) {
		if (c->ops[i].kind == NET_OP_LINK_ADD) {
			batch_send(&x);
			if (go_on(&x))
				link_add(&x, i);
			continue;
		}
		if (x.len + REQ_MAX > BATCH_BYTES || x.npend == x.max_pend)
			batch_send(&x);
		if (go_on(&x))
			batch_add(&x, i);
	}
	/* unless undoing (which goes on regardless), a problem found
	 * before sending stops the batch unsent */
	if (go_on(&x))
		batch_send(&x);
	exec_free(&x);
	return x.failed ? -1 : 0;
}
