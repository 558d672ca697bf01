/* moat config dump|print: look at a config file the way moat reads it. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "cli/cli.h"
#include "cli/load.h"
#include "config/config.h"
#include "hcl/hcl.h"

static int config_dump(int argc, char **argv)
{
	struct diag_list dl = { 0 };
	struct hcl_file *f;
	char *src, *json;
	size_t len;
	int r;

	if (argc != 2)
		return cli_usage_error(&cli_cmd_config,
				       "dump takes exactly one FILE");
	r = cli_read_config(argv[1], &src, &len);
	if (r)
		return r;
	f = hcl_parse(argv[1], src, len, NULL, &dl);
	free(src);
	if (!f) {
		diag_print(&dl, stderr);
		diag_list_free(&dl);
		return MOAT_EXIT_BAD;
	}
	json = hcl_dump_json(f);
	fputs(json, stdout);
	free(json);
	hcl_file_free(f);
	diag_list_free(&dl);
	return MOAT_EXIT_OK;
}

static int config_print(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = MOAT_DEFAULT_CONFIG;
	struct moat_config *cfg;
	char *text;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else
			return cli_usage_error(&cli_cmd_config,
					       "print: unknown option '%s'",
					       argv[optind - 1]);
	}
	if (optind != argc)
		return cli_usage_error(&cli_cmd_config,
				       "print takes no arguments besides -c FILE");
	r = cli_load_config(path, false, &cfg, NULL, NULL);
	if (r)
		return r;
	text = cfg_print(cfg);
	fputs(text, stdout);
	free(text);
	cfg_free(cfg);
	return MOAT_EXIT_OK;
}

static int config_run(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(&cli_cmd_config, "which one: dump or print?");
	if (!strcmp(argv[1], "dump"))
		return config_dump(argc - 1, argv + 1);
	if (!strcmp(argv[1], "print"))
		return config_print(argc - 1, argv + 1);
	return cli_usage_error(&cli_cmd_config, "unknown subcommand '%s'",
			       argv[1]);
}

const struct cli_cmd cli_cmd_config = {
	.name = "config",
	.summary = "show how moat reads a config file (dump, print)",
	.help =
	"usage: moat config dump FILE\n"
	"       moat config print [-c FILE]\n\n"
	"dump   prints the syntax of FILE as JSON: {\"attributes\": {...},\n"
	"       \"blocks\": [{\"type\", \"labels\", \"body\"}]}, values evaluated\n"
	"       (${NAME} reads the environment; an unset one prints as\n"
	"       {\"error\": ...}). It checks syntax only, not the schema.\n"
	"print  validates the config (default " MOAT_DEFAULT_CONFIG ") and\n"
	"       prints it back as canonical HCL: every setting moat uses, in a\n"
	"       fixed order; Flywall settings moat does not implement are left\n"
	"       out (moat check lists them). Parsing the output gives the same\n"
	"       config. Values read from ${NAME} are printed as read.\n\n"
	"Exit status: 0 ok, 1 the file has errors, 2 usage error or the file\n"
	"cannot be read.\n",
	.run = config_run,
};
