/* A self-signed certificate for api's HTTPS when the config names none.
 * ctl (root) makes it once, with GnuTLS's x509 API, and reads it back at
 * each start to check it and give its fingerprint. The key never leaves
 * this file but to disk (0600); its buffers are wiped. It must not
 * replace a file it did not make whole: a certificate without its key
 * is an error for the operator, not something to paper over. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "base/file.h"
#include "base/util.h"
#include "config/addr.h"
#include "ctl/selfsign.h"

/* What a state file may hold: a PEM certificate or key is a few KiB. */
#define PEM_MAX (64u * 1024)

static void datum_wipe(gnutls_datum_t *d)
{
	if (d->data) {
		sodium_memzero(d->data, d->size);
		gnutls_free(d->data);
	}
	d->data = NULL;
	d->size = 0;
}

/* Reads path: 0, -ENOENT when it does not exist, -1 with err otherwise. */
static int pem_read(const char *path, char **data, size_t *len, char *err,
		    size_t errlen)
{
	int r = file_read(path, PEM_MAX, data, len);

	if (r == -ENOENT)
		return r;
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return -1;
	}
	return 0;
}

static void buf_wipe(char *p, size_t n)
{
	if (p)
		sodium_memzero(p, n);
	free(p);
}

/* The key in path, parsed: 0, -ENOENT, or -1 with err. */
static int key_load(const char *path, gnutls_x509_privkey_t *key, char *err,
		    size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	gnutls_datum_t d;
	int r = pem_read(path, &data, &len, err, errlen);

	if (r < 0)
		return r;
	d = (gnutls_datum_t){ .data = (unsigned char *)data,
			      .size = (unsigned)len };
	if ((r = gnutls_x509_privkey_init(key)) < 0 ||
	    (r = gnutls_x509_privkey_import2(*key, &d, GNUTLS_X509_FMT_PEM,
					     NULL, 0)) < 0) {
		snprintf(err, errlen, "%s: not a PEM private key (%s)", path,
			 gnutls_strerror(r));
		gnutls_x509_privkey_deinit(*key);
		*key = NULL;
		r = -1;
	}
	buf_wipe(data, len);
	return r < 0 ? r : 0;
}

/* fp as "AB:CD:..." from the SHA-256 of crt's DER. */
static int fingerprint(gnutls_x509_crt_t crt, char fp[SELFSIGN_FP_LEN])
{
	unsigned char md[32];
	size_t n = sizeof(md);
	int r = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, md,
						&n);

	if (r < 0 || n != sizeof(md))
		return -1;
	for (size_t i = 0; i < n; i++)
		snprintf(fp + 3 * i, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
	return 0;
}

/* The certificate in path, parsed, its key's the one in key: 0 with fp,
 * -ENOENT, or -1 with err. */
static int cert_check(const char *path, gnutls_x509_privkey_t key,
		      const char *key_path, char fp[SELFSIGN_FP_LEN],
		      char *err, size_t errlen)
{
	gnutls_x509_crt_t crt = NULL;
	unsigned char a[64], b[64];
	size_t na = sizeof(a), nb = sizeof(b);
	char *data = NULL;
	size_t len = 0;
	gnutls_datum_t d;
	int r = pem_read(path, &data, &len, err, errlen);

	if (r < 0)
		return r;
	d = (gnutls_datum_t){ .data = (unsigned char *)data,
			      .size = (unsigned)len };
	if ((r = gnutls_x509_crt_init(&crt)) < 0 ||
	    (r = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM)) < 0) {
		snprintf(err, errlen, "%s: not a PEM certificate (%s)", path,
			 gnutls_strerror(r));
		r = -1;
		goto out;
	}
	r = -1;
	if (gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a,
				       &na) < 0 ||
	    gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b,
					   &nb) < 0 ||
	    na != nb || memcmp(a, b, na)) {
		snprintf(err, errlen, "%s: its key is not the one in %s", path,
			 key_path);
		goto out;
	}
	if (fingerprint(crt, fp) < 0) {
		snprintf(err, errlen, "%s: cannot take its fingerprint", path);
		goto out;
	}
	r = 0;
out:
	gnutls_x509_crt_deinit(crt);
	free(data);
	return r;
}

/* A new ECDSA P-256 key, written to path (PKCS#8 PEM, 0600). */
static int key_make(const char *path, gnutls_x509_privkey_t *key, char *err,
		    size_t errlen)
{
	gnutls_datum_t pem = { 0 };
	int r;

	if ((r = gnutls_x509_privkey_init(key)) < 0 ||
	    (r = gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
			GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
			0)) < 0 ||
	    (r = gnutls_x509_privkey_export2_pkcs8(*key, GNUTLS_X509_FMT_PEM,
			NULL, GNUTLS_PKCS_PLAIN, &pem)) < 0) {
		snprintf(err, errlen, "%s: cannot make a key: %s", path,
			 gnutls_strerror(r));
		goto fail;
	}
	if ((r = file_write_atomic(path, pem.data, pem.size, 0700)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		goto fail;
	}
	datum_wipe(&pem);
	return 0;
fail:
	datum_wipe(&pem);
	gnutls_x509_privkey_deinit(*key);
	*key = NULL;
	return -1;
}

/* Subject and SAN: "moat HOSTNAME"; the hostname, localhost and each
 * listening address that names one. */
static int crt_names(gnutls_x509_crt_t crt, const char *const *listen,
		     size_t n)
{
	char host[256] = "", cn[300];
	int r;

	if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
		snprintf(host, sizeof(host), "localhost");
	snprintf(cn, sizeof(cn), "moat %s", host);
	if ((r = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME,
					       0, cn, strlen(cn))) < 0)
		return r;
	if (strcmp(host, "localhost") &&
	    (r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
			host, (unsigned)strlen(host), GNUTLS_FSAN_APPEND)) < 0)
		return r;
	if ((r = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME,
			"localhost", 9, GNUTLS_FSAN_APPEND)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		const struct sockaddr_in *v4 = (const void *)&ss;
		const struct sockaddr_in6 *v6 = (const void *)&ss;
		const void *ip = NULL;
		unsigned iplen = 0;

		if (!listen_parse(listen[i], &ss, NULL))
			continue;
		if (ss.ss_family == AF_INET && v4->sin_addr.s_addr) {
			ip = &v4->sin_addr;
			iplen = 4;
		} else if (ss.ss_family == AF_INET6 &&
			   !IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr)) {
			ip = &v6->sin6_addr;
			iplen = 16;
		}
		if (ip && (r = gnutls_x509_crt_set_subject_alt_name(crt,
				GNUTLS_SAN_IPADDRESS, ip, iplen,
				GNUTLS_FSAN_APPEND)) < 0)
			return r;
	}
	return 0;
}

/* 16 random bytes, positive and a full 16 bytes long in DER. */
static int crt_serial(gnutls_x509_crt_t crt)
{
	unsigned char serial[16];
	int r = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));

	if (r < 0)
		return r;
	serial[0] = (serial[0] & 0x7f) | 0x40;
	return gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
}

/* now - 1 h to the same time ten years on. */
static int crt_validity(gnutls_x509_crt_t crt)
{
	time_t now = time(NULL), end;
	struct tm tm;
	int r;

	gmtime_r(&now, &tm);
	tm.tm_year += 10;
	end = timegm(&tm);
	if ((r = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0)
		return r;
	return gnutls_x509_crt_set_expiration_time(crt, end);
}

/* A certificate for key, self-signed, written to path. */
static int cert_make(const char *path, gnutls_x509_privkey_t key,
		     const char *const *listen, size_t n, char *err,
		     size_t errlen)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t pem = { 0 };
	unsigned char kid[64];
	size_t nkid = sizeof(kid);
	int r;

	if ((r = gnutls_x509_crt_init(&crt)) < 0 ||
	    (r = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (r = crt_serial(crt)) < 0 ||
	    (r = crt_validity(crt)) < 0 ||
	    (r = crt_names(crt, listen, n)) < 0 ||
	    (r = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (r = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (r = gnutls_x509_crt_set_key_usage(crt,
			GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (r = gnutls_x509_crt_set_key_purpose_oid(crt,
			GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (r = gnutls_x509_crt_get_key_id(crt, 0, kid, &nkid)) < 0 ||
	    (r = gnutls_x509_crt_set_subject_key_id(crt, kid, nkid)) < 0 ||
	    (r = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256,
				       0)) < 0 ||
	    (r = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM,
					 &pem)) < 0) {
		snprintf(err, errlen, "%s: cannot make a certificate: %s",
			 path, gnutls_strerror(r));
		r = -1;
		goto out;
	}
	if ((r = file_write_atomic(path, pem.data, pem.size, 0700)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		r = -1;
	}
out:
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(crt);
	return r;
}

int selfsign_ensure(const char *cert, const char *key,
		    const char *const *listen, size_t n,
		    char fp[SELFSIGN_FP_LEN], bool *made, char *err,
		    size_t errlen)
{
	gnutls_x509_privkey_t k = NULL;
	bool have_cert = access(cert, F_OK) == 0;
	int r;

	*made = false;
	r = key_load(key, &k, err, errlen);
	if (r == -ENOENT && have_cert) {
		snprintf(err, errlen, "%s: missing, but %s is there (remove "
			 "both to have a new pair made)", key, cert);
		return -1;
	}
	if (r == -ENOENT)
		r = key_make(key, &k, err, errlen);
	if (r < 0)
		return -1;
	r = cert_check(cert, k, key, fp, err, errlen);
	if (r == -ENOENT) {
		*made = true;
		r = cert_make(cert, k, listen, n, err, errlen);
		if (r == 0)
			r = cert_check(cert, k, key, fp, err, errlen);
	}
	gnutls_x509_privkey_deinit(k);
	return r < 0 ? -1 : 0;
}
