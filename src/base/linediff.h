/* A line diff (Myers' O((N+M)D) algorithm), for showing people what would
 * change. Pure. */
#ifndef MOAT_BASE_LINEDIFF_H
#define MOAT_BASE_LINEDIFF_H

#include <stddef.h>

struct linediff_op {
	char op;		/* '-' a line of a goes, '+' a line of b comes */
	size_t a;		/* index in a of the line ('-'), or where b's
				 * line goes in a ('+') */
	size_t b;		/* index in b ('+'), or where a's line was */
};

/* The shortest edit from a (na lines) to b (nb lines), in order. Returns
 * the number of ops (0: equal), or -1 when more than max_d edits would be
 * needed (the caller then says "everything differs"). *ops is set when the
 * result is positive; the caller frees it. */
long linediff(char *const *a, size_t na, char *const *b, size_t nb,
	      size_t max_d, struct linediff_op **ops);

#endif
