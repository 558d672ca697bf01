/* Config to router plan: the links, addresses, routes and rules the kernel
 * must hold. Pure.
 *
 * - Every enabled interface is brought up with its MTU and addresses; a
 *   disabled one is set down and keeps none of moat's addresses.
 *   "eth1.20" and `vlan "20"` blocks are VLANs moat creates on eth1.
 * - `gateway` / `gateway_v6` on an interface is a default route through
 *   it, in the interface's `table` when it has one; such a table also gets
 *   a rule sending what arrives on the interface to it.
 * - Routes without a metric get the kernel's default (0, IPv6 1024), so
 *   that the plan compares equal to what the kernel reports.
 * - Rules without a priority are numbered in file order: policy routes
 *   from NET_PRIO_POLICY, interface tables from NET_PRIO_IFACE, all before
 *   the main table's 32766. A policy route naming no address applies to
 *   IPv4 and IPv6 alike (two kernel rules). */
#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "config/addr.h"
#include "config/config.h"
#include "net/net.h"

#define NET_PRIO_POLICY 10000
#define NET_PRIO_IFACE 30000

struct nc {
	const struct moat_config *cfg;
	struct net_plan *plan;
	struct diag_list *dl;
	int bad;
};

static void to_addr(const struct cfg_prefix *p, struct net_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = p->family;
	memcpy(a->addr, p->addr, sizeof(a->addr));
	a->len = (uint8_t)p->len;
}

/* Parses an address the validator has already accepted. */
static bool parse(struct nc *c, const char *s, unsigned flags,
		  const struct pos *at, struct net_addr *a)
{
	struct cfg_prefix p;
	const char *why;

	if (!addr_parse(s, flags, &p, &why)) {
		diag_error(c->dl, at, "\"%s\": %s", s, why);
		c->bad = -1;
		return false;
	}
	to_addr(&p, a);
	return true;
}

/* A destination prefix must have no host bits: the kernel refuses them
 * ("Invalid prefix for given prefix length"), so say it here, with the
 * prefix the user probably meant. */
static bool prefix_clean(struct nc *c, struct net_addr *a, const char *s,
			 const struct pos *at)
{
	struct net_addr m = *a;
	char want[INET6_ADDRSTRLEN + 8];

	for (int i = 0; i < 16; i++) {
		int bits = a->len - 8 * i;

		if (bits <= 0)
			m.addr[i] = 0;
		else if (bits < 8)
			m.addr[i] &= (uint8_t)(0xff << (8 - bits));
	}
	if (!memcmp(m.addr, a->addr, sizeof(m.addr)))
		return true;
	net_addr_format(&m, want, sizeof(want));
	diag_error(c->dl, at, "\"%s\" has host bits set; did you mean %s?", s,
		   want);
	c->bad = -1;
	return false;
}

static void link_addrs(struct nc *c, struct net_link *l,
		       const struct cfg_strs *v4, const struct cfg_strs *v6)
{
	const struct cfg_strs *lists[] = { v4, v6 };

	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < lists[k]->n; i++) {
			struct net_addr a;

			if (!parse(c, lists[k]->v[i], ADDR_NEED_PREFIX,
				   &lists[k]->at[i], &a))
				continue;
			for (size_t j = 0; j < l->naddrs; j++)
				if (!memcmp(&l->addrs[j], &a, sizeof(a))) {
					diag_error(c->dl, &lists[k]->at[i],
						   "address %s is given twice "
						   "on %s", lists[k]->v[i],
						   l->name);
					c->bad = -1;
				}
			net_link_add_addr(l, &a, &lists[k]->at[i]);
		}
}

static struct net_link *add_link(struct nc *c, const char *name,
				 const struct pos *at)
{
	struct net_link *l;

	if (net_plan_link(c->plan, name)) {
		diag_error(c->dl, at, "interface \"%s\" is configured twice",
			   name);
		c->bad = -1;
		return NULL;
	}
	l = net_plan_add_link(c->plan);
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->pos = *at;
	return l;
}

/* "eth1.20": a VLAN on eth1 when what follows the last dot is an id. */
static bool vlan_name(const char *name, char *parent, uint16_t *id)
{
	const char *dot = strrchr(name, '.');
	char *end;
	long v;

	if (!dot || dot == name || !dot[1] || (size_t)(dot - name) >=
	    NET_IFNAMSIZ)
		return false;
	v = strtol(dot + 1, &end, 10);
	if (*end || v < 1 || v > 4094 || dot[1] < '0' || dot[1] > '9')
		return false;
	memcpy(parent, name, (size_t)(dot - name));
	parent[dot - name] = '\0';
	*id = (uint16_t)v;
	return true;
}

static void add_gateway(struct nc *c, const struct cfg_interface *i,
			const struct cfg_str *gw, int family)
{
	struct net_route *r;
	struct net_addr a;

	if (!gw->v || !parse(c, gw->v, family == AF_INET ? ADDR_V4 : ADDR_V6,
			     &gw->pos, &a))
		return;
	r = net_plan_add_route(c->plan);
	r->family = family;
	r->dst.family = family;
	r->has_gw = true;
	memcpy(r->gw, a.addr, sizeof(r->gw));
	snprintf(r->dev, sizeof(r->dev), "%s", i->o.name);
	r->metric = family == AF_INET6 ? 1024 : 0;
	r->table = i->table.set ? (uint32_t)i->table.v : NET_TABLE_MAIN;
	r->type = RTN_UNICAST;
	r->scope = RT_SCOPE_UNIVERSE;
	r->protocol = NET_RTPROT_MOAT;
	r->pos = gw->pos;
	r->what = xasprintf("interface %s %s", i->o.name,
			    family == AF_INET ? "gateway" : "gateway_v6");
}

static void add_iface_rule(struct nc *c, const struct cfg_interface *i,
			   int family, uint32_t prio)
{
	struct net_rule *r = net_plan_add_rule(c->plan);

	r->family = family;
	r->src.family = r->dst.family = family;
	r->priority = prio;
	snprintf(r->iif, sizeof(r->iif), "%s", i->o.name);
	r->action = FR_ACT_TO_TBL;
	r->table = (uint32_t)i->table.v;
	r->protocol = NET_RTPROT_MOAT;
	r->pos = i->table.pos;
	r->what = xasprintf("interface %s table", i->o.name);
}

static void interfaces(struct nc *c)
{
	uint32_t prio = NET_PRIO_IFACE;

	CFG_EACH(struct cfg_interface, i, c->cfg->interfaces) {
		bool off = i->disabled.set && i->disabled.v;
		struct net_link *l = add_link(c, i->o.name, &i->o.name_pos);

		if (!l)
			continue;
		if (vlan_name(i->o.name, l->parent, &l->vlan_id))
			l->kind = NET_LINK_VLAN;
		l->mtu = i->mtu.set ? (uint32_t)i->mtu.v : 0;
		l->up = !off;
		if (!off)
			link_addrs(c, l, &i->ipv4, &i->ipv6);
		CFG_EACH(struct cfg_vlan, v, i->vlans) {
			char name[64];
			struct net_link *vl;

			snprintf(name, sizeof(name), "%s.%s", i->o.name,
				 v->o.name);
			vl = add_link(c, name, &v->o.name_pos);
			if (!vl)
				continue;
			vl->kind = NET_LINK_VLAN;
			snprintf(vl->parent, sizeof(vl->parent), "%s",
				 i->o.name);
			vl->vlan_id = (uint16_t)atoi(v->o.name);
			vl->mtu = v->mtu.set ? (uint32_t)v->mtu.v : 0;
			vl->up = !(off || (v->disabled.set && v->disabled.v));
			if (vl->up)
				link_addrs(c, vl, &v->ipv4, &v->ipv6);
		}
		if (off)
			continue;
		add_gateway(c, i, &i->gateway, AF_INET);
		add_gateway(c, i, &i->gateway_v6, AF_INET6);
		if (i->table.set && i->table.v != RT_TABLE_MAIN) {
			add_iface_rule(c, i, AF_INET, prio);
			if (i->ipv6.n || i->gateway_v6.v)
				add_iface_rule(c, i, AF_INET6, prio);
			prio++;
		}
	}
}

/* WireGuard devices: the wg component creates them before net runs; net
 * gives them their addresses, MTU and state. An `interface` block of the
 * same name (for its zone or routes) is the same link. */
static void wireguard(struct nc *c)
{
	static const struct cfg_strs none;

	CFG_EACH(struct cfg_vpn, vpn, c->cfg->vpn)
	CFG_EACH(struct cfg_wireguard, w, vpn->wireguard) {
		const char *name = w->interface.v ? w->interface.v : w->o.name;
		struct net_link *l = (struct net_link *)net_plan_link(c->plan,
								      name);

		if (w->enabled.set && !w->enabled.v)
			continue;
		if (!l) {
			if (!(l = add_link(c, name, &w->o.name_pos)))
				continue;
			l->up = 1;
		}
		if (l->kind == NET_LINK_VLAN) {
			diag_error(c->dl, &w->o.name_pos, "wireguard \"%s\": "
				   "%s is a VLAN's name", w->o.name, name);
			c->bad = -1;
			continue;
		}
		l->kind = NET_LINK_WIREGUARD;
		if (w->mtu.set) {
			if (l->mtu && l->mtu != (uint32_t)w->mtu.v) {
				diag_error(c->dl, &w->mtu.pos, "wireguard "
					   "\"%s\": mtu %lld, but interface "
					   "\"%s\" says %u", w->o.name,
					   w->mtu.v, name, l->mtu);
				c->bad = -1;
			}
			l->mtu = (uint32_t)w->mtu.v;
		}
		link_addrs(c, l, &w->address, &none);
	}
}

static void route(struct nc *c, const struct cfg_route *cr, uint32_t table)
{
	struct net_route *r;
	struct net_addr gw = { 0 }, dst = { 0 };
	int family = AF_INET;

	if (cr->gateway.v && !parse(c, cr->gateway.v, 0, &cr->gateway.pos,
				    &gw))
		return;
	if (cr->gateway.v)
		family = gw.family;
	if (strcmp(cr->destination.v, "default")) {
		if (!parse(c, cr->destination.v, ADDR_PREFIX,
			   &cr->destination.pos, &dst) ||
		    !prefix_clean(c, &dst, cr->destination.v,
				  &cr->destination.pos))
			return;
		family = dst.family;
	} else {
		dst.family = family;
	}
	r = net_plan_add_route(c->plan);
	r->family = family;
	r->dst = dst;
	r->has_gw = cr->gateway.v != NULL;
	memcpy(r->gw, gw.addr, sizeof(r->gw));
	if (cr->interface.v)
		snprintf(r->dev, sizeof(r->dev), "%s", cr->interface.v);
	r->metric = cr->metric.set ? (uint32_t)cr->metric.v :
		    family == AF_INET6 ? 1024 : 0;
	r->table = cr->table.set ? (uint32_t)cr->table.v : table;
	r->type = RTN_UNICAST;
	/* the kernel reports every IPv6 route as scope universe */
	r->scope = r->has_gw || family == AF_INET6 ? RT_SCOPE_UNIVERSE :
		   RT_SCOPE_LINK;
	r->protocol = NET_RTPROT_MOAT;
	r->pos = cr->o.pos;
	r->what = xasprintf("route \"%s\"", cr->o.name);
}

static int cmp_route_ix(const void *a, const void *b, void *routes)
{
	const struct net_route *base = routes;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int r = net_route_key_cmp(base + i, base + j);

	return r ? r : (i < j ? -1 : i > j);
}

/* The kernel keeps one route per key: two would fight. Sorted, so that
 * 10,000 routes cost a sort; the later one is the error. */
static void duplicate_routes(struct nc *c)
{
	const struct net_route *base = c->plan->routes;
	size_t n = c->plan->nroutes, *ix = xmalloc((n + 1) * sizeof(*ix));

	for (size_t i = 0; i < n; i++)
		ix[i] = i;
	qsort_r(ix, n, sizeof(*ix), cmp_route_ix, (void *)base);
	for (size_t k = 1; k < n; k++) {
		const struct net_route *a = &base[ix[k - 1]], *b = &base[ix[k]];

		if (!net_route_same_key(a, b))
			continue;
		diag_error(c->dl, &b->pos, "%s has the same destination, table "
			   "and metric as %s (%s:%d)", b->what, a->what,
			   a->pos.file, a->pos.line);
		c->bad = -1;
	}
	free(ix);
}

static void routes(struct nc *c)
{
	CFG_EACH(struct cfg_route, r, c->cfg->routes)
		route(c, r, NET_TABLE_MAIN);
	CFG_EACH(struct cfg_routing_table, t, c->cfg->routing_tables)
		CFG_EACH(struct cfg_route, r, t->routes)
			route(c, r, (uint32_t)t->id.v);
	duplicate_routes(c);
}

static void policy_route(struct nc *c, const struct cfg_policy_route *p,
			 uint32_t prio)
{
	struct net_addr from = { 0 }, to = { 0 };
	const struct cfg_str *mark = p->mark.v ? &p->mark : &p->fwmark;
	uint32_t fwmark = 0, fwmask = 0;
	int fams[2], nfams = 0;

	if ((p->from.v && !parse(c, p->from.v, ADDR_PREFIX, &p->from.pos,
				 &from)) ||
	    (p->to.v && !parse(c, p->to.v, ADDR_PREFIX, &p->to.pos, &to)))
		return;
	if ((p->from.v && !prefix_clean(c, &from, p->from.v, &p->from.pos)) ||
	    (p->to.v && !prefix_clean(c, &to, p->to.v, &p->to.pos)))
		return;
	if (from.family && to.family && from.family != to.family) {
		diag_error(c->dl, &p->to.pos, "policy_route \"%s\": from and "
			   "to are of different address families", p->o.name);
		c->bad = -1;
		return;
	}
	if (mark->v) {
		mark_parse(mark->v, &fwmark);
		fwmask = 0xffffffff;
		if (p->mark_mask.v)
			mark_parse(p->mark_mask.v, &fwmask);
		if (!fwmask || (fwmark & ~fwmask)) {
			diag_error(c->dl, &p->mark_mask.pos, "policy_route "
				   "\"%s\": mark 0x%x does not fit in "
				   "mark_mask 0x%x", p->o.name, fwmark, fwmask);
			c->bad = -1;
			return;
		}
	}
	if (from.family || to.family) {
		fams[nfams++] = from.family ? from.family : to.family;
	} else {
		fams[nfams++] = AF_INET;
		fams[nfams++] = AF_INET6;
	}
	for (int k = 0; k < nfams; k++) {
		struct net_rule *r = net_plan_add_rule(c->plan);

		r->family = fams[k];
		r->priority = p->priority.set ? (uint32_t)p->priority.v : prio;
		r->fwmark = fwmark;
		r->fwmask = fwmask;
		r->src = from;
		r->dst = to;
		r->src.family = r->dst.family = fams[k];
		if (p->iif.v)
			snprintf(r->iif, sizeof(r->iif), "%s", p->iif.v);
		if (p->oif.v)
			snprintf(r->oif, sizeof(r->oif), "%s", p->oif.v);
		if (p->blackhole.v)
			r->action = FR_ACT_BLACKHOLE;
		else if (p->prohibit.v)
			r->action = FR_ACT_PROHIBIT;
		else
			r->action = FR_ACT_TO_TBL;
		r->table = r->action == FR_ACT_TO_TBL ? (uint32_t)p->table.v :
			   0;
		r->protocol = NET_RTPROT_MOAT;
		r->pos = p->o.pos;
		r->what = xasprintf("policy_route \"%s\"", p->o.name);
	}
}

static void rules(struct nc *c)
{
	uint32_t prio = NET_PRIO_POLICY;

	CFG_EACH(struct cfg_policy_route, p, c->cfg->policy_routes) {
		if (p->enabled.set && !p->enabled.v)
			continue;
		policy_route(c, p, prio++);
	}
}

/* Positions name the plan's copy of the file name, so that the plan
 * outlives the config. */
static void own_positions(struct net_plan *p)
{
	for (size_t i = 0; i < p->nlinks; i++) {
		p->links[i].pos.file = p->file;
		for (size_t j = 0; j < p->links[i].naddrs; j++)
			p->links[i].addr_pos[j].file = p->file;
	}
	for (size_t i = 0; i < p->nroutes; i++)
		p->routes[i].pos.file = p->file;
	for (size_t i = 0; i < p->nrules; i++)
		p->rules[i].pos.file = p->file;
}

struct net_plan *net_compile(const struct moat_config *cfg,
			     struct diag_list *dl)
{
	struct net_plan *plan = xcalloc(1, sizeof(*plan));
	struct nc c = { .cfg = cfg, .plan = plan, .dl = dl };

	plan->file = xstrdup(cfg->file ? cfg->file : "");
	interfaces(&c);
	wireguard(&c);
	routes(&c);
	rules(&c);
	if (c.bad) {
		net_plan_free(plan);
		return NULL;
	}
	own_positions(plan);
	return plan;
}
