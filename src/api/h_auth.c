/* /api/setup, /api/auth, /api/tokens, /api/users: the first admin,
 * sessions (a cookie, HttpOnly and SameSite=Strict, Secure under TLS),
 * password changes and API tokens. ctl checks every credential
 * (ctl/auth.c); this file turns HTTP into its calls and back. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/internal.h"
#include "base/util.h"

#define PW_MAX 1024
#define NAME_MAX_LEN 64

static const struct body_field credentials_schema[] = {
	{ .name = "username", .type = BODY_STRING, .required = true,
	  .max_len = NAME_MAX_LEN },
	{ .name = "password", .type = BODY_STRING, .required = true,
	  .max_len = PW_MAX },
	{ 0 },
};

static const struct body_field user_schema[] = {
	{ .name = "username", .type = BODY_STRING, .required = true,
	  .max_len = NAME_MAX_LEN },
	{ .name = "password", .type = BODY_STRING, .required = true,
	  .max_len = PW_MAX },
	{ .name = "role", .type = BODY_STRING, .required = true,
	  .max_len = 16 },
	{ 0 },
};

static const struct body_field password_schema[] = {
	{ .name = "old_password", .type = BODY_STRING, .required = true,
	  .max_len = PW_MAX },
	{ .name = "new_password", .type = BODY_STRING, .required = true,
	  .max_len = PW_MAX },
	{ 0 },
};

static const struct body_field token_schema[] = {
	{ .name = "name", .type = BODY_STRING, .required = true,
	  .max_len = 64 },
	{ .name = "role", .type = BODY_STRING, .required = true,
	  .max_len = 16 },
	{ 0 },
};

/* A JSON object holding a password is wiped before it is freed. */
static void wipe_decref(json_t *o, const char *const *keys)
{
	for (; *keys; keys++) {
		json_t *v = json_object_get(o, *keys);

		if (json_is_string(v))
			sodium_memzero((char *)json_string_value(v),
				       json_string_length(v));
	}
	json_decref(o);
}

static const char *const pw_keys[] = { "password", "old_password",
				       "new_password", NULL };

/* Requests that wait for a password hash in ctl, at most this many at a
 * time in this api: each holds one of MHD's few threads for as long as
 * ctl's queue of hashes takes, and the other routes need them. */
#define SLOW_MAX 2

static atomic_int slow_calls;

/* A slot for a call that hashes, or false with 503 answered. */
static bool slow_begin(struct api_req *q)
{
	if (atomic_fetch_add(&slow_calls, 1) < SLOW_MAX)
		return true;
	atomic_fetch_sub(&slow_calls, 1);
	api_header(q, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	api_reply_error(q, 503, NULL, "too many password checks under way: "
			"try again shortly");
	return false;
}

static void slow_end(void)
{
	atomic_fetch_sub(&slow_calls, 1);
}

/* Sends method {name, password[, role]} from the body's username and
 * password; the result, or NULL when answered. */
static json_t *call_with_password(struct api_req *q, const char *method,
				  const struct body_field *schema)
{
	json_t *b = api_body(q, schema), *p, *r;

	if (!b)
		return NULL;
	if (!slow_begin(q)) {
		wipe_decref(b, pw_keys);
		return NULL;
	}
	p = json_pack("{sOsO}", "name", json_object_get(b, "username"),
		      "password", json_object_get(b, "password"));
	if (json_object_get(b, "role"))
		json_object_set(p, "role", json_object_get(b, "role"));
	r = api_call(q, method, p, API_SLOW_TIMEOUT_MS);
	slow_end();
	/* p shared b's password string: wiped once sent */
	wipe_decref(b, pw_keys);
	return r;
}

static void setup_status(struct api_req *q)
{
	json_t *r = api_call(q, "setup.status", json_object(),
			     API_RPC_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

static void setup_create_admin(struct api_req *q)
{
	json_t *r = call_with_password(q, "setup.create_admin",
				       credentials_schema);

	if (r)
		api_reply(q, 201, r);
}

/* The session cookie: value "" and Max-Age=0 end it. */
static void set_cookie(struct api_req *q, const char *value,
		       long long max_age)
{
	char c[256];

	snprintf(c, sizeof(c), "%s=%s; Path=/; Max-Age=%lld; HttpOnly; "
		 "SameSite=Strict%s", API_SESSION_COOKIE, value, max_age,
		 q->tls ? "; Secure" : "");
	api_header(q, MHD_HTTP_HEADER_SET_COOKIE, c);
	sodium_memzero(c, sizeof(c));
}

static void login(struct api_req *q)
{
	json_t *r = call_with_password(q, "auth.login", credentials_schema);
	json_t *session = json_object_get(r, "session");

	if (!r)
		return;
	if (!json_is_string(session)) {
		json_decref(r);
		api_reply_error(q, 500, NULL, "ctl made no session");
		return;
	}
	set_cookie(q, json_string_value(session), json_integer_value(
		   json_object_get(r, "max_age_s")));
	/* the token goes in the cookie only: script cannot read it */
	sodium_memzero((char *)json_string_value(session),
		       json_string_length(session));
	json_object_del(r, "session");
	api_reply(q, 200, r);
}

static void logout(struct api_req *q)
{
	json_t *r = api_call(q, "auth.logout", json_object(),
			     API_RPC_TIMEOUT_MS);

	if (!r)
		return;
	set_cookie(q, "", 0);
	api_reply(q, 200, r);
}

/* 200 either way: {"authenticated": false, "setup_required": bool} when
 * the request carries no valid credentials. */
static void auth_status(struct api_req *q)
{
	json_t *ans = api_call_raw(q, "auth.status", json_object(),
				   API_RPC_TIMEOUT_MS);
	json_t *res = json_object_get(ans, "result");
	unsigned st;

	if (!ans) {
		api_reply_error(q, 503, NULL, "ctl did not answer");
		return;
	}
	if (res) {
		api_reply(q, 200, json_incref(res));
		json_decref(ans);
		return;
	}
	st = api_status_of(json_object_get(ans, "error"));
	json_decref(ans);
	if (st == 401 || st == 428) {
		api_reply(q, 200, json_pack("{sbsb}", "authenticated", 0,
					    "setup_required", st == 428));
		return;
	}
	api_reply_error(q, st, NULL, "the credentials could not be checked");
}

static void change_password(struct api_req *q)
{
	json_t *b = api_body(q, password_schema), *r;

	if (!b)
		return;
	if (!slow_begin(q)) {
		wipe_decref(b, pw_keys);
		return;
	}
	r = api_call(q, "auth.password", json_deep_copy(b),
		     API_SLOW_TIMEOUT_MS);
	slow_end();
	wipe_decref(b, pw_keys);
	if (r)
		api_reply(q, 200, r);
}

static void create_user(struct api_req *q)
{
	json_t *r = call_with_password(q, "users.create", user_schema);

	if (r)
		api_reply(q, 201, r);
}

static void list_tokens(struct api_req *q)
{
	json_t *r = api_call(q, "tokens.list", json_object(),
			     API_RPC_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

static void create_token(struct api_req *q)
{
	json_t *b = api_body(q, token_schema), *r;

	if (!b)
		return;
	r = api_call(q, "tokens.create", b, API_RPC_TIMEOUT_MS);
	if (r)
		api_reply(q, 201, r);
}

static void revoke_token(struct api_req *q)
{
	const char *s = api_param(q, 0);
	char *end;
	long long id = strtoll(s, &end, 10);
	json_t *r;

	if (*end || id <= 0 || s[0] == '+' || s[0] == ' ') {
		api_reply_error(q, 400, "id", "a token id is a positive "
				"number");
		return;
	}
	r = api_call(q, "tokens.revoke", json_pack("{sI}", "id",
		     (json_int_t)id), API_RPC_TIMEOUT_MS);
	if (r)
		api_reply(q, 200, r);
}

const struct api_route api_auth_routes[] = {
	{ "GET", "/api/setup/status", setup_status, R_PUBLIC, 0,
	  "Whether the first admin exists" },
	{ "POST", "/api/setup/create-admin", setup_create_admin, R_PUBLIC,
	  4096, "Creates the first admin (once)" },
	{ "POST", "/api/auth/login", login, R_PUBLIC, 4096,
	  "Starts a session: a cookie, and the CSRF token" },
	{ "POST", "/api/auth/logout", logout, 0, 0, "Ends the session" },
	{ "GET", "/api/auth/status", auth_status, 0, 0,
	  "Who the request's credentials stand for" },
	{ "PUT", "/api/auth/password", change_password, 0, 4096,
	  "Changes the session user's password" },
	{ "POST", "/api/users", create_user, 0, 4096,
	  "Creates a user with a role (admin)" },
	{ "GET", "/api/tokens", list_tokens, 0, 0,
	  "Lists API tokens, never their values (admin)" },
	{ "POST", "/api/tokens", create_token, 0, 1024,
	  "Creates an API token; its value is shown once (admin)" },
	{ "DELETE", "/api/tokens/{}", revoke_token, 0, 0,
	  "Revokes an API token (admin)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
