/* SPDX-License-Identifier: MIT */
#include "media-check.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (mc-error-quark, mc_error)

/* ---- ffprobe ---------------------------------------------------------------------------- */

/* ffprobe reads the whole file for -count_packets; coreutils' timeout bounds that, exiting
 * with 124 when it had to stop it. */
static char *
run_ffprobe (const char *path, GError **error)
{
  g_autofree char *limit = g_strdup_printf ("%d", MC_TIMEOUT_S);
  const char *argv[] = { "timeout", "-k", "5", limit, "ffprobe", "-v", "error", "-show_format",
                         "-show_streams", "-count_packets", "-of", "json", path, NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GError) exit_error = NULL;
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, error))
    return NULL;
  if (!g_spawn_check_wait_status (status, &exit_error)) {
    gboolean timed_out = g_error_matches (exit_error, G_SPAWN_EXIT_ERROR, 124);
    g_set_error (error, MC_ERROR, timed_out ? MC_ERROR_TIMEOUT : MC_ERROR_PROBE,
                 "ffprobe %s: %s", path, timed_out ? "timed out" : g_strstrip (err));
    return NULL;
  }
  return g_steal_pointer (&out);
}

/* ffprobe prints most numbers as strings ("4.000000"), "N/A" when unknown. */
static double
member_double (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (!node || !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  if (json_node_get_value_type (node) == G_TYPE_STRING) {
    const char *text = json_node_get_string (node);
    char *end = NULL;
    double value = g_ascii_strtod (text, &end);
    return (end != text && isfinite (value)) ? value : 0;
  }
  return json_node_get_double (node);
}

static const char *
member_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);
  const char *text = node && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_string (node) : NULL;

  return text ? text : "";
}

gboolean
mc_probe (const char *path, McInfo *info, GError **error)
{
  g_return_val_if_fail (path != NULL && info != NULL, FALSE);
  memset (info, 0, sizeof *info);

  g_autofree char *out = run_ffprobe (path, error);
  if (!out)
    return FALSE;

  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) json_error = NULL;
  JsonNode *root, *node;
  if (!json_parser_load_from_data (parser, out, -1, &json_error)
      || !(root = json_parser_get_root (parser)) || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, MC_ERROR, MC_ERROR_PROBE, "ffprobe %s: unreadable output: %s", path,
                 json_error ? json_error->message : "not an object");
    return FALSE;
  }
  JsonObject *top = json_node_get_object (root);
  if ((node = json_object_get_member (top, "format")) && JSON_NODE_HOLDS_OBJECT (node))
    info->duration_s = member_double (json_node_get_object (node), "duration");

  JsonArray *streams = (node = json_object_get_member (top, "streams"))
                           && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  for (guint i = 0; streams && i < json_array_get_length (streams); i++) {
    node = json_array_get_element (streams, i);
    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    JsonObject *stream = json_node_get_object (node);
    const char *type = member_string (stream, "codec_type");

    /* Only the first stream of each kind: recordings have one of each. */
    if (g_str_equal (type, "video") && !info->video_codec) {
      info->video_codec = g_strdup (member_string (stream, "codec_name"));
      info->width = (int) member_double (stream, "width");
      info->height = (int) member_double (stream, "height");
      info->video_frames = (guint) member_double (stream, "nb_read_packets");
      info->video_duration_s = member_double (stream, "duration");
    } else if (g_str_equal (type, "audio") && !info->audio_codec) {
      info->audio_codec = g_strdup (member_string (stream, "codec_name"));
      info->audio_profile = g_strdup (member_string (stream, "profile"));
      info->audio_rate = (int) member_double (stream, "sample_rate");
      info->audio_channels = (int) member_double (stream, "channels");
      info->audio_duration_s = member_double (stream, "duration");
    }
  }
  return TRUE;
}

void
mc_info_clear (McInfo *info)
{
  g_clear_pointer (&info->video_codec, g_free);
  g_clear_pointer (&info->audio_codec, g_free);
  g_clear_pointer (&info->audio_profile, g_free);
}

/* ---- decoding --------------------------------------------------------------------------- */

typedef struct {
  const char *media;  /* "audio" or "video": the stream we decode */
  GstElement *branch; /* first element after decodebin */
  int linked;         /* atomic: set from streaming threads */
  int no_more_pads;   /* atomic */
} Decode;

/* Called with the stream time (s) of every sample, on the calling thread. */
typedef void (*SampleFunc) (GstSample *sample, double t, gpointer user_data);

static void
decode_pad_added (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  Decode *dec = user_data;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  const char *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));

  /* The first stream of our kind wins; recordings have one. */
  if (g_str_has_prefix (name, dec->media) && g_atomic_int_compare_and_exchange (&dec->linked, 0, 1)) {
    g_autoptr (GstPad) sinkpad = gst_element_get_static_pad (dec->branch, "sink");
    if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
      g_atomic_int_set (&dec->linked, 0);
  }
}

static void
decode_no_more_pads (GstElement *decodebin, gpointer user_data)
{
  Decode *dec = user_data;

  g_atomic_int_set (&dec->no_more_pads, 1);
}

/* Streams of the other kind leave the demuxer undecoded: decoding 1080p video only to
 * throw it away would dominate the cost of an audio check. */
static gboolean
decode_autoplug_continue (GstElement *decodebin, GstPad *pad, GstCaps *caps, gpointer user_data)
{
  Decode *dec = user_data;
  const char *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  const char *other = g_str_equal (dec->media, "audio") ? "video/" : "audio/";

  if (!g_str_has_prefix (name, other))
    return TRUE;
  /* "video/quicktime" is the container itself: only stop below a demuxer. */
  g_autoptr (GstElement) parent = gst_pad_get_parent_element (pad);
  GstElementFactory *factory = parent ? gst_element_get_factory (parent) : NULL;
  const char *klass = factory ? gst_element_factory_get_metadata (factory,
                                                                  GST_ELEMENT_METADATA_KLASS)
                              : NULL;
  return !(klass && strstr (klass, "Demux"));
}

/* Seconds of stream time (media position) for pts; -1 when there is none. */
static double
stream_seconds (const GstSegment *segment, GstClockTime pts)
{
  guint64 st = GST_CLOCK_TIME_NONE;

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return -1;
  if (segment && segment->format == GST_FORMAT_TIME)
    st = gst_segment_to_stream_time (segment, GST_FORMAT_TIME, pts);
  return (double) (GST_CLOCK_TIME_IS_VALID (st) ? st : pts) / GST_SECOND;
}

static double
sample_time (GstSample *sample)
{
  return stream_seconds (gst_sample_get_segment (sample),
                         GST_BUFFER_PTS (gst_sample_get_buffer (sample)));
}

/* Runs "filesrc ! decodebin" into branch_desc (which ends in an appsink named "sink") until
 * EOS. A bus error after some data is the end of a crash-cut file, not a failure. probe, when
 * given, is installed on the branch's sink pad before the pipeline starts. */
static gboolean
decode_file (const char *path, const char *media, const char *branch_desc, GstPadProbeType
             probe_type, GstPadProbeCallback probe, gpointer probe_data, SampleFunc func,
             gpointer user_data, GError **error)
{
  g_autofree char *desc = g_strdup_printf ("filesrc name=src ! decodebin name=dec  %s",
                                           branch_desc);
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS,
                                                           &parse_error);
  if (!pipeline) {
    g_set_error (error, MC_ERROR, MC_ERROR_DECODE, "%s", parse_error->message);
    return FALSE;
  }

  g_autoptr (GstElement) src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  g_autoptr (GstElement) decodebin = gst_bin_get_by_name (GST_BIN (pipeline), "dec");
  g_autoptr (GstElement) branch = gst_bin_get_by_name (GST_BIN (pipeline), "first");
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GError) bus_error = NULL;
  Decode dec = { .media = media, .branch = branch };
  gboolean got_data = FALSE, timed_out = FALSE;
  gint64 deadline = g_get_monotonic_time () + (gint64) MC_TIMEOUT_S * G_USEC_PER_SEC;

  g_object_set (src, "location", path, NULL);
  g_object_set (sink, "sync", FALSE, "max-buffers", 8, NULL);
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (decode_pad_added), &dec);
  g_signal_connect (decodebin, "no-more-pads", G_CALLBACK (decode_no_more_pads), &dec);
  g_signal_connect (decodebin, "autoplug-continue", G_CALLBACK (decode_autoplug_continue), &dec);
  if (probe) {
    g_autoptr (GstPad) pad = gst_element_get_static_pad (branch, "sink");
    gst_pad_add_probe (pad, probe_type, probe, probe_data, NULL);
  }
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  for (;;) {
    /* After an error, take what the sink still holds without waiting. */
    GstSample *sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
                                                      bus_error ? 0 : 50 * GST_MSECOND);
    if (sample) {
      func (sample, sample_time (sample), user_data);
      gst_sample_unref (sample);
      got_data = TRUE;
      continue;
    }
    if (bus_error || gst_app_sink_is_eos (GST_APP_SINK (sink)))
      break;
    /* try_pull returns at once while the sink is not yet PLAYING; the timed pop keeps this
     * loop from spinning. */
    g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (bus, 10 * GST_MSECOND,
                                                             GST_MESSAGE_ERROR);
    if (msg)
      gst_message_parse_error (msg, &bus_error, NULL);
    else if (g_atomic_int_get (&dec.no_more_pads) && !g_atomic_int_get (&dec.linked))
      break;
    else if ((timed_out = g_get_monotonic_time () > deadline))
      break;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);

  if (timed_out) {
    g_set_error (error, MC_ERROR, MC_ERROR_TIMEOUT, "%s: %s not decoded within %d s", path,
                 media, MC_TIMEOUT_S);
  } else if (got_data) {
    if (bus_error)
      g_debug ("%s: %s ends at an error, keeping what came before: %s", path, media,
               bus_error->message);
    return TRUE;
  } else if (g_atomic_int_get (&dec.no_more_pads) && !g_atomic_int_get (&dec.linked)) {
    g_set_error (error, MC_ERROR, MC_ERROR_NO_STREAM, "%s: no %s stream", path, media);
  } else if (bus_error) {
    g_set_error (error, MC_ERROR, MC_ERROR_DECODE, "%s: %s", path, bus_error->message);
  } else {
    g_set_error (error, MC_ERROR, MC_ERROR_NO_STREAM, "%s: the %s stream is empty", path, media);
  }
  return FALSE;
}

/* ---- audio ------------------------------------------------------------------------------ */

typedef struct {
  GArray *samples; /* float */
  int rate;
} AudioSink;

static void
audio_sample (GstSample *sample, double t, gpointer user_data)
{
  AudioSink *out = user_data;
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstMapInfo map;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ))
    return;
  gsize n = map.size / sizeof (float);
  gsize at = out->samples->len;
  /* Up to 12 h of placement: a wild timestamp must not allocate the machine away. */
  if (t >= 0 && t < 12 * 3600) {
    gsize wanted = (gsize) llround (t * out->rate);
    /* Rounding puts abutting buffers a sample apart; only real gaps become silence. */
    if (wanted > at + (gsize) out->rate / 1000 || wanted + (gsize) out->rate / 1000 < at)
      at = wanted;
  }
  if (at + n > out->samples->len)
    g_array_set_size (out->samples, at + n);
  memcpy (&g_array_index (out->samples, float, at), map.data, n * sizeof (float));
  gst_buffer_unmap (buffer, &map);
}

McAudio *
mc_audio_decode (const char *path, int rate, GError **error)
{
  g_return_val_if_fail (path != NULL && rate > 0, NULL);

  g_autofree char *branch = g_strdup_printf (
    "audioconvert name=first ! audioresample ! "
    "audio/x-raw,format=F32LE,channels=1,rate=%d,layout=interleaved ! appsink name=sink", rate);
  AudioSink out = { g_array_new (FALSE, TRUE, sizeof (float)), rate };

  if (!decode_file (path, "audio", branch, 0, NULL, NULL, audio_sample, &out, error)) {
    g_array_unref (out.samples);
    return NULL;
  }
  McAudio *audio = g_new0 (McAudio, 1);
  audio->rate = rate;
  audio->n_samples = out.samples->len;
  audio->samples = (float *) (gpointer) g_array_free (out.samples, FALSE);
  return audio;
}

void
mc_audio_free (McAudio *audio)
{
  if (!audio)
    return;
  g_free (audio->samples);
  g_free (audio);
}

static double *
hann_new (gsize n)
{
  double *win = g_new (double, n);

  for (gsize i = 0; i < n; i++)
    win[i] = 0.5 - 0.5 * cos (2 * G_PI * (i + 0.5) / n);
  return win;
}

/* Amplitude of a sine at freq in x[0..n) weighted by win: a full-scale sine gives 1.0. */
static double
goertzel (const float *x, const double *win, gsize n, double freq, int rate)
{
  double coeff = 2 * cos (2 * G_PI * freq / rate);
  double s1 = 0, s2 = 0, wsum = 0;

  for (gsize i = 0; i < n; i++) {
    double s = x[i] * win[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
    wsum += win[i];
  }
  double power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return wsum > 0 ? 2 * sqrt (MAX (power, 0)) / wsum : 0;
}

double
mc_audio_tone_amplitude (const McAudio *audio, double t0, double t1, double freq_hz)
{
  g_return_val_if_fail (audio != NULL, 0);

  gsize start = (gsize) CLAMP (t0 * audio->rate, 0, (double) audio->n_samples);
  gsize end = (gsize) CLAMP (t1 * audio->rate, 0, (double) audio->n_samples);
  if (end <= start + 1)
    return 0;

  /* 100 ms segments rather than one long window: a long window is so narrow in frequency
   * that a resampler's drift of a few tenths of a percent would hide the tone. */
  gsize seg = MIN (end - start, (gsize) (audio->rate / 10));
  gsize hop = MAX (seg / 2, 1);
  g_autofree double *win = hann_new (seg);
  double power = 0;
  guint count = 0;

  for (gsize at = start; at + seg <= end; at += hop, count++) {
    double a = goertzel (audio->samples + at, win, seg, freq_hz, audio->rate);
    power += a * a;
  }
  return count ? sqrt (power / count) : 0;
}

gboolean
mc_audio_has_tone (const McAudio *audio, double t0, double t1, double freq_hz,
                   double min_amplitude)
{
  return mc_audio_tone_amplitude (audio, t0, t1, freq_hz) >= min_amplitude;
}

GArray *
mc_audio_burst_onsets (const McAudio *audio, double freq_hz, double threshold)
{
  g_return_val_if_fail (audio != NULL, NULL);

  GArray *onsets = g_array_new (FALSE, FALSE, sizeof (double));
  gsize win_n = MAX ((gsize) (audio->rate / 100), 2), hop = MAX (win_n / 2, 1);
  gsize step = MAX (hop / 60, 1);
  g_autofree double *win = hann_new (win_n);
  guint below = 0, below_needed = (guint) ceil (0.3 * audio->rate / hop);

  for (gsize at = 0; at + win_n <= audio->n_samples; at += hop) {
    double a = goertzel (audio->samples + at, win, win_n, freq_hz, audio->rate);
    if (a < threshold) {
      below++;
      continue;
    }
    if (below >= below_needed) {
      /* The window that first crosses the threshold only brackets the start. Where the
       * amplitude reaches half of the burst's plateau, the Hann window is half inside the
       * burst, so that window's centre is the onset whatever the threshold was. */
      double plateau = a;
      for (gsize k = 1; k <= 6 && at + k * hop + win_n <= audio->n_samples; k++)
        plateau = MAX (plateau, goertzel (audio->samples + at + k * hop, win, win_n, freq_hz,
                                          audio->rate));
      gsize from = at >= hop ? at - hop : 0, to = MIN (at + 3 * hop, audio->n_samples - win_n);
      gsize found = at;
      for (gsize s = from; s <= to; s += step) {
        if (goertzel (audio->samples + s, win, win_n, freq_hz, audio->rate) >= plateau / 2) {
          found = s;
          break;
        }
      }
      double onset = (found + win_n / 2.0) / audio->rate;
      g_array_append_val (onsets, onset);
    }
    below = 0;
  }
  return onsets;
}

/* ---- video ------------------------------------------------------------------------------ */

typedef struct {
  double every_s;
  double next_t;      /* streaming thread only */
  GstSegment segment; /* streaming thread only */
  GPtrArray *frames;
} VideoSink;

/* Drops unwanted frames before conversion and scaling, the costly part at 1080p. */
static GstPadProbeReturn
video_select (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  VideoSink *out = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    if (GST_EVENT_TYPE (event) == GST_EVENT_SEGMENT)
      gst_event_copy_segment (event, &out->segment);
    return GST_PAD_PROBE_OK;
  }

  double t = stream_seconds (&out->segment, GST_BUFFER_PTS (GST_PAD_PROBE_INFO_BUFFER (info)));
  if (t >= 0 && t < out->next_t)
    return GST_PAD_PROBE_DROP;
  if (t >= 0)
    out->next_t = (floor (t / out->every_s) + 1) * out->every_s;
  return GST_PAD_PROBE_OK;
}

static void
video_sample (GstSample *sample, double t, gpointer user_data)
{
  VideoSink *out = user_data;
  GstVideoInfo vinfo;
  GstVideoFrame vframe;

  if (!gst_video_info_from_caps (&vinfo, gst_sample_get_caps (sample))
      || !gst_video_frame_map (&vframe, &vinfo, gst_sample_get_buffer (sample), GST_MAP_READ))
    return;

  McFrame *frame = g_new0 (McFrame, 1);
  frame->t = t;
  frame->width = GST_VIDEO_INFO_WIDTH (&vinfo);
  frame->height = GST_VIDEO_INFO_HEIGHT (&vinfo);
  frame->rgb = g_malloc ((gsize) frame->width * frame->height * 3);
  /* GStreamer pads RGB rows to 4 bytes; McFrame rows are packed. */
  for (int y = 0; y < frame->height; y++)
    memcpy (frame->rgb + (gsize) y * frame->width * 3,
            (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vframe, 0)
              + (gsize) y * GST_VIDEO_FRAME_PLANE_STRIDE (&vframe, 0),
            (gsize) frame->width * 3);
  gst_video_frame_unmap (&vframe);
  g_ptr_array_add (out->frames, frame);
}

GPtrArray *
mc_video_frames (const char *path, int width, int height, double every_s, GError **error)
{
  g_return_val_if_fail (path != NULL && width > 0 && height > 0, NULL);

  /* add-borders=false: frame pixels map linearly onto the picture, so content boxes scale. */
  g_autofree char *branch = g_strdup_printf (
    "videoconvert name=first ! videoscale add-borders=false ! "
    "video/x-raw,format=RGB,width=%d,height=%d,pixel-aspect-ratio=1/1 ! appsink name=sink",
    width, height);
  VideoSink out = { .every_s = every_s, .frames = g_ptr_array_new_with_free_func (
                                          (GDestroyNotify) mc_frame_free) };
  gst_segment_init (&out.segment, GST_FORMAT_UNDEFINED);

  if (!decode_file (path, "video", branch,
                    GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                    every_s > 0 ? video_select : NULL, &out, video_sample, &out, error)) {
    g_ptr_array_unref (out.frames);
    return NULL;
  }
  return out.frames;
}

void
mc_frame_free (McFrame *frame)
{
  if (!frame)
    return;
  g_free (frame->rgb);
  g_free (frame);
}

/* ---- frame analysis --------------------------------------------------------------------- */

/* Below this R+G+B a pixel is black: coded black stays within a few levels of 0, while the
 * darkest content we draw, the card background (32,36,48) and the blue bar, are far above. */
#define BLACK_SUM 64

/* First and last+1 index whose count is over a tenth of the line length: coding ringing
 * leaks a few bright pixels into the letterbox but never a tenth of a line. */
static gboolean
extent (const int *counts, int n, int line, int *lo, int *hi)
{
  *lo = -1;
  for (int i = 0; i < n; i++) {
    if (counts[i] * 10 > line) {
      if (*lo < 0)
        *lo = i;
      *hi = i + 1;
    }
  }
  return *lo >= 0;
}

gboolean
mc_frame_content_box (const McFrame *frame, int *x, int *y, int *w, int *h)
{
  g_return_val_if_fail (frame != NULL, FALSE);

  int width = frame->width, height = frame->height, x0, x1, y0, y1;
  g_autofree int *cols = g_new0 (int, width);
  g_autofree int *rows = g_new0 (int, height);

  for (int j = 0; j < height; j++) {
    const guint8 *p = frame->rgb + (gsize) j * width * 3;
    for (int i = 0; i < width; i++, p += 3) {
      if (p[0] + p[1] + p[2] > BLACK_SUM) {
        cols[i]++;
        rows[j]++;
      }
    }
  }
  if (!extent (cols, width, height, &x0, &x1) || !extent (rows, height, width, &y0, &y1))
    return FALSE;

  /* The share's black bar is indistinguishable from the letterbox it touches, but the
   * recorder centres the share, so the smaller margin is the letterbox. */
  int mx = MIN (x0, width - x1), my = MIN (y0, height - y1);
  if (x)
    *x = mx;
  if (y)
    *y = my;
  if (w)
    *w = width - 2 * mx;
  if (h)
    *h = height - 2 * my;
  return TRUE;
}

/* The 8 bars first (their index is the palette index), then colors that must not be taken
 * for a bar: the moving gray box and the card background. */
static const guint8 references[][3] = {
  { 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 }, { 255, 0, 255 },
  { 255, 0, 0 },     { 0, 0, 255 },   { 0, 0, 0 },     { 128, 128, 128 }, { 32, 36, 48 },
};
#define N_BARS 8
#define CARD_REF 9
/* Coding moves colors by about ±25 per channel, i.e. up to ~45 in RGB distance; the closest
 * two references (black and card) are 68 apart, and nearest-match resolves those. */
#define MATCH_DIST 70
#define CARD_DIST 32

McFrameKind
mc_frame_classify (const McFrame *frame)
{
  g_return_val_if_fail (frame != NULL, MC_FRAME_OTHER);

  int bx, by, bw, bh;
  if (!mc_frame_content_box (frame, &bx, &by, &bw, &bh))
    return MC_FRAME_BLACK;

  guint64 counts[G_N_ELEMENTS (references)] = { 0 };
  guint64 bright = 0, black = 0, card = 0;
  guint64 total = (guint64) frame->width * frame->height, in_box = (guint64) bw * bh;

  for (int j = 0; j < frame->height; j++) {
    const guint8 *p = frame->rgb + (gsize) j * frame->width * 3;
    gboolean row_in = j >= by && j < by + bh;
    for (int i = 0; i < frame->width; i++, p += 3) {
      int best = -1, best_d2 = MATCH_DIST * MATCH_DIST + 1;
      for (guint r = 0; r < G_N_ELEMENTS (references); r++) {
        int dr = p[0] - references[r][0], dg = p[1] - references[r][1],
            db = p[2] - references[r][2];
        int d2 = dr * dr + dg * dg + db * db;
        if (d2 < best_d2) {
          best_d2 = d2;
          best = r;
        }
      }
      if (best == CARD_REF && best_d2 <= CARD_DIST * CARD_DIST)
        card++;
      if (p[0] + p[1] + p[2] <= BLACK_SUM)
        black++;
      if (!row_in || i < bx || i >= bx + bw)
        continue;
      if (best >= 0)
        counts[best]++;
      /* BT.601 luma */
      if (77 * p[0] + 150 * p[1] + 29 * p[2] > 200 * 256)
        bright++;
    }
  }

  if (bright * 4 >= in_box * 3)
    return MC_FRAME_WHITE;
  guint bars = 0;
  for (guint r = 0; r < N_BARS; r++)
    bars += counts[r] * 50 >= in_box;
  if (bars >= 6)
    return MC_FRAME_SHARE;
  if (card * 10 >= total * 6)
    return MC_FRAME_CARD;
  if (black * 10 >= total * 9)
    return MC_FRAME_BLACK;
  return MC_FRAME_OTHER;
}

const char *
mc_frame_kind_name (McFrameKind kind)
{
  static const char *const names[] = { "share", "card", "white", "black", "other" };

  return (guint) kind < G_N_ELEMENTS (names) ? names[kind] : "invalid";
}

GArray *
mc_video_flash_onsets (GPtrArray *frames)
{
  g_return_val_if_fail (frames != NULL, NULL);

  GArray *onsets = g_array_new (FALSE, FALSE, sizeof (double));
  /* A file that starts white has no onset we could pair with a beep. */
  gboolean was_white = TRUE;

  for (guint i = 0; i < frames->len; i++) {
    const McFrame *frame = g_ptr_array_index (frames, i);
    gboolean white = mc_frame_classify (frame) == MC_FRAME_WHITE;
    if (white && !was_white)
      g_array_append_val (onsets, frame->t);
    was_white = white;
  }
  return onsets;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
mc_assert_av_sync (const McAudio *audio, GPtrArray *frames, double beep_hz, guint min_pairs,
                   double max_offset_s)
{
  g_autoptr (GArray) flashes = mc_video_flash_onsets (frames);
  g_autoptr (GArray) beeps = mc_audio_burst_onsets (audio, beep_hz, 0.1);
  double offset = 0;
  guint pairs = 0;
  g_assert_true (mc_av_offset (flashes, beeps, &offset, &pairs));
  g_test_message ("A/V offset %.1f ms over %u flash/beep pairs (%u flashes, %u beeps)",
                  offset * 1000, pairs, flashes->len, beeps->len);
  g_assert_cmpuint (pairs, >=, min_pairs);
  g_assert_cmpfloat (fabs (offset), <, max_offset_s);
}

gboolean
mc_av_offset (GArray *flash_onsets, GArray *beep_onsets, double *median_offset_s, guint *pairs)
{
  g_return_val_if_fail (flash_onsets != NULL && beep_onsets != NULL, FALSE);

  g_autoptr (GArray) offsets = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < flash_onsets->len; i++) {
    double flash = g_array_index (flash_onsets, double, i), best = G_MAXDOUBLE;
    for (guint k = 0; k < beep_onsets->len; k++) {
      double d = g_array_index (beep_onsets, double, k) - flash;
      if (fabs (d) < fabs (best))
        best = d;
    }
    if (fabs (best) <= 0.5)
      g_array_append_val (offsets, best);
  }

  if (pairs)
    *pairs = offsets->len;
  if (offsets->len == 0)
    return FALSE;
  g_array_sort (offsets, compare_double);
  guint n = offsets->len;
  if (median_offset_s)
    *median_offset_s = n % 2 ? g_array_index (offsets, double, n / 2)
                             : (g_array_index (offsets, double, n / 2 - 1)
                                + g_array_index (offsets, double, n / 2)) / 2;
  return TRUE;
}
