/* libFuzzer harness for the set element codec (src/fw/set.c). The first
 * byte picks the set (type, interval, timeout); the rest is one element
 * per line. Any input must give elements or a message, never a crash, and:
 *  - an element prints to text that parses back to the same element;
 *  - merging keeps exactly the keys it was given, sorted, disjoint, and in
 *    an interval set with no two ranges touching;
 *  - absorbing new ranges into "kernel" ones keeps the union of both;
 *  - ranges rebuilt from arbitrary boundaries are sorted and disjoint;
 *  - a duration that parses prints to one that parses to the same. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw/set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sorted_disjoint(const struct fw_set_info *set,
				  const struct fw_elems *el, bool no_touch)
{
	size_t len = fw_set_key_len(set->type);

	for (size_t i = 0; i < el->n; i++) {
		uint8_t next[FW_KEY_MAX] = { 0 };

		if (memcmp(el->v[i].lo, el->v[i].hi, FW_KEY_MAX) > 0)
			abort();
		if (i + 1 == el->n)
			break;
		if (memcmp(el->v[i].hi, el->v[i + 1].lo, FW_KEY_MAX) >= 0)
			abort();	/* overlap or out of order */
		if (no_touch && fw_key_next(el->v[i].hi, len, next) &&
		    !memcmp(next, el->v[i + 1].lo, FW_KEY_MAX))
			abort();	/* adjacent: should have merged */
	}
}

/* The canonical form of the keys in a..b: merged as an interval set. */
static void canon(const struct fw_set_info *set, struct fw_elems *out,
		  const struct fw_elems *a, const struct fw_elems *b)
{
	struct fw_set_info iv = *set;

	iv.interval = true;
	for (size_t i = 0; a && i < a->n; i++)
		fw_elems_add(out, &a->v[i]);
	for (size_t i = 0; b && i < b->n; i++)
		fw_elems_add(out, &b->v[i]);
	for (size_t i = 0; i < out->n; i++)
		out->v[i].timeout_ms = out->v[i].expires_ms = 0;
	fw_elems_merge(&iv, out);
}

static bool same_keys(const struct fw_elems *a, const struct fw_elems *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->v[i].lo, b->v[i].lo, FW_KEY_MAX) ||
		    memcmp(a->v[i].hi, b->v[i].hi, FW_KEY_MAX))
			return false;
	return true;
}

static void one_line(const struct fw_set_info *set, const char *line,
		     struct fw_elems *el)
{
	struct buf b = BUF_INIT;
	struct fw_elem e, again;
	uint64_t ms, ms2;
	char *err = NULL;

	if (fw_elem_parse(set, line, &e, &err) == 0) {
		fw_elem_format(&b, set->type, &e);
		if (fw_elem_parse(set, b.p, &again, &err) ||
		    memcmp(e.lo, again.lo, FW_KEY_MAX) ||
		    memcmp(e.hi, again.hi, FW_KEY_MAX))
			abort();	/* the print must parse to itself */
		fw_elems_add(el, &e);
	} else if (!err || !*err) {
		abort();	/* a refusal must say why */
	}
	free(err);
	err = NULL;
	if (fw_set_timeout_parse(line, &ms, &err) == 0) {
		buf_reset(&b);
		fw_set_timeout_format(&b, ms);
		if (fw_set_timeout_parse(b.p, &ms2, &err) || ms != ms2)
			abort();
	}
	free(err);
	buf_free(&b);
}

/* A check of the merge that does not use the merge: every input range
 * lies inside a merged one, and every merged range starts at some input's
 * start and ends at some input's end. Quadratic, so for small inputs. */
static void check_merge_covers(const struct fw_elems *in,
			       const struct fw_elems *out, size_t klen)
{
	if (in->n > 512)
		return;
	for (size_t i = 0; i < in->n; i++) {
		bool inside = false;

		for (size_t k = 0; k < out->n && !inside; k++)
			inside = memcmp(out->v[k].lo, in->v[i].lo, klen) <= 0 &&
				 memcmp(in->v[i].hi, out->v[k].hi, klen) <= 0;
		if (!inside)
			abort();
	}
	for (size_t k = 0; k < out->n; k++) {
		bool lo = false, hi = false;

		for (size_t i = 0; i < in->n; i++) {
			lo |= !memcmp(out->v[k].lo, in->v[i].lo, klen);
			hi |= !memcmp(out->v[k].hi, in->v[i].hi, klen);
		}
		if (!lo || !hi)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fw_elems el = { 0 }, merged = { 0 }, cur = { 0 }, add = { 0 };
	struct fw_elems del = { 0 }, put = { 0 }, before = { 0 };
	struct fw_elems after = { 0 }, kept = { 0 }, rebuilt = { 0 };
	struct fw_set_info set = { .name = "fuzz" };
	struct fw_bound *bounds;
	size_t klen, nb;
	char *text;

	if (size < 1 || size > 16384)
		return 0;
	set.type = (enum fw_set_type)(data[0] % FW_SET_NTYPES);
	set.interval = data[0] & 0x10;
	set.timeout = data[0] & 0x20;
	klen = fw_set_key_len(set.type);

	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	for (char *line = text, *nl; line; line = nl) {
		nl = strchr(line, '\n');
		if (nl)
			*nl++ = '\0';
		one_line(&set, line, &el);
	}

	/* merge keeps the keys */
	for (size_t i = 0; i < el.n; i++)
		fw_elems_add(&merged, &el.v[i]);
	fw_elems_merge(&set, &merged);
	check_sorted_disjoint(&set, &merged, set.interval);
	check_merge_covers(&el, &merged, klen);
	if (set.interval) {
		struct fw_elems a = { 0 }, b = { 0 };

		canon(&set, &a, &el, NULL);
		canon(&set, &b, &merged, NULL);
		if (!same_keys(&a, &b) || merged.n > el.n)
			abort();
		fw_elems_free(&a);
		fw_elems_free(&b);

		/* absorb: even elements are the kernel's, odd ones added */
		for (size_t i = 0; i < el.n; i++)
			fw_elems_add(i % 2 ? &add : &cur, &el.v[i]);
		fw_elems_merge(&set, &cur);
		fw_elems_merge(&set, &add);
		fw_elems_absorb(&set, &cur, &add, &del, &put);
		/* (cur - del) + put must hold the keys of cur + add */
		for (size_t i = 0, j = 0; i < cur.n; i++) {
			if (j < del.n && !memcmp(&cur.v[i], &del.v[j],
						 2 * FW_KEY_MAX)) {
				j++;
				continue;
			}
			fw_elems_add(&kept, &cur.v[i]);
		}
		canon(&set, &before, &cur, &add);
		canon(&set, &after, &kept, &put);
		if (!same_keys(&before, &after))
			abort();
	}

	/* ranges rebuilt from raw boundaries (what a dump could say) */
	nb = (size - 1) / (klen + 1);
	bounds = calloc(nb ? nb : 1, sizeof(*bounds));
	for (size_t i = 0; i < nb; i++) {
		memcpy(bounds[i].key, data + 1 + i * (klen + 1), klen);
		bounds[i].end = data[1 + i * (klen + 1) + klen] & 1;
	}
	fw_elems_from_bounds(&set, bounds, nb, &rebuilt);
	check_sorted_disjoint(&set, &rebuilt, false);
	free(bounds);

	free(text);
	fw_elems_free(&el);
	fw_elems_free(&merged);
	fw_elems_free(&cur);
	fw_elems_free(&add);
	fw_elems_free(&del);
	fw_elems_free(&put);
	fw_elems_free(&before);
	fw_elems_free(&after);
	fw_elems_free(&kept);
	fw_elems_free(&rebuilt);
	return 0;
}
