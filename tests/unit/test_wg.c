/* WireGuard's pure core: the plan from a config, the delta against a
 * device, the UAPI text both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <sys/socket.h>

#include "base/buf.h"
#include "base/util.h"
#include "config/config.h"
#include "wg/uapi.h"
#include "wg/wg.h"

#define KEY_A "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define KEY_C "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0="

static const char cfg_text[] =
	"vpn {\n"				/* 1 */
	"  wireguard \"home\" {\n"
	"    interface   = \"wg0\"\n"
	"    listen_port = 51820\n"
	"    private_key = \"" KEY_A "\"\n"	/* 5 */
	"    address     = [\"10.200.0.1/24\"]\n"
	"    peer \"phone\" {\n"
	"      public_key  = \"" KEY_B "\"\n"
	"      allowed_ips = [\"10.200.0.2/32\"]\n"
	"      persistent_keepalive = 25\n"	/* 10 */
	"    }\n"
	"    peer \"office\" {\n"
	"      public_key  = \"" KEY_C "\"\n"
	"      endpoint    = \"192.0.2.7:51820\"\n"
	"      allowed_ips = [\"192.168.10.0/24\", \"10.200.0.3/32\"]\n"
	"    }\n"
	"  }\n"
	"}\n";

static struct wg_plan *compile(const char *text, struct diag_list *dl)
{
	struct moat_config *cfg = cfg_load("t.hcl", text, strlen(text), NULL,
					   false, dl);
	struct wg_plan *p;

	if (!cfg)
		return NULL;
	p = wg_compile(cfg, dl);
	cfg_free(cfg);
	return p;
}

static void test_compile(void **state)
{
	struct diag_list dl = { 0 };
	struct wg_plan *p = compile(cfg_text, &dl);
	const struct wg_device *d;
	char s[64];

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->ndevs, 1);
	d = &p->devs[0];
	assert_string_equal(d->name, "wg0");
	assert_true(d->enabled && d->has_priv);
	assert_int_equal(d->port, 51820);
	assert_int_equal(d->npeers, 2);
	assert_string_equal(d->peers[0].name, "phone");
	assert_int_equal(d->peers[0].keepalive, 25);
	assert_int_equal(d->peers[0].pos.line, 7);
	assert_string_equal(d->peers[0].pos.file, "t.hcl");
	assert_int_equal(d->peers[1].endpoint.family, AF_INET);
	assert_int_equal(d->peers[1].endpoint.port, 51820);
	/* allowed IPs sorted: the /24 after the /32? by prefix length */
	assert_int_equal(d->peers[1].nallowed, 2);
	wg_allowed_format(&d->peers[1].allowed[0], s, sizeof(s));
	assert_string_equal(s, "192.168.10.0/24");
	wg_plan_free(p);
	diag_list_free(&dl);
}

static void test_compile_clash(void **state)
{
	struct diag_list dl = { 0 };
	char *text = xasprintf("%.*s", (int)strlen(cfg_text), cfg_text);
	char *at = strstr(text, "10.200.0.3/32");
	struct wg_plan *p;

	(void)state;
	memcpy(at, "10.200.0.2/32", 13);	/* office takes phone's IP */
	p = compile(text, &dl);
	assert_null(p);
	assert_true(dl.n >= 1);
	assert_non_null(strstr(dl.v[0].msg, "both have allowed IP "
			       "10.200.0.2/32"));
	free(text);
	diag_list_free(&dl);
}

/* A device as read: the plan's peers, allowed IPs in another order. */
static void observed_from(const struct wg_device *d, struct wg_device *o)
{
	memset(o, 0, sizeof(*o));
	o->has_priv = d->has_priv;
	memcpy(o->priv, d->priv, WG_KEY_LEN);
	o->port = d->port;
	for (size_t i = 0; i < d->npeers; i++) {
		struct wg_peer *k = wg_device_add_peer(o);

		memcpy(k->pub, d->peers[i].pub, WG_KEY_LEN);
		k->keepalive = d->peers[i].keepalive;
		k->endpoint = d->peers[i].endpoint;
		for (size_t j = d->peers[i].nallowed; j-- > 0;)
			wg_peer_add_allowed(k, &d->peers[i].allowed[j]);
	}
}

static void test_diff(void **state)
{
	struct diag_list dl = { 0 };
	struct wg_plan *p = compile(cfg_text, &dl);
	struct wg_device *d = &p->devs[0], o;
	struct wg_change c;
	struct wg_allowed a;
	struct buf b = BUF_INIT;

	(void)state;
	/* a new device: everything */
	wg_diff(d, NULL, &c);
	assert_int_equal(c.fields, WG_SET_PRIV | WG_SET_PORT);
	assert_int_equal(c.npeers, 2);
	for (size_t i = 0; i < c.npeers; i++)
		assert_true(c.peers[i].fields & WG_PEER_NEW);
	wg_change_free(&c);
	/* the same as read: nothing */
	observed_from(d, &o);
	wg_diff(d, &o, &c);
	assert_true(wg_change_empty(&c));
	wg_change_free(&c);
	/* the device roamed a peer without a configured endpoint: kept */
	o.peers[0].endpoint.family = AF_INET;
	o.peers[0].endpoint.port = 4000;
	wg_diff(d, &o, &c);
	assert_true(wg_change_empty(&c));
	wg_change_free(&c);
	/* someone's extra peer goes; a changed allowed IP is replaced */
	{
		struct wg_peer *x = wg_device_add_peer(&o);

		memset(x->pub, 7, WG_KEY_LEN);
	}
	assert_true(wg_allowed_parse("10.200.0.9/32", &a));
	o.peers[1].allowed[0] = a;
	o.port = 1234;
	wg_diff(d, &o, &c);
	assert_int_equal(c.fields, WG_SET_PORT);
	assert_int_equal(c.npeers, 2);
	for (size_t i = 0; i < c.npeers; i++) {
		if (c.peers[i].fields & WG_PEER_REMOVE)
			assert_int_equal(c.peers[i].peer->pub[0], 7);
		else
			assert_int_equal(c.peers[i].fields, WG_PEER_ALLOWED);
	}
	wg_change_describe(&c, &b);
	assert_non_null(strstr(b.p, "listen port 51820"));
	assert_non_null(strstr(b.p, "~ peer office"));
	assert_null(strstr(b.p, KEY_A));	/* never the private key */
	buf_free(&b);
	wg_change_free(&c);
	wg_device_clear(&o);
	wg_plan_free(p);
	diag_list_free(&dl);
}

/* One peer more on a device of 10,000: one peer in the change. */
static void test_diff_scale(void **state)
{
	struct wg_device plan = { .name = "wg9" }, obs = { 0 };
	struct wg_change c;
	size_t n = 10000;

	(void)state;
	for (size_t i = 0; i <= n; i++) {
		struct wg_peer *p = wg_device_add_peer(&plan);
		struct wg_allowed a = { .family = AF_INET, .cidr = 32 };

		p->pub[0] = (uint8_t)(i * 7919 % 251);
		memcpy(p->pub + 1, &i, sizeof(i));
		a.addr[0] = 10;
		a.addr[1] = (uint8_t)(i >> 16);
		a.addr[2] = (uint8_t)(i >> 8);
		a.addr[3] = (uint8_t)i;
		wg_peer_add_allowed(p, &a);
	}
	observed_from(&plan, &obs);
	obs.npeers--;			/* the last one is new */
	wg_diff(&plan, &obs, &c);
	assert_int_equal(c.npeers, 1);
	assert_ptr_equal(c.peers[0].peer, &plan.peers[n]);
	wg_change_free(&c);
	obs.npeers++;
	wg_device_clear(&obs);
	plan.name = NULL;
	wg_device_clear(&plan);
}

static void test_uapi(void **state)
{
	struct diag_list dl = { 0 };
	struct wg_plan *p = compile(cfg_text, &dl);
	struct wg_change c;
	struct buf b = BUF_INIT;
	struct wg_device d = { 0 };
	char err[128];
	static const char answer[] =
		"private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
		"listen_port=51820\n"
		"public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcb20be8e543b15ce4bd85a8e75a33\n"
		"endpoint=[2001:db8::1]:51820\n"
		"last_handshake_time_sec=1700000000\n"
		"last_handshake_time_nsec=5\n"
		"tx_bytes=38333\n"
		"rx_bytes=2224\n"
		"persistent_keepalive_interval=25\n"
		"allowed_ip=10.200.0.2/32\n"
		"allowed_ip=fd00::2/128\n"
		"protocol_version=1\n"
		"errno=0\n"
		"\n";

	(void)state;
	wg_diff(&p->devs[0], NULL, &c);
	wg_uapi_set_text(&c, &b);
	assert_non_null(strstr(b.p, "set=1\nprivate_key="));
	assert_non_null(strstr(b.p, "listen_port=51820\n"));
	assert_non_null(strstr(b.p, "persistent_keepalive_interval=25\n"
			       "replace_allowed_ips=true\n"
			       "allowed_ip=10.200.0.2/32\n"));
	assert_non_null(strstr(b.p, "endpoint=192.0.2.7:51820\n"));
	assert_string_equal(b.p + b.len - 2, "\n\n");
	assert_null(strstr(b.p, "replace_peers"));	/* by delta */
	buf_free(&b);
	wg_change_free(&c);

	assert_int_equal(wg_uapi_parse(answer, strlen(answer), &d, err,
				       sizeof(err)), 0);
	assert_true(d.has_priv);
	assert_int_equal(d.port, 51820);
	assert_int_equal(d.npeers, 1);
	assert_int_equal(d.peers[0].endpoint.family, AF_INET6);
	assert_int_equal(d.peers[0].handshake_sec, 1700000000);
	assert_int_equal(d.peers[0].rx_bytes, 2224);
	assert_int_equal(d.peers[0].nallowed, 2);
	wg_device_clear(&d);

	/* errors: the device's errno, malformed lines, no end */
	assert_int_equal(wg_uapi_parse("errno=22\n\n", 10, &d, err,
				       sizeof(err)), -22);
	wg_device_clear(&d);
	assert_int_equal(wg_uapi_parse("public_key=zz\n\n", 15, &d, err,
				       sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "line 1"));
	wg_device_clear(&d);
	assert_int_equal(wg_uapi_parse("listen_port=1\n", 14, &d, err,
				       sizeof(err)), -EPROTO);
	wg_device_clear(&d);
	wg_plan_free(p);
	diag_list_free(&dl);
}

/* A peer without allowed IPs gets the first host no one has. */
static void test_first_free(void **state)
{
	struct diag_list dl = { 0 };
	struct wg_plan *p = compile(cfg_text, &dl);
	struct wg_device *d = &p->devs[0];
	struct wg_allowed a;
	char s[64];

	(void)state;
	/* .1 is the device's, .2 phone's, .3 office's */
	assert_true(wg_device_first_free(d, AF_INET, &a));
	wg_allowed_format(&a, s, sizeof(s));
	assert_string_equal(s, "10.200.0.4/32");
	assert_false(wg_device_first_free(d, AF_INET6, &a));
	/* a peer's /30 covers .4 to .7 */
	assert_true(wg_allowed_parse("10.200.0.4/30", &a));
	wg_peer_add_allowed(&d->peers[0], &a);
	assert_true(wg_device_first_free(d, AF_INET, &a));
	wg_allowed_format(&a, s, sizeof(s));
	assert_string_equal(s, "10.200.0.8/32");
	wg_plan_free(p);
	diag_list_free(&dl);
}

static void test_keys_and_endpoints(void **state)
{
	uint8_t k[WG_KEY_LEN];
	char s[WG_KEY_B64];
	struct wg_endpoint e;

	(void)state;
	assert_true(wg_key_from_b64(KEY_A, k));
	wg_key_to_b64(k, s);
	assert_string_equal(s, KEY_A);
	wg_key_to_urlsafe(k, s);
	assert_null(strchr(s, '+'));
	assert_null(strchr(s, '/'));
	assert_false(wg_key_from_b64("short=", k));
	assert_false(wg_key_from_b64(KEY_A "x", k));
	assert_true(wg_endpoint_parse("[2001:db8::1]:51820", &e));
	assert_int_equal(e.family, AF_INET6);
	assert_false(wg_endpoint_parse("2001:db8::1:51820", &e));
	assert_false(wg_endpoint_parse("192.0.2.1:0", &e));
	assert_false(wg_endpoint_parse("192.0.2.1:65536", &e));
	assert_false(wg_endpoint_parse("vpn.example.com:51820", &e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile),
		cmocka_unit_test(test_compile_clash),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_scale),
		cmocka_unit_test(test_uapi),
		cmocka_unit_test(test_first_free),
		cmocka_unit_test(test_keys_and_endpoints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
