/* The lab's namespaces and directory (dir.c). */
#ifndef MOAT_LAB_DIR_H
#define MOAT_LAB_DIR_H

#include <stddef.h>

#include "lab/lab.h"

struct lab_names {
	char **v;
	size_t n, cap;
};

/* The config's copy in LABDIR, which gw's moat reads. */
#define LAB_CONFIG "moat.hcl"

/* LABDIR/name, malloc'd. */
char *lab_path(const struct lab_ctx *ctx, const char *name);
/* The nodes whose namespace exists (gw, wan, then the others). */
int lab_nodes(const struct lab_ctx *ctx, struct lab_names *out);
void lab_names_free(struct lab_names *n);

/* The processes recorded in LABDIR/procs (none when it is missing),
 * appended to l. */
int lab_procs_read(const struct lab_ctx *ctx, struct lab_procs *l);
/* Records p in LABDIR/procs. */
int lab_procs_add(const struct lab_ctx *ctx, const struct lab_proc *p);

/* Replaces LABDIR/name with text. 0 or -errno. */
int lab_write_file(const struct lab_ctx *ctx, const char *name,
		   const char *text);
/* LABDIR/name's text, or NULL. */
char *lab_read_file(const struct lab_ctx *ctx, const char *name);
/* rm -r LABDIR. */
int lab_dir_remove(const struct lab_ctx *ctx);

#endif
