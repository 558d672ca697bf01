/* The checks that need more than one value: references between blocks,
 * duplicate names, contradictions, and the syntax of addresses, ports and
 * keys. Every problem is reported at the value that causes it. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/addr.h"
#include "config/internal.h"

/* --- name indexes: sorted, so lookups stay fast in large configs --------- */

struct name_ent {
	const char *name;
	const struct pos *pos;
	const void *obj;
};

struct name_index {
	struct name_ent *v;
	size_t n;
	size_t cap;
	const char *what;	/* "zone", "interface", ... */
};

static void idx_add(struct name_index *ix, const char *name,
		    const struct pos *at, const void *obj)
{
	xgrow((void **)&ix->v, &ix->cap, ix->n + 1, sizeof(*ix->v));
	ix->v[ix->n].name = name;
	ix->v[ix->n].pos = at;
	ix->v[ix->n].obj = obj;
	ix->n++;
}

static int ent_cmp(const void *pa, const void *pb)
{
	const struct name_ent *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	if (c)
		return c;
	if (a->pos->line != b->pos->line)
		return a->pos->line < b->pos->line ? -1 : 1;
	return a->pos->col < b->pos->col ? -1 : a->pos->col > b->pos->col;
}

static void idx_sort(struct name_index *ix)
{
	if (ix->n)
		qsort(ix->v, ix->n, sizeof(*ix->v), ent_cmp);
}

/* Sorts the index and reports every name given more than once. */
static void idx_finish(struct cfg_ctx *c, struct name_index *ix)
{
	size_t i;

	idx_sort(ix);
	for (i = 1; i < ix->n; i++) {
		if (strcmp(ix->v[i].name, ix->v[i - 1].name))
			continue;
		cfg_error(c, ix->v[i].pos, "duplicate %s \"%s\" (already "
			  "defined at line %d)", ix->what, ix->v[i].name,
			  ix->v[i - 1].pos->line);
	}
}

static const struct name_ent *idx_find(const struct name_index *ix,
				       const char *name)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(name, ix->v[mid].name);

		if (r == 0) {
			while (mid > 0 && !strcmp(ix->v[mid - 1].name, name))
				mid--;
			return &ix->v[mid];
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const char *idx_suggest(const struct name_index *ix, const char *name)
{
	const char **cand = xcalloc(ix->n + 1, sizeof(*cand));
	const char *hint;

	for (size_t i = 0; i < ix->n; i++)
		cand[i] = ix->v[i].name;
	hint = cfg_suggest(name, cand);
	free(cand);
	return hint;
}

struct vctx {
	struct cfg_ctx *c;
	struct name_index zones;
	struct name_index ifaces;	/* interfaces, VLANs, WireGuard */
	struct name_index ipsets;
	struct name_index tables;	/* routing_table ids, as text */
	char **owned;			/* names built here (VLAN names) */
	size_t nowned;
};

/* A reference to something that must exist: reports it if it does not. */
static void ref_check(struct vctx *v, const struct name_index *ix,
		      const struct cfg_str *ref, const char *attr)
{
	const char *hint;

	if (!ref->v || idx_find(ix, ref->v))
		return;
	hint = idx_suggest(ix, ref->v);
	if (hint)
		cfg_error(v->c, &ref->pos, "%s: unknown %s \"%s\"; did you "
			  "mean \"%s\"?", attr, ix->what, ref->v, hint);
	else
		cfg_error(v->c, &ref->pos, "%s: unknown %s \"%s\"", attr,
			  ix->what, ref->v);
}

/* --- value checks ---------------------------------------------------------- */

static bool check_addr(struct vctx *v, const char *s, const struct pos *at,
		       unsigned flags, const char *attr)
{
	struct cfg_prefix p;
	const char *why;

	if (addr_parse(s, flags, &p, &why))
		return true;
	cfg_error(v->c, at, "%s: \"%s\" is %s", attr, s, why);
	return false;
}

static void check_str_addr(struct vctx *v, const struct cfg_str *s,
			   unsigned flags, const char *attr)
{
	if (s->v)
		check_addr(v, s->v, &s->pos, flags, attr);
}

static void check_strs_addr(struct vctx *v, const struct cfg_strs *l,
			    unsigned flags, const char *attr)
{
	for (size_t i = 0; i < l->n; i++)
		check_addr(v, l->v[i], &l->at[i], flags, attr);
}

/* An interface named in a match: a declared one, a "prefix+" wildcard, or
 * one moat does not manage (matched by name only, with a warning). A name
 * close to a declared one is taken for a typo: an error. */
static void check_ifref(struct vctx *v, const struct cfg_str *s,
			bool wildcard, const char *attr)
{
	const char *why, *hint;
	size_t n;

	if (!s->v)
		return;
	if (!ifname_valid(s->v, wildcard, &why)) {
		cfg_error(v->c, &s->pos, "%s: \"%s\": %s", attr, s->v, why);
		return;
	}
	n = strlen(s->v);
	if ((wildcard && s->v[n - 1] == '+') || !strcmp(s->v, "lo") ||
	    idx_find(&v->ifaces, s->v))
		return;
	hint = idx_suggest(&v->ifaces, s->v);
	if (hint)
		cfg_error(v->c, &s->pos, "%s: unknown interface \"%s\"; did "
			  "you mean \"%s\"?", attr, s->v, hint);
	else
		cfg_warn_soft(v->c, &s->pos, "%s: interface \"%s\" is not "
			      "declared in this config; moat matches it by name "
			      "but does not configure it", attr, s->v);
}

/* An interface moat itself must use (a route's device): must be declared
 * unless it is the loopback. */
static void check_ifuse(struct vctx *v, const struct cfg_str *s,
			const char *attr)
{
	const char *why;

	if (!s->v)
		return;
	if (!ifname_valid(s->v, false, &why)) {
		cfg_error(v->c, &s->pos, "%s: \"%s\": %s", attr, s->v, why);
		return;
	}
	if (strcmp(s->v, "lo"))
		ref_check(v, &v->ifaces, s, attr);
}

static const char *const protos[] = {
	"tcp", "udp", "icmp", "icmpv6", "any", "all", "sctp", "gre", "esp",
	"ah", "tcp_udp", "udplite", "dccp", "igmp", "ospf", "vrrp", "pim",
	"ipip", "ipv6", "l2tp", "egp", "rsvp", NULL,
};

static bool check_proto(struct vctx *v, const struct cfg_str *p,
			const char *attr)
{
	const char *hint;

	if (!p->v)
		return true;
	for (size_t i = 0; protos[i]; i++)
		if (!strcasecmp(protos[i], p->v))
			return true;
	{
		char *end;
		long n = strtol(p->v, &end, 10);

		if (!*end && end != p->v && n >= 0 && n <= 255)
			return true;	/* a protocol number */
	}
	hint = cfg_suggest(p->v, protos);
	cfg_error(v->c, &p->pos, "%s: unknown protocol \"%s\" (a name like tcp, "
		  "udp, icmp, or a number 0-255)%s%s%s", attr,
		  p->v, hint ? "; did you mean \"" : "", hint ? hint : "",
		  hint ? "\"?" : "");
	return false;
}

static bool proto_has_ports(const char *p)
{
	return !p || !strcasecmp(p, "tcp") || !strcasecmp(p, "udp") ||
	       !strcasecmp(p, "sctp") || !strcasecmp(p, "tcp_udp") ||
	       !strcasecmp(p, "any") || !strcasecmp(p, "all");
}

static void check_ports_proto(struct vctx *v, const struct cfg_str *proto,
			      const struct cfg_ports *ports, const char *attr)
{
	if (!ports->set || proto_has_ports(proto->v))
		return;
	cfg_error(v->c, &ports->pos, "%s: ports make no sense with protocol "
		  "\"%s\" (line %d); ports need tcp, udp or sctp", attr,
		  proto->v, proto->pos.line);
}

static const char *const ct_states[] = {
	"new", "established", "related", "invalid", "untracked", NULL,
};

static void check_ct_state(struct vctx *v, const char *s,
			   const struct pos *at, const char *attr)
{
	char *copy = xstrdup(s), *tok, *save = NULL;

	for (tok = strtok_r(copy, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		size_t i;

		for (i = 0; ct_states[i]; i++)
			if (!strcasecmp(ct_states[i], tok))
				break;
		if (!ct_states[i])
			cfg_error(v->c, at, "%s: unknown connection state \"%s\" "
				  "(use new, established, related, invalid, "
				  "untracked)", attr, tok);
	}
	free(copy);
}

/* "10/second", "100/minute burst 20" */
static void check_limit(struct vctx *v, const struct cfg_str *l)
{
	static const char *const units[] = {
		"second", "minute", "hour", "day", "s", "m", "h", "d", NULL,
	};
	char unit[16] = "";
	unsigned long rate, burst;
	int used = 0;
	bool ok = false;

	if (!l->v)
		return;
	if (sscanf(l->v, "%lu/%15[a-z]%n", &rate, unit, &used) == 2 && rate) {
		for (size_t i = 0; units[i]; i++)
			if (!strcmp(units[i], unit))
				ok = true;
		if (ok && l->v[used]) {
			int more = 0;

			ok = sscanf(l->v + used, " burst %lu%n", &burst,
				    &more) == 1 && !l->v[used + more];
		}
	}
	if (!ok)
		cfg_error(v->c, &l->pos, "limit: \"%s\" is not a rate like "
			  "\"10/second\" or \"100/minute burst 20\"", l->v);
}

static void check_mark(struct vctx *v, const struct cfg_str *m,
		       const char *attr)
{
	uint32_t x;

	if (m->v && !mark_parse(m->v, &x))
		cfg_error(v->c, &m->pos, "%s: \"%s\" is not a mark (a 32-bit "
			  "number, decimal or 0x hex)", attr, m->v);
}

static void check_table_ref(struct vctx *v, const struct cfg_int *t,
			    const char *attr)
{
	char buf[32];
	struct cfg_str s;

	if (!t->set || t->v == 254 || t->v == 255 || t->v == 253)
		return;		/* main, local, default */
	snprintf(buf, sizeof(buf), "%lld", t->v);
	s.v = buf;
	s.pos = t->pos;
	ref_check(v, &v->tables, &s, attr);
}

/* --- per block ------------------------------------------------------------- */

static void collect(struct vctx *v)
{
	struct moat_config *cfg = v->c->cfg;

	CFG_EACH(struct cfg_zone, z, cfg->zones)
		idx_add(&v->zones, z->o.name, &z->o.name_pos, z);
	CFG_EACH(struct cfg_interface, i, cfg->interfaces) {
		idx_add(&v->ifaces, i->o.name, &i->o.name_pos, i);
		CFG_EACH(struct cfg_vlan, vl, i->vlans) {
			char *n = xasprintf("%s.%s", i->o.name, vl->o.name);

			v->owned = xrealloc(v->owned, (v->nowned + 1) *
					    sizeof(*v->owned));
			v->owned[v->nowned++] = n;
			idx_add(&v->ifaces, n, &vl->o.name_pos, vl);
		}
	}
	CFG_EACH(struct cfg_vpn, vpn, cfg->vpn)
		CFG_EACH(struct cfg_wireguard, wg, vpn->wireguard) {
			if (wg->interface.v && strcmp(wg->interface.v, wg->o.name)) {
				/* declared as an interface too: not twice */
				if (!idx_find(&v->ifaces, wg->interface.v))
					idx_add(&v->ifaces, wg->interface.v,
						&wg->interface.pos, wg);
			} else if (!wg->interface.v) {
				idx_add(&v->ifaces, wg->o.name, &wg->o.name_pos,
					wg);
			}
		}
	CFG_EACH(struct cfg_ipset, s, cfg->ipsets)
		idx_add(&v->ipsets, s->o.name, &s->o.name_pos, s);
	CFG_EACH(struct cfg_routing_table, t, cfg->routing_tables) {
		if (!t->id.set)
			continue;
		v->owned = xrealloc(v->owned, (v->nowned + 1) * sizeof(*v->owned));
		v->owned[v->nowned] = xasprintf("%lld", t->id.v);
		idx_add(&v->tables, v->owned[v->nowned++], &t->id.pos, t);
	}
}

/* As in Flywall, `zone = "NAME"` on an interface, VLAN or WireGuard
 * device puts it in zone NAME and so defines that zone when no zone block
 * does. */
static void add_implicit(struct vctx *v, struct name_index *extra,
			 const char *name, const struct pos *at)
{
	if (name && !idx_find(&v->zones, name))
		idx_add(extra, name, at, NULL);
}

static void add_implicit_zones(struct vctx *v)
{
	struct name_index extra = { .what = "zone" };

	CFG_EACH(struct cfg_interface, i, v->c->cfg->interfaces) {
		/* an interface in no zone is a zone of its own */
		if (i->zone.v)
			add_implicit(v, &extra, i->zone.v, &i->zone.pos);
		else
			add_implicit(v, &extra, i->o.name, &i->o.name_pos);
		CFG_EACH(struct cfg_vlan, vl, i->vlans)
			add_implicit(v, &extra, vl->zone.v, &vl->zone.pos);
	}
	CFG_EACH(struct cfg_vpn, vpn, v->c->cfg->vpn)
		CFG_EACH(struct cfg_wireguard, wg, vpn->wireguard)
			add_implicit(v, &extra, wg->zone.v, &wg->zone.pos);
	for (size_t i = 0; i < extra.n; i++)
		idx_add(&v->zones, extra.v[i].name, extra.v[i].pos, NULL);
	idx_sort(&v->zones);
	free(extra.v);
}

static void check_interfaces(struct vctx *v)
{
	const char *why;

	CFG_EACH(struct cfg_interface, i, v->c->cfg->interfaces) {
		if (!ifname_valid(i->o.name, false, &why))
			cfg_error(v->c, &i->o.name_pos, "interface \"%s\": %s",
				  i->o.name, why);
		check_strs_addr(v, &i->ipv4, ADDR_V4 | ADDR_NEED_PREFIX, "ipv4");
		check_strs_addr(v, &i->ipv6, ADDR_V6 | ADDR_NEED_PREFIX, "ipv6");
		check_str_addr(v, &i->gateway, ADDR_V4, "gateway");
		check_str_addr(v, &i->gateway_v6, ADDR_V6, "gateway_v6");
		check_table_ref(v, &i->table, "table");
		if (i->dhcp.set && i->dhcp.v)
			cfg_warn(v->c, &i->dhcp.pos, "not supported by moat "
				 "yet: dhcp = true (a DHCP client on interface "
				 "\"%s\")", i->o.name);
		CFG_EACH(struct cfg_vlan, vl, i->vlans) {
			char *end;
			long id = strtol(vl->o.name, &end, 10);

			if (*end || id < 1 || id > 4094 || !isdigit(
				    (unsigned char)vl->o.name[0]))
				cfg_error(v->c, &vl->o.name_pos, "vlan \"%s\": "
					  "a VLAN id is a number 1-4094",
					  vl->o.name);
			else if (strlen(i->o.name) + 1 + strlen(vl->o.name) > 15)
				cfg_error(v->c, &vl->o.name_pos, "vlan \"%s\": "
					  "\"%s.%s\" is longer than an interface "
					  "name may be (15)", vl->o.name,
					  i->o.name, vl->o.name);
			check_strs_addr(v, &vl->ipv4, ADDR_V4 | ADDR_NEED_PREFIX,
					"ipv4");
			check_strs_addr(v, &vl->ipv6, ADDR_V6 | ADDR_NEED_PREFIX,
					"ipv6");
		}
	}
}

/* Which zone claims which interface: one interface, one zone. */
struct claim {
	const char *ifname;
	const char *zone;
	const struct pos *pos;
};

static int claim_cmp(const void *pa, const void *pb)
{
	const struct claim *a = pa, *b = pb;
	int c = strcmp(a->ifname, b->ifname);

	if (c)
		return c;
	if (a->pos->line != b->pos->line)
		return a->pos->line < b->pos->line ? -1 : 1;
	return a->pos->col - b->pos->col;
}

static void add_claim(struct claim **cl, size_t *n, size_t *cap,
		      const char *ifname, const char *zone,
		      const struct pos *at)
{
	xgrow((void **)cl, cap, *n + 1, sizeof(**cl));
	(*cl)[*n].ifname = ifname;
	(*cl)[*n].zone = zone;
	(*cl)[*n].pos = at;
	(*n)++;
}

static void check_zones(struct vctx *v)
{
	struct moat_config *cfg = v->c->cfg;
	struct claim *cl = NULL;
	size_t n = 0, cap = 0;

	CFG_EACH(struct cfg_zone, z, cfg->zones) {
		check_ifref(v, &z->interface, true, "interface");
		if (z->interface.v)
			add_claim(&cl, &n, &cap, z->interface.v, z->o.name,
				  &z->interface.pos);
		for (size_t i = 0; i < z->interfaces.n; i++) {
			struct cfg_str s = { z->interfaces.v[i],
					     z->interfaces.at[i] };

			check_ifref(v, &s, true, "interfaces");
			add_claim(&cl, &n, &cap, s.v, z->o.name,
				  &z->interfaces.at[i]);
		}
		check_str_addr(v, &z->src, ADDR_PREFIX, "src");
		check_str_addr(v, &z->dst, ADDR_PREFIX, "dst");
		CFG_EACH(struct cfg_zone_match, m, z->matches) {
			check_ifref(v, &m->interface, true, "interface");
			check_str_addr(v, &m->src, ADDR_PREFIX, "src");
			check_str_addr(v, &m->dst, ADDR_PREFIX, "dst");
			/* a match narrowed by address or VLAN shares the
			 * interface legitimately */
			if (m->interface.v && !m->src.v && !m->dst.v &&
			    !m->vlan.set)
				add_claim(&cl, &n, &cap, m->interface.v,
					  z->o.name, &m->interface.pos);
		}
		CFG_EACH(struct cfg_zone_services, s, z->services)
			CFG_EACH(struct cfg_service_port, p, s->ports)
				if (p->port_end.set && p->port.set &&
				    p->port_end.v < p->port.v)
					cfg_error(v->c, &p->port_end.pos,
						  "port_end %lld is below port "
						  "%lld", p->port_end.v,
						  p->port.v);
	}
	CFG_EACH(struct cfg_interface, i, cfg->interfaces) {
		if (i->zone.v)
			add_claim(&cl, &n, &cap, i->o.name, i->zone.v,
				  &i->zone.pos);
		CFG_EACH(struct cfg_vlan, vl, i->vlans)
			if (vl->zone.v) {
				/* the VLAN's full name is in the index */
				const struct name_ent *e = NULL;

				for (size_t k = 0; k < v->ifaces.n; k++)
					if (v->ifaces.v[k].obj == vl)
						e = &v->ifaces.v[k];
				if (e)
					add_claim(&cl, &n, &cap, e->name,
						  vl->zone.v, &vl->zone.pos);
			}
	}
	CFG_EACH(struct cfg_vpn, vpn, cfg->vpn)
		CFG_EACH(struct cfg_wireguard, wg, vpn->wireguard)
			if (wg->zone.v)
				add_claim(&cl, &n, &cap, wg->interface.v ?
					  wg->interface.v : wg->o.name,
					  wg->zone.v, &wg->zone.pos);
	if (n)
		qsort(cl, n, sizeof(*cl), claim_cmp);
	for (size_t i = 1; i < n; i++) {
		size_t first = i - 1;

		if (strcmp(cl[i].ifname, cl[first].ifname))
			continue;
		while (first > 0 && !strcmp(cl[first - 1].ifname, cl[i].ifname))
			first--;
		if (strcmp(cl[i].zone, cl[first].zone))
			cfg_error(v->c, cl[i].pos, "interface \"%s\" is in two "
				  "zones: \"%s\" (line %d) and \"%s\"",
				  cl[i].ifname, cl[first].zone,
				  cl[first].pos->line, cl[i].zone);
	}
	free(cl);
}

static void check_zone_ref(struct vctx *v, const char *name,
			   const struct pos *at, const char *attr)
{
	struct cfg_str s = { (char *)name, *at };

	size_t n = name ? strlen(name) : 0;

	if (!name || !strcmp(name, "self") || !strcmp(name, "*") ||
	    !strcmp(name, "any"))
		return;
	if (n > 1 && (name[n - 1] == '*' || name[n - 1] == '+')) {
		/* "vpn*": every zone whose name starts with vpn */
		for (size_t i = 0; i < v->zones.n; i++)
			if (!strncmp(v->zones.v[i].name, name, n - 1))
				return;
		cfg_error(v->c, at, "%s: no zone matches \"%s\"", attr, name);
		return;
	}
	ref_check(v, &v->zones, &s, attr);
}

static void check_rule(struct vctx *v, const struct cfg_rule *r)
{
	check_proto(v, &r->proto, "proto");
	check_ports_proto(v, &r->proto, &r->dest_port, "dest_port");
	check_ports_proto(v, &r->proto, &r->dest_ports, "dest_ports");
	check_ports_proto(v, &r->proto, &r->src_port, "src_port");
	check_ports_proto(v, &r->proto, &r->src_ports, "src_ports");
	check_str_addr(v, &r->src_ip, ADDR_PREFIX, "src_ip");
	check_str_addr(v, &r->dest_ip, ADDR_PREFIX, "dest_ip");
	ref_check(v, &v->ipsets, &r->src_ipset, "src_ipset");
	ref_check(v, &v->ipsets, &r->dest_ipset, "dest_ipset");
	if (r->src_ip.v && r->src_ipset.v)
		cfg_error(v->c, &r->src_ipset.pos, "give src_ip or src_ipset, "
			  "not both");
	if (r->dest_ip.v && r->dest_ipset.v)
		cfg_error(v->c, &r->dest_ipset.pos, "give dest_ip or "
			  "dest_ipset, not both");
	if (r->conn_state.v)
		check_ct_state(v, r->conn_state.v, &r->conn_state.pos,
			       "conn_state");
	check_limit(v, &r->limit);
	if (r->invert_src.v && !r->src_ip.v && !r->src_ipset.v)
		cfg_error(v->c, &r->invert_src.pos, "invert_src without src_ip "
			  "or src_ipset: nothing to invert");
	if (r->invert_dest.v && !r->dest_ip.v && !r->dest_ipset.v)
		cfg_error(v->c, &r->invert_dest.pos, "invert_dest without "
			  "dest_ip or dest_ipset: nothing to invert");
	if (r->action.v && !strcmp(r->action.v, "jump") && !r->jump_target.v)
		cfg_error(v->c, &r->action.pos, "action \"jump\" needs "
			  "jump_target");
	if (r->jump_target.v && (!r->action.v || strcmp(r->action.v, "jump")))
		cfg_error(v->c, &r->jump_target.pos, "jump_target is set but "
			  "the action is not \"jump\"");
	if (r->log_prefix.v && strlen(r->log_prefix.v) > 127)
		cfg_error(v->c, &r->log_prefix.pos, "log_prefix is longer than "
			  "127 characters");
}

static void check_policies(struct vctx *v)
{
	struct name_index pairs = { .what = "policy" };
	char **keys = NULL;
	size_t nkeys = 0;

	CFG_EACH(struct cfg_policy, p, v->c->cfg->policies) {
		const char *from = p->o.name2 ? p->o.name : p->from.v;
		const char *to = p->o.name2 ? p->o.name2 : p->to.v;
		const struct pos *fpos = p->o.name2 ? &p->o.name_pos : &p->from.pos;
		const struct pos *tpos = p->o.name2 ? &p->o.name2_pos : &p->to.pos;
		struct name_index rules = { .what = "rule" };

		if (p->o.name2 && (p->from.v || p->to.v)) {
			cfg_error(v->c, p->from.v ? &p->from.pos : &p->to.pos,
				  "policy \"%s\" \"%s\" names its zones in its "
				  "labels; from/to must not be set too",
				  p->o.name, p->o.name2);
		} else if (!p->o.name2 && (!from || !to)) {
			cfg_error(v->c, &p->o.pos, "policy \"%s\" needs its "
				  "zones: policy \"FROM\" \"TO\" { ... } (or "
				  "from = and to = inside)", p->o.name);
			continue;
		}
		check_zone_ref(v, from, fpos, "policy from");
		check_zone_ref(v, to, tpos, "policy to");
		if (p->log_prefix.v && strlen(p->log_prefix.v) > 127)
			cfg_error(v->c, &p->log_prefix.pos, "log_prefix is "
				  "longer than 127 characters");
		keys = xrealloc(keys, (nkeys + 1) * sizeof(*keys));
		keys[nkeys] = xasprintf("\"%s\" -> \"%s\"", from, to);
		idx_add(&pairs, keys[nkeys++], &p->o.pos, p);
		CFG_EACH(struct cfg_rule, r, p->rules) {
			idx_add(&rules, r->o.name, &r->o.name_pos, r);
			check_rule(v, r);
		}
		idx_finish(v->c, &rules);
		free(rules.v);
	}
	idx_finish(v->c, &pairs);
	free(pairs.v);
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
}

static void check_nats(struct vctx *v)
{
	CFG_EACH(struct cfg_nat, n, v->c->cfg->nats) {
		const char *t = n->type.v ? n->type.v : "";

		check_proto(v, &n->proto, "proto");
		check_ports_proto(v, &n->proto, &n->dest_port, "dest_port");
		check_ports_proto(v, &n->proto, &n->to_port, "to_port");
		check_ifref(v, &n->in_interface, true, "in_interface");
		check_ifref(v, &n->out_interface, true, "out_interface");
		check_str_addr(v, &n->src_ip, ADDR_PREFIX, "src_ip");
		check_str_addr(v, &n->dest_ip, ADDR_PREFIX, "dest_ip");
		check_str_addr(v, &n->to_ip, 0, "to_ip");
		check_str_addr(v, &n->snat_ip, 0, "snat_ip");
		if (!strcmp(t, "dnat") && !n->to_ip.v)
			cfg_error(v->c, &n->o.pos, "nat \"%s\": dnat needs "
				  "to_ip (where the traffic goes)", n->o.name);
		if (!strcmp(t, "redirect") && !n->to_port.set)
			cfg_error(v->c, &n->o.pos, "nat \"%s\": redirect needs "
				  "to_port", n->o.name);
		if (!strcmp(t, "snat") && !n->snat_ip.v && !n->to_ip.v)
			cfg_error(v->c, &n->o.pos, "nat \"%s\": snat needs "
				  "snat_ip", n->o.name);
		if (!strcmp(t, "masquerade") && (n->to_ip.v || n->snat_ip.v))
			cfg_error(v->c, n->to_ip.v ? &n->to_ip.pos :
				  &n->snat_ip.pos, "nat \"%s\": masquerade takes "
				  "the address of the out interface; use snat "
				  "for a fixed address", n->o.name);
		if (n->to_port.set && n->to_port.n > 1)
			cfg_error(v->c, &n->to_port.pos, "nat \"%s\": to_port "
				  "is one port or one range", n->o.name);
		if (n->hairpin.v && strcmp(t, "dnat"))
			cfg_error(v->c, &n->hairpin.pos, "nat \"%s\": hairpin "
				  "applies to dnat port forwards", n->o.name);
	}
}

static void check_ipsets(struct vctx *v)
{
	CFG_EACH(struct cfg_ipset, s, v->c->cfg->ipsets) {
		const char *type = s->type.v ? s->type.v : "ipv4_addr";

		if (!strcmp(type, "dns")) {
			cfg_warn(v->c, &s->type.pos, "not supported by moat yet: "
				 "ipset \"%s\" of type \"dns\" (sets filled from "
				 "DNS names)", s->o.name);
			continue;
		}

		if (s->timeout.v && !duration_parse(s->timeout.v, NULL))
			cfg_error(v->c, &s->timeout.pos, "timeout: \"%s\" is not "
				  "a duration like \"3600\", \"90s\", \"30m\", "
				  "\"12h\" or \"7d\"", s->timeout.v);
		for (size_t i = 0; i < s->entries.n; i++) {
			const char *e = s->entries.v[i];
			const struct pos *at = &s->entries.at[i];
			struct cfg_prefix p;
			const char *why;

			if (!strcmp(type, "ipv4_addr") ||
			    !strcmp(type, "ipv6_addr")) {
				unsigned fam = type[3] == '4' ? ADDR_V4 : ADDR_V6;

				if (!addr_parse(e, fam | ADDR_PREFIX, &p, &why))
					cfg_error(v->c, at, "ipset \"%s\": entry "
						  "\"%s\" is %s", s->o.name, e,
						  why);
				else if (p.has_len && s->interval.set &&
					 !s->interval.v)
					cfg_error(v->c, at, "ipset \"%s\": the "
						  "CIDR \"%s\" needs interval = "
						  "true", s->o.name, e);
			} else if (!strcmp(type, "inet_service")) {
				char *end;
				long port = strtol(e, &end, 10);

				if (*end || end == e || port < 1 || port > 65535)
					cfg_error(v->c, at, "ipset \"%s\": entry "
						  "\"%s\" is not a port", s->o.name,
						  e);
			} else if (!strcmp(type, "ether_addr")) {
				unsigned int b[6];
				int used = 0;

				if (sscanf(e, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0],
					   &b[1], &b[2], &b[3], &b[4], &b[5],
					   &used) != 6 || e[used] ||
				    strlen(e) != 17)
					cfg_error(v->c, at, "ipset \"%s\": entry "
						  "\"%s\" is not a MAC address",
						  s->o.name, e);
			}
		}
	}
}

static void check_route(struct vctx *v, const struct cfg_route *r)
{
	struct cfg_prefix dst = { 0 }, gw;
	const char *why;

	if (r->destination.v && strcmp(r->destination.v, "default") &&
	    !check_addr(v, r->destination.v, &r->destination.pos, ADDR_PREFIX,
			"destination"))
		return;
	if (r->destination.v && strcmp(r->destination.v, "default"))
		addr_parse(r->destination.v, ADDR_PREFIX, &dst, &why);
	if (r->gateway.v && check_addr(v, r->gateway.v, &r->gateway.pos, 0,
				       "gateway")) {
		addr_parse(r->gateway.v, 0, &gw, &why);
		if (dst.family && gw.family != dst.family)
			cfg_error(v->c, &r->gateway.pos, "gateway \"%s\" and "
				  "destination \"%s\" are of different address "
				  "families", r->gateway.v, r->destination.v);
	}
	check_ifuse(v, &r->interface, "interface");
	check_table_ref(v, &r->table, "table");
	if (!r->gateway.v && !r->interface.v)
		cfg_error(v->c, &r->o.pos, "route \"%s\" needs a gateway or an "
			  "interface", r->o.name);
}

/* What only a mark rule can get wrong: a mark outside its mask, and
 * matches on where a packet goes, which is decided after the mark. */
static void check_mark_rule(struct vctx *v, const struct cfg_mark_rule *m)
{
	const struct cfg_str *late[] = { &m->out_interface, &m->dst_zone };
	const char *late_attr[] = { "out_interface", "dst_zone" };
	uint32_t mark = 0, mask = 0xffffffff;
	bool ok;

	check_mark(v, &m->mark, "mark");
	check_mark(v, &m->mask, "mask");
	/* mark is required; values that do not parse are reported above */
	ok = m->mark.v && mark_parse(m->mark.v, &mark) &&
	     (!m->mask.v || mark_parse(m->mask.v, &mask));
	if (ok && !mask)
		cfg_error(v->c, &m->mask.pos, "mark_rule \"%s\": mask 0 leaves "
			  "no bit to set", m->o.name);
	else if (ok && (mark & ~mask))
		cfg_error(v->c, &m->mark.pos, "mark_rule \"%s\": mark %s does "
			  "not fit in mask 0x%x (bits 0x%x are outside it)",
			  m->o.name, m->mark.v, mask, mark & ~mask);
	for (size_t i = 0; i < ARRAY_SIZE(late); i++)
		if (late[i]->v)
			cfg_error(v->c, &late[i]->pos, "mark_rule \"%s\": %s: "
				  "marks are set before routing (to steer it), "
				  "when the output interface is not known yet",
				  m->o.name, late_attr[i]);
	if (m->in_interface.v && m->src_zone.v &&
	    !strcmp(m->src_zone.v, "self"))
		cfg_error(v->c, &m->in_interface.pos, "mark_rule \"%s\": "
			  "in_interface with src_zone \"self\": the gateway's "
			  "own packets have no input interface", m->o.name);
}

static void check_routing(struct vctx *v)
{
	struct moat_config *cfg = v->c->cfg;

	CFG_EACH(struct cfg_route, r, cfg->routes)
		check_route(v, r);
	CFG_EACH(struct cfg_routing_table, t, cfg->routing_tables) {
		if (t->id.set && t->id.v >= 253 && t->id.v <= 255)
			cfg_error(v->c, &t->id.pos, "routing_table \"%s\": id "
				  "%lld is reserved by the kernel (253 default, "
				  "254 main, 255 local)", t->o.name, t->id.v);
		CFG_EACH(struct cfg_route, r, t->routes) {
			check_route(v, r);
			if (r->table.set && t->id.set && r->table.v != t->id.v)
				cfg_error(v->c, &r->table.pos, "route \"%s\" is "
					  "inside routing_table \"%s\" (id %lld) "
					  "but names table %lld", r->o.name,
					  t->o.name, t->id.v, r->table.v);
		}
	}
	CFG_EACH(struct cfg_policy_route, p, cfg->policy_routes) {
		check_str_addr(v, &p->from, ADDR_PREFIX, "from");
		check_str_addr(v, &p->to, ADDR_PREFIX, "to");
		check_ifref(v, &p->iif, true, "iif");
		check_ifref(v, &p->oif, true, "oif");
		check_mark(v, &p->mark, "mark");
		check_mark(v, &p->mark_mask, "mark_mask");
		check_mark(v, &p->fwmark, "fwmark");
		check_table_ref(v, &p->table, "table");
		if (!p->table.set && !p->blackhole.v && !p->prohibit.v)
			cfg_error(v->c, &p->o.pos, "policy_route \"%s\" needs "
				  "a table (or blackhole or prohibit)",
				  p->o.name);
		if (p->mark.v && p->fwmark.v)
			cfg_error(v->c, &p->fwmark.pos, "give mark or fwmark, "
				  "not both");
	}
	CFG_EACH(struct cfg_mark_rule, m, cfg->mark_rules) {
		check_mark_rule(v, m);
		check_proto(v, &m->proto, "proto");
		check_ports_proto(v, &m->proto, &m->src_port, "src_port");
		check_ports_proto(v, &m->proto, &m->dst_port, "dst_port");
		check_ports_proto(v, &m->proto, &m->dst_ports, "dst_ports");
		check_str_addr(v, &m->src_ip, ADDR_PREFIX, "src_ip");
		check_str_addr(v, &m->dst_ip, ADDR_PREFIX, "dst_ip");
		check_ifref(v, &m->in_interface, true, "in_interface");
		check_ifref(v, &m->out_interface, true, "out_interface");
		check_zone_ref(v, m->src_zone.v, &m->src_zone.pos, "src_zone");
		check_zone_ref(v, m->dst_zone.v, &m->dst_zone.pos, "dst_zone");
		ref_check(v, &v->ipsets, &m->ipset, "ipset");
		for (size_t i = 0; i < m->conn_state.n; i++)
			check_ct_state(v, m->conn_state.v[i],
				       &m->conn_state.at[i], "conn_state");
	}
}

static void check_key(struct vctx *v, const struct cfg_str *k,
		      const char *attr)
{
	if (k->v && !wg_key_valid(k->v))
		cfg_error(v->c, &k->pos, "%s: not a WireGuard key (32 bytes "
			  "in base64, 44 characters, as `moat wg genkey` "
			  "prints)", attr);
}

static void check_vpn(struct vctx *v)
{
	struct name_index devs = { .what = "wireguard device" };
	struct name_index ports = { .what = "listen_port" };
	char **owned = NULL;
	size_t nowned = 0;

	CFG_EACH(struct cfg_vpn, vpn, v->c->cfg->vpn)
	CFG_EACH(struct cfg_wireguard, wg, vpn->wireguard) {
		struct name_index peers = { .what = "peer" };
		struct name_index keys = { .what = "peer public_key" };
		const char *why;
		const char *ifn = wg->interface.v ? wg->interface.v : wg->o.name;

		idx_add(&devs, wg->o.name, &wg->o.name_pos, wg);
		if (!ifname_valid(ifn, false, &why))
			cfg_error(v->c, wg->interface.v ? &wg->interface.pos :
				  &wg->o.name_pos, "wireguard \"%s\": interface "
				  "\"%s\": %s", wg->o.name, ifn, why);
		check_key(v, &wg->private_key, "private_key");
		if (wg->private_key.v && wg->private_key_file.v)
			cfg_error(v->c, &wg->private_key_file.pos, "give "
				  "private_key or private_key_file, not both");
		check_strs_addr(v, &wg->address, ADDR_NEED_PREFIX, "address");
		check_strs_addr(v, &wg->dns, 0, "dns");
		if (wg->table.v && strcmp(wg->table.v, "off") &&
		    strcmp(wg->table.v, "auto")) {
			char *end;
			unsigned long t = strtoul(wg->table.v, &end, 10);

			if (*end || !t || !isdigit((unsigned char)wg->table.v[0]))
				cfg_error(v->c, &wg->table.pos, "table: \"%s\" "
					  "is not \"off\", \"auto\" or a table "
					  "number", wg->table.v);
		}
		if (wg->listen_port.set) {
			owned = xrealloc(owned, (nowned + 1) * sizeof(*owned));
			owned[nowned] = xasprintf("%lld", wg->listen_port.v);
			idx_add(&ports, owned[nowned++], &wg->listen_port.pos, wg);
		}
		CFG_EACH(struct cfg_wg_peer, p, wg->peers) {
			idx_add(&peers, p->o.name, &p->o.name_pos, p);
			check_key(v, &p->public_key, "public_key");
			check_key(v, &p->preshared_key, "preshared_key");
			if (p->public_key.v && wg_key_valid(p->public_key.v))
				idx_add(&keys, p->public_key.v,
					&p->public_key.pos, p);
			if (p->endpoint.v && !endpoint_parse(p->endpoint.v, &why))
				cfg_error(v->c, &p->endpoint.pos, "endpoint: "
					  "\"%s\": %s", p->endpoint.v, why);
			check_strs_addr(v, &p->allowed_ips, ADDR_PREFIX,
					"allowed_ips");
		}
		idx_finish(v->c, &peers);
		idx_finish(v->c, &keys);
		free(peers.v);
		free(keys.v);
	}
	idx_finish(v->c, &devs);
	idx_finish(v->c, &ports);
	free(devs.v);
	free(ports.v);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
}

/* Names that must be unique, each in its own kind. */
static void check_unique(struct vctx *v)
{
	struct moat_config *cfg = v->c->cfg;
	struct name_index ix[] = {
		{ .what = "nat rule" }, { .what = "route" },
		{ .what = "routing_table" }, { .what = "policy_route" },
		{ .what = "mark_rule" },
	};

	CFG_EACH(struct cfg_nat, n, cfg->nats)
		idx_add(&ix[0], n->o.name, &n->o.name_pos, n);
	CFG_EACH(struct cfg_route, r, cfg->routes)
		idx_add(&ix[1], r->o.name, &r->o.name_pos, r);
	CFG_EACH(struct cfg_routing_table, t, cfg->routing_tables)
		idx_add(&ix[2], t->o.name, &t->o.name_pos, t);
	CFG_EACH(struct cfg_policy_route, p, cfg->policy_routes)
		idx_add(&ix[3], p->o.name, &p->o.name_pos, p);
	CFG_EACH(struct cfg_mark_rule, m, cfg->mark_rules)
		idx_add(&ix[4], m->o.name, &m->o.name_pos, m);
	for (size_t i = 0; i < ARRAY_SIZE(ix); i++) {
		idx_finish(v->c, &ix[i]);
		free(ix[i].v);
	}
}

/* api/web: addresses that parse; HTTPS with both tls_cert and tls_key or
 * neither (ctl makes a self-signed certificate); plain HTTP only on
 * loopback unless allow_plain_http says otherwise (ctl leaves such a
 * listener out: a warning, so that Flywall's configs still load). */
static void check_listener(struct vctx *v, const char *block,
			   const struct cfg_str *plain,
			   const struct cfg_str *tls,
			   const struct cfg_str *cert,
			   const struct cfg_str *key,
			   const struct cfg_bool *allow_plain)
{
	const struct cfg_str *l[2] = { plain, tls };
	bool ok[2];

	for (size_t i = 0; i < 2; i++) {
		ok[i] = !l[i]->v || listen_parse(l[i]->v, NULL, NULL);
		if (!ok[i])
			cfg_error(v->c, &l[i]->pos, "%s: \"%s\" is not "
				  "ADDR:PORT, [IPV6]:PORT or :PORT", block,
				  l[i]->v);
	}
	if (plain->v && ok[0] && !listen_is_loopback(plain->v) &&
	    !(allow_plain->set && allow_plain->v))
		cfg_warn(v->c, &plain->pos, "%s: listen %s is plain HTTP on a "
			 "non-loopback address and is not opened; use "
			 "tls_listen, or set allow_plain_http = true", block,
			 plain->v);
	if (tls->v && (!cert->v != !key->v))
		cfg_error(v->c, &tls->pos, "%s: tls_listen needs tls_cert and "
			  "tls_key (PEM files), or neither for a self-signed "
			  "certificate", block);
	if (!tls->v && (cert->v || key->v))
		cfg_warn(v->c, cert->v ? &cert->pos : &key->pos, "%s: tls_cert "
			 "and tls_key are used only with tls_listen", block);
}

static void check_listeners(struct vctx *v)
{
	const struct moat_config *cfg = v->c->cfg;

	CFG_EACH(const struct cfg_api, a, cfg->api) {
		const struct cfg_str *d[2] = { &a->session_timeout,
					       &a->session_idle_timeout };

		check_listener(v, "api", &a->listen, &a->tls_listen,
			       &a->tls_cert, &a->tls_key, &a->allow_plain_http);
		for (size_t i = 0; i < 2; i++)
			if (d[i]->v && !duration_parse(d[i]->v, NULL))
				cfg_error(v->c, &d[i]->pos, "api: \"%s\" is not "
					  "a duration like \"3600\", \"90s\", "
					  "\"30m\", \"12h\" or \"7d\"", d[i]->v);
	}
	CFG_EACH(const struct cfg_web, w, cfg->web)
		check_listener(v, "web", &w->listen, &w->tls_listen,
			       &w->tls_cert, &w->tls_key, &w->allow_plain_http);
}

void cfg_validate(struct cfg_ctx *c)
{
	struct vctx v = {
		.c = c,
		.zones = { .what = "zone" },
		.ifaces = { .what = "interface" },
		.ipsets = { .what = "ipset" },
		.tables = { .what = "routing table id" },
	};
	const struct cfg_str *sv = &c->cfg->schema_version;

	if (sv->v && strcmp(sv->v, "1.0") && strcmp(sv->v, "1.1"))
		cfg_warn(c, &sv->pos, "schema_version \"%s\": moat reads "
			 "schema versions 1.0 and 1.1", sv->v);
	collect(&v);
	idx_finish(c, &v.zones);
	add_implicit_zones(&v);
	idx_finish(c, &v.ifaces);
	idx_finish(c, &v.ipsets);
	idx_finish(c, &v.tables);
	check_interfaces(&v);
	check_zones(&v);
	check_policies(&v);
	check_nats(&v);
	check_ipsets(&v);
	check_routing(&v);
	check_vpn(&v);
	check_listeners(&v);
	check_unique(&v);
	free(v.zones.v);
	free(v.ifaces.v);
	free(v.ipsets.v);
	free(v.tables.v);
	for (size_t i = 0; i < v.nowned; i++)
		free(v.owned[i]);
	free(v.owned);
}
