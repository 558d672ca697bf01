/* wireguard-go under a supervisor: `moat wg supervise NAME` runs
 * `wireguard-go -f NAME` as its child, restarts it when it dies (with a
 * backoff) and then re-applies the config the last apply used, so that
 * the device comes back with its key, peers, addresses and routes; it
 * stops wireguard-go (which removes the device) on SIGTERM. Its pid is in
 * STATE_DIR/wg/NAME.pid, its log and wireguard-go's in NAME.log. When
 * moat ctl runs, it will be the supervisor instead. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "base/util.h"
#include "ctl/client.h"
#include "wg/go.h"
#include "wg/uapi.h"

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static char *wg_path(const char *state_dir, const char *name, const char *ext)
{
	return xasprintf("%s/wg/%s.%s", state_dir, name, ext);
}

static void say(const char *name, const char *fmt, ...) MOAT_PRINTF(2, 3);

static void say(const char *name, const char *fmt, ...)
{
	va_list ap;
	time_t now = time(NULL);
	char when[32];

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime(&now));
	fprintf(stderr, "%s moat wg supervise %s: ", when, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static pid_t spawn(char *const argv[], const char *name)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[0], argv);
		say(name, "cannot run %s", argv[0]);
		_exit(127);
	}
	return pid;
}

/* Waits (up to ms) until the device's UAPI socket answers. */
static bool wait_uapi(const char *name, int ms, pid_t child)
{
	for (int i = 0; i < ms / 20; i++) {
		if (wg_uapi_present(name))
			return true;
		if (child > 0 && waitpid(child, NULL, WNOHANG) == child)
			return false;
		usleep(20000);
	}
	return false;
}

/* Sleeps s seconds unless told to stop. */
static void nap(int s)
{
	struct timespec t = { .tv_sec = s };

	while (!stopping && nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* Asks a running ctl to apply its WireGuard plan again; false when no
 * ctl answers. */
static bool ctl_sync(const char *name)
{
	char err[256];
	bool absent;
	json_t *res = NULL;
	int fd = ctl_client_open(&absent, err, sizeof(err)), r;

	if (fd < 0)
		return false;
	r = ctl_client_call(fd, "wg.sync", json_pack("{ss}", "device", name),
			    &res, err, sizeof(err));
	close(fd);
	json_decref(res);
	say(name, "ctl re-applied the device: %s", r ? err : "done");
	return true;
}

static void reapply(const char *name, const char *config)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *argv[] = { self, "apply", "-c", (char *)config, NULL };
	pid_t pid;
	int st;

	/* with ctl running, ctl holds the plan: it puts the device right
	 * (an apply of an unchanged file would find nothing changed) */
	if (ctl_sync(name))
		return;
	if (!*config) {
		say(name, "%s", "the last apply read stdin: nothing to re-apply");
		return;
	}
	if (n <= 0)
		return;
	self[n] = '\0';
	pid = spawn(argv, name);
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return;
	say(name, "re-applied the config: %s", WIFEXITED(st) &&
	    !WEXITSTATUS(st) ? "done" : "it failed (see above)");
}

int wg_go_supervise(const char *name, const char *state_dir,
		    const char *config)
{
	char *pidfile = wg_path(state_dir, name, "pid");
	char *argv[] = { "wireguard-go", "-f", (char *)name, NULL };
	struct sigaction sa = { .sa_handler = on_term };
	char pid[32];
	int backoff = 1, r = 0;
	bool first = true;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (file_write_atomic(pidfile, pid, strlen(pid), 0700) < 0) {
		say(name, "cannot write %s", pidfile);
		free(pidfile);
		return 1;
	}
	while (!stopping) {
		time_t start = time(NULL);
		pid_t child = spawn(argv, name);
		int st = 0;

		if (child < 0) {
			r = 1;
			break;
		}
		if (!first && wait_uapi(name, 10000, child))
			reapply(name, config);
		first = false;
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			if (stopping)
				kill(child, SIGTERM);
		if (stopping)
			break;
		say(name, "wireguard-go exited (%s); restarting",
		    WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "status");
		if (time(NULL) - start > 60)
			backoff = 1;
		nap(backoff);
		backoff = backoff < 30 ? backoff * 2 : 30;
	}
	unlink(pidfile);
	free(pidfile);
	return r;
}

/* The supervisor's pid from its file, when that process is the
 * supervisor of name; 0 otherwise. */
static pid_t supervisor_pid(const char *name, const char *state_dir)
{
	char *pidfile = wg_path(state_dir, name, "pid"), *text = NULL;
	char *cmd, buf[512];
	size_t len;
	long pid = 0;
	FILE *f;

	if (file_read(pidfile, 64, &text, &len) == 0)
		pid = strtol(text, NULL, 10);
	free(text);
	free(pidfile);
	if (pid <= 1)
		return 0;
	cmd = xasprintf("/proc/%ld/cmdline", pid);
	f = fopen(cmd, "r");
	free(cmd);
	if (!f)
		return 0;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (!buf[i])
			buf[i] = ' ';
	return strstr(buf, " wg supervise ") && strstr(buf, name) ?
	       (pid_t)pid : 0;
}

bool wg_go_running(const char *name, const char *state_dir)
{
	return supervisor_pid(name, state_dir) > 0;
}

int wg_go_start(const char *name, const char *state_dir, const char *config,
		char *err, size_t errlen)
{
	char self[PATH_MAX], *dir = xasprintf("%s/wg", state_dir);
	char *log = wg_path(state_dir, name, "log");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;
	int st, fd;

	if (n <= 0 || file_mkdir_p(dir, 0700) < 0) {
		snprintf(err, errlen, "%s: cannot start its supervisor", name);
		goto bad;
	}
	self[n] = '\0';
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", log, strerror(errno));
		goto bad;
	}
	pid = fork();
	if (pid == 0) {
		/* detached: a session of its own, then a grandchild so that
		 * nothing waits for it */
		int null = open("/dev/null", O_RDWR);

		setsid();
		if (fork() != 0)
			_exit(0);
		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(self, self, "wg", "supervise", name, "--state-dir",
		      state_dir, "-c", config, (char *)NULL);
		_exit(127);
	}
	close(fd);
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		snprintf(err, errlen, "%s: cannot start its supervisor", name);
		goto bad;
	}
	if (!wait_uapi(name, 10000, 0)) {
		snprintf(err, errlen, "wireguard-go did not bring %s up (see "
			 "%s)", name, log);
		wg_go_stop(name, state_dir);
		goto bad;
	}
	free(dir);
	free(log);
	return 0;
bad:
	free(dir);
	free(log);
	return -1;
}

int wg_go_stop(const char *name, const char *state_dir)
{
	pid_t pid = supervisor_pid(name, state_dir);

	if (pid > 0)
		kill(pid, SIGTERM);
	/* wireguard-go removes the device as it exits */
	for (int i = 0; i < 250; i++) {
		if ((pid <= 0 || kill(pid, 0) < 0) && !if_nametoindex(name))
			return 0;
		usleep(20000);
	}
	return -ETIMEDOUT;
}
