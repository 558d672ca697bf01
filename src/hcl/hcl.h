/* The HCL syntax tree moat parses configs into. Every node knows where it
 * came from. Values are already evaluated: moat supports the literal subset
 * of HCL (numbers, strings with ${ENV} references, heredocs, bools, null,
 * tuples, objects) and rejects operators, functions, conditionals and for
 * expressions with a located message. */
#ifndef MOAT_HCL_HCL_H
#define MOAT_HCL_HCL_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"

/* Deeper nesting of blocks and values than this is refused. */
#define HCL_MAX_DEPTH 128

enum hcl_type {
	HCL_NULL,
	HCL_BOOL,
	HCL_NUMBER,
	HCL_STRING,
	HCL_TUPLE,
	HCL_OBJECT,
	HCL_ERROR,	/* could not be evaluated (an unset ${VAR}) */
};

struct hcl_value;

struct hcl_item {
	char *key;
	size_t keylen;
	struct pos pos;
	struct hcl_value *val;
};

struct hcl_value {
	enum hcl_type type;
	struct pos pos;
	bool b;			/* HCL_BOOL */
	/* HCL_STRING: the bytes (NFC, may contain NUL), NUL-terminated;
	 * HCL_NUMBER: canonical decimal text ("-12.5", no exponent);
	 * HCL_ERROR: the message. */
	char *s;
	size_t len;
	/* HCL_TUPLE: items; HCL_OBJECT: fields in source order, where a key
	 * given twice keeps its last value (as HCL does). */
	struct hcl_value **items;
	struct hcl_item *fields;
	size_t n;
};

struct hcl_attr {
	char *name;
	struct pos pos;		/* of the name */
	struct hcl_value *val;
	/* The value's source bytes, [voff, voff + vlen): for tools that edit
	 * the text in place (config/redact.c). */
	size_t voff;
	size_t vlen;
};

struct hcl_label {
	char *s;
	size_t len;
	struct pos pos;
};

struct hcl_block;

struct hcl_body {
	struct hcl_attr *attrs;		/* source order */
	size_t nattrs;
	struct hcl_block **blocks;	/* source order */
	size_t nblocks;
	struct pos end;			/* the closing brace, or end of file */
};

struct hcl_block {
	char *type;
	struct pos pos;
	struct hcl_label *labels;
	size_t nlabels;
	struct hcl_body body;
};

struct hcl_file {
	char *name;		/* every pos.file in the tree points here */
	struct hcl_body body;
};

/* Where ${NAME} gets its value. lookup returns NULL for an unset name. */
struct hcl_env {
	const char *(*lookup)(void *ctx, const char *name);
	void *ctx;
};

/* Parses src (len bytes) as an HCL file named name. env may be NULL (the
 * process environment). Returns the tree, or NULL after adding the syntax
 * error to dl. Unset variables do not fail the parse: they become
 * HCL_ERROR values, reported by hcl_report_errors(). */
struct hcl_file *hcl_parse(const char *name, const char *src, size_t len,
			   const struct hcl_env *env, struct diag_list *dl);
void hcl_file_free(struct hcl_file *f);
/* The byte offset in src (the text hcl_parse read) of a position its
 * tree gives: for tools that edit the text in place (config/edit.c). */
size_t hcl_offset(const char *src, size_t len, const struct pos *at);

/* Adds an error to dl for every HCL_ERROR value in the tree; returns how
 * many. */
size_t hcl_report_errors(const struct hcl_file *f, struct diag_list *dl);
/* The first HCL_ERROR inside v, or NULL. */
const struct hcl_value *hcl_value_error(const struct hcl_value *v);

/* Prints the tree as JSON in the shape of the reference dumper
 * (shared/tools/hcl-oracle): {"attributes": {...}, "blocks": [...]}. */
char *hcl_dump_json(const struct hcl_file *f);

const char *hcl_type_name(enum hcl_type t);

/* Lookups in a body; NULL when absent. */
const struct hcl_attr *hcl_body_attr(const struct hcl_body *b, const char *name);

/* Tree construction, for the parser and for tests. */
struct hcl_value *hcl_value_new(enum hcl_type t, const struct pos *at);
void hcl_value_free(struct hcl_value *v);
void hcl_body_free(struct hcl_body *b);

#endif
