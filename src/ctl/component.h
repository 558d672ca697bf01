/* The components ctl drives, each behind one small interface (a table of
 * function pointers, like a driver). A plan is compiled from the config;
 * a component whose plan did not change is not applied; a component is
 * rolled back by applying its old plan. */
#ifndef MOAT_CTL_COMPONENT_H
#define MOAT_CTL_COMPONENT_H
#include <stdbool.h>

#include <jansson.h>

#include "base/diag.h"

struct moat_config;

/* What an apply did to the kernel. */
enum comp_outcome {
	COMP_UNCHANGED,		/* the kernel held the plan already */
	COMP_APPLIED,		/* it was changed to hold it */
};

/* Where components keep their state; the same for every component. */
struct comp_env {
	const char *state_dir;
	const char *config_path;	/* absolute, for wireguard-go's
					 * supervisor */
	const char *fault;		/* MOAT_CTL_FAULT: a component name
					 * whose apply is made to fail
					 * (tests of rollback only) */
};

struct component {
	const char *name;
	/* config -> plan. wg also reads its keys and runtime peers here.
	 * NULL with errors in dl. */
	void *(*compile)(const struct moat_config *cfg,
			 const struct comp_env *env, struct diag_list *dl);
	/* the plan's identity: equal hashes, equal plans (65 bytes) */
	void (*hash)(const void *plan, char *out);
	/* Makes the kernel hold plan (NULL: nothing of this component, as
	 * --flush-on-exit wants). On failure the kernel is as before and
	 * dl says why. force: load even when it looks unchanged. */
	int (*apply)(const void *plan, const struct comp_env *env, bool force,
		     enum comp_outcome *out, struct diag_list *dl);
	void (*free_plan)(void *plan);
	/* a line for status: "12 chains, 40 rules" */
	json_t *(*summary)(const void *plan);
};

/* In apply order: wg, net, fw (docs/design.md: wg first because net
 * gives its devices their addresses). Rollback runs backwards. */
extern const struct component *const components[];
#define NCOMPONENTS 3
enum { COMP_WG, COMP_NET, COMP_FW };

#endif
