/* moat set add|del|list: runtime elements of the sets of table inet moat,
 * straight over netlink (src/fw/set_nl.c). Changes only the elements of
 * one existing set; never the ruleset, never through nft. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/file.h"
#include "cli/cli.h"
#include "fw/set.h"

/* Bulk loads from stdin: 64 MiB is millions of elements. */
#define STDIN_MAX (64u * 1024 * 1024)

enum set_op { OP_ADD, OP_DEL, OP_LIST };

/* An element as written, and where: line 0 is the command line. */
struct arg {
	const char *text;
	size_t line;
};

struct args {
	struct arg *v;
	size_t n;
	size_t cap;
	char *stdin_data;	/* owns the text of stdin's elements */
};

static void args_add(struct args *a, const char *text, size_t line)
{
	xgrow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v));
	a->v[a->n++] = (struct arg){ text, line };
}

static void args_free(struct args *a)
{
	free(a->v);
	free(a->stdin_data);
}

/* One element per line; blank lines and # comments are skipped. */
static int read_stdin(struct args *a)
{
	size_t len, line = 0;
	char *p, *next;
	int r;

	r = file_read("-", STDIN_MAX, &a->stdin_data, &len);
	if (r) {
		fprintf(stderr, "moat set: stdin: %s\n", r == -EFBIG ?
			"more than 64 MiB of elements" : strerror(-r));
		return MOAT_EXIT_USAGE;
	}
	if (memchr(a->stdin_data, '\0', len)) {
		fprintf(stderr, "moat set: stdin: contains a NUL byte\n");
		return MOAT_EXIT_BAD;
	}
	for (p = a->stdin_data; p; p = next) {
		char *end;

		line++;
		next = strchr(p, '\n');
		if (next)
			*next++ = '\0';
		if ((end = strchr(p, '#')))
			*end = '\0';
		p += strspn(p, " \t\r");
		end = p + strlen(p);
		while (end > p && strchr(" \t\r", end[-1]))
			*--end = '\0';
		if (*p)
			args_add(a, p, line);
	}
	return MOAT_EXIT_OK;
}

static bool timing_wanted(void)
{
	const char *t = getenv("MOAT_TIMING");

	return t && *t && strcmp(t, "0");
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A refusal of the kernel or a bad element is 1; an environment that
 * cannot do it at all (no permission, no nf_tables) is 2. */
static int exit_code(int r)
{
	switch (r) {
	case -EPERM:
	case -EACCES:
	case -EPROTONOSUPPORT:
	case -EAFNOSUPPORT:
		return MOAT_EXIT_USAGE;
	default:
		return MOAT_EXIT_BAD;
	}
}

static int fail(int r, char *msg)
{
	fprintf(stderr, "moat set: %s\n", msg ? msg : strerror(-r));
	free(msg);
	return exit_code(r);
}

static void print_list(const struct fw_set_info *info,
		       const struct fw_elems *el, bool json)
{
	struct buf b = BUF_INIT;

	if (!json) {
		for (size_t i = 0; i < el->n; i++) {
			fw_elem_format(&b, info->type, &el->v[i]);
			if (el->v[i].timeout_ms) {
				buf_adds(&b, " timeout ");
				fw_set_timeout_format(&b, el->v[i].timeout_ms);
			}
			if (el->v[i].expires_ms) {
				buf_adds(&b, " expires ");
				fw_set_timeout_format(&b, el->v[i].expires_ms);
			}
			buf_addc(&b, '\n');
		}
		fputs(b.p ? b.p : "", stdout);
		buf_free(&b);
		return;
	}
	buf_adds(&b, "{\"table\": \"" FW_SET_FAMILY_NAME " " FW_SET_TABLE
		 "\", \"set\": ");
	buf_json_str(&b, info->name, strlen(info->name));
	buf_printf(&b, ", \"type\": \"%s\", \"flags\": [",
		   fw_set_type_name(info->type));
	buf_adds(&b, info->interval ? "\"interval\"" : "");
	buf_adds(&b, info->interval && info->timeout ? ", " : "");
	buf_adds(&b, info->timeout ? "\"timeout\"" : "");
	buf_adds(&b, "]");
	if (info->timeout_ms)
		buf_printf(&b, ", \"timeout_ms\": %llu",
			   (unsigned long long)info->timeout_ms);
	buf_adds(&b, ", \"elements\": [");
	for (size_t i = 0; i < el->n; i++) {
		struct buf e = BUF_INIT;

		fw_elem_format(&e, info->type, &el->v[i]);
		buf_adds(&b, i ? ", " : "");
		/* Elements of a timeout set are objects, the others strings:
		 * one shape per set. */
		if (info->timeout)
			buf_adds(&b, "{\"elem\": ");
		buf_json_str(&b, e.p, e.len);
		if (info->timeout)
			buf_printf(&b, ", \"timeout_ms\": %llu, "
				   "\"expires_ms\": %llu}",
				   (unsigned long long)el->v[i].timeout_ms,
				   (unsigned long long)el->v[i].expires_ms);
		buf_free(&e);
	}
	buf_adds(&b, "]}\n");
	fputs(b.p, stdout);
	buf_free(&b);
}

/* Parses the elements for the set; on the first bad one prints where it
 * is and why. */
static int parse_elems(const struct fw_set_info *info, const struct args *a,
		       uint64_t timeout_ms, struct fw_elems *out)
{
	for (size_t i = 0; i < a->n; i++) {
		struct fw_elem e;
		char *why;

		if (fw_elem_parse(info, a->v[i].text, &e, &why)) {
			if (a->v[i].line)
				fprintf(stderr, "moat set: stdin:%zu: %s\n",
					a->v[i].line, why);
			else
				fprintf(stderr, "moat set: %s\n", why);
			free(why);
			return MOAT_EXIT_BAD;
		}
		e.timeout_ms = timeout_ms;
		fw_elems_add(out, &e);
	}
	return MOAT_EXIT_OK;
}

static int set_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct fw_elems el = { 0 };
	struct fw_set_info info;
	struct args args = { 0 };
	struct fw_set_nl *nl = NULL;
	const char *timeout = NULL;
	uint64_t timeout_ms = 0;
	bool json = false, from_stdin = false;
	long long t0 = 0;
	enum set_op op;
	char *msg = NULL;
	int c, r, rc;

	if (argc < 2)
		return cli_usage_error(&cli_cmd_set, "which one: add, del or "
				       "list?");
	if (!strcmp(argv[1], "add"))
		op = OP_ADD;
	else if (!strcmp(argv[1], "del") || !strcmp(argv[1], "delete"))
		op = OP_DEL;
	else if (!strcmp(argv[1], "list"))
		op = OP_LIST;
	else
		return cli_usage_error(&cli_cmd_set, "unknown subcommand '%s'",
				       argv[1]);
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 't': timeout = optarg; break;
		default:
			return cli_usage_error(&cli_cmd_set,
					       "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind == argc)
		return cli_usage_error(&cli_cmd_set, "which set?");
	if (json && op != OP_LIST)
		return cli_usage_error(&cli_cmd_set, "--json is for list");
	if (timeout && op != OP_ADD)
		return cli_usage_error(&cli_cmd_set, "--timeout is for add");
	if (timeout && fw_set_timeout_parse(timeout, &timeout_ms, &msg)) {
		rc = cli_usage_error(&cli_cmd_set, "%s", msg);
		free(msg);
		return rc;
	}
	if (op == OP_LIST && optind + 1 != argc)
		return cli_usage_error(&cli_cmd_set, "list takes one set name");
	if (op != OP_LIST && optind + 1 == argc)
		return cli_usage_error(&cli_cmd_set, "which elements? (give "
				       "them as arguments, or '-' to read "
				       "them from stdin)");
	for (int i = optind + 1; i < argc; i++) {
		if (strcmp(argv[i], "-")) {
			args_add(&args, argv[i], 0);
			continue;
		}
		if (from_stdin) {
			args_free(&args);
			return cli_usage_error(&cli_cmd_set,
					       "'-' (stdin) given twice");
		}
		from_stdin = true;
		if ((rc = read_stdin(&args))) {
			args_free(&args);
			return rc;
		}
	}

	if ((r = fw_set_nl_open(&nl, &msg))) {
		rc = fail(r, msg);
		goto out;
	}
	t0 = now_us();
	if ((r = fw_set_nl_get(nl, argv[optind], &info, &msg))) {
		rc = fail(r, msg);
		goto out;
	}
	if (op == OP_LIST) {
		if ((r = fw_set_nl_list(nl, &info, &el, &msg))) {
			rc = fail(r, msg);
			goto out;
		}
		print_list(&info, &el, json);
		rc = MOAT_EXIT_OK;
		goto out;
	}
	if (timeout && !info.timeout) {
		fprintf(stderr, "moat set: set \"%s\" has no flags timeout; "
			"its elements cannot expire\n", info.name);
		rc = MOAT_EXIT_BAD;
		goto out;
	}
	if ((rc = parse_elems(&info, &args, timeout_ms, &el)))
		goto out;
	if (op == OP_ADD) {
		fw_elems_merge(&info, &el);
		r = fw_set_nl_add(nl, &info, &el, &msg);
	} else {
		fw_elems_uniq(&info, &el);
		r = fw_set_nl_del(nl, &info, &el, &msg);
	}
	rc = r ? fail(r, msg) : MOAT_EXIT_OK;
out:
	if (t0 && timing_wanted())
		fprintf(stderr, "moat set: %lld us from GETSET to the last "
			"answer\n", now_us() - t0);
	fw_set_nl_close(nl);
	fw_elems_free(&el);
	args_free(&args);
	return rc;
}

const struct cli_cmd cli_cmd_set = {
	.name = "set",
	.summary = "add, delete and list elements of the firewall's sets",
	.help =
	"usage: moat set add NAME ELEMENT... [--timeout DURATION]\n"
	"       moat set del NAME ELEMENT...\n"
	"       moat set list NAME [--json]\n\n"
	"Changes the elements of set NAME of table inet moat (an ipset of\n"
	"the config, once applied) at run time, straight over netlink: one\n"
	"request to read the set, one transaction to change it. The config\n"
	"is not read and the ruleset is not touched. Elements added this\n"
	"way stay through applies of an unchanged config; applying a changed\n"
	"config replaces the table and resets every set to its entries.\n\n"
	"ELEMENT, by the set's type:\n"
	"  ipv4_addr     192.0.2.1, 10.0.0.0/8, 10.0.0.1-10.0.0.99\n"
	"  ipv6_addr     2001:db8::1, 2001:db8::/32, 2001:db8::1-2001:db8::ff\n"
	"  inet_service  443, 8000-8100\n"
	"  ether_addr    aa:bb:cc:dd:ee:ff, aa:bb:cc:00:00:00-aa:bb:cc:ff:ff:ff\n"
	"Prefixes and ranges need a set with flags interval. A prefix with\n"
	"host bits set (10.0.0.1/8) is an error. '-' reads elements from\n"
	"stdin, one per line (blank lines and # comments are skipped).\n\n"
	"add   adds the elements; adding one that is there is not an error.\n"
	"      In an interval set, overlapping and adjacent ranges given\n"
	"      together are merged into one (10.0.0.0/25 10.0.0.128/25 ->\n"
	"      10.0.0.0/24), and a range that overlaps elements already in\n"
	"      the set replaces them with their union, in one transaction.\n"
	"      A range that only touches an element is added beside it.\n"
	"      --timeout DURATION (90s, 10m, 1h30m, 2d, 500ms; a bare\n"
	"      number is seconds) makes the elements\n"
	"      expire; the set needs flags timeout.\n"
	"del   deletes the elements, each exactly as list shows it: an\n"
	"      address inside a range is not deleted from it. If one is not\n"
	"      in the set, nothing is deleted.\n"
	"list  prints the elements, one per line, sorted, ranges that are\n"
	"      a prefix as a prefix (as nft prints them), with timeout and\n"
	"      expires for elements that expire. --json prints {\"table\",\n"
	"      \"set\", \"type\", \"flags\", \"elements\"} (and \"timeout_ms\"\n"
	"      when the set has a default timeout); elements are\n"
	"      strings, or {\"elem\", \"timeout_ms\", \"expires_ms\"} in a\n"
	"      set with flags timeout.\n\n"
	"MOAT_TIMING=1 prints the time from reading the set to the last\n"
	"answer of the kernel on stderr.\n\n"
	"Exit status: 0 done, 1 an element is bad or the kernel refused\n"
	"(nothing changed), 2 usage error, no permission, no nf_tables in\n"
	"the kernel, or stdin cannot be read.\n",
	.run = set_run,
};
