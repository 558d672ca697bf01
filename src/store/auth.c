/* The REST API's credentials (migration 3): users, sessions, API tokens
 * and the login backoff, on the store's connection. Storage and crypto
 * only: the HTTP side (cookies, headers, status codes) is api's.
 *
 * No secret reaches the database: passwords are stored as argon2id
 * strings, session and API tokens as the hex SHA-256 of their text. A
 * token is 32 random bytes, so a fast hash is enough for it (nobody can
 * guess it to test offline); a password is chosen by a person and needs
 * the slow one. This file never logs, and hands a token out only from
 * the call that made it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/util.h"
#include "store/auth.h"
#include "store/internal.h"

#define HASH_HEX (2 * crypto_hash_sha256_BYTES + 1)
#define SECRET_BYTES 32
#define TOKEN_PREFIX "moat_"
#define TOKEN_LEN (sizeof(TOKEN_PREFIX) - 1 + STORE_SECRET_SIZE - 1)
/* seen_at and last_used_at move at most once a second: a write for every
 * request would make the store the API's bottleneck, and a second is
 * nothing to an idle limit of minutes. */
#define SEEN_STEP_MS 1000
/* A login key with no failure for a day starts again from zero. */
#define LOGIN_FORGET_MS (24 * 3600 * 1000LL)

_Static_assert(sodium_base64_ENCODED_LEN(SECRET_BYTES,
		sodium_base64_VARIANT_URLSAFE_NO_PADDING) == STORE_SECRET_SIZE,
	       "a secret is 43 base64url characters and the NUL");
_Static_assert(TOKEN_LEN < STORE_API_TOKEN_SIZE, "an API token fits");

static const char *const role_names[] = {
	[STORE_VIEWER] = "viewer",
	[STORE_OPERATOR] = "operator",
	[STORE_ADMIN] = "admin",
};

/* The argon2id cost. INTERACTIVE (64 MiB, 2 passes, ~0.1 s) rather than
 * MODERATE (256 MiB, ~0.7 s): a login runs on the gateway, whose memory
 * is small and shared with the network's work, and a few concurrent
 * logins at 256 MiB each would be a denial of service by themselves.
 * Online guessing is held back by the login backoff instead; offline, a
 * stolen database still costs 64 MiB and a tenth of a second per guess.
 * The tests lower it (store_auth_fast_hashing): a process-wide switch,
 * the one mutable static here. */
static bool fast_hashing;

void store_auth_fast_hashing(bool on)
{
	fast_hashing = on;
}

static unsigned long long pw_ops(void)
{
	return fast_hashing ? crypto_pwhash_argon2id_OPSLIMIT_MIN :
			      crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
}

static size_t pw_mem(void)
{
	return fast_hashing ? crypto_pwhash_argon2id_MEMLIMIT_MIN :
			      crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
}

/* libsodium initialises itself once; randombytes needs it. */
static void auth_init(void)
{
	if (sodium_init() < 0)
		fatal("libsodium: initialisation failed");
}

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *store_role_name(enum store_role role)
{
	if ((unsigned)role >= ARRAY_SIZE(role_names))
		return NULL;
	return role_names[role];
}

int store_role_parse(const char *name, enum store_role *role)
{
	for (size_t i = 0; name && i < ARRAY_SIZE(role_names); i++)
		if (!strcmp(name, role_names[i])) {
			*role = (enum store_role)i;
			return 0;
		}
	return -1;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool store_user_name_ok(const char *name, char *err, size_t errlen)
{
	size_t n = name ? strnlen(name, STORE_USER_NAME_MAX + 1) : 0;

	if (n == 0 || n > STORE_USER_NAME_MAX) {
		snprintf(err, errlen, "a user name has 1 to %d characters",
			 STORE_USER_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i])) {
			/* the byte in hex: the name may hold anything */
			snprintf(err, errlen, "user name: character %zu "
				 "(0x%02x) is not one of A-Z a-z 0-9 . _ -",
				 i + 1, (unsigned char)name[i]);
			return false;
		}
	return true;
}

bool store_password_ok(const char *password, char *err, size_t errlen)
{
	size_t n = password ? strnlen(password, STORE_PASSWORD_MAX + 1) : 0;

	if (n < STORE_PASSWORD_MIN) {
		snprintf(err, errlen, "a password needs at least %d bytes",
			 STORE_PASSWORD_MIN);
		return false;
	}
	if (n > STORE_PASSWORD_MAX) {
		snprintf(err, errlen, "a password has at most %d bytes",
			 STORE_PASSWORD_MAX);
		return false;
	}
	return true;
}

static bool role_ok(enum store_role role, char *err, size_t errlen)
{
	if (store_role_name(role))
		return true;
	snprintf(err, errlen, "role %d is not one of viewer, operator, admin",
		 (int)role);
	return false;
}

static int hash_password(const char *pw, char out[crypto_pwhash_STRBYTES],
			 char *err, size_t errlen)
{
	auth_init();
	if (crypto_pwhash_argon2id_str(out, pw, strlen(pw), pw_ops(),
				       pw_mem()) != 0) {
		snprintf(err, errlen, "hashing the password: out of memory");
		return -1;
	}
	return 0;
}

/* A hash that no password matches, at the cost of the real ones: a login
 * as a user who does not exist verifies against it and so spends the
 * same argon2 time as one with a wrong password, and the two answers
 * cannot be told apart by how long they take. Built from the current
 * cost so that it follows it. */
static void dummy_hash(char out[crypto_pwhash_STRBYTES])
{
	snprintf(out, crypto_pwhash_STRBYTES, "$argon2id$v=19$m=%zu,t=%llu,"
		 "p=1$bW9hdCBkdW1teSBzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		 "AAAAAAAA", pw_mem() / 1024, pw_ops());
}

/* Tokens are looked up by the SHA-256 of their text. The lookup is an
 * indexed equality on that hash, whose timing can tell at most how much
 * of a guess's hash matched a stored hash; that says nothing about a
 * token that would match (it would take a preimage), so the lookup does
 * not need to be constant-time. */
static void secret_hash(const char *token, char hex[HASH_HEX])
{
	unsigned char sum[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(sum, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(hex, HASH_HEX, sum, sizeof(sum));
}

/* 32 random bytes in base64url without padding. */
static void new_secret(char out[STORE_SECRET_SIZE])
{
	unsigned char raw[SECRET_BYTES];

	auth_init();
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, STORE_SECRET_SIZE, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(store_db(s), sql, -1, st, NULL) ==
	       SQLITE_OK ? 0 : -1;
}

static int begin(struct store *s, char *err, size_t errlen, const char *what)
{
	/* IMMEDIATE: the write lock before the first read, so a check and
	 * the write it allows cannot interleave with another writer's */
	if (sqlite3_exec(store_db(s), "BEGIN IMMEDIATE", NULL, NULL,
			 NULL) != SQLITE_OK)
		return store_sql_fail(s, err, errlen, what);
	return 0;
}

static int commit(struct store *s, char *err, size_t errlen, const char *what)
{
	if (sqlite3_exec(store_db(s), "COMMIT", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return store_sql_fail(s, err, errlen, what);
	return 0;
}

static void rollback(struct store *s)
{
	sqlite3_exec(store_db(s), "ROLLBACK", NULL, NULL, NULL);
}

/* 1 an admin exists, 0 not, -1 error with a message. */
static int admin_exists(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, r = -1;

	if (prepare(s, "SELECT EXISTS (SELECT 1 FROM users WHERE role = "
		    "'admin')", &st) < 0)
		return store_sql_fail(s, err, errlen, "looking for an admin");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	if (r < 0)
		return store_sql_fail(s, err, errlen, "looking for an admin");
	return r;
}

int store_setup_done(struct store *s)
{
	char err[256];

	return admin_exists(s, err, sizeof(err));
}

static int insert_user(struct store *s, const char *name, const char *hash,
		       enum store_role role, char *err, size_t errlen)
{
	long long now = wall_ms();
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "INSERT INTO users (name, pw_hash, role, created_at, "
		    "pw_changed_at) VALUES (?, ?, ?, ?, ?)", &st) < 0)
		return store_sql_fail(s, err, errlen, "creating a user");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, store_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT) {
		snprintf(err, errlen, "there is a user named \"%s\" already",
			 name);
		return 1;
	}
	if (rc != SQLITE_DONE)
		return store_sql_fail(s, err, errlen, "creating a user");
	return 0;
}

int store_user_create(struct store *s, const char *name, const char *password,
		      enum store_role role, bool only_first_admin,
		      char *err, size_t errlen)
{
	char hash[crypto_pwhash_STRBYTES];
	int r;

	if (!store_user_name_ok(name, err, errlen) ||
	    !store_password_ok(password, err, errlen) ||
	    !role_ok(role, err, errlen))
		return 1;
	if (only_first_admin && role != STORE_ADMIN) {
		snprintf(err, errlen, "the first user must be an admin");
		return 1;
	}
	/* hashed before the transaction: the write lock need not be held
	 * for the tenth of a second argon2 takes */
	if (hash_password(password, hash, err, errlen) < 0)
		return -1;
	if (begin(s, err, errlen, "creating a user") < 0) {
		sodium_memzero(hash, sizeof(hash));
		return -1;
	}
	r = only_first_admin ? admin_exists(s, err, errlen) : 0;
	if (r > 0)
		snprintf(err, errlen, "setup is done already: an admin "
			 "exists");
	if (r == 0)
		r = insert_user(s, name, hash, role, err, errlen);
	if (r == 0 && commit(s, err, errlen, "creating a user") < 0)
		r = -1;
	if (r != 0)
		rollback(s);
	sodium_memzero(hash, sizeof(hash));
	return r;
}

/* The id, password hash and role of the user named name (NULL: of user
 * id). 1 found, 0 no such user, -1 error with a message. */
static int user_row(struct store *s, const char *name, long long id,
		    long long *id_out, char hash[crypto_pwhash_STRBYTES],
		    enum store_role *role, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc, r = -1;

	if (prepare(s, name ? "SELECT id, pw_hash, role FROM users WHERE "
		    "name = ?" : "SELECT id, pw_hash, role FROM users WHERE "
		    "id = ?", &st) < 0)
		return store_sql_fail(s, err, errlen, "reading a user");
	if (name)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		r = 0;
	if (rc == SQLITE_ROW &&
	    store_role_parse(store_col(st, 2), role) == 0) {
		*id_out = sqlite3_column_int64(st, 0);
		snprintf(hash, crypto_pwhash_STRBYTES, "%s", store_col(st, 1));
		r = 1;
	} else if (rc == SQLITE_ROW) {
		snprintf(err, errlen, "the store's user %lld has an unknown "
			 "role", (long long)sqlite3_column_int64(st, 0));
	} else if (rc != SQLITE_DONE) {
		store_sql_fail(s, err, errlen, "reading a user");
	}
	sqlite3_finalize(st);
	return r;
}

/* Whether password matches hash; spends the argon2 time either way. */
static bool pw_matches(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) ==
	       0;
}

int store_user_check(struct store *s, const char *name, const char *password,
		     long long *user_id, enum store_role *role)
{
	char hash[crypto_pwhash_STRBYTES], err[256];
	enum store_role r = STORE_VIEWER;
	long long id = 0;
	int found;
	bool ok;

	password = password ? password : "";
	found = user_row(s, name ? name : "", 0, &id, hash, &r, err,
			 sizeof(err));
	if (found < 0)
		return -1;
	if (!found)
		dummy_hash(hash);
	ok = pw_matches(hash, password) && found;
	sodium_memzero(hash, sizeof(hash));
	if (!ok)
		return 1;
	if (user_id)
		*user_id = id;
	if (role)
		*role = r;
	return 0;
}

/* Sets user_id's hash and ends its sessions but keep_hash's (NULL: all),
 * in one transaction. 0, 1 no such user, -1 error. */
static int set_password(struct store *s, long long user_id, const char *hash,
			const char *keep_hash, char *err, size_t errlen)
{
	static const char what[] = "changing the password";
	sqlite3_stmt *st;
	int rc;

	if (begin(s, err, errlen, what) < 0)
		return -1;
	if (prepare(s, "UPDATE users SET pw_hash = ?, pw_changed_at = ? "
		    "WHERE id = ?", &st) < 0)
		goto bad;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, wall_ms());
	sqlite3_bind_int64(st, 3, user_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto bad;
	if (sqlite3_changes(store_db(s)) == 0) {
		rollback(s);
		snprintf(err, errlen, "there is no user %lld", user_id);
		return 1;
	}
	/* "IS NOT NULL" when there is none to keep: every session */
	if (prepare(s, "DELETE FROM sessions WHERE user_id = ? AND "
		    "token_hash IS NOT ?", &st) < 0)
		goto bad;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_text(st, 2, keep_hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto bad;
	if (commit(s, err, errlen, what) < 0) {
		rollback(s);
		return -1;
	}
	return 0;
bad:
	store_sql_fail(s, err, errlen, what);
	rollback(s);
	return -1;
}

int store_user_password(struct store *s, long long user_id,
			const char *old_pw, const char *new_pw,
			const char *keep_token, char *err, size_t errlen)
{
	char hash[crypto_pwhash_STRBYTES], keep[HASH_HEX];
	enum store_role role;
	long long id;
	int r;

	if (!store_password_ok(new_pw, err, errlen))
		return 1;
	r = user_row(s, NULL, user_id, &id, hash, &role, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0) {
		snprintf(err, errlen, "there is no user %lld", user_id);
		return 1;
	}
	r = pw_matches(hash, old_pw ? old_pw : "") ? 0 : 1;
	if (r)
		snprintf(err, errlen, "the old password is wrong");
	if (!r)
		r = hash_password(new_pw, hash, err, errlen);
	if (!r && keep_token)
		secret_hash(keep_token, keep);
	if (!r)
		r = set_password(s, user_id, hash, keep_token ? keep : NULL,
				 err, errlen);
	sodium_memzero(hash, sizeof(hash));
	return r;
}

int store_session_create(struct store *s, long long user_id,
			 const char *source, char token_out[STORE_SECRET_SIZE],
			 char csrf_out[STORE_SECRET_SIZE], char *err,
			 size_t errlen)
{
	long long now = wall_ms();
	char hash[HASH_HEX];
	sqlite3_stmt *st;
	int rc;

	new_secret(token_out);
	new_secret(csrf_out);
	secret_hash(token_out, hash);
	if (prepare(s, "INSERT INTO sessions (token_hash, user_id, csrf, "
		    "created_at, seen_at, source) VALUES (?, ?, ?, ?, ?, ?)",
		    &st) < 0) {
		store_sql_fail(s, err, errlen, "starting a session");
		goto bad;
	}
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_text(st, 3, csrf_out, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_text(st, 6, source ? source : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	/* the foreign key: a hash collision of two fresh tokens is not a
	 * thing that happens */
	if (rc == SQLITE_CONSTRAINT)
		snprintf(err, errlen, "starting a session: there is no user "
			 "%lld", user_id);
	else
		store_sql_fail(s, err, errlen, "starting a session");
bad:
	/* a session that was not stored must not be handed out */
	sodium_memzero(token_out, STORE_SECRET_SIZE);
	sodium_memzero(csrf_out, STORE_SECRET_SIZE);
	return -1;
}

static int delete_session(struct store *s, const char *hash)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "DELETE FROM sessions WHERE token_hash = ?", &st) < 0)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(store_db(s)) > 0 ? 0 : 1;
}

/* Records that the row with key (text or, when NULL, id) was used at now:
 * the session's seen_at or the API token's last_used_at. A failure is
 * ignored: the use is a record, not a condition, and a store that cannot
 * write (a full disk) should still let reads through. */
static void touch(struct store *s, const char *sql, const char *key,
		  long long id, long long now)
{
	sqlite3_stmt *st;

	if (prepare(s, sql, &st) < 0)
		return;
	sqlite3_bind_int64(st, 1, now);
	if (key)
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 2, id);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* Fills out from a row of the session query; -1 when it is damaged. */
static int row_session(sqlite3_stmt *st, struct store_session *out)
{
	memset(out, 0, sizeof(*out));
	out->user_id = sqlite3_column_int64(st, 0);
	snprintf(out->name, sizeof(out->name), "%s", store_col(st, 1));
	snprintf(out->csrf, sizeof(out->csrf), "%s", store_col(st, 3));
	out->created_at = sqlite3_column_int64(st, 4);
	out->seen_at = sqlite3_column_int64(st, 5);
	return store_role_parse(store_col(st, 2), &out->role);
}

static int session_check(struct store *s, const char *token, long long idle_ms,
			 long long absolute_ms, long long now_ms, bool seen,
			 struct store_session *out)
{
	char hash[HASH_HEX];
	sqlite3_stmt *st;
	int rc, r;

	/* the format is public: no lookup for what cannot be a token */
	if (!token || strlen(token) != STORE_SECRET_SIZE - 1)
		return 1;
	secret_hash(token, hash);
	if (prepare(s, "SELECT s.user_id, u.name, u.role, s.csrf, "
		    "s.created_at, s.seen_at FROM sessions s JOIN users u ON "
		    "u.id = s.user_id WHERE s.token_hash = ?", &st) < 0)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	r = rc == SQLITE_DONE ? 1 : -1;
	if (rc == SQLITE_ROW)
		r = row_session(st, out);
	sqlite3_finalize(st);
	if (r != 0)
		return r;
	if (now_ms - out->seen_at >= idle_ms ||
	    now_ms - out->created_at >= absolute_ms) {
		memset(out, 0, sizeof(*out));
		return delete_session(s, hash) < 0 ? -1 : 1;
	}
	if (seen && now_ms - out->seen_at >= SEEN_STEP_MS) {
		touch(s, "UPDATE sessions SET seen_at = ? WHERE token_hash = "
		      "?", hash, 0, now_ms);
		out->seen_at = now_ms;
	}
	return 0;
}

int store_session_check(struct store *s, const char *token, long long idle_ms,
			long long absolute_ms, long long now_ms,
			struct store_session *out)
{
	return session_check(s, token, idle_ms, absolute_ms, now_ms, true,
			     out);
}

int store_session_peek(struct store *s, const char *token, long long idle_ms,
		       long long absolute_ms, long long now_ms,
		       struct store_session *out)
{
	return session_check(s, token, idle_ms, absolute_ms, now_ms, false,
			     out);
}

bool store_session_csrf_ok(const struct store_session *sess,
			   const char *given)
{
	size_t n = strnlen(sess->csrf, sizeof(sess->csrf));

	/* lengths are not secret; the bytes are compared in constant time */
	return given && n == STORE_SECRET_SIZE - 1 && strlen(given) == n &&
	       sodium_memcmp(sess->csrf, given, n) == 0;
}

int store_session_delete(struct store *s, const char *token)
{
	char hash[HASH_HEX];

	if (!token)
		return 1;
	secret_hash(token, hash);
	return delete_session(s, hash);
}

int store_session_prune(struct store *s, long long idle_ms,
			long long absolute_ms, long long now_ms)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "DELETE FROM sessions WHERE seen_at <= ? OR "
		    "created_at <= ?", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, now_ms - idle_ms);
	sqlite3_bind_int64(st, 2, now_ms - absolute_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static bool token_name_ok(const char *name, char *err, size_t errlen)
{
	size_t n = name ? strnlen(name, STORE_USER_NAME_MAX + 1) : 0;

	if (n == 0 || n > STORE_USER_NAME_MAX) {
		snprintf(err, errlen, "an API token's name has 1 to %d "
			 "characters", STORE_USER_NAME_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (name[i] < 0x20 || name[i] > 0x7e) {
			snprintf(err, errlen, "API token name: character %zu "
				 "(0x%02x) is not printable ASCII", i + 1,
				 (unsigned char)name[i]);
			return false;
		}
	return true;
}

int store_token_create(struct store *s, const char *name, enum store_role role,
		       const char *created_by, long long *id,
		       char token_out[STORE_API_TOKEN_SIZE], char *err,
		       size_t errlen)
{
	char secret[STORE_SECRET_SIZE], hash[HASH_HEX];
	sqlite3_stmt *st;
	int rc;

	if (!token_name_ok(name, err, errlen) || !role_ok(role, err, errlen))
		return 1;
	new_secret(secret);
	snprintf(token_out, STORE_API_TOKEN_SIZE, TOKEN_PREFIX "%s", secret);
	sodium_memzero(secret, sizeof(secret));
	secret_hash(token_out, hash);
	if (prepare(s, "INSERT INTO api_tokens (name, token_hash, role, "
		    "created_at, created_by) VALUES (?, ?, ?, ?, ?)",
		    &st) < 0)
		goto bad;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, store_role_name(role), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, wall_ms());
	sqlite3_bind_text(st, 5, created_by ? created_by : "", -1,
			  SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto bad;
	if (id)
		*id = sqlite3_last_insert_rowid(store_db(s));
	return 0;
bad:
	store_sql_fail(s, err, errlen, "creating an API token");
	sodium_memzero(token_out, STORE_API_TOKEN_SIZE);
	return -1;
}

int store_token_list(struct store *s, struct store_token **out, size_t *n,
		     char *err, size_t errlen)
{
	struct store_token *v = NULL;
	size_t cap = 0, len = 0;
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "SELECT id, name, role, created_at, created_by, "
		    "revoked_at, last_used_at FROM api_tokens ORDER BY id",
		    &st) < 0)
		return store_sql_fail(s, err, errlen, "listing API tokens");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_token *t;

		xgrow((void **)&v, &cap, len + 1, sizeof(*v));
		t = &v[len++];
		t->id = sqlite3_column_int64(st, 0);
		t->name = xstrdup(store_col(st, 1));
		t->created_at = sqlite3_column_int64(st, 3);
		t->created_by = xstrdup(store_col(st, 4));
		t->revoked_at = sqlite3_column_int64(st, 5);
		t->last_used_at = sqlite3_column_int64(st, 6);
		if (store_role_parse(store_col(st, 2), &t->role) < 0) {
			snprintf(err, errlen, "the store's API token %lld has "
				 "an unknown role", t->id);
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_ROW)
			store_sql_fail(s, err, errlen, "listing API tokens");
		store_tokens_free(v, len);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}

void store_tokens_free(struct store_token *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].created_by);
	}
	free(v);
}

int store_token_revoke(struct store *s, long long id)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? "
		    "AND revoked_at IS NULL", &st) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, wall_ms());
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(store_db(s)) > 0 ? 0 : 1;
}

int store_token_check(struct store *s, const char *token, long long now_ms,
		      long long *id, enum store_role *role,
		      char name_out[STORE_USER_NAME_MAX + 1])
{
	char hash[HASH_HEX];
	enum store_role r = STORE_VIEWER;
	long long tid = 0, used = 0;
	sqlite3_stmt *st;
	int rc, res;

	if (!token || strlen(token) != TOKEN_LEN ||
	    strncmp(token, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1))
		return 1;
	secret_hash(token, hash);
	if (prepare(s, "SELECT id, role, name, last_used_at FROM api_tokens "
		    "WHERE token_hash = ? AND revoked_at IS NULL", &st) < 0)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	res = rc == SQLITE_DONE ? 1 : -1;
	if (rc == SQLITE_ROW && store_role_parse(store_col(st, 1), &r) == 0) {
		res = 0;
		tid = sqlite3_column_int64(st, 0);
		used = sqlite3_column_int64(st, 3);
		if (name_out)
			snprintf(name_out, STORE_USER_NAME_MAX + 1, "%s",
				 store_col(st, 2));
	}
	sqlite3_finalize(st);
	if (res != 0)
		return res;
	if (now_ms - used >= SEEN_STEP_MS)
		touch(s, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
		      NULL, tid, now_ms);
	if (id)
		*id = tid;
	if (role)
		*role = r;
	return 0;
}

long long store_login_backoff_ms(long long n)
{
	long long ms;

	if (n <= STORE_LOGIN_FREE)
		return 0;
	n -= STORE_LOGIN_FREE + 1;
	if (n >= 32)
		return STORE_LOGIN_MAX_MS;
	ms = STORE_LOGIN_BASE_MS << n;
	return ms < STORE_LOGIN_MAX_MS ? ms : STORE_LOGIN_MAX_MS;
}

long long store_login_wait_ms(struct store *s, const char *key,
			      long long now_ms)
{
	long long count = 0, last = 0, wait, full;
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, "SELECT count, last_at FROM login_failures WHERE key "
		    "= ?", &st) < 0)
		return -1;
	sqlite3_bind_text(st, 1, key ? key : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		count = sqlite3_column_int64(st, 0);
		last = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (rc == SQLITE_DONE || now_ms - last >= LOGIN_FORGET_MS)
		return 0;
	full = store_login_backoff_ms(count);
	wait = last + full - now_ms;
	/* never longer than the full wait, should the clock step back */
	return wait <= 0 ? 0 : wait < full ? wait : full;
}

void store_login_failed(struct store *s, const char *key, long long now_ms)
{
	sqlite3_stmt *st;

	/* forgotten keys go, so that failures from many sources do not pile
	 * up for ever */
	if (prepare(s, "DELETE FROM login_failures WHERE last_at <= ?",
		    &st) == 0) {
		sqlite3_bind_int64(st, 1, now_ms - LOGIN_FORGET_MS);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (prepare(s, "INSERT INTO login_failures (key, count, last_at) "
		    "VALUES (?1, 1, ?2) ON CONFLICT (key) DO UPDATE SET "
		    "count = count + 1, last_at = ?2", &st) < 0)
		return;
	sqlite3_bind_text(st, 1, key ? key : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

void store_login_ok(struct store *s, const char *key)
{
	sqlite3_stmt *st;

	if (prepare(s, "DELETE FROM login_failures WHERE key = ?", &st) < 0)
		return;
	sqlite3_bind_text(st, 1, key ? key : "", -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}
