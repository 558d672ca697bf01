/* ctl's metrics, for api's GET /metrics ("metrics": families as JSON,
 * api/prom.h, which api writes as Prometheus text), and "events.poll":
 * what ctl only notices by looking, WireGuard handshakes, turned into
 * "wg.peer.handshake" events. api asks for it every few seconds while a
 * WebSocket client listens, never otherwise; ctl answers one look in
 * POLL_MIN_MS whoever asks.
 *
 * What is counted here: applies (ctl_apply calls ctl_metrics_apply) and
 * their duration. What is read at each scrape: the counters of the
 * firewall's rules (netlink), the WireGuard peers (their device), the
 * resident memory of ctl and api (/proc). No secret is ever a label:
 * public keys, names, chains and rule comments only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/prom.h"
#include "base/file.h"
#include "base/util.h"
#include "ctl/method.h"
#include "fw/counters.h"
#include "wg/apply.h"
#include "wg/wg.h"

/* events.poll looks at the devices at most this often. */
#define POLL_MIN_MS 2000
/* A handshake older than this when first seen is not news (the first
 * look after a long time without listeners). */
#define HANDSHAKE_NEWS_MS 15000

static const double apply_le[] = {
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

/* A peer's latest handshake, as the last look saw it. */
struct seen {
	char dev[16];
	uint8_t pub[WG_KEY_LEN];
	int64_t sec;
};

struct ctl_metrics {
	unsigned long long applies_ok, applies_failed;
	struct prom_hist apply_s;
	struct seen *seen;
	size_t nseen;
	long long polled_at;		/* ms */
};

static struct ctl_metrics *metrics_of(struct ctl *c)
{
	if (!c->metrics) {
		c->metrics = xcalloc(1, sizeof(*c->metrics));
		prom_hist_init(&c->metrics->apply_s, apply_le,
			       ARRAY_SIZE(apply_le));
	}
	return c->metrics;
}

void ctl_metrics_apply(struct ctl *c, bool ok, double secs)
{
	struct ctl_metrics *m = metrics_of(c);

	if (ok)
		m->applies_ok++;
	else
		m->applies_failed++;
	prom_hist_observe(&m->apply_s, secs);
}

void ctl_metrics_free(struct ctl *c)
{
	if (!c->metrics)
		return;
	free(c->metrics->seen);
	free(c->metrics);
	c->metrics = NULL;
}

/* ---- WireGuard ---- */

/* Calls fn for every peer of every device of the running plan, as the
 * device has it (with handshakes and counters). */
static void each_peer(struct ctl *c, void (*fn)(const struct wg_device *dev,
		      const struct wg_peer *obs, const struct wg_peer *planned,
		      void *data), void *data)
{
	const struct wg_plan *wg = c->cur ? c->cur->plans[COMP_WG] : NULL;

	for (size_t i = 0; wg && i < wg->ndevs; i++) {
		const struct wg_device *d = &wg->devs[i];
		struct wg_device obs;
		enum wg_backend be;
		char err[256];

		if (!d->enabled || wg_read(d->name, &obs, &be, err,
					   sizeof(err)) < 0)
			continue;
		for (size_t j = 0; j < obs.npeers; j++)
			fn(d, &obs.peers[j], wg_device_find_peer(d,
			   obs.peers[j].pub), data);
		wg_device_clear(&obs);	/* it held the private key */
	}
}

static int64_t seen_before(const struct ctl_metrics *m, const char *dev,
			   const uint8_t pub[WG_KEY_LEN])
{
	for (size_t i = 0; i < m->nseen; i++)
		if (!strcmp(m->seen[i].dev, dev) &&
		    !memcmp(m->seen[i].pub, pub, WG_KEY_LEN))
			return m->seen[i].sec;
	return 0;
}

struct poll_ctx {
	struct ctl *c;
	struct ctl_metrics *m;
	struct seen *next;
	size_t n, cap;
	long long now;
	unsigned sent;
};

static void rfc3339(int64_t sec, char *out, size_t n)
{
	time_t t = (time_t)sec;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void poll_peer(const struct wg_device *dev, const struct wg_peer *obs,
		      const struct wg_peer *planned, void *data)
{
	struct poll_ctx *x = data;
	struct seen *s;
	char key[WG_KEY_B64], when[32];

	xgrow((void **)&x->next, &x->cap, x->n + 1, sizeof(*x->next));
	s = &x->next[x->n++];
	snprintf(s->dev, sizeof(s->dev), "%s", dev->name);
	memcpy(s->pub, obs->pub, WG_KEY_LEN);
	s->sec = obs->handshake_sec;
	if (obs->handshake_sec <= seen_before(x->m, dev->name, obs->pub) ||
	    obs->handshake_sec * 1000 < x->now - HANDSHAKE_NEWS_MS)
		return;
	wg_key_to_b64(obs->pub, key);
	rfc3339(obs->handshake_sec, when, sizeof(when));
	ctl_event(x->c, "wg.peer.handshake", json_pack("{ssssssss}", "device",
		  dev->name, "public_key", key, "name", planned &&
		  planned->name ? planned->name : "", "latest_handshake",
		  when));
	x->sent++;
}

/* Looks for handshakes newer than the last look's. */
static int m_events_poll(struct ctl_req *r, json_t *p, json_t **res)
{
	struct ctl *c = r->c;
	struct ctl_metrics *m = metrics_of(c);
	struct poll_ctx x = { .c = c, .m = m, .now = ctl_now_ms() };

	(void)p;
	if (x.now - m->polled_at < POLL_MIN_MS) {
		*res = json_pack("{sbsi}", "ok", 1, "events", 0);
		return CTL_OK;
	}
	m->polled_at = x.now;
	each_peer(c, poll_peer, &x);
	free(m->seen);
	m->seen = x.next;
	m->nseen = x.n;
	*res = json_pack("{sbsi}", "ok", 1, "events", (int)x.sent);
	return CTL_OK;
}

/* ---- the families ---- */

struct peer_fams {
	json_t *handshake, *rx, *tx;
};

static void peer_samples(const struct wg_device *dev,
			 const struct wg_peer *obs,
			 const struct wg_peer *planned, void *data)
{
	struct peer_fams *f = data;
	char key[WG_KEY_B64];
	const char *name = planned && planned->name ? planned->name : "";

	wg_key_to_b64(obs->pub, key);
#define PEER_LABELS json_pack("{ssssss}", "device", dev->name, \
			      "public_key", key, "name", name)
	prom_sample_json(f->handshake, NULL, PEER_LABELS,
			 json_integer(obs->handshake_sec));
	prom_sample_json(f->rx, NULL, PEER_LABELS,
			 json_integer((json_int_t)obs->rx_bytes));
	prom_sample_json(f->tx, NULL, PEER_LABELS,
			 json_integer((json_int_t)obs->tx_bytes));
#undef PEER_LABELS
}

static void wg_families(struct ctl *c, json_t *fams)
{
	struct peer_fams f = {
		.handshake = prom_family_json(fams,
			"moat_wg_peer_last_handshake_seconds", "gauge",
			"When the peer's latest handshake was (Unix time; 0: "
			"never)"),
		.rx = prom_family_json(fams, "moat_wg_peer_receive_bytes_total",
			"counter", "Bytes received from the peer"),
		.tx = prom_family_json(fams,
			"moat_wg_peer_transmit_bytes_total", "counter",
			"Bytes sent to the peer"),
	};

	each_peer(c, peer_samples, &f);
}

static void fw_families(json_t *fams)
{
	json_t *pk = prom_family_json(fams, "moat_fw_rule_packets_total",
		"counter", "Packets the firewall's rules with a counter "
		"matched, by chain, position and the rule's comment");
	json_t *by = prom_family_json(fams, "moat_fw_rule_bytes_total",
		"counter", "Bytes the firewall's rules with a counter matched");
	struct fw_counter *v;
	size_t n;

	if (fw_nl_counters(&v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char pos[16];

		snprintf(pos, sizeof(pos), "%u", v[i].position);
#define RULE_LABELS json_pack("{ssssss}", "chain", v[i].chain, "position", \
			      pos, "rule", v[i].comment)
		prom_sample_json(pk, NULL, RULE_LABELS,
				 json_integer((json_int_t)v[i].packets));
		prom_sample_json(by, NULL, RULE_LABELS,
				 json_integer((json_int_t)v[i].bytes));
#undef RULE_LABELS
	}
	free(v);
}

/* Resident memory of a process, from /proc/PID/statm; -1 when unknown. */
static long long rss_of(const char *pid)
{
	char path[64], *text = NULL;
	size_t len = 0;
	unsigned long long size, resident;
	long long r = -1;

	snprintf(path, sizeof(path), "/proc/%s/statm", pid);
	if (file_read(path, 4096, &text, &len) == 0 &&
	    sscanf(text, "%llu %llu", &size, &resident) == 2)
		r = (long long)resident * sysconf(_SC_PAGESIZE);
	free(text);
	return r;
}

static void process_families(struct ctl *c, json_t *fams)
{
	json_t *f = prom_family_json(fams, "moat_process_resident_memory_bytes",
		"gauge", "Resident memory of moat's processes");
	long long ctl = rss_of("self"), api = -1;
	char pid[16];

	if (ctl >= 0)
		prom_sample_json(f, NULL, json_pack("{ss}", "process", "ctl"),
				 json_integer(ctl));
	if (c->api_running) {
		snprintf(pid, sizeof(pid), "%d", c->api_pid);
		api = rss_of(pid);
	}
	if (api >= 0)
		prom_sample_json(f, NULL, json_pack("{ss}", "process", "api"),
				 json_integer(api));
	f = prom_family_json(fams, "moat_api_restarts_total", "counter",
			     "Times ctl restarted the api process");
	prom_sample_json(f, NULL, NULL, json_integer(c->api_restarts));
}

static void config_families(struct ctl *c, json_t *fams)
{
	struct ctl_metrics *m = metrics_of(c);
	json_t *f = prom_family_json(fams, "moat_config_applies_total",
		"counter", "Configs applied (reloads, the API's, rollbacks to a "
		"revision), by result");

	prom_sample_json(f, NULL, json_pack("{ss}", "result", "ok"),
			 json_integer((json_int_t)m->applies_ok));
	prom_sample_json(f, NULL, json_pack("{ss}", "result", "failed"),
			 json_integer((json_int_t)m->applies_failed));
	f = prom_family_json(fams, "moat_config_apply_duration_seconds",
		"histogram", "How long an apply took, from reading the config "
		"to the kernel holding it (or refusing it)");
	prom_hist_json(f, NULL, &m->apply_s);
	f = prom_family_json(fams, "moat_config_revision", "gauge",
			     "The revision of the running config");
	prom_sample_json(f, NULL, NULL, json_integer(c->cur ?
			 c->cur->revision : 0));
	f = prom_family_json(fams, "moat_config_awaiting_confirm", "gauge",
			     "1 while an applied config awaits confirmation");
	prom_sample_json(f, NULL, NULL, json_integer(c->prev != NULL));
	f = prom_family_json(fams, "moat_integrity_restores_total", "counter",
			     "Changes by someone else that ctl put right");
	prom_sample_json(f, NULL, NULL, json_integer((json_int_t)
			 c->restores));
}

/* The families read from the kernel and the WireGuard devices (rule
 * counters, peers) are read at most once a second per revision, whoever
 * scrapes and however often: each read is I/O on ctl's loop. */
#define KERNEL_FAMILIES_MS 1000

static int m_metrics(struct ctl_req *r, json_t *p, json_t **res)
{
	static json_t *kernel;
	static long long kernel_at, kernel_rev;
	long long now = ctl_now_ms(), rev = r->c->cur->revision;
	json_t *fams = json_array();

	(void)p;
	/* a new config has other rules: read again at once */
	if (!kernel || now - kernel_at >= KERNEL_FAMILIES_MS ||
	    now < kernel_at || rev != kernel_rev) {
		json_decref(kernel);
		kernel = json_array();
		fw_families(kernel);
		wg_families(r->c, kernel);
		kernel_at = now;
		kernel_rev = rev;
	}
	config_families(r->c, fams);
	json_array_extend(fams, kernel);
	process_families(r->c, fams);
	*res = json_pack("{so}", "families", fams);
	return CTL_OK;
}

const struct ctl_method ctl_metrics_methods[] = {
	{ "metrics", ROLE_VIEWER, M_API, m_metrics },
	/* api asks while a WebSocket client listens; no credentials (api's
	 * own), and bounded by POLL_MIN_MS whoever calls */
	{ "events.poll", ROLE_VIEWER, M_PUBLIC, m_events_poll },
	{ NULL, 0, 0, NULL },
};
