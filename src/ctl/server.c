/* ctl's RPC server: ctl.sock for the CLI (SO_PEERCRED: root or group
 * moat) and the socketpair of the api process, which is never trusted:
 * each of its requests names the HTTP client's credentials, which ctl
 * checks itself (auth.c), and each method names the role it needs and
 * whether api may call it at all (method.h). */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "base/util.h"
#include "ctl/ctl.h"
#include "ctl/method.h"
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
	unsigned refs;			/* kept requests (ctl_req_keep) */
	struct ctl_conn *next;
};

/* --- methods -------------------------------------------------------------- */

typedef int (*method_fn)(struct ctl *c, struct ctl_conn *k, json_t *params,
			 json_t **res);

static int m_health(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	*res = json_pack("{sbsI}", "ok", 1, "revision", (json_int_t)(c->cur ?
			 c->cur->revision : 0));
	return 0;
}

static int m_status(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	char h[65];

	*res = ctl_status(c);
	if (r->who.from_api && c->cur) {
		ctl_hash_for_api(c, c->cur->hash, h);
		json_object_set_new(*res, "config_hash", json_string(h));
	}
	return 0;
}

static int m_reload(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	return ctl_apply(c, NULL, NULL, 0, &r->who, res);
}

static int m_apply(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
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
	return ctl_apply(c, path, text, (int)confirm, &r->who, res);
}

static int m_confirm(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	return ctl_confirm(c, &r->who, res);
}

static int m_rollback(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	json_int_t rev;

	if (json_unpack(p, "{sI!}", "revision", &rev) < 0 || rev <= 0) {
		*res = json_pack("{ss}", "error", "params: {\"revision\": "
				 "number}");
		return -2;
	}
	return ctl_rollback(c, rev, &r->who, res);
}

static int m_config_get(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	*res = json_pack("{sssIss#ss}", "path", c->config_path, "revision",
			 (json_int_t)c->cur->revision, "text", c->cur->text,
			 (int)c->cur->len, "hash", c->cur->hash);
	return 0;
}

static int m_revisions(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
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
	for (size_t i = 0; i < n; i++) {
		char h[65];

		/* api's clients get the keyed digest (ctl_hash_for_api) */
		if (r->who.from_api)
			ctl_hash_for_api(c, v[i].hash, h);
		json_array_append_new(a, json_pack("{sIsIssssssssssss}", "id",
			(json_int_t)v[i].id, "created_at",
			(json_int_t)v[i].created_at, "author", v[i].author,
			"origin", v[i].origin, "path", v[i].config_path,
			"hash", r->who.from_api ? h : v[i].hash, "result",
			v[i].result, "detail", v[i].detail));
	}
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

static int m_audit(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	json_int_t after = -1, limit = 100;
	json_t *a = json_array();
	char err[256];
	int st;

	if (json_unpack(p, "{s?I,s?I!}", "after", &after, "limit",
			&limit) < 0 || limit <= 0 || limit > 2000) {
		json_decref(a);
		*res = json_pack("{ss}", "error", "params: {\"after\": id, "
				 "\"limit\": 1..2000}");
		return -2;
	}
	st = after >= 0 ? store_audit_each(c->store, after, (size_t)limit,
					  audit_row, a, err, sizeof(err)) :
			 store_audit_tail(c->store, (size_t)limit, audit_row,
					  a, err, sizeof(err));
	if (st < 0) {
		json_decref(a);
		*res = json_pack("{ss}", "error", err);
		return -1;
	}
	*res = json_pack("{so}", "entries", a);
	return 0;
}

static int m_audit_verify(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	long long bad = 0;
	size_t rows = 0;
	char err[256] = "", last[65] = "";
	int st = store_audit_verify(c->store, &rows, &bad, last, err,
				   sizeof(err));

	if (st < 0) {
		*res = json_pack("{ss}", "error", err);
		return -1;
	}
	*res = json_pack("{sbsIsIssss}", "intact", st == 0, "rows",
			 (json_int_t)rows, "first_bad", (json_int_t)bad,
			 "message", st ? err : "", "last_hash", last);
	return 0;
}

/* The running plan's peers: the config's and the store's. */
static int m_wg_peers(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
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
static int m_wg_changed(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	const char *action, *dev, *peer = "";
	char detail[160], e[512];
	int st;

	if (json_unpack(p, "{ss,ss,s?s!}", "action", &action, "device", &dev,
			"peer", &peer) < 0 || (strcmp(action, "add") &&
					       strcmp(action, "del"))) {
		*res = json_pack("{ss}", "error", "params: {\"action\": "
				 "\"add\"|\"del\", \"device\", \"peer\"}");
		return -2;
	}
	st = ctl_wg_resync(c, false, e, sizeof(e));
	snprintf(detail, sizeof(detail), "%.16s peer %.64s", dev, peer);
	ctl_audit(c, &r->who, !strcmp(action, "add") ? "wg.peer.add" :
		  "wg.peer.del", detail, st ? e : "ok");
	if (st) {
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
static int m_wg_sync(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	const char *dev = NULL;
	char detail[96], e[512];
	int st;

	if (json_unpack(p, "{s?s!}", "device", &dev) < 0) {
		*res = json_pack("{ss}", "error", "params: {\"device\": name}");
		return -2;
	}
	st = ctl_wg_resync(c, true, e, sizeof(e));
	snprintf(detail, sizeof(detail), "%.16s: its process was restarted",
		 dev ? dev : "all devices");
	ctl_audit(c, &r->who, "wg.sync", detail, st ? e : "ok");
	if (st) {
		*res = json_pack("{ss}", "error", e);
		return -1;
	}
	*res = json_pack("{sb}", "ok", 1);
	return 0;
}

static int m_subscribe(struct ctl_req *r, json_t *p, json_t **res)
{
	ctl_req_subscribe(r);
	*res = json_pack("{sb}", "ok", 1);
	return 0;
}

static int m_takeover(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	int fd;

	/* the sockets are ctl itself: root only, not the group */
	if (r->who.uid != 0) {
		ctl_audit(c, &r->who, "takeover", "refused: not root",
			  "permission denied");
		*res = json_pack("{ss}", "error", "takeover: root only");
		return -3;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&r->k->h) ||
	    uv_fileno((uv_handle_t *)&r->k->h, &fd) < 0 ||
	    ctl_takeover_send(c, fd) < 0) {
		*res = json_pack("{ss}", "error", "cannot hand the sockets "
				 "over");
		return -1;
	}
	ctl_audit(c, &r->who, "takeover", "sockets handed to a new ctl",
		  "ok");
	c->handed_over = true;
	ctl_stop(c, 0);
	*res = NULL;
	return 1;	/* answered already, with the sockets */
}

const struct ctl_method ctl_core_methods[] = {
	{ "health", ROLE_VIEWER, M_PUBLIC, m_health },
	{ "status", ROLE_VIEWER, M_API, m_status },
	/* the text may hold private and preshared keys */
	{ "config.get", ROLE_ADMIN, 0, m_config_get },
	{ "revisions", ROLE_VIEWER, M_API, m_revisions },
	{ "wg.peers", ROLE_VIEWER, M_API, m_wg_peers },
	/* api's own connection subscribes: it serves /api/ws */
	{ "events.subscribe", ROLE_VIEWER, M_PUBLIC, m_subscribe },
	{ "reload", ROLE_OPERATOR, M_API | M_MUTATES, m_reload },
	{ "confirm", ROLE_OPERATOR, M_API | M_MUTATES, m_confirm },
	{ "wg.peers.changed", ROLE_OPERATOR, 0, m_wg_changed },
	{ "wg.sync", ROLE_OPERATOR, 0, m_wg_sync },
	{ "rollback", ROLE_ADMIN, M_API | M_MUTATES, m_rollback },
	{ "audit", ROLE_ADMIN, M_API, m_audit },
	{ "audit.verify", ROLE_ADMIN, M_API, m_audit_verify },
	/* a path on ctl's file system: the local CLI only */
	{ "apply", ROLE_ADMIN, 0, m_apply },
	{ "takeover", ROLE_ADMIN, 0, m_takeover },
	{ NULL, 0, 0, NULL },
};

static const struct ctl_method *const tables[] = {
	ctl_core_methods,
	ctl_auth_methods,
	ctl_wg_methods,
	ctl_config_methods,
	ctl_metrics_methods,
};

static const struct ctl_method *find_method(const char *name)
{
	for (size_t t = 0; t < ARRAY_SIZE(tables); t++)
		for (const struct ctl_method *m = tables[t]; m->name; m++)
			if (!strcmp(m->name, name))
				return m;
	return NULL;
}

json_t *ctl_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{ss}", "error", msg);
}

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

void ctl_req_subscribe(struct ctl_req *r)
{
	r->k->subscribed = true;
}

/* The RPC error code of a method's status. */
static int rpc_code(int status)
{
	static const struct { int status, code; } map[] = {
		{ CTL_PARAMS, RPC_E_PARAMS },
		{ CTL_DENIED, RPC_E_DENIED },
		{ CTL_NOTFOUND, RPC_E_NOTFOUND },
		{ CTL_CONFLICT, RPC_E_CONFLICT },
		{ CTL_UNAUTH, RPC_E_UNAUTH },
		{ CTL_SETUP, RPC_E_SETUP },
		{ CTL_LIMIT, RPC_E_LIMIT },
		{ CTL_INVALID, RPC_E_INVALID },
		{ CTL_BUSY, RPC_E_BUSY },
	};

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].status == status)
			return map[i].code;
	return RPC_E_FAILED;
}

/* The answer to a method that returned status with res (stolen). An
 * apply that failed answers with its details as a result (the CLI
 * prints them); every other failure is an error whose data is what res
 * holds besides "error". */
static json_t *answer_of(json_t *id, int status, json_t *res)
{
	json_t *ans, *data;
	const char *msg;

	if (status >= 0 || json_object_get(res, "components"))
		return rpc_result(id, res);
	msg = json_string_value(json_object_get(res, "error"));
	ans = rpc_error(id, rpc_code(status), "%s", msg ? msg : "failed");
	data = json_deep_copy(res);
	json_object_del(data, "error");
	if (json_object_size(data))
		json_object_set(json_object_get(ans, "error"), "data", data);
	json_decref(data);
	json_decref(res);
	return ans;
}

static void send_answer(struct ctl_conn *k, json_t *id, const char *name,
			json_t *ans)
{
	if (send_msg(k, ans) < 0) {
		json_decref(ans);
		ans = rpc_error(id, RPC_E_FAILED, "%s: the answer is over %u "
				"bytes", name ? name : "request", RPC_MAX_FRAME);
		send_msg(k, ans);
	}
	json_decref(ans);
}

/* Refuses a request; the tenth refusal on a connection closes it (a
 * caller that keeps trying cannot fill the audit log). 1 when closed. */
static int deny(struct ctl_conn *k, json_t *id, const char *name,
		const struct ctl_caller *who)
{
	json_t *ans;
	char d[128];

	snprintf(d, sizeof(d), "method %s", name);
	ctl_audit(k->c, who, "denied", d, "permission denied");
	ans = rpc_error(id, RPC_E_DENIED, "%s: permission denied", name);
	if (++k->denials < 10) {
		send_answer(k, id, name, ans);
		return 0;
	}
	send_msg(k, ans);
	json_decref(ans);
	ctl_log("%s: 10 refused requests: closing the connection",
		k->who.origin);
	conn_close(k);
	return 1;
}

/* A request api passed on that its credentials do not allow (the role,
 * the CSRF token): audited, at most API_REFUSALS_PER_S a second, so that
 * a client repeating it cannot fill the disk (api's connection is not
 * closed for it: the refusal is the client's, not api's). */
#define API_REFUSALS_PER_S 10

static void audit_api_refusal(struct ctl *c, const struct ctl_caller *who,
			      const char *method, const char *why)
{
	static long long sec;
	static unsigned n, dropped;
	long long now = ctl_now_ms() / 1000;
	char d[160];

	if (now != sec) {
		if (dropped)
			ctl_log("api: %u refusals not audited (over %d a "
				"second)", dropped, API_REFUSALS_PER_S);
		sec = now;
		n = dropped = 0;
	}
	if (n++ >= API_REFUSALS_PER_S) {
		dropped++;
		return;
	}
	snprintf(d, sizeof(d), "method %.64s: %s", method,
		 !strcmp(why, "csrf") ? "no valid CSRF token" :
		 "the role does not allow it");
	ctl_audit(c, who, "denied", d, "permission denied");
}

static void dispatch(struct ctl_conn *k, json_t *msg)
{
	struct ctl *c = k->c;
	struct ctl_req r = { .c = c, .k = k, .who = k->who };
	const struct ctl_method *m = NULL;
	const char *name = NULL;
	json_t *params, *res = NULL;
	char err[256];
	int st;

	if (rpc_request(msg, &r.id, &name, &params, err, sizeof(err)) < 0) {
		send_answer(k, NULL, NULL, rpc_error(json_object_get(msg,
			    "id"), RPC_E_REQUEST, "%s", err));
		return;
	}
	m = find_method(name);
	if (!m) {
		send_answer(k, r.id, name, rpc_error(r.id, RPC_E_METHOD,
			    "no method \"%.64s\"", name));
		return;
	}
	/* api: the method must allow it, and the credentials the request
	 * names decide who it is; checked here whatever api checked */
	if (k->who.from_api) {
		if (!(m->flags & (M_API | M_PUBLIC))) {
			deny(k, r.id, m->name, &r.who);
			return;
		}
		if (!(m->flags & M_PUBLIC)) {
			st = ctl_auth_resolve(&r, m, json_object_get(msg,
					      "auth"), &res);
			if (st == CTL_DENIED)
				audit_api_refusal(c, &r.who, name, "csrf");
			if (st != CTL_OK) {
				send_answer(k, r.id, name,
					    answer_of(r.id, st, res));
				return;
			}
		} else {
			const char *src = json_string_value(json_object_get(
				json_object_get(msg, "auth"), "source"));

			snprintf(r.source, sizeof(r.source), "%.63s",
				 src ? src : "?");
			snprintf(r.who.origin, sizeof(r.who.origin),
				 "api %.59s", r.source);
		}
	}
	if (r.who.role < m->role) {
		if (k->who.from_api) {
			audit_api_refusal(c, &r.who, name, "role");
			send_answer(k, r.id, name, rpc_error(r.id,
				    RPC_E_DENIED, "%s needs the %s role",
				    name, store_role_name((enum store_role)
				    m->role)));
		} else {
			deny(k, r.id, m->name, &r.who);
		}
	} else if (!c->cur || (c->stopping && strcmp(m->name, "health"))) {
		/* a stopping ctl still answers its api's health checks: api
		 * is finishing what it holds (a takeover) */
		send_answer(k, r.id, name, rpc_error(r.id, RPC_E_BUSY,
			    "ctl is stopping"));
	} else {
		st = m->fn(&r, params, &res);
		if (st != CTL_ANSWERED && st != CTL_ASYNC)
			send_answer(k, r.id, name, answer_of(r.id, st, res));
	}
	/* a kept request (CTL_ASYNC) has its own copy */
	sodium_memzero(r.session, sizeof(r.session));
	sodium_memzero(r.csrf, sizeof(r.csrf));
}

struct ctl_req *ctl_req_keep(const struct ctl_req *r)
{
	struct ctl_req *copy = xmalloc(sizeof(*copy));

	*copy = *r;
	copy->id = json_incref(r->id);
	r->k->refs++;
	return copy;
}

static void conn_unref(struct ctl_conn *k);

void ctl_req_answer(struct ctl_req *r, int status, json_t *res)
{
	struct ctl_conn *k = r->k;

	if (!k->closing)
		send_answer(k, r->id, NULL, answer_of(r->id, status,
			    res));
	else
		json_decref(res);
	json_decref(r->id);
	sodium_memzero(r->session, sizeof(r->session));
	sodium_memzero(r->csrf, sizeof(r->csrf));
	free(r);
	conn_unref(k);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char buf[65536];

	(void)h;
	(void)hint;
	*b = uv_buf_init(buf, sizeof(buf));
}

static void conn_free(struct ctl_conn *k)
{
	rpc_reader_free(&k->rd);
	free(k);
}

/* A closed connection is freed once no kept request points to it. */
static void on_closed(uv_handle_t *h)
{
	struct ctl_conn *k = h->data;

	k->h.data = NULL;
	if (!k->refs)
		conn_free(k);
}

static void conn_unref(struct ctl_conn *k)
{
	if (--k->refs == 0 && k->closing && !k->h.data)
		conn_free(k);
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
