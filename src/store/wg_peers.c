/* Runtime WireGuard peers changed in place (see store.c for the table).
 * The preshared key is bound as a parameter and wiped after: it is never
 * in a statement's text or a message. */
#include <sodium.h>
#include <sqlite3.h>

#include "base/buf.h"
#include "store/internal.h"
#include "store/wg_peers.h"

int store_wg_peer_update(struct store *s, const char *dev,
			 const struct wg_peer *p, char *err, size_t errlen)
{
	char pub[WG_KEY_B64], psk[WG_KEY_B64] = "";
	struct buf ips = BUF_INIT;
	sqlite3_stmt *st;
	int r;

	wg_key_to_b64(p->pub, pub);
	if (p->has_psk)
		wg_key_to_b64(p->psk, psk);
	for (size_t i = 0; i < p->nallowed; i++) {
		char a[64];

		wg_allowed_format(&p->allowed[i], a, sizeof(a));
		buf_printf(&ips, "%s%s", i ? "," : "", a);
	}
	if (sqlite3_prepare_v2(store_db(s), "UPDATE wg_peers SET "
			       "preshared_key = ?, endpoint = ?, "
			       "allowed_ips = ?, keepalive = ? WHERE "
			       "device = ? AND public_key = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		buf_free(&ips);
		return store_sql_fail(s, err, errlen, "changing a peer");
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
		return store_sql_fail(s, err, errlen, "changing a peer");
	return sqlite3_changes(store_db(s)) > 0;
}
