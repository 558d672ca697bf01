/* Reading a file whole, refusing directories, devices that never end and
 * anything over the limit. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
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
