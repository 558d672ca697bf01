/* moat diff's engine: the kernel's table against a plan. Reads only. */
#ifndef MOAT_FW_DIFF_H
#define MOAT_FW_DIFF_H

#include "base/buf.h"
#include "fw/fw.h"

/* Writes to out, for people, what applying plan would change. Returns 0
 * (no change), 1 (changes), or -1 with *err set (the caller frees it). */
int fw_diff(const struct fw_plan *plan, struct buf *out, char **err);

#endif
