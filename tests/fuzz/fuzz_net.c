/* libFuzzer harness for the router's pure core.
 *  - An input is a config (examples seed it); any config that loads must compile to a
 *    plan or to located errors; the plan diffed against a kernel that has
 *    nothing must only add, against the kernel it asks for must ask for
 *    nothing, and every operation must format and invert to itself;
 *  - one starting with 'S' is a net.state file after it; what parses must print to text
 *    that parses to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "hcl/hcl.h"
#include "net/net.h"
#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The kernel after the plan was applied: every link exists, routes and
 * rules carry moat's protocol. */
static struct net_plan *as_kernel(const struct net_plan *p)
{
	struct net_plan *k = calloc(1, sizeof(*k));

	for (size_t i = 0; i < p->nlinks; i++) {
		struct net_link *l = net_plan_add_link(k);

		memcpy(l->name, p->links[i].name, sizeof(l->name));
		memcpy(l->parent, p->links[i].parent, sizeof(l->parent));
		l->kind = p->links[i].kind;
		l->vlan_id = p->links[i].vlan_id;
		l->mtu = p->links[i].mtu ? p->links[i].mtu : 1500;
		l->up = p->links[i].up > 0;
		for (size_t j = 0; j < p->links[i].naddrs; j++)
			net_link_add_addr(l, &p->links[i].addrs[j], NULL);
	}
	for (size_t i = 0; i < p->nroutes; i++) {
		struct net_route *r = net_plan_add_route(k);

		*r = p->routes[i];
		r->what = NULL;
	}
	for (size_t i = 0; i < p->nrules; i++) {
		struct net_rule *r = net_plan_add_rule(k);

		*r = p->rules[i];
		r->what = NULL;
	}
	return k;
}

static void check_ops(const struct net_change *c)
{
	char line[512];

	for (size_t i = 0; i < c->n; i++) {
		struct net_op inv, back;

		if (i && c->ops[i - 1].kind > c->ops[i].kind)
			abort();	/* out of order */
		if (net_op_format(&c->ops[i], line, sizeof(line)) <= 0)
			abort();
		net_op_inverse(&c->ops[i], &inv);
		net_op_inverse(&inv, &back);
		if (back.kind != c->ops[i].kind ||
		    memcmp(&back.route, &c->ops[i].route, sizeof(back.route)) ||
		    back.link.mtu != c->ops[i].link.mtu ||
		    back.link.up != c->ops[i].link.up)
			abort();
	}
}

static void config_case(const uint8_t *data, size_t size)
{
	struct diag_list dl = { 0 };
	struct net_owned none = { 0 };
	struct net_plan *plan, *k, empty = { 0 };
	struct net_change c;
	struct moat_config *cfg;

	cfg = cfg_load("fuzz.hcl", (const char *)data, size, &fuzz_env, false,
		       &dl);
	if (!cfg)
		goto out;
	plan = net_compile(cfg, &dl);
	cfg_free(cfg);
	if (!plan) {
		if (!dl.nerrors)
			abort();	/* a failed compile must say why */
		goto out;
	}
	net_diff(plan, &empty, &none, &c, &dl);
	for (size_t i = 0; i < c.n; i++)
		if (c.ops[i].kind == NET_OP_ROUTE_DEL ||
		    c.ops[i].kind == NET_OP_RULE_DEL ||
		    c.ops[i].kind == NET_OP_ADDR_DEL ||
		    c.ops[i].kind == NET_OP_LINK_DEL)
			abort();
	check_ops(&c);
	net_change_free(&c);
	k = as_kernel(plan);
	if (net_diff(plan, k, &none, &c, &dl) == 0 && c.n)
		abort();	/* converged must mean nothing to do */
	net_change_free(&c);
	net_plan_free(k);
	net_plan_free(plan);
out:
	diag_list_free(&dl);
}

static void state_case(const uint8_t *data, size_t size)
{
	struct net_owned o, o2;
	const char *why;
	char *text, *text2;
	int line;

	if (!net_owned_parse((const char *)data, size, &o, &line, &why))
		return;
	text = net_owned_print(&o);
	if (!net_owned_parse(text, strlen(text), &o2, &line, &why))
		abort();
	text2 = net_owned_print(&o2);
	if (strcmp(text, text2))
		abort();
	free(text);
	free(text2);
	net_owned_free(&o);
	net_owned_free(&o2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size && data[0] == 'S')
		state_case(data + 1, size - 1);
	else
		config_case(data, size);
	return 0;
}
