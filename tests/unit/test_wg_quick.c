/* WireGuard keys (against vectors from wireguard-tools), wg-quick files
 * (parsing, errors at their place, the HCL moat loads back, a client's
 * file) and QR codes (against qrencode; the PNG taken apart).
 *
 * Run with --client, --qr-text [--ansi] or --qr-png WIDTH, the program
 * prints a client file with fresh keys, or the QR code of stdin, for
 * tests/system/test_wg_keys.py to hand to wg, qrencode and zbarimg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/buf.h"
#include "config/config.h"
#include "hcl/hcl.h"
#include "wg/key.h"
#include "wg/qr.h"
#include "wg/quick.h"

/* --- keys ---------------------------------------------------------------- */

/* `wg genkey | tee priv | wg pubkey`, and two unclamped keys by hand:
 * wg clamps before it multiplies, so must we. */
static const char *const vectors[][2] = {
	{ "eCaY6FcpknEPxBc/t40Eg9o9ESp+NoCqHc99uNxa7Vs=",
	  "bQbaiX11YbM4AAaWdL6d0HnClAxTSvw0LpGUaFMhMQE=" },
	{ "aF5e5tD4CKhnN8KamTPVDjCTGfPPMPi6wmSDdyOuR3c=",
	  "RkMt8Xu5PMyhj5MPDifoiT8nx4RhVoiqMFxme60nB3o=" },
	{ "uCY7+wcnAYXiC1szOHxSuMnLz3pE3T//fPmAxuuQA1g=",
	  "jycSU6s5AMH+ZhaWNnKtrESUQ0wJLzbVFCUfbjE8rWM=" },
	{ "YAnz2PqCRASuyqxsrUtUpbPPm4K3+Sq9M3WjeMJRmlI=",
	  "Wr8hBLGacPf4mbXPmf7DtRJfA+/2nDK40pMXwtGaYTI=" },
	{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	  "L+V9o0fNYkMVKNqsX7spBzD/9oSvxM/C7ZCZX1jLO3Q=" },
	{ "//////////////////////////////////////////8=",
	  "hHwNLDdSNPNl5mCVUYejc1oPdhPRYJ06ak2MU66qWiI=" },
};

static void test_key_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
		char b64[WG_KEY_B64];

		assert_true(wg_key_from_b64(vectors[i][0], priv));
		assert_true(wg_pubkey(priv, pub));
		wg_key_to_b64(pub, b64);
		assert_string_equal(b64, vectors[i][1]);
	}
}

static void test_genkey(void **state)
{
	uint8_t prev[WG_KEY_LEN] = { 0 };

	(void)state;
	for (int i = 0; i < 200; i++) {
		uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN], clamped[WG_KEY_LEN];

		wg_genkey(priv);
		assert_int_equal(priv[0] & 7, 0);
		assert_int_equal(priv[31] & 0x80, 0);
		assert_int_equal(priv[31] & 0x40, 0x40);
		assert_memory_not_equal(priv, prev, WG_KEY_LEN);
		memcpy(prev, priv, WG_KEY_LEN);
		/* a clamped key is its own clamp: pubkey sees the same */
		memcpy(clamped, priv, WG_KEY_LEN);
		clamped[0] |= 7;
		assert_true(wg_pubkey(priv, pub));
		assert_true(wg_pubkey(clamped, clamped));
		assert_memory_equal(pub, clamped, WG_KEY_LEN);
	}
}

static void test_genpsk(void **state)
{
	uint8_t a[WG_KEY_LEN], b[WG_KEY_LEN];
	int unclamped = 0;

	(void)state;
	for (int i = 0; i < 64; i++) {
		wg_genpsk(a);
		wg_genpsk(b);
		assert_memory_not_equal(a, b, WG_KEY_LEN);
		/* 32 random bytes: not clamped (1 in 2^5 chance each) */
		unclamped += (a[0] & 7) != 0 || (a[31] & 0xc0) != 0x40;
	}
	assert_true(unclamped > 0);
}

static void test_b64(void **state)
{
	static const char *const bad[] = {
		"",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",	/* 43 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",	/* 45 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",	/* no '=' */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",	/* 31 bytes */
		"///////////////////////////////////////////=",	/* low bits */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*A=",
		"AAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAA=",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-A=",	/* URL-safe */
	};
	uint8_t key[WG_KEY_LEN], back[WG_KEY_LEN];
	char b64[WG_KEY_B64];

	(void)state;
	for (int i = 0; i < 100; i++) {
		randombytes_buf(key, sizeof(key));
		wg_key_to_b64(key, b64);
		assert_int_equal(strlen(b64), 44);
		assert_true(wg_key_from_b64(b64, back));
		assert_memory_equal(key, back, WG_KEY_LEN);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(wg_key_from_b64(bad[i], key));
}

/* --- wg-quick files ----------------------------------------------------- */

#define SERVER_PRIV "eCaY6FcpknEPxBc/t40Eg9o9ESp+NoCqHc99uNxa7Vs="
#define ALICE_PUB "RkMt8Xu5PMyhj5MPDifoiT8nx4RhVoiqMFxme60nB3o="
#define BOB_PUB "jycSU6s5AMH+ZhaWNnKtrESUQ0wJLzbVFCUfbjE8rWM="
#define CAROL_PUB "Wr8hBLGacPf4mbXPmf7DtRJfA+/2nDK40pMXwtGaYTI="
#define PSK "q0S4FZ+edy+BjSuZevCrBZk/8Rd+cH0JVM/fIswK7DY="

static const char server_conf[] =
	"# wg0: the office VPN\n"				/* 1 */
	"[Interface]\n"
	"PrivateKey = " SERVER_PRIV "\n"
	"Address = 10.8.0.1/24\n"
	"Address = fd42:42::1/64, 10.9.0.1\n"			/* 5 */
	"ListenPort = 51820\n"
	"DNS = 10.8.0.1, fd42:42::1 , corp.example\n"
	"MTU = 1420\n"
	"FwMark = 0xca6c\n"
	"Table = 1234\n"					/* 10 */
	"PostUp = iptables -A FORWARD -i %i -j ACCEPT\n"
	"PostDown = iptables -D FORWARD -i %i -j ACCEPT\n"
	"SaveConfig = false\n"
	"\n"
	"### Client alice\n"					/* 15 */
	"[Peer]\n"
	"PublicKey = " ALICE_PUB "\n"
	"PresharedKey = " PSK "\n"
	"AllowedIPs = 10.8.0.2/32, fd42:42::2/128\n"
	"\n"							/* 20 */
	"[Peer]\n"
	"# Name = bob phone\n"
	"PublicKey = " BOB_PUB "\n"
	"AllowedIPs = 10.8.0.3/32\n"
	"AllowedIPs = 192.168.77.9/24\n"			/* 25 */
	"Endpoint = bob.example.com:51821\n"
	"PersistentKeepalive = 25\n"
	"\n"
	"[Peer]\n"
	"PublicKey = " CAROL_PUB "\n"				/* 30 */
	"Endpoint = [2001:db8::7]:4500\n"
	"PersistentKeepalive = off\n";

static void parse_ok(const char *text, struct wg_quick *q,
		     struct diag_list *dl)
{
	int r = wg_quick_parse(text, strlen(text), "wg0.conf", q, dl);

	if (r)
		diag_print(dl, stderr);
	assert_int_equal(r, 0);
	assert_int_equal(dl->nerrors, 0);
}

static void assert_key(const uint8_t key[WG_KEY_LEN], const char *b64)
{
	char s[WG_KEY_B64];

	wg_key_to_b64(key, s);
	assert_string_equal(s, b64);
}

static void test_parse_server(void **state)
{
	struct diag_list dl = { 0 };
	struct wg_quick q;
	const struct wg_quick_peer *p;

	(void)state;
	parse_ok(server_conf, &q, &dl);
	assert_int_equal(dl.nwarnings, 0);
	assert_true(q.has_interface);
	assert_int_equal(q.interface_at.line, 2);
	assert_true(q.has_priv);
	assert_key(q.priv, SERVER_PRIV);
	assert_int_equal(q.address.n, 3);
	assert_string_equal(q.address.v[0], "10.8.0.1/24");
	assert_string_equal(q.address.v[1], "fd42:42::1/64");
	assert_string_equal(q.address.v[2], "10.9.0.1/32");
	assert_int_equal(q.address.at[2].line, 5);
	assert_int_equal(q.address.at[2].col, 26);
	assert_int_equal(q.listen_port, 51820);
	assert_int_equal(q.dns.n, 2);
	assert_string_equal(q.dns.v[1], "fd42:42::1");
	assert_int_equal(q.dns_search.n, 1);
	assert_string_equal(q.dns_search.v[0], "corp.example");
	assert_int_equal(q.mtu, 1420);
	assert_true(q.has_fwmark);
	assert_int_equal(q.fwmark, 0xca6c);
	assert_string_equal(q.table, "1234");
	assert_int_equal(q.pre_up.n, 0);
	assert_int_equal(q.post_up.n, 1);
	assert_string_equal(q.post_up.v[0],
			    "iptables -A FORWARD -i %i -j ACCEPT");
	assert_int_equal(q.post_down.n, 1);
	assert_int_equal(q.save_config, 0);
	assert_int_equal(q.npeers, 3);

	p = &q.peers[0];
	assert_string_equal(p->name, "alice");
	assert_int_equal(p->pos.line, 16);
	assert_key(p->pub, ALICE_PUB);
	assert_true(p->has_psk);
	assert_key(p->psk, PSK);
	assert_null(p->endpoint);
	assert_int_equal(p->keepalive, -1);
	assert_int_equal(p->allowed_ips.n, 2);
	assert_string_equal(p->allowed_ips.v[1], "fd42:42::2/128");

	p = &q.peers[1];
	assert_string_equal(p->name, "bob phone");
	assert_false(p->has_psk);
	assert_string_equal(p->endpoint, "bob.example.com:51821");
	assert_int_equal(p->keepalive, 25);
	assert_int_equal(p->allowed_ips.n, 2);
	/* host bits cleared, as wg does */
	assert_string_equal(p->allowed_ips.v[1], "192.168.77.0/24");

	p = &q.peers[2];
	assert_string_equal(p->name, "peer3");
	assert_string_equal(p->endpoint, "[2001:db8::7]:4500");
	assert_int_equal(p->keepalive, 0);
	assert_int_equal(p->allowed_ips.n, 0);
	wg_quick_free(&q);
	wg_quick_free(NULL);
	diag_list_free(&dl);
}

/* A client's file as a phone app exports it: CRLF, keys in any case,
 * comments after values, blanks around '='. */
static void test_parse_client(void **state)
{
	static const char text[] =
		"[interface]\r\n"
		"  privatekey=" SERVER_PRIV "   # mine\r\n"
		"ADDRESS = 10.8.0.2/32\r\n"
		"dns = 10.8.0.1\r\n"
		"\r\n"
		"\t[PEER]\r\n"
		"PUBLICKEY = " ALICE_PUB "\r\n"
		"allowedips = 0.0.0.0/0,::/0\r\n"
		"endpoint = vpn.example.org:51820\r\n"
		"persistentKeepAlive = 15";	/* no newline at the end */
	struct diag_list dl = { 0 };
	struct wg_quick q;

	(void)state;
	parse_ok(text, &q, &dl);
	assert_key(q.priv, SERVER_PRIV);
	assert_int_equal(q.address.n, 1);
	assert_string_equal(q.address.v[0], "10.8.0.2/32");
	assert_int_equal(q.dns.n, 1);
	assert_int_equal(q.listen_port, -1);
	assert_int_equal(q.mtu, 0);
	assert_null(q.table);
	assert_int_equal(q.save_config, -1);
	assert_int_equal(q.npeers, 1);
	assert_string_equal(q.peers[0].name, "peer1");
	assert_int_equal(q.peers[0].allowed_ips.n, 2);
	assert_string_equal(q.peers[0].allowed_ips.v[0], "0.0.0.0/0");
	assert_string_equal(q.peers[0].allowed_ips.v[1], "::/0");
	assert_string_equal(q.peers[0].endpoint, "vpn.example.org:51820");
	assert_int_equal(q.peers[0].keepalive, 15);
	wg_quick_free(&q);
	diag_list_free(&dl);
}

struct err_case {
	const char *text;
	int line, col;
	const char *msg;
};

#define IF "[Interface]\n"
#define PEER "[Peer]\nPublicKey = " ALICE_PUB "\n"

static const struct err_case err_cases[] = {
	{ "Address = 10.0.0.1/24\n" IF, 1, 1,
	  "Address comes before any section: it belongs in [Interface]" },
	{ IF "PrivateKey = abc\n", 2, 14,
	  "PrivateKey is not a 44-character base64 key" },
	{ IF PEER "PublicKey = " BOB_PUB "\n", 4, 1,
	  "PublicKey is given twice (first at line 3)" },
	{ IF "ListenPort = 1\nlistenport = 2\n", 3, 1,
	  "ListenPort is given twice (first at line 2)" },
	{ IF "ListenPort = 65536\n", 2, 14,
	  "ListenPort \"65536\" is not a port number (0-65535)" },
	{ IF "ListenPort = -1\n", 2, 14, "is not a port number" },
	{ IF "Adress = 10.0.0.1/24\n", 2, 1,
	  "unknown key \"Adress\"; did you mean \"Address\"?" },
	{ IF "Foo = bar\n", 2, 1, "unknown key \"Foo\"" },
	{ IF "PublicKey = " ALICE_PUB "\n", 2, 1,
	  "PublicKey belongs in [Peer], not in [Interface]" },
	{ IF PEER "MTU = 1400\n", 4, 1,
	  "MTU belongs in [Interface], not in [Peer]" },
	{ IF "[Peer]\nAllowedIPs = 10.0.0.0/8\n", 2, 1,
	  "[Peer] has no PublicKey" },
	{ IF "Address = 10.0.0.1/24, 10.0.0.300/24\n", 2, 24,
	  "Address \"10.0.0.300/24\": not an IP address" },
	{ IF "Address = 10.0.0.1/33\n", 2, 11,
	  "the prefix length must be 0-32" },
	{ IF "DNS = 1.2.3\n", 2, 7, "DNS \"1.2.3\": not an IP address" },
	{ IF "DNS = a/b\n", 2, 7, "neither an IP address nor a search" },
	{ IF "MTU = 1500x\n", 2, 7, "MTU \"1500x\" is not a number" },
	{ IF "MTU = 10\n", 2, 7, "from 68 to 65535" },
	{ IF "FwMark = 0x100000000\n", 2, 10, "not a 32-bit number" },
	{ IF "SaveConfig = yes\n", 2, 14, "SaveConfig is true or false" },
	{ IF "Table =\n", 2, 8, "Table has no value" },
	{ IF PEER "AllowedIPs = 10.0.0.0/8, 300.0.0.0/8\n", 4, 26,
	  "AllowedIPs \"300.0.0.0/8\" is not an address or a prefix" },
	{ IF PEER "Endpoint = host\n", 4, 12,
	  "Endpoint \"host\": expected HOST:PORT" },
	{ IF PEER "Endpoint = h:0\n", 4, 12, "the port must be 1-65535" },
	{ IF PEER "Endpoint = a_b:1\n", 4, 12, "the host must be" },
	{ IF PEER "PersistentKeepalive = 70000\n", 4, 23,
	  "PersistentKeepalive \"70000\" is not a number of seconds" },
	{ IF PEER "PresharedKey = " ALICE_PUB "x\n", 4, 16,
	  "PresharedKey is not a 44-character base64 key" },
	{ IF PEER "[Peer]\nPublicKey = " ALICE_PUB "\n", 5, 13,
	  "PublicKey is also the key of the [Peer] at line 2" },
	{ IF "[Interface]\n", 2, 1,
	  "a second [Interface] (the first is at line 1)" },
	{ IF "[Server]\nFoo = 1\n", 2, 1,
	  "unknown section \"[Server]\": a wg-quick file has [Interface] "
	  "and [Peer]" },
	{ IF "just words\n", 2, 1, "expected KEY = VALUE or a [Section]" },
	{ IF " = 5\n", 2, 2, "a value without a key" },
	{ "# nothing\n", 0, 0, "no [Interface] section" },
	{ "", 0, 0, "no [Interface] section" },
	{ IF "Address = 10.0.0.1/24\r\nMTU = x\r\n", 3, 7,
	  "MTU \"x\" is not a number" },
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]);
	     i++) {
		const struct err_case *c = &err_cases[i];
		struct diag_list dl = { 0 };
		struct wg_quick q;
		int r = wg_quick_parse(c->text, strlen(c->text), "wg0.conf",
				       &q, &dl);

		if (r != -1 || dl.nerrors != 1 || dl.v[0].line != c->line ||
		    dl.v[0].col != c->col || !strstr(dl.v[0].msg, c->msg)) {
			fprintf(stderr, "case %zu: %s\n", i, c->text);
			diag_print(&dl, stderr);
		}
		assert_int_equal(r, -1);
		assert_int_equal(dl.nerrors, 1);
		assert_string_equal(dl.v[0].file, "wg0.conf");
		assert_int_equal(dl.v[0].line, c->line);
		assert_int_equal(dl.v[0].col, c->col);
		assert_non_null(strstr(dl.v[0].msg, c->msg));
		/* cleared on failure */
		assert_int_equal(q.npeers, 0);
		assert_null(q.file);
		diag_list_free(&dl);
	}
}

/* Every error of a file in one run; a NUL byte is one. */
static void test_parse_many_errors(void **state)
{
	static const char text[] = "[Interface]\nMTU = a\n\0\nListenPort = b\n"
				   "[Peer]\n";
	struct diag_list dl = { 0 };
	struct wg_quick q;

	(void)state;
	assert_int_equal(wg_quick_parse(text, sizeof(text) - 1, "x.conf", &q,
					&dl), -1);
	assert_int_equal(dl.nerrors, 4);
	assert_int_equal(dl.v[0].line, 2);
	assert_int_equal(dl.v[1].line, 3);
	assert_non_null(strstr(dl.v[1].msg, "NUL"));
	assert_int_equal(dl.v[2].line, 4);
	assert_int_equal(dl.v[3].line, 5);
	diag_list_free(&dl);

	/* columns count characters: "é" is one */
	assert_int_equal(wg_quick_parse(IF "DNS = é, x/y\n", 26, "x.conf",
					&q, &dl), -1);
	assert_int_equal(dl.nerrors, 2);
	assert_int_equal(dl.v[0].col, 7);
	assert_int_equal(dl.v[1].col, 10);
	diag_list_free(&dl);
}

static void test_peer_names(void **state)
{
	static const char text[] =
		IF
		"# Name = server itself\n"	/* an [Interface] key follows */
		"ListenPort = 1\n"
		"# alice\n"
		"[Peer]\n"			/* 5: alice (the line before) */
		"PublicKey = " ALICE_PUB "\n"
		"# bob\n"
		"\n"
		"[Peer]\n"			/* 9: not bob (a blank between) */
		"PublicKey = " BOB_PUB "\n"
		"### begin carol ###\n"
		"[Peer]\n"			/* 12: carol (PiVPN) */
		"PublicKey = " CAROL_PUB "\n"
		"### end carol ###\n"
		"# Client: alice (0d3c-11)\n"	/* wg-easy: taken */
		"[Peer]\n"			/* 16 */
		"PublicKey = " PSK "\n"
		"[Peer]\n"			/* 18: "#name" inside */
		"PublicKey = " SERVER_PRIV "\n"
		"#name=peer2\n";
	struct diag_list dl = { 0 };
	struct wg_quick q;

	(void)state;
	parse_ok(text, &q, &dl);
	assert_int_equal(q.npeers, 5);
	assert_string_equal(q.peers[0].name, "alice");
	assert_string_equal(q.peers[1].name, "peer2");
	assert_string_equal(q.peers[2].name, "carol");
	assert_string_equal(q.peers[3].name, "alice-2");
	assert_string_equal(q.peers[4].name, "peer2-2");
	assert_int_equal(dl.nwarnings, 2);
	assert_int_equal(dl.v[0].line, 15);
	assert_non_null(strstr(dl.v[0].msg, "peer name \"alice\" is taken; "
				"this peer is \"alice-2\""));
	assert_int_equal(dl.v[1].line, 20);
	wg_quick_free(&q);
	diag_list_free(&dl);
}

/* --- to moat HCL and back through moat's loader ------------------------ */

static const char *no_env(void *ctx, const char *name)
{
	(void)ctx;
	(void)name;
	return NULL;
}

static const struct hcl_env env = { no_env, NULL };

static struct moat_config *load_hcl(const char *hcl)
{
	struct diag_list dl = { 0 };
	struct moat_config *cfg = cfg_load("import.hcl", hcl, strlen(hcl),
					   &env, true, &dl);

	if (!cfg || dl.n) {
		fprintf(stderr, "%s", hcl);
		diag_print(&dl, stderr);
	}
	assert_non_null(cfg);
	assert_int_equal(dl.n, 0);
	diag_list_free(&dl);
	return cfg;
}

static void assert_strs(const struct cfg_strs *l, size_t n, ...)
{
	va_list ap;

	assert_int_equal(l->n, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l->v[i], va_arg(ap, const char *));
	va_end(ap);
}

static void test_to_hcl(void **state)
{
	struct diag_list dl = { 0 };
	struct wg_quick q;
	struct moat_config *cfg;
	const struct cfg_vpn *vpn;
	const struct cfg_wireguard *wg;
	const struct cfg_wg_peer *p;
	char *hcl;

	(void)state;
	parse_ok(server_conf, &q, &dl);
	hcl = wg_quick_to_hcl(&q, "wg0", &dl);
	assert_non_null(hcl);
	assert_int_equal(dl.nerrors, 0);
	/* what moat does not do: warned at its line */
	assert_int_equal(dl.nwarnings, 4);
	diag_sort(&dl);
	assert_int_equal(dl.v[0].line, 7);
	assert_non_null(strstr(dl.v[0].msg, "\"corp.example\" is left out"));
	assert_int_equal(dl.v[1].line, 11);
	assert_int_equal(dl.v[1].col, 10);
	assert_string_equal(dl.v[1].msg, "PostUp is not run by moat: "
			    "iptables -A FORWARD -i %i -j ACCEPT");
	assert_int_equal(dl.v[2].line, 12);
	assert_non_null(strstr(dl.v[2].msg, "PostDown is not run by moat"));
	assert_int_equal(dl.v[3].line, 13);
	assert_non_null(strstr(dl.v[3].msg, "SaveConfig"));
	assert_non_null(strstr(hcl, "vpn {\n  wireguard \"wg0\" {\n"
			       "    enabled     = true\n"));

	cfg = load_hcl(hcl);
	assert_int_equal(cfg->vpn.n, 1);
	vpn = cfg->vpn.v;
	assert_int_equal(vpn->wireguard.n, 1);
	wg = vpn->wireguard.v;
	assert_string_equal(wg->o.name, "wg0");
	assert_true(wg->enabled.set && wg->enabled.v);
	assert_string_equal(wg->interface.v, "wg0");
	assert_string_equal(wg->private_key.v, SERVER_PRIV);
	assert_int_equal(wg->listen_port.v, 51820);
	assert_strs(&wg->address, 3, "10.8.0.1/24", "fd42:42::1/64",
		    "10.9.0.1/32");
	assert_strs(&wg->dns, 2, "10.8.0.1", "fd42:42::1");
	assert_int_equal(wg->mtu.v, 1420);
	assert_int_equal(wg->fwmark.v, 0xca6c);
	assert_string_equal(wg->table.v, "1234");
	assert_int_equal(wg->peers.n, 3);
	p = wg->peers.v;
	assert_string_equal(p[0].o.name, "alice");
	assert_string_equal(p[0].public_key.v, ALICE_PUB);
	assert_string_equal(p[0].preshared_key.v, PSK);
	assert_null(p[0].endpoint.v);
	assert_strs(&p[0].allowed_ips, 2, "10.8.0.2/32", "fd42:42::2/128");
	assert_false(p[0].persistent_keepalive.set);
	assert_string_equal(p[1].o.name, "bob phone");
	assert_string_equal(p[1].public_key.v, BOB_PUB);
	assert_null(p[1].preshared_key.v);
	assert_string_equal(p[1].endpoint.v, "bob.example.com:51821");
	assert_strs(&p[1].allowed_ips, 2, "10.8.0.3/32", "192.168.77.0/24");
	assert_int_equal(p[1].persistent_keepalive.v, 25);
	assert_string_equal(p[2].o.name, "peer3");
	assert_string_equal(p[2].endpoint.v, "[2001:db8::7]:4500");
	assert_int_equal(p[2].allowed_ips.n, 0);
	assert_false(p[2].persistent_keepalive.set);
	cfg_free(cfg);
	sodium_memzero(hcl, strlen(hcl));
	free(hcl);
	wg_quick_free(&q);
	diag_list_free(&dl);
}

/* Names HCL would read as templates or escapes load back as written;
 * an empty [Interface] gives the least a device needs. */
static void test_to_hcl_quoting(void **state)
{
	static const char text[] =
		IF
		"Table = main\n"
		"# Name = a \"quoted\" ${name} %{x} back\\slash é\n"
		PEER;
	struct diag_list dl = { 0 };
	struct wg_quick q;
	struct moat_config *cfg;
	const struct cfg_wireguard *wg;
	char *hcl;

	(void)state;
	parse_ok(text, &q, &dl);
	hcl = wg_quick_to_hcl(&q, "vpn-office", &dl);
	assert_non_null(hcl);
	assert_int_equal(dl.n, 0);
	cfg = load_hcl(hcl);
	wg = ((const struct cfg_vpn *)cfg->vpn.v)->wireguard.v;
	assert_string_equal(wg->o.name, "vpn-office");
	assert_null(wg->private_key.v);
	assert_false(wg->listen_port.set);
	assert_int_equal(wg->address.n, 0);
	assert_string_equal(wg->table.v, "254");
	assert_string_equal(((const struct cfg_wg_peer *)wg->peers.v)->o.name,
			    "a \"quoted\" ${name} %{x} back\\slash é");
	cfg_free(cfg);
	free(hcl);
	wg_quick_free(&q);
	diag_list_free(&dl);
}

static void test_to_hcl_errors(void **state)
{
	static const char text[] =
		IF
		"Table = vpn-routes\n"
		"MTU = 1000\n"
		"ListenPort = 0\n"
		"PreUp = echo up\n";
	struct diag_list dl = { 0 };
	struct wg_quick q;

	(void)state;
	parse_ok(text, &q, &dl);
	assert_null(wg_quick_to_hcl(&q, "this-name-is-too-long", &dl));
	assert_int_equal(dl.nerrors, 3);
	assert_int_equal(dl.nwarnings, 1);
	diag_sort(&dl);
	assert_int_equal(dl.v[0].line, 0);
	assert_non_null(strstr(dl.v[0].msg, "interface name "
			       "\"this-name-is-too-long\""));
	assert_int_equal(dl.v[1].line, 2);
	assert_non_null(strstr(dl.v[1].msg, "Table \"vpn-routes\": moat "
			       "takes off, auto or a routing table number"));
	assert_int_equal(dl.v[2].line, 3);
	assert_non_null(strstr(dl.v[2].msg, "MTU 1000"));
	assert_int_equal(dl.v[3].line, 5);
	assert_string_equal(dl.v[3].msg, "PreUp is not run by moat: echo up");
	wg_quick_free(&q);
	diag_list_free(&dl);
}

/* --- a client's file ---------------------------------------------------- */

static void fill_client(struct wg_client_conf *c, bool secrets)
{
	static char *address[] = { "10.8.0.2/32", "fd42:42::2/128" };
	static char *dns[] = { "10.8.0.1" };
	static char *allowed[] = { "0.0.0.0/0", "::/0" };

	memset(c, 0, sizeof(*c));
	if (secrets) {
		c->has_priv = true;
		wg_genkey(c->priv);
		c->has_psk = true;
		wg_genpsk(c->psk);
	}
	wg_genkey(c->server_pub);
	assert_true(wg_pubkey(c->server_pub, c->server_pub));
	c->address = address;
	c->naddress = 2;
	c->dns = dns;
	c->ndns = 1;
	c->mtu = 1380;
	c->endpoint = "vpn.example.org:51820";
	c->allowed_ips = allowed;
	c->nallowed = 2;
	c->keepalive = 25;
}

static void test_client(void **state)
{
	struct wg_client_conf c;
	struct diag_list dl = { 0 };
	struct wg_quick q;
	char b64[WG_KEY_B64], *text, expect[1024];

	(void)state;
	fill_client(&c, true);
	text = wg_quick_client(&c);
	parse_ok(text, &q, &dl);
	assert_true(q.has_priv);
	assert_memory_equal(q.priv, c.priv, WG_KEY_LEN);
	assert_int_equal(q.address.n, 2);
	assert_string_equal(q.address.v[1], "fd42:42::2/128");
	assert_int_equal(q.dns.n, 1);
	assert_int_equal(q.mtu, 1380);
	assert_int_equal(q.npeers, 1);
	assert_memory_equal(q.peers[0].pub, c.server_pub, WG_KEY_LEN);
	assert_true(q.peers[0].has_psk);
	assert_memory_equal(q.peers[0].psk, c.psk, WG_KEY_LEN);
	assert_string_equal(q.peers[0].endpoint, "vpn.example.org:51820");
	assert_int_equal(q.peers[0].allowed_ips.n, 2);
	assert_int_equal(q.peers[0].keepalive, 25);
	wg_quick_free(&q);
	free(text);

	/* without what the server does not have or know */
	fill_client(&c, false);
	c.ndns = 0;
	c.mtu = 0;
	c.endpoint = NULL;
	c.keepalive = 0;
	text = wg_quick_client(&c);
	wg_key_to_b64(c.server_pub, b64);
	snprintf(expect, sizeof(expect),
		 "[Interface]\n"
		 "# PrivateKey = (kept by the client)\n"
		 "Address = 10.8.0.2/32, fd42:42::2/128\n"
		 "\n"
		 "[Peer]\n"
		 "PublicKey = %s\n"
		 "AllowedIPs = 0.0.0.0/0, ::/0\n", b64);
	assert_string_equal(text, expect);
	parse_ok(text, &q, &dl);
	assert_false(q.has_priv);
	wg_quick_free(&q);
	free(text);
	diag_list_free(&dl);
}

/* --- QR codes ------------------------------------------------------------ */

/* `printf hello | qrencode -t UTF8`: F a full block, U the upper half, L
 * the lower half. */
static const char qr_hello[] =
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFF\n"
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFF\n"
	"FFFF LLLLL FU F LF LLLLL FFFF\n"
	"FFFF F   F FL FULF F   F FFFF\n"
	"FFFF FLLLF F FFU F FLLLF FFFF\n"
	"FFFFLLLLLLLF U U FLLLLLLLFFFF\n"
	"FFFFL U UUL U LFFF LLFL UFFFF\n"
	"FFFFFFL F LL FLULLFFF LU FFFF\n"
	"FFFFFFFFLFLLU  ULFLU FUFUFFFF\n"
	"FFFF LLLLL FL  UU F ULLLFFFFF\n"
	"FFFF F   F FULU FFL LUUU FFFF\n"
	"FFFF FLLLF FU  FLUUFLFLFLFFFF\n"
	"FFFFLLLLLLLFLFLLLFFLFLFLFFFFF\n"
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFF\n"
	"FFFFFFFFFFFFFFFFFFFFFFFFFFFFF\n";

static char *utf8_blocks(const char *map)
{
	struct buf b = BUF_INIT;

	for (; *map; map++)
		buf_adds(&b, *map == 'F' ? "\xe2\x96\x88" :
			 *map == 'U' ? "\xe2\x96\x80" :
			 *map == 'L' ? "\xe2\x96\x84" :
			 *map == ' ' ? " " : "\n");
	return buf_steal(&b);
}

static void test_qr_text(void **state)
{
	char *want = utf8_blocks(qr_hello), *got, *line;
	char big[4000];
	size_t rows = 0;

	(void)state;
	got = wg_qr_text("hello", false);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);

	got = wg_qr_text("hello", true);
	line = strtok(got, "\n");
	for (; line; line = strtok(NULL, "\n"), rows++) {
		assert_memory_equal(line, "\033[40;37;1m", 10);
		assert_string_equal(line + strlen(line) - 4, "\033[0m");
	}
	assert_int_equal(rows, 15);
	free(got);
	free(want);

	assert_null(wg_qr_text("", false));
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(wg_qr_text(big, false));	/* over 2953 bytes */
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint32_t ref_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static uint32_t ref_adler32(const uint8_t *p, size_t n)
{
	uint32_t a = 1, b = 0;

	for (size_t i = 0; i < n; i++) {
		a = (a + p[i]) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

/* Takes the PNG apart: chunks and their CRCs, the zlib stream of stored
 * blocks and its Adler-32; returns the raw rows (the caller frees). */
static uint8_t *png_open(const struct buf *png, uint32_t *w, size_t *rawlen)
{
	const uint8_t *p = (const uint8_t *)png->p, *end = p + png->len;
	const uint8_t *idat = NULL;
	uint32_t idat_len = 0;
	uint8_t *raw = NULL;
	size_t n = 0;

	assert_memory_equal(p, "\x89PNG\r\n\x1a\n", 8);
	p += 8;
	while (p < end) {
		uint32_t len = get32(p);

		assert_true(p + 12 + len <= end);
		assert_int_equal(get32(p + 8 + len), ref_crc32(p + 4, len + 4));
		if (!memcmp(p + 4, "IHDR", 4)) {
			assert_int_equal(len, 13);
			*w = get32(p + 8);
			assert_int_equal(get32(p + 12), *w);
			assert_memory_equal(p + 16, "\1\0\0\0\0", 5);
		} else if (!memcmp(p + 4, "IDAT", 4)) {
			idat = p + 8;
			idat_len = len;
		} else {
			assert_memory_equal(p + 4, "IEND", 4);
			assert_int_equal(len, 0);
			assert_ptr_equal(p + 12, end);
		}
		p += 12 + len;
	}
	assert_non_null(idat);
	assert_int_equal((idat[0] << 8 | idat[1]) % 31, 0);
	assert_int_equal(idat[0] & 0x0f, 8);
	p = idat + 2;
	for (bool final = false; !final;) {
		size_t k = (size_t)(p[1] | p[2] << 8);

		final = p[0] & 1;
		assert_int_equal(p[0] >> 1, 0);		/* stored */
		assert_int_equal(k ^ 0xffff, (size_t)(p[3] | p[4] << 8));
		raw = realloc(raw, n + k);
		memcpy(raw + n, p + 5, k);
		n += k;
		p += 5 + k;
	}
	assert_ptr_equal(p + 4, idat + idat_len);
	assert_int_equal(get32(p), ref_adler32(raw, n));
	*rawlen = n;
	return raw;
}

static bool px_black(const uint8_t *raw, uint32_t w, uint32_t x, uint32_t y)
{
	const uint8_t *row = raw + (size_t)y * (1 + (w + 7) / 8);

	return !(row[1 + x / 8] & (0x80 >> (x % 8)));
}

static void test_qr_png(void **state)
{
	static const struct { unsigned ask, side, got; } sizes[] = {
		{ 0, 29, 522 }, { 29, 29, 29 }, { 1, 29, 29 },
		{ 300, 29, 290 }, { 4000, 29, 4002 },
	};
	char big[4000];

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct buf png = BUF_INIT;
		uint32_t w = 0, scale;
		size_t rawlen;
		uint8_t *raw;

		assert_int_equal(wg_qr_png("hello", sizes[i].ask, &png), 0);
		raw = png_open(&png, &w, &rawlen);
		assert_int_equal(w, sizes[i].got);
		assert_int_equal(rawlen, (size_t)(1 + (w + 7) / 8) * w);
		scale = w / sizes[i].side;
		for (uint32_t y = 0; y < w; y++)
			assert_int_equal(raw[(size_t)y * (1 + (w + 7) / 8)], 0);
		/* the quiet zone is white, the finder's corner black */
		for (uint32_t x = 0; x < w; x++) {
			assert_false(px_black(raw, w, x, 0));
			assert_false(px_black(raw, w, x, w - 1));
			assert_false(px_black(raw, w, 4 * scale - 1, x));
		}
		assert_true(px_black(raw, w, 4 * scale, 4 * scale));
		assert_true(px_black(raw, w, 11 * scale - 1, 4 * scale));
		assert_false(px_black(raw, w, 5 * scale, 5 * scale));
		free(raw);
		buf_free(&png);
	}

	/* too big an image, too long a text, nothing */
	struct buf png = BUF_INIT;

	assert_int_equal(wg_qr_png("hello", 5000, &png), -1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(wg_qr_png(big, 0, &png), -1);
	assert_int_equal(wg_qr_png("", 0, &png), -1);
	assert_int_equal(png.len, 0);
}

/* --- helpers for the system test ---------------------------------------- */

static char *read_stdin(void)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		buf_add(&b, chunk, n);
	return buf_steal(&b);
}

static int helper(int argc, char **argv)
{
	struct wg_client_conf c;
	char *s, *out;
	int r = 0;

	if (!strcmp(argv[1], "--client")) {
		fill_client(&c, true);
		s = wg_quick_client(&c);
		fputs(s, stdout);
		free(s);
		return 0;
	}
	s = read_stdin();
	if (!strcmp(argv[1], "--qr-text")) {
		out = wg_qr_text(s, argc > 2 && !strcmp(argv[2], "--ansi"));
		r = out ? fputs(out, stdout) < 0 : 1;
		free(out);
	} else if (!strcmp(argv[1], "--qr-png") && argc > 2) {
		struct buf png = BUF_INIT;

		r = wg_qr_png(s, (unsigned)atoi(argv[2]), &png) < 0 ||
		    fwrite(png.p, 1, png.len, stdout) != png.len;
		buf_free(&png);
	} else {
		r = 2;
	}
	free(s);
	return r;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_vectors),
		cmocka_unit_test(test_genkey),
		cmocka_unit_test(test_genpsk),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_parse_server),
		cmocka_unit_test(test_parse_client),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_many_errors),
		cmocka_unit_test(test_peer_names),
		cmocka_unit_test(test_to_hcl),
		cmocka_unit_test(test_to_hcl_quoting),
		cmocka_unit_test(test_to_hcl_errors),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_qr_text),
		cmocka_unit_test(test_qr_png),
	};

	if (argc > 1 && !strncmp(argv[1], "--", 2))
		return helper(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
