/* QR codes of short texts (a client's wg-quick file) for a phone's camera:
 * on a terminal, or as a PNG. Pure: libqrencode does the code, the PNG
 * writer here needs no other library. */
#ifndef MOAT_WG_QR_H
#define MOAT_WG_QR_H

#include <stdbool.h>

#include "base/buf.h"

/* The QR code of s in UTF-8 half blocks (two modules a character row, a
 * quiet zone of 4), as `qrencode -t UTF8` prints it: the blocks are the
 * light modules, for a terminal with light text on a dark background.
 * ansi forces those colours, as `qrencode -t ANSIUTF8`. NULL when s is
 * empty or too long for a QR code. The caller frees. */
char *wg_qr_text(const char *s, bool ansi);
/* Appends to out a PNG of the QR code of s: 1-bit grayscale, quiet zone
 * of 4, each module a square of pixels, about width pixels wide (512 when
 * 0; at least one pixel a module). 0, or -1 when s does not fit a QR code
 * or the image would pass 4096 pixels. */
int wg_qr_png(const char *s, unsigned width, struct buf *out);

#endif
