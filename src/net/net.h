/* The router: links, addresses, routes and policy routing rules. A config
 * compiles (pure) into a plan; the kernel is observed into a state of the
 * same types; a pure diff of the two, given what moat owns, is a list of
 * operations, each with its inverse, that apply.c sends over rtnetlink and
 * undoes in reverse when one fails.
 *
 * Ownership: routes and rules moat makes carry protocol NET_RTPROT_MOAT;
 * addresses and VLAN links it creates are listed in STATE_DIR/net.state
 * (struct net_owned). Nothing else is ever changed or removed. */
#ifndef MOAT_NET_NET_H
#define MOAT_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"

struct moat_config;

/* The routing protocol number on moat's routes and rules (`ip route show
 * proto 77`). Unassigned in iproute2's rt_protos. */
#define NET_RTPROT_MOAT 77
#define NET_IFNAMSIZ 16
#define NET_TABLE_MAIN 254
#define NET_HASH_HEX 64

/* An address or prefix: family AF_INET or AF_INET6. */
struct net_addr {
	int family;
	uint8_t addr[16];
	uint8_t len;		/* prefix length */
};

enum net_link_kind {
	NET_LINK_DEVICE,	/* exists on its own (a NIC, a veth): never
				 * created or removed by moat */
	NET_LINK_VLAN,		/* an 802.1Q sub-interface moat creates */
	NET_LINK_WIREGUARD,	/* a WireGuard device: created and removed
				 * by the wg component, before net runs */
};

struct net_link {
	char name[NET_IFNAMSIZ];
	enum net_link_kind kind;
	char parent[NET_IFNAMSIZ];	/* VLAN: the link it rides on */
	uint16_t vlan_id;
	uint32_t mtu;		/* plan: 0 leaves it as it is */
	int up;			/* plan: 1 up, 0 down, -1 leave it;
				 * state: IFF_UP */
	struct net_addr *addrs;
	size_t naddrs;
	/* plan only: where it and each address were written */
	struct pos pos;
	struct pos *addr_pos;
	/* state only */
	int ifindex;
	unsigned flags;		/* IFF_* */
	uint8_t operstate;	/* IF_OPER_* */
	uint8_t mac[6];
	bool has_mac;
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
	uint64_t rx_errors, tx_errors, rx_dropped, tx_dropped;
};

struct net_route {
	int family;
	struct net_addr dst;	/* len 0: default */
	uint8_t gw[16];
	bool has_gw;
	char dev[NET_IFNAMSIZ];	/* "": let the kernel choose by gateway */
	uint32_t metric;	/* plan: 0 for IPv4, 1024 for IPv6 unless
				 * the config says otherwise */
	uint32_t table;		/* NET_TABLE_MAIN unless set */
	uint8_t type;		/* RTN_UNICAST */
	uint8_t scope;		/* RT_SCOPE_UNIVERSE with a gateway,
				 * RT_SCOPE_LINK without */
	uint8_t protocol;	/* state: as read; plan: NET_RTPROT_MOAT */
	struct pos pos;		/* plan: the config block */
	char *what;		/* plan: "route \"x\"", "interface eth0 gateway" */
};

struct net_rule {
	int family;
	uint32_t priority;
	uint32_t fwmark, fwmask;	/* fwmask 0: no mark match */
	struct net_addr src, dst;	/* len 0: any */
	char iif[NET_IFNAMSIZ], oif[NET_IFNAMSIZ];	/* "": any */
	uint8_t action;		/* FR_ACT_TO_TBL, FR_ACT_BLACKHOLE,
				 * FR_ACT_PROHIBIT */
	uint32_t table;		/* FR_ACT_TO_TBL */
	uint8_t protocol;
	struct pos pos;
	char *what;
};

/* A plan (from the config) or a state (read from the kernel). In a state,
 * routes and rules are only moat's (protocol NET_RTPROT_MOAT) and links
 * are all of the namespace's, each with its addresses. */
struct net_plan {
	char *file;		/* plan: the config's name; positions
				 * point here */
	struct net_link *links;
	size_t nlinks;
	struct net_route *routes;
	size_t nroutes;
	struct net_rule *rules;
	size_t nrules;
};

/* Compiles cfg (validated by cfg_load) into a plan. Problems only the
 * compiler sees go to dl with their location; NULL when there was one. */
struct net_plan *net_compile(const struct moat_config *cfg,
			     struct diag_list *dl);
void net_plan_free(struct net_plan *p);
/* Appending to a plan or state (observe builds states with these).
 * The returned element is zeroed; its pointers belong to the plan. */
struct net_link *net_plan_add_link(struct net_plan *p);
void net_link_add_addr(struct net_link *l, const struct net_addr *a,
		       const struct pos *at);
struct net_route *net_plan_add_route(struct net_plan *p);
struct net_rule *net_plan_add_rule(struct net_plan *p);
const struct net_link *net_plan_link(const struct net_plan *p,
				     const char *name);

/* What moat created and so may remove: addresses and VLAN links. Kept in
 * STATE_DIR/net.state with the outcome of the last apply. */
struct net_owned_addr {
	char ifname[NET_IFNAMSIZ];
	struct net_addr a;
};

struct net_owned {
	struct net_owned_addr *addrs;
	size_t naddrs;
	struct net_link *links;	/* kind, name, parent, vlan_id only */
	size_t nlinks;
	long long applied_at;	/* unix time of the last success, 0 never */
	char fingerprint[NET_HASH_HEX + 1];	/* of the state after it */
	long long failed_at;	/* last failure, 0 none since */
	char error[512];	/* its first message */
};

/* Parses net.state text; false with *why (and the 1-based line) on bad
 * input. Pure. */
bool net_owned_parse(const char *text, size_t len, struct net_owned *o,
		     int *line, const char **why);
/* The text net_owned_parse reads back; malloc'd. */
char *net_owned_print(const struct net_owned *o);
void net_owned_free(struct net_owned *o);
bool net_owned_has_addr(const struct net_owned *o, const char *ifname,
			const struct net_addr *a);
bool net_owned_has_link(const struct net_owned *o, const char *name);
/* Record an address or a VLAN (kind, name, parent, id) as moat's; once. */
void net_owned_add_addr(struct net_owned *o, const char *ifname,
			const struct net_addr *a);
void net_owned_add_link(struct net_owned *o, const struct net_link *l);
/* Forget an address (a NULL: all of ifname's) or a VLAN and its
 * addresses. */
void net_owned_drop_addr(struct net_owned *o, const char *ifname,
			 const struct net_addr *a);
void net_owned_drop_link(struct net_owned *o, const char *name);
struct net_op;
/* op stays done in the kernel (its undo failed): what it created stays
 * moat's, what it removed is no longer there to own. */
void net_owned_keep(struct net_owned *o, const struct net_op *op);

/* --- changes ----------------------------------------------------------- */

/* In the order they run: stale routes and rules go before the addresses
 * they may use; an address whose prefix changes (IPv6 keys addresses
 * without their prefix) is removed before it is added again; routes are
 * replaced and added once their addresses are there; VLANs go last, after
 * everything on them. Undoing runs the inverses backwards, which keeps
 * the same dependencies. */
enum net_op_kind {
	NET_OP_LINK_SET,	/* link.name: mtu/up to link, from old (first:
				 * a VLAN cannot come up on a parent that is
				 * down) */
	NET_OP_LINK_ADD,	/* create a VLAN: link, with its mtu (0:
				 * the kernel's) and up state */
	NET_OP_ROUTE_DEL,	/* route */
	NET_OP_RULE_DEL,	/* rule */
	NET_OP_ADDR_DEL,	/* ifname, addr */
	NET_OP_ADDR_ADD,	/* ifname, addr */
	NET_OP_ROUTE_REPLACE,	/* route (new), old_route */
	NET_OP_ROUTE_ADD,	/* route */
	NET_OP_RULE_ADD,	/* rule */
	NET_OP_LINK_DEL,	/* link.name */
};

/* One change. Values are copies (no pointers into plan or state) except
 * pos/what, which point into the plan. */
struct net_op {
	enum net_op_kind kind;
	struct net_link link;	/* LINK_*: name, kind, parent, vlan_id,
				 * mtu, up (no addresses) */
	uint32_t old_mtu;	/* LINK_SET: to undo; 0 unchanged */
	int old_up;		/* LINK_SET: -1 unchanged */
	char ifname[NET_IFNAMSIZ];	/* ADDR_* */
	struct net_addr addr;
	struct net_route route, old_route;
	struct net_rule rule;
	struct pos pos;		/* the config line, or line 0 for removals */
	const char *what;	/* "route \"x\"" etc., or NULL */
};

struct net_change {
	struct net_op *ops;
	size_t n;
	size_t cap;
	/* owned after the change is applied (to save when it succeeds) */
	struct net_owned owned;
};

/* Computes the operations that make state (the kernel) match plan,
 * touching only what owned and the protocol number say is moat's, in the
 * order they must run. Problems (an interface that does not exist, a
 * route in the way that is not moat's) go to dl with the config line;
 * returns -1 when there was one, else 0. Pure. */
int net_diff(const struct net_plan *plan, const struct net_plan *state,
	     const struct net_owned *owned, struct net_change *out,
	     struct diag_list *dl);
void net_change_free(struct net_change *c);
/* The operation that undoes op. */
void net_op_inverse(const struct net_op *op, struct net_op *inv);
/* One line, as `ip` would say it: "+ route 10.1.0.0/16 via 192.0.2.1 dev
 * eth1 metric 10 table 100". Returns the length (snprintf rules). */
int net_op_format(const struct net_op *op, char *buf, size_t n);

bool net_addr_equal(const struct net_addr *a, const struct net_addr *b);
/* Formatting helpers (pure). */
int net_addr_format(const struct net_addr *a, char *buf, size_t n);
int net_route_format(const struct net_route *r, char *buf, size_t n);
int net_rule_format(const struct net_rule *r, char *buf, size_t n);
bool net_route_same_key(const struct net_route *a, const struct net_route *b);
/* Orders routes by their kernel key (family, table, metric, prefix). */
int net_route_key_cmp(const struct net_route *a, const struct net_route *b);
bool net_route_equal(const struct net_route *a, const struct net_route *b);
bool net_rule_equal(const struct net_rule *a, const struct net_rule *b);

/* sha256 of what moat manages in a state: its routes and rules, and every
 * link's name, kind, mtu, up flag and addresses. Equal fingerprints: the
 * kernel still holds what the last apply left. out has NET_HASH_HEX + 1
 * bytes. */
void net_fingerprint(const struct net_plan *state, char *out);

#endif
