/* GET /metrics (Prometheus text format 0.0.4) and api's own numbers.
 *
 * ctl answers "metrics" with its families as JSON (applies, rules'
 * counters, WireGuard peers, memory); api writes them and adds its own:
 * requests by route pattern, method and status, and their latency. The
 * labels are bounded: a route's pattern (or "unmatched"), a method from
 * a fixed list, a status; a series table that fills up counts the rest
 * under route="other". */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "api/internal.h"
#include "api/metrics.h"
#include "api/prom.h"
#include "base/util.h"

#define MAX_SERIES 256

static const double latency_le[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
};

/* One route, method and status. */
struct series {
	const char *route;		/* a pattern (static) */
	unsigned method;		/* index in methods[] */
	unsigned status;
	uint64_t count;
	struct prom_hist latency;	/* not for 101: a WebSocket's life */
};

struct api_metrics {
	pthread_mutex_t lock;
	struct series s[MAX_SERIES];
	size_t n;
	uint64_t unanswered;		/* the client left first */
};

struct api_metrics *api_metrics_new(void)
{
	struct api_metrics *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void api_metrics_free(struct api_metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static unsigned method_index(const char *method)
{
	for (unsigned i = 0; i + 1 < ARRAY_SIZE(methods); i++)
		if (!strcmp(methods[i], method))
			return i;
	return ARRAY_SIZE(methods) - 1;
}

/* The series of (route, method, status); lock held. The last slot is
 * everything that does not fit. */
static struct series *series_of(struct api_metrics *m, const char *route,
				unsigned method, unsigned status)
{
	struct series *s;

	for (size_t i = 0; i < m->n; i++) {
		s = &m->s[i];
		if (s->route == route && s->method == method &&
		    s->status == status)
			return s;
	}
	if (m->n == MAX_SERIES - 1) {
		route = "other";
		method = ARRAY_SIZE(methods) - 1;
		status = 0;
		s = &m->s[MAX_SERIES - 1];
		if (s->route)
			return s;
	} else {
		s = &m->s[m->n++];
	}
	s->route = route;
	s->method = method;
	s->status = status;
	prom_hist_init(&s->latency, latency_le, ARRAY_SIZE(latency_le));
	return s;
}

void api_metrics_done(struct api_req *q)
{
	struct api_metrics *m = q->a->metrics;
	const char *route = q->m.route ? q->m.route->pattern : "unmatched";
	struct timespec now;
	double secs;
	struct series *s;

	if (!m)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - q->start.tv_sec) +
	       (double)(now.tv_nsec - q->start.tv_nsec) / 1e9;
	pthread_mutex_lock(&m->lock);
	if (!q->status) {
		m->unanswered++;
	} else {
		s = series_of(m, route, method_index(q->method), q->status);
		s->count++;
		if (q->status != 101)
			prom_hist_observe(&s->latency, secs);
	}
	pthread_mutex_unlock(&m->lock);
	/* a change through the API may have revoked a token, ended a
	 * session or changed a role: the sockets' credentials are checked
	 * again now, not at the next round */
	if (q->status >= 200 && q->status < 300 && strcmp(q->method, "GET") &&
	    strcmp(q->method, "HEAD"))
		ws_recheck_soon(q->a);
}

void api_metrics_text(struct api *a, struct buf *b)
{
	struct api_metrics *m = a->metrics;
	struct mallinfo2 mi = mallinfo2();
	char code[8];

	pthread_mutex_lock(&m->lock);
	prom_family(b, "moat_api_requests_total", "counter",
		    "HTTP requests api answered, by route pattern, method "
		    "and status");
	for (size_t i = 0; i < MAX_SERIES; i++) {
		const struct series *s = &m->s[i];

		if (!s->route)
			continue;
		snprintf(code, sizeof(code), "%u", s->status);
		prom_sample_u64(b, "moat_api_requests_total", NULL,
				(const char *[]){ "route", s->route, "method",
				methods[s->method], "code", code, NULL },
				s->count);
	}
	prom_family(b, "moat_api_request_duration_seconds", "histogram",
		    "Time from a request's head to its answer, by route "
		    "pattern, method and status (WebSocket upgrades left "
		    "out)");
	for (size_t i = 0; i < MAX_SERIES; i++) {
		const struct series *s = &m->s[i];

		if (!s->route || s->status == 101)
			continue;
		snprintf(code, sizeof(code), "%u", s->status);
		prom_hist_text(b, "moat_api_request_duration_seconds",
			       (const char *[]){ "route", s->route, "method",
			       methods[s->method], "code", code, NULL },
			       &s->latency);
	}
	prom_family(b, "moat_api_requests_unanswered_total", "counter",
		    "Requests whose client went away before the answer");
	prom_sample_u64(b, "moat_api_requests_unanswered_total", NULL, NULL,
			m->unanswered);
	pthread_mutex_unlock(&m->lock);
	prom_family(b, "moat_api_heap_bytes", "gauge",
		    "Memory api's allocator has handed out");
	prom_sample_u64(b, "moat_api_heap_bytes", NULL, NULL,
			(uint64_t)(mi.uordblks + mi.hblkhd));
}

/* GET /metrics: ctl's families (with the client's credentials: a viewer
 * may read them), then api's. */
static void get_metrics(struct api_req *q)
{
	json_t *r = api_call(q, "metrics", json_object(), API_RPC_TIMEOUT_MS);
	struct buf b = BUF_INIT;
	size_t bad;

	if (!r)
		return;
	bad = prom_render_json(&b, json_object_get(r, "families"));
	if (bad)
		api_log("metrics: %zu malformed families or samples from ctl "
			"left out", bad);
	json_decref(r);
	api_metrics_text(q->a, &b);
	ws_metrics_text(q->a, &b);
	api_reply_data(q, 200, PROM_CONTENT_TYPE, b.p ? b.p : "", b.len);
	buf_free(&b);
}

const struct api_route api_metrics_routes[] = {
	{ "GET", "/metrics", get_metrics, R_RAW, 0,
	  "Metrics in Prometheus' text format (viewer)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
