/* SPDX-License-Identifier: MIT */
/* The H.264 encoder, and its step-down to a faster preset while recording.
 *
 * x264enc refuses a new speed-preset while playing, so stepping down swaps in a new
 * encoder between the appsrc and the muxer. mp4mux (1.22) cannot take new parameter sets
 * in the middle of a file, so every encoder is created with the options that decide
 * the SPS/PPS pinned (reference frames, CABAC, 8x8 transform, weighted prediction, no
 * B-frames, level): all presets then produce the same avcC, and the muxer sees the same
 * caps before and after the swap. */
#include "pl-private.h"

#include <gst/video/video.h>

struct _PlEncoder {
  GstBin *bin;
  GstElement *upstream;   /* appsrc */
  GstElement *downstream; /* the queue before the muxer */
  GstElement *x264;       /* touched by the main context, or the appsrc thread in a swap */
  PlConfig config;        /* our copy; x264_preset is the starting preset */
  const char *preset;     /* atomic: a static string from pl-config.c's list */
  gint swapping;          /* atomic */
  GstClockTime keyframe_interval;
  GstClockTime last_keyframe; /* appsrc thread only */
  gssize last_output_pts;     /* atomic */
};

/* x264 counts its keyframe interval in frames, which means nothing at a variable frame
 * rate: force a keyframe when the configured time has passed since the last one. */
static GstPadProbeReturn
force_keyframe_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  PlEncoder *enc = user_data;
  GstClockTime pts = GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info));
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return GST_PAD_PROBE_OK;
  if (!GST_CLOCK_TIME_IS_VALID (enc->last_keyframe) || pts < enc->last_keyframe) {
    enc->last_keyframe = pts; /* the first frame of an encoder is a keyframe anyway */
  } else if (pts >= enc->last_keyframe + enc->keyframe_interval) {
    gst_pad_send_event (pad, gst_video_event_new_downstream_force_key_unit (pts, pts, pts,
                                                                            TRUE, 0));
    enc->last_keyframe = pts;
  }
  return GST_PAD_PROBE_OK;
}

/* x264 is fed constant-rate caps (see pl-recording.c); the frames' own timestamps are the
 * truth, so the muxer is told the stream is variable-rate, as it always was. */
static GstPadProbeReturn
variable_rate_caps_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (event) != GST_EVENT_CAPS)
    return GST_PAD_PROBE_OK;
  GstCaps *caps;
  gst_event_parse_caps (event, &caps);
  GstCaps *vfr = gst_caps_copy (caps);
  gst_caps_set_simple (vfr, "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
  GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (vfr);
  gst_caps_unref (vfr);
  gst_event_unref (event);
  return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn
output_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  PlEncoder *enc = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  if (GST_BUFFER_PTS_IS_VALID (buffer))
    g_atomic_pointer_set (&enc->last_output_pts, (gssize) GST_BUFFER_PTS (buffer));
  return GST_PAD_PROBE_OK;
}

static GstElement *
make_x264 (PlEncoder *enc, const char *preset, GError **error)
{
  GstElement *x264 = pl_make_element ("x264enc", NULL, error);
  if (!x264)
    return NULL;
  const PlConfig *c = &enc->config;
  /* zerolatency: no lookahead, no B-frames. At a variable frame rate lookahead would hold
   * seconds of frames back, and it costs hundreds of MB at 1080p (LESSONS.md). */
  gst_util_set_object_arg (G_OBJECT (x264), "speed-preset", preset);
  gst_util_set_object_arg (G_OBJECT (x264), "tune", "zerolatency");
  const char *level = (gint64) c->width * c->height <= 1920 * 1088 ? "4.1" : "5.1";
  g_autofree char *options =
      g_strdup_printf ("ref=1:cabac=1:8x8dct=1:weightp=1:bframes=0:level=%s", level);
  /* Two slice threads, not x264's "auto" (4 on 2 cores): a full-motion 1080p share cost
   * ~10 % less CPU in all, and a frame still takes about half the time one thread would
   * (docs/benchmarks.md). A recording node runs several recordings on few cores. */
  g_object_set (x264, "threads", (guint) 2, NULL);
  g_object_set (x264, "bitrate", (guint) c->video_kbps, "key-int-max",
                (guint) MAX (1, c->keyframe_interval_s * c->max_fps), "option-string", options,
                NULL);
  g_autoptr (GstPad) sink = gst_element_get_static_pad (x264, "sink");
  gst_pad_add_probe (sink, GST_PAD_PROBE_TYPE_BUFFER, force_keyframe_probe, enc, NULL);
  g_autoptr (GstPad) src = gst_element_get_static_pad (x264, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER, output_probe, enc, NULL);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, variable_rate_caps_probe, NULL,
                     NULL);
  return x264;
}

PlEncoder *
pl_encoder_new (GstBin *bin, GstElement *upstream, GstElement *downstream,
                const PlConfig *config, GError **error)
{
  PlEncoder *enc = g_new0 (PlEncoder, 1);
  enc->bin = bin;
  enc->upstream = upstream;
  enc->downstream = downstream;
  pl_config_copy (&enc->config, config);
  enc->preset = pl_config_canonical_preset (config->x264_preset);
  enc->keyframe_interval = (GstClockTime) (config->keyframe_interval_s * GST_SECOND);
  enc->last_keyframe = GST_CLOCK_TIME_NONE;
  enc->last_output_pts = -1;
  enc->x264 = make_x264 (enc, enc->preset, error);
  if (!enc->x264) {
    pl_encoder_free (enc);
    return NULL;
  }
  gst_bin_add (bin, enc->x264);
  if (!gst_element_link_many (upstream, enc->x264, downstream, NULL)) {
    g_set_error (error, PL_ERROR, PL_ERROR_PIPELINE, "could not link the video encoder");
    pl_encoder_free (enc);
    return NULL;
  }
  return enc;
}

void
pl_encoder_free (PlEncoder *enc)
{
  if (!enc)
    return;
  pl_config_clear (&enc->config);
  g_free (enc);
}

typedef struct {
  PlEncoder *enc;
  const char *preset;
} Swap;

/* Runs on the appsrc's thread while it is between buffers (IDLE probe): nothing flows
 * through the old encoder. zerolatency holds no frames, so none are lost. */
static GstPadProbeReturn
swap_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  Swap *swap = user_data;
  PlEncoder *enc = swap->enc;
  g_autoptr (GError) error = NULL;
  GstElement *next = make_x264 (enc, swap->preset, &error);
  if (!next) {
    g_warning ("encoder step-down failed: %s", error->message);
    g_atomic_int_set (&enc->swapping, 0);
    return GST_PAD_PROBE_REMOVE;
  }
  GstElement *old = enc->x264;
  gst_element_unlink_many (enc->upstream, old, enc->downstream, NULL);
  gst_element_set_locked_state (old, TRUE);
  gst_element_set_state (old, GST_STATE_NULL);
  gst_bin_remove (enc->bin, old);
  gst_bin_add (enc->bin, next);
  if (!gst_element_link_many (enc->upstream, next, enc->downstream, NULL))
    g_warning ("encoder step-down: could not link the new encoder");
  gst_element_sync_state_with_parent (next);
  enc->x264 = next;
  enc->last_keyframe = GST_CLOCK_TIME_NONE;
  g_atomic_pointer_set (&enc->preset, swap->preset);
  g_atomic_int_set (&enc->swapping, 0);
  return GST_PAD_PROBE_REMOVE;
}

gboolean
pl_encoder_step_down (PlEncoder *enc)
{
  const char *faster = pl_config_faster_preset (g_atomic_pointer_get (&enc->preset));
  if (!faster || !g_atomic_int_compare_and_exchange (&enc->swapping, 0, 1))
    return FALSE;
  Swap *swap = g_new0 (Swap, 1);
  swap->enc = enc;
  swap->preset = faster;
  g_autoptr (GstPad) src = gst_element_get_static_pad (enc->upstream, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_IDLE, swap_probe, swap, g_free);
  return TRUE;
}

const char *
pl_encoder_get_preset (PlEncoder *enc)
{
  return g_atomic_pointer_get (&enc->preset);
}
