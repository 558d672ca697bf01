/* Shared inside src/config: the loading context and helpers the loader and
 * the validator use. */
#ifndef MOAT_CONFIG_INTERNAL_H
#define MOAT_CONFIG_INTERNAL_H

#include <stdbool.h>

#include "base/diag.h"
#include "config/config.h"
#include "config/schema.h"

struct cfg_ctx {
	struct moat_config *cfg;
	struct diag_list *dl;
	bool strict;
};

void cfg_error(struct cfg_ctx *c, const struct pos *at, const char *fmt, ...)
	MOAT_PRINTF(3, 4);
void cfg_warn(struct cfg_ctx *c, const struct pos *at, const char *fmt, ...)
	MOAT_PRINTF(3, 4);
/* A warning even under --strict: something moat handles, but that the
 * user may want to know (not an unsupported setting). */
void cfg_warn_soft(struct cfg_ctx *c, const struct pos *at, const char *fmt,
		   ...) MOAT_PRINTF(3, 4);
/* The closest of candidates (NULL-terminated) to name, or NULL. */
const char *cfg_suggest(const char *name, const char *const *candidates);

/* validate.c: the checks that need the whole config. */
void cfg_validate(struct cfg_ctx *c);

/* Frees what an object made from sec owns (not the object itself). */
void cfg_obj_release(const struct cfg_section *sec, void *obj);

#endif
