/* SPDX-License-Identifier: MIT */
#pragma once

#define _GNU_SOURCE
#include <glib.h>
#include <sys/socket.h>

G_BEGIN_DECLS

/* Coalescing queued datagrams for UDP generic segmentation offload (UDP_SEGMENT, Linux
 * 4.18+): datagrams to the same address, in a row of the same size (the last may be
 * shorter), leave in one sendmmsg() entry that the kernel cuts into datagrams again. The
 * kernel then routes, allocates and copies once per entry instead of once per datagram.
 *
 * Fan-out interleaves destinations (packet 1 to every receiver, then packet 2 …), so
 * datagrams are grouped per destination first; each destination's datagrams keep their
 * order, different destinations may be reordered (they are different flows). A video
 * frame of six packets forwarded to 99 receivers becomes 99 entries instead of 594.
 *
 * Pure bookkeeping, no system calls: sfu-udp.c sends the plan. */

/* Linux's UDP_MAX_SEGMENTS. */
#define SFU_UDP_GSO_MAX_SEGMENTS 64
/* An entry carries at most this many bytes (a UDP datagram's limit, with headers). */
#define SFU_UDP_GSO_MAX_BYTES 65000
/* Larger datagrams are never coalesced: a segment must fit the path MTU, which the kernel
 * checks for GSO (EINVAL) where it would fragment a lone datagram instead. 1400 bytes and
 * headers fit a 1500-byte Ethernet MTU. */
#define SFU_UDP_GSO_MAX_SEGMENT 1400

#define SFU_UDP_GSO_CMSG_SPACE CMSG_SPACE (sizeof (guint16))

typedef struct {
  guint n_in;
  /* Outputs, each with room for n_in entries. */
  struct mmsghdr *out;
  struct iovec *iov;                        /* the out entries' iovecs, in order */
  guint8 (*cmsg)[SFU_UDP_GSO_CMSG_SPACE];   /* one control buffer per out entry */
  guint *segments;                          /* datagrams in each out entry */
  /* Scratch, with room for n_in entries each (and 2 * n_in for the table). */
  guint *next, *table;
} SfuUdpGsoPlan;

/* Plans the @n queued datagrams (@iov[i] to @to[i], @to_len[i] bytes of address) into
 * @plan's outputs; returns the number of out entries. With @enabled FALSE every datagram is
 * its own entry (still grouped by destination). */
guint sfu_udp_gso_plan (SfuUdpGsoPlan *plan, const struct sockaddr_storage *to,
                        const socklen_t *to_len, const struct iovec *iov, guint n,
                        gboolean enabled);

G_END_DECLS
