/* The set element codec: element text <-> binary keys, range merging, and
 * printing back the way nft prints. Pure: no I/O, no netlink, no clock;
 * set_nl.c sends what this builds. */
#include "fw/set.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Elements longer than this are not addresses, ports or MACs. */
#define ELEM_TEXT_MAX 128

static const struct {
	const char *name;
	size_t len;
	uint32_t nft;		/* nft's datatype number (NFTA_SET_KEY_TYPE) */
} types[FW_SET_NTYPES] = {
	[FW_SET_IPV4] = { "ipv4_addr", 4, 7 },
	[FW_SET_IPV6] = { "ipv6_addr", 16, 8 },
	[FW_SET_PORT] = { "inet_service", 2, 13 },
	[FW_SET_MAC] = { "ether_addr", 6, 9 },
};

const char *fw_set_type_name(enum fw_set_type t)
{
	return t < FW_SET_NTYPES ? types[t].name : "?";
}

bool fw_set_type_parse(const char *name, enum fw_set_type *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if (!strcmp(name, types[i].name)) {
			*t = (enum fw_set_type)i;
			return true;
		}
	}
	return false;
}

size_t fw_set_key_len(enum fw_set_type t)
{
	return t < FW_SET_NTYPES ? types[t].len : 0;
}

uint32_t fw_set_type_nft(enum fw_set_type t)
{
	return t < FW_SET_NTYPES ? types[t].nft : 0;
}

bool fw_set_type_from_nft(uint32_t key_type, uint32_t key_len,
			  enum fw_set_type *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if (types[i].nft == key_type && types[i].len == key_len) {
			*t = (enum fw_set_type)i;
			return true;
		}
	}
	return false;
}

/* Keys: big-endian byte strings of one length. */

bool fw_key_next(const uint8_t *k, size_t len, uint8_t *out)
{
	bool carry = true;

	for (size_t i = len; i-- > 0;) {
		out[i] = (uint8_t)(k[i] + carry);
		carry = carry && out[i] == 0;
	}
	return !carry;
}

/* The key before k; k must not be all zeros. */
static void key_prev(const uint8_t *k, size_t len, uint8_t *out)
{
	bool borrow = true;

	for (size_t i = len; i-- > 0;) {
		out[i] = (uint8_t)(k[i] - borrow);
		borrow = borrow && k[i] == 0;
	}
}

/* lo/hi of the prefix addr/plen (bits past the key are untouched). */
static void prefix_range(const uint8_t *addr, size_t len, unsigned plen,
			 uint8_t *lo, uint8_t *hi)
{
	for (size_t i = 0; i < len; i++) {
		unsigned keep = plen >= 8 * (i + 1) ? 8 :
				plen <= 8 * i ? 0 : plen - 8 * (unsigned)i;
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		lo[i] = addr[i] & mask;
		hi[i] = addr[i] | (uint8_t)~mask;
	}
}

/* The prefix length that makes [lo, hi] exactly one prefix, or -1. */
static int prefix_len(const uint8_t *lo, const uint8_t *hi, size_t len)
{
	size_t i = 0;
	int plen;

	while (i < len && lo[i] == hi[i])
		i++;
	plen = 8 * (int)i;
	if (i == len)
		return plen;
	/* In the first differing byte, lo must be x000 and hi x111 with the
	 * same x; every later byte 0x00 in lo and 0xff in hi. */
	for (int keep = 7; keep >= 0; keep--) {
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		if ((lo[i] & mask) == (hi[i] & mask) && !(lo[i] & ~mask) &&
		    (hi[i] | mask) == 0xff) {
			plen += keep;
			break;
		}
		if (keep == 0)
			return -1;
	}
	for (i++; i < len; i++)
		if (lo[i] != 0 || hi[i] != 0xff)
			return -1;
	return plen;
}

/* Parsing. */

static bool parse_port(const char *s, uint8_t *k)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	k[0] = (uint8_t)(v >> 8);
	k[1] = (uint8_t)v;
	return true;
}

/* aa:bb:cc:dd:ee:ff, one or two hex digits per byte (as nft reads them). */
static bool parse_mac(const char *s, uint8_t *k)
{
	for (int i = 0; i < 6; i++) {
		unsigned v = 0;
		int digits = 0;

		while (isxdigit((unsigned char)*s) && digits < 2) {
			int c = tolower((unsigned char)*s++);

			v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
			digits++;
		}
		if (digits == 0)
			return false;
		k[i] = (uint8_t)v;
		if (i < 5 && *s++ != ':')
			return false;
	}
	return *s == '\0';
}

static bool parse_key(enum fw_set_type t, const char *s, uint8_t *k)
{
	switch (t) {
	case FW_SET_IPV4:
		return inet_pton(AF_INET, s, k) == 1;
	case FW_SET_IPV6:
		return inet_pton(AF_INET6, s, k) == 1;
	case FW_SET_PORT:
		return parse_port(s, k);
	case FW_SET_MAC:
		return parse_mac(s, k);
	case FW_SET_NTYPES:
		break;
	}
	return false;
}

static const struct {
	const char *what;
	const char *form;	/* reminder of the syntax, when it helps */
} key_desc[FW_SET_NTYPES] = {
	[FW_SET_IPV4] = { "an IPv4 address", "" },
	[FW_SET_IPV6] = { "an IPv6 address", "" },
	[FW_SET_PORT] = { "a port", " (0-65535)" },
	[FW_SET_MAC] = { "a MAC address", " (like aa:bb:cc:dd:ee:ff)" },
};

/* "ELEM: not an IPv4 address", or "ELEM: PART is not ..." when part (a
 * half of a range, the address of a prefix) is the culprit. When the text
 * is a key of another type, the usual mistake, says what the set holds. */
static char *bad_key(const struct fw_set_info *set, const char *elem,
		     const char *part)
{
	const char *s = part ? part : elem;
	struct buf b = BUF_INIT;
	uint8_t k[FW_KEY_MAX];
	bool other = false;

	for (size_t t = 0; t < FW_SET_NTYPES && !other; t++)
		other = t != set->type && parse_key((enum fw_set_type)t, s, k);
	if (part)
		buf_printf(&b, "%s: %s is not %s", elem, part,
			   key_desc[set->type].what);
	else
		buf_printf(&b, "%s: not %s", elem, key_desc[set->type].what);
	if (other)
		buf_printf(&b, " (set \"%s\" holds %s)", set->name,
			   fw_set_type_name(set->type));
	else
		buf_adds(&b, key_desc[set->type].form);
	return buf_steal(&b);
}

static char *needs_interval(const struct fw_set_info *set, const char *elem)
{
	return xasprintf("%s needs an interval set; set \"%s\" has no flags "
			 "interval", elem, set->name);
}

static int parse_prefix(const struct fw_set_info *set, const char *text,
			const char *slash, struct fw_elem *e, char **err)
{
	size_t len = fw_set_key_len(set->type);
	unsigned max = (unsigned)len * 8, plen = 0;
	char addr_text[ELEM_TEXT_MAX + 1];
	const char *p = slash + 1;
	uint8_t addr[FW_KEY_MAX];

	if (set->type != FW_SET_IPV4 && set->type != FW_SET_IPV6) {
		*err = xasprintf("%s: not %s (prefixes are for addresses)",
				 text, key_desc[set->type].what);
		return -1;
	}
	memcpy(addr_text, text, (size_t)(slash - text));
	addr_text[slash - text] = '\0';
	if (!parse_key(set->type, addr_text, addr)) {
		*err = bad_key(set, text, addr_text);
		return -1;
	}
	for (; isdigit((unsigned char)*p) && plen <= max; p++)
		plen = plen * 10 + (unsigned)(*p - '0');
	if (p == slash + 1 || *p || plen > max) {
		*err = xasprintf("%s: the prefix length must be 0-%u", text, max);
		return -1;
	}
	prefix_range(addr, len, plen, e->lo, e->hi);
	if (memcmp(e->lo, addr, len)) {
		char net[INET6_ADDRSTRLEN];

		inet_ntop(set->type == FW_SET_IPV4 ? AF_INET : AF_INET6, e->lo,
			  net, sizeof(net));
		*err = xasprintf("%s: host bits are set; did you mean %s/%u?",
				 text, net, plen);
		return -1;
	}
	if (!set->interval && plen != max) {
		*err = needs_interval(set, text);
		return -1;
	}
	return 0;
}

static int parse_range(const struct fw_set_info *set, const char *text,
		       const char *dash, struct fw_elem *e, char **err)
{
	size_t len = fw_set_key_len(set->type);
	char lo_text[ELEM_TEXT_MAX + 1];

	memcpy(lo_text, text, (size_t)(dash - text));
	lo_text[dash - text] = '\0';
	if (!lo_text[0] || !dash[1]) {
		*err = xasprintf("%s: a range is FIRST-LAST", text);
		return -1;
	}
	if (!parse_key(set->type, lo_text, e->lo)) {
		*err = bad_key(set, text, lo_text);
		return -1;
	}
	if (!parse_key(set->type, dash + 1, e->hi)) {
		*err = bad_key(set, text, dash + 1);
		return -1;
	}
	if (memcmp(e->lo, e->hi, len) > 0) {
		*err = xasprintf("%s: the range ends before it starts", text);
		return -1;
	}
	if (!set->interval && memcmp(e->lo, e->hi, len)) {
		*err = needs_interval(set, text);
		return -1;
	}
	return 0;
}

int fw_elem_parse(const struct fw_set_info *set, const char *s,
		  struct fw_elem *e, char **err)
{
	char text[ELEM_TEXT_MAX + 1];
	size_t n;
	char *sep;

	memset(e, 0, sizeof(*e));
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0) {
		*err = xstrdup("empty element");
		return -1;
	}
	if (n > ELEM_TEXT_MAX) {
		*err = xasprintf("%.32s...: not %s (too long)", s,
				 key_desc[set->type].what);
		return -1;
	}
	memcpy(text, s, n);
	text[n] = '\0';
	if ((sep = strchr(text, '/')))
		return parse_prefix(set, text, sep, e, err);
	/* No address, port or MAC contains '-': it can only be a range. */
	if ((sep = strchr(text, '-')))
		return parse_range(set, text, sep, e, err);
	if (!parse_key(set->type, text, e->lo)) {
		*err = bad_key(set, text, NULL);
		return -1;
	}
	memcpy(e->hi, e->lo, FW_KEY_MAX);
	return 0;
}

int fw_elems_parse(const struct fw_set_info *set, const char *const *v,
		   size_t n, struct fw_elems *out, char **err)
{
	struct fw_elem e;

	for (size_t i = 0; i < n; i++) {
		if (fw_elem_parse(set, v[i], &e, err))
			return -1;
		fw_elems_add(out, &e);
	}
	return 0;
}

void fw_elems_add(struct fw_elems *el, const struct fw_elem *e)
{
	xgrow((void **)&el->v, &el->cap, el->n + 1, sizeof(*el->v));
	el->v[el->n++] = *e;
}

void fw_elems_free(struct fw_elems *el)
{
	free(el->v);
	el->v = NULL;
	el->n = el->cap = 0;
}

/* Merging. Keys past the type's length are zero in every element, so the
 * comparisons can use the whole array. */

static int elem_cmp(const void *a, const void *b)
{
	const struct fw_elem *x = a, *y = b;
	int d = memcmp(x->lo, y->lo, FW_KEY_MAX);

	return d ? d : memcmp(x->hi, y->hi, FW_KEY_MAX);
}

static void elems_sort(struct fw_elems *el)
{
	if (el->n > 1)
		qsort(el->v, el->n, sizeof(*el->v), elem_cmp);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Whether b starts inside a or right after it (a->lo <= b->lo given). */
static bool touches(const struct fw_elem *a, const struct fw_elem *b,
		    size_t len)
{
	uint8_t next[FW_KEY_MAX] = { 0 };

	if (!fw_key_next(a->hi, len, next))
		return true;
	return memcmp(b->lo, next, FW_KEY_MAX) <= 0;
}

void fw_elems_merge(const struct fw_set_info *set, struct fw_elems *el)
{
	size_t len = fw_set_key_len(set->type), out = 0;

	elems_sort(el);
	for (size_t i = 0; i < el->n; i++) {
		struct fw_elem *prev = out ? &el->v[out - 1] : NULL;
		struct fw_elem *e = &el->v[i];

		if (prev && (set->interval ? touches(prev, e, len) :
			     !memcmp(prev->lo, e->lo, FW_KEY_MAX))) {
			if (memcmp(e->hi, prev->hi, FW_KEY_MAX) > 0)
				memcpy(prev->hi, e->hi, FW_KEY_MAX);
			prev->timeout_ms = max_u64(prev->timeout_ms,
						   e->timeout_ms);
			continue;
		}
		el->v[out++] = *e;
	}
	el->n = out;
}

void fw_elems_uniq(const struct fw_set_info *set, struct fw_elems *el)
{
	size_t out = 0;

	(void)set;
	elems_sort(el);
	for (size_t i = 0; i < el->n; i++) {
		if (out && !elem_cmp(&el->v[out - 1], &el->v[i]))
			continue;
		el->v[out++] = el->v[i];
	}
	el->n = out;
}

/* Printing. */

static void key_format(struct buf *b, enum fw_set_type t, const uint8_t *k)
{
	char s[INET6_ADDRSTRLEN];

	switch (t) {
	case FW_SET_IPV4:
	case FW_SET_IPV6:
		inet_ntop(t == FW_SET_IPV4 ? AF_INET : AF_INET6, k, s,
			  sizeof(s));
		buf_adds(b, s);
		break;
	case FW_SET_PORT:
		buf_printf(b, "%u", (unsigned)k[0] << 8 | k[1]);
		break;
	case FW_SET_MAC:
		buf_printf(b, "%02x:%02x:%02x:%02x:%02x:%02x", k[0], k[1],
			   k[2], k[3], k[4], k[5]);
		break;
	case FW_SET_NTYPES:
		break;
	}
}

void fw_elem_format(struct buf *b, enum fw_set_type t, const struct fw_elem *e)
{
	size_t len = fw_set_key_len(t);
	int plen;

	key_format(b, t, e->lo);
	if (!memcmp(e->lo, e->hi, len))
		return;
	if ((t == FW_SET_IPV4 || t == FW_SET_IPV6) &&
	    (plen = prefix_len(e->lo, e->hi, len)) >= 0) {
		buf_printf(b, "/%d", plen);
		return;
	}
	buf_addc(b, '-');
	key_format(b, t, e->hi);
}

/* Durations. */

static const struct {
	const char *unit;
	uint64_t ms;
} units[] = {
	{ "ms", 1 },	/* before "m" so that "500ms" is not 500 minutes */
	{ "d", 86400000 },
	{ "h", 3600000 },
	{ "m", 60000 },
	{ "s", 1000 },
};

int fw_set_timeout_parse(const char *s, uint64_t *ms, char **err)
{
	const char *p = s;
	uint64_t total = 0;

	if (!*p)
		goto bad;
	while (*p) {
		uint64_t v = 0, mult = 1000;	/* a bare number is seconds */
		const char *digits = p;

		while (isdigit((unsigned char)*p)) {
			if (v > (UINT64_MAX - 9) / 10)
				goto big;
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		if (p == digits)
			goto bad;
		if (*p) {
			size_t i;

			for (i = 0; i < ARRAY_SIZE(units); i++) {
				size_t n = strlen(units[i].unit);

				if (!strncmp(p, units[i].unit, n)) {
					mult = units[i].ms;
					p += n;
					break;
				}
			}
			if (i == ARRAY_SIZE(units))
				goto bad;
		} else if (digits != s) {
			goto bad;	/* "1h30": 30 what? */
		}
		if (v > (UINT64_MAX - total) / mult)
			goto big;
		total += v * mult;
	}
	if (total == 0) {
		*err = xasprintf("timeout %s: must be more than 0", s);
		return -1;
	}
	*ms = total;
	return 0;
bad:
	*err = xasprintf("timeout %s: not a duration (like 90s, 10m, 1h30m, "
			 "2d)", s);
	return -1;
big:
	*err = xasprintf("timeout %s: too long", s);
	return -1;
}

void fw_set_timeout_format(struct buf *b, uint64_t ms)
{
	static const size_t order[] = { 1, 2, 3, 4, 0 };	/* d h m s ms */

	if (ms == 0) {
		buf_adds(b, "0s");
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		uint64_t u = units[order[i]].ms;

		if (ms >= u) {
			buf_printf(b, "%llu%s", (unsigned long long)(ms / u),
				   units[order[i]].unit);
			ms %= u;
		}
	}
}

/* Kernel boundaries -> ranges. */

static int bound_cmp(const void *a, const void *b)
{
	const struct fw_bound *x = a, *y = b;
	int d = memcmp(x->key, y->key, FW_KEY_MAX);

	/* At one key, the end of one range sorts before the start of the
	 * next: [a, k-1] then [k, ...]. */
	return d ? d : (int)y->end - (int)x->end;
}

void fw_elems_from_bounds(const struct fw_set_info *set, struct fw_bound *b,
			  size_t n, struct fw_elems *out)
{
	size_t len = fw_set_key_len(set->type), start = out->n;
	struct fw_elem cur;
	bool open = false;

	if (n > 1)
		qsort(b, n, sizeof(*b), bound_cmp);
	for (size_t i = 0; i < n; i++) {
		if (!set->interval) {
			if (b[i].end || (out->n > start && !memcmp(b[i].key,
				out->v[out->n - 1].lo, FW_KEY_MAX)))
				continue;	/* not a key; or one twice */
			memset(&cur, 0, sizeof(cur));
			memcpy(cur.lo, b[i].key, FW_KEY_MAX);
			memcpy(cur.hi, b[i].key, FW_KEY_MAX);
			cur.timeout_ms = b[i].timeout_ms;
			cur.expires_ms = b[i].expires_ms;
			fw_elems_add(out, &cur);
			continue;
		}
		if (open && !memcmp(b[i].key, cur.lo, FW_KEY_MAX))
			continue;	/* a second start at one key */
		if (open) {
			/* b[i].key > cur.lo >= 0, so it has a predecessor. */
			key_prev(b[i].key, len, cur.hi);
			fw_elems_add(out, &cur);
			open = false;
		}
		if (b[i].end)
			continue;	/* closes nothing: nft's null end */
		memset(&cur, 0, sizeof(cur));
		memcpy(cur.lo, b[i].key, FW_KEY_MAX);
		cur.timeout_ms = b[i].timeout_ms;
		cur.expires_ms = b[i].expires_ms;
		open = true;
	}
	if (open) {
		memset(cur.hi, 0xff, len);
		fw_elems_add(out, &cur);
	}
}

/* Merging with what the kernel has. */

void fw_elems_absorb(const struct fw_set_info *set,
		     const struct fw_elems *cur, const struct fw_elems *add,
		     struct fw_elems *del, struct fw_elems *put)
{
	size_t i = 0, j = 0;

	(void)set;
	/* Walk both sorted lists as one, in runs of ranges that overlap.
	 * Adjacency does not join a run: the kernel accepts adjacent ranges,
	 * and each stays deletable as it was added. */
	while (i < cur->n || j < add->n) {
		size_t cur_first = i, ncur = 0, nadd = 0;
		struct fw_elem run;

		while (i < cur->n || j < add->n) {
			bool from_cur = j == add->n || (i < cur->n &&
				memcmp(cur->v[i].lo, add->v[j].lo,
				       FW_KEY_MAX) <= 0);
			const struct fw_elem *e = from_cur ? &cur->v[i] :
							     &add->v[j];

			if (ncur + nadd == 0) {
				run = *e;
				run.timeout_ms = run.expires_ms = 0;
			} else if (memcmp(e->lo, run.hi, FW_KEY_MAX) > 0) {
				break;
			} else if (memcmp(e->hi, run.hi, FW_KEY_MAX) > 0) {
				memcpy(run.hi, e->hi, FW_KEY_MAX);
			}
			if (from_cur) {
				i++;
				ncur++;
			} else {
				run.timeout_ms = max_u64(run.timeout_ms,
							 e->timeout_ms);
				j++;
				nadd++;
			}
		}
		if (!nadd)
			continue;
		if (ncur == 1 && !elem_cmp(&cur->v[cur_first], &run))
			continue;	/* all of it is there already */
		for (size_t k = cur_first; k < cur_first + ncur; k++)
			fw_elems_add(del, &cur->v[k]);
		fw_elems_add(put, &run);
	}
}
