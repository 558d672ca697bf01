/* The cage moat api serves from: its own empty network namespace, a chroot
 * to an empty directory, an unprivileged user, no_new_privs and a seccomp
 * allowlist. Each step is a function that returns 0, or -1 after printing
 * which step failed and why; api_sandbox_enter() runs them in order. It must
 * run while the process has one thread: seccomp is not synced to others. */
#ifndef MOAT_API_SANDBOX_H
#define MOAT_API_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

/* Listening sockets, plain and TLS together. */
#define API_MAX_LISTEN 64

/* An HTTPS listener as ctl passes it (--tls-listen-fd N:C:K). */
struct api_tls_fds {
	int listen_fd;			/* a listening stream socket */
	int cert_fd;			/* the PEM certificate chain and */
	int key_fd;			/* private key; -1 once read, closed */
};

struct api_sandbox {
	int rpc_fd;			/* AF_UNIX stream socket to ctl */
	int listen_fds[API_MAX_LISTEN];	/* listening sockets, plain HTTP */
	size_t n_listen;
	struct api_tls_fds tls[API_MAX_LISTEN];	/* HTTPS */
	size_t n_tls;			/* n_listen + n_tls <= API_MAX_LISTEN */
	const char *user;		/* who to become (not root) */
	const char *root;		/* the empty directory to chroot to */
	uid_t uid;			/* user's, from api_sb_lookup_user() */
	gid_t gid;
};

/* Checks what the fds are, makes the sockets non-blocking, all of them
 * close-on-exec, and closes every other fd above 2. */
int api_sb_check_fds(const struct api_sandbox *sb);
/* Resolves sb->user to sb->uid, sb->gid (before the chroot hides
 * /etc/passwd). */
int api_sb_lookup_user(struct api_sandbox *sb);
/* Moves into a new, empty network namespace. */
int api_sb_netns(void);
/* Makes sure dir exists, is root's and empty; chroots to it. */
int api_sb_chroot(const char *dir);
/* Becomes sb->uid/gid with no supplementary groups, for good. */
int api_sb_drop_user(const struct api_sandbox *sb);
/* no_new_privs, not dumpable. */
int api_sb_no_new_privs(void);
/* Installs the syscall allowlist (kills the process on anything else). */
int api_sb_seccomp(const struct api_sandbox *sb);
/* socket(AF_INET) must now fail with EPERM. */
int api_sb_selfcheck(void);

/* All of the above but api_sb_check_fds() (the caller's first step, before
 * it opens fds of its own), in order. */
int api_sandbox_enter(struct api_sandbox *sb);

#endif
