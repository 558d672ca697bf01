/* moat: one binary for the whole gateway. main() only dispatches to the
 * command table; each command lives in src/cli/. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

const struct cli_cmd *const cli_cmds[] = {
	&cli_cmd_check,
	&cli_cmd_config,
	&cli_cmd_set,
	&cli_cmd_compile,
	&cli_cmd_apply,
	&cli_cmd_diff,
	&cli_cmd_status,
	&cli_cmd_lab,
	&cli_cmd_wg,
	&cli_cmd_ctl,
	&cli_cmd_reload,
	&cli_cmd_confirm,
	&cli_cmd_rollback,
	&cli_cmd_revisions,
	&cli_cmd_audit,
	&cli_cmd_api,
	&cli_cmd_help,
	NULL,
};

const struct cli_cmd *cli_find(const char *name)
{
	for (size_t i = 0; cli_cmds[i]; i++)
		if (!strcmp(cli_cmds[i]->name, name))
			return cli_cmds[i];
	return NULL;
}

int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "moat %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'moat help %s'.\n", cmd->name);
	return MOAT_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		cli_cmd_help.run(1, (char *[]){ "help", NULL });
		return MOAT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("moat %s\n", MOAT_VERSION);
		return MOAT_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cli_cmd_help.run(argc - 1, argv + 1);
	cmd = cli_find(argv[1]);
	if (!cmd) {
		fprintf(stderr, "moat: unknown command '%s'\n"
			"Try 'moat help' for the list of commands.\n", argv[1]);
		return MOAT_EXIT_USAGE;
	}
	return cmd->run(argc - 1, argv + 1);
}
