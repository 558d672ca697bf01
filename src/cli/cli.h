/* The command-line front end: one file per command family, each exporting
 * one struct cli_cmd that moat.c lists. */
#ifndef MOAT_CLI_CLI_H
#define MOAT_CLI_CLI_H

/* Exit codes every command uses. */
enum {
	MOAT_EXIT_OK = 0,	/* done, or the thing checked is fine */
	MOAT_EXIT_BAD = 1,	/* the thing checked is wrong */
	MOAT_EXIT_USAGE = 2,	/* usage or environment error */
};

#define MOAT_DEFAULT_CONFIG "/etc/moat/moat.hcl"

struct cli_cmd {
	const char *name;
	const char *summary;	/* one line for `moat help` */
	const char *help;	/* the whole text for `moat help NAME` */
	int (*run)(int argc, char **argv);	/* argv[0] is the name */
};

extern const struct cli_cmd cli_cmd_check;
extern const struct cli_cmd cli_cmd_config;
extern const struct cli_cmd cli_cmd_help;
extern const struct cli_cmd cli_cmd_set;
extern const struct cli_cmd cli_cmd_compile;
extern const struct cli_cmd cli_cmd_apply;
extern const struct cli_cmd cli_cmd_diff;
extern const struct cli_cmd cli_cmd_status;
extern const struct cli_cmd cli_cmd_lab;
extern const struct cli_cmd cli_cmd_wg;
extern const struct cli_cmd cli_cmd_ctl;
extern const struct cli_cmd cli_cmd_reload;
extern const struct cli_cmd cli_cmd_confirm;
extern const struct cli_cmd cli_cmd_rollback;
extern const struct cli_cmd cli_cmd_revisions;
extern const struct cli_cmd cli_cmd_audit;
extern const struct cli_cmd cli_cmd_api;

/* The table, NULL-terminated, in the order `moat help` lists them. */
extern const struct cli_cmd *const cli_cmds[];

const struct cli_cmd *cli_find(const char *name);
/* Prints "moat NAME: msg" and a hint to stderr; returns MOAT_EXIT_USAGE. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

struct moat_config;
struct fw_plan;
/* Loads, validates and compiles path, printing the diagnostics; returns
 * an exit status, with *cfg and *plan set when it is MOAT_EXIT_OK. */
int cli_compile(const char *path, struct moat_config **cfg,
		struct fw_plan **plan);
/* Where moat keeps its state: $MOAT_STATE_DIR, else the config's
 * state_dir, else /var/lib/moat. cfg may be NULL. */
const char *cli_state_dir(const struct moat_config *cfg);
/* A unix time as local "YYYY-MM-DD HH:MM:SS +ZZZZ", "never" for 0. */
void cli_when(char *out, size_t n, long long t);
/* Parses `-c FILE` as the only option; returns 0 or an exit status. */
int cli_config_opt(const struct cli_cmd *cmd, int argc, char **argv,
		   const char **path);

#endif
