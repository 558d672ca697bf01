/* libFuzzer harness for the REST API's body decoder (src/api/body.c).
 * The input is a request body, decoded against a fixed schema with every
 * type, with a 64 KiB limit, as a handler would:
 *  - a body taken is an object that keeps the schema: no unknown field,
 *    every required one there, each of its type, in its range and length,
 *    strings without control characters, nesting within BODY_MAX_DEPTH;
 *    and the helpers read back what is there;
 *  - a body refused says 413 exactly when it is over the limit, else 400,
 *    with a message (and field) that is valid UTF-8 without control
 *    characters, and an error answer that is JSON with that message. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/body.h"

#define LIMIT (64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct body_field schema[] = {
	{ .name = "name", .type = BODY_STRING, .required = true,
	  .max_len = 32 },
	{ .name = "port", .type = BODY_INT, .required = true, .min = 1,
	  .max = 65535 },
	{ .name = "keepalive", .type = BODY_INT, .min = -5, .max = 3600 },
	{ .name = "count", .type = BODY_INT },
	{ .name = "enabled", .type = BODY_BOOL },
	{ .name = "allowed_ips", .type = BODY_STRING_ARRAY, .max_len = 8 },
	{ .name = "tags", .type = BODY_STRING_ARRAY },
	{ .name = "extra", .type = BODY_OBJECT },
	{ .name = "note", .type = BODY_STRING },
	{ .name = NULL },
};

static bool clean_text(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strnlen(s, max), i, n, k;

	if (len == max)
		return false;	/* not terminated */
	for (i = 0; i < len; i += n) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
		if (p[i] < 0x80)
			n = 1;
		else if (p[i] >= 0xc2 && p[i] <= 0xdf)
			n = 2;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			n = 3;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			n = 4;
		else
			return false;
		if (i + n > len)
			return false;
		for (k = 1; k < n; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static bool text_ok(const json_t *s)
{
	const char *p = json_string_value(s);
	size_t n = json_string_length(s), i;

	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20)
			return false;
	return true;
}

static size_t depth(const json_t *v)
{
	size_t d = 0, i;
	const char *k;
	json_t *c;

	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, c)
			if (depth(c) > d)
				d = depth(c);
	if (json_is_array(v))
		json_array_foreach(v, i, c)
			if (depth(c) > d)
				d = depth(c);
	return json_is_object(v) || json_is_array(v) ? d + 1 : 0;
}

static void check_field(const struct body_field *f, const json_t *v)
{
	size_t i;
	json_t *item;

	switch (f->type) {
	case BODY_STRING:
		if (!json_is_string(v) || !text_ok(v) ||
		    (f->max_len && json_string_length(v) > f->max_len))
			abort();
		break;
	case BODY_INT:
		if (!json_is_integer(v) || ((f->min || f->max) &&
		    (json_integer_value(v) < f->min ||
		     json_integer_value(v) > f->max)))
			abort();
		break;
	case BODY_BOOL:
		if (!json_is_boolean(v))
			abort();
		break;
	case BODY_STRING_ARRAY:
		if (!json_is_array(v) ||
		    (f->max_len && json_array_size(v) > f->max_len))
			abort();
		json_array_foreach(v, i, item)
			if (!json_is_string(item) || !text_ok(item))
				abort();
		break;
	case BODY_OBJECT:
		if (!json_is_object(v))
			abort();
		break;
	}
}

static void check_taken(const json_t *o)
{
	const struct body_field *f;
	const char *key;
	json_t *v;

	if (!json_is_object(o) || depth(o) > BODY_MAX_DEPTH)
		abort();
	json_object_foreach((json_t *)o, key, v) {
		for (f = schema; f->name && strcmp(f->name, key); f++)
			;
		if (!f->name)
			abort();
	}
	for (f = schema; f->name; f++) {
		v = json_object_get(o, f->name);
		if (!v) {
			if (f->required)
				abort();
			continue;
		}
		check_field(f, v);
	}
	if (strcmp(body_str(o, "name"), json_string_value(
			json_object_get(o, "name"))) ||
	    body_int(o, "port", 0) < 1 || body_int(o, "name", 7) != 7 ||
	    body_bool(o, "enabled", true) !=
	    !json_is_false(json_object_get(o, "enabled")))
		abort();
}

static void check_refused(const struct body_error *e, size_t size)
{
	json_t *j;
	char *s;

	if (e->status != (size > LIMIT ? 413 : 400) ||
	    !clean_text(e->message, sizeof(e->message)) || !e->message[0] ||
	    !clean_text(e->field, sizeof(e->field)))
		abort();
	s = body_error_json(e);
	j = json_loads(s, 0, NULL);
	if (!j || json_integer_value(json_object_get(j, "code")) !=
	    e->status || strcmp(json_string_value(json_object_get(j,
			"message")), e->message) ||
	    strcmp(json_string_value(json_object_get(j, "detail")),
		   e->field))
		abort();
	json_decref(j);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct body_error e;
	json_t *o;

	o = body_parse((const char *)data, size, LIMIT, schema, &e);
	if (o) {
		if (size > LIMIT)
			abort();
		check_taken(o);
		json_decref(o);
	} else {
		check_refused(&e, size);
	}
	return 0;
}
