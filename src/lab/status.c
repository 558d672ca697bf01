/* moat lab status: the lab as it is (the namespaces in /run/netns, what
 * ip and /proc say) rather than what the lab directory claims, so that it
 * tells the truth after a crash; then moat status inside gw. */
#include "lab/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file.h"
#include "base/util.h"
#include "cli/cli.h"
#include "lab/dir.h"
#include "lab/run.h"

#define WIDTH 78
#define INDENT "      "

/* The value of "NAME\tTEXT" lines for name, malloc'd, or NULL. */
static char *lookup(const char *table, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = table; l && *l; l = strchr(l, '\n') + 1) {
		if (!strncmp(l, name, n) && l[n] == '\t')
			return xstrndup(l + n + 1, strcspn(l + n + 1, "\n"));
		if (!strchr(l, '\n'))
			break;
	}
	return NULL;
}

/* Appends items separated by ", " to out, starting a new indented line
 * before one would pass WIDTH. */
static void wrap(FILE *out, const char *head, const char *items)
{
	const char *p = items;
	size_t col = strlen(head);

	fputs(head, out);
	while (*p) {
		size_t n = strcspn(p, ",");
		bool more = p[n] == ',';

		if (p != items && col > strlen(INDENT) && col + n + 1 > WIDTH) {
			fputs("\n" INDENT, out);
			col = strlen(INDENT);
		} else if (p != items) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s%s", (int)n, p, more ? "," : "");
		col += n + more;
		p += n + more;
		p += strspn(p, " ");
	}
	fputc('\n', out);
}

static void proc_name(int pid, struct buf *b)
{
	char path[64], *comm;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (file_read(path, 256, &comm, &len) < 0)
		return;
	comm[strcspn(comm, "\n")] = '\0';
	buf_printf(b, " %s[%d]", comm, pid);
	free(comm);
}

/* What runs in the node: the lab's servers by name (those that died
 * say so), anything else by command and PID. */
static void node_procs(const struct lab_procs *rec, const char *node,
		       const char *ns, struct buf *b)
{
	struct lab_procs in = { 0 };

	lab_ns_pids(ns, &in);
	for (size_t i = 0; i < rec->n; i++)
		if (!strcmp(rec->v[i].node, node))
			buf_printf(b, " %s%s", rec->v[i].what,
				   lab_proc_alive(&rec->v[i]) ? "" :
				   " (exited)");
	for (size_t i = 0; i < in.n; i++) {
		bool known = false;

		for (size_t k = 0; k < rec->n && !known; k++)
			known = rec->v[k].pid == in.v[i].pid &&
				rec->v[k].starttime == in.v[i].starttime;
		if (!known)
			proc_name(in.v[i].pid, b);
	}
	lab_procs_free(&in);
}

static void print_node(const struct lab_ctx *ctx, const char *node,
		       const char *table, const struct lab_procs *rec,
		       FILE *out)
{
	struct buf addrs = BUF_INIT, procs = BUF_INIT;
	char ns[64], head[32], *brief, *about;

	lab_ns_name(ctx->id, node, ns);
	lab_ip(&addrs, (const char *[]){ "-n", ns, "-br", "addr", NULL });
	brief = lab_brief_addrs(addrs.p ? addrs.p : "");
	snprintf(head, sizeof(head), "%-5s ", node);
	wrap(out, head, *brief ? brief : "(no interfaces)");
	about = lookup(table, node);
	node_procs(rec, node, ns, &procs);
	if (about || procs.len)
		fprintf(out, INDENT "%s%s%s\n", about ? about : "",
			about && procs.len ? "; running:" : procs.len ?
			"running:" : "", procs.p ? procs.p : "");
	free(about);
	free(brief);
	buf_free(&addrs);
	buf_free(&procs);
}

int lab_print_nodes(const struct lab_ctx *ctx, FILE *out)
{
	struct lab_names nodes;
	struct lab_procs rec = { 0 };
	char *table, *notes, *source;

	if (lab_nodes(ctx, &nodes) < 0 || !nodes.n) {
		lab_names_free(&nodes);
		return -1;
	}
	table = lab_read_file(ctx, "nodes");
	notes = lab_read_file(ctx, "notes");
	source = lab_read_file(ctx, "source");
	lab_procs_read(ctx, &rec);
	fprintf(out, "moat lab: %zu nodes from %s\n", nodes.n,
		source ? source : "an unknown config (no lab directory)");
	for (size_t i = 0; i < nodes.n; i++)
		print_node(ctx, nodes.v[i], table, &rec, out);
	for (const char *p = notes; p && *p; p += strcspn(p, "\n") + 1)
		fprintf(out, "note: %.*s\n", (int)strcspn(p, "\n"), p);
	lab_procs_free(&rec);
	free(table);
	free(notes);
	free(source);
	lab_names_free(&nodes);
	return 0;
}

int lab_status(const struct lab_ctx *ctx)
{
	char *cfg;
	int r;

	if (lab_print_nodes(ctx, stdout) < 0) {
		printf("moat lab: no lab is up ('moat lab up -c FILE' builds "
		       "one)\n");
		return MOAT_EXIT_BAD;
	}
	cfg = lab_path(ctx, LAB_CONFIG);
	if (access(cfg, R_OK) != 0) {
		printf("\ngw: no config in %s: 'moat lab down' cleans up\n",
		       ctx->dir);
		free(cfg);
		return MOAT_EXIT_BAD;
	}
	/* moat status inside gw, as the lab's moat sees it */
	printf("\ngw: moat status -c %s\n", cfg);
	free(cfg);
	r = lab_gw_moat(ctx, "status", NULL);
	if (r < 0)
		fprintf(stderr, "moat lab: moat status in gw: %s\n",
			strerror(-r));
	return r ? MOAT_EXIT_BAD : MOAT_EXIT_OK;
}
