/* moat wg peer add|del|list|show, moat wg export, moat wg supervise. A
 * runtime peer is kept in the store and, when the device is up, sent to
 * it at once: that peer alone, whatever the device holds. The checks,
 * the store and the device are wg/runtime.h's, shared with ctl (the REST
 * API); this file is the command line around them. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "base/buf.h"
#include "base/file.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/load.h"
#include "cli/wg_cli.h"
#include "config/config.h"
#include "store/store.h"
#include "wg/apply.h"
#include "cli/ctl_cli.h"
#include "wg/go.h"
#include "wg/key.h"
#include "wg/qr.h"
#include "wg/runtime.h"

/* The device of the config, compiled, with its runtime peers. */
struct dev_ctx {
	struct moat_config *cfg;
	struct wg_plan *plan;
	struct wg_device *dev;
	const char *state_dir;
};

static int fail(const char *fmt, ...) MOAT_PRINTF(1, 2);

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("moat wg: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return MOAT_EXIT_BAD;
}

static int dev_open(struct dev_ctx *x, const char *path, const char *name,
		    bool with_store)
{
	struct store *s;
	char err[256];
	int r;

	memset(x, 0, sizeof(*x));
	r = cli_load_config(path, false, &x->cfg, NULL, NULL);
	if (r != MOAT_EXIT_OK)
		return r;
	x->state_dir = cli_state_dir(x->cfg);
	x->plan = cli_wg_compile(x->cfg);
	if (!x->plan)
		return MOAT_EXIT_BAD;
	for (size_t i = 0; i < x->plan->ndevs; i++)
		if (!strcmp(x->plan->devs[i].name, name) &&
		    x->plan->devs[i].enabled)
			x->dev = &x->plan->devs[i];
	if (!x->dev)
		return fail("%s: no enabled wireguard device of that name in "
			    "%s", name, path);
	if (!with_store)
		return MOAT_EXIT_OK;
	s = store_open(x->state_dir, err, sizeof(err));
	if (!s)
		return fail("%s", err);
	r = store_wg_peers(s, name, x->dev, err, sizeof(err));
	store_close(s);
	return r < 0 ? fail("%s", err) : MOAT_EXIT_OK;
}

static void dev_close(struct dev_ctx *x)
{
	wg_plan_free(x->plan);
	cfg_free(x->cfg);
}

/* --- client configs -------------------------------------------------------- */

struct export_opts {
	const char *endpoint;
	bool all_traffic;
	bool qr;
	const char *png;
	unsigned width;
};

static int client_conf(const struct dev_ctx *x, const struct wg_peer *p,
		       const uint8_t *priv, const struct export_opts *eo)
{
	uint8_t key[WG_KEY_LEN], server_pub[WG_KEY_LEN];
	char *endpoint = wg_rt_server_endpoint(x->cfg, eo->endpoint,
					       x->dev->port);
	char *text;
	int r = MOAT_EXIT_OK;

	if (!wg_device_key(x->dev, x->state_dir, key) ||
	    !wg_pubkey(key, server_pub)) {
		sodium_memzero(key, sizeof(key));
		free(endpoint);
		return fail("%s has no private key yet: run moat apply first",
			    x->dev->name);
	}
	sodium_memzero(key, sizeof(key));
	text = wg_rt_client_conf(x->dev, p, server_pub, priv, endpoint,
				 eo->all_traffic);
	if (!endpoint)
		fprintf(stderr, "moat wg: no Endpoint in the client config: "
			"give --endpoint HOST[:PORT] (the device has %s)\n",
			x->dev->port ? "no uplink interface with a gateway" :
			"no listen_port");
	if (eo->png) {
		struct buf png = BUF_INIT;

		if (wg_qr_png(text, eo->width, &png) < 0 ||
		    file_write_atomic(eo->png, png.p, png.len, 0755) < 0)
			r = fail("%s: cannot write the QR code", eo->png);
		else
			fprintf(stderr, "moat wg: QR code written to %s\n",
				eo->png);
		buf_free(&png);
	} else if (eo->qr) {
		char *q = wg_qr_text(text, false);

		if (q)
			fputs(q, stdout);
		else
			r = fail("the config is too large for a QR code");
		free(q);
	} else {
		fputs(text, stdout);
	}
	sodium_memzero(text, strlen(text));
	free(text);
	free(endpoint);
	return r;
}

/* --- the subcommands --------------------------------------------------------- */

static const struct option peer_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "public-key", required_argument, NULL, 'k' },
	{ "allowed-ips", required_argument, NULL, 'a' },
	{ "endpoint", required_argument, NULL, 'e' },
	{ "keepalive", required_argument, NULL, 'K' },
	{ "psk", no_argument, NULL, 'p' },
	{ "server-endpoint", required_argument, NULL, 'E' },
	{ "all-traffic", no_argument, NULL, 'A' },
	{ "qr", no_argument, NULL, 'q' },
	{ "png", required_argument, NULL, 'P' },
	{ "width", required_argument, NULL, 'w' },
	{ "json", no_argument, NULL, 'j' },
	{ "from", required_argument, NULL, 'F' },
	{ NULL, 0, NULL, 0 },
};

struct peer_args {
	const char *config;
	const char *pub;
	const char *allowed;
	const char *endpoint;
	const char *from;
	long keepalive;
	bool psk;
	bool json;
	struct export_opts eo;
	char **pos;		/* the positional arguments */
	int npos;
};

static int peer_args(const char *cmd, int argc, char **argv,
		     struct peer_args *a)
{
	int c;
	char *end;

	memset(a, 0, sizeof(*a));
	a->config = MOAT_DEFAULT_CONFIG;
	a->keepalive = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:", peer_opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'k': a->pub = optarg; break;
		case 'a': a->allowed = optarg; break;
		case 'e': a->endpoint = optarg; break;
		case 'p': a->psk = true; break;
		case 'E': a->eo.endpoint = optarg; break;
		case 'A': a->eo.all_traffic = true; break;
		case 'q': a->eo.qr = true; break;
		case 'P': a->eo.png = optarg; break;
		case 'j': a->json = true; break;
		case 'F': a->from = optarg; break;
		case 'w':
			a->eo.width = (unsigned)strtoul(optarg, &end, 10);
			if (*end || a->eo.width > 4096)
				return cli_usage_error(&cli_cmd_wg, "%s: "
						       "--width: 1 to 4096",
						       cmd);
			break;
		case 'K':
			a->keepalive = strtol(optarg, &end, 10);
			if (*end || a->keepalive < 0 || a->keepalive > 65535)
				return cli_usage_error(&cli_cmd_wg, "%s: "
						       "--keepalive: 0 to "
						       "65535 seconds", cmd);
			break;
		default:
			return cli_usage_error(&cli_cmd_wg, "%s: unknown "
					       "option '%s'", cmd,
					       argv[optind - 1]);
		}
	}
	a->pos = argv + optind;
	a->npos = argc - optind;
	return MOAT_EXIT_OK;
}

static int allowed_from(struct wg_peer *p, const char *list)
{
	char bad[80];

	if (!wg_rt_allowed_parse(list, p, bad, sizeof(bad)))
		return fail("--allowed-ips: \"%s\" is not a prefix", bad);
	return 0;
}

/* Stores peer p and sends it to the device: a clash of name or key with
 * a config peer or a stored one is an error; when the device refuses it,
 * it leaves the store again. */
static int add_one(const struct dev_ctx *x, struct store *s,
		   const struct wg_peer *p, bool *live)
{
	const char *what;
	const struct wg_peer *o = wg_rt_clash(x->dev, p, &what);
	char err[256];

	if (o)
		return !o->from_store ?
		       fail("%s: peer \"%s\" of the config (%s:%d) has that "
			    "%s", x->dev->name, o->name, o->pos.file,
			    o->pos.line, what) :
		       fail("%s: peer \"%s\" added earlier has that %s",
			    x->dev->name, o->name, what);
	if (wg_rt_add(s, x->dev->name, p, live, err, sizeof(err)) < 0)
		return fail("%s", err);
	return 0;
}

/* A running ctl takes the store again (its plans keep the peer through a
 * reload or a rollback) and audits the change. Quiet without ctl. */
static void tell_ctl(const char *action, const char *dev, const char *peer)
{
	json_t *res = NULL;
	bool absent;

	if (cli_ctl_call("wg.peers.changed", json_pack("{ssssss}", "action",
			 action, "device", dev, "peer", peer), &res,
			 &absent) == 0)
		json_decref(res);
}

/* --from FILE: "NAME PUBLIC_KEY ALLOWED_IPS" per line, each peer added
 * on its own as `peer add` (and the API) would: its own store
 * transaction, its own change to the device. */
static int add_from(const struct dev_ctx *x, struct store *s,
		    const char *path)
{
	char *text = NULL, *line, *save = NULL;
	size_t len, n = 0, lineno = 0;
	int r = MOAT_EXIT_OK;
	bool live = false;

	if (file_read(path, 1u << 30, &text, &len) < 0)
		return fail("%s: cannot read it", path);
	for (line = strtok_r(text, "\n", &save); line && !r;
	     line = strtok_r(NULL, "\n", &save)) {
		struct wg_peer p = { 0 };
		char name[80], key[80], ips[1024];

		lineno++;
		if (*line == '#' || !*line)
			continue;
		if (sscanf(line, "%79s %79s %1023s", name, key, ips) != 3 ||
		    !wg_rt_name_ok(name) || !wg_key_from_b64(key, p.pub)) {
			r = fail("%s:%zu: want NAME PUBLIC_KEY ALLOWED_IPS",
				 path, lineno);
			break;
		}
		p.name = xstrdup(name);
		r = allowed_from(&p, ips);
		if (!r)
			r = add_one(x, s, &p, &live);
		wg_peer_clear(&p);
		n += !r;
	}
	free(text);
	if (n)
		tell_ctl("add", x->dev->name, "");
	fprintf(stderr, "moat wg: %zu peers added to %s%s\n", n,
		x->dev->name, live || !n ? "" : " (the device is not up: it "
		"gets them at the next moat apply)");
	return r;
}

static int peer_add(struct peer_args *a)
{
	struct dev_ctx x;
	struct wg_peer p = { 0 };
	uint8_t priv[WG_KEY_LEN];
	bool generated = false, live;
	struct store *s = NULL;
	char err[256], key[WG_KEY_B64], ips[256] = "";
	int r;

	if (a->npos != (a->from ? 1 : 2))
		return cli_usage_error(&cli_cmd_wg, "peer add DEVICE NAME, or "
				       "peer add DEVICE --from FILE");
	if (!a->from && !wg_rt_name_ok(a->pos[1]))
		return cli_usage_error(&cli_cmd_wg, "peer add: name \"%s\": "
				       "letters, digits, _ . - @ (at most 64)",
				       a->pos[1]);
	/* the stored peers are read only to find a free address: adding
	 * one costs the same beside ten peers or ten thousand */
	r = dev_open(&x, a->config, a->pos[0], !a->from && !a->allowed);
	if (r != MOAT_EXIT_OK)
		goto out;
	s = store_open(x.state_dir, err, sizeof(err));
	if (!s) {
		r = fail("%s", err);
		goto out;
	}
	if (a->from) {
		r = add_from(&x, s, a->from);
		goto out;
	}
	p.name = xstrdup(a->pos[1]);
	if (a->pub) {
		if (!wg_key_from_b64(a->pub, p.pub)) {
			r = fail("--public-key: not a WireGuard key (44 "
				 "characters of base64)");
			goto out;
		}
	} else {
		wg_genkey(priv);
		wg_pubkey(priv, p.pub);
		generated = true;
	}
	if (a->psk) {
		wg_genpsk(p.psk);
		p.has_psk = true;
	}
	if (a->endpoint) {
		if (!wg_endpoint_parse(a->endpoint, &p.endpoint)) {
			r = fail("--endpoint: \"%s\" is not ADDRESS:PORT",
				 a->endpoint);
			goto out;
		}
		p.endpoint_text = xstrdup(a->endpoint);
	}
	if (a->keepalive > 0)
		p.keepalive = (uint16_t)a->keepalive;
	if (a->allowed) {
		if ((r = allowed_from(&p, a->allowed)) != 0)
			goto out;
	} else {
		struct wg_allowed v4, v6;
		bool h4 = wg_rt_first_free(x.dev, AF_INET, &v4);
		bool h6 = wg_rt_first_free(x.dev, AF_INET6, &v6);

		if (!h4 && !h6) {
			r = fail("%s: no free address in its subnets; give "
				 "--allowed-ips", x.dev->name);
			goto out;
		}
		if (h4)
			wg_peer_add_allowed(&p, &v4);
		if (h6)
			wg_peer_add_allowed(&p, &v6);
	}
	if ((r = add_one(&x, s, &p, &live)) != 0)
		goto out;
	wg_key_to_b64(p.pub, key);
	for (size_t i = 0; i < p.nallowed; i++) {
		char one[64];

		wg_allowed_format(&p.allowed[i], one, sizeof(one));
		snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s",
			 i ? ", " : "", one);
	}
	tell_ctl("add", x.dev->name, p.name);
	fprintf(stderr, "moat wg: peer %s (%s) %s added to %s%s\n", p.name,
		key, ips, x.dev->name, live ? "" : " (the device is not up: "
		"it gets the peer at the next moat apply)");
	if (generated) {
		fprintf(stderr, "moat wg: the client's private key is shown "
			"now and never again:\n");
		r = client_conf(&x, &p, priv, &a->eo);
	}
out:
	sodium_memzero(priv, sizeof(priv));
	wg_peer_clear(&p);
	store_close(s);
	dev_close(&x);
	return r;
}

static int peer_del(struct peer_args *a)
{
	struct dev_ctx x;
	const struct wg_peer *p;
	struct store *s;
	char err[256];
	bool live;
	int r;

	if (a->npos != 2)
		return cli_usage_error(&cli_cmd_wg, "peer del DEVICE NAME|KEY");
	r = dev_open(&x, a->config, a->pos[0], true);
	if (r != MOAT_EXIT_OK)
		goto out;
	p = wg_rt_find(x.dev, a->pos[1]);
	if (!p) {
		r = fail("%s: no peer \"%s\"", x.dev->name, a->pos[1]);
		goto out;
	}
	if (!p->from_store) {
		r = fail("%s: peer \"%s\" is in the config (%s:%d): remove it "
			 "there and run moat apply", x.dev->name, p->name,
			 p->pos.file, p->pos.line);
		goto out;
	}
	s = store_open(x.state_dir, err, sizeof(err));
	if (s && (r = wg_rt_del(s, x.dev->name, p, &live, err,
				sizeof(err))) == 1)
		snprintf(err, sizeof(err), "%s: the store has no peer \"%s\" "
			 "any more", x.dev->name, p->name);
	if (!s || r) {
		store_close(s);
		r = fail("%s", err);
		goto out;
	}
	store_close(s);
	tell_ctl("del", x.dev->name, p->name);
	fprintf(stderr, "moat wg: peer %s removed from %s\n", p->name,
		x.dev->name);
out:
	dev_close(&x);
	return r;
}

static const struct wg_peer *live_peer(const struct wg_device *now,
				       const struct wg_peer *p)
{
	return now ? wg_device_find_peer(now, p->pub) : NULL;
}

static void peer_line(const struct wg_peer *p, const struct wg_peer *k,
		      bool json, bool first, struct buf *b)
{
	char key[WG_KEY_B64], ep[80], s[64];

	wg_key_to_b64(p->pub, key);
	wg_endpoint_format(k ? &k->endpoint : &p->endpoint, ep, sizeof(ep));
	if (!json) {
		buf_printf(b, "%-16s %s %-7s", p->name, key, p->from_store ?
			   "runtime" : "config");
		for (size_t i = 0; i < p->nallowed; i++) {
			wg_allowed_format(&p->allowed[i], s, sizeof(s));
			buf_printf(b, "%s%s", i ? "," : " ", s);
		}
		buf_printf(b, "  endpoint %s", ep);
		if (k)
			buf_printf(b, "  handshake %" PRId64 " rx %" PRIu64
				   " tx %" PRIu64, k->handshake_sec,
				   k->rx_bytes, k->tx_bytes);
		buf_adds(b, "\n");
		return;
	}
	buf_adds(b, first ? "{\"name\":" : ",{\"name\":");
	buf_json_str(b, p->name, strlen(p->name));
	buf_printf(b, ",\"public_key\":\"%s\",\"source\":\"%s\","
		   "\"allowed_ips\":[", key, p->from_store ? "runtime" :
		   "config");
	for (size_t i = 0; i < p->nallowed; i++) {
		wg_allowed_format(&p->allowed[i], s, sizeof(s));
		buf_printf(b, "%s\"%s\"", i ? "," : "", s);
	}
	buf_adds(b, "],\"endpoint\":");
	if ((k ? k->endpoint.family : p->endpoint.family))
		buf_json_str(b, ep, strlen(ep));
	else
		buf_adds(b, "null");
	buf_printf(b, ",\"persistent_keepalive\":%u,\"on_device\":%s",
		   p->keepalive, k ? "true" : "false");
	if (k)
		buf_printf(b, ",\"latest_handshake\":%" PRId64 ",\"rx_bytes\":%"
			   PRIu64 ",\"tx_bytes\":%" PRIu64, k->handshake_sec,
			   k->rx_bytes, k->tx_bytes);
	buf_adds(b, "}");
}

static int peer_list(struct peer_args *a, bool one)
{
	struct dev_ctx x;
	struct wg_device now;
	enum wg_backend be;
	struct buf b = BUF_INIT;
	char err[256];
	bool have;
	int r;

	if (a->npos != (one ? 2 : 1))
		return cli_usage_error(&cli_cmd_wg, one ? "peer show DEVICE "
				       "NAME|KEY" : "peer list DEVICE");
	r = dev_open(&x, a->config, a->pos[0], true);
	if (r != MOAT_EXIT_OK)
		goto out;
	have = wg_read(x.dev->name, &now, &be, err, sizeof(err)) == 0;
	if (one) {
		const struct wg_peer *p = wg_rt_find(x.dev, a->pos[1]);

		if (!p) {
			r = fail("%s: no peer \"%s\"", x.dev->name, a->pos[1]);
			goto done;
		}
		peer_line(p, live_peer(have ? &now : NULL, p), a->json, true,
			  &b);
	} else {
		if (a->json)
			buf_adds(&b, "[");
		for (size_t i = 0; i < x.dev->npeers; i++)
			peer_line(&x.dev->peers[i],
				  live_peer(have ? &now : NULL,
					    &x.dev->peers[i]), a->json, !i, &b);
		if (a->json)
			buf_adds(&b, "]");
	}
	if (a->json)
		buf_adds(&b, "\n");
	if (b.p)
		fputs(b.p, stdout);
done:
	if (have)
		wg_device_clear(&now);
	buf_free(&b);
out:
	dev_close(&x);
	return r;
}

int cli_wg_peer(int argc, char **argv)
{
	struct peer_args a;
	const char *sub = argc > 1 ? argv[1] : NULL;
	int r;

	if (!sub)
		return cli_usage_error(&cli_cmd_wg, "peer add, del, list or "
				       "show?");
	r = peer_args(sub, argc - 1, argv + 1, &a);
	if (r != MOAT_EXIT_OK)
		return r;
	if (!strcmp(sub, "add"))
		return peer_add(&a);
	if (!strcmp(sub, "del") || !strcmp(sub, "rm"))
		return peer_del(&a);
	if (!strcmp(sub, "list") || !strcmp(sub, "ls"))
		return peer_list(&a, false);
	if (!strcmp(sub, "show"))
		return peer_list(&a, true);
	return cli_usage_error(&cli_cmd_wg, "peer: unknown subcommand '%s'",
			       sub);
}

int cli_wg_export(int argc, char **argv)
{
	struct peer_args a;
	struct dev_ctx x;
	const struct wg_peer *p;
	int r = peer_args("export", argc, argv, &a);

	if (r != MOAT_EXIT_OK)
		return r;
	if (a.npos != 2)
		return cli_usage_error(&cli_cmd_wg, "export DEVICE PEER");
	r = dev_open(&x, a.config, a.pos[0], true);
	if (r == MOAT_EXIT_OK) {
		p = wg_rt_find(x.dev, a.pos[1]);
		r = p ? client_conf(&x, p, NULL, &a.eo) :
		    fail("%s: no peer \"%s\"", x.dev->name, a.pos[1]);
	}
	dev_close(&x);
	return r;
}

int cli_wg_supervise(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *config = "";
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 's': dir = optarg; break;
		case 'c': config = optarg; break;
		default:
			return cli_usage_error(&cli_cmd_wg, "supervise: "
					       "unknown option '%s'",
					       argv[optind - 1]);
		}
	}
	if (!dir || optind + 1 != argc)
		return cli_usage_error(&cli_cmd_wg, "supervise DEVICE "
				       "--state-dir DIR [-c CONFIG]");
	return wg_go_supervise(argv[optind], dir, config) ? MOAT_EXIT_BAD :
	       MOAT_EXIT_OK;
}
