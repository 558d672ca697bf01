/* What the store's files share and nothing outside src/store may use:
 * the connection behind struct store and two small SQLite helpers. */
#ifndef MOAT_STORE_INTERNAL_H
#define MOAT_STORE_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include <sqlite3.h>

struct store;

/* The connection; owned by the store. */
sqlite3 *store_db(struct store *s);

/* Puts "what: SQLite's last error" in err; returns -1. */
static inline int store_sql_fail(struct store *s, char *err, size_t errlen,
				 const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(store_db(s)));
	return -1;
}

/* Column i as text, "" for NULL, so damaged rows never hand out NULL. */
static inline const char *store_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

#endif
