/* ctl's RPC server: ctl.sock for the CLI (SO_PEERCRED: root or group
 * moat) and the socketpair of the api process, which is never trusted:
 * its connection gets the viewer role until sessions are verified in ctl
 * (the REST API's issue), and each method names the role it needs and
 * whether api may call it at all. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"
#include "ctl/ctl.h"
#include "ctl/rpc.h"
#include "store/store.h"
#include "wg/wg.h"

struct ctl_conn {
	uv_pipe_t h;
	struct ctl *c;
	struct rpc_reader rd;
	struct ctl_caller who;
	bool subscribed;
	bool closing;
	unsigned denials;
	struct ctl_conn *next;
};

/* --- methods -------------------------------------------------------------- */

typedef int (*method_fn)(struct ctl *c, struct ctl_conn *k, json_t *params,
			 json_t **res);

static int m_health(struct ctl *c, struct ctl_conn *k, json_t *p, json_t **res)
{
	*res = json_pack("{sbsI}", "ok", 1, "revision", (json_int_t)(c->cur ?
			 c->cur->revision : 0));
	return 0;
}

static int m_status(struct ctl *c, struct ctl_conn *k, json_t *p, json_t **res)
{
	*res = ctl_status(c);
	return 0;
}

static int m_reload(struct ctl *c, struct ctl_conn *k, json_t *p, json_t **res)
{
	return ctl_apply(c, NULL, NULL, 0, &k->who, res);
}

static int m_apply(struct ctl *c, struct ctl_conn *k, json_t *p, json_t **res)
{
	const char *path = NULL, *text = NULL;
	json_int_t confirm = 0;

	/* the text, read by the caller: ctl (root) never opens a path
	 * someone else names (a FIFO would hang it, an error would echo
	 * a file they cannot read); path is only its name */
	if (json_unpack(p, "{ss,ss,s?I!}", "path", &path, "text", &text,
			"confirm_within", &confirm) < 0 || confirm < 0 ||
	    confirm > 86400) {
		*res = json_pack("{ss}", "error", "params: {\"path\": string, "
				 "\"text\": string, \"confirm_within\": "
				 "0..86400}");
		return -2;
	}
	return ctl_apply(c, path, text, (int)confirm, &k->who, res);
}

static int m_confirm(struct ctl *c, struct ctl_conn *k, json_t *p,
		     json_t **res)
{
	return ctl_confirm(c, &k->who, res);
}

static int m_rollback(struct ctl *c, struct ctl_conn *k, json_t *p,
		      json_t **res)
{
	json_int_t rev;

	if (json_unpack(p, "{sI!}", "revision", &rev) < 0 || rev <= 0) {
		*res = json_pack("{ss}", "error", "params: {\"revision\": "
				 "number}");
		return -2;
	}
	return ctl_rollback(c, rev, &k->who, res);
}

static int m_config_get(struct ctl *c, struct ctl_conn *k, json_t *p,
			json_t **res)
{
	*res = json_pack("{sssIss#ss}", "path", c->config_path, "revision",
			 (json_int_t)c->cur->revision, "text", c->cur->text,
			 (int)c->cur->len, "hash", c->cur->hash);
	return 0;
}

static int m_revisions(struct ctl *c, struct ctl_conn *k, json_t *p,
		       json_t **res)
{
	struct store_revision *v = NULL;
	json_int_t limit = 50;
	char err[256];
	size_t n = 0;
	json_t *a;

	if (json_unpack(p, "{s?I!}", "limit", &limit) < 0 || limit < 1 ||
	    limit > 1000) {
		*res = json_pack("{ss}", "error", "params: {\"limit\": "
				 "1..1000}");
		return -2;
	}
	if (store_revisions_list(c->store, (size_t)limit, &v, &n, err,
				 sizeof(err)) < 0) {
		*res = json_pack("{ss}", "error", err);
		return -1;
	}
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{sIsIssssssssssss}", "id",
			(json_int_t)v[i].id, "created_at",
			(json_int_t)v[i].created_at, "author", v[i].author,
			"origin", v[i].origin, "path", v[i].config_path,
			"hash", v[i].hash, "result", v[i].result, "detail",
			v[i].detail));
	store_revisions_free(v, n);
	*res = json_pack("{sosI}", "revisions", a, "running",
			 (json_int_t)c->cur->revision);
	return 0;
}

static int audit_row(const struct store_audit *e, void *data)
{
	json_array_append_new(data, json_pack("{sIsIssssssssssss}", "id",
		(json_int_t)e->id, "at_ms", (json_int_t)e->at, "who", e->who,
		"origin", e->origin, "action", e->action, "detail", e->detail,
		"result", e->result, "hash", e->hash));
	return 0;
}

static int m_audit(struct ctl *c, struct ctl_conn *k, json_t *p, json_t **res)
{
	json_int_t after = -1, limit = 100;
	json_t *a = json_array();
	char err[256];
	int r;

	if (json_unpack(p, "{s?I,s?I!}", "after", &after, "limit",
			&limit) < 0 || limit <= 0 || limit > 2000) {
		json_decref(a);
		*res = json_pack("{ss}", "error", "params: {\"after\": id, "
				 "\"limit\": 1..2000}");
		return -2;
	}
	r = after >= 0 ? store_audit_each(c->store, after, (size_t)limit,
					  audit_row, a, err, sizeof(err)) :
			 store_audit_tail(c->store, (size_t)limit, audit_row,
					  a, err, sizeof(err));
	if (r < 0) {
		json_decref(a);
		*res = json_pack("{ss}", "error", err);
		return -1;
	}
	*res = json_pack("{so}", "entries", a);
	return 0;
}

static int m_audit_verify(struct ctl *c, struct ctl_conn *k, json_t *p,
			  json_t **res)
{
	long long bad = 0;
	size_t rows = 0;
	char err[256] = "", last[65] = "";
	int r = store_audit_verify(c->store, &rows, &bad, last, err,
				   sizeof(err));

	if (r < 0) {
		*res = json_pack("{ss}", "error", err);
		return -1;
	}
	*res = json_pack("{sbsIsIssss}", "intact", r == 0, "rows",
			 (json_int_t)rows, "first_bad", (json_int_t)bad,
			 "message", r ? err : "", "last_hash", last);
	return 0;
}

/* The running plan's peers: the config's and the store's. */
static int m_wg_peers(struct ctl *c, struct ctl_conn *k, json_t *p,
		      json_t **res)
{
	const struct wg_plan *wg = c->cur->plans[COMP_WG];
	const char *dev = NULL;
	json_t *a = json_array();

	if (json_unpack(p, "{s?s!}", "device", &dev) < 0) {
		json_decref(a);
		*res = json_pack("{ss}", "error", "params: {\"device\": name}");
		return -2;
	}
	for (size_t i = 0; i < wg->ndevs; i++) {
		const struct wg_device *d = &wg->devs[i];

		if (dev && strcmp(dev, d->name))
			continue;
		for (size_t j = 0; j < d->npeers; j++) {
			const struct wg_peer *q = &d->peers[j];
			char key[WG_KEY_B64], ip[64];
			json_t *ips = json_array();

			wg_key_to_b64(q->pub, key);
			for (size_t m = 0; m < q->nallowed; m++) {
				wg_allowed_format(&q->allowed[m], ip,
						  sizeof(ip));
				json_array_append_new(ips, json_string(ip));
			}
			json_array_append_new(a, json_pack("{sssss*sssoss}",
				"device", d->name, "name", q->name,
				"public_key", key, "allowed_ips", ips,
				"source", q->from_store ? "runtime" :
				"config"));
		}
	}
	*res = json_pack("{so}", "peers", a);
	return 0;
}

/* A runtime peer was added or removed (moat wg peer, which changed the
 * store and the device): the running plans take the store again, so that
 * a rollback or a reload keeps the peer, and the change is audited. */
static int m_wg_changed(struct ctl *c, struct ctl_conn *k, json_t *p,
			json_t **res)
{
	const char *action, *dev, *peer = "";
	char detail[160], e[512];
	int r;

	if (json_unpack(p, "{ss,ss,s?s!}", "action", &action, "device", &dev,
			"peer", &peer) < 0 || (strcmp(action, "add") &&
					       strcmp(action, "del"))) {
		*res = json_pack("{ss}", "error", "params: {\"action\": "
				 "\"add\"|\"del\", \"device\", \"peer\"}");
		return -2;
	}
	r = ctl_wg_resync(c, e, sizeof(e));
	snprintf(detail, sizeof(detail), "%.16s peer %.64s", dev, peer);
	ctl_audit(c, &k->who, !strcmp(action, "add") ? "wg.peer.add" :
		  "wg.peer.del", detail, r ? e : "ok");
	if (r) {
		*res = json_pack("{ss}", "error", e);
		return -1;
	}
	ctl_event(c, !strcmp(action, "add") ? "wg.peer.added" :
		  "wg.peer.removed", json_pack("{ssss}", "device", dev,
		  "peer", peer));
	*res = json_pack("{sb}", "ok", 1);
	return 0;
}

/* wireguard-go was restarted by its supervisor: the device is back
 * empty, and the running plan goes to it again. */
static int m_wg_sync(struct ctl *c, struct ctl_conn *k, json_t *p,
		     json_t **res)
{
	const char *dev = NULL;
	char detail[96], e[512];
	int r;

	if (json_unpack(p, "{s?s!}", "device", &dev) < 0) {
		*res = json_pack("{ss}", "error", "params: {\"device\": name}");
		return -2;
	}
	r = ctl_wg_resync(c, e, sizeof(e));
	snprintf(detail, sizeof(detail), "%.16s: its process was restarted",
		 dev ? dev : "all devices");
	ctl_audit(c, &k->who, "wg.sync", detail, r ? e : "ok");
	if (r) {
		*res = json_pack("{ss}", "error", e);
		return -1;
	}
	*res = json_pack("{sb}", "ok", 1);
	return 0;
}

static int m_subscribe(struct ctl *c, struct ctl_conn *k, json_t *p,
		       json_t **res)
{
	k->subscribed = true;
	*res = json_pack("{sb}", "ok", 1);
	return 0;
}

static int m_takeover(struct ctl *c, struct ctl_conn *k, json_t *p,
		      json_t **res)
{
	int fd;

	/* the sockets are ctl itself: root only, not the group */
	if (k->who.uid != 0) {
		ctl_audit(c, &k->who, "takeover", "refused: not root",
			  "permission denied");
		*res = json_pack("{ss}", "error", "takeover: root only");
		return -3;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&k->h) ||
	    uv_fileno((uv_handle_t *)&k->h, &fd) < 0 ||
	    ctl_takeover_send(c, fd) < 0) {
		*res = json_pack("{ss}", "error", "cannot hand the sockets "
				 "over");
		return -1;
	}
	ctl_audit(c, &k->who, "takeover", "sockets handed to a new ctl",
		  "ok");
	c->handed_over = true;
	ctl_stop(c, 0);
	*res = NULL;
	return 1;	/* answered already, with the sockets */
}

static const struct method {
	const char *name;
	enum ctl_role role;
	bool api;		/* api may call it */
	method_fn fn;
} methods[] = {
	{ "health", ROLE_VIEWER, true, m_health },
	{ "status", ROLE_VIEWER, true, m_status },
	/* the text may hold private and preshared keys */
	{ "config.get", ROLE_ADMIN, false, m_config_get },
	{ "revisions", ROLE_VIEWER, true, m_revisions },
	{ "wg.peers", ROLE_VIEWER, true, m_wg_peers },
	{ "events.subscribe", ROLE_VIEWER, true, m_subscribe },
	{ "reload", ROLE_OPERATOR, true, m_reload },
	{ "confirm", ROLE_OPERATOR, true, m_confirm },
	{ "wg.peers.changed", ROLE_OPERATOR, true, m_wg_changed },
	{ "wg.sync", ROLE_OPERATOR, false, m_wg_sync },
	{ "rollback", ROLE_ADMIN, true, m_rollback },
	{ "audit", ROLE_ADMIN, true, m_audit },
	{ "audit.verify", ROLE_ADMIN, true, m_audit_verify },
	/* a path on ctl's file system: the local CLI only */
	{ "apply", ROLE_ADMIN, false, m_apply },
	{ "takeover", ROLE_ADMIN, false, m_takeover },
};

/* --- connections ---------------------------------------------------------- */

struct wreq {
	uv_write_t w;
	char *p;
};

static void write_done(uv_write_t *w, int status)
{
	struct wreq *r = (struct wreq *)w;

	free(r->p);
	free(r);
}

static void conn_close(struct ctl_conn *k);

/* A client that does not read its answers is cut off rather than let
 * ctl's memory grow. */
#define CONN_MAX_QUEUED (8u << 20)

/* -1 when msg cannot be framed (over RPC_MAX_FRAME). */
static int send_msg(struct ctl_conn *k, json_t *msg)
{
	struct buf b = BUF_INIT;
	struct wreq *r;
	uv_buf_t ub;

	if (k->closing)
		return 0;
	if (!msg || rpc_frame(&b, msg) < 0) {
		buf_free(&b);
		return -1;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&k->h) +
	    b.len > CONN_MAX_QUEUED) {
		ctl_log("%s: not reading its answers: closing the "
			"connection", k->who.origin);
		buf_free(&b);
		conn_close(k);
		return 0;
	}
	r = xcalloc(1, sizeof(*r));
	r->p = b.p;
	ub = uv_buf_init(b.p, (unsigned)b.len);
	if (uv_write(&r->w, (uv_stream_t *)&k->h, &ub, 1, write_done) < 0) {
		free(r->p);
		free(r);
		conn_close(k);
	}
	return 0;
}

void ctl_event(struct ctl *c, const char *name, json_t *data)
{
	json_t *ev = rpc_event(name, data);

	for (struct ctl_conn *k = c->conns; k; k = k->next)
		if (k->subscribed)
			send_msg(k, ev);
	json_decref(ev);
}

static void dispatch(struct ctl_conn *k, json_t *msg)
{
	struct ctl *c = k->c;
	const char *name = NULL;
	json_t *id = NULL, *params, *res = NULL, *ans;
	const struct method *m = NULL;
	char err[256];
	int r;

	if (rpc_request(msg, &id, &name, &params, err, sizeof(err)) < 0) {
		ans = rpc_error(json_object_get(msg, "id"), RPC_E_REQUEST,
				"%s", err);
		goto send;
	}
	for (size_t i = 0; i < ARRAY_SIZE(methods) && !m; i++)
		if (!strcmp(methods[i].name, name))
			m = &methods[i];
	if (!m) {
		ans = rpc_error(id, RPC_E_METHOD, "no method \"%.64s\"", name);
		goto send;
	}
	/* checked here whatever api says it checked */
	if ((k->who.from_api && !m->api) || k->who.role < m->role) {
		char d[128];

		/* audited, but a caller that keeps trying cannot fill the
		 * disk with it: the tenth refusal closes the connection */
		snprintf(d, sizeof(d), "method %s", m->name);
		ctl_audit(c, &k->who, "denied", d, "permission denied");
		ans = rpc_error(id, RPC_E_DENIED, "%s: permission denied",
				m->name);
		if (++k->denials >= 10) {
			send_msg(k, ans);
			json_decref(ans);
			ctl_log("%s: 10 refused requests: closing the "
				"connection", k->who.origin);
			conn_close(k);
			return;
		}
		goto send;
	}
	/* a stopping ctl still answers its api's health checks: api is
	 * finishing what it holds (a takeover) */
	if (!c->cur || (c->stopping && strcmp(m->name, "health"))) {
		ans = rpc_error(id, RPC_E_BUSY, "ctl is stopping");
		goto send;
	}
	r = m->fn(c, k, params, &res);
	if (r == 1)
		return;		/* answered already (takeover) */
	if (r == -3) {
		ans = rpc_error(id, RPC_E_DENIED, "%s", json_string_value(
				json_object_get(res, "error")));
		json_decref(res);
	} else if (r == -2) {
		ans = rpc_error(id, RPC_E_PARAMS, "%s", json_string_value(
				json_object_get(res, "error")));
		json_decref(res);
	} else if (r < 0 && !json_object_get(res, "components")) {
		ans = rpc_error(id, RPC_E_FAILED, "%s", json_string_value(
				json_object_get(res, "error")) ?: "failed");
		json_decref(res);
	} else {
		/* an apply that failed answers with its details */
		ans = rpc_result(id, res);
	}
send:
	if (send_msg(k, ans) < 0) {
		json_decref(ans);
		ans = rpc_error(id, RPC_E_FAILED, "%s: the answer is over %u "
				"bytes", name ? name : "request", RPC_MAX_FRAME);
		send_msg(k, ans);
	}
	json_decref(ans);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char buf[65536];

	(void)h;
	(void)hint;
	*b = uv_buf_init(buf, sizeof(buf));
}

static void on_closed(uv_handle_t *h)
{
	struct ctl_conn *k = h->data;

	rpc_reader_free(&k->rd);
	free(k);
}

static void conn_close(struct ctl_conn *k)
{
	struct ctl_conn **pp;

	if (k->closing)
		return;
	k->closing = true;
	for (pp = &k->c->conns; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	if (k->c->api_conn == k)
		k->c->api_conn = NULL;
	uv_close((uv_handle_t *)&k->h, on_closed);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct ctl_conn *k = s->data;
	char err[256];
	json_t *msg;
	int r;

	if (n < 0) {
		conn_close(k);
		return;
	}
	rpc_reader_feed(&k->rd, b->base, (size_t)n);
	while (!k->closing && (r = rpc_next(&k->rd, &msg, err,
					    sizeof(err))) != 0) {
		if (r < 0) {
			json_t *e = rpc_error(NULL, RPC_E_PARSE, "%s", err);

			send_msg(k, e);
			json_decref(e);
			ctl_log("%s: %s: closing the connection",
				k->who.origin, err);
			conn_close(k);
			return;
		}
		dispatch(k, msg);
		json_decref(msg);
	}
}

static struct ctl_conn *conn_new(struct ctl *c)
{
	struct ctl_conn *k = xcalloc(1, sizeof(*k));

	k->c = c;
	uv_pipe_init(c->loop, &k->h, 0);
	k->h.data = k;
	k->next = c->conns;
	c->conns = k;
	return k;
}

/* Group moat's id, looked up once when ctl.sock is made (an NSS lookup
 * may block; the loop must not). -1: no such group. */
static long moat_gid = -1;

/* root, or a process in group moat (its primary group or one of its
 * supplementary groups, as the kernel has them: SO_PEERGROUPS, not what
 * /etc/group says today). */
static bool allowed(int fd, const struct ucred *cr, struct ctl_caller *who)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	who->uid = cr->uid;
	if (cr->uid == 0) {
		snprintf(who->who, sizeof(who->who), "root");
		return true;
	}
	snprintf(who->who, sizeof(who->who), "uid %u", (unsigned)cr->uid);
	if (moat_gid < 0)
		return false;
	if (cr->gid == (gid_t)moat_gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == (gid_t)moat_gid)
			return true;
	return false;
}

static void on_connection(uv_stream_t *srv, int status)
{
	struct ctl *c = srv->data;
	struct ctl_conn *k;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd;

	if (status < 0)
		return;
	k = conn_new(c);
	if (uv_accept(srv, (uv_stream_t *)&k->h) < 0) {
		conn_close(k);
		return;
	}
	snprintf(k->who.origin, sizeof(k->who.origin), "ctl.sock");
	if (uv_fileno((uv_handle_t *)&k->h, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
	    !allowed(fd, &cr, &k->who)) {
		json_t *e = rpc_error(NULL, RPC_E_DENIED, "permission denied: "
				      "ctl.sock is for root and group moat");

		ctl_audit(c, &k->who, "connect", "ctl.sock",
			  "permission denied");
		send_msg(k, e);
		json_decref(e);
		conn_close(k);
		return;
	}
	k->who.role = ROLE_ADMIN;
	uv_read_start((uv_stream_t *)&k->h, alloc_cb, on_read);
}

struct ctl_conn *ctl_server_adopt(struct ctl *c, int fd, bool api)
{
	struct ctl_conn *k = conn_new(c);

	if (uv_pipe_open(&k->h, fd) < 0) {
		conn_close(k);
		return NULL;
	}
	snprintf(k->who.who, sizeof(k->who.who), "api");
	k->who.uid = (unsigned)-1;
	snprintf(k->who.origin, sizeof(k->who.origin), "api");
	k->who.role = ROLE_VIEWER;
	k->who.from_api = api;
	uv_read_start((uv_stream_t *)&k->h, alloc_cb, on_read);
	return k;
}

/* ctl.sock, bound here rather than by libuv: libuv unlinks the path of
 * a socket it bound when the handle closes, and after a takeover the
 * path belongs to the new ctl. */
static int bind_sock(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct group *g;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* a socket left by a ctl that died; a running one answered the
	 * caller's connect, which then did not start */
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 128) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	g = getgrnam("moat");
	if (g && chown(path, 0, g->gr_gid) < 0)
		ctl_log("%s: chown: %s", path, strerror(errno));
	if (chmod(path, 0660) < 0)
		ctl_log("%s: chmod: %s", path, strerror(errno));
	return fd;
}

/* fd >= 0: a listening socket handed over by the ctl before. */
int ctl_server_listen(struct ctl *c, int fd, char *err, size_t errlen)
{
	char *path = xasprintf("%s/ctl.sock", c->run_dir);
	struct group *g = getgrnam("moat");
	int r;

	moat_gid = g ? (long)g->gr_gid : -1;
	if (fd < 0 && (fd = bind_sock(path, err, errlen)) < 0) {
		free(path);
		return -1;
	}
	uv_pipe_init(c->loop, &c->sock, 0);
	c->sock.data = c;
	r = uv_pipe_open(&c->sock, fd);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&c->sock, 128, on_connection);
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, uv_strerror(r));
		free(path);
		return -1;
	}
	c->sock_fd = fd;
	free(path);
	return 0;
}

static void noop_close(uv_handle_t *h)
{
	(void)h;
}

void ctl_server_close_all(struct ctl *c, bool keep_api)
{
	for (struct ctl_conn *k = c->conns, *next; k; k = next) {
		next = k->next;
		if (!keep_api || k != c->api_conn)
			conn_close(k);
	}
	if (!uv_is_closing((uv_handle_t *)&c->sock) && c->sock.loop)
		uv_close((uv_handle_t *)&c->sock, noop_close);
}

/* The answer to a takeover request, with ctl.sock's listening socket and
 * the API's as SCM_RIGHTS: the new ctl listens on the very sockets, so a
 * client connecting meanwhile waits in the backlog instead of being
 * refused. */
int ctl_takeover_send(struct ctl *c, int client_fd)
{
	int fds[64], n = 0;
	json_t *addrs = json_array(), *msg;
	struct buf b = BUF_INIT;
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct iovec iov;
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	ssize_t w;

	fds[n++] = c->sock_fd;
	for (size_t i = 0; i < c->nlisteners && n < 64; i++) {
		fds[n++] = c->listeners[i].fd;
		json_array_append_new(addrs, json_string(c->listeners[i].addr));
	}
	msg = json_pack("{sIs{sbso}}", "id", (json_int_t)1, "result", "ok", 1,
			"listeners", addrs);
	rpc_frame(&b, msg);
	json_decref(msg);
	iov.iov_base = b.p;
	iov.iov_len = b.len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
	memset(cbuf, 0, sizeof(cbuf));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)n);
	/* a small message, the first on this connection (the caller saw
	 * its write queue empty): it fits the socket's buffer, so it is
	 * sent whole at once or not at all, and ctl never waits on it */
	w = sendmsg(client_fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&b);
	return w == (ssize_t)iov.iov_len ? 0 : -1;
}
