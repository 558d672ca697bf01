/* WireGuard in moat apply, diff and status. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/util.h"
#include "cli/cli.h"
#include "cli/wg_cli.h"
#include "config/config.h"
#include "wg/key.h"

struct wg_plan *cli_wg_compile(const struct moat_config *cfg)
{
	struct diag_list dl = { 0 };
	struct wg_plan *p = wg_compile(cfg, &dl);

	diag_sort(&dl);
	diag_print(&dl, stderr);
	diag_list_free(&dl);
	return p;
}

void cli_wg_print_ops(const struct wg_txn *t, FILE *out)
{
	struct buf b = BUF_INIT;

	wg_txn_describe(t, &b);
	if (b.len)
		fprintf(out, "wireguard:\n%s", b.p);
	buf_free(&b);
}

/* --- status ------------------------------------------------------------------ */

static void add_dev(struct cli_wg_status *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->devs[i].name, name))
			return;
	s->devs = xrealloc(s->devs, (s->n + 1) * sizeof(*s->devs));
	s->errors = xrealloc(s->errors, (s->n + 1) * sizeof(*s->errors));
	memset(&s->devs[s->n], 0, sizeof(*s->devs));
	s->devs[s->n].name = xstrdup(name);
	s->errors[s->n++] = NULL;
}

void cli_wg_status_read(struct cli_wg_status *s, const struct moat_config *cfg)
{
	struct diag_list dl = { 0 };
	struct wg_plan *plan = cfg ? wg_compile(cfg, &dl) : NULL;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; plan && i < plan->ndevs; i++)
		if (plan->devs[i].enabled)
			add_dev(s, plan->devs[i].name);
	for (size_t i = 0; i < s->n; i++) {
		struct wg_device d;
		enum wg_backend be;
		char err[256] = "", *name = s->devs[i].name;
		int r = wg_read(name, &d, &be, err, sizeof(err));

		if (r < 0) {
			s->errors[i] = xstrdup(r == -ENODEV ? "the device does "
					       "not exist" : err);
			if (s->nproblems < ARRAY_SIZE(s->problems))
				s->problems[s->nproblems++] = "a WireGuard "
					"device is missing or unreadable";
			continue;
		}
		free(d.name);
		d.name = name;
		/* the private key is not status: its public half is */
		d.has_pub = d.has_priv && wg_pubkey(d.priv, d.pub);
		sodium_memzero(d.priv, WG_KEY_LEN);
		d.has_priv = false;
		s->devs[i] = d;
	}
	wg_plan_free(plan);
	diag_list_free(&dl);
}

static void ago(char *out, size_t n, int64_t sec)
{
	long long d = (long long)time(NULL) - sec;

	if (!sec)
		snprintf(out, n, "never");
	else if (d < 120)
		snprintf(out, n, "%llds ago", d < 0 ? 0 : d);
	else if (d < 7200)
		snprintf(out, n, "%lldm ago", d / 60);
	else
		snprintf(out, n, "%lldh ago", d / 3600);
}

static void text(const struct cli_wg_status *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct wg_device *d = &s->devs[i];
		char key[WG_KEY_B64], ep[80], when[32];

		if (s->errors[i]) {
			printf("wireguard %s: %s\n", d->name, s->errors[i]);
			continue;
		}
		printf("wireguard %s: ", d->name);
		if (d->has_pub) {
			wg_key_to_b64(d->pub, key);
			printf("public key %s, ", key);
		} else {
			printf("no private key, ");
		}
		printf("port %u, %zu peer%s\n", d->port, d->npeers,
		       d->npeers == 1 ? "" : "s");
		for (size_t k = 0; k < d->npeers; k++) {
			const struct wg_peer *p = &d->peers[k];

			wg_key_to_b64(p->pub, key);
			wg_endpoint_format(&p->endpoint, ep, sizeof(ep));
			ago(when, sizeof(when), p->handshake_sec);
			printf("  peer %s  endpoint %s  handshake %s  rx %"
			       PRIu64 " B tx %" PRIu64 " B\n", key, ep, when,
			       p->rx_bytes, p->tx_bytes);
		}
	}
}

static void json(const struct cli_wg_status *s, struct buf *b)
{
	buf_adds(b, "[");
	for (size_t i = 0; i < s->n; i++) {
		const struct wg_device *d = &s->devs[i];
		char key[WG_KEY_B64], ep[80], a[64];

		buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
		buf_json_str(b, d->name, strlen(d->name));
		if (s->errors[i]) {
			buf_adds(b, ",\"error\":");
			buf_json_str(b, s->errors[i], strlen(s->errors[i]));
			buf_adds(b, "}");
			continue;
		}
		if (d->has_pub) {
			wg_key_to_b64(d->pub, key);
			buf_printf(b, ",\"public_key\":\"%s\"", key);
		}
		buf_printf(b, ",\"listen_port\":%u,\"fwmark\":%u,\"peers\":[",
			   d->port, d->fwmark);
		for (size_t k = 0; k < d->npeers; k++) {
			const struct wg_peer *p = &d->peers[k];

			wg_key_to_b64(p->pub, key);
			buf_printf(b, "%s{\"public_key\":\"%s\",\"endpoint\":",
				   k ? "," : "", key);
			if (p->endpoint.family) {
				wg_endpoint_format(&p->endpoint, ep,
						   sizeof(ep));
				buf_json_str(b, ep, strlen(ep));
			} else {
				buf_adds(b, "null");
			}
			buf_printf(b, ",\"latest_handshake\":%" PRId64
				   ",\"rx_bytes\":%" PRIu64 ",\"tx_bytes\":%"
				   PRIu64 ",\"persistent_keepalive\":%u,"
				   "\"allowed_ips\":[", p->handshake_sec,
				   p->rx_bytes, p->tx_bytes, p->keepalive);
			for (size_t j = 0; j < p->nallowed; j++) {
				wg_allowed_format(&p->allowed[j], a, sizeof(a));
				buf_printf(b, "%s\"%s\"", j ? "," : "", a);
			}
			buf_adds(b, "]}");
		}
		buf_adds(b, "]}");
	}
	buf_adds(b, "]");
}

void cli_wg_status_print(const struct cli_wg_status *s, struct buf *b)
{
	if (b)
		json(s, b);
	else
		text(s);
}

void cli_wg_status_free(struct cli_wg_status *s)
{
	for (size_t i = 0; i < s->n; i++) {
		wg_device_clear(&s->devs[i]);
		free(s->errors[i]);
	}
	free(s->devs);
	free(s->errors);
	memset(s, 0, sizeof(*s));
}
