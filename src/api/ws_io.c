/* GET /api/ws: ctl's events to WebSocket clients (RFC 6455; the framing is
 * ws.c's). The handshake is checked like any request (ctl answers
 * "auth.status" for the client's credentials: 401, 403 or 428 as JSON
 * before anything is upgraded), and a cookie session's Origin must be
 * this host (cross-site WebSocket hijacking).
 *
 * Threads: MHD's worker answers the handshake and hands the upgraded
 * socket over (ws_upgraded); from then on one thread of ours ("io") alone
 * reads and writes every client, and a second ("check") does what waits
 * for ctl: subscribing to events, re-checking each client's credentials
 * (every WS_AUTH_S, and at once after a change made through the API: a
 * revoked token's socket is closed with 1008) and asking ctl to look for
 * WireGuard handshakes while anyone listens. The main thread hands events
 * in (api_on_event) and never waits on a client: each has a bounded
 * queue, and one that does not read its events is closed, not buffered
 * for ever. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "api/prom.h"
#include "api/ws.h"
#include "base/util.h"

#define WS_MAX_CLIENTS 64u
#define WS_MAX_PER_CREDENTIAL 8u
/* Clients have nothing to say; a message is read and ignored. */
#define WS_MAX_MESSAGE 4096u
/* Events queued for one client beyond this: it is closed. */
#define WS_OUT_MAX ((size_t)256 * 1024)
#define WS_PING_MS 30000
/* Nothing heard for this long (not even a pong): gone. */
#define WS_DEAD_MS 75000
#define WS_AUTH_MS 30000
/* How often ctl looks for new WireGuard handshakes while anyone
 * listens. */
#define WS_POLL_MS 5000
/* After our close frame: how long the client has to answer it. */
#define WS_CLOSE_WAIT_MS 3000
#define WS_READS_PER_TURN 16

enum ws_state { WS_OPEN, WS_CLOSING, WS_DONE };

enum { DROP_SLOW, DROP_AUTH, DROP_DEAD, DROP_PROTOCOL, NDROPS };
static const char *const drop_names[NDROPS] = {
	"slow", "credentials", "unresponsive", "protocol",
};

struct ws_client {
	unsigned long long id;
	int fd;
	struct MHD_UpgradeResponseHandle *urh;
	struct ws_reader rd;
	struct buf out;			/* frames not yet written */
	json_t *auth;			/* the credentials, for re-checks */
	enum ws_state state;
	bool close_sent, peer_closed, pending_in;
	long long last_rx, last_ping, closing_at, checked_at;
	unsigned long checked_gen;
	struct ws_client *next;
};

struct ws_hub {
	struct api *a;
	pthread_mutex_t lock;		/* guards everything below */
	pthread_cond_t wake_check;	/* on CLOCK_MONOTONIC */
	struct ws_client *clients;
	unsigned n;
	unsigned long long next_id;
	unsigned long recheck_gen;	/* bumped by ws_recheck_soon */
	bool stop;
	int wake_fd;			/* eventfd: io has something to do */
	pthread_t io, check;
	bool io_up, check_up;
	/* for /metrics */
	unsigned long long events, connects, drops[NDROPS];
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake_io(struct ws_hub *h)
{
	uint64_t one = 1;

	if (write(h->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		api_log("ws: wake: %s", strerror(errno));
}

static void drain_wake(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
}

/* ---- one client (lock held) ---- */

/* Queues our close frame (the first only) and gives the client
 * WS_CLOSE_WAIT_MS to answer; nothing but the close goes out after it. */
static void client_close(struct ws_client *c, uint16_t code,
			 const char *reason)
{
	if (c->state != WS_OPEN)
		return;
	ws_close_encode(&c->out, code, reason, NULL);
	c->close_sent = true;
	c->state = WS_CLOSING;
	c->closing_at = mono_ms();
}

static void client_drop(struct ws_hub *h, struct ws_client *c, int why,
			uint16_t code, const char *reason)
{
	if (c->state != WS_OPEN)
		return;
	h->drops[why]++;
	client_close(c, code, reason);
}

static void client_free(struct ws_client *c)
{
	ws_reader_free(&c->rd);
	buf_free(&c->out);
	json_decref(c->auth);
	free(c);
}

/* What the client sent, as events. */
static void client_events(struct ws_hub *h, struct ws_client *c)
{
	struct ws_event ev;

	c->pending_in = false;
	while (c->state != WS_DONE && ws_reader_next(&c->rd, &ev) == 1) {
		switch (ev.kind) {
		case WS_EV_PING:
			/* pongs count against the queue as events do: a
			 * client that pings and never reads is cut off, not
			 * buffered for */
			if (c->state == WS_OPEN &&
			    c->out.len + ev.len + 16 > WS_OUT_MAX)
				client_drop(h, c, DROP_SLOW,
					    WS_CLOSE_POLICY, "not reading");
			else if (c->state == WS_OPEN)
				ws_frame_encode(&c->out, WS_OP_PONG, true,
						ev.data, ev.len, NULL);
			break;
		case WS_EV_CLOSE:
			/* the answer echoes its code (RFC 6455 5.5.1) */
			client_close(c, ev.code == WS_CLOSE_NO_STATUS ?
				     WS_CLOSE_NORMAL : ev.code, NULL);
			c->peer_closed = true;
			break;
		case WS_EV_ERROR:
			client_drop(h, c, DROP_PROTOCOL, ev.code, ev.why);
			c->peer_closed = true;	/* no more reading */
			break;
		case WS_EV_PONG:
		case WS_EV_MESSAGE:
			break;		/* nothing to do: it is alive */
		}
	}
}

static void client_read(struct ws_hub *h, struct ws_client *c, long long now)
{
	char data[16384];

	for (int i = 0; i < WS_READS_PER_TURN && !c->peer_closed; i++) {
		ssize_t n = recv(c->fd, data, sizeof(data), MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			c->state = WS_DONE;	/* gone without a close */
			return;
		}
		c->last_rx = now;
		ws_reader_feed(&c->rd, data, (size_t)n);
		client_events(h, c);
	}
}

static void client_write(struct ws_client *c)
{
	while (c->out.len) {
		ssize_t n = send(c->fd, c->out.p, c->out.len,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->state = WS_DONE;
			return;
		}
		c->out.len -= (size_t)n;
		memmove(c->out.p, c->out.p + n, c->out.len);
	}
}

/* Pings, the unresponsive, the end of a closing handshake. */
static void client_timers(struct ws_hub *h, struct ws_client *c,
			  long long now, bool leaving)
{
	if (leaving)
		client_close(c, WS_CLOSE_GOING_AWAY, "api is restarting");
	if (c->state == WS_OPEN && now - c->last_rx > WS_DEAD_MS) {
		h->drops[DROP_DEAD]++;
		c->state = WS_DONE;
	} else if (c->state == WS_OPEN && now - c->last_rx >= WS_PING_MS &&
		   now - c->last_ping >= WS_PING_MS) {
		ws_frame_encode(&c->out, WS_OP_PING, true, "moat", 4, NULL);
		c->last_ping = now;
	}
	/* closing: done once our close is out and theirs came, or when
	 * they took too long to do either */
	if (c->state == WS_CLOSING && ((!c->out.len && c->peer_closed) ||
				       now - c->closing_at > WS_CLOSE_WAIT_MS))
		c->state = WS_DONE;
}

/* ---- the io thread ---- */

/* The clients that are done, taken off the list; lock held. */
static struct ws_client *take_done(struct ws_hub *h)
{
	struct ws_client *done = NULL;

	for (struct ws_client **p = &h->clients; *p;) {
		struct ws_client *c = *p;

		if (c->state != WS_DONE) {
			p = &c->next;
			continue;
		}
		*p = c->next;
		c->next = done;
		done = c;
		h->n--;
	}
	return done;
}

/* Gives the sockets back to MHD, which closes them. */
static void release(struct ws_client *done)
{
	while (done) {
		struct ws_client *next = done->next;

		MHD_upgrade_action(done->urh, MHD_UPGRADE_ACTION_CLOSE);
		client_free(done);
		done = next;
	}
}

/* One turn: what poll() found, then the timers. Lock held. */
static void io_turn(struct ws_hub *h, struct pollfd *p,
		    struct ws_client **who, size_t n, bool leaving)
{
	long long now = mono_ms();

	for (size_t i = 0; i < n; i++) {
		struct ws_client *c = who[i];

		if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
			client_read(h, c, now);
	}
	for (struct ws_client *c = h->clients; c; c = c->next) {
		if (c->pending_in)
			client_events(h, c);
		client_timers(h, c, now, leaving);
		if (c->state != WS_DONE && c->out.len)
			client_write(c);
		/* the close just written may end it */
		client_timers(h, c, now, false);
	}
}

static void *io_main(void *arg)
{
	struct ws_hub *h = arg;
	struct pollfd *p = NULL;
	struct ws_client **who = NULL, *done;
	size_t cap = 0;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		bool leaving = atomic_load(&h->a->draining);
		size_t n = 0;

		if (cap < h->n + 1) {
			cap = h->n + 1;
			p = xrealloc(p, cap * sizeof(*p));
			who = xrealloc(who, cap * sizeof(*who));
		}
		for (struct ws_client *c = h->clients; c; c = c->next) {
			if (c->state == WS_DONE)
				continue;
			p[n] = (struct pollfd){ .fd = c->fd, .events =
				(short)((c->peer_closed ? 0 : POLLIN) |
					(c->out.len ? POLLOUT : 0)) };
			who[n++] = c;
		}
		p[n] = (struct pollfd){ .fd = h->wake_fd, .events = POLLIN };
		pthread_mutex_unlock(&h->lock);
		/* only this thread removes clients: who[] stays valid */
		if (poll(p, n + 1, leaving ? 100 : 1000) < 0 && errno != EINTR)
			api_log("ws: poll: %s", strerror(errno));
		if (p[n].revents)
			drain_wake(h->wake_fd);
		pthread_mutex_lock(&h->lock);
		io_turn(h, p, who, n, leaving);
		done = take_done(h);
		pthread_mutex_unlock(&h->lock);
		release(done);
		pthread_mutex_lock(&h->lock);
	}
	/* stopping: a last word to each, then the sockets go */
	for (struct ws_client *c = h->clients; c; c = c->next) {
		client_close(c, WS_CLOSE_GOING_AWAY, "api is stopping");
		client_write(c);
		c->state = WS_DONE;
	}
	done = take_done(h);
	pthread_mutex_unlock(&h->lock);
	release(done);
	free(p);
	free(who);
	return NULL;
}

/* ---- the check thread ---- */

/* Whether ctl's answer to auth.status says the credentials are no longer
 * good (an error other than ctl being busy or failing). */
static bool auth_refused(json_t *ans)
{
	json_t *e = json_object_get(ans, "error");
	unsigned st = e ? api_status_of(e) : 200;

	return st == 401 || st == 403 || st == 428;
}

/* Checks the credentials of one client that is due, if any; lock held,
 * released while ctl answers. true when one was checked. */
static bool check_one(struct ws_hub *h, long long now)
{
	struct ws_client *c;
	unsigned long long id;
	unsigned long gen = h->recheck_gen;
	json_t *auth, *ans;

	for (c = h->clients; c; c = c->next)
		if (c->state == WS_OPEN && (c->checked_gen != gen ||
					    now - c->checked_at >= WS_AUTH_MS))
			break;
	if (!c)
		return false;
	id = c->id;
	c->checked_gen = gen;
	c->checked_at = now;
	auth = json_deep_copy(c->auth);
	pthread_mutex_unlock(&h->lock);
	/* not a use: an open socket does not keep its session from idling */
	json_object_set_new(auth, "recheck", json_true());
	ans = api_rpc_call(h->a, "auth.status", json_object(), auth,
			   API_RPC_TIMEOUT_MS);
	json_decref(auth);
	pthread_mutex_lock(&h->lock);
	/* ctl not answering is no reason to close anyone */
	if (ans && auth_refused(ans))
		for (c = h->clients; c; c = c->next)
			if (c->id == id) {
				client_drop(h, c, DROP_AUTH, WS_CLOSE_POLICY,
					    "the credentials are no longer "
					    "valid");
				wake_io(h);
			}
	json_decref(ans);
	return true;
}

/* A call that needs no credentials; lock held, released meanwhile. */
static bool call_ctl(struct ws_hub *h, const char *method)
{
	json_t *ans;
	bool ok;

	pthread_mutex_unlock(&h->lock);
	ans = api_rpc_call(h->a, method, json_object(), NULL,
			   API_RPC_TIMEOUT_MS);
	ok = json_object_get(ans, "result") != NULL;
	json_decref(ans);
	pthread_mutex_lock(&h->lock);
	return ok;
}

static void wait_ms(struct ws_hub *h, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(&h->wake_check, &h->lock, &ts);
}

static void *check_main(void *arg)
{
	struct ws_hub *h = arg;
	bool subscribed = false;
	long long polled = 0;

	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		long long now = mono_ms();

		/* events flow from the start: a client connecting later
		 * must not wait for them */
		if (!subscribed && !(subscribed = call_ctl(h,
						"events.subscribe"))) {
			wait_ms(h, 1000);
			continue;
		}
		if (h->n && now - polled >= WS_POLL_MS) {
			polled = now;
			call_ctl(h, "events.poll");
			continue;
		}
		if (check_one(h, mono_ms()))
			continue;
		wait_ms(h, 1000);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* ---- what the rest of api calls ---- */

void ws_recheck_soon(struct api *a)
{
	struct ws_hub *h = a->ws;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	if (h->n) {
		h->recheck_gen++;
		pthread_cond_signal(&h->wake_check);
	}
	pthread_mutex_unlock(&h->lock);
}

/* The events WebSocket clients get; the others (auth.login...) stay
 * between ctl and api. */
static bool event_wanted(const char *name)
{
	static const char *const prefixes[] = {
		"config.", "integrity.", "wg.peer.",
	};

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* {"type", "time" (RFC 3339, UTC, ms), "data"} as text. */
static char *event_text(const char *name, json_t *data)
{
	struct timespec ts;
	struct tm tm;
	char when[64], sec[40];
	json_t *ev;
	char *text;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when, sizeof(when), "%s.%03dZ", sec,
		 (int)(ts.tv_nsec / 1000000) % 1000);
	ev = json_pack("{s:s, s:s, s:o}", "type", name, "time", when, "data",
		       json_is_object(data) ? json_incref(data) :
		       json_object());
	text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	return text;
}

void api_on_event(struct api *a, json_t *msg)
{
	struct ws_hub *h = a->ws;
	const char *name = json_string_value(json_object_get(msg, "event"));
	struct buf frame = BUF_INIT;
	char *text;

	if (!h || !name || !event_wanted(name))
		return;
	pthread_mutex_lock(&h->lock);
	if (!h->n) {
		pthread_mutex_unlock(&h->lock);
		return;
	}
	pthread_mutex_unlock(&h->lock);
	text = event_text(name, json_object_get(msg, "data"));
	if (!text)
		return;
	ws_frame_encode(&frame, WS_OP_TEXT, true, text, strlen(text), NULL);
	free(text);
	pthread_mutex_lock(&h->lock);
	for (struct ws_client *c = h->clients; c; c = c->next) {
		if (c->state != WS_OPEN)
			continue;
		if (c->out.len + frame.len > WS_OUT_MAX)
			client_drop(h, c, DROP_SLOW, WS_CLOSE_POLICY,
				    "too slow: events were not read");
		else
			buf_add(&c->out, frame.p, frame.len);
	}
	h->events++;
	pthread_mutex_unlock(&h->lock);
	buf_free(&frame);
	wake_io(h);
}

void ws_metrics_text(struct api *a, struct buf *b)
{
	struct ws_hub *h = a->ws;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	prom_family(b, "moat_api_websocket_clients", "gauge",
		    "WebSocket clients connected to /api/ws");
	prom_sample_u64(b, "moat_api_websocket_clients", NULL, NULL, h->n);
	prom_family(b, "moat_api_websocket_connects_total", "counter",
		    "WebSocket clients accepted");
	prom_sample_u64(b, "moat_api_websocket_connects_total", NULL, NULL,
			h->connects);
	prom_family(b, "moat_api_websocket_events_total", "counter",
		    "Events sent to the WebSocket clients");
	prom_sample_u64(b, "moat_api_websocket_events_total", NULL, NULL,
			h->events);
	prom_family(b, "moat_api_websocket_dropped_total", "counter",
		    "WebSocket clients closed by api, by reason");
	for (int i = 0; i < NDROPS; i++)
		prom_sample_u64(b, "moat_api_websocket_dropped_total", NULL,
				(const char *[]){ "reason", drop_names[i],
				NULL }, h->drops[i]);
	pthread_mutex_unlock(&h->lock);
}

/* MHD sent the 101: the socket is ours until MHD_UPGRADE_ACTION_CLOSE.
 * q is still the request's (MHD ends it once the socket is given back). */
static void ws_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
			const char *extra, size_t extra_len, MHD_socket sock,
			struct MHD_UpgradeResponseHandle *urh)
{
	struct api *a = cls;
	struct ws_hub *h = a->ws;
	struct api_req *q = con_cls;
	struct ws_client *c = xcalloc(1, sizeof(*c));
	int fl = fcntl(sock, F_GETFL);
	long long now = mono_ms();

	(void)conn;
	if (fl < 0 || fcntl(sock, F_SETFL, fl | O_NONBLOCK) < 0)
		api_log("ws: fcntl: %s", strerror(errno));
	c->fd = sock;
	c->urh = urh;
	c->out = (struct buf)BUF_INIT;
	ws_reader_init(&c->rd, WS_MAX_MESSAGE);
	c->auth = json_deep_copy(q->auth);
	c->last_rx = c->last_ping = c->checked_at = now;
	/* the client may have sent frames right after its request */
	if (extra_len) {
		ws_reader_feed(&c->rd, extra, extra_len);
		c->pending_in = true;
	}
	pthread_mutex_lock(&h->lock);
	if (h->stop) {
		/* api is stopping (ws_stop ran): MHD is to close it */
		pthread_mutex_unlock(&h->lock);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		client_free(c);
		return;
	}
	c->id = ++h->next_id;
	c->checked_gen = h->recheck_gen;
	c->next = h->clients;
	h->clients = c;
	h->n++;
	h->connects++;
	/* over the limit since the handshake was checked (a race) */
	if (h->n > WS_MAX_CLIENTS)
		client_close(c, WS_CLOSE_TRY_AGAIN, "too many clients");
	pthread_mutex_unlock(&h->lock);
	wake_io(h);
}

/* How many open sockets were opened with the same session or token as
 * auth; lock held. */
static unsigned same_credentials(struct ws_hub *h, json_t *auth)
{
	const char *keys[] = { "token", "session" };
	unsigned n = 0;

	for (struct ws_client *c = h->clients; c; c = c->next)
		for (size_t k = 0; k < 2; k++) {
			json_t *a = json_object_get(auth, keys[k]);

			if (a && json_equal(a, json_object_get(c->auth,
								 keys[k]))) {
				n++;
				break;
			}
		}
	return n;
}

/* Whether the handshake's headers are good; when not, the request is
 * answered (400, 403 or 426). */
static bool handshake_ok(struct api_req *q, const char **key)
{
	struct MHD_Connection *c = q->conn;
	const char *up = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_UPGRADE);
	const char *conn = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONNECTION);
	const char *ver = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		"Sec-WebSocket-Version");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		"Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_HOST);

	*key = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   "Sec-WebSocket-Key");
	if (!ws_has_token(up, "websocket") || !ws_has_token(conn, "upgrade")) {
		api_header(q, MHD_HTTP_HEADER_UPGRADE, "websocket");
		api_reply_error(q, 426, NULL, "/api/ws is a WebSocket: send "
				"Upgrade: websocket and Connection: Upgrade");
		return false;
	}
	if (!ver || strcmp(ver, "13")) {
		api_header(q, "Sec-WebSocket-Version", "13");
		api_reply_error(q, 426, NULL, "only WebSocket version 13 is "
				"spoken");
		return false;
	}
	if (!ws_key_ok(*key)) {
		api_reply_error(q, 400, NULL, "Sec-WebSocket-Key is not base64 "
				"of 16 bytes");
		return false;
	}
	/* a page elsewhere may open a WebSocket here and the browser sends
	 * the cookie along (SameSite=Strict stops that in today's browsers;
	 * this stops it in all): a session must come from this origin */
	if (q->cookie_session && origin && !ws_origin_ok(origin, host)) {
		api_reply_error(q, 403, NULL, "a WebSocket with a session cookie "
				"must come from this origin (Origin: %.100s)",
				origin);
		return false;
	}
	return true;
}

/* GET /api/ws */
static void get_ws(struct api_req *q)
{
	struct ws_hub *h = q->a->ws;
	struct MHD_Response *resp;
	char accept[WS_ACCEPT_LEN];
	const char *key;
	json_t *who;
	unsigned n, mine;

	if (!handshake_ok(q, &key))
		return;
	who = api_call(q, "auth.status", json_object(), API_RPC_TIMEOUT_MS);
	if (!who)
		return;		/* 401, 403, 428 or 503, answered */
	json_decref(who);
	pthread_mutex_lock(&h->lock);
	n = h->n;
	mine = same_credentials(h, q->auth);
	pthread_mutex_unlock(&h->lock);
	if (n >= WS_MAX_CLIENTS || atomic_load(&q->a->draining)) {
		api_header(q, MHD_HTTP_HEADER_RETRY_AFTER, "5");
		api_reply_error(q, 503, NULL, "%s", n >= WS_MAX_CLIENTS ?
				"too many WebSocket clients" :
				"api is restarting");
		return;
	}
	/* one credential cannot take every slot from the others */
	if (mine >= WS_MAX_PER_CREDENTIAL) {
		api_reply_error(q, 429, NULL, "this session or token has %u "
				"WebSockets open already", mine);
		return;
	}
	resp = MHD_create_response_for_upgrade(ws_upgraded, q->a);
	if (!resp) {
		api_reply_error(q, 500, NULL, "cannot upgrade");
		return;
	}
	ws_accept(key, accept);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	q->resp = resp;
	q->status = MHD_HTTP_SWITCHING_PROTOCOLS;
}

const struct api_route api_ws_routes[] = {
	{ "GET", "/api/ws", get_ws, R_RAW, 0,
	  "Events as they happen: a WebSocket (RFC 6455)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};

int ws_start(struct api *a)
{
	struct ws_hub *h = xcalloc(1, sizeof(*h));
	pthread_condattr_t ca;
	int r;

	h->a = a;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->wake_check, &ca);
	pthread_condattr_destroy(&ca);
	a->ws = h;
	h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->wake_fd < 0) {
		api_log("ws: eventfd: %s", strerror(errno));
		return -1;
	}
	r = pthread_create(&h->io, NULL, io_main, h);
	h->io_up = r == 0;
	if (!r)
		r = pthread_create(&h->check, NULL, check_main, h);
	h->check_up = h->io_up && r == 0;
	if (r) {
		api_log("ws: cannot start its threads: %s", strerror(r));
		return -1;
	}
	return 0;
}

void ws_stop(struct api *a)
{
	struct ws_hub *h = a->ws;
	struct ws_client *done;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_signal(&h->wake_check);
	pthread_mutex_unlock(&h->lock);
	if (h->wake_fd >= 0)
		wake_io(h);
	/* check may wait for ctl: api_free() closed the channel first */
	if (h->check_up)
		pthread_join(h->check, NULL);
	if (h->io_up)
		pthread_join(h->io, NULL);
	h->check_up = h->io_up = false;
	/* io gave every socket back; without it, this does */
	pthread_mutex_lock(&h->lock);
	for (struct ws_client *c = h->clients; c; c = c->next)
		c->state = WS_DONE;
	done = take_done(h);
	pthread_mutex_unlock(&h->lock);
	release(done);
}

void ws_free(struct api *a)
{
	struct ws_hub *h = a->ws;

	if (!h)
		return;
	ws_stop(a);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	pthread_cond_destroy(&h->wake_check);
	pthread_mutex_destroy(&h->lock);
	free(h);
	a->ws = NULL;
}
