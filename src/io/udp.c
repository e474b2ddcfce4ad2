/*
 * Linux UDP sockets for QUIC: recvmmsg/sendmmsg batches, UDP GRO/GSO
 * (udp(7) UDP_GRO, UDP_SEGMENT), ECN through IP_TOS / IPV6_TCLASS control
 * messages (RFC 9000 §13.4), the receiving address through IP_PKTINFO /
 * IPV6_PKTINFO, and the Don't Fragment bit (RFC 9000 §14: QUIC datagrams
 * must not be fragmented; DPLPMTUD probes sizes itself).
 */
#include "io/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define BATCH_MAX 64
#define CMSG_SPACE_ALL                                                                       \
    (CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(struct in6_pktinfo)) +                      \
     CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint16_t)) + 64)

int skiff_addr_parse(skiff_addr *a, const char *text)
{
    memset(a, 0, sizeof *a);
    char host[128];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || strlen(colon + 1) == 0) return SKIFF_ERR_INVALID_ARGUMENT;
    size_t hlen = (size_t)(colon - text);
    if (text[0] == '[') {
        if (hlen < 2 || text[hlen - 1] != ']') return SKIFF_ERR_INVALID_ARGUMENT;
        text++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof host) return SKIFF_ERR_INVALID_ARGUMENT;
    memcpy(host, text, hlen);
    host[hlen] = 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535) return SKIFF_ERR_INVALID_ARGUMENT;
    if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");

    struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        a->len = sizeof *v4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        a->len = sizeof *v6;
        return 0;
    }
    return SKIFF_ERR_INVALID_ARGUMENT;
}

const char *skiff_addr_format(const skiff_addr *a, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        port = ntohs(v4->sin_port);
        snprintf(buf, cap, "%s:%u", host, port);
    } else {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        port = ntohs(v6->sin6_port);
        snprintf(buf, cap, "[%s]:%u", host, port);
    }
    return buf;
}

bool skiff_addr_equal(const skiff_addr *a, const skiff_addr *b)
{
    if (a->ss.ss_family != b->ss.ss_family) return false;
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)&a->ss, *y = (const void *)&b->ss;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)&a->ss, *y = (const void *)&b->ss;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

uint16_t skiff_addr_port(const skiff_addr *a)
{
    return ntohs(a->ss.ss_family == AF_INET ? ((const struct sockaddr_in *)&a->ss)->sin_port
                                            : ((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

void skiff_addr_set_port(skiff_addr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET) ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    else ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

static void set_int(int fd, int level, int name, int value)
{
    (void)setsockopt(fd, level, name, &value, sizeof value);
}

int skiff_udp_open(skiff_udp *u, const skiff_addr *local)
{
    memset(u, 0, sizeof *u);
    u->family = local->ss.ss_family;
    int fd = socket(u->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    /* Large buffers absorb bursts at high rates; FORCE works as root. */
    int size = 8 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        set_int(fd, SOL_SOCKET, SO_RCVBUF, size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
        set_int(fd, SOL_SOCKET, SO_SNDBUF, size);
    if (u->family == AF_INET6) {
        set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
        set_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
        set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
        set_int(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
    }
    set_int(fd, IPPROTO_IP, IP_RECVTOS, 1);
    set_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
    set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
    int one = 1;
    u->gro = setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof one) == 0;
    /* SKIFF_GSO=0 turns segmentation offload off, for captures: a packet
     * capture on the sending host sees each GSO send as one huge datagram. */
    const char *gso_env = getenv("SKIFF_GSO");
    int zero = 0;
    u->gso = !(gso_env && !strcmp(gso_env, "0")) &&
             setsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;

    if (bind(fd, (const struct sockaddr *)&local->ss, local->len) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    u->local.len = sizeof u->local.ss;
    getsockname(fd, (struct sockaddr *)&u->local.ss, &u->local.len);
    u->fd = fd;
    return 0;
}

void skiff_udp_close(skiff_udp *u)
{
    if (u->fd > 0) close(u->fd);
    u->fd = -1;
}

static void parse_cmsgs(struct msghdr *m, skiff_udp_rx *rx, uint16_t local_port)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
            int seg;
            memcpy(&seg, CMSG_DATA(c), sizeof seg);
            if (seg > 0) rx->segment_size = (size_t)seg;
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
            rx->ecn = *(uint8_t *)CMSG_DATA(c) & 3;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
            int tclass;
            memcpy(&tclass, CMSG_DATA(c), sizeof tclass);
            rx->ecn = (uint8_t)(tclass & 3);
        } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            struct sockaddr_in *v4 = (struct sockaddr_in *)&rx->local.ss;
            v4->sin_family = AF_INET;
            v4->sin_addr = pi.ipi_addr;
            v4->sin_port = local_port;
            rx->local.len = sizeof *v4;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof pi);
            struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&rx->local.ss;
            v6->sin6_family = AF_INET6;
            v6->sin6_addr = pi.ipi6_addr;
            v6->sin6_port = local_port;
            rx->local.len = sizeof *v6;
        }
    }
}


int skiff_udp_recv(skiff_udp *u, skiff_udp_rx *rx, size_t max, uint8_t *buf, size_t per_buf)
{
    if (max > BATCH_MAX) max = BATCH_MAX;
    struct mmsghdr msgs[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    union {
        char buf[CMSG_SPACE_ALL];
        struct cmsghdr align;
    } control[BATCH_MAX];
    memset(msgs, 0, max * sizeof msgs[0]);
    for (size_t i = 0; i < max; i++) {
        iov[i].iov_base = buf + i * per_buf;
        iov[i].iov_len = per_buf;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &rx[i].peer.ss;
        msgs[i].msg_hdr.msg_namelen = sizeof rx[i].peer.ss;
        msgs[i].msg_hdr.msg_control = control[i].buf;
        msgs[i].msg_hdr.msg_controllen = sizeof control[i].buf;
    }
    int n = recvmmsg(u->fd, msgs, (unsigned)max, MSG_DONTWAIT, NULL);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    uint16_t local_port = htons(skiff_addr_port(&u->local));
    for (int i = 0; i < n; i++) {
        rx[i].data = buf + (size_t)i * per_buf;
        rx[i].len = msgs[i].msg_len;
        rx[i].segment_size = msgs[i].msg_len;
        rx[i].peer.len = msgs[i].msg_hdr.msg_namelen;
        rx[i].ecn = 0;
        rx[i].local = u->local;
        parse_cmsgs(&msgs[i].msg_hdr, &rx[i], local_port);
    }
    return n;
}

static bool is_v4(const skiff_addr *a)
{
    if (a->ss.ss_family == AF_INET) return true;
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
    return IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr);
}

int skiff_udp_send(skiff_udp *u, const skiff_udp_tx *tx, size_t n)
{
    if (n > BATCH_MAX) n = BATCH_MAX;
    struct mmsghdr msgs[BATCH_MAX];
    struct iovec iov[BATCH_MAX];
    union {
        char buf[CMSG_SPACE_ALL];
        struct cmsghdr align;
    } control[BATCH_MAX];
    memset(msgs, 0, n * sizeof msgs[0]);
    for (size_t i = 0; i < n; i++) {
        iov[i].iov_base = (void *)tx[i].data;
        iov[i].iov_len = tx[i].len;
        struct msghdr *m = &msgs[i].msg_hdr;
        m->msg_iov = &iov[i];
        m->msg_iovlen = 1;
        m->msg_name = (void *)&tx[i].peer->ss;
        m->msg_namelen = tx[i].peer->len;
        m->msg_control = control[i].buf;
        m->msg_controllen = sizeof control[i].buf;
        size_t used = 0;
        struct cmsghdr *c = CMSG_FIRSTHDR(m);
        if (tx[i].ecn) {
            int tos = tx[i].ecn;
            bool v4 = u->family == AF_INET || is_v4(tx[i].peer);
            c->cmsg_level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
            c->cmsg_type = v4 ? IP_TOS : IPV6_TCLASS;
            c->cmsg_len = CMSG_LEN(sizeof tos);
            memcpy(CMSG_DATA(c), &tos, sizeof tos);
            used += CMSG_SPACE(sizeof tos);
            c = (struct cmsghdr *)((char *)c + CMSG_SPACE(sizeof tos));
        }
        if (u->gso && tx[i].segment_size && tx[i].len > tx[i].segment_size) {
            uint16_t seg = (uint16_t)tx[i].segment_size;
            c->cmsg_level = IPPROTO_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof seg);
            memcpy(CMSG_DATA(c), &seg, sizeof seg);
            used += CMSG_SPACE(sizeof seg);
        }
        m->msg_controllen = used;
        if (!used) m->msg_control = NULL;
    }
    int sent = sendmmsg(u->fd, msgs, (unsigned)n, MSG_DONTWAIT);
    if (sent < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    return sent;
}
