/* A store in a temporary directory for the store's unit tests, and a raw
 * second connection to its file: what someone with write access to
 * STATE_DIR could do behind moat's back. Include after cmocka.h and
 * sqlite3.h. */
#ifndef MOAT_TESTS_STORE_FIXTURE_H
#define MOAT_TESTS_STORE_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

struct fix {
	char dir[64];		/* the mkdtemp directory */
	char state[96];		/* the state dir inside it */
	char db[128];		/* state/moat.db */
	struct store *s;
	char err[256];
};

/* tmpl: a mkdtemp template, "/tmp/moat-test-NAME-XXXXXX" */
static inline int fix_setup(void **state, const char *tmpl)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s", tmpl);
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->state, sizeof(f->state), "%s/state", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/moat.db", f->state);
	f->s = store_open(f->state, f->err, sizeof(f->err));
	if (!f->s)
		fail_msg("store_open: %s", f->err);
	*state = f;
	return 0;
}

static inline int fix_teardown(void **state)
{
	struct fix *f = *state;
	static const char *const ext[] = { "", "-wal", "-shm" };
	char p[160];

	store_close(f->s);
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->db, ext[i]);
		unlink(p);
	}
	rmdir(f->state);
	rmdir(f->dir);
	free(f);
	return 0;
}

static inline void reopen(struct fix *f)
{
	store_close(f->s);
	f->s = store_open(f->state, f->err, sizeof(f->err));
	if (!f->s)
		fail_msg("store_open: %s", f->err);
}

static inline sqlite3 *raw_open(struct fix *f)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static inline void raw_exec(struct fix *f, const char *sql)
{
	sqlite3 *db = raw_open(f);
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

static inline long long raw_int(struct fix *f, const char *sql)
{
	sqlite3 *db = raw_open(f);
	sqlite3_stmt *st;
	long long v;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}
#endif
