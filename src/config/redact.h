/* Secrets out of a config text, and back in: `GET /api/config` returns the
 * running config with every secret replaced by "(redacted)", and a staged
 * text edited from it gets the running values back for the placeholders
 * the user left alone. Pure: no I/O; edits the text by the byte offsets of
 * the values, so comments and formatting stay as they are.
 *
 * A secret is the value of a body attribute (any block, any depth) named
 * one of: private_key, preshared_key (WireGuard), password, smtp_password,
 * secret, secret_key, psk, token, api_token, auth_key, bootstrap_key,
 * user_key, license_key, key (Flywall's API keys, notification channels,
 * Tailscale, replication, DDNS, GeoIP, which moat reads and warns about).
 * Not secrets: paths to key files (private_key_file, tls_key, ...), public
 * keys, names of environment variables (auth_key_env). Object values are
 * not looked into (no secret is an object field in the schema). */
#ifndef MOAT_CONFIG_REDACT_H
#define MOAT_CONFIG_REDACT_H

#include <stdbool.h>
#include <stddef.h>

/* The placeholder, as a string value. */
#define CFG_REDACTED "(redacted)"

/* True when an attribute of that name holds a secret. */
bool cfg_secret_attr(const char *name);

/* text with the whole value of each secret attribute, a string, a
 * template, a heredoc or any other expression, replaced by "(redacted)"
 * (quotes included); null values are kept (they hold nothing). Every other
 * byte is kept. NULL when text does not parse (nothing unparsed is ever
 * returned). The caller frees; *outlen (may be NULL) gets the length. */
char *cfg_redact(const char *text, size_t len, size_t *outlen);

/* staged (slen bytes) with the value of each secret attribute that is
 * exactly the string "(redacted)" (no ${NAME} in it) replaced by the
 * source text of the value of the same attribute in running, found by the
 * same chain of blocks (type, labels and index among the blocks with the
 * same type and labels). Every other byte is kept, so
 * cfg_unredact(cfg_redact(x), x) == x. NULL with "LINE:COL: message" in
 * err when staged does not parse, when a placeholder has no counterpart
 * ("LINE:COL: private_key is \"(redacted)\" but the running config has no
 * vpn.wireguard \"wg0\""), or with "running config: LINE:COL does not
 * parse" (no message: it could quote a secret) when running does not
 * parse. The result holds secrets: the caller wipes it
 * (sodium_memzero) before freeing it. */
char *cfg_unredact(const char *staged, size_t slen, const char *running,
		   size_t rlen, size_t *outlen, char *err, size_t errlen);

#endif
