/* SPDX-License-Identifier: MIT */
#include "sfu-packet.h"

#include <gio/gnetworking.h>
#include <string.h>

SfuPacketKind
sfu_packet_classify (const guint8 *data, gsize len)
{
  guint8 b0;

  g_return_val_if_fail (data != NULL || len == 0, SFU_PACKET_UNKNOWN);

  if (len == 0)
    return SFU_PACKET_UNKNOWN;
  b0 = data[0];

  /* RFC 7983 §7: 0..3 STUN, 16..19 ZRTP, 20..63 DTLS, 64..79 TURN channel, 128..191
   * RTP/RTCP. ZRTP and TURN channels are not served on this port. */
  if (b0 <= 3)
    return len >= SFU_PACKET_STUN_MIN_SIZE ? SFU_PACKET_STUN : SFU_PACKET_UNKNOWN;
  if (b0 >= 20 && b0 <= 63)
    return len >= SFU_PACKET_DTLS_MIN_SIZE ? SFU_PACKET_DTLS : SFU_PACKET_UNKNOWN;
  if (b0 >= 128 && b0 <= 191) {
    /* RFC 5761 §4: with rtcp-mux, the second byte is the RTCP packet type; 192..223 are
     * RTCP, and RTP payload types that would collide with them (64..95 with the marker
     * bit set) must not be used. */
    if (len >= 2 && data[1] >= 192 && data[1] <= 223)
      return len >= SFU_PACKET_RTCP_MIN_SIZE ? SFU_PACKET_RTCP : SFU_PACKET_UNKNOWN;
    return len >= SFU_PACKET_RTP_MIN_SIZE ? SFU_PACKET_RTP : SFU_PACKET_UNKNOWN;
  }
  return SFU_PACKET_UNKNOWN;
}

const char *
sfu_packet_kind_to_string (SfuPacketKind kind)
{
  switch (kind) {
  case SFU_PACKET_STUN:
    return "stun";
  case SFU_PACKET_DTLS:
    return "dtls";
  case SFU_PACKET_RTP:
    return "rtp";
  case SFU_PACKET_RTCP:
    return "rtcp";
  case SFU_PACKET_UNKNOWN:
  default:
    return "unknown";
  }
}

gboolean
sfu_address_from_sockaddr (gconstpointer sockaddr, gsize len, SfuAddress *out)
{
  const struct sockaddr *sa = sockaddr;
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  g_return_val_if_fail (sockaddr != NULL && out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (len >= sizeof (struct sockaddr_in) && sa->sa_family == AF_INET) {
    const struct sockaddr_in *sin = sockaddr;

    out->family = G_SOCKET_FAMILY_IPV4;
    memcpy (out->addr, &sin->sin_addr, 4);
    out->port = g_ntohs (sin->sin_port);
    return TRUE;
  }
  if (len >= sizeof (struct sockaddr_in6) && sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = sockaddr;
    const guint8 *a = (const guint8 *) &sin6->sin6_addr;

    if (memcmp (a, v4_mapped, sizeof v4_mapped) == 0) {
      out->family = G_SOCKET_FAMILY_IPV4;
      memcpy (out->addr, a + 12, 4);
    } else {
      out->family = G_SOCKET_FAMILY_IPV6;
      memcpy (out->addr, a, 16);
    }
    out->port = g_ntohs (sin6->sin6_port);
    return TRUE;
  }
  return FALSE;
}

gboolean
sfu_address_from_socket_address (GSocketAddress *address, SfuAddress *out)
{
  struct sockaddr_storage ss;

  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (address) && out != NULL, FALSE);

  if (!g_socket_address_to_native (address, &ss, sizeof ss, NULL))
    return FALSE;
  return sfu_address_from_sockaddr (&ss, sizeof ss, out);
}

gboolean
sfu_address_equal (const SfuAddress *a, const SfuAddress *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  return a->family == b->family && a->port == b->port &&
         memcmp (a->addr, b->addr, a->family == G_SOCKET_FAMILY_IPV4 ? 4 : 16) == 0;
}
