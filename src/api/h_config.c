/* /api/config (the running and the staged config, diff, validate, apply,
 * confirm, discard, revisions, rollback), /api/interfaces, /api/firewall
 * and /api/audit: HTTP turned into ctl's calls (ctl/m_config.c) and back.
 * ctl redacts every text it answers; this file decides only how a body
 * carries a config and which status a failed apply gets.
 *
 * A config travels as the raw body (Content-Type text/plain, or none) or
 * as {"config": "..."} (application/json); either way at most 1 MiB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api/internal.h"
#include "base/util.h"

#define CONFIG_BODY_MAX ((size_t)1 << 20)
#define AUDIT_PAGE_MAX 1000

static const struct body_field apply_schema[] = {
	{ .name = "confirm_within", .type = BODY_INT, .min = 0,
	  .max = 86400 },
	{ 0 },
};

/* The media type of the body, lower case, without parameters ("" when
 * there is no Content-Type). */
static void content_type(struct api_req *q, char *out, size_t n)
{
	const char *ct = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t i = 0;

	for (; ct && *ct == ' '; ct++)
		;
	for (; ct && ct[i] && ct[i] != ';' && ct[i] != ' ' && i + 1 < n; i++)
		out[i] = (char)(ct[i] >= 'A' && ct[i] <= 'Z' ? ct[i] + 32 :
				ct[i]);
	out[i] = '\0';
}

/* A config is text: no control characters but tab, CR and LF (they
 * would also swell its JSON to ctl sixfold), and UTF-8. The text as a
 * JSON string, or NULL with 400 answered. */
static json_t *config_string(struct api_req *q, const char *p, size_t len)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t line = 1, col = 1;
	json_t *s;

	for (size_t i = 0; i < len; i++) {
		if (u[i] == '\n') {
			line++;
			col = 1;
			continue;
		}
		if ((u[i] < 0x20 && u[i] != '\t' && u[i] != '\r') ||
		    u[i] == 0x7f) {
			api_reply_error(q, 400, NULL, "%zu:%zu: a control "
					"character (0x%02x) in the config",
					line, col, u[i]);
			return NULL;
		}
		col += (u[i] & 0xc0) != 0x80;
	}
	s = json_stringn(p ? p : "", len);
	if (!s)
		api_reply_error(q, 400, NULL, "the config is not UTF-8");
	return s;
}

/* {"config": "..."} and nothing else. Decoded here rather than by
 * api_body, whose strings are one line each: a config has many. */
static json_t *json_config(struct api_req *q)
{
	json_t *b = json_loadb(q->body.p ? q->body.p : "", q->body.len,
			       JSON_REJECT_DUPLICATES, NULL);
	json_t *v = json_object_get(b, "config"), *s = NULL;

	if (!json_is_object(b))
		api_reply_error(q, 400, NULL, "the body is not a JSON object, "
				"or has a key twice");
	else if (!json_is_string(v) || json_object_size(b) != 1)
		api_reply_error(q, 400, "config", "the body is "
				"{\"config\": \"...\"} and nothing else");
	else
		s = config_string(q, json_string_value(v),
				  json_string_length(v));
	if (json_is_string(v))
		sodium_memzero((char *)json_string_value(v),
			       json_string_length(v));
	json_decref(b);
	return s;
}

/* The config a body carries, as a JSON string; NULL with the request
 * answered (400, 413, 415). */
static json_t *body_config(struct api_req *q)
{
	char ct[64];

	content_type(q, ct, sizeof(ct));
	if (!strcmp(ct, "application/json"))
		return json_config(q);
	if (!*ct || !strcmp(ct, "text/plain") || !strcmp(ct, "text/x-hcl") ||
	    !strcmp(ct, "application/hcl") ||
	    !strcmp(ct, "application/octet-stream"))
		return config_string(q, q->body.p, q->body.len);
	api_reply_error(q, 415, "Content-Type", "a config is sent as "
			"text/plain (the HCL) or application/json "
			"({\"config\": \"...\"}), not %.64s", ct);
	return NULL;
}

/* Sends method {"text": s} (s stolen) and wipes the text afterwards: it
 * may hold keys. */
static json_t *call_with_text(struct api_req *q, const char *method,
			      json_t *s, int timeout)
{
	json_t *r = api_call(q, method, json_pack("{sO}", "text", s),
			     timeout);

	sodium_memzero((char *)json_string_value(s), json_string_length(s));
	json_decref(s);
	return r;
}

/* Whether the client asks for the HCL itself (Accept: text/plain). */
static bool wants_text(struct api_req *q)
{
	const char *a = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_ACCEPT);

	return a && (!strncasecmp(a, "text/plain", 10) ||
		     !strncasecmp(a, "text/x-hcl", 10));
}

/* A config answer from ctl: JSON, or with Accept: text/plain the text
 * with its revision and hash in headers. */
static void reply_config(struct api_req *q, json_t *r)
{
	json_t *rev = json_object_get(r, "revision");
	json_t *text = json_object_get(r, "config");
	char v[32];

	if (!wants_text(q) || !json_is_string(text)) {
		api_reply(q, 200, r);
		return;
	}
	if (!json_is_integer(rev))
		rev = json_object_get(r, "base_revision");
	snprintf(v, sizeof(v), "%lld", (long long)json_integer_value(rev));
	api_header(q, "X-Moat-Revision", v);
	api_header(q, "X-Moat-Config-Hash", json_string_value(json_object_get(
		   r, "hash")) ?: "");
	api_reply_data(q, 200, "text/plain; charset=utf-8",
		       json_string_value(text), json_string_length(text));
	json_decref(r);
}

static void get_config(struct api_req *q)
{
	json_t *r = api_call(q, "config.show", json_object(),
			     API_RPC_TIMEOUT_MS);

	if (r)
		reply_config(q, r);
}

static void get_staged(struct api_req *q)
{
	json_t *r = api_call(q, "config.staged", json_object(),
			     API_RPC_TIMEOUT_MS);

	if (r)
		reply_config(q, r);
}

static void put_staged(struct api_req *q)
{
	json_t *s = body_config(q), *r;

	if (!s)
		return;
	r = call_with_text(q, "config.stage", s, API_SLOW_TIMEOUT_MS);
	if (r)
		api_reply(q, 200, r);
}

/* Compiling the staged config may resolve peer endpoints: slow. */
static void get_diff(struct api_req *q)
{
	json_t *r = api_call(q, "config.diff", json_object(),
			     API_SLOW_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

/* A body to check, or none: the staged config. */
static void post_validate(struct api_req *q)
{
	json_t *s, *r;

	if (!q->body.len) {
		r = api_call(q, "config.validate", json_object(),
			     API_SLOW_TIMEOUT_MS);
	} else {
		if (!(s = body_config(q)))
			return;
		r = call_with_text(q, "config.validate", s,
				   API_SLOW_TIMEOUT_MS);
	}
	if (r)
		api_reply(q, 200, r);
}

/* An apply (or rollback) ctl refused answers {"ok": false, components,
 * diagnostics}: 422 with all of it and the first error as the message. */
static void reply_applied(struct api_req *q, json_t *r)
{
	json_t *d, *body;
	const char *msg = "the config did not apply";
	char m[512];
	size_t i;

	if (json_is_true(json_object_get(r, "ok")) ||
	    !json_object_get(r, "ok")) {
		api_reply(q, 200, r);
		return;
	}
	json_array_foreach(json_object_get(r, "diagnostics"), i, d) {
		const char *sev = json_string_value(json_object_get(d,
						    "severity"));
		const char *dm = json_string_value(json_object_get(d,
						   "message"));
		json_int_t line = json_integer_value(json_object_get(d,
						     "line"));

		if (!sev || strcmp(sev, "error") || !dm)
			continue;
		if (line)
			snprintf(m, sizeof(m), "%lld:%lld: %s", (long long)line,
				 (long long)json_integer_value(json_object_get(
				 d, "column")), dm);
		else
			snprintf(m, sizeof(m), "%s", dm);
		msg = m;
		break;
	}
	body = json_pack("{ssss}", "code", "invalid_config", "message", msg);
	if (!body)
		body = json_pack("{ssss}", "code", "invalid_config", "message",
				 "the config did not apply");
	json_object_update_missing(body, r);
	json_decref(r);
	api_reply(q, 422, body);
}

static void post_apply(struct api_req *q)
{
	json_t *p = json_object(), *r;

	if (q->body.len) {
		json_decref(p);
		if (!(p = api_body(q, apply_schema)))
			return;
	}
	r = api_call(q, "config.apply", p, API_SLOW_TIMEOUT_MS);
	if (r)
		reply_applied(q, r);
}

static void post_confirm(struct api_req *q)
{
	json_t *r = api_call(q, "config.confirm", json_object(),
			     API_RPC_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

static void post_discard(struct api_req *q)
{
	json_t *r = api_call(q, "config.discard", json_object(),
			     API_RPC_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

/* Query argument name as a decimal integer in [min, max], dflt when
 * absent; false with 400 answered when it is something else. */
static bool query_int(struct api_req *q, const char *name, long long min,
		      long long max, long long dflt, long long *out)
{
	const char *s = api_query(q, name);
	char *end;

	*out = dflt;
	if (!s)
		return true;
	*out = strtoll(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || *out < min || *out > max) {
		api_reply_error(q, 400, name, "%s is a number from %lld to "
				"%lld", name, min, max);
		return false;
	}
	return true;
}

static void get_revisions(struct api_req *q)
{
	long long limit;
	json_t *r;

	if (!query_int(q, "limit", 1, 1000, 50, &limit))
		return;
	r = api_call(q, "revisions", json_pack("{sI}", "limit",
		     (json_int_t)limit), API_RPC_TIMEOUT_MS);
	if (r)
		api_reply(q, 200, r);
}

static void post_rollback(struct api_req *q)
{
	const char *s = api_param(q, 0);
	char *end;
	long long id = strtoll(s, &end, 10);
	json_t *r;

	if (*s < '0' || *s > '9' || *end || id <= 0) {
		api_reply_error(q, 400, "id", "a revision id is a positive "
				"number");
		return;
	}
	r = api_call(q, "config.rollback", json_pack("{sI}", "revision",
		     (json_int_t)id), API_SLOW_TIMEOUT_MS);
	if (r)
		reply_applied(q, r);
}

static void get_interfaces(struct api_req *q)
{
	json_t *r = api_call(q, "net.interfaces", json_object(),
			     API_RPC_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

static void get_firewall(struct api_req *q)
{
	json_t *r = api_call(q, "fw.status", json_object(),
			     API_RPC_TIMEOUT_MS);

	if (r)
		api_reply(q, 200, r);
}

/* Oldest first from after (an id; 0: the start): {"entries", "next"},
 * next being the after of the following page, null on the last. One row
 * more than asked tells whether there is a next page. */
static void get_audit(struct api_req *q)
{
	long long after, limit;
	json_t *r, *a;
	size_t n;

	if (!query_int(q, "after", 0, (long long)1 << 62, 0, &after) ||
	    !query_int(q, "limit", 1, AUDIT_PAGE_MAX, 100, &limit))
		return;
	r = api_call(q, "audit", json_pack("{sIsI}", "after", (json_int_t)after,
		     "limit", (json_int_t)limit + 1), API_RPC_TIMEOUT_MS);
	if (!r)
		return;
	a = json_object_get(r, "entries");
	n = json_array_size(a);
	if (n > (size_t)limit) {
		json_array_remove(a, (size_t)limit);
		json_object_set(r, "next", json_object_get(json_array_get(a,
				(size_t)limit - 1), "id"));
	} else {
		json_object_set_new(r, "next", json_null());
	}
	api_reply(q, 200, r);
}

const struct api_route api_config_routes[] = {
	{ "GET", "/api/config", get_config, 0, 0,
	  "The running config, secrets redacted, with its revision (admin)" },
	{ "GET", "/api/config/staged", get_staged, 0, 0,
	  "The staged config, secrets redacted (admin)" },
	{ "PUT", "/api/config/staged", put_staged, 0, CONFIG_BODY_MAX,
	  "Checks and stages a config: text/plain or {\"config\"} (admin)" },
	{ "GET", "/api/config/diff", get_diff, 0, 0,
	  "The staged config against the running one (admin)" },
	{ "POST", "/api/config/validate", post_validate, 0, CONFIG_BODY_MAX,
	  "Checks a config, or the staged one: diagnostics (operator)" },
	{ "POST", "/api/config/apply", post_apply, 0, 1024,
	  "Applies the staged config, optionally until confirmed (admin)" },
	{ "POST", "/api/config/confirm", post_confirm, 0, 0,
	  "Keeps a change applied with confirm_within (operator)" },
	{ "POST", "/api/config/discard", post_discard, 0, 0,
	  "Drops the staged config (admin)" },
	{ "GET", "/api/config/revisions", get_revisions, 0, 0,
	  "The configs ctl applied, newest first" },
	{ "POST", "/api/config/revisions/{}/rollback", post_rollback, 0, 0,
	  "Applies the config of an earlier revision (admin)" },
	{ "GET", "/api/interfaces", get_interfaces, 0, 0,
	  "Every interface: state, addresses, counters" },
	{ "GET", "/api/firewall", get_firewall, 0, 0,
	  "The ruleset against the running config, and rule counters" },
	{ "GET", "/api/audit", get_audit, 0, 0,
	  "The audit log, oldest first, by pages (admin)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
