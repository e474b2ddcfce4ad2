/*
 * How fast each candidate crypto library seals QUIC packets, and how close
 * skiff_packet_protect() comes to the raw AEAD it is built on.
 *
 * Three parts, one line per measurement:
 *   aead     each AEAD x {GnuTLS gnutls_aead_cipher_encryptv2, OpenSSL EVP,
 *            nettle} sealing 1200- and 1452-byte payloads in place, with a
 *            short-header-sized AAD and a fresh nonce per packet (IV xor pn,
 *            RFC 9001 §5.3), as a sender does;
 *   hp       one header-protection mask (RFC 9001 §5.4.3/§5.4.4) per call:
 *            AES-ECB of one block via OpenSSL EVP or nettle, ChaCha20 via
 *            OpenSSL EVP or nettle, and the library's own skiff_aead_hp_mask
 *            (for ChaCha20, its portable RFC 8439 block function);
 *   protect  skiff_packet_protect() of whole 1452-byte 1-RTT packets (11-byte
 *            short header, 1425-byte payload, tag; AEAD + header protection,
 *            through the library) next to the raw AEAD of the backend the
 *            library chose sealing the same payload under the same AAD, and
 *            the ratio of the two. Both count 1452 bytes per packet.
 *
 * Usage: aead_bench [aead|hp|protect] (no argument: all three). Each figure
 * is the best of a few short rounds, since the machine is shared; the whole
 * run takes about 10 s. Results inform docs/internals/
 * packet-protection.md; nothing here asserts a time.
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/aes.h>
#include <nettle/chacha-poly1305.h>
#include <nettle/chacha.h>
#include <nettle/gcm.h>
#include <openssl/evp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quic/aead.h"
#include "quic/packet_protection.h"

#define ROUND_NS 100000000LL /* one round: 0.1 s */
#define ROUNDS 3
#define BATCH 64
#define AAD_LEN 11 /* short header: first byte, 8-byte DCID, 2-byte packet number */
#define MAX_PKT 1600

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "aead_bench: %s failed\n", what);
    exit(1);
}

static const char *alg_name[] = {"aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"};

/* ---- candidates: the same seal written against each library ---- */

enum backend { B_GNUTLS, B_OPENSSL, B_NETTLE, B_COUNT };
static const char *backend_name[] = {"gnutls", "openssl", "nettle"};

typedef struct cand {
    enum backend b;
    skiff_aead_alg alg;
    gnutls_aead_cipher_hd_t gt;
    EVP_CIPHER_CTX *ossl;
    union {
        struct gcm_aes128_ctx g128;
        struct gcm_aes256_ctx g256;
        struct chacha_poly1305_ctx cp;
    } nt;
} cand;

static void cand_init(cand *c, enum backend b, skiff_aead_alg alg, const uint8_t *key)
{
    memset(c, 0, sizeof *c);
    c->b = b;
    c->alg = alg;
    size_t klen = skiff_aead_key_len(alg);
    switch (b) {
    case B_GNUTLS: {
        static const gnutls_cipher_algorithm_t ga[] = {
            GNUTLS_CIPHER_AES_128_GCM, GNUTLS_CIPHER_AES_256_GCM, GNUTLS_CIPHER_CHACHA20_POLY1305};
        gnutls_datum_t k = {(unsigned char *)key, (unsigned)klen};
        if (gnutls_aead_cipher_init(&c->gt, ga[alg], &k) < 0) die("gnutls_aead_cipher_init");
        break;
    }
    case B_OPENSSL: {
        const EVP_CIPHER *oc = alg == SKIFF_AEAD_AES_128_GCM   ? EVP_aes_128_gcm()
                               : alg == SKIFF_AEAD_AES_256_GCM ? EVP_aes_256_gcm()
                                                               : EVP_chacha20_poly1305();
        c->ossl = EVP_CIPHER_CTX_new();
        if (!c->ossl || EVP_EncryptInit_ex(c->ossl, oc, NULL, key, NULL) != 1)
            die("EVP_EncryptInit_ex");
        break;
    }
    case B_NETTLE:
        if (alg == SKIFF_AEAD_AES_128_GCM)
            gcm_aes128_set_key(&c->nt.g128, key);
        else if (alg == SKIFF_AEAD_AES_256_GCM)
            gcm_aes256_set_key(&c->nt.g256, key);
        else
            chacha_poly1305_set_key(&c->nt.cp, key);
        break;
    default:
        break;
    }
}

static void cand_free(cand *c)
{
    if (c->gt) gnutls_aead_cipher_deinit(c->gt);
    EVP_CIPHER_CTX_free(c->ossl);
}

static void cand_seal(cand *c, const uint8_t *nonce, const uint8_t *aad, uint8_t *data, size_t len,
                      uint8_t *tag)
{
    switch (c->b) {
    case B_GNUTLS: {
        giovec_t a = {(void *)aad, AAD_LEN}, d = {data, len};
        size_t tl = 16;
        if (gnutls_aead_cipher_encryptv2(c->gt, nonce, 12, &a, 1, &d, 1, tag, &tl) < 0)
            die("gnutls_aead_cipher_encryptv2");
        break;
    }
    case B_OPENSSL: {
        int n;
        if (EVP_EncryptInit_ex(c->ossl, NULL, NULL, NULL, nonce) != 1 ||
            EVP_EncryptUpdate(c->ossl, NULL, &n, aad, AAD_LEN) != 1 ||
            EVP_EncryptUpdate(c->ossl, data, &n, data, (int)len) != 1 ||
            EVP_EncryptFinal_ex(c->ossl, data + n, &n) != 1 ||
            EVP_CIPHER_CTX_ctrl(c->ossl, EVP_CTRL_AEAD_GET_TAG, 16, tag) != 1)
            die("EVP seal");
        break;
    }
    case B_NETTLE:
        if (c->alg == SKIFF_AEAD_AES_128_GCM) {
            gcm_aes128_set_iv(&c->nt.g128, 12, nonce);
            gcm_aes128_update(&c->nt.g128, AAD_LEN, aad);
            gcm_aes128_encrypt(&c->nt.g128, len, data, data);
            gcm_aes128_digest(&c->nt.g128, 16, tag);
        } else if (c->alg == SKIFF_AEAD_AES_256_GCM) {
            gcm_aes256_set_iv(&c->nt.g256, 12, nonce);
            gcm_aes256_update(&c->nt.g256, AAD_LEN, aad);
            gcm_aes256_encrypt(&c->nt.g256, len, data, data);
            gcm_aes256_digest(&c->nt.g256, 16, tag);
        } else {
            chacha_poly1305_set_nonce(&c->nt.cp, nonce);
            chacha_poly1305_update(&c->nt.cp, AAD_LEN, aad);
            chacha_poly1305_encrypt(&c->nt.cp, len, data, data);
            chacha_poly1305_digest(&c->nt.cp, 16, tag);
        }
        break;
    default:
        break;
    }
}

static uint8_t pkt[MAX_PKT];
static const uint8_t iv[12] = {0xe0, 0x45, 0x9b, 0x34, 0x74, 0xbd,
                               0xd0, 0xe4, 0x4a, 0x41, 0xc1, 0x44};

static void make_nonce(uint8_t *nonce, uint64_t pn)
{
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
}

/* Packets per second, best of ROUNDS, sealing payload_len bytes. */
static double bench_cand(cand *c, size_t payload_len)
{
    double best = 0;
    uint64_t pn = 0;
    for (int r = 0; r < ROUNDS; r++) {
        long long start = now_ns(), end;
        long long n = 0;
        do {
            for (int i = 0; i < BATCH; i++) {
                uint8_t nonce[12];
                make_nonce(nonce, pn++);
                cand_seal(c, nonce, pkt, pkt + AAD_LEN, payload_len, pkt + AAD_LEN + payload_len);
            }
            n += BATCH;
            end = now_ns();
        } while (end - start < ROUND_NS);
        double rate = (double)n * 1e9 / (double)(end - start);
        if (rate > best) best = rate;
    }
    return best;
}

static void print_rate(const char *prefix, double pps, size_t payload_len, const char *suffix)
{
    printf("%s %zuB: %.2f Mpkt/s %.2f GB/s%s\n", prefix, payload_len, pps / 1e6,
           pps * (double)payload_len / 1e9, suffix);
}

static void aead_part(const uint8_t *key)
{
    static const size_t sizes[] = {1200, 1452};
    for (int alg = 0; alg < SKIFF_AEAD_ALG_COUNT; alg++) {
        for (int b = 0; b < B_COUNT; b++) {
            cand c;
            cand_init(&c, (enum backend)b, (skiff_aead_alg)alg, key);
            for (size_t s = 0; s < 2; s++) {
                char prefix[64];
                snprintf(prefix, sizeof prefix, "aead %s %s", alg_name[alg], backend_name[b]);
                print_rate(prefix, bench_cand(&c, sizes[s]), sizes[s], "");
            }
            cand_free(&c);
        }
    }
}

/* ---- header protection: one mask per call ---- */

typedef struct hp_cand {
    int chacha;
    enum { HP_OPENSSL, HP_NETTLE, HP_LIBRARY } via;
    EVP_CIPHER_CTX *ctx;
    struct aes128_ctx aes;
    struct chacha_ctx cc;
    skiff_aead_hp lib;
} hp_cand;

static void hp_mask(hp_cand *h, const uint8_t *sample, uint8_t *mask)
{
    static const uint8_t zeros[5];
    uint8_t block[16];
    int n;
    switch (h->via) {
    case HP_OPENSSL:
        if (h->chacha) {
            /* EVP's ChaCha20 IV is the 4-byte little-endian counter then the
             * 12-byte nonce: exactly the sample (RFC 9001 §5.4.4). */
            if (EVP_EncryptInit_ex(h->ctx, NULL, NULL, NULL, sample) != 1 ||
                EVP_EncryptUpdate(h->ctx, mask, &n, zeros, 5) != 1)
                die("EVP chacha20");
        } else {
            if (EVP_EncryptUpdate(h->ctx, block, &n, sample, 16) != 1) die("EVP aes-ecb");
            memcpy(mask, block, 5);
        }
        break;
    case HP_NETTLE:
        if (h->chacha) {
            chacha_set_nonce96(&h->cc, sample + 4);
            chacha_set_counter32(&h->cc, sample);
            chacha_crypt32(&h->cc, 5, mask, zeros);
        } else {
            aes128_encrypt(&h->aes, 16, block, sample);
            memcpy(mask, block, 5);
        }
        break;
    case HP_LIBRARY:
        if (skiff_aead_hp_mask(&h->lib, sample, mask) < 0) die("skiff_aead_hp_mask");
        break;
    }
}

static void hp_part(const uint8_t *key)
{
    for (int chacha = 0; chacha < 2; chacha++) {
        for (int via = HP_OPENSSL; via <= HP_LIBRARY; via++) {
            hp_cand h = {.chacha = chacha, .via = via};
            skiff_aead_alg alg = chacha ? SKIFF_AEAD_CHACHA20_POLY1305 : SKIFF_AEAD_AES_128_GCM;
            const char *name = via == HP_OPENSSL  ? "openssl"
                               : via == HP_NETTLE ? "nettle"
                                                  : skiff_aead_backend_name(alg, 1);
            if (via == HP_OPENSSL) {
                h.ctx = EVP_CIPHER_CTX_new();
                if (!h.ctx || EVP_EncryptInit_ex(h.ctx, chacha ? EVP_chacha20() : EVP_aes_128_ecb(),
                                                 NULL, key, NULL) != 1)
                    die("EVP hp init");
                EVP_CIPHER_CTX_set_padding(h.ctx, 0);
            } else if (via == HP_NETTLE) {
                if (chacha)
                    chacha_set_key(&h.cc, key);
                else
                    aes128_set_encrypt_key(&h.aes, key);
            } else if (skiff_aead_hp_init(&h.lib, alg, key) < 0) {
                die("skiff_aead_hp_init");
            }
            double best = 0;
            uint8_t mask[5] = {0};
            for (int r = 0; r < ROUNDS; r++) {
                long long start = now_ns(), end, n = 0;
                do {
                    for (int i = 0; i < BATCH; i++) {
                        hp_mask(&h, pkt + (i & 15), mask);
                        pkt[i & 15] ^= mask[0]; /* next sample depends on this mask */
                    }
                    n += BATCH;
                    end = now_ns();
                } while (end - start < ROUND_NS);
                double rate = (double)n * 1e9 / (double)(end - start);
                if (rate > best) best = rate;
            }
            printf("hp %s %s%s: %.1f Mmask/s (%.0f ns per mask)\n", chacha ? "chacha20" : "aes-128",
                   name, via == HP_LIBRARY ? " (the library's skiff_aead_hp_mask)" : "", best / 1e6,
                   1e9 / best);
            EVP_CIPHER_CTX_free(h.ctx);
            skiff_aead_hp_free(&h.lib);
        }
    }
}

/* ---- skiff_packet_protect against the chosen raw AEAD ---- */

static enum backend backend_of(skiff_aead_alg alg)
{
    const char *name = skiff_aead_backend_name(alg, 0);
    for (int b = 0; b < B_COUNT; b++)
        if (strcmp(name, backend_name[b]) == 0) return (enum backend)b;
    die("skiff_aead_backend_name");
    return B_COUNT;
}

static void protect_part(const uint8_t *key)
{
    static const skiff_cipher_suite suites[] = {SKIFF_SUITE_AES_128_GCM_SHA256,
                                                SKIFF_SUITE_AES_256_GCM_SHA384,
                                                SKIFF_SUITE_CHACHA20_POLY1305_SHA256};
    const size_t pkt_len = 1452, pn_offset = 9, pn_len = 2;
    const size_t payload_len = pkt_len - AAD_LEN - SKIFF_AEAD_TAG_LEN;
    for (int alg = 0; alg < SKIFF_AEAD_ALG_COUNT; alg++) {
        skiff_packet_keys k = {0};
        uint8_t secret[48];
        for (size_t i = 0; i < sizeof secret; i++)
            secret[i] = key[i % 32] ^ (uint8_t)i;
        size_t secret_len = alg == SKIFF_AEAD_AES_256_GCM ? 48 : 32;
        if (skiff_packet_keys_from_secret(&k, suites[alg], SKIFF_QUIC_V1, secret, secret_len) < 0)
            die("skiff_packet_keys_from_secret");
        cand c;
        cand_init(&c, backend_of((skiff_aead_alg)alg), (skiff_aead_alg)alg, key);

        /* Alternate the two so that both see the same noise; best of each. */
        double best_raw = 0, best_prot = 0;
        uint64_t pn = 0;
        for (int r = 0; r < ROUNDS + 2; r++) {
            long long start = now_ns(), end, n = 0;
            do {
                for (int i = 0; i < BATCH; i++) {
                    uint8_t nonce[12];
                    make_nonce(nonce, pn++);
                    cand_seal(&c, nonce, pkt, pkt + AAD_LEN, payload_len,
                              pkt + AAD_LEN + payload_len);
                }
                n += BATCH;
                end = now_ns();
            } while (end - start < ROUND_NS);
            double rate = (double)n * 1e9 / (double)(end - start);
            if (rate > best_raw) best_raw = rate;

            start = now_ns();
            n = 0;
            do {
                for (int i = 0; i < BATCH; i++) {
                    /* A fresh plaintext short header each time: protect masks it. */
                    pkt[0] = 0x41;
                    pkt[pn_offset] = (uint8_t)(pn >> 8);
                    pkt[pn_offset + 1] = (uint8_t)pn;
                    if (skiff_packet_protect(&k, pkt, pn_offset, pn_len, pn++, payload_len,
                                             sizeof pkt) != (skiff_ssize)pkt_len)
                        die("skiff_packet_protect");
                }
                n += BATCH;
                end = now_ns();
            } while (end - start < ROUND_NS);
            rate = (double)n * 1e9 / (double)(end - start);
            if (rate > best_prot) best_prot = rate;
        }
        /* Both lines count whole 1452-byte packets: the raw AEAD seals the
         * same 1425-byte payload under the same 11-byte header as AAD. */
        char prefix[96], suffix[64];
        snprintf(prefix, sizeof prefix, "raw     %s %s", alg_name[alg],
                 backend_name[backend_of((skiff_aead_alg)alg)]);
        print_rate(prefix, best_raw, pkt_len, "");
        snprintf(prefix, sizeof prefix, "protect %s (hp %s)", alg_name[alg],
                 skiff_aead_backend_name((skiff_aead_alg)alg, 1));
        snprintf(suffix, sizeof suffix, " (%.0f%% of raw aead)", 100.0 * best_prot / best_raw);
        print_rate(prefix, best_prot, pkt_len, suffix);
        cand_free(&c);
        skiff_packet_keys_clear(&k);
    }
}

int main(int argc, char **argv)
{
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof pkt; i++)
        pkt[i] = (uint8_t)i;
    const char *only = argc > 1 ? argv[1] : NULL; /* "aead", "hp" or "protect" */
    long long start = now_ns();
    if (!only || strcmp(only, "aead") == 0) aead_part(key);
    if (!only || strcmp(only, "hp") == 0) hp_part(key);
    if (!only || strcmp(only, "protect") == 0) protect_part(key);
    printf("total %.1f s (aead/hp: payload bytes, %d-byte AAD; best of %d x 0.1 s)\n",
           (double)(now_ns() - start) / 1e9, AAD_LEN, ROUNDS);
    return 0;
}
