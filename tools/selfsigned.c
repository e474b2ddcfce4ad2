/*
 * A fresh self-signed P-256 certificate for localhost and 127.0.0.1/::1,
 * made at start by `skiff serve` when no --cert is given (valid 30 days).
 */
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "tool.h"

static int export_pem(gnutls_datum_t *out, int is_key, void *obj)
{
    return is_key ? gnutls_x509_privkey_export2(obj, GNUTLS_X509_FMT_PEM, out)
                  : gnutls_x509_crt_export2(obj, GNUTLS_X509_FMT_PEM, out);
}

int tool_make_self_signed(tool_pem *cert, tool_pem *key)
{
    gnutls_x509_privkey_t pk = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t c = {0}, k = {0};
    int rv = -1;
    unsigned char serial[16];
    if (getrandom(serial, sizeof serial, 0) != sizeof serial) return -1;
    serial[0] &= 0x7f; /* a positive serial number */
    static const unsigned char v4[4] = {127, 0, 0, 1};
    static const unsigned char v6[16] = {[15] = 1};
    time_t now = time(NULL);
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
    cert->data = malloc(c.size);
    key->data = malloc(k.size);
    if (!cert->data || !key->data) goto out;
    memcpy(cert->data, c.data, c.size);
    memcpy(key->data, k.data, k.size);
    cert->len = c.size;
    key->len = k.size;
    rv = 0;
out:
    if (rv) {
        free(cert->data);
        free(key->data);
        cert->data = key->data = NULL;
    }
    gnutls_free(c.data);
    gnutls_free(k.data);
    if (crt) gnutls_x509_crt_deinit(crt);
    if (pk) gnutls_x509_privkey_deinit(pk);
    return rv;
}
