/* libFuzzer harness for the integrity monitor's classifier.
 *  - The first byte picks the protocol (bit 0: rtnetlink, else nftables),
 *    whether moat manages links (bit 1) and the size of the description
 *    buffer (the rest; 0: none);
 *  - the rest is what one recv could hold: netlink messages back to
 *    back, each classified from a copy of exactly its length, so that
 *    ASan sees any read past it;
 *  - what comes back must be a kind of the protocol's and a description
 *    that is one printable line, cut to the buffer, empty for MON_NONE. */
#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "base/util.h"
#include "ctl/monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const links[] = { "lan0", "wan0", "wg0", NULL };

static void check(unsigned k, int proto, const char *what, size_t n)
{
	size_t len;

	if (k != MON_NONE && k != (proto == NETLINK_ROUTE ? MON_NET : MON_FW))
		abort();
	if (!n)
		return;
	len = strnlen(what, n);
	if (len == n || (k == MON_NONE && len) || (k != MON_NONE && n > 1 &&
						   !len))
		abort();
	for (size_t i = 0; i < len; i++)
		if (what[i] < 0x20 || what[i] > 0x7e)
			abort();
}

static void classify_copy(int proto, const struct nlmsghdr *nlh,
			  const char *const *l, size_t n)
{
	void *copy = xmalloc(nlh->nlmsg_len);
	char *what = n ? xmalloc(n) : NULL;
	unsigned k;

	memcpy(copy, nlh, nlh->nlmsg_len);
	if (what)
		memset(what, 'Z', n);
	k = monitor_classify(proto, copy, l, what, n);
	check(k, proto, what, n);
	free(what);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct nlmsghdr *nlh;
	const char *const *l;
	size_t n;
	void *buf;
	int proto, len;

	if (size < 1 || size - 1 > 1 << 20)
		return 0;
	proto = data[0] & 1 ? NETLINK_ROUTE : NETLINK_NETFILTER;
	l = data[0] & 2 ? NULL : links;
	n = (size_t)(data[0] >> 2) * 4;
	/* aligned, as a recv buffer is */
	buf = xmalloc(size - 1 + 1);
	memcpy(buf, data + 1, size - 1);
	len = (int)(size - 1);
	/* libmnl 1.0.4's mnl_nlmsg_ok compares (int)nlmsg_len: a length
	 * over 2 GiB passes it, so check it here too */
	for (nlh = buf;
	     mnl_nlmsg_ok(nlh, len) && nlh->nlmsg_len <= (unsigned)len;
	     nlh = mnl_nlmsg_next(nlh, &len))
		classify_copy(proto, nlh, l, n);
	free(buf);
	return 0;
}
