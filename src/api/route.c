/* The REST API's routes (pure). */
#include "api/route.h"

#include <stdio.h>
#include <string.h>

bool route_path_ok(const char *path, const char **why)
{
	size_t n = strlen(path);

	*why = NULL;
	if (n > ROUTE_PATH_MAX)
		*why = "the path is too long";
	else if (path[0] != '/')
		*why = "the path must start with /";
	for (size_t i = 0; !*why && i < n; i++) {
		unsigned char ch = (unsigned char)path[i];

		if (ch < 0x20 || ch == 0x7f)
			*why = "the path holds a control character";
		else if (ch == '\\')
			*why = "the path holds a backslash";
		else if (ch == '/' && i + 1 < n && path[i + 1] == '/')
			*why = "the path has an empty segment (//)";
		else if (ch == '/' && path[i + 1] == '.' &&
			 (path[i + 2] == '/' || path[i + 2] == '\0' ||
			  (path[i + 2] == '.' && (path[i + 3] == '/' ||
						  path[i + 3] == '\0'))))
			*why = "the path has a . or .. segment";
	}
	return *why == NULL;
}

/* Whether path matches pattern; fills m's params. -1 when a parameter is
 * too long. */
static int match(const char *pattern, const char *path, struct route_match *m)
{
	const char *p = pattern, *s = path;

	m->nparams = 0;
	while (*p) {
		if (p[0] == '{' && strchr(p, '}')) {
			size_t n = strcspn(s, "/");

			if (n == 0 || m->nparams == ROUTE_MAX_PARAMS)
				return 0;
			if (n >= ROUTE_PARAM_MAX)
				return -1;
			memcpy(m->params[m->nparams], s, n);
			m->params[m->nparams++][n] = '\0';
			s += n;
			p = strchr(p, '}') + 1;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *s == '\0';
}

int route_find(const struct api_route *const *tables, size_t ntables,
	       const char *method, const char *path, struct route_match *m)
{
	const char *want = strcmp(method, "HEAD") ? method : "GET";
	char trimmed[ROUTE_PATH_MAX + 2];
	size_t n = strlen(path);
	bool path_seen = false, too_long = false;

	memset(m, 0, sizeof(*m));
	if (n > ROUTE_PATH_MAX)
		return 400;
	/* "/v1/devices/" and "/v1/devices" are one path */
	memcpy(trimmed, path, n + 1);
	if (n > 1 && trimmed[n - 1] == '/')
		trimmed[n - 1] = '\0';
	for (size_t t = 0; t < ntables; t++)
		for (const struct api_route *r = tables[t]; r->pattern; r++) {
			char pat[ROUTE_PATH_MAX + 2];
			size_t pn = strlen(r->pattern);
			struct route_match tmp;
			int k;

			if (pn > ROUTE_PATH_MAX)
				continue;
			memcpy(pat, r->pattern, pn + 1);
			if (pn > 1 && pat[pn - 1] == '/')
				pat[pn - 1] = '\0';
			k = match(pat, trimmed, &tmp);
			if (k < 0)
				too_long = true;
			if (k <= 0)
				continue;
			if (!strcmp(r->method, want)) {
				*m = tmp;
				m->route = r;
				return 200;
			}
			if (!path_seen || !strstr(m->allow, r->method)) {
				size_t used = strlen(m->allow);

				snprintf(m->allow + used, sizeof(m->allow) -
					 used, "%s%s%s", used ? ", " : "",
					 r->method, strcmp(r->method, "GET") ?
					 "" : ", HEAD");
			}
			path_seen = true;
		}
	if (path_seen)
		return 405;
	return too_long ? 400 : 404;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t route_unescape(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		int hi, lo;

		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 &&
		    (lo = hexval(r[2])) >= 0) {
			int v = hi * 16 + lo;

			/* "%00" would end the C string and hide what follows
			 * ("/api/status%00x" read as "/api/status"): it
			 * becomes a control byte, which no path may hold */
			*w++ = v ? (char)v : '\x01';
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}
