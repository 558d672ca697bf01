/* The OpenAPI 3.0 document (pure). A route's pattern gives the path and
 * its parameters, its flags whether it needs credentials, body_max
 * whether it takes a body; its summary is the operation's. The answers
 * are described once: JSON, or the error object every failure has. */
#include "api/openapi.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* A name for the {} at index i of pattern: named ones keep their name;
 * an unnamed one is named after the segment before it, singular
 * ("/devices/{}" -> "device"), or "id". */
static void param_name(const char *seg_before, size_t seg_len,
		       const char *inside, size_t in_len, char *out,
		       size_t n)
{
	if (in_len) {
		snprintf(out, n, "%.*s", (int)in_len, inside);
		return;
	}
	if (!seg_len) {
		snprintf(out, n, "id");
		return;
	}
	if (seg_len > 1 && seg_before[seg_len - 1] == 's')
		seg_len--;
	snprintf(out, n, "%.*s", (int)seg_len, seg_before);
	for (char *p = out; *p; p++)
		if (!isalnum((unsigned char)*p))
			*p = '_';
}

/* The OpenAPI path of pattern ("/v1/devices/{device}/") and its
 * parameters. */
static json_t *path_of(const char *pattern, char *out, size_t n)
{
	json_t *params = json_array();
	const char *p = pattern;
	size_t used = 0;

	out[0] = '\0';
	while (*p && used + 1 < n) {
		const char *end = *p == '{' ? strchr(p, '}') : NULL;
		const char *seg = out, *slash;
		char name[64];

		if (!end) {
			out[used++] = *p++;
			out[used] = '\0';
			continue;
		}
		/* the segment before it: between the last two slashes */
		if (used && out[used - 1] == '/') {
			out[used - 1] = '\0';
			slash = strrchr(out, '/');
			seg = slash ? slash + 1 : out;
			out[used - 1] = '/';
		}
		param_name(seg, (size_t)(out + used - 1 - seg), p + 1,
			   (size_t)(end - p - 1), name, sizeof(name));
		used += (size_t)snprintf(out + used, n - used, "{%s}", name);
		if (used >= n)
			used = n - 1;
		json_array_append_new(params, json_pack(
			"{sssssbs{ss}}", "name", name, "in", "path",
			"required", 1, "schema", "type", "string"));
		p = end + 1;
	}
	return params;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static json_t *operation(const struct api_route *r, const char *path,
			 json_t *params)
{
	char id[ROUTE_PATH_MAX + 16];
	size_t k = 0;
	json_t *op, *resp;

	/* "get_v1_devices_device_peers" */
	for (const char *s = r->method; *s && k + 1 < sizeof(id); s++)
		id[k++] = (char)tolower((unsigned char)*s);
	for (const char *s = path; *s && k + 1 < sizeof(id); s++)
		if (isalnum((unsigned char)*s))
			id[k++] = *s;
		else if (k && id[k - 1] != '_')
			id[k++] = '_';
	while (k && id[k - 1] == '_')
		k--;
	id[k] = '\0';
	resp = json_pack("{s{ss}s{sss{s{s{ss}}}}}",
		"200", "description", "Success",
		"default", "description", "An error",
		"content", "application/json", "schema", "$ref",
		"#/components/schemas/Error");
	op = json_pack("{sssssoso}", "summary", r->summary ? r->summary : "",
		       "operationId", id, "parameters", params,
		       "responses", resp);
	if (r->body_max)
		json_object_set_new(op, "requestBody", json_pack(
			"{sbs{s{s{ssss}}}}", "required", 0, "content",
			"application/json", "schema", "type", "object",
			"description", "A JSON object (see docs/api.md)"));
	if (r->flags & R_PUBLIC)
		json_object_set_new(op, "security", json_array());
	return op;
}

json_t *openapi_doc(const struct api_route *const *tables, size_t ntables,
		    const char *version)
{
	json_t *paths = json_object();

	for (size_t t = 0; t < ntables; t++)
		for (const struct api_route *r = tables[t]; r->pattern; r++) {
			char path[ROUTE_PATH_MAX + 64], method[16];
			json_t *params = path_of(r->pattern, path,
						 sizeof(path));
			json_t *item = json_object_get(paths, path);

			if (!item) {
				item = json_object();
				json_object_set_new(paths, path, item);
			}
			snprintf(method, sizeof(method), "%s", r->method);
			lower(method);
			json_object_set_new(item, method,
					    operation(r, path, params));
		}
	return json_pack(
		"{sss{ssssss}sos{s{s{sss{s{ss}s{ss}s{ss}}s[ss]}}"
		"s{s{ssss}s{ssssss}}}s[{s[]}{s[]}]}",
		"openapi", "3.0.3",
		"info", "title", "moat", "version", version,
		"description", "The REST API of moat, a Linux gateway",
		"paths", paths,
		"components",
		"schemas", "Error", "type", "object", "properties",
		"code", "type", "string", "message", "type", "string",
		"detail", "type", "string", "required", "code", "message",
		"securitySchemes",
		"bearerAuth", "type", "http", "scheme", "bearer",
		"cookieAuth", "type", "apiKey", "in", "cookie", "name",
		"moat_session",
		"security", "bearerAuth", "cookieAuth");
}
