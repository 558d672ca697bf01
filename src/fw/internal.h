/* Shared by the compiler's files (compile.c, zones.c, rule.c, nat.c,
 * ipset.c): the compile context, the zone model and the emitters. Pure. */
#ifndef MOAT_FW_INTERNAL_H
#define MOAT_FW_INTERNAL_H

#include <stdbool.h>

#include "base/buf.h"
#include "config/addr.h"
#include "config/config.h"
#include "fw/fw.h"

/* One way traffic belongs to a zone: an interface (NULL: any) and the
 * addresses of its hosts (NULL: any). */
struct fw_member {
	const char *ifname;	/* nft form: a wildcard ends in '*' */
	const char *src;	/* hosts of the zone (saddr from, daddr to) */
	const char *dst;	/* only as a source zone: where they may go */
	struct pos pos;
	int kind;		/* enum fw_member_kind, set once */
};

/* How a member is dispatched. Verdict map keys must not overlap, so a
 * member narrowed by address, or one whose name a wildcard of another
 * zone also matches ("eth1" and "eth*"), is matched by rules before the
 * map: the narrowest first, so that the most specific zone wins. */
enum fw_member_kind {
	FW_MEMBER_MAP,		/* an interface no other member overlaps */
	FW_MEMBER_NARROWED,	/* addresses, or no interface */
	FW_MEMBER_SHADOWED,	/* a broader wildcard elsewhere matches it too */
};

struct fw_zone {
	const char *name;
	char *id;		/* the name as it may appear in a chain name */
	const struct cfg_zone *cfg;	/* NULL for a zone made by `zone =` */
	struct fw_member *m;
	size_t nm;
	size_t cap;
};

/* A chain of the table being built. */
struct fw_chain {
	char *name;
	const char *head;	/* a base chain's "type ... hook ...;" */
	struct buf body;	/* its lines, already indented */
	struct fw_origin *orig;	/* one per line of body */
	size_t nlines;
	size_t cap;
};

struct fwc {
	const struct moat_config *cfg;
	struct diag_list *dl;
	int errors;
	struct fw_zone *zones;
	size_t nzones;
	struct fw_chain **chains;
	size_t nchains;
	size_t chains_cap;
	size_t nrules;
	struct buf sets;	/* set and map definitions */
	struct fw_origin *set_orig;
	size_t set_lines;
	size_t set_cap;
	size_t nsets;
	char **pchain;		/* chain name of each policy, by index */
	char **owned;		/* strings the members point at */
	size_t nowned;
	size_t owned_cap;
};

/* A zone index for the gateway itself in pairs. */
#define FW_SELF ((size_t)-1)

void fwc_error(struct fwc *c, const struct pos *at, const char *fmt, ...)
	MOAT_PRINTF(3, 4);
void fwc_warn(struct fwc *c, const struct pos *at, const char *fmt, ...)
	MOAT_PRINTF(3, 4);
/* Keeps s until the compile ends; returns it. */
char *fwc_keep(struct fwc *c, char *s);

/* Chains: looked up or made by name, in order of creation. */
struct fw_chain *fw_chain_get(struct fwc *c, const char *name);
/* Appends one rule line (no newline) to ch, with its origin. */
void fw_chain_add(struct fwc *c, struct fw_chain *ch, const struct pos *at,
		  const char *what, const char *fmt, ...) MOAT_PRINTF(5, 6);
/* Appends a line to the set/map definitions. */
void fw_sets_add(struct fwc *c, const struct pos *at, const char *what,
		 const char *fmt, ...) MOAT_PRINTF(4, 5);

/* Sets the kind of every zone member. */
void fw_members_classify(struct fwc *c);
/* Every zone's members in the order dispatch tries them: narrowed ones,
 * then shadowed ones, then the rest, each by zone and member. A packet
 * is in the zone of the first member it matches. The caller frees. */
struct fw_ordered {
	const struct fw_member *m;
	size_t zone;
	size_t seq;
};
struct fw_ordered *fw_members_ordered(const struct fwc *c, size_t *n);
/* Appends the match of member m as the source (from) or destination of a
 * packet: "iifname "eth1" ip saddr 10.0.0.0/24 ". */
bool fw_member_match(struct fwc *c, struct buf *b, const struct fw_member *m,
		     bool from);

/* zones.c */
void fw_zones_build(struct fwc *c);
void fw_zones_free(struct fwc *c);
const struct fw_zone *fw_zone_find(const struct fwc *c, const char *name);
/* Whether pattern ("lan", "vpn*", "any", "*", "self") names zone z;
 * z == NULL is the gateway itself. */
bool fw_zone_matches(const char *pattern, const struct fw_zone *z);
/* Whether a zone pattern names every zone ("any", "*"). */
bool fw_zone_is_any(const char *pattern);
/* A chain-name-safe form of a zone pattern; the caller frees. */
char *fw_zone_id(const char *pattern);
/* An interface name in nft's form: Flywall's wildcard "wg+" is "wg*". */
const char *fw_ifname(struct fwc *c, const char *name);

/* rule.c: text pieces. */
/* Appends `"name"` with quotes for nft, or fails on characters nft cannot
 * carry in a string. */
bool fw_quote(struct fwc *c, struct buf *b, const char *s,
	      const struct pos *at, const char *what);
/* Appends ` comment "what"`, cut to nft's limit. */
void fw_comment(struct buf *b, const char *what);
/* Appends `log prefix "PREFIX " `, cut to nft's limit. */
void fw_log(struct buf *b, const char *prefix);
/* The chain of a policy: "policy_lan_wan". */
const char *fw_policy_chain(const struct fwc *c, const struct cfg_policy *p);
/* A policy's zones (either form) and its name for people. */
const char *fw_policy_from(const struct cfg_policy *p);
const char *fw_policy_to(const struct cfg_policy *p);
/* The canonical text of a validated address or prefix into out: host
 * bits cleared, "/LEN" only when it is shorter than the address (then
 * *prefix is true). false (and addr copied) when it does not parse. */
bool fw_prefix_text(const char *addr, char *out, size_t n, bool *prefix);
/* Appends "ip saddr 10.0.0.0/8 " (dir "saddr"/"daddr"); the address has
 * been validated; a prefix is written with its host bits cleared. */
void fw_addr_match(struct buf *b, const char *addr, const char *dir,
		   bool invert);
/* The nft family keyword of a validated address: "ip" or "ip6". */
const char *fw_addr_family(const char *addr);
/* Appends the protocol and ports of a match; proto may be NULL. */
void fw_proto_ports(struct buf *b, const char *proto,
		    const struct cfg_ports *sport, const struct cfg_ports *sport2,
		    const struct cfg_ports *dport, const struct cfg_ports *dport2);
/* Appends a ports value: "80", "8000-8100" or "{ 80, 443 }". */
void fw_ports(struct buf *b, const struct cfg_port_range *v, size_t n);
/* The mark rules into chains mark_prerouting and mark_output. */
void fw_marks(struct fwc *c);
/* The policy's rules into chain ch. */
void fw_rules(struct fwc *c, struct fw_chain *ch, const struct cfg_policy *p,
	      const char *pname);
/* A duration from the config ("3600", "90s", "30m") in nft's form. */
void fw_duration(struct buf *b, const char *s);

/* nat.c */
void fw_nat(struct fwc *c);
void fw_policy_masquerade(struct fwc *c, const struct cfg_policy *p,
			  const char *pname);

/* ipset.c */
void fw_ipsets(struct fwc *c);
const struct cfg_ipset *fw_ipset_find(const struct fwc *c, const char *name);

#endif
