/* moat compile [-c FILE]: print the nftables script a config compiles to;
 * moat diff [-c FILE]: what applying it would change. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/load.h"
#include "cli/net_cli.h"
#include "config/config.h"
#include "fw/diff.h"
#include "fw/fw.h"
#include "net/apply.h"
#include "net/net.h"

int cli_compile(const char *path, struct moat_config **cfg,
		struct fw_plan **plan)
{
	struct diag_list dl = { 0 };
	int r = cli_load_config(path, false, cfg, &dl, NULL);

	*plan = NULL;
	if (*cfg) {
		/* the network's errors too, sorted in with the firewall's */
		struct net_plan *net = net_compile(*cfg, &dl);

		*plan = fw_compile(*cfg, &dl);
		if (!*plan || !net) {
			fw_plan_free(*plan);
			*plan = NULL;
			r = MOAT_EXIT_BAD;
		}
		net_plan_free(net);
	}
	diag_sort(&dl);
	diag_print(&dl, stderr);
	diag_list_free(&dl);
	return r;
}

/* -c FILE and nothing else; returns 0 or an exit status. */
int cli_config_opt(const struct cli_cmd *cmd, int argc, char **argv,
		   const char **path)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	*path = MOAT_DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c != 'c')
			return cli_usage_error(cmd, "unknown option '%s'",
					       argv[optind - 1]);
		*path = optarg;
	}
	if (optind != argc)
		return cli_usage_error(cmd, "unexpected argument '%s'",
				       argv[optind]);
	return 0;
}

static int compile_run(int argc, char **argv)
{
	struct moat_config *cfg;
	struct fw_plan *plan;
	const char *path;
	int r = cli_config_opt(&cli_cmd_compile, argc, argv, &path);

	if (r)
		return r;
	r = cli_compile(path, &cfg, &plan);
	if (plan)
		fwrite(plan->script, 1, plan->len, stdout);
	fw_plan_free(plan);
	cfg_free(cfg);
	return r;
}

const struct cli_cmd cli_cmd_compile = {
	.name = "compile",
	.summary = "print the nftables ruleset a config compiles to",
	.help =
	"usage: moat compile [-c FILE]\n\n"
	"Validates FILE (default " MOAT_DEFAULT_CONFIG ") and prints the\n"
	"nftables script moat would load: one table, inet moat, that\n"
	"`nft -f` accepts. Each rule's comment names the config block it\n"
	"comes from. Nothing is sent to the kernel.\n\n"
	"  -c, --config FILE  the config ('-' reads stdin)\n\n"
	"Exit status: 0 compiled, 1 the config has errors, 2 usage error or\n"
	"FILE cannot be read.\n",
	.run = compile_run,
};

/* --- diff ------------------------------------------------------------------- */

/* The network's changes, as apply would make them: 0 none, 1 some, -1
 * the kernel cannot be read or the config cannot be met. */
static int net_part(struct moat_config *cfg)
{
	struct net_apply_opts no = { .dry_run = true };
	struct net_plan *net = cli_net_compile(cfg);
	struct diag_list dl = { 0 };
	struct net_change change = { 0 };
	enum net_outcome out;
	int r = -1;

	if (!net)
		return -1;
	no.state_dir = cli_state_dir(cfg);
	if (net_apply(net, &no, &out, &change, &dl) == 0) {
		printf("network:%s\n", change.n ? "" : " no changes");
		cli_net_print_ops(&change, stdout);
		r = change.n ? 1 : 0;
	}
	diag_sort(&dl);
	diag_print(&dl, stderr);
	diag_list_free(&dl);
	net_change_free(&change);
	net_plan_free(net);
	return r;
}

static int diff_run(int argc, char **argv)
{
	struct moat_config *cfg;
	struct fw_plan *plan;
	struct buf out = BUF_INIT;
	const char *path;
	char *err = NULL;
	int r = cli_config_opt(&cli_cmd_diff, argc, argv, &path), n;

	if (r)
		return r;
	r = cli_compile(path, &cfg, &plan);
	if (plan) {
		int d;

		n = net_part(cfg);
		d = fw_diff(plan, &out, &err);
		if (d < 0 || n < 0) {
			if (d < 0)
				fprintf(stderr, "moat diff: %s\n", err);
			r = n < 0 && d >= 0 ? MOAT_EXIT_BAD : MOAT_EXIT_USAGE;
		} else {
			printf("firewall:\n");
			fputs(out.p ? out.p : "", stdout);
			r = d || n ? MOAT_EXIT_BAD : MOAT_EXIT_OK;
		}
	}
	free(err);
	buf_free(&out);
	fw_plan_free(plan);
	cfg_free(cfg);
	return r;
}

const struct cli_cmd cli_cmd_diff = {
	.name = "diff",
	.summary = "show what moat apply would change in the kernel",
	.help =
	"usage: moat diff [-c FILE]\n\n"
	"First the network: the links, addresses, routes and rules moat\n"
	"would add (+), change (~) or remove (-), each with its config line\n"
	"(only what moat owns is ever removed). Then the firewall: compares\n"
	"table inet moat in the kernel with what FILE (default\n"
	MOAT_DEFAULT_CONFIG ") compiles to, both as nft lists them, and\n"
	"prints the lines that would go (-) and come (+), under the chain,\n"
	"set or map they are in. Counter values and element timeouts are not\n"
	"differences. Nothing is changed: the config is loaded into a scratch\n"
	"network namespace to be listed.\n\n"
	"  -c, --config FILE  the config ('-' reads stdin)\n\n"
	"Exit status: 0 no changes, 1 changes (or the config has errors),\n"
	"2 usage error or the kernel cannot be read.\n",
	.run = diff_run,
};
