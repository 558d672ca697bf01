/* libFuzzer harness for the REST API's path handling (src/api/route.c):
 *  - the input is a request target as a client sends it; the first byte
 *    picks the method;
 *  - route_unescape decodes it as MHD's callback does: never longer, NUL
 *    only at the end;
 *  - route_path_ok either accepts it or says why; a path it accepts has
 *    no "." or ".." segment, no "//", no control byte;
 *  - route_find answers one of 200/400/404/405, and a 200 has parameters
 *    that are whole, non-empty segments without '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void h(struct api_req *q)
{
	(void)q;
}

static const struct api_route routes[] = {
	{ "GET", "/health", h, R_PUBLIC, 0, "" },
	{ "GET", "/v1/devices/", h, 0, 0, "" },
	{ "POST", "/v1/devices/", h, 0, 1, "" },
	{ "GET", "/v1/devices/{}/peers/{}/", h, 0, 0, "" },
	{ "PATCH", "/v1/devices/{}/peers/{}/", h, 0, 1, "" },
	{ "GET", "/v1/devices/{}/peers/{}/quick.conf.png", h, 0, 0, "" },
	{ "POST", "/api/config/revisions/{id}/rollback", h, 0, 0, "" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
static const struct api_route *const tables[] = { routes };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "HEAD", "POST",
					       "PATCH", "DELETE", "PUT" };
	struct route_match m;
	const char *why;
	char *s;
	size_t n;
	int r;

	if (size < 1)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	n = strlen(s);
	if (route_unescape(s) > n || strlen(s) > n)
		abort();
	if (!route_path_ok(s, &why)) {
		if (!why || !*why)
			abort();
		free(s);
		return 0;
	}
	if (strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../"))
		abort();
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20)
			abort();
	r = route_find(tables, 1, methods[data[0] % 6], s, &m);
	if (r != 200 && r != 400 && r != 404 && r != 405)
		abort();
	if (r == 200) {
		if (!m.route || m.nparams > ROUTE_MAX_PARAMS)
			abort();
		for (size_t i = 0; i < m.nparams; i++)
			if (!m.params[i][0] || strchr(m.params[i], '/') ||
			    !strstr(s, m.params[i]))
				abort();
	}
	if (r == 405 && !m.allow[0])
		abort();
	free(s);
	return 0;
}
