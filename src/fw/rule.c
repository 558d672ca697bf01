/* Policy rules, mark rules, and the pieces of nft syntax every part of
 * the compiler writes: quoted names, comments, addresses, protocols and
 * ports. The config has been validated; what only nft would refuse is
 * checked here, with the config location. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fw/internal.h"

/* nft's limits: comments up to 128 bytes, log prefixes up to 127. */
#define NFT_COMMENT_MAX 128
#define NFT_LOG_PREFIX_MAX 127

bool fw_quote(struct fwc *c, struct buf *b, const char *s,
	      const struct pos *at, const char *what)
{
	if (strpbrk(s, "\"\\\n")) {
		fwc_error(c, at, "%s \"%s\": nftables cannot carry '\"' or "
			  "'\\' in a name", what, s);
		return false;
	}
	buf_printf(b, "\"%s\"", s);
	return true;
}

/* Copies at most max bytes of s into b, replacing what nft strings cannot
 * hold and never cutting a UTF-8 character in two. */
static void add_text(struct buf *b, const char *s, size_t max)
{
	size_t n = 0;

	while (*s && n < max) {
		unsigned char ch = (unsigned char)*s;
		size_t len = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 :
			     ch >= 0xc0 ? 2 : 1;

		if (n + len > max)
			break;
		if (ch == '"')
			buf_addc(b, '\'');
		else if (ch == '\\' || ch < ' ' || ch == 0x7f)
			buf_addc(b, ' ');
		else
			buf_add(b, s, len);
		s += len;
		n += len;
	}
}

void fw_comment(struct buf *b, const char *what)
{
	buf_adds(b, " comment \"");
	add_text(b, what, NFT_COMMENT_MAX - 1);
	buf_addc(b, '"');
}

void fw_log(struct buf *b, const char *prefix)
{
	/* a space after the prefix keeps it apart from the kernel's text */
	size_t n = strlen(prefix);

	buf_adds(b, "log prefix \"");
	add_text(b, prefix, NFT_LOG_PREFIX_MAX - 2);
	buf_adds(b, n && prefix[n - 1] == ' ' ? "\" " : " \" ");
}

const char *fw_addr_family(const char *addr)
{
	return strchr(addr, ':') ? "ip6" : "ip";
}

bool fw_prefix_text(const char *addr, char *out, size_t n, bool *prefix)
{
	struct cfg_prefix p;
	const char *why;
	char text[INET6_ADDRSTRLEN];
	int max;

	*prefix = false;
	if (!addr_parse(addr, ADDR_PREFIX, &p, &why)) {
		snprintf(out, n, "%s", addr);
		return false;
	}
	/* nft refuses a prefix with host bits set; the config may have them
	 * (10.0.0.1/24 means the network of that host) */
	max = p.family == AF_INET ? 32 : 128;
	for (int i = p.len; i < max; i++)
		p.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
	inet_ntop(p.family, p.addr, text, sizeof(text));
	*prefix = p.len != max;
	if (*prefix)
		snprintf(out, n, "%s/%d", text, p.len);
	else
		snprintf(out, n, "%s", text);
	return true;
}

void fw_addr_match(struct buf *b, const char *addr, const char *dir,
		   bool invert)
{
	char text[INET6_ADDRSTRLEN + 8];
	bool prefix;

	fw_prefix_text(addr, text, sizeof(text), &prefix);
	buf_printf(b, "%s %s %s%s ", fw_addr_family(addr), dir,
		   invert ? "!= " : "", text);
}

void fw_ports(struct buf *b, const struct cfg_port_range *v, size_t n)
{
	if (n > 1)
		buf_adds(b, "{ ");
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_adds(b, ", ");
		if (v[i].lo == v[i].hi)
			buf_printf(b, "%u", v[i].lo);
		else
			buf_printf(b, "%u-%u", v[i].lo, v[i].hi);
	}
	if (n > 1)
		buf_adds(b, " }");
}

/* Both lists of a rule (dest_port and dest_ports) as one. */
static void ports_join(const struct cfg_ports *a, const struct cfg_ports *b,
		       struct cfg_port_range **out, size_t *n)
{
	size_t na = a && a->set ? a->n : 0, nb = b && b->set ? b->n : 0;

	*n = na + nb;
	*out = *n ? xmalloc(*n * sizeof(**out)) : NULL;
	if (na)
		memcpy(*out, a->v, na * sizeof(**out));
	if (nb)
		memcpy(*out + na, b->v, nb * sizeof(**out));
}

/* IP protocols by the names configs use; nft knows a few by name, the
 * rest are written as numbers so that no /etc/protocols is needed. */
static const struct {
	const char *name;
	const char *nft;
} protos[] = {
	{ "tcp", "tcp" }, { "udp", "udp" }, { "icmp", "icmp" },
	{ "icmpv6", "ipv6-icmp" }, { "sctp", "sctp" }, { "gre", "gre" },
	{ "esp", "esp" }, { "ah", "ah" }, { "udplite", "udplite" },
	{ "dccp", "dccp" }, { "igmp", "2" }, { "ospf", "89" },
	{ "vrrp", "112" }, { "pim", "103" }, { "ipip", "4" },
	{ "ipv6", "41" }, { "l2tp", "115" }, { "egp", "8" },
	{ "rsvp", "46" },
};

static const char *proto_nft(const char *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (!strcasecmp(protos[i].name, p))
			return protos[i].nft;
	return p;	/* a number */
}

static bool proto_any(const char *p)
{
	return !p || !strcasecmp(p, "any") || !strcasecmp(p, "all");
}

void fw_proto_ports(struct buf *b, const char *proto,
		    const struct cfg_ports *sport, const struct cfg_ports *sport2,
		    const struct cfg_ports *dport, const struct cfg_ports *dport2)
{
	struct cfg_port_range *sp, *dp;
	size_t nsp, ndp;
	const char *hdr;

	ports_join(sport, sport2, &sp, &nsp);
	ports_join(dport, dport2, &dp, &ndp);
	if ((nsp || ndp) && (proto_any(proto) || !strcasecmp(proto, "tcp_udp"))) {
		buf_adds(b, "meta l4proto { tcp, udp } ");
		hdr = "th";
	} else if (nsp || ndp) {
		hdr = proto_nft(proto);	/* tcp, udp or sctp */
	} else {
		if (proto && !strcasecmp(proto, "tcp_udp"))
			buf_adds(b, "meta l4proto { tcp, udp } ");
		else if (!proto_any(proto))
			buf_printf(b, "meta l4proto %s ", proto_nft(proto));
		hdr = NULL;
	}
	if (nsp) {
		buf_printf(b, "%s sport ", hdr);
		fw_ports(b, sp, nsp);
		buf_addc(b, ' ');
	}
	if (ndp) {
		buf_printf(b, "%s dport ", hdr);
		fw_ports(b, dp, ndp);
		buf_addc(b, ' ');
	}
	free(sp);
	free(dp);
}

void fw_duration(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	buf_adds(b, s);
	if (n && s[n - 1] >= '0' && s[n - 1] <= '9')
		buf_addc(b, 's');
}

/* "10/second burst 20" -> "limit rate 10/second burst 20 packets " */
static void limit(struct buf *b, const char *l)
{
	static const struct {
		const char *in, *out;
	} units[] = {
		{ "s", "second" }, { "m", "minute" }, { "h", "hour" },
		{ "d", "day" },
	};
	unsigned long rate = 0, burst = 0;
	char unit[16] = "";
	const char *u = unit, *bp = strstr(l, "burst");

	sscanf(l, "%lu/%15[a-z]", &rate, unit);
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(unit, units[i].in))
			u = units[i].out;
	buf_printf(b, "limit rate %lu/%s ", rate, u);
	if (bp && sscanf(bp, "burst %lu", &burst) == 1)
		buf_printf(b, "burst %lu packets ", burst);
}

/* "new,established" -> "ct state established,new " (nft wants commas) */
static void ct_state(struct buf *b, const char *s)
{
	char *copy = xstrdup(s), *tok, *save = NULL;
	bool first = true;

	buf_adds(b, "ct state ");
	for (tok = strtok_r(copy, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		for (char *p = tok; *p; p++)
			*p = (char)(*p | 0x20);	/* validated: letters */
		buf_printf(b, "%s%s", first ? "" : ",", tok);
		first = false;
	}
	buf_addc(b, ' ');
	free(copy);
}

/* The match of an ipset reference: "ip saddr @blocked ". */
static bool set_match(struct fwc *c, struct buf *b, const struct cfg_str *ref,
		      const char *dir, bool invert)
{
	const struct cfg_ipset *s = fw_ipset_find(c, ref->v);
	const char *type = s && s->type.v ? s->type.v : "ipv4_addr";
	const char *op = invert ? "!= " : "";

	if (!s)
		return false;	/* validation reported it */
	if (!strcmp(type, "ipv4_addr"))
		buf_printf(b, "ip %s %s@%s ", dir, op, ref->v);
	else if (!strcmp(type, "ipv6_addr"))
		buf_printf(b, "ip6 %s %s@%s ", dir, op, ref->v);
	else if (!strcmp(type, "ether_addr"))
		buf_printf(b, "ether %s %s@%s ", dir, op, ref->v);
	else {
		fwc_error(c, &ref->pos, "ipset \"%s\" holds %s, not addresses",
			  ref->v, !strcmp(type, "inet_service") ? "ports" :
			  "DNS names (not supported by moat yet)");
		return false;
	}
	return true;
}

/* A rule's addresses must all be of one family. */
static bool rule_family_ok(struct fwc *c, const struct cfg_rule *r)
{
	const char *fam = NULL;
	const struct cfg_str *sv[] = { &r->src_ip, &r->dest_ip };

	for (size_t i = 0; i < ARRAY_SIZE(sv); i++) {
		const char *f;

		if (!sv[i]->v)
			continue;
		f = fw_addr_family(sv[i]->v);
		if (fam && strcmp(fam, f)) {
			fwc_error(c, &sv[i]->pos, "rule \"%s\": src_ip and "
				  "dest_ip are of different families (IPv4 and "
				  "IPv6); no packet can match", r->o.name);
			return false;
		}
		fam = f;
	}
	if (fam && r->proto.v && ((!strcasecmp(r->proto.v, "icmp") &&
				   !strcmp(fam, "ip6")) ||
				  (!strcasecmp(r->proto.v, "icmpv6") &&
				   !strcmp(fam, "ip")))) {
		fwc_error(c, &r->proto.pos, "rule \"%s\": protocol %s with an "
			  "%s address; no packet can match", r->o.name,
			  r->proto.v, strcmp(fam, "ip") ? "IPv6" : "IPv4");
		return false;
	}
	return true;
}

/* Finds the policy a jump_target names: its `name`, or its labels. */
static const struct cfg_policy *jump_policy(const struct fwc *c,
					    const char *t)
{
	CFG_EACH(const struct cfg_policy, p, c->cfg->policies) {
		if ((p->name.v && !strcmp(p->name.v, t)) ||
		    (!p->o.name2 && !strcmp(p->o.name, t)))
			return p;
	}
	return NULL;
}

/* Whether following jumps from policy p comes back to start; seen marks
 * the policies already walked, so each is walked once. */
static bool jumps_to(const struct fwc *c, const struct cfg_policy *p,
		     const struct cfg_policy *start, bool *seen)
{
	const struct cfg_policy *base = c->cfg->policies.v;

	if (seen[p - base])
		return false;
	seen[p - base] = true;
	CFG_EACH(const struct cfg_rule, r, p->rules) {
		const struct cfg_policy *t;

		if (r->disabled.v || strcmp(r->action.v, "jump"))
			continue;
		t = jump_policy(c, r->jump_target.v);
		if (t && (t == start || jumps_to(c, t, start, seen)))
			return true;
	}
	return false;
}

static bool loops(const struct fwc *c, const struct cfg_policy *t,
		  const struct cfg_policy *self)
{
	bool *seen = xcalloc(c->cfg->policies.n, sizeof(*seen));
	bool r = jumps_to(c, t, self, seen);

	free(seen);
	return r;
}

static void verdict(struct fwc *c, struct buf *b, const struct cfg_rule *r,
		    const struct cfg_policy *self)
{
	const char *a = r->action.v;

	if (!strcmp(a, "jump")) {
		const struct cfg_policy *t = jump_policy(c, r->jump_target.v);

		if (!t) {
			fwc_error(c, &r->jump_target.pos, "jump_target \"%s\" "
				  "names no policy (give a policy's name)",
				  r->jump_target.v);
			return;
		}
		if (t == self || loops(c, t, self)) {
			fwc_error(c, &r->jump_target.pos, "jump_target \"%s\": "
				  "%s; the kernel refuses loops", r->jump_target.v,
				  t == self ? "the rule's own policy" :
				  "its jumps lead back to this policy");
			return;
		}
		buf_printf(b, "jump %s", fw_policy_chain(c, t));
	} else {
		buf_adds(b, a);
	}
}

void fw_rules(struct fwc *c, struct fw_chain *ch, const struct cfg_policy *p,
	      const char *pname)
{
	CFG_EACH(const struct cfg_rule, r, p->rules) {
		struct buf pp = BUF_INIT, m = BUF_INIT, tail = BUF_INIT;
		char *what;
		bool ok = true;

		if (r->disabled.v)
			continue;
		if (!rule_family_ok(c, r))
			continue;
		fw_proto_ports(&pp, r->proto.v, &r->src_port, &r->src_ports,
			       &r->dest_port, &r->dest_ports);
		if (r->src_ip.v)
			fw_addr_match(&m, r->src_ip.v, "saddr", r->invert_src.v);
		if (r->src_ipset.v)
			ok &= set_match(c, &m, &r->src_ipset, "saddr",
					r->invert_src.v);
		if (r->dest_ip.v)
			fw_addr_match(&m, r->dest_ip.v, "daddr",
				      r->invert_dest.v);
		if (r->dest_ipset.v)
			ok &= set_match(c, &m, &r->dest_ipset, "daddr",
					r->invert_dest.v);
		if (r->conn_state.v)
			ct_state(&m, r->conn_state.v);
		if (r->limit.v)
			limit(&m, r->limit.v);
		if (r->counter.v)
			buf_adds(&m, "counter ");
		what = xasprintf("%s rule %s", pname, r->o.name);
		if (r->log.v || r->log_prefix.v)
			fw_log(&m, r->log_prefix.v ? r->log_prefix.v : what);
		if (r->comment.v || r->description.v) {
			char *w = xasprintf("%s: %s", what, r->comment.v ?
					    r->comment.v : r->description.v);

			free(what);
			what = w;
		}
		verdict(c, &tail, r, p);
		if (ok && !strcmp(r->action.v, "reject") &&
		    (proto_any(r->proto.v) ||
		     !strcasecmp(r->proto.v, "tcp_udp"))) {
			/* TCP gets a reset, the rest an ICMP unreachable; the
			 * reset needs a rule that matches TCP alone */
			struct buf tcp = BUF_INIT;

			fw_proto_ports(&tcp, "tcp", &r->src_port, &r->src_ports,
				       &r->dest_port, &r->dest_ports);
			fw_chain_add(c, ch, &r->o.pos, what,
				     "%s%sreject with tcp reset", tcp.p,
				     m.p ? m.p : "");
			buf_free(&tcp);
			buf_adds(&tail, " with icmpx type port-unreachable");
		} else if (ok && !strcmp(r->action.v, "reject")) {
			buf_adds(&tail, !strcasecmp(r->proto.v, "tcp") ?
				 " with tcp reset" :
				 " with icmpx type port-unreachable");
		}
		if (ok)
			fw_chain_add(c, ch, &r->o.pos, what, "%s%s%s",
				     pp.p ? pp.p : "", m.p ? m.p : "",
				     tail.p ? tail.p : "");
		free(what);
		buf_free(&pp);
		buf_free(&m);
		buf_free(&tail);
	}
}

/* --- mark rules ---------------------------------------------------------- */

/* The hooks a mark rule can match in. Locally generated packets have no
 * input interface, no source zone and no source MAC; the gateway's own
 * packets (src_zone "self") are seen only in output. */
enum { MARK_PRE = 1, MARK_OUT = 2 };

static bool set_is(const struct fwc *c, const struct cfg_str *ref,
		   const char *type)
{
	const struct cfg_ipset *s = ref->v ? fw_ipset_find(c, ref->v) : NULL;

	return s && !strcmp(s->type.v ? s->type.v : "ipv4_addr", type);
}

static unsigned mark_hooks(const struct fwc *c, const struct cfg_mark_rule *r)
{
	bool self = r->src_zone.v && !strcmp(r->src_zone.v, "self");

	if (self)
		return MARK_OUT;
	if (r->in_interface.v || r->src_zone.v ||
	    set_is(c, &r->ipset, "ether_addr"))
		return MARK_PRE;
	return MARK_PRE | MARK_OUT;
}

/* The address family a mark rule's addresses, set and protocol fix ("ip",
 * "ip6"; NULL: none), or false when they contradict each other. */
static bool mark_family(struct fwc *c, const struct cfg_mark_rule *r,
			const char **fam)
{
	const char *f[4] = {
		r->src_ip.v ? fw_addr_family(r->src_ip.v) : NULL,
		r->dst_ip.v ? fw_addr_family(r->dst_ip.v) : NULL,
		set_is(c, &r->ipset, "ipv4_addr") ? "ip" :
		set_is(c, &r->ipset, "ipv6_addr") ? "ip6" : NULL,
		!r->proto.v ? NULL : !strcasecmp(r->proto.v, "icmp") ? "ip" :
		!strcasecmp(r->proto.v, "icmpv6") ? "ip6" : NULL,
	};

	const struct pos *at[4] = {
		&r->src_ip.pos, &r->dst_ip.pos, &r->ipset.pos, &r->proto.pos,
	};

	*fam = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		if (f[i] && *fam && strcmp(f[i], *fam)) {
			fwc_error(c, at[i], "mark_rule \"%s\": its src_ip, "
				  "dst_ip, ipset and proto mix IPv4 and IPv6; "
				  "no packet can match", r->o.name);
			return false;
		}
		if (f[i])
			*fam = f[i];
	}
	return true;
}

/* The matches of a mark rule but its src_zone. */
static bool mark_match(struct fwc *c, struct buf *b,
		       const struct cfg_mark_rule *r)
{
	if (r->in_interface.v) {
		buf_adds(b, "iifname ");
		if (!fw_quote(c, b, fw_ifname(c, r->in_interface.v),
			      &r->in_interface.pos, "in_interface"))
			return false;
		buf_addc(b, ' ');
	}
	if (r->src_ip.v)
		fw_addr_match(b, r->src_ip.v, "saddr", false);
	if (r->dst_ip.v)
		fw_addr_match(b, r->dst_ip.v, "daddr", false);
	/* an address set is where the packet goes (a destination); a MAC
	 * set is which device sent it */
	if (r->ipset.v && !set_match(c, b, &r->ipset,
				     set_is(c, &r->ipset, "ether_addr") ?
				     "saddr" : "daddr", false))
		return false;
	fw_proto_ports(b, r->proto.v, &r->src_port, NULL, &r->dst_port,
		       &r->dst_ports);
	if (r->conn_state.n) {
		struct buf s = BUF_INIT;

		for (size_t i = 0; i < r->conn_state.n; i++)
			buf_printf(&s, "%s%s", i ? "," : "",
				   r->conn_state.v[i]);
		ct_state(b, s.p);
		buf_free(&s);
	}
	return true;
}

/* "meta mark set 0x40", with the mask "meta mark set meta mark and
 * 0xffff00ff or 0x4000": the bits outside the mask are kept. */
static void mark_action(struct buf *b, const struct cfg_mark_rule *r)
{
	uint32_t mark = 0, mask = 0xffffffff;

	mark_parse(r->mark.v, &mark);	/* validated */
	if (r->mask.v)
		mark_parse(r->mask.v, &mask);
	if (mask == 0xffffffff)
		buf_printf(b, "meta mark set 0x%x", mark);
	else
		buf_printf(b, "meta mark set meta mark and 0x%x or 0x%x",
			   ~mask, mark);
	if (r->save_mark.v)
		buf_adds(b, " ct mark set meta mark");
}

/* Whether interface patterns a and b (nft form; NULL: any) can both name
 * one interface. */
static bool ifname_overlap(const char *a, const char *b)
{
	size_t na, nb;
	bool wa, wb;

	if (!a || !b)
		return true;
	na = strlen(a);
	nb = strlen(b);
	wa = na && a[na - 1] == '*';
	wb = nb && b[nb - 1] == '*';
	if (!wa && !wb)
		return !strcmp(a, b);
	/* the fixed part of the shorter wildcard must agree */
	if (wa && (!wb || na < nb))
		return !strncmp(a, b, na - 1);
	return !strncmp(a, b, nb - 1);
}

/* A member that decides whether a packet comes from a mark rule's
 * src_zone, in dispatch order. */
struct mark_member {
	const struct fw_member *m;
	const struct fw_zone *z;
	bool own;		/* of the rule's src_zone */
};

/* The family of a member's addresses ("ip", "ip6"), NULL when it has
 * none. */
static const char *member_family(const struct fw_member *m)
{
	return m->src ? fw_addr_family(m->src) :
	       m->dst ? fw_addr_family(m->dst) : NULL;
}

/* The members that decide whether a packet comes from src_zone: the
 * zone's own, and before them (in dispatch order) those of other zones
 * that can match the same packets, since the first match wins. The
 * caller frees. */
static struct mark_member *zone_members(const struct fwc *c,
					const struct cfg_mark_rule *r,
					const char *in, const char *fam,
					size_t *n)
{
	struct mark_member *v = NULL;
	size_t nv = 0, keep = 0, last_own = 0, no;
	struct fw_ordered *o = fw_members_ordered(c, &no);

	for (size_t i = 0; i < no; i++) {
		const struct fw_member *m = o[i].m;
		const char *mf = member_family(m);

		if (!ifname_overlap(m->ifname, in) ||
		    (fam && mf && strcmp(fam, mf)))
			continue;
		v = xrealloc(v, (nv + 1) * sizeof(*v));
		v[nv++] = (struct mark_member){
			.m = m, .z = &c->zones[o[i].zone],
			.own = fw_zone_matches(r->src_zone.v,
					       &c->zones[o[i].zone]),
		};
	}
	free(o);
	/* another zone's member matters only before one of ours that it
	 * overlaps */
	for (size_t i = 0; i < nv; i++) {
		bool needed = v[i].own;

		for (size_t k = i + 1; !needed && k < nv; k++)
			needed = v[k].own &&
				 ifname_overlap(v[i].m->ifname, v[k].m->ifname);
		if (needed)
			v[keep++] = v[i];
		if (needed && v[i].own)
			last_own = keep;
	}
	*n = last_own;
	return v;
}

/* A chain of its own for a rule (mark_rule_NAME), named apart from every
 * chain made so far. */
static struct fw_chain *mark_chain(struct fwc *c, const char *rule)
{
	char *id = fw_zone_id(rule);
	char *name = xasprintf("mark_rule_%s", id);
	struct fw_chain *ch;

	for (int k = 2;; k++) {
		bool used = false;

		for (size_t i = 0; i < c->nchains; i++)
			used |= !strcmp(c->chains[i]->name, name);
		if (!used)
			break;
		free(name);
		name = xasprintf("mark_rule_%s_%d", id, k);
	}
	ch = fw_chain_get(c, name);
	free(name);
	free(id);
	return ch;
}

/* The lines of a rule with a src_zone. A packet is from the zone when the
 * first member it matches (in dispatch order) is one of the zone's. When
 * no other zone's member comes first, each of the zone's members is a
 * line of its own; otherwise the rule jumps to a chain where the other
 * zones' members return before the zone's members mark. */
static void mark_zone_lines(struct fwc *c, struct fw_chain *pre,
			    const struct cfg_mark_rule *r, const char *what,
			    const char *fam, const char *match,
			    const char *action)
{
	const char *in = r->in_interface.v ? fw_ifname(c, r->in_interface.v) :
			 NULL;
	size_t n, nown = 0;
	struct mark_member *v = zone_members(c, r, in, fam, &n);
	struct fw_chain *ch = pre;

	for (size_t i = 0; i < n; i++)
		nown += v[i].own;
	if (!nown)
		fwc_warn(c, &r->src_zone.pos, "mark_rule \"%s\": no interface "
			 "or address of zone \"%s\" can match%s; the rule marks "
			 "nothing", r->o.name, r->src_zone.v,
			 in ? " with this in_interface" :
			 !fam ? "" : strcmp(fam, "ip") ? " IPv6 packets" :
			 " IPv4 packets");
	if (nown < n) {
		ch = mark_chain(c, r->o.name);
		fw_chain_add(c, pre, &r->o.pos, what, "%sjump %s", match,
			     ch->name);
		match = "";
	}
	for (size_t i = 0; i < n; i++) {
		struct fw_member m = *v[i].m;
		struct buf b = BUF_INIT;

		char *w;

		if (in && m.ifname && !strcmp(m.ifname, in))
			m.ifname = NULL;	/* in the rule's match already */
		if (!fw_member_match(c, &b, &m, true)) {
			buf_free(&b);
			continue;
		}
		if (v[i].own) {
			fw_chain_add(c, ch, &r->o.pos, what, "%s%s%s", b.p ?
				     b.p : "", match, action);
		} else {
			w = xasprintf("%s: zone %s first", what, v[i].z->name);
			fw_chain_add(c, ch, &r->o.pos, w, "%sreturn", b.p ?
				     b.p : "");
			free(w);
		}
		buf_free(&b);
	}
	free(v);
}

static bool mark_enabled(const struct cfg_mark_rule *r)
{
	return !r->enabled.set || r->enabled.v;
}

/* Restoring the connection's mark comes before every rule: packets of a
 * connection a rule marked (and saved) get its mark back, even those the
 * rule's own match no longer sees (conn_state = ["new"]). */
static const struct cfg_mark_rule *mark_restorer(const struct fwc *c)
{
	CFG_EACH(const struct cfg_mark_rule, r, c->cfg->mark_rules)
		if (mark_enabled(r) && r->restore_mark.v)
			return r;
	return NULL;
}

void fw_marks(struct fwc *c)
{
	const struct cfg_mark_rule *rs = mark_restorer(c);
	struct fw_chain *pre = NULL, *out = NULL;
	unsigned hooks = rs ? MARK_PRE | MARK_OUT : 0;

	CFG_EACH(const struct cfg_mark_rule, r, c->cfg->mark_rules)
		if (mark_enabled(r))
			hooks |= mark_hooks(c, r);
	/* routing comes after both hooks, so the marks steer it; a route
	 * chain makes the kernel route again a packet whose mark changed */
	if (hooks & MARK_PRE) {
		pre = fw_chain_get(c, "mark_prerouting");
		pre->head = "type filter hook prerouting priority mangle; "
			    "policy accept;";
	}
	if (hooks & MARK_OUT) {
		out = fw_chain_get(c, "mark_output");
		out->head = "type route hook output priority mangle; "
			    "policy accept;";
	}
	if (rs) {
		char *rwhat = xasprintf("mark_rule %s: restore_mark",
					rs->o.name);

		fw_chain_add(c, pre, &rs->restore_mark.pos, rwhat,
			     "ct mark != 0 meta mark set ct mark");
		fw_chain_add(c, out, &rs->restore_mark.pos, rwhat,
			     "ct mark != 0 meta mark set ct mark");
		free(rwhat);
	}
	CFG_EACH(const struct cfg_mark_rule, r, c->cfg->mark_rules) {
		struct buf m = BUF_INIT, act = BUF_INIT;
		unsigned where = mark_hooks(c, r);
		const char *fam;
		char *what;

		if (!mark_enabled(r) || !mark_family(c, r, &fam) ||
		    !mark_match(c, &m, r))
			goto next;
		if ((where & MARK_OUT) && set_is(c, &r->ipset, "ether_addr")) {
			fwc_error(c, &r->ipset.pos, "mark_rule \"%s\": ipset "
				  "\"%s\" holds MAC addresses, which the "
				  "gateway's own packets do not have",
				  r->o.name, r->ipset.v);
			goto next;
		}
		mark_action(&act, r);
		what = r->comment.v ? xasprintf("mark_rule %s: %s", r->o.name,
						r->comment.v) :
		       xasprintf("mark_rule %s", r->o.name);
		if (r->src_zone.v && (where & MARK_PRE))
			mark_zone_lines(c, pre, r, what, fam, m.p ? m.p : "",
					act.p);
		else if (where & MARK_PRE)
			fw_chain_add(c, pre, &r->o.pos, what, "%s%s",
				     m.p ? m.p : "", act.p);
		if (where & MARK_OUT)
			fw_chain_add(c, out, &r->o.pos, what, "%s%s",
				     m.p ? m.p : "", act.p);
		free(what);
next:
		buf_free(&m);
		buf_free(&act);
	}
}
