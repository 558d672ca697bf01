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
#include "ctl/selfsign.h"

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
	/* IP_FREEBIND: ctl opens its listeners before its first apply,
	 * which may be what puts the address on an interface (a boot);
	 * ctl_api_check_addrs says after that apply when none has it */
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 511) < 0) {
		snprintf(err, errlen, "listen \"%s\": %s", addr,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void ctl_api_check_addrs(struct ctl *c)
{
	for (size_t i = 0; i < c->nlisteners; i++) {
		struct sockaddr_storage ss;
		unsigned len;
		int fd;

		if (!listen_parse(c->listeners[i].addr, &ss, &len))
			continue;
		/* the same address without freebind, on any port */
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&ss)->sin6_port = 0;
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (bind(fd, (struct sockaddr *)&ss, len) < 0 &&
		    errno == EADDRNOTAVAIL)
			ctl_log("api: listen \"%s\": no interface has that "
				"address; connections wait until one does",
				c->listeners[i].addr);
		close(fd);
	}
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
 * disabled. A plain one on an address other hosts reach is left out
 * unless its block says allow_plain_http (into refused[], when not
 * NULL). An HTTPS one without tls_cert and tls_key gets the self-signed
 * pair (self_cert, self_key). Returns how many of out[4] are set. */
struct want {
	const char *addr, *cert, *key;	/* cert, key: NULL for plain */
	bool self;			/* the self-signed pair */
};

static bool allowed(const struct cfg_bool *b)
{
	return b->set && b->v;
}

static size_t wanted(const struct moat_config *cfg, const char *self_cert,
		     const char *self_key, struct want out[4],
		     const char *refused[4], size_t *nrefused)
{
	const struct cfg_api *api = cfg->api.n ? cfg->api.v : NULL;
	const struct cfg_web *web = cfg->web.n ? cfg->web.v : NULL;
	const struct {
		const struct cfg_str *addr, *cert, *key;
		bool allow_plain;
	} l[4] = {
		{ web ? &web->listen : NULL, NULL, NULL,
		  web && allowed(&web->allow_plain_http) },
		{ web ? &web->tls_listen : NULL, web ? &web->tls_cert : NULL,
		  web ? &web->tls_key : NULL, false },
		{ api ? &api->listen : NULL, NULL, NULL,
		  api && allowed(&api->allow_plain_http) },
		{ api ? &api->tls_listen : NULL, api ? &api->tls_cert : NULL,
		  api ? &api->tls_key : NULL, false },
	};
	size_t n = 0;

	if (nrefused)
		*nrefused = 0;
	if (api && api->enabled.set && !api->enabled.v)
		return 0;
	for (size_t i = 0; i < 4; i++) {
		const char *a = l[i].addr ? l[i].addr->v : NULL;
		bool dup = false, self;

		if (!a)
			continue;
		if (!l[i].cert && !l[i].allow_plain && !listen_is_loopback(a)) {
			if (refused)
				refused[(*nrefused)++] = a;
			continue;
		}
		for (size_t j = 0; j < n; j++)
			dup |= !strcmp(out[j].addr, a);
		if (dup)
			continue;
		self = l[i].cert && !l[i].cert->v && !l[i].key->v;
		out[n] = (struct want){ .addr = a, .self = self };
		if (l[i].cert) {
			out[n].cert = self ? self_cert : l[i].cert->v;
			out[n].key = self ? self_key : l[i].key->v;
		}
		n++;
	}
	return n;
}

/* The self-signed pair the wanted listeners use, made when missing and
 * checked; its fingerprint goes to the log and c->tls_fingerprint.
 * false when it is wrong (the log says which file): those listeners are
 * not served, the rest are. */
static bool self_ready(struct ctl *c, const struct want *w, size_t n)
{
	const char *addrs[4], *cert = NULL, *key = NULL;
	char fp[SELFSIGN_FP_LEN], err[512];
	size_t na = 0;
	bool made;

	for (size_t i = 0; i < n; i++)
		if (w[i].self) {
			addrs[na++] = w[i].addr;
			cert = w[i].cert;
			key = w[i].key;
		}
	if (!na)
		return true;
	if (selfsign_ensure(cert, key, addrs, na, fp, &made, err,
			    sizeof(err)) < 0) {
		ctl_log("api: the self-signed certificate: %s; HTTPS without "
			"tls_cert and tls_key is not served", err);
		return false;
	}
	snprintf(c->tls_fingerprint, sizeof(c->tls_fingerprint), "%s", fp);
	ctl_log("api: %s %s, SHA256 Fingerprint=%s", made ?
		"made the self-signed certificate" :
		"self-signed certificate", cert, fp);
	return true;
}

/* STATE_DIR/tls/api.{crt,key}; the caller frees them. */
static void self_paths(const struct ctl *c, char **cert, char **key)
{
	*cert = xasprintf("%s/tls/api.crt", c->state_dir);
	*key = xasprintf("%s/tls/api.key", c->state_dir);
}

int ctl_api_open(struct ctl *c, const struct moat_config *cfg, char *err,
		 size_t errlen)
{
	struct want w[4];
	const char *refused[4];
	char *cert, *key;
	size_t nref, n;
	bool self_ok;
	int r = 0;

	self_paths(c, &cert, &key);
	n = wanted(cfg, cert, key, w, refused, &nref);
	for (size_t i = 0; i < nref; i++)
		ctl_log("api: listen %s is plain HTTP on a non-loopback "
			"address: not opened (use tls_listen, or set "
			"allow_plain_http = true)", refused[i]);
	self_ok = self_ready(c, w, n);
	for (size_t i = 0; i < n && r == 0; i++) {
		int fd;

		if (w[i].self && !self_ok) {
			ctl_log("api: listener %s left out", w[i].addr);
			continue;
		}
		if ((fd = open_listener(w[i].addr, err, errlen)) < 0)
			r = -1;
		else
			add_listener(c, w[i].addr, fd, w[i].cert, w[i].key);
	}
	free(cert);
	free(key);
	return r;
}

static void drop_listener(struct ctl *c, size_t i)
{
	struct ctl_listener *l = &c->listeners[i];

	close(l->fd);
	free(l->addr);
	free(l->cert);
	free(l->key);
	memmove(l, l + 1, (c->nlisteners - i - 1) * sizeof(*l));
	c->nlisteners--;
}

/* A socket handed over that the config no longer wants as it is (a plain
 * one it now leaves out, an HTTPS one whose certificate is wrong) is
 * closed rather than served as plain HTTP. */
void ctl_api_adopt_tls(struct ctl *c, const struct moat_config *cfg)
{
	struct want w[4];
	char *cert, *key;
	size_t n;
	bool self_ok;

	self_paths(c, &cert, &key);
	n = wanted(cfg, cert, key, w, NULL, NULL);
	self_ok = self_ready(c, w, n);
	for (size_t i = 0; i < c->nlisteners;) {
		struct ctl_listener *l = &c->listeners[i];
		const struct want *m = NULL;

		for (size_t j = 0; j < n; j++)
			if (!strcmp(w[j].addr, l->addr))
				m = &w[j];
		if (!m || (m->self && !self_ok)) {
			ctl_log("api: listener %s %s: closed", l->addr, !m ?
				"is not in the config as it is now" :
				"has no certificate");
			drop_listener(c, i);
			continue;
		}
		if (m->cert && m->key) {
			l->cert = xstrdup(m->cert);
			l->key = xstrdup(m->key);
		}
		i++;
	}
	free(cert);
	free(key);
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
