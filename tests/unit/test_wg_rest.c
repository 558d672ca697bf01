/* The REST API's WireGuard shapes (wg/rest.c) and the runtime peers' pure
 * checks (wg/runtime.c): pages, sorting, filtering, the Link header, Go's
 * times and durations, keys in paths, request bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/socket.h>

#include "base/buf.h"
#include "base/util.h"
#include "wg/rest.h"
#include "wg/runtime.h"
#include "wg/wg.h"

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_C "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="

static void test_sort_and_numbers(void **state)
{
	enum wg_rest_sort k;
	unsigned long v;
	bool desc;

	(void)state;
	assert_true(wg_rest_sort_parse("", &k, &desc));
	assert_int_equal(k, WG_SORT_NONE);
	assert_true(wg_rest_sort_parse(NULL, &k, &desc));
	assert_true(wg_rest_sort_parse("-receive_bytes", &k, &desc));
	assert_int_equal(k, WG_SORT_RX);
	assert_true(desc);
	assert_true(wg_rest_sort_parse("pub_key", &k, &desc));
	assert_int_equal(k, WG_SORT_PUBKEY);
	assert_false(desc);
	assert_true(wg_rest_sort_parse("-last_handshake_time", &k, &desc));
	assert_int_equal(k, WG_SORT_HANDSHAKE);
	assert_false(wg_rest_sort_parse("name", &k, &desc));
	assert_false(wg_rest_sort_parse("--pub_key", &k, &desc));
	assert_false(wg_rest_sort_parse("-", &k, &desc));

	assert_true(wg_rest_uint_parse("0", 10, &v));
	assert_int_equal(v, 0);
	assert_true(wg_rest_uint_parse("1000", 1000, &v));
	assert_false(wg_rest_uint_parse("1001", 1000, &v));
	assert_false(wg_rest_uint_parse("-1", 1000, &v));
	assert_false(wg_rest_uint_parse("1e3", 1000, &v));
	assert_false(wg_rest_uint_parse("", 1000, &v));
	assert_false(wg_rest_uint_parse(" 1", 1000, &v));
	assert_false(wg_rest_uint_parse("99999999999999999999", ~0ul, &v));
}

/* A device of n peers, "p0".."p(n-1)", each keyed by its index, with
 * 10.0.X.Y/32; live[i] says rx = i * 7 % n. */
static void make_peers(struct wg_device *plan, struct wg_device *live,
		       size_t n)
{
	memset(plan, 0, sizeof(*plan));
	memset(live, 0, sizeof(*live));
	for (size_t i = 0; i < n; i++) {
		struct wg_peer *p = wg_device_add_peer(plan);
		struct wg_peer *l = wg_device_add_peer(live);
		struct wg_allowed a;
		char ip[32];

		p->name = xasprintf("p%zu", i);
		p->pub[0] = (uint8_t)(i >> 8);
		p->pub[1] = (uint8_t)i;
		p->pub[2] = 1;
		snprintf(ip, sizeof(ip), "10.0.%zu.%zu/32", i / 250, i % 250 + 1);
		assert_true(wg_allowed_parse(ip, &a));
		wg_peer_add_allowed(p, &a);
		memcpy(l->pub, p->pub, WG_KEY_LEN);
		l->rx_bytes = i * 7 % n;
		l->tx_bytes = n - i;
		l->handshake_sec = (int64_t)(1700000000 + i % 3);
	}
}

static void rows_of(const struct wg_device *plan, const struct wg_device *live,
		    struct wg_rest_row *rows)
{
	for (size_t i = 0; i < plan->npeers; i++) {
		rows[i].plan = &plan->peers[i];
		rows[i].live = live ? &live->peers[i] : NULL;
	}
}

static void test_select(void **state)
{
	struct wg_device plan, live;
	struct wg_rest_row rows[300];
	size_t n;

	(void)state;
	make_peers(&plan, &live, 300);
	/* no query, no sort: the plan's order */
	rows_of(&plan, &live, rows);
	n = wg_rest_select(rows, 300, "", WG_SORT_NONE, false);
	assert_int_equal(n, 300);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(rows[i].plan, &plan.peers[i]);
	/* receive_bytes, both ways, ties broken by key */
	n = wg_rest_select(rows, 300, NULL, WG_SORT_RX, false);
	for (size_t i = 1; i < n; i++)
		assert_true(rows[i - 1].live->rx_bytes <= rows[i].live->rx_bytes);
	n = wg_rest_select(rows, 300, NULL, WG_SORT_TOTAL, true);
	for (size_t i = 1; i < n; i++)
		assert_true(rows[i - 1].live->rx_bytes +
			    rows[i - 1].live->tx_bytes >=
			    rows[i].live->rx_bytes + rows[i].live->tx_bytes);
	n = wg_rest_select(rows, 300, NULL, WG_SORT_HANDSHAKE, true);
	for (size_t i = 1; i < n; i++) {
		int64_t a = rows[i - 1].live->handshake_sec,
			b = rows[i].live->handshake_sec;

		assert_true(a > b || (a == b && memcmp(rows[i - 1].plan->pub,
				rows[i].plan->pub, WG_KEY_LEN) < 0));
	}
	n = wg_rest_select(rows, 300, NULL, WG_SORT_PUBKEY, false);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(rows[i - 1].key, rows[i].key) < 0);
	/* q: an allowed IP, case-insensitive in names, nothing */
	rows_of(&plan, &live, rows);
	n = wg_rest_select(rows, 300, "10.0.1.", WG_SORT_NONE, false);
	assert_int_equal(n, 50);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(rows[i].plan, &plan.peers[250 + i]);
	rows_of(&plan, &live, rows);
	n = wg_rest_select(rows, 300, "P29", WG_SORT_NONE, false);
	assert_int_equal(n, 11);	/* p29, p290..p299 */
	rows_of(&plan, NULL, rows);
	n = wg_rest_select(rows, 300, "nothing like it", WG_SORT_RX, false);
	assert_int_equal(n, 0);
	/* without the device's view, stats sort as zero: by key */
	rows_of(&plan, NULL, rows);
	n = wg_rest_select(rows, 300, "", WG_SORT_RX, true);
	for (size_t i = 1; i < n; i++)
		assert_true(memcmp(rows[i - 1].plan->pub, rows[i].plan->pub,
				   WG_KEY_LEN) < 0);
	wg_device_clear(&plan);
	wg_device_clear(&live);
}

static void test_page(void **state)
{
	size_t s, e;

	(void)state;
	wg_rest_page(250, 0, 100, &s, &e);
	assert_int_equal(s, 0);
	assert_int_equal(e, 100);
	wg_rest_page(250, 2, 100, &s, &e);
	assert_int_equal(s, 200);
	assert_int_equal(e, 250);
	wg_rest_page(250, 3, 100, &s, &e);
	assert_int_equal(s, e);
	wg_rest_page(200, 2, 100, &s, &e);
	assert_int_equal(s, e);
	wg_rest_page(0, 0, 100, &s, &e);
	assert_int_equal(s, e);
	wg_rest_page(5, 0, 1000, &s, &e);
	assert_int_equal(e - s, 5);
	wg_rest_page(5, 9999999, 1000, &s, &e);
	assert_int_equal(s, e);
}

static void test_link(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	wg_rest_link(&b, "/v1/devices/wg0/peers/", NULL, NULL, 0, 100, 250);
	assert_string_equal(b.p,
		"</v1/devices/wg0/peers/?page=0&per_page=100>; rel=\"first\", "
		"</v1/devices/wg0/peers/?page=2&per_page=100>; rel=\"last\", "
		"</v1/devices/wg0/peers/?page=1&per_page=100>; rel=\"next\"");
	buf_reset(&b);
	wg_rest_link(&b, "/p/", "10.0 /x+", "-receive_bytes", 2, 100, 250);
	assert_string_equal(b.p,
		"</p/?page=0&per_page=100&q=10.0+%2Fx%2B&sort=-receive_bytes>; "
		"rel=\"first\", "
		"</p/?page=2&per_page=100&q=10.0+%2Fx%2B&sort=-receive_bytes>; "
		"rel=\"last\", "
		"</p/?page=1&per_page=100&q=10.0+%2Fx%2B&sort=-receive_bytes>; "
		"rel=\"prev\"");
	buf_reset(&b);
	wg_rest_link(&b, "/p/", NULL, NULL, 0, 100, 0);
	assert_int_equal(b.len, 0);
	wg_rest_link(&b, "/p/", NULL, NULL, 0, 100, 100);
	assert_string_equal(b.p, "</p/?page=0&per_page=100>; rel=\"first\", "
			    "</p/?page=0&per_page=100>; rel=\"last\"");
	buf_free(&b);
}

static void test_time_and_duration(void **state)
{
	char s[40], d[32];
	unsigned v;

	(void)state;
	wg_rest_time(0, 0, s);
	assert_string_equal(s, "0001-01-01T00:00:00Z");
	wg_rest_time(1700000000, 0, s);
	assert_string_equal(s, "2023-11-14T22:13:20Z");
	wg_rest_time(1700000000, 500000000, s);
	assert_string_equal(s, "2023-11-14T22:13:20.5Z");
	wg_rest_time(1700000000, 123456789, s);
	assert_string_equal(s, "2023-11-14T22:13:20.123456789Z");

	wg_rest_duration(0, d);
	assert_string_equal(d, "0s");
	wg_rest_duration(25, d);
	assert_string_equal(d, "25s");
	wg_rest_duration(60, d);
	assert_string_equal(d, "1m0s");
	wg_rest_duration(90, d);
	assert_string_equal(d, "1m30s");
	wg_rest_duration(3600, d);
	assert_string_equal(d, "1h0m0s");
	wg_rest_duration(65535, d);
	assert_string_equal(d, "18h12m15s");

	assert_true(wg_rest_duration_parse("25s", &v));
	assert_int_equal(v, 25);
	assert_true(wg_rest_duration_parse("0", &v));
	assert_int_equal(v, 0);
	assert_true(wg_rest_duration_parse("0s", &v));
	assert_true(wg_rest_duration_parse("1m30s", &v));
	assert_int_equal(v, 90);
	assert_true(wg_rest_duration_parse("1.5m", &v));
	assert_int_equal(v, 90);
	assert_true(wg_rest_duration_parse("25000ms", &v));
	assert_int_equal(v, 25);
	assert_true(wg_rest_duration_parse("18h12m15s", &v));
	assert_int_equal(v, 65535);
	assert_false(wg_rest_duration_parse("18h12m16s", &v));
	assert_false(wg_rest_duration_parse("500ms", &v));	/* not whole */
	assert_false(wg_rest_duration_parse("25", &v));	/* no unit */
	assert_false(wg_rest_duration_parse("-25s", &v));
	assert_false(wg_rest_duration_parse("", &v));
	assert_false(wg_rest_duration_parse("s", &v));
	assert_false(wg_rest_duration_parse("25x", &v));
	assert_false(wg_rest_duration_parse("99999999999999999999h", &v));
	assert_false(wg_rest_duration_parse("1.0000000001s", &v));
}

static void test_keys_and_hosts(void **state)
{
	uint8_t k[WG_KEY_LEN], want[WG_KEY_LEN];
	char url[WG_KEY_B64];

	(void)state;
	assert_true(wg_key_from_b64(KEY_A, want));
	wg_key_to_urlsafe(want, url);
	assert_string_equal(url, "yAnz5TF-lXXJte14tji3zlMNq-hd2rYUIgJBgB3fBmk=");
	assert_true(wg_rest_key_parse(url, k));
	assert_memory_equal(k, want, WG_KEY_LEN);
	url[43] = '\0';		/* unpadded, as openapi.yaml's example */
	assert_true(wg_rest_key_parse(url, k));
	assert_memory_equal(k, want, WG_KEY_LEN);
	assert_true(wg_rest_key_parse(KEY_A, k));
	assert_memory_equal(k, want, WG_KEY_LEN);
	assert_false(wg_rest_key_parse("yAnz5TF", k));
	assert_false(wg_rest_key_parse("", k));
	assert_false(wg_rest_key_parse("!Anz5TF-lXXJte14tji3zlMNq-hd2rYUIgJBgB3fBmk=",
				       k));

	assert_true(wg_rest_host_ok("vpn.example.org"));
	assert_true(wg_rest_host_ok("192.0.2.1:51820"));
	assert_true(wg_rest_host_ok("[2001:db8::1]:51820"));
	assert_false(wg_rest_host_ok("[2001:db8::1]"));
	assert_false(wg_rest_host_ok("a b"));
	assert_false(wg_rest_host_ok("host\nPostUp = rm -rf /"));
	assert_false(wg_rest_host_ok("host:0"));
	assert_false(wg_rest_host_ok("host:65536"));
	assert_false(wg_rest_host_ok(":51820"));
	assert_false(wg_rest_host_ok("-x"));
	assert_false(wg_rest_host_ok(""));
}

static void test_peer_json(void **state)
{
	struct wg_peer p = { 0 }, l = { 0 };
	struct wg_allowed a;
	json_t *o;

	(void)state;
	p.name = "phone";
	p.from_store = true;
	assert_true(wg_key_from_b64(KEY_B, p.pub));
	assert_true(wg_key_from_b64(KEY_C, p.psk));
	p.has_psk = true;
	p.keepalive = 25;
	assert_true(wg_allowed_parse("10.0.0.2/32", &a));
	wg_peer_add_allowed(&p, &a);
	o = wg_rest_peer_json(&p, NULL, true, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "public_key")),
			    KEY_B);
	assert_string_equal(json_string_value(json_object_get(o,
			    "url_safe_public_key")),
			    "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=");
	assert_string_equal(json_string_value(json_object_get(o,
			    "preshared_key")), KEY_C);
	assert_string_equal(json_string_value(json_object_get(o,
			    "last_handshake_time")), "0001-01-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(o,
			    "persistent_keepalive_interval")), "25s");
	assert_string_equal(json_string_value(json_object_get(o, "endpoint")),
			    "");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
			    o, "allowed_ips"), 0)), "10.0.0.2/32");
	assert_string_equal(json_string_value(json_object_get(o, "source")),
			    "runtime");
	json_decref(o);
	/* the device's view: counters, handshake, the endpoint it roamed to;
	 * no preshared key without with_psk */
	l.rx_bytes = 10;
	l.tx_bytes = 20;
	l.handshake_sec = 1700000000;
	assert_true(wg_endpoint_parse("192.0.2.9:4444", &l.endpoint));
	o = wg_rest_peer_json(&p, &l, false, NULL);
	assert_null(json_object_get(o, "preshared_key"));
	assert_int_equal(json_integer_value(json_object_get(o,
			 "receive_bytes")), 10);
	assert_int_equal(json_integer_value(json_object_get(o,
			 "transmit_bytes")), 20);
	assert_string_equal(json_string_value(json_object_get(o, "endpoint")),
			    "192.0.2.9:4444");
	assert_string_equal(json_string_value(json_object_get(o,
			    "last_handshake_time")), "2023-11-14T22:13:20Z");
	json_decref(o);
	free(p.allowed);
}

static bool parse(const char *text, struct wg_rest_req *r, char *err)
{
	json_t *o = json_loads(text, 0, NULL);
	bool ok = wg_rest_req_parse(o, r, err, 256);

	json_decref(o);
	return ok;
}

static void test_request(void **state)
{
	struct wg_rest_req r;
	char err[256];
	uint8_t k[WG_KEY_LEN];

	(void)state;
	assert_true(parse("{\"public_key\": \"" KEY_A "\", \"allowed_ips\": "
			  "[\"10.0.0.5/24\", \"fd00::2\"], "
			  "\"persistent_keepalive_interval\": \"25s\", "
			  "\"endpoint\": \"192.0.2.7:51820\", \"preshared_key\": "
			  "\"" KEY_C "\", \"name\": \"laptop\"}", &r, err));
	assert_true(r.has_pub && r.has_psk && r.has_allowed &&
		    r.has_keepalive && r.has_endpoint && !r.has_priv);
	assert_true(wg_key_from_b64(KEY_A, k));
	assert_memory_equal(r.pub, k, WG_KEY_LEN);
	assert_int_equal(r.allowed.nallowed, 2);
	assert_int_equal(r.keepalive, 25);
	assert_string_equal(r.endpoint_text, "192.0.2.7:51820");
	assert_string_equal(r.name, "laptop");
	wg_rest_req_clear(&r);
	/* nothing: all absent (nulls too) */
	assert_true(parse("{\"public_key\": null, \"allowed_ips\": null}", &r,
			  err));
	assert_false(r.has_pub || r.has_allowed || r.has_psk);
	wg_rest_req_clear(&r);
	/* "" takes the preshared key and the endpoint away */
	assert_true(parse("{\"preshared_key\": \"\", \"endpoint\": \"\"}", &r,
			  err));
	assert_true(r.has_psk && r.has_endpoint);
	assert_true(wg_key_is_zero(r.psk));
	assert_int_equal(r.endpoint.family, 0);
	wg_rest_req_clear(&r);
	/* a private key gives the public one; one that does not match is an
	 * error that does not quote it */
	assert_true(parse("{\"private_key\": \"" KEY_B "\"}", &r, err));
	assert_true(r.has_pub && r.has_priv);
	wg_rest_req_clear(&r);
	assert_false(parse("{\"private_key\": \"" KEY_B "\", \"public_key\": "
			   "\"" KEY_A "\"}", &r, err));
	assert_non_null(strstr(err, "private_key"));
	assert_null(strstr(err, KEY_B));
	wg_rest_req_clear(&r);
	assert_false(parse("{\"public_key\": \"abc\"}", &r, err));
	assert_non_null(strstr(err, "public_key:"));
	wg_rest_req_clear(&r);
	assert_false(parse("{\"allowed_ips\": [\"10.0.0.300/32\"]}", &r, err));
	assert_non_null(strstr(err, "allowed_ips:"));
	wg_rest_req_clear(&r);
	assert_false(parse("{\"allowed_ips\": \"10.0.0.1/32\"}", &r, err));
	wg_rest_req_clear(&r);
	assert_false(parse("{\"persistent_keepalive_interval\": \"25\"}", &r,
			   err));
	wg_rest_req_clear(&r);
	assert_false(parse("{\"persistent_keepalive_interval\": 25}", &r,
			   err));
	wg_rest_req_clear(&r);
	assert_false(parse("{\"endpoint\": \"vpn.example.org:51820\"}", &r,
			   err));
	assert_non_null(strstr(err, "endpoint:"));
	wg_rest_req_clear(&r);
	assert_false(parse("{\"name\": \"a b\"}", &r, err));
	wg_rest_req_clear(&r);
	assert_false(parse("[]", &r, err));
	wg_rest_req_clear(&r);
}

static void test_runtime_checks(void **state)
{
	struct wg_device d = { 0 };
	struct wg_peer p = { 0 }, *a, *b;
	struct wg_allowed which, x;
	const char *what;
	char bad[80];

	(void)state;
	assert_true(wg_rt_name_ok("phone-1@home.x_y"));
	assert_false(wg_rt_name_ok(""));
	assert_false(wg_rt_name_ok("a/b"));
	a = wg_device_add_peer(&d);
	a->name = xstrdup("a");
	a->pub[0] = 1;
	assert_true(wg_allowed_parse("10.0.0.2/32", &x));
	wg_peer_add_allowed(a, &x);
	b = wg_device_add_peer(&d);
	b->name = xstrdup("b");
	b->pub[0] = 2;
	assert_true(wg_allowed_parse("10.0.0.0/24", &x));
	wg_peer_add_allowed(b, &x);
	p.name = "c";
	p.pub[0] = 3;
	assert_null(wg_rt_clash(&d, &p, &what));
	p.name = "b";
	assert_ptr_equal(wg_rt_clash(&d, &p, &what), &d.peers[1]);
	assert_string_equal(what, "name");
	p.name = "c";
	p.pub[0] = 1;
	assert_ptr_equal(wg_rt_clash(&d, &p, &what), &d.peers[0]);
	assert_string_equal(what, "public key");
	p.pub[0] = 3;
	/* the same prefix exactly is taken; a longer one inside is not */
	assert_true(wg_rt_allowed_parse("10.0.0.3/32, 10.0.0.2", &p, bad,
					sizeof(bad)));
	assert_ptr_equal(wg_rt_allowed_taken(&d, &p, &which), &d.peers[0]);
	assert_int_equal(which.cidr, 32);
	free(p.allowed);
	p.allowed = NULL;
	p.nallowed = p.allowed_cap = 0;
	assert_true(wg_rt_allowed_parse("10.0.0.3/32", &p, bad, sizeof(bad)));
	assert_null(wg_rt_allowed_taken(&d, &p, &which));
	assert_false(wg_rt_allowed_parse("10.0.0.4/32,nope", &p, bad,
					 sizeof(bad)));
	assert_string_equal(bad, "nope");
	free(p.allowed);
	assert_ptr_equal(wg_rt_find(&d, "b"), &d.peers[1]);
	assert_null(wg_rt_find(&d, "zz"));
	wg_device_clear(&d);
}

/* wg_rt_first_free answers as wg_device_first_free, on devices of
 * random peers (hosts, small nets, a few covering everything). */
static void test_first_free(void **state)
{
	static char *addrs[][2] = {
		{ "10.1.0.1/28", "fd00::1/124" },
		{ "10.1.0.0/29", "10.2.0.9/30" },
		{ "fd00:1::1/120", "10.3.0.1/24" },
	};
	unsigned seed = 7;

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct wg_device d = { 0 };
		int npeers = (int)(rand_r(&seed) % 20);

		d.addresses = addrs[round % 3];
		d.naddresses = 2;
		for (int i = 0; i < npeers; i++) {
			struct wg_peer *p = wg_device_add_peer(&d);
			struct wg_allowed a;
			char ip[64];
			unsigned r = (unsigned)rand_r(&seed);

			if (r % 7 == 0)
				snprintf(ip, sizeof(ip), "10.%u.0.%u/%u",
					 1 + r % 3, r / 7 % 16, 28 + r / 3 % 5);
			else if (r % 11 == 0)
				snprintf(ip, sizeof(ip), "%s", r % 2 ?
					 "0.0.0.0/0" : "10.0.0.0/8");
			else if (r % 2)
				snprintf(ip, sizeof(ip), "fd00::%x/%u", r % 20,
					 120 + r / 5 % 9);
			else
				snprintf(ip, sizeof(ip), "10.%u.0.%u/32",
					 1 + r / 3 % 3, r / 9 % 16);
			assert_true(wg_allowed_parse(ip, &a));
			wg_peer_add_allowed(p, &a);
		}
		for (int f = 0; f < 2; f++) {
			int fam = f ? AF_INET6 : AF_INET;
			struct wg_allowed x = { 0 }, y = { 0 };
			bool hx = wg_device_first_free(&d, fam, &x);
			bool hy = wg_rt_first_free(&d, fam, &y);

			assert_int_equal(hx, hy);
			if (hx)
				assert_int_equal(wg_allowed_cmp(&x, &y), 0);
		}
		d.addresses = NULL;
		d.naddresses = 0;
		wg_device_clear(&d);
	}
}

static void test_client_conf(void **state)
{
	struct wg_device d = { 0 };
	struct wg_peer p = { 0 };
	struct wg_allowed a;
	uint8_t server[WG_KEY_LEN];
	char *addr[] = { "10.0.0.1/24" }, *text;

	(void)state;
	d.addresses = addr;
	d.naddresses = 1;
	assert_true(wg_key_from_b64(KEY_A, server));
	assert_true(wg_allowed_parse("10.0.0.2/32", &a));
	wg_peer_add_allowed(&p, &a);
	p.keepalive = 25;
	text = wg_rt_client_conf(&d, &p, server, NULL, "192.0.2.1:51820",
				 false);
	assert_non_null(strstr(text, "# PrivateKey = "));
	assert_null(strstr(text, "\nPrivateKey"));
	assert_non_null(strstr(text, "Address = 10.0.0.2/32\n"));
	assert_non_null(strstr(text, "PublicKey = " KEY_A "\n"));
	assert_non_null(strstr(text, "Endpoint = 192.0.2.1:51820\n"));
	assert_non_null(strstr(text, "AllowedIPs = 10.0.0.0/24\n"));
	assert_non_null(strstr(text, "PersistentKeepalive = 25\n"));
	free(text);
	free(p.allowed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sort_and_numbers),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_time_and_duration),
		cmocka_unit_test(test_keys_and_hosts),
		cmocka_unit_test(test_peer_json),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_runtime_checks),
		cmocka_unit_test(test_first_free),
		cmocka_unit_test(test_client_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
