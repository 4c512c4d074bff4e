/* SPDX-License-Identifier: MIT */
#include "vp8-stream.h"

#include "sim-media.h"

#include <gst/app/gstappsink.h>

/* Runs "<source> ! <encoder> ! appsink" to the end; returns the encoded frames. */
static GPtrArray *
encode (const char *desc, void (*prepare) (GstElement *pipeline), int n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  if (prepare)
    prepare (pipeline);
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)gst_buffer_unref);
  GstSample *sample;
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    g_ptr_array_add (frames, gst_buffer_ref (gst_sample_get_buffer (sample)));
    gst_sample_unref (sample);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  g_assert_cmpuint (frames->len, ==, (guint)n);
  g_assert_false (
      GST_BUFFER_FLAG_IS_SET (g_ptr_array_index (frames, 0), GST_BUFFER_FLAG_DELTA_UNIT));
  return frames;
}

GPtrArray *
vp8_stream_pattern (int width, int height, int fps, const char *pattern, int n)
{
  g_autofree char *desc = g_strdup_printf (
      "videotestsrc pattern=%s num-buffers=%d ! video/x-raw,format=I420,width=%d,height=%d,"
      "framerate=%d/1 ! vp8enc deadline=1 keyframe-max-dist=1000 ! appsink name=out sync=false",
      pattern, n, width, height, fps);
  return encode (desc, NULL, n);
}

static GstPadProbeReturn
draw_slide (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstVideoInfo vinfo;
  if (!caps || !gst_video_info_from_caps (&vinfo, caps))
    return GST_PAD_PROBE_OK;
  GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  GstVideoFrame frame;
  if (gst_video_frame_map (&frame, &vinfo, buffer, GST_MAP_WRITE)) {
    sim_draw_share (&frame, (double)GST_BUFFER_PTS (buffer) / GST_SECOND, SIM_CONTENT_SLIDES,
                    FALSE);
    gst_video_frame_unmap (&frame);
  }
  return GST_PAD_PROBE_OK;
}

static void
add_slide_drawing (GstElement *pipeline)
{
  g_autoptr (GstElement) screen = gst_bin_get_by_name (GST_BIN (pipeline), "screen");
  g_autoptr (GstPad) pad = gst_element_get_static_pad (screen, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, draw_slide, NULL, NULL);
}

GPtrArray *
vp8_stream_slides (int width, int height, int fps, int n)
{
  /* The settings of tools/sim-participant.c, at a bitrate scaled to the size. */
  int bitrate = (int)(2500000.0 * width * height / (1920.0 * 1080.0));
  g_autofree char *desc = g_strdup_printf (
      "videotestsrc name=screen pattern=black num-buffers=%d ! video/x-raw,format=I420,"
      "width=%d,height=%d,framerate=%d/1 ! vp8enc deadline=1 cpu-used=-16 end-usage=cbr "
      "target-bitrate=%d keyframe-mode=disabled keyframe-max-dist=100000 ! appsink name=out "
      "sync=false",
      n, width, height, fps, bitrate);
  return encode (desc, add_slide_drawing, n);
}
