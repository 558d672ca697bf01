/* moat apply / moat status: put the firewall in the kernel and say how it
 * stands. (moat compile is cmd_compile.c, moat diff cmd_diff.c.) */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "cli/ctl_cli.h"
#include "cli/load.h"
#include "cli/net_cli.h"
#include "cli/wg_cli.h"
#include "config/config.h"
#include "fw/apply.h"
#include "fw/fw.h"
#include "fw/nl.h"
#include "net/apply.h"
#include "wg/apply.h"

#define DEFAULT_STATE_DIR "/var/lib/moat"

/* $MOAT_STATE_DIR overrides the config's state_dir (the lab runs a
 * config written for a real gateway without touching its state). */
const char *cli_state_dir(const struct moat_config *cfg)
{
	const char *env = getenv("MOAT_STATE_DIR");

	if (env && *env)
		return env;
	return cfg && cfg->state_dir.v ? cfg->state_dir.v : DEFAULT_STATE_DIR;
}

/* The network first: the firewall's rules name the interfaces and
 * addresses it makes. When the network changes, the kernel checks the
 * firewall between reading the network and changing it, so that a
 * refused ruleset does not leave a changed network behind it; and a
 * network the kernel refuses is undone before the firewall is tried.
 * -1: nothing changed; -2: the network changed, the firewall did not. */
static int apply_all(struct fw_apply_opts *o, struct fw_plan *plan,
		     struct net_plan *net, struct wg_plan *wg,
		     const char *path, enum fw_outcome *fout,
		     struct diag_list *dl)
{
	struct net_apply_opts no = { .dry_run = o->dry_run,
				     .state_dir = o->state_dir };
	char *abs = strcmp(path, "-") ? realpath(path, NULL) : NULL;
	struct wg_apply_opts wo = { .dry_run = o->dry_run,
				    .state_dir = o->state_dir,
				    .config = abs ? abs : "" };
	struct fw_apply_opts check = *o;
	enum net_outcome nout = NET_UNCHANGED;
	struct net_txn t = { 0 };
	struct wg_txn wt = { 0 };
	bool wg_done = false, checked = false;
	char sum[256];
	int r = -1;

	check.dry_run = true;
	check.genid = NULL;
	/* WireGuard first: net gives its devices their addresses */
	if (wg_prepare(wg, &wo, dl) < 0 ||
	    wg_plan_changes(wg, &wo, &wt, dl) < 0)
		goto out;
	if (!o->dry_run && wg_txn_changes(&wt)) {
		if (fw_apply(plan, &check, fout, dl) < 0 ||
		    wg_commit(&wt, &wo, dl) < 0)
			goto out;
		wg_done = checked = true;
	}
	if (net_prepare(&t, net, &no, dl) < 0)
		goto undo;
	if (o->dry_run) {
		cli_wg_print_ops(&wt, stdout);
		cli_net_print_ops(&t.c, stdout);
		wg_txn_summary(&wt, sum, sizeof(sum));
		if (wt.n)
			printf("dry run: wireguard: %s\n", sum);
		cli_net_summary(&t.c, sum, sizeof(sum));
		printf("dry run: network: %s; nothing was changed\n", sum);
		r = fw_apply(plan, o, fout, dl);
		goto out;
	}
	if (t.c.n) {
		if ((!checked && fw_apply(plan, &check, fout, dl) < 0) ||
		    net_commit(&t, &nout, dl) < 0)
			goto undo;
	}
	if (wt.n) {
		wg_txn_summary(&wt, sum, sizeof(sum));
		printf("wireguard: %s: %s\n", wg_done ? "applied" :
		       "unchanged", sum);
	}
	cli_net_summary(&t.c, sum, sizeof(sum));
	if (nout == NET_UNCHANGED || !t.c.n)
		printf("network: unchanged (%zu links, %zu routes, %zu "
		       "rules)\n", net->nlinks, net->nroutes, net->nrules);
	else
		printf("network: applied: %s\n", sum);
	r = fw_apply(plan, o, fout, dl);
	if (r < 0 && (nout == NET_APPLIED || wg_done))
		r = -2;
	goto out;
undo:
	if (wg_done)
		wg_undo(&wt, &wo);
out:
	net_txn_free(&t);
	wg_txn_free(&wt);
	free(abs);
	return r;
}

/* When ctl runs, it applies (and keeps) the config: an exit status.
 * -1: no ctl runs; apply here. */
static int apply_via_ctl(const char *path, long confirm)
{
	char *abs = realpath(path, NULL), *text = NULL;
	size_t len;
	bool absent;
	json_t *res;
	int r;

	if (!abs) {
		fprintf(stderr, "moat apply: %s: %s\n", path, strerror(errno));
		return MOAT_EXIT_USAGE;
	}
	/* ctl gets the text: it never opens a file the caller names */
	if ((r = cli_read_config(abs, &text, &len)) != MOAT_EXIT_OK) {
		free(abs);
		return r;
	}
	r = cli_ctl_call("apply", json_pack("{ssss%sI}", "path", abs, "text",
			 text, len, "confirm_within", (json_int_t)confirm),
			 &res, &absent);
	free(text);
	free(abs);
	if (r < 0)
		return r == -1 ? MOAT_EXIT_BAD : absent ? -1 : MOAT_EXIT_USAGE;
	r = cli_ctl_print_apply("apply", res);
	json_decref(res);
	return r ? MOAT_EXIT_BAD : MOAT_EXIT_OK;
}

static int apply_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "confirm-within", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct fw_apply_opts o = { 0 };
	long confirm = 0;
	char *end;
	const char *path = MOAT_DEFAULT_CONFIG;
	struct diag_list dl = { 0 };
	struct moat_config *cfg = NULL;
	struct fw_plan *plan = NULL;
	struct net_plan *net = NULL;
	struct wg_plan *wg = NULL;
	enum fw_outcome out;
	char hash[FW_HASH_HEX + 1], sdir[512], *src = NULL;
	uint32_t genid = 0;
	struct fw_fast_id id;
	bool have_id;
	size_t len = 0;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:nf", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'n': o.dry_run = true; break;
		case 'f': o.force = true; break;
		case 'C':
			confirm = strtol(optarg, &end, 10);
			if (*end || confirm < 1 || confirm > 86400)
				return cli_usage_error(&cli_cmd_apply,
					"--confirm-within: seconds, 1 to "
					"86400");
			break;
		default:
			return cli_usage_error(&cli_cmd_apply,
					       "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(&cli_cmd_apply, "unexpected argument "
				       "'%s'", argv[optind]);
	if (!o.dry_run && strcmp(path, "-")) {
		r = apply_via_ctl(path, confirm);
		if (r >= 0)
			return r;
	}
	if (confirm) {
		fprintf(stderr, "moat apply: --confirm-within needs a running "
			"`moat ctl` (it rolls back when the time is up)\n");
		return MOAT_EXIT_USAGE;
	}
	have_id = fw_fast_stat(path, &id);
	if (!o.force && !o.dry_run && have_id &&
	    fw_fast_unchanged(path, hash, sdir, sizeof(sdir), &dl)) {
		const char *env = getenv("MOAT_STATE_DIR");

		/* the recorded directory, unless the override names another */
		if (env && *env && strcmp(env, sdir))
			sdir[0] = '\0';
		if (cli_net_unchanged(sdir) && !wg_state_has_devices(sdir)) {
			printf("network: unchanged\n");
			printf("unchanged: table inet moat already holds this "
			       "config (%.12s)\n", hash);
			diag_print(&dl, stderr);
			r = MOAT_EXIT_OK;
			goto out;
		}
	}
	diag_list_free(&dl);
	memset(&dl, 0, sizeof(dl));
	if (have_id && cli_read_config(path, &src, &len) != MOAT_EXIT_OK)
		have_id = false;
	r = cli_compile(path, &cfg, &plan);
	if (r != MOAT_EXIT_OK)
		goto out;
	net = cli_net_compile(cfg);
	wg = cli_wg_compile(cfg);
	if (!net || !wg) {
		r = MOAT_EXIT_BAD;
		goto out;
	}
	o.state_dir = cli_state_dir(cfg);
	o.genid = &genid;
	if ((c = apply_all(&o, plan, net, wg, path, &out, &dl)) < 0) {
		diag_sort(&dl);
		diag_print(&dl, stderr);
		fprintf(stderr, "moat apply: %s\n", c == -2 ?
			"the network changes stay in place; the firewall kept "
			"its previous rules" : "nothing was changed");
		r = MOAT_EXIT_BAD;
		goto out;
	}
	diag_print(&dl, stderr);
	if (have_id && !o.dry_run)
		fw_fast_record(path, &id, src, len, plan, o.state_dir, genid);
	if (out == FW_UNCHANGED)
		printf("unchanged: table inet moat already holds this config "
		       "(%.12s)\n", plan->hash);
	else if (out == FW_CHECKED)
		printf("dry run: the kernel accepts %zu chains, %zu rules, "
		       "%zu sets; nothing was changed\n", plan->nchains,
		       plan->nrules, plan->nsets);
	else
		printf("applied: table inet moat, %zu chains, %zu rules, "
		       "%zu sets (%.12s)\n", plan->nchains, plan->nrules,
		       plan->nsets, plan->hash);
out:
	free(src);
	diag_list_free(&dl);
	net_plan_free(net);
	wg_plan_free(wg);
	fw_plan_free(plan);
	cfg_free(cfg);
	return r;
}

const struct cli_cmd cli_cmd_apply = {
	.name = "apply",
	.summary = "configure the network, then load the firewall",
	.help =
	"usage: moat apply [-c FILE] [--dry-run] [--force] "
	"[--confirm-within SECONDS]\n\n"
	"When `moat ctl` runs, it does the apply (only the components whose\n"
	"plan changed; rolled back when one fails), records it as a revision,\n"
	"makes FILE its config, and answers with each component's outcome.\n"
	"With --confirm-within, it goes back to the previous config unless\n"
	"`moat confirm` comes within SECONDS. Without ctl, moat applies here:\n\n"
	"Compiles FILE (default " MOAT_DEFAULT_CONFIG ") and makes the\n"
	"kernel hold it: WireGuard, the network, then the firewall:\n\n"
	"WireGuard: makes the vpn { wireguard } devices (the kernel's, else\n"
	"wireguard-go under moat's supervisor) and changes only the peers\n"
	"and settings that differ; runtime peers (moat wg peer add) are kept.\n\n"
	"Network: reads the links, addresses, moat's routes and rules over\n"
	"rtnetlink and changes only the difference: MTU and link state,\n"
	"VLANs, addresses, routes (any table) and policy rules. moat's\n"
	"routes and rules carry protocol 77; the addresses and VLANs it\n"
	"creates are recorded in STATE_DIR/net.state; nothing else is ever\n"
	"changed or removed. When the kernel refuses a change, what this\n"
	"apply did is undone and the error names the config line. When the\n"
	"network changes, the kernel checks the firewall before anything is\n"
	"touched.\n\n"
	"Firewall: replaces the nftables table inet moat in one kernel\n"
	"transaction: either all of it is in place afterwards or nothing\n"
	"changed. Other tables are never touched. The table's comment\n"
	"carries a hash of what was compiled; when it matches, nothing is\n"
	"loaded (\"unchanged\"). Then ip_forwarding is set as configured.\n"
	"The outcome is kept in STATE_DIR/fw.state (state_dir in the config,\n"
	"default " DEFAULT_STATE_DIR "; $MOAT_STATE_DIR overrides it) for\n"
	"`moat status`. So that an unchanged file is not even parsed, the\n"
	"apply is also noted in $MOAT_RUN_DIR (default /run/moat).\n\n"
	"  -c, --config FILE  the config ('-' reads stdin)\n"
	"  -n, --dry-run      list the network changes and let the kernel\n"
	"                     check the ruleset; change nothing\n"
	"  -f, --force        load the firewall even when the hash says it\n"
	"                     is unchanged\n"
	"      --confirm-within SECONDS\n"
	"                     through ctl: roll back unless `moat confirm`\n"
	"                     comes within SECONDS (1 to 86400)\n\n"
	"Exit status: 0 applied or unchanged, 1 the config has errors or the\n"
	"kernel refused it (nothing changed), 2 usage error.\n",
	.run = apply_run,
};

/* --- status ---------------------------------------------------------------- */

struct status {
	struct fw_kernel k;
	int kerr;		/* -errno reading the kernel */
	struct fw_state st;
	bool have_state;
	const struct fw_plan *plan;	/* NULL: config did not compile */
	const char *problems[8];
	size_t nproblems;
};

static void problem(struct status *s, const char *p)
{
	if (s->nproblems < ARRAY_SIZE(s->problems))
		s->problems[s->nproblems++] = p;
}

static void judge(struct status *s)
{
	if (s->kerr)
		problem(s, "cannot read the kernel's nftables");
	else if (!s->k.present)
		problem(s, "table inet moat is not in the kernel");
	else if (!s->k.ours)
		problem(s, "table inet moat was not made by moat apply");
	if (!s->plan)
		problem(s, "the config does not compile");
	else if (s->k.ours && strcmp(s->k.hash, s->plan->hash))
		problem(s, "the kernel holds another config than this one");
	else if (s->k.ours && (s->k.nchains != s->plan->nchains ||
			       s->k.nrules != s->plan->nrules ||
			       s->k.nsets != s->plan->nsets ||
			       (s->have_state && s->st.content[0] &&
				!strcmp(s->st.hash, s->k.hash) &&
				strcmp(s->st.content, s->k.content))))
		problem(s, "table inet moat was changed outside moat");
	if (s->have_state && s->st.failed_at &&
	    s->st.failed_at >= s->st.applied_at)
		problem(s, "the last apply failed");
}

void cli_when(char *out, size_t n, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!t || !localtime_r(&tt, &tm))
		snprintf(out, n, "never");
	else
		strftime(out, n, "%Y-%m-%d %H:%M:%S %z", &tm);
}

static void status_text(const struct status *s)
{
	char t[64];

	printf("firewall: %s\n", s->nproblems ? "degraded" : "ok");
	for (size_t i = 0; i < s->nproblems; i++)
		printf("  problem: %s\n", s->problems[i]);
	if (s->k.present)
		printf("  table inet moat: %zu chains (%zu hooked), %zu rules, "
		       "%zu sets\n", s->k.nchains, s->k.nbase, s->k.nrules,
		       s->k.nsets);
	else
		printf("  table inet moat: absent\n");
	printf("  installed: %s\n", s->k.ours ? s->k.hash : "-");
	printf("  config:    %s\n", s->plan ? s->plan->hash : "-");
	cli_when(t, sizeof(t), s->st.applied_at);
	printf("  last apply: %s\n", t);
	if (s->st.failed_at) {
		cli_when(t, sizeof(t), s->st.failed_at);
		printf("  last error: %s: %s\n", t, s->st.error);
	} else {
		printf("  last error: none\n");
	}
}

static void json_hash(struct buf *b, const char *key, const char *h)
{
	buf_printf(b, "\"%s\":", key);
	if (h)
		buf_json_str(b, h, strlen(h));
	else
		buf_adds(b, "null");
}

static void status_json(const struct status *s,
			const struct cli_net_status *ns,
			const struct cli_wg_status *ws, const json_t *ctl)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "{\"status\":\"%s\",\"problems\":[",
		   s->nproblems ? "degraded" : "ok");
	for (size_t i = 0; i < s->nproblems; i++) {
		buf_adds(&b, i ? "," : "");
		buf_json_str(&b, s->problems[i], strlen(s->problems[i]));
	}
	buf_printf(&b, "],\"table\":{\"present\":%s,\"chains\":%zu,"
		   "\"hooked\":%zu,\"rules\":%zu,\"sets\":%zu},",
		   s->k.present ? "true" : "false", s->k.nchains, s->k.nbase,
		   s->k.nrules, s->k.nsets);
	json_hash(&b, "installed_hash", s->k.ours ? s->k.hash : NULL);
	buf_adds(&b, ",");
	json_hash(&b, "config_hash", s->plan ? s->plan->hash : NULL);
	buf_printf(&b, ",\"last_apply\":%lld,\"last_error\":",
		   s->st.applied_at);
	if (s->st.failed_at) {
		buf_printf(&b, "{\"at\":%lld,\"message\":", s->st.failed_at);
		buf_json_str(&b, s->st.error, strlen(s->st.error));
		buf_adds(&b, "}");
	} else {
		buf_adds(&b, "null");
	}
	buf_adds(&b, ",\"net\":");
	cli_net_status_print(ns, &b);
	buf_adds(&b, ",\"wireguard\":");
	cli_wg_status_print(ws, &b);
	buf_adds(&b, ",\"ctl\":");
	if (ctl) {
		char *t = json_dumps(ctl, JSON_COMPACT);

		buf_adds(&b, t ? t : "null");
		free(t);
	} else {
		buf_adds(&b, "null");
	}
	buf_adds(&b, "}\n");
	fputs(b.p, stdout);
	buf_free(&b);
}

/* The running ctl, when there is one. */
static void ctl_text(const json_t *c)
{
	const json_t *api = json_object_get(c, "api"), *mon;
	char when[64];

	if (!c) {
		printf("ctl: not running\n");
		return;
	}
	mon = json_object_get(c, "monitor");
	printf("ctl: running, pid %lld, revision %lld of %s\n",
	       json_integer_value(json_object_get(c, "pid")),
	       json_integer_value(json_object_get(c, "revision")),
	       json_string_value(json_object_get(c, "config")));
	if (json_is_true(json_object_get(c, "awaiting_confirm"))) {
		cli_when(when, sizeof(when), json_integer_value(
			 json_object_get(c, "confirm_deadline_ms")) / 1000);
		printf("  awaiting `moat confirm`; rolls back at %s\n", when);
	}
	printf("  integrity monitor: %s, %lld restore(s)%s%s\n",
	       json_is_true(json_object_get(mon, "running")) ? "on" : "off",
	       json_integer_value(json_object_get(mon, "restores")),
	       json_object_get(mon, "last_restore") ? "; last: " : "",
	       json_string_value(json_object_get(mon, "last_restore")) ?: "");
	if (json_integer_value(json_object_get(api, "listeners")))
		printf("  api: %s, pid %lld, %lld restart(s)\n",
		       json_is_true(json_object_get(api, "running")) ?
		       "running" : "down",
		       json_integer_value(json_object_get(api, "pid")),
		       json_integer_value(json_object_get(api, "restarts")));
}

static int status_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = MOAT_DEFAULT_CONFIG;
	struct status s = { 0 };
	struct cli_net_status ns;
	struct cli_wg_status ws;
	json_t *ctl = NULL;
	bool absent;
	struct moat_config *cfg = NULL;
	struct fw_plan *plan = NULL;
	struct fw_nl nl = { 0 };
	bool json = false;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'j': json = true; break;
		default:
			return cli_usage_error(&cli_cmd_status,
					       "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(&cli_cmd_status, "unexpected argument "
				       "'%s'", argv[optind]);
	if (cli_compile(path, &cfg, &plan) == MOAT_EXIT_USAGE && !cfg)
		fprintf(stderr, "moat status: reporting the kernel alone\n");
	s.plan = plan;
	s.kerr = fw_nl_open(&nl);
	if (!s.kerr)
		s.kerr = fw_nl_inspect(&nl, &s.k);
	fw_nl_close(&nl);
	s.have_state = fw_state_load(cli_state_dir(cfg), &s.st) == 0;
	judge(&s);
	cli_net_status_read(&ns, cfg, cli_state_dir(cfg));
	cli_wg_status_read(&ws, cfg);
	if (cli_ctl_call("status", NULL, &ctl, &absent) < 0)
		ctl = NULL;
	if (json) {
		status_json(&s, &ns, &ws, ctl);
	} else {
		status_text(&s);
		cli_net_status_print(&ns, NULL);
		cli_wg_status_print(&ws, NULL);
		ctl_text(ctl);
	}
	json_decref(ctl);
	c = s.nproblems || ns.nproblems || ws.nproblems ? MOAT_EXIT_BAD :
	    MOAT_EXIT_OK;
	cli_net_status_free(&ns);
	cli_wg_status_free(&ws);
	fw_plan_free(plan);
	cfg_free(cfg);
	return c;
}

const struct cli_cmd cli_cmd_status = {
	.name = "status",
	.summary = "interfaces, routes and firewall against the config",
	.help =
	"usage: moat status [-c FILE] [--json]\n\n"
	"Firewall: reads table inet moat from the kernel and compares it\n"
	"with what FILE (default " MOAT_DEFAULT_CONFIG ") compiles to:\n"
	"whether the table is there, its chains, rules and sets, the hash\n"
	"installed against the config's, the last apply and the last error\n"
	"(from STATE_DIR/fw.state).\n\n"
	"Network: each interface the config names (state, operational\n"
	"state, MTU, bytes received and sent, addresses), moat's routes and\n"
	"rules, the last apply and error (STATE_DIR/net.state), and whether\n"
	"the kernel differs from the config.\n\n"
	"ctl: when `moat ctl` runs, its pid, the revision it runs, a change\n"
	"awaiting confirmation, the integrity monitor's restores, and the api\n"
	"process (\"ctl\" in --json; null without ctl).\n\n"
	"Overall \"ok\", or \"degraded\" with the problems: table missing or\n"
	"not moat's, another config installed, the table or the network\n"
	"changed outside moat, the last apply failed, the config does not\n"
	"compile.\n\n"
	"  -c, --config FILE  the config\n"
	"  --json             one JSON object on stdout (the network under\n"
	"                     \"net\")\n\n"
	"Exit status: 0 ok, 1 degraded, 2 usage error.\n",
	.run = status_run,
};
