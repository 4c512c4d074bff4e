/* SPDX-License-Identifier: MIT */
/* The VP8 first-partition reader (pipelines/pl-vp8-parse.c) and the still-frame rules on
 * top of it (pl-vp8-still.c), on real streams from vp8enc: which frames are still, what a
 * cut or out-of-order frame gets, and when skipping starts, stops and resumes. (That a
 * skipped frame really changes nothing is checked against libavcodec in
 * test-pl-vp8-decoder.c.) */
#include "pl-private.h"
#include "vp8-stream.h"

#define FPS 15

typedef struct {
  GstMapInfo map;
  GstBuffer *buffer;
} Mapped;

static Mapped
map_frame (GPtrArray *frames, guint i)
{
  Mapped m = { .buffer = g_ptr_array_index (frames, i) };
  g_assert_true (gst_buffer_map (m.buffer, &m.map, GST_MAP_READ));
  return m;
}

static void
unmap_frame (Mapped *m)
{
  gst_buffer_unmap (m->buffer, &m->map);
}

static PlVp8FrameInfo
parse_ok (PlVp8StreamState *state, GPtrArray *frames, guint i)
{
  PlVp8FrameInfo info;
  Mapped m = map_frame (frames, i);
  g_assert_true (pl_vp8_parse_frame (state, m.map.data, m.map.size, &info));
  unmap_frame (&m);
  return info;
}

static void
test_slides (void)
{
  /* Slides change at 3 s and 6 s (frames 45 and 90). */
  g_autoptr (GPtrArray) slides = vp8_stream_slides (640, 360, FPS, 120);
  PlVp8StreamState state;
  pl_vp8_stream_state_init (&state);
  PlVp8FrameInfo key = parse_ok (&state, slides, 0);
  g_assert_true (key.keyframe && key.shown && key.refreshes_last);
  g_assert_false (key.every_macroblock_still || pl_vp8_frame_is_skippable (&key));
  g_assert_cmpint (state.width, ==, 640);
  g_assert_cmpint (state.height, ==, 360);
  guint still = 0, skippable = 0;
  for (guint i = 1; i < slides->len; i++) {
    PlVp8FrameInfo info = parse_ok (&state, slides, i);
    g_assert_false (info.keyframe);
    if (i == 45 || i == 90)
      g_assert_false (info.every_macroblock_still); /* the box moved */
    still += info.every_macroblock_still;
    skippable += pl_vp8_frame_is_skippable (&info);
    /* libvpx's real-time mode: cyclic refresh rewrites the segments every frame. */
    g_assert_true (info.updates_segment_map && info.updates_segment_values);
  }
  g_test_message ("%u still, %u skippable of %u", still, skippable, slides->len);
  g_assert_cmpuint (skippable, <=, still);
  g_assert_cmpuint (skippable, >=, slides->len * 2 / 3);
}

static void
test_motion (void)
{
  g_autoptr (GPtrArray) ball = vp8_stream_pattern (320, 240, FPS, "ball", 20);
  PlVp8StreamState state;
  pl_vp8_stream_state_init (&state);
  for (guint i = 0; i < ball->len; i++) {
    PlVp8FrameInfo info = parse_ok (&state, ball, i);
    g_assert_false (info.every_macroblock_still);
    g_assert_false (pl_vp8_frame_is_skippable (&info));
  }
}

static void
test_refuses_what_it_cannot_follow (void)
{
  g_autoptr (GPtrArray) slides = vp8_stream_slides (320, 180, FPS, 10);
  PlVp8StreamState state, before;
  PlVp8FrameInfo info;
  pl_vp8_stream_state_init (&state);

  /* A delta frame before any keyframe. */
  Mapped delta = map_frame (slides, 5);
  g_assert_false (pl_vp8_parse_frame (&state, delta.map.data, delta.map.size, &info));
  g_assert_false (state.have_keyframe);

  /* Every cut of the keyframe that loses part of its first partition, and a wrong start
   * code: refused, the state untouched. */
  Mapped key = map_frame (slides, 0);
  gsize first = (key.map.data[0] | key.map.data[1] << 8 | key.map.data[2] << 16) >> 5;
  for (gsize len = 0; len < 10 + first; len++)
    g_assert_false (pl_vp8_parse_frame (&state, key.map.data, len, &info));
  g_autofree guint8 *bad_start = g_memdup2 (key.map.data, key.map.size);
  bad_start[4] ^= 0xff;
  g_assert_false (pl_vp8_parse_frame (&state, bad_start, key.map.size, &info));
  g_assert_false (state.have_keyframe);
  g_assert_true (pl_vp8_parse_frame (&state, key.map.data, key.map.size, &info));

  /* The same for a still delta frame; a cut one is never taken for still. */
  before = state;
  first = (delta.map.data[0] | delta.map.data[1] << 8 | delta.map.data[2] << 16) >> 5;
  for (gsize len = 0; len < 3 + first; len++) {
    g_assert_false (pl_vp8_parse_frame (&state, delta.map.data, len, &info));
    g_assert_cmpmem (&state, sizeof state, &before, sizeof before);
  }
  /* A first partition that claims more bytes than the frame has. */
  g_autofree guint8 *long_claim = g_memdup2 (delta.map.data, delta.map.size);
  long_claim[2] = 0xff;
  g_assert_false (pl_vp8_parse_frame (&state, long_claim, delta.map.size, &info));
  unmap_frame (&key);
  unmap_frame (&delta);
}

/* Plays the decoder's part for the still-frame rules: a decoded still frame equals its
 * reference, as it does once a static picture has settled; the first picture goes on.
 * Returns how many of frames[from, to) were skipped. */
static guint
run_frames (PlVp8Still *still, GPtrArray *frames, guint from, guint to,
            gboolean catch_up_matches, guint *catch_ups)
{
  guint skipped = 0;
  for (guint i = from; i < to; i++) {
    Mapped m = map_frame (frames, i);
    gboolean skip = pl_vp8_still_may_skip (still, m.buffer, m.map.data, m.map.size);
    unmap_frame (&m);
    if (skip) {
      skipped++;
      continue;
    }
    GstBuffer *pending = pl_vp8_still_take_catch_up (still);
    if (pending) {
      (*catch_ups)++;
      pl_vp8_still_caught_up (still, catch_up_matches);
      gst_buffer_unref (pending);
    }
    gboolean equals = pl_vp8_still_wants_comparison (still)
                      && still->current.every_macroblock_still;
    pl_vp8_still_decoded (still, TRUE, equals, i == from);
  }
  return skipped;
}

static void
test_skipping_stops_and_resumes (void)
{
  /* Two encodes: the second starts with its own keyframe. */
  g_autoptr (GPtrArray) a = vp8_stream_slides (320, 180, FPS, 45);
  g_autoptr (GPtrArray) b = vp8_stream_slides (320, 180, FPS, 45);
  PlVp8Still still;
  guint catch_ups = 0;
  pl_vp8_still_init (&still);

  /* Skipping starts once a decoded still frame proved the filter changes nothing; the
   * latest skipped frame's segment map waits for the decoder. */
  g_assert_cmpuint (run_frames (&still, a, 0, 35, TRUE, &catch_ups), >=, 15);
  g_assert_nonnull (still.catch_up);
  g_assert_cmpuint (still.skipped, >=, 15);

  /* Had the catch-up frame not matched its reference, nothing more is skipped until a
   * keyframe ... */
  GstBuffer *pending = pl_vp8_still_take_catch_up (&still);
  g_assert_nonnull (pending);
  gst_buffer_unref (pending);
  pl_vp8_still_caught_up (&still, FALSE);
  g_assert_cmpuint (still.mismatches, ==, 1);
  g_assert_cmpuint (run_frames (&still, a, 35, 45, TRUE, &catch_ups), ==, 0);
  /* ... after which it starts again. */
  g_assert_cmpuint (run_frames (&still, b, 0, 45, TRUE, &catch_ups), >=, 15);
  g_assert_cmpuint (catch_ups, >=, 1);
  pl_vp8_still_clear (&still);
  g_assert_null (still.catch_up);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pl-vp8-still/slides", test_slides);
  g_test_add_func ("/pl-vp8-still/motion", test_motion);
  g_test_add_func ("/pl-vp8-still/refuses-what-it-cannot-follow",
                   test_refuses_what_it_cannot_follow);
  g_test_add_func ("/pl-vp8-still/skipping-stops-and-resumes", test_skipping_stops_and_resumes);
  return g_test_run ();
}
