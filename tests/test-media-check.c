/* SPDX-License-Identifier: MIT */
/* Self-test of media-check on MP4 files generated here with GStreamer: pad probes draw what
 * the synthetic participants send (bars, card, flashes; sines and 3 kHz beeps) into
 * videotestsrc/audiotestsrc buffers, x264enc/voaacenc/mp4mux write the files. Every detector
 * is checked both on media that has the feature and on media that does not. */
#include "media-check.h"

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <math.h>
#include <string.h>

static char *tmp_dir;

typedef enum {
  SCENE_BARS,        /* the 8 bars, static, gray box */
  SCENE_BARS_MOTION, /* bars scrolling, box moving */
  SCENE_CARD,
  SCENE_WHITE,
  SCENE_BLACK,
  SCENE_NOISE,
  SCENE_HALF_BARS, /* only 4 of the 8 colors: must not pass for a share */
} Scene;

typedef struct {
  const char *name;
  /* video; width 0: no video stream */
  int width, height; /* as drawn */
  int out_width, out_height; /* when set, letterboxed to this size (videoscale add-borders) */
  int fps;
  const Scene *scenes; /* one per second, the last one repeats; NULL: bars */
  guint n_scenes;
  const char *text;   /* textoverlay on top, the card's names */
  gboolean flashes;   /* white for 100 ms at 1, 3, 5 … s */
  /* audio; n_freqs 0 and !beeps: no audio stream */
  double freqs[4];
  guint n_freqs;
  gboolean beeps;      /* voice 0 plays 3 kHz at 0.5 for 100 ms at 1 + delay, 3 + delay … */
  double beep_delay_s;
  double duration_s;
  gboolean fragmented; /* fragment-duration=1000, streamable: no seek-back at EOS, as a crash */
} Gen;

static const guint8 bar_colors[8][3] = {
  { 255, 255, 255 }, { 255, 255, 0 }, { 0, 255, 255 }, { 0, 255, 0 },
  { 255, 0, 255 },   { 255, 0, 0 },   { 0, 0, 255 },   { 0, 0, 0 },
};

static gboolean
in_mark (double t, double delay)
{
  double u = t - delay - 1;
  return u >= 0 && fmod (u, 2.0) < 0.1;
}

static void
fill (guint8 *data, int stride, int x0, int y0, int w, int h, const guint8 rgb[3])
{
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++)
      memcpy (data + (gsize) y * stride + x * 3, rgb, 3);
}

static void
draw_frame (const Gen *gen, double t, guint8 *data, int stride)
{
  static const guint8 white[3] = { 255, 255, 255 }, black[3] = { 0 }, gray[3] = { 128, 128, 128 },
                      card_bg[3] = { 32, 36, 48 }, dot[3] = { 80, 200, 120 };
  int w = gen->width, h = gen->height;
  guint second = (guint) t;
  Scene scene = gen->scenes ? gen->scenes[MIN (second, gen->n_scenes - 1)] : SCENE_BARS;

  if (gen->flashes && in_mark (t, 0))
    scene = SCENE_WHITE;
  switch (scene) {
  case SCENE_BARS:
  case SCENE_BARS_MOTION:
  case SCENE_HALF_BARS: {
    int shift = scene == SCENE_BARS_MOTION ? (int) (t * w / 3) : 0;
    for (int x = 0; x < w; x++) {
      int bar = ((x + shift) % w) * 8 / w;
      if (scene == SCENE_HALF_BARS)
        bar /= 2;
      fill (data, stride, x, 0, 1, h, bar_colors[bar]);
    }
    int side = h / 6, travel = w - side;
    int bx = (int) (fmod (t * 0.4, 1.0) * travel);
    int by = (int) (fmod (t * 0.3, 1.0) * (h * 2 / 3 - side));
    fill (data, stride, bx, by, side, side, gray);
    break;
  }
  case SCENE_CARD:
    fill (data, stride, 0, 0, w, h, card_bg);
    for (int i = 0; i < 3; i++)
      fill (data, stride, w / 10, h / 3 + i * h / 8, h / 40 + 1, h / 40 + 1, dot);
    break;
  case SCENE_WHITE:
    fill (data, stride, 0, 0, w, h, white);
    break;
  case SCENE_BLACK:
    fill (data, stride, 0, 0, w, h, black);
    break;
  case SCENE_NOISE: {
    guint32 state = 12345 + second;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w * 3; x++) {
        state = state * 1664525 + 1013904223;
        data[(gsize) y * stride + x] = state >> 24;
      }
    break;
  }
  }
}

static GstPadProbeReturn
video_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  const Gen *gen = user_data;
  GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GstMapInfo map;

  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  draw_frame (gen, (double) GST_BUFFER_PTS (buffer) / GST_SECOND, map.data,
              GST_ROUND_UP_4 (gen->width * 3));
  gst_buffer_unmap (buffer, &map);
  return GST_PAD_PROBE_OK;
}

/* Stereo F32 at 48 kHz, both channels alike. */
static GstPadProbeReturn
audio_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  const Gen *gen = user_data;
  GstBuffer *buffer = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  GstMapInfo map;

  GST_PAD_PROBE_INFO_DATA (info) = buffer;
  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  float *out = (float *) (gpointer) map.data;
  gint64 first = gst_util_uint64_scale_round (GST_BUFFER_PTS (buffer), 48000, GST_SECOND);
  for (gsize i = 0; i < map.size / (2 * sizeof (float)); i++) {
    double t = (double) (first + (gint64) i) / 48000, v = 0;
    for (guint k = 0; k < gen->n_freqs; k++) {
      if (k == 0 && gen->beeps && in_mark (t, gen->beep_delay_s))
        v += 0.5 * sin (2 * G_PI * 3000 * t);
      else
        v += 0.3 * sin (2 * G_PI * gen->freqs[k] * t);
    }
    out[2 * i] = out[2 * i + 1] = (float) v;
  }
  gst_buffer_unmap (buffer, &map);
  return GST_PAD_PROBE_OK;
}

static void
add_probe (GstElement *pipeline, const char *name, GstPadProbeCallback func, const Gen *gen)
{
  g_autoptr (GstElement) element = gst_bin_get_by_name (GST_BIN (pipeline), name);
  g_autoptr (GstPad) pad = gst_element_get_static_pad (element, "src");

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, func, (gpointer) gen, NULL);
}

/* (transfer full) Writes the file described by gen and returns its path. */
static char *
generate (const Gen *gen)
{
  char *path = g_strdup_printf ("%s/%s.mp4", tmp_dir, gen->name);
  g_autoptr (GString) desc = g_string_new (NULL);

  g_string_append_printf (desc, "mp4mux name=mux %s ! filesink location=\"%s\" ",
                          gen->fragmented ? "fragment-duration=1000 streamable=true" : "", path);
  if (gen->width) {
    g_string_append_printf (desc,
                            "videotestsrc name=vsrc num-buffers=%d ! "
                            "video/x-raw,format=RGB,width=%d,height=%d,framerate=%d/1 ! ",
                            (int) lround (gen->duration_s * gen->fps), gen->width, gen->height,
                            gen->fps);
    if (gen->out_width)
      g_string_append_printf (desc,
                              "videoscale add-borders=true ! "
                              "video/x-raw,width=%d,height=%d,pixel-aspect-ratio=1/1 ! ",
                              gen->out_width, gen->out_height);
    if (gen->text)
      g_string_append_printf (desc, "textoverlay text=\"%s\" font-desc=\"Sans 24\" ! ",
                              gen->text);
    g_string_append (desc, "videoconvert ! video/x-raw,format=I420 ! "
                           "x264enc speed-preset=ultrafast key-int-max=30 ! mux. ");
  }
  if (gen->n_freqs || gen->beeps)
    g_string_append_printf (desc,
                            "audiotestsrc name=asrc num-buffers=%d samplesperbuffer=960 ! "
                            "audio/x-raw,format=F32LE,rate=48000,channels=2 ! audioconvert ! "
                            "voaacenc ! mux. ",
                            (int) lround (gen->duration_s * 50));

  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (desc->str, &error);
  g_assert_no_error (error);
  if (gen->width)
    add_probe (pipeline, "vsrc", video_probe, gen);
  if (gen->n_freqs || gen->beeps)
    add_probe (pipeline, "asrc", audio_probe, gen);

  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
                                                           GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &error, NULL);
    g_assert_no_error (error);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return path;
}

static void
test_probe (void)
{
  const Gen gen = { .name = "probe", .width = 640, .height = 360, .fps = 10, .freqs = { 440 },
                    .n_freqs = 1, .duration_s = 3 };
  g_autofree char *path = generate (&gen);
  g_auto (McInfo) info = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (mc_probe (path, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.video_codec, ==, "h264");
  g_assert_cmpstr (info.audio_codec, ==, "aac");
  g_assert_cmpstr (info.audio_profile, ==, "LC");
  g_assert_cmpint (info.width, ==, 640);
  g_assert_cmpint (info.height, ==, 360);
  g_assert_cmpint (info.audio_rate, ==, 48000);
  g_assert_cmpint (info.audio_channels, ==, 2);
  g_assert_cmpuint (info.video_frames, ==, 30);
  g_assert_cmpfloat_with_epsilon (info.duration_s, 3.0, 0.1);
  g_assert_cmpfloat_with_epsilon (info.video_duration_s, 3.0, 0.1);
  g_assert_cmpfloat_with_epsilon (info.audio_duration_s, 3.0, 0.1);
  mc_info_clear (&info);

  g_autofree char *missing = g_build_filename (tmp_dir, "missing.mp4", NULL);
  g_assert_false (mc_probe (missing, &info, &error));
  g_assert_error (error, MC_ERROR, MC_ERROR_PROBE);
}

static void
test_tone_detect (void)
{
  const Gen gen = { .name = "tones", .width = 320, .height = 180, .fps = 5,
                    .freqs = { 440, 880 }, .n_freqs = 2, .duration_s = 4 };
  g_autofree char *path = generate (&gen);
  g_autoptr (GError) error = NULL;
  g_autoptr (McAudio) audio = mc_audio_decode (path, 48000, &error);

  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon ((double) audio->n_samples / audio->rate, 4.0, 0.1);
  for (double t = 0.5; t < 3.5; t += 1.0) {
    g_assert_true (mc_audio_has_tone (audio, t, t + 0.5, 440, 0.03));
    g_assert_true (mc_audio_has_tone (audio, t, t + 0.5, 880, 0.03));
    g_assert_false (mc_audio_has_tone (audio, t, t + 0.5, 660, 0.03));
    g_assert_false (mc_audio_has_tone (audio, t, t + 0.5, 1100, 0.03));
  }
  double a440 = mc_audio_tone_amplitude (audio, 0.5, 3.5, 440);
  double a660 = mc_audio_tone_amplitude (audio, 0.5, 3.5, 660);
  g_test_message ("amplitude 440 Hz %.3f, 660 Hz %.4f", a440, a660);
  g_assert_cmpfloat_with_epsilon (a440, 0.3, 0.05);
  g_assert_cmpfloat_with_epsilon (mc_audio_tone_amplitude (audio, 0.5, 3.5, 880), 0.3, 0.05);
  g_assert_cmpfloat (a660, <, 0.01);
  /* Outside the file there is nothing to hear. */
  g_assert_false (mc_audio_has_tone (audio, 5, 6, 440, 0.03));

  g_autoptr (GArray) onsets = mc_audio_burst_onsets (audio, 3000, 0.1);
  g_assert_cmpuint (onsets->len, ==, 0);
}

static void
test_no_stream (void)
{
  const Gen audio_only = { .name = "audio-only", .freqs = { 440 }, .n_freqs = 1,
                           .duration_s = 1 };
  const Gen video_only = { .name = "video-only", .width = 320, .height = 180, .fps = 5,
                           .duration_s = 1 };
  g_autofree char *a_path = generate (&audio_only);
  g_autofree char *v_path = generate (&video_only);
  g_autoptr (GError) error = NULL;

  g_assert_null (mc_video_frames (a_path, 64, 36, 0, &error));
  g_assert_error (error, MC_ERROR, MC_ERROR_NO_STREAM);
  g_clear_error (&error);
  g_assert_null (mc_audio_decode (v_path, 48000, &error));
  g_assert_error (error, MC_ERROR, MC_ERROR_NO_STREAM);
  g_clear_error (&error);

  g_autofree char *junk = g_build_filename (tmp_dir, "junk.mp4", NULL);
  g_assert_true (g_file_set_contents (junk, "not a movie", -1, NULL));
  g_assert_null (mc_audio_decode (junk, 48000, &error));
  g_assert_error (error, MC_ERROR, MC_ERROR_DECODE);
  g_clear_error (&error);
  g_assert_null (mc_video_frames (junk, 64, 36, 0, &error));
  g_assert_error (error, MC_ERROR, MC_ERROR_DECODE);
}

static void
assert_kinds (const char *path, int width, int height, McFrameKind want, double from, double to)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) frames = mc_video_frames (path, width, height, 0.25, &error);

  g_assert_no_error (error);
  guint checked = 0;
  for (guint i = 0; i < frames->len; i++) {
    const McFrame *frame = g_ptr_array_index (frames, i);
    if (frame->t < from || frame->t >= to)
      continue;
    McFrameKind kind = mc_frame_classify (frame);
    if (kind != want)
      g_test_message ("%s at %.2f s: %s, expected %s", path, frame->t, mc_frame_kind_name (kind),
                      mc_frame_kind_name (want));
    g_assert_cmpstr (mc_frame_kind_name (kind), ==, mc_frame_kind_name (want));
    checked++;
  }
  g_assert_cmpuint (checked, >=, 2);
}

static void
test_classify_share (void)
{
  static const Scene scenes[] = { SCENE_BARS, SCENE_BARS_MOTION };
  const Gen gen = { .name = "share", .width = 1920, .height = 1080, .fps = 10, .scenes = scenes,
                    .n_scenes = G_N_ELEMENTS (scenes), .duration_s = 3 };
  g_autofree char *path = generate (&gen);

  assert_kinds (path, 192, 108, MC_FRAME_SHARE, 0, 3);
}

static void
test_classify_other (void)
{
  static const Scene scenes[] = { SCENE_WHITE, SCENE_BLACK, SCENE_NOISE, SCENE_HALF_BARS };
  const Gen card = { .name = "card", .width = 640, .height = 360, .fps = 10,
                     .scenes = (const Scene[]){ SCENE_CARD }, .n_scenes = 1,
                     .text = "Alice Example\nBob Example\n00:12:34", .duration_s = 2 };
  const Gen misc = { .name = "misc", .width = 640, .height = 360, .fps = 10, .scenes = scenes,
                     .n_scenes = G_N_ELEMENTS (scenes), .duration_s = 4 };
  g_autofree char *card_path = generate (&card);
  g_autofree char *misc_path = generate (&misc);

  assert_kinds (card_path, 192, 108, MC_FRAME_CARD, 0, 2);
  /* Skip the frames next to a scene cut: the encoder blends across it. */
  assert_kinds (misc_path, 192, 108, MC_FRAME_WHITE, 0, 0.9);
  assert_kinds (misc_path, 192, 108, MC_FRAME_BLACK, 1.2, 1.9);
  assert_kinds (misc_path, 192, 108, MC_FRAME_OTHER, 2.2, 2.9);
  assert_kinds (misc_path, 192, 108, MC_FRAME_OTHER, 3.2, 4);
}

/* Coding error without coding: each channel pushed 25 levels, the tolerance the recorder's
 * VP8 then H.264 path needs. */
static void
test_classify_tolerance (void)
{
  static const int shifts[][3] = { { 25, -25, 25 }, { -25, 25, -25 }, { 25, 25, 25 } };
  static const struct {
    Scene scene;
    McFrameKind want;
  } cases[] = {
    { SCENE_BARS, MC_FRAME_SHARE },       { SCENE_BARS_MOTION, MC_FRAME_SHARE },
    { SCENE_CARD, MC_FRAME_CARD },        { SCENE_WHITE, MC_FRAME_WHITE },
    { SCENE_HALF_BARS, MC_FRAME_OTHER },
  };
  McFrame frame = { .width = 192, .height = 108 };
  frame.rgb = g_malloc ((gsize) frame.width * frame.height * 3);

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++) {
    Gen gen = { .width = frame.width, .height = frame.height, .scenes = &cases[c].scene,
                .n_scenes = 1 };
    for (guint k = 0; k < G_N_ELEMENTS (shifts); k++) {
      /* The card is flat and codes almost exactly; a third of the shift is plenty. */
      int scale = cases[c].scene == SCENE_CARD ? 3 : 1;
      draw_frame (&gen, 0.37 * (k + 1), frame.rgb, frame.width * 3);
      for (gsize i = 0; i < (gsize) frame.width * frame.height * 3; i++)
        frame.rgb[i] = CLAMP (frame.rgb[i] + shifts[k][i % 3] / scale, 0, 255);
      g_assert_cmpstr (mc_frame_kind_name (mc_frame_classify (&frame)), ==,
                       mc_frame_kind_name (cases[c].want));
    }
  }
  g_free (frame.rgb);
}

static void
test_letterbox (void)
{
  const Gen gen = { .name = "letterbox", .width = 1280, .height = 1024, .out_width = 1920,
                    .out_height = 1080, .fps = 5, .duration_s = 1 };
  g_autofree char *path = generate (&gen);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) frames = mc_video_frames (path, 1920, 1080, 0.5, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (frames->len, ==, 2);
  for (guint i = 0; i < frames->len; i++) {
    const McFrame *frame = g_ptr_array_index (frames, i);
    int x, y, w, h;
    g_assert_true (mc_frame_content_box (frame, &x, &y, &w, &h));
    g_test_message ("content box at %.2f s: %dx%d+%d+%d", frame->t, w, h, x, y);
    /* 1280x1024 scaled to height 1080 is 1350 wide, centred. */
    g_assert_cmpint (abs (w - 1350), <=, 16);
    g_assert_cmpint (abs (x - 285), <=, 8);
    g_assert_cmpint (y, ==, 0);
    g_assert_cmpint (h, ==, 1080);
    g_assert_cmpint (mc_frame_classify (frame), ==, MC_FRAME_SHARE);
  }

  McFrame black = { .width = 16, .height = 9, .rgb = g_malloc0 (16 * 9 * 3) };
  g_assert_false (mc_frame_content_box (&black, NULL, NULL, NULL, NULL));
  g_assert_cmpint (mc_frame_classify (&black), ==, MC_FRAME_BLACK);
  g_free (black.rgb);
}

/* Seconds of silence the AAC encode and decode put before the first sample we generated.
 * voaacenc's priming is not undone by mp4mux (no edit list), so every file made with it,
 * the recorder's included, plays its audio about 33 ms late. */
static double
codec_delay (const McAudio *audio)
{
  gsize i = 0;

  while (i < audio->n_samples && fabsf (audio->samples[i]) < 0.02f)
    i++;
  return (double) i / audio->rate;
}

static void
check_sync (const char *name, double beep_delay_s)
{
  const Gen gen = { .name = name, .width = 640, .height = 360, .fps = 30, .flashes = TRUE,
                    .freqs = { 440, 660 }, .n_freqs = 2, .beeps = TRUE,
                    .beep_delay_s = beep_delay_s, .duration_s = 6 };
  g_autofree char *path = generate (&gen);
  g_autoptr (GError) error = NULL;
  g_autoptr (McAudio) audio = mc_audio_decode (path, 48000, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) frames = mc_video_frames (path, 160, 90, 0, &error);
  g_assert_no_error (error);

  g_autoptr (GArray) flashes = mc_video_flash_onsets (frames);
  g_autoptr (GArray) beeps = mc_audio_burst_onsets (audio, 3000, 0.1);
  double delay = codec_delay (audio);
  g_assert_cmpuint (flashes->len, ==, 3);
  g_assert_cmpuint (beeps->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    g_test_message ("flash %.3f s, beep %.4f s", g_array_index (flashes, double, i),
                    g_array_index (beeps, double, i));
    g_assert_cmpfloat_with_epsilon (g_array_index (flashes, double, i), 1 + 2 * i, 0.034);
    g_assert_cmpfloat_with_epsilon (g_array_index (beeps, double, i),
                                    1 + 2 * i + beep_delay_s + delay, 0.005);
  }
  double offset;
  guint pairs;
  g_assert_true (mc_av_offset (flashes, beeps, &offset, &pairs));
  g_test_message ("A/V offset %.1f ms over %u pairs (%.1f ms generated + %.1f ms AAC delay)",
                  offset * 1000, pairs, beep_delay_s * 1000, delay * 1000);
  g_assert_cmpuint (pairs, ==, 3);
  g_assert_cmpfloat (delay, <, 0.05);
  g_assert_cmpfloat_with_epsilon (offset, beep_delay_s + delay, 0.015);
}

static void
test_av_sync (void)
{
  check_sync ("sync-late", 0.040);
  check_sync ("sync-early", -0.060);
}

static void
test_burst_detect (void)
{
  const Gen gen = { .name = "beeps", .freqs = { 440, 660 }, .n_freqs = 2, .beeps = TRUE,
                    .duration_s = 4 };
  g_autofree char *path = generate (&gen);
  g_autoptr (GError) error = NULL;
  g_autoptr (McAudio) audio = mc_audio_decode (path, 48000, &error);
  g_assert_no_error (error);

  /* Voice 0 (440 Hz) gives way to the beep, voice 1 carries on. */
  double beep = 1 + codec_delay (audio);
  g_assert_true (mc_audio_has_tone (audio, beep + 0.01, beep + 0.09, 3000, 0.3));
  g_assert_false (mc_audio_has_tone (audio, beep + 0.01, beep + 0.09, 440, 0.03));
  g_assert_true (mc_audio_has_tone (audio, beep + 0.01, beep + 0.09, 660, 0.2));
  g_assert_false (mc_audio_has_tone (audio, beep + 0.2, beep + 1.8, 3000, 0.03));
  /* A threshold above the beep finds nothing; one below finds both beeps. */
  g_autoptr (GArray) none = mc_audio_burst_onsets (audio, 3000, 0.7);
  g_assert_cmpuint (none->len, ==, 0);
  g_autoptr (GArray) onsets = mc_audio_burst_onsets (audio, 3000, 0.05);
  g_assert_cmpuint (onsets->len, ==, 2);

  /* Beeps 0.6 s away from every flash belong to no flash. */
  g_autoptr (GArray) flashes = g_array_new (FALSE, FALSE, sizeof (double));
  for (guint i = 0; i < onsets->len; i++) {
    double t = g_array_index (onsets, double, i) - 0.6;
    g_array_append_val (flashes, t);
  }
  double offset;
  guint pairs;
  g_assert_false (mc_av_offset (flashes, onsets, &offset, &pairs));
  g_assert_cmpuint (pairs, ==, 0);
}

static void
test_truncated (void)
{
  const Gen gen = { .name = "fragmented", .width = 640, .height = 360, .fps = 10,
                    .freqs = { 440 }, .n_freqs = 1, .duration_s = 6, .fragmented = TRUE };
  g_autofree char *path = generate (&gen);
  g_autofree char *data = NULL;
  gsize size;
  g_autoptr (GError) error = NULL;

  /* What a crash leaves: the fragments written so far, the last one cut short. */
  g_assert_true (g_file_get_contents (path, &data, &size, &error));
  g_autofree char *cut = g_build_filename (tmp_dir, "cut.mp4", NULL);
  g_assert_true (g_file_set_contents (cut, data, size * 6 / 10, &error));

  g_auto (McInfo) info = { 0 };
  g_assert_true (mc_probe (cut, &info, &error));
  g_assert_no_error (error);
  g_test_message ("cut file: duration %.2f s, %u video packets", info.duration_s,
                  info.video_frames);
  g_assert_cmpfloat (info.duration_s, >, 2.0);
  g_assert_cmpfloat (info.duration_s, <, 5.5);

  g_autoptr (McAudio) audio = mc_audio_decode (cut, 48000, &error);
  g_assert_no_error (error);
  double decoded = (double) audio->n_samples / audio->rate;
  g_test_message ("cut file: %.2f s of audio decoded", decoded);
  g_assert_cmpfloat (decoded, >, 2.0);
  g_assert_true (mc_audio_has_tone (audio, 0.5, 1.5, 440, 0.1));

  g_autoptr (GPtrArray) frames = mc_video_frames (cut, 64, 36, 0.5, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (frames->len, >=, 4);
}

static void
remove_tmp_dir (void)
{
  g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir))) {
    g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
    g_unlink (path);
  }
  g_rmdir (tmp_dir);
  g_clear_pointer (&tmp_dir, g_free);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  g_autoptr (GError) error = NULL;
  tmp_dir = g_dir_make_tmp ("media-check-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/media-check/probe", test_probe);
  g_test_add_func ("/media-check/tone-detect", test_tone_detect);
  g_test_add_func ("/media-check/no-stream", test_no_stream);
  g_test_add_func ("/media-check/classify-share", test_classify_share);
  g_test_add_func ("/media-check/classify-other", test_classify_other);
  g_test_add_func ("/media-check/classify-tolerance", test_classify_tolerance);
  g_test_add_func ("/media-check/letterbox", test_letterbox);
  g_test_add_func ("/media-check/burst-detect", test_burst_detect);
  g_test_add_func ("/media-check/av-sync", test_av_sync);
  g_test_add_func ("/media-check/truncated", test_truncated);

  int ret = g_test_run ();
  remove_tmp_dir ();
  gst_deinit ();
  return ret;
}
