/* The REST API's credentials on a real store file in a temporary
 * directory: the setup's first admin (also raced by two processes),
 * logins, password changes, session expiry with an injected clock, API
 * tokens, the login backoff, and that no secret ever reaches the file.
 * Passwords are hashed at argon2id's minimum cost but in one test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>

#include "base/util.h"
#include "store/auth.h"
#include "store/store.h"
#include "store_fixture.h"

#define PW "correct horse battery"
#define MIN_MS (60 * 1000LL)
#define IDLE (30 * MIN_MS)
#define ABSOLUTE (12 * 60 * MIN_MS)

static int setup(void **state)
{
	return fix_setup(state, "/tmp/moat-test-auth-XXXXXX");
}

static int teardown(void **state)
{
	return fix_teardown(state);
}

static long long add_user(struct fix *f, const char *name,
			  enum store_role role)
{
	long long id;

	if (store_user_create(f->s, name, PW, role, false, f->err,
			      sizeof(f->err)) != 0)
		fail_msg("store_user_create %s: %s", name, f->err);
	assert_int_equal(store_user_check(f->s, name, PW, &id, NULL), 0);
	return id;
}

static void new_session(struct fix *f, long long uid,
			char token[STORE_SECRET_SIZE])
{
	char csrf[STORE_SECRET_SIZE];

	if (store_session_create(f->s, uid, "192.0.2.5", token, csrf, f->err,
				 sizeof(f->err)) != 0)
		fail_msg("store_session_create: %s", f->err);
}

static void test_migrate(void **state)
{
	struct fix *f = *state;

	assert_int_equal(raw_int(f, "PRAGMA user_version"), 3);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master "
				 "WHERE name IN ('users', 'sessions', "
				 "'api_tokens', 'login_failures')"), 4);
	reopen(f);
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 3);
}

/* A store of schema 2 moves forward and keeps what it had. */
static void test_migrate_from_2(void **state)
{
	struct fix *f = *state;

	raw_exec(f, "DROP TABLE sessions; DROP TABLE users; DROP TABLE "
		 "api_tokens; DROP TABLE login_failures; INSERT INTO "
		 "revisions (created_at, author, origin, config_path, config, "
		 "hash, result) VALUES (1, 'root', 'ctl', 'p', 'c', 'h', "
		 "'applied'); PRAGMA user_version = 2");
	reopen(f);
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 3);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM revisions"), 1);
	assert_int_equal(store_setup_done(f->s), 0);
	add_user(f, "admin", STORE_ADMIN);
	assert_int_equal(store_setup_done(f->s), 1);
}

static void test_roles(void **state)
{
	static const char *const names[] = { "viewer", "operator", "admin" };
	enum store_role r;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_string_equal(store_role_name((enum store_role)i),
				    names[i]);
		assert_int_equal(store_role_parse(names[i], &r), 0);
		assert_int_equal(r, i);
	}
	assert_true(STORE_ADMIN > STORE_OPERATOR);
	assert_true(STORE_OPERATOR > STORE_VIEWER);
	assert_null(store_role_name((enum store_role)3));
	assert_null(store_role_name((enum store_role)-1));
	assert_int_equal(store_role_parse("Admin", &r), -1);
	assert_int_equal(store_role_parse("", &r), -1);
	assert_int_equal(store_role_parse(NULL, &r), -1);
}

static void test_setup_flow(void **state)
{
	struct fix *f = *state;

	assert_int_equal(store_setup_done(f->s), 0);
	/* an operator is not setup */
	add_user(f, "op", STORE_OPERATOR);
	assert_int_equal(store_setup_done(f->s), 0);
	/* create-admin makes only admins */
	assert_int_equal(store_user_create(f->s, "root", PW, STORE_VIEWER,
					   true, f->err, sizeof(f->err)), 1);
	assert_string_equal(f->err, "the first user must be an admin");
	assert_int_equal(store_user_create(f->s, "root", PW, STORE_ADMIN,
					   true, f->err, sizeof(f->err)), 0);
	assert_int_equal(store_setup_done(f->s), 1);
	assert_int_equal(store_user_create(f->s, "root2", PW, STORE_ADMIN,
					   true, f->err, sizeof(f->err)), 1);
	assert_string_equal(f->err, "setup is done already: an admin exists");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM users"), 2);
	/* an admin may still add admins the ordinary way */
	add_user(f, "root2", STORE_ADMIN);
	assert_int_equal(store_user_create(f->s, "root2", PW, STORE_VIEWER,
					   false, f->err, sizeof(f->err)), 1);
	assert_string_equal(f->err, "there is a user named \"root2\" already");
	assert_int_equal(store_user_create(f->s, "x", PW, (enum store_role)7,
					   false, f->err, sizeof(f->err)), 1);
	assert_non_null(strstr(f->err, "not one of viewer"));
}

/* A child of the race: waits on the pipe, then tries create-admin.
 * Exits 0 when it made the admin, 1 refused, 2 error. */
static int child_create(const char *state_dir, const char *name, int gate)
{
	char err[256], c;
	struct store *s = store_open(state_dir, err, sizeof(err));
	int r;

	if (!s)
		return 2;
	if (read(gate, &c, 1) < 0)
		return 2;
	r = store_user_create(s, name, PW, STORE_ADMIN, true, err,
			      sizeof(err));
	if (r == 1 && strcmp(err, "setup is done already: an admin exists"))
		r = 2;
	if (r < 0)
		fprintf(stderr, "child %s: %s\n", name, err);
	store_close(s);
	return r < 0 ? 2 : r;
}

/* Two create-admin requests at once in two processes: exactly one admin.
 * No connection may cross fork(), so the parent's is closed first. */
static void test_setup_race(void **state)
{
	struct fix *f = *state;
	int gate[2], wins = 0, refused = 0;
	pid_t pid[2];

	store_close(f->s);
	f->s = NULL;
	for (int round = 0; round < 3; round++) {
		assert_int_equal(pipe(gate), 0);
		for (int i = 0; i < 2; i++) {
			char name[32];

			snprintf(name, sizeof(name), "admin%d_%d", round, i);
			pid[i] = fork();
			assert_true(pid[i] >= 0);
			if (pid[i] == 0) {
				close(gate[1]);
				_exit(child_create(f->state, name, gate[0]));
			}
		}
		close(gate[0]);
		close(gate[1]);		/* both start at once */
		for (int i = 0; i < 2; i++) {
			int st;

			assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
			assert_true(WIFEXITED(st));
			assert_true(WEXITSTATUS(st) <= 1);
			wins += WEXITSTATUS(st) == 0;
			refused += WEXITSTATUS(st) == 1;
		}
		/* the first round makes the admin; the others find it */
		assert_int_equal(wins, 1);
		assert_int_equal(refused, 2 * round + 1);
	}
	reopen(f);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM users"), 1);
	assert_int_equal(store_setup_done(f->s), 1);
}

static void refused(struct fix *f, const char *name, const char *pw,
		    const char *why)
{
	assert_int_equal(store_user_create(f->s, name, pw, STORE_VIEWER,
					   false, f->err, sizeof(f->err)), 1);
	assert_string_equal(f->err, why);
}

static void test_bad_names_passwords(void **state)
{
	static const char chars[] = "user name: character %d (0x%02x) is not "
				    "one of A-Z a-z 0-9 . _ -";
	struct fix *f = *state;
	char name[80], pw[1100], why[128];

	refused(f, "", PW, "a user name has 1 to 64 characters");
	refused(f, NULL, PW, "a user name has 1 to 64 characters");
	memset(name, 'a', 65);
	name[65] = '\0';
	refused(f, name, PW, "a user name has 1 to 64 characters");
	name[64] = '\0';
	add_user(f, name, STORE_VIEWER);
	snprintf(why, sizeof(why), chars, 2, ' ');
	refused(f, "a b", PW, why);
	snprintf(why, sizeof(why), chars, 3, 0xc3);
	refused(f, "ab\xc3\xa9", PW, why);
	snprintf(why, sizeof(why), chars, 1, '/');
	refused(f, "/etc", PW, why);
	snprintf(why, sizeof(why), chars, 5, '\n');
	refused(f, "root\n", PW, why);
	add_user(f, "A-z_0.9", STORE_VIEWER);

	refused(f, "bob", "", "a password needs at least 10 bytes");
	refused(f, "bob", NULL, "a password needs at least 10 bytes");
	refused(f, "bob", "123456789", "a password needs at least 10 bytes");
	memset(pw, 'p', 1025);
	pw[1025] = '\0';
	refused(f, "bob", pw, "a password has at most 1024 bytes");
	pw[1024] = '\0';
	assert_int_equal(store_user_create(f->s, "bob", pw, STORE_VIEWER,
					   false, f->err, sizeof(f->err)), 0);
	assert_int_equal(store_user_check(f->s, "bob", pw, NULL, NULL), 0);
	assert_int_equal(store_user_create(f->s, "carol", "1234567890",
					   STORE_VIEWER, false, f->err,
					   sizeof(f->err)), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM users"), 4);
}

static void test_login(void **state)
{
	struct fix *f = *state;
	enum store_role role = STORE_VIEWER;
	long long id = -1, op;

	op = add_user(f, "op", STORE_OPERATOR);
	add_user(f, "admin", STORE_ADMIN);
	assert_int_equal(store_user_check(f->s, "admin", PW, &id, &role), 0);
	assert_int_equal(role, STORE_ADMIN);
	assert_int_not_equal(id, op);
	assert_int_equal(store_user_check(f->s, "op", PW, &id, &role), 0);
	assert_int_equal(id, op);
	assert_int_equal(role, STORE_OPERATOR);

	id = -1;
	assert_int_equal(store_user_check(f->s, "op", PW "x", &id, &role), 1);
	assert_int_equal(store_user_check(f->s, "op", "", &id, &role), 1);
	assert_int_equal(store_user_check(f->s, "op", NULL, &id, &role), 1);
	assert_int_equal(store_user_check(f->s, "Op", PW, &id, &role), 1);
	assert_int_equal(store_user_check(f->s, "nobody", PW, &id, &role), 1);
	assert_int_equal(store_user_check(f->s, "", PW, &id, &role), 1);
	assert_int_equal(store_user_check(f->s, NULL, PW, &id, &role), 1);
	assert_int_equal(id, -1);
}

/* The production cost: argon2id at 64 MiB, 2 passes; this test alone. */
static void test_hash_interactive(void **state)
{
	struct fix *f = *state;

	store_auth_fast_hashing(false);
	add_user(f, "slow", STORE_ADMIN);
	assert_int_equal(store_user_check(f->s, "slow", "wrong password",
					  NULL, NULL), 1);
	assert_int_equal(store_user_check(f->s, "nobody", PW, NULL, NULL), 1);
	store_auth_fast_hashing(true);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM users WHERE "
				 "pw_hash LIKE '$argon2id$v=19$m=65536,t=2,"
				 "p=1$%'"), 1);
	/* a hash of another cost still verifies */
	assert_int_equal(store_user_check(f->s, "slow", PW, NULL, NULL), 0);
}

static void test_password_change(void **state)
{
	struct fix *f = *state;
	char t1[STORE_SECRET_SIZE], t2[STORE_SECRET_SIZE],
	     t3[STORE_SECRET_SIZE], other[STORE_SECRET_SIZE];
	struct store_session sess;
	long long uid, bob, now;

	uid = add_user(f, "alice", STORE_ADMIN);
	bob = add_user(f, "bob", STORE_VIEWER);
	new_session(f, uid, t1);
	new_session(f, uid, t2);
	new_session(f, uid, t3);
	new_session(f, bob, other);
	now = raw_int(f, "SELECT max(created_at) FROM sessions") + 1;

	assert_int_equal(store_user_password(f->s, uid, "not it at all",
					     "new password 1", t1, f->err,
					     sizeof(f->err)), 1);
	assert_string_equal(f->err, "the old password is wrong");
	assert_int_equal(store_user_password(f->s, uid, PW, "short", t1,
					     f->err, sizeof(f->err)), 1);
	assert_string_equal(f->err, "a password needs at least 10 bytes");
	assert_int_equal(store_user_password(f->s, 999, PW, "new password 1",
					     NULL, f->err, sizeof(f->err)), 1);
	assert_string_equal(f->err, "there is no user 999");
	/* nothing changed by the refusals */
	assert_int_equal(store_user_check(f->s, "alice", PW, NULL, NULL), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions"), 4);

	/* the session that changes it stays; the others end */
	assert_int_equal(store_user_password(f->s, uid, PW, "new password 1",
					     t1, f->err, sizeof(f->err)), 0);
	assert_int_equal(store_user_check(f->s, "alice", PW, NULL, NULL), 1);
	assert_int_equal(store_user_check(f->s, "alice", "new password 1",
					  NULL, NULL), 0);
	assert_int_equal(store_session_check(f->s, t1, IDLE, ABSOLUTE, now,
					     &sess), 0);
	assert_int_equal(sess.user_id, uid);
	assert_int_equal(store_session_check(f->s, t2, IDLE, ABSOLUTE, now,
					     &sess), 1);
	assert_int_equal(store_session_check(f->s, t3, IDLE, ABSOLUTE, now,
					     &sess), 1);
	/* another user's session is not touched */
	assert_int_equal(store_session_check(f->s, other, IDLE, ABSOLUTE, now,
					     &sess), 0);
	assert_int_equal(sess.user_id, bob);

	/* no session kept: all end */
	assert_int_equal(store_user_password(f->s, uid, "new password 1",
					     "new password 2", NULL, f->err,
					     sizeof(f->err)), 0);
	assert_int_equal(store_session_check(f->s, t1, IDLE, ABSOLUTE, now,
					     &sess), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions"), 1);
}

static void test_session(void **state)
{
	struct fix *f = *state;
	char tok[STORE_SECRET_SIZE], csrf[STORE_SECRET_SIZE], bad[80];
	struct store_session sess;
	long long uid, t0;

	uid = add_user(f, "op", STORE_OPERATOR);
	assert_int_equal(store_session_create(f->s, uid, "192.0.2.5", tok,
					      csrf, f->err, sizeof(f->err)),
			 0);
	assert_int_equal(strlen(tok), 43);
	assert_int_equal(strlen(csrf), 43);
	assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
				"mnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(tok, csrf);
	t0 = raw_int(f, "SELECT created_at FROM sessions");
	assert_int_equal(raw_int(f, "SELECT seen_at FROM sessions"), t0);

	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE, t0,
					     &sess), 0);
	assert_int_equal(sess.user_id, uid);
	assert_string_equal(sess.name, "op");
	assert_int_equal(sess.role, STORE_OPERATOR);
	assert_string_equal(sess.csrf, csrf);
	assert_int_equal(sess.created_at, t0);
	assert_int_equal(sess.seen_at, t0);
	assert_true(store_session_csrf_ok(&sess, csrf));
	assert_false(store_session_csrf_ok(&sess, tok));
	assert_false(store_session_csrf_ok(&sess, ""));
	assert_false(store_session_csrf_ok(&sess, NULL));
	snprintf(bad, sizeof(bad), "%.42s", csrf);
	assert_false(store_session_csrf_ok(&sess, bad));
	snprintf(bad, sizeof(bad), "%sA", csrf);
	assert_false(store_session_csrf_ok(&sess, bad));

	/* the user's role is read at each check */
	raw_exec(f, "UPDATE users SET role = 'viewer'");
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE, t0,
					     &sess), 0);
	assert_int_equal(sess.role, STORE_VIEWER);

	/* unknown, malformed, a prefix */
	assert_int_equal(store_session_check(f->s, csrf, IDLE, ABSOLUTE, t0,
					     &sess), 1);
	assert_int_equal(store_session_check(f->s, "", IDLE, ABSOLUTE, t0,
					     &sess), 1);
	assert_int_equal(store_session_check(f->s, NULL, IDLE, ABSOLUTE, t0,
					     &sess), 1);
	snprintf(bad, sizeof(bad), "%.42s", tok);
	assert_int_equal(store_session_check(f->s, bad, IDLE, ABSOLUTE, t0,
					     &sess), 1);

	/* logout */
	assert_int_equal(store_session_delete(f->s, tok), 0);
	assert_int_equal(store_session_delete(f->s, tok), 1);
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE, t0,
					     &sess), 1);

	/* no such user: nothing handed out */
	assert_int_equal(store_session_create(f->s, 999, "x", tok, csrf,
					      f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "starting a session: there is no user "
			    "999");
	assert_int_equal(tok[0], '\0');
	assert_int_equal(csrf[0], '\0');
}

static void test_session_expiry(void **state)
{
	struct fix *f = *state;
	char tok[STORE_SECRET_SIZE];
	struct store_session sess;
	long long uid, t0, t;

	uid = add_user(f, "op", STORE_OPERATOR);

	/* idle: a check within the limit moves it on; one at it ends it */
	new_session(f, uid, tok);
	t0 = raw_int(f, "SELECT created_at FROM sessions");
	/* seen_at moves at most once a second */
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE,
					     t0 + 999, &sess), 0);
	assert_int_equal(sess.seen_at, t0);
	t = t0 + IDLE - 1;
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE, t,
					     &sess), 0);
	assert_int_equal(sess.seen_at, t);
	assert_int_equal(raw_int(f, "SELECT seen_at FROM sessions"), t);
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE,
					     t + IDLE - 1, &sess), 0);
	t += IDLE - 1;
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE,
					     t + IDLE, &sess), 1);
	assert_int_equal(sess.user_id, 0);
	/* and it is gone, even for an earlier clock */
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions"), 0);
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE, t,
					     &sess), 1);

	/* a peek checks it but does not see it: it still goes idle */
	new_session(f, uid, tok);
	t0 = raw_int(f, "SELECT created_at FROM sessions");
	assert_int_equal(store_session_peek(f->s, tok, IDLE, ABSOLUTE,
					    t0 + IDLE - 1, &sess), 0);
	assert_int_equal(raw_int(f, "SELECT seen_at FROM sessions"), t0);
	assert_int_equal(store_session_peek(f->s, tok, IDLE, ABSOLUTE,
					    t0 + IDLE, &sess), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions"), 0);

	/* absolute: ends however often it is used */
	new_session(f, uid, tok);
	t0 = raw_int(f, "SELECT created_at FROM sessions");
	for (t = t0; t < t0 + ABSOLUTE; t += 20 * MIN_MS)
		assert_int_equal(store_session_check(f->s, tok, IDLE,
						     ABSOLUTE, t, &sess), 0);
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE,
					     t0 + ABSOLUTE - 1, &sess), 0);
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE,
					     t0 + ABSOLUTE, &sess), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions"), 0);

	/* prune: those nobody presents again */
	new_session(f, uid, tok);
	t0 = raw_int(f, "SELECT max(created_at) FROM sessions");
	new_session(f, uid, tok);
	assert_int_equal(store_session_prune(f->s, IDLE, ABSOLUTE,
					     t0 + IDLE - 1000), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions"), 2);
	assert_int_equal(store_session_prune(f->s, IDLE, ABSOLUTE,
					     t0 + IDLE + 60000), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions"), 0);

	/* a deleted user's sessions go with it */
	new_session(f, uid, tok);
	raw_exec(f, "PRAGMA foreign_keys = ON; DELETE FROM users");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sessions"), 0);
}

static void test_tokens(void **state)
{
	struct fix *f = *state;
	char t1[STORE_API_TOKEN_SIZE], t2[STORE_API_TOKEN_SIZE],
	     name[STORE_USER_NAME_MAX + 1], bad[STORE_API_TOKEN_SIZE];
	enum store_role role;
	struct store_token *v;
	long long id1, id2, id;
	size_t n;

	assert_int_equal(store_token_create(f->s, "ci deploy", STORE_OPERATOR,
					    "admin", &id1, t1, f->err,
					    sizeof(f->err)), 0);
	assert_int_equal(store_token_create(f->s, "grafana", STORE_VIEWER,
					    "admin", &id2, t2, f->err,
					    sizeof(f->err)), 0);
	assert_int_not_equal(id1, id2);
	assert_int_equal(strlen(t1), 48);
	assert_memory_equal(t1, "moat_", 5);
	assert_int_equal(strspn(t1 + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijk"
				"lmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(t1, t2);

	assert_int_equal(store_token_check(f->s, t1, 5000, &id, &role, name),
			 0);
	assert_int_equal(id, id1);
	assert_int_equal(role, STORE_OPERATOR);
	assert_string_equal(name, "ci deploy");
	assert_int_equal(store_token_check(f->s, t2, 6000, NULL, &role, NULL),
			 0);
	assert_int_equal(role, STORE_VIEWER);
	/* last use moves at most once a second */
	assert_int_equal(store_token_check(f->s, t2, 6999, NULL, NULL, NULL),
			 0);

	assert_int_equal(store_token_list(f->s, &v, &n, f->err,
					  sizeof(f->err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].id, id1);
	assert_string_equal(v[0].name, "ci deploy");
	assert_string_equal(v[0].created_by, "admin");
	assert_int_equal(v[0].role, STORE_OPERATOR);
	assert_true(v[0].created_at > 1600000000000LL);
	assert_int_equal(v[0].revoked_at, 0);
	assert_int_equal(v[0].last_used_at, 5000);
	assert_int_equal(v[1].last_used_at, 6000);
	store_tokens_free(v, n);

	/* revoked: fails on its next use, and once only */
	assert_int_equal(store_token_revoke(f->s, id1), 0);
	assert_int_equal(store_token_revoke(f->s, id1), 1);
	assert_int_equal(store_token_revoke(f->s, 999), 1);
	assert_int_equal(store_token_check(f->s, t1, 8000, &id, &role, name),
			 1);
	assert_int_equal(store_token_check(f->s, t2, 8000, &id, &role, name),
			 0);
	assert_int_equal(store_token_list(f->s, &v, &n, f->err,
					  sizeof(f->err)), 0);
	assert_int_equal(n, 2);
	assert_true(v[0].revoked_at > 0);
	assert_int_equal(v[1].revoked_at, 0);
	assert_int_equal(v[1].last_used_at, 8000);
	store_tokens_free(v, n);

	/* not tokens */
	assert_int_equal(store_token_check(f->s, NULL, 1, &id, &role, name),
			 1);
	assert_int_equal(store_token_check(f->s, "", 1, &id, &role, name), 1);
	assert_int_equal(store_token_check(f->s, t2 + 5, 1, &id, &role, name),
			 1);
	snprintf(bad, sizeof(bad), "%s", t2);
	bad[47] = bad[47] == 'A' ? 'B' : 'A';
	assert_int_equal(store_token_check(f->s, bad, 1, &id, &role, name),
			 1);
	snprintf(bad, sizeof(bad), "MOAT_%s", t2 + 5);
	assert_int_equal(store_token_check(f->s, bad, 1, &id, &role, name),
			 1);

	/* refused */
	assert_int_equal(store_token_create(f->s, "", STORE_VIEWER, "admin",
					    &id, t1, f->err, sizeof(f->err)),
			 1);
	assert_string_equal(f->err, "an API token's name has 1 to 64 "
			    "characters");
	assert_int_equal(store_token_create(f->s, "a\tb", STORE_VIEWER,
					    "admin", &id, t1, f->err,
					    sizeof(f->err)), 1);
	assert_string_equal(f->err, "API token name: character 2 (0x09) is "
			    "not printable ASCII");
	assert_int_equal(store_token_create(f->s, "x", (enum store_role)3,
					    "admin", &id, t1, f->err,
					    sizeof(f->err)), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM api_tokens"), 2);
}

/* The whole file, or NULL when it does not exist. */
static char *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	char *p = NULL;
	long len;

	*n = 0;
	if (!fp)
		return NULL;
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	assert_true(len >= 0);
	rewind(fp);
	p = malloc((size_t)len + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	*n = (size_t)len;
	return p;
}

/* Whether needle occurs in the database or its WAL. */
static bool in_files(struct fix *f, const char *needle)
{
	static const char *const ext[] = { "", "-wal" };
	bool found = false;

	for (size_t i = 0; i < ARRAY_SIZE(ext) && !found; i++) {
		char path[160], *p;
		size_t n;

		snprintf(path, sizeof(path), "%s%s", f->db, ext[i]);
		p = slurp(path, &n);
		found = p && memmem(p, n, needle, strlen(needle));
		free(p);
	}
	return found;
}

static void sha_hex(const char *s, char hex[65])
{
	unsigned char sum[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(sum, (const unsigned char *)s, strlen(s));
	sodium_bin2hex(hex, 65, sum, sizeof(sum));
}

static void test_secrets_not_in_db(void **state)
{
	static const char pw[] = "Secret Password 42";
	struct fix *f = *state;
	char tok[STORE_SECRET_SIZE], csrf[STORE_SECRET_SIZE],
	     api[STORE_API_TOKEN_SIZE], hex[65];
	struct store_session sess;
	long long uid, id;

	assert_int_equal(store_user_create(f->s, "alice", pw, STORE_ADMIN,
					   true, f->err, sizeof(f->err)), 0);
	assert_int_equal(store_user_check(f->s, "alice", pw, &uid, NULL), 0);
	assert_int_equal(store_session_create(f->s, uid, "192.0.2.5", tok,
					      csrf, f->err, sizeof(f->err)),
			 0);
	assert_int_equal(store_session_check(f->s, tok, IDLE, ABSOLUTE,
					     raw_int(f, "SELECT created_at "
						     "FROM sessions") + 5000,
					     &sess), 0);
	assert_int_equal(store_token_create(f->s, "ci", STORE_ADMIN, "alice",
					    &id, api, f->err, sizeof(f->err)),
			 0);
	assert_int_equal(store_token_check(f->s, api, 1, NULL, NULL, NULL),
			 0);
	assert_int_equal(store_user_password(f->s, uid, pw, "Other Secret 43",
					     tok, f->err, sizeof(f->err)), 0);

	/* in the WAL before a checkpoint, in the main file after */
	for (int round = 0; round < 2; round++) {
		assert_false(in_files(f, pw));
		assert_false(in_files(f, "Other Secret 43"));
		assert_false(in_files(f, tok));
		assert_false(in_files(f, api));
		assert_false(in_files(f, api + 5));
		/* what is there: the hashes (the files are the right ones) */
		sha_hex(tok, hex);
		assert_true(in_files(f, hex));
		sha_hex(api, hex);
		assert_true(in_files(f, hex));
		assert_true(in_files(f, "$argon2id$"));
		store_close(f->s);
		f->s = NULL;
		reopen(f);
	}
}

static void test_backoff_schedule(void **state)
{
	(void)state;
	assert_int_equal(store_login_backoff_ms(-1), 0);
	assert_int_equal(store_login_backoff_ms(0), 0);
	assert_int_equal(store_login_backoff_ms(1), 0);
	assert_int_equal(store_login_backoff_ms(2), 0);
	assert_int_equal(store_login_backoff_ms(3), 250);
	assert_int_equal(store_login_backoff_ms(4), 500);
	assert_int_equal(store_login_backoff_ms(5), 1000);
	assert_int_equal(store_login_backoff_ms(6), 2000);
	assert_int_equal(store_login_backoff_ms(14), 512000);
	assert_int_equal(store_login_backoff_ms(15), 900000);
	assert_int_equal(store_login_backoff_ms(40), 900000);
	assert_int_equal(store_login_backoff_ms(1LL << 62), 900000);
}

static void fail_n(struct fix *f, const char *key, int n, long long at)
{
	for (int i = 0; i < n; i++)
		store_login_failed(f->s, key, at);
}

static void test_backoff_store(void **state)
{
	struct fix *f = *state;
	const long long t = 1700000000000LL, day = 24 * 3600 * 1000LL;

	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t), 0);
	fail_n(f, "user:alice", 2, t);
	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t), 0);
	fail_n(f, "user:alice", 1, t);
	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t), 250);
	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t + 100),
			 150);
	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t + 250), 0);
	fail_n(f, "user:alice", 1, t + 300);
	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t + 300),
			 500);
	fail_n(f, "user:alice", 1, t + 1000);
	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t + 1000),
			 1000);
	/* the clock stepping back does not make it longer */
	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t - 60000),
			 1000);
	/* keys are apart */
	assert_int_equal(store_login_wait_ms(f->s, "src:192.0.2.5", t + 1000),
			 0);
	assert_int_equal(store_login_wait_ms(f->s, "user:Alice", t + 1000),
			 0);
	/* capped */
	fail_n(f, "src:192.0.2.5", 30, t);
	assert_int_equal(store_login_wait_ms(f->s, "src:192.0.2.5", t),
			 STORE_LOGIN_MAX_MS);
	assert_int_equal(store_login_wait_ms(f->s, "src:192.0.2.5",
					     t + STORE_LOGIN_MAX_MS), 0);
	/* a success resets */
	store_login_ok(f->s, "user:alice");
	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t + 1000), 0);
	fail_n(f, "user:alice", 2, t + 2000);
	assert_int_equal(store_login_wait_ms(f->s, "user:alice", t + 2000), 0);
	/* a day of quiet forgets, and the row goes at the next failure */
	assert_int_equal(store_login_wait_ms(f->s, "src:192.0.2.5", t + day),
			 0);
	fail_n(f, "src:192.0.2.5", 1, t + day);
	assert_int_equal(store_login_wait_ms(f->s, "src:192.0.2.5", t + day),
			 0);
	assert_int_equal(raw_int(f, "SELECT count FROM login_failures WHERE "
				 "key = 'src:192.0.2.5'"), 1);
	fail_n(f, "src:198.51.100.1", 1, t + 2 * day);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM login_failures"), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM login_failures "
				 "WHERE key = 'src:198.51.100.1'"), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_migrate),
		T(test_migrate_from_2),
		cmocka_unit_test(test_roles),
		T(test_setup_flow),
		T(test_setup_race),
		T(test_bad_names_passwords),
		T(test_login),
		T(test_hash_interactive),
		T(test_password_change),
		T(test_session),
		T(test_session_expiry),
		T(test_tokens),
		T(test_secrets_not_in_db),
		cmocka_unit_test(test_backoff_schedule),
		T(test_backoff_store),
	};

	if (sodium_init() < 0)
		return 1;
	store_auth_fast_hashing(true);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
