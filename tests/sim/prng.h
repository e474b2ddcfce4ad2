/*
 * A small seeded pseudo-random generator for the simulator and the
 * impairment model: xoshiro256** (Blackman and Vigna), seeded through
 * splitmix64 so that any 64-bit seed, 0 included, gives a well-mixed state.
 *
 * Only integer arithmetic on fixed-width types, so a seed gives the same
 * sequence on every run, build type and machine. Not for cryptography: the
 * library's own randomness lives in src/common, this is for reproducible
 * tests only.
 */
#ifndef SKIFF_SIM_PRNG_H
#define SKIFF_SIM_PRNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct skiff_prng {
    uint64_t s[4];
} skiff_prng;

/* One splitmix64 step: advances *x and returns a mixed value. */
static inline uint64_t skiff_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static inline void skiff_prng_seed(skiff_prng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = skiff_splitmix64(&x);
    /* xoshiro must never hold the all-zero state (it would stay there). */
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1;
}

static inline uint64_t skiff_prng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static inline uint64_t skiff_prng_next(skiff_prng *r)
{
    uint64_t *s = r->s;
    uint64_t result = skiff_prng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = skiff_prng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) without modulo bias (rejection); 0 when n is 0. */
static inline uint64_t skiff_prng_below(skiff_prng *r, uint64_t n)
{
    if (n == 0) return 0;
    uint64_t threshold = (0 - n) % n; /* 2^64 mod n: values below it are biased */
    for (;;) {
        uint64_t v = skiff_prng_next(r);
        if (v >= threshold) return v % n;
    }
}

/* True with probability ppm / 1,000,000. Always draws once, so that the
 * sequence of later draws does not depend on the probability. */
static inline bool skiff_prng_chance(skiff_prng *r, uint32_t ppm)
{
    return skiff_prng_below(r, 1000000u) < ppm;
}

#endif
