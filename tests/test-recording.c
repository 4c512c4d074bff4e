/* SPDX-License-Identifier: MIT */
/* The recording core end to end, in one process: sim participants (webrtcbin senders)
 * and the recorder (webrtcbin answerer + pipelines) back to back on 127.0.0.1, then the
 * MP4 is decoded and checked: duration, codecs, size, which tones are in which window,
 * which picture is on screen, A/V sync. */
#include "media-check.h"
#include "pl-private.h"
#include "sim-media.h"
#include "test-harness.h"

#include <math.h>
#include <string.h>

#define TONE_MIN 0.05  /* sim voices are 0.3; a muted or absent voice measures < 0.01 */

static void
assert_file_basics (const TestCallResult *r, const TestCallSpec *spec, int width, int height)
{
  g_assert_true (r->finished);
  g_auto (McInfo) info = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (mc_probe (r->path, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.video_codec, ==, "h264");
  g_assert_cmpstr (info.audio_codec, ==, "aac");
  g_assert_cmpstr (info.audio_profile, ==, "LC");
  g_assert_cmpint (info.width, ==, width);
  g_assert_cmpint (info.height, ==, height);
  /* The recording runs from the recorder's start to the stop: the call length plus the
   * moment the call took to start. */
  double expected = spec->seconds + r->call_started_at;
  g_test_message ("duration %.3f s, expected %.3f s", info.duration_s, expected);
  g_assert_cmpfloat_with_epsilon (info.duration_s, expected, 0.5);
}

static McAudio *
decode_audio (const TestCallResult *r)
{
  g_autoptr (GError) error = NULL;
  McAudio *audio = mc_audio_decode (r->path, 48000, &error);
  g_assert_no_error (error);
  return audio;
}

static void
assert_tone (const McAudio *audio, double t0, double t1, guint voice, gboolean present)
{
  double f = sim_voice_frequency (voice);
  double a = mc_audio_tone_amplitude (audio, t0, t1, f);
  g_test_message ("voice %u (%.0f Hz) in [%.1f, %.1f): %.3f, expected %s", voice, f, t0, t1, a,
                  present ? "present" : "absent");
  if (present)
    g_assert_cmpfloat (a, >=, TONE_MIN);
  else
    g_assert_cmpfloat (a, <, TONE_MIN / 3);
}

static GPtrArray *
decode_frames (const TestCallResult *r, double every)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *frames = mc_video_frames (r->path, 192, 108, every, &error);
  g_assert_no_error (error);
  g_assert_nonnull (frames);
  return frames;
}

/* The kind most frames in [t0, t1) have, and how many of them do. */
static McFrameKind
kind_in (GPtrArray *frames, double t0, double t1, double *share_of_window)
{
  guint counts[MC_FRAME_OTHER + 1] = { 0 }, n = 0;
  for (guint i = 0; i < frames->len; i++) {
    const McFrame *f = g_ptr_array_index (frames, i);
    if (f->t >= t0 && f->t < t1) {
      McFrameKind k = mc_frame_classify (f);
      g_test_message ("  frame at %.3f s: %s", f->t, mc_frame_kind_name (k));
      counts[k]++;
      n++;
    }
  }
  McFrameKind best = MC_FRAME_OTHER;
  for (guint k = 0; k <= MC_FRAME_OTHER; k++)
    if (counts[k] > counts[best])
      best = k;
  if (share_of_window)
    *share_of_window = n ? (double) counts[best] / n : 0;
  g_test_message ("frames in [%.1f, %.1f): %u, mostly %s", t0, t1, n, mc_frame_kind_name (best));
  return best;
}

static void
assert_kind (GPtrArray *frames, double t0, double t1, McFrameKind kind)
{
  double fraction;
  g_assert_cmpstr (mc_frame_kind_name (kind_in (frames, t0, t1, &fraction)), ==,
                   mc_frame_kind_name (kind));
  g_assert_cmpfloat (fraction, >=, 0.8);
}

/* ---- cases ---- */

static void
test_voices_and_share (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 3;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  g_autoptr (McAudio) audio = decode_audio (&r);
  double t0 = r.call_started_at + 2, t1 = r.call_started_at + spec.seconds - 0.5;
  for (guint k = 0; k < 3; k++)
    assert_tone (audio, t0, t1, k, TRUE);
  assert_tone (audio, t0, t1, 3, FALSE);
  g_autoptr (GPtrArray) frames = decode_frames (&r, 0.25);
  assert_kind (frames, t0, t1, MC_FRAME_SHARE);
  /* A 16:9 share in a 16:9 frame fills it. */
  const McFrame *f = g_ptr_array_index (frames, frames->len - 2);
  int x, y, w, h;
  g_assert_true (mc_frame_content_box (f, &x, &y, &w, &h));
  g_assert_cmpint (w, >=, 186);
  g_assert_cmpint (h, >=, 104);
  /* Slides change every few seconds: most frames are unchanged and never reach the
   * encoder (the CPU win; bench/recorder-cost measures it). Many are still frames, never
   * decoded, but how many is the sender's doing: after a requested keyframe (when the
   * first was lost at start-up) vp8enc went on sending residual for a static picture in
   * every frame, for as long as it was watched (6 s), and none was still. The still
   * frames are tested on a fixed stream in test-pl-vp8-decoder.c. */
  guint64 received = r.stats.video_frames_decoded + r.stats.video_frames_still;
  g_test_message ("frames: %" G_GUINT64_FORMAT " decoded, %" G_GUINT64_FORMAT
                  " still (not decoded), %" G_GUINT64_FORMAT " unchanged, %" G_GUINT64_FORMAT
                  " encoded",
                  r.stats.video_frames_decoded, r.stats.video_frames_still,
                  r.stats.video_frames_unchanged, r.stats.video_frames_encoded);
  g_assert_cmpuint (received, >, 20 * (spec.seconds - 2));
  g_assert_cmpuint (r.stats.video_frames_encoded * 4, <, received);
  g_assert_cmpuint (r.stats.keyframe_requests, >=, 1);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_card_without_share (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.share = SIM_SHARE_NONE;
  spec.seconds = 5;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  g_autoptr (GPtrArray) frames = decode_frames (&r, 0.5);
  assert_kind (frames, 0.5, r.call_started_at + spec.seconds, MC_FRAME_CARD);
  /* The card changes about once a second (the clock), so few frames are encoded. */
  g_assert_cmpuint (r.stats.video_frames_encoded, <=, 3 * (guint) (spec.seconds + 2));
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_mute_leave_join (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 3;
  spec.sim.share = SIM_SHARE_NONE;
  /* Voice 1 muted from 3 s to 6 s; voice 2 leaves at 4 s; voice 3 joins at 4 s. */
  spec.sim.schedule = "3:mute:1,6:unmute:1,4:leave:2,4:join:3";
  spec.seconds = 9;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  g_autoptr (McAudio) audio = decode_audio (&r);
  double s = r.call_started_at;
  assert_tone (audio, s + 1.5, s + 2.8, 0, TRUE);
  assert_tone (audio, s + 1.5, s + 2.8, 1, TRUE);
  assert_tone (audio, s + 1.5, s + 2.8, 2, TRUE);
  assert_tone (audio, s + 1.5, s + 2.8, 3, FALSE);
  assert_tone (audio, s + 4.0, s + 5.8, 1, FALSE);  /* muted */
  assert_tone (audio, s + 5.0, s + 5.8, 2, FALSE);  /* left */
  assert_tone (audio, s + 5.5, s + 8.5, 3, TRUE);   /* joined */
  assert_tone (audio, s + 7.0, s + 8.5, 1, TRUE);   /* unmuted */
  assert_tone (audio, s + 1.5, s + 8.5, 0, TRUE);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_share_toggle_and_resize (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 1;
  /* Share, stop at 4 s, share again at 7 s with a 5:4 screen (letterboxed). */
  spec.sim.schedule = "4:share-off,7:share-on:1280x1024";
  spec.seconds = 11;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  g_autoptr (GPtrArray) frames = decode_frames (&r, 0.25);
  double s = r.call_started_at;
  assert_kind (frames, s + 1.5, s + 3.8, MC_FRAME_SHARE);
  assert_kind (frames, s + 5.0, s + 6.8, MC_FRAME_CARD);
  assert_kind (frames, s + 8.5, s + 10.8, MC_FRAME_SHARE);
  /* 1280x1024 into 1280x720 keeps its aspect: 900x720 in the middle, bars left and right
   * (192x108 frames here: ~135 wide). */
  const McFrame *last = g_ptr_array_index (frames, frames->len - 2);
  int x, y, w, h;
  g_assert_true (mc_frame_content_box (last, &x, &y, &w, &h));
  g_test_message ("content box %dx%d+%d+%d", w, h, x, y);
  g_assert_cmpint (w, >=, 128);
  g_assert_cmpint (w, <=, 142);
  g_assert_cmpint (h, >=, 104);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_h264_share_default_size (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.rec.pipeline.width = 1920;
  spec.rec.pipeline.height = 1080;
  spec.sim.voices = 1;
  spec.sim.share = SIM_SHARE_H264;
  spec.seconds = 6;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1920, 1080);
  g_autoptr (GPtrArray) frames = decode_frames (&r, 0.25);
  assert_kind (frames, r.call_started_at + 2, r.call_started_at + 5.8, MC_FRAME_SHARE);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_av_sync (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 1;
  spec.sim.media.marks = TRUE;
  spec.seconds = 10;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  g_autoptr (McAudio) audio = decode_audio (&r);
  g_autoptr (GPtrArray) frames = decode_frames (&r, 0);
  mc_assert_av_sync (audio, frames, SIM_MARK_BEEP_HZ, 3, 0.1);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_share_never_keyframes (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 2;
  spec.sim.media.never_keyframe = TRUE;
  spec.seconds = 7;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  /* No picture from the share ever: the card stays, the voices are recorded, and the
   * recorder kept asking (throttled to one request a second). */
  g_autoptr (GPtrArray) frames = decode_frames (&r, 0.5);
  assert_kind (frames, 1, r.call_started_at + spec.seconds, MC_FRAME_CARD);
  g_autoptr (McAudio) audio = decode_audio (&r);
  assert_tone (audio, r.call_started_at + 2, r.call_started_at + 6.5, 0, TRUE);
  assert_tone (audio, r.call_started_at + 2, r.call_started_at + 6.5, 1, TRUE);
  g_test_message ("keyframe requests: %" G_GUINT64_FORMAT, r.stats.keyframe_requests);
  g_assert_cmpuint (r.stats.keyframe_requests, >=, 4);
  g_assert_cmpuint (r.stats.keyframe_requests, <=, (guint64) spec.seconds + 2);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_decoder_error_recovers (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 1;
  spec.sim.media.content = SIM_CONTENT_MOTION;
  spec.sim.media.corrupt_at_s = 3;
  spec.seconds = 8;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  g_autoptr (GPtrArray) frames = decode_frames (&r, 0.25);
  double s = r.call_started_at;
  assert_kind (frames, s + 1.5, s + 2.8, MC_FRAME_SHARE);
  /* After the garbled half second, a keyframe request brings the picture back. */
  assert_kind (frames, s + 5.5, s + 7.8, MC_FRAME_SHARE);
  g_assert_cmpuint (r.stats.keyframe_requests, >=, 2);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_unsupported_codec (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 2;
  spec.sim.share = SIM_SHARE_VP9;
  spec.seconds = 5;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  g_autoptr (GPtrArray) frames = decode_frames (&r, 0.5);
  assert_kind (frames, 1, r.call_started_at + spec.seconds, MC_FRAME_CARD);
  g_autoptr (McAudio) audio = decode_audio (&r);
  assert_tone (audio, r.call_started_at + 2, r.call_started_at + 4.5, 0, TRUE);
  assert_tone (audio, r.call_started_at + 2, r.call_started_at + 4.5, 1, TRUE);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_malformed_signaling (void)
{
  static const TestInjection bad[] = {
    { 2.0, "{\"type\":\"sdp\",\"seq\":1,\"data\":{\"conn\":\"evil\",\"sdp_type\":\"offer\","
           "\"sdp\":\"v=0\\r\\nm=audio 9 RTP/AVP 999999999999\\r\\n\"}}" },
    { 2.1, "{\"type\":\"sdp\",\"seq\":2,\"data\":{\"conn\":\"p0\",\"sdp_type\":\"offer\","
           "\"sdp\":\"garbage\"}}" },
    { 2.2, "this is not json" },
    { 2.3, "{\"type\":\"ice\",\"seq\":3,\"data\":{\"conn\":\"p0\",\"candidate\":\"bogus\","
           "\"sdp_mline_index\":0}}" },
    { 2.4, "{\"type\":\"launch_missiles\",\"seq\":4,\"data\":{}}" },
    { 2.5, "{\"type\":\"sdp\",\"seq\":5,\"data\":{\"conn\":\"p1\",\"sdp_type\":\"answer\","
           "\"sdp\":\"v=0\\r\\n\"}}" },
    { 0 },
  };
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 2;
  spec.sim.share = SIM_SHARE_NONE;
  spec.seconds = 6;
  spec.injections = bad;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  /* Each bad message was answered with an error status... */
  guint errors = 0;
  for (guint i = 0; i < r.statuses->len; i++)
    errors += g_str_has_prefix (g_ptr_array_index (r.statuses, i), "error:");
  g_assert_cmpuint (errors, ==, 6);
  /* ...and the voices went on being recorded through and after them. */
  g_autoptr (McAudio) audio = decode_audio (&r);
  assert_tone (audio, r.call_started_at + 3, r.call_started_at + 5.5, 0, TRUE);
  assert_tone (audio, r.call_started_at + 3, r.call_started_at + 5.5, 1, TRUE);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_duration_limit (void)
{
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 1;
  spec.sim.share = SIM_SHARE_NONE;
  spec.rec.max_duration_s = 4;
  spec.rec.warning_before_s = 2;
  spec.seconds = 30; /* the limit ends it long before */
  TestCallResult r;
  test_call_run (&spec, &r);
  g_assert_true (r.finished);
  g_assert_cmpstr (r.reason, ==, "duration limit reached");
  g_assert_true (test_call_result_has_status (&r, "warning: recording ends in"));
  g_auto (McInfo) info = { 0 };
  g_assert_true (mc_probe (r.path, &info, NULL));
  g_assert_cmpfloat_with_epsilon (info.duration_s, 4.0, 1.1);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
test_stop_deadline (void)
{
  /* A deadline nothing can meet: the stop must report failure, not hang. */
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 1;
  spec.sim.share = SIM_SHARE_NONE;
  spec.rec.pipeline.stop_timeout_s = 0.001;
  spec.seconds = 3;
  TestCallResult r;
  test_call_run (&spec, &r);
  g_assert_false (r.finished);
  g_assert_nonnull (strstr (r.reason, "not finished within"));
  g_assert_true (test_call_result_has_status (&r, "failed: the file was not finished"));
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

static void
step_down (RecSession *session)
{
  pl_recording_step_down (rec_session_get_recording (session), "test");
}

static void
test_encoder_step_down (void)
{
  /* veryfast → superfast → ultrafast, then the frame rate halves: the file stays one
   * valid H.264 stream with the same parameter sets throughout. */
  static const TestInjection steps[] = {
    { 2.5, NULL, step_down }, { 3.5, NULL, step_down }, { 4.5, NULL, step_down }, { 0 },
  };
  TestCallSpec spec;
  test_call_spec_init (&spec);
  spec.sim.voices = 1;
  spec.sim.media.content = SIM_CONTENT_MOTION;
  spec.seconds = 8;
  spec.injections = steps;
  TestCallResult r;
  test_call_run (&spec, &r);
  assert_file_basics (&r, &spec, 1280, 720);
  g_assert_cmpstr (r.stats.current_preset, ==, "ultrafast");
  g_assert_cmpint (r.stats.current_max_fps, ==, 15);
  g_autoptr (GPtrArray) frames = decode_frames (&r, 0);
  double s = r.call_started_at;
  assert_kind (frames, s + 1.5, s + 2.4, MC_FRAME_SHARE);
  assert_kind (frames, s + 5.0, s + 7.8, MC_FRAME_SHARE);
  /* Motion at 30 fps before, at most 15 fps after the last step. */
  guint before = 0, after = 0;
  for (guint i = 0; i < frames->len; i++) {
    const McFrame *f = g_ptr_array_index (frames, i);
    before += f->t >= s + 1.5 && f->t < s + 2.5;
    after += f->t >= s + 6 && f->t < s + 7;
  }
  g_test_message ("frames per second: %u before, %u after", before, after);
  g_assert_cmpuint (before, >=, 27); /* a 30 fps share loses no frames */
  g_assert_cmpuint (after, >=, 10);
  g_assert_cmpuint (after, <=, 16);
  test_call_result_clear (&r);
  test_call_spec_clear (&spec);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  /* Warnings are how the recorder reports a peer's bad input; criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/recording/voices-and-share", test_voices_and_share);
  g_test_add_func ("/recording/card-without-share", test_card_without_share);
  g_test_add_func ("/recording/mute-leave-join", test_mute_leave_join);
  g_test_add_func ("/recording/share-toggle-and-resize", test_share_toggle_and_resize);
  g_test_add_func ("/recording/h264-share-1080p", test_h264_share_default_size);
  g_test_add_func ("/recording/av-sync", test_av_sync);
  g_test_add_func ("/recording/share-never-keyframes", test_share_never_keyframes);
  g_test_add_func ("/recording/decoder-error-recovers", test_decoder_error_recovers);
  g_test_add_func ("/recording/unsupported-codec", test_unsupported_codec);
  g_test_add_func ("/recording/malformed-signaling", test_malformed_signaling);
  g_test_add_func ("/recording/duration-limit", test_duration_limit);
  g_test_add_func ("/recording/stop-deadline", test_stop_deadline);
  g_test_add_func ("/recording/encoder-step-down", test_encoder_step_down);
  return g_test_run ();
}
