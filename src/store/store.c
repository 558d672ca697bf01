/* SQLite state store. Each migration is one transaction; user_version is
 * the number of migrations applied, so a newer moat moves an older file
 * forward and an older moat refuses a newer file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "base/buf.h"
#include "base/file.h"
#include "base/util.h"
#include "store/internal.h"
#include "store/store.h"

struct store {
	sqlite3 *db;
};

static const char *const migrations[] = {
	/* 1: runtime WireGuard peers */
	"CREATE TABLE wg_peers ("
	" device TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" public_key TEXT NOT NULL,"
	" preshared_key TEXT,"
	" endpoint TEXT,"
	" allowed_ips TEXT NOT NULL,"		/* comma separated */
	" keepalive INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" PRIMARY KEY (device, name),"
	" UNIQUE (device, public_key))",
	/* 2: config revisions and the hash-chained audit log (revisions.c,
	 * audit.c). The triggers stop ordinary SQL from rewriting history;
	 * the chain is what catches anyone who goes around them. */
	"CREATE TABLE revisions ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" created_at INTEGER NOT NULL,"		/* unix seconds */
	" author TEXT NOT NULL,"
	" origin TEXT NOT NULL,"
	" config_path TEXT NOT NULL,"
	" config TEXT NOT NULL,"		/* the HCL text */
	" hash TEXT NOT NULL,"			/* sha256 hex of config */
	" result TEXT NOT NULL,"
	" detail TEXT NOT NULL DEFAULT '');"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL,"			/* unix milliseconds */
	" who TEXT NOT NULL,"
	" origin TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" detail TEXT NOT NULL,"
	" result TEXT NOT NULL,"
	" prev TEXT NOT NULL,"
	" hash TEXT NOT NULL);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
	" SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
	" SELECT RAISE(ABORT, 'the audit log is append-only'); END",
	/* 3: the REST API's credentials (auth.c). Secrets are stored only
	 * hashed: passwords with argon2id, session and API tokens with
	 * SHA-256 (hex). Times are unix milliseconds. */
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT UNIQUE NOT NULL,"
	" pw_hash TEXT NOT NULL,"		/* crypto_pwhash_str, argon2id */
	" role TEXT NOT NULL CHECK (role IN ('admin', 'operator',"
	" 'viewer')),"
	" created_at INTEGER NOT NULL,"
	" pw_changed_at INTEGER NOT NULL);"
	"CREATE TABLE sessions ("
	" token_hash TEXT PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" csrf TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" seen_at INTEGER NOT NULL,"
	" source TEXT NOT NULL);"
	"CREATE INDEX sessions_user ON sessions (user_id);"
	"CREATE TABLE api_tokens ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" token_hash TEXT UNIQUE NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('admin', 'operator',"
	" 'viewer')),"
	" created_at INTEGER NOT NULL,"
	" created_by TEXT NOT NULL,"
	" revoked_at INTEGER,"			/* NULL: valid */
	" last_used_at INTEGER);"
	"CREATE TABLE login_failures ("
	" key TEXT PRIMARY KEY,"		/* "user:NAME", "src:ADDR" */
	" count INTEGER NOT NULL,"
	" last_at INTEGER NOT NULL)",
};

static int fail(struct store *s, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(s->db));
	return -1;
}

static int migrate(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int have;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
			       NULL) != SQLITE_OK)
		return fail(s, err, errlen, "reading the schema version");
	have = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (have > (int)ARRAY_SIZE(migrations)) {
		snprintf(err, errlen, "the store is of a newer moat (schema "
			 "%d, this one knows %zu)", have,
			 ARRAY_SIZE(migrations));
		return -1;
	}
	for (size_t i = (size_t)have; i < ARRAY_SIZE(migrations); i++) {
		char *sql = xasprintf("BEGIN IMMEDIATE; %s; PRAGMA "
				      "user_version = %zu; COMMIT;",
				      migrations[i], i + 1);
		int r = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

		free(sql);
		if (r != SQLITE_OK) {
			fail(s, err, errlen, "migrating the store");
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

struct store *store_open(const char *state_dir, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char *path = xasprintf("%s/moat.db", state_dir);
	int fd;

	if (file_mkdir_p(state_dir, 0700) < 0) {
		snprintf(err, errlen, "%s: cannot create it", state_dir);
		goto bad;
	}
	/* made 0600 before SQLite opens it: it holds preshared keys */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		fail(s, err, errlen, path);
		goto bad;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA "
			 "foreign_keys = ON; PRAGMA synchronous = NORMAL",
			 NULL, NULL, NULL) != SQLITE_OK) {
		fail(s, err, errlen, path);
		goto bad;
	}
	if (migrate(s, err, errlen) < 0)
		goto bad;
	free(path);
	return s;
bad:
	free(path);
	store_close(s);
	return NULL;
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : NULL;
}

/* One stored row into a peer. false when the row is damaged. */
static bool row_peer(sqlite3_stmt *st, struct wg_peer *p)
{
	const char *psk = col(st, 2), *ep = col(st, 3), *ips = col(st, 4);
	char *list, *tok, *save = NULL;
	bool ok = true;

	p->name = xstrdup(col(st, 0) ? col(st, 0) : "");
	p->from_store = true;
	if (!wg_key_from_b64(col(st, 1), p->pub))
		return false;
	if (psk && *psk && !(p->has_psk = wg_key_from_b64(psk, p->psk)))
		return false;
	if (ep && *ep) {
		p->endpoint_text = xstrdup(ep);
		wg_endpoint_parse(ep, &p->endpoint);
	}
	p->keepalive = (uint16_t)sqlite3_column_int(st, 5);
	list = xstrdup(ips ? ips : "");
	for (tok = strtok_r(list, ",", &save); tok && ok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct wg_allowed a;

		ok = wg_allowed_parse(tok, &a);
		if (ok)
			wg_peer_add_allowed(p, &a);
	}
	free(list);
	wg_allowed_sort(p->allowed, p->nallowed);
	return ok;
}

int store_wg_peers(struct store *s, const char *dev, struct wg_device *d,
		   char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int r, bad = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT name, public_key, "
			       "preshared_key, endpoint, allowed_ips, "
			       "keepalive FROM wg_peers WHERE device = ? "
			       "ORDER BY created_at, name", -1, &st,
			       NULL) != SQLITE_OK)
		return fail(s, err, errlen, "reading peers");
	sqlite3_bind_text(st, 1, dev, -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct wg_peer *p = wg_device_add_peer(d);

		if (!row_peer(st, p)) {
			snprintf(err, errlen, "the store's peer \"%s\" of %s "
				 "is damaged", p->name, dev);
			wg_peer_clear(p);
			d->npeers--;
			bad = -1;
			break;
		}
	}
	if (!bad && r != SQLITE_DONE)
		bad = fail(s, err, errlen, "reading peers");
	sqlite3_finalize(st);
	return bad;
}

/* A peer's columns as the table keeps them: keys in base64, allowed IPs
 * joined by commas. */
static void peer_columns(const struct wg_peer *p, char pub[WG_KEY_B64],
			 char psk[WG_KEY_B64], struct buf *ips)
{
	wg_key_to_b64(p->pub, pub);
	psk[0] = '\0';
	if (p->has_psk)
		wg_key_to_b64(p->psk, psk);
	for (size_t i = 0; i < p->nallowed; i++) {
		char a[64];

		wg_allowed_format(&p->allowed[i], a, sizeof(a));
		buf_printf(ips, "%s%s", i ? "," : "", a);
	}
}

int store_wg_peer_add(struct store *s, const char *dev,
		      const struct wg_peer *p, char *err, size_t errlen)
{
	char pub[WG_KEY_B64], psk[WG_KEY_B64];
	struct buf ips = BUF_INIT;
	sqlite3_stmt *st;
	int r;

	peer_columns(p, pub, psk, &ips);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO wg_peers (device, name, "
			       "public_key, preshared_key, endpoint, "
			       "allowed_ips, keepalive, created_at) VALUES "
			       "(?, ?, ?, ?, ?, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK) {
		buf_free(&ips);
		return fail(s, err, errlen, "adding a peer");
	}
	sqlite3_bind_text(st, 1, dev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, pub, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, p->has_psk ? psk : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, p->endpoint_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ips.p ? ips.p : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, p->keepalive);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	sodium_memzero(psk, sizeof(psk));
	buf_free(&ips);
	if (r == SQLITE_CONSTRAINT) {
		snprintf(err, errlen, "%s has a peer named \"%s\" or with key "
			 "%s already", dev, p->name, pub);
		return -1;
	}
	if (r != SQLITE_DONE)
		return fail(s, err, errlen, "adding a peer");
	return 0;
}

int store_wg_peer_update(struct store *s, const char *dev,
			 const struct wg_peer *p, char *err, size_t errlen)
{
	char pub[WG_KEY_B64], psk[WG_KEY_B64];
	struct buf ips = BUF_INIT;
	sqlite3_stmt *st;
	int r;

	peer_columns(p, pub, psk, &ips);
	if (sqlite3_prepare_v2(s->db, "UPDATE wg_peers SET "
			       "preshared_key = ?, endpoint = ?, "
			       "allowed_ips = ?, keepalive = ? WHERE "
			       "device = ? AND public_key = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		buf_free(&ips);
		return fail(s, err, errlen, "changing a peer");
	}
	sqlite3_bind_text(st, 1, p->has_psk ? psk : NULL, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->endpoint_text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ips.p ? ips.p : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, p->keepalive);
	sqlite3_bind_text(st, 5, dev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, pub, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	sodium_memzero(psk, sizeof(psk));
	buf_free(&ips);
	if (r != SQLITE_DONE)
		return fail(s, err, errlen, "changing a peer");
	return sqlite3_changes(s->db) > 0;
}

int store_wg_peer_del(struct store *s, const char *dev, const char *who,
		      char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite3_prepare_v2(s->db, "DELETE FROM wg_peers WHERE device = ? "
			       "AND (name = ? OR public_key = ?)", -1, &st,
			       NULL) != SQLITE_OK)
		return fail(s, err, errlen, "removing a peer");
	sqlite3_bind_text(st, 1, dev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, who, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return fail(s, err, errlen, "removing a peer");
	return sqlite3_changes(s->db) > 0;
}
