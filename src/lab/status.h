/* Showing a lab (status.c). */
#ifndef MOAT_LAB_STATUS_H
#define MOAT_LAB_STATUS_H

#include <stdio.h>

#include "lab/lab.h"

/* Each node with its addresses, role and processes, then the notes;
 * -1 when no lab is up. */
int lab_print_nodes(const struct lab_ctx *ctx, FILE *out);

#endif
