/* Shared by the commands that read a config file. */
#ifndef MOAT_CLI_LOAD_H
#define MOAT_CLI_LOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"

struct moat_config;

/* Reads path; on failure prints why and returns MOAT_EXIT_USAGE. */
int cli_read_config(const char *path, char **src, size_t *len);
/* Reads, parses and validates path. Prints the diagnostics (unless dl is
 * given, which then receives them). Returns MOAT_EXIT_OK with *cfg set, or
 * MOAT_EXIT_BAD when there are errors, MOAT_EXIT_USAGE when the file cannot
 * be read. With src, *src is the text read (malloc'd, NUL-terminated) on
 * MOAT_EXIT_OK, else NULL. */
int cli_load_config(const char *path, bool strict, struct moat_config **cfg,
		    struct diag_list *dl, char **src);

#endif
