/* The CLI's side of ctl, shared by the commands that prefer it. */
#ifndef MOAT_CLI_CTL_CLI_H
#define MOAT_CLI_CTL_CLI_H
#include <stdbool.h>

#include <jansson.h>

/* One RPC to the running ctl. params stolen. 0 with *res; -1 when ctl
 * refused or failed, -2 when ctl could not be reached, after printing
 * why, unless absent is given and no ctl runs (then *absent is true and
 * nothing is printed). */
int cli_ctl_call(const char *method, json_t *params, json_t **res,
		 bool *absent);
/* Prints an apply's answer; 0 when it applied. */
int cli_ctl_print_apply(const char *what, json_t *res);
#endif
