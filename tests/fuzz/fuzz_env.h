/* The environment the harnesses give ${NAME}: set for names starting with
 * A, unset otherwise, so that both paths are fuzzed. Header-only: each
 * harness is one program. */
#ifndef MOAT_FUZZ_ENV_H
#define MOAT_FUZZ_ENV_H

#include "hcl/hcl.h"

static const char *fuzz_env_get(void *ctx, const char *name)
{
	(void)ctx;
	return name[0] == 'A' ? "value" : NULL;
}

static const struct hcl_env fuzz_env = { fuzz_env_get, NULL };

#endif
