/* moat help [COMMAND] */
#include <stdio.h>

#include "cli/cli.h"

static int help_run(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc > 2)
		return cli_usage_error(&cli_cmd_help, "too many arguments");
	if (argc == 2) {
		cmd = cli_find(argv[1]);
		if (!cmd) {
			fprintf(stderr, "moat help: unknown command '%s'\n",
				argv[1]);
			return MOAT_EXIT_USAGE;
		}
		fputs(cmd->help, stdout);
		return MOAT_EXIT_OK;
	}
	printf("moat %s: a Linux gateway (firewall, router, VPN, DHCP, DNS) "
	       "from one HCL file\n\n"
	       "usage: moat COMMAND [ARGS...]\n\ncommands:\n", MOAT_VERSION);
	for (size_t i = 0; cli_cmds[i]; i++)
		printf("  %-10s %s\n", cli_cmds[i]->name, cli_cmds[i]->summary);
	printf("\n'moat help COMMAND' describes one command; "
	       "'moat --version' prints the version.\n"
	       "Exit codes: 0 ok, 1 the thing checked is wrong, "
	       "2 usage or environment error.\n");
	return MOAT_EXIT_OK;
}

const struct cli_cmd cli_cmd_help = {
	.name = "help",
	.summary = "show help for moat or one command",
	.help = "usage: moat help [COMMAND]\n\n"
		"Without COMMAND, lists the commands; with it, describes "
		"COMMAND.\n",
	.run = help_run,
};
