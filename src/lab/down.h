/* Tearing a lab down (down.c), also for a failed or interrupted up. */
#ifndef MOAT_LAB_DOWN_H
#define MOAT_LAB_DOWN_H

#include <stdbool.h>

#include "lab/lab.h"

/* Stops the lab's processes, deletes its namespaces and directory;
 * quiet says nothing unless something fails. -1 when something is
 * left. */
int lab_teardown(const struct lab_ctx *ctx, bool quiet);

#endif
