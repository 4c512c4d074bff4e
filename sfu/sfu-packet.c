/* SPDX-License-Identifier: MIT */
#include "sfu-packet.h"

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
