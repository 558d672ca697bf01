/* ctl's RPC methods. server.c dispatches a request to the method of its
 * name after checking who may call it; each file that adds methods
 * exports a table of them (server.c lists the tables).
 *
 * The api process is never trusted. A request from it names the HTTP
 * client's credentials (a session cookie's token, the CSRF token, an API
 * token) in the message's "auth" object, and ctl itself finds the user
 * and role they stand for (auth.c) before the method runs:
 *   {"id", "method", "params", "auth": {"session", "csrf", "token",
 *    "source"}}
 * "source" (the client's address, for the login backoff and the audit
 * log) is api's word: a compromised api can lie about it, not about the
 * credentials.
 * A request from ctl.sock (root or group moat) is an admin's and carries
 * no "auth". */
#ifndef MOAT_CTL_METHOD_H
#define MOAT_CTL_METHOD_H
#include <stdbool.h>

#include <jansson.h>

#include "ctl/ctl.h"
#include "store/auth.h"

/* What a method returns: 0 and a result, or one of these and
 * {"error": message, ...} whose other members go to the error's "data".
 * api turns each into its HTTP status (in parentheses). */
enum {
	CTL_OK = 0,
	CTL_FAILED = -1,	/* the method ran and failed (500) */
	CTL_PARAMS = -2,	/* bad params (400) */
	CTL_DENIED = -3,	/* the caller's role may not (403) */
	CTL_NOTFOUND = -4,	/* no such thing (404) */
	CTL_CONFLICT = -5,	/* it exists, or the state forbids it (409) */
	CTL_UNAUTH = -6,	/* no valid credentials (401) */
	CTL_SETUP = -7,		/* setup is not done (428) */
	CTL_LIMIT = -8,		/* wait: "retry_after_ms" in data (429) */
	CTL_INVALID = -9,	/* a config that does not load (422) */
	CTL_BUSY = -10,		/* try again later (503) */
	CTL_ANSWERED = 1,	/* the method answered itself (takeover) */
	CTL_ASYNC = 2,		/* it kept the request (ctl_req_keep) and
				 * answers later (ctl_req_answer) */
};

/* A request being answered. */
struct ctl_req {
	struct ctl *c;
	struct ctl_conn *k;
	json_t *id;			/* the request's id */
	struct ctl_caller who;		/* who asks, with the role */
	/* api's requests: how the client authenticated */
	long long user_id;		/* a session's user; 0: none */
	char session[STORE_SECRET_SIZE];	/* its token; "" none */
	char csrf[STORE_SECRET_SIZE];	/* the session's CSRF token */
	long long token_id;		/* an API token's id; 0: none */
	char source[64];		/* the client's address */
};

typedef int (*ctl_method_fn)(struct ctl_req *r, json_t *params,
			     json_t **res);

/* flags */
#define M_API 1u	/* api may call it */
#define M_PUBLIC 2u	/* api may call it without credentials (implies
			 * M_API), also before setup */
#define M_MUTATES 4u	/* changes something: a cookie session needs its
			 * CSRF token */

struct ctl_method {
	const char *name;
	enum ctl_role role;
	unsigned flags;
	ctl_method_fn fn;
};

/* The tables; each ends with a NULL name. */
extern const struct ctl_method ctl_core_methods[];	/* server.c */
extern const struct ctl_method ctl_auth_methods[];	/* auth.c */
extern const struct ctl_method ctl_metrics_methods[];	/* m_metrics.c */
extern const struct ctl_method ctl_wg_methods[];	/* m_wg.c */
extern const struct ctl_method ctl_config_methods[];	/* m_config.c */

/* A copy of r for a method that answers later (CTL_ASYNC); the
 * connection stays valid (it may close meanwhile: then the answer goes
 * nowhere). */
struct ctl_req *ctl_req_keep(const struct ctl_req *r);
/* Answers a kept request as a method's return would (status, res
 * stolen) and frees it. */
void ctl_req_answer(struct ctl_req *r, int status, json_t *res);

/* {"error": message} for a method's *res. */
json_t *ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* auth.c: who an api request's "auth" stands for, into r (who, role,
 * user, session). CTL_OK, or an error status with *res. Checks setup,
 * the session or token, and the CSRF token when m mutates. */
int ctl_auth_resolve(struct ctl_req *r, const struct ctl_method *m,
		     json_t *auth, json_t **res);
/* Whether an admin exists (cached once it does). */
bool ctl_setup_done(struct ctl *c);
/* Ends the auth worker: at ctl's exit. */
void ctl_auth_free(struct ctl *c);
/* m_metrics.c: an apply ended, applied or not, after secs. */
void ctl_metrics_apply(struct ctl *c, bool ok, double secs);
void ctl_metrics_free(struct ctl *c);
/* m_wg.c's devices as read: at ctl's exit. */
void ctl_wg_free(struct ctl *c);

/* Subscribes r's connection to events. */
void ctl_req_subscribe(struct ctl_req *r);

#endif
