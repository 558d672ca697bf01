/* moat ctl: the root daemon. One libuv loop; the components (component.h)
 * apply the config; a reload applies only the components whose plan
 * changed and rolls the applied ones back when a later one fails; the
 * integrity monitor restores what someone else changed; the RPC server
 * (server.c) answers the CLI on ctl.sock and api on its socketpair;
 * apisup.c starts and restarts the sandboxed api process. */
#ifndef MOAT_CTL_CTL_H
#define MOAT_CTL_CTL_H
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "base/diag.h"
#include "ctl/component.h"

struct moat_config;
struct store;
struct monitor;

/* A config as it runs: its text, its plans. */
struct ctl_gen {
	struct moat_config *cfg;
	char *text;			/* the HCL */
	size_t len;
	char hash[65];			/* sha256 of text */
	void *plans[NCOMPONENTS];
	char phash[NCOMPONENTS][65];
	long long revision;		/* 0: none recorded */
};

/* Who asks, for the audit log and the role check. */
enum ctl_role { ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN };
struct ctl_caller {
	char who[80];			/* "root", "uid 1000", "alice" */
	char origin[64];		/* "ctl.sock", "api", "signal" */
	enum ctl_role role;
	bool from_api;			/* the untrusted process */
	unsigned uid;			/* ctl.sock: the peer's (SO_PEERCRED) */
};

struct ctl_conn;

/* One listening socket ctl opens for api. */
struct ctl_listener {
	char *addr;			/* as configured */
	int fd;
	/* HTTPS: the PEM files, read by ctl at each start of api (so a
	 * renewed certificate is served after `moat api` restarts) */
	char *cert, *key;
};

struct ctl {
	uv_loop_t *loop;
	char *config_path;		/* absolute */
	char *exe;			/* this binary, for api and upgrades */
	char *state_dir, *run_dir;
	bool flush_on_exit;
	struct store *store;
	struct ctl_gen *cur;		/* running */
	/* commit-confirmed: the config to go back to, and when */
	struct ctl_gen *prev;
	uv_timer_t confirm_timer;
	long long confirm_deadline;	/* unix ms; 0: none pending */
	/* the monitor, and what it restored */
	struct monitor *mon;
	unsigned long restores;
	char last_restore[512];
	long long last_restore_at;
	/* ctl.sock */
	uv_pipe_t sock;
	int sock_fd;			/* the listening fd (for a handoff) */
	struct ctl_conn *conns;		/* every connection, api's too */
	/* api */
	struct ctl_listener *listeners;
	size_t nlisteners;
	uv_process_t api_proc;
	bool api_running;
	int api_pid;
	unsigned api_restarts;
	uv_timer_t api_timer;		/* restart backoff */
	unsigned api_backoff_ms;
	long long api_started_at;
	struct ctl_conn *api_conn;
	/* signals */
	uv_signal_t sig[5];
	bool stopping;
	int exit_code;
	bool handed_over;		/* a takeover took the sockets */
	struct ctl_auth *auth;		/* auth.c's */
	struct ctl_metrics *metrics;	/* m_metrics.c's */
	struct ctl_wg *wg;		/* m_wg.c's: the devices as read */
	/* the self-signed certificate's SHA-256, "AB:CD:..."; "" if unused */
	char tls_fingerprint[96];
	struct ctl_staged *staged;	/* m_config.c's: the staged config */
	/* the key of ctl_hash_for_api (random, this run only) */
	unsigned char api_hash_key[32];
	bool api_hash_key_set;
};

struct ctl_opts {
	const char *config;
	bool flush_on_exit;
	bool takeover;
};
/* Runs ctl until SIGTERM (or a takeover); the exit status. */
int ctl_main(const struct ctl_opts *o);

/* What api's clients see instead of a config text's SHA-256 (hex, in
 * out): an HMAC of it under a key only this ctl holds, so that equal
 * texts still show equal digests, but a digest cannot be used to test
 * guesses at a secret the redacted text leaves out. */
void ctl_hash_for_api(struct ctl *c, const char *hash, char out[65]);

/* Ms since the epoch. */
long long ctl_now_ms(void);

/* Loads and compiles path (or text when not NULL), applies what changed,
 * records a revision and audits it. confirm_s > 0: roll back by itself
 * unless ctl_confirm comes within that many seconds. The answer (a JSON
 * object: outcome per component, the revision, errors with locations) is
 * returned in *res. 0 applied, -1 not (the old config keeps running). */
int ctl_apply(struct ctl *c, const char *path, const char *text,
	      int confirm_s, const struct ctl_caller *who, json_t **res);
int ctl_confirm(struct ctl *c, const struct ctl_caller *who, json_t **res);
int ctl_rollback(struct ctl *c, long long rev, const struct ctl_caller *who,
		 json_t **res);
json_t *ctl_status(struct ctl *c);
/* The WireGuard plans taken again from the store and applied; 0 or -1
 * with err (nothing changed then). restore: a device came back empty (its
 * process restarted): when the plans cannot be taken again, the running
 * one is applied as it is. */
int ctl_wg_resync(struct ctl *c, bool restore, char *err, size_t errlen);
/* Compiles text as ctl_apply would (key files, the store's peers) and
 * applies nothing: each component's plan hash into phash. 0, or -1 with
 * the errors in dl. */
int ctl_compile(struct ctl *c, const char *text, size_t len,
		char phash[NCOMPONENTS][65], struct diag_list *dl);
/* m_config.c: the staged config, wiped and freed (at ctl's exit). */
void ctl_config_free(struct ctl *c);
/* Appends to the audit log (errors go to stderr: an audit that cannot be
 * written must not stop the gateway). */
void ctl_audit(struct ctl *c, const struct ctl_caller *who,
	       const char *action, const char *detail, const char *result);
/* Sends an event to every subscribed connection. data is stolen. */
void ctl_event(struct ctl *c, const char *name, json_t *data);
void ctl_stop(struct ctl *c, int code);

/* server.c */
int ctl_server_listen(struct ctl *c, int fd, char *err, size_t errlen);
/* Serves RPC on fd (an api socketpair end); the connection is api's. */
struct ctl_conn *ctl_server_adopt(struct ctl *c, int fd, bool api);
/* Stops listening and closes the connections; keep_api keeps api's
 * (a stopping ctl serves its api until it has gone). */
void ctl_server_close_all(struct ctl *c, bool keep_api);
/* The fds a takeover hands over: ctl.sock's, then each listener's. */
int ctl_takeover_send(struct ctl *c, int client_fd);

/* apisup.c */
int ctl_api_open(struct ctl *c, const struct moat_config *cfg, char *err,
		 size_t errlen);
/* After a takeover: which of the sockets received are HTTPS, and with
 * which files, by the config's tls_listen addresses; those the config
 * does not want (any more) are closed. */
void ctl_api_adopt_tls(struct ctl *c, const struct moat_config *cfg);
void ctl_api_start(struct ctl *c);
/* Logs each listener whose address no interface has (after the first
 * apply: the listeners are opened with IP_FREEBIND before it). */
void ctl_api_check_addrs(struct ctl *c);
/* true: api is stopping, and the server is closed when it has gone */
bool ctl_api_stop(struct ctl *c);

void ctl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* sd_notify, when NOTIFY_SOCKET is set. */
void ctl_notify(const char *state);
#endif
