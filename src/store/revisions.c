/* Config revisions: every config ctl applies, kept whole with who sent it,
 * from where, and how it ended (applied, failed, rolled back, pending a
 * confirm, confirmed). Lists leave the config text out: a list is for
 * reading, and a config can be large. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/util.h"
#include "store/internal.h"
#include "store/store.h"

static const char *const results[] = {
	"applied", "failed", "rolled-back", "pending", "confirmed",
};

static const char *const cols =
	"id, created_at, author, origin, config_path, hash, result, detail";

static bool result_ok(const char *result, char *err, size_t errlen)
{
	for (size_t i = 0; result && i < ARRAY_SIZE(results); i++)
		if (!strcmp(result, results[i]))
			return true;
	snprintf(err, errlen, "revision result \"%s\" is not one of applied, "
		 "failed, rolled-back, pending, confirmed",
		 result ? result : "");
	return false;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

int store_revision_add(struct store *s, const struct store_revision *r,
		       long long *id, char *err, size_t errlen)
{
	unsigned char sum[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	const char *config = or_empty(r->config);
	sqlite3_stmt *st;
	int rc;

	if (!result_ok(r->result, err, errlen))
		return -1;
	crypto_hash_sha256(sum, (const unsigned char *)config,
			   strlen(config));
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	if (sqlite3_prepare_v2(store_db(s), "INSERT INTO revisions "
			       "(created_at, author, origin, config_path, "
			       "config, hash, result, detail) VALUES "
			       "(?, ?, ?, ?, ?, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "adding a revision");
	sqlite3_bind_int64(st, 1, r->created_at ? r->created_at :
			   (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 2, or_empty(r->author), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, or_empty(r->origin), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, or_empty(r->config_path), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 5, config, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, or_empty(r->detail), -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sql_fail(s, err, errlen, "adding a revision");
	if (id)
		*id = sqlite3_last_insert_rowid(store_db(s));
	return 0;
}

int store_revision_set_result(struct store *s, long long id,
			      const char *result, const char *detail,
			      char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (!result_ok(result, err, errlen))
		return -1;
	if (sqlite3_prepare_v2(store_db(s), "UPDATE revisions SET result = ?, "
			       "detail = COALESCE(?, detail) WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "updating a revision");
	sqlite3_bind_text(st, 1, result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_sql_fail(s, err, errlen, "updating a revision");
	if (sqlite3_changes(store_db(s)) == 0) {
		snprintf(err, errlen, "there is no config revision %lld", id);
		return -1;
	}
	return 0;
}

/* A row selected with cols (and config after them when with_config). */
static void row_revision(sqlite3_stmt *st, struct store_revision *r,
			 bool with_config)
{
	r->id = sqlite3_column_int64(st, 0);
	r->created_at = sqlite3_column_int64(st, 1);
	r->author = xstrdup(store_col(st, 2));
	r->origin = xstrdup(store_col(st, 3));
	r->config_path = xstrdup(store_col(st, 4));
	r->hash = xstrdup(store_col(st, 5));
	r->result = xstrdup(store_col(st, 6));
	r->detail = xstrdup(store_col(st, 7));
	r->config = with_config ? xstrdup(store_col(st, 8)) : NULL;
}

int store_revisions_list(struct store *s, size_t limit,
			 struct store_revision **out, size_t *n,
			 char *err, size_t errlen)
{
	struct store_revision *v = NULL;
	size_t cap = 0, len = 0;
	sqlite3_stmt *st;
	char *sql;
	int rc;

	/* LIMIT -1 is SQLite's "no limit" */
	sql = xasprintf("SELECT %s FROM revisions ORDER BY id DESC LIMIT ?",
			cols);
	rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "listing revisions");
	sqlite3_bind_int64(st, 1, limit ? (sqlite3_int64)limit : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		xgrow((void **)&v, &cap, len + 1, sizeof(*v));
		row_revision(st, &v[len++], false);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		store_revisions_free(v, len);
		return store_sql_fail(s, err, errlen, "listing revisions");
	}
	*out = v;
	*n = len;
	return 0;
}

int store_revision_get(struct store *s, long long id,
		       struct store_revision *out, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char *sql;
	int rc;

	memset(out, 0, sizeof(*out));
	sql = xasprintf("SELECT %s, config FROM revisions WHERE id = ?", cols);
	rc = sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return store_sql_fail(s, err, errlen, "reading a revision");
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_revision(st, out, true);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return store_sql_fail(s, err, errlen, "reading a revision");
}

void store_revision_clear(struct store_revision *r)
{
	if (!r)
		return;
	free(r->author);
	free(r->origin);
	free(r->config_path);
	free(r->config);
	free(r->hash);
	free(r->result);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}

void store_revisions_free(struct store_revision *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		store_revision_clear(&v[i]);
	free(v);
}
