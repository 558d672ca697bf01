/* NAT: masquerade and snat per out-interface, dnat port forwards (with
 * port ranges and port mapping), redirect, hairpin for forwarded ports
 * reached from inside, and the masquerade a policy asks for. Pure.
 *
 * Masquerade is IPv4 only unless the rule names IPv6 addresses: a gateway
 * with IPv6 routes it, it does not hide it behind one address. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fw/internal.h"

/* Port maps longer than this would bloat the ruleset; nobody forwards
 * more than a few thousand ports to shifted numbers. */
#define NAT_PORT_MAP_MAX 4096

static bool has_ports(const struct cfg_ports *p)
{
	return p->set && p->n;
}

static size_t ports_count(const struct cfg_ports *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++)
		n += (size_t)(p->v[i].hi - p->v[i].lo) + 1;
	return n;
}

/* The matches every NAT type shares. */
static bool nat_match(struct fwc *c, struct buf *b, const struct cfg_nat *n)
{
	if (n->in_interface.v) {
		buf_adds(b, "iifname ");
		if (!fw_quote(c, b, n->in_interface.v, &n->in_interface.pos,
			      "in_interface"))
			return false;
		buf_addc(b, ' ');
	}
	if (n->out_interface.v) {
		buf_adds(b, "oifname ");
		if (!fw_quote(c, b, n->out_interface.v, &n->out_interface.pos,
			      "out_interface"))
			return false;
		buf_addc(b, ' ');
	}
	if (n->src_ip.v)
		fw_addr_match(b, n->src_ip.v, "saddr", false);
	return true;
}

/* "10.0.0.5", "[2001:db8::5]" when a port follows */
static void nat_addr(struct buf *b, const char *addr, bool port_follows)
{
	if (port_follows && strchr(addr, ':'))
		buf_printf(b, "[%s]", addr);
	else
		buf_adds(b, addr);
}

/* Where a dnat sends a connection: address, and port or port map. */
static bool dnat_target(struct fwc *c, struct buf *b, const struct cfg_nat *n)
{
	const struct cfg_ports *dp = &n->dest_port, *tp = &n->to_port;
	const char *fam = fw_addr_family(n->to_ip.v);
	const char *hdr = n->proto.v && (!strcmp(n->proto.v, "tcp") ||
					 !strcmp(n->proto.v, "udp") ||
					 !strcmp(n->proto.v, "sctp")) ?
			  n->proto.v : "th";
	size_t want, have;

	buf_printf(b, "dnat %s to ", fam);
	if (!has_ports(tp)) {
		nat_addr(b, n->to_ip.v, false);	/* ports kept */
		return true;
	}
	if (tp->v[0].lo == tp->v[0].hi || !has_ports(dp)) {
		/* everything to one port (or a range the kernel picks from) */
		nat_addr(b, n->to_ip.v, true);
		buf_adds(b, ":");
		fw_ports(b, tp->v, 1);
		return true;
	}
	want = ports_count(dp);
	have = ports_count(tp);
	if (want != have) {
		fwc_error(c, &tp->pos, "nat \"%s\": to_port %u-%u has %zu ports "
			  "but dest_port has %zu; a range maps onto a range of "
			  "the same length", n->o.name, tp->v[0].lo,
			  tp->v[0].hi, have, want);
		return false;
	}
	if (dp->n == 1 && dp->v[0].lo == tp->v[0].lo) {
		nat_addr(b, n->to_ip.v, false);	/* same numbers: kept */
		return true;
	}
	if (want > NAT_PORT_MAP_MAX) {
		fwc_error(c, &tp->pos, "nat \"%s\": shifting %zu ports is more "
			  "than moat maps (%d); forward them unshifted",
			  n->o.name, want, NAT_PORT_MAP_MAX);
		return false;
	}
	/* port k of dest_port goes to port k of to_port */
	nat_addr(b, n->to_ip.v, false);
	buf_printf(b, " : %s dport map { ", hdr);
	{
		unsigned to = tp->v[0].lo;
		bool first = true;

		for (size_t i = 0; i < dp->n; i++)
			for (unsigned p = dp->v[i].lo; p <= dp->v[i].hi; p++) {
				buf_printf(b, "%s%u : %u", first ? "" : ", ", p,
					   to++);
				first = false;
			}
	}
	buf_adds(b, " }");
	return true;
}

/* The external addresses a hairpinned connection is sent to: dest_ip, or
 * the static IPv4 addresses of in_interface. */
static bool hairpin_addrs(struct fwc *c, const struct cfg_nat *n,
			  struct buf *b)
{
	size_t k = 0;

	if (n->dest_ip.v) {
		buf_adds(b, n->dest_ip.v);
		return true;
	}
	CFG_EACH(const struct cfg_interface, i, c->cfg->interfaces) {
		if (!n->in_interface.v || strcmp(i->o.name, n->in_interface.v))
			continue;
		for (size_t a = 0; a < i->ipv4.n; a++) {
			const char *s = i->ipv4.v[a];

			buf_adds(b, k++ ? ", " : "{ ");
			buf_add(b, s, strcspn(s, "/"));
		}
	}
	if (!k) {
		fwc_error(c, &n->hairpin.pos, "nat \"%s\": hairpin needs the "
			  "address the forward is reached at: set dest_ip, or "
			  "give in_interface a static ipv4 address", n->o.name);
		return false;
	}
	buf_adds(b, " }");
	return true;
}

static void dnat(struct fwc *c, const struct cfg_nat *n, const char *what)
{
	struct fw_chain *pre = fw_chain_get(c, "prerouting");
	struct fw_chain *post = fw_chain_get(c, "postrouting");
	struct buf m = BUF_INIT, pp = BUF_INIT, to = BUF_INIT;
	struct buf ext = BUF_INIT;
	char *hw;

	fw_proto_ports(&pp, n->proto.v, NULL, NULL, &n->dest_port, NULL);
	if (!nat_match(c, &m, n) || !dnat_target(c, &to, n))
		goto out;
	if (n->dest_ip.v)
		fw_addr_match(&m, n->dest_ip.v, "daddr", false);
	fw_chain_add(c, pre, &n->o.pos, what, "%s%s%s", m.p ? m.p : "",
		     pp.p ? pp.p : "", to.p);
	if (!n->hairpin.v)
		goto out;
	if (!n->in_interface.v) {
		fwc_error(c, &n->hairpin.pos, "nat \"%s\": hairpin needs "
			  "in_interface (the outside it is forwarded from)",
			  n->o.name);
		goto out;
	}
	if (!hairpin_addrs(c, n, &ext))
		goto out;
	/* from inside, to the outside address: the same forward, and the
	 * source rewritten so that the server answers through the gateway */
	hw = xasprintf("%s hairpin", what);
	buf_reset(&m);
	buf_adds(&m, "iifname != ");
	fw_quote(c, &m, n->in_interface.v, &n->in_interface.pos,
		 "in_interface");
	fw_chain_add(c, pre, &n->hairpin.pos, hw, "%s %s daddr %s %s%s", m.p,
		     fw_addr_family(ext.p), ext.p, pp.p ? pp.p : "", to.p);
	fw_chain_add(c, post, &n->hairpin.pos, hw, "%s ct status dnat ct "
		     "original %s daddr %s masquerade", m.p,
		     fw_addr_family(ext.p), ext.p);
	free(hw);
out:
	buf_free(&m);
	buf_free(&pp);
	buf_free(&to);
	buf_free(&ext);
}

static void nat_one(struct fwc *c, const struct cfg_nat *n)
{
	const char *t = n->type.v;
	char *what = xasprintf("nat %s", n->o.name);
	struct fw_chain *post = fw_chain_get(c, "postrouting");
	struct fw_chain *pre = fw_chain_get(c, "prerouting");
	struct buf m = BUF_INIT, pp = BUF_INIT;

	if (!strcmp(t, "dnat")) {
		dnat(c, n, what);
		goto out;
	}
	if (!nat_match(c, &m, n))
		goto out;
	if (n->dest_ip.v)
		fw_addr_match(&m, n->dest_ip.v, "daddr", false);
	fw_proto_ports(&pp, n->proto.v, NULL, NULL, &n->dest_port, NULL);
	if (!strcmp(t, "masquerade")) {
		fw_chain_add(c, post, &n->o.pos, what, "%s%s%s%smasquerade",
			     n->src_ip.v || n->dest_ip.v ? "" :
			     "meta nfproto ipv4 ", m.p ? m.p : "",
			     pp.p ? pp.p : "", "");
	} else if (!strcmp(t, "snat")) {
		const char *a = n->snat_ip.v ? n->snat_ip.v : n->to_ip.v;

		fw_chain_add(c, post, &n->o.pos, what, "%s%ssnat %s to %s",
			     m.p ? m.p : "", pp.p ? pp.p : "",
			     fw_addr_family(a), a);
	} else if (!strcmp(t, "redirect")) {
		if (n->to_port.n != 1)
			goto out;	/* validation reported it */
		fw_chain_add(c, pre, &n->o.pos, what, "%s%sredirect to :%u",
			     m.p ? m.p : "", pp.p ? pp.p : "",
			     n->to_port.v[0].lo);
	}
out:
	buf_free(&m);
	buf_free(&pp);
	free(what);
}

void fw_nat(struct fwc *c)
{
	CFG_EACH(const struct cfg_nat, n, c->cfg->nats)
		nat_one(c, n);
}

/* The interface names of every zone pattern names, as an nft value. */
static size_t zone_ifnames(struct fwc *c, const char *pattern, struct buf *b)
{
	size_t k = 0;

	for (size_t i = 0; i < c->nzones; i++) {
		const struct fw_zone *z = &c->zones[i];

		if (!fw_zone_matches(pattern, z))
			continue;
		for (size_t m = 0; m < z->nm; m++) {
			if (!z->m[m].ifname)
				continue;
			buf_adds(b, k++ ? ", " : "");
			fw_quote(c, b, z->m[m].ifname, &z->m[m].pos,
				 "interface");
		}
	}
	return k;
}

void fw_policy_masquerade(struct fwc *c, const struct cfg_policy *p,
			  const char *pname)
{
	const char *from = fw_policy_from(p), *to = fw_policy_to(p);
	struct fw_chain *post = fw_chain_get(c, "postrouting");
	struct buf in = BUF_INIT, out = BUF_INIT, m = BUF_INIT;
	size_t nin = zone_ifnames(c, from, &in);
	size_t nout = zone_ifnames(c, to, &out);
	bool any_from = fw_zone_is_any(from);
	char *what;

	if (!nout || (!nin && !any_from)) {
		fwc_warn(c, &p->masquerade.pos, "masquerade: zone \"%s\" has "
			 "no interfaces, so nothing is masqueraded", nout ?
			 from : to);
		goto out;
	}
	buf_adds(&m, "meta nfproto ipv4 ");
	if (!any_from)
		buf_printf(&m, "iifname %s%s%s ", nin > 1 ? "{ " : "", in.p,
			   nin > 1 ? " }" : "");
	buf_printf(&m, "oifname %s%s%s ", nout > 1 ? "{ " : "", out.p,
		   nout > 1 ? " }" : "");
	what = xasprintf("%s masquerade", pname);
	fw_chain_add(c, post, &p->masquerade.pos, what, "%smasquerade", m.p);
	free(what);
out:
	buf_free(&in);
	buf_free(&out);
	buf_free(&m);
}
