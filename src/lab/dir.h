/* The lab's namespaces and directory (dir.c). */
#ifndef MOAT_LAB_DIR_H
#define MOAT_LAB_DIR_H

#include <stddef.h>

#include "lab/lab.h"

struct lab_names {
	char **v;
	size_t n;
};

/* LABDIR/name, malloc'd. */
char *lab_path(const struct lab_ctx *ctx, const char *name);
/* The nodes whose namespace exists (gw, wan, then the others). */
int lab_nodes(const struct lab_ctx *ctx, struct lab_names *out);
void lab_names_free(struct lab_names *n);

/* The processes recorded in LABDIR/procs (none when it is missing). */
int lab_procs_read(const struct lab_ctx *ctx, struct lab_proc **v,
		   size_t *n);
int lab_procs_add(const struct lab_ctx *ctx, const struct lab_proc *p);

int lab_write_file(const struct lab_ctx *ctx, const char *name,
		   const char *text);
/* LABDIR/name's text, or NULL. */
char *lab_read_file(const struct lab_ctx *ctx, const char *name);
/* rm -r LABDIR. */
int lab_dir_remove(const struct lab_ctx *ctx);

#endif
