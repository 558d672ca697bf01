/* moat lab: a sandbox of network namespaces around a gateway that runs
 * moat, with an internet (wan) and a client per LAN-side interface, built
 * with iproute2 so that the other side of the gateway is set up by a tool
 * people trust.
 *
 * The topology is decided from a config by pure code (topo.c), and the
 * text moat reads back from ip and /proc is parsed by pure code (text.c);
 * only the commands (up.c, down.c, status.c, exec.c) and their helpers
 * (run.c, dir.c) touch the system, and never the host's own network:
 * every link is made inside a moat-lab-* namespace. */
#ifndef MOAT_LAB_LAB_H
#define MOAT_LAB_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct moat_config;

#define LAB_NS_PREFIX "moat-lab-"
#define LAB_NAMSIZ 16		/* node and interface names (IFNAMSIZ) */
/* The internet's web and DNS server, on wan's loopback. */
#define LAB_INTERNET_ADDR "198.51.100.10"
/* MOAT_LAB_ID: at most this many of [a-z0-9] (tests run beside a lab). */
#define LAB_ID_MAX 8

/* An IPv4 address with its prefix length, in host byte order. */
struct lab_addr {
	uint32_t ip;
	uint8_t len;
	bool set;
};

enum lab_kind {
	LAB_GW,			/* moat runs here, with the config */
	LAB_WAN,		/* the internet: its router and servers */
	LAB_CLIENT,		/* a host on one LAN-side interface */
	LAB_KIND_MAX,
};

/* What each kind of node is; adding a kind is a row here, an enum value
 * and a builder in topo.c. */
struct lab_kind_info {
	const char *name;	/* "gw", "wan"; clients are numbered lan1.. */
	const char *role;	/* for humans, where a node has no about */
};
extern const struct lab_kind_info lab_kinds[LAB_KIND_MAX];

/* gw's interfaces are configured by moat apply, not by the lab: their
 * addr is the config's, shown but never added with ip. */
struct lab_iface {
	char name[LAB_NAMSIZ];
	struct lab_addr addr;	/* !set: none */
};

struct lab_route {
	struct lab_addr dst;	/* len 0: the default route */
	uint32_t via;
};

enum lab_svc_kind {
	LAB_SVC_HTTP,		/* python3 -m http.server */
	LAB_SVC_DNS,		/* dnsmasq answering every name */
	LAB_SVC_MAX,
};

struct lab_service {
	enum lab_svc_kind kind;
	uint32_t ip;
	uint16_t port;
	char *text;		/* HTTP: the page it serves */
};

struct lab_node {
	enum lab_kind kind;
	char name[LAB_NAMSIZ];	/* "gw", "wan", "lan1" */
	char *about;		/* "on eth1 (zone lan)"; NULL: the role */
	struct lab_iface *ifaces;	/* lo is listed when it has addresses */
	size_t nifaces, capifaces;
	struct lab_route *routes;
	size_t nroutes, caproutes;
	struct lab_service *svcs;
	size_t nsvcs, capsvcs;
};

/* A veth pair, made inside node a with its peer created in node b. */
struct lab_link {
	size_t a, b;		/* node indexes */
	char a_if[LAB_NAMSIZ];
	char b_if[LAB_NAMSIZ];
};

struct lab_topo {
	struct lab_node *nodes;	/* gw, wan, then the clients */
	size_t nnodes, capnodes;
	struct lab_link *links;
	size_t nlinks, caplinks;
	char **notes;		/* what the lab leaves out, and why */
	size_t nnotes, capnotes;
};

/* Decides the lab for cfg (validated by cfg_load). Pure; never fails:
 * what cannot be built is a note. */
struct lab_topo *lab_topo_new(const struct moat_config *cfg);
void lab_topo_free(struct lab_topo *t);
const struct lab_node *lab_topo_node(const struct lab_topo *t,
				     const char *name);
/* The first node of kind, or NULL. */
const struct lab_node *lab_topo_first(const struct lab_topo *t,
				      enum lab_kind kind);

/* "a.b.c.d" or "a.b.c.d/len" (with_len) into buf of at least 19 bytes. */
char *lab_addr_str(const struct lab_addr *a, bool with_len, char *buf);
char *lab_ip_str(uint32_t ip, char *buf);

/* --- names and text read back (pure, text.c) ------------------------- */

/* Whether id is a valid MOAT_LAB_ID ("" is the default lab). */
bool lab_id_valid(const char *id);
/* The namespace of node: moat-lab-[ID-]NODE. buf has 64 bytes. */
void lab_ns_name(const char *id, const char *node, char *buf);
/* If ns is a namespace of lab id, its node name into node (LAB_NAMSIZ).
 * moat-lab-t1-gw is lab t1's, never the default lab's node "t1-gw". */
bool lab_ns_node(const char *id, const char *ns, char *node);

/* Whether /proc/PID/net/{tcp,tcp6,udp,udp6} text has a socket listening
 * on port (TCP LISTEN; for UDP, any bound socket). */
bool lab_proc_net_listening(const char *text, uint16_t port, bool udp);
/* State and start time (clock ticks since boot) from /proc/PID/stat. */
bool lab_proc_stat(const char *text, char *state,
		   unsigned long long *starttime);

/* A process the lab started: one line of LABDIR/procs. */
struct lab_proc {
	int pid;
	unsigned long long starttime;	/* tells it from a reused PID */
	char node[LAB_NAMSIZ];
	char what[32];		/* "http:80", "dns:53" */
};
/* One line, newline included, into buf (128 bytes). */
void lab_proc_format(const struct lab_proc *p, char *buf);
bool lab_proc_parse(const char *line, struct lab_proc *p);

/* A growing list of them. */
struct lab_procs {
	struct lab_proc *v;
	size_t n, cap;
};
void lab_procs_push(struct lab_procs *l, const struct lab_proc *p);
void lab_procs_free(struct lab_procs *l);

/* `ip -br addr` output as "eth0 10.0.0.2/24, lo 198.51.100.10/32":
 * links that are down say so, loopback's 127.0.0.1 and ::1 and link-local
 * IPv6 addresses are left out, as is lo without other addresses.
 * Returns a malloc'd string. */
char *lab_brief_addrs(const char *ip_br_output);

/* --- the commands (I/O) ---------------------------------------------- */

/* The lab's own directory ($MOAT_RUN_DIR/lab) and namespace names. */
struct lab_ctx {
	char id[LAB_ID_MAX + 1];
	char *run_dir;		/* $MOAT_RUN_DIR or /run/moat */
	char *dir;		/* run_dir/lab */
};

/* Fills ctx from the environment; -1 with a message on a bad
 * MOAT_LAB_ID. */
int lab_ctx_init(struct lab_ctx *ctx);
void lab_ctx_free(struct lab_ctx *ctx);

/* Each returns an exit status (cli.h's MOAT_EXIT_*). */
int lab_up(const struct lab_ctx *ctx, const char *config);
int lab_down(const struct lab_ctx *ctx);
int lab_status(const struct lab_ctx *ctx);
/* Returns only on failure. */
int lab_exec(const struct lab_ctx *ctx, const char *node, char **argv);

#endif
