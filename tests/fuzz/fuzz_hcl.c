/* libFuzzer harness for the HCL parser and the config loader: any input
 * must give a tree or a located error, never a crash, a hang or a leak,
 * and a config that loads must print to text that loads again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "hcl/hcl.h"
#include "fuzz_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = { 0 };
	struct hcl_file *f;
	struct moat_config *cfg;

	f = hcl_parse("fuzz.hcl", (const char *)data, size, &fuzz_env, &dl);
	if (f) {
		free(hcl_dump_json(f));
		hcl_file_free(f);
	} else if (!dl.nerrors) {
		abort();	/* a failed parse must say why */
	}
	diag_list_free(&dl);
	cfg = cfg_load("fuzz.hcl", (const char *)data, size, &fuzz_env, false, &dl);
	if (cfg) {
		char *text = cfg_print(cfg);
		struct diag_list dl2 = { 0 };
		struct moat_config *again = cfg_load("print.hcl", text,
						     strlen(text), &fuzz_env, false,
						     &dl2);
		char *text2;

		if (!again)
			abort();	/* the print must load */
		text2 = cfg_print(again);
		if (strcmp(text, text2))
			abort();	/* and print the same */
		free(text2);
		cfg_free(again);
		diag_list_free(&dl2);
		free(text);
		cfg_free(cfg);
	}
	diag_list_free(&dl);
	return 0;
}
