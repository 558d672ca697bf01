/* The strict decoder of REST request bodies: the bytes are checked before
 * jansson sees them (size, UTF-8, depth), then the object against the
 * handler's schema. Pure: no I/O, no logging; every message it writes is
 * valid UTF-8 without control characters and quotes at most BODY_MAX_ECHO
 * bytes of the client's input, so handlers may log it and send it back. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/body.h"
#include "base/util.h"

/* The length of the valid UTF-8 sequence at p (n bytes left), 0 when the
 * bytes are not one: no overlongs, no surrogates, nothing past U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* Writes in (inlen bytes) to out (outsz > 3) escaped: control bytes, DEL
 * and bytes that are not UTF-8 as \xNN, and when quoted (for "..."),
 * backslash and double quote with a backslash. Stops after max bytes of
 * in, or when out is full, with "...". */
static void escape(char *out, size_t outsz, const char *in, size_t inlen,
		   size_t max, bool quoted)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0, room = outsz - 4;	/* "..." and the NUL */

	while (i < inlen) {
		size_t n = utf8_seq(p + i, inlen - i);
		char tmp[5];
		size_t tn;

		if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))
			n = 0;
		if (n == 0) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
			tn = 4;
			n = 1;
		} else if (quoted && (p[i] == '\\' || p[i] == '"')) {
			tmp[0] = '\\';
			tmp[1] = (char)p[i];
			tn = 2;
		} else {
			memcpy(tmp, p + i, n);
			tn = n;
		}
		if (i + n > max || o + tn > room)
			break;
		memcpy(out + o, tmp, tn);
		o += tn;
		i += n;
	}
	if (i < inlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Cuts a trailing sequence that vsnprintf may have cut in half. */
static void trim_utf8(char *s)
{
	size_t n = strlen(s), i = n;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0x80 &&
	    utf8_seq((unsigned char *)s + i - 1, n - i + 1) != n - i + 1)
		s[i - 1] = '\0';
}

MOAT_PRINTF(4, 5)
static void fail(struct body_error *err, int status, const char *field,
		 const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	escape(err->field, sizeof(err->field), field, strlen(field),
	       BODY_MAX_ECHO, false);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	trim_utf8(err->message);
}

/* --- the bytes ---------------------------------------------------------- */

/* Checks what jansson would take or say badly: valid UTF-8, no NUL, not
 * only white space, nesting no deeper than BODY_MAX_DEPTH (which also
 * keeps jansson's recursion short). Brackets inside strings do not count. */
static int check_bytes(const char *data, size_t len, struct body_error *err)
{
	const unsigned char *p = (const unsigned char *)data;
	bool in_str = false, blank = true;
	size_t i = 0, n;
	int depth = 0;

	for (; i < len; i += n) {
		n = utf8_seq(p + i, len - i);
		if (n == 0) {
			fail(err, 400, "", "the body is not valid UTF-8 "
			     "(byte %zu)", i);
			return -1;
		}
		if (p[i] == '\0') {
			fail(err, 400, "", "the body has a NUL byte "
			     "(byte %zu)", i);
			return -1;
		}
		if (!strchr(" \t\r\n", p[i]))
			blank = false;
		if (in_str) {
			if (p[i] == '\\' && i + 1 < len &&
			    p[i + 1] && p[i + 1] < 0x80)
				n = 2;	/* \" and \\ do not end anything */
			else if (p[i] == '"')
				in_str = false;
		} else if (p[i] == '"') {
			in_str = true;
		} else if (p[i] == '{' || p[i] == '[') {
			if (++depth > BODY_MAX_DEPTH) {
				fail(err, 400, "", "the body nests deeper "
				     "than %d levels (byte %zu)",
				     BODY_MAX_DEPTH, i);
				return -1;
			}
		} else if (p[i] == '}' || p[i] == ']') {
			depth--;
		}
	}
	if (blank) {
		fail(err, 400, "", "a JSON object is expected");
		return -1;
	}
	return 0;
}

/* jansson's text is "WHAT near 'TOKEN'" or "WHAT near end of file"; the
 * token is the client's, so it is escaped and cut like any input. */
static void parse_failed(const json_error_t *je, struct body_error *err)
{
	const char *near = strstr(je->text, " near '");
	char what[128], tok[BODY_MAX_ECHO * 2];
	const char *t = NULL, *end;

	escape(what, sizeof(what), je->text,
	       near ? (size_t)(near - je->text) : strlen(je->text),
	       sizeof(what), false);
	tok[0] = '\0';
	if (near) {
		t = near + 7;
		end = strrchr(t, '\'');
		if (!end)
			end = t + strlen(t);
		if (json_error_code(je) == json_error_duplicate_key &&
		    end - t >= 2 && t[0] == '"' && end[-1] == '"') {
			t++;
			end--;
		}
		escape(tok, sizeof(tok), t, (size_t)(end - t), BODY_MAX_ECHO,
		       json_error_code(je) == json_error_duplicate_key);
	}
	if (json_error_code(je) == json_error_null_character)
		fail(err, 400, "", "invalid JSON at line %d, column %d: a "
		     "string has a NUL character (\\u0000)", je->line,
		     je->column);
	else if (json_error_code(je) == json_error_duplicate_key)
		fail(err, 400, "", "duplicate field \"%s\" (line %d, "
		     "column %d)", tok, je->line, je->column);
	else if (near)
		fail(err, 400, "", "invalid JSON at line %d, column %d: %s "
		     "near '%s'", je->line, je->column, what, tok);
	else
		fail(err, 400, "", "invalid JSON at line %d, column %d: %s",
		     je->line, je->column, what);
}

/* --- the schema --------------------------------------------------------- */

static const char *kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

static const char *const expected[] = {
	[BODY_STRING] = "a string",
	[BODY_INT] = "an integer",
	[BODY_BOOL] = "a boolean",
	[BODY_STRING_ARRAY] = "an array of strings",
	[BODY_OBJECT] = "an object",
};

static bool type_ok(enum body_type t, const json_t *v)
{
	switch (t) {
	case BODY_STRING:
		return json_is_string(v);
	case BODY_INT:
		return json_is_integer(v);
	case BODY_BOOL:
		return json_is_boolean(v);
	case BODY_STRING_ARRAY:
		return json_is_array(v);
	case BODY_OBJECT:
		return json_is_object(v);
	}
	return false;
}

/* A string's bytes: no NUL, no control character. what names it in the
 * message ("field \"x\"" or "field \"x\": item 2"). */
static int check_chars(const struct body_field *f, const char *what,
		       const json_t *s, struct body_error *err)
{
	const unsigned char *p = (const unsigned char *)json_string_value(s);
	size_t n = json_string_length(s), i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\0') {
			fail(err, 400, f->name, "%s: a NUL byte at byte %zu",
			     what, i);
			return -1;
		}
		if (p[i] < 0x20) {
			fail(err, 400, f->name, "%s: control character "
			     "0x%02x at byte %zu", what, p[i], i);
			return -1;
		}
	}
	return 0;
}

static int check_array(const struct body_field *f, const json_t *v,
		       struct body_error *err)
{
	char what[160];
	size_t i;
	json_t *item;

	if (f->max_len && json_array_size(v) > f->max_len) {
		fail(err, 400, f->name, "field \"%s\": more than %zu items",
		     f->name, f->max_len);
		return -1;
	}
	json_array_foreach(v, i, item) {
		if (!json_is_string(item)) {
			fail(err, 400, f->name, "field \"%s\": item %zu: "
			     "expected a string, got %s", f->name, i,
			     kind(item));
			return -1;
		}
		snprintf(what, sizeof(what), "field \"%.64s\": item %zu",
			 f->name, i);
		if (check_chars(f, what, item, err) < 0)
			return -1;
	}
	return 0;
}

static int check_value(const struct body_field *f, const json_t *v,
		       struct body_error *err)
{
	char what[96];

	if (!type_ok(f->type, v)) {
		fail(err, 400, f->name, "field \"%s\": expected %s, got %s",
		     f->name, expected[f->type], kind(v));
		return -1;
	}
	switch (f->type) {
	case BODY_STRING:
		if (f->max_len && json_string_length(v) > f->max_len) {
			fail(err, 400, f->name, "field \"%s\": longer than "
			     "%zu bytes", f->name, f->max_len);
			return -1;
		}
		snprintf(what, sizeof(what), "field \"%.64s\"", f->name);
		return check_chars(f, what, v, err);
	case BODY_INT:
		if ((f->min || f->max) && (json_integer_value(v) < f->min ||
					   json_integer_value(v) > f->max)) {
			fail(err, 400, f->name, "field \"%s\": %lld is out of "
			     "range [%lld, %lld]", f->name,
			     (long long)json_integer_value(v), f->min, f->max);
			return -1;
		}
		return 0;
	case BODY_STRING_ARRAY:
		return check_array(f, v, err);
	case BODY_BOOL:
	case BODY_OBJECT:
		break;
	}
	return 0;
}

static void unknown_field(const char *key, const struct body_field *schema,
			  struct body_error *err)
{
	const struct body_field *f, *best = NULL;
	size_t best_d = 3, d;
	char name[BODY_MAX_ECHO * 2];

	for (f = schema; f->name; f++) {
		d = edit_distance(key, f->name, 2);
		if (d < best_d) {
			best_d = d;
			best = f;
		}
	}
	escape(name, sizeof(name), key, strlen(key), BODY_MAX_ECHO, true);
	if (best)
		fail(err, 400, key, "unknown field \"%s\" (did you mean "
		     "\"%s\"?)", name, best->name);
	else
		fail(err, 400, key, "unknown field \"%s\"", name);
}

/* An optional field sent as null is taken as absent (wgrest's clients
 * send unset optional fields so) and removed, so that no handler sees
 * it; a required one is still refused. */
static int check_schema(json_t *o, const struct body_field *schema,
			struct body_error *err)
{
	const struct body_field *f;
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		for (f = schema; f->name; f++)
			if (!strcmp(f->name, key))
				break;
		if (!f->name) {
			unknown_field(key, schema, err);
			return -1;
		}
	}
	for (f = schema; f->name; f++) {
		v = json_object_get(o, f->name);
		if (json_is_null(v) && !f->required) {
			json_object_del(o, f->name);
			v = NULL;
		}
		if (!v) {
			if (!f->required)
				continue;
			fail(err, 400, f->name, "missing field \"%s\"",
			     f->name);
			return -1;
		}
		if (check_value(f, v, err) < 0)
			return -1;
	}
	return 0;
}

json_t *body_parse(const char *data, size_t len, size_t limit,
		   const struct body_field *schema, struct body_error *err)
{
	json_error_t je;
	json_t *o;

	memset(err, 0, sizeof(*err));
	if (len > limit) {
		fail(err, 413, "", "the body is over %zu bytes", limit);
		return NULL;
	}
	if (len == 0) {
		fail(err, 400, "", "a JSON object is expected");
		return NULL;
	}
	if (check_bytes(data, len, err) < 0)
		return NULL;
	o = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
		       &je);
	if (!o) {
		parse_failed(&je, err);
		return NULL;
	}
	if (!json_is_object(o)) {
		fail(err, 400, "", "a JSON object is expected, got %s",
		     kind(o));
		goto out;
	}
	if (check_schema(o, schema, err) < 0)
		goto out;
	return o;
out:
	json_decref(o);
	return NULL;
}

/* --- reading and answering ---------------------------------------------- */

const char *body_str(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

long long body_int(const json_t *o, const char *name, long long dflt)
{
	const json_t *v = json_object_get(o, name);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

bool body_bool(const json_t *o, const char *name, bool dflt)
{
	const json_t *v = json_object_get(o, name);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

char *body_error_json(const struct body_error *e)
{
	json_t *j = json_pack("{sissss}", "code", e->status,
			      "message", e->message, "detail", e->field);
	char *s;

	/* a message not made here may not be UTF-8 */
	if (!j)
		j = json_pack("{sissss}", "code", e->status, "message",
			      "invalid request", "detail", "");
	if (!j)
		fatal("body_error_json: cannot build the answer");
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		fatal("body_error_json: cannot print the answer");
	return s;
}
