/* The REST API's authentication, decided in ctl: api passes the HTTP
 * client's credentials with each request and ctl finds who they stand
 * for (ctl_auth_resolve). Setup, login, logout, password changes, users
 * and API tokens are methods here.
 *
 * argon2id takes about a tenth of a second and 64 MiB, too long for the
 * loop: the methods that hash a password run as jobs on libuv's thread
 * pool, one at a time (a flood of logins queues instead of taking the
 * memory of many), on a store connection of their own. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/util.h"
#include "config/addr.h"
#include "config/config.h"
#include "ctl/method.h"
#include "store/auth.h"
#include "store/store.h"

#define SESSION_TIMEOUT_MS (12 * 3600 * 1000LL)
#define SESSION_IDLE_MS (30 * 60 * 1000LL)
/* Password jobs waiting beyond this are refused (503): each would cost
 * argon2's time in turn. */
#define AUTH_QUEUE_MAX 32u

enum job_kind { JOB_LOGIN, JOB_CREATE_USER, JOB_SETUP, JOB_PASSWORD };

/* A password job: its inputs, copied (the request's JSON is gone by the
 * time it runs), and its outcome. */
struct auth_job {
	uv_work_t w;
	struct ctl_auth *a;
	struct ctl_req *req;
	enum job_kind kind;
	char name[STORE_USER_NAME_MAX + 1];
	char *password, *new_password;	/* wiped and freed */
	enum store_role role;
	long long user_id;
	char session[STORE_SECRET_SIZE];	/* JOB_PASSWORD: kept */
	char source[64];
	long long now_ms;
	long long max_age_ms, idle_ms;	/* JOB_LOGIN: the session's */
	/* out */
	int status;
	json_t *res;
	struct auth_job *next;
};

struct ctl_auth {
	struct ctl *c;
	struct store *db;		/* the jobs' own connection */
	struct auth_job *head, *tail;	/* waiting; head runs */
	unsigned queued;
	bool running;
	bool setup_done;		/* once true, stays true */
};

static void secret_free(char **p)
{
	if (*p) {
		sodium_memzero(*p, strlen(*p));
		free(*p);
	}
	*p = NULL;
}

/* The api block's session lifetimes. */
static void session_limits(struct ctl *c, long long *absolute, long long *idle)
{
	const struct moat_config *cfg = c->cur ? c->cur->cfg : NULL;
	const struct cfg_api *api = cfg && cfg->api.n ? cfg->api.v : NULL;

	*absolute = SESSION_TIMEOUT_MS;
	*idle = SESSION_IDLE_MS;
	if (api && api->session_timeout.v)
		duration_parse(api->session_timeout.v, absolute);
	if (api && api->session_idle_timeout.v)
		duration_parse(api->session_idle_timeout.v, idle);
}

static struct ctl_auth *auth_of(struct ctl *c)
{
	if (!c->auth) {
		c->auth = xcalloc(1, sizeof(*c->auth));
		c->auth->c = c;
	}
	return c->auth;
}

bool ctl_setup_done(struct ctl *c)
{
	struct ctl_auth *a = auth_of(c);

	if (!a->setup_done && store_setup_done(c->store) == 1)
		a->setup_done = true;
	return a->setup_done;
}

/* --- who asks ------------------------------------------------------------ */

int ctl_auth_resolve(struct ctl_req *r, const struct ctl_method *m,
		     json_t *auth, json_t **res)
{
	struct ctl *c = r->c;
	const char *session = json_string_value(json_object_get(auth,
						"session"));
	const char *csrf = json_string_value(json_object_get(auth, "csrf"));
	const char *token = json_string_value(json_object_get(auth, "token"));
	const char *src = json_string_value(json_object_get(auth, "source"));
	long long absolute, idle, now = ctl_now_ms();
	struct store_session sess;
	enum store_role role;
	char name[STORE_USER_NAME_MAX + 1];
	int st;

	snprintf(r->source, sizeof(r->source), "%.63s", src ? src : "?");
	snprintf(r->who.origin, sizeof(r->who.origin), "api %.59s",
		 r->source);
	if (!ctl_setup_done(c)) {
		*res = ctl_err("setup is not done: create the first admin "
			       "with POST /api/setup/create-admin");
		return CTL_SETUP;
	}
	/* a Bearer token first: a browser cannot send one cross-site, so
	 * it needs no CSRF token */
	if (token && *token) {
		st = store_token_check(c->store, token, now, &r->token_id,
				       &role, name);
		if (st != 0) {
			*res = ctl_err(st < 0 ? "the credential store failed" :
				       "the API token is not valid (unknown "
				       "or revoked)");
			return st < 0 ? CTL_FAILED : CTL_UNAUTH;
		}
		snprintf(r->who.who, sizeof(r->who.who), "token %lld (%.40s)",
			 r->token_id, name);
		r->who.role = (enum ctl_role)role;
		return CTL_OK;
	}
	if (!session || !*session) {
		*res = ctl_err("authentication required: log in, or send "
			       "\"Authorization: Bearer TOKEN\"");
		return CTL_UNAUTH;
	}
	session_limits(c, &absolute, &idle);
	/* "recheck": api checking an open WebSocket's credentials, which
	 * is not a use of the session */
	st = (json_is_true(json_object_get(auth, "recheck")) ?
	      store_session_peek : store_session_check)(c->store, session,
							idle, absolute, now,
							&sess);
	if (st != 0) {
		*res = ctl_err(st < 0 ? "the credential store failed" :
			       "the session has ended: log in again");
		return st < 0 ? CTL_FAILED : CTL_UNAUTH;
	}
	if ((m->flags & M_MUTATES) &&
	    !store_session_csrf_ok(&sess, csrf ? csrf : "")) {
		*res = ctl_err("a change needs the header X-CSRF-Token with "
			       "the session's CSRF token");
		return CTL_DENIED;
	}
	snprintf(r->who.who, sizeof(r->who.who), "%s", sess.name);
	r->who.role = (enum ctl_role)sess.role;
	r->user_id = sess.user_id;
	snprintf(r->session, sizeof(r->session), "%.43s", session);
	memcpy(r->csrf, sess.csrf, sizeof(r->csrf));
	sodium_memzero(&sess, sizeof(sess));
	return CTL_OK;
}

/* --- password jobs ------------------------------------------------------- */

/* The backoff's key for a source address: an IPv6 client usually has a
 * whole /64 to pick addresses from, so the /64 is the source. */
static void source_key(const char *src, char *out, size_t n)
{
	struct in6_addr a;
	char txt[INET6_ADDRSTRLEN];

	if (strchr(src, ':') && inet_pton(AF_INET6, src, &a) == 1 &&
	    !IN6_IS_ADDR_V4MAPPED(&a)) {
		memset(a.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &a, txt, sizeof(txt));
		snprintf(out, n, "src:%s/64", txt);
		return;
	}
	snprintf(out, n, "src:%.70s", src);
}

static void job_login(struct auth_job *j)
{
	struct store *s = j->a->db;
	char key_user[16 + STORE_USER_NAME_MAX], key_src[80];
	char token[STORE_SECRET_SIZE], csrf[STORE_SECRET_SIZE], err[256];
	long long wait_user, wait_src, wait, uid = 0;
	enum store_role role = STORE_VIEWER;
	int r;

	snprintf(key_user, sizeof(key_user), "user:%s", j->name);
	source_key(j->source, key_src, sizeof(key_src));
	wait_user = store_login_wait_ms(s, key_user, j->now_ms);
	wait_src = store_login_wait_ms(s, key_src, j->now_ms);
	if (wait_user < 0 || wait_src < 0) {
		j->status = CTL_FAILED;
		j->res = ctl_err("the credential store failed");
		return;
	}
	wait = wait_user > wait_src ? wait_user : wait_src;
	if (wait > 0) {
		/* not counted as a failure: it was not tried */
		j->status = CTL_LIMIT;
		j->res = json_pack("{sssI}", "error", "too many failed logins: "
				   "wait before trying again",
				   "retry_after_ms", (json_int_t)wait);
		return;
	}
	r = store_user_check(s, j->name, j->password, &uid, &role);
	if (r < 0) {
		j->status = CTL_FAILED;
		j->res = ctl_err("the credential store failed");
		return;
	}
	if (r > 0) {
		store_login_failed(s, key_user, j->now_ms);
		store_login_failed(s, key_src, j->now_ms);
		j->status = CTL_UNAUTH;
		j->res = ctl_err("wrong user name or password");
		return;
	}
	store_login_ok(s, key_user);
	store_login_ok(s, key_src);
	/* sessions nobody presents again are only deleted here */
	if (store_session_prune(s, j->idle_ms, j->max_age_ms, j->now_ms) < 0)
		ctl_log("auth: pruning ended sessions failed");
	if (store_session_create(s, uid, j->source, token, csrf, err,
				 sizeof(err)) < 0) {
		j->status = CTL_FAILED;
		j->res = ctl_err("%s", err);
		return;
	}
	j->user_id = uid;
	j->role = role;
	j->res = json_pack("{sssssssssIsI}", "session", token, "csrf_token",
			   csrf, "user", j->name, "role", store_role_name(role),
			   "user_id", (json_int_t)uid, "max_age_s",
			   (json_int_t)(j->max_age_ms / 1000));
	sodium_memzero(token, sizeof(token));
	sodium_memzero(csrf, sizeof(csrf));
}

static void job_create(struct auth_job *j)
{
	char err[256];
	int r = store_user_create(j->a->db, j->name, j->password, j->role,
				  j->kind == JOB_SETUP, err, sizeof(err));

	if (r == 0) {
		j->res = json_pack("{ssss}", "user", j->name, "role",
				   store_role_name(j->role));
		return;
	}
	j->res = ctl_err("%s", err);
	if (r < 0)
		j->status = CTL_FAILED;
	else if (strstr(err, "already"))
		j->status = CTL_CONFLICT;	/* name taken, setup done */
	else
		j->status = CTL_PARAMS;
}

static void job_password(struct auth_job *j)
{
	char err[256];
	int r = store_user_password(j->a->db, j->user_id, j->password,
				    j->new_password, j->session, err,
				    sizeof(err));

	if (r == 0) {
		j->res = json_pack("{sb}", "ok", 1);
		return;
	}
	j->status = r < 0 ? CTL_FAILED : strstr(err, "old password") ?
		    CTL_DENIED : CTL_PARAMS;
	j->res = ctl_err("%s", err);
}

/* On a pool thread: the store calls that hash. */
static void job_work(uv_work_t *w)
{
	struct auth_job *j = w->data;

	switch (j->kind) {
	case JOB_LOGIN:
		job_login(j);
		break;
	case JOB_SETUP:
	case JOB_CREATE_USER:
		job_create(j);
		break;
	case JOB_PASSWORD:
		job_password(j);
		break;
	}
}

static void job_next(struct ctl_auth *a);

static const char *job_action(enum job_kind k)
{
	static const char *const names[] = {
		[JOB_LOGIN] = "auth.login",
		[JOB_CREATE_USER] = "users.create",
		[JOB_SETUP] = "setup.create_admin",
		[JOB_PASSWORD] = "auth.password",
	};

	return names[k];
}

/* Back on the loop: audit, answer, next job. */
static void job_done(uv_work_t *w, int status)
{
	struct auth_job *j = w->data;
	struct ctl_auth *a = j->a;
	struct ctl_req *r = j->req;
	const char *e = json_string_value(json_object_get(j->res, "error"));
	char detail[160];

	if (status < 0 && !j->res) {
		j->status = CTL_FAILED;
		j->res = ctl_err("cancelled");
	}
	if (j->kind == JOB_LOGIN) {
		/* who logged in is the user, whoever the caller was */
		snprintf(r->who.who, sizeof(r->who.who), "%s", j->name);
		snprintf(detail, sizeof(detail), "user %s", j->name);
	} else {
		snprintf(detail, sizeof(detail), "user %s%s%s", j->name,
			 j->kind == JOB_PASSWORD ? "" : " role ",
			 j->kind == JOB_PASSWORD ? "" :
			 store_role_name(j->role));
	}
	ctl_audit(a->c, &r->who, job_action(j->kind), detail,
		  j->status == CTL_OK ? "ok" : e ? e : "failed");
	if ((j->kind == JOB_SETUP) && j->status == CTL_OK)
		a->setup_done = true;
	if (j->status == CTL_OK && j->kind == JOB_LOGIN)
		ctl_event(a->c, "auth.login", json_pack("{ssss}", "user",
			  j->name, "source", j->source));
	ctl_req_answer(r, j->status, j->res);
	secret_free(&j->password);
	secret_free(&j->new_password);
	sodium_memzero(j->session, sizeof(j->session));
	a->head = j->next;
	if (!a->head)
		a->tail = NULL;
	a->queued--;
	a->running = false;
	free(j);
	job_next(a);
}

static void job_next(struct ctl_auth *a)
{
	char err[256];

	if (a->running || !a->head)
		return;
	if (!a->db && !(a->db = store_open(a->c->state_dir, err,
					   sizeof(err)))) {
		ctl_log("auth: %s", err);
		/* answered as failed, one by one */
		a->head->status = CTL_FAILED;
		a->head->res = ctl_err("the credential store cannot be "
				       "opened");
		a->running = true;
		job_done(&a->head->w, 0);
		return;
	}
	a->running = true;
	a->head->w.data = a->head;
	if (uv_queue_work(a->c->loop, &a->head->w, job_work, job_done) < 0)
		job_done(&a->head->w, -1);
}

/* Queues a job for r; CTL_ASYNC, or CTL_BUSY with *res when too many
 * wait. */
static int job_submit(struct ctl_req *r, struct auth_job *j, json_t **res)
{
	struct ctl_auth *a = auth_of(r->c);

	if (a->queued >= AUTH_QUEUE_MAX) {
		secret_free(&j->password);
		secret_free(&j->new_password);
		free(j);
		*res = ctl_err("too many password checks under way: try "
			       "again shortly");
		return CTL_BUSY;
	}
	j->a = a;
	j->req = ctl_req_keep(r);
	j->now_ms = ctl_now_ms();
	snprintf(j->source, sizeof(j->source), "%s", r->source);
	if (a->tail)
		a->tail->next = j;
	else
		a->head = j;
	a->tail = j;
	a->queued++;
	job_next(a);
	return CTL_ASYNC;
}

static struct auth_job *job_new(enum job_kind kind, const char *name,
				const char *password)
{
	struct auth_job *j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	snprintf(j->name, sizeof(j->name), "%.64s", name ? name : "");
	j->password = xstrdup(password ? password : "");
	return j;
}

void ctl_auth_free(struct ctl *c)
{
	if (!c->auth)
		return;
	/* ctl's loop has ended: no job is under way */
	if (c->auth->db)
		store_close(c->auth->db);
	free(c->auth);
	c->auth = NULL;
}

/* --- methods ------------------------------------------------------------- */

static int m_setup_status(struct ctl_req *r, json_t *p, json_t **res)
{
	*res = json_pack("{sb}", "setup_done", ctl_setup_done(r->c));
	return CTL_OK;
}

/* {"name", "password"}: the first admin, once. */
static int m_setup_create(struct ctl_req *r, json_t *p, json_t **res)
{
	const char *name, *pw;

	if (json_unpack(p, "{ss,ss!}", "name", &name, "password", &pw) < 0) {
		*res = ctl_err("params: {\"name\": string, \"password\": "
			       "string}");
		return CTL_PARAMS;
	}
	if (ctl_setup_done(r->c)) {
		*res = ctl_err("setup is done already: an admin exists");
		return CTL_CONFLICT;
	}
	{
		struct auth_job *j = job_new(JOB_SETUP, name, pw);

		j->role = STORE_ADMIN;
		return job_submit(r, j, res);
	}
}

/* {"name", "password"}: a session. */
static int m_login(struct ctl_req *r, json_t *p, json_t **res)
{
	const char *name, *pw;
	char err[256];

	if (json_unpack(p, "{ss,ss!}", "name", &name, "password", &pw) < 0) {
		*res = ctl_err("params: {\"name\": string, \"password\": "
			       "string}");
		return CTL_PARAMS;
	}
	if (!ctl_setup_done(r->c)) {
		*res = ctl_err("setup is not done: create the first admin "
			       "with POST /api/setup/create-admin");
		return CTL_SETUP;
	}
	/* a name no user can have is not worth argon2's time, nor a row
	 * in the backoff table */
	if (!store_user_name_ok(name, err, sizeof(err)) ||
	    strlen(pw) > STORE_PASSWORD_MAX) {
		*res = ctl_err("wrong user name or password");
		return CTL_UNAUTH;
	}
	{
		struct auth_job *j = job_new(JOB_LOGIN, name, pw);

		session_limits(r->c, &j->max_age_ms, &j->idle_ms);
		return job_submit(r, j, res);
	}
}

static int m_logout(struct ctl_req *r, json_t *p, json_t **res)
{
	if (!r->session[0]) {
		*res = ctl_err("logout ends a session: an API token has none "
			       "(revoke it instead)");
		return CTL_PARAMS;
	}
	if (store_session_delete(r->c->store, r->session) < 0) {
		*res = ctl_err("the credential store failed");
		return CTL_FAILED;
	}
	ctl_audit(r->c, &r->who, "auth.logout", "", "ok");
	*res = json_pack("{sb}", "ok", 1);
	return CTL_OK;
}

/* Who the credentials stand for. */
static int m_status(struct ctl_req *r, json_t *p, json_t **res)
{
	long long absolute, idle;

	session_limits(r->c, &absolute, &idle);
	*res = json_pack("{sbsssssssIsI}", "authenticated", 1, "user",
			 r->who.who, "role", store_role_name((enum store_role)
			 r->who.role), "via", r->session[0] ? "session" :
			 "token", "session_timeout_s",
			 (json_int_t)(absolute / 1000), "session_idle_timeout_s",
			 (json_int_t)(idle / 1000));
	/* the cookie is HttpOnly: a page asks for the CSRF token here */
	if (r->session[0])
		json_object_set_new(*res, "csrf_token", json_string(r->csrf));
	return CTL_OK;
}

/* {"old_password", "new_password"}: the session's own user. */
static int m_password(struct ctl_req *r, json_t *p, json_t **res)
{
	const char *old, *new;
	struct auth_job *j;

	if (json_unpack(p, "{ss,ss!}", "old_password", &old, "new_password",
			&new) < 0) {
		*res = ctl_err("params: {\"old_password\": string, "
			       "\"new_password\": string}");
		return CTL_PARAMS;
	}
	if (!r->user_id) {
		*res = ctl_err("a password belongs to a user's session: an "
			       "API token has none");
		return CTL_PARAMS;
	}
	j = job_new(JOB_PASSWORD, r->who.who, old);
	j->new_password = xstrdup(new);
	j->user_id = r->user_id;
	memcpy(j->session, r->session, sizeof(j->session));
	return job_submit(r, j, res);
}

/* {"name", "password", "role"} */
static int m_user_create(struct ctl_req *r, json_t *p, json_t **res)
{
	const char *name, *pw, *role;
	enum store_role sr;
	struct auth_job *j;

	if (json_unpack(p, "{ss,ss,ss!}", "name", &name, "password", &pw,
			"role", &role) < 0 || store_role_parse(role, &sr) < 0) {
		*res = ctl_err("params: {\"name\": string, \"password\": "
			       "string, \"role\": \"viewer\"|\"operator\"|"
			       "\"admin\"}");
		return CTL_PARAMS;
	}
	j = job_new(JOB_CREATE_USER, name, pw);
	j->role = sr;
	return job_submit(r, j, res);
}

static int m_tokens_list(struct ctl_req *r, json_t *p, json_t **res)
{
	struct store_token *v = NULL;
	size_t n = 0;
	char err[256];
	json_t *a;

	if (store_token_list(r->c->store, &v, &n, err, sizeof(err)) < 0) {
		*res = ctl_err("%s", err);
		return CTL_FAILED;
	}
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{sIsssssssIsIsI}", "id",
			(json_int_t)v[i].id, "name", v[i].name, "role",
			store_role_name(v[i].role), "created_by",
			v[i].created_by, "created_at_ms",
			(json_int_t)v[i].created_at, "revoked_at_ms",
			(json_int_t)v[i].revoked_at, "last_used_at_ms",
			(json_int_t)v[i].last_used_at));
	store_tokens_free(v, n);
	*res = json_pack("{so}", "tokens", a);
	return CTL_OK;
}

/* {"name", "role"}: the value is in the answer, once. */
static int m_tokens_create(struct ctl_req *r, json_t *p, json_t **res)
{
	const char *name, *role;
	enum store_role sr;
	char tok[STORE_API_TOKEN_SIZE], err[256], detail[128];
	long long id = 0;
	int st;

	if (json_unpack(p, "{ss,ss!}", "name", &name, "role", &role) < 0 ||
	    store_role_parse(role, &sr) < 0) {
		*res = ctl_err("params: {\"name\": string, \"role\": "
			       "\"viewer\"|\"operator\"|\"admin\"}");
		return CTL_PARAMS;
	}
	st = store_token_create(r->c->store, name, sr, r->who.who, &id, tok,
				err, sizeof(err));
	if (st != 0) {
		*res = ctl_err("%s", err);
		return st < 0 ? CTL_FAILED : CTL_PARAMS;
	}
	snprintf(detail, sizeof(detail), "token %lld (%.40s) role %s", id,
		 name, role);
	ctl_audit(r->c, &r->who, "tokens.create", detail, "ok");
	*res = json_pack("{sIssssss}", "id", (json_int_t)id, "name", name,
			 "role", store_role_name(sr), "token", tok);
	sodium_memzero(tok, sizeof(tok));
	return CTL_OK;
}

/* {"id"} */
static int m_tokens_revoke(struct ctl_req *r, json_t *p, json_t **res)
{
	json_int_t id;
	char detail[64];
	int st;

	if (json_unpack(p, "{sI!}", "id", &id) < 0) {
		*res = ctl_err("params: {\"id\": number}");
		return CTL_PARAMS;
	}
	st = store_token_revoke(r->c->store, id);
	if (st != 0) {
		*res = ctl_err(st < 0 ? "the credential store failed" :
			       "no token %lld, or it is revoked already",
			       (long long)id);
		return st < 0 ? CTL_FAILED : CTL_NOTFOUND;
	}
	snprintf(detail, sizeof(detail), "token %lld", (long long)id);
	ctl_audit(r->c, &r->who, "tokens.revoke", detail, "ok");
	*res = json_pack("{sb}", "ok", 1);
	return CTL_OK;
}

const struct ctl_method ctl_auth_methods[] = {
	{ "setup.status", ROLE_VIEWER, M_PUBLIC, m_setup_status },
	{ "setup.create_admin", ROLE_VIEWER, M_PUBLIC, m_setup_create },
	{ "auth.login", ROLE_VIEWER, M_PUBLIC, m_login },
	{ "auth.logout", ROLE_VIEWER, M_API | M_MUTATES, m_logout },
	{ "auth.status", ROLE_VIEWER, M_API, m_status },
	{ "auth.password", ROLE_VIEWER, M_API | M_MUTATES, m_password },
	{ "users.create", ROLE_ADMIN, M_API | M_MUTATES, m_user_create },
	{ "tokens.list", ROLE_ADMIN, M_API, m_tokens_list },
	{ "tokens.create", ROLE_ADMIN, M_API | M_MUTATES, m_tokens_create },
	{ "tokens.revoke", ROLE_ADMIN, M_API | M_MUTATES, m_tokens_revoke },
	{ NULL, 0, 0, NULL },
};
