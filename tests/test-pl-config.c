/* SPDX-License-Identifier: MIT */
/* Fast checks of the pieces that take user input: recording settings and sim schedules. */
#include "pl-private.h"
#include "pl-recording.h"
#include "sim-call.h"

static void
test_config_defaults (void)
{
  PlConfig c;
  pl_config_init (&c);
  g_assert_cmpint (c.width, ==, 1920);
  g_assert_cmpint (c.height, ==, 1080);
  g_assert_cmpint (c.max_fps, ==, 30);
  g_assert_cmpint (c.video_kbps, ==, 2500);
  g_assert_cmpint (c.audio_kbps, ==, 64);
  g_assert_cmpint (c.fragment_ms, <=, 2000);
  g_assert_true (pl_config_validate (&c, NULL));
  pl_config_clear (&c);
}

typedef struct {
  const char *field; /* expected in the error message */
  void (*spoil) (PlConfig *c);
} Bad;

static void odd_width (PlConfig *c) { c->width = 1279; }
static void huge_height (PlConfig *c) { c->height = 10000; }
static void zero_fps (PlConfig *c) { c->max_fps = 0; }
static void low_bitrate (PlConfig *c) { c->video_kbps = 10; }
static void audio_bitrate (PlConfig *c) { c->audio_kbps = 1000; }
static void bad_preset (PlConfig *c) { g_free (c->x264_preset); c->x264_preset = g_strdup ("placebo"); }
static void long_fragments (PlConfig *c) { c->fragment_ms = 5000; }
static void keyframes (PlConfig *c) { c->keyframe_interval_s = 0; }
static void stop_timeout (PlConfig *c) { c->stop_timeout_s = -1; }

static void
test_config_rejects (void)
{
  static const Bad bad[] = {
    { "width", odd_width },           { "height", huge_height },
    { "max fps", zero_fps },          { "video bitrate", low_bitrate },
    { "audio bitrate", audio_bitrate }, { "x264 preset", bad_preset },
    { "fragment", long_fragments },   { "keyframe interval", keyframes },
    { "stop timeout", stop_timeout },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    PlConfig c;
    pl_config_init (&c);
    bad[i].spoil (&c);
    g_autoptr (GError) error = NULL;
    g_assert_false (pl_config_validate (&c, &error));
    g_assert_error (error, PL_ERROR, PL_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, bad[i].field));
    /* A recording is never built from a bad config. */
    g_clear_error (&error);
    g_assert_null (pl_recording_new (&c, "/tmp/never.mp4", NULL, NULL, &error));
    g_assert_error (error, PL_ERROR, PL_ERROR_CONFIG);
    pl_config_clear (&c);
  }
}

static void
test_schedule_parse (void)
{
  g_assert_cmpint (sim_schedule_validate (NULL, NULL), ==, 0);
  g_assert_cmpint (sim_schedule_validate ("", NULL), ==, 0);
  g_assert_cmpint (sim_schedule_validate ("3:mute:1, 6:unmute:1,4.5:leave:2,5:join:3", NULL),
                   ==, 4);
  g_assert_cmpint (sim_schedule_validate ("2:share-off,4:share-on,8:share-on:1280x1024", NULL),
                   ==, 3);
  static const char *const bad[] = {
    "mute:1", "x:mute:1", "-1:mute:1", "3:mute", "3:mute:a", "3:mute:1:2", "3:dance:1",
    "3:share-on:0x0", "3:share-on:12x", "3:share-off:1", "3:share-on:99999x99999", ",",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_assert_cmpint (sim_schedule_validate (bad[i], &error), ==, -1);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "schedule item"));
  }
}

static void
test_unwritable_output (void)
{
  /* A path that cannot be opened fails at start with a clear error, not later. */
  PlConfig c;
  pl_config_init (&c);
  g_autoptr (GError) error = NULL;
  PlRecording *rec = pl_recording_new (&c, "/nonexistent-dir/x.mp4", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (pl_recording_start (rec, &error));
  g_assert_error (error, PL_ERROR, PL_ERROR_PIPELINE);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir/x.mp4"));
  pl_recording_free (rec);
  pl_config_clear (&c);
}

/* Counts pixels of the speaking dot's green in the luma/chroma of an I420 card. */
static guint
count_green (GstBuffer *frame, int w, int h)
{
  GstVideoInfo info;
  GstVideoFrame vf;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_I420, w, h);
  g_assert_true (gst_video_frame_map (&vf, &info, frame, GST_MAP_READ));
  guint n = 0;
  for (int y = 0; y < h / 2; y++)
    for (int x = 0; x < w / 2; x++) {
      guint8 u = ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 1))[y * GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 1) + x];
      guint8 v = ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 2))[y * GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 2) + x];
      n += u < 100 && v < 100; /* saturated green: low U and V */
    }
  gst_video_frame_unmap (&vf);
  return n;
}

static void
test_card_renders_on_change_only (void)
{
  PlCard *card = pl_card_new (1280, 720, "Weekly sync");
  PlCardPerson people[] = { { "Alice", FALSE }, { "Bob", FALSE } };
  GstBuffer *first = pl_card_render (card, 5, people, 2, FALSE);
  g_assert_nonnull (first);
  g_assert_cmpuint (gst_buffer_get_size (first), ==, 1280 * 720 * 3 / 2);
  /* Nothing visible changed: nothing to encode. */
  g_assert_null (pl_card_render (card, 5, people, 2, FALSE));
  g_assert_cmpuint (count_green (first, 1280, 720), ==, 0);
  /* Bob speaks: a green dot appears. */
  people[1].speaking = TRUE;
  GstBuffer *speaking = pl_card_render (card, 5, people, 2, FALSE);
  g_assert_nonnull (speaking);
  g_assert_cmpuint (count_green (speaking, 1280, 720), >, 20);
  /* The clock ticks: a new frame. */
  GstBuffer *later = pl_card_render (card, 6, people, 2, FALSE);
  g_assert_nonnull (later);
  g_assert_null (pl_card_render (card, 6, people, 2, FALSE));
  g_assert_nonnull (pl_card_render (card, 6, people, 2, TRUE));
  gst_buffer_unref (first);
  gst_buffer_unref (speaking);
  gst_buffer_unref (later);
  pl_card_free (card);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  /* Warnings are how the recorder reports a peer's bad input; criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/pl-config/defaults", test_config_defaults);
  g_test_add_func ("/pl-config/rejects", test_config_rejects);
  g_test_add_func ("/pl-config/unwritable-output", test_unwritable_output);
  g_test_add_func ("/sim/schedule-parse", test_schedule_parse);
  g_test_add_func ("/pl-card/renders-on-change-only", test_card_renders_on_change_only);
  return g_test_run ();
}
