/* The blocking client of ctl's RPC. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"
#include "ctl/client.h"
#include "ctl/rpc.h"

const char *ctl_run_dir(void)
{
	const char *env = getenv("MOAT_RUN_DIR");

	return env && *env ? env : "/run/moat";
}

#define CLIENT_TIMEOUT_MS 300000

/* What was read from the connection but not yet taken: the CLI holds one
 * connection at a time, and a new one starts with nothing left from the
 * last (its fd number may be the same). */
static struct rpc_reader reader;

int ctl_client_open(bool *absent, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	*absent = false;
	rpc_reader_free(&reader);
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.sock",
		     ctl_run_dir());
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s/ctl.sock: path too long",
			 ctl_run_dir());
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		*absent = errno == ENOENT || errno == ECONNREFUSED;
		snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ctl_client_next(int fd, json_t **msg, char *err, size_t errlen)
{
	char buf[65536];
	int r;

	for (;;) {
		ssize_t n;

		struct pollfd p = { .fd = fd, .events = POLLIN };

		r = rpc_next(&reader, msg, err, errlen);
		if (r)
			return r;
		/* an apply of a large config takes seconds, not minutes */
		r = poll(&p, 1, CLIENT_TIMEOUT_MS);
		if (r == 0) {
			snprintf(err, errlen, "ctl did not answer within %d s",
				 CLIENT_TIMEOUT_MS / 1000);
			return -1;
		}
		if (r < 0 && errno == EINTR)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "reading from ctl: %s",
				 strerror(errno));
			return -1;
		}
		if (n == 0) {
			snprintf(err, errlen, "ctl closed the connection");
			return 0;
		}
		rpc_reader_feed(&reader, buf, (size_t)n);
	}
}

int ctl_client_call(int fd, const char *method, json_t *params,
		    json_t **result, char *err, size_t errlen)
{
	static json_int_t next_id = 1;
	json_int_t id = next_id++;
	json_t *req = json_pack("{sIssso}", "id", id, "method", method,
				"params", params ? params : json_object());
	struct buf b = BUF_INIT;
	json_t *msg;
	int r;

	*result = NULL;
	rpc_frame(&b, req);
	json_decref(req);
	r = send_all(fd, b.p, b.len);
	buf_free(&b);
	if (r < 0) {
		int e = errno;

		/* ctl may have refused the connection and closed it before
		 * the request went out: its answer is waiting */
		if (ctl_client_next(fd, &msg, err, errlen) == 1) {
			snprintf(err, errlen, "%s", json_string_value(
				 json_object_get(json_object_get(msg, "error"),
						 "message")) ?: "refused");
			json_decref(msg);
		} else {
			snprintf(err, errlen, "writing to ctl: %s",
				 strerror(e));
		}
		return -1;
	}
	while ((r = ctl_client_next(fd, &msg, err, errlen)) == 1) {
		json_t *e = json_object_get(msg, "error");

		if (json_object_get(msg, "event")) {
			json_decref(msg);
			continue;
		}
		if (e) {
			snprintf(err, errlen, "%s", json_string_value(
				 json_object_get(e, "message")) ?: "error");
			json_decref(msg);
			return -1;
		}
		if (json_integer_value(json_object_get(msg, "id")) != id) {
			json_decref(msg);
			continue;
		}
		*result = json_incref(json_object_get(msg, "result"));
		json_decref(msg);
		return *result ? 0 : -1;
	}
	return -1;
}

int ctl_takeover_request(int *fds, size_t max, size_t *n, json_t **msg,
			 char *err, size_t errlen)
{
	char buf[65536], cbuf[CMSG_SPACE(sizeof(int) * 64)];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct rpc_reader rd = { 0 };
	json_t *req = json_pack("{sIsss{}}", "id", (json_int_t)1, "method",
				"takeover", "params");
	struct buf b = BUF_INIT;
	bool absent;
	ssize_t got;
	int fd, r = -1;

	*n = 0;
	*msg = NULL;
	fd = ctl_client_open(&absent, err, errlen);
	if (fd < 0)
		goto out;
	rpc_frame(&b, req);
	if (send_all(fd, b.p, b.len) < 0) {
		snprintf(err, errlen, "writing to ctl: %s", strerror(errno));
		goto out;
	}
	/* the answer and the fds come in one message */
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 30000) != 1) {
		snprintf(err, errlen, "ctl did not answer the takeover");
		goto out;
	}
	got = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (got <= 0) {
		snprintf(err, errlen, "reading from ctl: %s",
			 got ? strerror(errno) : "closed");
		goto out;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
	     cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (size_t i = 0; i < k; i++) {
				int f;

				memcpy(&f, CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(int));
				if (*n < max)
					fds[(*n)++] = f;
				else
					close(f);
			}
		}
	rpc_reader_feed(&rd, buf, (size_t)got);
	if (rpc_next(&rd, msg, err, errlen) != 1) {
		snprintf(err, errlen, "ctl's answer is incomplete");
		goto out;
	}
	if (json_object_get(*msg, "error")) {
		snprintf(err, errlen, "%s", json_string_value(json_object_get(
			 json_object_get(*msg, "error"), "message")) ?: "refused");
		goto out;
	}
	if (!*n) {
		snprintf(err, errlen, "ctl sent no sockets");
		goto out;
	}
	r = 0;
out:
	if (r < 0) {
		for (size_t i = 0; i < *n; i++)
			close(fds[i]);
		*n = 0;
		json_decref(*msg);
		*msg = NULL;
	}
	json_decref(req);
	buf_free(&b);
	rpc_reader_free(&rd);
	if (fd >= 0)
		close(fd);
	return r;
}
