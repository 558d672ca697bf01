/* moat lab down: every process inside the lab's namespaces and every
 * process it recorded, then the namespaces (their links go with them),
 * then its directory. Needs nothing but /run/netns, so it also cleans up
 * after a crash or an interrupted `up`. */
#include "lab/down.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "lab/dir.h"
#include "lab/run.h"

static void add_proc(struct lab_procs *l, const struct lab_proc *p)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].pid == p->pid)
			return;
	lab_procs_push(l, p);
}

/* Everything to stop: what ip finds in the namespaces (alive: their
 * /proc/PID/stat was just read), and what the lab recorded that is still
 * the process it started (a namespace deleted by hand no longer lists its
 * processes). Never this process. */
static void collect(const struct lab_ctx *ctx, const struct lab_names *nodes,
		    struct lab_procs *out)
{
	struct lab_procs found = { 0 };
	size_t in_ns;
	char ns[64];

	for (size_t i = 0; i < nodes->n; i++) {
		lab_ns_name(ctx->id, nodes->v[i], ns);
		lab_ns_pids(ns, &found);
	}
	in_ns = found.n;
	lab_procs_read(ctx, &found);
	for (size_t i = 0; i < found.n; i++)
		if (found.v[i].pid != getpid() &&
		    (i < in_ns || lab_proc_alive(&found.v[i])))
			add_proc(out, &found.v[i]);
	lab_procs_free(&found);
}

static int del_namespaces(const struct lab_ctx *ctx,
			  const struct lab_names *nodes)
{
	int fails = 0;
	char ns[64];

	for (size_t i = 0; i < nodes->n; i++) {
		const char *args[] = { "netns", "del", ns, NULL };
		struct buf out = BUF_INIT;

		lab_ns_name(ctx->id, nodes->v[i], ns);
		if (lab_ip(&out, args)) {
			fprintf(stderr, "moat lab: ip netns del %s: %s", ns,
				out.p ? out.p : "failed\n");
			fails++;
		}
		buf_free(&out);
	}
	return fails;
}

int lab_teardown(const struct lab_ctx *ctx, bool quiet)
{
	struct lab_names nodes;
	struct lab_procs procs = { 0 };
	size_t left;
	int fails, r;
	char ns[64];

	if ((r = lab_nodes(ctx, &nodes)) < 0) {
		fprintf(stderr, "moat lab: %s: %s\n", LAB_NETNS_DIR,
			strerror(-r));
		return -1;
	}
	collect(ctx, &nodes, &procs);
	left = lab_procs_stop(&procs);
	if (left)
		fprintf(stderr, "moat lab: %zu processes did not stop\n", left);
	fails = del_namespaces(ctx, &nodes);
	if ((r = lab_dir_remove(ctx)) < 0) {
		fprintf(stderr, "moat lab: removing %s: %s\n", ctx->dir,
			strerror(-r));
		fails++;
	}
	if (!quiet && nodes.n) {
		lab_ns_name(ctx->id, "", ns);
		printf("moat lab: removed %zu namespaces (%s*) and stopped "
		       "%zu processes\n", nodes.n, ns, procs.n - left);
	} else if (!quiet) {
		printf("moat lab: no lab was up%s\n", procs.n ?
		       "; stopped what it had left running" : "");
	}
	lab_names_free(&nodes);
	lab_procs_free(&procs);
	return left || fails ? -1 : 0;
}

int lab_down(const struct lab_ctx *ctx)
{
	return lab_teardown(ctx, false) ? MOAT_EXIT_BAD : MOAT_EXIT_OK;
}
