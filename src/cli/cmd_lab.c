/* moat lab up|status|exec|down: a sandbox of network namespaces around a
 * gateway running moat (src/lab). This file only reads the arguments. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lab/lab.h"

static int lab_cmd(struct lab_ctx *ctx, int argc, char **argv)
{
	const char *sub = argv[1], *path;
	int r;

	if (!strcmp(sub, "up")) {
		r = cli_config_opt(&cli_cmd_lab, argc - 1, argv + 1, &path);
		return r ? r : lab_up(ctx, path);
	}
	if (!strcmp(sub, "exec")) {
		if (argc < 4)
			return cli_usage_error(&cli_cmd_lab, "exec needs a "
					       "node and a command");
		return lab_exec(ctx, argv[2], argv + 3);
	}
	if (argc > 2)
		return cli_usage_error(&cli_cmd_lab, "unexpected argument "
				       "'%s'", argv[2]);
	if (!strcmp(sub, "status"))
		return lab_status(ctx);
	if (!strcmp(sub, "down"))
		return lab_down(ctx);
	return cli_usage_error(&cli_cmd_lab, "unknown subcommand '%s'", sub);
}

static int lab_run(int argc, char **argv)
{
	struct lab_ctx ctx;
	int r;

	if (argc < 2)
		return cli_usage_error(&cli_cmd_lab, "up, status, exec or "
				       "down?");
	if (lab_ctx_init(&ctx) < 0)
		return MOAT_EXIT_USAGE;
	r = lab_cmd(&ctx, argc, argv);
	lab_ctx_free(&ctx);
	return r;
}

const struct cli_cmd cli_cmd_lab = {
	.name = "lab",
	.summary = "try a config in a sandbox of network namespaces",
	.help =
	"usage: moat lab up [-c FILE]\n"
	"       moat lab status\n"
	"       moat lab exec NODE COMMAND [ARG...]\n"
	"       moat lab down\n\n"
	"Builds a gateway and its surroundings out of network namespaces,\n"
	"with iproute2, and runs moat in it with FILE (default\n"
	MOAT_DEFAULT_CONFIG "). The host's own network is never touched:\n"
	"namespaces are named moat-lab-NODE and every link lives inside\n"
	"them.\n\n"
	"Nodes:\n"
	"  gw     moat apply -c FILE runs here; one veth per interface of\n"
	"         the config, named as in the config. moat configures them.\n"
	"  wan    the internet: the other end of every upstream interface\n"
	"         (one with gateway, dhcp or zone wan; else the first), at\n"
	"         the config's gateway address; a web server and a DNS\n"
	"         server (dnsmasq, every name is it) at "
	LAB_INTERNET_ADDR ";\n"
	"         routes to every LAN subnet through gw, so that only the\n"
	"         firewall keeps the internet out.\n"
	"  lanN   a client per other interface, in config order, at the\n"
	"         target of a port forward into its subnet, else the\n"
	"         interface's address + 1; default route through gw; a web\n"
	"         server on port 80 and on each port forwarded to it.\n"
	"VLANs are left out: they need the kernel's 8021q (without it,\n"
	"moat apply of a config with VLANs fails in gw too). So is IPv6.\n\n"
	"up      builds the lab and applies the config in gw (a copy is kept\n"
	"        in the lab directory; moat's state goes there too, never\n"
	"        to the config's state_dir). Refuses when a lab is up. If\n"
	"        anything fails, or on Ctrl-C, it removes what it built.\n"
	"status  each node with its addresses and what runs in it, then\n"
	"        moat status inside gw.\n"
	"exec    runs COMMAND inside NODE, with the lab's /etc/hosts and\n"
	"        resolv.conf (names resolve in the lab); the exit status is\n"
	"        COMMAND's. In gw, moat commands see the lab's state.\n"
	"down    stops every process inside the lab's namespaces and every\n"
	"        process the lab started, deletes the namespaces and the lab\n"
	"        directory. Works after a crash or an interrupted up, and\n"
	"        when no lab is up.\n\n"
	"Example:\n"
	"  moat lab up -c examples/home.hcl\n"
	"  moat lab exec lan1 curl http://" LAB_INTERNET_ADDR "/\n"
	"  moat lab exec wan curl --max-time 3 http://10.0.0.2/   # blocked\n"
	"  moat lab down\n\n"
	"The lab directory is $MOAT_RUN_DIR/lab (default /run/moat/lab):\n"
	"logs of the servers in log/, the PIDs the lab started in procs.\n"
	"MOAT_LAB_ID=ID names the namespaces moat-lab-ID-NODE instead, so\n"
	"that tests can run beside a lab; the other commands then see only\n"
	"that lab. Needs root, iproute2, python3 and dnsmasq.\n\n"
	"Exit status: 0 done, 1 up failed (nothing is left) or no lab is up\n"
	"(status), 2 usage error, not root, a tool missing or a lab already\n"
	"up. exec: COMMAND's status (127: COMMAND not found).\n",
	.run = lab_run,
};
