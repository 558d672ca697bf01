/* libFuzzer harness for the config diff and secret redaction: the input is
 * two texts, split at the first NUL byte (or in half). Any input must give
 * a text diff that turns the first into the second, a structured diff
 * exactly when both parse (empty against itself), and a redaction that
 * parses, changes nothing more when done twice and comes back byte for
 * byte; never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "config/cfgdiff.h"
#include "config/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static bool parses(const char *s, size_t n)
{
	struct hcl_file *f = cfg_text_parse(s, n, NULL, 0);

	cfg_text_free(f);
	return f != NULL;
}

struct lines {
	const char **v;		/* v[i]: line i; v[n]: the end */
	size_t n;
};

static void lines_split(struct lines *l, const char *s, size_t n)
{
	size_t cap = 0, i = 0;

	l->v = NULL;
	l->n = 0;
	for (;;) {
		const char *nl = i < n ? memchr(s + i, '\n', n - i) : NULL;

		xgrow((void **)&l->v, &cap, l->n + 2, sizeof(*l->v));
		l->v[l->n] = s + i;
		if (i == n)
			break;
		l->n++;
		i = nl ? (size_t)(nl - s) + 1 : n;
	}
}

/* Applies the diff d to a, as patch(1) would; it must give b. */
static void check_patch(const char *a, size_t alen, const char *d,
			size_t dlen, const char *b, size_t blen)
{
	struct buf out = BUF_INIT;
	struct lines la;
	const char *p = d, *end = d + dlen;
	size_t ai = 0, k;
	char prev = 0;

	if (!dlen) {
		CHECK(alen == blen && !memcmp(a, b, alen));
		return;
	}
	lines_split(&la, a, alen);
	for (k = 0; k < 2; k++) {	/* --- and +++ */
		p = memchr(p, '\n', (size_t)(end - p));
		CHECK(p);
		p++;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n, from, cnt;
		char *q;

		CHECK(nl);
		n = (size_t)(nl - p);
		if (*p == '@') {
			CHECK(n > 4 && !memcmp(p, "@@ -", 4));
			from = strtoul(p + 4, &q, 10);
			cnt = *q == ',' ? strtoul(q + 1, NULL, 10) : 1;
			k = cnt ? from - 1 : from;
			CHECK(k >= ai && k <= la.n);
			buf_add(&out, la.v[ai], (size_t)(la.v[k] - la.v[ai]));
			ai = k;
		} else if (*p == ' ' || *p == '-') {
			CHECK(ai < la.n);
			CHECK((size_t)(la.v[ai + 1] - la.v[ai]) >= n - 1);
			CHECK(!memcmp(la.v[ai], p + 1, n - 1));
			if (*p == ' ')
				buf_add(&out, la.v[ai],
					(size_t)(la.v[ai + 1] - la.v[ai]));
			ai++;
		} else if (*p == '+') {
			buf_add(&out, p + 1, n);
		} else {
			CHECK(*p == '\\' && prev);
			if (prev == '+')
				out.len--;
		}
		prev = *p;
		p = nl + 1;
	}
	buf_add(&out, la.v[ai], (size_t)(la.v[la.n] - la.v[ai]));
	CHECK(out.len == blen && !memcmp(out.p, b, blen));
	buf_free(&out);
	free(la.v);
}

static size_t count_op(const json_t *j, const char *op)
{
	size_t i, n = 0;

	for (i = 0; i < json_array_size(j); i++)
		n += !strcmp(json_string_value(json_object_get(
			json_array_get(j, i), "op")), op);
	return n;
}

static void check_blocks(const char *a, size_t alen, const char *b,
			 size_t blen)
{
	char err[256];
	json_t *ab = cfgdiff_blocks(a, alen, b, blen, "a", "b", err, sizeof(err));
	json_t *ba, *aa;

	CHECK(!ab == !(parses(a, alen) && parses(b, blen)));
	if (!ab)
		return;
	ba = cfgdiff_blocks(b, blen, a, alen, "b", "a", err, sizeof(err));
	aa = cfgdiff_blocks(a, alen, a, alen, "a", "a", err, sizeof(err));
	CHECK(ba && aa && !json_array_size(aa));
	CHECK(count_op(ab, "added") == count_op(ba, "removed"));
	CHECK(count_op(ab, "removed") == count_op(ba, "added"));
	json_decref(ab);
	json_decref(ba);
	json_decref(aa);
}

static void check_redact(const char *a, size_t alen, const char *b,
			 size_t blen)
{
	size_t rlen, r2len, ulen;
	char err[256];
	char *r = cfg_redact(a, alen, &rlen), *r2, *u;

	CHECK(!r == !parses(a, alen));
	if (!r)
		return;
	CHECK(parses(r, rlen));
	r2 = cfg_redact(r, rlen, &r2len);
	CHECK(r2 && r2len == rlen && !memcmp(r, r2, rlen));
	u = cfg_unredact(r, rlen, a, alen, &ulen, err, sizeof(err));
	CHECK(u && ulen == alen && !memcmp(u, a, alen));
	free(u);
	free(r2);
	/* someone else's text, with this one as the running config */
	u = cfg_unredact(b, blen, a, alen, &ulen, err, sizeof(err));
	CHECK(!u || parses(u, ulen));
	free(u);
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *a = (const char *)data, *b, *nul = memchr(data, 0, size);
	size_t alen = nul ? (size_t)(nul - a) : size / 2, blen, dlen;
	char *d;

	b = a + alen + (nul != NULL);
	blen = size - alen - (nul != NULL);
	d = cfgdiff_unified(a, alen, b, blen, "a", "b", &dlen);
	check_patch(a, alen, d, dlen, b, blen);
	free(d);
	check_blocks(a, alen, b, blen);
	check_redact(a, alen, b, blen);
	check_redact(b, blen, a, alen);
	return 0;
}
