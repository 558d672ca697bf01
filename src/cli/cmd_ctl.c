/* moat ctl (the daemon) and the commands that talk to it: reload,
 * confirm, rollback, revisions, audit. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/ctl_cli.h"
#include "cli/load.h"
#include "config/config.h"
#include "ctl/client.h"
#include "ctl/ctl.h"
#include "store/store.h"

static int ctl_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "flush-on-exit", no_argument, NULL, 'F' },
		{ "takeover", no_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_opts o = { .config = MOAT_DEFAULT_CONFIG };
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'F': o.flush_on_exit = true; break;
		case 'T': o.takeover = true; break;
		default:
			return cli_usage_error(&cli_cmd_ctl, "unknown option "
					       "'%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(&cli_cmd_ctl, "unexpected argument "
				       "'%s'", argv[optind]);
	return ctl_main(&o);
}

const struct cli_cmd cli_cmd_ctl = {
	.name = "ctl",
	.summary = "run the control-plane daemon",
	.help =
	"usage: moat ctl [-c FILE] [--flush-on-exit] [--takeover]\n\n"
	"Runs in the foreground and keeps the kernel true to FILE (default\n"
	MOAT_DEFAULT_CONFIG "): applies it at start (every component, since\n"
	"the kernel may have lost it), then\n"
	"  - reloads on SIGHUP or `moat reload`: only the components (wg, net,\n"
	"    fw) whose plan changed are applied, in that order; when one\n"
	"    fails, those applied are put back to the old plan, backwards, and\n"
	"    the old config keeps running;\n"
	"  - with `moat apply --confirm-within N`, rolls back by itself unless\n"
	"    `moat confirm` comes within N seconds;\n"
	"  - restores table inet moat and moat's routes and rules when someone\n"
	"    else changes them (netlink events, no polling), and audits it;\n"
	"  - answers the CLI on $MOAT_RUN_DIR/ctl.sock (default /run/moat;\n"
	"    mode 0660, group moat when it exists; root or that group only);\n"
	"  - opens the api/web `listen` sockets and runs `moat api` on them,\n"
	"    sandboxed, restarting it when it dies.\n"
	"Every config applied is a revision and every change an entry in a\n"
	"hash-chained audit log, both in STATE_DIR/moat.db (SQLite).\n"
	"SIGTERM stops ctl and leaves the firewall in place. SIGUSR2 starts a\n"
	"new ctl from the binary on disk that takes the sockets over.\n"
	"With NOTIFY_SOCKET set, tells systemd READY/RELOADING/STOPPING.\n\n"
	"  -c, --config FILE  the config\n"
	"      --flush-on-exit  remove moat's table, routes, rules and\n"
	"                     devices when stopping\n"
	"      --takeover     take the sockets of the running ctl, which then\n"
	"                     exits (an upgrade without refused connections)\n\n"
	"Exit status: 0 stopped, 1 the config did not load or apply, 2 usage\n"
	"or environment error (another ctl runs, a socket cannot be opened).\n",
	.run = ctl_run,
};

/* --- talking to ctl -------------------------------------------------------- */

int cli_ctl_call(const char *method, json_t *params, json_t **res,
		 bool *absent)
{
	char err[512];
	bool none;
	int fd = ctl_client_open(&none, err, sizeof(err));
	int r;

	if (absent)
		*absent = none;
	*res = NULL;
	if (fd < 0) {
		json_decref(params);
		if (!absent || !none)
			fprintf(stderr, "moat: %s%s\n", err, none ?
				" (is `moat ctl` running?)" : "");
		return -2;
	}
	r = ctl_client_call(fd, method, params, res, err, sizeof(err));
	close(fd);
	if (r < 0)
		fprintf(stderr, "moat: %s: %s\n", method, err);
	return r;
}

/* What an apply, reload or rollback answered. 0 when it applied. */
int cli_ctl_print_apply(const char *what, json_t *res)
{
	json_t *comps = json_object_get(res, "components");
	json_t *diags = json_object_get(res, "diagnostics"), *d;
	const char *k;
	json_t *v;
	size_t i;
	bool ok = json_is_true(json_object_get(res, "ok"));

	json_array_foreach(diags, i, d)
		fprintf(stderr, "%s:%lld:%lld: %s: %s\n",
			json_string_value(json_object_get(d, "file")),
			json_integer_value(json_object_get(d, "line")),
			json_integer_value(json_object_get(d, "column")),
			json_string_value(json_object_get(d, "severity")),
			json_string_value(json_object_get(d, "message")));
	if (json_object_get(res, "error"))
		fprintf(stderr, "moat %s: %s\n", what, json_string_value(
			json_object_get(res, "error")));
	json_object_foreach(comps, k, v)
		printf("%s: %s\n", k, json_string_value(v));
	if (ok) {
		printf("%s: revision %lld", what, json_integer_value(
		       json_object_get(res, "revision")));
		if (json_object_get(res, "confirm_deadline_ms"))
			printf(", rolls back unless `moat confirm` comes "
			       "within the deadline");
		printf("\n");
	} else {
		printf("%s: failed; the previous config keeps running\n",
		       what);
	}
	return ok ? 0 : -1;
}

static int reload_run(int argc, char **argv)
{
	json_t *res;
	int r;

	if (argc > 1)
		return cli_usage_error(&cli_cmd_reload, "unexpected argument "
				       "'%s'", argv[1]);
	if ((r = cli_ctl_call("reload", NULL, &res, NULL)) < 0)
		return r == -1 ? MOAT_EXIT_BAD : MOAT_EXIT_USAGE;
	r = cli_ctl_print_apply("reload", res);
	json_decref(res);
	return r ? MOAT_EXIT_BAD : MOAT_EXIT_OK;
}

const struct cli_cmd cli_cmd_reload = {
	.name = "reload",
	.summary = "make the running ctl apply its config file again",
	.help =
	"usage: moat reload\n\n"
	"Asks the running `moat ctl` to read its config file again and apply\n"
	"what changed (the same as SIGHUP, but with the answer): each\n"
	"component's outcome, and the errors with their config lines. When a\n"
	"component fails, those applied before it are rolled back and the\n"
	"previous config keeps running.\n\n"
	"Exit status: 0 applied, 1 refused (the old config runs), 2 no ctl.\n",
	.run = reload_run,
};

static int confirm_run(int argc, char **argv)
{
	json_t *res;
	int r;

	if (argc > 1)
		return cli_usage_error(&cli_cmd_confirm, "unexpected argument "
				       "'%s'", argv[1]);
	r = cli_ctl_call("confirm", NULL, &res, NULL);

	if (r < 0)
		return r == -1 ? MOAT_EXIT_BAD : MOAT_EXIT_USAGE;
	printf("confirmed: revision %lld stays\n", json_integer_value(
	       json_object_get(res, "revision")));
	json_decref(res);
	return MOAT_EXIT_OK;
}

const struct cli_cmd cli_cmd_confirm = {
	.name = "confirm",
	.summary = "keep a change applied with --confirm-within",
	.help =
	"usage: moat confirm\n\n"
	"Keeps the config applied by `moat apply --confirm-within N`. Without\n"
	"it, ctl goes back to the previous config when N seconds are up.\n\n"
	"Exit status: 0 confirmed, 1 nothing awaited confirmation, 2 no ctl.\n",
	.run = confirm_run,
};

static int rollback_run(int argc, char **argv)
{
	json_t *res;
	char *end;
	long long rev;
	int r;

	if (argc != 2)
		return cli_usage_error(&cli_cmd_rollback, "usage: moat "
				       "rollback REVISION");
	rev = strtoll(argv[1], &end, 10);
	if (*end || rev <= 0)
		return cli_usage_error(&cli_cmd_rollback, "'%s' is not a "
				       "revision number", argv[1]);
	if (cli_ctl_call("rollback", json_pack("{sI}", "revision",
		(json_int_t)rev), &res, NULL) < 0)
		return MOAT_EXIT_BAD;
	r = cli_ctl_print_apply("rollback", res);
	json_decref(res);
	return r ? MOAT_EXIT_BAD : MOAT_EXIT_OK;
}

const struct cli_cmd cli_cmd_rollback = {
	.name = "rollback",
	.summary = "apply an earlier revision of the config",
	.help =
	"usage: moat rollback REVISION\n\n"
	"Applies the config of REVISION (see `moat revisions`) as a new\n"
	"revision, and writes it to ctl's config file.\n\n"
	"Exit status: 0 applied, 1 refused or no such revision.\n",
	.run = rollback_run,
};

static void print_when_ms(long long ms)
{
	char when[64];

	cli_when(when, sizeof(when), ms / 1000);
	printf("%s", when);
}

static int revisions_run(int argc, char **argv)
{
	bool json = argc == 2 && !strcmp(argv[1], "--json");
	json_t *res, *v;
	size_t i;

	if (argc > 1 && !json)
		return cli_usage_error(&cli_cmd_revisions, "unknown argument "
				       "'%s'", argv[1]);
	if (cli_ctl_call("revisions", json_pack("{sI}", "limit",
		(json_int_t)100), &res, NULL) < 0)
		return MOAT_EXIT_USAGE;
	if (json) {
		json_dumpf(res, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(res);
		return MOAT_EXIT_OK;
	}
	printf("%6s  %-25s  %-12s  %-12s  %s\n", "REV", "WHEN", "AUTHOR",
	       "RESULT", "CONFIG");
	json_array_foreach(json_object_get(res, "revisions"), i, v) {
		long long id = json_integer_value(json_object_get(v, "id"));
		char when[64];

		cli_when(when, sizeof(when), json_integer_value(
			 json_object_get(v, "created_at")));
		printf("%5lld%s  %-25s  %-12s  %-12s  %s %.12s\n", id,
		       id == json_integer_value(json_object_get(res,
						"running")) ? "*" : " ",
		       when, json_string_value(json_object_get(v, "author")),
		       json_string_value(json_object_get(v, "result")),
		       json_string_value(json_object_get(v, "path")),
		       json_string_value(json_object_get(v, "hash")));
	}
	printf("* running\n");
	json_decref(res);
	return MOAT_EXIT_OK;
}

const struct cli_cmd cli_cmd_revisions = {
	.name = "revisions",
	.summary = "list the configs ctl has applied",
	.help =
	"usage: moat revisions [--json]\n\n"
	"The last 100 revisions, newest first: when, who, the result\n"
	"(applied, failed, pending confirmation, confirmed, rolled-back), the\n"
	"file and the hash of its text. `moat rollback REV` applies one.\n",
	.run = revisions_run,
};

/* --- audit ----------------------------------------------------------------- */

static int audit_print(const struct store_audit *e, void *data)
{
	(void)data;
	print_when_ms(e->at);
	printf("  #%lld  %s (%s)  %s  %s  -> %s\n", e->id, e->who, e->origin,
	       e->action, e->detail, e->result);
	return 0;
}

/* Without ctl: the store read directly (root, or whoever can read it). */
static int audit_offline(const char *cfgpath, bool verify, size_t n)
{
	struct moat_config *cfg = NULL;
	struct diag_list dl = { 0 };
	struct store *s;
	char err[512], last[65] = "";
	size_t rows = 0;
	long long bad = 0;
	int r;

	/* only for its state_dir: a config that does not load means the
	 * default, quietly */
	if (!getenv("MOAT_STATE_DIR"))
		cli_load_config(cfgpath, false, &cfg, &dl, NULL);
	diag_list_free(&dl);
	s = store_open(cli_state_dir(cfg), err, sizeof(err));
	cfg_free(cfg);
	if (!s) {
		fprintf(stderr, "moat audit: %s\n", err);
		return MOAT_EXIT_USAGE;
	}
	if (verify) {
		r = store_audit_verify(s, &rows, &bad, last, err, sizeof(err));
		if (r == 0)
			printf("audit log intact: %zu entries, last %.16s\n",
			       rows, last);
		else
			fprintf(stderr, "moat audit verify: %s\n", err);
		store_close(s);
		return r == 0 ? MOAT_EXIT_OK : r > 0 ? MOAT_EXIT_BAD :
		       MOAT_EXIT_USAGE;
	}
	r = store_audit_tail(s, n, audit_print, NULL, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "moat audit: %s\n", err);
	store_close(s);
	return r < 0 ? MOAT_EXIT_USAGE : MOAT_EXIT_OK;
}

static int audit_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "lines", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = MOAT_DEFAULT_CONFIG;
	bool json = false, verify = false, absent;
	long n = 50;
	json_t *res, *v;
	size_t i;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:n:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cfgpath = optarg; break;
		case 'j': json = true; break;
		case 'n':
			n = strtol(optarg, NULL, 10);
			if (n <= 0 || n > 2000)
				return cli_usage_error(&cli_cmd_audit, "-n: 1 "
						       "to 2000");
			break;
		default:
			return cli_usage_error(&cli_cmd_audit, "unknown "
					       "option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc && !strcmp(argv[optind], "verify")) {
		verify = true;
		optind++;
	}
	if (optind != argc)
		return cli_usage_error(&cli_cmd_audit, "unexpected argument "
				       "'%s'", argv[optind]);
	if (cli_ctl_call(verify ? "audit.verify" : "audit", verify ? NULL :
			 json_pack("{sI}", "limit", (json_int_t)n), &res,
			 &absent) < 0)
		return absent ? audit_offline(cfgpath, verify, (size_t)n) :
			MOAT_EXIT_USAGE;
	if (json) {
		json_dumpf(res, stdout, JSON_INDENT(2));
		printf("\n");
	} else if (verify) {
		if (json_is_true(json_object_get(res, "intact")))
			printf("audit log intact: %lld entries\n",
			       json_integer_value(json_object_get(res,
							"rows")));
		else
			fprintf(stderr, "moat audit verify: %s\n",
				json_string_value(json_object_get(res,
							"message")));
	} else {
		json_array_foreach(json_object_get(res, "entries"), i, v) {
			struct store_audit e = {
				.id = json_integer_value(json_object_get(v,
								"id")),
				.at = json_integer_value(json_object_get(v,
								"at_ms")),
				.who = json_string_value(json_object_get(v,
								"who")),
				.origin = json_string_value(json_object_get(v,
								"origin")),
				.action = json_string_value(json_object_get(v,
								"action")),
				.detail = json_string_value(json_object_get(v,
								"detail")),
				.result = json_string_value(json_object_get(v,
								"result")),
			};

			audit_print(&e, NULL);
		}
	}
	c = verify && !json_is_true(json_object_get(res, "intact"));
	json_decref(res);
	return c ? MOAT_EXIT_BAD : MOAT_EXIT_OK;
}

const struct cli_cmd cli_cmd_audit = {
	.name = "audit",
	.summary = "show or verify the audit log",
	.help =
	"usage: moat audit [-n N] [--json] [-c FILE]\n"
	"       moat audit verify [-c FILE]\n\n"
	"The last N (default 50) entries of the audit log: who did what,\n"
	"when, from where, and the result (every apply, reload, confirm,\n"
	"rollback, refused request, and every restore of something changed\n"
	"behind moat's back). Each entry carries the SHA-256 of its contents\n"
	"and of the entry before it; `verify` recomputes the chain and names\n"
	"the first entry that was changed or removed. (Removing the newest\n"
	"entries cannot be seen from the chain alone.) Asks the running ctl;\n"
	"without one, reads STATE_DIR/moat.db directly (-c names the config\n"
	"whose state_dir it is).\n\n"
	"Exit status: 0 shown or intact, 1 the chain is broken, 2 error.\n",
	.run = audit_run,
};
