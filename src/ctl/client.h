/* Talking to a running ctl over RUN_DIR/ctl.sock, blocking: the CLI's
 * side of the RPC, and the new ctl's side of a takeover. */
#ifndef MOAT_CTL_CLIENT_H
#define MOAT_CTL_CLIENT_H
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* $MOAT_RUN_DIR, else /run/moat. */
const char *ctl_run_dir(void);

/* A connection to ctl: the fd, or -1 with err set; *absent is true when
 * no ctl listens there (no socket, or nobody accepting). */
int ctl_client_open(bool *absent, char *err, size_t errlen);

/* One request and its answer (events in between are skipped). params is
 * stolen (NULL: {}). 0 with *result (the caller decrefs it); -1 with err
 * (ctl's error message, or what went wrong on the way). */
int ctl_client_call(int fd, const char *method, json_t *params,
		    json_t **result, char *err, size_t errlen);

/* Reads the next message (an event after events.subscribe). 1, 0 at the
 * end, -1 on error. */
int ctl_client_next(int fd, json_t **msg, char *err, size_t errlen);

/* A takeover: asks the running ctl for its sockets. fds gets up to max
 * of them (ctl.sock's first), *n how many; *msg the answer. */
int ctl_takeover_request(int *fds, size_t max, size_t *n, json_t **msg,
			 char *err, size_t errlen);
#endif
