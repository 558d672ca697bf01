/* moat api's sandbox: steps 2-6 of its start (see api.h), each on its own.
 * It must not be loosened to make a feature work without saying why here:
 * api parses whatever the network sends, so it is built to be taken over
 * without the taker getting a socket, a file or a privilege. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "api/sandbox.h"

/* Prints "api: sandbox: WHAT: strerror(errno)" and returns -1. */
static int MOAT_PRINTF(1, 2) sb_fail(const char *fmt, ...)
{
	int e = errno;
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	api_log("sandbox: %s: %s", what, strerror(e));
	errno = e;
	return -1;
}

/* Prints "api: sandbox: WHAT" (no errno) and returns -1. */
#define sb_refuse(...) (api_log("sandbox: " __VA_ARGS__), -1)

static int sock_opt(int fd, int opt, int *v)
{
	socklen_t n = sizeof(*v);

	return getsockopt(fd, SOL_SOCKET, opt, v, &n);
}

/* Non-blocking (shared with ctl's copy: ctl never reads these), and not
 * passed on to anything api might exec (nothing, but still). */
static int set_fd_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return sb_fail("fcntl(fd %d)", fd);
	return 0;
}

/* opt: the option that named fd, for the message. */
static int check_listen_fd(const char *opt, int fd)
{
	int type, on;

	if (sock_opt(fd, SO_TYPE, &type) < 0)
		return sb_fail("%s %d is not a socket", opt, fd);
	if (type != SOCK_STREAM)
		return sb_refuse("%s %d is not a stream socket", opt, fd);
	if (sock_opt(fd, SO_ACCEPTCONN, &on) < 0)
		return sb_fail("getsockopt(fd %d, SO_ACCEPTCONN)", fd);
	if (!on)
		return sb_refuse("%s %d is not listening", opt, fd);
	return set_fd_flags(fd);
}

/* A certificate or key: something api can read from start to end (ctl
 * passes a sealed memfd), never a socket. It stays blocking: it is read
 * once, before the sandbox. */
static int check_pem_fd(const struct api_tls_fds *t, int fd, const char *what)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fstat(fd, &st) < 0)
		return sb_fail("--tls-listen-fd %d: the %s, fd %d", t->listen_fd,
			       what, fd);
	if (S_ISSOCK(st.st_mode) || S_ISDIR(st.st_mode))
		return sb_refuse("--tls-listen-fd %d: the %s, fd %d, is a %s, "
				 "not a file", t->listen_fd, what, fd,
				 S_ISSOCK(st.st_mode) ? "socket" :
				 "directory");
	if ((fl & O_ACCMODE) == O_WRONLY)
		return sb_refuse("--tls-listen-fd %d: the %s, fd %d, is not "
				 "open for reading", t->listen_fd, what, fd);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return sb_fail("fcntl(fd %d)", fd);
	return 0;
}

static int check_tls_fds(const struct api_tls_fds *t)
{
	if (check_listen_fd("--tls-listen-fd", t->listen_fd) < 0 ||
	    check_pem_fd(t, t->cert_fd, "certificate") < 0 ||
	    check_pem_fd(t, t->key_fd, "key") < 0)
		return -1;
	return 0;
}

static int check_rpc_fd(int fd)
{
	int domain, type;

	if (sock_opt(fd, SO_DOMAIN, &domain) < 0)
		return sb_fail("--rpc-fd %d is not a socket", fd);
	if (sock_opt(fd, SO_TYPE, &type) < 0)
		return sb_fail("getsockopt(fd %d, SO_TYPE)", fd);
	if (domain != AF_UNIX || type != SOCK_STREAM)
		return sb_refuse("--rpc-fd %d is not an AF_UNIX stream socket",
				 fd);
	return set_fd_flags(fd);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every fd above 2 that is not one of sb's: whatever else the
 * parent leaked would otherwise outlive the sandbox. The certificates
 * and keys are kept until api has read them. */
static int close_others(const struct api_sandbox *sb)
{
	int keep[1 + 3 * API_MAX_LISTEN];
	size_t n = 0;
	unsigned int from = 3;

	keep[n++] = sb->rpc_fd;
	for (size_t i = 0; i < sb->n_listen; i++)
		keep[n++] = sb->listen_fds[i];
	for (size_t i = 0; i < sb->n_tls; i++) {
		keep[n++] = sb->tls[i].listen_fd;
		if (sb->tls[i].cert_fd >= 0)
			keep[n++] = sb->tls[i].cert_fd;
		if (sb->tls[i].key_fd >= 0)
			keep[n++] = sb->tls[i].key_fd;
	}
	qsort(keep, n, sizeof(keep[0]), cmp_int);
	for (size_t i = 0; i <= n; i++) {
		unsigned int to = i < n ? (unsigned int)keep[i] : ~0u;

		if (to > from && close_range(from, to - 1, 0) < 0)
			return sb_fail("close_range(%u, %u)", from, to - 1);
		if (i < n)
			from = (unsigned int)keep[i] + 1;
	}
	return 0;
}

int api_sb_check_fds(const struct api_sandbox *sb)
{
	if (check_rpc_fd(sb->rpc_fd) < 0)
		return -1;
	for (size_t i = 0; i < sb->n_listen; i++)
		if (check_listen_fd("--listen-fd", sb->listen_fds[i]) < 0)
			return -1;
	for (size_t i = 0; i < sb->n_tls; i++)
		if (check_tls_fds(&sb->tls[i]) < 0)
			return -1;
	return close_others(sb);
}

int api_sb_lookup_user(struct api_sandbox *sb)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(sb->user);
	if (!pw) {
		if (errno)
			return sb_fail("getpwnam(%s)", sb->user);
		return sb_refuse("no user '%s'", sb->user);
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return sb_refuse("user '%s' is root (uid or gid 0)", sb->user);
	sb->uid = pw->pw_uid;
	sb->gid = pw->pw_gid;
	return 0;
}

int api_sb_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0)
		return sb_fail("unshare(CLONE_NEWNET)");
	return 0;
}

/* Creates dir and its missing parents, 0755 (api's own default
 * /run/moat/api-root may not exist yet). */
static int make_dirs(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return sb_refuse("bad --root '%s'", dir);
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; ; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return sb_fail("mkdir(%s)", path);
		*p = c;
		if (c == '\0')
			return 0;
	}
}

static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return sb_fail("opendir(%s)", dir);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

/* A root that api (once nobody) could write to, or that holds anything,
 * would give back some of what the chroot takes away. */
static int check_root(const char *dir)
{
	struct stat st;
	int empty;

	if (make_dirs(dir) < 0)
		return -1;
	if (stat(dir, &st) < 0)
		return sb_fail("stat(%s)", dir);
	if (!S_ISDIR(st.st_mode))
		return sb_refuse("%s is not a directory", dir);
	if (st.st_uid != 0 || (st.st_mode & 022))
		return sb_refuse("%s must be root's and writable only by root "
				 "(uid %u, mode %04o)", dir,
				 (unsigned int)st.st_uid,
				 (unsigned int)(st.st_mode & 07777));
	empty = dir_is_empty(dir);
	if (empty < 0)
		return -1;
	if (!empty)
		return sb_refuse("%s is not empty", dir);
	return 0;
}

int api_sb_chroot(const char *dir)
{
	if (check_root(dir) < 0)
		return -1;
	if (chroot(dir) < 0)
		return sb_fail("chroot(%s)", dir);
	if (chdir("/") < 0)
		return sb_fail("chdir(/) in %s", dir);
	return 0;
}

int api_sb_drop_user(const struct api_sandbox *sb)
{
	uid_t r, e, s;

	if (setgroups(0, NULL) < 0)
		return sb_fail("setgroups(0)");
	if (setresgid(sb->gid, sb->gid, sb->gid) < 0)
		return sb_fail("setresgid(%u)", (unsigned int)sb->gid);
	if (setresuid(sb->uid, sb->uid, sb->uid) < 0)
		return sb_fail("setresuid(%u)", (unsigned int)sb->uid);
	if (getresuid(&r, &e, &s) < 0 || r != sb->uid || e != sb->uid ||
	    s != sb->uid)
		return sb_refuse("still not uid %u", (unsigned int)sb->uid);
	/* no way back: a saved uid or a kept capability would show here */
	if (setuid(0) == 0 || setgid(0) == 0)
		return sb_refuse("setuid(0) still works after dropping to %s",
				 sb->user);
	return 0;
}

int api_sb_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return sb_fail("prctl(PR_SET_NO_NEW_PRIVS)");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return sb_fail("prctl(PR_SET_DUMPABLE, 0)");
	return 0;
}

/* Syscalls api may make with any arguments, once the sandbox is up:
 * libmicrohttpd's threads on the passed sockets, the RPC loop, glibc.
 * Found with strace -f on every path the tests drive (tests/system/
 * test_api_sandbox.py); the ones that are not obvious say why. A name
 * this architecture lacks is skipped. */
static const int sb_allow[] = {
	/* memory: malloc (brk, then mmap/mremap for big blocks), thread
	 * stacks (glibc returns a dead thread's with madvise) */
	SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise),
	/* threads: MHD's workers. A new thread registers its robust futex
	 * list and rseq area and MHD names it (prctl, below); malloc sizes
	 * its arenas from the CPUs it may use once there are many threads
	 * (sched_getaffinity) */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(sched_getaffinity), SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* signals: SIGTERM comes through a signalfd (read); glibc blocks
	 * signals around clone; abort() raises SIGABRT with getpid, gettid
	 * and tgkill (below) */
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid), SCMP_SYS(gettid),
	/* fds api already has; MHD's own epoll set and wake-up eventfd (a
	 * pipe where it was built without eventfd); ppoll and epoll_pwait
	 * are how arm64 polls */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(close), SCMP_SYS(fcntl),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(epoll_create1),
	SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(eventfd2), SCMP_SYS(pipe2),
	/* connections accepted on the passed sockets: MHD sends the head
	 * and a body together with sendmsg, sets TCP_NODELAY/TCP_CORK,
	 * reads the listening socket's address */
	SCMP_SYS(accept4), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	SCMP_SYS(sendmsg), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	/* time: the vDSO answers most; these are its fallbacks */
	SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
	/* randomness, for GnuTLS's handshakes too. TLS needs nothing more:
	 * GnuTLS reads and writes records with recvfrom and sendmsg
	 * (above); its config and random-number setup happen at load,
	 * before main (see api_main()) */
	SCMP_SYS(getrandom),
#ifdef __SANITIZE_ADDRESS__
	/* ASan gives each thread a signal stack for its reports */
	SCMP_SYS(sigaltstack),
#endif
};

#ifdef __SANITIZE_ADDRESS__
/* LeakSanitizer's check at exit ptraces the process from a child and
 * reads /proc/self/maps: neither is possible in here, so it is off once
 * the filter is on (ASan's other checks still run). */
static volatile int sb_sealed;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return sb_sealed;
}
#endif

/* Refused with an errno instead of killing: a call api must survive. */
static const struct {
	int nr;
	int err;
} sb_refused[] = {
	/* the self-check probes it; nothing in api may open a socket */
	{ SCMP_SYS(socket), EPERM },
	/* clone3 takes its flags in memory seccomp cannot read: ENOSYS makes
	 * glibc's pthread_create fall back to clone, whose flags are checked
	 * below */
	{ SCMP_SYS(clone3), ENOSYS },
	/* glibc's malloc, the first time it gives back part of a thread's
	 * heap, reads /proc/sys/vm/overcommit_memory to choose how; when
	 * that cannot be opened it uses madvise (allowed). A TLS connection
	 * takes tens of kB from its worker's heap, so closing one gets
	 * there: killing would let any client stop api. Nothing else in
	 * api opens a file (and there are none in the chroot). */
	{ SCMP_SYS(openat), EACCES },
};

/* The calls allowed only with some arguments. */
/* libseccomp's SCMP_An() leave datum_b to the compiler, which clang
 * (-Wmissing-field-initializers) refuses: every field named. */
#define ARG(n, cmp, a, b) ((struct scmp_arg_cmp){ .arg = (n), .op = (cmp), \
						 .datum_a = (a), .datum_b = (b) })
#define ARG_EQ(n, a) ARG(n, SCMP_CMP_EQ, a, 0)

static int sb_allow_args(scmp_filter_ctx ctx, const struct api_sandbox *sb)
{
	/* a thread, never a process nor a namespace */
	const uint64_t clone_mask = CLONE_VM | CLONE_THREAD | CLONE_NEWNS |
		CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC |
		CLONE_NEWUTS | CLONE_NEWCGROUP;
	int r;

	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			     ARG(0, SCMP_CMP_MASKED_EQ, clone_mask,
				 CLONE_VM | CLONE_THREAD));
	/* no executable memory: api never loads code after its start */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect),
				     1, ARG(2, SCMP_CMP_MASKED_EQ,
						    PROT_EXEC, 0));
	/* an HTTPS WebSocket (/api/ws): MHD hands the application one end
	 * of a socketpair and does the TLS on the other. AF_UNIX only, so
	 * nothing reaches further than api itself */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair),
				     1, ARG_EQ(0, AF_UNIX));
	/* MHD names its threads ("MHD-worker") */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
				     ARG_EQ(0, PR_SET_NAME));
	/* abort() raises SIGABRT at itself, and only there */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				     ARG_EQ(0, (uint64_t)getpid()));
	/* shutdown() of a listening socket would refuse connections for
	 * ctl's copy too, and for the api that takes over after us: EPERM
	 * for those fds. libseccomp checks EQ before GE, whatever the order
	 * the rules are added in (seccomp_export_pfc shows it); an
	 * unconditional ALLOW would swallow the EQ rules instead. */
	for (size_t i = 0; i < sb->n_listen && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				     SCMP_SYS(shutdown), 1,
				     ARG_EQ(0, (uint64_t)sb->listen_fds[i]));
	for (size_t i = 0; i < sb->n_tls && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
				     SCMP_SYS(shutdown), 1,
				     ARG_EQ(0, (uint64_t)sb->tls[i].listen_fd));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(shutdown),
				     1, ARG(0, SCMP_CMP_GE, 0, 0));
	return r;
}

int api_sb_seccomp(const struct api_sandbox *sb)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r = 0;

	if (!ctx)
		return sb_refuse("seccomp_init failed");
	/* a name the architecture lacks (poll on arm64) is negative */
	for (size_t i = 0; i < ARRAY_SIZE(sb_allow) && !r; i++)
		if (sb_allow[i] >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sb_allow[i],
					     0);
	for (size_t i = 0; i < ARRAY_SIZE(sb_refused) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(sb_refused[i].err),
				     sb_refused[i].nr, 0);
	if (!r)
		r = sb_allow_args(ctx, sb);
	if (r) {
		errno = -r;
		sb_fail("seccomp_rule_add");
		goto out;
	}
	r = seccomp_load(ctx);
	if (r) {
		errno = -r;
		sb_fail("seccomp_load");
	}
#ifdef __SANITIZE_ADDRESS__
	sb_sealed = !r;
#endif
out:
	seccomp_release(ctx);
	return r ? -1 : 0;
}

int api_sb_selfcheck(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd >= 0) {
		close(fd);
		return sb_refuse("socket(AF_INET) still works under seccomp");
	}
	if (errno != EPERM)
		return sb_fail("socket(AF_INET) failed, but not with EPERM");
	api_log("sandbox: socket(AF_INET) refused (EPERM)");
	return 0;
}

int api_sandbox_enter(struct api_sandbox *sb)
{
	if (api_sb_lookup_user(sb) < 0 ||
	    api_sb_netns() < 0 || api_sb_chroot(sb->root) < 0 ||
	    api_sb_drop_user(sb) < 0 || api_sb_no_new_privs() < 0 ||
	    api_sb_seccomp(sb) < 0 || api_sb_selfcheck() < 0)
		return -1;
	api_log("sandbox: empty netns, chroot %s, uid %u gid %u, "
		"no_new_privs, seccomp", sb->root, (unsigned int)sb->uid,
		(unsigned int)sb->gid);
	return 0;
}
