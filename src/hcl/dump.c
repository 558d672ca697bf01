/* `moat config dump`: the tree as JSON, in the shape of the reference
 * dumper so the two can be compared file by file. */
#include <string.h>

#include "base/buf.h"
#include "hcl/hcl.h"

static void indent(struct buf *b, int depth)
{
	buf_addc(b, '\n');
	for (int i = 0; i < depth; i++)
		buf_adds(b, "  ");
}

static void dump_value(struct buf *b, const struct hcl_value *v, int depth)
{
	size_t i;

	switch (v->type) {
	case HCL_NULL:
		buf_adds(b, "null");
		break;
	case HCL_BOOL:
		buf_adds(b, v->b ? "true" : "false");
		break;
	case HCL_NUMBER:
		buf_adds(b, v->s);
		break;
	case HCL_STRING:
		buf_json_str(b, v->s, v->len);
		break;
	case HCL_ERROR:
		buf_adds(b, "{\"error\": ");
		buf_json_str(b, v->s, v->len);
		buf_addc(b, '}');
		break;
	case HCL_TUPLE:
		if (!v->n) {
			buf_adds(b, "[]");
			break;
		}
		buf_addc(b, '[');
		for (i = 0; i < v->n; i++) {
			if (i)
				buf_addc(b, ',');
			indent(b, depth + 1);
			dump_value(b, v->items[i], depth + 1);
		}
		indent(b, depth);
		buf_addc(b, ']');
		break;
	case HCL_OBJECT:
		if (!v->n) {
			buf_adds(b, "{}");
			break;
		}
		buf_addc(b, '{');
		for (i = 0; i < v->n; i++) {
			if (i)
				buf_addc(b, ',');
			indent(b, depth + 1);
			buf_json_str(b, v->fields[i].key, v->fields[i].keylen);
			buf_adds(b, ": ");
			dump_value(b, v->fields[i].val, depth + 1);
		}
		indent(b, depth);
		buf_addc(b, '}');
		break;
	}
}

static void dump_body(struct buf *b, const struct hcl_body *body, int depth)
{
	size_t i, j;

	buf_addc(b, '{');
	indent(b, depth + 1);
	buf_adds(b, "\"attributes\": {");
	for (i = 0; i < body->nattrs; i++) {
		const struct hcl_attr *a = &body->attrs[i];
		const struct hcl_value *err = hcl_value_error(a->val);

		buf_adds(b, i ? "," : "");
		indent(b, depth + 2);
		buf_json_str(b, a->name, strlen(a->name));
		buf_adds(b, ": ");
		/* as the reference does: one error makes the whole value one */
		dump_value(b, err ? err : a->val, depth + 2);
	}
	if (body->nattrs)
		indent(b, depth + 1);
	buf_adds(b, "},");
	indent(b, depth + 1);
	buf_adds(b, "\"blocks\": [");
	for (i = 0; i < body->nblocks; i++) {
		const struct hcl_block *blk = body->blocks[i];

		buf_adds(b, i ? "," : "");
		indent(b, depth + 2);
		buf_adds(b, "{\"type\": ");
		buf_json_str(b, blk->type, strlen(blk->type));
		buf_adds(b, ", \"labels\": [");
		for (j = 0; j < blk->nlabels; j++) {
			buf_adds(b, j ? ", " : "");
			buf_json_str(b, blk->labels[j].s, blk->labels[j].len);
		}
		buf_adds(b, "], \"body\": ");
		dump_body(b, &blk->body, depth + 2);
		buf_addc(b, '}');
	}
	if (body->nblocks)
		indent(b, depth + 1);
	buf_addc(b, ']');
	indent(b, depth);
	buf_addc(b, '}');
}

char *hcl_dump_json(const struct hcl_file *f)
{
	struct buf b = BUF_INIT;

	dump_body(&b, &f->body, 0);
	buf_addc(&b, '\n');
	return buf_steal(&b);
}
