/* The set element codec (src/fw/set.c): parsing every type, every error
 * message, merging, printing back, durations, and rebuilding ranges from
 * what the kernel lists. No root, no netlink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fw/set.h"

static const struct fw_set_info v4 = { "x", FW_SET_IPV4, false, false, 0 };
static const struct fw_set_info v4i = { "x", FW_SET_IPV4, true, false, 0 };
static const struct fw_set_info v6 = { "x", FW_SET_IPV6, false, false, 0 };
static const struct fw_set_info v6i = { "x", FW_SET_IPV6, true, false, 0 };
static const struct fw_set_info port = { "p", FW_SET_PORT, false, false, 0 };
static const struct fw_set_info porti = { "p", FW_SET_PORT, true, false, 0 };
static const struct fw_set_info mac = { "m", FW_SET_MAC, false, false, 0 };
static const struct fw_set_info maci = { "m", FW_SET_MAC, true, false, 0 };

/* Parses s (must succeed) and prints it back. */
static char *roundtrip(const struct fw_set_info *set, const char *s)
{
	struct buf b = BUF_INIT;
	struct fw_elem e;
	char *err = NULL;

	if (fw_elem_parse(set, s, &e, &err)) {
		print_error("%s: %s\n", s, err);
		free(err);
		fail();
	}
	fw_elem_format(&b, set->type, &e);
	return buf_steal(&b);
}

static void assert_prints(const struct fw_set_info *set, const char *in,
			  const char *out)
{
	char *s = roundtrip(set, in);

	assert_string_equal(s, out);
	free(s);
}

static void assert_error(const struct fw_set_info *set, const char *in,
			 const char *msg)
{
	struct fw_elem e;
	char *err = NULL;

	if (fw_elem_parse(set, in, &e, &err) == 0) {
		print_error("%s: parsed, expected \"%s\"\n", in, msg);
		fail();
	}
	assert_non_null(err);
	assert_string_equal(err, msg);
	free(err);
}

static void test_types(void **state)
{
	enum fw_set_type t;

	(void)state;
	assert_true(fw_set_type_parse("ipv4_addr", &t));
	assert_int_equal(t, FW_SET_IPV4);
	assert_true(fw_set_type_parse("inet_service", &t));
	assert_int_equal(t, FW_SET_PORT);
	assert_false(fw_set_type_parse("ipv4", &t));
	assert_string_equal(fw_set_type_name(FW_SET_MAC), "ether_addr");
	assert_int_equal(fw_set_key_len(FW_SET_IPV6), 16);
	assert_int_equal(fw_set_key_len(FW_SET_MAC), 6);
	/* nft's datatype numbers, as NFTA_SET_KEY_TYPE carries them */
	assert_true(fw_set_type_from_nft(7, 4, &t));
	assert_int_equal(t, FW_SET_IPV4);
	assert_true(fw_set_type_from_nft(8, 16, &t));
	assert_int_equal(t, FW_SET_IPV6);
	assert_true(fw_set_type_from_nft(9, 6, &t));
	assert_int_equal(t, FW_SET_MAC);
	assert_true(fw_set_type_from_nft(13, 2, &t));
	assert_int_equal(t, FW_SET_PORT);
	assert_false(fw_set_type_from_nft(7, 8, &t));	/* concatenation */
	assert_false(fw_set_type_from_nft(19, 4, &t));	/* mark */
	assert_int_equal(fw_set_type_nft(FW_SET_PORT), 13);
}

static void test_parse_ipv4(void **state)
{
	struct fw_elem e;
	char *err = NULL;

	(void)state;
	assert_int_equal(fw_elem_parse(&v4, " 192.0.2.1\t", &e, &err), 0);
	assert_memory_equal(e.lo, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(e.hi, "\xc0\x00\x02\x01", 4);
	assert_int_equal(fw_elem_parse(&v4i, "10.0.0.0/8", &e, &err), 0);
	assert_memory_equal(e.lo, "\x0a\x00\x00\x00", 4);
	assert_memory_equal(e.hi, "\x0a\xff\xff\xff", 4);
	assert_int_equal(fw_elem_parse(&v4i, "10.0.0.1-10.0.1.0", &e, &err), 0);
	assert_memory_equal(e.lo, "\x0a\x00\x00\x01", 4);
	assert_memory_equal(e.hi, "\x0a\x00\x01\x00", 4);

	assert_prints(&v4, "192.0.2.1", "192.0.2.1");
	assert_prints(&v4i, "10.0.0.0/8", "10.0.0.0/8");
	assert_prints(&v4i, "0.0.0.0/0", "0.0.0.0/0");
	assert_prints(&v4i, "192.0.2.7/32", "192.0.2.7");
	assert_prints(&v4i, "10.0.0.1-10.0.0.9", "10.0.0.1-10.0.0.9");
	/* a range that is exactly a prefix prints as one, as nft does */
	assert_prints(&v4i, "10.0.0.0-10.0.0.255", "10.0.0.0/24");
	assert_prints(&v4i, "10.0.0.0-10.0.1.255", "10.0.0.0/23");
	assert_prints(&v4i, "10.0.0.0-10.0.2.255", "10.0.0.0-10.0.2.255");
	assert_prints(&v4i, "10.0.0.128-10.0.0.255", "10.0.0.128/25");
	assert_prints(&v4i, "10.0.0.1-10.0.0.1", "10.0.0.1");
	assert_prints(&v4i, "255.255.255.0/24", "255.255.255.0/24");
	/* single keys written as a prefix or a range are fine anywhere */
	assert_prints(&v4, "192.0.2.7/32", "192.0.2.7");
	assert_prints(&v4, "192.0.2.7-192.0.2.7", "192.0.2.7");
}

static void test_parse_ipv6(void **state)
{
	struct fw_elem e;
	char *err = NULL;

	(void)state;
	assert_int_equal(fw_elem_parse(&v6i, "2001:db8::/32", &e, &err), 0);
	assert_memory_equal(e.lo, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_memory_equal(e.hi, "\x20\x01\x0d\xb8\xff\xff\xff\xff\xff\xff"
			    "\xff\xff\xff\xff\xff\xff", 16);
	assert_prints(&v6, "2001:DB8:0:0::1", "2001:db8::1");
	assert_prints(&v6i, "2001:db8::/32", "2001:db8::/32");
	assert_prints(&v6i, "2001:db8::/127", "2001:db8::/127");
	assert_prints(&v6i, "::/0", "::/0");
	assert_prints(&v6i, "2001:db8::1-2001:db8::ff", "2001:db8::1-2001:db8::ff");
	assert_prints(&v6i, "2001:db8::-2001:db8::ffff", "2001:db8::/112");
	assert_prints(&v6, "::ffff:192.0.2.1", "::ffff:192.0.2.1");
	assert_prints(&v6, "2001:db8::1/128", "2001:db8::1");
}

static void test_parse_port_mac(void **state)
{
	struct fw_elem e;
	char *err = NULL;

	(void)state;
	assert_int_equal(fw_elem_parse(&port, "443", &e, &err), 0);
	assert_memory_equal(e.lo, "\x01\xbb", 2);
	assert_prints(&port, "0", "0");
	assert_prints(&port, "65535", "65535");
	assert_prints(&port, "080", "80");
	assert_prints(&porti, "8000-8100", "8000-8100");
	/* ports are not prefixes: a range stays a range */
	assert_prints(&porti, "0-65535", "0-65535");
	assert_prints(&porti, "1024-2047", "1024-2047");

	assert_int_equal(fw_elem_parse(&mac, "AA:bb:0c:d:ee:FF", &e, &err), 0);
	assert_memory_equal(e.lo, "\xaa\xbb\x0c\x0d\xee\xff", 6);
	assert_prints(&mac, "aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff");
	assert_prints(&mac, "0:1:2:3:4:5", "00:01:02:03:04:05");
	assert_prints(&maci, "aa:bb:cc:00:00:00-aa:bb:cc:ff:ff:ff",
		      "aa:bb:cc:00:00:00-aa:bb:cc:ff:ff:ff");
}

static void test_errors(void **state)
{
	(void)state;
	assert_error(&v4, "10.0.0.300", "10.0.0.300: not an IPv4 address");
	assert_error(&v4, "2001:db8::1",
		     "2001:db8::1: not an IPv4 address (set \"x\" holds ipv4_addr)");
	assert_error(&v4, "010.0.0.1", "010.0.0.1: not an IPv4 address");
	assert_error(&v4, "10.0.0", "10.0.0: not an IPv4 address");
	assert_error(&v4, "10.0.0.1 10.0.0.2",
		     "10.0.0.1 10.0.0.2: not an IPv4 address");
	assert_error(&v6, "2001:db8::g", "2001:db8::g: not an IPv6 address");
	assert_error(&v6, "192.0.2.1",
		     "192.0.2.1: not an IPv6 address (set \"x\" holds ipv6_addr)");
	assert_error(&v4, "10.0.0.0/8",
		     "10.0.0.0/8 needs an interval set; set \"x\" has no flags interval");
	assert_error(&v4, "10.0.0.1-10.0.0.9",
		     "10.0.0.1-10.0.0.9 needs an interval set; set \"x\" has no flags interval");
	assert_error(&port, "8000-8100",
		     "8000-8100 needs an interval set; set \"p\" has no flags interval");
	assert_error(&v4i, "10.0.0.1/8",
		     "10.0.0.1/8: host bits are set; did you mean 10.0.0.0/8?");
	assert_error(&v6i, "2001:db8::1/64",
		     "2001:db8::1/64: host bits are set; did you mean 2001:db8::/64?");
	assert_error(&v4i, "10.0.0.0/33", "10.0.0.0/33: the prefix length must be 0-32");
	assert_error(&v4i, "10.0.0.0/", "10.0.0.0/: the prefix length must be 0-32");
	assert_error(&v4i, "10.0.0.0/8x", "10.0.0.0/8x: the prefix length must be 0-32");
	assert_error(&v4i, "10.0.0.0/-8", "10.0.0.0/-8: the prefix length must be 0-32");
	assert_error(&v4i, "10.0.0.0/99999999999",
		     "10.0.0.0/99999999999: the prefix length must be 0-32");
	assert_error(&v6i, "::/129", "::/129: the prefix length must be 0-128");
	assert_error(&v4i, "10.0.0.300/8",
		     "10.0.0.300/8: 10.0.0.300 is not an IPv4 address");
	assert_error(&v4i, "10.0.0.9-10.0.0.1",
		     "10.0.0.9-10.0.0.1: the range ends before it starts");
	assert_error(&v4i, "10.0.0.1-", "10.0.0.1-: a range is FIRST-LAST");
	assert_error(&v4i, "-10.0.0.1", "-10.0.0.1: a range is FIRST-LAST");
	assert_error(&v4i, "10.0.0.1-10.0.0.300",
		     "10.0.0.1-10.0.0.300: 10.0.0.300 is not an IPv4 address");
	assert_error(&v4i, "10.0.0.1-2001:db8::1",
		     "10.0.0.1-2001:db8::1: 2001:db8::1 is not an IPv4 address "
		     "(set \"x\" holds ipv4_addr)");
	assert_error(&port, "70000", "70000: not a port (0-65535)");
	assert_error(&port, "ssh", "ssh: not a port (0-65535)");
	assert_error(&port, "123456", "123456: not a port (0-65535)");
	assert_error(&port, "192.0.2.1",
		     "192.0.2.1: not a port (set \"p\" holds inet_service)");
	assert_error(&porti, "80/8", "80/8: not a port (prefixes are for addresses)");
	assert_error(&porti, "90-80", "90-80: the range ends before it starts");
	assert_error(&mac, "zz:bb:cc:dd:ee:ff",
		     "zz:bb:cc:dd:ee:ff: not a MAC address (like aa:bb:cc:dd:ee:ff)");
	assert_error(&mac, "aa:bb:cc:dd:ee",
		     "aa:bb:cc:dd:ee: not a MAC address (like aa:bb:cc:dd:ee:ff)");
	assert_error(&mac, "aa:bb:cc:dd:ee:ff:00",
		     "aa:bb:cc:dd:ee:ff:00: not a MAC address (like aa:bb:cc:dd:ee:ff)");
	assert_error(&mac, "aaa:bb:cc:dd:ee:ff",
		     "aaa:bb:cc:dd:ee:ff: not a MAC address (like aa:bb:cc:dd:ee:ff)");
	assert_error(&mac, "aa:bb:cc:dd:ee:ff/24",
		     "aa:bb:cc:dd:ee:ff/24: not a MAC address (prefixes are for addresses)");
	assert_error(&v4, "", "empty element");
	assert_error(&v4, "  \t", "empty element");
	assert_error(&v4, "1111111111111111111111111111111111111111111111111111"
		     "1111111111111111111111111111111111111111111111111111111111"
		     "1111111111111111111111111",
		     "11111111111111111111111111111111...: not an IPv4 address "
		     "(too long)");
}

static void test_elems_parse(void **state)
{
	static const char *const ok[] = { "192.0.2.1", "192.0.2.2" };
	static const char *const bad[] = { "192.0.2.1", "nope", "192.0.2.3" };
	struct fw_elems el = { 0 };
	char *err = NULL;

	(void)state;
	assert_int_equal(fw_elems_parse(&v4, ok, 2, &el, &err), 0);
	assert_int_equal(el.n, 2);
	assert_int_equal(fw_elems_parse(&v4, bad, 3, &el, &err), -1);
	assert_string_equal(err, "nope: not an IPv4 address");
	assert_int_equal(el.n, 3);	/* the good one before it */
	free(err);
	fw_elems_free(&el);
	fw_elems_free(&el);	/* freeing twice is harmless */
}

/* Parses v, merges (or uniqs), prints one line per element. */
static char *merged(const struct fw_set_info *set, const char *const *v,
		    size_t n, bool uniq)
{
	struct fw_elems el = { 0 };
	struct buf b = BUF_INIT;
	char *err = NULL;

	if (fw_elems_parse(set, v, n, &el, &err)) {
		print_error("%s\n", err);
		free(err);
		fail();
	}
	if (uniq)
		fw_elems_uniq(set, &el);
	else
		fw_elems_merge(set, &el);
	for (size_t i = 0; i < el.n; i++) {
		if (i)
			buf_addc(&b, ' ');
		fw_elem_format(&b, set->type, &el.v[i]);
	}
	fw_elems_free(&el);
	return buf_steal(&b);
}

#define ASSERT_MERGED(set, out, ...) do { \
	static const char *const in_[] = { __VA_ARGS__ }; \
	char *s_ = merged(set, in_, ARRAY_SIZE(in_), false); \
	assert_string_equal(s_, out); \
	free(s_); \
} while (0)

static void test_merge(void **state)
{
	(void)state;
	/* adjacent */
	ASSERT_MERGED(&v4i, "10.0.0.0/24", "10.0.0.128/25", "10.0.0.0/25");
	ASSERT_MERGED(&v4i, "10.0.0.0/30", "10.0.0.0", "10.0.0.1", "10.0.0.3",
		      "10.0.0.2");
	ASSERT_MERGED(&v4i, "10.0.0.0/16",
		      "10.0.0.0/17", "10.0.128.0/18", "10.0.192.0/18");
	/* overlapping, contained, duplicates */
	ASSERT_MERGED(&v4i, "10.0.0.0-10.0.0.200",
		      "10.0.0.0/25", "10.0.0.64-10.0.0.200");
	ASSERT_MERGED(&v4i, "10.0.0.0/8", "10.1.2.3", "10.0.0.0/8", "10.9.0.0/16");
	ASSERT_MERGED(&v4i, "192.0.2.1", "192.0.2.1", "192.0.2.1");
	ASSERT_MERGED(&v4i, "192.0.2.1 192.0.2.3", "192.0.2.3", "192.0.2.1");
	/* the top of the key space: no key after it */
	ASSERT_MERGED(&v4i, "255.255.255.0/24",
		      "255.255.255.255", "255.255.255.0/24");
	ASSERT_MERGED(&v4i, "255.255.255.0/24",
		      "255.255.255.128/25", "255.255.255.0/25");
	ASSERT_MERGED(&v4i, "0.0.0.0/0", "128.0.0.0/1", "0.0.0.0/1");
	ASSERT_MERGED(&v4i, "0.0.0.0/0", "0.0.0.0/0", "255.255.255.255");
	ASSERT_MERGED(&v6i, "ffff::/16",
		      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff::/16");
	ASSERT_MERGED(&v6i, "2001:db8::/32",
		      "2001:db8:8000::/33", "2001:db8::/33");
	/* ports, up to 65535 */
	ASSERT_MERGED(&porti, "65000-65535", "65535", "65000-65534");
	ASSERT_MERGED(&porti, "0-65535", "101-65535", "0-100");
	ASSERT_MERGED(&porti, "80-81 443", "443", "81", "80");
	ASSERT_MERGED(&maci, "00:00:00:00:00:00-00:00:00:00:00:02",
		      "00:00:00:00:00:02", "00:00:00:00:00:00", "0:0:0:0:0:1");
	/* a plain set merges duplicates only: neighbours are two keys */
	ASSERT_MERGED(&v4, "192.0.2.1 192.0.2.2", "192.0.2.2", "192.0.2.1",
		      "192.0.2.2");
	ASSERT_MERGED(&port, "65534 65535", "65535", "65534", "65535");
}

static void test_merge_timeout(void **state)
{
	struct fw_elems el = { 0 };
	struct fw_elem e;
	char *err = NULL;

	(void)state;
	assert_int_equal(fw_elem_parse(&v4i, "10.0.0.0/25", &e, &err), 0);
	e.timeout_ms = 1000;
	fw_elems_add(&el, &e);
	assert_int_equal(fw_elem_parse(&v4i, "10.0.0.128/25", &e, &err), 0);
	e.timeout_ms = 5000;
	fw_elems_add(&el, &e);
	fw_elems_merge(&v4i, &el);
	assert_int_equal(el.n, 1);
	assert_int_equal(el.v[0].timeout_ms, 5000);	/* the longest */
	fw_elems_free(&el);
}

static void test_uniq(void **state)
{
	static const char *const in[] = { "10.0.0.128/25", "10.0.0.0/25",
					  "10.0.0.0/25" };
	char *s;

	(void)state;
	/* del keeps ranges as given: the kernel holds them that way */
	s = merged(&v4i, in, ARRAY_SIZE(in), true);
	assert_string_equal(s, "10.0.0.0/25 10.0.0.128/25");
	free(s);
}

static void test_key_next(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_true(fw_key_next((const uint8_t *)"\x0a\x00\x00\xff", 4, out));
	assert_memory_equal(out, "\x0a\x00\x01\x00", 4);
	assert_true(fw_key_next((const uint8_t *)"\x00\xff", 2, out));
	assert_memory_equal(out, "\x01\x00", 2);
	assert_false(fw_key_next((const uint8_t *)"\xff\xff\xff\xff", 4, out));
	assert_false(fw_key_next((const uint8_t *)"\xff\xff", 2, out));
}

static void test_timeout(void **state)
{
	struct buf b = BUF_INIT;
	uint64_t ms;
	char *err = NULL;

	(void)state;
	assert_int_equal(fw_set_timeout_parse("1h30m", &ms, &err), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(fw_set_timeout_parse("10m", &ms, &err), 0);
	assert_int_equal(ms, 600000);
	assert_int_equal(fw_set_timeout_parse("500ms", &ms, &err), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(fw_set_timeout_parse("90", &ms, &err), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(fw_set_timeout_parse("2d3s", &ms, &err), 0);
	assert_int_equal(ms, 172803000);
	assert_int_equal(fw_set_timeout_parse("1m1ms", &ms, &err), 0);
	assert_int_equal(ms, 60001);

	assert_int_equal(fw_set_timeout_parse("", &ms, &err), -1);
	assert_string_equal(err, "timeout : not a duration (like 90s, 10m, "
			    "1h30m, 2d)");
	free(err);
	assert_int_equal(fw_set_timeout_parse("1x", &ms, &err), -1);
	free(err);
	assert_int_equal(fw_set_timeout_parse("h", &ms, &err), -1);
	free(err);
	assert_int_equal(fw_set_timeout_parse("1h30", &ms, &err), -1);
	free(err);
	assert_int_equal(fw_set_timeout_parse("-5s", &ms, &err), -1);
	free(err);
	assert_int_equal(fw_set_timeout_parse("0s", &ms, &err), -1);
	assert_string_equal(err, "timeout 0s: must be more than 0");
	free(err);
	assert_int_equal(fw_set_timeout_parse("99999999999999999999d", &ms,
					      &err), -1);
	assert_string_equal(err, "timeout 99999999999999999999d: too long");
	free(err);
	assert_int_equal(fw_set_timeout_parse("18446744073709551615d", &ms,
					      &err), -1);
	free(err);

	fw_set_timeout_format(&b, 5400000);
	assert_string_equal(b.p, "1h30m");
	buf_reset(&b);
	fw_set_timeout_format(&b, 599984);
	assert_string_equal(b.p, "9m59s984ms");
	buf_reset(&b);
	fw_set_timeout_format(&b, 0);
	assert_string_equal(b.p, "0s");
	buf_reset(&b);
	fw_set_timeout_format(&b, 172803000);
	assert_string_equal(b.p, "2d3s");
	buf_free(&b);
}

static struct fw_bound bound(const char *key4, bool end)
{
	struct fw_bound b = { .end = end };

	memcpy(b.key, key4, 4);
	return b;
}

static char *listed(const struct fw_set_info *set, struct fw_bound *b,
		    size_t n)
{
	struct fw_elems el = { 0 };
	struct buf out = BUF_INIT;

	fw_elems_from_bounds(set, b, n, &el);
	for (size_t i = 0; i < el.n; i++) {
		if (i)
			buf_addc(&out, ' ');
		fw_elem_format(&out, set->type, &el.v[i]);
	}
	fw_elems_free(&el);
	return buf_steal(&out);
}

static void test_from_bounds(void **state)
{
	struct fw_bound b[8];
	char *s;

	(void)state;
	/* as a dump of nft's {10.0.0.0/8, 192.0.2.5-192.0.2.9,
	 * 255.255.255.0/24} gives them: reversed, with the null end at 0 and
	 * no end after the last range */
	b[0] = bound("\xff\xff\xff\x00", false);
	b[1] = bound("\xc0\x00\x02\x0a", true);
	b[2] = bound("\xc0\x00\x02\x05", false);
	b[3] = bound("\x0b\x00\x00\x00", true);
	b[4] = bound("\x0a\x00\x00\x00", false);
	b[5] = bound("\x00\x00\x00\x00", true);
	s = listed(&v4i, b, 6);
	assert_string_equal(s, "10.0.0.0/8 192.0.2.5-192.0.2.9 255.255.255.0/24");
	free(s);

	/* adjacent ranges: an end and a start at one key */
	b[0] = bound("\x0a\x00\x00\x80", false);
	b[1] = bound("\x0a\x00\x00\x80", true);
	b[2] = bound("\x0a\x00\x01\x00", true);
	b[3] = bound("\x0a\x00\x00\x00", false);
	s = listed(&v4i, b, 4);
	assert_string_equal(s, "10.0.0.0/25 10.0.0.128/25");
	free(s);

	/* a range starting at 0 next to nft's null end at 0 */
	b[0] = bound("\x00\x00\x00\x00", true);
	b[1] = bound("\x00\x00\x00\x00", false);
	b[2] = bound("\x01\x00\x00\x00", true);
	s = listed(&v4i, b, 3);
	assert_string_equal(s, "0.0.0.0/8");
	free(s);

	/* junk never makes a range end before it starts */
	b[0] = bound("\x0a\x00\x00\x05", false);
	b[1] = bound("\x0a\x00\x00\x05", false);
	b[2] = bound("\x0a\x00\x00\x09", false);
	b[3] = bound("\x0a\x00\x00\x0a", true);
	b[4] = bound("\x0a\x00\x00\x0b", true);
	s = listed(&v4i, b, 5);
	assert_string_equal(s, "10.0.0.5-10.0.0.8 10.0.0.9");
	free(s);

	/* a plain set: keys, sorted */
	b[0] = bound("\xc0\x00\x02\x09", false);
	b[1] = bound("\xc0\x00\x02\x01", false);
	s = listed(&v4, b, 2);
	assert_string_equal(s, "192.0.2.1 192.0.2.9");
	free(s);

	s = listed(&v4i, b, 0);
	assert_string_equal(s, "");
	free(s);
}

/* absorb(cur, add) printed as "del ... | put ...". */
static char *absorbed(const char *const *cur, size_t ncur,
		      const char *const *add, size_t nadd)
{
	struct fw_elems c = { 0 }, a = { 0 }, del = { 0 }, put = { 0 };
	struct buf b = BUF_INIT;
	char *err = NULL;

	assert_int_equal(fw_elems_parse(&v4i, cur, ncur, &c, &err), 0);
	assert_int_equal(fw_elems_parse(&v4i, add, nadd, &a, &err), 0);
	fw_elems_uniq(&v4i, &c);
	fw_elems_merge(&v4i, &a);
	fw_elems_absorb(&v4i, &c, &a, &del, &put);
	buf_adds(&b, "del");
	for (size_t i = 0; i < del.n; i++) {
		buf_addc(&b, ' ');
		fw_elem_format(&b, FW_SET_IPV4, &del.v[i]);
	}
	buf_adds(&b, " | put");
	for (size_t i = 0; i < put.n; i++) {
		buf_addc(&b, ' ');
		fw_elem_format(&b, FW_SET_IPV4, &put.v[i]);
	}
	fw_elems_free(&c);
	fw_elems_free(&a);
	fw_elems_free(&del);
	fw_elems_free(&put);
	return buf_steal(&b);
}

#define ASSERT_ABSORB(out, cur, add) do { \
	char *s_ = absorbed(cur, ARRAY_SIZE(cur), add, ARRAY_SIZE(add)); \
	assert_string_equal(s_, out); \
	free(s_); \
} while (0)

static void test_absorb(void **state)
{
	static const char *const cur[] = { "10.0.0.0/25", "10.0.1.0/24",
					   "10.0.3.0/24", "192.0.2.1" };
	static const char *const over[] = { "10.0.0.64-10.0.0.200" };
	static const char *const bridge[] = { "10.0.0.100-10.0.1.5" };
	static const char *const inside[] = { "10.0.1.7", "10.0.3.0/24" };
	static const char *const beside[] = { "10.0.0.128/25" };
	static const char *const mixed[] = { "198.51.100.1", "10.0.2.0/23",
					     "192.0.2.0/24" };

	(void)state;
	ASSERT_ABSORB("del 10.0.0.0/25 | put 10.0.0.0-10.0.0.200", cur, over);
	ASSERT_ABSORB("del 10.0.0.0/25 10.0.1.0/24 | put 10.0.0.0/23",
		      cur, bridge);
	ASSERT_ABSORB("del | put", cur, inside);
	/* adjacency alone does not merge with the kernel's elements */
	ASSERT_ABSORB("del | put 10.0.0.128/25", cur, beside);
	ASSERT_ABSORB("del 10.0.3.0/24 192.0.2.1 | put 10.0.2.0/23 "
		      "192.0.2.0/24 198.51.100.1", cur, mixed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_parse_ipv4),
		cmocka_unit_test(test_parse_ipv6),
		cmocka_unit_test(test_parse_port_mac),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_elems_parse),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_merge_timeout),
		cmocka_unit_test(test_uniq),
		cmocka_unit_test(test_key_next),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_from_bounds),
		cmocka_unit_test(test_absorb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
