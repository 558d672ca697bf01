/* The certificate ctl serves on a tls_listen that names no tls_cert and
 * tls_key: a self-signed one (ECDSA P-256), made on first start and kept
 * in the state directory. I/O: reads and writes those two files. */
#ifndef MOAT_CTL_SELFSIGN_H
#define MOAT_CTL_SELFSIGN_H
#include <stdbool.h>
#include <stddef.h>

/* "AB:CD:...": 32 bytes as uppercase hex with colons, and the NUL. */
#define SELFSIGN_FP_LEN 96

/* Makes sure cert and key exist and belong together: made when neither
 * exists (their directory 0700, each file 0600 and written atomically);
 * a certificate alone is never replaced, a key alone gets a certificate.
 * The certificate is for "moat HOSTNAME": SAN the hostname, "localhost"
 * and each of listen[n] (listen_parse's syntax) that is not a wildcard.
 * fp gets its SHA-256 fingerprint, *made whether it was made now.
 * 0, or -1 with err naming the file that is wrong. */
int selfsign_ensure(const char *cert, const char *key,
		    const char *const *listen, size_t n,
		    char fp[SELFSIGN_FP_LEN], bool *made, char *err,
		    size_t errlen);

#endif
