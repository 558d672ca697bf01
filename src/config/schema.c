/* The tables behind loading and printing: every block and attribute moat
 * maps, in the order `moat config print` writes them. */
#include "config/schema.h"

#define F(type, fname, k, ...) \
	{ .name = #fname, .kind = k, .off = offsetof(type, fname), __VA_ARGS__ }
#define INT(type, fname, lo, hi, ...) \
	{ .name = #fname, .kind = CK_INT, .off = offsetof(type, fname), \
	  .min = lo, .max = hi, __VA_ARGS__ }
#define ENUM(type, fname, list, ...) \
	{ .name = #fname, .kind = CK_ENUM, .off = offsetof(type, fname), \
	  .choices = list, __VA_ARGS__ }
#define END { .name = NULL }
#define CHILD(ptype, t, s, member, ...) \
	{ .type = t, .sec = &s, .off = offsetof(ptype, member), __VA_ARGS__ }
#define CEND { .type = NULL }

static const char *const actions[] = { "accept", "drop", "reject", NULL };
static const char *const rule_actions[] = {
	"accept", "drop", "reject", "jump", "return", NULL,
};
static const char *const nat_types[] = {
	"masquerade", "snat", "dnat", "redirect", NULL,
};
static const char *const ipset_types[] = {
	"ipv4_addr", "ipv6_addr", "inet_service", "ether_addr", "dns", NULL,
};

/* --- interfaces ---------------------------------------------------------- */

#define T struct cfg_vlan
static const struct cfg_field vlan_fields[] = {
	F(T, description, CK_STR),
	F(T, disabled, CK_BOOL),
	F(T, zone, CK_STR),
	F(T, ipv4, CK_STRS),
	F(T, ipv6, CK_STRS),
	INT(T, mtu, 68, 65535),
	END,
};
#undef T
static const struct cfg_section vlan_section = {
	.type = "vlan", .size = sizeof(struct cfg_vlan),
	.min_labels = 1, .max_labels = 1, .labels = "ID",
	.fields = vlan_fields, .flywall = FLY_VLAN,
};

#define T struct cfg_interface
static const struct cfg_field interface_fields[] = {
	F(T, description, CK_STR),
	F(T, disabled, CK_BOOL),
	F(T, zone, CK_STR),
	F(T, ipv4, CK_STRS),
	F(T, ipv6, CK_STRS),
	F(T, dhcp, CK_BOOL),
	F(T, gateway, CK_STR),
	F(T, gateway_v6, CK_STR),
	INT(T, mtu, 68, 65535),
	INT(T, table, 1, 4294967295LL),
	END,
};
static const struct cfg_child interface_children[] = {
	CHILD(T, "vlan", vlan_section, vlans),
	CEND,
};
#undef T
static const struct cfg_section interface_section = {
	.type = "interface", .size = sizeof(struct cfg_interface),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = interface_fields, .children = interface_children,
	.flywall = FLY_Interface,
};

/* --- zones --------------------------------------------------------------- */

#define T struct cfg_zone_match
static const struct cfg_field match_fields[] = {
	F(T, interface, CK_STR),
	F(T, src, CK_STR),
	F(T, dst, CK_STR),
	INT(T, vlan, 1, 4094),
	END,
};
#undef T
static const struct cfg_section match_section = {
	.type = "match", .size = sizeof(struct cfg_zone_match),
	.fields = match_fields, .flywall = FLY_RuleMatch,
};

static const char *const service_protos[] = { "tcp", "udp", NULL };
#define T struct cfg_service_port
static const struct cfg_field port_fields[] = {
	ENUM(T, protocol, service_protos, .required = true),
	INT(T, port, 1, 65535, .required = true),
	INT(T, port_end, 1, 65535),
	END,
};
#undef T
static const struct cfg_section port_section = {
	.type = "port", .size = sizeof(struct cfg_service_port),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = port_fields, .flywall = FLY_ZoneServicePort,
};

#define T struct cfg_zone_services
static const struct cfg_field services_fields[] = {
	F(T, dhcp, CK_BOOL),
	F(T, dns, CK_BOOL),
	F(T, ntp, CK_BOOL),
	END,
};
static const struct cfg_child services_children[] = {
	CHILD(T, "port", port_section, ports),
	CEND,
};
#undef T
static const struct cfg_section services_section = {
	.type = "services", .size = sizeof(struct cfg_zone_services),
	.fields = services_fields, .children = services_children,
	.flywall = FLY_ZoneServices,
};

#define T struct cfg_zone_mgmt
static const struct cfg_field mgmt_fields[] = {
	F(T, web_ui, CK_BOOL),
	F(T, web, CK_BOOL),
	F(T, ssh, CK_BOOL),
	F(T, api, CK_BOOL),
	F(T, icmp, CK_BOOL),
	END,
};
#undef T
static const struct cfg_section mgmt_section = {
	.type = "management", .size = sizeof(struct cfg_zone_mgmt),
	.fields = mgmt_fields, .flywall = FLY_ZoneManagement,
};

#define T struct cfg_zone
static const struct cfg_field zone_fields[] = {
	F(T, description, CK_STR),
	F(T, interface, CK_STR),
	F(T, interfaces, CK_STRS),
	F(T, src, CK_STR),
	F(T, dst, CK_STR),
	INT(T, vlan, 1, 4094),
	END,
};
static const struct cfg_child zone_children[] = {
	CHILD(T, "match", match_section, matches),
	CHILD(T, "services", services_section, services, .single = true),
	CHILD(T, "management", mgmt_section, management, .single = true),
	CEND,
};
#undef T
static const struct cfg_section zone_section = {
	.type = "zone", .size = sizeof(struct cfg_zone),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = zone_fields, .children = zone_children,
	.flywall = FLY_Zone,
};

/* --- policies ------------------------------------------------------------ */

#define T struct cfg_rule
static const struct cfg_field rule_fields[] = {
	F(T, description, CK_STR),
	F(T, disabled, CK_BOOL),
	F(T, proto, CK_STR, .lower = true),
	F(T, src_ip, CK_STR),
	F(T, invert_src, CK_BOOL),
	F(T, src_ipset, CK_STR),
	F(T, src_port, CK_PORTS),
	F(T, src_ports, CK_PORTS),
	F(T, dest_ip, CK_STR),
	F(T, invert_dest, CK_BOOL),
	F(T, dest_ipset, CK_STR),
	F(T, dest_port, CK_PORTS),
	F(T, dest_ports, CK_PORTS),
	F(T, conn_state, CK_STR),
	F(T, limit, CK_STR),
	F(T, log, CK_BOOL),
	F(T, log_prefix, CK_STR),
	F(T, counter, CK_BOOL),
	ENUM(T, action, rule_actions, .required = true),
	F(T, jump_target, CK_STR),
	F(T, comment, CK_STR),
	END,
};
#undef T
static const struct cfg_section rule_section = {
	.type = "rule", .size = sizeof(struct cfg_rule),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = rule_fields, .flywall = FLY_PolicyRule,
};

#define T struct cfg_policy
static const struct cfg_field policy_fields[] = {
	F(T, from, CK_STR),
	F(T, to, CK_STR),
	F(T, name, CK_STR),
	F(T, description, CK_STR),
	INT(T, priority, -1000000, 1000000),
	F(T, disabled, CK_BOOL),
	F(T, masquerade, CK_BOOL),
	F(T, log, CK_BOOL),
	F(T, log_prefix, CK_STR),
	ENUM(T, action, actions),
	END,
};
static const struct cfg_child policy_children[] = {
	CHILD(T, "rule", rule_section, rules),
	CEND,
};
#undef T
static const struct cfg_section policy_section = {
	.type = "policy", .size = sizeof(struct cfg_policy),
	.min_labels = 1, .max_labels = 2, .labels = "FROM TO",
	.fields = policy_fields, .children = policy_children,
	.flywall = FLY_Policy,
};

/* --- NAT and sets -------------------------------------------------------- */

#define T struct cfg_nat
static const struct cfg_field nat_fields[] = {
	F(T, description, CK_STR),
	ENUM(T, type, nat_types, .required = true),
	F(T, in_interface, CK_STR),
	F(T, out_interface, CK_STR),
	F(T, proto, CK_STR, .lower = true),
	F(T, src_ip, CK_STR),
	F(T, dest_ip, CK_STR),
	F(T, dest_port, CK_PORTS),
	F(T, to_ip, CK_STR),
	F(T, to_port, CK_PORTS),
	F(T, snat_ip, CK_STR),
	F(T, hairpin, CK_BOOL),
	END,
};
#undef T
static const struct cfg_section nat_section = {
	.type = "nat", .size = sizeof(struct cfg_nat),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = nat_fields, .flywall = FLY_NATRule,
};

#define T struct cfg_ipset
static const struct cfg_field ipset_fields[] = {
	F(T, description, CK_STR),
	ENUM(T, type, ipset_types),
	F(T, entries, CK_STRS),
	F(T, interval, CK_BOOL),
	F(T, timeout, CK_STR),
	INT(T, size, 1, 16777216),
	END,
};
#undef T
static const struct cfg_section ipset_section = {
	.type = "ipset", .size = sizeof(struct cfg_ipset),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = ipset_fields, .flywall = FLY_IPSet,
};

/* --- routing ------------------------------------------------------------- */

#define T struct cfg_route
static const struct cfg_field route_fields[] = {
	F(T, destination, CK_STR, .required = true),
	F(T, gateway, CK_STR),
	F(T, interface, CK_STR),
	INT(T, metric, 0, 4294967295LL),
	INT(T, table, 1, 4294967295LL),
	END,
};
#undef T
static const struct cfg_section route_section = {
	.type = "route", .size = sizeof(struct cfg_route),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = route_fields, .flywall = FLY_Route,
};

#define T struct cfg_routing_table
static const struct cfg_field table_fields[] = {
	INT(T, id, 1, 4294967295LL, .required = true),
	END,
};
static const struct cfg_child table_children[] = {
	CHILD(T, "route", route_section, routes),
	CEND,
};
#undef T
static const struct cfg_section table_section = {
	.type = "routing_table", .size = sizeof(struct cfg_routing_table),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = table_fields, .children = table_children,
	.flywall = FLY_RoutingTable,
};

#define T struct cfg_policy_route
static const struct cfg_field policy_route_fields[] = {
	INT(T, priority, 1, 32765),
	F(T, from, CK_STR),
	F(T, to, CK_STR),
	F(T, iif, CK_STR),
	F(T, oif, CK_STR),
	F(T, mark, CK_STR),
	F(T, mark_mask, CK_STR),
	F(T, fwmark, CK_STR),
	INT(T, table, 1, 4294967295LL),
	F(T, blackhole, CK_BOOL),
	F(T, prohibit, CK_BOOL),
	F(T, enabled, CK_BOOL),
	F(T, comment, CK_STR),
	END,
};
#undef T
static const struct cfg_section policy_route_section = {
	.type = "policy_route", .size = sizeof(struct cfg_policy_route),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = policy_route_fields, .flywall = FLY_PolicyRoute,
};

#define T struct cfg_mark_rule
static const struct cfg_field mark_rule_fields[] = {
	F(T, mark, CK_STR, .required = true),
	F(T, mask, CK_STR),
	F(T, proto, CK_STR, .lower = true),
	F(T, src_ip, CK_STR),
	F(T, dst_ip, CK_STR),
	F(T, src_port, CK_PORTS),
	F(T, dst_port, CK_PORTS),
	F(T, dst_ports, CK_PORTS),
	F(T, in_interface, CK_STR),
	F(T, out_interface, CK_STR),
	F(T, src_zone, CK_STR),
	F(T, dst_zone, CK_STR),
	F(T, ipset, CK_STR),
	F(T, conn_state, CK_STRS),
	F(T, save_mark, CK_BOOL),
	F(T, restore_mark, CK_BOOL),
	F(T, enabled, CK_BOOL),
	F(T, comment, CK_STR),
	END,
};
#undef T
static const struct cfg_section mark_rule_section = {
	.type = "mark_rule", .size = sizeof(struct cfg_mark_rule),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = mark_rule_fields, .flywall = FLY_MarkRule,
};

/* --- VPN ----------------------------------------------------------------- */

#define T struct cfg_wg_peer
static const struct cfg_field peer_fields[] = {
	F(T, public_key, CK_STR, .required = true),
	F(T, preshared_key, CK_STR),
	F(T, endpoint, CK_STR),
	F(T, allowed_ips, CK_STRS),
	INT(T, persistent_keepalive, 0, 65535),
	END,
};
#undef T
static const struct cfg_section peer_section = {
	.type = "peer", .size = sizeof(struct cfg_wg_peer),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = peer_fields, .flywall = FLY_WireGuardPeerConfig,
};

#define T struct cfg_wireguard
static const struct cfg_field wg_fields[] = {
	F(T, enabled, CK_BOOL),
	F(T, interface, CK_STR),
	F(T, zone, CK_STR),
	F(T, private_key, CK_STR),
	F(T, private_key_file, CK_STR),
	INT(T, listen_port, 1, 65535),
	F(T, address, CK_STRS),
	F(T, dns, CK_STRS),
	INT(T, mtu, 1280, 65535),
	INT(T, fwmark, 0, 4294967295LL),
	F(T, table, CK_STR),
	END,
};
static const struct cfg_child wg_children[] = {
	CHILD(T, "peer", peer_section, peers),
	CEND,
};
#undef T
static const struct cfg_section wg_section = {
	.type = "wireguard", .size = sizeof(struct cfg_wireguard),
	.min_labels = 1, .max_labels = 1, .labels = "NAME",
	.fields = wg_fields, .children = wg_children,
	.flywall = FLY_WireGuardConfig,
};

static const struct cfg_field vpn_fields[] = { END };
static const struct cfg_child vpn_children[] = {
	CHILD(struct cfg_vpn, "wireguard", wg_section, wireguard),
	CEND,
};
static const struct cfg_section vpn_section = {
	.type = "vpn", .size = sizeof(struct cfg_vpn),
	.fields = vpn_fields, .children = vpn_children,
	.flywall = FLY_VPNConfig,
};

#define T struct cfg_api
static const struct cfg_field api_fields[] = {
	F(T, enabled, CK_BOOL),
	F(T, listen, CK_STR),
	F(T, tls_listen, CK_STR),
	F(T, tls_cert, CK_STR),
	F(T, tls_key, CK_STR),
	F(T, session_timeout, CK_STR),
	F(T, session_idle_timeout, CK_STR),
	F(T, allow_plain_http, CK_BOOL),
	END,
};
#undef T
static const struct cfg_section api_section = {
	.type = "api", .size = sizeof(struct cfg_api),
	.fields = api_fields, .flywall = FLY_APIConfig,
};

#define T struct cfg_web
static const struct cfg_field web_fields[] = {
	F(T, listen, CK_STR),
	F(T, tls_listen, CK_STR),
	F(T, tls_cert, CK_STR),
	F(T, tls_key, CK_STR),
	F(T, allow_plain_http, CK_BOOL),
	END,
};
#undef T
static const struct cfg_section web_section = {
	.type = "web", .size = sizeof(struct cfg_web),
	.fields = web_fields, .flywall = FLY_WebConfig,
};

/* --- the file ------------------------------------------------------------ */

#define T struct moat_config
static const struct cfg_field root_fields[] = {
	F(T, schema_version, CK_STR),
	F(T, ip_forwarding, CK_BOOL),
	F(T, mss_clamping, CK_BOOL),
	F(T, state_dir, CK_STR),
	F(T, log_dir, CK_STR),
	END,
};
static const struct cfg_child root_children[] = {
	CHILD(T, "interface", interface_section, interfaces),
	CHILD(T, "zone", zone_section, zones),
	CHILD(T, "ipset", ipset_section, ipsets),
	CHILD(T, "policy", policy_section, policies),
	CHILD(T, "nat", nat_section, nats),
	CHILD(T, "routing_table", table_section, routing_tables),
	CHILD(T, "route", route_section, routes),
	CHILD(T, "policy_route", policy_route_section, policy_routes),
	CHILD(T, "mark_rule", mark_rule_section, mark_rules),
	CHILD(T, "vpn", vpn_section, vpn, .single = true),
	CHILD(T, "api", api_section, api, .single = true),
	CHILD(T, "web", web_section, web, .single = true),
	CEND,
};
#undef T
const struct cfg_section cfg_root_section = {
	.type = "", .size = sizeof(struct moat_config),
	.fields = root_fields, .children = root_children,
	.flywall = FLY_ROOT,
};
