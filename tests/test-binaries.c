/* SPDX-License-Identifier: MIT */
/* The built binaries as a user runs them: callrec-sim spawning callrec-recorder, a
 * recorder killed with SIGKILL mid-recording, and usage errors. */
#include "media-check.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <signal.h>
#include <string.h>

static char *
binary (const char *subdir, const char *name)
{
  const char *build = g_getenv ("CALLREC_BUILD_DIR");
  g_assert_nonnull (build);
  return g_build_filename (build, subdir, name, NULL);
}

static char *
temp_mp4 (char **dir)
{
  *dir = g_dir_make_tmp ("callrec-bin-XXXXXX", NULL);
  return g_build_filename (*dir, "out.mp4", NULL);
}

static void
cleanup (char *dir, char *path)
{
  g_unlink (path);
  g_rmdir (dir);
  g_free (dir);
  g_free (path);
}

static void
test_sim_records (void)
{
  g_autofree char *sim = binary ("tools", "callrec-sim");
  char *dir, *path = temp_mp4 (&dir);
  const char *argv[] = { sim, "--voices", "2", "--share", "vp8", "--share-size", "640x360",
                         "--seconds", "6", "--record", path, "--", "--size", "640x360", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status = -1;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "recorder pid "));
  g_assert_nonnull (strstr (out, "recorded "));
  g_auto (McInfo) info = { 0 };
  g_assert_true (mc_probe (path, &info, &error));
  g_assert_cmpint (info.width, ==, 640);
  g_assert_cmpint (info.height, ==, 360);
  /* The call lasts 6 s from the moment the recorder reported it was recording. */
  g_assert_cmpfloat_with_epsilon (info.duration_s, 6.0, 0.5);
  g_autoptr (McAudio) audio = mc_audio_decode (path, 48000, &error);
  g_assert_no_error (error);
  g_assert_true (mc_audio_has_tone (audio, 3, 5.5, 440, 0.05));
  g_assert_true (mc_audio_has_tone (audio, 3, 5.5, 660, 0.05));
  cleanup (dir, path);
}

/* Reads the sim's stdout up to "recording started", picking up the recorder's pid. */
/* The SFU's shape: the recorder offers first (as it must toward the SFU), then every
 * participant's tracks arrive on that one connection in a re-offer, one msid stream each;
 * and one sender feeds two recorders. Bob leaves at 3 s: his m-line goes inactive in a
 * renegotiation on the shared connection, and only his voice stops. */
static void
test_sim_one_connection_two_recordings (void)
{
  g_autofree char *sim = binary ("tools", "callrec-sim");
  char *dir, *path = temp_mp4 (&dir);
  const char *argv[] = { sim, "--voices", "2", "--share", "vp8", "--share-size", "640x360",
                         "--seconds", "6", "--one-connection", "--recorder-offers",
                         "--recordings", "2",
                         "--schedule", "3:leave:1", "--record", path, "--",
                         "--size", "640x360", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status = -1;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  for (int k = 1; k <= 2; k++) {
    g_autofree char *file = g_strdup_printf ("%s/out-%d.mp4", dir, k);
    g_autofree char *said = g_strdup_printf ("recorded %s\n", file);
    g_assert_nonnull (strstr (out, said));
    g_auto (McInfo) info = { 0 };
    g_assert_true (mc_probe (file, &info, &error));
    g_assert_no_error (error);
    g_assert_cmpfloat_with_epsilon (info.duration_s, 6.0, 0.5);
    g_autoptr (McAudio) audio = mc_audio_decode (file, 48000, &error);
    g_assert_no_error (error);
    /* Negotiation here takes two rounds (our offer, then the sim's), slower on a loaded
     * machine: the tones are checked from 2 s on. */
    g_assert_true (mc_audio_has_tone (audio, 2.0, 2.8, 440, 0.05));
    g_assert_true (mc_audio_has_tone (audio, 2.0, 2.8, 660, 0.05));
    g_assert_true (mc_audio_has_tone (audio, 4.0, 5.5, 440, 0.05));
    g_assert_cmpfloat (mc_audio_tone_amplitude (audio, 4.0, 5.5, 660), <, 0.01);
    g_autoptr (GPtrArray) frames = mc_video_frames (file, 160, 90, 1.0, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (mc_frame_kind_name (mc_frame_classify (g_ptr_array_index (frames, frames->len - 1))),
                     ==, "share");
    g_unlink (file);
  }
  cleanup (dir, path);
}

static gboolean
read_until_recording (GDataInputStream *in, GPid *pid)
{
  for (int i = 0; i < 20; i++) {
    g_autofree char *line = g_data_input_stream_read_line (in, NULL, NULL, NULL);
    if (!line)
      return FALSE;
    if (g_str_has_prefix (line, "recorder pid "))
      *pid = atoi (line + strlen ("recorder pid "));
    if (g_str_equal (line, "recording started"))
      return *pid > 0;
  }
  return FALSE;
}

static void
test_sigkill_keeps_file (void)
{
  g_autofree char *sim = binary ("tools", "callrec-sim");
  char *dir, *path = temp_mp4 (&dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = g_subprocess_new (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, sim,
      "--voices", "2", "--share", "vp8", "--share-size", "640x360", "--seconds", "60",
      "--record", path, "--", "--size", "640x360", NULL);
  g_assert_no_error (error);
  g_autoptr (GDataInputStream) in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  GPid pid = 0;
  g_assert_true (read_until_recording (in, &pid));
  /* File time 0 is about when the recorder said it was recording. */
  gint64 started = g_get_monotonic_time ();
  g_usleep (8 * G_USEC_PER_SEC);
  double killed_at = (g_get_monotonic_time () - started) / 1e6;
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  /* The sim reports the recorder's death with a failure status. */
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 1);

  /* Fragmented MP4: everything up to the last complete fragment plays. */
  g_auto (McInfo) info = { 0 };
  g_assert_true (mc_probe (path, &info, &error));
  g_assert_no_error (error);
  g_test_message ("killed at %.2f s, file plays %.2f s", killed_at, info.duration_s);
  /* What is lost: the fragment being built (up to 0.5 s) and what the mixer and muxer
   * hold back waiting for late packets (up to jitter-buffer latency + 0.2 s, then 0.2 s),
   * plus a slide's last frame that may be up to 1 s old (the keepalive). Measured:
   * 0.9-1.0 s here, 0.3-1.3 s for a 1080p slide share. */
  g_assert_cmpfloat (info.duration_s, >=, killed_at - 2.5);
  g_assert_cmpfloat (info.duration_s, <=, killed_at + 0.5);
  g_autoptr (McAudio) audio = mc_audio_decode (path, 48000, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat ((double) audio->n_samples / audio->rate, >=, killed_at - 2.5);
  g_assert_true (mc_audio_has_tone (audio, 3, killed_at - 3, 440, 0.05));
  g_autoptr (GPtrArray) frames = mc_video_frames (path, 160, 90, 1.0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mc_frame_kind_name (mc_frame_classify (g_ptr_array_index (frames, frames->len - 1))),
                   ==, "share");
  cleanup (dir, path);
}

typedef struct {
  const char *bin;
  const char *args[8];
  const char *expect; /* in stderr */
} Usage;

static void
test_usage_errors (void)
{
  static const Usage cases[] = {
    { "sim", { "--share", "vp7", "--record", "/tmp/x.mp4" }, "--share vp7" },
    { "sim", { "--schedule", "3:dance:1", "--record", "/tmp/x.mp4" }, "schedule item" },
    { "sim", { "--share-size", "10x", "--record", "/tmp/x.mp4" }, "--share-size" },
    { "sim", { "--voices", "2" }, "--record FILE is required" },
    { "recorder", { "record", "--out", "/tmp/x.mp4", "--size", "3x3" }, "width 3" },
    { "recorder", { "record", "--out", "/tmp/x.mp4", "--preset", "placebo" }, "x264 preset" },
    { "recorder", { "record" }, "--out FILE is required" },
    { "recorder", { "play", "--out", "/tmp/x.mp4" }, "the command is 'record'" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *bin = g_str_equal (cases[i].bin, "sim") ? binary ("tools", "callrec-sim")
                                                              : binary ("recorder", "callrec-recorder");
    GPtrArray *argv = g_ptr_array_new ();
    g_ptr_array_add (argv, bin);
    for (guint j = 0; cases[i].args[j]; j++)
      g_ptr_array_add (argv, (char *) cases[i].args[j]);
    g_ptr_array_add (argv, NULL);
    g_autofree char *err = NULL;
    int status = -1;
    g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL,
                                 NULL, NULL, NULL, &err, &status, NULL));
    g_ptr_array_unref (argv);
    g_test_message ("%s case %u: %s", cases[i].bin, i, err);
    g_assert_true (WIFEXITED (status));
    g_assert_cmpint (WEXITSTATUS (status), ==, 2);
    g_assert_nonnull (strstr (err, cases[i].expect));
  }
}

static void
test_recorder_stdin_closed (void)
{
  /* Signaling gone (the process feeding it died): the file is still finished. */
  g_autofree char *rec = binary ("recorder", "callrec-recorder");
  char *dir, *path = temp_mp4 (&dir);
  g_autofree char *cmd = g_strdup_printf ("sleep 3 | %s record --out %s --size 320x180", rec,
                                          path);
  const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
  int status = -1;
  g_autofree char *out = NULL;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &out, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "\"state\":\"stopped\""));
  g_assert_nonnull (strstr (out, "signaling closed"));
  g_auto (McInfo) info = { 0 };
  g_assert_true (mc_probe (path, &info, NULL));
  g_assert_cmpfloat_with_epsilon (info.duration_s, 3.0, 0.6);
  cleanup (dir, path);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  /* Warnings are how the recorder reports a peer's bad input; criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/binaries/sim-records", test_sim_records);
  g_test_add_func ("/binaries/sim-one-connection-two-recordings",
                   test_sim_one_connection_two_recordings);
  g_test_add_func ("/binaries/sigkill-keeps-file", test_sigkill_keeps_file);
  g_test_add_func ("/binaries/usage-errors", test_usage_errors);
  g_test_add_func ("/binaries/recorder-stdin-closed", test_recorder_stdin_closed);
  return g_test_run ();
}
