/* Turns what nft or the kernel said about a compiled script into
 * diagnostics at the config lines the refused rules came from. Pure. */
#include <stdlib.h>
#include <string.h>

#include "fw/fw.h"

/* "NAME:LINE:COL[-COL]: Error: MESSAGE" -> line and message */
static bool parse_head(const char *s, size_t n, int *line, const char **msg)
{
	const char *p = memchr(s, ':', n), *e = s + n;
	char *end;
	long l;

	/* the name is a path without ':' (moat loads from /proc/self/fd) */
	if (!p)
		return false;
	l = strtol(p + 1, &end, 10);
	if (end == p + 1 || end >= e || *end != ':' || l < 1 || l > 1 << 30)
		return false;
	p = memmem(end, (size_t)(e - end), ": Error: ", 9);
	if (!p)
		return false;
	*line = (int)l;
	*msg = p + 9;
	return true;
}

int fw_explain(const struct fw_plan *plan, const char *err, int skip,
	       struct diag_list *dl)
{
	const char *all = err;
	int found = 0;

	while (err && *err) {
		const char *nl = strchr(err, '\n'), *msg;
		size_t n = nl ? (size_t)(nl - err) : strlen(err);
		const struct fw_origin *o;
		int line;

		if (parse_head(err, n, &line, &msg)) {
			int mlen = (int)(n - (size_t)(msg - err));

			o = fw_plan_origin(plan, line - skip);
			found++;
			if (o && o->pos.line)
				diag_error(dl, &o->pos, "the kernel refused %s: "
					   "%.*s", o->what ? o->what : "this",
					   mlen, msg);
			else
				diag_error(dl, NULL, "the kernel refused line "
					   "%d of the compiled ruleset (%s): "
					   "%.*s", line - skip, o && o->what ?
					   o->what : "moat's own rule", mlen,
					   msg);
		}
		err = nl ? nl + 1 : NULL;
	}
	if (!found && all && *all)
		diag_error(dl, NULL, "nftables: %s", all);
	return found;
}
