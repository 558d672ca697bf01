/* config -> the nft script of table inet moat. Pure: no I/O, no kernel.
 *
 * Shape of the table:
 *   input, forward, output (filter) and prerouting, postrouting (nat) base
 *   chains; input and forward drop what nothing accepts. Established and
 *   related traffic is accepted first, invalid dropped, loopback accepted.
 *   Traffic finds its zones through verdict maps keyed on interface
 *   names (zone_in: iifname; zone_out: oifname; zone_fwd: iifname, to the
 *   source zone's chain from_ZONE, which does the same by oifname), and
 *   members narrowed by address through rules before them: the source
 *   zone is decided before the destination zone is looked at.
 *   Each pair goes (goto) to the chain of its policy, policy_FROM_TO, whose
 *   rules run in order and which ends in the policy's action; when no rule
 *   decides and the policy has no action, the base chain's policy does.
 *   Pairs that several policies match (wildcards) go to a pair chain that
 *   jumps to each, most specific first. Mark rules, when there are any,
 *   are mark_prerouting and mark_output (see rule.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "config/addr.h"
#include "fw/internal.h"

/* --- context ----------------------------------------------------------- */

void fwc_error(struct fwc *c, const struct pos *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(c->dl, DIAG_ERROR, at, fmt, ap);
	va_end(ap);
	c->errors++;
}

void fwc_warn(struct fwc *c, const struct pos *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_addv(c->dl, DIAG_WARNING, at, fmt, ap);
	va_end(ap);
}

char *fwc_keep(struct fwc *c, char *s)
{
	xgrow((void **)&c->owned, &c->owned_cap, c->nowned + 1,
	      sizeof(*c->owned));
	c->owned[c->nowned++] = s;
	return s;
}

struct fw_chain *fw_chain_get(struct fwc *c, const char *name)
{
	struct fw_chain *ch;

	for (size_t i = 0; i < c->nchains; i++)
		if (!strcmp(c->chains[i]->name, name))
			return c->chains[i];
	xgrow((void **)&c->chains, &c->chains_cap, c->nchains + 1,
	      sizeof(*c->chains));
	ch = xcalloc(1, sizeof(*ch));
	ch->name = xstrdup(name);
	c->chains[c->nchains++] = ch;
	return ch;
}

static void line_add(struct buf *b, struct fw_origin **orig, size_t *n,
		     size_t *cap, const struct pos *at, const char *what,
		     const char *fmt, va_list ap) MOAT_PRINTF(7, 0);

static void line_add(struct buf *b, struct fw_origin **orig, size_t *n,
		     size_t *cap, const struct pos *at, const char *what,
		     const char *fmt, va_list ap)
{
	struct fw_origin *o;
	va_list aq;
	char *text;

	va_copy(aq, ap);
	if (vasprintf(&text, fmt, aq) < 0)
		fatal("out of memory");
	va_end(aq);
	buf_printf(b, "\t\t%s", text);
	if (what)
		fw_comment(b, what);
	buf_addc(b, '\n');
	free(text);
	xgrow((void **)orig, cap, *n + 1, sizeof(**orig));
	o = &(*orig)[(*n)++];
	o->pos = at ? *at : (struct pos){ 0 };
	o->what = what ? xstrdup(what) : NULL;
}

void fw_chain_add(struct fwc *c, struct fw_chain *ch, const struct pos *at,
		  const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line_add(&ch->body, &ch->orig, &ch->nlines, &ch->cap, at, what, fmt,
		 ap);
	va_end(ap);
	c->nrules++;
}

void fw_sets_add(struct fwc *c, const struct pos *at, const char *what,
		 const char *fmt, ...)
{
	va_list ap;

	/* set lines carry no comment: what only names their origin */
	va_start(ap, fmt);
	line_add(&c->sets, &c->set_orig, &c->set_lines, &c->set_cap, at, NULL,
		 fmt, ap);
	va_end(ap);
	if (what)
		c->set_orig[c->set_lines - 1].what = xstrdup(what);
}

/* --- policies ---------------------------------------------------------- */

const char *fw_policy_from(const struct cfg_policy *p)
{
	return p->o.name2 ? p->o.name : p->from.v;
}

const char *fw_policy_to(const struct cfg_policy *p)
{
	return p->o.name2 ? p->o.name2 : p->to.v;
}

const char *fw_policy_chain(const struct fwc *c, const struct cfg_policy *p)
{
	return c->pchain[p - (const struct cfg_policy *)c->cfg->policies.v];
}

static bool chain_name_used(const struct fwc *c, size_t upto,
			    const char *name)
{
	for (size_t i = 0; i < upto; i++)
		if (c->pchain[i] && !strcmp(c->pchain[i], name))
			return true;
	return false;
}

/* policy_FROM_TO, made unique when two spellings meet (a_b + c, a + b_c) */
static void name_policies(struct fwc *c)
{
	size_t n = c->cfg->policies.n;

	c->pchain = n ? xcalloc(n, sizeof(*c->pchain)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct cfg_policy *p =
			&((const struct cfg_policy *)c->cfg->policies.v)[i];
		char *f = fw_zone_id(fw_policy_from(p));
		char *t = fw_zone_id(fw_policy_to(p));
		char *name = xasprintf("policy_%s_%s", f, t);

		for (int k = 2; chain_name_used(c, i, name); k++) {
			free(name);
			name = xasprintf("policy_%s_%s_%d", f, t, k);
		}
		c->pchain[i] = name;
		free(f);
		free(t);
	}
}

static char *policy_what(const struct cfg_policy *p)
{
	return xasprintf("policy %s->%s", fw_policy_from(p), fw_policy_to(p));
}

static void reject_lines(struct fwc *c, struct fw_chain *ch,
			 const struct pos *at, const char *what,
			 const char *log)
{
	fw_chain_add(c, ch, at, what, "meta l4proto tcp %sreject with tcp reset",
		     log);
	fw_chain_add(c, ch, at, what, "%sreject with icmpx type "
		     "port-unreachable", log);
}

static void policy_chain(struct fwc *c, const struct cfg_policy *p)
{
	struct fw_chain *ch = fw_chain_get(c, fw_policy_chain(c, p));
	char *what = policy_what(p);
	struct buf log = BUF_INIT;

	fw_rules(c, ch, p, what);
	if (p->log.v || p->log_prefix.v)
		fw_log(&log, p->log_prefix.v ? p->log_prefix.v : what);
	if (p->action.v && !strcmp(p->action.v, "reject"))
		reject_lines(c, ch, &p->action.pos, what, log.p ? log.p : "");
	else if (p->action.v)
		fw_chain_add(c, ch, &p->action.pos, what, "%s%s",
			     log.p ? log.p : "", p->action.v);
	else if (log.p)
		fw_chain_add(c, ch, &p->log.pos, what, "%s", log.p);
	if (p->masquerade.v)
		fw_policy_masquerade(c, p, what);
	buf_free(&log);
	free(what);
}

/* --- the gateway's own services ---------------------------------------- */

static void svc(struct fwc *c, struct fw_chain *ch, const struct cfg_bool *b,
		const char *zone, const char *name, const char *match)
{
	char *what;

	if (!b->v)
		return;
	what = xasprintf("zone %s %s", zone, name);
	fw_chain_add(c, ch, &b->pos, what, "%s accept", match);
	free(what);
}

/* "tcp dport N" or "tcp dport { N, M }" for the ports a block's listen
 * and tls_listen name (what ctl opens for api); dflt when it names none. */
static void listen_match(const struct cfg_str *plain, const struct cfg_str *tls,
			 const char *dflt, char *out, size_t n)
{
	const struct cfg_str *l[2] = { plain, tls };
	unsigned ports[2], np = 0;

	for (size_t i = 0; i < 2; i++) {
		struct sockaddr_storage ss;

		if (!l[i] || !l[i]->v || !listen_parse(l[i]->v, &ss, NULL))
			continue;
		ports[np] = ntohs(ss.ss_family == AF_INET6 ?
				  ((struct sockaddr_in6 *)&ss)->sin6_port :
				  ((struct sockaddr_in *)&ss)->sin_port);
		if (!np || ports[0] != ports[np])
			np++;
	}
	if (!np)
		snprintf(out, n, "%s", dflt);
	else if (np == 1)
		snprintf(out, n, "tcp dport %u", ports[0]);
	else
		snprintf(out, n, "tcp dport { %u, %u }", ports[0], ports[1]);
}

static void zone_services(struct fwc *c, struct fw_chain *ch,
			  const struct fw_zone *z)
{
	const struct cfg_api *api = c->cfg->api.n ? c->cfg->api.v : NULL;
	const struct cfg_web *web = c->cfg->web.n ? c->cfg->web.v : NULL;
	const char *n = z->name;
	char web_m[48], api_m[48];

	/* the ports api serves on, when the config says; else the usual */
	listen_match(web ? &web->listen : NULL, web ? &web->tls_listen : NULL,
		     "tcp dport { 80, 443 }", web_m, sizeof(web_m));
	listen_match(api ? &api->listen : NULL, api ? &api->tls_listen : NULL,
		     "tcp dport 8080", api_m, sizeof(api_m));

	CFG_EACH(const struct cfg_zone_mgmt, m, z->cfg->management) {
		svc(c, ch, &m->ssh, n, "management ssh", "tcp dport 22");
		svc(c, ch, m->web_ui.v ? &m->web_ui : &m->web, n,
		    "management web", web_m);
		svc(c, ch, &m->api, n, "management api", api_m);
		svc(c, ch, &m->icmp, n, "management icmp",
		    "icmp type echo-request");
		svc(c, ch, &m->icmp, n, "management icmp",
		    "icmpv6 type echo-request");
	}
	CFG_EACH(const struct cfg_zone_services, s, z->cfg->services) {
		svc(c, ch, &s->dhcp, n, "services dhcp", "udp dport 67");
		svc(c, ch, &s->dns, n, "services dns",
		    "meta l4proto { tcp, udp } th dport 53");
		svc(c, ch, &s->ntp, n, "services ntp", "udp dport 123");
		CFG_EACH(const struct cfg_service_port, sp, s->ports) {
			struct cfg_port_range r;
			struct cfg_ports ports = { .v = &r, .n = 1, .set = true };
			struct buf m = BUF_INIT;
			char *what;

			if (!sp->port.set)
				continue;
			r.lo = (uint16_t)sp->port.v;
			r.hi = sp->port_end.set ? (uint16_t)sp->port_end.v :
			       r.lo;
			fw_proto_ports(&m, sp->protocol.v, NULL, NULL, &ports,
				       NULL);
			what = xasprintf("zone %s services port %s", n,
					 sp->o.name ? sp->o.name : "");
			fw_chain_add(c, ch, &sp->o.pos, what, "%saccept", m.p);
			free(what);
			buf_free(&m);
		}
	}
}

/* --- dispatch ------------------------------------------------------------ */

struct applicable {
	const struct cfg_policy *p;
	int spec;		/* 0: both zones named exactly */
	long long prio;
	size_t idx;
};

static int pattern_spec(const char *pat)
{
	size_t n = strlen(pat);

	if (fw_zone_is_any(pat))
		return 2;
	return n > 1 && (pat[n - 1] == '*' || pat[n - 1] == '+');
}

static int app_cmp(const void *pa, const void *pb)
{
	const struct applicable *a = pa, *b = pb;

	if (a->spec != b->spec)
		return a->spec - b->spec;
	if (a->prio != b->prio)
		return a->prio < b->prio ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The chain traffic from zone f to zone t goes to, or NULL when no policy
 * covers the pair (FW_SELF: the gateway). Made on first use. */
static const char *pair_target(struct fwc *c, size_t f, size_t t)
{
	const struct fw_zone *zf = f == FW_SELF ? NULL : &c->zones[f];
	const struct fw_zone *zt = t == FW_SELF ? NULL : &c->zones[t];
	struct applicable *app = NULL;
	size_t n = 0, i = 0;
	const char *target = NULL;
	bool services = t == FW_SELF && zf->cfg &&
			(zf->cfg->management.n || zf->cfg->services.n);
	struct fw_chain *ch;
	char *name;

	CFG_EACH(const struct cfg_policy, p, c->cfg->policies) {
		const char *pf = fw_policy_from(p), *pt = fw_policy_to(p);

		i++;
		if (p->disabled.v || !pf || !pt ||
		    !fw_zone_matches(pf, zf) || !fw_zone_matches(pt, zt))
			continue;
		app = xrealloc(app, (n + 1) * sizeof(*app));
		app[n].p = p;
		app[n].spec = pattern_spec(pf) + pattern_spec(pt);
		app[n].prio = p->priority.set ? p->priority.v : 0;
		app[n].idx = i;
		n++;
	}
	if (n)
		qsort(app, n, sizeof(*app), app_cmp);
	if (n == 1 && !services) {
		target = fw_policy_chain(c, app[0].p);
		goto out;
	}
	if (!n && !services)
		goto out;
	if (t == FW_SELF)
		name = xasprintf("input_%s", zf->id);
	else
		name = xasprintf("pair_%s_%s", zf ? zf->id : "self", zt->id);
	ch = fw_chain_get(c, name);
	free(name);
	if (!ch->nlines && services)
		zone_services(c, ch, zf);
	for (i = 0; i < n; i++)
		fw_chain_add(c, ch, &app[i].p->o.pos, NULL, "jump %s",
			     fw_policy_chain(c, app[i].p));
	target = ch->name;
out:
	free(app);
	return target;
}

bool fw_member_match(struct fwc *c, struct buf *b, const struct fw_member *m,
		     bool from)
{
	if (m->ifname) {
		buf_adds(b, from ? "iifname " : "oifname ");
		if (!fw_quote(c, b, m->ifname, &m->pos, "interface"))
			return false;
		buf_addc(b, ' ');
	}
	if (m->src)
		fw_addr_match(b, m->src, from ? "saddr" : "daddr", false);
	if (from && m->dst)
		fw_addr_match(b, m->dst, "daddr", false);
	return true;
}

/* Whether wildcard w ("eth*") matches every name pattern p matches, and
 * more. */
static bool broader(const char *w, const char *p)
{
	size_t wn = strlen(w), pn = strlen(p);

	if (!wn || w[wn - 1] != '*' || strncmp(w, p, wn - 1))
		return false;
	return p[pn - 1] != '*' || pn > wn;
}

static enum fw_member_kind member_kind(const struct fwc *c,
				       const struct fw_member *m)
{
	if (!m->ifname || m->src || m->dst)
		return FW_MEMBER_NARROWED;
	for (size_t i = 0; i < c->nzones; i++)
		for (size_t k = 0; k < c->zones[i].nm; k++) {
			const struct fw_member *o = &c->zones[i].m[k];

			if (o->ifname && !o->src && !o->dst &&
			    broader(o->ifname, m->ifname))
				return FW_MEMBER_SHADOWED;
		}
	return FW_MEMBER_MAP;
}

void fw_members_classify(struct fwc *c)
{
	for (size_t z = 0; z < c->nzones; z++)
		for (size_t i = 0; i < c->zones[z].nm; i++)
			c->zones[z].m[i].kind = member_kind(c, &c->zones[z].m[i]);
}

struct vmap {
	char **elems;
	struct pos *at;
	size_t n;
	size_t cap;
};

static void vmap_add(struct fwc *c, struct vmap *v, const char *key1,
		     const char *key2, const struct pos *at, const char *target)
{
	struct buf b = BUF_INIT;

	fw_quote(c, &b, key1, at, "interface");
	if (key2) {
		buf_adds(&b, " . ");
		fw_quote(c, &b, key2, at, "interface");
	}
	buf_printf(&b, " : goto %s", target);
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->elems[i], b.p)) {
			buf_free(&b);	/* listed twice in one zone */
			return;
		}
	xgrow((void **)&v->elems, &v->cap, v->n + 1, sizeof(*v->elems));
	v->at = xrealloc(v->at, v->cap * sizeof(*v->at));
	v->at[v->n] = *at;
	v->elems[v->n++] = buf_steal(&b);
}

static void vmap_free(struct vmap *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->elems[i]);
	free(v->elems);
	free(v->at);
}

static int ordered_cmp(const void *pa, const void *pb)
{
	const struct fw_ordered *a = pa, *b = pb;
	/* FW_MEMBER_MAP is 0: it goes last */
	int ra = a->m->kind == FW_MEMBER_MAP ? 3 : a->m->kind;
	int rb = b->m->kind == FW_MEMBER_MAP ? 3 : b->m->kind;

	if (ra != rb)
		return ra - rb;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

struct fw_ordered *fw_members_ordered(const struct fwc *c, size_t *n)
{
	struct fw_ordered *v = NULL;
	size_t nv = 0;

	for (size_t z = 0; z < c->nzones; z++)
		for (size_t i = 0; i < c->zones[z].nm; i++) {
			v = xrealloc(v, (nv + 1) * sizeof(*v));
			v[nv] = (struct fw_ordered){
				.m = &c->zones[z].m[i], .zone = z, .seq = nv,
			};
			nv++;
		}
	if (nv)
		qsort(v, nv, sizeof(*v), ordered_cmp);
	*n = nv;
	return v;
}

/* One step of a classification: a member of kind narrowed or shadowed
 * is a rule of its own (to target, or `return` when no policy covers
 * it); a map member is an element of vmap, left out without a target. */
static void classify_member(struct fwc *c, struct fw_chain *ch,
			    struct vmap *map, const struct fw_member *m,
			    bool from, const char *target, const char *what)
{
	struct buf b = BUF_INIT;
	char *w;

	if (m->kind == FW_MEMBER_MAP) {
		if (target)
			vmap_add(c, map, m->ifname, NULL, &m->pos, target);
		return;
	}
	if (!fw_member_match(c, &b, m, from)) {
		buf_free(&b);
		return;
	}
	w = xasprintf("%s%s", what, target ? "" : ": no policy");
	if (target)
		fw_chain_add(c, ch, &m->pos, w, "%sgoto %s", b.p, target);
	else
		fw_chain_add(c, ch, &m->pos, w, "%sreturn", b.p);
	free(w);
	buf_free(&b);
}

/* An inline verdict map: `oifname vmap { "eth0" : goto x, ... }`. */
static void vmap_inline(struct fwc *c, struct fw_chain *ch, const char *key,
			const struct vmap *v, const struct pos *at,
			const char *what)
{
	struct buf b = BUF_INIT;

	if (!v->n)
		return;
	buf_printf(&b, "%s vmap { ", key);
	for (size_t i = 0; i < v->n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", v->elems[i]);
	fw_chain_add(c, ch, at, what, "%s }", b.p);
	buf_free(&b);
}

static void map_define(struct fwc *c, const char *name, const char *type,
		       struct vmap *v)
{
	if (!v->n)
		return;
	fw_sets_add(c, NULL, NULL, "map %s {", name);
	fw_sets_add(c, NULL, NULL, "\ttype %s : verdict", type);
	fw_sets_add(c, NULL, NULL, "\tflags interval");
	fw_sets_add(c, NULL, NULL, "\telements = {");
	for (size_t i = 0; i < v->n; i++)
		fw_sets_add(c, &v->at[i], NULL, "\t\t%s%s", v->elems[i],
			    i + 1 < v->n ? "," : "");
	fw_sets_add(c, NULL, NULL, "\t}");
	fw_sets_add(c, NULL, NULL, "}");
	c->nsets++;
}

/* The chain of forwarded traffic from zone f (from_ZONE): the
 * destination's members in dispatch order, each to the pair's target.
 * NULL when no policy covers traffic from f to any zone. */
static const char *from_chain(struct fwc *c, size_t f, const char **target,
			      const struct fw_ordered *v, size_t n)
{
	size_t nz = c->nzones + 1;
	const struct fw_zone *zf = &c->zones[f];
	struct vmap map = { 0 };
	struct fw_chain *ch;
	size_t last = n;
	char *name;

	/* returns after the last member with a policy would only fall off
	 * the chain's end */
	for (size_t i = 0; i < n; i++)
		if (target[f * nz + v[i].zone])
			last = i;
	if (last == n)
		return NULL;
	name = xasprintf("from_%s", zf->id);
	ch = fw_chain_get(c, name);
	free(name);
	if (ch->nlines)
		return ch->name;
	for (size_t i = 0; i <= last; i++) {
		const struct fw_zone *zt = &c->zones[v[i].zone];
		char *what = xasprintf("zone %s->%s", zf->name, zt->name);

		classify_member(c, ch, &map, v[i].m, false,
				target[f * nz + v[i].zone], what);
		free(what);
	}
	{
		char *what = xasprintf("zone %s: destinations", zf->name);

		vmap_inline(c, ch, "oifname", &map, zf->nm ? &zf->m[0].pos :
			    NULL, what);
		free(what);
	}
	vmap_free(&map);
	return ch->name;
}

/* Traffic finds its zones in dispatch order: a member narrowed by address
 * before a shadowed one, a shadowed one before the verdict maps, so that
 * the most specific zone wins, and a packet's source zone is decided
 * before its destination zone is looked at. Input classifies the source
 * and output the destination; forward classifies the source (zone_fwd)
 * and goes to that zone's chain, which classifies the destination. A
 * member no policy covers returns: the base chain's policy decides. */
static void dispatch(struct fwc *c, struct fw_chain *input,
		     struct fw_chain *forward, struct fw_chain *output)
{
	struct vmap vin = { 0 }, vfwd = { 0 }, vout = { 0 };
	size_t nz = c->nzones + 1, self = c->nzones, n;
	const char **target = xcalloc(nz * nz, sizeof(*target));
	struct fw_ordered *v = fw_members_ordered(c, &n);

	/* index nzones stands for the gateway itself */
	for (size_t f = 0; f < nz; f++)
		for (size_t t = 0; t < nz; t++)
			if (f != self || t != self)
				target[f * nz + t] = pair_target(c,
					f == self ? FW_SELF : f,
					t == self ? FW_SELF : t);
	for (size_t i = 0; i < n; i++) {
		const struct fw_zone *z = &c->zones[v[i].zone];
		char *what = xasprintf("zone %s->self", z->name);

		classify_member(c, input, &vin, v[i].m, true,
				target[v[i].zone * nz + self], what);
		free(what);
		what = xasprintf("zone self->%s", z->name);
		classify_member(c, output, &vout, v[i].m, false,
				target[self * nz + v[i].zone], what);
		free(what);
		what = xasprintf("zone %s", z->name);
		classify_member(c, forward, &vfwd, v[i].m, true,
				from_chain(c, v[i].zone, target, v, n), what);
		free(what);
	}
	free(v);
	free(target);
	if (vin.n)
		fw_chain_add(c, input, NULL, NULL, "iifname vmap @zone_in");
	if (vfwd.n)
		fw_chain_add(c, forward, NULL, NULL, "iifname vmap @zone_fwd");
	if (vout.n)
		fw_chain_add(c, output, NULL, NULL, "oifname vmap @zone_out");
	map_define(c, "zone_in", "ifname", &vin);
	map_define(c, "zone_fwd", "ifname", &vfwd);
	map_define(c, "zone_out", "ifname", &vout);
	vmap_free(&vin);
	vmap_free(&vfwd);
	vmap_free(&vout);
}

/* --- the table ---------------------------------------------------------- */

static const char *const base_heads[] = {
	"type filter hook input priority filter; policy drop;",
	"type filter hook forward priority filter; policy drop;",
	"type filter hook output priority filter; policy accept;",
	"type nat hook prerouting priority dstnat; policy accept;",
	"type nat hook postrouting priority srcnat; policy accept;",
};
static const char *const base_names[] = {
	"input", "forward", "output", "prerouting", "postrouting",
};

/* A WireGuard device's listen port is open from every interface but the
 * device itself: WireGuard answers nothing to a packet that does not
 * carry a peer's key, so the port gives nothing away, and road warriors
 * come from anywhere. */
static void wireguard_ports(struct fwc *c, struct fw_chain *in)
{
	CFG_EACH(const struct cfg_vpn, vpn, c->cfg->vpn)
	CFG_EACH(const struct cfg_wireguard, w, vpn->wireguard) {
		const char *dev = w->interface.v ? w->interface.v : w->o.name;
		struct buf b = BUF_INIT;
		char *what;

		if ((w->enabled.set && !w->enabled.v) || !w->listen_port.set ||
		    !fw_quote(c, &b, dev, &w->o.name_pos, "interface")) {
			buf_free(&b);
			continue;
		}
		what = xasprintf("wireguard %s listen_port", w->o.name);
		fw_chain_add(c, in, &w->listen_port.pos, what, "iifname != %s "
			     "udp dport %lld accept", b.p, w->listen_port.v);
		free(what);
		buf_free(&b);
	}
}

static void base_chains(struct fwc *c)
{
	struct fw_chain *in, *fwd;

	for (size_t i = 0; i < ARRAY_SIZE(base_names); i++)
		fw_chain_get(c, base_names[i])->head = base_heads[i];
	in = fw_chain_get(c, "input");
	fwd = fw_chain_get(c, "forward");
	if (c->cfg->mss_clamping.v)
		fw_chain_add(c, fwd, &c->cfg->mss_clamping.pos, "mss_clamping",
			     "tcp flags syn / syn,rst tcp option maxseg size "
			     "set rt mtu");
	fw_chain_add(c, in, NULL, NULL, "ct state vmap { established : accept, "
		     "related : accept, invalid : drop }");
	fw_chain_add(c, in, NULL, NULL, "iifname \"lo\" accept");
	/* without neighbour discovery IPv6 does not work at all */
	fw_chain_add(c, in, NULL, NULL, "icmpv6 type { nd-neighbor-solicit, "
		     "nd-neighbor-advert, nd-router-solicit, nd-router-advert } "
		     "ip6 hoplimit 255 accept");
	fw_chain_add(c, fwd, NULL, NULL, "ct state vmap { established : accept, "
		     "related : accept, invalid : drop }");
	wireguard_ports(c, in);
}

static void sysctls(struct fwc *c, struct fw_plan *plan)
{
	const struct cfg_bool *b = &c->cfg->ip_forwarding;

	if (!b->set)
		return;
	plan->sysctl[plan->nsysctl++] = (struct fw_sysctl){
		"net/ipv4/ip_forward", b->v ? "1" : "0", b->pos };
	plan->sysctl[plan->nsysctl++] = (struct fw_sysctl){
		"net/ipv6/conf/all/forwarding", b->v ? "1" : "0", b->pos };
	for (size_t i = 0; i < plan->nsysctl; i++)
		plan->sysctl[i].pos.file = plan->file;
}

static void origin_push(struct fw_plan *plan, size_t *cap,
			const struct fw_origin *o)
{
	xgrow((void **)&plan->lines, cap, plan->nlines + 1,
	      sizeof(*plan->lines));
	plan->lines[plan->nlines].pos = o ? o->pos : (struct pos){ 0 };
	/* the plan may outlive the config */
	if (plan->lines[plan->nlines].pos.file)
		plan->lines[plan->nlines].pos.file = plan->file;
	plan->lines[plan->nlines].what = o && o->what ? xstrdup(o->what) :
					 NULL;
	plan->nlines++;
}

static void assemble(struct fwc *c, struct fw_plan *plan)
{
	struct buf body = BUF_INIT, out = BUF_INIT;
	unsigned char h[crypto_hash_sha256_BYTES];
	size_t cap = 0, first = 0;

	/* "table inet moat {", the comment, a blank line */
	origin_push(plan, &cap, NULL);
	origin_push(plan, &cap, NULL);
	origin_push(plan, &cap, NULL);
	/* set and map lines sit one level out from rules */
	{
		const char *p = c->sets.p ? c->sets.p : "";

		for (size_t i = 0; i < c->set_lines; i++) {
			const char *e = strchr(p, '\n');

			buf_add(&body, p + 1, (size_t)(e - p));
			origin_push(plan, &cap, &c->set_orig[i]);
			p = e + 1;
		}
	}
	for (size_t i = 0; i < c->nchains; i++) {
		const struct fw_chain *ch = c->chains[i];

		buf_printf(&body, "%s\tchain %s {\n", body.len ? "\n" : "",
			   ch->name);
		if (first++ || c->set_lines)
			origin_push(plan, &cap, NULL);	/* the blank line */
		origin_push(plan, &cap, NULL);
		if (ch->head) {
			buf_printf(&body, "\t\t%s\n", ch->head);
			origin_push(plan, &cap, NULL);
		}
		if (ch->body.p)
			buf_adds(&body, ch->body.p);
		for (size_t k = 0; k < ch->nlines; k++)
			origin_push(plan, &cap, &ch->orig[k]);
		buf_adds(&body, "\t}\n");
		origin_push(plan, &cap, NULL);
	}
	crypto_hash_sha256(h, (const unsigned char *)body.p, body.len);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(plan->hash + 2 * i, 3, "%02x", h[i]);
	buf_printf(&out, "table %s %s {\n\tcomment \"%s%s\"\n\n%s}\n",
		   FW_FAMILY, FW_TABLE, FW_HASH_TAG, plan->hash, body.p);
	origin_push(plan, &cap, NULL);	/* "}" */
	plan->len = out.len;
	plan->script = buf_steal(&out);
	plan->nchains = c->nchains;
	plan->nrules = c->nrules;
	plan->nsets = c->nsets;
	buf_free(&body);
}

static void fwc_free(struct fwc *c)
{
	for (size_t i = 0; i < c->nchains; i++) {
		struct fw_chain *ch = c->chains[i];

		free(ch->name);
		buf_free(&ch->body);
		for (size_t k = 0; k < ch->nlines; k++)
			free(ch->orig[k].what);
		free(ch->orig);
		free(ch);
	}
	free(c->chains);
	for (size_t i = 0; i < c->set_lines; i++)
		free(c->set_orig[i].what);
	free(c->set_orig);
	buf_free(&c->sets);
	for (size_t i = 0; c->pchain && i < c->cfg->policies.n; i++)
		free(c->pchain[i]);
	free(c->pchain);
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
	fw_zones_free(c);
}

struct fw_plan *fw_compile(const struct moat_config *cfg,
			   struct diag_list *dl)
{
	struct fwc c = { .cfg = cfg, .dl = dl };
	struct fw_plan *plan = NULL;
	struct fw_chain *in, *fwd, *out;

	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	fw_zones_build(&c);
	name_policies(&c);
	base_chains(&c);
	fw_members_classify(&c);
	fw_marks(&c);
	in = fw_chain_get(&c, "input");
	fwd = fw_chain_get(&c, "forward");
	out = fw_chain_get(&c, "output");
	fw_ipsets(&c);
	CFG_EACH(const struct cfg_policy, p, cfg->policies)
		if (!p->disabled.v && fw_policy_from(p) && fw_policy_to(p))
			policy_chain(&c, p);
	dispatch(&c, in, fwd, out);
	fw_nat(&c);
	if (!c.errors) {
		plan = xcalloc(1, sizeof(*plan));
		plan->file = xstrdup(cfg->file ? cfg->file : "");
		assemble(&c, plan);
		sysctls(&c, plan);
	}
	fwc_free(&c);
	return plan;
}

void fw_plan_free(struct fw_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nlines; i++)
		free(plan->lines[i].what);
	free(plan->lines);
	free(plan->script);
	free(plan->file);
	free(plan);
}

const struct fw_origin *fw_plan_origin(const struct fw_plan *plan, int line)
{
	if (line < 1 || (size_t)line > plan->nlines)
		return NULL;
	return &plan->lines[line - 1];
}

bool fw_hash_from_comment(const char *comment, char *out)
{
	size_t n = strlen(FW_HASH_TAG);

	if (!comment || strncmp(comment, FW_HASH_TAG, n) ||
	    strlen(comment + n) != FW_HASH_HEX ||
	    strspn(comment + n, "0123456789abcdef") != FW_HASH_HEX)
		return false;
	memcpy(out, comment + n, FW_HASH_HEX + 1);
	return true;
}
