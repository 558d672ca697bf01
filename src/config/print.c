/* `moat config print`: the config as canonical HCL, driven by the schema
 * tables, so that every setting moat maps is printed and nothing else.
 * Parsing the output gives the same config. */
#include <string.h>

#include "base/buf.h"
#include "config/internal.h"

static void indent(struct buf *b, int depth)
{
	for (int i = 0; i < depth; i++)
		buf_adds(b, "  ");
}

/* An HCL string literal: escapes, and $${ / %%{ so nothing is a template. */
static void print_str(struct buf *b, const char *s)
{
	buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf_addc(b, '\\');
			buf_addc(b, (char)c);
		} else if (c == '\n') {
			buf_adds(b, "\\n");
		} else if (c == '\r') {
			buf_adds(b, "\\r");
		} else if (c == '\t') {
			buf_adds(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
		} else if ((c == '$' || c == '%') && s[1] == '{') {
			buf_addc(b, (char)c);
			buf_addc(b, (char)c);
		} else {
			buf_addc(b, (char)c);
		}
	}
	buf_addc(b, '"');
}

static void print_port(struct buf *b, const struct cfg_port_range *r)
{
	if (r->lo == r->hi)
		buf_printf(b, "%u", r->lo);
	else
		buf_printf(b, "\"%u-%u\"", r->lo, r->hi);
}

static bool field_set(const struct cfg_field *f, const void *obj)
{
	const void *p = (const char *)obj + f->off;

	switch (f->kind) {
	case CK_STR:
	case CK_ENUM:
		return ((const struct cfg_str *)p)->v != NULL;
	case CK_BOOL:
		return ((const struct cfg_bool *)p)->set;
	case CK_INT:
		return ((const struct cfg_int *)p)->set;
	case CK_STRS:
		return ((const struct cfg_strs *)p)->set;
	case CK_PORTS:
		return ((const struct cfg_ports *)p)->set;
	}
	return false;
}

static void print_field(struct buf *b, const struct cfg_field *f,
			const void *obj, int depth, size_t width)
{
	const void *p = (const char *)obj + f->off;
	size_t i;

	indent(b, depth);
	buf_printf(b, "%-*s = ", (int)width, f->name);
	switch (f->kind) {
	case CK_STR:
	case CK_ENUM:
		print_str(b, ((const struct cfg_str *)p)->v);
		break;
	case CK_BOOL:
		buf_adds(b, ((const struct cfg_bool *)p)->v ? "true" : "false");
		break;
	case CK_INT:
		buf_printf(b, "%lld", ((const struct cfg_int *)p)->v);
		break;
	case CK_STRS: {
		const struct cfg_strs *l = p;

		buf_addc(b, '[');
		for (i = 0; i < l->n; i++) {
			buf_adds(b, i ? ", " : "");
			print_str(b, l->v[i]);
		}
		buf_addc(b, ']');
		break;
	}
	case CK_PORTS: {
		const struct cfg_ports *ports = p;

		if (ports->n == 1) {
			print_port(b, &ports->v[0]);
			break;
		}
		buf_addc(b, '[');
		for (i = 0; i < ports->n; i++) {
			buf_adds(b, i ? ", " : "");
			print_port(b, &ports->v[i]);
		}
		buf_addc(b, ']');
		break;
	}
	}
	buf_addc(b, '\n');
}

static void print_body(struct buf *b, const struct cfg_section *sec,
		       const void *obj, int depth);

static void print_block(struct buf *b, const struct cfg_section *sec,
			const void *obj, int depth)
{
	const struct cfg_obj *o = obj;

	indent(b, depth);
	buf_adds(b, sec->type);
	if (o->name) {
		buf_addc(b, ' ');
		print_str(b, o->name);
	}
	if (o->name2) {
		buf_addc(b, ' ');
		print_str(b, o->name2);
	}
	buf_adds(b, " {\n");
	print_body(b, sec, obj, depth + 1);
	indent(b, depth);
	buf_adds(b, "}\n");
}

static void print_body(struct buf *b, const struct cfg_section *sec,
		       const void *obj, int depth)
{
	size_t width = 0, before = b->len;

	for (const struct cfg_field *f = sec->fields; f && f->name; f++)
		if (field_set(f, obj) && strlen(f->name) > width)
			width = strlen(f->name);
	for (const struct cfg_field *f = sec->fields; f && f->name; f++)
		if (field_set(f, obj))
			print_field(b, f, obj, depth, width);
	for (const struct cfg_child *ch = sec->children; ch && ch->type; ch++) {
		const struct cfg_vec *vec = (const struct cfg_vec *)
					    ((const char *)obj + ch->off);

		for (size_t i = 0; i < vec->n; i++) {
			if (b->len != before)
				buf_addc(b, '\n');
			print_block(b, ch->sec, (const char *)vec->v +
				    i * ch->sec->size, depth);
		}
	}
}

char *cfg_print(const struct moat_config *cfg)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "# moat config print: the configuration as moat reads "
		 "it\n\n");
	print_body(&b, &cfg_root_section, cfg, 0);
	return buf_steal(&b);
}
