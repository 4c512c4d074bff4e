/* SPDX-License-Identifier: MIT */
/* libFuzzer target for sfu-rtp: any bytes as an RTP packet. The parser's status must
 * agree with the slow path's GError; an accepted packet must describe itself consistently
 * (lengths add up, every element inside the extension block); the keyframe detectors run
 * on the payload and on the raw bytes; on a copy, the header rewriters and the extension
 * id remapper must leave a packet that parses to the same layout, with the remapped
 * elements exactly where they were. The bytes also drive a sequence unwrapper. Anything
 * that aborts is a finding, GLib criticals and warnings included. */
#include "sfu-rtp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&done, 1);
  }
}

static void
check_layout (const guint8 *data, gsize size, const SfuRtpPacket *pkt)
{
  gboolean one_byte = pkt->ext_profile == SFU_RTP_EXT_PROFILE_ONE_BYTE;

  if (pkt->data != data || pkt->len != size || pkt->payload != data + pkt->header_len ||
      pkt->header_len + pkt->payload_len + pkt->padding_len != size ||
      pkt->header_len < SFU_RTP_HEADER_LEN + 4u * pkt->csrc_count ||
      (pkt->padding_len == 0) != ((data[0] & 0x20) == 0))
    abort ();
  if (pkt->has_extension && pkt->ext_offset + pkt->ext_len != pkt->header_len)
    abort ();
  if (pkt->n_extensions > SFU_RTP_MAX_EXTENSIONS || (!pkt->has_extension && pkt->n_extensions))
    abort ();
  for (guint i = 0; i < pkt->n_extensions; i++) {
    const SfuRtpExtension *e = &pkt->extensions[i];
    gsize len;

    if (e->id == 0 || e->offset < pkt->ext_offset ||
        e->offset + e->len > pkt->ext_offset + pkt->ext_len)
      abort ();
    if (one_byte && (e->id > 14 || e->len < 1 || e->len > 16))
      abort ();
    /* find_extension returns the first element with an id. */
    for (guint j = 0; j < i; j++)
      if (pkt->extensions[j].id == e->id)
        goto next;
    if (sfu_rtp_find_extension (pkt, e->id, &len) != data + e->offset || len != e->len)
      abort ();
  next:;
  }
}

static void
check_rewrites (const guint8 *data, gsize size, const SfuRtpPacket *pkt)
{
  g_autofree guint8 *buf = g_memdup2 (data, size);
  guint8 map[256];
  gsize map_len, keep;
  SfuRtpPacket out;
  guint32 salt = size > 12 ? data[size - 1] * 0x01010101u : 0x5a5a5a5au;

  sfu_rtp_set_ssrc (buf, size, pkt->ssrc ^ salt);
  sfu_rtp_set_seq (buf, size, (guint16) (pkt->seq + salt));
  sfu_rtp_set_timestamp (buf, size, pkt->timestamp + salt);
  sfu_rtp_set_marker (buf, size, !pkt->marker);
  sfu_rtp_set_payload_type (buf, size, (pkt->payload_type + 1) & 0x7F);
  if (!sfu_rtp_parse (buf, size, &out) || out.ssrc != (pkt->ssrc ^ salt) ||
      out.seq != (guint16) (pkt->seq + salt) || out.timestamp != pkt->timestamp + salt ||
      out.marker == pkt->marker || out.payload_type != ((pkt->payload_type + 1) & 0x7F) ||
      memcmp (buf + 12, data + 12, size - 12) != 0)
    abort ();

  /* A map from the packet's own bytes: some ids kept, some moved, some dropped. */
  for (guint i = 0; i < 256; i++)
    map[i] = (i * 37u + data[i % size]) % 3 == 0 ? 0 : (guint8) (data[(i * 7) % size] + i);
  map_len = (data[size / 2] & 1) ? 16 : 256;
  if (!sfu_rtp_remap_extension_ids (buf, size, map, map_len) || !sfu_rtp_parse (buf, size, &out))
    abort ();
  if (out.header_len != pkt->header_len || out.payload_len != pkt->payload_len ||
      out.padding_len != pkt->padding_len || out.ext_profile != pkt->ext_profile ||
      out.n_extensions > pkt->n_extensions + (pkt->ext_truncated ? SFU_RTP_MAX_EXTENSIONS : 0))
    abort ();
  /* Only the extension data may change. */
  keep = (pkt->has_extension ? pkt->ext_offset : pkt->header_len) - SFU_RTP_HEADER_LEN;
  if (memcmp (buf + 12, data + 12, keep) != 0 ||
      memcmp (buf + pkt->header_len, data + pkt->header_len, size - pkt->header_len) != 0)
    abort ();
  for (guint i = 0; i < out.n_extensions; i++) {
    const SfuRtpExtension *e = &out.extensions[i];
    gboolean found = pkt->ext_truncated;

    for (guint j = 0; j < pkt->n_extensions && !found; j++) {
      const SfuRtpExtension *o = &pkt->extensions[j];

      found = o->offset == e->offset && o->len == e->len && o->id < map_len &&
              map[o->id] == e->id && memcmp (buf + e->offset, data + o->offset, e->len) == 0;
    }
    if (!found || e->id == 0)
      abort ();
  }
  check_layout (buf, size, &out);
}

static void
check_unwrapper (const guint8 *data, gsize size)
{
  SfuSeqUnwrapper u;
  guint64 max = 0;

  sfu_seq_unwrapper_init (&u);
  u.max_dropout = 1 + data[0] * 200;
  u.max_misorder = data[size - 1] * 100;
  for (gsize i = 0; i + 1 < size && i < 256; i += 2) {
    guint16 seq = (guint16) (data[i] << 8 | data[i + 1]);
    guint64 ext = 1;

    switch (sfu_seq_unwrap (&u, seq, &ext)) {
    case SFU_SEQ_FIRST:
      if (i != 0)
        abort ();
      max = ext;
      break;
    case SFU_SEQ_IN_ORDER:
    case SFU_SEQ_RESYNC:
      if (ext <= max)
        abort ();
      max = ext;
      break;
    case SFU_SEQ_REORDERED:
      if (ext > max || max - ext >= 0x10000)
        abort ();
      break;
    case SFU_SEQ_JUMP:
      if (ext != 0)
        abort ();
      continue;
    default:
      abort ();
    }
    if ((ext & 0xFFFF) != seq || u.max_ext != max)
      abort ();
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  SfuRtpPacket pkt;
  SfuRtpError status;
  gboolean voice;
  guint8 level;

  init_once ();
  status = sfu_rtp_parse_status (data, size, &pkt);
  if (sfu_rtp_check (data, size, &error) != (status == SFU_RTP_OK))
    abort ();
  if (status != SFU_RTP_OK &&
      (error == NULL || error->domain != SFU_RTP_ERROR || error->code != (int) status))
    abort ();
  sfu_rtp_vp8_is_keyframe (data, size);
  sfu_rtp_h264_is_keyframe (data, size);
  if (size > 0)
    check_unwrapper (data, size);

  if (status != SFU_RTP_OK) {
    g_autofree guint8 *buf = g_memdup2 (data, size);
    static const guint8 identity[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

    if (sfu_rtp_remap_extension_ids (buf, size, identity, 16) ||
        (size > 0 && memcmp (buf, data, size) != 0))
      abort ();
    return 0;
  }
  check_layout (data, size, &pkt);
  for (guint id = 0; id < 256; id++) {
    if (sfu_rtp_audio_level (&pkt, (guint8) id, &voice, &level) &&
        (level > 127 || sfu_rtp_find_extension (&pkt, (guint8) id, NULL) == NULL))
      abort ();
  }
  sfu_rtp_vp8_is_keyframe (pkt.payload, pkt.payload_len);
  sfu_rtp_h264_is_keyframe (pkt.payload, pkt.payload_len);
  check_rewrites (data, size, &pkt);
  return 0;
}
