/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What arrived on the shared media port. Everything a session receives (ICE checks, DTLS,
 * SRTP, SRTCP) comes in on one UDP socket, so the first byte decides which parser sees it
 * (RFC 7983 §7). Classification reads at most the first two bytes and never allocates. */
typedef enum {
  SFU_PACKET_UNKNOWN, /* any other first byte (ZRTP, TURN channel data, …), or too short */
  SFU_PACKET_STUN,    /* first byte 0..3, at least a STUN header (20 bytes) */
  SFU_PACKET_DTLS,    /* first byte 20..63, at least a DTLS record header (13 bytes) */
  SFU_PACKET_RTP,     /* first byte 128..191, not RTCP (below), at least 12 bytes */
  SFU_PACKET_RTCP,    /* first byte 128..191, second byte 192..223, at least 8 bytes */
} SfuPacketKind;

#define SFU_PACKET_STUN_MIN_SIZE 20
#define SFU_PACKET_DTLS_MIN_SIZE 13
#define SFU_PACKET_RTP_MIN_SIZE 12
#define SFU_PACKET_RTCP_MIN_SIZE 8

/* @data may be NULL when @len is 0. The kind only says which parser to try: each parser
 * still checks everything it reads. */
SfuPacketKind sfu_packet_classify (const guint8 *data, gsize len);

/* "stun", "dtls", "rtp", "rtcp" or "unknown", for logs and counters. */
const char *sfu_packet_kind_to_string (SfuPacketKind kind);

/* Where a packet came from, or where a reply goes: what XOR-MAPPED-ADDRESS carries, and
 * what DTLS and SRTP are checked against (accepted only from the address that passed the
 * ICE check). Plain bytes, so that the receive path need not allocate a GSocketAddress. */
typedef struct {
  GSocketFamily family; /* G_SOCKET_FAMILY_IPV4 (addr[0..3] used) or G_SOCKET_FAMILY_IPV6 */
  guint8 addr[16];      /* network byte order; unused bytes are zero */
  guint16 port;         /* host byte order */
} SfuAddress;

/* From a struct sockaddr_in or sockaddr_in6 of @len bytes, as filled by recvmsg(). An
 * IPv4-mapped IPv6 address (from a dual-stack socket) becomes IPv4: that is the address
 * the peer knows, and the one it must see in XOR-MAPPED-ADDRESS. FALSE for any other
 * family or a short @len. */
gboolean sfu_address_from_sockaddr (gconstpointer sockaddr, gsize len, SfuAddress *out);
/* Same from a GInetSocketAddress; does not allocate. */
gboolean sfu_address_from_socket_address (GSocketAddress *address, SfuAddress *out);
gboolean sfu_address_equal (const SfuAddress *a, const SfuAddress *b);

G_END_DECLS
