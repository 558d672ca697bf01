/* Constructors, destructors and walks of the HCL tree. */
#include <stdlib.h>
#include <string.h>

#include "hcl/hcl.h"

struct hcl_value *hcl_value_new(enum hcl_type t, const struct pos *at)
{
	struct hcl_value *v = xcalloc(1, sizeof(*v));

	v->type = t;
	if (at)
		v->pos = *at;
	return v;
}

void hcl_value_free(struct hcl_value *v)
{
	size_t i;

	if (!v)
		return;
	if (v->type == HCL_TUPLE)
		for (i = 0; i < v->n; i++)
			hcl_value_free(v->items[i]);
	if (v->type == HCL_OBJECT)
		for (i = 0; i < v->n; i++) {
			free(v->fields[i].key);
			hcl_value_free(v->fields[i].val);
		}
	free(v->items);
	free(v->fields);
	free(v->s);
	free(v);
}

static void block_free(struct hcl_block *blk)
{
	size_t i;

	if (!blk)
		return;
	free(blk->type);
	for (i = 0; i < blk->nlabels; i++)
		free(blk->labels[i].s);
	free(blk->labels);
	hcl_body_free(&blk->body);
	free(blk);
}

void hcl_body_free(struct hcl_body *b)
{
	size_t i;

	for (i = 0; i < b->nattrs; i++) {
		free(b->attrs[i].name);
		hcl_value_free(b->attrs[i].val);
	}
	free(b->attrs);
	for (i = 0; i < b->nblocks; i++)
		block_free(b->blocks[i]);
	free(b->blocks);
	memset(b, 0, sizeof(*b));
}

void hcl_file_free(struct hcl_file *f)
{
	if (!f)
		return;
	hcl_body_free(&f->body);
	free(f->name);
	free(f);
}

const struct hcl_value *hcl_value_error(const struct hcl_value *v)
{
	const struct hcl_value *e;
	size_t i;

	if (!v)
		return NULL;
	switch (v->type) {
	case HCL_ERROR:
		return v;
	case HCL_TUPLE:
		for (i = 0; i < v->n; i++)
			if ((e = hcl_value_error(v->items[i])))
				return e;
		break;
	case HCL_OBJECT:
		for (i = 0; i < v->n; i++)
			if ((e = hcl_value_error(v->fields[i].val)))
				return e;
		break;
	default:
		break;
	}
	return NULL;
}

static size_t report_value(const struct hcl_value *v, struct diag_list *dl)
{
	size_t i, n = 0;

	switch (v->type) {
	case HCL_ERROR:
		diag_error(dl, &v->pos, "%s", v->s);
		return 1;
	case HCL_TUPLE:
		for (i = 0; i < v->n; i++)
			n += report_value(v->items[i], dl);
		break;
	case HCL_OBJECT:
		for (i = 0; i < v->n; i++)
			n += report_value(v->fields[i].val, dl);
		break;
	default:
		break;
	}
	return n;
}

static size_t report_body(const struct hcl_body *b, struct diag_list *dl)
{
	size_t i, n = 0;

	for (i = 0; i < b->nattrs; i++)
		n += report_value(b->attrs[i].val, dl);
	for (i = 0; i < b->nblocks; i++)
		n += report_body(&b->blocks[i]->body, dl);
	return n;
}

size_t hcl_report_errors(const struct hcl_file *f, struct diag_list *dl)
{
	return report_body(&f->body, dl);
}

const struct hcl_attr *hcl_body_attr(const struct hcl_body *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->nattrs; i++)
		if (!strcmp(b->attrs[i].name, name))
			return &b->attrs[i];
	return NULL;
}

const char *hcl_type_name(enum hcl_type t)
{
	static const char *const names[] = {
		[HCL_NULL] = "null",
		[HCL_BOOL] = "bool",
		[HCL_NUMBER] = "number",
		[HCL_STRING] = "string",
		[HCL_TUPLE] = "list",
		[HCL_OBJECT] = "object",
		[HCL_ERROR] = "error",
	};

	return names[t];
}
