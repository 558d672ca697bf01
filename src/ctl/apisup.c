/* ctl's side of the api process: the listening sockets it opens from the
 * config (api/web listen), the socketpair, the fork and re-exec of
 * `moat api`, and its restart with a backoff when it dies. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/util.h"
#include "config/config.h"
#include "ctl/ctl.h"

/* "ADDR:PORT", "[V6]:PORT" or ":PORT" (every address). */
static int parse_listen(const char *s, struct sockaddr_storage *ss,
			socklen_t *len)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port < 1 || port > 65535)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		size_t n = strlen(host);

		if (n < 2 || host[n - 1] != ']')
			return -1;
		host[n - 1] = '\0';
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -1;
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (host[0] && inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		*len = sizeof(*a);
	}
	return 0;
}

static int open_listener(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (parse_listen(addr, &ss, &len) < 0) {
		snprintf(err, errlen, "listen \"%s\": not ADDR:PORT, "
			 "[ADDR]:PORT or :PORT", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 511) < 0) {
		snprintf(err, errlen, "listen \"%s\": %s", addr,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void add_listener(struct ctl *c, const char *addr, int fd)
{
	c->listeners = xrealloc(c->listeners, (c->nlisteners + 1) *
				sizeof(*c->listeners));
	c->listeners[c->nlisteners].addr = xstrdup(addr);
	c->listeners[c->nlisteners++].fd = fd;
}

int ctl_api_open(struct ctl *c, const struct moat_config *cfg, char *err,
		 size_t errlen)
{
	const char *addrs[2] = { NULL, NULL };
	const struct cfg_api *api = cfg->api.n ? cfg->api.v : NULL;
	const struct cfg_web *web = cfg->web.n ? cfg->web.v : NULL;

	if (api && api->enabled.set && !api->enabled.v)
		return 0;
	if (web && web->listen.v)
		addrs[0] = web->listen.v;
	if (api && api->listen.v &&
	    (!addrs[0] || strcmp(addrs[0], api->listen.v)))
		addrs[1] = api->listen.v;
	for (size_t i = 0; i < 2; i++) {
		int fd;

		if (!addrs[i])
			continue;
		if ((fd = open_listener(addrs[i], err, errlen)) < 0)
			return -1;
		add_listener(c, addrs[i], fd);
	}
	return 0;
}

static void api_restart(uv_timer_t *t);

static void api_exited(uv_process_t *p, int64_t status, int sig)
{
	struct ctl *c = p->data;
	long long alive = ctl_now_ms() - c->api_started_at;

	c->api_running = false;
	uv_close((uv_handle_t *)p, NULL);
	if (c->stopping) {
		/* it finished what it had; now its channel can go */
		uv_timer_stop(&c->api_timer);
		uv_close((uv_handle_t *)&c->api_timer, NULL);
		ctl_server_close_all(c);
		return;
	}
	ctl_log("api (pid %d) exited: %s %d; restarting in %u ms", c->api_pid,
		sig ? "signal" : "status", sig ? sig : (int)status,
		c->api_backoff_ms);
	/* a process that lived a while starts the backoff afresh */
	if (alive > 10000)
		c->api_backoff_ms = 100;
	uv_timer_start(&c->api_timer, api_restart, c->api_backoff_ms, 0);
	c->api_backoff_ms = c->api_backoff_ms * 2 > 5000 ? 5000 :
			    c->api_backoff_ms * 2;
}

static void api_restart(uv_timer_t *t)
{
	struct ctl *c = t->data;

	c->api_restarts++;
	ctl_api_start(c);
}

static void api_spawn_failed(uv_handle_t *h)
{
	struct ctl *c = h->data;

	if (!c->stopping)
		uv_timer_start(&c->api_timer, api_restart, c->api_backoff_ms,
			       0);
}

void ctl_api_start(struct ctl *c)
{
	char *args[8 + 2 * 64], fdstr[64][12], *root;
	uv_stdio_container_t io[4 + 64];
	uv_process_options_t o = { 0 };
	int sv[2], r;
	size_t na = 0, nio = 0;

	if (!c->nlisteners || c->stopping || c->api_running)
		return;
	if (!c->api_backoff_ms)
		c->api_backoff_ms = 100;
	root = xasprintf("%s/api-root", c->run_dir);
	/* empty and root's: api chroots into it */
	if (file_mkdir_p(root, 0755) < 0)
		ctl_log("%s: cannot create it", root);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ctl_log("api: socketpair: %s", strerror(errno));
		free(root);
		return;
	}
	args[na++] = c->exe;
	args[na++] = "api";
	args[na++] = "--rpc-fd";
	args[na++] = "3";
	args[na++] = "--root";
	args[na++] = root;
	for (int i = 0; i < 3; i++)
		io[nio++] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD,
						    .data.fd = i };
	io[nio++] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD,
					    .data.fd = sv[1] };
	for (size_t i = 0; i < c->nlisteners && i < 64; i++) {
		snprintf(fdstr[i], sizeof(fdstr[i]), "%zu", nio);
		args[na++] = "--listen-fd";
		args[na++] = fdstr[i];
		io[nio++] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD,
			.data.fd = c->listeners[i].fd };
	}
	args[na] = NULL;
	o.file = c->exe;
	o.args = args;
	o.stdio = io;
	o.stdio_count = (int)nio;
	o.exit_cb = api_exited;
	c->api_proc.data = c;
	r = uv_spawn(c->loop, &c->api_proc, &o);
	close(sv[1]);
	free(root);
	if (r < 0) {
		/* uv_spawn set the handle up even so: closed before it is
		 * used again, and the retry starts from its close */
		ctl_log("api: cannot start %s: %s", c->exe, uv_strerror(r));
		close(sv[0]);
		uv_close((uv_handle_t *)&c->api_proc, api_spawn_failed);
		return;
	}
	c->api_running = true;
	c->api_pid = c->api_proc.pid;
	c->api_started_at = ctl_now_ms();
	c->api_conn = ctl_server_adopt(c, sv[0], true);
	ctl_log("api started, pid %d, %zu listener%s", c->api_pid,
		c->nlisteners, c->nlisteners == 1 ? "" : "s");
}

static void api_kill(uv_timer_t *t)
{
	struct ctl *c = t->data;

	if (c->api_running) {
		ctl_log("api (pid %d) still running: SIGKILL", c->api_pid);
		uv_process_kill(&c->api_proc, SIGKILL);
	}
}

/* api is asked to stop (it stops accepting, answers what it holds, then
 * exits) and is still served meanwhile: a request it holds during a
 * takeover gets its answer. ctl's loop ends when it has gone; after 6 s
 * it is killed. Returns whether there is an api to wait for. */
bool ctl_api_stop(struct ctl *c)
{
	uv_timer_stop(&c->api_timer);
	if (!c->api_running) {
		if (!uv_is_closing((uv_handle_t *)&c->api_timer))
			uv_close((uv_handle_t *)&c->api_timer, NULL);
		return false;
	}
	uv_process_kill(&c->api_proc, SIGTERM);
	uv_timer_start(&c->api_timer, api_kill, 6000, 0);
	return true;
}
