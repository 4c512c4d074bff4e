/* SPDX-License-Identifier: MIT */
/* callrec-sim --server against the real callrec-server: two voices join the call over the
 * WebSocket, one shares a VP8 screen, and callrec-recorder joins last. The share's
 * encoder sends a keyframe only when asked, and its first keyframes went out before the
 * recorder was there, so the recording shows the share only if the SFU's later PLIs reach
 * the sharer's webrtcbin. They did not while the sim left the streams the SFU forwards to
 * its senders unlinked: the first forwarded packet stopped the senders' receive path
 * (nicesrc, not-linked), and with it every RTCP from the SFU. */
#include "media-check.h"
#include "server-fixture.h"

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>

static void
test_late_recorder_sees_share (void)
{
  g_autofree char *dir = g_dir_make_tmp ("callrec-sim-server-XXXXXX", NULL);
  g_autofree char *out_dir = g_dir_make_tmp ("callrec-sim-out-XXXXXX", NULL);
  Server *s = server_start (dir, NULL);
  const char *build = g_getenv ("CALLREC_BUILD_DIR");
  g_autofree char *sim = g_build_filename (build, "tools", "callrec-sim", NULL);
  g_autofree char *token_file = g_build_filename (dir, "admin.token", NULL);
  g_autofree char *path = g_build_filename (out_dir, "out.mp4", NULL);
  const char *argv[] = { sim, "--server", s->base, "--admin-token-file", token_file,
                         "--channel", "town", "--voices", "2", "--share", "vp8",
                         "--share-size", "640x360", "--seconds", "6", "--record", path,
                         "--", "--size", "640x360", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "recorded "));

  g_autoptr (GPtrArray) frames = mc_video_frames (path, 160, 90, 1.0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (frames->len, >=, 4);
  /* The recorder's PLI goes out as soon as it is connected; from 3 s on the share must be
   * there (it was the placeholder card all along with the fault). */
  for (guint i = 0; i < frames->len; i++) {
    const McFrame *f = g_ptr_array_index (frames, i);
    const char *kind = mc_frame_kind_name (mc_frame_classify (f));
    g_test_message ("%.1f s: %s", f->t, kind);
    if (f->t >= 3.0)
      g_assert_cmpstr (kind, ==, "share");
  }
  g_autoptr (McAudio) audio = mc_audio_decode (path, 48000, &error);
  g_assert_no_error (error);
  g_assert_true (mc_audio_has_tone (audio, 3, 5.5, 440, 0.05));
  g_assert_true (mc_audio_has_tone (audio, 3, 5.5, 660, 0.05));

  server_stop (s);
  g_unlink (path);
  g_rmdir (out_dir);
  remove_tree (dir);
}

/* UDP unusable for the clients: every participant gathers only ICE-TCP candidates (libnice
 * with UDP off), so ICE can only succeed on the SFU's passive TCP candidate, and the media
 * (voices and share) reaches the recorder, which joins over UDP, through TCP. */
static void
test_tcp_fallback (void)
{
  g_autofree char *dir = g_dir_make_tmp ("callrec-sim-server-XXXXXX", NULL);
  g_autofree char *out_dir = g_dir_make_tmp ("callrec-sim-out-XXXXXX", NULL);
  Server *s = server_start (dir, NULL);
  const char *build = g_getenv ("CALLREC_BUILD_DIR");
  g_autofree char *sim = g_build_filename (build, "tools", "callrec-sim", NULL);
  g_autofree char *token_file = g_build_filename (dir, "admin.token", NULL);
  g_autofree char *path = g_build_filename (out_dir, "out.mp4", NULL);
  const char *argv[] = { sim, "--server", s->base, "--admin-token-file", token_file,
                         "--channel", "tcp", "--voices", "2", "--share", "vp8",
                         "--share-size", "640x360", "--seconds", "6", "--ice-tcp-only",
                         "--record", path, "--", "--size", "640x360", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  /* The server's log says which path each participant's media took. */
  g_autofree char *log = NULL;
  g_assert_true (g_file_get_contents (s->log_path, &log, NULL, NULL));
  guint tcp = 0, udp = 0;
  for (const char *p = log; (p = strstr (p, " connected over ")); p++) {
    tcp += g_str_has_prefix (p, " connected over TCP");
    udp += g_str_has_prefix (p, " connected over UDP");
  }
  g_test_message ("connected over TCP: %u, over UDP: %u", tcp, udp);
  g_assert_cmpuint (tcp, ==, 2); /* the two participants */
  g_assert_cmpuint (udp, ==, 1); /* the recorder */

  g_autoptr (McAudio) audio = mc_audio_decode (path, 48000, &error);
  g_assert_no_error (error);
  g_assert_true (mc_audio_has_tone (audio, 3, 5.5, 440, 0.05));
  g_assert_true (mc_audio_has_tone (audio, 3, 5.5, 660, 0.05));
  g_autoptr (GPtrArray) frames = mc_video_frames (path, 160, 90, 1.0, &error);
  g_assert_no_error (error);
  const McFrame *last = g_ptr_array_index (frames, frames->len - 1);
  g_assert_cmpstr (mc_frame_kind_name (mc_frame_classify (last)), ==, "share");

  server_stop (s);
  g_unlink (path);
  g_rmdir (out_dir);
  remove_tree (dir);
}

/* What `make demo` runs: the participants join, the host starts the server's recording,
 * stops it, and the recording's post appears in the call thread; the posted file holds
 * every voice and the share. */
static void
test_host_records (void)
{
  g_autofree char *dir = g_dir_make_tmp ("callrec-sim-server-XXXXXX", NULL);
  Server *s = server_start (dir, NULL);
  const char *build = g_getenv ("CALLREC_BUILD_DIR");
  g_autofree char *sim = g_build_filename (build, "tools", "callrec-sim", NULL);
  g_autofree char *token_file = g_build_filename (dir, "admin.token", NULL);
  const char *argv[] = { sim, "--server", s->base, "--admin-token-file", token_file,
                         "--channel", "demo", "--voices", "3", "--share", "vp8",
                         "--share-size", "640x360", "--seconds", "6", "--host-records", NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_test_message ("%s", out);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "Here's the call recording"));
  const char *line = strstr (out, "recording file ");
  g_assert_nonnull (line);
  g_autofree char *id = g_strndup (line + strlen ("recording file "),
                                   strcspn (line + strlen ("recording file "), "\n"));
  g_autofree char *path = g_build_filename (dir, "files", id, NULL);

  g_auto (McInfo) info = { 0 };
  g_assert_true (mc_probe (path, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (info.duration_s, 6.0, 1.0);
  g_autoptr (McAudio) audio = mc_audio_decode (path, 48000, &error);
  g_assert_no_error (error);
  for (guint k = 0; k < 3; k++)
    g_assert_true (mc_audio_has_tone (audio, 2, 4.5, 440 + 220 * k, 0.05));
  g_autoptr (GPtrArray) frames = mc_video_frames (path, 160, 90, 1.0, &error);
  g_assert_no_error (error);
  const McFrame *last = g_ptr_array_index (frames, frames->len - 1);
  g_assert_cmpstr (mc_frame_kind_name (mc_frame_classify (last)), ==, "share");

  server_stop (s);
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/server/late-recorder-sees-share", test_late_recorder_sees_share);
  g_test_add_func ("/sim/server/tcp-fallback", test_tcp_fallback);
  g_test_add_func ("/sim/server/host-records", test_host_records);
  return g_test_run ();
}
