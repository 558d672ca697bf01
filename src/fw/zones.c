/* The zone model: which interfaces and addresses make up each zone, from
 * zone blocks and from `zone =` on interfaces, VLANs and WireGuard
 * devices. Validation has already refused an interface in two zones. */
#include <stdlib.h>
#include <string.h>

#include "fw/internal.h"

static struct fw_zone *zone_get(struct fwc *c, const char *name,
				const struct cfg_zone *cfg)
{
	struct fw_zone *z;

	for (size_t i = 0; i < c->nzones; i++)
		if (!strcmp(c->zones[i].name, name)) {
			if (cfg && !c->zones[i].cfg)
				c->zones[i].cfg = cfg;
			return &c->zones[i];
		}
	c->zones = xrealloc(c->zones, (c->nzones + 1) * sizeof(*c->zones));
	z = &c->zones[c->nzones++];
	memset(z, 0, sizeof(*z));
	z->name = name;
	z->cfg = cfg;
	z->id = fw_zone_id(name);
	return z;
}

/* Flywall (and iptables) write a wildcard as "wg+"; nft as "wg*". */
const char *fw_ifname(struct fwc *c, const char *name)
{
	size_t n;
	char *s;

	if (!name)
		return NULL;
	n = strlen(name);
	if (!n || name[n - 1] != '+')
		return name;
	s = xstrdup(name);
	s[n - 1] = '*';
	return fwc_keep(c, s);
}

static void member_add(struct fwc *c, struct fw_zone *z, const char *ifname,
		       long long vlan, const char *src, const char *dst,
		       const struct pos *at)
{
	struct fw_member *m;

	if (vlan) {
		if (!ifname) {
			fwc_error(c, at, "zone \"%s\": vlan = %lld needs the "
				  "interface it is on", z->name, vlan);
			return;
		}
		ifname = fwc_keep(c, xasprintf("%s.%lld", ifname, vlan));
	}
	xgrow((void **)&z->m, &z->cap, z->nm + 1, sizeof(*z->m));
	m = &z->m[z->nm++];
	m->ifname = fw_ifname(c, ifname);
	m->src = src;
	m->dst = dst;
	m->pos = *at;
}

static bool claimed(const struct fwc *c, const char *ifname)
{
	for (size_t i = 0; i < c->nzones; i++)
		for (size_t k = 0; k < c->zones[i].nm; k++) {
			const char *m = c->zones[i].m[k].ifname;

			if (m && !strcmp(m, ifname))
				return true;
		}
	return false;
}

static void zone_blocks(struct fwc *c)
{
	CFG_EACH(const struct cfg_zone, cz, c->cfg->zones) {
		struct fw_zone *z = zone_get(c, cz->o.name, cz);
		long long vlan = cz->vlan.set ? cz->vlan.v : 0;

		if (cz->interface.v || cz->src.v || cz->dst.v || vlan)
			member_add(c, z, cz->interface.v, vlan, cz->src.v,
				   cz->dst.v, cz->interface.v ?
				   &cz->interface.pos : &cz->o.pos);
		for (size_t i = 0; i < cz->interfaces.n; i++)
			member_add(c, z, cz->interfaces.v[i], 0, cz->src.v,
				   cz->dst.v, &cz->interfaces.at[i]);
		CFG_EACH(const struct cfg_zone_match, m, cz->matches)
			member_add(c, z, m->interface.v,
				   m->vlan.set ? m->vlan.v : 0, m->src.v,
				   m->dst.v, &m->o.pos);
	}
}

void fw_zones_build(struct fwc *c)
{
	const struct moat_config *cfg = c->cfg;

	zone_blocks(c);
	CFG_EACH(const struct cfg_interface, i, cfg->interfaces) {
		if (i->zone.v)
			member_add(c, zone_get(c, i->zone.v, NULL), i->o.name, 0,
				   NULL, NULL, &i->zone.pos);
		CFG_EACH(const struct cfg_vlan, vl, i->vlans)
			if (vl->zone.v)
				member_add(c, zone_get(c, vl->zone.v, NULL),
					   fwc_keep(c, xasprintf("%s.%s",
						    i->o.name, vl->o.name)),
					   0, NULL, NULL, &vl->zone.pos);
	}
	CFG_EACH(const struct cfg_vpn, vpn, cfg->vpn)
		CFG_EACH(const struct cfg_wireguard, wg, vpn->wireguard)
			if (wg->zone.v && !(wg->enabled.set && !wg->enabled.v))
				member_add(c, zone_get(c, wg->zone.v, NULL),
					   wg->interface.v ? wg->interface.v :
					   wg->o.name, 0, NULL, NULL,
					   &wg->zone.pos);
	/* an interface in no zone is a zone of its own name */
	CFG_EACH(const struct cfg_interface, i, cfg->interfaces)
		if (!claimed(c, i->o.name))
			member_add(c, zone_get(c, i->o.name, NULL), i->o.name, 0,
				   NULL, NULL, &i->o.name_pos);
}

void fw_zones_free(struct fwc *c)
{
	for (size_t i = 0; i < c->nzones; i++) {
		free(c->zones[i].m);
		free(c->zones[i].id);
	}
	free(c->zones);
}

const struct fw_zone *fw_zone_find(const struct fwc *c, const char *name)
{
	for (size_t i = 0; i < c->nzones; i++)
		if (!strcmp(c->zones[i].name, name))
			return &c->zones[i];
	return NULL;
}

/* As validation accepts them (check_zone_ref): "any" and "*". */
bool fw_zone_is_any(const char *pattern)
{
	return !strcmp(pattern, "any") || !strcmp(pattern, "*");
}

bool fw_zone_matches(const char *pattern, const struct fw_zone *z)
{
	size_t n = strlen(pattern);

	if (!z)
		return !strcmp(pattern, "self");
	if (fw_zone_is_any(pattern))
		return true;
	if (n > 1 && (pattern[n - 1] == '*' || pattern[n - 1] == '+'))
		return !strncmp(z->name, pattern, n - 1);
	return !strcmp(z->name, pattern);
}

char *fw_zone_id(const char *pattern)
{
	size_t n = strlen(pattern);
	struct buf b = BUF_INIT;

	if (fw_zone_is_any(pattern))
		return xstrdup("any");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)pattern[i];

		if (i == n - 1 && n > 1 && (ch == '*' || ch == '+'))
			buf_adds(&b, "_all");
		else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '_')
			buf_addc(&b, (char)ch);
		else
			buf_addc(&b, '_');
	}
	return buf_steal(&b);
}
