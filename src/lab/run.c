/* Processes of the lab: running ip and moat with an argv (never through
 * a shell), entering a node's namespace, starting detached daemons, and
 * stopping them. Kills only PIDs that ip found inside a lab namespace or
 * that the lab recorded, checked against their start time. */
#include "lab/run.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "base/util.h"
#include "lab/dir.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

void lab_catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int lab_interrupted(void)
{
	return interrupted;
}

void lab_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int lab_netns_enter(const char *ns)
{
	char path[128];
	int fd, r = 0;

	snprintf(path, sizeof(path), LAB_NETNS_DIR "/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* As `ip netns exec` does for /etc/netns/NAME: the lab's own hosts and
 * resolv.conf, in a mount namespace of the process's own, so that names
 * resolve inside the lab and never wait on the host's resolver. */
int lab_etc_enter(const char *etc_dir)
{
	static const char *const files[] = { "hosts", "resolv.conf" };
	char src[4096], dst[64];

	if (!etc_dir)
		return 0;
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return -errno;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(src, sizeof(src), "%s/%s", etc_dir, files[i]);
		snprintf(dst, sizeof(dst), "/etc/%s", files[i]);
		if (access(src, R_OK) == 0 &&
		    mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return -errno;
	}
	return 0;
}

/* In a child: signals as a fresh process has them. */
static void reset_signals(void)
{
	sigset_t none;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Tells the parent why the child did not get to exec: errno through a
 * close-on-exec pipe, which an exec closes empty. */
static _Noreturn void child_fail(int fd, int err)
{
	ssize_t w = write(fd, &err, sizeof(err));

	(void)w;
	_exit(127);
}

static void child_run(const struct lab_cmd *c, int out_fd, int err_pipe)
{
	int r;

	reset_signals();
	if (c->ns && (r = lab_netns_enter(c->ns)) < 0)
		child_fail(err_pipe, -r);
	for (size_t i = 0; c->env && c->env[i]; i++)
		putenv((char *)c->env[i]);
	if (out_fd >= 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd, 1) < 0 ||
		    dup2(out_fd, 2) < 0)
			child_fail(err_pipe, errno);
	}
	execvp(c->argv[0], c->argv);
	child_fail(err_pipe, errno);
}

/* Reads the child's errno before exec, if any: 0 when it exec'd. */
static int exec_error(int fd)
{
	int err = 0;
	ssize_t n;

	do
		n = read(fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(fd);
	return n == sizeof(err) ? err : 0;
}

static void read_all(int fd, struct buf *out)
{
	char b[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, b, sizeof(b));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(out, b, (size_t)n);
	}
	close(fd);
}

static int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int lab_run(const struct lab_cmd *c, struct buf *out)
{
	int ep[2], op[2] = { -1, -1 }, err, st;
	pid_t pid;

	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	if (out && pipe2(op, O_CLOEXEC) < 0) {
		err = -errno;
		close(ep[0]);
		close(ep[1]);
		return err;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child_run(c, op[1], ep[1]);
	err = -errno;
	close(ep[1]);
	if (op[1] >= 0)
		close(op[1]);
	if (pid < 0) {
		close(ep[0]);
		if (op[0] >= 0)
			close(op[0]);
		return err;
	}
	if (out)
		read_all(op[0], out);
	err = exec_error(ep[0]);
	st = wait_status(pid);
	return err ? -err : st;
}

int lab_ip(struct buf *out, const char *const *args)
{
	const char *argv[32] = { "ip" };
	struct lab_cmd c = { .argv = (char **)argv };
	size_t n = 1;

	while (n < ARRAY_SIZE(argv) - 1 && args[n - 1]) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	return lab_run(&c, out);
}

/* The daemon's side of the fork: its own session, the node's namespace
 * and /etc, output to the log, and nothing else of ours. */
static void daemon_child(const struct lab_daemon *d, int err_pipe)
{
	int null, log, r;

	reset_signals();
	if (setsid() < 0)
		child_fail(err_pipe, errno);
	if ((r = lab_netns_enter(d->ns)) < 0 || (r = lab_etc_enter(d->etc)) < 0)
		child_fail(err_pipe, -r);
	null = open("/dev/null", O_RDWR);
	log = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0640);
	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 ||
	    dup2(log, 2) < 0)
		child_fail(err_pipe, errno);
	if (d->cwd && chdir(d->cwd) < 0)
		child_fail(err_pipe, errno);
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
	execvp(d->argv[0], d->argv);
	child_fail(err_pipe, errno);
}

int lab_daemon_start(const struct lab_daemon *d, int *pid_out)
{
	int ep[2], err;
	pid_t pid;

	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		daemon_child(d, ep[1]);
	err = -errno;
	close(ep[1]);
	if (pid < 0) {
		close(ep[0]);
		return err;
	}
	*pid_out = pid;
	err = exec_error(ep[0]);
	if (err) {
		wait_status(pid);
		return -err;
	}
	return 0;
}

bool lab_pid_info(int pid, char *state, unsigned long long *starttime)
{
	char path[64], *text;
	size_t len;
	bool ok;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (file_read(path, 4096, &text, &len) < 0)
		return false;
	ok = lab_proc_stat(text, state, starttime);
	free(text);
	return ok;
}

/* Our own zombies are reaped on the way. */
bool lab_proc_alive(const struct lab_proc *p)
{
	unsigned long long start;
	char state;

	while (waitpid(p->pid, NULL, WNOHANG) > 0)
		;
	if (!lab_pid_info(p->pid, &state, &start) || state == 'Z')
		return false;
	return !p->starttime || start == p->starttime;
}

/* Waits up to ms for every process to be gone; how many are left. */
static size_t wait_gone(const struct lab_procs *l, long ms)
{
	size_t left;

	for (long t = 0;; t += 20) {
		left = 0;
		for (size_t i = 0; i < l->n; i++)
			left += lab_proc_alive(&l->v[i]);
		if (!left || t >= ms)
			return left;
		lab_sleep_ms(20);
	}
}

static void signal_all(const struct lab_procs *l, int sig)
{
	for (size_t i = 0; i < l->n; i++)
		if (lab_proc_alive(&l->v[i]))
			kill(l->v[i].pid, sig);
}

size_t lab_procs_stop(const struct lab_procs *l)
{
	signal_all(l, SIGTERM);
	if (!wait_gone(l, 2000))
		return 0;
	signal_all(l, SIGKILL);
	return wait_gone(l, 3000);
}

int lab_ns_pids(const char *ns, struct lab_procs *l)
{
	struct buf out = BUF_INIT;
	char *line, *save = NULL;
	int r;

	r = lab_ip(&out, (const char *[]){ "netns", "pids", ns, NULL });
	if (r != 0) {
		buf_free(&out);
		return r < 0 ? r : -ESRCH;
	}
	for (line = strtok_r(out.p ? out.p : "", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct lab_proc p = { .pid = atoi(line) };
		char state;

		if (p.pid <= 0 || !lab_pid_info(p.pid, &state, &p.starttime) ||
		    state == 'Z')
			continue;
		lab_procs_push(l, &p);
	}
	buf_free(&out);
	return 0;
}

void lab_gw_env(const struct lab_ctx *ctx, char *env[3])
{
	env[0] = xasprintf("MOAT_STATE_DIR=%s/state", ctx->dir);
	env[1] = xasprintf("MOAT_RUN_DIR=%s/run", ctx->dir);
	env[2] = NULL;
}

int lab_gw_moat(const struct lab_ctx *ctx, const char *sub, struct buf *out)
{
	char *cfg = lab_path(ctx, LAB_CONFIG), *env[3], ns[64];
	char *argv[] = { "/proc/self/exe", (char *)sub, "-c", cfg, NULL };
	struct lab_cmd c = { argv, ns, (const char *const *)env };
	int r;

	lab_gw_env(ctx, env);
	lab_ns_name(ctx->id, lab_kinds[LAB_GW].name, ns);
	r = lab_run(&c, out);
	free(env[0]);
	free(env[1]);
	free(cfg);
	return r;
}
