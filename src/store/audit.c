/* The audit log: who did what, from where, and how it ended, one row per
 * action, append-only. Each row carries the hash of the row before it
 * (prev) and a hash of its own fields and prev, so changing or deleting a
 * row breaks the chain at that row. Triggers refuse UPDATE and DELETE;
 * the chain is for whoever drops them or edits the file directly.
 *
 * The hash is SHA-256 over "moat audit 1\n" and then id, at, who, origin,
 * action, detail, result and prev, each as a netstring ("<decimal
 * length>:<bytes>,"), so no bytes can move from one field to the next
 * without changing it. id is in it so rows cannot be swapped or
 * renumbered. Ids are AUTOINCREMENT and the log is only appended to, so
 * they run 1, 2, 3... with no gap: a missing id is a deleted row.
 *
 * What the chain cannot show is its newest rows cut off: the rows left
 * still verify. Verify compares the last id with SQLite's sequence (which
 * a careless editor leaves behind), but only a hash kept elsewhere (the
 * `last` that verify returns) catches a careful one. This file must not
 * decide what is logged: no secrets, that is the callers' concern. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/util.h"
#include "store/internal.h"
#include "store/store.h"

#define HEX_LEN 64

static const char zeros[HEX_LEN + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static const char *const row_cols =
	"id, at, who, origin, action, detail, result, prev, hash";

/* The text fields in the order they are hashed, with their lengths, so
 * verify can hash what is stored, embedded NULs and all. */
enum { F_WHO, F_ORIGIN, F_ACTION, F_DETAIL, F_RESULT, F_PREV, F_N };

struct field {
	const char *p;
	size_t n;
};

static void hash_field(crypto_hash_sha256_state *h, const char *p, size_t n)
{
	char len[32];
	int k = snprintf(len, sizeof(len), "%zu:", n);

	crypto_hash_sha256_update(h, (const unsigned char *)len,
				  (unsigned long long)k);
	crypto_hash_sha256_update(h, (const unsigned char *)p, n);
	crypto_hash_sha256_update(h, (const unsigned char *)",", 1);
}

static void hash_int(crypto_hash_sha256_state *h, long long v)
{
	char t[32];
	int k = snprintf(t, sizeof(t), "%lld", v);

	hash_field(h, t, (size_t)k);
}

static void chain_hash(long long id, long long at, const struct field f[F_N],
		       char out[HEX_LEN + 1])
{
	static const char tag[] = "moat audit 1\n";
	unsigned char sum[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state h;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)tag,
				  sizeof(tag) - 1);
	hash_int(&h, id);
	hash_int(&h, at);
	for (int i = 0; i < F_N; i++)
		hash_field(&h, f[i].p, f[i].n);
	crypto_hash_sha256_final(&h, sum);
	sodium_bin2hex(out, HEX_LEN + 1, sum, sizeof(sum));
}

static struct field cfield(const char *s)
{
	s = s ? s : "";
	return (struct field){ s, strlen(s) };
}

void store_audit_hash(const struct store_audit *e, char hash[65])
{
	struct field f[F_N] = {
		[F_WHO] = cfield(e->who),
		[F_ORIGIN] = cfield(e->origin),
		[F_ACTION] = cfield(e->action),
		[F_DETAIL] = cfield(e->detail),
		[F_RESULT] = cfield(e->result),
		[F_PREV] = { e->prev, strnlen(e->prev, HEX_LEN) },
	};

	chain_hash(e->id, e->at, f, hash);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The id the next row gets and the hash it chains to. The id comes from
 * SQLite's sequence rather than the last row so that rows cut from the
 * end show as a gap once anything is appended after them. */
static int chain_end(struct store *s, long long *next, char prev[65],
		     char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store_db(s), "SELECT (SELECT seq FROM "
			       "sqlite_sequence WHERE name = 'audit'), "
			       "(SELECT hash FROM audit ORDER BY id DESC "
			       "LIMIT 1)", -1, &st, NULL) != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "reading the audit log");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*next = sqlite3_column_int64(st, 0) + 1;
		snprintf(prev, HEX_LEN + 1, "%.64s",
			 sqlite3_column_type(st, 1) == SQLITE_NULL ? zeros :
			 store_col(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return store_sql_fail(s, err, errlen, "reading the audit log");
	return 0;
}

static int insert_row(struct store *s, const struct store_audit *r,
		      char *err, size_t errlen)
{
	const char *text[] = { r->who, r->origin, r->action, r->detail,
			       r->result, r->prev, r->hash };
	sqlite3_stmt *st;
	char *sql;
	int rc;

	sql = xasprintf("INSERT INTO audit (%s) VALUES (?, ?, ?, ?, ?, ?, ?, "
			"?, ?)", row_cols);
	rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "appending to the audit "
				      "log");
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, r->at);
	for (size_t i = 0; i < ARRAY_SIZE(text); i++)
		sqlite3_bind_text(st, (int)i + 3, text[i], -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sql_fail(s, err, errlen, "appending to the audit "
				      "log");
	return 0;
}

int store_audit_append(struct store *s, const struct store_audit *e,
		       long long *id, char *err, size_t errlen)
{
	struct store_audit r = {
		.at = e->at ? e->at : now_ms(),
		.who = e->who ? e->who : "",
		.origin = e->origin ? e->origin : "",
		.action = e->action ? e->action : "",
		.detail = e->detail ? e->detail : "",
		.result = e->result ? e->result : "",
	};
	sqlite3 *db = store_db(s);

	if (!*r.action) {
		snprintf(err, errlen, "an audit entry needs an action");
		return -1;
	}
	/* IMMEDIATE takes the write lock before the read: two writers
	 * cannot both chain to the same last row. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "appending to the audit "
				      "log");
	if (chain_end(s, &r.id, r.prev, err, errlen) < 0)
		goto bad;
	store_audit_hash(&r, r.hash);
	if (insert_row(s, &r, err, errlen) < 0)
		goto bad;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		store_sql_fail(s, err, errlen, "appending to the audit log");
		goto bad;
	}
	if (id)
		*id = r.id;
	return 0;
bad:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Steps st (selecting row_cols) and hands each row to cb; finalizes st. */
static int each_row(struct store *s, sqlite3_stmt *st,
		    int (*cb)(const struct store_audit *e, void *data),
		    void *data, char *err, size_t errlen)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_audit e = {
			.id = sqlite3_column_int64(st, 0),
			.at = sqlite3_column_int64(st, 1),
			.who = store_col(st, 2),
			.origin = store_col(st, 3),
			.action = store_col(st, 4),
			.detail = store_col(st, 5),
			.result = store_col(st, 6),
		};

		snprintf(e.prev, sizeof(e.prev), "%.64s", store_col(st, 7));
		snprintf(e.hash, sizeof(e.hash), "%.64s", store_col(st, 8));
		if (cb(&e, data)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sql_fail(s, err, errlen, "reading the audit log");
	return 0;
}

int store_audit_each(struct store *s, long long after, size_t limit,
		     int (*cb)(const struct store_audit *e, void *data),
		     void *data, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char *sql;
	int rc;

	sql = xasprintf("SELECT %s FROM audit WHERE id > ? ORDER BY id "
			"LIMIT ?", row_cols);
	rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "reading the audit log");
	sqlite3_bind_int64(st, 1, after);
	/* LIMIT -1 is SQLite's "no limit" */
	sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit : -1);
	return each_row(s, st, cb, data, err, errlen);
}

int store_audit_tail(struct store *s, size_t n,
		     int (*cb)(const struct store_audit *e, void *data),
		     void *data, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char *sql;
	int rc;

	sql = xasprintf("SELECT * FROM (SELECT %s FROM audit ORDER BY id DESC "
			"LIMIT ?) ORDER BY id", row_cols);
	rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "reading the audit log");
	sqlite3_bind_int64(st, 1, n ? (sqlite3_int64)n : -1);
	return each_row(s, st, cb, data, err, errlen);
}

/* Where verify is in the chain: the id it expects next and the hash that
 * row must name as prev. */
struct chain {
	long long next, bad;
	size_t rows;
	char prev[HEX_LEN + 1];
};

static struct field sfield(sqlite3_stmt *st, int i)
{
	const char *p = store_col(st, i);

	return (struct field){ p, (size_t)sqlite3_column_bytes(st, i) };
}

static bool is_hash(struct field f, const char *want)
{
	return f.n == HEX_LEN && !memcmp(f.p, want, HEX_LEN);
}

/* Checks one row against the chain so far: 0 it verifies, 1 broken. */
static int check_row(sqlite3_stmt *st, struct chain *c, char *err,
		     size_t errlen)
{
	long long id = sqlite3_column_int64(st, 0);
	struct field f[F_N], hash = sfield(st, 8);
	char want[HEX_LEN + 1];

	for (int i = 0; i < F_N; i++)
		f[i] = sfield(st, 2 + i);
	if (id != c->next) {
		c->bad = c->next;
		snprintf(err, errlen, "audit row %lld is missing: the row "
			 "after %lld is %lld, so rows were deleted",
			 c->next, c->next - 1, id);
		return 1;
	}
	c->bad = id;
	if (!is_hash(f[F_PREV], c->prev)) {
		if (id == 1)
			snprintf(err, errlen, "audit row 1: prev is not 64 "
				 "zeros, the start of the log");
		else
			snprintf(err, errlen, "audit row %lld: prev is not "
				 "the hash of row %lld", id, id - 1);
		return 1;
	}
	chain_hash(id, sqlite3_column_int64(st, 1), f, want);
	if (!is_hash(hash, want)) {
		snprintf(err, errlen, "audit row %lld: hash does not match "
			 "its contents", id);
		return 1;
	}
	memcpy(c->prev, want, sizeof(c->prev));
	c->bad = 0;
	c->next++;
	c->rows++;
	return 0;
}

static int audit_seq(struct store *s, long long *seq, char *err,
		     size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(store_db(s), "SELECT seq FROM sqlite_sequence "
			       "WHERE name = 'audit'", -1, &st,
			       NULL) != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "reading the audit log");
	rc = sqlite3_step(st);
	*seq = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_sql_fail(s, err, errlen, "reading the audit log");
	return 0;
}

int store_audit_verify(struct store *s, size_t *rows, long long *bad,
		       char last[65], char *err, size_t errlen)
{
	struct chain c = { .next = 1 };
	sqlite3_stmt *st;
	int rc, broken = 0;
	long long seq;
	char *sql;

	memcpy(c.prev, zeros, sizeof(c.prev));
	/* the sequence first: rows appended while we read only raise it
	 * past what it says, never make it claim rows we do not see */
	if (audit_seq(s, &seq, err, errlen) < 0)
		return -1;
	sql = xasprintf("SELECT %s FROM audit ORDER BY id", row_cols);
	rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "reading the audit log");
	while (!broken && (rc = sqlite3_step(st)) == SQLITE_ROW)
		broken = check_row(st, &c, err, errlen);
	sqlite3_finalize(st);
	if (!broken && rc != SQLITE_DONE)
		return store_sql_fail(s, err, errlen, "reading the audit log");
	if (!broken && seq >= c.next) {
		c.bad = c.next;
		snprintf(err, errlen, "audit row %lld is missing: the log "
			 "ends at row %lld but had %lld, so its last rows "
			 "were deleted", c.next, c.next - 1, seq);
		broken = 1;
	}
	if (rows)
		*rows = c.rows;
	if (bad)
		*bad = broken ? c.bad : 0;
	if (last)
		memcpy(last, c.prev, HEX_LEN + 1);
	return broken;
}
