/* moat lab exec NODE CMD...: CMD in the node's namespace, as `ip netns
 * exec` runs it, with the lab's hosts and resolv.conf; the exit status is
 * CMD's, since this process becomes CMD. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lab/dir.h"
#include "lab/lab.h"
#include "lab/run.h"

static bool has_node(const struct lab_names *nodes, const char *node)
{
	for (size_t i = 0; i < nodes->n; i++)
		if (!strcmp(nodes->v[i], node))
			return true;
	return false;
}

static void no_such_node(const struct lab_names *nodes, const char *node)
{
	if (!nodes->n) {
		fprintf(stderr, "moat lab exec: no lab is up ('moat lab up -c "
			"FILE' builds one)\n");
		return;
	}
	fprintf(stderr, "moat lab exec: no node \"%s\"; the nodes are:", node);
	for (size_t i = 0; i < nodes->n; i++)
		fprintf(stderr, "%s %s", i ? "," : "", nodes->v[i]);
	fputc('\n', stderr);
}

/* In gw, moat commands find the lab's state as the lab's moat left it.
 * The strings become the environment's (putenv). */
static void gw_env(const struct lab_ctx *ctx)
{
	char *env[3];

	lab_gw_env(ctx, env);
	for (size_t i = 0; env[i]; i++)
		putenv(env[i]);
}

int lab_exec(const struct lab_ctx *ctx, const char *node, char **argv)
{
	struct lab_names nodes;
	char ns[64], *etc;
	int r;

	if (lab_nodes(ctx, &nodes) < 0 || !has_node(&nodes, node)) {
		no_such_node(&nodes, node);
		lab_names_free(&nodes);
		return MOAT_EXIT_USAGE;
	}
	lab_names_free(&nodes);
	lab_ns_name(ctx->id, node, ns);
	if ((r = lab_netns_enter(ns)) < 0) {
		fprintf(stderr, "moat lab exec: entering %s: %s\n", ns,
			strerror(-r));
		return MOAT_EXIT_USAGE;
	}
	etc = lab_path(ctx, "etc");
	if (access(etc, F_OK) == 0 && (r = lab_etc_enter(etc)) < 0)
		fprintf(stderr, "moat lab exec: the lab's /etc/hosts and "
			"resolv.conf: %s (using the host's)\n", strerror(-r));
	free(etc);
	if (!strcmp(node, "gw"))
		gw_env(ctx);
	execvp(argv[0], argv);
	r = errno;
	fprintf(stderr, "moat lab exec: %s: %s\n", argv[0], strerror(r));
	return r == ENOENT ? 127 : 126;
}
