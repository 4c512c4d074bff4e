/* SPDX-License-Identifier: MIT */
/* Which VP8 frames of a static screen need no decoding at all.
 *
 * A static share still arrives as ~30 frames a second. Each is a "still" frame
 * (pl-vp8-parse.h): every macroblock copied from the last frame with no residual. Such a
 * frame is the last frame again, but loop-filtered once more, so it is not a no-op by
 * construction. It is one in fact as soon as filtering stops changing the picture, which
 * happens a frame or two after the screen stops changing.
 *
 * The proof is taken from the decoder: a still frame whose decoded picture (coded area
 * included, where the filter also runs) equals the picture it was predicted from is a fixed
 * point of that filter. A later still frame with the same filter settings applies the same
 * operation to the same picture, so it yields the same picture again: it may go
 * undecoded, as long as nothing else in it matters later.
 *
 * What else could matter is checked by pl_vp8_frame_is_skippable(): references other than
 * the last frame, persistent probabilities, filter deltas. The one piece of state the
 * skippable frames of libvpx's real-time mode do carry is the segment map and values
 * (cyclic refresh rewrites them every frame). A later frame may read them, so the latest
 * frame that set them is kept and decoded just before the next frame that is decoded (the
 * "catch-up" frame). Its picture must again equal the reference; if it ever does not,
 * this reasoning failed for that stream: skipping stops until the next keyframe, which is
 * requested.
 *
 * A skipped frame's picture is known: the reference, which the decoder keeps. It is the
 * last picture passed on too, unless the unchanged-frame filter still holds back a small
 * refinement; until that goes on, the reference goes through the filter in the skipped
 * frame's place. So the output is exactly what decoding every frame gives; only the CPU
 * differs. */
#include "pl-private.h"

#include <string.h>

void
pl_vp8_still_init (PlVp8Still *still)
{
  memset (still, 0, sizeof *still);
  pl_vp8_stream_state_init (&still->stream);
}

void
pl_vp8_still_pause (PlVp8Still *still)
{
  still->stream_known = FALSE;
  still->reference_known = FALSE;
  still->fixed_point = FALSE;
}

void
pl_vp8_still_reset (PlVp8Still *still)
{
  gst_clear_buffer (&still->catch_up);
  pl_vp8_still_pause (still);
}

void
pl_vp8_still_clear (PlVp8Still *still)
{
  gst_clear_buffer (&still->catch_up);
}

/* Keeps the frame's segment map and values for the decoder, if it sets any. FALSE when it
 * cannot: a frame that sets only one of them after a kept frame that set something. */
static gboolean
keep_segment_state (PlVp8Still *still, GstBuffer *buffer, const PlVp8FrameInfo *info)
{
  gboolean map = info->updates_segment_map, values = info->updates_segment_values;
  if (!map && !values)
    return TRUE;
  if (still->catch_up && !(map && values))
    return FALSE;
  gst_buffer_replace (&still->catch_up, buffer);
  return TRUE;
}

gboolean
pl_vp8_still_may_skip (PlVp8Still *still, GstBuffer *buffer, const guint8 *data, gsize size)
{
  PlVp8FrameInfo *info = &still->current;
  still->current_parsed = pl_vp8_parse_frame (&still->stream, data, size, info);
  if (!still->current_parsed) {
    /* The decoder may still take it, and change state this parser did not follow. */
    still->stream_known = FALSE;
    return FALSE;
  }
  if (info->keyframe)
    still->stream_known = TRUE; /* a keyframe resets everything tracked */
  if (!still->stream_known || !still->fixed_point || !pl_vp8_frame_is_skippable (info)
      || !pl_vp8_same_still_filter (info, &still->fixed))
    return FALSE;
  if (!keep_segment_state (still, buffer, info))
    return FALSE;
  still->skipped++;
  return TRUE;
}

GstBuffer *
pl_vp8_still_take_catch_up (PlVp8Still *still)
{
  return g_steal_pointer (&still->catch_up);
}

void
pl_vp8_still_caught_up (PlVp8Still *still, gboolean picture_unchanged)
{
  if (picture_unchanged)
    return;
  still->mismatches++;
  pl_vp8_still_pause (still); /* until a keyframe, which the caller requests */
}

void
pl_vp8_still_skipped (PlVp8Still *still, gboolean went_on)
{
  still->latest_went_on = still->latest_went_on || went_on;
}

gboolean
pl_vp8_still_wants_comparison (const PlVp8Still *still)
{
  return still->current_parsed && still->stream_known && still->reference_known
         && pl_vp8_frame_is_skippable (&still->current);
}

void
pl_vp8_still_decoded (PlVp8Still *still, gboolean shown, gboolean equals_reference,
                      gboolean went_on)
{
  const PlVp8FrameInfo *info = &still->current;
  if (!shown) {
    /* Nothing to compare; an invisible frame that refreshes the last frame changes the
     * reference behind our back. */
    if (!still->current_parsed || info->refreshes_last)
      still->reference_known = still->fixed_point = FALSE;
    return;
  }
  if (went_on)
    still->latest_went_on = TRUE;
  else
    still->latest_went_on = still->latest_went_on && equals_reference;
  still->fixed_point = pl_vp8_still_wants_comparison (still) && equals_reference;
  if (still->fixed_point)
    still->fixed = *info;
  still->reference_known = still->current_parsed && info->refreshes_last;
}
