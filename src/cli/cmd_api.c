/* moat api: the sandboxed HTTP process, started by moat ctl (src/api).
 * This file only reads the arguments. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"

/* Whether fd is one sb already has. */
static bool fd_taken(const struct api_sandbox *sb, long fd)
{
	if (sb->rpc_fd == fd)
		return true;
	for (size_t i = 0; i < sb->n_listen; i++)
		if (sb->listen_fds[i] == fd)
			return true;
	for (size_t i = 0; i < sb->n_tls; i++)
		if (sb->tls[i].listen_fd == fd || sb->tls[i].cert_fd == fd ||
		    sb->tls[i].key_fd == fd)
			return true;
	return false;
}

/* An fd number ctl passed: 3 or more (0-2 are stdio), not seen before. */
static int parse_fd(const char *s, const struct api_sandbox *sb, int *fd)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 3 || v > INT_MAX)
		return cli_usage_error(&cli_cmd_api, "bad fd '%s' (a number, "
				       "3 or more)", s);
	if (fd_taken(sb, v))
		return cli_usage_error(&cli_cmd_api, "fd %ld given twice", v);
	*fd = (int)v;
	return 0;
}

/* --tls-listen-fd N:C:K: the socket, the certificate's fd, the key's. */
static int parse_tls(const char *arg, struct api_sandbox *sb)
{
	struct api_tls_fds *t = &sb->tls[sb->n_tls];
	char s[64], *c, *k;
	int r;

	if (strlen(arg) >= sizeof(s) || !(c = strchr(arg, ':')) ||
	    !(k = strchr(c + 1, ':')) || strchr(k + 1, ':'))
		return cli_usage_error(&cli_cmd_api, "--tls-listen-fd takes "
				       "N:C:K (socket, certificate and key "
				       "fds), not '%s'", arg);
	memcpy(s, arg, strlen(arg) + 1);
	c = s + (c - arg);
	k = s + (k - arg);
	*c++ = '\0';
	*k++ = '\0';
	*t = (struct api_tls_fds){ .listen_fd = -1, .cert_fd = -1,
				   .key_fd = -1 };
	/* counted now, so that fd_taken() sees N when it checks C (N:N:K) */
	sb->n_tls++;
	if ((r = parse_fd(s, sb, &t->listen_fd)) ||
	    (r = parse_fd(c, sb, &t->cert_fd)) ||
	    (r = parse_fd(k, sb, &t->key_fd)))
		return r;
	return 0;
}

static int api_opts(int argc, char **argv, struct api_sandbox *sb)
{
	static const struct option opts[] = {
		{ "rpc-fd", required_argument, NULL, 'r' },
		{ "listen-fd", required_argument, NULL, 'l' },
		{ "tls-listen-fd", required_argument, NULL, 't' },
		{ "user", required_argument, NULL, 'u' },
		{ "root", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int c, fd = -1, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((c == 'l' || c == 't') &&
		    sb->n_listen + sb->n_tls == API_MAX_LISTEN)
			return cli_usage_error(&cli_cmd_api, "more than %d "
					       "--listen-fd and --tls-listen-fd",
					       API_MAX_LISTEN);
		switch (c) {
		case 'r':
		case 'l':
			if ((r = parse_fd(optarg, sb, &fd)))
				return r;
			if (c == 'r')
				sb->rpc_fd = fd;
			else
				sb->listen_fds[sb->n_listen++] = fd;
			break;
		case 't':
			if ((r = parse_tls(optarg, sb)))
				return r;
			break;
		case 'u': sb->user = optarg; break;
		case 'R': sb->root = optarg; break;
		default:
			return cli_usage_error(&cli_cmd_api, "unknown option "
					       "or missing value '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(&cli_cmd_api, "unexpected argument "
				       "'%s'", argv[optind]);
	if (sb->rpc_fd < 0 || !(sb->n_listen + sb->n_tls))
		return cli_usage_error(&cli_cmd_api, "needs --rpc-fd and at "
				       "least one --listen-fd or "
				       "--tls-listen-fd");
	return 0;
}

static int api_run(int argc, char **argv)
{
	struct api_sandbox sb = {
		.rpc_fd = -1,
		.user = API_DEFAULT_USER,
		.root = API_DEFAULT_ROOT,
	};
	int r = api_opts(argc, argv, &sb);

	return r ? r : api_main(&sb);
}

const struct cli_cmd cli_cmd_api = {
	.name = "api",
	.summary = "the sandboxed HTTP API process (started by moat ctl)",
	.help =
	"usage: moat api --rpc-fd FD [--listen-fd FD...]\n"
	"                [--tls-listen-fd N:C:K...] [--user NAME] [--root DIR]\n"
	"\n"
	"The HTTP side of moat's control plane. moat ctl starts it, not you:\n"
	"ctl opens the listening sockets and a socketpair, then runs\n"
	"`moat api` with them inherited, answers its RPCs, and restarts it\n"
	"when it exits. Run by hand it needs those sockets already open.\n\n"
	"  --rpc-fd FD     the AF_UNIX stream socket to ctl (RPC: a 4-byte\n"
	"                  big-endian length, then one JSON object)\n"
	"  --listen-fd FD  a listening TCP socket to serve HTTP on\n"
	"  --tls-listen-fd N:C:K\n"
	"                  a listening TCP socket N to serve HTTPS on, with\n"
	"                  its PEM certificate chain read from fd C and its\n"
	"                  PEM private key from fd K (up to 1 MiB each; both\n"
	"                  read to the end and closed before the sandbox,\n"
	"                  the key wiped from api's memory once TLS has\n"
	"                  taken it). Each socket has C and K fds of its own.\n"
	"                  At least one --listen-fd or --tls-listen-fd, up to\n"
	"                  64 sockets in all; every fd 3 or more, given once.\n"
	"  --user NAME     who to run as (default " API_DEFAULT_USER "; never "
	"root)\n"
	"  --root DIR      an empty directory, root's and writable only by\n"
	"                  root, to chroot to (default " API_DEFAULT_ROOT
	";\n"
	"                  created when missing)\n\n"
	"Before it serves the first request, api moves into a new, empty\n"
	"network namespace, chroots to DIR, becomes NAME for good, sets\n"
	"no_new_privs and installs a seccomp filter that kills it on any\n"
	"system call it does not need; socket() fails with EPERM, which it\n"
	"checks, and opening a file with EACCES. It needs root (or\n"
	"CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID) to do that,\n"
	"and refuses to serve without.\n\n"
	"HTTP (HTTPS the same): the REST API of docs/api.md, every route\n"
	"in GET /api/openapi.json. api decides nothing about who may do\n"
	"what: it passes each request's credentials (session cookie and\n"
	"X-CSRF-Token, or Authorization: Bearer) to ctl, which answers 401,\n"
	"403 or 428 itself. Among the routes:\n"
	"  GET /health   200 {\"status\":\"ok\",\"ctl\":true} when ctl answered\n"
	"                its health RPC within 1 s (in the last 100 ms),\n"
	"                else 503 {\"status\":\"degraded\",\"ctl\":false}\n"
	"  /api/setup/*, /api/auth/*, /api/tokens, /api/users\n"
	"  /api/config/* (staged, diff, validate, apply, confirm, ...)\n"
	"  /api/status, /api/interfaces, /api/firewall, /api/audit\n"
	"  /v1/devices/... (wgrest's WireGuard API), /api/ws, /metrics\n"
	"Errors are {\"code\":\"not_found\",\"message\":...}; 404 for no\n"
	"such path, 405 with Allow for a wrong method.\n\n"
	"On SIGTERM, or when ctl closes the socketpair, it stops accepting,\n"
	"finishes what is under way (up to 5 s) and exits. The listening\n"
	"sockets stay open in ctl, so new connections wait for the next api.\n"
	"Logs go to stderr, one line per event.\n\n"
	"Exit status: 0 SIGTERM or ctl gone, 1 a bad fd, certificate or\n"
	"key, the sandbox or serving failed, or ctl broke the protocol,\n"
	"2 usage error.\n",
	.run = api_run,
};
