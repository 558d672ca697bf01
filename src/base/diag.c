/* Collecting, sorting and printing diagnostics. */
#include "base/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

#define DIAG_DEFAULT_LIMIT 1000

const char *diag_sev_name(enum diag_sev sev)
{
	return sev == DIAG_ERROR ? "error" : "warning";
}

void diag_addv(struct diag_list *dl, enum diag_sev sev, const struct pos *at,
	       const char *fmt, va_list ap)
{
	size_t limit = dl->limit ? dl->limit : DIAG_DEFAULT_LIMIT;
	struct diag *d;
	char *msg;

	if (sev == DIAG_ERROR)
		dl->nerrors++;
	else
		dl->nwarnings++;
	if (dl->n >= limit) {
		dl->dropped++;
		return;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("out of memory (diag)");
	xgrow((void **)&dl->v, &dl->cap, dl->n + 1, sizeof(*dl->v));
	d = &dl->v[dl->n++];
	d->sev = sev;
	d->file = xstrdup(at && at->file ? at->file : "");
	d->line = at ? at->line : 0;
	d->col = at ? at->col : 0;
	d->msg = msg;
}

void diag_add(struct diag_list *dl, enum diag_sev sev, const struct pos *at,
	      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(dl, sev, at, fmt, ap);
	va_end(ap);
}

static int diag_cmp(const void *pa, const void *pb)
{
	const struct diag *a = pa, *b = pb;
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return 0;
}

struct diag_tagged {
	struct diag d;
	size_t i;
};

static int diag_tagged_cmp(const void *pa, const void *pb)
{
	const struct diag_tagged *a = pa, *b = pb;
	int c = diag_cmp(&a->d, &b->d);

	if (c)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

void diag_sort(struct diag_list *dl)
{
	struct diag_tagged *t;
	size_t i;

	if (dl->n < 2)
		return;
	t = xmalloc(dl->n * sizeof(*t));
	for (i = 0; i < dl->n; i++) {
		t[i].d = dl->v[i];
		t[i].i = i;
	}
	qsort(t, dl->n, sizeof(*t), diag_tagged_cmp);
	for (i = 0; i < dl->n; i++)
		dl->v[i] = t[i].d;
	free(t);
}

void diag_print(const struct diag_list *dl, FILE *out)
{
	size_t i;

	for (i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];

		if (d->line > 0)
			fprintf(out, "%s:%d:%d: %s: %s\n", d->file, d->line,
				d->col, diag_sev_name(d->sev), d->msg);
		else if (d->file[0])
			fprintf(out, "%s: %s: %s\n", d->file,
				diag_sev_name(d->sev), d->msg);
		else
			fprintf(out, "moat: %s: %s\n", diag_sev_name(d->sev),
				d->msg);
	}
	if (dl->dropped)
		fprintf(out, "moat: %zu more diagnostics not shown\n",
			dl->dropped);
}

void diag_print_json(const struct diag_list *dl, FILE *out)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_addc(&b, '[');
	for (i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];

		buf_adds(&b, i ? ",\n  {" : "\n  {");
		buf_printf(&b, "\"severity\": \"%s\", \"file\": ",
			   diag_sev_name(d->sev));
		buf_json_str(&b, d->file, strlen(d->file));
		buf_printf(&b, ", \"line\": %d, \"column\": %d, \"message\": ",
			   d->line, d->col);
		buf_json_str(&b, d->msg, strlen(d->msg));
		buf_addc(&b, '}');
	}
	buf_adds(&b, dl->n ? "\n]\n" : "]\n");
	fputs(b.p, out);
	buf_free(&b);
}

void diag_list_free(struct diag_list *dl)
{
	size_t i;

	for (i = 0; i < dl->n; i++) {
		free(dl->v[i].file);
		free(dl->v[i].msg);
	}
	free(dl->v);
	memset(dl, 0, sizeof(*dl));
}

void diag_first_error(const struct diag_list *dl, size_t from,
		      const char *fallback, char *buf, size_t n)
{
	snprintf(buf, n, "%s", fallback);
	for (size_t i = from; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];

		if (d->sev != DIAG_ERROR)
			continue;
		if (d->file && d->line > 0)
			snprintf(buf, n, "%s:%d: %s", d->file, d->line, d->msg);
		else
			snprintf(buf, n, "%s", d->msg);
		break;
	}
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
}
