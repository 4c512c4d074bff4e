/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the RFC 4571 deframer that every ICE-TCP connection reads through
 * (sfu-tcp.c): any bytes as a TCP stream, cut into reads of sizes the input chooses.
 *
 * Input: byte 0 picks max_frame (1..256, or 65535 when it is 0), byte 1 seeds the read
 * sizes, the rest is the stream. The frames the deframer yields, read by read, must be
 * exactly those an independent one-pass reference finds in the whole stream, in order, and
 * it must stop (TOO_BIG) exactly where the reference meets a length over max_frame. The
 * buffer never reports more space than it has, and never holds a full buffer without a
 * frame in it. Anything that aborts is a finding, GLib criticals and warnings included. */
#include "sfu-tcp.h"

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

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  SfuTcpDeframer d;
  gsize max_frame, pos = 0, ref = 0, n_frames = 0;
  guint32 rng;
  gboolean ref_too_big = FALSE, too_big = FALSE;

  init_once ();
  if (size < 2)
    return 0;
  max_frame = data[0] == 0 ? 65535 : data[0];
  rng = data[1] * 2654435761u + 1;
  data += 2;
  size -= 2;

  sfu_tcp_deframer_init (&d, max_frame);
  while (!too_big) {
    guint8 *space, *frame;
    gsize cap, chunk, len;
    SfuTcpFrameStatus st;

    /* Take every complete frame, checking each against the reference. */
    while ((st = sfu_tcp_deframer_next (&d, &frame, &len)) == SFU_TCP_FRAME_OK) {
      gsize ref_len;
      if (ref + 2 > size)
        abort (); /* the reference has no frame here */
      ref_len = (gsize) data[ref] << 8 | data[ref + 1];
      if (ref_len > max_frame || ref + 2 + ref_len > size || len != ref_len ||
          memcmp (frame, data + ref + 2, len) != 0)
        abort ();
      ref += 2 + ref_len;
      n_frames++;
      sfu_tcp_deframer_consume (&d);
    }
    if (st == SFU_TCP_FRAME_TOO_BIG) {
      too_big = TRUE;
      break;
    }
    if (pos == size)
      break;
    space = sfu_tcp_deframer_get_space (&d, &cap);
    if (cap == 0 || cap > d.cap)
      abort (); /* a full buffer always holds a whole frame */
    rng = rng * 1103515245u + 12345u;
    chunk = 1 + (rng >> 16) % 300;
    chunk = MIN (chunk, MIN (cap, size - pos));
    memcpy (space, data + pos, chunk);
    sfu_tcp_deframer_commit (&d, chunk);
    pos += chunk;
  }

  /* The reference's verdict on what is left after its last frame. */
  if (ref + 2 <= size && ((gsize) data[ref] << 8 | data[ref + 1]) > max_frame)
    ref_too_big = TRUE;
  if (too_big != ref_too_big)
    abort ();
  /* Without a refusal, everything the reference can frame was framed. */
  if (!too_big && ref + 2 <= size &&
      ref + 2 + ((gsize) data[ref] << 8 | data[ref + 1]) <= size)
    abort ();
  (void) n_frames;
  sfu_tcp_deframer_clear (&d);
  return 0;
}
