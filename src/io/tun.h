/*
 * The Linux TUN device, the wire of skiff's userspace TCP: each read() is
 * one IP packet the kernel routed toward the device, each write() one IP
 * packet handed to the kernel as if it had arrived on it. The device is
 * opened with IFF_TUN | IFF_NO_PI, so packets start at the IPv4 or IPv6
 * header, with no extra framing, and the version nibble tells them apart.
 *
 * The device is not persistent: it disappears when its file descriptor is
 * closed (or its process exits), taking its addresses and routes with it.
 *
 * skiff_tun_set_up() and skiff_tun_add_addr() configure the KERNEL side of
 * the device through rtnetlink: the address given is the kernel's own (the
 * peer that skiff's stack talks to), and the prefix routes the rest of the
 * subnet into the device, where skiff's stack answers for one address of it.
 * An IPv6 address is added with IFA_F_NODAD, so it is usable at once rather
 * than "tentative" during duplicate address detection.
 *
 * The kernel talks on the device unasked: as soon as the link is up it
 * gives it a link-local address and sends ICMPv6 router solicitations from
 * it to ff02::2 (the first within about a second), and on some kernels and
 * settings MLD reports. (A TUN device is NOARP: no neighbour discovery and
 * no duplicate address detection, so IFA_F_NODAD is belt and braces.) The
 * stack ignores every packet that is not TCP to its own address, without
 * answering. The kernel checksums everything it writes and checks every
 * checksum it is given: TUN has no checksum offload.
 *
 * The MTU of a new device is 1500 (68..65535 can be set). A read buffer
 * smaller than a packet gets the packet cut short and the rest dropped;
 * skiff_tun_read() notices from the IP header's length and says -EMSGSIZE.
 *
 * All functions need CAP_NET_ADMIN (root in the test namespaces) and return
 * 0 (or a length) on success and a negative errno on failure.
 */
#ifndef SKIFF_IO_TUN_H
#define SKIFF_IO_TUN_H

#include <stddef.h>
#include <stdint.h>

#include "skiff/skiff.h"

/* The longest device name the kernel accepts, plus its NUL (IFNAMSIZ). */
#define SKIFF_TUN_NAME_MAX 16

/*
 * Opens /dev/net/tun and attaches a TUN device (IFF_TUN | IFF_NO_PI) named
 * `name_or_null`, creating it if it does not exist; NULL or "" lets the
 * kernel pick "tunN". The device's name is copied to name_out (cap bytes,
 * SKIFF_TUN_NAME_MAX is enough) unless name_out is NULL. Returns the
 * nonblocking, close-on-exec file descriptor, or a negative errno
 * (-EINVAL for a name too long, -ENOENT without /dev/net/tun, -EPERM
 * without CAP_NET_ADMIN, -ENAMETOOLONG when name_out is too small).
 */
int skiff_tun_open(const char *name_or_null, char *name_out, size_t cap);

/*
 * Reads one packet into buf without blocking; cap should be at least the
 * device's MTU. Returns its length, 0 when no packet is waiting, -EMSGSIZE
 * when the packet was longer than cap (it is consumed and lost), or another
 * negative errno.
 */
skiff_ssize skiff_tun_read(int fd, uint8_t *buf, size_t cap);

/*
 * Writes one packet (an IPv4 or IPv6 header and its payload, checksums
 * complete). Returns len, 0 when the device cannot take it now (drop it:
 * the network may lose packets), or a negative errno (-EINVAL when the
 * first nibble is neither 4 nor 6). The kernel accepts other malformed
 * packets, and packets with a wrong checksum, and drops them silently.
 */
skiff_ssize skiff_tun_write(int fd, const uint8_t *pkt, size_t len);

/* Brings the link `name` up (IFF_UP). Returns 0 or a negative errno. */
int skiff_tun_set_up(const char *name);

/*
 * Gives the kernel side of `name` the address `cidr` ("10.9.0.1/24",
 * "fd00:9::1/64"; without "/N" a host address), with the route for its
 * prefix through the device; IPv6 addresses skip duplicate address
 * detection (IFA_F_NODAD). Adding an address the device already has is
 * not an error. Returns 0, -EINVAL for text that is not an address with an
 * optional prefix length, or a negative errno from the kernel.
 */
int skiff_tun_add_addr(const char *name, const char *cidr);

/* Sets the MTU of `name` (IPv6 needs at least 1280). Returns 0 or a
 * negative errno. */
int skiff_tun_set_mtu(const char *name, unsigned mtu);

#endif
