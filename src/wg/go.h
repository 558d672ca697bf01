/* wireguard-go, started and supervised by moat (go.c). */
#ifndef MOAT_WG_GO_H
#define MOAT_WG_GO_H

#include <stdbool.h>
#include <stddef.h>

/* Starts the supervisor of device name (detached), which starts
 * wireguard-go; returns once the device's UAPI socket answers. config is
 * what the supervisor re-applies after a restart. 0 or -1 with err. */
int wg_go_start(const char *name, const char *state_dir, const char *config,
		char *err, size_t errlen);
/* Stops the supervisor and so wireguard-go and the device. 0 or -errno. */
int wg_go_stop(const char *name, const char *state_dir);
bool wg_go_running(const char *name, const char *state_dir);
/* The supervisor itself (`moat wg supervise`): returns when stopped. */
int wg_go_supervise(const char *name, const char *state_dir,
		    const char *config);

#endif
