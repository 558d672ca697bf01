/* A netlink socket to nf_tables for reading what the kernel holds (the
 * table's comment, its chains, rules and sets). Thin: only fw_*_io code
 * and status use it; nothing here changes the ruleset. */
#ifndef MOAT_FW_NL_H
#define MOAT_FW_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fw/fw.h"

struct mnl_socket;

struct fw_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
};

/* 0 or -errno. */
int fw_nl_open(struct fw_nl *nl);
void fw_nl_close(struct fw_nl *nl);

/* What the kernel holds of table inet moat. */
struct fw_kernel {
	bool present;
	bool ours;		/* its comment carries a moat hash */
	char hash[FW_HASH_HEX + 1];
	size_t nchains;
	size_t nrules;
	size_t nsets;		/* sets and maps */
	size_t nbase;		/* chains hooked into netfilter */
	/* sha256 of what the table does (chains, rules, sets and the
	 * elements of maps, without handles or counter values): equal
	 * fingerprints, same behaviour. Set by fw_nl_inspect. */
	char content[FW_HASH_HEX + 1];
};

/* Reads the table's comment only: one small request (fast path of apply).
 * 0 (k->present tells whether it exists) or -errno. */
int fw_nl_table(struct fw_nl *nl, struct fw_kernel *k);
/* Reads the table, counts its chains, rules and sets and fingerprints
 * them. 0 or -errno. */
int fw_nl_inspect(struct fw_nl *nl, struct fw_kernel *k);

/* The ruleset's generation: the kernel counts every commit. 0 or -errno. */
int fw_nl_genid(struct fw_nl *nl, uint32_t *genid);

#endif
