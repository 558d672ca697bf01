/* The REST API's routes (pure): which handler a method and path go to,
 * and what a path may look like. Handlers live in the h_*.c files, each
 * with a table of routes; api.c passes every table to route_find. */
#ifndef MOAT_API_ROUTE_H
#define MOAT_API_ROUTE_H
#include <stdbool.h>
#include <stddef.h>

struct api_req;
typedef void (*route_fn)(struct api_req *q);

/* A path parameter ("{}" in a pattern) is at most this long. */
#define ROUTE_PARAM_MAX 128
#define ROUTE_MAX_PARAMS 4
/* A path longer than this is refused (414). */
#define ROUTE_PATH_MAX 1024

/* flags */
#define R_PUBLIC 1u	/* no credentials: ctl answers it before setup too */
#define R_RAW 2u	/* the handler answers on its own (not JSON) */

struct api_route {
	const char *method;	/* "GET", "POST", ...; GET also takes HEAD */
	/* "/v1/devices/{}/peers/{}": each {} or {name} is one segment */
	const char *pattern;
	route_fn fn;
	unsigned flags;
	size_t body_max;	/* 0: the request may have no body */
	const char *summary;	/* one line, for the OpenAPI document */
};

struct route_match {
	const struct api_route *route;
	char params[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX];
	size_t nparams;
	/* the methods the path takes, for 405's Allow ("GET, POST") */
	char allow[64];
};

/* Whether path (as MHD decoded it) is one a route may see: absolute, no
 * "." or ".." segment, no empty segment but a final slash, no control
 * bytes, no backslash, at most ROUTE_PATH_MAX bytes. false with a reason
 * in why (static text). */
bool route_path_ok(const char *path, const char **why);

/* Finds method and path (checked with route_path_ok first) in tables
 * (ntables arrays, each ending with a NULL pattern). A final slash is
 * optional (wgrest's paths have one). 200 found (m filled), 404 no route
 * has the path, 405 a route has the path but not the method (m->allow
 * filled), 400 a parameter is too long. */
int route_find(const struct api_route *const *tables, size_t ntables,
	       const char *method, const char *path, struct route_match *m);

/* Percent-decodes s in place (MHD's unescape callback): "%XX" becomes
 * its byte, "%00" the control byte 0x01 (route_path_ok refuses it)
 * rather than an end of string; a '%' not followed by two hex digits
 * stays. Returns the new length. */
size_t route_unescape(char *s);

#endif
