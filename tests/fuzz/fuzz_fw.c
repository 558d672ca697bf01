/* libFuzzer harness for the firewall compiler: any config that loads must
 * compile to a script or to located errors, never a crash, a hang or a
 * leak; the script must be whole and its line map cover every line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fw/fw.h"
#include "hcl/hcl.h"
#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = { 0 };
	struct moat_config *cfg;
	struct fw_plan *plan;
	size_t lines = 0;

	cfg = cfg_load("fuzz.hcl", (const char *)data, size, &fuzz_env, false, &dl);
	if (!cfg)
		goto out;
	plan = fw_compile(cfg, &dl);
	if (!plan) {
		if (!dl.nerrors)
			abort();	/* a failed compile must say why */
		goto out_cfg;
	}
	for (size_t i = 0; i < plan->len; i++)
		lines += plan->script[i] == '\n';
	if (plan->len < 2 || strcmp(plan->script + plan->len - 2, "}\n") ||
	    strlen(plan->script) != plan->len || lines != plan->nlines ||
	    strlen(plan->hash) != FW_HASH_HEX)
		abort();
	fw_plan_free(plan);
out_cfg:
	cfg_free(cfg);
out:
	diag_list_free(&dl);
	return 0;
}
