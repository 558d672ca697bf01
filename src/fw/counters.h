/* The counters of table inet moat's rules, as the kernel holds them: for
 * /metrics. Read only, over netlink. */
#ifndef MOAT_FW_COUNTERS_H
#define MOAT_FW_COUNTERS_H
#include <stddef.h>
#include <stdint.h>

/* One rule with a counter. */
struct fw_counter {
	char chain[64];
	unsigned position;		/* in its chain, from 0 */
	char comment[256];		/* what moat wrote ("" none) */
	uint64_t packets, bytes;
};

/* Every rule of table inet moat that counts, in chain order, into *out
 * (*n of them; the caller frees *out). No table: none. 0 or -errno. */
int fw_nl_counters(struct fw_counter **out, size_t *n);

#endif
