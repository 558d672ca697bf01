/* The REST API's request layer: a request's life in MHD (head, body,
 * answer), the route tables, the client's credentials passed to ctl, and
 * the answers (JSON, errors as wgrest shapes them, headers).
 *
 * api decides nothing about who may do what: it passes the credentials
 * it was given to ctl with each call, and ctl answers 401, 403 or 428
 * itself (ctl/auth.c). api refuses only what is malformed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <sodium.h>

#include "api/internal.h"
#include "api/openapi.h"
#include "base/util.h"

/* A body larger than its route allows is refused with 413 at once. */
#define API_BODY_DEFAULT ((size_t)64 * 1024)

static const struct api_route *const tables[] = {
	api_core_routes,
	api_auth_routes,
	api_wg_routes,
	api_config_routes,
	api_ws_routes,
	api_metrics_routes,
};

/* ---- answers ---- */

/* wgrest's error codes are strings. */
static const char *code_name(unsigned status)
{
	static const struct { unsigned status; const char *name; } names[] = {
		{ 400, "invalid_request" }, { 401, "unauthorized" },
		{ 403, "forbidden" }, { 404, "not_found" },
		{ 405, "method_not_allowed" }, { 409, "conflict" },
		{ 413, "payload_too_large" }, { 414, "uri_too_long" },
		{ 415, "unsupported_media_type" },
		{ 422, "invalid_config" }, { 428, "setup_required" },
		{ 429, "too_many_requests" }, { 500, "internal_error" },
		{ 503, "unavailable" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].status == status)
			return names[i].name;
	return "error";
}

static void set_response(struct api_req *q, unsigned status,
			 struct MHD_Response *resp)
{
	if (q->resp)
		MHD_destroy_response(q->resp);
	q->resp = resp;
	q->status = status;
}

void api_reply_data(struct api_req *q, unsigned status, const char *type,
		    const void *data, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len,
		(void *)data, MHD_RESPMEM_MUST_COPY);

	if (!resp) {
		set_response(q, 500, NULL);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	set_response(q, status, resp);
}

void api_reply(struct api_req *q, unsigned status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	if (!text) {
		set_response(q, 500, NULL);
		return;
	}
	api_reply_data(q, status, "application/json", text, strlen(text));
	free(text);
}

void api_reply_error(struct api_req *q, unsigned status, const char *detail,
		     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *e;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e = json_pack("{ssss}", "code", code_name(status), "message", msg);
	/* a message quoting a client's bytes may not be UTF-8 */
	if (!e)
		e = json_pack("{ssss}", "code", code_name(status), "message",
			      "invalid request");
	if (e && detail && *detail && json_object_set_new(e, "detail",
				json_string(detail)) < 0)
		json_object_set_new(e, "detail", json_string("?"));
	api_reply(q, status, e);
}

void api_header(struct api_req *q, const char *name, const char *value)
{
	if (q->nheaders == API_MAX_HEADERS) {
		api_log("%s %s: too many headers; %s dropped", q->method,
			q->path, name);
		return;
	}
	q->headers[q->nheaders][0] = xstrdup(name);
	q->headers[q->nheaders++][1] = xstrdup(value);
}

/* ---- ctl ---- */

unsigned api_status_of(const json_t *error)
{
	static const struct { int code; unsigned status; } map[] = {
		{ RPC_E_PARAMS, 400 }, { RPC_E_UNAUTH, 401 },
		{ RPC_E_DENIED, 403 }, { RPC_E_NOTFOUND, 404 },
		{ RPC_E_CONFLICT, 409 }, { RPC_E_INVALID, 422 },
		{ RPC_E_SETUP, 428 }, { RPC_E_LIMIT, 429 },
		{ RPC_E_BUSY, 503 },
	};
	json_int_t code = json_integer_value(json_object_get(error, "code"));

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (map[i].code == code)
			return map[i].status;
	return 500;
}

json_t *api_call_raw(struct api_req *q, const char *method, json_t *params,
		     int timeout_ms)
{
	return api_rpc_call(q->a, method, params, q->auth, timeout_ms);
}

/* Answers ctl's error e: its status, message and data. */
static void reply_ctl_error(struct api_req *q, const json_t *e)
{
	unsigned status = api_status_of(e);
	const char *msg = json_string_value(json_object_get(e, "message"));
	json_t *data = json_object_get(e, "data");
	json_t *body = json_pack("{ssss}", "code", code_name(status),
				 "message", msg ? msg : "failed");
	json_t *retry = json_object_get(data, "retry_after_ms");

	if (json_is_integer(retry)) {
		char s[32];

		snprintf(s, sizeof(s), "%lld", (long long)
			 ((json_integer_value(retry) + 999) / 1000));
		api_header(q, MHD_HTTP_HEADER_RETRY_AFTER, s);
	}
	if (body && json_is_object(data))
		json_object_update(body, data);
	api_reply(q, status, body);
}

json_t *api_call(struct api_req *q, const char *method, json_t *params,
		 int timeout_ms)
{
	json_t *ans = api_call_raw(q, method, params, timeout_ms);
	json_t *res;

	if (!ans) {
		api_reply_error(q, 503, NULL, "ctl did not answer");
		return NULL;
	}
	res = json_object_get(ans, "result");
	if (!res) {
		reply_ctl_error(q, json_object_get(ans, "error"));
		json_decref(ans);
		return NULL;
	}
	json_incref(res);
	json_decref(ans);
	return res;
}

/* ---- the request ---- */

size_t api_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return route_unescape(s);
}

/* Whether the request says its body is JSON. A browser sends a form or
 * text/plain cross-site without asking (a "simple" request): refusing
 * every other type keeps such a page from logging in or setting up a
 * gateway in the user's name. */
static bool json_typed(struct api_req *q)
{
	const char *t = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");

	return t && !strncasecmp(t, "application/json", n) &&
	       (t[n] == '\0' || t[n] == ';' || t[n] == ' ');
}

json_t *api_body(struct api_req *q, const struct body_field *schema)
{
	struct body_error e;
	json_t *o;

	if (q->body.len && !json_typed(q)) {
		api_reply_error(q, 415, NULL, "the body must be JSON, sent as "
				"Content-Type: application/json");
		return NULL;
	}
	o = body_parse(q->body.p ? q->body.p : "", q->body.len, q->body_max,
		       schema, &e);
	if (!o)
		api_reply_error(q, (unsigned)e.status, e.field, "%s",
				e.message);
	return o;
}

const char *api_query(struct api_req *q, const char *name)
{
	return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

const char *api_param(const struct api_req *q, size_t i)
{
	return i < q->m.nparams ? q->m.params[i] : "";
}

static void client_addr(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
			  sa)->sin_addr, host, sizeof(host));
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
			  (const void *)sa)->sin6_addr, host, sizeof(host));
	snprintf(out, n, "%s", host);
}

/* MHD answers a TLS session only for a connection of an HTTPS daemon
 * (the daemon itself would not do: a pool's worker is not its master). */
static bool conn_tls(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_GNUTLS_SESSION);

	return ci && ci->tls_session;
}

/* The credentials the client sent, for ctl: a Bearer token, or the
 * session cookie with the CSRF header. Values are passed as they are;
 * ctl decides. */
static json_t *credentials(struct api_req *q)
{
	const char *authz = MHD_lookup_connection_value(q->conn,
		MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = MHD_lookup_connection_value(q->conn,
		MHD_COOKIE_KIND, API_SESSION_COOKIE);
	const char *csrf = MHD_lookup_connection_value(q->conn,
		MHD_HEADER_KIND, "X-CSRF-Token");
	json_t *auth = json_pack("{ss}", "source", q->source);

	if (authz && !strncasecmp(authz, "Bearer ", 7)) {
		const char *t = authz + 7;

		while (*t == ' ')
			t++;
		json_object_set_new(auth, "token", json_string(t));
	} else if (cookie) {
		json_object_set_new(auth, "session", json_string(cookie));
		if (csrf)
			json_object_set_new(auth, "csrf", json_string(csrf));
		q->cookie_session = true;
	}
	/* a value that is not UTF-8 was not set: no credentials */
	return auth;
}

/* Queues q's answer with the headers every answer has. */
static enum MHD_Result send_answer(struct api_req *q)
{
	enum MHD_Result ret;

	if (!q->resp) {
		q->status = 0;
		api_reply_error(q, 500, NULL, "no answer was made");
		if (!q->resp)
			return MHD_NO;	/* out of memory: drop it */
	}
	MHD_add_response_header(q->resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	MHD_add_response_header(q->resp, "X-Content-Type-Options",
				"nosniff");
	MHD_add_response_header(q->resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(q->resp, "Referrer-Policy", "no-referrer");
	for (size_t i = 0; i < q->nheaders; i++)
		MHD_add_response_header(q->resp, q->headers[i][0],
					q->headers[i][1]);
	if (q->status == 405 && q->m.allow[0])
		MHD_add_response_header(q->resp, MHD_HTTP_HEADER_ALLOW,
					q->m.allow);
	/* exiting: the client is to come back on a new connection, which
	 * the next api will take */
	if (atomic_load(&q->a->draining))
		MHD_add_response_header(q->resp, MHD_HTTP_HEADER_CONNECTION,
					"close");
	ret = MHD_queue_response(q->conn, q->status, q->resp);
	MHD_destroy_response(q->resp);
	q->resp = NULL;
	return ret;
}

static bool has_credentials(struct api_req *q)
{
	const char *authz = MHD_lookup_connection_value(q->conn,
		MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	return (authz && !strncasecmp(authz, "Bearer ", 7)) ||
	       MHD_lookup_connection_value(q->conn, MHD_COOKIE_KIND,
					   API_SESSION_COOKIE);
}

/* 428 before setup, else 401, as ctl would answer a request with no
 * credentials (it is asked which). */
static void refuse_anonymous(struct api_req *q)
{
	json_t *ans = api_rpc_call(q->a, "setup.status", json_object(), NULL,
				   API_RPC_TIMEOUT_MS);
	json_t *done = json_object_get(json_object_get(ans, "result"),
				       "setup_done");

	if (!ans)
		api_reply_error(q, 503, NULL, "ctl did not answer");
	else if (json_is_false(done))
		api_reply_error(q, 428, NULL, "setup is not done: create the "
				"first admin with POST /api/setup/create-admin");
	else
		api_reply_error(q, 401, NULL, "authentication required: log "
				"in, or send \"Authorization: Bearer TOKEN\"");
	json_decref(ans);
}

/* The route for the head just read, or an answer right away (400, 404,
 * 405, 413, 414): false when answered. */
static bool route_head(struct api_req *q)
{
	const char *why, *len;
	int r;

	if (!route_path_ok(q->path, &why)) {
		api_reply_error(q, strlen(q->path) > ROUTE_PATH_MAX ? 414 : 400,
				NULL, "%s", why);
		return false;
	}
	r = route_find(tables, ARRAY_SIZE(tables), q->method, q->path, &q->m);
	if (r == 404) {
		api_reply_error(q, 404, NULL, "no such path");
		return false;
	}
	if (r == 405) {
		api_reply_error(q, 405, NULL, "%s is not allowed here (%s)",
				q->method, q->m.allow);
		return false;
	}
	if (r != 200) {
		api_reply_error(q, 400, NULL, "a path parameter is too long");
		return false;
	}
	q->body_max = q->m.route->body_max;
	len = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
					  MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len && strtoull(len, NULL, 10) > q->body_max) {
		if (q->body_max)
			api_reply_error(q, 413, NULL, "the body is over %zu "
					"bytes", q->body_max);
		else
			api_reply_error(q, 413, NULL, "%s %s takes no body",
					q->method, q->m.route->pattern);
		return false;
	}
	/* a body with no credentials at all is not read: ctl would refuse
	 * it anyway, and a megabyte per connection is a megabyte */
	if (!(q->m.route->flags & R_PUBLIC) && ((len && strcmp(len, "0")) ||
	    MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_TRANSFER_ENCODING)) && !has_credentials(q)) {
		refuse_anonymous(q);
		return false;
	}
	return true;
}

enum MHD_Result api_http_request(void *cls, struct MHD_Connection *c,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_size, void **req)
{
	struct api *a = cls;
	struct api_req *q = *req;

	if (!q) {
		q = xcalloc(1, sizeof(*q));
		q->a = a;
		q->conn = c;
		q->method = method;
		q->path = url;
		q->body = (struct buf)BUF_INIT;
		clock_gettime(CLOCK_MONOTONIC, &q->start);
		*req = q;
		atomic_fetch_add(&a->inflight, 1);
		api_conn_used(a, c);
		/* an early answer: MHD sends it and closes the connection
		 * rather than read a body no one wants */
		if (!route_head(q))
			return send_answer(q);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!q->too_big && q->body.len + *upload_size <= q->body_max)
			buf_add(&q->body, upload, *upload_size);
		else
			q->too_big = true;
		*upload_size = 0;
		return MHD_YES;
	}
	if (q->status)
		return MHD_YES;	/* answered early */
	if (q->too_big) {
		api_reply_error(q, 413, NULL, "the body is over %zu bytes",
				q->body_max);
		return send_answer(q);
	}
	client_addr(c, q->source, sizeof(q->source));
	q->tls = conn_tls(c);
	q->auth = credentials(q);
	q->m.route->fn(q);
	return send_answer(q);
}

void api_http_done(void *cls, struct MHD_Connection *c, void **req,
		   enum MHD_RequestTerminationCode why)
{
	struct api *a = cls;
	struct api_req *q = *req;

	if (!q)
		return;
	atomic_fetch_sub(&a->inflight, 1);
	api_metrics_done(q);
	if (q->resp)
		MHD_destroy_response(q->resp);
	for (size_t i = 0; i < q->nheaders; i++) {
		free(q->headers[i][0]);
		/* a Set-Cookie holds a session token */
		sodium_memzero(q->headers[i][1], strlen(q->headers[i][1]));
		free(q->headers[i][1]);
	}
	json_decref(q->auth);
	/* a body may hold a password or a key */
	if (q->body.p)
		sodium_memzero(q->body.p, q->body.len);
	buf_free(&q->body);
	free(q);
	*req = NULL;
}

/* ---- the core routes ---- */

static char *openapi_text;

static void make_openapi(void)
{
	json_t *doc = openapi_doc(tables, ARRAY_SIZE(tables), MOAT_VERSION);

	openapi_text = doc ? json_dumps(doc, JSON_INDENT(1) |
					JSON_SORT_KEYS) : NULL;
	json_decref(doc);
}

/* Notes when ctl stops or starts answering: one line per change, not per
 * request. */
static void note_ctl(struct api *a, bool ok, json_t *answer)
{
	json_t *e = json_object_get(answer, "error");
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (atomic_exchange(&a->ctl_ok, ok) == (int)ok)
		return;
	if (ok)
		api_log("health: ctl answers");
	else if (e)
		api_log("health: ctl answered an error: %s", msg ? msg : "?");
	else
		api_log("health: ctl does not answer (%d ms)",
			API_RPC_TIMEOUT_MS);
}

/* How long ctl's good health answer stands for the next /health: a
 * monitor polling many times a second does not cost ctl a message each
 * time, and ctl gone is still seen within this. */
#define HEALTH_CACHE_NS 100000000LL

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* GET /health: 200 when ctl answers its health RPC, else 503. No
 * credentials, before setup too. */
static void get_health(struct api_req *q)
{
	static atomic_llong good_at;
	long long now = mono_ns(), last = atomic_load(&good_at);
	json_t *ans;
	bool ok;

	if (last && now - last < HEALTH_CACHE_NS) {
		api_reply(q, 200, json_pack("{ssso}", "status", "ok", "ctl",
					    json_true()));
		return;
	}
	ans = api_rpc_call(q->a, "health", json_object(), NULL,
			   API_RPC_TIMEOUT_MS);
	ok = json_object_get(ans, "result") != NULL;
	atomic_store(&good_at, ok ? mono_ns() : 0);
	note_ctl(q->a, ok, ans);
	json_decref(ans);
	api_reply(q, ok ? 200 : 503, json_pack("{ssso}", "status", ok ? "ok" :
						"degraded", "ctl",
						json_boolean(ok)));
}

/* GET /api/status: ctl's status. */
static void get_status(struct api_req *q)
{
	json_t *r = api_call(q, "status", json_object(), API_RPC_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

/* GET /api/openapi.json: made once from the route tables. */
static void get_openapi(struct api_req *q)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, make_openapi);
	if (!openapi_text) {
		api_reply_error(q, 500, NULL, "the document could not be made");
		return;
	}
	api_reply_data(q, 200, "application/json", openapi_text,
		       strlen(openapi_text));
}

const struct api_route api_core_routes[] = {
	{ "GET", "/health", get_health, R_PUBLIC, 0,
	  "Whether api and ctl answer" },
	{ "GET", "/api/openapi.json", get_openapi, R_PUBLIC, 0,
	  "This document: OpenAPI 3.0, every route" },
	{ "GET", "/api/status", get_status, 0, 0,
	  "The gateway's status: components, revision, monitor" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
