/* Reading table inet moat over netlink with libnftnl + libmnl. Every
 * reply is parsed by libnftnl, which checks attribute lengths; whatever
 * the kernel holds, this file only counts and reads a comment. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nfnetlink.h>
#include <sodium.h>
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

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		errno = 0;
		r = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (r < 0)	/* libmnl sets errno, except on a bad message */
			return errno ? -errno : -EPROTO;
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
 * the ones in ours, and fingerprint what they are: every attribute that
 * says what the table does, none that only says where it is (handles,
 * positions) or what it has seen (counter values, use counts). */
struct count {
	size_t n;
	size_t base;
	int what;
	crypto_hash_sha256_state *h;
	char **maps;		/* named maps, whose elements are dumped next */
	size_t nmaps;
	unsigned char elems[crypto_hash_sha256_BYTES];	/* their sum */
};

static void feed(crypto_hash_sha256_state *h, const struct nlattr *a)
{
	uint16_t type = mnl_attr_get_type(a);
	uint16_t len = mnl_attr_get_payload_len(a);

	crypto_hash_sha256_update(h, (const void *)&type, sizeof(type));
	crypto_hash_sha256_update(h, (const void *)&len, sizeof(len));
	crypto_hash_sha256_update(h, mnl_attr_get_payload(a), len);
}

/* One expression: a counter's numbers change with traffic, its name not. */
static void feed_expr(crypto_hash_sha256_state *h, const struct nlattr *e)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, e) {
		if (mnl_attr_get_type(a) == NFTA_EXPR_NAME &&
		    !mnl_attr_validate(a, MNL_TYPE_NUL_STRING) &&
		    !strcmp(mnl_attr_get_str(a), "counter")) {
			feed(h, a);
			return;
		}
	}
	feed(h, e);
}

/* Whether the message is about table inet moat. */
static bool in_table(const struct nlmsghdr *nlh, uint16_t attr)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == attr)
			return !mnl_attr_validate(a, MNL_TYPE_NUL_STRING) &&
			       !strcmp(mnl_attr_get_str(a), FW_TABLE);
	return false;
}

static void fingerprint(const struct nlmsghdr *nlh, struct count *c)
{
	const struct nlattr *a;

	crypto_hash_sha256_update(c->h, (const void *)&c->what,
				  sizeof(c->what));
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		uint16_t t = mnl_attr_get_type(a);

		if (c->what == NFT_MSG_GETRULE) {
			if (t == NFTA_RULE_CHAIN || t == NFTA_RULE_USERDATA)
				feed(c->h, a);
			else if (t == NFTA_RULE_EXPRESSIONS) {
				const struct nlattr *e;

				mnl_attr_for_each_nested(e, a)
					feed_expr(c->h, e);
			}
		} else if (c->what == NFT_MSG_GETCHAIN) {
			if (t == NFTA_CHAIN_NAME || t == NFTA_CHAIN_HOOK ||
			    t == NFTA_CHAIN_POLICY || t == NFTA_CHAIN_TYPE ||
			    t == NFTA_CHAIN_FLAGS)
				feed(c->h, a);
		} else if (c->what == NFT_MSG_GETSET) {
			if (t == NFTA_SET_NAME || t == NFTA_SET_FLAGS ||
			    t == NFTA_SET_KEY_TYPE || t == NFTA_SET_KEY_LEN ||
			    t == NFTA_SET_DATA_TYPE || t == NFTA_SET_DATA_LEN ||
			    t == NFTA_SET_TIMEOUT)
				feed(c->h, a);
		}
	}
}

/* Elements come in an order the set's backend picks: each is hashed on
 * its own and the hashes summed, so that order does not matter. */
static void fingerprint_elems(const struct nlmsghdr *nlh, struct count *c)
{
	const struct nlattr *a, *list = NULL, *e;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			list = a;
	if (!list)
		return;
	mnl_attr_for_each_nested(e, list) {
		crypto_hash_sha256_state h;
		unsigned char d[crypto_hash_sha256_BYTES];

		crypto_hash_sha256_init(&h);
		mnl_attr_for_each_nested(a, e) {
			uint16_t t = mnl_attr_get_type(a);

			if (t == NFTA_SET_ELEM_KEY || t == NFTA_SET_ELEM_KEY_END ||
			    t == NFTA_SET_ELEM_DATA || t == NFTA_SET_ELEM_FLAGS)
				feed(&h, a);
		}
		crypto_hash_sha256_final(&h, d);
		for (size_t i = 0; i < sizeof(d); i++)
			c->elems[i] = (unsigned char)(c->elems[i] + d[i]);
	}
}

/* The attribute type of a message, or NULL. */
static const struct nlattr *attr_of(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == type)
			return a;
	return NULL;
}

/* Counting needs only a few attributes, read straight from the message
 * (no libnftnl object per rule: this runs over every rule of the table). */
static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	struct count *c = data;

	if (c->what == NFT_MSG_GETCHAIN && in_table(nlh, NFTA_CHAIN_TABLE)) {
		c->n++;
		c->base += attr_of(nlh, NFTA_CHAIN_HOOK) != NULL;
		fingerprint(nlh, c);
	} else if (c->what == NFT_MSG_GETRULE &&
		   in_table(nlh, NFTA_RULE_TABLE)) {
		c->n++;
		fingerprint(nlh, c);
	} else if (c->what == NFT_MSG_GETSET && in_table(nlh, NFTA_SET_TABLE)) {
		const struct nlattr *fa = attr_of(nlh, NFTA_SET_FLAGS);
		const struct nlattr *na = attr_of(nlh, NFTA_SET_NAME);
		uint32_t flags = fa && !mnl_attr_validate(fa, MNL_TYPE_U32) ?
				 ntohl(mnl_attr_get_u32(fa)) : 0;

		/* anonymous sets ({ 80, 443 } in a rule) are the rules'
		 * business */
		if (!na || mnl_attr_validate(na, MNL_TYPE_NUL_STRING) ||
		    (flags & NFT_SET_ANONYMOUS))
			return MNL_CB_OK;
		c->n++;
		fingerprint(nlh, c);
		/* a map's elements are rules; a set's are data that
		 * changes at runtime by design */
		if (flags & NFT_SET_MAP) {
			c->maps = xrealloc(c->maps, (c->nmaps + 1) *
					   sizeof(*c->maps));
			c->maps[c->nmaps++] = xstrdup(mnl_attr_get_str(na));
		}
	} else if (c->what == NFT_MSG_GETSETELEM &&
		   in_table(nlh, NFTA_SET_ELEM_LIST_TABLE)) {
		fingerprint_elems(nlh, c);
	}
	return MNL_CB_OK;
}

static int count_dump(struct fw_nl *nl, int what, struct count *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	c->n = 0;
	c->base = 0;
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

/* The elements of one map, into the fingerprint. */
static int map_dump(struct fw_nl *nl, const char *map, struct count *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		return -ENOMEM;
	c->what = NFT_MSG_GETSETELEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET,
				    NLM_F_DUMP, ++nl->seq);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, FW_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, map);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return talk(nl, nlh, count_cb, c);
}

int fw_nl_inspect(struct fw_nl *nl, struct fw_kernel *k)
{
	crypto_hash_sha256_state h;
	struct count c = { .h = &h };
	unsigned char d[crypto_hash_sha256_BYTES];
	int r = fw_nl_table(nl, k);

	if (r < 0 || !k->present)
		return r;
	crypto_hash_sha256_init(&h);
	if ((r = count_dump(nl, NFT_MSG_GETCHAIN, &c)) < 0)
		goto out;
	k->nchains = c.n;
	k->nbase = c.base;
	if ((r = count_dump(nl, NFT_MSG_GETRULE, &c)) < 0)
		goto out;
	k->nrules = c.n;
	if ((r = count_dump(nl, NFT_MSG_GETSET, &c)) < 0)
		goto out;
	k->nsets = c.n;
	for (size_t i = 0; i < c.nmaps; i++)
		if ((r = map_dump(nl, c.maps[i], &c)) < 0)
			goto out;
	crypto_hash_sha256_update(&h, c.elems, sizeof(c.elems));
	crypto_hash_sha256_final(&h, d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(k->content + 2 * i, 3, "%02x", d[i]);
out:
	for (size_t i = 0; i < c.nmaps; i++)
		free(c.maps[i]);
	free(c.maps);
	return r;
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
