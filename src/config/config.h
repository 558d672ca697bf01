/* struct moat_config: the validated, typed form of a moat (Flywall-schema)
 * HCL file. Every value remembers where it was written so that later stages
 * (compile, apply) can name the config line of anything they refuse.
 *
 * Unset values: a cfg_str has v == NULL; the other scalars have set false;
 * a list or vector has n == 0. Blocks that may appear once are vectors with
 * at most one element. */
#ifndef MOAT_CONFIG_CONFIG_H
#define MOAT_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/diag.h"

struct hcl_env;

struct cfg_str {
	char *v;
	struct pos pos;
};

struct cfg_bool {
	bool v;
	bool set;
	struct pos pos;
};

struct cfg_int {
	long long v;
	bool set;
	struct pos pos;
};

struct cfg_strs {
	char **v;
	size_t n;
	bool set;
	struct pos pos;
	struct pos *at;		/* of each item */
};

struct cfg_port_range {
	uint16_t lo;
	uint16_t hi;
};

/* A port, a range ("8000-8100") or a list of them. */
struct cfg_ports {
	struct cfg_port_range *v;
	size_t n;
	bool set;
	struct pos pos;
};

/* A vector of config objects (the element type is the section's). */
struct cfg_vec {
	void *v;
	size_t n;
	size_t cap;
};

/* The head of every object made from a block: where it is and its labels. */
struct cfg_obj {
	struct pos pos;
	char *name;		/* first label, or NULL */
	struct pos name_pos;
	char *name2;		/* second label (policy "FROM" "TO") */
	struct pos name2_pos;
};

struct cfg_vlan {
	struct cfg_obj o;	/* name: the VLAN id */
	struct cfg_str description;
	struct cfg_str zone;
	struct cfg_strs ipv4;
	struct cfg_strs ipv6;
	struct cfg_bool disabled;
	struct cfg_int mtu;
};

struct cfg_interface {
	struct cfg_obj o;
	struct cfg_str description;
	struct cfg_bool disabled;
	struct cfg_str zone;
	struct cfg_strs ipv4;
	struct cfg_strs ipv6;
	struct cfg_bool dhcp;
	struct cfg_str gateway;
	struct cfg_str gateway_v6;
	struct cfg_int mtu;
	struct cfg_int table;
	struct cfg_vec vlans;		/* struct cfg_vlan */
};

struct cfg_zone_match {
	struct cfg_obj o;
	struct cfg_str interface;
	struct cfg_str src;
	struct cfg_str dst;
	struct cfg_int vlan;
};

struct cfg_service_port {
	struct cfg_obj o;
	struct cfg_str protocol;
	struct cfg_int port;
	struct cfg_int port_end;
};

struct cfg_zone_services {
	struct cfg_obj o;
	struct cfg_bool dhcp;
	struct cfg_bool dns;
	struct cfg_bool ntp;
	struct cfg_vec ports;		/* struct cfg_service_port */
};

struct cfg_zone_mgmt {
	struct cfg_obj o;
	struct cfg_bool web_ui;
	struct cfg_bool web;
	struct cfg_bool ssh;
	struct cfg_bool api;
	struct cfg_bool icmp;
};

struct cfg_zone {
	struct cfg_obj o;
	struct cfg_str description;
	struct cfg_str interface;
	struct cfg_strs interfaces;
	struct cfg_str src;
	struct cfg_str dst;
	struct cfg_int vlan;
	struct cfg_vec matches;		/* struct cfg_zone_match */
	struct cfg_vec services;	/* at most one cfg_zone_services */
	struct cfg_vec management;	/* at most one cfg_zone_mgmt */
};

struct cfg_rule {
	struct cfg_obj o;
	struct cfg_str description;
	struct cfg_bool disabled;
	struct cfg_str proto;
	struct cfg_ports dest_port;	/* dest_port and dest_ports merged */
	struct cfg_ports dest_ports;
	struct cfg_ports src_port;
	struct cfg_ports src_ports;
	struct cfg_str src_ip;
	struct cfg_str dest_ip;
	struct cfg_str src_ipset;
	struct cfg_str dest_ipset;
	struct cfg_str conn_state;
	struct cfg_bool invert_src;
	struct cfg_bool invert_dest;
	struct cfg_str action;
	struct cfg_str jump_target;
	struct cfg_bool log;
	struct cfg_str log_prefix;
	struct cfg_str limit;
	struct cfg_bool counter;
	struct cfg_str comment;
};

struct cfg_policy {
	struct cfg_obj o;	/* name: FROM zone, name2: TO zone */
	struct cfg_str from;	/* the older one-label form sets these */
	struct cfg_str to;
	struct cfg_str name;
	struct cfg_str description;
	struct cfg_int priority;
	struct cfg_bool disabled;
	struct cfg_str action;
	struct cfg_bool masquerade;
	struct cfg_bool log;
	struct cfg_str log_prefix;
	struct cfg_vec rules;		/* struct cfg_rule */
};

struct cfg_nat {
	struct cfg_obj o;
	struct cfg_str description;
	struct cfg_str type;
	struct cfg_str proto;
	struct cfg_str in_interface;
	struct cfg_str out_interface;
	struct cfg_str src_ip;
	struct cfg_str dest_ip;
	struct cfg_ports dest_port;
	struct cfg_str to_ip;
	struct cfg_ports to_port;
	struct cfg_str snat_ip;
	struct cfg_bool hairpin;
};

struct cfg_ipset {
	struct cfg_obj o;
	struct cfg_str description;
	struct cfg_str type;
	struct cfg_strs entries;
	struct cfg_bool interval;
	struct cfg_str timeout;
	struct cfg_int size;
};

struct cfg_route {
	struct cfg_obj o;
	struct cfg_str destination;
	struct cfg_str gateway;
	struct cfg_str interface;
	struct cfg_int metric;
	struct cfg_int table;
};

struct cfg_routing_table {
	struct cfg_obj o;
	struct cfg_int id;
	struct cfg_vec routes;		/* struct cfg_route */
};

struct cfg_policy_route {
	struct cfg_obj o;
	struct cfg_int priority;
	struct cfg_str mark;
	struct cfg_str mark_mask;
	struct cfg_str fwmark;
	struct cfg_str from;
	struct cfg_str to;
	struct cfg_str iif;
	struct cfg_str oif;
	struct cfg_int table;
	struct cfg_bool blackhole;
	struct cfg_bool prohibit;
	struct cfg_bool enabled;
	struct cfg_str comment;
};

struct cfg_mark_rule {
	struct cfg_obj o;
	struct cfg_str mark;
	struct cfg_str mask;
	struct cfg_str proto;
	struct cfg_str src_ip;
	struct cfg_str dst_ip;
	struct cfg_ports src_port;
	struct cfg_ports dst_port;
	struct cfg_ports dst_ports;
	struct cfg_str in_interface;
	struct cfg_str out_interface;
	struct cfg_str src_zone;
	struct cfg_str dst_zone;
	struct cfg_str ipset;
	struct cfg_strs conn_state;
	struct cfg_bool save_mark;
	struct cfg_bool restore_mark;
	struct cfg_bool enabled;
	struct cfg_str comment;
};

struct cfg_wg_peer {
	struct cfg_obj o;
	struct cfg_str public_key;
	struct cfg_str preshared_key;
	struct cfg_str endpoint;
	struct cfg_strs allowed_ips;
	struct cfg_int persistent_keepalive;
};

struct cfg_wireguard {
	struct cfg_obj o;
	struct cfg_bool enabled;
	struct cfg_str interface;
	struct cfg_str zone;
	struct cfg_str private_key;
	struct cfg_str private_key_file;
	struct cfg_int listen_port;
	struct cfg_strs address;
	struct cfg_strs dns;
	struct cfg_int mtu;
	struct cfg_int fwmark;
	struct cfg_str table;
	struct cfg_vec peers;		/* struct cfg_wg_peer */
};

struct cfg_vpn {
	struct cfg_obj o;
	struct cfg_vec wireguard;	/* struct cfg_wireguard */
};

/* The control plane's HTTP listeners (ctl opens them for api). Flywall
 * has them in both blocks (api's are deprecated there); moat takes
 * either. */
struct cfg_api {
	struct cfg_obj o;
	struct cfg_bool enabled;
	struct cfg_str listen;		/* "ADDR:PORT", "[V6]:PORT", ":PORT" */
	struct cfg_str tls_listen;	/* HTTPS, with tls_cert and tls_key */
	struct cfg_str tls_cert;	/* PEM files, read by ctl (root) */
	struct cfg_str tls_key;
	/* a session ends this long after login, or after this long unused */
	struct cfg_str session_timeout;		/* default "12h" */
	struct cfg_str session_idle_timeout;	/* default "30m" */
	/* serve plain HTTP on listen even when it is not a loopback
	 * address (without it such a listener is not opened) */
	struct cfg_bool allow_plain_http;
};

struct cfg_web {
	struct cfg_obj o;
	struct cfg_str listen;
	struct cfg_str tls_listen;
	struct cfg_str tls_cert;
	struct cfg_str tls_key;
	struct cfg_bool allow_plain_http;
};

struct moat_config {
	struct cfg_obj o;
	char *file;			/* every pos.file points here */
	struct cfg_str schema_version;
	struct cfg_bool ip_forwarding;
	struct cfg_bool mss_clamping;
	struct cfg_str state_dir;
	struct cfg_str log_dir;
	struct cfg_vec interfaces;	/* struct cfg_interface */
	struct cfg_vec zones;		/* struct cfg_zone */
	struct cfg_vec policies;	/* struct cfg_policy */
	struct cfg_vec nats;		/* struct cfg_nat */
	struct cfg_vec ipsets;		/* struct cfg_ipset */
	struct cfg_vec routes;		/* struct cfg_route */
	struct cfg_vec routing_tables;	/* struct cfg_routing_table */
	struct cfg_vec policy_routes;	/* struct cfg_policy_route */
	struct cfg_vec mark_rules;	/* struct cfg_mark_rule */
	struct cfg_vec vpn;		/* at most one struct cfg_vpn */
	struct cfg_vec api;		/* at most one struct cfg_api */
	struct cfg_vec web;		/* at most one struct cfg_web */
};

/* Iterates over the objects of a cfg_vec (empty vectors have v NULL). */
#define CFG_EACH(type, var, vec) \
	for (type *var = (vec).v, *var##_end = var ? var + (vec).n : NULL; \
	     var != var##_end; var++)

/* Parses and validates src (len bytes) from a file named name. Every error
 * and warning goes to dl, all of them in one run. Returns the config, or
 * NULL when there was an error (with strict, warnings count as errors).
 * env may be NULL (the process environment). */
struct moat_config *cfg_load(const char *name, const char *src, size_t len,
			     const struct hcl_env *env, bool strict,
			     struct diag_list *dl);
void cfg_free(struct moat_config *cfg);

/* Canonical HCL text for cfg; cfg_load of it gives the same config. */
char *cfg_print(const struct moat_config *cfg);

#endif
