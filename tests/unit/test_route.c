/* The REST API's routes and the OpenAPI document made from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/openapi.h"
#include "api/route.h"

static void h(struct api_req *q)
{
	(void)q;
}

static const struct api_route a[] = {
	{ "GET", "/health", h, R_PUBLIC, 0, "health" },
	{ "GET", "/v1/devices/", h, 0, 0, "devices" },
	{ "POST", "/v1/devices/", h, 0, 1024, "create" },
	{ "GET", "/v1/devices/{}/peers/{}/", h, 0, 0, "peer" },
	{ "DELETE", "/v1/devices/{}/peers/{}/", h, 0, 0, "del" },
	{ "GET", "/v1/devices/{}/peers/{}/quick.conf", h, 0, 0, "conf" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
static const struct api_route b[] = {
	{ "POST", "/api/config/revisions/{id}/rollback", h, 0, 0, "rb" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
static const struct api_route *const tables[] = { a, b };

static int find(const char *method, const char *path, struct route_match *m)
{
	return route_find(tables, 2, method, path, m);
}

static void test_find(void **state)
{
	struct route_match m;

	assert_int_equal(find("GET", "/health", &m), 200);
	assert_string_equal(m.route->summary, "health");
	assert_int_equal(find("HEAD", "/health", &m), 200);
	/* the final slash is optional, both ways */
	assert_int_equal(find("GET", "/v1/devices", &m), 200);
	assert_int_equal(find("GET", "/v1/devices/", &m), 200);
	assert_int_equal(find("GET", "/health/", &m), 200);
	assert_int_equal(find("POST", "/v1/devices", &m), 200);
	assert_string_equal(m.route->summary, "create");
	assert_int_equal(find("GET", "/v1/devices/wg0/peers/abc-_=/", &m),
			 200);
	assert_int_equal(m.nparams, 2);
	assert_string_equal(m.params[0], "wg0");
	assert_string_equal(m.params[1], "abc-_=");
	assert_int_equal(find("GET", "/v1/devices/wg0/peers/k/quick.conf",
			      &m), 200);
	assert_string_equal(m.route->summary, "conf");
	assert_int_equal(find("POST", "/api/config/revisions/12/rollback",
			      &m), 200);
	assert_string_equal(m.params[0], "12");
	/* an empty parameter is no match */
	assert_int_equal(find("GET", "/v1/devices//peers/k", &m), 404);
	assert_int_equal(find("GET", "/v1/devices/wg0/peers", &m), 404);
	assert_int_equal(find("GET", "/nope", &m), 404);
	assert_int_equal(find("GET", "/healthz", &m), 404);
	assert_int_equal(find("PUT", "/v1/devices/", &m), 405);
	assert_string_equal(m.allow, "GET, HEAD, POST");
	assert_int_equal(find("PATCH", "/v1/devices/w/peers/k", &m), 405);
	assert_string_equal(m.allow, "GET, HEAD, DELETE");
}

static void test_long_param(void **state)
{
	char path[ROUTE_PATH_MAX + 8];
	struct route_match m;

	snprintf(path, sizeof(path), "/v1/devices/wg0/peers/%0*d/",
		 ROUTE_PARAM_MAX + 2, 0);
	assert_int_equal(find("GET", path, &m), 400);
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(find("GET", path, &m), 400);
}

static void test_path_ok(void **state)
{
	static const char *const good[] = {
		"/", "/health", "/v1/devices/", "/a.b/c..d/.e", "/x/...",
	};
	static const char *const bad[] = {
		"", "health", "/a//b", "/a/./b", "/a/../b", "/..", "/.",
		"/a/..", "/a/.", "/a\\b", "/a\x01", "/a\tb", "/a\x7f",
	};
	const char *why;
	char big[ROUTE_PATH_MAX + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(route_path_ok(good[i], &why));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(route_path_ok(bad[i], &why));
		assert_non_null(why);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_false(route_path_ok(big, &why));
	assert_string_equal(why, "the path is too long");
}

static void test_openapi(void **state)
{
	json_t *doc = openapi_doc(tables, 2, "1.2.3");
	json_t *paths = json_object_get(doc, "paths");
	json_t *peer, *params, *health;

	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")),
			    "3.0.3");
	/* every route is there, under its method */
	assert_int_equal(json_object_size(paths), 5);
	peer = json_object_get(paths, "/v1/devices/{device}/peers/{peer}/");
	assert_non_null(json_object_get(peer, "get"));
	assert_non_null(json_object_get(peer, "delete"));
	params = json_object_get(json_object_get(peer, "get"), "parameters");
	assert_int_equal(json_array_size(params), 2);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(params, 1), "name")), "peer");
	assert_non_null(json_object_get(paths,
		"/api/config/revisions/{id}/rollback"));
	/* public routes need no credentials; a body is described */
	health = json_object_get(json_object_get(paths, "/health"), "get");
	assert_int_equal(json_array_size(json_object_get(health, "security")),
			 0);
	assert_non_null(json_object_get(json_object_get(json_object_get(
		paths, "/v1/devices/"), "post"), "requestBody"));
	assert_null(json_object_get(json_object_get(json_object_get(paths,
		"/v1/devices/"), "get"), "requestBody"));
	json_decref(doc);
}

static void test_unescape(void **state)
{
	char s1[] = "/api/status%00x", s2[] = "/a%2Fb%2e%2E%zz%4";
	char s3[] = "%41";

	assert_int_equal(route_unescape(s1), 13);
	assert_memory_equal(s1, "/api/status\x01x", 14);
	assert_int_equal(route_unescape(s2), 11);
	assert_string_equal(s2, "/a/b..%zz%4");
	route_unescape(s3);
	assert_string_equal(s3, "A");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_long_param),
		cmocka_unit_test(test_path_ok),
		cmocka_unit_test(test_openapi),
		cmocka_unit_test(test_unescape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
