/*
 * The Linux TUN device (Documentation/networking/tuntap.rst): opening it
 * with TUNSETIFF, packet reads and writes, and configuring the kernel's side
 * of it (link up, MTU, IPv4 and IPv6 addresses) with rtnetlink requests
 * (rtnetlink(7): RTM_NEWLINK, RTM_NEWADDR) rather than by running `ip`.
 *
 * A netlink request here is one message: a fixed header (ifinfomsg or
 * ifaddrmsg) followed by attributes, each a 4-byte-aligned (length, type,
 * value). The kernel answers NLM_F_ACK requests with an NLMSG_ERROR message
 * whose error field is 0 or a negative errno.
 */
#include "io/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int skiff_tun_open(const char *name_or_null, char *name_out, size_t cap)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (name_or_null && name_or_null[0]) {
        if (strlen(name_or_null) >= IFNAMSIZ) return -EINVAL;
        memcpy(ifr.ifr_name, name_or_null, strlen(name_or_null));
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    if (name_out) {
        size_t n = strnlen(ifr.ifr_name, IFNAMSIZ);
        if (n >= cap) {
            close(fd);
            return -ENAMETOOLONG;
        }
        memcpy(name_out, ifr.ifr_name, n);
        name_out[n] = 0;
    }
    return fd;
}

/* The TUN driver fills a short buffer and drops the rest of the packet
 * without a word: a full buffer whose IP header promises more was cut. */
static bool cut_short(const uint8_t *buf, size_t n)
{
    if (n >= 4 && buf[0] >> 4 == 4) return (size_t)(buf[2] << 8 | buf[3]) > n;
    if (n >= 6 && buf[0] >> 4 == 6) return 40 + (size_t)(buf[4] << 8 | buf[5]) > n;
    return false;
}

skiff_ssize skiff_tun_read(int fd, uint8_t *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n >= 0) return (size_t)n == cap && cut_short(buf, cap) ? -EMSGSIZE : n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        return -errno;
    }
}

skiff_ssize skiff_tun_write(int fd, const uint8_t *pkt, size_t len)
{
    for (;;) {
        ssize_t n = write(fd, pkt, len);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return 0;
        return -errno;
    }
}

/* A netlink request being built: the message header, the family header,
 * then attributes, in one aligned buffer. */
typedef union nl_req {
    struct nlmsghdr nh;
    uint8_t bytes[512];
} nl_req;

/* Appends one attribute. Returns 0, or -ENOBUFS when it does not fit. */
static int add_attr(nl_req *req, unsigned short type, const void *data, size_t len)
{
    size_t at = NLMSG_ALIGN(req->nh.nlmsg_len);
    size_t need = RTA_LENGTH(len);
    if (at + RTA_ALIGN(need) > sizeof req->bytes) return -ENOBUFS;
    struct rtattr *rta = (struct rtattr *)(req->bytes + at);
    rta->rta_type = type;
    rta->rta_len = (unsigned short)need;
    memcpy(RTA_DATA(rta), data, len);
    req->nh.nlmsg_len = (uint32_t)(at + RTA_ALIGN(need));
    return 0;
}

/* Sends the request and waits (at most 2 s) for the kernel's
 * acknowledgement. Returns its error field: 0 or a negative errno. */
static int nl_talk(nl_req *req)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct timeval tv = {.tv_sec = 2};
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    /* One socket per request, so any sequence number identifies the answer. */
    req->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    req->nh.nlmsg_seq = 1;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, req->bytes, req->nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) <
        0) {
        int err = -errno;
        close(fd);
        return err;
    }

    union {
        struct nlmsghdr nh;
        uint8_t bytes[8192];
    } ans;
    int result = -EPROTO;
    for (;;) {
        ssize_t n = recv(fd, ans.bytes, sizeof ans.bytes, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            result = (errno == EAGAIN || errno == EWOULDBLOCK) ? -ETIMEDOUT : -errno;
            break;
        }
        size_t left = (size_t)n;
        bool done = false;
        for (struct nlmsghdr *h = &ans.nh; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_seq != req->nh.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR) continue;
            if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) break;
            const struct nlmsgerr *e = NLMSG_DATA(h);
            result = e->error;
            done = true;
            break;
        }
        if (done) break;
    }
    close(fd);
    return result;
}

/* Starts an RTM_NEWLINK request for the device `name`. */
static int link_req(nl_req *req, const char *name, unsigned flags, unsigned change)
{
    unsigned index = if_nametoindex(name);
    if (!index) return -errno;
    memset(req, 0, sizeof *req);
    req->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    req->nh.nlmsg_type = RTM_NEWLINK;
    struct ifinfomsg *ifi = NLMSG_DATA(&req->nh);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = (int)index;
    ifi->ifi_flags = flags;
    ifi->ifi_change = change;
    return 0;
}

int skiff_tun_set_up(const char *name)
{
    nl_req req;
    int err = link_req(&req, name, IFF_UP, IFF_UP);
    return err ? err : nl_talk(&req);
}

int skiff_tun_set_mtu(const char *name, unsigned mtu)
{
    nl_req req;
    int err = link_req(&req, name, 0, 0);
    if (err) return err;
    uint32_t v = mtu;
    err = add_attr(&req, IFLA_MTU, &v, sizeof v);
    return err ? err : nl_talk(&req);
}

int skiff_tun_add_addr(const char *name, const char *cidr)
{
    char text[INET6_ADDRSTRLEN + 8];
    size_t len = strlen(cidr);
    if (len == 0 || len >= sizeof text) return -EINVAL;
    memcpy(text, cidr, len + 1);

    long prefix = -1;
    char *slash = strchr(text, '/');
    if (slash) {
        *slash = 0;
        const char *p = slash + 1;
        if (!*p || strlen(p) > 3) return -EINVAL;
        prefix = 0;
        for (; *p; p++) {
            if (*p < '0' || *p > '9') return -EINVAL;
            prefix = prefix * 10 + (*p - '0');
        }
    }
    uint8_t addr[16];
    int family;
    size_t alen;
    if (inet_pton(AF_INET, text, addr) == 1) {
        family = AF_INET;
        alen = 4;
    } else if (inet_pton(AF_INET6, text, addr) == 1) {
        family = AF_INET6;
        alen = 16;
    } else {
        return -EINVAL;
    }
    long max = (long)alen * 8;
    if (prefix < 0) prefix = max;
    if (prefix > max) return -EINVAL;

    unsigned index = if_nametoindex(name);
    if (!index) return -errno;
    nl_req req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    req.nh.nlmsg_type = RTM_NEWADDR;
    /* REPLACE rather than EXCL: adding the same address twice succeeds. */
    req.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    struct ifaddrmsg *ifa = NLMSG_DATA(&req.nh);
    ifa->ifa_family = (uint8_t)family;
    ifa->ifa_prefixlen = (uint8_t)prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = index;
    uint32_t flags = family == AF_INET6 ? IFA_F_NODAD : 0;
    ifa->ifa_flags = (uint8_t)flags;
    /* IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer's on
     * point-to-point links, the same address otherwise. */
    int err = add_attr(&req, IFA_LOCAL, addr, alen);
    if (!err) err = add_attr(&req, IFA_ADDRESS, addr, alen);
    if (!err && flags) err = add_attr(&req, IFA_FLAGS, &flags, sizeof flags);
    return err ? err : nl_talk(&req);
}
