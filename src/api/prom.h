/* Prometheus' text exposition format 0.0.4 (pure): families, samples with
 * their label values escaped, histograms with fixed buckets, and the JSON
 * form in which ctl hands its metrics to api (ctl has the numbers, api
 * writes the text). No I/O. */
#ifndef MOAT_API_PROM_H
#define MOAT_API_PROM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define PROM_MAX_BUCKETS 16

/* A histogram: le holds the upper bounds, ascending (+Inf is implied). */
struct prom_hist {
	const double *le;
	size_t n;			/* at most PROM_MAX_BUCKETS */
	uint64_t counts[PROM_MAX_BUCKETS + 1];	/* per bucket, the last
						 * is +Inf's */
	uint64_t count;
	double sum;
};

void prom_hist_init(struct prom_hist *h, const double *le, size_t n);
void prom_hist_observe(struct prom_hist *h, double v);

/* [a-zA-Z_:][a-zA-Z0-9_:]* */
bool prom_name_ok(const char *name);
/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved). */
bool prom_label_name_ok(const char *name);

/* "# HELP" and "# TYPE" lines. type: counter, gauge, histogram. */
void prom_family(struct buf *b, const char *name, const char *type,
		 const char *help);
/* One sample line. suffix may be NULL ("_bucket", "_sum", "_count");
 * labels NULL or "name", "value", ..., NULL. Values are escaped, bytes
 * that are not UTF-8 become U+FFFD. */
void prom_sample(struct buf *b, const char *name, const char *suffix,
		 const char *const *labels, double v);
/* The same for a count, written exactly. */
void prom_sample_u64(struct buf *b, const char *name, const char *suffix,
		     const char *const *labels, uint64_t v);
/* A histogram's _bucket (cumulative, with le), _sum and _count lines. */
void prom_hist_text(struct buf *b, const char *name,
		    const char *const *labels, const struct prom_hist *h);
/* A label value as the format quotes it (without the quotes). */
void prom_escape_label(struct buf *b, const char *v);

/* The JSON form: [{"name", "type", "help", "samples": [{"suffix",
 * "labels": {NAME: VALUE}, "value": number}]}]. */
json_t *prom_family_json(json_t *families, const char *name,
			 const char *type, const char *help);
/* Adds a sample; labels (an object of strings, or NULL) is stolen. */
void prom_sample_json(json_t *family, const char *suffix, json_t *labels,
		      json_t *value);
/* Adds a histogram's samples; labels (borrowed) may be NULL. */
void prom_hist_json(json_t *family, const json_t *labels,
		    const struct prom_hist *h);
/* Writes families given as JSON; a family or sample that is malformed
 * (a bad name, type or value) is left out. Returns how many were. */
size_t prom_render_json(struct buf *b, const json_t *families);

#endif
