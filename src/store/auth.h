/* The REST API's credentials in the store (migration 3): users with
 * argon2id password hashes, login sessions, API tokens, and the login
 * backoff. Storage and crypto only: no HTTP, no cookies, no logging.
 * Secrets (passwords, session and API tokens) are never stored or
 * returned after creation; the store keeps their hashes.
 * All times here are unix milliseconds. */
#ifndef MOAT_STORE_AUTH_H
#define MOAT_STORE_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* Ordered: a role may do what every role below it may, so callers check
 * with role >= STORE_OPERATOR. */
enum store_role { STORE_VIEWER, STORE_OPERATOR, STORE_ADMIN };

#define STORE_USER_NAME_MAX 64
#define STORE_PASSWORD_MIN 10
#define STORE_PASSWORD_MAX 1024
/* A session token or CSRF token: 32 random bytes in base64url without
 * padding (43 characters) and the NUL. */
#define STORE_SECRET_SIZE 44
/* An API token: "moat_" and 43 characters, with room to spare. */
#define STORE_API_TOKEN_SIZE 64

/* "viewer", "operator", "admin"; NULL for a value outside the enum. */
const char *store_role_name(enum store_role role);
/* The role named name: 0, or -1 when it names none. */
int store_role_parse(const char *name, enum store_role *role);

/* Whether name is a user name (1..64 of A-Z a-z 0-9 . _ -), and whether
 * password is acceptable (10..1024 bytes); false with why in err. */
bool store_user_name_ok(const char *name, char *err, size_t errlen);
bool store_password_ok(const char *password, char *err, size_t errlen);

/* 1 when an admin user exists (setup is done), 0 not, -1 error. */
int store_setup_done(struct store *s);

/* Creates a user. With only_first_admin (the setup's create-admin), role
 * must be admin and the user is created only if no admin exists, checked
 * and inserted in one write transaction so that of two racing requests
 * one wins. 0 created; 1 refused with why in err (name or password not
 * acceptable, name taken, setup done); -1 error with a message. */
int store_user_create(struct store *s, const char *name, const char *password,
		      enum store_role role, bool only_first_admin,
		      char *err, size_t errlen);

/* Checks a login. 0 right, with *user_id and *role (either may be NULL);
 * 1 wrong name or password, alike and in about the same time; -1 error. */
int store_user_check(struct store *s, const char *name, const char *password,
		     long long *user_id, enum store_role *role);

/* Changes user_id's password after checking old_pw, and ends all the
 * user's sessions but the one of keep_token (the session token of the
 * request that changes it; NULL ends them all). 0 changed; 1 refused
 * with why in err (old password wrong, new one not acceptable, no such
 * user); -1 error with a message. */
int store_user_password(struct store *s, long long user_id,
			const char *old_pw, const char *new_pw,
			const char *keep_token, char *err, size_t errlen);

/* A session as store_session_check finds it. */
struct store_session {
	long long user_id;
	char name[STORE_USER_NAME_MAX + 1];
	enum store_role role;		/* the user's, as it is now */
	char csrf[STORE_SECRET_SIZE];
	/* seen_at: as stored, which moves at most once a second */
	long long created_at, seen_at;
};

/* Starts a session for user_id from source (the client's address):
 * token_out (the cookie's value) and csrf_out are fresh random secrets,
 * the store keeping only the token's SHA-256. 0, or -1 with a message
 * (also when there is no such user). */
int store_session_create(struct store *s, long long user_id,
			 const char *source, char token_out[STORE_SECRET_SIZE],
			 char csrf_out[STORE_SECRET_SIZE], char *err,
			 size_t errlen);
/* The session of token at now_ms: 0 valid, out filled and the session
 * seen; 1 no such session, or expired: idle_ms since it was last seen or
 * absolute_ms since it was created (an expired one is deleted); -1
 * error. */
int store_session_check(struct store *s, const char *token, long long idle_ms,
			long long absolute_ms, long long now_ms,
			struct store_session *out);
/* store_session_check without seeing it: a check made in the
 * background (an open WebSocket's) does not keep a session from going
 * idle. */
int store_session_peek(struct store *s, const char *token, long long idle_ms,
		       long long absolute_ms, long long now_ms,
		       struct store_session *out);
/* Whether given is the session's CSRF token, in constant time. */
bool store_session_csrf_ok(const struct store_session *sess,
			   const char *given);
/* Ends the session of token (logout): 0 ended, 1 no such session, -1
 * error. */
int store_session_delete(struct store *s, const char *token);
/* Deletes the sessions expired at now_ms, those nobody presents again
 * (store_session_check deletes the others). 0 or -1. */
int store_session_prune(struct store *s, long long idle_ms,
			long long absolute_ms, long long now_ms);

/* An API token as listed: never its value, which only its creator saw. */
struct store_token {
	long long id;
	char *name, *created_by;
	enum store_role role;
	long long created_at;
	long long revoked_at;		/* 0: not revoked */
	long long last_used_at;		/* 0: never; moves once a second */
};

/* Creates an API token named name (a label of 1..64 printable ASCII
 * characters; not unique) with role, by created_by (a user name). Its
 * value, "moat_" and 43 base64url characters, goes to token_out once; the
 * store keeps its SHA-256. Sets *id (may be NULL). 0; 1 refused with why
 * in err (bad name or role); -1 error with a message. */
int store_token_create(struct store *s, const char *name, enum store_role role,
		       const char *created_by, long long *id,
		       char token_out[STORE_API_TOKEN_SIZE], char *err,
		       size_t errlen);
/* All API tokens, revoked ones too, oldest first; *out is freed with
 * store_tokens_free. 0 or -1. */
int store_token_list(struct store *s, struct store_token **out, size_t *n,
		     char *err, size_t errlen);
void store_tokens_free(struct store_token *v, size_t n);
/* Revokes token id from now on: 0 revoked, 1 no such token or revoked
 * already, -1 error. */
int store_token_revoke(struct store *s, long long id);
/* The API token token at now_ms: 0 valid, with *id, *role and name_out
 * (each may be NULL) and its use recorded; 1 unknown or revoked; -1
 * error. */
int store_token_check(struct store *s, const char *token, long long now_ms,
		      long long *id, enum store_role *role,
		      char name_out[STORE_USER_NAME_MAX + 1]);

/* Login backoff, per key: "user:NAME" and "src:ADDR" (the caller checks
 * both and waits for the longer). The first 2 consecutive failures cost
 * nothing; from the 3rd on, the next attempt waits 250 ms * 2^(N-3) after
 * the Nth failure, at most 15 minutes; a success resets the key. A key
 * quiet for a day is forgotten. */
#define STORE_LOGIN_FREE 2
#define STORE_LOGIN_BASE_MS 250LL
#define STORE_LOGIN_MAX_MS (15 * 60 * 1000LL)

/* The wait after n consecutive failures (pure). */
long long store_login_backoff_ms(long long n);
/* How long an attempt for key must still wait at now_ms: 0 it may try,
 * -1 error (refuse it). An attempt refused for the wait is not a failure:
 * do not count it. */
long long store_login_wait_ms(struct store *s, const char *key,
			      long long now_ms);
/* Counts a failed attempt for key at now_ms. */
void store_login_failed(struct store *s, const char *key, long long now_ms);
/* Resets key after a successful login. */
void store_login_ok(struct store *s, const char *key);

/* For tests only: hash passwords at libsodium's minimum argon2id cost
 * (on) instead of the interactive one, which takes 64 MiB and ~0.1 s. */
void store_auth_fast_hashing(bool on);

#endif
