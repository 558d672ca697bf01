/* api's own metrics: requests counted by route pattern (never the raw
 * path: a client chooses that), method and status, with their latency;
 * and GET /metrics, which writes ctl's metrics and these. */
#ifndef MOAT_API_METRICS_H
#define MOAT_API_METRICS_H

#include "base/buf.h"

struct api;
struct api_req;
struct api_metrics;

struct api_metrics *api_metrics_new(void);
void api_metrics_free(struct api_metrics *m);
/* A request ended (req.c, api_http_done): counted, and a change made
 * through the API has the WebSockets' credentials checked again. */
void api_metrics_done(struct api_req *q);
/* Appends api's families (requests, latencies, memory). */
void api_metrics_text(struct api *a, struct buf *b);

#endif
