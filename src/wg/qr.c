/* QR codes for a terminal and as PNG. libqrencode lays the modules out;
 * the PNG is written here (stored deflate blocks: a QR code is small and
 * compressing it needs no library). Pure. The text encoded is usually a
 * private key: every buffer of ours that held its modules is wiped. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>
#include <sodium.h>

#include "base/util.h"
#include "wg/qr.h"

#define QR_MARGIN 4			/* the quiet zone the standard asks */
#define PNG_DEFAULT_WIDTH 512
#define PNG_MAX_WIDTH 4096
#define STORED_MAX 65535		/* bytes in one stored deflate block */

/* As the qrencode command encodes its input by default. */
static QRcode *qr_encode(const char *s)
{
	if (!s || !*s)
		return NULL;
	return QRcode_encodeString(s, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
}

static void qr_free(QRcode *qr)
{
	sodium_memzero(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
}

/* Whether the module at (x, y) of the picture, quiet zone included, is
 * dark; outside the code it is light. */
static bool qr_dark(const QRcode *qr, int x, int y)
{
	x -= QR_MARGIN;
	y -= QR_MARGIN;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return qr->data[y * qr->width + x] & 1;
}

/* --- terminal ------------------------------------------------------------ */

#define ANSI_ON "\033[40;37;1m"		/* white on black, as qrencode */
#define ANSI_OFF "\033[0m"

char *wg_qr_text(const char *s, bool ansi)
{
	/* the glyph is light: a full block is two light modules */
	static const char *const cell[4] = {
		"\xe2\x96\x88",		/* neither dark: full block */
		"\xe2\x96\x84",		/* top dark: lower half block */
		"\xe2\x96\x80",		/* bottom dark: upper half block */
		" ",			/* both dark */
	};
	QRcode *qr = qr_encode(s);
	size_t side, rows, linelen, n = 0;
	char *out;

	if (!qr)
		return NULL;
	side = (size_t)qr->width + 2 * QR_MARGIN;
	rows = (side + 1) / 2;
	linelen = (ansi ? strlen(ANSI_ON) + strlen(ANSI_OFF) : 0) + side * 3 + 1;
	/* sized once: no realloc leaves a copy behind */
	out = xmalloc(rows * linelen + 1);
	for (int y = 0; y < (int)side; y += 2) {
		if (ansi)
			n += (size_t)sprintf(out + n, "%s", ANSI_ON);
		for (int x = 0; x < (int)side; x++) {
			const char *c = cell[qr_dark(qr, x, y) |
					     qr_dark(qr, x, y + 1) << 1];

			memcpy(out + n, c, strlen(c));
			n += strlen(c);
		}
		if (ansi)
			n += (size_t)sprintf(out + n, "%s", ANSI_OFF);
		out[n++] = '\n';
	}
	out[n] = '\0';
	qr_free(qr);
	return out;
}

/* --- PNG ----------------------------------------------------------------- */

static void crc_table(uint32_t t[256])
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		t[i] = c;
	}
}

static uint32_t crc32_of(const uint32_t t[256], const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--)
		c = t[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static uint32_t adler32_of(const uint8_t *p, size_t n)
{
	uint32_t a = 1, b = 0;

	while (n) {
		/* 5552 bytes is the most before b can overflow */
		size_t k = n < 5552 ? n : 5552;

		n -= k;
		while (k--) {
			a += *p++;
			b += a;
		}
		a %= 65521;
		b %= 65521;
	}
	return b << 16 | a;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/* A chunk whose len bytes of data are already at p + 8; returns its end. */
static uint8_t *chunk(const uint32_t crc[256], uint8_t *p, const char *type,
		      size_t len)
{
	put32(p, (uint32_t)len);
	memcpy(p + 4, type, 4);
	return put32(p + 8 + len, crc32_of(crc, p + 4, len + 4));
}

/* The zlib stream of raw (n bytes) in stored blocks, at p; returns its
 * end. */
static uint8_t *zlib_stored(uint8_t *p, const uint8_t *raw, size_t n)
{
	size_t off = 0;

	*p++ = 0x78;		/* deflate, 32K window */
	*p++ = 0x01;		/* no dictionary; (0x7801 % 31) == 0 */
	do {
		size_t k = n - off < STORED_MAX ? n - off : STORED_MAX;

		*p++ = off + k == n;	/* BFINAL, BTYPE 00 */
		*p++ = (uint8_t)k;
		*p++ = (uint8_t)(k >> 8);
		*p++ = (uint8_t)~k;
		*p++ = (uint8_t)(~k >> 8);
		memcpy(p, raw + off, k);
		p += k;
		off += k;
	} while (off < n);
	return put32(p, adler32_of(raw, n));
}

/* Rows of 1-bit gray, each after its filter byte (0: none); 1 is white. */
static void png_rows(const QRcode *qr, size_t scale, size_t w, uint8_t *raw)
{
	size_t rowlen = 1 + (w + 7) / 8;

	memset(raw, 0xff, rowlen * w);
	for (size_t y = 0; y < w; y++) {
		uint8_t *row = raw + y * rowlen;

		row[0] = 0;
		for (size_t x = 0; x < w; x++)
			if (qr_dark(qr, (int)(x / scale), (int)(y / scale)))
				row[1 + x / 8] &= (uint8_t)~(0x80u >> (x % 8));
	}
}

int wg_qr_png(const char *s, unsigned width, struct buf *out)
{
	static const uint8_t sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
					0x1a, '\n' };
	QRcode *qr = qr_encode(s);
	uint32_t crc[256];
	size_t side, scale, w, rawlen, zlen, len;
	uint8_t *raw, *png, *p;

	if (!qr)
		return -1;
	side = (size_t)qr->width + 2 * QR_MARGIN;
	width = width ? width : PNG_DEFAULT_WIDTH;
	scale = (width + side / 2) / side;	/* the nearest */
	scale = scale ? scale : 1;
	w = side * scale;
	if (w > PNG_MAX_WIDTH) {
		qr_free(qr);
		return -1;
	}
	rawlen = (1 + (w + 7) / 8) * w;
	zlen = 2 + rawlen + 5 * ((rawlen + STORED_MAX - 1) / STORED_MAX) + 4;
	len = sizeof(sig) + (12 + 13) + (12 + zlen) + 12;
	raw = xmalloc(rawlen);
	png = xmalloc(len);
	png_rows(qr, scale, w, raw);
	qr_free(qr);
	crc_table(crc);

	memcpy(png, sig, sizeof(sig));
	p = png + sizeof(sig);
	put32(put32(p + 8, (uint32_t)w), (uint32_t)w);
	/* bit depth 1, grayscale, deflate, filter set 0, no interlace */
	memcpy(p + 16, "\1\0\0\0\0", 5);
	p = chunk(crc, p, "IHDR", 13);
	zlib_stored(p + 8, raw, rawlen);
	p = chunk(crc, p, "IDAT", zlen);
	p = chunk(crc, p, "IEND", 0);
	if ((size_t)(p - png) != len)
		fatal("wg_qr_png: %zu bytes written, %zu planned",
		      (size_t)(p - png), len);
	buf_add(out, png, len);
	sodium_memzero(raw, rawlen);
	sodium_memzero(png, len);
	free(raw);
	free(png);
	return 0;
}
