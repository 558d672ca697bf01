/* Myers, "An O(ND) Difference Algorithm and Its Variations" (1986): the
 * greedy forward search, keeping each round's furthest points to walk the
 * path back. Memory is O(D^2), bounded by the caller's max_d. */
#include <stdlib.h>
#include <string.h>

#include "base/linediff.h"
#include "base/util.h"

/* Round d's furthest x on diagonal k (|k| <= d + 1). */
#define AT(row, d, k) ((row)[(k) + (long)(d) + 1])

long linediff(char *const *a, size_t na, char *const *b, size_t nb,
	      size_t max_d, struct linediff_op **ops)
{
	long n = (long)na, m = (long)nb, x, y, found = -1;
	long **trace = xcalloc(max_d + 1, sizeof(*trace));
	long *v = xcalloc(2 * max_d + 5, sizeof(*v)), off = (long)max_d + 2;
	struct linediff_op *out = NULL;
	size_t nout = 0, cap = 0;

	*ops = NULL;
	for (long d = 0; d <= (long)max_d && found < 0; d++) {
		/* keep what round d - 1 reached, for the walk back */
		trace[d] = xmalloc((size_t)(2 * d + 3) * sizeof(long));
		for (long k = -d - 1; k <= d + 1; k++)
			AT(trace[d], d, k) = v[k + off];
		for (long k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[k - 1 + off] < v[k + 1 + off]))
				x = v[k + 1 + off];		/* down: insert */
			else
				x = v[k - 1 + off] + 1;		/* right: delete */
			y = x - k;
			while (x < n && y < m && !strcmp(a[x], b[y])) {
				x++;
				y++;
			}
			v[k + off] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
	}
	if (found < 0)
		goto out;
	x = n;
	y = m;
	for (long d = found; d > 0; d--) {
		long k = x - y, pk, px, py;
		long *row = trace[d];

		if (k == -d || (k != d && AT(row, d, k - 1) < AT(row, d, k + 1)))
			pk = k + 1;
		else
			pk = k - 1;
		px = AT(row, d, pk);
		py = px - pk;
		while (x > px && y > py) {
			x--;
			y--;
		}
		xgrow((void **)&out, &cap, nout + 1, sizeof(*out));
		if (pk == k + 1)
			out[nout++] = (struct linediff_op){ '+', (size_t)px,
							    (size_t)py };
		else
			out[nout++] = (struct linediff_op){ '-', (size_t)px,
							    (size_t)py };
		x = px;
		y = py;
	}
	/* walked backwards: put the ops in order */
	for (size_t i = 0; i < nout / 2; i++) {
		struct linediff_op t = out[i];

		out[i] = out[nout - 1 - i];
		out[nout - 1 - i] = t;
	}
	*ops = out;
out:
	for (size_t d = 0; d <= max_d; d++)
		free(trace[d]);
	free(trace);
	free(v);
	return found < 0 ? -1 : (long)nout;
}
