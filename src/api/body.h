/* The strict decoder of REST request bodies (pure): a JSON object checked
 * against a small schema, or a 400/413 with a message safe to log and to
 * send back. It must not do I/O, and its messages never carry more than
 * 64 bytes of the client's input, escaped. */
#ifndef MOAT_API_BODY_H
#define MOAT_API_BODY_H
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* Objects and arrays nested deeper than this are refused. */
#define BODY_MAX_DEPTH 32
/* At most this many bytes of the client's input are quoted in a message. */
#define BODY_MAX_ECHO 64

enum body_type {
	BODY_STRING,
	BODY_INT,
	BODY_BOOL,
	BODY_STRING_ARRAY,
	BODY_OBJECT,		/* free-form: the handler checks it */
};

/* One field of a schema; an array of them ends with a NULL name. max_len
 * is bytes for a string, items for an array, 0 for no limit (the body's
 * limit still holds); min == max == 0 means an integer of any value. */
struct body_field {
	const char *name;
	enum body_type type;
	bool required;
	size_t max_len;
	long long min, max;
};

struct body_error {
	int status;		/* 400 or 413 */
	char field[64];		/* the field at fault, "" for the body */
	char message[256];
};

/* The object in data, checked against schema; the caller decrefs it. NULL
 * with err filled when the body is over limit bytes or breaks a rule. */
json_t *body_parse(const char *data, size_t len, size_t limit,
		   const struct body_field *schema, struct body_error *err);

/* The string field name of o, NULL when absent (or not a string). */
const char *body_str(const json_t *o, const char *name);
/* The integer field name of o, dflt when absent (or not an integer). */
long long body_int(const json_t *o, const char *name, long long dflt);
/* The boolean field name of o, dflt when absent (or not a boolean). */
bool body_bool(const json_t *o, const char *name, bool dflt);

/* {"code": 400, "message": "...", "detail": "field"}, as wgrest answers
 * errors; the caller frees it. */
char *body_error_json(const struct body_error *e);

#endif
