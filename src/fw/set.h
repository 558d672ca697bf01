/* nftables set elements: the codec (set.c, pure: text <-> keys, merging,
 * printing) and the kernel side (set_nl.c: GETSET, element batches and
 * dumps over netlink). Only set_nl.c touches the kernel; everything the
 * codec does is unit-tested without root.
 *
 * A key is the bytes nf_tables compares, in network byte order (so memcmp
 * order is numeric order). An element is a closed range of keys [lo, hi];
 * a single key has lo == hi. */
#ifndef MOAT_FW_SET_H
#define MOAT_FW_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* The table every moat set lives in. */
#define FW_SET_FAMILY_NAME "inet"
#define FW_SET_TABLE "moat"

/* The key types moat's sets use (nft's names in fw_set_type_name). */
enum fw_set_type {
	FW_SET_IPV4,		/* ipv4_addr: 4 bytes */
	FW_SET_IPV6,		/* ipv6_addr: 16 bytes */
	FW_SET_PORT,		/* inet_service: 2 bytes */
	FW_SET_MAC,		/* ether_addr: 6 bytes */
	FW_SET_NTYPES,
};

#define FW_KEY_MAX 16		/* the longest key, an IPv6 address */

/* What a set is, as far as its elements are concerned. */
struct fw_set_info {
	const char *name;	/* borrowed; used in messages */
	enum fw_set_type type;
	bool interval;		/* flags interval: prefixes and ranges */
	bool timeout;		/* flags timeout: elements expire */
	uint64_t timeout_ms;	/* the set's default timeout, 0 if none */
};

struct fw_elem {
	uint8_t lo[FW_KEY_MAX];
	uint8_t hi[FW_KEY_MAX];
	uint64_t timeout_ms;	/* 0: the set's default (or none) */
	uint64_t expires_ms;	/* time left, as listed by the kernel */
};

struct fw_elems {
	struct fw_elem *v;
	size_t n;
	size_t cap;
};

/* "ipv4_addr" etc. */
const char *fw_set_type_name(enum fw_set_type t);
/* Parses an nft type name; false if it is none of the four. */
bool fw_set_type_parse(const char *name, enum fw_set_type *t);
size_t fw_set_key_len(enum fw_set_type t);
/* The type of a kernel set from its NFTA_SET_KEY_TYPE (nft's datatype
 * number) and key length; false for any other kind of set. */
bool fw_set_type_from_nft(uint32_t key_type, uint32_t key_len,
			  enum fw_set_type *t);
uint32_t fw_set_type_nft(enum fw_set_type t);

/* Parses one element ("192.0.2.1", "10.0.0.0/8", "10.0.0.1-10.0.0.9",
 * "8000-8100", "aa:bb:cc:dd:ee:ff", ...) for set. Surrounding blanks are
 * ignored. Prefixes and ranges of more than one key need an interval set.
 * A prefix with host bits set is refused (nft would silently clear them;
 * "10.0.0.1/8" is more often a typo for /32 than a wish for /8).
 * Returns 0, or -1 with *err a message naming the element (caller frees). */
int fw_elem_parse(const struct fw_set_info *set, const char *s,
		  struct fw_elem *e, char **err);
/* Parses n strings, appending to out; stops at the first bad one. */
int fw_elems_parse(const struct fw_set_info *set, const char *const *v,
		   size_t n, struct fw_elems *out, char **err);

void fw_elems_add(struct fw_elems *el, const struct fw_elem *e);
void fw_elems_free(struct fw_elems *el);

/* Sorts by key; in an interval set merges overlapping and adjacent ranges
 * (10.0.0.0/25 + 10.0.0.128/25 -> 10.0.0.0/24), in a plain set drops
 * duplicates. A merged range keeps the longest timeout of its parts. */
void fw_elems_merge(const struct fw_set_info *set, struct fw_elems *el);
/* Sorts by key and drops exact duplicates only (what `del` wants: each
 * range must match one element of the kernel as it is). */
void fw_elems_uniq(const struct fw_set_info *set, struct fw_elems *el);

/* Appends e as nft prints it: a key, a prefix when the range is exactly
 * one (addresses only), or LO-HI. */
void fw_elem_format(struct buf *b, enum fw_set_type t,
		    const struct fw_elem *e);

/* Durations as nft writes them: "1h30m", "10m", "45s", "500ms", "2d"
 * (a bare number is seconds). Returns 0, or -1 with *err set. */
int fw_set_timeout_parse(const char *s, uint64_t *ms, char **err);
void fw_set_timeout_format(struct buf *b, uint64_t ms);

/* The key after k (len bytes); false when k is the last key (all ones). */
bool fw_key_next(const uint8_t *k, size_t len, uint8_t *out);

/* One element of an interval set as the kernel stores it: a boundary.
 * A range [lo, hi] is a start at lo and an end at hi + 1 (no end when hi
 * is the last key). */
struct fw_bound {
	uint8_t key[FW_KEY_MAX];
	bool end;
	uint64_t timeout_ms;
	uint64_t expires_ms;
};

/* Rebuilds ranges from boundaries in any order (a dump), as the kernel's
 * lookup reads them: a start runs to the next boundary, or to the last
 * key; ends with no start (nft's "null" end at 0) are skipped. In a plain
 * set each key is an element. Appends them sorted and disjoint whatever b
 * holds; sorts b. */
void fw_elems_from_bounds(const struct fw_set_info *set, struct fw_bound *b,
			  size_t n, struct fw_elems *out);

/* Adding add (merged) to an interval set that holds cur (sorted, disjoint)
 * when some added range overlaps an existing one: the kernel refuses
 * overlaps, so every existing range an added range overlaps is deleted and
 * replaced by their union. Fills del (existing ranges to delete) and put
 * (ranges to add); ranges already wholly present are left out of both. */
void fw_elems_absorb(const struct fw_set_info *set,
		     const struct fw_elems *cur, const struct fw_elems *add,
		     struct fw_elems *del, struct fw_elems *put);

/* The kernel side (set_nl.c): one netlink socket to nf_tables. Functions
 * return 0 or -errno; on error *err (when not NULL) says what happened in
 * words, naming the set and the element (caller frees). */
struct fw_set_nl;

int fw_set_nl_open(struct fw_set_nl **nl, char **err);
void fw_set_nl_close(struct fw_set_nl *nl);
/* One NFT_MSG_GETSET: fills info (its name is set to name). */
int fw_set_nl_get(struct fw_set_nl *nl, const char *name,
		  struct fw_set_info *info, char **err);
/* Adds el (merged) in one batch. In an interval set, ranges that overlap
 * elements already there are merged with them (one more dump and one more
 * batch, only when the kernel refuses the first). */
int fw_set_nl_add(struct fw_set_nl *nl, const struct fw_set_info *info,
		  const struct fw_elems *el, char **err);
/* Deletes el in one batch: each must be exactly an element of the set. */
int fw_set_nl_del(struct fw_set_nl *nl, const struct fw_set_info *info,
		  const struct fw_elems *el, char **err);
/* Dumps the set's elements into out, sorted, ranges rebuilt. */
int fw_set_nl_list(struct fw_set_nl *nl, const struct fw_set_info *info,
		   struct fw_elems *out, char **err);

#endif
