/* The lab's topology, decided from a config: which interfaces face the
 * internet (wan), which get a client node, and every address and route
 * of the nodes around the gateway. Pure: no I/O, so that the decisions
 * are unit-tested (tests/unit/test_lab.c). IPv4 only for now.
 *
 * The gateway's own interfaces are never addressed here: moat apply does
 * that inside gw, from the same config. */
#include "lab/lab.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "config/addr.h"
#include "config/config.h"

const struct lab_kind_info lab_kinds[LAB_KIND_MAX] = {
	[LAB_GW] = { "gw", "the gateway: moat runs here" },
	[LAB_WAN] = { "wan", "the internet, " LAB_INTERNET_ADDR " (web, DNS)" },
	[LAB_CLIENT] = { "lan", NULL },	/* its about names its interface */
};

/* The HTTP port of every client, so that a test can tell the firewall
 * from a missing server. */
#define CLIENT_HTTP_PORT 80

static void note(struct lab_topo *t, const char *fmt, ...)
	MOAT_PRINTF(2, 3);

static void note(struct lab_topo *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	xgrow((void **)&t->notes, &t->capnotes, t->nnotes + 1,
	      sizeof(*t->notes));
	t->notes[t->nnotes++] = s;
}

char *lab_ip_str(uint32_t ip, char *buf)
{
	sprintf(buf, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		(ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

char *lab_addr_str(const struct lab_addr *a, bool with_len, char *buf)
{
	lab_ip_str(a->ip, buf);
	if (with_len)
		sprintf(buf + strlen(buf), "/%u", a->len);
	return buf;
}

static uint32_t mask_of(uint8_t len)
{
	return len ? ~0u << (32 - len) : 0;
}

static bool same_subnet(const struct lab_addr *a, uint32_t ip)
{
	return ((a->ip ^ ip) & mask_of(a->len)) == 0;
}

/* The host addresses of a's subnet: none for /32, both for /31. */
static bool host_range(const struct lab_addr *a, uint32_t *lo, uint32_t *hi)
{
	uint32_t net = a->ip & mask_of(a->len);

	if (a->len >= 32)
		return false;
	*lo = a->len == 31 ? net : net + 1;
	*hi = a->len == 31 ? net + 1 : (net | ~mask_of(a->len)) - 1;
	return true;
}

static bool is_host(const struct lab_addr *a, uint32_t ip)
{
	uint32_t lo, hi;

	return same_subnet(a, ip) && host_range(a, &lo, &hi) &&
	       ip >= lo && ip <= hi;
}

/* The first host address after start (wrapping) that is not a's own. */
static bool next_host(const struct lab_addr *a, uint32_t start, uint32_t *out)
{
	uint32_t lo, hi, ip;

	if (!host_range(a, &lo, &hi))
		return false;
	ip = start;
	for (uint64_t i = 0; i <= (uint64_t)hi - lo; i++) {
		if (ip < lo || ip > hi)
			ip = lo;
		if (ip != a->ip) {
			*out = ip;
			return true;
		}
		ip++;
	}
	return false;
}

static bool parse_v4(const char *s, struct lab_addr *a)
{
	struct cfg_prefix p;
	const char *why;

	if (!s || !addr_parse(s, ADDR_V4 | ADDR_PREFIX, &p, &why))
		return false;
	a->ip = (uint32_t)p.addr[0] << 24 | (uint32_t)p.addr[1] << 16 |
		(uint32_t)p.addr[2] << 8 | p.addr[3];
	a->len = (uint8_t)p.len;
	a->set = true;
	return true;
}

/* The interface's first IPv4 address with its prefix. */
static bool iface_addr(const struct cfg_interface *i, struct lab_addr *a)
{
	for (size_t k = 0; k < i->ipv4.n; k++)
		if (parse_v4(i->ipv4.v[k], a))
			return true;
	return false;
}

static bool name_matches(const char *pattern, const char *name)
{
	size_t n;

	if (!pattern)
		return false;
	n = strlen(pattern);
	if (n && (pattern[n - 1] == '+' || pattern[n - 1] == '*'))
		return !strncmp(pattern, name, n - 1);
	return !strcmp(pattern, name);
}

static bool zone_has(const struct cfg_zone *z, const char *ifname)
{
	if (name_matches(z->interface.v, ifname))
		return true;
	for (size_t k = 0; k < z->interfaces.n; k++)
		if (name_matches(z->interfaces.v[k], ifname))
			return true;
	CFG_EACH(const struct cfg_zone_match, m, z->matches)
		if (name_matches(m->interface.v, ifname))
			return true;
	return false;
}

/* The zone the interface is in: its own zone = "X", else the zone block
 * that names it, else none. */
static const char *iface_zone(const struct moat_config *cfg,
			      const struct cfg_interface *i)
{
	if (i->zone.v)
		return i->zone.v;
	CFG_EACH(const struct cfg_zone, z, cfg->zones)
		if (zone_has(z, i->o.name))
			return z->o.name;
	return NULL;
}

static bool is_upstream(const struct moat_config *cfg,
			const struct cfg_interface *i)
{
	const char *zone = iface_zone(cfg, i);

	return i->gateway.v || i->gateway_v6.v || (i->dhcp.set && i->dhcp.v) ||
	       (zone && !strcasecmp(zone, "wan"));
}

/* Interfaces the lab can build: enabled, not VLAN sub-interfaces. */
static bool buildable(struct lab_topo *t, const struct cfg_interface *i)
{
	if (i->disabled.set && i->disabled.v) {
		note(t, "%s is disabled in the config: no link for it",
		     i->o.name);
		return false;
	}
	if (strchr(i->o.name, '.')) {
		note(t, "%s left out: the lab does not build VLANs (they need "
		     "the kernel's 8021q module)", i->o.name);
		return false;
	}
	CFG_EACH(const struct cfg_vlan, v, i->vlans)
		note(t, "VLAN %s on %s left out: the lab does not build VLANs "
		     "(they need the kernel's 8021q module)", v->o.name,
		     i->o.name);
	return true;
}

static size_t add_node(struct lab_topo *t, enum lab_kind kind,
		       const char *name)
{
	struct lab_node *n;

	xgrow((void **)&t->nodes, &t->capnodes, t->nnodes + 1,
	      sizeof(*t->nodes));
	n = &t->nodes[t->nnodes];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	snprintf(n->name, sizeof(n->name), "%s", name);
	return t->nnodes++;
}

/* Where the first node of kind is; gw and wan are always there. */
static size_t node_index(const struct lab_topo *t, enum lab_kind kind)
{
	return (size_t)(lab_topo_first(t, kind) - t->nodes);
}

static void add_iface(struct lab_node *n, const char *name,
		      const struct lab_addr *addr)
{
	struct lab_iface *i;

	xgrow((void **)&n->ifaces, &n->capifaces, n->nifaces + 1,
	      sizeof(*n->ifaces));
	i = &n->ifaces[n->nifaces++];
	memset(i, 0, sizeof(*i));
	snprintf(i->name, sizeof(i->name), "%s", name);
	if (addr)
		i->addr = *addr;
}

static void add_route(struct lab_node *n, const struct lab_addr *dst,
		      uint32_t via)
{
	xgrow((void **)&n->routes, &n->caproutes, n->nroutes + 1,
	      sizeof(*n->routes));
	n->routes[n->nroutes++] = (struct lab_route){ *dst, via };
}

static void add_service(struct lab_node *n, enum lab_svc_kind kind,
			uint32_t ip, uint16_t port, char *text)
{
	for (size_t k = 0; k < n->nsvcs; k++)
		if (n->svcs[k].kind == kind && n->svcs[k].port == port) {
			free(text);
			return;
		}
	xgrow((void **)&n->svcs, &n->capsvcs, n->nsvcs + 1, sizeof(*n->svcs));
	n->svcs[n->nsvcs++] = (struct lab_service){ kind, ip, port, text };
}

static void add_link(struct lab_topo *t, size_t a, const char *a_if,
		     size_t b, const char *b_if)
{
	struct lab_link *l;

	xgrow((void **)&t->links, &t->caplinks, t->nlinks + 1,
	      sizeof(*t->links));
	l = &t->links[t->nlinks++];
	l->a = a;
	l->b = b;
	snprintf(l->a_if, sizeof(l->a_if), "%s", a_if);
	snprintf(l->b_if, sizeof(l->b_if), "%s", b_if);
}

static bool is_dnat(const struct cfg_nat *n)
{
	return n->type.v && !strcmp(n->type.v, "dnat") && n->to_ip.v;
}

/* The port a port forward lands on: to_port, else dest_port, else the
 * client's web server. */
static uint16_t dnat_port(const struct cfg_nat *n)
{
	if (n->to_port.n)
		return n->to_port.v[0].lo;
	if (n->dest_port.n)
		return n->dest_port.v[0].lo;
	return CLIENT_HTTP_PORT;
}

/* A client's address: the target of a port forward into the subnet, so
 * that the forward has someone to reach, else the gateway's + 1. */
static bool client_addr(struct lab_topo *t, const struct moat_config *cfg,
			const struct lab_addr *gw, struct lab_addr *out)
{
	uint32_t ip;

	*out = (struct lab_addr){ 0, gw->len, false };
	CFG_EACH(const struct cfg_nat, n, cfg->nats) {
		struct lab_addr to;

		if (!is_dnat(n) || !parse_v4(n->to_ip.v, &to) ||
		    !is_host(gw, to.ip) || to.ip == gw->ip)
			continue;
		if (!out->set) {
			out->ip = to.ip;
			out->set = true;
		} else if (to.ip != out->ip) {
			char a[20];

			note(t, "nat %s forwards to %s, which has no node: "
			     "the lab has one client per interface",
			     n->o.name, lab_ip_str(to.ip, a));
		}
	}
	if (out->set)
		return true;
	if (!next_host(gw, gw->ip + 1, &ip))
		return false;
	out->ip = ip;
	out->set = true;
	return true;
}

static void client_services(struct lab_node *n, const struct moat_config *cfg)
{
	const struct lab_addr *a = &n->ifaces[0].addr;
	char ip[20];

	lab_ip_str(a->ip, ip);
	add_service(n, LAB_SVC_HTTP, a->ip, CLIENT_HTTP_PORT,
		    xasprintf("moat lab: hello from %s (%s)\n", n->name, ip));
	CFG_EACH(const struct cfg_nat, nat, cfg->nats) {
		struct lab_addr to;

		if (is_dnat(nat) && parse_v4(nat->to_ip.v, &to) &&
		    to.ip == a->ip)
			add_service(n, LAB_SVC_HTTP, a->ip, dnat_port(nat),
				    xasprintf("moat lab: hello from %s (%s)\n",
					      n->name, ip));
	}
}

/* A client node on gw's interface i, addressed from its subnet. */
static void build_client(struct lab_topo *t, const struct moat_config *cfg,
			 const struct cfg_interface *i, unsigned nr)
{
	struct lab_addr gw = { 0 }, a = { 0 };
	const char *zone = iface_zone(cfg, i);
	char name[LAB_NAMSIZ];
	struct lab_node *n;
	size_t idx;

	snprintf(name, sizeof(name), "%s%u", lab_kinds[LAB_CLIENT].name, nr);
	idx = add_node(t, LAB_CLIENT, name);
	add_link(t, node_index(t, LAB_GW), i->o.name, idx, "eth0");
	n = &t->nodes[idx];
	n->about = zone ? xasprintf("on %s (zone %s)", i->o.name, zone) :
			  xasprintf("on %s", i->o.name);
	if (!iface_addr(i, &gw)) {
		note(t, "%s has no address: %s has no static IPv4 address in "
		     "the config", name, i->o.name);
		add_iface(n, "eth0", NULL);
		return;
	}
	if (!client_addr(t, cfg, &gw, &a))
		note(t, "%s has no address: %s's subnet /%u has no room for "
		     "one", name, i->o.name, gw.len);
	add_iface(n, "eth0", a.set ? &a : NULL);
	if (!a.set)
		return;
	add_route(n, &(struct lab_addr){ 0, 0, true }, gw.ip);
	client_services(n, cfg);
}

/* wan's side of an upstream interface: the config's gateway, or another
 * address of the subnet when the config has none. */
static void build_upstream(struct lab_topo *t, const struct cfg_interface *i)
{
	size_t w = node_index(t, LAB_WAN);
	struct lab_node *wan = &t->nodes[w];
	struct lab_addr gw = { 0 }, a = { 0 };
	char s[20];

	add_link(t, node_index(t, LAB_GW), i->o.name, w, i->o.name);
	if (!iface_addr(i, &gw)) {
		note(t, "%s has no static IPv4 address (%s): wan's side of it "
		     "has none either", i->o.name, i->dhcp.v ? "DHCP: the lab "
		     "has no DHCP server yet" : "none in the config");
		add_iface(wan, i->o.name, NULL);
		return;
	}
	a.len = gw.len;
	if (parse_v4(i->gateway.v, &a)) {
		a.len = gw.len;
	} else if (next_host(&gw, gw.ip & mask_of(gw.len), &a.ip)) {
		a.set = true;
		note(t, "%s has no gateway in the config: wan's side of it "
		     "is %s", i->o.name, lab_ip_str(a.ip, s));
	} else {
		note(t, "%s's subnet /%u has no room for wan's side",
		     i->o.name, gw.len);
	}
	add_iface(wan, i->o.name, a.set ? &a : NULL);
}

/* wan routes every client subnet to the gateway, so that only the
 * firewall keeps the internet out of the LAN. */
static void wan_routes(struct lab_topo *t, uint32_t up_ip)
{
	size_t w = node_index(t, LAB_WAN);

	for (size_t k = 0; k < t->nnodes; k++) {
		const struct lab_node *c = &t->nodes[k];
		struct lab_addr dst;

		if (c->kind != LAB_CLIENT || !c->nifaces ||
		    !c->ifaces[0].addr.set)
			continue;
		dst = c->ifaces[0].addr;
		dst.ip &= mask_of(dst.len);
		add_route(&t->nodes[w], &dst, up_ip);
	}
}

static void build_wan(struct lab_topo *t)
{
	struct lab_node *wan = &t->nodes[node_index(t, LAB_WAN)];
	struct lab_addr inet = { 0 };

	parse_v4(LAB_INTERNET_ADDR "/32", &inet);
	add_iface(wan, "lo", &inet);
	add_service(wan, LAB_SVC_HTTP, inet.ip, 80, xstrdup("moat lab: hello "
		    "from the internet (" LAB_INTERNET_ADDR ")\n"));
	add_service(wan, LAB_SVC_DNS, inet.ip, 53, NULL);
}

/* Which interfaces face the internet: gateway, DHCP or zone wan; when
 * none does, the first. up[k] for the k-th buildable interface. */
static void find_upstreams(const struct moat_config *cfg,
			   const struct cfg_interface **ifs, size_t n,
			   bool *up)
{
	bool any = false;

	for (size_t k = 0; k < n; k++)
		any |= up[k] = is_upstream(cfg, ifs[k]);
	if (!any && n)
		up[0] = true;
}

struct lab_topo *lab_topo_new(const struct moat_config *cfg)
{
	struct lab_topo *t = xcalloc(1, sizeof(*t));
	const struct cfg_interface **ifs;
	struct lab_addr up_addr = { 0 };
	size_t n = 0;
	unsigned nr = 0;
	size_t gw;
	bool *up;

	ifs = xcalloc(cfg->interfaces.n + 1, sizeof(*ifs));
	up = xcalloc(cfg->interfaces.n + 1, sizeof(*up));
	gw = add_node(t, LAB_GW, lab_kinds[LAB_GW].name);
	add_node(t, LAB_WAN, lab_kinds[LAB_WAN].name);
	CFG_EACH(const struct cfg_interface, i, cfg->interfaces)
		if (buildable(t, i))
			ifs[n++] = i;
	find_upstreams(cfg, ifs, n, up);
	for (size_t k = 0; k < n; k++) {
		struct lab_addr a = { 0 };

		iface_addr(ifs[k], &a);
		add_iface(&t->nodes[gw], ifs[k]->o.name, a.set ? &a : NULL);
		if (up[k]) {
			build_upstream(t, ifs[k]);
			if (!up_addr.set)
				up_addr = a;
		} else {
			build_client(t, cfg, ifs[k], ++nr);
		}
	}
	build_wan(t);
	if (up_addr.set)
		wan_routes(t, up_addr.ip);
	else if (nr)
		note(t, "no upstream interface has an address: wan has no "
		     "route to the LAN");
	free(ifs);
	free(up);
	return t;
}

static void node_free(struct lab_node *n)
{
	for (size_t k = 0; k < n->nsvcs; k++)
		free(n->svcs[k].text);
	free(n->svcs);
	free(n->routes);
	free(n->ifaces);
	free(n->about);
}

void lab_topo_free(struct lab_topo *t)
{
	if (!t)
		return;
	for (size_t k = 0; k < t->nnodes; k++)
		node_free(&t->nodes[k]);
	for (size_t k = 0; k < t->nnotes; k++)
		free(t->notes[k]);
	free(t->nodes);
	free(t->links);
	free(t->notes);
	free(t);
}

const struct lab_node *lab_topo_node(const struct lab_topo *t,
				     const char *name)
{
	for (size_t k = 0; k < t->nnodes; k++)
		if (!strcmp(t->nodes[k].name, name))
			return &t->nodes[k];
	return NULL;
}

const struct lab_node *lab_topo_first(const struct lab_topo *t,
				      enum lab_kind kind)
{
	for (size_t k = 0; k < t->nnodes; k++)
		if (t->nodes[k].kind == kind)
			return &t->nodes[k];
	return NULL;
}
