/* From what the kernel holds to what the plan says: the operations, in the
 * order they can run (see enum net_op_kind), touching only what is
 * moat's. Pure. Routes are matched through a sorted index, so that
 * 10,000 of them cost a sort, not 10,000 squared comparisons. */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/util.h"
#include "net/net.h"

/* --- formatting ---------------------------------------------------------- */

int net_addr_format(const struct net_addr *a, char *buf, size_t n)
{
	char s[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family, a->addr, s, sizeof(s)))
		return snprintf(buf, n, "?");
	return snprintf(buf, n, "%s/%u", s, a->len);
}

static const char *ip(int family, const uint8_t *addr, char *s, size_t n)
{
	if (!inet_ntop(family, addr, s, (socklen_t)n))
		snprintf(s, n, "?");
	return s;
}

static const char *table_name(uint32_t t, char *s, size_t n)
{
	if (t == RT_TABLE_MAIN)
		return "main";
	if (t == RT_TABLE_DEFAULT)
		return "default";
	if (t == RT_TABLE_LOCAL)
		return "local";
	snprintf(s, n, "%u", t);
	return s;
}

int net_route_format(const struct net_route *r, char *buf, size_t n)
{
	char dst[INET6_ADDRSTRLEN + 8], gw[INET6_ADDRSTRLEN], t[16];
	struct buf b = { 0 };
	int len;

	if (r->dst.len == 0)
		snprintf(dst, sizeof(dst), "default");
	else
		net_addr_format(&r->dst, dst, sizeof(dst));
	if (r->type == RTN_BLACKHOLE)
		buf_adds(&b, "blackhole ");
	else if (r->type == RTN_UNREACHABLE)
		buf_adds(&b, "unreachable ");
	else if (r->type == RTN_PROHIBIT)
		buf_adds(&b, "prohibit ");
	buf_adds(&b, dst);
	if (r->family == AF_INET6 && r->dst.len == 0)
		buf_adds(&b, " (ipv6)");
	if (r->has_gw)
		buf_printf(&b, " via %s", ip(r->family, r->gw, gw, sizeof(gw)));
	if (r->dev[0])
		buf_printf(&b, " dev %s", r->dev);
	if (r->metric)
		buf_printf(&b, " metric %u", r->metric);
	if (r->table != RT_TABLE_MAIN)
		buf_printf(&b, " table %s", table_name(r->table, t, sizeof(t)));
	len = snprintf(buf, n, "%s", b.p ? b.p : "");
	buf_free(&b);
	return len;
}

int net_rule_format(const struct net_rule *r, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN + 8], t[16];
	struct buf b = { 0 };
	int len;

	buf_printf(&b, "%s%u:", r->family == AF_INET6 ? "(ipv6) " : "",
		   r->priority);
	if (r->src.len) {
		net_addr_format(&r->src, a, sizeof(a));
		buf_printf(&b, " from %s", a);
	} else {
		buf_adds(&b, " from all");
	}
	if (r->dst.len) {
		net_addr_format(&r->dst, a, sizeof(a));
		buf_printf(&b, " to %s", a);
	}
	if (r->fwmask) {
		if (r->fwmask == 0xffffffff)
			buf_printf(&b, " fwmark 0x%x", r->fwmark);
		else
			buf_printf(&b, " fwmark 0x%x/0x%x", r->fwmark,
				   r->fwmask);
	}
	if (r->iif[0])
		buf_printf(&b, " iif %s", r->iif);
	if (r->oif[0])
		buf_printf(&b, " oif %s", r->oif);
	if (r->action == FR_ACT_BLACKHOLE)
		buf_adds(&b, " blackhole");
	else if (r->action == FR_ACT_PROHIBIT)
		buf_adds(&b, " prohibit");
	else if (r->action == FR_ACT_UNREACHABLE)
		buf_adds(&b, " unreachable");
	else
		buf_printf(&b, " lookup %s",
			   table_name(r->table, t, sizeof(t)));
	len = snprintf(buf, n, "%s", b.p ? b.p : "");
	buf_free(&b);
	return len;
}

int net_op_format(const struct net_op *op, char *buf, size_t n)
{
	char s[256];

	switch (op->kind) {
	case NET_OP_LINK_ADD:
		return snprintf(buf, n, "+ link %s vlan %u on %s%s",
				op->link.name, op->link.vlan_id,
				op->link.parent, op->link.mtu ? " (mtu set)" :
				"");
	case NET_OP_LINK_DEL:
		return snprintf(buf, n, "- link %s", op->link.name);
	case NET_OP_LINK_SET:
		if (op->old_mtu && op->old_up >= 0)
			return snprintf(buf, n, "~ link %s mtu %u -> %u, %s",
					op->link.name, op->old_mtu,
					op->link.mtu, op->link.up ? "up" :
					"down");
		if (op->old_mtu)
			return snprintf(buf, n, "~ link %s mtu %u -> %u",
					op->link.name, op->old_mtu,
					op->link.mtu);
		return snprintf(buf, n, "~ link %s %s", op->link.name,
				op->link.up ? "up" : "down");
	case NET_OP_ADDR_ADD:
	case NET_OP_ADDR_DEL:
		net_addr_format(&op->addr, s, sizeof(s));
		return snprintf(buf, n, "%c address %s dev %s",
				op->kind == NET_OP_ADDR_ADD ? '+' : '-', s,
				op->ifname);
	case NET_OP_ROUTE_ADD:
	case NET_OP_ROUTE_DEL:
		net_route_format(&op->route, s, sizeof(s));
		return snprintf(buf, n, "%c route %s",
				op->kind == NET_OP_ROUTE_ADD ? '+' : '-', s);
	case NET_OP_ROUTE_REPLACE: {
		char o[256];

		net_route_format(&op->route, s, sizeof(s));
		net_route_format(&op->old_route, o, sizeof(o));
		return snprintf(buf, n, "~ route %s (was %s)", s, o);
	}
	case NET_OP_RULE_ADD:
	case NET_OP_RULE_DEL:
		net_rule_format(&op->rule, s, sizeof(s));
		return snprintf(buf, n, "%c rule %s",
				op->kind == NET_OP_RULE_ADD ? '+' : '-', s);
	}
	return snprintf(buf, n, "?");
}

/* --- comparing ----------------------------------------------------------- */

bool net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* The kernel's identity of a route: a second route with the same key is
 * refused (IPv4) or would be a second path (IPv6). */
bool net_route_same_key(const struct net_route *a, const struct net_route *b)
{
	return net_route_key_cmp(a, b) == 0;
}

/* A route given without a device gets the one the kernel chose for its
 * gateway: no device on one side matches any on the other. */
bool net_route_equal(const struct net_route *a, const struct net_route *b)
{
	return net_route_same_key(a, b) && a->has_gw == b->has_gw &&
	       (!a->has_gw || !memcmp(a->gw, b->gw, sizeof(a->gw))) &&
	       (!a->dev[0] || !b->dev[0] || !strcmp(a->dev, b->dev)) &&
	       a->type == b->type && a->scope == b->scope;
}

bool net_rule_equal(const struct net_rule *a, const struct net_rule *b)
{
	return a->family == b->family && a->priority == b->priority &&
	       a->fwmark == b->fwmark && a->fwmask == b->fwmask &&
	       net_addr_equal(&a->src, &b->src) && net_addr_equal(&a->dst, &b->dst) &&
	       !strcmp(a->iif, b->iif) && !strcmp(a->oif, b->oif) &&
	       a->action == b->action &&
	       (a->action != FR_ACT_TO_TBL || a->table == b->table);
}

/* --- the diff ------------------------------------------------------------ */

static struct net_op *op_add(struct net_change *c, enum net_op_kind kind,
			     const struct pos *at, const char *what)
{
	struct net_op *op;

	xgrow((void **)&c->ops, &c->cap, c->n + 1, sizeof(*c->ops));
	op = &c->ops[c->n++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->old_up = -1;
	if (at)
		op->pos = *at;
	op->what = what;
	return op;
}

static bool link_has_addr(const struct net_link *l, const struct net_addr *a)
{
	for (size_t i = 0; l && i < l->naddrs; i++)
		if (net_addr_equal(&l->addrs[i], a))
			return true;
	return false;
}

static void link_copy(struct net_link *to, const struct net_link *from)
{
	memset(to, 0, sizeof(*to));
	memcpy(to->name, from->name, sizeof(to->name));
	memcpy(to->parent, from->parent, sizeof(to->parent));
	to->kind = from->kind;
	to->vlan_id = from->vlan_id;
	to->mtu = from->mtu;
	to->up = from->up;
}

/* Links: VLANs to create, MTU and state to set. */
static int diff_links(const struct net_plan *plan, const struct net_plan *st,
		      const struct net_owned *owned, struct net_change *c,
		      struct diag_list *dl)
{
	int bad = 0;

	for (size_t i = 0; i < plan->nlinks; i++) {
		const struct net_link *p = &plan->links[i];
		const struct net_link *k = net_plan_link(st, p->name);
		struct net_op *op;

		/* not made yet (a dry run): its addresses are still shown */
		if (!k && p->kind == NET_LINK_WIREGUARD)
			continue;
		if (!k && p->kind == NET_LINK_DEVICE) {
			diag_error(dl, &p->pos, "interface \"%s\" does not "
				   "exist", p->name);
			bad = -1;
			continue;
		}
		if (!k) {
			if (!net_plan_link(st, p->parent) &&
			    !net_plan_link(plan, p->parent)) {
				diag_error(dl, &p->pos, "VLAN \"%s\": its "
					   "parent interface \"%s\" does not "
					   "exist", p->name, p->parent);
				bad = -1;
				continue;
			}
			op = op_add(c, NET_OP_LINK_ADD, &p->pos, NULL);
			link_copy(&op->link, p);
			net_owned_add_link(&c->owned, p);
			continue;
		}
		if (p->kind == NET_LINK_VLAN) {
			if (k->kind != NET_LINK_VLAN ||
			    k->vlan_id != p->vlan_id ||
			    strcmp(k->parent, p->parent)) {
				diag_error(dl, &p->pos, "interface \"%s\" "
					   "exists already and is not VLAN "
					   "%u on %s; moat leaves it alone",
					   p->name, p->vlan_id, p->parent);
				bad = -1;
				continue;
			}
			if (net_owned_has_link(owned, p->name))
				net_owned_add_link(&c->owned, p);
		}
		if ((p->mtu && p->mtu != k->mtu) ||
		    (p->up >= 0 && p->up != (k->up > 0))) {
			op = op_add(c, NET_OP_LINK_SET, &p->pos, NULL);
			link_copy(&op->link, p);
			if (p->mtu && p->mtu != k->mtu)
				op->old_mtu = k->mtu;
			else
				op->link.mtu = 0;
			if (p->up >= 0 && p->up != (k->up > 0))
				op->old_up = k->up > 0;
			else
				op->link.up = -1;
		}
	}
	return bad;
}

static void diff_addrs_add(const struct net_plan *plan,
			   const struct net_plan *st,
			   const struct net_owned *owned,
			   struct net_change *c)
{
	for (size_t i = 0; i < plan->nlinks; i++) {
		const struct net_link *p = &plan->links[i];
		const struct net_link *k = net_plan_link(st, p->name);

		for (size_t j = 0; j < p->naddrs; j++) {
			struct net_op *op;

			if (link_has_addr(k, &p->addrs[j])) {
				/* there already: still moat's if it was */
				if (net_owned_has_addr(owned, p->name,
						       &p->addrs[j]))
					net_owned_add_addr(&c->owned, p->name,
						 &p->addrs[j]);
				continue;
			}
			op = op_add(c, NET_OP_ADDR_ADD, &p->addr_pos[j], NULL);
			memcpy(op->ifname, p->name, sizeof(op->ifname));
			op->addr = p->addrs[j];
			net_owned_add_addr(&c->owned, p->name, &p->addrs[j]);
		}
	}
}

/* Addresses moat added that the plan no longer has (on links still
 * there: a removed VLAN takes its addresses along). */
static void diff_addrs_del(const struct net_plan *plan,
			   const struct net_plan *st,
			   const struct net_owned *owned,
			   struct net_change *c)
{
	for (size_t i = 0; i < owned->naddrs; i++) {
		const struct net_owned_addr *oa = &owned->addrs[i];
		const struct net_link *k = net_plan_link(st, oa->ifname);
		const struct net_link *p = net_plan_link(plan, oa->ifname);
		struct net_op *op;

		if (!link_has_addr(k, &oa->a) || link_has_addr(p, &oa->a))
			continue;
		op = op_add(c, NET_OP_ADDR_DEL, NULL, NULL);
		memcpy(op->ifname, oa->ifname, sizeof(op->ifname));
		op->addr = oa->a;
	}
}

static void diff_links_del(const struct net_plan *plan,
			   const struct net_plan *st,
			   const struct net_owned *owned,
			   struct net_change *c)
{
	for (size_t i = 0; i < owned->nlinks; i++) {
		const struct net_link *o = &owned->links[i];
		const struct net_link *k = net_plan_link(st, o->name);
		struct net_op *op;

		if (!k || net_plan_link(plan, o->name))
			continue;
		/* only the VLAN moat made, not something else by that name */
		if (k->kind != NET_LINK_VLAN || k->vlan_id != o->vlan_id ||
		    strcmp(k->parent, o->parent))
			continue;
		op = op_add(c, NET_OP_LINK_DEL, NULL, NULL);
		link_copy(&op->link, k);
	}
}

int net_route_key_cmp(const struct net_route *a, const struct net_route *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->table != b->table)
		return a->table < b->table ? -1 : 1;
	if (a->metric != b->metric)
		return a->metric < b->metric ? -1 : 1;
	if (a->dst.len != b->dst.len)
		return a->dst.len < b->dst.len ? -1 : 1;
	return memcmp(a->dst.addr, b->dst.addr, sizeof(a->dst.addr));
}

static int cmp_route_ptr(const void *a, const void *b)
{
	return net_route_key_cmp(*(const struct net_route *const *)a,
				 *(const struct net_route *const *)b);
}

/* moat's routes of a state, sorted by key. */
static const struct net_route **route_index(const struct net_plan *st,
					    size_t *n)
{
	const struct net_route **ix = xmalloc((st->nroutes + 1) * sizeof(*ix));

	*n = 0;
	for (size_t i = 0; i < st->nroutes; i++)
		if (st->routes[i].protocol == NET_RTPROT_MOAT)
			ix[(*n)++] = &st->routes[i];
	qsort(ix, *n, sizeof(*ix), cmp_route_ptr);
	return ix;
}

static const struct net_route *route_find(const struct net_route **ix,
					  size_t n, const struct net_route *r)
{
	const struct net_route **hit = bsearch(&r, ix, n, sizeof(*ix),
					       cmp_route_ptr);

	return hit ? *hit : NULL;
}

static void diff_routes(const struct net_plan *plan, const struct net_plan *st,
			struct net_change *c)
{
	size_t nk, np;
	const struct net_route **kix = route_index(st, &nk);
	const struct net_route **pix;

	pix = xmalloc((plan->nroutes + 1) * sizeof(*pix));
	for (np = 0; np < plan->nroutes; np++)
		pix[np] = &plan->routes[np];
	qsort(pix, np, sizeof(*pix), cmp_route_ptr);
	/* stale ones: a key the plan no longer has */
	for (size_t i = 0; i < nk; i++)
		if (!route_find(pix, np, kix[i]))
			op_add(c, NET_OP_ROUTE_DEL, NULL, NULL)->route = *kix[i];
	for (size_t j = 0; j < plan->nroutes; j++) {
		const struct net_route *p = &plan->routes[j];
		const struct net_route *k = route_find(kix, nk, p);
		struct net_op *op;

		if (k && net_route_equal(k, p))
			continue;
		op = op_add(c, k ? NET_OP_ROUTE_REPLACE : NET_OP_ROUTE_ADD,
			    &p->pos, p->what);
		op->route = *p;
		op->route.what = NULL;
		if (k)
			op->old_route = *k;
	}
	free(pix);
	free(kix);
}

static void diff_rules(const struct net_plan *plan, const struct net_plan *st,
		       struct net_change *c)
{
	bool *matched = xcalloc(plan->nrules + 1, sizeof(*matched));

	for (size_t i = 0; i < st->nrules; i++) {
		const struct net_rule *k = &st->rules[i];
		bool keep = false;

		if (k->protocol != NET_RTPROT_MOAT)
			continue;
		/* each kernel rule satisfies one plan rule: duplicates
		 * in the kernel go */
		for (size_t j = 0; j < plan->nrules && !keep; j++)
			if (!matched[j] && net_rule_equal(k, &plan->rules[j]))
				keep = matched[j] = true;
		if (!keep)
			op_add(c, NET_OP_RULE_DEL, NULL, NULL)->rule = *k;
	}
	for (size_t j = 0; j < plan->nrules; j++) {
		struct net_op *op;

		if (matched[j])
			continue;
		op = op_add(c, NET_OP_RULE_ADD, &plan->rules[j].pos,
			    plan->rules[j].what);
		op->rule = plan->rules[j];
		op->rule.what = NULL;
	}
	free(matched);
}

/* Sorts ops by kind, keeping the order within a kind (the enum is the
 * order they run in). */
static void order(struct net_change *c)
{
	struct net_op *sorted = xmalloc((c->n + 1) * sizeof(*sorted));
	size_t k = 0;

	for (int kind = NET_OP_LINK_SET; kind <= NET_OP_LINK_DEL; kind++)
		for (size_t i = 0; i < c->n; i++)
			if ((int)c->ops[i].kind == kind)
				sorted[k++] = c->ops[i];
	free(c->ops);
	c->ops = sorted;
	c->cap = c->n + 1;
}

int net_diff(const struct net_plan *plan, const struct net_plan *state,
	     const struct net_owned *owned, struct net_change *out,
	     struct diag_list *dl)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = diff_links(plan, state, owned, out, dl);
	diff_addrs_add(plan, state, owned, out);
	diff_routes(plan, state, out);
	diff_rules(plan, state, out);
	diff_addrs_del(plan, state, owned, out);
	diff_links_del(plan, state, owned, out);
	order(out);
	return r;
}

void net_change_free(struct net_change *c)
{
	free(c->ops);
	net_owned_free(&c->owned);
	memset(c, 0, sizeof(*c));
}

void net_op_inverse(const struct net_op *op, struct net_op *inv)
{
	*inv = *op;
	switch (op->kind) {
	case NET_OP_LINK_ADD: inv->kind = NET_OP_LINK_DEL; break;
	case NET_OP_LINK_DEL: inv->kind = NET_OP_LINK_ADD; break;
	case NET_OP_LINK_SET:
		inv->link.mtu = op->old_mtu;
		inv->old_mtu = op->old_mtu ? op->link.mtu : 0;
		inv->link.up = op->old_up;
		inv->old_up = op->old_up >= 0 ? op->link.up : -1;
		break;
	case NET_OP_ADDR_ADD: inv->kind = NET_OP_ADDR_DEL; break;
	case NET_OP_ADDR_DEL: inv->kind = NET_OP_ADDR_ADD; break;
	case NET_OP_ROUTE_ADD: inv->kind = NET_OP_ROUTE_DEL; break;
	case NET_OP_ROUTE_DEL: inv->kind = NET_OP_ROUTE_ADD; break;
	case NET_OP_ROUTE_REPLACE:
		inv->route = op->old_route;
		inv->old_route = op->route;
		break;
	case NET_OP_RULE_ADD: inv->kind = NET_OP_RULE_DEL; break;
	case NET_OP_RULE_DEL: inv->kind = NET_OP_RULE_ADD; break;
	}
}

/* --- fingerprint --------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One line per fact, sorted so that dump order does not matter. */
void net_fingerprint(const struct net_plan *st, char *out)
{
	size_t n = 0, cap = 0;
	char **lines = NULL, s[512], a[INET6_ADDRSTRLEN + 8];
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state hs;

#define LINE(...) do { \
		xgrow((void **)&lines, &cap, n + 1, sizeof(*lines)); \
		lines[n++] = xasprintf(__VA_ARGS__); \
	} while (0)
	for (size_t i = 0; i < st->nlinks; i++) {
		const struct net_link *l = &st->links[i];

		LINE("link %s %d %s %u %u %d", l->name, l->kind, l->parent,
		     l->vlan_id, l->mtu, l->up > 0);
		for (size_t j = 0; j < l->naddrs; j++) {
			net_addr_format(&l->addrs[j], a, sizeof(a));
			LINE("addr %s %s", l->name, a);
		}
	}
	for (size_t i = 0; i < st->nroutes; i++)
		if (st->routes[i].protocol == NET_RTPROT_MOAT) {
			net_route_format(&st->routes[i], s, sizeof(s));
			LINE("route %d %u %u %s", st->routes[i].family,
			     st->routes[i].type, st->routes[i].scope, s);
		}
	for (size_t i = 0; i < st->nrules; i++)
		if (st->rules[i].protocol == NET_RTPROT_MOAT) {
			net_rule_format(&st->rules[i], s, sizeof(s));
			LINE("rule %s", s);
		}
#undef LINE
	qsort(lines, n, sizeof(*lines), cmp_str);
	crypto_hash_sha256_init(&hs);
	for (size_t i = 0; i < n; i++) {
		crypto_hash_sha256_update(&hs, (const unsigned char *)lines[i],
					  strlen(lines[i]) + 1);
		free(lines[i]);
	}
	free(lines);
	crypto_hash_sha256_final(&hs, h);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}
