/* Diagnostics: located errors and warnings, collected so that one run can
 * report all of them. Printed as `file:line:col: severity: message`, or as a
 * JSON array for tools. */
#ifndef MOAT_BASE_DIAG_H
#define MOAT_BASE_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/util.h"

/* A place in a source file. file points at a string owned by whoever owns
 * the parsed file (it outlives every node that refers to it). line and col
 * count from 1; col counts characters, not bytes; 0 means unknown. */
struct pos {
	const char *file;
	int line;
	int col;
};

enum diag_sev {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag {
	enum diag_sev sev;
	char *file;
	int line;
	int col;
	char *msg;
};

struct diag_list {
	struct diag *v;
	size_t n;
	size_t cap;
	size_t nerrors;
	size_t nwarnings;
	size_t limit;	/* stop recording after this many (0: default) */
	size_t dropped;
};

void diag_add(struct diag_list *dl, enum diag_sev sev, const struct pos *at,
	      const char *fmt, ...) MOAT_PRINTF(4, 5);
void diag_addv(struct diag_list *dl, enum diag_sev sev, const struct pos *at,
	       const char *fmt, va_list ap) MOAT_PRINTF(4, 0);
#define diag_error(dl, at, ...) diag_add(dl, DIAG_ERROR, at, __VA_ARGS__)
#define diag_warn(dl, at, ...) diag_add(dl, DIAG_WARNING, at, __VA_ARGS__)

/* The first error at or after index from, on one line ("FILE:LINE: MSG"),
 * into buf; fallback when there is none. For state files that keep the
 * reason of a failure. */
void diag_first_error(const struct diag_list *dl, size_t from,
		      const char *fallback, char *buf, size_t n);
/* Sorts by file, line, column, keeping the order of equal positions. */
void diag_sort(struct diag_list *dl);
void diag_print(const struct diag_list *dl, FILE *out);
void diag_print_json(const struct diag_list *dl, FILE *out);
void diag_list_free(struct diag_list *dl);

const char *diag_sev_name(enum diag_sev sev);

#endif
