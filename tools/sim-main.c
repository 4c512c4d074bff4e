/* SPDX-License-Identifier: MIT */
/* callrec-sim: records a simulated call with no server at all.
 *
 *   callrec-sim --voices 3 --share vp8 --seconds 20 --record out.mp4 [-- recorder options]
 *
 * It starts callrec-recorder as a separate process (so the senders' CPU is not counted
 * as the recorder's), talks to it over the recorder's stdin/stdout signaling, and runs
 * synthetic participants: voice k is a sine of 440 + 220·k Hz, participant 0 shares a
 * known picture (tools/sim-media.h). Options after "--" go to the recorder.
 *
 * Exit status: the recorder's (0: file finished), 1 if it died, 2 bad usage. */
#include "cr-lines.h"
#include "sim-call.h"
#include "sim-server-run.h"

#include <glib-unix.h>
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

typedef struct _App App;

/* One recorder process and its signaling pipes. */
typedef struct {
  App *app;
  guint index;
  char *out;
  GSubprocess *proc;
  GOutputStream *to_recorder;
  CrLineReader *reader;
  gboolean recording; /* it reported "recording" */
  gboolean exited;
  int exit_code;
} Recorder;

struct _App {
  GMainLoop *loop;
  SimCall *call;
  Recorder recorders[SIM_MAX_RECORDERS];
  guint n_recorders;
  double seconds;
  gboolean started;
  gboolean stop_sent;
  gboolean sim_failed;
  gint64 started_us;
};

static void
send_line (guint recorder, const char *line, gpointer user_data)
{
  App *app = user_data;
  Recorder *r = &app->recorders[recorder];
  g_autoptr (GError) error = NULL;
  if (r->to_recorder && !cr_line_write (r->to_recorder, line, &error)) {
    g_warning ("sim: recorder %u's input closed: %s", recorder, error->message);
    g_clear_object (&r->to_recorder);
  }
}

static gboolean
on_seconds_elapsed (gpointer user_data)
{
  App *app = user_data;
  if (!app->stop_sent) {
    app->stop_sent = TRUE;
    g_message ("sim: %.0f s elapsed, stopping the recording", app->seconds);
    sim_call_send_stop (app->call);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
on_progress (gpointer user_data)
{
  App *app = user_data;
  if (app->started && !app->stop_sent)
    g_message ("sim: %.0f / %.0f s, %u participants connected",
               (g_get_monotonic_time () - app->started_us) / 1e6, app->seconds,
               sim_call_count_connected (app->call));
  return G_SOURCE_CONTINUE;
}

static gboolean
all_recording (App *app)
{
  for (guint k = 0; k < app->n_recorders; k++)
    if (!app->recorders[k].recording)
      return FALSE;
  return TRUE;
}

static void
on_status (guint recorder, const char *state, const char *reason, double elapsed,
           gpointer user_data)
{
  App *app = user_data;
  if (g_strcmp0 (state, "recording") != 0) {
    g_message ("sim: recorder %u %s%s%s", recorder, state, reason ? ": " : "",
               reason ? reason : "");
    return;
  }
  app->recorders[recorder].recording = TRUE;
  if (app->started || !all_recording (app))
    return;
  /* The call starts once every recorder runs, so file time ≈ schedule time. */
  app->started = TRUE;
  app->started_us = g_get_monotonic_time ();
  /* Scripts time kills and checks from this line (flushed: stdout may be a pipe). */
  printf ("recording started\n");
  fflush (stdout);
  g_autoptr (GError) error = NULL;
  if (!sim_call_start (app->call, &error)) {
    g_printerr ("callrec-sim: %s\n", error->message);
    sim_call_send_stop (app->call);
    app->stop_sent = TRUE;
    app->sim_failed = TRUE;
    return;
  }
  g_timeout_add ((guint) (app->seconds * 1000), on_seconds_elapsed, app);
}

static void
on_line (const char *line, gsize length, gpointer user_data)
{
  Recorder *r = user_data;
  sim_call_handle_line (r->app->call, r->index, line, length);
}

static void
on_closed (const GError *error, gpointer user_data)
{
  /* A recorder's exit is what counts; see on_recorder_exit. */
}

static void
on_recorder_exit (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Recorder *r = user_data;
  App *app = r->app;
  GSubprocess *proc = G_SUBPROCESS (source);
  g_subprocess_wait_finish (proc, result, NULL);
  if (g_subprocess_get_if_signaled (proc)) {
    g_printerr ("callrec-sim: recorder %u was killed by signal %d\n", r->index,
                g_subprocess_get_term_sig (proc));
    r->exit_code = 1;
  } else {
    r->exit_code = g_subprocess_get_exit_status (proc);
  }
  r->exited = TRUE;
  for (guint k = 0; k < app->n_recorders; k++)
    if (!app->recorders[k].exited)
      return;
  g_main_loop_quit (app->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  on_seconds_elapsed (user_data);
  return G_SOURCE_CONTINUE;
}

/* out.mp4 → out-2.mp4 for the second of several recordings. */
static char *
output_path (const char *record, guint index, guint n)
{
  if (n == 1)
    return g_strdup (record);
  const char *dot = strrchr (record, '.');
  const char *slash = strrchr (record, '/');
  if (!dot || (slash && dot < slash))
    return g_strdup_printf ("%s-%u", record, index + 1);
  return g_strdup_printf ("%.*s-%u%s", (int) (dot - record), record, index + 1, dot);
}

static gboolean
spawn_recorder (App *app, Recorder *r, const char *recorder_path, char **extra, int n_extra,
                GError **error)
{
  GPtrArray *args = g_ptr_array_new ();
  g_ptr_array_add (args, (char *) recorder_path);
  g_ptr_array_add (args, (char *) "record");
  g_ptr_array_add (args, (char *) "--out");
  g_ptr_array_add (args, r->out);
  g_ptr_array_add (args, (char *) "--ice-address");
  g_ptr_array_add (args, (char *) "127.0.0.1");
  g_ptr_array_add (args, (char *) "--title");
  g_ptr_array_add (args, (char *) "Simulated call");
  for (int i = 0; i < n_extra; i++)
    if (!g_str_equal (extra[i], "--"))
      g_ptr_array_add (args, extra[i]);
  g_ptr_array_add (args, NULL);
  r->proc = g_subprocess_newv ((const char *const *) args->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                               error);
  g_ptr_array_unref (args);
  if (!r->proc)
    return FALSE;
  printf ("recorder pid %s\n", g_subprocess_get_identifier (r->proc));
  fflush (stdout);
  r->to_recorder = g_object_ref (g_subprocess_get_stdin_pipe (r->proc));
  r->reader = cr_line_reader_new (g_subprocess_get_stdout_pipe (r->proc), 256 * 1024, on_line,
                                  on_closed, r);
  g_subprocess_wait_async (r->proc, NULL, on_recorder_exit, r);
  return TRUE;
}

static char *
find_recorder (const char *option)
{
  if (option)
    return g_strdup (option);
  if (g_getenv ("CALLREC_RECORDER"))
    return g_strdup (g_getenv ("CALLREC_RECORDER"));
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  if (self) {
    g_autofree char *dir = g_path_get_dirname (self);
    char *sibling = g_build_filename (dir, "..", "recorder", "callrec-recorder", NULL);
    if (g_file_test (sibling, G_FILE_TEST_IS_EXECUTABLE))
      return sibling;
    g_free (sibling);
  }
  return g_strdup ("callrec-recorder");
}

int
main (int argc, char **argv)
{
  /* stdout is for results ("recorder pid", "recorded"); logs go to stderr. */
  g_log_writer_default_set_use_stderr (TRUE);
  int voices = 3;
  double seconds = 20, corrupt_at = 0;
  int share_kbps = 2500, recordings = 1;
  gboolean motion = FALSE, marks = FALSE, never_keyframe = FALSE, one_connection = FALSE;
  gboolean recorder_offers = FALSE, ice_tcp_only = FALSE, host_records = FALSE;
  g_autofree char *server = NULL, *admin_token_file = NULL, *channel = NULL;
  g_autofree char *share = NULL, *share_size = NULL, *record = NULL, *schedule = NULL;
  g_autofree char *recorder_opt = NULL, *dump = NULL;
  const GOptionEntry entries[] = {
    { "voices", 0, 0, G_OPTION_ARG_INT, &voices, "Participants, each with a voice (default 3)", "N" },
    { "share", 0, 0, G_OPTION_ARG_STRING, &share,
      "Participant 0 shares: none, vp8, h264, or vp9 (which the recorder refuses)", "CODEC" },
    { "share-size", 0, 0, G_OPTION_ARG_STRING, &share_size, "Share size (default 1920x1080)", "WxH" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Call length (default 20)", "S" },
    { "record", 0, 0, G_OPTION_ARG_FILENAME, &record, "Record the call to this MP4", "FILE" },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &schedule,
      "Events: T:mute:K T:unmute:K T:leave:K T:join:K T:share-off T:share-on[:WxH], "
      "comma-separated", "LIST" },
    { "one-connection", 0, 0, G_OPTION_ARG_NONE, &one_connection,
      "Send every participant's tracks on one connection, as the SFU does (default: one "
      "connection per participant)", NULL },
    { "server", 0, 0, G_OPTION_ARG_STRING, &server,
      "Run the call on this callrec-server (http://HOST:PORT): participants and the recorder "
      "join it over the WebSocket, media goes through its SFU", "URL" },
    { "admin-token-file", 0, 0, G_OPTION_ARG_FILENAME, &admin_token_file,
      "--server: an admin token (creates the users and the channel), e.g. DATA/admin.token",
      "FILE" },
    { "channel", 0, 0, G_OPTION_ARG_STRING, &channel,
      "--server: the channel whose call it is (default: sim; created if missing)", "NAME" },
    { "host-records", 0, 0, G_OPTION_ARG_NONE, &host_records,
      "--server: the host asks the server to record (its recorder joins the call), stops "
      "after --seconds and waits for the recording's post (no --record needed)", NULL },
    { "ice-tcp-only", 0, 0, G_OPTION_ARG_NONE, &ice_tcp_only,
      "Participants use ICE over TCP only, as clients whose UDP is blocked (the recorder: "
      "pass --ice-tcp-only after --)", NULL },
    { "recorder-offers", 0, 0, G_OPTION_ARG_NONE, &recorder_offers,
      "The recorder makes the first offer on each connection, as it does toward the SFU",
      NULL },
    { "recordings", 0, 0, G_OPTION_ARG_INT, &recordings,
      "Record the call N times at once (N recorders, each track encoded once): "
      "FILE-1.mp4 … FILE-N.mp4", "N" },
    { "motion", 0, 0, G_OPTION_ARG_NONE, &motion, "Full-motion share content (default: slides)", NULL },
    { "sync-marks", 0, 0, G_OPTION_ARG_NONE, &marks,
      "Flash the share and beep voice 0 together every 2 s", NULL },
    { "never-keyframe", 0, 0, G_OPTION_ARG_NONE, &never_keyframe,
      "The share never sends a keyframe", NULL },
    { "corrupt-share-at", 0, 0, G_OPTION_ARG_DOUBLE, &corrupt_at,
      "Garble share packets for 0.5 s from this second", "S" },
    { "share-kbps", 0, 0, G_OPTION_ARG_INT, &share_kbps, "Share bitrate (default 2500)", "KBPS" },
    { "dump-share", 0, 0, G_OPTION_ARG_FILENAME, &dump,
      "Also write the encoded VP8 share to this WebM file", "FILE" },
    { "recorder", 0, 0, G_OPTION_ARG_FILENAME, &recorder_opt,
      "callrec-recorder to run (default: next to this binary, or $CALLREC_RECORDER)", "PATH" },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- record a simulated call [-- recorder options]");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("callrec-sim: %s\n", error->message);
    return 2;
  }

  SimCallConfig config = { .voices = (guint) voices, .share_width = 1920, .share_height = 1080 };
  config.media.content = motion ? SIM_CONTENT_MOTION : SIM_CONTENT_SLIDES;
  config.media.marks = marks;
  config.media.never_keyframe = never_keyframe;
  config.media.corrupt_at_s = corrupt_at;
  config.media.share_kbps = share_kbps;
  config.media.share_dump = dump;
  config.one_connection = one_connection;
  config.recorders = (guint) recordings;
  config.recorder_offers = recorder_offers;
  sim_peer_set_tcp_only (ice_tcp_only);
  config.schedule = schedule;
  if (!share || g_str_equal (share, "none"))
    config.share = SIM_SHARE_NONE;
  else if (g_str_equal (share, "vp8"))
    config.share = SIM_SHARE_VP8;
  else if (g_str_equal (share, "h264"))
    config.share = SIM_SHARE_H264;
  else if (g_str_equal (share, "vp9"))
    config.share = SIM_SHARE_VP9;
  else {
    g_printerr ("callrec-sim: --share %s: expected none, vp8, h264 or vp9\n", share);
    return 2;
  }
  if (share_size &&
      !sim_parse_share_size (share_size, &config.share_width, &config.share_height)) {
    g_printerr ("callrec-sim: --share-size %s: expected WxH, e.g. 1280x720\n", share_size);
    return 2;
  }
  if (voices < 0 || voices > 32 || seconds <= 0 || seconds > 24 * 3600 || share_kbps < 50) {
    g_printerr ("callrec-sim: --voices must be 0…32, --seconds positive, --share-kbps ≥ 50\n");
    return 2;
  }
  if (recordings < 1 || recordings > SIM_MAX_RECORDERS) {
    g_printerr ("callrec-sim: --recordings must be 1…%d\n", SIM_MAX_RECORDERS);
    return 2;
  }
  if (host_records && !server) {
    g_printerr ("callrec-sim: --host-records needs --server\n");
    return 2;
  }
  if (!record && !host_records) {
    g_printerr ("callrec-sim: --record FILE is required\n");
    return 2;
  }
  if (sim_schedule_validate (schedule, &error) < 0) {
    g_printerr ("callrec-sim: %s\n", error->message);
    return 2;
  }

  if (server) {
    if (schedule || recordings != 1 || one_connection || recorder_offers) {
      g_printerr ("callrec-sim: --server does not take --schedule, --recordings, "
                  "--one-connection or --recorder-offers\n");
      return 2;
    }
    g_autofree char *admin_token = NULL;
    if (!admin_token_file || !g_file_get_contents (admin_token_file, &admin_token, NULL, &error)) {
      g_printerr ("callrec-sim: --server needs --admin-token-file FILE%s%s\n",
                  error ? ": " : "", error ? error->message : "");
      return 2;
    }
    SimWsConfig ws = { .server_url = server, .admin_token = g_strstrip (admin_token),
                       .channel = channel ? channel : "sim", .voices = config.voices,
                       .share = config.share, .share_width = config.share_width,
                       .share_height = config.share_height, .media = config.media };
    if (host_records)
      return sim_run_host_recording (&ws, seconds);
    g_autofree char *recorder_path = find_recorder (recorder_opt);
    return sim_run_on_server (&ws, record, recorder_path, argv + 1, argc - 1, seconds);
  }

  App app = { .loop = g_main_loop_new (NULL, FALSE), .seconds = seconds,
              .n_recorders = (guint) recordings };
  app.call = sim_call_new (&config, send_line, on_status, &app, &error);
  if (!app.call) {
    g_printerr ("callrec-sim: %s\n", error->message);
    return 2;
  }

  g_autofree char *recorder_path = find_recorder (recorder_opt);
  for (guint k = 0; k < app.n_recorders; k++) {
    Recorder *r = &app.recorders[k];
    r->app = &app;
    r->index = k;
    r->exit_code = 1;
    r->out = output_path (record, k, app.n_recorders);
    if (!spawn_recorder (&app, r, recorder_path, argv + 1, argc - 1, &error)) {
      g_printerr ("callrec-sim: could not start %s: %s\n", recorder_path, error->message);
      /* The ones already started stop when their stdin closes. */
      return 2;
    }
  }
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  g_timeout_add_seconds (5, on_progress, &app);

  g_main_loop_run (app.loop);

  sim_call_free (app.call);
  int exit_code = app.sim_failed ? 1 : 0;
  for (guint k = 0; k < app.n_recorders; k++) {
    Recorder *r = &app.recorders[k];
    cr_line_reader_free (r->reader);
    g_clear_object (&r->to_recorder);
    g_object_unref (r->proc);
    if (r->exit_code == 0)
      printf ("recorded %s\n", r->out);
    else if (exit_code == 0)
      exit_code = r->exit_code;
    g_free (r->out);
  }
  return exit_code;
}
