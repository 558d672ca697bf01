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
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sodium.h>

#include "base/file.h"
#include "base/util.h"
#include "config/addr.h"
#include "config/config.h"
#include "ctl/ctl.h"

static int open_listener(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	unsigned len;
	int fd, one = 1;

	if (!listen_parse(addr, &ss, &len)) {
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

static void add_listener(struct ctl *c, const char *addr, int fd,
			 const char *cert, const char *key)
{
	struct ctl_listener *l;

	c->listeners = xrealloc(c->listeners, (c->nlisteners + 1) *
				sizeof(*c->listeners));
	l = &c->listeners[c->nlisteners++];
	memset(l, 0, sizeof(*l));
	l->addr = xstrdup(addr);
	l->fd = fd;
	if (cert && key) {
		l->cert = xstrdup(cert);
		l->key = xstrdup(key);
	}
}

/* What the config asks ctl to listen on for api: web's, then api's,
 * plain and HTTPS, an address named twice once; none when api is
 * disabled. Returns how many of out[4] are set. */
struct want {
	const char *addr, *cert, *key;	/* cert, key: NULL for plain */
};

static size_t wanted(const struct moat_config *cfg, struct want out[4])
{
	const struct cfg_api *api = cfg->api.n ? cfg->api.v : NULL;
	const struct cfg_web *web = cfg->web.n ? cfg->web.v : NULL;
	const struct cfg_str *l[4][3] = {
		{ web ? &web->listen : NULL, NULL, NULL },
		{ web ? &web->tls_listen : NULL, web ? &web->tls_cert : NULL,
		  web ? &web->tls_key : NULL },
		{ api ? &api->listen : NULL, NULL, NULL },
		{ api ? &api->tls_listen : NULL, api ? &api->tls_cert : NULL,
		  api ? &api->tls_key : NULL },
	};
	size_t n = 0;

	if (api && api->enabled.set && !api->enabled.v)
		return 0;
	for (size_t i = 0; i < 4; i++) {
		bool dup = false;

		if (!l[i][0] || !l[i][0]->v)
			continue;
		for (size_t j = 0; j < n; j++)
			dup |= !strcmp(out[j].addr, l[i][0]->v);
		if (dup)
			continue;
		out[n++] = (struct want){
			.addr = l[i][0]->v,
			.cert = l[i][1] ? l[i][1]->v : NULL,
			.key = l[i][2] ? l[i][2]->v : NULL,
		};
	}
	return n;
}

int ctl_api_open(struct ctl *c, const struct moat_config *cfg, char *err,
		 size_t errlen)
{
	struct want w[4];
	size_t n = wanted(cfg, w);

	for (size_t i = 0; i < n; i++) {
		int fd = open_listener(w[i].addr, err, errlen);

		if (fd < 0)
			return -1;
		add_listener(c, w[i].addr, fd, w[i].cert, w[i].key);
	}
	return 0;
}

void ctl_api_adopt_tls(struct ctl *c, const struct moat_config *cfg)
{
	struct want w[4];
	size_t n = wanted(cfg, w);

	for (size_t i = 0; i < c->nlisteners; i++)
		for (size_t j = 0; j < n; j++)
			if (w[j].cert && w[j].key &&
			    !strcmp(w[j].addr, c->listeners[i].addr)) {
				c->listeners[i].cert = xstrdup(w[j].cert);
				c->listeners[i].key = xstrdup(w[j].key);
			}
}

/* A PEM file as a sealed memfd at offset 0: api reads it before its
 * sandbox closes the file system to it. -1 with a message. */
static int pem_fd(const char *path, const char *what)
{
	char *data = NULL;
	size_t len = 0;
	int fd, r;

	if ((r = file_read(path, 1u << 20, &data, &len)) < 0) {
		ctl_log("api: %s %s: %s", what, path, strerror(-r));
		return -1;
	}
	fd = memfd_create(what, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || file_write_all(fd, data, len) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		ctl_log("api: %s: %s", what, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	sodium_memzero(data, len);
	free(data);
	return fd;
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
		ctl_server_close_all(c, false);
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
	char *args[8 + 2 * 20], fdstr[20][40], *root;
	uv_stdio_container_t io[4 + 3 * 20];
	int pem[40], npem = 0;
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
	for (size_t i = 0; i < c->nlisteners && i < 20; i++) {
		const struct ctl_listener *l = &c->listeners[i];
		int cert = -1, key = -1;

		if (l->cert && ((cert = pem_fd(l->cert, "tls_cert")) < 0 ||
				(key = pem_fd(l->key, "tls_key")) < 0)) {
			if (cert >= 0)
				close(cert);
			ctl_log("api: listener %s left out", l->addr);
			continue;
		}
		io[nio] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD,
						  .data.fd = l->fd };
		if (!l->cert) {
			snprintf(fdstr[i], sizeof(fdstr[i]), "%zu", nio++);
			args[na++] = "--listen-fd";
			args[na++] = fdstr[i];
			continue;
		}
		snprintf(fdstr[i], sizeof(fdstr[i]), "%zu:%zu:%zu", nio,
			 nio + 1, nio + 2);
		nio++;
		io[nio++] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD,
						    .data.fd = cert };
		io[nio++] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD,
						    .data.fd = key };
		pem[npem++] = cert;
		pem[npem++] = key;
		args[na++] = "--tls-listen-fd";
		args[na++] = fdstr[i];
	}
	args[na] = NULL;
	if (na == 6) {
		/* every listener left out (its files unreadable): try again
		 * later rather than start an api with nothing to serve */
		close(sv[0]);
		close(sv[1]);
		free(root);
		uv_timer_start(&c->api_timer, api_restart, c->api_backoff_ms,
			       0);
		c->api_backoff_ms = c->api_backoff_ms * 2 > 5000 ? 5000 :
				    c->api_backoff_ms * 2;
		return;
	}
	o.file = c->exe;
	o.args = args;
	o.stdio = io;
	o.stdio_count = (int)nio;
	o.exit_cb = api_exited;
	c->api_proc.data = c;
	r = uv_spawn(c->loop, &c->api_proc, &o);
	close(sv[1]);
	/* api has its copies; the key is nowhere else in ctl */
	while (npem > 0)
		close(pem[--npem]);
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
