/* Small helpers every module uses: checked allocation, array sizes, fatal().
 * Allocation failure is a broken invariant for moat (a gateway that cannot
 * allocate a few bytes cannot do anything safely), so x*alloc abort loudly. */
#ifndef MOAT_BASE_UTIL_H
#define MOAT_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MOAT_PRINTF(f, a) __attribute__((format(printf, f, a)))

_Noreturn void fatal(const char *fmt, ...) MOAT_PRINTF(1, 2);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p (an array of *cap elements of size) so that it holds need. */
void xgrow(void **p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) MOAT_PRINTF(1, 2);

/* Levenshtein distance, capped: returns > max as soon as it exceeds max. */
size_t edit_distance(const char *a, const char *b, size_t max);

#endif
