/* Reading and loading config files for the CLI. */
#include "cli/load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "cli/cli.h"
#include "config/config.h"

int cli_read_config(const char *path, char **src, size_t *len)
{
	int r = file_read(path, MOAT_MAX_CONFIG_BYTES, src, len);

	if (r == -EFBIG) {
		fprintf(stderr, "moat: %s: file too large (moat reads config "
			"files of up to %u MiB)\n", path,
			MOAT_MAX_CONFIG_BYTES >> 20);
		return MOAT_EXIT_USAGE;
	}
	if (r < 0) {
		fprintf(stderr, "moat: %s: %s\n", path, strerror(-r));
		return MOAT_EXIT_USAGE;
	}
	return MOAT_EXIT_OK;
}

int cli_load_config(const char *path, bool strict, struct moat_config **cfg,
		    struct diag_list *out, char **src_out)
{
	struct diag_list own = { 0 };
	struct diag_list *dl = out ? out : &own;
	char *src;
	size_t len;
	int r;

	*cfg = NULL;
	if (src_out)
		*src_out = NULL;
	r = cli_read_config(path, &src, &len);
	if (r)
		return r;
	*cfg = cfg_load(path, src, len, NULL, strict, dl);
	if (src_out && *cfg)
		*src_out = src;
	else
		free(src);
	diag_sort(dl);
	if (!out) {
		diag_print(dl, stderr);
		diag_list_free(&own);
	}
	return *cfg ? MOAT_EXIT_OK : MOAT_EXIT_BAD;
}
