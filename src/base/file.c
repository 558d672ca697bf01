/* Reading a file whole, refusing directories, devices that never end and
 * anything over the limit; writing one whole. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

int file_read(const char *path, size_t max, char **data, size_t *len)
{
	int fd, ret = 0;
	size_t cap = 0, n = 0;
	char *p = NULL;
	struct stat st;

	*data = NULL;
	*len = 0;
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
		goto out;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap)
			xgrow((void **)&p, &cap, n + 65536 + 1, 1);
		r = read(fd, p + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			ret = -EFBIG;
			goto out;
		}
	}
	if (!p)
		p = xmalloc(1);
	p[n] = '\0';
	*data = p;
	*len = n;
	p = NULL;
out:
	free(p);
	close(fd);
	return ret;
}

int file_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int file_mkdir_p(const char *dir, unsigned mode)
{
	char *p = xstrdup(dir);
	int r = 0;

	for (char *s = p + 1; r == 0; s++) {
		char c = *s;

		if (c && c != '/')
			continue;
		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
			r = -errno;
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return r;
}

int file_write_atomic(const char *path, const void *data, size_t n,
		      unsigned dir_mode)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path)) :
		    xstrdup(".");
	char *tmp = xasprintf("%s.XXXXXX", path);
	int fd = -1, r = *dir ? file_mkdir_p(dir, dir_mode) : 0;

	if (r == 0 && (fd = mkstemp(tmp)) < 0)
		r = -errno;
	if (r == 0)
		r = file_write_all(fd, data, n);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0 && fd >= 0)
		unlink(tmp);
	if (r == 0 && (fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY |
				 O_CLOEXEC)) >= 0) {
		fsync(fd);	/* the rename itself */
		close(fd);
	}
	free(tmp);
	free(dir);
	return r;
}
