/* The integrity monitor's sockets: two netlink sockets subscribed to the
 * multicast groups where the kernel announces changes (nftables; links,
 * addresses, routes and rules), watched on ctl's loop. Every message is
 * handed to monitor_classify; what concerns moat is gathered for 10 ms,
 * so that a burst (one nft batch is dozens of messages) is one call of
 * ctl's callback. It never polls the kernel and never changes it: when
 * the kernel drops events (ENOBUFS), it says MON_LOST and ctl checks
 * everything. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "base/util.h"
#include "ctl/monitor.h"

#define MONITOR_DEBOUNCE_MS 10
/* Past what one datagram of notifications holds (the kernel builds them
 * in NLMSG_GOODSIZE skbs); a longer one is reported as lost events. */
#define MONITOR_BUF (64u * 1024)
/* Room for a burst of a big ruleset's events before ENOBUFS. */
#define MONITOR_RCVBUF (8 * 1024 * 1024)
/* Datagrams read per wakeup, so that a flood cannot starve the loop
 * (the poll is level-triggered: the rest is read on the next turn). */
#define MONITOR_BATCH 256
#define MONITOR_WHAT 256

struct monitor;

struct mon_sock {
	struct monitor *m;
	const char *name;	/* for messages: "nftables", "rtnetlink" */
	int proto;
	struct mnl_socket *nl;
	uv_poll_t poll;
	bool polled;		/* poll initialised: it must be closed */
};

struct monitor {
	uv_loop_t *loop;
	struct mon_sock s[2];
	uv_timer_t timer;
	int handles;		/* initialised, not yet closed */
	bool closing;
	monitor_cb cb;
	void *data;
	char **links;		/* NULL-terminated copy */
	unsigned kinds;		/* seen since the timer was started */
	char what[MONITOR_WHAT];	/* the first of each kind */
	void *buf;		/* MONITOR_BUF, for recv */
};

static const struct {
	int proto;
	const char *name;
	unsigned groups[8];	/* 0-terminated */
} sock_defs[2] = {
	{ NETLINK_NETFILTER, "nftables", { NFNLGRP_NFTABLES } },
	{ NETLINK_ROUTE, "rtnetlink",
	  { RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
	    RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE,
	    RTNLGRP_IPV6_RULE } },
};

static char **links_copy(const char *const *links)
{
	size_t n = 0;
	char **c;

	while (links && links[n])
		n++;
	c = xcalloc(n + 1, sizeof(*c));
	for (size_t i = 0; i < n; i++)
		c[i] = xstrdup(links[i]);
	return c;
}

static void links_free(char **links)
{
	for (size_t i = 0; links && links[i]; i++)
		free(links[i]);
	free(links);
}

/* --- events ------------------------------------------------------------ */

static void on_timer(uv_timer_t *t)
{
	struct monitor *m = t->data;
	char what[MONITOR_WHAT];
	unsigned kinds = m->kinds;

	/* the callback may close m: nothing of m is touched after it */
	memcpy(what, m->what, sizeof(what));
	m->kinds = 0;
	m->what[0] = '\0';
	if (kinds && !m->closing)
		m->cb(m, kinds, what, m->data);
}

static void note(struct monitor *m, unsigned kind, const char *what)
{
	if (!kind || m->closing)
		return;
	/* the first event of each kind: a burst that flushed the table and
	 * deleted a route says both */
	if (kind & ~m->kinds) {
		size_t n = strlen(m->what);

		snprintf(m->what + n, sizeof(m->what) - n, "%s%s",
			 n ? "; " : "", what);
	}
	m->kinds |= kind;
	if (!uv_is_active((uv_handle_t *)&m->timer))
		uv_timer_start(&m->timer, on_timer, MONITOR_DEBOUNCE_MS, 0);
}

static void classify_all(struct monitor *m, int proto, size_t n)
{
	const char *const *links = (const char *const *)m->links;
	const struct nlmsghdr *nlh = m->buf;
	char what[MONITOR_WHAT];
	int len = (int)n;

	/* mnl_nlmsg_ok compares (int)nlmsg_len: check it unsigned too */
	for (; mnl_nlmsg_ok(nlh, len) && nlh->nlmsg_len <= (unsigned)len;
	     nlh = mnl_nlmsg_next(nlh, &len))
		note(m, monitor_classify(proto, nlh, links, what,
					 sizeof(what)), what);
}

/* Reads what is pending on one socket, without blocking. */
static void on_readable(uv_poll_t *p, int status, int events)
{
	struct mon_sock *s = p->data;
	struct monitor *m = s->m;
	int fd = mnl_socket_get_fd(s->nl);
	char what[MONITOR_WHAT];

	/* A socket error (ENOBUFS) is POLLERR, on which libuv stops the
	 * handle and says UV_EBADF: start it again, and the recv below
	 * takes the error off the socket. */
	if (status < 0) {
		int r = uv_poll_start(p, UV_READABLE, on_readable);

		if (r < 0) {
			snprintf(what, sizeof(what), "netlink %s: %s",
				 s->name, uv_strerror(r));
			note(m, MON_LOST, what);
			return;
		}
	}
	for (int i = 0; i < MONITOR_BATCH && !m->closing; i++) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		ssize_t n;

		n = recvfrom(fd, m->buf, MONITOR_BUF, MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fromlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0) {
			/* ENOBUFS: the kernel dropped events and says so
			 * once; the socket goes on */
			snprintf(what, sizeof(what), "netlink %s: %s",
				 s->name, errno == ENOBUFS ?
				 "events lost" : strerror(errno));
			note(m, MON_LOST, what);
			if (errno != ENOBUFS)
				return;
			continue;
		}
		/* only the kernel speaks on these groups */
		if (fromlen != sizeof(from) || from.nl_family != AF_NETLINK ||
		    from.nl_pid != 0)
			continue;
		if ((size_t)n > MONITOR_BUF) {
			snprintf(what, sizeof(what),
				 "netlink %s: message too long", s->name);
			note(m, MON_LOST, what);
			n = MONITOR_BUF;
		}
		classify_all(m, s->proto, (size_t)n);
	}
}

unsigned monitor_drain(struct monitor *m)
{
	unsigned kinds;

	if (!m || m->closing)
		return 0;
	for (int i = 0; i < 2; i++) {
		int fd = mnl_socket_get_fd(m->s[i].nl);

		for (;;) {
			struct sockaddr_nl from;
			socklen_t fromlen = sizeof(from);
			ssize_t n = recvfrom(fd, m->buf, MONITOR_BUF,
					     MSG_DONTWAIT | MSG_TRUNC,
					     (struct sockaddr *)&from, &fromlen);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == ENOBUFS) {
				m->kinds |= MON_LOST;
				continue;
			}
			if (n < 0)
				break;
			if (fromlen != sizeof(from) || from.nl_pid != 0)
				continue;
			classify_all(m, m->s[i].proto, (size_t)n > MONITOR_BUF ?
				     MONITOR_BUF : (size_t)n);
		}
	}
	kinds = m->kinds;
	m->kinds = 0;
	m->what[0] = '\0';
	uv_timer_stop(&m->timer);
	return kinds;
}

/* --- sockets ----------------------------------------------------------- */

static int sock_open(struct monitor *m, int i, char *err, size_t errlen)
{
	struct mon_sock *s = &m->s[i];
	int size = MONITOR_RCVBUF, fd, r;

	s->m = m;
	s->name = sock_defs[i].name;
	s->proto = sock_defs[i].proto;
	s->nl = mnl_socket_open2(s->proto, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!s->nl || mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "monitor: netlink %s socket: %s",
			 s->name, strerror(errno));
		return -1;
	}
	for (const unsigned *g = sock_defs[i].groups; *g; g++) {
		int group = (int)*g;

		if (mnl_socket_setsockopt(s->nl, NETLINK_ADD_MEMBERSHIP,
					  &group, sizeof(group)) < 0) {
			snprintf(err, errlen,
				 "monitor: netlink %s group %d: %s", s->name,
				 group, strerror(errno));
			return -1;
		}
	}
	fd = mnl_socket_get_fd(s->nl);
	/* past net.core.rmem_max when we may (CAP_NET_ADMIN) */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	r = uv_poll_init(m->loop, &s->poll, fd);
	if (r < 0) {
		snprintf(err, errlen, "monitor: netlink %s poll: %s", s->name,
			 uv_strerror(r));
		return -1;
	}
	s->polled = true;
	m->handles++;
	s->poll.data = s;
	r = uv_poll_start(&s->poll, UV_READABLE, on_readable);
	if (r < 0) {
		snprintf(err, errlen, "monitor: netlink %s poll: %s", s->name,
			 uv_strerror(r));
		return -1;
	}
	return 0;
}

struct monitor *monitor_open(uv_loop_t *loop, const char *const *links,
			     monitor_cb cb, void *data, char *err,
			     size_t errlen)
{
	struct monitor *m = xcalloc(1, sizeof(*m));

	m->loop = loop;
	m->cb = cb;
	m->data = data;
	m->links = links_copy(links);
	m->buf = xmalloc(MONITOR_BUF);
	uv_timer_init(loop, &m->timer);
	m->timer.data = m;
	m->handles = 1;
	for (int i = 0; i < (int)ARRAY_SIZE(m->s); i++) {
		if (sock_open(m, i, err, errlen) < 0) {
			monitor_close(m);
			return NULL;
		}
	}
	return m;
}

void monitor_set_links(struct monitor *m, const char *const *links)
{
	char **old = m->links;

	m->links = links_copy(links);
	links_free(old);
}

/* The sockets are closed only once their polls are: a descriptor closed
 * under a poll handle could be reused and then unwatched by libuv. */
static void on_closed(uv_handle_t *h)
{
	struct monitor *m = h->data;

	if (h->type == UV_POLL)
		m = ((struct mon_sock *)h->data)->m;
	if (--m->handles > 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(m->s); i++)
		if (m->s[i].nl)
			mnl_socket_close(m->s[i].nl);
	links_free(m->links);
	free(m->buf);
	free(m);
}

void monitor_close(struct monitor *m)
{
	if (!m || m->closing)
		return;
	m->closing = true;
	for (size_t i = 0; i < ARRAY_SIZE(m->s); i++) {
		if (m->s[i].polled) {
			uv_poll_stop(&m->s[i].poll);
			uv_close((uv_handle_t *)&m->s[i].poll, on_closed);
		}
	}
	uv_timer_stop(&m->timer);
	uv_close((uv_handle_t *)&m->timer, on_closed);
}
