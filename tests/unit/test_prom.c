/* Prometheus' text format (api/prom.c): names, label values escaped and
 * made UTF-8, numbers written so that they read back, histograms
 * cumulative with +Inf, and the JSON form ctl sends written as text with
 * whatever is malformed left out. The system test reads the whole answer
 * with a real parser (python3-prometheus-client). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/prom.h"

static void test_names(void **state)
{
	(void)state;
	assert_true(prom_name_ok("moat_api_requests_total"));
	assert_true(prom_name_ok("a:b_c9"));
	assert_true(prom_name_ok("_x"));
	assert_false(prom_name_ok("9x"));
	assert_false(prom_name_ok("a-b"));
	assert_false(prom_name_ok(""));
	assert_false(prom_name_ok(NULL));
	assert_true(prom_label_name_ok("route"));
	assert_false(prom_label_name_ok("a:b"));
	assert_false(prom_label_name_ok("__name__"));
	assert_false(prom_label_name_ok("1a"));
}

static void test_escape(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	prom_escape_label(&b, "a\\b\"c\nd");
	assert_string_equal(b.p, "a\\\\b\\\"c\\nd");
	buf_reset(&b);
	/* bytes that are not UTF-8 become U+FFFD; characters stay */
	prom_escape_label(&b, "caf\xc3\xa9 \xff\xc0\x80 \xce");
	assert_string_equal(b.p, "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd"
			    "\xef\xbf\xbd \xef\xbf\xbd");
	buf_reset(&b);
	prom_family(&b, "m", "gauge", "say \"hi\"\\\nbye");
	assert_string_equal(b.p, "# HELP m say \"hi\"\\\\\\nbye\n"
			    "# TYPE m gauge\n");
	buf_free(&b);
}

static void test_samples(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	prom_sample(&b, "m", NULL, NULL, 0.1);
	prom_sample(&b, "m", "_sum", (const char *[]){ "a", "x\"y", "b", "2",
		    NULL }, 3);
	prom_sample(&b, "m", NULL, NULL, 1e300 * 1e300);
	prom_sample(&b, "m", NULL, NULL, -1.0 / 3);
	prom_sample_u64(&b, "m", "_count", NULL, UINT64_MAX);
	assert_string_equal(b.p,
		"m 0.1\n"
		"m_sum{a=\"x\\\"y\",b=\"2\"} 3\n"
		"m +Inf\n"
		"m -0.3333333333333333\n"
		"m_count 18446744073709551615\n");
	buf_free(&b);
}

static void test_histogram(void **state)
{
	static const double le[] = { 0.005, 0.1, 1 };
	struct prom_hist h;
	struct buf b = BUF_INIT;

	(void)state;
	prom_hist_init(&h, le, 3);
	prom_hist_observe(&h, 0.001);
	prom_hist_observe(&h, 0.1);	/* le is inclusive */
	prom_hist_observe(&h, 0.5);
	prom_hist_observe(&h, 7);
	prom_hist_text(&b, "d", (const char *[]){ "r", "/x", NULL }, &h);
	assert_string_equal(b.p,
		"d_bucket{r=\"/x\",le=\"0.005\"} 1\n"
		"d_bucket{r=\"/x\",le=\"0.1\"} 2\n"
		"d_bucket{r=\"/x\",le=\"1\"} 3\n"
		"d_bucket{r=\"/x\",le=\"+Inf\"} 4\n"
		"d_sum{r=\"/x\"} 7.601\n"
		"d_count{r=\"/x\"} 4\n");
	buf_free(&b);
}

static void test_json(void **state)
{
	static const double le[] = { 1 };
	struct prom_hist h;
	json_t *fams = json_array(), *f;
	struct buf b = BUF_INIT;

	(void)state;
	f = prom_family_json(fams, "c_total", "counter", "a count");
	prom_sample_json(f, NULL, json_pack("{ss}", "k", "v\n"),
			 json_integer(5));
	prom_hist_init(&h, le, 1);
	prom_hist_observe(&h, 0.5);
	f = prom_family_json(fams, "h", "histogram", "a histogram");
	prom_hist_json(f, NULL, &h);
	/* malformed: left out, counted */
	prom_family_json(fams, "bad-name", "gauge", "x");
	prom_family_json(fams, "t", "summary?", "x");
	f = prom_family_json(fams, "g", "gauge", "g");
	prom_sample_json(f, NULL, json_pack("{ss}", "__x", "v"),
			 json_integer(1));
	prom_sample_json(f, NULL, json_pack("{si}", "k", 1), json_integer(1));
	prom_sample_json(f, "_evil", NULL, json_integer(1));
	prom_sample_json(f, NULL, NULL, json_string("1"));
	prom_sample_json(f, NULL, NULL, json_real(2.5));
	assert_int_equal(prom_render_json(&b, fams), 6);
	assert_string_equal(b.p,
		"# HELP c_total a count\n# TYPE c_total counter\n"
		"c_total{k=\"v\\n\"} 5\n"
		"# HELP h a histogram\n# TYPE h histogram\n"
		"h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
		"h_sum 0.5\nh_count 1\n"
		"# HELP g g\n# TYPE g gauge\ng 2.5\n");
	assert_int_equal(prom_render_json(&b, NULL), 0);
	json_decref(fams);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
