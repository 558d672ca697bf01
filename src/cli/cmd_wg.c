/* moat wg SUBCOMMAND: WireGuard keys (genkey, pubkey, genpsk, byte for
 * byte as wg makes them) and wg-quick files (import). One function per
 * subcommand, listed in wg_subcmds[]; this file only reads arguments and
 * files and prints, the work is in src/wg. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "base/diag.h"
#include "base/file.h"
#include "base/util.h"
#include "cli/cli.h"
#include "cli/wg_cli.h"
#include "wg/key.h"
#include "wg/quick.h"
#include "wg/wg.h"

struct wg_subcmd {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the subcommand */
};

/* --- keys ---------------------------------------------------------------- */

/* As wg: a key written to a file others can read is worth a warning. */
static void warn_world_readable(void)
{
	struct stat st;

	if (!fstat(fileno(stdout), &st) && S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IRWXO))
		fprintf(stderr, "moat wg: warning: writing a key to a file "
			"others can read; set umask 077 first\n");
}

static int print_key(uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_B64];
	int r = MOAT_EXIT_OK;

	wg_key_to_b64(key, b64);
	sodium_memzero(key, WG_KEY_LEN);
	if (printf("%s\n", b64) < 0 || fflush(stdout)) {
		fprintf(stderr, "moat wg: writing the key: %s\n",
			strerror(errno));
		r = MOAT_EXIT_BAD;
	}
	sodium_memzero(b64, sizeof(b64));
	return r;
}

static int no_args(int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error(&cli_cmd_wg, "%s: unexpected argument "
				       "'%s'", argv[0], argv[1]);
	return MOAT_EXIT_OK;
}

static int wg_genkey_run(int argc, char **argv)
{
	uint8_t key[WG_KEY_LEN];
	int r = no_args(argc, argv);

	if (r)
		return r;
	warn_world_readable();
	wg_genkey(key);
	return print_key(key);
}

static int wg_genpsk_run(int argc, char **argv)
{
	uint8_t key[WG_KEY_LEN];
	int r = no_args(argc, argv);

	if (r)
		return r;
	warn_world_readable();
	wg_genpsk(key);
	return print_key(key);
}

/* A key on stdin as `wg pubkey` reads one: its 44 characters first, then
 * only blanks (a newline) up to the end. */
static int wg_pubkey_run(int argc, char **argv)
{
	char b64[WG_KEY_B64];
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	int c, r = no_args(argc, argv);

	if (r)
		return r;
	r = MOAT_EXIT_BAD;
	if (fread(b64, 1, WG_KEY_B64 - 1, stdin) != WG_KEY_B64 - 1) {
		fprintf(stderr, "moat wg pubkey: the key is not 44 characters "
			"of base64\n");
		goto out;
	}
	b64[WG_KEY_B64 - 1] = '\0';
	while ((c = getchar()) != EOF)
		if (c && c != ' ' && c != '\t' && c != '\n' && c != '\r' &&
		    c != '\v' && c != '\f') {
			fprintf(stderr, "moat wg pubkey: characters after the "
				"key\n");
			goto out;
		}
	if (!wg_key_from_b64(b64, priv) || !wg_pubkey(priv, pub)) {
		fprintf(stderr, "moat wg pubkey: the key is not 44 characters "
			"of base64\n");
		goto out;
	}
	r = print_key(pub);
out:
	sodium_memzero(b64, sizeof(b64));
	sodium_memzero(priv, sizeof(priv));
	return r;
}

/* --- wg-quick files ------------------------------------------------------ */

/* "/etc/wireguard/wg0.conf" -> "wg0", as wg-quick names the interface. */
static char *name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".conf"))
		n -= 5;
	return xstrndup(base, n);
}

static int wg_import_run(int argc, char **argv)
{
	const char *path = NULL, *name = NULL;
	struct diag_list dl = { 0 };
	struct wg_quick q;
	char *text = NULL, *hcl = NULL, *owned = NULL;
	size_t len = 0;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--name"))
			return cli_usage_error(&cli_cmd_wg, "import: --name "
					       "needs a NAME");
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(&cli_cmd_wg, "import: unknown "
					       "option '%s'", argv[i]);
		else if (path)
			return cli_usage_error(&cli_cmd_wg, "import: one FILE "
					       "only");
		else
			path = argv[i];
	}
	if (!path)
		return cli_usage_error(&cli_cmd_wg, "import needs a FILE");
	if (!name && !strcmp(path, "-"))
		return cli_usage_error(&cli_cmd_wg, "import -: give the "
				       "device's --name");
	if (!name)
		name = owned = name_from_path(path);
	r = file_read(path, MOAT_MAX_CONFIG_BYTES, &text, &len);
	if (r < 0) {
		fprintf(stderr, "moat wg import: %s: %s\n", path,
			r == -EFBIG ? "file too large" : strerror(-r));
		free(owned);
		return MOAT_EXIT_USAGE;
	}
	r = MOAT_EXIT_BAD;
	if (wg_quick_parse(text, len, path, &q, &dl) == 0) {
		hcl = wg_quick_to_hcl(&q, name, &dl);
		wg_quick_free(&q);
	}
	diag_sort(&dl);
	diag_print(&dl, stderr);
	if (hcl) {
		fputs(hcl, stdout);
		r = fflush(stdout) ? MOAT_EXIT_BAD : MOAT_EXIT_OK;
		sodium_memzero(hcl, strlen(hcl));
		free(hcl);
	}
	sodium_memzero(text, len);
	free(text);
	free(owned);
	diag_list_free(&dl);
	return r;
}

/* --- the table ----------------------------------------------------------- */

static const struct wg_subcmd wg_subcmds[] = {
	{ "genkey", wg_genkey_run },
	{ "pubkey", wg_pubkey_run },
	{ "genpsk", wg_genpsk_run },
	{ "import", wg_import_run },
	/* Devices and peers (cli/wg_peer.c). */
	{ "peer", cli_wg_peer },
	{ "export", cli_wg_export },
	{ "supervise", cli_wg_supervise },
};

static int wg_run(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage_error(&cli_cmd_wg, "which subcommand?");
	for (size_t i = 0; i < ARRAY_SIZE(wg_subcmds); i++)
		if (!strcmp(argv[1], wg_subcmds[i].name))
			return wg_subcmds[i].run(argc - 1, argv + 1);
	return cli_usage_error(&cli_cmd_wg, "unknown subcommand '%s'",
			       argv[1]);
}

const struct cli_cmd cli_cmd_wg = {
	.name = "wg",
	.summary = "WireGuard keys, peers, client configs and wg-quick files",
	.help =
	"usage: moat wg genkey\n"
	"       moat wg pubkey < PRIVATE_KEY\n"
	"       moat wg genpsk\n"
	"       moat wg import FILE [--name NAME]\n"
	"       moat wg peer add DEVICE NAME [--public-key KEY]\n"
	"                [--allowed-ips A,B] [--endpoint ADDR:PORT]\n"
	"                [--keepalive S] [--psk] [export options]\n"
	"       moat wg peer add DEVICE --from FILE\n"
	"       moat wg peer del DEVICE NAME|KEY\n"
	"       moat wg peer list DEVICE [--json]\n"
	"       moat wg peer show DEVICE NAME|KEY [--json]\n"
	"       moat wg export DEVICE PEER [--server-endpoint HOST[:PORT]]\n"
	"                [--all-traffic] [--qr | --png FILE [--width PX]]\n"
	"  (each takes -c FILE, default " MOAT_DEFAULT_CONFIG ")\n\n"
	"genkey  prints a new private key (base64), as `wg genkey`.\n"
	"pubkey  reads a private key on stdin and prints its public key, as\n"
	"        `wg pubkey`: 44 characters of base64, then only blanks.\n"
	"genpsk  prints a new preshared key, as `wg genpsk`.\n"
	"import  reads a wg-quick file (/etc/wireguard/wg0.conf) and prints\n"
	"        the same device as moat HCL, a vpn { wireguard \"NAME\" }\n"
	"        block to paste into the config. NAME (the device and its\n"
	"        interface) defaults to FILE's name without .conf; FILE -\n"
	"        is stdin and needs --name. Every key wg-quick knows is\n"
	"        read, in any case; an unknown or repeated key is an error.\n"
	"        PreUp, PostUp, PreDown, PostDown, SaveConfig and DNS search\n"
	"        domains are not converted: each is a warning at its line,\n"
	"        and nothing is ever run. A peer is named by a comment\n"
	"        \"# Name = alice\" before or in its [Peer] section (also\n"
	"        \"### Client alice\", \"### begin alice ###\", or a lone\n"
	"        \"# alice\" on the line before), else peer1, peer2, ...\n\n"
	"peer add  keeps a runtime peer of DEVICE in the state store\n"
	"        (SQLite under state_dir) and sends that peer alone to the\n"
	"        device when it is up; every moat apply merges it with the\n"
	"        config's peers (the same name or key twice is an error).\n"
	"        Without --allowed-ips it gets the first free address of\n"
	"        the device's subnets; without --public-key a key pair is\n"
	"        made and the client's config (with its private key) is\n"
	"        printed once, as text, --qr or --png. --from FILE adds\n"
	"        \"NAME KEY ALLOWED_IPS\" lines, one peer at a time.\n"
	"peer del  removes a runtime peer from the store and the device;\n"
	"        a config peer is removed in the config.\n"
	"peer list, show  the config's and the runtime peers, with the\n"
	"        device's endpoint, latest handshake and bytes.\n"
	"export  the client's wg-quick file of a peer: Address (its allowed\n"
	"        IPs), DNS, the server's key and Endpoint (--server-endpoint,\n"
	"        else the first address of the interface with a gateway),\n"
	"        AllowedIPs (the device's subnets; --all-traffic: all).\n"
	"        The client's private key is not kept, so it is a comment.\n\n"
	"Devices are made by moat apply from vpn { wireguard } blocks: the\n"
	"kernel's wireguard link when it has one, else wireguard-go under\n"
	"moat's supervisor (restarted when it dies). A device without a key\n"
	"in the config gets one, kept in STATE_DIR/wg/NAME.key (0600).\n\n"
	"Keys are read and written like wg's, so either tool takes the\n"
	"other's: `moat wg genkey | tee key | moat wg pubkey` and\n"
	"`wg pubkey < key` print the same. Keys are never logged.\n\n"
	"Example:\n"
	"  umask 077; moat wg genkey > wg0.key\n"
	"  moat wg import /etc/wireguard/wg0.conf > wg0.hcl\n\n"
	"Exit status: 0 done, 1 a bad key or file (errors on stderr as\n"
	"FILE:LINE:COL), 2 usage error or FILE unreadable.\n",
	.run = wg_run,
};
