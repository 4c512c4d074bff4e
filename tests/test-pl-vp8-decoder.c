/* SPDX-License-Identifier: MIT */
/* The share's VP8 decoder (pipelines/pl-vp8-decoder.c) on real VP8 from vp8enc: unchanged
 * pictures are not passed on, still frames are not even decoded and change nothing in the
 * output, timestamps pass through, a keyframe of another size renegotiates, and broken
 * input (garbage, deltas before a keyframe) is dropped with a keyframe request upstream,
 * never an error or a crash. */
#include "pl-private.h"
#include "vp8-stream.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#define FPS 10

static GPtrArray *
encode (int width, int height, const char *pattern, int n)
{
  return vp8_stream_pattern (width, height, FPS, pattern, n);
}

/* Frames are pushed from the test's thread through a pad of our own, so the decoder has
 * handled each one when rig_push() returns. */
typedef struct {
  GstElement *pipeline, *dec, *sink;
  GstPad *src;
  gint key_unit_requests; /* atomic: force-key-unit events that left the decoder upstream */
  GstClockTime next_pts;
} Rig;

static GstPadProbeReturn
count_requests (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Rig *rig = user_data;
  if (gst_video_event_is_force_key_unit (GST_PAD_PROBE_INFO_EVENT (info)))
    g_atomic_int_inc (&rig->key_unit_requests);
  return GST_PAD_PROBE_OK;
}

static void
rig_init (Rig *rig)
{
  pl_vp8_decoder_register ();
  g_autoptr (GError) error = NULL;
  rig->pipeline = gst_parse_launch (PL_VP8_DECODER_NAME
                                    " name=dec max-errors=-1 automatic-request-sync-points=true"
                                    " min-force-key-unit-interval=0"
                                    " ! appsink name=sink sync=false async=false wait-on-eos=false",
                                    &error);
  g_assert_no_error (error);
  rig->dec = gst_bin_get_by_name (GST_BIN (rig->pipeline), "dec");
  rig->sink = gst_bin_get_by_name (GST_BIN (rig->pipeline), "sink");
  g_autoptr (GstPad) dec_sink = gst_element_get_static_pad (rig->dec, "sink");
  gst_pad_add_probe (dec_sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, count_requests, rig, NULL);
  rig->next_pts = 0;
  rig->key_unit_requests = 0;
  g_assert_cmpint (gst_element_set_state (rig->pipeline, GST_STATE_PLAYING), !=,
                   GST_STATE_CHANGE_FAILURE);
  rig->src = gst_pad_new ("src", GST_PAD_SRC);
  gst_pad_set_active (rig->src, TRUE);
  g_assert_cmpint (gst_pad_link (rig->src, dec_sink), ==, GST_PAD_LINK_OK);
  gst_pad_push_event (rig->src, gst_event_new_stream_start ("vp8"));
  g_autoptr (GstCaps) caps = gst_caps_new_empty_simple ("video/x-vp8");
  gst_pad_push_event (rig->src, gst_event_new_caps (caps));
  GstSegment segment;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  gst_pad_push_event (rig->src, gst_event_new_segment (&segment));
}

static void
rig_push (Rig *rig, GstBuffer *frame)
{
  GstBuffer *copy = gst_buffer_copy (frame);
  GST_BUFFER_PTS (copy) = rig->next_pts;
  GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (copy) = GST_SECOND / FPS;
  rig->next_pts += GST_SECOND / FPS;
  g_assert_cmpint (gst_pad_push (rig->src, copy), ==, GST_FLOW_OK);
}

static void
rig_push_all (Rig *rig, GPtrArray *frames, guint from)
{
  for (guint i = from; i < frames->len; i++)
    rig_push (rig, g_ptr_array_index (frames, i));
}

/* Ends the stream and returns what came out. Fails on any error message. */
static GPtrArray *
rig_finish (Rig *rig)
{
  gst_pad_push_event (rig->src, gst_event_new_eos ());
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)gst_sample_unref);
  GstSample *sample;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (rig->sink))))
    g_ptr_array_add (out, sample);
  g_autoptr (GstBus) bus = gst_element_get_bus (rig->pipeline);
  g_autoptr (GstMessage) error = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_null (error);
  return out;
}

static void
rig_clear (Rig *rig)
{
  gst_element_set_state (rig->pipeline, GST_STATE_NULL);
  gst_clear_object (&rig->src);
  gst_clear_object (&rig->dec);
  gst_clear_object (&rig->sink);
  gst_clear_object (&rig->pipeline);
}

static void
sample_size (GstSample *sample, int *width, int *height)
{
  GstVideoInfo info;
  g_assert_true (gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
  g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&info), ==, GST_VIDEO_FORMAT_I420);
  *width = GST_VIDEO_INFO_WIDTH (&info);
  *height = GST_VIDEO_INFO_HEIGHT (&info);
}

static void
test_static_frames_pass_once (void)
{
  /* A still picture: 20 frames (2 s), the first a keyframe, the others skip frames. */
  g_autoptr (GPtrArray) still = encode (320, 240, "smpte100", 20);
  Rig rig;
  rig_init (&rig);
  rig_push_all (&rig, still, 0);
  g_autoptr (GPtrArray) out = rig_finish (&rig);
  PlVp8DecoderStats stats;
  pl_vp8_decoder_get_stats (rig.dec, &stats);
  g_test_message ("decoded %" G_GUINT64_FORMAT ", unchanged %" G_GUINT64_FORMAT
                  ", still (not decoded) %" G_GUINT64_FORMAT ", refinements %" G_GUINT64_FORMAT
                  ", out %u",
                  stats.decoded, stats.unchanged, stats.still, stats.refinements, out->len);
  g_assert_cmpuint (stats.decoded + stats.still, ==, 20);
  g_assert_cmpuint (stats.errors, ==, 0);
  g_assert_cmpuint (out->len + stats.unchanged, ==, 20);
  /* The keyframe, and at most the sender's refinements of it (vp8enc improves a still
   * picture over its first frames; at most one a second gets through). */
  g_assert_cmpuint (out->len, >=, 1);
  g_assert_cmpuint (out->len, <=, 3);
  int w, h;
  sample_size (g_ptr_array_index (out, 0), &w, &h);
  g_assert_cmpint (w, ==, 320);
  g_assert_cmpint (h, ==, 240);
  g_assert_cmpuint (GST_BUFFER_PTS (gst_sample_get_buffer (g_ptr_array_index (out, 0))), ==, 0);
  rig_clear (&rig);
}

/* Decodes all frames with skip-still-frames on or off; returns the pictures that went out. */
static GPtrArray *
decode_all (GPtrArray *frames, gboolean skip, PlVp8DecoderStats *stats)
{
  Rig rig;
  rig_init (&rig);
  g_object_set (rig.dec, "skip-still-frames", skip, NULL);
  rig_push_all (&rig, frames, 0);
  GPtrArray *out = rig_finish (&rig);
  pl_vp8_decoder_get_stats (rig.dec, stats);
  rig_clear (&rig);
  return out;
}

static void
assert_same_pictures (GPtrArray *a, GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++) {
    GstBuffer *x = gst_sample_get_buffer (g_ptr_array_index (a, i));
    GstBuffer *y = gst_sample_get_buffer (g_ptr_array_index (b, i));
    g_assert_cmpuint (GST_BUFFER_PTS (x), ==, GST_BUFFER_PTS (y));
    GstMapInfo mx, my;
    g_assert_true (gst_buffer_map (x, &mx, GST_MAP_READ));
    g_assert_true (gst_buffer_map (y, &my, GST_MAP_READ));
    g_assert_cmpmem (mx.data, mx.size, my.data, my.size);
    gst_buffer_unmap (x, &mx);
    gst_buffer_unmap (y, &my);
  }
}

static void
test_still_frames_not_decoded (void)
{
  /* 8 s of the sim's slides as the sim encodes them: three slides, static in between. */
  const int n = 120;
  g_autoptr (GPtrArray) slides = vp8_stream_slides (640, 360, 15, n);
  PlVp8DecoderStats with, without;
  g_autoptr (GPtrArray) skipping = decode_all (slides, TRUE, &with);
  g_autoptr (GPtrArray) decoding = decode_all (slides, FALSE, &without);
  g_test_message ("skipping: decoded %" G_GUINT64_FORMAT ", still %" G_GUINT64_FORMAT
                  ", out %u; decoding all: decoded %" G_GUINT64_FORMAT ", out %u",
                  with.decoded, with.still, skipping->len, without.decoded, decoding->len);
  g_assert_cmpuint (without.still, ==, 0);
  g_assert_cmpuint (without.decoded, ==, n);
  g_assert_cmpuint (with.decoded + with.still, ==, n);
  g_assert_cmpuint (skipping->len + with.unchanged, ==, n);
  g_assert_cmpuint (with.errors + without.errors, ==, 0);
  /* Most frames of a static screen are never decoded ... */
  g_assert_cmpuint (with.still, >=, n * 2 / 3);
  /* ... every catch-up frame confirmed it (pl-vp8-still.c) ... */
  g_assert_cmpuint (with.still_mismatches, ==, 0);
  /* ... and the output is exactly the same: each slide, at the same times. */
  g_assert_cmpuint (skipping->len, >=, 3);
  assert_same_pictures (skipping, decoding);
}

static void
test_motion_passes_with_timestamps (void)
{
  g_autoptr (GPtrArray) moving = encode (320, 240, "ball", 15);
  Rig rig;
  rig_init (&rig);
  rig_push_all (&rig, moving, 0);
  g_autoptr (GPtrArray) out = rig_finish (&rig);
  /* A moving ball changes every picture: all go on, each with its input timestamp. */
  g_assert_cmpuint (out->len, ==, 15);
  for (guint i = 0; i < out->len; i++)
    g_assert_cmpuint (GST_BUFFER_PTS (gst_sample_get_buffer (g_ptr_array_index (out, i))), ==,
                      i * (GST_SECOND / FPS));
  rig_clear (&rig);
}

static void
test_resolution_change (void)
{
  g_autoptr (GPtrArray) small = encode (320, 240, "ball", 5);
  g_autoptr (GPtrArray) large = encode (640, 360, "ball", 5);
  Rig rig;
  rig_init (&rig);
  rig_push_all (&rig, small, 0);
  rig_push_all (&rig, large, 0); /* starts with a keyframe of the new size */
  g_autoptr (GPtrArray) out = rig_finish (&rig);
  g_assert_cmpuint (out->len, ==, 10);
  int w, h;
  sample_size (g_ptr_array_index (out, 4), &w, &h);
  g_assert_cmpint (w, ==, 320);
  sample_size (g_ptr_array_index (out, 5), &w, &h);
  g_assert_cmpint (w, ==, 640);
  g_assert_cmpint (h, ==, 360);
  GstBuffer *last = gst_sample_get_buffer (g_ptr_array_index (out, 9));
  g_assert_cmpuint (gst_buffer_get_size (last), ==, 640 * 360 * 3 / 2);
  rig_clear (&rig);
}

static void
test_broken_input_requests_keyframe (void)
{
  g_autoptr (GPtrArray) a = encode (320, 240, "ball", 6);
  g_autoptr (GPtrArray) b = encode (320, 240, "snow", 4);
  Rig rig;
  rig_init (&rig);
  /* Deltas before any keyframe: dropped, a keyframe asked for. */
  rig_push_all (&rig, a, 3);
  g_assert_cmpint (g_atomic_int_get (&rig.key_unit_requests), >=, 1);
  rig_push_all (&rig, a, 0);
  /* A "keyframe" of garbage: refused, with a request; the deltas after it cannot be
   * decoded from it and are dropped until the next real keyframe. */
  int before = g_atomic_int_get (&rig.key_unit_requests);
  static const guint8 garbage[64] = { 0x10, 0x02, 0x00, 0xde, 0xad, 0xbe, 0xef };
  g_autoptr (GstBuffer) garbage_frame = gst_buffer_new_memdup (garbage, sizeof garbage);
  rig_push (&rig, garbage_frame);
  rig_push_all (&rig, a, 1);
  g_assert_cmpint (g_atomic_int_get (&rig.key_unit_requests), >, before);
  /* A real keyframe brings the picture back. */
  rig_push_all (&rig, b, 0);
  /* An empty buffer and a truncated keyframe are refused too, without a crash, and leave
   * the decoder working: b again, from its keyframe, comes out whole. */
  g_autoptr (GstBuffer) empty = gst_buffer_new ();
  rig_push (&rig, empty);
  GstBuffer *key = g_ptr_array_index (b, 0);
  g_autoptr (GstBuffer) cut = gst_buffer_copy_region (key, GST_BUFFER_COPY_ALL, 0, 20);
  rig_push (&rig, cut);
  rig_push_all (&rig, b, 0);
  g_autoptr (GPtrArray) out = rig_finish (&rig);
  PlVp8DecoderStats stats;
  pl_vp8_decoder_get_stats (rig.dec, &stats);
  g_test_message ("out %u, decoded %" G_GUINT64_FORMAT ", errors %" G_GUINT64_FORMAT
                  ", requests %d",
                  out->len, stats.decoded, stats.errors, g_atomic_int_get (&rig.key_unit_requests));
  g_assert_cmpuint (stats.errors, >=, 1);
  /* a's 6 pictures and b's 4 twice (snow changes every picture); nothing from the broken
   * parts. */
  g_assert_cmpuint (out->len, ==, 14);
  /* b's keyframe went in after 3 early deltas, a's 6, the garbage and 5 deltas. */
  GstClockTime first_b = GST_BUFFER_PTS (gst_sample_get_buffer (g_ptr_array_index (out, 6)));
  g_assert_cmpuint (first_b, ==, 15 * (GST_SECOND / FPS));
  rig_clear (&rig);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pl-vp8-decoder/static-frames-pass-once", test_static_frames_pass_once);
  g_test_add_func ("/pl-vp8-decoder/still-frames-not-decoded", test_still_frames_not_decoded);
  g_test_add_func ("/pl-vp8-decoder/motion-passes-with-timestamps",
                   test_motion_passes_with_timestamps);
  g_test_add_func ("/pl-vp8-decoder/resolution-change", test_resolution_change);
  g_test_add_func ("/pl-vp8-decoder/broken-input-requests-keyframe",
                   test_broken_input_requests_keyframe);
  return g_test_run ();
}
