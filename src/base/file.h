/* Reading whole files with a size limit (the only I/O of the config
 * path), and writing state files whole. */
#ifndef MOAT_BASE_FILE_H
#define MOAT_BASE_FILE_H

#include <stddef.h>

/* Config files larger than this are refused before parsing: moat keeps its
 * memory bounded whatever it is given. */
#define MOAT_MAX_CONFIG_BYTES (16u * 1024 * 1024)

/* Reads path ("-" is stdin) into a fresh NUL-terminated buffer. Returns 0,
 * or -errno (-EFBIG when larger than max) with *data NULL. */
int file_read(const char *path, size_t max, char **data, size_t *len);

/* Writes all n bytes to fd, retrying short writes and EINTR. 0 or -errno. */
int file_write_all(int fd, const void *p, size_t n);
/* mkdir -p: every missing directory of dir, with mode. 0 or -errno. */
int file_mkdir_p(const char *dir, unsigned mode);
/* Replaces path with data: written to a temporary file in the same
 * directory, synced and renamed, then the directory synced, so that a
 * crash leaves the old file or the new one, never half of either. The
 * directory is made (mkdir -p, dir_mode) when missing. 0 or -errno. */
int file_write_atomic(const char *path, const void *data, size_t n,
		      unsigned dir_mode);

#endif
