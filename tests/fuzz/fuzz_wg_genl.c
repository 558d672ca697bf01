/* libFuzzer harness for the kernel WireGuard backend's messages.
 *  - An input is what one recv of a WG_CMD_GET_DEVICE dump could hold:
 *    netlink messages back to back, each parsed (from a copy of exactly
 *    its length, so that ASan sees any read past it) into one device;
 *  - a device that parses is built again as a SET_DEVICE change, in
 *    messages of a size the input picks, and those, read back as a
 *    dump, must give the same peers and allowed IPs in the same order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "base/util.h"
#include "wg/genl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse_copy(const void *msg, size_t len, struct wg_device *dev)
{
	void *copy = xmalloc(len);
	int r;

	memcpy(copy, msg, len);
	r = wg_genl_parse_get(copy, dev);
	free(copy);
	return r;
}

/* What the parser promises of what it accepts. */
static void check_device(const struct wg_device *d)
{
	for (size_t i = 0; i < d->npeers; i++) {
		const struct wg_peer *p = &d->peers[i];

		if (p->has_psk && wg_key_is_zero(p->psk))
			abort();
		if (p->endpoint.family && p->endpoint.family != AF_INET &&
		    p->endpoint.family != AF_INET6)
			abort();
		for (size_t j = 0; j < p->nallowed; j++) {
			const struct wg_allowed *a = &p->allowed[j];

			if (a->family == AF_INET ? a->cidr > 32 :
			    a->family != AF_INET6 || a->cidr > 128)
				abort();
		}
	}
}

/* Two peers in a row with one key would read back as one. */
static bool keys_repeat(const struct wg_device *d)
{
	for (size_t i = 1; i < d->npeers; i++)
		if (!memcmp(d->peers[i - 1].pub, d->peers[i].pub, WG_KEY_LEN))
			return true;
	return false;
}

static void same_peers(const struct wg_device *a, const struct wg_device *b)
{
	if (a->npeers != b->npeers)
		abort();
	for (size_t i = 0; i < a->npeers; i++) {
		const struct wg_peer *p = &a->peers[i], *q = &b->peers[i];

		if (memcmp(p->pub, q->pub, WG_KEY_LEN) ||
		    p->nallowed != q->nallowed || p->keepalive != q->keepalive ||
		    p->has_psk != q->has_psk ||
		    !wg_endpoint_equal(&p->endpoint, &q->endpoint))
			abort();
		for (size_t j = 0; j < p->nallowed; j++)
			if (p->allowed[j].family != q->allowed[j].family ||
			    p->allowed[j].cidr != q->allowed[j].cidr ||
			    memcmp(p->allowed[j].addr, q->allowed[j].addr, 16))
				abort();
	}
}

static void round_trip(struct wg_device *d, size_t max)
{
	struct wg_change ch = { .dev = d, .fields = WG_SET_PRIV |
						    WG_SET_PORT | WG_SET_FWMARK };
	struct wg_device back = { 0 };
	struct wg_genl_msgs m;
	char *name = d->name;

	if (keys_repeat(d))
		return;
	d->name = (char *)"fuzz0";
	ch.peers = calloc(d->npeers + 1, sizeof(*ch.peers));
	for (size_t i = 0; i < d->npeers; i++) {
		ch.peers[i].peer = &d->peers[i];
		ch.peers[i].fields = WG_PEER_PSK | WG_PEER_ENDPOINT |
				     WG_PEER_KEEPALIVE | WG_PEER_ALLOWED;
	}
	ch.npeers = d->npeers;
	if (wg_genl_build_set(&ch, 0x20, 1, max, &m) == 0) {
		for (size_t i = 0; i < m.n; i++) {
			struct nlmsghdr *nlh = m.buf[i];
			struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

			if (m.len[i] > max || nlh->nlmsg_len != m.len[i])
				abort();
			g->cmd = WG_CMD_GET_DEVICE;
			if (parse_copy(nlh, m.len[i], &back))
				abort();
		}
		same_peers(d, &back);
	} else if (max >= 65535) {
		abort();	/* any device read fits in the largest */
	}
	wg_genl_msgs_free(&m);
	wg_device_clear(&back);
	free(ch.peers);
	d->name = name;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_device dev = { 0 };
	const struct nlmsghdr *nlh;
	size_t max;
	void *buf;
	int len;

	/* the first two bytes: the size of the messages built again */
	if (size < 2 || size - 2 > 1 << 20)
		return 0;
	max = (size_t)data[0] << 8 | data[1];
	/* aligned, as a recv buffer is */
	buf = xmalloc(size - 2 + 1);
	memcpy(buf, data + 2, size - 2);
	len = (int)(size - 2);
	/* libmnl 1.0.4's mnl_nlmsg_ok compares (int)nlmsg_len: a length
	 * over 2 GiB passes it, so check it here too */
	for (nlh = buf;
	     mnl_nlmsg_ok(nlh, len) && nlh->nlmsg_len <= (unsigned)len;
	     nlh = mnl_nlmsg_next(nlh, &len))
		if (parse_copy(nlh, nlh->nlmsg_len, &dev))
			goto out;
	check_device(&dev);
	round_trip(&dev, max);
	round_trip(&dev, 65535);
out:
	wg_device_clear(&dev);
	free(buf);
	return 0;
}
