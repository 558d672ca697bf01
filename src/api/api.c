/* moat api's serving half: libmicrohttpd on the sockets ctl passed, and the
 * RPC client that asks ctl whatever a request needs. It runs inside the
 * sandbox (sandbox.c): it must not open files or sockets, and no request
 * may hold a thread longer than API_RPC_TIMEOUT_MS waiting for ctl.
 *
 * Threads: MHD's workers run the handlers; the main thread alone reads the
 * RPC socket (answers, events, EOF) and SIGTERM (a signalfd). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "api/internal.h"
#include "base/buf.h"
#include "ctl/rpc.h"

/* Frames queued for ctl beyond this mean ctl stopped reading: new calls
 * fail at once instead of growing the queue. */
#define API_OUT_MAX (1u << 20)
/* MHD threads per listening socket: a request holds one while it waits
 * for ctl, the others keep serving. */
#define API_THREADS 4u
#define API_MAX_CONNS 256u
/* Handlers need little; glibc's default is 8 MiB of address space. */
#define API_STACK ((size_t)512 * 1024)
#define API_CONN_TIMEOUT_S 30u
/* Per connection; a longer request head gets 431 from MHD. */
#define API_CONN_MEMORY ((size_t)32 * 1024)
/* How long SIGTERM waits for the requests in flight. */
#define API_DRAIN_MS 5000
/* MHD's complaints about clients, at most this many a second. */
#define API_MHD_LOG_RATE 5
/* The most a certificate chain or a key may take. */
#define API_PEM_MAX ((size_t)1 << 20)

void api_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one call, so that threads' lines do not mix */
	fprintf(stderr, "api: %s\n", line);
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static bool past(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec ||
	       (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* ---- the RPC client ---- */

/* Writes what the socket takes of out; lock held. -1: the channel broke
 * (it is then closed for every caller). */
static int rpc_flush(struct api_rpc *r)
{
	while (r->out.len) {
		ssize_t n = send(r->fd, r->out.p, r->out.len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			api_log("rpc: write to ctl: %s", strerror(errno));
			r->closed = true;
			pthread_cond_broadcast(&r->answered);
			return -1;
		}
		r->out.len -= (size_t)n;
		memmove(r->out.p, r->out.p + n, r->out.len + 1);
	}
	return 0;
}

/* Queues the request; lock held. -1 when it cannot be sent. */
static int rpc_queue(struct api_rpc *r, struct api_call *call,
		     const char *method, json_t *params, json_t *auth)
{
	json_t *msg;
	int ret;

	if (r->closed || r->out.len > API_OUT_MAX) {
		json_decref(params);
		return -1;
	}
	call->id = ++r->next_id;
	msg = json_pack("{sIssso}", "id", call->id, "method", method,
			"params", params);
	if (msg && auth)
		json_object_set(msg, "auth", auth);
	ret = msg ? rpc_frame(&r->out, msg) : -1;
	json_decref(msg);
	if (ret < 0)
		return -1;
	call->next = r->calls;
	r->calls = call;
	if (rpc_flush(r) == 0 && r->out.len) {
		uint64_t one = 1;

		/* the rest is the main thread's to write when it can */
		if (write(r->wake_fd, &one, sizeof(one)) < 0)
			api_log("rpc: wake: %s", strerror(errno));
	}
	return 0;
}

static void rpc_unlink(struct api_rpc *r, struct api_call *call)
{
	for (struct api_call **p = &r->calls; *p; p = &(*p)->next)
		if (*p == call) {
			*p = call->next;
			return;
		}
}

/* Asks ctl METHOD(params) (stolen) and waits up to timeout_ms. Returns
 * ctl's answer ({"id","result"} or {"id","error"}; the caller decrefs it),
 * or NULL when ctl did not answer in time or is gone. */
json_t *api_rpc_call(struct api *a, const char *method, json_t *params,
		     json_t *auth, int timeout_ms)
{
	struct api_rpc *r = &a->rpc;
	struct api_call call = { 0 };
	struct timespec deadline;
	int err = 0;

	deadline_in(&deadline, timeout_ms);
	pthread_mutex_lock(&r->lock);
	if (rpc_queue(r, &call, method, params, auth) == 0) {
		while (!call.answer && !r->closed && err != ETIMEDOUT)
			err = pthread_cond_timedwait(&r->answered, &r->lock,
						     &deadline);
		rpc_unlink(r, &call);
	}
	pthread_mutex_unlock(&r->lock);
	return call.answer;
}

/* Hands an answer to the request waiting for it; one with no waiter (it
 * timed out) is dropped. */
static void rpc_deliver(struct api_rpc *r, json_t *msg)
{
	json_int_t id = json_integer_value(json_object_get(msg, "id"));

	pthread_mutex_lock(&r->lock);
	for (struct api_call *c = r->calls; c; c = c->next)
		if (c->id == id && !c->answer) {
			c->answer = json_incref(msg);
			pthread_cond_broadcast(&r->answered);
			break;
		}
	pthread_mutex_unlock(&r->lock);
}

static void rpc_dispatch(struct api *a, json_t *msg)
{
	if (json_object_get(msg, "event")) {
		api_on_event(a, msg);
		return;
	}
	if (json_is_integer(json_object_get(msg, "id")) &&
	    (json_object_get(msg, "result") || json_object_get(msg, "error"))) {
		rpc_deliver(&a->rpc, msg);
		return;
	}
	api_log("rpc: ignored a message from ctl that is neither an answer "
		"nor an event");
}

/* Reads what ctl sent. 1: go on; 0: ctl closed the channel; -1: ctl sent
 * something that is not the protocol. */
static int rpc_read(struct api *a)
{
	char data[65536], err[256];
	ssize_t n = read(a->rpc.fd, data, sizeof(data));
	json_t *msg;
	int r;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 1;
	if (n < 0 && errno != ECONNRESET) {
		api_log("rpc: read from ctl: %s", strerror(errno));
		return -1;
	}
	if (n <= 0)
		return 0;
	rpc_reader_feed(&a->in, data, (size_t)n);
	while ((r = rpc_next(&a->in, &msg, err, sizeof(err))) == 1) {
		rpc_dispatch(a, msg);
		json_decref(msg);
	}
	if (r < 0) {
		api_log("rpc: bad message from ctl: %s", err);
		return -1;
	}
	return 1;
}

/* A connection, from accept to close (MHD_OPTION_NOTIFY_CONNECTION). One
 * accepted but with no request yet must not be dropped when api exits:
 * its client has a request on the way. */
struct api_conn {
	bool fresh;
};

static void http_conn(void *cls, struct MHD_Connection *c, void **ctx,
		      enum MHD_ConnectionNotificationCode what)
{
	struct api *a = cls;
	struct api_conn *conn = *ctx;

	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		conn = xcalloc(1, sizeof(*conn));
		conn->fresh = true;
		atomic_fetch_add(&a->fresh, 1);
		*ctx = conn;
	} else if (what == MHD_CONNECTION_NOTIFY_CLOSED && conn) {
		if (conn->fresh)
			atomic_fetch_sub(&a->fresh, 1);
		free(conn);
		*ctx = NULL;
	}
}

void api_conn_used(struct api *a, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct api_conn *conn = ci ? ci->socket_context : NULL;

	if (conn && conn->fresh) {
		conn->fresh = false;
		atomic_fetch_sub(&a->fresh, 1);
	}
}

/* MHD's own messages (mostly about clients that break HTTP), rate-limited:
 * anyone who can connect can make them. */
static void MOAT_PRINTF(2, 0) http_log(void *cls, const char *fmt, va_list ap)
{
	struct api *a = cls;
	time_t now = time(NULL);
	unsigned int dropped = 0;
	char msg[512];
	size_t n;

	pthread_mutex_lock(&a->log_lock);
	if (now != a->log_sec) {
		dropped = a->log_dropped;
		a->log_sec = now;
		a->log_n = a->log_dropped = 0;
	}
	if (a->log_n >= API_MHD_LOG_RATE) {
		a->log_dropped++;
		pthread_mutex_unlock(&a->log_lock);
		return;
	}
	a->log_n++;
	pthread_mutex_unlock(&a->log_lock);
	if (dropped)
		api_log("mhd: %u messages not shown", dropped);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	api_log("mhd: %s", msg);
}

/* ---- TLS material ---- */

/* Wipes and frees a buffer that held a certificate or key. */
static void pem_wipe(char **p, size_t *len)
{
	if (*p) {
		sodium_memzero(*p, *len);
		free(*p);
	}
	*p = NULL;
	*len = 0;
}

static void api_pem_free(struct api_pem *pem)
{
	pem_wipe(&pem->cert, &pem->cert_len);
	pem_wipe(&pem->key, &pem->key_len);
}

/* Moves n bytes to a block of cap, wiping the old one: realloc() would
 * leave a copy of a key behind in freed memory. */
static char *pem_grow(char *p, size_t n, size_t cap)
{
	char *q = xmalloc(cap);

	memcpy(q, p, n);
	sodium_memzero(p, n);
	free(p);
	return q;
}

/* Reads fd to its end into *out (NUL-terminated, *len bytes before it).
 * -1 with errno set when read() fails, -2 when there is more than
 * API_PEM_MAX. Only read(): ctl's sealed memfd, or any file. */
static int pem_slurp(int fd, char **out, size_t *len)
{
	size_t cap = 16384, n = 0;
	char *p = xmalloc(cap);
	ssize_t r;

	for (;;) {
		if (n + 1 == cap) {
			/* room for one byte past the limit, and the NUL */
			size_t next = cap * 2 < API_PEM_MAX + 2 ? cap * 2 :
				      API_PEM_MAX + 2;

			p = pem_grow(p, n, next);
			cap = next;
		}
		r = read(fd, p + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n > API_PEM_MAX)
			break;
	}
	p[n] = '\0';
	*out = p;
	*len = n;
	if (r < 0)
		return -1;
	return n > API_PEM_MAX ? -2 : 0;
}

/* Reads and checks one of a TLS listener's two PEM fds, then closes it
 * (*fd becomes -1). what: "certificate" or "key", for the messages;
 * never the content. */
static int pem_read(int listen_fd, int *fd, const char *what, char **out,
		    size_t *len)
{
	int r = pem_slurp(*fd, out, len);
	int e = errno;

	close(*fd);
	if (r == -1)
		api_log("tls listener %d: reading the %s (fd %d): %s",
			listen_fd, what, *fd, strerror(e));
	else if (r == -2)
		api_log("tls listener %d: the %s (fd %d) is over %zu bytes",
			listen_fd, what, *fd, API_PEM_MAX);
	else if (*len == 0)
		api_log("tls listener %d: the %s (fd %d) is empty", listen_fd,
			what, *fd);
	else if (memchr(*out, '\0', *len))
		api_log("tls listener %d: the %s (fd %d) holds a NUL byte, "
			"PEM does not", listen_fd, what, *fd);
	else if (!strstr(*out, "-----BEGIN"))
		api_log("tls listener %d: the %s (fd %d) is not PEM (no "
			"-----BEGIN)", listen_fd, what, *fd);
	else
		r = 1;
	*fd = -1;
	return r == 1 ? 0 : -1;
}

/* Reads every TLS listener's certificate and key and closes their fds.
 * Before the sandbox: a read needs nothing the sandbox takes away, but
 * an fd that is not what it should be is easier to tell here. */
static int tls_read_all(struct api *a, struct api_sandbox *sb)
{
	for (size_t i = 0; i < sb->n_tls; i++) {
		struct api_tls_fds *t = &sb->tls[i];
		struct api_pem *pem = &a->pem[a->n_pem++];

		pem->fd = t->listen_fd;
		if (pem_read(t->listen_fd, &t->cert_fd, "certificate",
			     &pem->cert, &pem->cert_len) < 0 ||
		    pem_read(t->listen_fd, &t->key_fd, "key", &pem->key,
			     &pem->key_len) < 0)
			return -1;
	}
	return 0;
}

/* ---- serving ---- */

/* Starts MHD on fd: HTTPS with pem, else HTTP. */
static struct MHD_Daemon *http_start(struct api *a, int fd,
				     const struct api_pem *pem)
{
	struct MHD_OptionItem tls[] = {
		{ .option = MHD_OPTION_HTTPS_MEM_CERT,
		  .ptr_value = pem ? pem->cert : NULL },
		{ .option = MHD_OPTION_HTTPS_MEM_KEY,
		  .ptr_value = pem ? pem->key : NULL },
		{ .option = MHD_OPTION_END },
	};
	/* plain HTTP: only the END */
	struct MHD_OptionItem *extra = pem ? tls : &tls[ARRAY_SIZE(tls) - 1];

	return MHD_start_daemon((pem ? MHD_USE_TLS : 0) |
				MHD_USE_INTERNAL_POLLING_THREAD |
				MHD_USE_EPOLL | MHD_USE_ITC |
				MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG,
				0, NULL, NULL, api_http_request, a,
				/* first, or MHD logs some on its own */
				MHD_OPTION_EXTERNAL_LOGGER, http_log, a,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_THREAD_POOL_SIZE, API_THREADS,
				MHD_OPTION_CONNECTION_LIMIT, API_MAX_CONNS,
				MHD_OPTION_CONNECTION_TIMEOUT,
				API_CONN_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				API_CONN_MEMORY,
				MHD_OPTION_NOTIFY_COMPLETED, api_http_done, a,
				MHD_OPTION_UNESCAPE_CALLBACK, api_unescape, a,
				MHD_OPTION_NOTIFY_CONNECTION, http_conn, a,
				MHD_OPTION_THREAD_STACK_SIZE, API_STACK,
				MHD_OPTION_ARRAY, extra,
				MHD_OPTION_END);
}

/* Whether MHD takes each certificate and key, before anything is served
 * and before the sandbox: MHD serves as soon as a daemon starts, so a
 * pair refused for the second listener would come after the first had
 * served. A daemon with no socket and no thread parses them as the real
 * one will (GnuTLS checks that the key is the certificate's), and that
 * is all it does. The PEM stays for the real start, after the sandbox
 * (threads cannot start before seccomp), and goes right after it. */
static int tls_check_all(struct api *a)
{
	if (a->n_pem && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		api_log("tls listener %d: this libmicrohttpd was built without "
			"TLS", a->pem[0].fd);
		return -1;
	}
	for (size_t i = 0; i < a->n_pem; i++) {
		struct MHD_Daemon *d = MHD_start_daemon(
			MHD_USE_TLS | MHD_USE_NO_LISTEN_SOCKET |
			MHD_USE_ERROR_LOG, 0, NULL, NULL, api_http_request, a,
			MHD_OPTION_EXTERNAL_LOGGER, http_log, a,
			MHD_OPTION_HTTPS_MEM_CERT, a->pem[i].cert,
			MHD_OPTION_HTTPS_MEM_KEY, a->pem[i].key,
			MHD_OPTION_END);

		if (!d) {
			api_log("tls listener %d: the certificate or key was "
				"refused", a->pem[i].fd);
			return -1;
		}
		MHD_stop_daemon(d);
	}
	return 0;
}

/* "127.0.0.1:8080", "[::1]:443", "unix" for the log. */
static void sock_name(int fd, char *out, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_in *in = (const void *)&ss;
	const struct sockaddr_in6 *in6 = (const void *)&ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		snprintf(out, n, "fd %d", fd);
	else if (ss.ss_family == AF_INET)
		snprintf(out, n, "%s:%u", inet_ntop(AF_INET, &in->sin_addr,
			 host, sizeof(host)), ntohs(in->sin_port));
	else if (ss.ss_family == AF_INET6)
		snprintf(out, n, "[%s]:%u", inet_ntop(AF_INET6, &in6->sin6_addr,
			 host, sizeof(host)), ntohs(in6->sin6_port));
	else
		snprintf(out, n, "fd %d (family %d)", fd, ss.ss_family);
}

/* The pem of TLS listener fd, NULL for a plain one. */
static struct api_pem *pem_of(struct api *a, int fd)
{
	for (size_t i = 0; i < a->n_pem; i++)
		if (a->pem[i].fd == fd)
			return &a->pem[i];
	return NULL;
}

static int http_start_one(struct api *a, int fd)
{
	struct api_pem *pem = pem_of(a, fd);
	char name[80];

	sock_name(fd, name, sizeof(name));
	a->mhd[a->n_mhd] = http_start(a, fd, pem);
	/* The earliest the PEM may go. MHD (0.9.75) keeps our pointers, not
	 * copies, and reads them in one place only, while
	 * MHD_start_daemon() runs: MHD_TLS_init() hands them to GnuTLS's
	 * gnutls_certificate_set_x509_key_mem(), which decodes them into
	 * the daemon's credentials. The pool's workers share those
	 * credentials rather than parse again, and handshakes use them
	 * alone. So it goes now, whatever the outcome (test_tls_key_wiped
	 * looks for it in api's memory). */
	if (pem)
		api_pem_free(pem);
	if (!a->mhd[a->n_mhd]) {
		api_log("cannot serve on %s (libmicrohttpd refused it)", name);
		return -1;
	}
	a->mhd_fd[a->n_mhd++] = fd;
	api_log("serving %s on %s", pem ? "HTTPS" : "HTTP", name);
	return 0;
}

static int http_start_all(struct api *a, const struct api_sandbox *sb)
{
	for (size_t i = 0; i < sb->n_listen; i++)
		if (http_start_one(a, sb->listen_fds[i]) < 0)
			return -1;
	for (size_t i = 0; i < sb->n_tls; i++)
		if (http_start_one(a, sb->tls[i].listen_fd) < 0)
			return -1;
	return 0;
}

/* Stops accepting. The listening sockets stay open and listening (ctl
 * holds them too), so that connections queue for whoever serves next;
 * never shutdown() them, which would refuse those connections. */
static void http_quiesce(struct api *a)
{
	for (size_t i = 0; i < a->n_mhd; i++)
		if (!a->quiesced[i] &&
		    MHD_quiesce_daemon(a->mhd[i]) != MHD_INVALID_SOCKET)
			a->quiesced[i] = true;
}

static void http_stop(struct api *a)
{
	http_quiesce(a);
	for (size_t i = 0; i < a->n_mhd; i++) {
		MHD_stop_daemon(a->mhd[i]);
		a->mhd[i] = NULL;
		/* our copy only: ctl's keeps the socket listening */
		if (a->quiesced[i])
			close(a->mhd_fd[i]);
	}
	a->n_mhd = 0;
}

/* ---- the main thread ---- */

static void drain_fd(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof(n)) > 0)
		;
}

/* The name of the signal read from the signalfd, NULL when none was. */
static const char *read_signal(int fd)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return NULL;
	return si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
}

/* Wakes the requests waiting for ctl (they answer 503) and fails the
 * ones to come. */
static void rpc_close(struct api_rpc *r)
{
	pthread_mutex_lock(&r->lock);
	r->closed = true;
	pthread_cond_broadcast(&r->answered);
	pthread_mutex_unlock(&r->lock);
}

/* Stops accepting and starts waiting for what is under way. */
static void api_drain(struct api *a, const char *why)
{
	if (atomic_load(&a->draining))
		return;
	api_log("%s: no new connections; finishing %d request(s)", why,
		atomic_load(&a->inflight));
	atomic_store(&a->draining, true);
	http_quiesce(a);
	deadline_in(&a->drain_end, API_DRAIN_MS);
}

/* Whether everything under way is done (or took too long). */
static bool api_drained(struct api *a)
{
	return atomic_load(&a->draining) &&
	       ((atomic_load(&a->inflight) == 0 &&
		 atomic_load(&a->fresh) == 0) || past(&a->drain_end));
}

/* One turn of the main thread: what ctl sent, a signal, a wake-up. Sets
 * *status when api is to exit. */
static void api_turn(struct api *a, const struct pollfd *p, int *status)
{
	const char *sig;
	int r;

	if (p[2].revents && (sig = read_signal(a->sig_fd)))
		api_drain(a, sig);
	if (p[1].revents)
		drain_fd(a->rpc.wake_fd);
	if (p[0].revents & POLLOUT) {
		pthread_mutex_lock(&a->rpc.lock);
		rpc_flush(&a->rpc);
		pthread_mutex_unlock(&a->rpc.lock);
	}
	if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	r = rpc_read(a);
	if (r > 0)
		return;
	/* ctl is gone (it restarts us) or broke the protocol */
	a->rpc_gone = true;
	rpc_close(&a->rpc);
	*status = r < 0;
	api_drain(a, r == 0 ? "ctl closed the RPC channel" : "bad RPC");
}

/* Serves until SIGTERM or ctl goes away, then until what was under way
 * is done. Returns the exit status. */
static int api_loop(struct api *a)
{
	int status = 0;

	while (!api_drained(a)) {
		struct pollfd p[3] = {
			{ .fd = a->rpc_gone ? -1 : a->rpc.fd,
			  .events = POLLIN },
			{ .fd = a->rpc.wake_fd, .events = POLLIN },
			{ .fd = a->sig_fd, .events = POLLIN },
		};

		pthread_mutex_lock(&a->rpc.lock);
		if (a->rpc.out.len)
			p[0].events |= POLLOUT;
		pthread_mutex_unlock(&a->rpc.lock);
		if (poll(p, 3, atomic_load(&a->draining) ? 50 : -1) < 0 &&
		    errno != EINTR) {
			api_log("poll: %s", strerror(errno));
			return 1;
		}
		api_turn(a, p, &status);
	}
	return status;
}

/* SIGTERM and SIGINT become readable on a signalfd: blocked here, before
 * any thread exists, they stay blocked in MHD's threads too. */
static int api_signals(struct api *a)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	a->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return a->sig_fd < 0 ? -1 : 0;
}

static int api_init(struct api *a, int rpc_fd)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->rpc.answered, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&a->rpc.lock, NULL);
	pthread_mutex_init(&a->log_lock, NULL);
	a->metrics = api_metrics_new();
	atomic_init(&a->ctl_ok, -1);
	a->rpc.fd = rpc_fd;
	a->rpc.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	a->sig_fd = -1;
	if (a->rpc.wake_fd < 0 || api_signals(a) < 0) {
		api_log("cannot set up signals and wake-ups: %s",
			strerror(errno));
		return -1;
	}
	return 0;
}

static void api_free(struct api *a)
{
	rpc_close(&a->rpc);
	ws_stop(a);		/* the WebSockets go before MHD does */
	http_stop(a);
	ws_free(a);
	api_metrics_free(a->metrics);
	pthread_cond_destroy(&a->rpc.answered);
	pthread_mutex_destroy(&a->rpc.lock);
	pthread_mutex_destroy(&a->log_lock);
	buf_free(&a->rpc.out);
	rpc_reader_free(&a->in);
	if (a->rpc.wake_fd >= 0)
		close(a->rpc.wake_fd);
	if (a->sig_fd >= 0)
		close(a->sig_fd);
	for (size_t i = 0; i < a->n_pem; i++)
		api_pem_free(&a->pem[i]);
}

int api_main(struct api_sandbox *sb)
{
	/* both carry passwords and session tokens */
	struct api a = { .rpc = { .out = { NULL, 0, 0, true } },
			 .in = { { NULL, 0, 0, true }, 0 } };
	int status = 1;

	if (api_sb_check_fds(sb) < 0)
		return 1;
	/* jansson seeds its hash function from /dev/urandom on first use;
	 * the chroot has none */
	json_object_seed(0);
	/* glibc loads /etc/localtime on the first gmtime_r (MHD's Date
	 * header) too; load it now, while there is one */
	tzset();
	/* GnuTLS read its config (/etc/gnutls/config) and set up its random
	 * numbers before main: libmicrohttpd's constructor calls
	 * gnutls_global_init(). tls_check_all() makes the first credentials
	 * before the chroot too; handshakes then need only getrandom and
	 * the sockets. */
	if (api_init(&a, sb->rpc_fd) < 0 || tls_read_all(&a, sb) < 0 ||
	    tls_check_all(&a) < 0)
		goto out;
	if (api_sandbox_enter(sb) < 0 || ws_start(&a) < 0 ||
	    http_start_all(&a, sb) < 0)
		goto out;
	status = api_loop(&a);
out:
	api_free(&a);
	api_log("exit %d", status);
	return status;
}
