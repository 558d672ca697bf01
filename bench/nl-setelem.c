/* The bare netlink floor for adding or deleting one IPv4 element of a set
 * of table inet moat: one batch holding one NEWSETELEM (or DELSETELEM),
 * one sendto, one ack. No GETSET, no parsing beyond inet_pton, no error
 * words: the least any tool must do, to compare moat set with. In an
 * interval set ("interval"), the element is a start and an end at +1, as
 * nft and moat send it. Prints the microseconds from building the batch
 * to the ack on stderr. Built by bench/fw-set.sh:
 *   cc -O2 nl-setelem.c $(pkg-config --cflags --libs libnftnl libmnl)
 * Usage: nl-setelem add|del SET IPV4 [interval] */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void add_key(struct nftnl_set *s, uint32_t key, uint32_t flags)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &key, sizeof(key));
	if (flags)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, flags);
	nftnl_set_elem_add(s, e);
}

int main(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nftnl_set *s;
	uint32_t key, seq = 1, portid;
	long long t0;
	int del, r;
	size_t len;

	if (argc < 4 || inet_pton(AF_INET, argv[3], &key) != 1) {
		fprintf(stderr, "usage: nl-setelem add|del SET IPV4 "
			"[interval]\n");
		return 2;
	}
	del = !strcmp(argv[1], "del");
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return 1;
	}
	portid = mnl_socket_get_portid(nl);

	t0 = now_us();
	s = nftnl_set_alloc();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, "moat");
	nftnl_set_set_str(s, NFTNL_SET_NAME, argv[2]);
	add_key(s, key, 0);
	if (argc > 4 && !strcmp(argv[4], "interval")) {
		uint32_t end = htonl(ntohl(key) + 1);

		add_key(s, end, NFT_SET_ELEM_INTERVAL_END);
	}
	nftnl_batch_begin(buf, seq++);
	len = ((struct nlmsghdr *)buf)->nlmsg_len;
	nlh = nftnl_nlmsg_build_hdr(buf + len, del ? NFT_MSG_DELSETELEM :
				    NFT_MSG_NEWSETELEM, NFPROTO_INET,
				    NLM_F_ACK | (del ? 0 : NLM_F_CREATE), seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	len += nlh->nlmsg_len;
	nftnl_batch_end(buf + len, seq + 1);
	len += ((struct nlmsghdr *)(buf + len))->nlmsg_len;
	nftnl_set_free(s);

	if (mnl_socket_sendto(nl, buf, len) < 0) {
		perror("sendto");
		return 1;
	}
	do {
		ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));

		if (n < 0) {
			perror("recv");
			return 1;
		}
		r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
	} while (r > 0);
	fprintf(stderr, "%lld\n", now_us() - t0);
	if (r < 0) {
		fprintf(stderr, "nl-setelem: %s\n", strerror(errno));
		return 1;
	}
	mnl_socket_close(nl);
	return 0;
}
