/* Where a lab lives: its namespaces (/run/netns/moat-lab-*) and its
 * directory ($MOAT_RUN_DIR/lab: the config's copy, moat's state, logs,
 * the PIDs of what it started). Either may be there without the other
 * after a crash; every command copes. */
#include "lab/dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/util.h"
#include "lab/run.h"

int lab_ctx_init(struct lab_ctx *ctx)
{
	const char *id = getenv("MOAT_LAB_ID");
	const char *run = getenv("MOAT_RUN_DIR");

	memset(ctx, 0, sizeof(*ctx));
	if (id && !lab_id_valid(id)) {
		fprintf(stderr, "moat lab: MOAT_LAB_ID must be at most %d of "
			"a-z and 0-9, not \"%s\"\n", LAB_ID_MAX, id);
		return -1;
	}
	snprintf(ctx->id, sizeof(ctx->id), "%s", id ? id : "");
	ctx->run_dir = xstrdup(run && *run ? run : "/run/moat");
	ctx->dir = xasprintf("%s/lab", ctx->run_dir);
	return 0;
}

void lab_ctx_free(struct lab_ctx *ctx)
{
	free(ctx->run_dir);
	free(ctx->dir);
}

char *lab_path(const struct lab_ctx *ctx, const char *name)
{
	return xasprintf("%s/%s", ctx->dir, name);
}

static int node_rank(const char *n)
{
	return !strcmp(n, "gw") ? 0 : !strcmp(n, "wan") ? 1 : 2;
}

/* gw, wan, then the others by name, numbers as numbers (lan2, lan10). */
static int node_order(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t lx = strcspn(x, "0123456789"), ly = strcspn(y, "0123456789");

	if (node_rank(x) != node_rank(y))
		return node_rank(x) - node_rank(y);
	if (lx != ly || strncmp(x, y, lx) || strlen(x) == strlen(y))
		return strcmp(x, y);
	return strlen(x) < strlen(y) ? -1 : 1;
}

int lab_nodes(const struct lab_ctx *ctx, struct lab_names *out)
{
	char node[LAB_NAMSIZ];
	struct dirent *e;
	DIR *d;

	memset(out, 0, sizeof(*out));
	d = opendir(LAB_NETNS_DIR);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!lab_ns_node(ctx->id, e->d_name, node))
			continue;
		xgrow((void **)&out->v, &out->cap, out->n + 1,
		      sizeof(*out->v));
		out->v[out->n++] = xstrdup(node);
	}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), node_order);
	return 0;
}

void lab_names_free(struct lab_names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	memset(n, 0, sizeof(*n));
}

int lab_procs_read(const struct lab_ctx *ctx, struct lab_procs *l)
{
	char *path = lab_path(ctx, "procs"), *text, *line, *save = NULL;
	size_t len;
	int r;

	r = file_read(path, 1 << 20, &text, &len);
	free(path);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct lab_proc p;

		if (lab_proc_parse(line, &p))
			lab_procs_push(l, &p);
	}
	free(text);
	return 0;
}

/* Writes text to LABDIR/name, opened with how (O_APPEND or O_TRUNC). */
static int write_text(const struct lab_ctx *ctx, const char *name,
		      const char *text, int how)
{
	char *path = lab_path(ctx, name);
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | how, 0640);
	free(path);
	if (fd < 0)
		return -errno;
	r = file_write_all(fd, text, strlen(text));
	if (close(fd) < 0 && !r)
		r = -errno;
	return r;
}

int lab_procs_add(const struct lab_ctx *ctx, const struct lab_proc *p)
{
	char line[128];

	lab_proc_format(p, line);
	return write_text(ctx, "procs", line, O_APPEND);
}

int lab_write_file(const struct lab_ctx *ctx, const char *name,
		   const char *text)
{
	return write_text(ctx, name, text, O_TRUNC);
}

char *lab_read_file(const struct lab_ctx *ctx, const char *name)
{
	char *path = lab_path(ctx, name), *text;
	size_t len;

	if (file_read(path, 1 << 20, &text, &len) < 0)
		text = NULL;
	free(path);
	return text;
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int lab_dir_remove(const struct lab_ctx *ctx)
{
	if (access(ctx->dir, F_OK) < 0)
		return 0;
	return nftw(ctx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -errno : 0;
}
