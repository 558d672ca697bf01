/* A growable byte buffer, always NUL-terminated, for building text. */
#ifndef MOAT_BASE_BUF_H
#define MOAT_BASE_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"

struct buf {
	char *p;
	size_t len;
	size_t cap;
	bool secret;	/* it may hold keys: grown by copy and wipe, so no
			 * freed block keeps a copy; wiped by buf_free and
			 * buf_reset (a stolen buffer is the caller's to wipe) */
};

#define BUF_INIT { NULL, 0, 0, false }
#define BUF_SECRET_INIT { NULL, 0, 0, true }

void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) MOAT_PRINTF(2, 3);
void buf_reset(struct buf *b);
/* Returns the contents (never NULL) and leaves b empty; the caller frees. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

/* Appends s (n bytes) as a JSON string literal, quotes included. */
void buf_json_str(struct buf *b, const char *s, size_t n);

#endif
