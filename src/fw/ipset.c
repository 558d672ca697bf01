/* ipset blocks -> named sets of table inet moat. Pure.
 *
 * Entries are normalised (host bits of a CIDR cleared, MACs lowercased)
 * and duplicates dropped; interval sets get nft's auto-merge, so adjacent
 * and overlapping ranges reach the kernel as one. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fw/internal.h"

/* Names the compiler uses for its own maps. */
static const char *const reserved[] = { "zone_in", "zone_fwd", "zone_out" };

const struct cfg_ipset *fw_ipset_find(const struct fwc *c, const char *name)
{
	CFG_EACH(const struct cfg_ipset, s, c->cfg->ipsets)
		if (!strcmp(s->o.name, name))
			return s;
	return NULL;
}

/* nft set names: a letter or '_' first, then letters, digits, _ . - */
static bool name_ok(struct fwc *c, const struct cfg_ipset *s)
{
	const char *n = s->o.name;

	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
		if (!strcmp(n, reserved[i])) {
			fwc_error(c, &s->o.name_pos, "ipset \"%s\": the name "
				  "is moat's own; pick another", n);
			return false;
		}
	if (!(isalpha((unsigned char)n[0]) || n[0] == '_') ||
	    strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789_.-") != strlen(n) || strlen(n) > 63) {
		fwc_error(c, &s->o.name_pos, "ipset \"%s\": a set name is a "
			  "letter or '_' followed by letters, digits, '_', "
			  "'.' or '-' (at most 63)", n);
		return false;
	}
	return true;
}

/* The canonical text of an entry; the caller frees. */
static char *entry_norm(const char *type, const char *e, bool *range)
{
	char text[INET6_ADDRSTRLEN + 8];

	*range = false;
	if (!strcmp(type, "ether_addr")) {
		char *s = xstrdup(e);

		for (char *q = s; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		return s;
	}
	if (strcmp(type, "ipv4_addr") && strcmp(type, "ipv6_addr"))
		return xasprintf("%ld", strtol(e, NULL, 10));
	fw_prefix_text(e, text, sizeof(text), range);
	return xstrdup(text);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void ipset_one(struct fwc *c, const struct cfg_ipset *s)
{
	const char *type = s->type.v ? s->type.v : "ipv4_addr";
	char **v = s->entries.n ? xmalloc(s->entries.n * sizeof(*v)) : NULL;
	bool interval = s->interval.v, range;
	struct buf flags = BUF_INIT, el = BUF_INIT;
	char *what = xasprintf("ipset %s", s->o.name);
	size_t n = 0;

	for (size_t i = 0; i < s->entries.n; i++) {
		v[n++] = entry_norm(type, s->entries.v[i], &range);
		interval |= range && !s->interval.set;
	}
	if (n)
		qsort(v, n, sizeof(*v), str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		buf_adds(&el, el.len ? ", " : "");
		buf_adds(&el, v[i]);
	}
	fw_sets_add(c, &s->o.pos, what, "set %s {", s->o.name);
	fw_sets_add(c, &s->type.pos, what, "\ttype %s", type);
	if (interval)
		buf_adds(&flags, "interval");
	if (s->timeout.v)
		buf_printf(&flags, "%stimeout", flags.len ? "," : "");
	if (flags.len)
		fw_sets_add(c, &s->o.pos, what, "\tflags %s", flags.p);
	if (s->timeout.v) {
		struct buf d = BUF_INIT;

		fw_duration(&d, s->timeout.v);
		fw_sets_add(c, &s->timeout.pos, what, "\ttimeout %s", d.p);
		buf_free(&d);
	}
	if (s->size.set)
		fw_sets_add(c, &s->size.pos, what, "\tsize %lld", s->size.v);
	if (interval)
		fw_sets_add(c, &s->o.pos, what, "\tauto-merge");
	if (el.len)
		fw_sets_add(c, &s->entries.pos, what, "\telements = { %s }",
			    el.p);
	fw_sets_add(c, &s->o.pos, what, "}");
	c->nsets++;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	buf_free(&flags);
	buf_free(&el);
	free(what);
}

void fw_ipsets(struct fwc *c)
{
	CFG_EACH(const struct cfg_ipset, s, c->cfg->ipsets) {
		if (s->type.v && !strcmp(s->type.v, "dns"))
			continue;	/* warned by validation */
		if (name_ok(c, s))
			ipset_one(c, s);
	}
}
