/* Plans and states as plain data, and net.state: what moat created (so
 * that it may remove it) and how the last apply went. Pure. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "config/addr.h"
#include "net/net.h"

struct net_link *net_plan_add_link(struct net_plan *p)
{
	struct net_link *l;

	p->links = xrealloc(p->links, (p->nlinks + 1) * sizeof(*p->links));
	l = &p->links[p->nlinks++];
	memset(l, 0, sizeof(*l));
	l->up = -1;
	return l;
}

void net_link_add_addr(struct net_link *l, const struct net_addr *a,
		       const struct pos *at)
{
	l->addrs = xrealloc(l->addrs, (l->naddrs + 1) * sizeof(*l->addrs));
	l->addr_pos = xrealloc(l->addr_pos,
			       (l->naddrs + 1) * sizeof(*l->addr_pos));
	l->addrs[l->naddrs] = *a;
	if (at)
		l->addr_pos[l->naddrs] = *at;
	else
		memset(&l->addr_pos[l->naddrs], 0, sizeof(*l->addr_pos));
	l->naddrs++;
}

struct net_route *net_plan_add_route(struct net_plan *p)
{
	struct net_route *r;

	p->routes = xrealloc(p->routes, (p->nroutes + 1) * sizeof(*p->routes));
	r = &p->routes[p->nroutes++];
	memset(r, 0, sizeof(*r));
	return r;
}

struct net_rule *net_plan_add_rule(struct net_plan *p)
{
	struct net_rule *r;

	p->rules = xrealloc(p->rules, (p->nrules + 1) * sizeof(*p->rules));
	r = &p->rules[p->nrules++];
	memset(r, 0, sizeof(*r));
	return r;
}

const struct net_link *net_plan_link(const struct net_plan *p,
				     const char *name)
{
	for (size_t i = 0; i < p->nlinks; i++)
		if (!strcmp(p->links[i].name, name))
			return &p->links[i];
	return NULL;
}

void net_plan_free(struct net_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nlinks; i++) {
		free(p->links[i].addrs);
		free(p->links[i].addr_pos);
	}
	for (size_t i = 0; i < p->nroutes; i++)
		free(p->routes[i].what);
	for (size_t i = 0; i < p->nrules; i++)
		free(p->rules[i].what);
	free(p->links);
	free(p->routes);
	free(p->rules);
	free(p->file);
	free(p);
}

/* --- net.state ------------------------------------------------------------
 *
 * One fact per line, words separated by one space:
 *
 *	moat-net 1
 *	addr IFNAME ADDR/LEN
 *	vlan NAME PARENT ID
 *	applied UNIXTIME FINGERPRINT
 *	failed UNIXTIME MESSAGE...
 *
 * Unknown keywords are errors: the file is moat's own, and a line it does
 * not understand means something is wrong with it. */

bool net_owned_has_addr(const struct net_owned *o, const char *ifname,
			const struct net_addr *a)
{
	for (size_t i = 0; i < o->naddrs; i++)
		if (!strcmp(o->addrs[i].ifname, ifname) &&
		    net_addr_equal(&o->addrs[i].a, a))
			return true;
	return false;
}

bool net_owned_has_link(const struct net_owned *o, const char *name)
{
	for (size_t i = 0; i < o->nlinks; i++)
		if (!strcmp(o->links[i].name, name))
			return true;
	return false;
}

void net_owned_add_addr(struct net_owned *o, const char *ifname,
			const struct net_addr *a)
{
	struct net_owned_addr *oa;

	if (net_owned_has_addr(o, ifname, a))
		return;
	o->addrs = xrealloc(o->addrs, (o->naddrs + 1) * sizeof(*o->addrs));
	oa = &o->addrs[o->naddrs++];
	memset(oa, 0, sizeof(*oa));
	snprintf(oa->ifname, sizeof(oa->ifname), "%s", ifname);
	oa->a = *a;
}

void net_owned_add_link(struct net_owned *o, const struct net_link *l)
{
	struct net_link *n;

	if (net_owned_has_link(o, l->name))
		return;
	o->links = xrealloc(o->links, (o->nlinks + 1) * sizeof(*o->links));
	n = &o->links[o->nlinks++];
	memset(n, 0, sizeof(*n));
	memcpy(n->name, l->name, sizeof(n->name));
	memcpy(n->parent, l->parent, sizeof(n->parent));
	n->kind = l->kind;
	n->vlan_id = l->vlan_id;
	n->up = -1;
}

void net_owned_drop_addr(struct net_owned *o, const char *ifname,
			 const struct net_addr *a)
{
	size_t k = 0;

	for (size_t i = 0; i < o->naddrs; i++)
		if (strcmp(o->addrs[i].ifname, ifname) ||
		    (a && !net_addr_equal(&o->addrs[i].a, a)))
			o->addrs[k++] = o->addrs[i];
	o->naddrs = k;
}

void net_owned_drop_link(struct net_owned *o, const char *name)
{
	size_t k = 0;

	for (size_t i = 0; i < o->nlinks; i++)
		if (strcmp(o->links[i].name, name))
			o->links[k++] = o->links[i];
	o->nlinks = k;
	net_owned_drop_addr(o, name, NULL);	/* they went with it */
}

void net_owned_keep(struct net_owned *o, const struct net_op *op)
{
	switch (op->kind) {
	case NET_OP_ADDR_ADD:
		net_owned_add_addr(o, op->ifname, &op->addr);
		break;
	case NET_OP_ADDR_DEL:
		net_owned_drop_addr(o, op->ifname, &op->addr);
		break;
	case NET_OP_LINK_ADD:
		net_owned_add_link(o, &op->link);
		break;
	case NET_OP_LINK_DEL:
		net_owned_drop_link(o, op->link.name);
		break;
	default:
		break;		/* routes and rules carry moat's protocol */
	}
}

void net_owned_free(struct net_owned *o)
{
	free(o->addrs);
	for (size_t i = 0; i < o->nlinks; i++) {
		free(o->links[i].addrs);
		free(o->links[i].addr_pos);
	}
	free(o->links);
	memset(o, 0, sizeof(*o));
}

/* Splits line (NUL-terminated, modified) into at most max words. */
static size_t words(char *line, char **w, size_t max)
{
	size_t n = 0;

	while (*line && n < max) {
		w[n++] = line;
		line = strchr(line, ' ');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

static bool ifname_ok(const char *s)
{
	const char *why;

	return strlen(s) < NET_IFNAMSIZ && ifname_valid(s, false, &why);
}

static bool parse_addr(const char *s, struct net_addr *a)
{
	struct cfg_prefix p;
	const char *why;

	if (!addr_parse(s, ADDR_NEED_PREFIX, &p, &why))
		return false;
	memset(a, 0, sizeof(*a));
	a->family = p.family;
	memcpy(a->addr, p.addr, sizeof(a->addr));
	a->len = (uint8_t)p.len;
	return true;
}

static bool parse_time(const char *s, long long *t)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*t = strtoll(s, &end, 10);
	return !*end && !errno;
}

static bool parse_line(char *line, struct net_owned *o, bool *header,
		       const char **why)
{
	char *w[5];
	size_t n;

	if (!*line || *line == '#')
		return true;
	if (!strncmp(line, "failed ", 7)) {
		char *msg = strchr(line + 7, ' ');

		if (!msg) {
			*why = "failed needs a time and a message";
			return false;
		}
		*msg++ = '\0';
		if (!parse_time(line + 7, &o->failed_at)) {
			*why = "not a time";
			return false;
		}
		snprintf(o->error, sizeof(o->error), "%s", msg);
		return true;
	}
	n = words(line, w, ARRAY_SIZE(w));
	if (!strcmp(w[0], "moat-net")) {
		if (n != 2 || strcmp(w[1], "1")) {
			*why = "not a version this moat reads";
			return false;
		}
		*header = true;
		return true;
	}
	if (!*header) {
		*why = "not a moat net.state file (no \"moat-net 1\" line)";
		return false;
	}
	if (!strcmp(w[0], "addr") && n == 3) {
		struct net_owned_addr *a;

		o->addrs = xrealloc(o->addrs, (o->naddrs + 1) *
				    sizeof(*o->addrs));
		a = &o->addrs[o->naddrs];
		if (!ifname_ok(w[1]) || !parse_addr(w[2], &a->a)) {
			*why = "addr needs an interface and an ADDR/LEN";
			return false;
		}
		snprintf(a->ifname, sizeof(a->ifname), "%s", w[1]);
		o->naddrs++;
		return true;
	}
	if (!strcmp(w[0], "vlan") && n == 4) {
		struct net_link *l;
		char *end;
		long id;

		errno = 0;
		id = strtol(w[3], &end, 10);
		if (!ifname_ok(w[1]) || !ifname_ok(w[2]) || *end || errno ||
		    !isdigit((unsigned char)*w[3]) || id < 1 || id > 4094) {
			*why = "vlan needs a name, a parent and an id 1-4094";
			return false;
		}
		o->links = xrealloc(o->links, (o->nlinks + 1) *
				    sizeof(*o->links));
		l = &o->links[o->nlinks++];
		memset(l, 0, sizeof(*l));
		l->kind = NET_LINK_VLAN;
		l->up = -1;
		snprintf(l->name, sizeof(l->name), "%s", w[1]);
		snprintf(l->parent, sizeof(l->parent), "%s", w[2]);
		l->vlan_id = (uint16_t)id;
		return true;
	}
	if (!strcmp(w[0], "applied") && n == 3) {
		size_t i;

		for (i = 0; i < NET_HASH_HEX && isxdigit((unsigned char)w[2][i]);
		     i++)
			;
		if (!parse_time(w[1], &o->applied_at) || i != NET_HASH_HEX ||
		    w[2][i]) {
			*why = "applied needs a time and a fingerprint";
			return false;
		}
		memcpy(o->fingerprint, w[2], NET_HASH_HEX + 1);
		return true;
	}
	*why = "unknown line";
	return false;
}

bool net_owned_parse(const char *text, size_t len, struct net_owned *o,
		     int *line, const char **why)
{
	bool header = false;
	const char *p = text, *end = text + len;

	memset(o, 0, sizeof(*o));
	*line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[1024];

		++*line;
		if (n >= sizeof(buf) || memchr(p, '\0', n)) {
			*why = n >= sizeof(buf) ? "line too long" :
			       "a NUL byte";
			goto bad;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		if (!parse_line(buf, o, &header, why))
			goto bad;
		p += n + 1;
	}
	if (!header && len) {
		*why = "not a moat net.state file (no \"moat-net 1\" line)";
		goto bad;
	}
	*line = 0;
	return true;
bad:
	net_owned_free(o);
	return false;
}

char *net_owned_print(const struct net_owned *o)
{
	struct buf b = { 0 };
	char a[INET6_ADDRSTRLEN + 8];

	buf_adds(&b, "moat-net 1\n");
	for (size_t i = 0; i < o->nlinks; i++)
		if (o->links[i].kind == NET_LINK_VLAN)
			buf_printf(&b, "vlan %s %s %u\n", o->links[i].name,
				   o->links[i].parent, o->links[i].vlan_id);
	for (size_t i = 0; i < o->naddrs; i++) {
		net_addr_format(&o->addrs[i].a, a, sizeof(a));
		buf_printf(&b, "addr %s %s\n", o->addrs[i].ifname, a);
	}
	if (o->applied_at && o->fingerprint[0])
		buf_printf(&b, "applied %lld %s\n", o->applied_at,
			   o->fingerprint);
	if (o->failed_at) {
		buf_printf(&b, "failed %lld ", o->failed_at);
		for (const char *s = o->error; *s; s++)
			buf_addc(&b, *s == '\n' ? ' ' : *s);
		buf_addc(&b, '\n');
	}
	return buf_steal(&b);
}
