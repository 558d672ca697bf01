/* The state store on a real SQLite file in a temporary directory: schema
 * migrations, config revisions, and the audit chain catching every kind
 * of tampering that goes around the append-only triggers. */
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
#include "store/store.h"
#include "store_fixture.h"

static int setup(void **state)
{
	return fix_setup(state, "/tmp/moat-test-store-XXXXXX");
}

static int teardown(void **state)
{
	return fix_teardown(state);
}

static void test_migrate_fresh_and_reopen(void **state)
{
	struct fix *f = *state;

	assert_int_equal(raw_int(f, "PRAGMA user_version"), 3);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master "
				 "WHERE name IN ('wg_peers', 'revisions', "
				 "'audit', 'audit_no_update', "
				 "'audit_no_delete')"), 5);
	reopen(f);
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 3);
}

/* An empty file (what store_open's own open() leaves after a crash). */
static void test_migrate_empty_file(void **state)
{
	struct fix *f = *state;
	FILE *fp;

	store_close(f->s);
	f->s = NULL;
	unlink(f->db);
	fp = fopen(f->db, "w");
	assert_non_null(fp);
	fclose(fp);
	reopen(f);
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 3);
}

/* A store of the first schema moves forward and keeps its peers. */
static void test_migrate_from_1(void **state)
{
	struct fix *f = *state;

	raw_exec(f, "INSERT INTO wg_peers (device, name, public_key, "
		 "allowed_ips, created_at) VALUES ('wg0', 'a', 'k', '', 1);"
		 "DROP TABLE audit; DROP TABLE revisions; DROP TABLE sessions;"
		 "DROP TABLE api_tokens; DROP TABLE login_failures;"
		 "DROP TABLE users;"
		 "PRAGMA user_version = 1");
	reopen(f);
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 3);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM wg_peers"), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM audit"), 0);
}

static void test_migrate_newer_refused(void **state)
{
	struct fix *f = *state;

	store_close(f->s);
	raw_exec(f, "PRAGMA user_version = 99");
	f->s = store_open(f->state, f->err, sizeof(f->err));
	assert_null(f->s);
	assert_non_null(strstr(f->err, "newer moat"));
}

static long long add_rev(struct fix *f, long long at, const char *config,
			 const char *result)
{
	struct store_revision r = {
		.created_at = at, .author = "root", .origin = "ctl.sock",
		.config_path = "/etc/moat/moat.hcl", .config = (char *)config,
		.result = (char *)result,
	};
	long long id = 0;

	if (store_revision_add(f->s, &r, &id, f->err, sizeof(f->err)) < 0)
		fail_msg("store_revision_add: %s", f->err);
	return id;
}

static void test_revisions(void **state)
{
	struct fix *f = *state;
	unsigned char sum[crypto_hash_sha256_BYTES];
	char hex[65];
	struct store_revision *v, r;
	size_t n;

	assert_int_equal(add_rev(f, 1000, "a = 1\n", "applied"), 1);
	assert_int_equal(add_rev(f, 1000, "a = 2\n", "failed"), 2);
	assert_int_equal(add_rev(f, 0, "a = 3\n", "pending"), 3);

	assert_int_equal(store_revisions_list(f->s, 0, &v, &n, f->err,
					      sizeof(f->err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].id, 3);
	assert_int_equal(v[1].id, 2);
	assert_int_equal(v[2].id, 1);
	assert_null(v[0].config);
	assert_string_equal(v[1].result, "failed");
	assert_string_equal(v[2].author, "root");
	assert_true(v[0].created_at > 1000);
	store_revisions_free(v, n);

	assert_int_equal(store_revisions_list(f->s, 2, &v, &n, f->err,
					      sizeof(f->err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[1].id, 2);
	store_revisions_free(v, n);

	assert_int_equal(store_revision_get(f->s, 2, &r, f->err,
					    sizeof(f->err)), 0);
	assert_string_equal(r.config, "a = 2\n");
	assert_string_equal(r.config_path, "/etc/moat/moat.hcl");
	assert_string_equal(r.origin, "ctl.sock");
	assert_int_equal(r.created_at, 1000);
	crypto_hash_sha256(sum, (const unsigned char *)"a = 2\n", 6);
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	assert_string_equal(r.hash, hex);
	store_revision_clear(&r);

	assert_int_equal(store_revision_set_result(f->s, 3, "confirmed",
						   "by root", f->err,
						   sizeof(f->err)), 0);
	assert_int_equal(store_revision_set_result(f->s, 3, "confirmed", NULL,
						   f->err, sizeof(f->err)), 0);
	assert_int_equal(store_revision_get(f->s, 3, &r, f->err,
					    sizeof(f->err)), 0);
	assert_string_equal(r.result, "confirmed");
	assert_string_equal(r.detail, "by root");
	store_revision_clear(&r);
	store_revision_clear(NULL);
	store_revisions_free(NULL, 0);
}

static void test_revisions_refused(void **state)
{
	struct fix *f = *state;
	struct store_revision r;
	long long id;

	assert_int_equal(store_revision_get(f->s, 7, &r, f->err,
					    sizeof(f->err)), 1);
	assert_int_equal(store_revision_set_result(f->s, 7, "applied", NULL,
						   f->err, sizeof(f->err)), -1);
	assert_string_equal(f->err, "there is no config revision 7");
	r = (struct store_revision){ .config = (char *)"x",
				     .result = (char *)"done" };
	assert_int_equal(store_revision_add(f->s, &r, &id, f->err,
					    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "\"done\" is not one of"));
	add_rev(f, 0, "x", "pending");
	assert_int_equal(store_revision_set_result(f->s, 1, "gone", NULL,
						   f->err, sizeof(f->err)), -1);
}

static void append_n(struct fix *f, struct store *s, int n)
{
	for (int i = 0; i < n; i++) {
		char detail[32];
		struct store_audit e = {
			.who = "root", .origin = "ctl.sock", .action = "apply",
			.detail = detail, .result = i % 7 ? "ok" : "failed",
		};

		snprintf(detail, sizeof(detail), "revision %d", i);
		if (store_audit_append(s, &e, NULL, f->err,
				       sizeof(f->err)) < 0)
			fail_msg("store_audit_append: %s", f->err);
	}
}

/* Verifies and expects it broken at bad with a message containing msg. */
static void expect_broken(struct fix *f, long long bad, const char *msg)
{
	long long got = -1;
	size_t rows;

	assert_int_equal(store_audit_verify(f->s, &rows, &got, NULL, f->err,
					    sizeof(f->err)), 1);
	assert_int_equal(got, bad);
	if (!strstr(f->err, msg))
		fail_msg("\"%s\" does not say \"%s\"", f->err, msg);
}

struct seen {
	long long ids[8];
	size_t n, stop_at;
	char last_hash[65];
};

static int collect(const struct store_audit *e, void *data)
{
	struct seen *w = data;

	if (w->n < ARRAY_SIZE(w->ids))
		w->ids[w->n] = e->id;
	w->n++;
	memcpy(w->last_hash, e->hash, sizeof(w->last_hash));
	return w->stop_at && w->n == w->stop_at;
}

static void test_audit_chain(void **state)
{
	struct fix *f = *state;
	struct store_audit e = { .who = "uid 1000", .origin = "api 192.0.2.5",
				 .action = "wg.peer.add", .at = 1234 };
	struct seen w = { 0 };
	char last[65];
	long long id, bad;
	size_t rows;

	assert_int_equal(store_audit_verify(f->s, &rows, &bad, last, f->err,
					    sizeof(f->err)), 0);
	assert_int_equal(rows, 0);
	append_n(f, f->s, 99);
	assert_int_equal(store_audit_append(f->s, &e, &id, f->err,
					    sizeof(f->err)), 0);
	assert_int_equal(id, 100);
	assert_int_equal(store_audit_verify(f->s, &rows, &bad, last, f->err,
					    sizeof(f->err)), 0);
	assert_int_equal(rows, 100);
	assert_int_equal(bad, 0);

	assert_int_equal(store_audit_tail(f->s, 3, collect, &w, f->err,
					  sizeof(f->err)), 0);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.ids[0], 98);
	assert_int_equal(w.ids[2], 100);
	assert_string_equal(w.last_hash, last);

	memset(&w, 0, sizeof(w));
	assert_int_equal(store_audit_each(f->s, 10, 5, collect, &w, f->err,
					  sizeof(f->err)), 0);
	assert_int_equal(w.n, 5);
	assert_int_equal(w.ids[0], 11);
	assert_int_equal(w.ids[4], 15);

	memset(&w, 0, sizeof(w));
	w.stop_at = 2;
	assert_int_equal(store_audit_each(f->s, 0, 0, collect, &w, f->err,
					  sizeof(f->err)), 0);
	assert_int_equal(w.n, 2);

	e.action = "";
	assert_int_equal(store_audit_append(f->s, &e, &id, f->err,
					    sizeof(f->err)), -1);
}

/* Copies the id, at, prev and hash of the row it is called on. */
static int last_row(const struct store_audit *e, void *data)
{
	struct store_audit *r = data;

	r->id = e->id;
	r->at = e->at;
	memcpy(r->prev, e->prev, sizeof(r->prev));
	memcpy(r->hash, e->hash, sizeof(r->hash));
	return 0;
}

/* A stored row's hash is store_audit_hash of its fields, and the first
 * row chains to 64 zeros. */
static void test_audit_row_fields(void **state)
{
	struct fix *f = *state;
	struct store_audit e = { .who = "root", .origin = "signal",
				 .action = "reload", .detail = "SIGHUP",
				 .result = "ok", .at = 5 }, got = { 0 };

	assert_int_equal(store_audit_append(f->s, &e, NULL, f->err,
					    sizeof(f->err)), 0);
	assert_int_equal(store_audit_tail(f->s, 1, last_row, &got, f->err,
					  sizeof(f->err)), 0);
	assert_int_equal(got.id, 1);
	assert_int_equal(got.at, 5);
	assert_string_equal(got.prev, "00000000000000000000000000000000"
			    "00000000000000000000000000000000");
	e.id = 1;
	memcpy(e.prev, got.prev, sizeof(e.prev));
	store_audit_hash(&e, e.hash);
	assert_string_equal(e.hash, got.hash);
}

static void test_audit_hash_fields(void **state)
{
	struct store_audit a = { .id = 1, .at = 2, .who = "ab", .origin = "c",
				 .action = "x", .detail = "", .result = "ok" };
	struct store_audit b = a;
	char ha[65], hb[65];

	(void)state;
	b.who = "a";
	b.origin = "bc";
	store_audit_hash(&a, ha);
	store_audit_hash(&b, hb);
	assert_string_not_equal(ha, hb);

	b = a;
	a.detail = "1";
	a.result = "";
	b.detail = "";
	b.result = "1";
	store_audit_hash(&a, ha);
	store_audit_hash(&b, hb);
	assert_string_not_equal(ha, hb);

	/* id and at, which print as digits, against each other */
	b = a;
	a.id = 12;
	a.at = 3;
	b.id = 1;
	b.at = 23;
	store_audit_hash(&a, ha);
	store_audit_hash(&b, hb);
	assert_string_not_equal(ha, hb);

	b = a;
	store_audit_hash(&b, hb);
	assert_string_equal(ha, hb);
}

static void test_audit_triggers(void **state)
{
	struct fix *f = *state;
	sqlite3 *db;

	append_n(f, f->s, 3);
	db = raw_open(f);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET detail = 'x' "
					  "WHERE id = 2", NULL, NULL, NULL),
			     SQLITE_OK);
	assert_string_equal(sqlite3_errmsg(db), "the audit log is append-only");
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit WHERE id = 2",
					  NULL, NULL, NULL), SQLITE_OK);
	assert_string_equal(sqlite3_errmsg(db), "the audit log is append-only");
	sqlite3_close(db);
	assert_int_equal(store_audit_verify(f->s, NULL, NULL, NULL, f->err,
					    sizeof(f->err)), 0);
}

static void test_tamper_detail(void **state)
{
	struct fix *f = *state;

	append_n(f, f->s, 100);
	raw_exec(f, "DROP TRIGGER audit_no_update;"
		 "UPDATE audit SET detail = 'nothing happened' WHERE id = 42");
	expect_broken(f, 42, "audit row 42: hash does not match its contents");
}

/* A byte hidden behind a NUL: C strings would not see it, the hash does. */
static void test_tamper_nul(void **state)
{
	struct fix *f = *state;

	append_n(f, f->s, 10);
	raw_exec(f, "DROP TRIGGER audit_no_update;"
		 "UPDATE audit SET detail = detail || char(0) || 'x' "
		 "WHERE id = 4");
	expect_broken(f, 4, "audit row 4: hash does not match");
}

static void test_tamper_delete(void **state)
{
	struct fix *f = *state;

	append_n(f, f->s, 100);
	raw_exec(f, "DROP TRIGGER audit_no_delete;"
		 "DELETE FROM audit WHERE id = 50");
	expect_broken(f, 50, "audit row 50 is missing: the row after 49 "
		      "is 51");
}

static void test_tamper_delete_first(void **state)
{
	struct fix *f = *state;

	append_n(f, f->s, 5);
	raw_exec(f, "DROP TRIGGER audit_no_delete;"
		 "DELETE FROM audit WHERE id <= 2");
	expect_broken(f, 1, "audit row 1 is missing");
}

static void test_tamper_prev(void **state)
{
	struct fix *f = *state;

	append_n(f, f->s, 100);
	raw_exec(f, "DROP TRIGGER audit_no_update;"
		 "UPDATE audit SET prev = (SELECT prev FROM audit WHERE id = 29)"
		 " WHERE id = 30");
	expect_broken(f, 30, "audit row 30: prev is not the hash of row 29");
}

static void raw_hash(struct fix *f, long long id, char out[65])
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT hash FROM audit "
					    "WHERE id = ?", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* An editor who also rewrites the row's hash breaks the next row. */
static void test_tamper_rehash(void **state)
{
	struct fix *f = *state;
	struct store_audit e = { .id = 30, .at = 1, .who = "root",
				 .origin = "ctl.sock", .action = "apply",
				 .detail = "forged", .result = "ok" };
	char sql[512];

	append_n(f, f->s, 100);
	raw_hash(f, 29, e.prev);
	store_audit_hash(&e, e.hash);
	snprintf(sql, sizeof(sql), "DROP TRIGGER audit_no_update;"
		 "UPDATE audit SET at = 1, detail = 'forged', result = 'ok' "
		 ", hash = '%s' WHERE id = 30", e.hash);
	raw_exec(f, sql);
	expect_broken(f, 31, "audit row 31: prev is not the hash of row 30");
}

/* Cutting the newest rows: seen while SQLite's sequence remembers them;
 * once that is rewritten too, only a hash kept elsewhere shows it. */
static void test_tamper_truncate(void **state)
{
	struct fix *f = *state;
	char before[65], after[65];
	size_t rows;
	long long bad;

	append_n(f, f->s, 100);
	assert_int_equal(store_audit_verify(f->s, &rows, &bad, before, f->err,
					    sizeof(f->err)), 0);
	raw_exec(f, "DROP TRIGGER audit_no_delete;"
		 "DELETE FROM audit WHERE id >= 99");
	expect_broken(f, 99, "audit row 99 is missing: the log ends at row 98");

	raw_exec(f, "UPDATE sqlite_sequence SET seq = 98 WHERE name = 'audit'");
	assert_int_equal(store_audit_verify(f->s, &rows, &bad, after, f->err,
					    sizeof(f->err)), 0);
	assert_int_equal(rows, 98);
	assert_string_not_equal(before, after);
}

/* Rows cut from the end, then appended after: the gap shows. */
static void test_tamper_truncate_then_append(void **state)
{
	struct fix *f = *state;

	append_n(f, f->s, 10);
	raw_exec(f, "DROP TRIGGER audit_no_delete;"
		 "DELETE FROM audit WHERE id = 10");
	append_n(f, f->s, 1);
	expect_broken(f, 10, "audit row 10 is missing: the row after 9 is 11");
}

/* A child's appends, without cmocka (which lives in the parent). */
static int child_append(const char *state_dir, int n)
{
	char err[256];
	struct store *s = store_open(state_dir, err, sizeof(err));
	int bad = !s;

	for (int i = 0; s && !bad && i < n; i++) {
		struct store_audit e = { .who = "child", .origin = "test",
					 .action = "apply", .result = "ok" };

		bad = store_audit_append(s, &e, NULL, err, sizeof(err)) < 0;
	}
	if (bad)
		fprintf(stderr, "child: %s\n", err);
	store_close(s);
	return bad;
}

/* Two processes appending at once still make one chain. No connection
 * may cross fork(), so the parent's is closed first. */
static void test_audit_concurrent(void **state)
{
	struct fix *f = *state;
	pid_t pid[2];
	size_t rows;
	long long bad;

	store_close(f->s);
	f->s = NULL;
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		assert_true(pid[i] >= 0);
		if (pid[i] == 0)
			_exit(child_append(f->state, 50));
	}
	reopen(f);
	append_n(f, f->s, 20);
	for (int i = 0; i < 2; i++) {
		int st;

		assert_int_equal(waitpid(pid[i], &st, 0), pid[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	if (store_audit_verify(f->s, &rows, &bad, NULL, f->err,
			       sizeof(f->err)) != 0)
		fail_msg("verify: %s", f->err);
	assert_int_equal(rows, 120);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_migrate_fresh_and_reopen),
		T(test_migrate_empty_file),
		T(test_migrate_from_1),
		T(test_migrate_newer_refused),
		T(test_revisions),
		T(test_revisions_refused),
		T(test_audit_chain),
		T(test_audit_row_fields),
		cmocka_unit_test(test_audit_hash_fields),
		T(test_audit_triggers),
		T(test_tamper_detail),
		T(test_tamper_nul),
		T(test_tamper_delete),
		T(test_tamper_delete_first),
		T(test_tamper_prev),
		T(test_tamper_rehash),
		T(test_tamper_truncate),
		T(test_tamper_truncate_then_append),
		T(test_audit_concurrent),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
