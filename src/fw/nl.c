/* Reading table inet moat over netlink with libnftnl + libmnl. Every
 * reply is parsed by libnftnl, which checks attribute lengths; whatever
 * the kernel holds, this file only counts and reads a comment. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "fw/nl.h"

int fw_nl_open(struct fw_nl *nl)
{
	nl->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl->sock)
		return -errno;
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

void fw_nl_close(struct fw_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* Sends the request in buf and feeds every reply to cb until the kernel
 * says done (a dump) or acks. 0 or -errno. */
static int talk(struct fw_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		void *data)
{
	char buf[32768];	/* a dump page, as libmnl sizes them */
	uint32_t seq = nlh->nlmsg_seq;
	int r;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));

		if (n < 0)
			return -errno;
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char **out = data;
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	/* a NUL-terminated string, as nft writes it */
	if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT && len &&
	    v[len - 1] == '\0')
		*out = v;
	return 0;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fw_kernel *k = data;
	struct nftnl_table *t = nftnl_table_alloc();
	const char *comment = NULL;
	const void *ud;
	uint32_t len = 0;

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
		nftnl_table_free(t);
		return MNL_CB_OK;	/* not a table: ignore */
	}
	k->present = true;
	ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	if (ud && len)
		nftnl_udata_parse(ud, len, comment_cb, &comment);
	k->ours = fw_hash_from_comment(comment, k->hash);
	nftnl_table_free(t);
	return MNL_CB_OK;
}

int fw_nl_table(struct fw_nl *nl, struct fw_kernel *k)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int r;

	memset(k, 0, sizeof(*k));
	if (!t)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
				    NLM_F_ACK, ++nl->seq);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, FW_TABLE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	r = talk(nl, nlh, table_cb, k);
	if (r == -ENOENT)
		return 0;	/* no table: nothing installed */
	return r;
}

/* Dumps of chains, rules and sets carry every table of the family; count
 * the ones in ours. */
struct count {
	size_t n;
	size_t base;
	int what;
};

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	struct count *c = data;
	const char *table = NULL;

	if (c->what == NFT_MSG_GETCHAIN) {
		struct nftnl_chain *ch = nftnl_chain_alloc();

		if (ch && nftnl_chain_nlmsg_parse(nlh, ch) >= 0) {
			table = nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE);
			if (table && !strcmp(table, FW_TABLE)) {
				c->n++;
				c->base += nftnl_chain_is_set(ch,
							      NFTNL_CHAIN_HOOKNUM);
			}
		}
		nftnl_chain_free(ch);
	} else if (c->what == NFT_MSG_GETRULE) {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (r && nftnl_rule_nlmsg_parse(nlh, r) >= 0) {
			table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
			c->n += table && !strcmp(table, FW_TABLE);
		}
		nftnl_rule_free(r);
	} else {
		struct nftnl_set *s = nftnl_set_alloc();

		if (s && nftnl_set_nlmsg_parse(nlh, s) >= 0) {
			uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);

			table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
			/* anonymous sets ({ 80, 443 } in a rule) are the
			 * rules' business */
			c->n += table && !strcmp(table, FW_TABLE) &&
				!(flags & NFT_SET_ANONYMOUS);
		}
		nftnl_set_free(s);
	}
	return MNL_CB_OK;
}

static int count_dump(struct fw_nl *nl, int what, struct count *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	memset(c, 0, sizeof(*c));
	c->what = what;
	nlh = nftnl_nlmsg_build_hdr(buf, (uint16_t)what, NFPROTO_INET,
				    NLM_F_DUMP, ++nl->seq);
	if (what == NFT_MSG_GETRULE) {
		/* the kernel filters a rule dump by table when asked */
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (!r)
			return -ENOMEM;
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, FW_TABLE);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
	}
	return talk(nl, nlh, count_cb, c);
}

int fw_nl_inspect(struct fw_nl *nl, struct fw_kernel *k)
{
	struct count c;
	int r = fw_nl_table(nl, k);

	if (r < 0 || !k->present)
		return r;
	if ((r = count_dump(nl, NFT_MSG_GETCHAIN, &c)) < 0)
		return r;
	k->nchains = c.n;
	k->nbase = c.base;
	if ((r = count_dump(nl, NFT_MSG_GETRULE, &c)) < 0)
		return r;
	k->nrules = c.n;
	if ((r = count_dump(nl, NFT_MSG_GETSET, &c)) < 0)
		return r;
	k->nsets = c.n;
	return 0;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = nftnl_gen_alloc();

	if (g && nftnl_gen_nlmsg_parse(nlh, g) >= 0 &&
	    nftnl_gen_is_set(g, NFTNL_GEN_ID))
		*(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return MNL_CB_OK;
}

int fw_nl_genid(struct fw_nl *nl, uint32_t *genid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	*genid = 0;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK,
				    ++nl->seq);
	return talk(nl, nlh, gen_cb, genid);
}
