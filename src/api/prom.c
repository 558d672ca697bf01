/* Prometheus' text exposition format 0.0.4 (pure): see prom.h. Label
 * values come from configs, the kernel and the store (rule comments, peer
 * names): every one is escaped and made UTF-8 here, whoever wrote it. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/prom.h"

void prom_hist_init(struct prom_hist *h, const double *le, size_t n)
{
	memset(h, 0, sizeof(*h));
	h->le = le;
	h->n = n < PROM_MAX_BUCKETS ? n : PROM_MAX_BUCKETS;
}

void prom_hist_observe(struct prom_hist *h, double v)
{
	size_t i = 0;

	while (i < h->n && v > h->le[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

static bool name_char(char c, bool first, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (size_t i = 0; s[i]; i++)
		if (!name_char(s[i], i == 0, colon))
			return false;
	return true;
}

bool prom_name_ok(const char *name)
{
	return name_ok(name, true);
}

bool prom_label_name_ok(const char *name)
{
	return name_ok(name, false) && strncmp(name, "__", 2);
}

/* The length of the well-formed UTF-8 sequence at p (n bytes left), 0
 * when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* s escaped: backslash and newline always, the double quote in label
 * values only (HELP text keeps it). */
static void escape(struct buf *b, const char *s, bool quote)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n) {
		size_t len = utf8_len(p, n);

		if (*p == '\\')
			buf_adds(b, "\\\\");
		else if (*p == '\n')
			buf_adds(b, "\\n");
		else if (*p == '"' && quote)
			buf_adds(b, "\\\"");
		else if (len)
			buf_add(b, p, len);
		else
			buf_adds(b, "\xef\xbf\xbd");	/* U+FFFD */
		len = len ? len : 1;
		p += len;
		n -= len;
	}
}

void prom_escape_label(struct buf *b, const char *v)
{
	escape(b, v, true);
}

void prom_family(struct buf *b, const char *name, const char *type,
		 const char *help)
{
	buf_printf(b, "# HELP %s ", name);
	escape(b, help, false);
	buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* The shortest text that reads back as v. */
static void add_double(struct buf *b, double v)
{
	char s[40];

	if (isnan(v)) {
		buf_adds(b, "NaN");
		return;
	}
	if (isinf(v)) {
		buf_adds(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, v);
		if (strtod(s, NULL) == v)
			break;
	}
	buf_adds(b, s);
}

static void head(struct buf *b, const char *name, const char *suffix,
		 const char *const *labels, const char *le)
{
	bool any = false;

	buf_adds(b, name);
	if (suffix)
		buf_adds(b, suffix);
	for (size_t i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
		buf_adds(b, any ? "," : "{");
		buf_printf(b, "%s=\"", labels[i]);
		prom_escape_label(b, labels[i + 1]);
		buf_addc(b, '"');
		any = true;
	}
	if (le) {
		buf_printf(b, "%sle=\"%s\"", any ? "," : "{", le);
		any = true;
	}
	buf_adds(b, any ? "} " : " ");
}

void prom_sample(struct buf *b, const char *name, const char *suffix,
		 const char *const *labels, double v)
{
	head(b, name, suffix, labels, NULL);
	add_double(b, v);
	buf_addc(b, '\n');
}

void prom_sample_u64(struct buf *b, const char *name, const char *suffix,
		     const char *const *labels, uint64_t v)
{
	head(b, name, suffix, labels, NULL);
	buf_printf(b, "%" PRIu64 "\n", v);
}

/* A bucket's bound as its le label. */
static void le_text(double le, char *out, size_t n)
{
	struct buf t = BUF_INIT;

	add_double(&t, le);
	snprintf(out, n, "%s", t.p);
	buf_free(&t);
}

void prom_hist_text(struct buf *b, const char *name,
		    const char *const *labels, const struct prom_hist *h)
{
	uint64_t cum = 0;
	char le[40];

	for (size_t i = 0; i <= h->n; i++) {
		cum += h->counts[i];
		if (i < h->n)
			le_text(h->le[i], le, sizeof(le));
		else
			snprintf(le, sizeof(le), "+Inf");
		head(b, name, "_bucket", labels, le);
		buf_printf(b, "%" PRIu64 "\n", cum);
	}
	prom_sample(b, name, "_sum", labels, h->sum);
	prom_sample_u64(b, name, "_count", labels, h->count);
}

/* ---- the JSON form ---- */

json_t *prom_family_json(json_t *families, const char *name,
			 const char *type, const char *help)
{
	json_t *f = json_pack("{sssssss[]}", "name", name, "type", type,
			      "help", help, "samples");

	json_array_append_new(families, f);
	return f;
}

void prom_sample_json(json_t *family, const char *suffix, json_t *labels,
		      json_t *value)
{
	json_t *s = json_pack("{so}", "value", value ? value :
			      json_integer(0));

	if (suffix)
		json_object_set_new(s, "suffix", json_string(suffix));
	if (labels)
		json_object_set_new(s, "labels", labels);
	json_array_append_new(json_object_get(family, "samples"), s);
}

void prom_hist_json(json_t *family, const json_t *labels,
		    const struct prom_hist *h)
{
	uint64_t cum = 0;
	char le[40];

	for (size_t i = 0; i <= h->n; i++) {
		json_t *l = labels ? json_copy((json_t *)labels) :
			    json_object();

		cum += h->counts[i];
		if (i < h->n)
			le_text(h->le[i], le, sizeof(le));
		else
			snprintf(le, sizeof(le), "+Inf");
		json_object_set_new(l, "le", json_string(le));
		prom_sample_json(family, "_bucket", l,
				 json_integer((json_int_t)cum));
	}
	prom_sample_json(family, "_sum", labels ? json_copy((json_t *)labels) :
			 NULL, json_real(h->sum));
	prom_sample_json(family, "_count", labels ? json_copy((json_t *)
			 labels) : NULL, json_integer((json_int_t)h->count));
}

static bool type_ok(const char *t)
{
	return t && (!strcmp(t, "counter") || !strcmp(t, "gauge") ||
		     !strcmp(t, "histogram") || !strcmp(t, "untyped"));
}

static bool suffix_ok(const char *s)
{
	return !s || !strcmp(s, "_bucket") || !strcmp(s, "_sum") ||
	       !strcmp(s, "_count");
}

/* One sample of a JSON family; false when it is malformed (nothing is
 * written then). */
static bool render_sample(struct buf *b, const char *name, const json_t *s)
{
	const char *suffix = json_string_value(json_object_get(s, "suffix"));
	const json_t *labels = json_object_get(s, "labels");
	const json_t *v = json_object_get(s, "value");
	const char *lv[2 * 16 + 1] = { NULL };
	const char *k, *le = NULL;
	json_t *x;
	size_t n = 0;

	if (!suffix_ok(suffix) || (json_object_get(s, "suffix") && !suffix) ||
	    (labels && !json_is_object(labels)) || !json_is_number(v) ||
	    json_object_size(labels) > 16)
		return false;
	json_object_foreach((json_t *)labels, k, x) {
		if (!prom_label_name_ok(k) || !json_is_string(x))
			return false;
		/* a histogram's le goes last, unescaped: it is a number */
		if (!strcmp(k, "le") && suffix && !strcmp(suffix, "_bucket")) {
			le = json_string_value(x);
			continue;
		}
		lv[n++] = k;
		lv[n++] = json_string_value(x);
	}
	if (le && strspn(le, "+-.0123456789eEInfNa") != strlen(le))
		return false;
	head(b, name, suffix, lv, le);
	if (json_is_integer(v))
		buf_printf(b, "%lld", (long long)json_integer_value(v));
	else
		add_double(b, json_real_value(v));
	buf_addc(b, '\n');
	return true;
}

size_t prom_render_json(struct buf *b, const json_t *families)
{
	size_t i, j, bad = 0;
	json_t *f, *s;

	json_array_foreach((json_t *)families, i, f) {
		const char *name = json_string_value(json_object_get(f,
						     "name"));
		const char *type = json_string_value(json_object_get(f,
						     "type"));
		const char *help = json_string_value(json_object_get(f,
						     "help"));
		json_t *samples = json_object_get(f, "samples");

		if (!prom_name_ok(name) || !type_ok(type) || !help ||
		    !json_is_array(samples)) {
			bad++;
			continue;
		}
		prom_family(b, name, type, help);
		json_array_foreach(samples, j, s)
			if (!render_sample(b, name, s))
				bad++;
	}
	return bad;
}
