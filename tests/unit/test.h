/*
 * A minimal test harness: each tests/unit/X_test.c is one executable that
 * ctest runs in its own process. CHECK* record a failure and carry on, so one
 * run shows every broken assertion; the exit status is non-zero on failure.
 *
 * Hostile-input tests copy their input into a heap block of exactly the
 * input's size (test_dup_exact), so that the ASan run reports any read past
 * the end of what a decoder was given.
 */
#ifndef SKIFF_TESTS_TEST_H
#define SKIFF_TESTS_TEST_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_checks, test_failures, test_cases;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        test_checks++;                                                                   \
        if (!(cond)) {                                                                   \
            test_failures++;                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                                \
    } while (0)

#define CHECK_EQ(a, b)                                                                   \
    do {                                                                                 \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                  \
        test_checks++;                                                                   \
        if (check_a_ != check_b_) {                                                      \
            test_failures++;                                                             \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n",         \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);                     \
        }                                                                                \
    } while (0)

#define CHECK_U64(a, b)                                                                  \
    do {                                                                                 \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                     \
        test_checks++;                                                                   \
        if (check_a_ != check_b_) {                                                      \
            test_failures++;                                                             \
            fprintf(stderr, "%s:%d: CHECK_U64 failed: %s == %s (0x%" PRIx64              \
                            " != 0x%" PRIx64 ")\n",                                      \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);                     \
        }                                                                                \
    } while (0)

#define CHECK_MEM(a, b, n)                                                               \
    do {                                                                                 \
        test_checks++;                                                                   \
        if (memcmp((a), (b), (n)) != 0) {                                                \
            test_failures++;                                                             \
            fprintf(stderr, "%s:%d: CHECK_MEM failed: %s == %s (%zu bytes)\n", __FILE__, \
                    __LINE__, #a, #b, (size_t)(n));                                      \
            test_dump("  got     ", (const uint8_t *)(a), (n));                          \
            test_dump("  expected", (const uint8_t *)(b), (n));                          \
        }                                                                                \
    } while (0)

#define RUN(fn)                                                                          \
    do {                                                                                 \
        int before_ = test_failures;                                                     \
        test_cases++;                                                                    \
        fn();                                                                            \
        fprintf(stderr, "%s %s\n", test_failures == before_ ? "ok  " : "FAIL", #fn);     \
    } while (0)

static inline void test_dump(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "%s:", label);
    for (size_t i = 0; i < n; i++) fprintf(stderr, "%s%02x", i % 32 ? "" : "\n    ", p[i]);
    fprintf(stderr, "\n");
}

/* Decodes hex (whitespace ignored) into out; returns the byte count. Aborts on
 * malformed hex or overflow: the vectors are the test's own. */
static inline size_t test_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *c = hex; *c; c++) {
        int v;
        if (*c >= '0' && *c <= '9') v = *c - '0';
        else if (*c >= 'a' && *c <= 'f') v = *c - 'a' + 10;
        else if (*c >= 'A' && *c <= 'F') v = *c - 'A' + 10;
        else if (*c == ' ' || *c == '\n' || *c == '\t') continue;
        else abort();
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap) abort();
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) abort();
    return n;
}

/* A heap copy of exactly n bytes (at least one allocated), so reading past it
 * is caught by ASan. Free it with free(). */
static inline uint8_t *test_dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (!d) abort();
    if (n) memcpy(d, p, n);
    return d;
}

/* Prints the summary line and returns the process exit status. */
static inline int test_report(const char *suite)
{
    printf("%s: %d cases, %d checks, %d failed\n", suite, test_cases, test_checks,
           test_failures);
    return test_failures ? 1 : 0;
}

#endif
