/* Reading whole files with a size limit: the only I/O of the config path. */
#ifndef MOAT_BASE_FILE_H
#define MOAT_BASE_FILE_H

#include <stddef.h>

/* Config files larger than this are refused before parsing: moat keeps its
 * memory bounded whatever it is given. */
#define MOAT_MAX_CONFIG_BYTES (16u * 1024 * 1024)

/* Reads path ("-" is stdin) into a fresh NUL-terminated buffer. Returns 0,
 * or -errno (-EFBIG when larger than max) with *data NULL. */
int file_read(const char *path, size_t max, char **data, size_t *len);

#endif
