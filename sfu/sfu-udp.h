/* SPDX-License-Identifier: MIT */
#pragma once

#include "sfu-loop.h"
#include "sfu-packet.h"

#include <sys/socket.h>

G_BEGIN_DECLS

/* The SFU's one UDP port, shared by every session (docs/sfu.md, "Transport").
 *
 * Each loop of the group has its own socket bound to the same address and port with
 * SO_REUSEPORT: the kernel spreads peers over the sockets by a hash of their address, so
 * every loop reads its share with recvmmsg() and no thread reads for the others. A packet
 * read on a loop that does not own its session is copied once into the owner's inbox
 * (sfu_udp_hand_off()), a bounded ring; the owner takes it in on its next wakeup. Sends are
 * queued per loop and leave in one sendmmsg() per wakeup (or when the queue fills), from
 * that loop's socket: all sockets share the port, so the peer sees one source.
 *
 * Nothing on the receive, hand-off or send path allocates. */

typedef struct _SfuUdp SfuUdp;

/* Largest datagram read or sent; longer ones are dropped and counted. WebRTC keeps packets
 * under ~1200-1500 bytes. */
#define SFU_UDP_MAX_DATAGRAM 2048
#define SFU_UDP_RECV_BATCH 32
/* Datagrams queued per loop before a flush: enough for a video frame's fan-out to a call of
 * 100 (6 × 99) in one flush, so that sfu-udp-gso.h can coalesce each receiver's share.
 * sendmmsg() takes at most 1024 entries (UIO_MAXIOV). */
#define SFU_UDP_SEND_BATCH 1024
#define SFU_UDP_INBOX_SLOTS 128

typedef struct {
  guint8 *data; /* writable in place (SRTP decrypts in place); valid during the callback */
  gsize len;
  SfuAddress from;
  gboolean handed_off; /* came through another loop's hand-off: do not hand it off again */
} SfuUdpPacket;

/* Called on @loop's thread for every datagram read by that loop or handed to it. */
typedef void (*SfuUdpReceiveFunc) (SfuUdp *udp, SfuLoop *loop, SfuUdpPacket *packet,
                                   gpointer user_data);

typedef struct {
  guint64 received, received_bytes;
  guint64 sent, sent_bytes;
  guint64 send_dropped;     /* queue full after a flush, socket buffer full, or an error */
  guint64 too_big;          /* truncated on receive or too long to send */
  guint64 handed_off;       /* copied to another loop's inbox */
  guint64 hand_off_dropped; /* that inbox was full */
  guint64 recv_batches, send_batches; /* recvmmsg()/sendmmsg() calls that moved packets */
  guint64 coalesced_entries;          /* sendmmsg() entries carrying several datagrams (GSO) */
} SfuUdpStats;

/* Binds the first socket only (to @bind_host, an IP literal; NULL means 0.0.0.0; "::" is
 * dual-stack), so that sfu_candidates_discover() can use it before traffic flows: with more
 * than one SO_REUSEPORT socket bound, the STUN server's answer could land on another one.
 * @port 0 picks an ephemeral port. */
SfuUdp *sfu_udp_new (SfuLoopGroup *group, const char *bind_host, guint16 port, GError **error);
/* Binds the other loops' sockets and starts reading. Call once, from outside the loops. */
gboolean sfu_udp_start (SfuUdp *udp, SfuUdpReceiveFunc func, gpointer user_data,
                        GError **error);
/* From outside the loops. Stops reading; queued sends are dropped. */
void sfu_udp_free (SfuUdp *udp);

guint16 sfu_udp_get_port (SfuUdp *udp);
/* The bound address (possibly a wildcard) and port. */
void sfu_udp_get_local_address (SfuUdp *udp, SfuAddress *out);
/* The first socket, for a blocking STUN exchange before sfu_udp_start(); stays the SfuUdp's. */
int sfu_udp_get_fd (SfuUdp *udp);

/* On @loop's thread. Queues a copy; FALSE (counted) when @len is 0 or too long, or the
 * datagram could not be queued. */
gboolean sfu_udp_send (SfuUdp *udp, SfuLoop *loop, const guint8 *data, gsize len,
                       const SfuAddress *to);
/* On @from's thread: copies @packet into @to's inbox; @to's receive callback sees it with
 * handed_off set. FALSE (counted) when the inbox is full. */
gboolean sfu_udp_hand_off (SfuUdp *udp, SfuLoop *from, SfuLoop *to, const SfuUdpPacket *packet);

/* From outside the loops: the sum over all loops. */
void sfu_udp_get_stats (SfuUdp *udp, SfuUdpStats *out);

/* Helpers shared with sfu-tcp and sfu-candidates. @family is the socket's: an IPv4 address
 * toward an AF_INET6 socket becomes IPv4-mapped. Returns the sockaddr length, 0 on a
 * family mismatch. */
socklen_t sfu_udp_sockaddr_from_address (const SfuAddress *address, int family,
                                         struct sockaddr_storage *out);
/* "1.2.3.4:5" or "[::1]:5" into @buf; returns @buf. */
const char *sfu_udp_address_to_string (const SfuAddress *address, char *buf, gsize size);
#define SFU_UDP_ADDRESS_STRLEN 64
/* IP literal + port; FALSE when @host is not an IP literal. */
gboolean sfu_udp_address_parse (const char *host, guint16 port, SfuAddress *out);

G_END_DECLS
