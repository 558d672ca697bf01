/* The UAPI socket of a wireguard-go device: one request, one answer. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/util.h"
#include "wg/uapi.h"

/* An answer larger than this is not a device's (10,000 peers with a few
 * allowed IPs each take about 4 MB). */
#define UAPI_MAX (256u << 20)
#define UAPI_TIMEOUT_MS 10000

static int uapi_connect(const char *name, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strchr(name, '/') || snprintf(sa.sun_path, sizeof(sa.sun_path),
					  "%s/%s.sock", WG_UAPI_DIR, name) >=
	    (int)sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: not a device name", name);
		return -EINVAL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

static int wait_fd(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;

	do
		r = poll(&p, 1, UAPI_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0;
}

/* Sends req, reads until the answer's empty line into ans (a secret
 * buffer: it may carry the private key). */
static int uapi_talk(const char *name, const struct buf *req, struct buf *ans,
		     char *err, size_t errlen)
{
	int fd = uapi_connect(name, err, errlen), r = 0;
	size_t off = 0;

	if (fd < 0)
		return fd;
	while (off < req->len) {
		ssize_t n;

		if ((r = wait_fd(fd, POLLOUT)) < 0)
			goto out;
		n = send(fd, req->p + off, req->len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		off += (size_t)n;
	}
	for (;;) {
		char chunk[65536];
		ssize_t n;

		if ((r = wait_fd(fd, POLLIN)) < 0)
			goto out;
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		buf_add(ans, chunk, (size_t)n);
		sodium_memzero(chunk, (size_t)n);
		if (ans->len >= 2 && !memcmp(ans->p + ans->len - 2, "\n\n", 2))
			break;
		if (ans->len > UAPI_MAX) {
			r = -EMSGSIZE;
			goto out;
		}
	}
out:
	if (r < 0 && !*err)
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
	close(fd);
	return r;
}

bool wg_uapi_present(const char *name)
{
	char err[128] = "";
	int fd = uapi_connect(name, err, sizeof(err));

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int wg_uapi_get(const char *name, struct wg_device *out, char *err,
		size_t errlen)
{
	struct buf req = BUF_SECRET_INIT, ans = BUF_SECRET_INIT;
	int r;

	*err = '\0';
	buf_adds(&req, "get=1\n\n");
	r = uapi_talk(name, &req, &ans, err, errlen);
	if (!r) {
		memset(out, 0, sizeof(*out));
		out->name = xstrdup(name);
		r = wg_uapi_parse(ans.p ? ans.p : "", ans.len, out, err,
				  errlen);
		if (r < 0)
			wg_device_clear(out);
	}
	buf_free(&req);
	buf_free(&ans);
	return r;
}

int wg_uapi_set(const struct wg_change *c, char *err, size_t errlen)
{
	struct buf req = BUF_SECRET_INIT, ans = BUF_SECRET_INIT;
	struct wg_device d = { 0 };
	int r;

	*err = '\0';
	wg_uapi_set_text(c, &req);
	r = uapi_talk(c->dev->name, &req, &ans, err, errlen);
	if (!r)
		r = wg_uapi_parse(ans.p ? ans.p : "", ans.len, &d, err, errlen);
	wg_device_clear(&d);
	buf_free(&req);
	buf_free(&ans);
	return r;
}
