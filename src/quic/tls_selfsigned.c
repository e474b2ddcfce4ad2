/*
 * A fresh self-signed P-256 certificate for localhost, 127.0.0.1 and ::1
 * (valid 30 days), for `skiff serve` without --cert and for tests. Made with
 * GnuTLS's X.509 API; the randomness comes from GnuTLS itself, the time of
 * day from the caller (the core reads no clock).
 */
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>

#include "quic/tls.h"

static int export_pem(gnutls_datum_t *out, int is_key, void *obj)
{
    return is_key ? gnutls_x509_privkey_export2(obj, GNUTLS_X509_FMT_PEM, out)
                  : gnutls_x509_crt_export2(obj, GNUTLS_X509_FMT_PEM, out);
}

int skiff_tls_self_signed(int64_t unix_now, uint8_t **cert_pem, size_t *cert_len, uint8_t **key_pem,
                          size_t *key_len)
{
    gnutls_x509_privkey_t pk = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t c = {0}, k = {0};
    int rv = SKIFF_ERR_CRYPTO;
    uint8_t *cert = NULL, *key = NULL;
    unsigned char serial[16];
    if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial) < 0) return SKIFF_ERR_CRYPTO;
    serial[0] &= 0x7f; /* a positive serial number */
    static const unsigned char v4[4] = {127, 0, 0, 1};
    static const unsigned char v6[16] = {[15] = 1};
    time_t now = (time_t)unix_now;
    if (gnutls_x509_privkey_init(&pk) < 0 || gnutls_x509_crt_init(&crt) < 0) goto out;
    if (gnutls_x509_privkey_generate(pk, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
        goto out;
    if (gnutls_x509_crt_set_version(crt, 3) < 0 || gnutls_x509_crt_set_key(crt, pk) < 0 ||
        gnutls_x509_crt_set_serial(crt, serial, sizeof serial) < 0 ||
        gnutls_x509_crt_set_activation_time(crt, now - 3600) < 0 ||
        gnutls_x509_crt_set_expiration_time(crt, now + 30 * 86400) < 0 ||
        gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_APPEND) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, 4, GNUTLS_FSAN_APPEND) < 0 ||
        gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6, 16, GNUTLS_FSAN_APPEND) < 0 ||
        gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) < 0 ||
        gnutls_x509_crt_set_basic_constraints(crt, 0, -1) < 0 ||
        gnutls_x509_crt_sign2(crt, crt, pk, GNUTLS_DIG_SHA256, 0) < 0)
        goto out;
    if (export_pem(&c, 0, crt) < 0 || export_pem(&k, 1, pk) < 0) goto out;
    cert = malloc(c.size);
    key = malloc(k.size);
    if (!cert || !key) {
        rv = SKIFF_ERR_NOMEM;
        goto out;
    }
    memcpy(cert, c.data, c.size);
    memcpy(key, k.data, k.size);
    *cert_pem = cert, *cert_len = c.size;
    *key_pem = key, *key_len = k.size;
    cert = key = NULL;
    rv = 0;
out:
    free(cert);
    free(key);
    gnutls_free(c.data);
    gnutls_free(k.data);
    if (crt) gnutls_x509_crt_deinit(crt);
    if (pk) gnutls_x509_privkey_deinit(pk);
    return rv;
}
