/* Reading the counters of table inet moat's rules (one rule dump,
 * filtered by the kernel to the table). libnftnl parses each rule and
 * checks its attributes; nothing here changes the ruleset. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "base/util.h"
#include "fw/counters.h"
#include "fw/fw.h"

struct dump {
	struct fw_counter *v;
	size_t n, cap;
	/* rules seen per chain, counting or not: a rule's position */
	char (*chains)[64];
	unsigned *seen;
	size_t nchains;
};

static unsigned next_position(struct dump *d, const char *chain)
{
	size_t i;

	for (i = 0; i < d->nchains; i++)
		if (!strcmp(d->chains[i], chain))
			return d->seen[i]++;
	d->chains = xrealloc(d->chains, (i + 1) * sizeof(*d->chains));
	d->seen = xrealloc(d->seen, (i + 1) * sizeof(*d->seen));
	snprintf(d->chains[i], sizeof(d->chains[i]), "%s", chain);
	d->seen[i] = 1;
	d->nchains++;
	return 0;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **out = data;
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len &&
	    v[len - 1] == '\0')
		*out = v;
	return 0;
}

/* The rule's first counter; false when it has none. */
static bool rule_counter(struct nftnl_rule *r, uint64_t *packets,
			 uint64_t *bytes)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	bool found = false;

	while (it && !found && (e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (name && !strcmp(name, "counter")) {
			*packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			*bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
			found = true;
		}
	}
	if (it)
		nftnl_expr_iter_destroy(it);
	return found;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const char *table, *chain, *comment = NULL;
	const void *ud;
	uint32_t len = 0;
	uint64_t packets, bytes;
	unsigned pos;

	if (!r)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0)
		goto out;	/* not a rule: ignore */
	table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	if (!table || strcmp(table, FW_TABLE) || !chain)
		goto out;
	pos = next_position(d, chain);
	if (!rule_counter(r, &packets, &bytes))
		goto out;
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
	if (ud && len)
		nftnl_udata_parse(ud, len, comment_cb, &comment);
	xgrow((void **)&d->v, &d->cap, d->n + 1, sizeof(*d->v));
	snprintf(d->v[d->n].chain, sizeof(d->v[d->n].chain), "%s", chain);
	snprintf(d->v[d->n].comment, sizeof(d->v[d->n].comment), "%s",
		 comment ? comment : "");
	d->v[d->n].position = pos;
	d->v[d->n].packets = packets;
	d->v[d->n].bytes = bytes;
	d->n++;
out:
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

int fw_nl_counters(struct fw_counter **out, size_t *n)
{
	char buf[32768];	/* a dump page, as libmnl sizes them */
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct dump d = { 0 };
	struct nlmsghdr *nlh;
	uint32_t seq = (uint32_t)time(NULL), portid;
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (!nl || !r || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = errno ? -errno : -ENOMEM;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
				    NLM_F_DUMP, seq);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FW_TABLE);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t got = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		int st;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ret = -errno;
			break;
		}
		errno = 0;
		st = mnl_cb_run(buf, (size_t)got, seq, portid, rule_cb, &d);
		if (st < 0) {
			/* no table: nothing counts */
			ret = errno == ENOENT ? 0 : errno ? -errno : -EPROTO;
			break;
		}
		if (st == MNL_CB_STOP)
			break;
	}
out:
	if (r)
		nftnl_rule_free(r);
	if (nl)
		mnl_socket_close(nl);
	free(d.chains);
	free(d.seen);
	if (ret < 0) {
		free(d.v);
		return ret;
	}
	*out = d.v;
	*n = d.n;
	return 0;
}
