/* SPDX-License-Identifier: MIT */
/* A screen-share track: RTP VP8/H.264 in, frames of the output size out to the switch.
 *
 *   depay (waits for a keyframe) → [parse] → decoder → unchanged-frame filter
 *     → videoconvert → videoscale (letterbox) → I420 WxH → appsink → PlVideoSwitch
 *
 * VP8 uses our own decoder (pl-vp8-decoder.c), which does not decode a static screen's
 * still frames at all and filters unchanged frames before it copies them out of
 * libavcodec; behind avdec_h264 a probe on the decoder's output filters.
 *
 * Screen shares send keyframes essentially only on request, so a keyframe is requested
 * when the first packet arrives, after loss (depayloader), after a decoder error (decoder)
 * and every second while none has been decoded yet; all requests pass one throttle of one
 * per second before they turn into a PLI. */
#include "pl-private.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <string.h>

#define KEYFRAME_REQUEST_MIN_INTERVAL_US G_USEC_PER_SEC
#define NO_KEYFRAME_WARN_EVERY_US (5 * G_USEC_PER_SEC)

struct _PlShare {
  char *track_id;
  char *encoding;
  PlVideoSwitch *sw;
  GstElement *bin;
  GstElement *decoder; /* owned by bin */
  gboolean decoder_filters; /* the decoder drops unchanged frames itself (VP8) */
  GstPad *depay_sink; /* where keyframe requests leave upstream */
  gint64 created_us;
  gint64 last_warn_us;

  /* Protects the fields below; taken by the streaming thread and the main context. */
  GMutex lock;
  gint64 last_request_us;
  guint64 requests_sent;
  guint64 requests_throttled;
  gboolean first_packet_seen;
  gboolean first_frame_seen;
  /* When the decoder does not filter: */
  GstBuffer *previous; /* last frame passed on, to spot unchanged ones */
  PlFrameFilter filter;
  GstCaps *previous_caps;
  gboolean comparable;      /* previous_caps are I420, parsed into previous_info */
  GstVideoInfo previous_info;
  guint64 frames_decoded;
  guint64 frames_unchanged;
};

/* Sends a keyframe request upstream unless one left less than a second ago. */
static void
request_keyframe (PlShare *share, const char *why)
{
  gint64 now = g_get_monotonic_time ();
  g_mutex_lock (&share->lock);
  gboolean send = now - share->last_request_us >= KEYFRAME_REQUEST_MIN_INTERVAL_US;
  if (send) {
    share->last_request_us = now;
    share->requests_sent++;
  }
  g_mutex_unlock (&share->lock);
  if (send) {
    g_debug ("share %s: requesting a keyframe (%s)", share->track_id, why);
    gst_pad_push_event (share->depay_sink,
                        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
                                                                     TRUE, 0));
  }
}

/* Upstream events leaving the depayloader: keyframe requests from the depayloader (loss)
 * and the decoder (errors) go through the same throttle as ours. */
static GstPadProbeReturn
throttle_requests_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  PlShare *share = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  if (!gst_video_event_is_force_key_unit (event))
    return GST_PAD_PROBE_OK;
  gint64 now = g_get_monotonic_time ();
  GstPadProbeReturn ret = GST_PAD_PROBE_OK;
  g_mutex_lock (&share->lock);
  if (now - share->last_request_us < KEYFRAME_REQUEST_MIN_INTERVAL_US) {
    share->requests_throttled++;
    ret = GST_PAD_PROBE_DROP;
  } else {
    share->last_request_us = now;
    share->requests_sent++;
  }
  gboolean damaged = ret == GST_PAD_PROBE_OK && share->first_frame_seen;
  g_mutex_unlock (&share->lock);
  /* After the first frame, a request from downstream means the picture broke: packets
   * lost for good, or the decoder refused a frame. */
  if (damaged)
    g_message ("share %s: picture damaged (packet loss or decoder error), requesting a "
               "keyframe",
               share->track_id);
  return ret;
}

static GstPadProbeReturn
first_packet_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  PlShare *share = user_data;
  g_mutex_lock (&share->lock);
  gboolean first = !share->first_packet_seen;
  share->first_packet_seen = TRUE;
  g_mutex_unlock (&share->lock);
  if (first)
    request_keyframe (share, "new track");
  return GST_PAD_PROBE_REMOVE;
}

static gboolean
shows_something_new (PlShare *share, GstBuffer *buffer, GstClockTime pts)
{
  GstVideoFrame fa, fb;
  if (!gst_video_frame_map (&fa, &share->previous_info, buffer, GST_MAP_READ))
    return TRUE;
  if (!gst_video_frame_map (&fb, &share->previous_info, share->previous, GST_MAP_READ)) {
    gst_video_frame_unmap (&fa);
    return TRUE;
  }
  PlPicture cur, prev;
  pl_picture_from_video_frame (&cur, &fa);
  pl_picture_from_video_frame (&prev, &fb);
  gboolean pass = pl_frame_filter_check (&share->filter, &cur, &prev, pts);
  gst_video_frame_unmap (&fb);
  gst_video_frame_unmap (&fa);
  return pass;
}

/* Counts decoded frames and, behind a decoder that does not filter, drops those that show
 * nothing new (pl-frame-filter.c): a static screen costs a comparison, not a scale and an
 * encode. */
static GstPadProbeReturn
unchanged_frame_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  PlShare *share = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  gboolean drop = FALSE;

  g_mutex_lock (&share->lock);
  share->frames_decoded++;
  if (!share->first_frame_seen) {
    share->first_frame_seen = TRUE;
    g_message ("share %s: first frame decoded", share->track_id);
  }
  if (share->decoder_filters) {
    g_mutex_unlock (&share->lock);
    return GST_PAD_PROBE_OK;
  }
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  GstClockTime pts = GST_BUFFER_PTS (buffer);
  /* Caps change only with the share's size: compare pointers first, parse only then. */
  gboolean same_caps = caps && share->previous_caps &&
                       (caps == share->previous_caps || gst_caps_is_equal (caps, share->previous_caps));
  if (share->previous && same_caps && share->comparable)
    drop = !shows_something_new (share, buffer, pts);
  if (drop) {
    share->frames_unchanged++;
  } else {
    gst_buffer_replace (&share->previous, buffer);
    pl_frame_filter_passed (&share->filter, pts);
    if (!same_caps) {
      gst_caps_replace (&share->previous_caps, caps);
      share->comparable = caps && gst_video_info_from_caps (&share->previous_info, caps) &&
                          GST_VIDEO_INFO_FORMAT (&share->previous_info) == GST_VIDEO_FORMAT_I420;
    }
  }
  g_mutex_unlock (&share->lock);
  return drop ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

static GstFlowReturn
on_new_sample (GstAppSink *appsink, gpointer user_data)
{
  PlShare *share = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (appsink);
  if (!sample)
    return GST_FLOW_EOS;
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  GstClockTime rt = gst_segment_to_running_time (segment, GST_FORMAT_TIME,
                                                 GST_BUFFER_PTS (buffer));
  if (GST_CLOCK_TIME_IS_VALID (rt))
    pl_video_switch_push_share (share->sw, gst_buffer_ref (buffer), rt);
  return GST_FLOW_OK;
}

static void
set_if_exists (GstElement *element, const char *property, ...)
{
  va_list args;
  va_start (args, property);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (element), property))
    g_object_set_valist (G_OBJECT (element), property, args);
  va_end (args);
}

PlShare *
pl_share_new (const char *track_id, const char *encoding_name,
              const PlConfig *config, PlVideoSwitch *sw, GError **error)
{
  const char *depay_name, *parse_name = NULL, *dec_name;
  if (g_ascii_strcasecmp (encoding_name, "VP8") == 0) {
    depay_name = "rtpvp8depay";
    pl_vp8_decoder_register ();
    dec_name = PL_VP8_DECODER_NAME;
  } else if (g_ascii_strcasecmp (encoding_name, "H264") == 0) {
    depay_name = "rtph264depay";
    parse_name = "h264parse";
    dec_name = "avdec_h264";
  } else {
    g_set_error (error, PL_ERROR, PL_ERROR_UNSUPPORTED,
                 "screen share %s: codec %s is not recorded (VP8 and H264 are)", track_id,
                 encoding_name);
    return NULL;
  }

  g_autofree char *name = g_strdup_printf ("share-%s", track_id);
  GstElement *bin = gst_bin_new (name);
  const char *chain[] = { depay_name, parse_name, dec_name, "videoconvert", "videoscale",
                          "capsfilter", "appsink" };
  GstElement *elements[G_N_ELEMENTS (chain)] = { NULL };
  GstElement *prev = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (chain); i++) {
    if (!chain[i])
      continue;
    elements[i] = pl_make_element (chain[i], NULL, error);
    if (!elements[i]) {
      gst_object_unref (bin);
      return NULL;
    }
    gst_bin_add (GST_BIN (bin), elements[i]);
    if (prev)
      gst_element_link (prev, elements[i]);
    prev = elements[i];
  }
  GstElement *depay = elements[0], *dec = elements[2], *scale = elements[4];
  GstElement *filter = elements[5], *appsink = elements[6];

  g_object_set (depay, "request-keyframe", TRUE, "wait-for-keyframe", TRUE, NULL);
  /* Decoder errors must not end the recording: conceal, ask for a keyframe, go on. */
  set_if_exists (dec, "max-errors", -1, NULL);
  set_if_exists (dec, "automatic-request-sync-points", TRUE, NULL);
  set_if_exists (dec, "discard-corrupted-frames", TRUE, NULL);
  set_if_exists (dec, "min-force-key-unit-interval", (guint64) GST_SECOND, NULL);
  /* One thread per decoder: many recordings share two cores, and frame threading adds
   * frames of latency. */
  set_if_exists (dec, "max-threads", 1, NULL);
  set_if_exists (dec, "threads", 1, NULL);
  g_object_set (scale, "add-borders", TRUE, NULL);
  g_autoptr (GstCaps) caps = gst_caps_new_simple (
      "video/x-raw", "format", G_TYPE_STRING, "I420", "width", G_TYPE_INT, config->width,
      "height", G_TYPE_INT, config->height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set (filter, "caps", caps, NULL);
  /* The switch does its own timing: never wait on the clock here. */
  g_object_set (appsink, "sync", FALSE, "async", FALSE, "max-buffers", 2, "drop", FALSE,
                "enable-last-sample", FALSE, NULL);

  PlShare *share = g_new0 (PlShare, 1);
  g_mutex_init (&share->lock);
  share->track_id = g_strdup (track_id);
  share->encoding = g_ascii_strup (encoding_name, -1);
  share->sw = sw;
  share->bin = bin;
  share->created_us = g_get_monotonic_time ();
  share->last_warn_us = share->created_us;
  share->last_request_us = G_MININT64 / 2;
  share->decoder = dec;
  share->decoder_filters = g_str_equal (dec_name, PL_VP8_DECODER_NAME);
  pl_frame_filter_init (&share->filter);

  GstAppSinkCallbacks callbacks = { .new_sample = on_new_sample };
  gst_app_sink_set_callbacks (GST_APP_SINK (appsink), &callbacks, share, NULL);

  share->depay_sink = gst_element_get_static_pad (depay, "sink");
  gst_pad_add_probe (share->depay_sink, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                     throttle_requests_probe, share, NULL);
  gst_pad_add_probe (share->depay_sink, GST_PAD_PROBE_TYPE_BUFFER, first_packet_probe, share,
                     NULL);
  g_autoptr (GstPad) dec_src = gst_element_get_static_pad (dec, "src");
  gst_pad_add_probe (dec_src, GST_PAD_PROBE_TYPE_BUFFER, unchanged_frame_probe, share, NULL);

  GstPad *ghost = gst_ghost_pad_new ("sink", share->depay_sink);
  gst_pad_add_probe (ghost, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, pl_drop_eos_probe, NULL, NULL);
  gst_element_add_pad (bin, ghost);
  return share;
}

GstElement *
pl_share_get_bin (PlShare *share)
{
  return share->bin;
}

void
pl_share_tick (PlShare *share)
{
  g_mutex_lock (&share->lock);
  gboolean waiting = !share->first_frame_seen;
  guint64 requests = share->requests_sent;
  g_mutex_unlock (&share->lock);
  if (!waiting)
    return;
  gint64 now = g_get_monotonic_time ();
  request_keyframe (share, "still no keyframe");
  if (now - share->last_warn_us >= NO_KEYFRAME_WARN_EVERY_US) {
    share->last_warn_us = now;
    g_warning ("share %s (%s): no decodable keyframe after %.0f s (%" G_GUINT64_FORMAT
               " keyframe requests sent); showing the card meanwhile",
               share->track_id, share->encoding, (now - share->created_us) / 1e6, requests);
  }
}

void
pl_share_add_stats (PlShare *share, PlStats *stats)
{
  g_mutex_lock (&share->lock);
  stats->keyframe_requests += share->requests_sent;
  gboolean decoder_filters = share->decoder_filters;
  if (!decoder_filters) {
    stats->video_frames_unchanged += share->frames_unchanged;
    stats->video_frames_decoded += share->frames_decoded;
  }
  g_mutex_unlock (&share->lock);
  if (decoder_filters) {
    PlVp8DecoderStats ds;
    pl_vp8_decoder_get_stats (share->decoder, &ds);
    stats->video_frames_unchanged += ds.unchanged;
    stats->video_frames_still += ds.still;
    stats->video_frames_decoded += ds.decoded;
  }
}

void
pl_share_free (PlShare *share)
{
  if (!share)
    return;
  gst_clear_object (&share->depay_sink);
  gst_clear_buffer (&share->previous);
  gst_clear_caps (&share->previous_caps);
  g_mutex_clear (&share->lock);
  g_free (share->track_id);
  g_free (share->encoding);
  g_free (share);
}
