/* moat lab up: builds the topology topo.c decided. Namespaces first, then
 * veth pairs made inside gw with the peer created in the other node (no
 * link is ever in the host's namespace), addresses and routes of the
 * nodes around gw, moat apply inside gw, and the servers. Anything that
 * fails, or a signal, tears down everything built so far. */
#include "lab/lab.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/load.h"
#include "config/config.h"
#include "lab/dir.h"
#include "lab/down.h"
#include "lab/run.h"
#include "lab/status.h"

/* How long servers get to start listening. */
#define READY_MS 10000

/* A server started, until it listens. */
struct pending {
	struct lab_proc p;
	uint16_t port;
	bool udp;
	bool ready;		/* listening: no need to look again */
	char *log;
};

struct up {
	const struct lab_ctx *ctx;
	struct lab_topo *t;
	const char *python;
	const char *source;		/* the config as the user named it */
	char *etc;			/* LABDIR/etc: hosts, resolv.conf */
	struct pending *wait;
	size_t nwait, capwait;
};

/* A server's command line and the strings it is made of. */
struct args {
	char *v[16];
	char s[4][PATH_MAX + 32];
};

/* What each kind of server runs; a new kind of server is a row here. */
struct svc_info {
	const char *name;
	bool udp;
	void (*argv)(const struct up *u, const struct lab_service *s,
		     const char *dir, struct args *a);
};

/* Runs ip with args; on failure says which command and what ip said. */
static int ip_step(const struct up *u, const char *const *args)
{
	struct buf out = BUF_INIT;
	int r;

	if (lab_interrupted())
		return -1;
	r = lab_ip(&out, args);
	if (r) {
		fprintf(stderr, "moat lab: ip");
		for (size_t i = 0; args[i]; i++)
			fprintf(stderr, " %s", args[i]);
		fprintf(stderr, ": %s", r < 0 ? strerror(-r) :
			out.p ? out.p : "failed\n");
		if (r < 0)
			fputc('\n', stderr);
	}
	buf_free(&out);
	return r ? -1 : 0;
}

#define IP(u, ...) ip_step(u, (const char *[]){ __VA_ARGS__, NULL })

static int make_nodes(const struct up *u)
{
	char ns[64];

	for (size_t i = 0; i < u->t->nnodes; i++) {
		lab_ns_name(u->ctx->id, u->t->nodes[i].name, ns);
		if (IP(u, "netns", "add", ns) ||
		    IP(u, "-n", ns, "link", "set", "lo", "up"))
			return -1;
	}
	return 0;
}

static int make_links(const struct up *u)
{
	char a[64], b[64];

	for (size_t i = 0; i < u->t->nlinks; i++) {
		const struct lab_link *l = &u->t->links[i];

		lab_ns_name(u->ctx->id, u->t->nodes[l->a].name, a);
		lab_ns_name(u->ctx->id, u->t->nodes[l->b].name, b);
		if (IP(u, "-n", a, "link", "add", l->a_if, "type", "veth",
		       "peer", "name", l->b_if, "netns", b))
			return -1;
	}
	return 0;
}

/* Addresses and routes of one node; gw's interfaces are moat's. */
static int config_node(const struct up *u, const struct lab_node *n)
{
	bool by_moat = n->kind == LAB_GW;
	char ns[64], a[24], dst[24];

	lab_ns_name(u->ctx->id, n->name, ns);
	for (size_t i = 0; i < n->nifaces && !by_moat; i++) {
		const struct lab_iface *f = &n->ifaces[i];

		if (f->addr.set && IP(u, "-n", ns, "addr", "add",
				      lab_addr_str(&f->addr, true, a), "dev",
				      f->name))
			return -1;
		if (IP(u, "-n", ns, "link", "set", f->name, "up"))
			return -1;
	}
	for (size_t i = 0; i < n->nroutes; i++) {
		const struct lab_route *r = &n->routes[i];

		if (r->dst.len)
			lab_addr_str(&r->dst, true, dst);
		else
			strcpy(dst, "default");
		if (IP(u, "-n", ns, "route", "add", dst, "via",
		       lab_ip_str(r->via, a)))
			return -1;
	}
	return 0;
}

/* moat's output, indented, naming the user's file rather than the copy. */
static void print_moat(FILE *f, const char *text, const char *copy,
		       const char *source)
{
	const char *p = text;
	size_t cn = strlen(copy);

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		bool ours = !strncmp(p, copy, cn) && p[cn] == ':';

		fprintf(f, "  %s%.*s\n", ours ? source : "",
			(int)(ours ? n - cn : n), ours ? p + cn : p);
		p += n + (p[n] == '\n');
	}
}

/* moat apply in gw, with the lab's state and run directories, its output
 * shown as moat's. */
static int apply_gw(const struct up *u)
{
	char *cfg = lab_path(u->ctx, LAB_CONFIG);
	struct buf out = BUF_INIT;
	int r;

	r = lab_interrupted() ? -EINTR : lab_gw_moat(u->ctx, "apply", &out);
	if (r) {
		fprintf(stderr, "moat lab: moat apply in gw failed (%s):\n",
			r < 0 ? strerror(-r) : "its output follows");
		print_moat(stderr, out.p, cfg, u->source);
	} else {
		printf("gw: moat apply -c %s\n", cfg);
		print_moat(stdout, out.p, cfg, u->source);
	}
	buf_free(&out);
	free(cfg);
	return r ? -1 : 0;
}

static void http_argv(const struct up *u, const struct lab_service *s,
		      const char *dir, struct args *a)
{
	snprintf(a->s[0], sizeof(a->s[0]), "%u", s->port);
	lab_ip_str(s->ip, a->s[1]);
	memcpy(a->v, (char *[]){ (char *)u->python, "-m", "http.server",
		a->s[0], "--bind", a->s[1], "--directory", (char *)dir, NULL },
	       9 * sizeof(*a->v));
}

/* dnsmasq answers every name with the internet server's address: enough
 * for a client to find "the internet" by name. */
static void dns_argv(const struct up *u, const struct lab_service *s,
		     const char *dir, struct args *a)
{
	char ip[20];

	(void)u;
	lab_ip_str(s->ip, ip);
	snprintf(a->s[0], sizeof(a->s[0]), "--listen-address=%s", ip);
	snprintf(a->s[1], sizeof(a->s[1]), "--port=%u", s->port);
	snprintf(a->s[2], sizeof(a->s[2]), "--address=/#/%s", ip);
	snprintf(a->s[3], sizeof(a->s[3]), "--pid-file=%s/dnsmasq.pid", dir);
	memcpy(a->v, (char *[]){ "dnsmasq", "--keep-in-foreground",
		"--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--bind-interfaces", a->s[0], a->s[1], a->s[2], a->s[3],
		"--log-facility=-", "--log-queries", "--user=root", NULL },
	       14 * sizeof(*a->v));
}

static const struct svc_info svc_info[LAB_SVC_MAX] = {
	[LAB_SVC_HTTP] = { "http", false, http_argv },
	[LAB_SVC_DNS] = { "dns", true, dns_argv },
};

/* The directory a server works in: an HTTP server's holds its page. */
static char *svc_dir(const struct up *u, const struct lab_node *n,
		     const struct lab_service *s)
{
	char *name = xasprintf("srv/%s-%s-%u", n->name,
			       svc_info[s->kind].name, s->port);
	char *dir = lab_path(u->ctx, name), *index;

	mkdir(dir, 0755);
	if (s->text) {
		index = xasprintf("%s/index.html", name);
		lab_write_file(u->ctx, index, s->text);
		free(index);
	}
	free(name);
	return dir;
}

static int start_service(struct up *u, const struct lab_node *n,
			 const struct lab_service *s)
{
	const struct svc_info *si = &svc_info[s->kind];
	struct pending w = { .port = s->port, .udp = si->udp };
	char *dir = svc_dir(u, n, s), *name, ns[64];
	struct lab_daemon d = { NULL, ns, u->etc, NULL, dir };
	struct args a;
	int r;

	si->argv(u, s, dir, &a);
	d.argv = a.v;
	lab_ns_name(u->ctx->id, n->name, ns);
	snprintf(w.p.node, sizeof(w.p.node), "%s", n->name);
	snprintf(w.p.what, sizeof(w.p.what), "%s:%u", si->name, s->port);
	name = xasprintf("log/%s-%s-%u.log", n->name, si->name, s->port);
	w.log = lab_path(u->ctx, name);
	d.log = w.log;
	free(name);
	r = lab_daemon_start(&d, &w.p.pid);
	free(dir);
	if (r < 0) {
		fprintf(stderr, "moat lab: %s %s: %s: %s\n", n->name,
			w.p.what, a.v[0], strerror(-r));
		free(w.log);
		return -1;
	}
	lab_pid_info(w.p.pid, &(char){ 0 }, &w.p.starttime);
	lab_procs_add(u->ctx, &w.p);
	xgrow((void **)&u->wait, &u->capwait, u->nwait + 1, sizeof(*u->wait));
	u->wait[u->nwait++] = w;
	return 0;
}

static bool listening(const struct pending *w)
{
	static const char *const tcp[] = { "tcp", "tcp6" };
	static const char *const udp[] = { "udp", "udp6" };
	char path[64], *text;
	bool yes = false;
	size_t len;

	for (size_t i = 0; i < 2 && !yes; i++) {
		snprintf(path, sizeof(path), "/proc/%d/net/%s", w->p.pid,
			 (w->udp ? udp : tcp)[i]);
		if (file_read(path, 1 << 22, &text, &len) < 0)
			continue;
		yes = lab_proc_net_listening(text, w->port, w->udp);
		free(text);
	}
	return yes;
}

/* The last lines of a server's log, for when it would not start. */
static void print_log_tail(const char *path)
{
	char *text, *p;
	size_t len;
	int lines = 0;

	if (file_read(path, 1 << 20, &text, &len) < 0)
		return;
	for (p = text + len; p > text; p--)
		if (p[-1] == '\n' && p != text + len && ++lines == 6)
			break;
	fprintf(stderr, "%s:\n%s", path, p);
	free(text);
}

/* Until every server listens; one that exits, even after it listened,
 * fails up. */
static int wait_ready(struct up *u)
{
	for (long t = 0;; t += 20) {
		size_t ready = 0;

		for (size_t i = 0; i < u->nwait; i++) {
			struct pending *w = &u->wait[i];

			if (!lab_proc_alive(&w->p)) {
				fprintf(stderr, "moat lab: %s %s exited\n",
					w->p.node, w->p.what);
				print_log_tail(w->log);
				return -1;
			}
			w->ready = w->ready || listening(w);
			ready += w->ready;
		}
		if (ready == u->nwait)
			return 0;
		if (lab_interrupted())
			return -1;
		if (t >= READY_MS) {
			fprintf(stderr, "moat lab: servers not listening "
				"after %d s\n", READY_MS / 1000);
			return -1;
		}
		lab_sleep_ms(20);
	}
}

static int start_services(struct up *u)
{
	for (size_t i = 0; i < u->t->nnodes; i++) {
		const struct lab_node *n = &u->t->nodes[i];

		for (size_t k = 0; k < n->nsvcs; k++)
			if (lab_interrupted() ||
			    start_service(u, n, &n->svcs[k]))
				return -1;
	}
	return wait_ready(u);
}

/* hosts: every node's addresses under its name; resolv.conf: the lab's
 * DNS server, giving up fast. */
static void write_etc(const struct up *u)
{
	struct buf b = BUF_INIT;
	char a[24];

	buf_adds(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost\n"
		 LAB_INTERNET_ADDR "\tinternet\n");
	for (size_t i = 0; i < u->t->nnodes; i++) {
		const struct lab_node *n = &u->t->nodes[i];

		for (size_t k = 0; k < n->nifaces; k++)
			if (n->ifaces[k].addr.set &&
			    strcmp(lab_addr_str(&n->ifaces[k].addr, false, a),
				   LAB_INTERNET_ADDR))
				buf_printf(&b, "%s\t%s\n", a, n->name);
	}
	lab_write_file(u->ctx, "etc/hosts", b.p);
	buf_free(&b);
	lab_write_file(u->ctx, "etc/resolv.conf", "nameserver "
		       LAB_INTERNET_ADDR "\noptions timeout:1 attempts:1\n");
}

/* What status shows beside each node, and the notes. */
static void write_summary(const struct up *u, const char *source)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < u->t->nnodes; i++) {
		const struct lab_node *n = &u->t->nodes[i];

		buf_printf(&b, "%s\t%s\n", n->name,
			   n->about ? n->about : lab_kinds[n->kind].role);
	}
	lab_write_file(u->ctx, "nodes", b.p);
	buf_reset(&b);
	for (size_t i = 0; i < u->t->nnotes; i++)
		buf_printf(&b, "%s\n", u->t->notes[i]);
	lab_write_file(u->ctx, "notes", b.p ? b.p : "");
	buf_free(&b);
	lab_write_file(u->ctx, "source", source);
}

/* LABDIR and its parts, and the config copied in: later commands use the
 * copy, whatever happens to the original. */
static int make_dir(const struct lab_ctx *ctx, const char *src)
{
	static const char *const subdirs[] = { "state", "run", "log", "srv",
					       "etc" };
	char *p;
	int r = 0;

	mkdir(ctx->run_dir, 0755);
	if (mkdir(ctx->dir, 0750) < 0) {
		fprintf(stderr, "moat lab: %s: %s\n", ctx->dir,
			strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subdirs) && !r; i++) {
		p = lab_path(ctx, subdirs[i]);
		r = mkdir(p, 0750);
		free(p);
	}
	if (r || lab_write_file(ctx, LAB_CONFIG, src) < 0) {
		fprintf(stderr, "moat lab: cannot fill %s\n", ctx->dir);
		return -1;
	}
	return 0;
}

static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *p;
	bool found = false;

	copy = xstrdup(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		p = xasprintf("%s/%s", dir, name);
		found = access(p, X_OK) == 0;
		free(p);
	}
	free(copy);
	return found;
}

/* Root, the tools, and no lab already there. */
static int preflight(const struct lab_ctx *ctx, struct up *u)
{
	static const char *const tools[][2] = {
		{ "ip", "iproute2" },
		{ "python3", "python3" },
		{ "dnsmasq", "dnsmasq-base" },
	};
	struct lab_names nodes;
	char ns[64];

	if (geteuid() != 0) {
		fprintf(stderr, "moat lab: needs root (it makes network "
			"namespaces)\n");
		return MOAT_EXIT_USAGE;
	}
	u->python = access("/usr/bin/python3", X_OK) ? "python3" :
		    "/usr/bin/python3";
	for (size_t i = 0; i < ARRAY_SIZE(tools); i++) {
		if (in_path(tools[i][0]))
			continue;
		fprintf(stderr, "moat lab: %s not found (apt-get install "
			"%s)\n", tools[i][0], tools[i][1]);
		return MOAT_EXIT_USAGE;
	}
	if (lab_nodes(ctx, &nodes) < 0)
		nodes.n = 0;
	if (nodes.n || access(ctx->dir, F_OK) == 0) {
		lab_ns_name(ctx->id, "", ns);
		fprintf(stderr, "moat lab: a lab is already up (%s %s*); "
			"'moat lab down' removes it\n", nodes.n ?
			"namespaces" : "no namespaces, but", nodes.n ? ns :
			ctx->dir);
		lab_names_free(&nodes);
		return MOAT_EXIT_USAGE;
	}
	lab_names_free(&nodes);
	return MOAT_EXIT_OK;
}

static int build(struct up *u, const char *src, const char *source)
{
	if (make_dir(u->ctx, src))
		return -1;
	u->etc = lab_path(u->ctx, "etc");
	write_etc(u);
	write_summary(u, source);
	if (make_nodes(u) || make_links(u))
		return -1;
	for (size_t i = 0; i < u->t->nnodes; i++)
		if (config_node(u, &u->t->nodes[i]))
			return -1;
	if (apply_gw(u) || start_services(u))
		return -1;
	return lab_interrupted() ? -1 : 0;
}

static void up_free(struct up *u)
{
	for (size_t i = 0; i < u->nwait; i++)
		free(u->wait[i].log);
	free(u->wait);
	free(u->etc);
	lab_topo_free(u->t);
}

int lab_up(const struct lab_ctx *ctx, const char *config)
{
	struct up u = { .ctx = ctx, .source = config };
	struct moat_config *cfg = NULL;
	const struct lab_node *client;
	char *src = NULL, source[PATH_MAX];
	int r;

	if ((r = preflight(ctx, &u)))
		return r;
	if ((r = cli_load_config(config, false, &cfg, NULL, &src)))
		goto out;
	if (!realpath(config, source))
		snprintf(source, sizeof(source), "%s", config);
	u.t = lab_topo_new(cfg);
	lab_catch_signals();
	if (build(&u, src, source)) {
		for (size_t i = 0; i < u.t->nnotes; i++)
			fprintf(stderr, "note: %s\n", u.t->notes[i]);
		fprintf(stderr, "moat lab: %s; removing what was built\n",
			lab_interrupted() ? "interrupted" : "up failed");
		lab_teardown(ctx, true);
		r = lab_interrupted() ? 128 + lab_interrupted() :
		    MOAT_EXIT_BAD;
		goto out;
	}
	lab_print_nodes(ctx, stdout);
	client = lab_topo_first(u.t, LAB_CLIENT);
	printf("Try: moat lab exec %s curl http://" LAB_INTERNET_ADDR
	       "/ (moat lab down removes it)\n",
	       client ? client->name : lab_kinds[LAB_WAN].name);
	r = MOAT_EXIT_OK;
out:
	free(src);
	up_free(&u);
	cfg_free(cfg);
	return r;
}
