/*
 * Proves the TUN plumbing under skiff's userspace TCP: it opens a TUN device,
 * brings it up, gives the kernel side its addresses, and then plays a host
 * that only answers pings: ICMPv4 echo requests (RFC 792) and ICMPv6 echo
 * requests (RFC 4443 §4.1) sent to one of the "stack" addresses get echo
 * replies with full checksums (the kernel checks them; TUN has no offload).
 * Everything else is counted and ignored, and the first few ignored packets
 * are described, so a test can see the kernel's unasked chatter (router
 * solicitations, MLD reports, neighbour solicitations).
 *
 * It prints "tunping: ready DEV" once the device is configured, and a
 * "tunping: summary ..." line when SECONDS have passed or on SIGTERM/SIGINT.
 *   usage: skiff-tunping DEV SECONDS ADDR...
 * DEV "-" lets the kernel name the device. An ADDR with "/N" (10.9.0.1/24,
 * fd00:9::1/64) is given to the kernel side; one without (10.9.0.2,
 * fd00:9::2) is a stack address that answers pings. Exit status: 0, 1 on a
 * device or I/O error, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/loop.h"
#include "io/tun.h"

#define MAX_STACK_ADDRS 8
#define DESCRIBE_MAX 20 /* ignored packets described one per line */

static volatile sig_atomic_t stop_requested;

static struct {
    unsigned long echo4, echo6;       /* echo replies written */
    unsigned long rs, mld, nd, other; /* ignored packets, by kind */
    unsigned long bad;                /* malformed or bad checksum */
} count;

static uint8_t stack4[MAX_STACK_ADDRS][4], stack6[MAX_STACK_ADDRS][16];
static size_t n4, n6;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The RFC 1071 sum of len bytes added to `sum`, not yet folded. */
static uint32_t sum_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
    for (; len >= 2; p += 2, len -= 2) sum += rd16(p);
    if (len) sum += (uint32_t)p[0] << 8;
    return sum;
}

/* Folds a sum to 16 bits and complements it: the checksum field's value. */
static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The sum of the IPv6 pseudo-header (RFC 8200 §8.1) for an ICMPv6 message. */
static uint32_t pseudo6(const uint8_t *src, const uint8_t *dst, size_t len)
{
    uint32_t sum = sum_bytes(0, src, 16);
    sum = sum_bytes(sum, dst, 16);
    sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
    return sum + 58;
}

static bool is_stack4(const uint8_t *a)
{
    for (size_t i = 0; i < n4; i++)
        if (!memcmp(stack4[i], a, 4)) return true;
    return false;
}

static bool is_stack6(const uint8_t *a)
{
    for (size_t i = 0; i < n6; i++)
        if (!memcmp(stack6[i], a, 16)) return true;
    return false;
}

static void describe(const char *what, int family, const uint8_t *src, const uint8_t *dst)
{
    static unsigned described;
    if (described >= DESCRIBE_MAX) return;
    described++;
    char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
    inet_ntop(family, src, s, sizeof s);
    inet_ntop(family, dst, d, sizeof d);
    printf("tunping: ignored %s from %s to %s\n", what, s, d);
    fflush(stdout);
}

/* An IPv4 packet: answers an echo request to a stack address in `out`.
 * Returns the reply's length, or 0 when it is ignored. */
static size_t handle4(const uint8_t *p, size_t n, uint8_t *out)
{
    char what[64];
    if (n < 20) goto bad;
    size_t hl = (size_t)(p[0] & 15) * 4, total = rd16(p + 2);
    if (hl < 20 || total < hl || total > n) goto bad;
    bool fragment = (rd16(p + 6) & 0x3fff) != 0;
    if (p[9] != 1 || fragment || !is_stack4(p + 16) || total - hl < 8 || p[hl] != 8) {
        if (p[9] == 1 && total > hl) snprintf(what, sizeof what, "IPv4 ICMP type %u", p[hl]);
        else snprintf(what, sizeof what, "IPv4 protocol %u", p[9]);
        count.other++;
        describe(what, AF_INET, p + 12, p + 16);
        return 0;
    }
    if (fold(sum_bytes(0, p, hl)) != 0 || fold(sum_bytes(0, p + hl, total - hl)) != 0) goto bad;

    /* The reply: a fresh 20-byte header (no options), the message with its
     * type changed. */
    size_t mlen = total - hl;
    memset(out, 0, 20);
    out[0] = 0x45;
    wr16(out + 2, (uint16_t)(20 + mlen));
    wr16(out + 4, rd16(p + 4));
    out[6] = 0x40; /* Don't Fragment */
    out[8] = 64;
    out[9] = 1;
    memcpy(out + 12, p + 16, 4);
    memcpy(out + 16, p + 12, 4);
    wr16(out + 10, fold(sum_bytes(0, out, 20)));
    uint8_t *m = out + 20;
    memcpy(m, p + hl, mlen);
    m[0] = 0; /* echo reply */
    wr16(m + 2, 0);
    wr16(m + 2, fold(sum_bytes(0, m, mlen)));
    count.echo4++;
    return 20 + mlen;
bad:
    count.bad++;
    return 0;
}

/* An IPv6 packet: as handle4. */
static size_t handle6(const uint8_t *p, size_t n, uint8_t *out)
{
    if (n < 40) goto bad;
    size_t plen = rd16(p + 4);
    if (40 + plen > n) goto bad;
    const uint8_t *src = p + 8, *dst = p + 24, *m = p + 40;
    uint8_t nh = p[6];
    /* MLD reports carry a hop-by-hop Router Alert option first. */
    if (nh == 0 && plen >= 8) {
        size_t ext = ((size_t)m[1] + 1) * 8;
        if (ext > plen) goto bad;
        nh = m[0];
        m += ext;
        plen -= ext;
    }
    if (nh != 58 || plen < 4) {
        char what[40];
        snprintf(what, sizeof what, "IPv6 next header %u", nh);
        count.other++;
        describe(what, AF_INET6, src, dst);
        return 0;
    }
    if (fold(sum_bytes(pseudo6(src, dst, plen), m, plen)) != 0) goto bad;
    uint8_t type = m[0];
    if (type != 128 || !is_stack6(dst)) {
        const char *what = "ICMPv6 (other)";
        unsigned long *c = &count.other;
        if (type == 133) {
            what = "ICMPv6 router solicitation";
            c = &count.rs;
        } else if (type == 130 || type == 131 || type == 132 || type == 143) {
            what = type == 143 ? "ICMPv6 MLDv2 report" : "ICMPv6 MLD message";
            c = &count.mld;
        } else if (type == 135 || type == 136) {
            what = type == 135 ? "ICMPv6 neighbour solicitation" : "ICMPv6 neighbour advertisement";
            c = &count.nd;
        } else if (type == 128) {
            what = "ICMPv6 echo request to another address";
        }
        (*c)++;
        describe(what, AF_INET6, src, dst);
        return 0;
    }

    memset(out, 0, 40);
    out[0] = 0x60;
    wr16(out + 4, (uint16_t)plen);
    out[6] = 58;
    out[7] = 64;
    memcpy(out + 8, dst, 16);
    memcpy(out + 24, src, 16);
    uint8_t *r = out + 40;
    memcpy(r, m, plen);
    r[0] = 129; /* echo reply */
    wr16(r + 2, 0);
    wr16(r + 2, fold(sum_bytes(pseudo6(out + 8, out + 24, plen), r, plen)));
    count.echo6++;
    return 40 + plen;
bad:
    count.bad++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: skiff-tunping DEV SECONDS ADDR...\n"
                        "  ADDR with /N: the kernel side's; without: a stack address\n");
        return 2;
    }
    const char *devarg = strcmp(argv[1], "-") ? argv[1] : NULL;
    char *end;
    double seconds = strtod(argv[2], &end);
    if (*end || !(seconds > 0)) {
        fprintf(stderr, "tunping: bad SECONDS %s\n", argv[2]);
        return 2;
    }
    for (int i = 3; i < argc; i++) {
        if (strchr(argv[i], '/')) continue;
        if (n4 < MAX_STACK_ADDRS && inet_pton(AF_INET, argv[i], stack4[n4]) == 1) n4++;
        else if (n6 < MAX_STACK_ADDRS && inet_pton(AF_INET6, argv[i], stack6[n6]) == 1) n6++;
        else {
            fprintf(stderr, "tunping: bad or too many stack addresses: %s\n", argv[i]);
            return 2;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    char dev[SKIFF_TUN_NAME_MAX];
    int fd = skiff_tun_open(devarg, dev, sizeof dev);
    if (fd < 0) {
        fprintf(stderr, "tunping: opening the TUN device: %s\n", strerror(-fd));
        return 1;
    }
    int err = skiff_tun_set_up(dev);
    if (err) {
        fprintf(stderr, "tunping: bringing %s up: %s\n", dev, strerror(-err));
        return 1;
    }
    for (int i = 3; i < argc; i++) {
        if (!strchr(argv[i], '/')) continue;
        err = skiff_tun_add_addr(dev, argv[i]);
        if (err) {
            fprintf(stderr, "tunping: adding %s to %s: %s\n", argv[i], dev, strerror(-err));
            return 1;
        }
    }
    printf("tunping: ready %s\n", dev);
    fflush(stdout);

    static uint8_t in[65536], out[65536];
    skiff_time deadline = skiff_clock_now() + (skiff_time)(seconds * 1e9);
    int status = 0;
    while (!stop_requested) {
        skiff_time now = skiff_clock_now();
        if (now >= deadline) break;
        /* At most 200 ms per wait, so a signal just before poll() is seen. */
        skiff_time wait = deadline - now;
        int ms = wait > SKIFF_MS(200) ? 200 : (int)(wait / 1000000u) + 1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, ms) < 0 && errno != EINTR) {
            perror("tunping: poll");
            status = 1;
            break;
        }
        for (;;) {
            skiff_ssize n = skiff_tun_read(fd, in, sizeof in);
            if (n == 0) break;
            if (n < 0) {
                if (n == -EMSGSIZE) {
                    count.bad++;
                    continue;
                }
                fprintf(stderr, "tunping: read: %s\n", strerror((int)-n));
                status = 1;
                break;
            }
            size_t reply = 0, len = (size_t)n;
            if (in[0] >> 4 == 4) reply = handle4(in, len, out);
            else if (in[0] >> 4 == 6) reply = handle6(in, len, out);
            else count.bad++;
            if (reply) {
                skiff_ssize w = skiff_tun_write(fd, out, reply);
                if (w < 0) fprintf(stderr, "tunping: write: %s\n", strerror((int)-w));
            }
        }
        if (status) break;
    }
    close(fd);
    printf("tunping: summary dev=%s echo4=%lu echo6=%lu ignored=%lu (rs=%lu mld=%lu nd=%lu "
           "other=%lu) bad=%lu%s\n",
           dev, count.echo4, count.echo6, count.rs + count.mld + count.nd + count.other, count.rs,
           count.mld, count.nd, count.other, count.bad, stop_requested ? " (signal)" : "");
    return status;
}
