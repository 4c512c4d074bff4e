/* SPDX-License-Identifier: MIT */
/* libFuzzer target for pl-vp8-parse: the bytes as a stream of VP8 frames, each preceded by
 * its length (16 bits, little-endian; the rest of the input when fewer bytes are left),
 * parsed in order with one stream state, as the share's decoder does with a sender's
 * frames. A refused frame must leave the state as it was; an accepted one must describe
 * itself consistently (a keyframe has a size and is never still; a skippable frame is a
 * shown still frame that refreshes only the last frame). Anything that aborts is a finding,
 * GLib criticals and warnings included. */
#include "pl-vp8-parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_frame (const PlVp8StreamState *state, const PlVp8FrameInfo *info)
{
  if (!state->have_keyframe || state->width <= 0 || state->height <= 0)
    abort ();
  if (info->keyframe && (info->every_macroblock_still || !info->refreshes_last))
    abort ();
  if (pl_vp8_frame_is_skippable (info)
      && (!info->every_macroblock_still || !info->shown || !info->refreshes_last
          || info->touches_golden_or_altref || info->updates_probabilities
          || !info->still_filter_uniform))
    abort ();
  if (pl_vp8_same_still_filter (info, info) != info->still_filter_uniform)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&once, 1);
  }
  PlVp8StreamState state, before;
  pl_vp8_stream_state_init (&state);
  while (size > 0) {
    size_t len = size;
    if (size >= 2) {
      len = MIN ((size_t)(data[0] | data[1] << 8), size - 2);
      data += 2;
      size -= 2;
    }
    PlVp8FrameInfo info;
    before = state;
    if (pl_vp8_parse_frame (&state, data, len, &info))
      check_frame (&state, &info);
    else if (memcmp (&state, &before, sizeof state) != 0)
      abort ();
    data += len;
    size -= len;
  }
  return 0;
}
