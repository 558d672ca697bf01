/* moat api: the unprivileged HTTP process of the control plane. moat ctl
 * opens the listening sockets and a socketpair, then fork+execs
 * `moat api --rpc-fd 3 --listen-fd 4 --tls-listen-fd 5:6:7 ...`. api
 * checks the fds, reads the HTTPS certificates and keys (and closes their
 * fds), builds its sandbox (sandbox.h), and serves HTTP and HTTPS;
 * whatever needs state is an RPC to ctl. It exits 0 when ctl closes the
 * socketpair or on SIGTERM. */
#ifndef MOAT_API_API_H
#define MOAT_API_API_H

#include "api/sandbox.h"
#include "base/util.h"
#include "cli/cli.h"

#define API_DEFAULT_ROOT "/run/moat/api-root"
#define API_DEFAULT_USER "nobody"
/* How long a request waits for ctl's answer. */
#define API_RPC_TIMEOUT_MS 1000

/* Runs api on sb's fds (sb->uid/gid are filled in); returns an exit
 * status. */
int api_main(struct api_sandbox *sb);

/* One line on stderr, "api: " first. Never pass it a secret. */
void api_log(const char *fmt, ...) MOAT_PRINTF(1, 2);

extern const struct cli_cmd cli_cmd_api;

#endif
