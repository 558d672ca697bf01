/* moat check [-c FILE] [--strict] [--json]: validate a config. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/load.h"
#include "config/config.h"
#include "fw/fw.h"
#include "net/net.h"

static int check_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "strict", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = MOAT_DEFAULT_CONFIG;
	bool strict = false, json = false;
	struct diag_list dl = { 0 };
	struct moat_config *cfg;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 's': strict = true; break;
		case 'j': json = true; break;
		default:
			return cli_usage_error(&cli_cmd_check,
					       "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(&cli_cmd_check, "unexpected argument "
				       "'%s' (the file goes after -c)",
				       argv[optind]);
	r = cli_load_config(path, strict, &cfg, &dl, NULL);
	if (r == MOAT_EXIT_USAGE) {
		diag_list_free(&dl);
		return r;
	}
	/* what only the compilers see (a route with host bits, two routes
	 * with one key, a rule the firewall cannot express) is wrong too */
	if (cfg) {
		struct fw_plan *fw = fw_compile(cfg, &dl);
		struct net_plan *net = net_compile(cfg, &dl);

		if (!fw || !net) {
			cfg_free(cfg);
			cfg = NULL;
			r = MOAT_EXIT_BAD;
		}
		fw_plan_free(fw);
		net_plan_free(net);
		diag_sort(&dl);
	}
	if (json) {
		diag_print_json(&dl, stdout);
	} else {
		diag_print(&dl, stderr);
		if (cfg)
			fprintf(stderr, "%s: ok%s\n", path, dl.nwarnings ?
				" (with warnings)" : "");
		else
			fprintf(stderr, "%s: %zu error%s, %zu warning%s\n", path,
				dl.nerrors, dl.nerrors == 1 ? "" : "s",
				dl.nwarnings, dl.nwarnings == 1 ? "" : "s");
	}
	cfg_free(cfg);
	diag_list_free(&dl);
	return r;
}

const struct cli_cmd cli_cmd_check = {
	.name = "check",
	.summary = "validate a config file and report every problem",
	.help =
	"usage: moat check [-c FILE] [--strict] [--json]\n\n"
	"Reads FILE (default " MOAT_DEFAULT_CONFIG "), validates it against\n"
	"moat's schema (Flywall's HCL schema) and reports every error and\n"
	"warning in one run as FILE:LINE:COL: SEVERITY: MESSAGE.\n\n"
	"Errors: syntax, unknown blocks or attributes (with a did-you-mean),\n"
	"wrong types, bad addresses, ports and keys, references to zones,\n"
	"interfaces, ipsets or tables that do not exist, duplicate names,\n"
	"contradictions (dnat without to_ip, ports on icmp, one interface in\n"
	"two zones), unset ${NAME} environment variables.\n"
	"Warnings: Flywall settings moat does not implement yet.\n\n"
	"  -c, --config FILE  the file to check ('-' reads stdin)\n"
	"  --strict           treat warnings as errors\n"
	"  --json             print the diagnostics on stdout as a JSON array\n"
	"                     of {severity, file, line, column, message}\n\n"
	"Exit status: 0 valid (warnings allowed), 1 errors found, 2 usage\n"
	"error or FILE cannot be read.\n",
	.run = check_run,
};
