/* Processes of the lab (run.c): commands with an argv, namespaces,
 * detached daemons, and stopping what the lab started. */
#ifndef MOAT_LAB_RUN_H
#define MOAT_LAB_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "lab/lab.h"

#define LAB_NETNS_DIR "/run/netns"

/* A command to run and wait for. */
struct lab_cmd {
	char *const *argv;	/* argv[0] is looked up in PATH */
	const char *ns;		/* namespace to run it in, or NULL */
	const char *const *env;	/* "NAME=VALUE"s to add, NULL-terminated */
};

/* Runs c; its stdout and stderr go to out (NULL: ours). Returns its exit
 * status, 128 + the signal that killed it, or -errno when it could not
 * be started (-ENOENT: not installed). */
int lab_run(const struct lab_cmd *c, struct buf *out);
/* lab_run of "ip" with args (NULL-terminated; at most 30). */
int lab_ip(struct buf *out, const char *const *args);

/* A daemon: its own session, in a node's namespace, stdin and stdout on
 * /dev/null, stderr appended to log. */
struct lab_daemon {
	char *const *argv;
	const char *ns;
	const char *etc;	/* dir with hosts and resolv.conf, or NULL */
	const char *log;
	const char *cwd;
};

/* Starts d; 0 with *pid, or -errno when it could not exec. */
int lab_daemon_start(const struct lab_daemon *d, int *pid);

/* Enters namespace ns (setns); -errno. */
int lab_netns_enter(const char *ns);
/* Binds etc_dir's hosts and resolv.conf over /etc's in a new mount
 * namespace (NULL: nothing); -errno. */
int lab_etc_enter(const char *etc_dir);

/* Reads /proc/PID/stat. */
bool lab_pid_info(int pid, char *state, unsigned long long *starttime);
/* Whether p exists, is not a zombie and, when its start time is known,
 * is the process that started then. */
bool lab_proc_alive(const struct lab_proc *p);
/* The live processes inside namespace ns, appended to l. */
int lab_ns_pids(const char *ns, struct lab_procs *l);
/* SIGTERM, up to 2 s, then SIGKILL; returns how many are still there. */
size_t lab_procs_stop(const struct lab_procs *l);

/* moat's environment in gw: MOAT_STATE_DIR and MOAT_RUN_DIR in the lab
 * directory (never the config's state_dir), as "NAME=VALUE" strings
 * (malloc'd) and a NULL. */
void lab_gw_env(const struct lab_ctx *ctx, char *env[3]);
/* `moat SUB -c LABDIR/moat.hcl` in gw with that environment; as lab_run. */
int lab_gw_moat(const struct lab_ctx *ctx, const char *sub, struct buf *out);

/* SIGINT, SIGTERM and SIGHUP set a flag lab_interrupted() returns. */
void lab_catch_signals(void);
int lab_interrupted(void);
void lab_sleep_ms(long ms);

#endif
