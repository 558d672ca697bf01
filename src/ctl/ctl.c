/* moat ctl's core: configs as generations, the transition from one to the
 * next with rollback, commit-confirmed, the integrity monitor's restores,
 * signals, start and stop. */
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "base/file.h"
#include "base/util.h"
#include "config/config.h"
#include "ctl/client.h"
#include "ctl/ctl.h"
#include "ctl/method.h"
#include "ctl/monitor.h"
#include "net/net.h"
#include "store/store.h"

void ctl_hash_for_api(struct ctl *c, const char *hash, char out[65])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	if (!c->api_hash_key_set) {
		randombytes_buf(c->api_hash_key, sizeof(c->api_hash_key));
		c->api_hash_key_set = true;
	}
	crypto_auth_hmacsha256(mac, (const unsigned char *)hash, strlen(hash),
			       c->api_hash_key);
	sodium_bin2hex(out, 65, mac, sizeof(mac));
}

long long ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ctl_log(const char *fmt, ...)
{
	va_list ap;

	fputs("moat ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The sd_notify protocol: one datagram to $NOTIFY_SOCKET ('@': the
 * abstract namespace). Nothing when it is not set. */
void ctl_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	int fd;

	if (!path || !*path || (n = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		ctl_log("sd_notify: %s", strerror(errno));
	close(fd);
}

void ctl_audit(struct ctl *c, const struct ctl_caller *who,
	       const char *action, const char *detail, const char *result)
{
	struct store_audit e = {
		.who = who ? who->who : "ctl",
		.origin = who ? who->origin : "ctl",
		.action = action,
		.detail = detail ? detail : "",
		.result = result ? result : "ok",
	};
	char err[256];

	if (!c->store || store_audit_append(c->store, &e, NULL, err,
					    sizeof(err)) < 0)
		ctl_log("audit: cannot record %s: %s", action,
			c->store ? err : "no store");
}

/* --- generations ---------------------------------------------------------- */

static void gen_free(struct ctl_gen *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < NCOMPONENTS; i++)
		if (g->plans[i])
			components[i]->free_plan(g->plans[i]);
	cfg_free(g->cfg);
	free(g->text);
	free(g);
}

static void comp_env(struct ctl *c, struct comp_env *env, char *fault,
		     size_t n)
{
	const char *ff = getenv("MOAT_CTL_FAULT");
	char *text = NULL;
	size_t len = 0;

	/* tests of rollback only: a file naming the component to fail */
	fault[0] = '\0';
	if (ff && *ff && file_read(ff, 64, &text, &len) == 0) {
		snprintf(fault, n, "%.*s", (int)strcspn(text, "\n"), text);
		free(text);
	}
	*env = (struct comp_env){ .state_dir = c->state_dir,
				  .config_path = c->config_path,
				  .fault = fault[0] ? fault : NULL };
}

/* Parses, validates and compiles. text NULL: read path. */
static struct ctl_gen *gen_build(struct ctl *c, const char *path,
				 const char *text, size_t len,
				 struct diag_list *dl)
{
	struct ctl_gen *g = xcalloc(1, sizeof(*g));
	unsigned char h[crypto_hash_sha256_BYTES];
	struct comp_env env;
	char fault[64];
	int r;

	if (text) {
		g->text = xstrndup(text, len);
		g->len = len;
	} else if ((r = file_read(path, MOAT_MAX_CONFIG_BYTES, &g->text,
				  &g->len)) < 0) {
		diag_error(dl, NULL, "%s: %s", path, strerror(-r));
		goto bad;
	}
	crypto_hash_sha256(h, (const unsigned char *)g->text, g->len);
	for (size_t i = 0; i < sizeof(h); i++)
		snprintf(g->hash + 2 * i, 3, "%02x", h[i]);
	g->cfg = cfg_load(path, g->text, g->len, NULL, false, dl);
	if (!g->cfg)
		goto bad;
	/* the first config names it; a changed state_dir takes a restart */
	if (!c->state_dir) {
		const char *sd = getenv("MOAT_STATE_DIR");

		c->state_dir = xstrdup(sd && *sd ? sd : g->cfg->state_dir.v ?
				       g->cfg->state_dir.v : "/var/lib/moat");
	}
	comp_env(c, &env, fault, sizeof(fault));
	for (size_t i = 0; i < NCOMPONENTS; i++) {
		g->plans[i] = components[i]->compile(g->cfg, &env, dl);
		if (!g->plans[i])
			goto bad;
		components[i]->hash(g->plans[i], g->phash[i]);
	}
	return g;
bad:
	gen_free(g);
	return NULL;
}

int ctl_compile(struct ctl *c, const char *text, size_t len,
		char phash[NCOMPONENTS][65], struct diag_list *dl)
{
	struct ctl_gen *g = gen_build(c, c->config_path, text, len, dl);

	if (!g)
		return -1;
	memcpy(phash, g->phash, sizeof(g->phash));
	gen_free(g);
	return 0;
}

static json_t *diags_json(const struct diag_list *dl)
{
	json_t *a = json_array();

	for (size_t i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];

		json_array_append_new(a, json_pack("{sssssisiss}", "severity",
			diag_sev_name(d->sev), "file", d->file ? d->file : "",
			"line", d->line, "column", d->col, "message", d->msg));
	}
	return a;
}

/* "FILE:LINE:COL: msg" of the first error, for the audit log. */
static void first_error(const struct diag_list *dl, char *out, size_t n)
{
	diag_first_error(dl, 0, "failed", out, n);
}

/* Applies the components whose plan differs from old's (all when force),
 * in order; when one fails, those already applied are applied back to
 * old's plans, backwards. comps gets each component's outcome. */
static int transition(struct ctl *c, const struct ctl_gen *old,
		      const struct ctl_gen *new, bool force, json_t *comps,
		      struct diag_list *dl)
{
	bool done[NCOMPONENTS] = { false };
	struct comp_env env;
	enum comp_outcome out;
	char fault[64];
	size_t i;

	comp_env(c, &env, fault, sizeof(fault));
	for (i = 0; i < NCOMPONENTS; i++) {
		const struct component *k = components[i];

		if (!force && old && !strcmp(old->phash[i], new->phash[i])) {
			json_object_set_new(comps, k->name,
					    json_string("unchanged"));
			continue;
		}
		if (k->apply(new->plans[i], &env, force, &out, dl) < 0) {
			json_object_set_new(comps, k->name,
					    json_string("failed"));
			break;
		}
		done[i] = true;
		json_object_set_new(comps, k->name, json_string(
			out == COMP_APPLIED ? "applied" : "unchanged"));
	}
	if (i == NCOMPONENTS)
		return 0;
	/* back to old, in reverse; the fault is for the way forward */
	env.fault = NULL;
	while (i-- > 0) {
		const struct component *k = components[i];
		struct diag_list quiet = { 0 };

		if (!done[i])
			continue;
		if (!old) {
			json_object_set_new(comps, k->name,
					    json_string("applied, not rolled "
							"back (no previous "
							"config)"));
			continue;
		}
		if (k->apply(old->plans[i], &env, true, &out, &quiet) < 0) {
			char e[512];

			first_error(&quiet, e, sizeof(e));
			diag_error(dl, NULL, "%s: rolling back failed: %s",
				   k->name, e);
			json_object_set_new(comps, k->name,
					    json_string("rollback failed"));
		} else {
			json_object_set_new(comps, k->name,
					    json_string("rolled back"));
		}
		diag_list_free(&quiet);
	}
	return -1;
}

/* The config file follows what runs: written atomically when it came
 * from somewhere else (another file, the API, a revision). */
static void write_config(struct ctl *c, const struct ctl_gen *g)
{
	char *have = NULL;
	size_t len = 0;
	int r;

	if (file_read(c->config_path, MOAT_MAX_CONFIG_BYTES, &have,
		      &len) == 0 && len == g->len &&
	    !memcmp(have, g->text, len)) {
		free(have);
		return;
	}
	free(have);
	if ((r = file_write_atomic(c->config_path, g->text, g->len, 0755)))
		ctl_log("%s: cannot write it: %s", c->config_path,
			strerror(-r));
}

static long long record_revision(struct ctl *c, const struct ctl_gen *g,
				 const struct ctl_caller *who,
				 const char *path, const char *result,
				 const char *detail)
{
	struct store_revision r = {
		.author = (char *)(who ? who->who : "ctl"),
		.origin = (char *)(who ? who->origin : "ctl"),
		.config_path = (char *)(path ? path : c->config_path),
		.config = g->text,
		.hash = (char *)g->hash,
		.result = (char *)result,
		.detail = (char *)(detail ? detail : ""),
	};
	char err[256];
	long long id = 0;

	if (c->store && store_revision_add(c->store, &r, &id, err,
					   sizeof(err)) < 0)
		ctl_log("revisions: %s", err);
	return id;
}

static void set_result(struct ctl *c, long long rev, const char *result,
		       const char *detail)
{
	char err[256];

	if (c->store && rev &&
	    store_revision_set_result(c->store, rev, result, detail ? detail :
				      "", err, sizeof(err)) < 0)
		ctl_log("revisions: %s", err);
}

static void confirm_expired(uv_timer_t *t);
static void watch_links(struct ctl *c);
static void settle(struct ctl *c);

int ctl_apply(struct ctl *c, const char *path, const char *text,
	      int confirm_s, const struct ctl_caller *who, json_t **res)
{
	struct diag_list dl = { 0 };
	json_t *comps = json_object();
	struct ctl_gen *g;
	const char *src = path ? path : c->config_path;
	char e[512], detail[600];
	int r = -1;
	uint64_t t0 = uv_hrtime();	/* for the metrics */

	*res = json_object();
	if (c->prev) {
		json_object_set_new(*res, "error", json_string(
			"a change awaits confirmation: `moat confirm` keeps "
			"it, or it rolls back by itself"));
		json_decref(comps);
		return -1;
	}
	ctl_notify("RELOADING=1");
	g = gen_build(c, src, text, text ? strlen(text) : 0, &dl);
	if (!g) {
		first_error(&dl, e, sizeof(e));
		ctl_audit(c, who, "apply", src, e);
		goto out;
	}
	if (transition(c, c->cur, g, false, comps, &dl) < 0) {
		settle(c);
		first_error(&dl, e, sizeof(e));
		g->revision = record_revision(c, g, who, src, "failed", e);
		snprintf(detail, sizeof(detail), "%s (revision %lld)", src,
			 g->revision);
		ctl_audit(c, who, "apply", detail, e);
		gen_free(g);
		goto out;
	}
	g->revision = record_revision(c, g, who, src, confirm_s > 0 ?
				      "pending" : "applied", NULL);
	write_config(c, g);
	snprintf(detail, sizeof(detail), "%s (revision %lld)%s", src,
		 g->revision, confirm_s > 0 ? ", awaiting confirmation" : "");
	ctl_audit(c, who, "apply", detail, "ok");
	if (confirm_s > 0) {
		c->prev = c->cur;
		c->confirm_deadline = ctl_now_ms() + confirm_s * 1000LL;
		uv_timer_start(&c->confirm_timer, confirm_expired,
			       (uint64_t)confirm_s * 1000, 0);
		ctl_event(c, "config.awaiting_confirm", json_pack("{sIsI}",
			  "revision", (json_int_t)g->revision, "deadline_ms",
			  (json_int_t)c->confirm_deadline));
	} else {
		gen_free(c->cur);
	}
	c->cur = g;
	watch_links(c);
	settle(c);
	ctl_event(c, "config.applied", json_pack("{sIso}", "revision",
		  (json_int_t)g->revision, "components", json_copy(comps)));
	json_object_set_new(*res, "revision", json_integer(g->revision));
	if (confirm_s > 0)
		json_object_set_new(*res, "confirm_deadline_ms",
				    json_integer(c->confirm_deadline));
	r = 0;
out:
	json_object_set_new(*res, "components", comps);
	json_object_set_new(*res, "diagnostics", diags_json(&dl));
	json_object_set_new(*res, "ok", json_boolean(r == 0));
	diag_list_free(&dl);
	ctl_metrics_apply(c, r == 0, (double)(uv_hrtime() - t0) / 1e9);
	ctl_notify("READY=1");
	return r;
}

/* Back to c->prev: the confirmation did not come. */
static void roll_back_unconfirmed(struct ctl *c, const char *why)
{
	struct diag_list dl = { 0 };
	json_t *comps = json_object();
	struct ctl_gen *bad = c->cur;
	char detail[256], e[512];

	uv_timer_stop(&c->confirm_timer);
	/* every component, forced: the new plan may have touched any */
	if (transition(c, bad, c->prev, true, comps, &dl) < 0) {
		/* transition put back what it did: bad still runs, and that
		 * is what ctl says; it tries again in 5 s */
		first_error(&dl, e, sizeof(e));
		snprintf(detail, sizeof(detail), "revision %lld: %s; back to "
			 "revision %lld", bad->revision, why,
			 c->prev->revision);
		ctl_audit(c, NULL, "rollback", detail, e);
		ctl_log("rolling back revision %lld failed, retrying in 5 s: "
			"%s", bad->revision, e);
		settle(c);
		uv_timer_start(&c->confirm_timer, confirm_expired, 5000, 0);
		json_decref(comps);
		diag_list_free(&dl);
		return;
	}
	set_result(c, bad->revision, "rolled-back", why);
	c->cur = c->prev;
	c->prev = NULL;
	c->confirm_deadline = 0;
	write_config(c, c->cur);
	watch_links(c);
	settle(c);
	snprintf(detail, sizeof(detail), "revision %lld: %s; back to "
		 "revision %lld", bad->revision, why, c->cur->revision);
	ctl_audit(c, NULL, "rollback", detail, dl.nerrors ? "failed" : "ok");
	ctl_log("%s", detail);
	ctl_event(c, "config.rolled_back", json_pack("{sIsIss}", "revision",
		  (json_int_t)bad->revision, "to", (json_int_t)c->cur->revision,
		  "reason", why));
	gen_free(bad);
	json_decref(comps);
	diag_list_free(&dl);
}

static void confirm_expired(uv_timer_t *t)
{
	struct ctl *c = t->data;

	if (c->prev)
		roll_back_unconfirmed(c, "not confirmed in time");
}

int ctl_confirm(struct ctl *c, const struct ctl_caller *who, json_t **res)
{
	char detail[64];

	if (!c->prev) {
		*res = json_pack("{sbss}", "ok", 0, "error",
				 "nothing awaits confirmation");
		return -1;
	}
	uv_timer_stop(&c->confirm_timer);
	gen_free(c->prev);
	c->prev = NULL;
	c->confirm_deadline = 0;
	set_result(c, c->cur->revision, "confirmed", NULL);
	snprintf(detail, sizeof(detail), "revision %lld", c->cur->revision);
	ctl_audit(c, who, "confirm", detail, "ok");
	ctl_event(c, "config.confirmed", json_pack("{sI}", "revision",
		  (json_int_t)c->cur->revision));
	*res = json_pack("{sbsI}", "ok", 1, "revision",
			 (json_int_t)c->cur->revision);
	return 0;
}

int ctl_rollback(struct ctl *c, long long rev, const struct ctl_caller *who,
		 json_t **res)
{
	struct store_revision r = { 0 };
	char err[256];
	int found;

	if (!c->store || (found = store_revision_get(c->store, rev, &r, err,
						     sizeof(err))) < 0) {
		*res = json_pack("{sbss}", "ok", 0, "error",
				 c->store ? err : "no store");
		return -1;
	}
	if (found == 1) {
		*res = json_pack("{sbss}", "ok", 0, "error",
				 "no such revision");
		store_revision_clear(&r);
		return -1;
	}
	found = ctl_apply(c, r.config_path, r.config, 0, who, res);
	{
		char d[96];

		snprintf(d, sizeof(d), "the config of revision %lld, as "
			 "revision %lld", rev, json_integer_value(
			 json_object_get(*res, "revision")));
		ctl_audit(c, who, "rollback", d, found ? "failed" : "ok");
	}
	json_object_set_new(*res, "from_revision", json_integer(rev));
	store_revision_clear(&r);
	return found;
}

/* --- the integrity monitor ------------------------------------------------ */

/* The interfaces the running plan names, for the monitor. */
static void watch_links(struct ctl *c)
{
	const struct net_plan *p = c->cur->plans[COMP_NET];
	const char **v = xcalloc(p->nlinks + 1, sizeof(*v));

	for (size_t i = 0; i < p->nlinks; i++)
		v[i] = p->links[i].name;
	if (c->mon)
		monitor_set_links(c->mon, v);
	free(v);
}

/* Something changed what moat owns: each component concerned reads the
 * kernel and puts right what differs. Then the events of ctl's own
 * repair are drained (they would read as another tamper) and, when there
 * were any, checked once more: someone else may have changed something
 * in the same moment. */
static void verify(struct ctl *c, unsigned kinds, const char *what,
		   int depth)
{
	struct comp_env env;
	enum comp_outcome out;
	char fault[64], detail[480];
	long long t0 = ctl_now_ms();
	bool changed = false;

	if (!c->cur || c->stopping)
		return;
	comp_env(c, &env, fault, sizeof(fault));
	env.fault = NULL;
	for (size_t i = 0; i < NCOMPONENTS; i++) {
		const struct component *k = components[i];
		struct diag_list dl = { 0 };
		bool ours = (i == COMP_FW && (kinds & (MON_FW | MON_LOST))) ||
			    (i == COMP_NET && (kinds & (MON_NET | MON_LOST)));
		char e[512];

		if (!ours)
			continue;
		if (k->apply(c->cur->plans[i], &env, false, &out, &dl) < 0) {
			first_error(&dl, e, sizeof(e));
			snprintf(detail, sizeof(detail), "%s: %s", k->name,
				 what);
			ctl_audit(c, NULL, "restore", detail, e);
			ctl_log("integrity: %s: cannot restore: %s", what, e);
			changed = true;
		} else if (out == COMP_APPLIED) {
			snprintf(detail, sizeof(detail), "%s: %s (restored "
				 "in %lld ms)", k->name, what,
				 ctl_now_ms() - t0);
			c->restores++;
			snprintf(c->last_restore, sizeof(c->last_restore),
				 "%s", detail);
			c->last_restore_at = ctl_now_ms();
			ctl_audit(c, &(struct ctl_caller){ .who = "unknown",
				  .origin = "kernel" }, "restore", detail,
				  "ok");
			ctl_log("integrity: %s", detail);
			ctl_event(c, "integrity.restored", json_pack(
				  "{ssss}", "component", k->name, "what",
				  what));
			changed = true;
		}
		diag_list_free(&dl);
	}
	if (changed && depth < 3 && (kinds = monitor_drain(c->mon)))
		verify(c, kinds, "changed while ctl was restoring",
		       depth + 1);
}

static void on_tamper(struct monitor *m, unsigned kinds, const char *what,
		      void *data)
{
	(void)m;
	verify(data, kinds, what, 0);
	/* an apply's buffers (libnftables' cache, dumps) go back to the
	 * system: ctl idles for hours between changes */
	malloc_trim(0);
}

/* After ctl changed the kernel itself. */
static void settle(struct ctl *c)
{
	unsigned kinds = monitor_drain(c->mon);

	if (kinds)
		verify(c, kinds, "changed while ctl was applying", 1);
	malloc_trim(0);
}

/* The WireGuard plans again from the store (a runtime peer came or went),
 * for the running config and the one a pending confirmation would go
 * back to; the running one is applied (the delta is empty when the CLI
 * changed the device already). */
int ctl_wg_resync(struct ctl *c, bool restore, char *err, size_t errlen)
{
	const struct component *k = components[COMP_WG];
	struct ctl_gen *gens[2] = { c->cur, c->prev };
	void *plans[2] = { NULL, NULL };
	struct diag_list dl = { 0 };
	struct comp_env env;
	enum comp_outcome out;
	char fault[64];
	int r = 0;

	comp_env(c, &env, fault, sizeof(fault));
	env.fault = NULL;
	/* both plans first, swapped in only when both compile: a plan half
	 * taken again would make the next reload see "unchanged" where the
	 * device is not */
	for (size_t i = 0; i < 2 && !r; i++)
		if (gens[i] && !(plans[i] = k->compile(gens[i]->cfg, &env,
						       &dl)))
			r = -1;
	for (size_t i = 0; i < 2; i++) {
		if (!plans[i])
			continue;
		if (r) {
			k->free_plan(plans[i]);
			continue;
		}
		k->free_plan(gens[i]->plans[COMP_WG]);
		gens[i]->plans[COMP_WG] = plans[i];
		k->hash(plans[i], gens[i]->phash[COMP_WG]);
	}
	if (r)
		first_error(&dl, err, errlen);
	/* the running plan goes to the devices when it was taken again, or
	 * when a device came back empty (restore): better the plan as it ran
	 * than nothing */
	if ((!r || restore) && k->apply(c->cur->plans[COMP_WG], &env, false,
					&out, &dl) < 0 && !r) {
		r = -1;
		first_error(&dl, err, errlen);
	}
	diag_list_free(&dl);
	settle(c);
	return r;
}

/* --- status --------------------------------------------------------------- */

json_t *ctl_status(struct ctl *c)
{
	json_t *s = json_object(), *comps = json_object();

	for (size_t i = 0; c->cur && i < NCOMPONENTS; i++) {
		json_t *o = components[i]->summary(c->cur->plans[i]);

		json_object_set_new(o, "plan", json_string(c->cur->phash[i]));
		json_object_set_new(comps, components[i]->name, o);
	}
	json_object_set_new(s, "pid", json_integer(getpid()));
	json_object_set_new(s, "config", json_string(c->config_path));
	json_object_set_new(s, "state_dir", json_string(c->state_dir));
	if (c->cur) {
		json_object_set_new(s, "revision",
				    json_integer(c->cur->revision));
		json_object_set_new(s, "config_hash",
				    json_string(c->cur->hash));
	}
	json_object_set_new(s, "components", comps);
	json_object_set_new(s, "awaiting_confirm", json_boolean(c->prev));
	if (c->prev)
		json_object_set_new(s, "confirm_deadline_ms",
				    json_integer(c->confirm_deadline));
	json_object_set_new(s, "monitor", json_pack("{sbsIss*sI}", "running",
		c->mon != NULL, "restores", (json_int_t)c->restores,
		"last_restore", c->last_restore[0] ? c->last_restore : NULL,
		"last_restore_at_ms", (json_int_t)c->last_restore_at));
	json_object_set_new(s, "api", json_pack("{sbsisIsIss*}", "running",
		c->api_running, "pid", c->api_running ? c->api_pid : 0,
		"restarts", (json_int_t)c->api_restarts, "listeners",
		(json_int_t)c->nlisteners, "tls_fingerprint",
		c->tls_fingerprint[0] ? c->tls_fingerprint : NULL));
	return s;
}

/* --- start and stop ------------------------------------------------------- */

static void free_handle(uv_handle_t *h)
{
	free(h);
}

static void successor_exited(uv_process_t *p, int64_t status, int sig)
{
	ctl_log("the new ctl (pid %d) exited: %s %d", p->pid,
		sig ? "signal" : "status", sig ? sig : (int)status);
	uv_close((uv_handle_t *)p, free_handle);
}

/* `BINARY ctl --takeover` from the binary on disk (an upgrade). A handle
 * of its own: uv_spawn initialises it even when it fails. */
static void spawn_successor(struct ctl *c)
{
	char *argv[] = { c->exe, "ctl", "--takeover", "-c", c->config_path,
			 c->flush_on_exit ? "--flush-on-exit" : NULL, NULL };
	uv_stdio_container_t io[3] = {
		{ .flags = UV_INHERIT_FD, .data.fd = 0 },
		{ .flags = UV_INHERIT_FD, .data.fd = 1 },
		{ .flags = UV_INHERIT_FD, .data.fd = 2 },
	};
	uv_process_options_t o = {
		.file = c->exe, .args = argv, .stdio = io, .stdio_count = 3,
		.exit_cb = successor_exited, .flags = UV_PROCESS_DETACHED,
	};
	uv_process_t *p = xcalloc(1, sizeof(*p));
	int r = uv_spawn(c->loop, p, &o);

	if (r < 0) {
		ctl_log("cannot start %s: %s", c->exe, uv_strerror(r));
		uv_close((uv_handle_t *)p, free_handle);
		return;
	}
	/* it outlives this ctl: the loop does not wait for it */
	uv_unref((uv_handle_t *)p);
}

static void on_signal(uv_signal_t *h, int sig)
{
	struct ctl *c = h->data;
	struct ctl_caller who = { .who = "root", .origin = "signal",
				  .role = ROLE_ADMIN };
	json_t *res = NULL;

	switch (sig) {
	case SIGHUP:
		ctl_log("SIGHUP: reloading %s", c->config_path);
		if (ctl_apply(c, NULL, NULL, 0, &who, &res) < 0) {
			char *t = json_dumps(res, JSON_COMPACT);

			ctl_log("reload failed, the old config keeps running: "
				"%s", t ? t : "");
			free(t);
		}
		json_decref(res);
		break;
	case SIGUSR2:
		ctl_log("SIGUSR2: starting a new ctl to take over");
		spawn_successor(c);
		break;
	default:
		ctl_log("%s: stopping", strsignal(sig));
		ctl_stop(c, 0);
		break;
	}
}

static void close_cb(uv_handle_t *h)
{
	(void)h;
}

void ctl_stop(struct ctl *c, int code)
{
	if (c->stopping)
		return;
	c->stopping = true;
	c->exit_code = code;
	/* after a handover the new ctl is the service: it said MAINPID */
	if (!c->handed_over)
		ctl_notify("STOPPING=1");
	uv_timer_stop(&c->confirm_timer);
	for (size_t i = 0; i < ARRAY_SIZE(c->sig); i++)
		if (!uv_is_closing((uv_handle_t *)&c->sig[i]))
			uv_close((uv_handle_t *)&c->sig[i], close_cb);
	if (c->mon) {
		monitor_close(c->mon);
		c->mon = NULL;
	}
	uv_close((uv_handle_t *)&c->confirm_timer, close_cb);
	/* only the api's channel stays open until it exits: nobody else
	 * is answered any more */
	ctl_server_close_all(c, ctl_api_stop(c));
}

/* Everything moat made goes, firewall last but one: the table is the
 * last thing a gateway should lose, but wg and net go after it so that
 * no route outlives the rules that guarded it. */
static void flush_all(struct ctl *c)
{
	struct comp_env env;
	enum comp_outcome out;
	char fault[64];

	comp_env(c, &env, fault, sizeof(fault));
	env.fault = NULL;
	for (size_t i = NCOMPONENTS; i-- > 0;) {
		struct diag_list dl = { 0 };

		if (components[i]->apply(NULL, &env, true, &out, &dl) < 0)
			diag_print(&dl, stderr);
		diag_list_free(&dl);
	}
	ctl_log("--flush-on-exit: moat's table, routes, rules and devices "
		"removed");
}

/* The sockets of the running ctl: ctl.sock's first, then the API's in
 * the order its answer names them. */
static int takeover_receive(struct ctl *c, char *err, size_t errlen)
{
	int fds[64];
	size_t n;
	json_t *msg, *addrs;

	if (ctl_takeover_request(fds, 64, &n, &msg, err, errlen) < 0)
		return -1;
	addrs = json_object_get(json_object_get(msg, "result"), "listeners");
	for (size_t i = 1; i < n; i++) {
		const char *a = json_string_value(json_array_get(addrs, i - 1));

		struct ctl_listener *l;

		c->listeners = xrealloc(c->listeners, (c->nlisteners + 1) *
					sizeof(*c->listeners));
		l = &c->listeners[c->nlisteners++];
		memset(l, 0, sizeof(*l));
		l->addr = xstrdup(a ? a : "?");
		l->fd = fds[i];
	}
	json_decref(msg);
	ctl_log("takeover: received ctl.sock and %zu listener%s", n - 1,
		n == 2 ? "" : "s");
	return ctl_server_listen(c, fds[0], err, errlen);
}

/* The last good revision, as the generation to fall back to at start. */
static struct ctl_gen *last_good(struct ctl *c)
{
	struct store_revision *v = NULL, r = { 0 };
	struct ctl_gen *g = NULL;
	struct diag_list dl = { 0 };
	char err[256];
	size_t n = 0;

	if (store_revisions_list(c->store, 50, &v, &n, err, sizeof(err)) < 0)
		return NULL;
	for (size_t i = 0; i < n && !g; i++) {
		if (strcmp(v[i].result, "applied") &&
		    strcmp(v[i].result, "confirmed"))
			continue;
		if (store_revision_get(c->store, v[i].id, &r, err,
				       sizeof(err)) == 0) {
			g = gen_build(c, r.config_path, r.config,
				      strlen(r.config), &dl);
			if (g)
				g->revision = v[i].id;
		}
		store_revision_clear(&r);
	}
	store_revisions_free(v, n);
	diag_list_free(&dl);
	return g;
}

/* The newest revision when it still awaits confirmation, else 0. */
static long long newest_pending(struct ctl *c)
{
	struct store_revision *v = NULL;
	char err[256];
	size_t n = 0;
	long long id = 0;

	if (store_revisions_list(c->store, 1, &v, &n, err, sizeof(err)) < 0)
		return 0;
	if (n && !strcmp(v[0].result, "pending"))
		id = v[0].id;
	store_revisions_free(v, n);
	return id;
}

int ctl_main(const struct ctl_opts *o)
{
	static const int sigs[] = { SIGHUP, SIGTERM, SIGINT, SIGUSR2, SIGQUIT };
	struct ctl c = { .loop = uv_default_loop(), .sock_fd = -1 };
	struct ctl_caller who = { .who = "root", .origin = "start",
				  .role = ROLE_ADMIN };
	struct diag_list dl = { 0 };
	const char *env;
	char err[512];
	int r = 1;

	c.flush_on_exit = o->flush_on_exit;
	c.config_path = realpath(o->config, NULL);
	if (!c.config_path) {
		fprintf(stderr, "moat ctl: %s: %s\n", o->config,
			strerror(errno));
		return 2;
	}
	c.exe = realpath("/proc/self/exe", NULL);
	env = getenv("MOAT_RUN_DIR");
	c.run_dir = xstrdup(env && *env ? env : "/run/moat");
	signal(SIGPIPE, SIG_IGN);
	/* the config first: a ctl that cannot read it does not take over */
	c.cur = gen_build(&c, c.config_path, NULL, 0, &dl);
	if (!c.cur) {
		diag_sort(&dl);
		diag_print(&dl, stderr);
		fprintf(stderr, "moat ctl: %s does not load; not started\n",
			c.config_path);
		goto out;
	}
	c.store = store_open(c.state_dir, err, sizeof(err));
	if (!c.store) {
		fprintf(stderr, "moat ctl: %s\n", err);
		goto out;
	}
	if (file_mkdir_p(c.run_dir, 0755) < 0) {
		fprintf(stderr, "moat ctl: %s: cannot create it\n", c.run_dir);
		goto out;
	}
	uv_timer_init(c.loop, &c.confirm_timer);
	c.confirm_timer.data = &c;
	uv_timer_init(c.loop, &c.api_timer);
	c.api_timer.data = &c;
	if (o->takeover) {
		if (takeover_receive(&c, err, sizeof(err)) < 0) {
			fprintf(stderr, "moat ctl: takeover: %s\n", err);
			goto out;
		}
		ctl_api_adopt_tls(&c, c.cur->cfg);
	} else {
		bool absent;
		int fd = ctl_client_open(&absent, err, sizeof(err));

		if (fd >= 0) {
			close(fd);
			fprintf(stderr, "moat ctl: a ctl is running already "
				"(%s/ctl.sock answers); `moat ctl --takeover` "
				"replaces it\n", c.run_dir);
			r = 2;
			goto out;
		}
		if (ctl_server_listen(&c, -1, err, sizeof(err)) < 0 ||
		    ctl_api_open(&c, c.cur->cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "moat ctl: %s\n", err);
			goto out;
		}
	}
	/* apply everything: the kernel may have lost it (a reboot) */
	{
		struct ctl_gen *good = last_good(&c), *g = c.cur;
		json_t *comps = json_object();
		long long pending = newest_pending(&c);

		c.cur = NULL;
		/* ctl died while a change awaited confirmation: the change
		 * was never confirmed, so the config before it runs */
		if (pending && good) {
			char d[128];

			snprintf(d, sizeof(d), "revision %lld: ctl restarted "
				 "before it was confirmed; back to revision "
				 "%lld", pending, good->revision);
			set_result(&c, pending, "rolled-back",
				   "ctl restarted before confirmation");
			ctl_audit(&c, &who, "rollback", d, "ok");
			ctl_log("%s", d);
			gen_free(g);
			g = good;
			good = last_good(&c);
			write_config(&c, g);
		}
		diag_list_free(&dl);
		memset(&dl, 0, sizeof(dl));
		if (transition(&c, good, g, true, comps, &dl) < 0) {
			diag_sort(&dl);
			diag_print(&dl, stderr);
			g->revision = record_revision(&c, g, &who, NULL,
						      "failed", NULL);
			if (!good) {
				fprintf(stderr, "moat ctl: the config does not "
					"apply and there is no earlier one to "
					"run\n");
				gen_free(g);
				json_decref(comps);
				goto out;
			}
			/* what failed and what came after it never got
			 * good's plans: all of them, forced */
			diag_list_free(&dl);
			memset(&dl, 0, sizeof(dl));
			if (transition(&c, NULL, good, true, comps, &dl) < 0) {
				diag_sort(&dl);
				diag_print(&dl, stderr);
				fprintf(stderr, "moat ctl: neither the config "
					"nor revision %lld applies\n",
					good->revision);
				ctl_audit(&c, &who, "start", c.config_path,
					  "failed; the previous revision "
					  "failed too");
				gen_free(g);
				gen_free(good);
				json_decref(comps);
				goto out;
			}
			ctl_log("the config does not apply; running revision "
				"%lld instead", good->revision);
			ctl_audit(&c, &who, "start", c.config_path,
				  "failed; previous revision kept");
			gen_free(g);
			c.cur = good;
		} else {
			g->revision = record_revision(&c, g, &who, NULL,
						      "applied", NULL);
			ctl_audit(&c, &who, "start", c.config_path, "ok");
			gen_free(good);
			c.cur = g;
		}
		json_decref(comps);
	}
	c.mon = monitor_open(c.loop, NULL, on_tamper, &c, err, sizeof(err));
	if (!c.mon)
		ctl_log("integrity monitor: %s (running without it)", err);
	else
		watch_links(&c);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		uv_signal_init(c.loop, &c.sig[i]);
		c.sig[i].data = &c;
		uv_signal_start(&c.sig[i], on_signal, sigs[i]);
	}
	ctl_api_check_addrs(&c);
	ctl_api_start(&c);
	ctl_log("running %s (revision %lld), pid %d", c.config_path,
		c.cur->revision, getpid());
	if (o->takeover) {
		char m[64];

		snprintf(m, sizeof(m), "MAINPID=%d\nREADY=1", getpid());
		ctl_notify(m);
	} else {
		ctl_notify("READY=1");
	}
	malloc_trim(0);
	uv_run(c.loop, UV_RUN_DEFAULT);
	if (c.flush_on_exit && !c.handed_over) {
		flush_all(&c);
		ctl_audit(&c, &who, "stop", "--flush-on-exit: moat's objects "
			  "removed", "ok");
	} else if (!c.handed_over) {
		ctl_audit(&c, &who, "stop", "the kernel keeps the config",
			  "ok");
	}
	r = c.exit_code;
out:
	diag_list_free(&dl);
	gen_free(c.cur);
	gen_free(c.prev);
	ctl_auth_free(&c);
	ctl_metrics_free(&c);
	ctl_wg_free(&c);
	ctl_config_free(&c);
	store_close(c.store);
	free(c.config_path);
	free(c.exe);
	free(c.state_dir);
	free(c.run_dir);
	for (size_t i = 0; i < c.nlisteners; i++) {
		free(c.listeners[i].addr);
		free(c.listeners[i].cert);
		free(c.listeners[i].key);
	}
	free(c.listeners);
	uv_loop_close(c.loop);
	return r;
}
