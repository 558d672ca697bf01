/* The router's part of apply, diff and status: compile and show changes,
 * the no-op check, and the interfaces, routes and rules `moat status`
 * reports. */
#include <arpa/inet.h>
#include <linux/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "cli/net_cli.h"
#include "config/config.h"
#include "net/apply.h"
#include "net/net.h"

struct net_plan *cli_net_compile(const struct moat_config *cfg)
{
	struct diag_list dl = { 0 };
	struct net_plan *p = net_compile(cfg, &dl);

	diag_sort(&dl);
	diag_print(&dl, stderr);
	diag_list_free(&dl);
	return p;
}

bool cli_net_unchanged(const char *state_dir)
{
	struct diag_list dl = { 0 };
	struct net_owned o;
	struct net_plan *st;
	char now[NET_HASH_HEX + 1];
	bool same = false;

	if (!state_dir || !*state_dir ||
	    net_state_load(state_dir, &o, &dl) < 0) {
		diag_list_free(&dl);
		return false;
	}
	st = xcalloc(1, sizeof(*st));
	if (o.fingerprint[0] && o.applied_at && o.failed_at < o.applied_at &&
	    net_read(st, &dl) == 0) {
		net_fingerprint(st, now);
		same = !strcmp(now, o.fingerprint);
	}
	net_plan_free(st);
	net_owned_free(&o);
	diag_list_free(&dl);
	return same;
}

void cli_net_summary(const struct net_change *c, char *buf, size_t n)
{
	static const struct {
		enum net_op_kind kind;
		char sign;
		const char *one, *many;
	} kinds[] = {
		{ NET_OP_LINK_ADD, '+', "VLAN", "VLANs" },
		{ NET_OP_LINK_DEL, '-', "VLAN", "VLANs" },
		{ NET_OP_LINK_SET, '~', "link", "links" },
		{ NET_OP_ADDR_ADD, '+', "address", "addresses" },
		{ NET_OP_ADDR_DEL, '-', "address", "addresses" },
		{ NET_OP_ROUTE_ADD, '+', "route", "routes" },
		{ NET_OP_ROUTE_REPLACE, '~', "route", "routes" },
		{ NET_OP_ROUTE_DEL, '-', "route", "routes" },
		{ NET_OP_RULE_ADD, '+', "rule", "rules" },
		{ NET_OP_RULE_DEL, '-', "rule", "rules" },
	};
	struct buf b = BUF_INIT;

	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		size_t cnt = 0;

		for (size_t i = 0; i < c->n; i++)
			cnt += c->ops[i].kind == kinds[k].kind;
		if (cnt)
			buf_printf(&b, "%s%c%zu %s", b.len ? ", " : "",
				   kinds[k].sign, cnt,
				   cnt == 1 ? kinds[k].one : kinds[k].many);
	}
	snprintf(buf, n, "%s", b.p ? b.p : "no changes");
	buf_free(&b);
}

void cli_net_print_ops(const struct net_change *c, FILE *out)
{
	char line[512];

	for (size_t i = 0; i < c->n; i++) {
		net_op_format(&c->ops[i], line, sizeof(line));
		if (c->ops[i].pos.line && c->ops[i].pos.file)
			fprintf(out, "%s\t(%s:%d)\n", line,
				c->ops[i].pos.file, c->ops[i].pos.line);
		else
			fprintf(out, "%s\n", line);
	}
}

/* --- status -------------------------------------------------------------- */

static const char *operstate(uint8_t s)
{
	static const char *const names[] = {
		[IF_OPER_UNKNOWN] = "unknown", [IF_OPER_NOTPRESENT] =
		"notpresent", [IF_OPER_DOWN] = "down",
		[IF_OPER_LOWERLAYERDOWN] = "lowerlayerdown",
		[IF_OPER_TESTING] = "testing", [IF_OPER_DORMANT] = "dormant",
		[IF_OPER_UP] = "up",
	};

	return s < ARRAY_SIZE(names) && names[s] ? names[s] : "?";
}

/* The links status reports: the config's, in its order; without a
 * config, all of them. */
static bool shown(const struct net_plan *plan, const struct net_link *k)
{
	return !plan || net_plan_link(plan, k->name);
}

static void link_addrs_text(const struct net_link *k, struct buf *b)
{
	char a[INET6_ADDRSTRLEN + 8];

	for (size_t j = 0; j < k->naddrs; j++) {
		/* link-local addresses are the kernel's, not news */
		if (k->addrs[j].family == AF_INET6 &&
		    k->addrs[j].addr[0] == 0xfe &&
		    (k->addrs[j].addr[1] & 0xc0) == 0x80)
			continue;
		net_addr_format(&k->addrs[j], a, sizeof(a));
		buf_printf(b, "%s%s", b->len ? " " : "", a);
	}
}

static void status_text(const struct cli_net_status *s)
{
	char line[512], t[64];

	printf("network: %s\n", s->nproblems ? "degraded" : "ok");
	for (size_t i = 0; i < s->nproblems; i++)
		printf("  problem: %s\n", s->problems[i]);
	for (size_t i = 0; i < s->state->nlinks; i++) {
		const struct net_link *k = &s->state->links[i];
		struct buf b = BUF_INIT;

		if (!shown(s->plan, k))
			continue;
		link_addrs_text(k, &b);
		printf("  %-15s %-4s %-7s mtu %-5u rx %llu B tx %llu B  %s\n",
		       k->name, k->up > 0 ? "UP" : "DOWN",
		       operstate(k->operstate), k->mtu,
		       (unsigned long long)k->rx_bytes,
		       (unsigned long long)k->tx_bytes, b.p ? b.p : "-");
		buf_free(&b);
	}
	for (size_t i = 0; i < s->state->nroutes; i++) {
		net_route_format(&s->state->routes[i], line, sizeof(line));
		printf("  route %s\n", line);
	}
	for (size_t i = 0; i < s->state->nrules; i++) {
		net_rule_format(&s->state->rules[i], line, sizeof(line));
		printf("  rule %s\n", line);
	}
	cli_when(t, sizeof(t), s->owned.applied_at);
	printf("  last apply: %s\n", t);
	if (s->owned.failed_at && s->owned.failed_at >= s->owned.applied_at) {
		cli_when(t, sizeof(t), s->owned.failed_at);
		printf("  last error: %s: %s\n", t, s->owned.error);
	}
}

static void status_json(const struct cli_net_status *s, struct buf *b)
{
	char line[512];

	buf_printf(b, "{\"status\":\"%s\",\"problems\":[",
		   s->nproblems ? "degraded" : "ok");
	for (size_t i = 0; i < s->nproblems; i++) {
		buf_adds(b, i ? "," : "");
		buf_json_str(b, s->problems[i], strlen(s->problems[i]));
	}
	buf_adds(b, "],\"interfaces\":[");
	for (size_t i = 0, n = 0; i < s->state->nlinks; i++) {
		const struct net_link *k = &s->state->links[i];
		char a[INET6_ADDRSTRLEN + 8];

		if (!shown(s->plan, k))
			continue;
		buf_adds(b, n++ ? "," : "");
		buf_adds(b, "{\"name\":");
		buf_json_str(b, k->name, strlen(k->name));
		buf_printf(b, ",\"up\":%s,\"oper\":\"%s\",\"mtu\":%u,",
			   k->up > 0 ? "true" : "false",
			   operstate(k->operstate), k->mtu);
		if (k->has_mac)
			buf_printf(b, "\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",",
				   k->mac[0], k->mac[1], k->mac[2], k->mac[3],
				   k->mac[4], k->mac[5]);
		buf_printf(b, "\"rx_bytes\":%llu,\"tx_bytes\":%llu,"
			   "\"rx_packets\":%llu,\"tx_packets\":%llu,"
			   "\"rx_errors\":%llu,\"tx_errors\":%llu,"
			   "\"rx_dropped\":%llu,\"tx_dropped\":%llu,"
			   "\"addresses\":[",
			   (unsigned long long)k->rx_bytes,
			   (unsigned long long)k->tx_bytes,
			   (unsigned long long)k->rx_packets,
			   (unsigned long long)k->tx_packets,
			   (unsigned long long)k->rx_errors,
			   (unsigned long long)k->tx_errors,
			   (unsigned long long)k->rx_dropped,
			   (unsigned long long)k->tx_dropped);
		for (size_t j = 0; j < k->naddrs; j++) {
			net_addr_format(&k->addrs[j], a, sizeof(a));
			buf_printf(b, "%s\"%s\"", j ? "," : "", a);
		}
		buf_adds(b, "]}");
	}
	buf_adds(b, "],\"routes\":[");
	for (size_t i = 0; i < s->state->nroutes; i++) {
		net_route_format(&s->state->routes[i], line, sizeof(line));
		buf_adds(b, i ? "," : "");
		buf_json_str(b, line, strlen(line));
	}
	buf_adds(b, "],\"rules\":[");
	for (size_t i = 0; i < s->state->nrules; i++) {
		net_rule_format(&s->state->rules[i], line, sizeof(line));
		buf_adds(b, i ? "," : "");
		buf_json_str(b, line, strlen(line));
	}
	buf_printf(b, "],\"last_apply\":%lld,\"last_error\":",
		   s->owned.applied_at);
	if (s->owned.failed_at && s->owned.failed_at >= s->owned.applied_at) {
		buf_printf(b, "{\"at\":%lld,\"message\":", s->owned.failed_at);
		buf_json_str(b, s->owned.error, strlen(s->owned.error));
		buf_adds(b, "}");
	} else {
		buf_adds(b, "null");
	}
	buf_adds(b, "}");
}

static void problem(struct cli_net_status *s, const char *p)
{
	if (s->nproblems < ARRAY_SIZE(s->problems))
		s->problems[s->nproblems++] = p;
}

void cli_net_status_read(struct cli_net_status *s,
			 const struct moat_config *cfg, const char *state_dir)
{
	struct diag_list dl = { 0 };
	struct net_change c;

	memset(s, 0, sizeof(*s));
	s->state = xcalloc(1, sizeof(*s->state));
	if (cfg) {
		s->plan = net_compile(cfg, &dl);
		if (!s->plan)
			problem(s, "the config's network does not compile");
	}
	if (net_read(s->state, &dl) < 0) {
		problem(s, "cannot read the kernel's links and routes");
		diag_list_free(&dl);
		return;
	}
	if (net_state_load(state_dir, &s->owned, &dl) < 0)
		problem(s, "net.state is damaged");
	if (s->owned.failed_at && s->owned.failed_at >= s->owned.applied_at)
		problem(s, "the last apply failed");
	if (s->plan) {
		if (net_diff(s->plan, s->state, &s->owned, &c, &dl) < 0)
			problem(s, "the config names interfaces the kernel "
				"cannot have as they are");
		else if (c.n)
			problem(s, "the kernel differs from the config (see "
				"moat diff)");
		net_change_free(&c);
	}
	diag_list_free(&dl);
}

void cli_net_status_print(const struct cli_net_status *s, struct buf *json)
{
	if (json)
		status_json(s, json);
	else
		status_text(s);
}

void cli_net_status_free(struct cli_net_status *s)
{
	net_plan_free(s->plan);
	net_plan_free(s->state);
	net_owned_free(&s->owned);
}
