/* What api.c (the process, its RPC channel, MHD) shares with the request
 * layer (req.c) and the handlers (h_*.c). */
#ifndef MOAT_API_INTERNAL_H
#define MOAT_API_INTERNAL_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api/api.h"
#include "api/body.h"
#include "api/metrics.h"
#include "api/route.h"
#include "base/buf.h"
#include "ctl/rpc.h"

/* A request waiting for ctl's answer (on its caller's stack). */
struct api_call {
	json_int_t id;
	json_t *answer;			/* set by the main thread */
	struct api_call *next;
};

/* The channel to ctl. Handlers queue a request and wait for the answer
 * with their id; the main thread reads and hands answers out. */
struct api_rpc {
	int fd;
	int wake_fd;			/* eventfd: out has bytes to write */
	pthread_mutex_t lock;		/* guards the rest */
	pthread_cond_t answered;	/* on CLOCK_MONOTONIC */
	struct buf out;			/* frames not yet written */
	json_int_t next_id;
	struct api_call *calls;
	bool closed;
};

/* An HTTPS listener's certificate chain and private key, PEM, each
 * NUL-terminated (MHD takes C strings). Read before the sandbox, wiped
 * and freed as soon as MHD has taken them (http_start_all()). */
struct api_pem {
	int fd;				/* the listening socket's */
	char *cert, *key;
	size_t cert_len, key_len;
};

struct api {
	struct api_rpc rpc;
	struct rpc_reader in;		/* the main thread's alone */
	int sig_fd;
	struct MHD_Daemon *mhd[API_MAX_LISTEN];
	int mhd_fd[API_MAX_LISTEN];	/* the listening socket of each */
	bool quiesced[API_MAX_LISTEN];	/* MHD let go of its socket */
	size_t n_mhd;
	struct api_pem pem[API_MAX_LISTEN];	/* one per TLS listener */
	size_t n_pem;
	atomic_int inflight;		/* requests begun, not finished */
	atomic_int fresh;		/* connections with no request yet */
	atomic_bool draining;		/* stopped accepting; exiting */
	struct timespec drain_end;
	bool rpc_gone;			/* ctl closed the channel */
	atomic_int ctl_ok;		/* the last health answer, for logs:
					 * 1, 0, -1 before the first */
	pthread_mutex_t log_lock;	/* the MHD log rate limit */
	time_t log_sec;
	unsigned int log_n, log_dropped;
	struct ws_hub *ws;		/* ws_io.c: /api/ws */
	struct api_metrics *metrics;	/* metrics.c */
};

/* Asks ctl METHOD(params) (stolen), with auth (borrowed, may be NULL: the
 * HTTP client's credentials), and waits up to timeout_ms. ctl's answer
 * ({"id","result"} or {"id","error"}; the caller decrefs it), or NULL
 * when ctl did not answer in time or is gone. */
json_t *api_rpc_call(struct api *a, const char *method, json_t *params,
		     json_t *auth, int timeout_ms);

/* req.c: MHD's callbacks for requests. */
enum MHD_Result api_http_request(void *cls, struct MHD_Connection *c,
				 const char *url, const char *method,
				 const char *version, const char *upload,
				 size_t *upload_size, void **req);
void api_http_done(void *cls, struct MHD_Connection *c, void **req,
		   enum MHD_RequestTerminationCode why);
/* MHD_OPTION_UNESCAPE_CALLBACK: percent-decoding in which "%00" cannot
 * cut a path short. */
size_t api_unescape(void *cls, struct MHD_Connection *c, char *s);
/* A connection served its first request (api.c counts the fresh ones). */
void api_conn_used(struct api *a, struct MHD_Connection *c);
/* An event from ctl ({"event", "data"}), for /api/ws and /metrics. */
void api_on_event(struct api *a, json_t *msg);
/* ws_io.c: its threads, started inside the sandbox before MHD; stopped
 * (every socket given back) before MHD stops, freed after. */
int ws_start(struct api *a);
void ws_stop(struct api *a);
void ws_free(struct api *a);
/* The WebSockets' credentials are checked again soon (a change went
 * through the API: it may have revoked them). */
void ws_recheck_soon(struct api *a);
void ws_metrics_text(struct api *a, struct buf *b);

/* ---- for handlers ---- */

#define API_MAX_HEADERS 8
#define API_SESSION_COOKIE "moat_session"
/* How long a call that hashes a password or changes the kernel may
 * wait for ctl (they queue there). */
#define API_SLOW_TIMEOUT_MS 30000

/* A request, from its head to its answer. */
struct api_req {
	struct api *a;
	struct MHD_Connection *conn;
	const char *method, *path;	/* MHD's, valid until the answer */
	struct route_match m;
	struct buf body;
	size_t body_max;
	bool too_big;
	bool tls;
	char source[64];		/* the client's address */
	json_t *auth;			/* credentials for ctl */
	bool cookie_session;		/* authenticated by cookie */
	struct timespec start;
	/* the answer */
	unsigned status;
	struct MHD_Response *resp;
	char *headers[API_MAX_HEADERS][2];
	size_t nheaders;
};

/* ctl's answer to METHOD(params stolen) with the request's credentials:
 * the result (the caller decrefs it), or NULL with the request answered
 * (the HTTP status of ctl's error, or 503 when ctl does not answer). */
json_t *api_call(struct api_req *q, const char *method, json_t *params,
		 int timeout_ms);
/* ctl's whole answer ({"result"} or {"error"}; the caller decrefs it),
 * NULL when ctl did not answer; nothing is answered: for handlers that
 * map errors themselves. */
json_t *api_call_raw(struct api_req *q, const char *method, json_t *params,
		     int timeout_ms);
/* The HTTP status of a ctl error object. */
unsigned api_status_of(const json_t *error);

/* Answers status with body (stolen) as JSON. */
void api_reply(struct api_req *q, unsigned status, json_t *body);
/* {"code", "message", "detail"} as wgrest does; detail may be NULL. */
void api_reply_error(struct api_req *q, unsigned status, const char *detail,
		     const char *fmt, ...) MOAT_PRINTF(4, 5);
/* Answers status with len bytes of data of type (copied). */
void api_reply_data(struct api_req *q, unsigned status, const char *type,
		    const void *data, size_t len);
/* A header for the answer (copied); at most API_MAX_HEADERS. */
void api_header(struct api_req *q, const char *name, const char *value);

/* The body as an object checked against schema, or NULL with the
 * request answered (400 or 413). */
json_t *api_body(struct api_req *q, const struct body_field *schema);
/* A query argument, NULL when absent. */
const char *api_query(struct api_req *q, const char *name);
/* Path parameter i ("{}" in the route's pattern). */
const char *api_param(const struct api_req *q, size_t i);

/* The route tables (each ends with a NULL pattern). */
extern const struct api_route api_core_routes[];	/* req.c */
extern const struct api_route api_auth_routes[];	/* h_auth.c */
extern const struct api_route api_ws_routes[];		/* ws_io.c */
extern const struct api_route api_metrics_routes[];	/* metrics.c */
extern const struct api_route api_wg_routes[];	/* h_wg.c */
extern const struct api_route api_config_routes[];	/* h_config.c */

#endif
