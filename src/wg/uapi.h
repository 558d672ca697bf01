/* The userspace backend: wireguard-go, started and supervised by moat,
 * spoken to over its UAPI socket (/var/run/wireguard/NAME.sock). */
#ifndef MOAT_WG_UAPI_H
#define MOAT_WG_UAPI_H

#include <stddef.h>

#include "wg/wg.h"

struct buf;

#define WG_UAPI_DIR "/var/run/wireguard"

/* Pure (uapi_msg.c). */
/* The "set=1" request for change c, ending in the empty line. */
void wg_uapi_set_text(const struct wg_change *c, struct buf *b);
/* Parses an answer (a "get=1" answer, or the errno of a set) into d.
 * 0; -errno the device answered; -EPROTO when the text is malformed, with
 * what and where in err. */
int wg_uapi_parse(const char *text, size_t len, struct wg_device *d,
		  char *err, size_t errlen);

/* I/O (uapi.c). All return 0 or -errno with a message in err. */
/* Whether NAME's UAPI socket answers. */
bool wg_uapi_present(const char *name);
int wg_uapi_get(const char *name, struct wg_device *out, char *err,
		size_t errlen);
int wg_uapi_set(const struct wg_change *c, char *err, size_t errlen);

#endif
