/* SPDX-License-Identifier: MIT */
/* callrec-recorder: runs one recording job.
 *
 *   callrec-recorder record --out FILE [--signaling stdio] [recording options]
 *   callrec-recorder record --out FILE --signaling ws --server URL --channel C [--job J]
 *     (the token comes from $CALLREC_TOKEN or --token-file, never the command line;
 *     with --job it reports the job's status to the server and uploads the file while it
 *     grows, and exits once the upload is confirmed: rec-job.c, docs/recording.md)
 *   callrec-recorder upload --server URL --token T --channel C --file F [--follow]
 *     (rec-upload-command.c)
 *   callrec-recorder worker --server URL [--max-jobs N]
 *     (a recording node: claims jobs from the server and runs each as a child `record`;
 *     the token from $CALLREC_TOKEN or --token-file: rec-worker.c)
 *
 * With --signaling stdio (the default, and what callrec-sim uses) signaling messages
 * arrive on stdin and leave on stdout, one JSON object per line; logs go to stderr.
 * The recording stops on a "stop" message, at --max-duration, on SIGINT/SIGTERM, or when
 * stdin closes; the file is finished in every case.
 *
 * Exit status: 0 the file was finished, 1 the recording failed (the file still plays up
 * to its last fragment), 2 bad usage or configuration. */
#include "cr-lines.h"
#include "rec-job.h"
#include "rec-options.h"
#include "rec-session.h"
#include "rec-signaling-ws.h"
#include "rec-upload.h"
#include "rec-worker.h"

#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#define MAX_SIGNAL_LINE (256 * 1024)

typedef struct {
  GMainLoop *loop;
  RecSession *session;
  GOutputStream *out;
  RecWsSignaling *ws; /* --signaling ws */
  RecJob *job;        /* --job: status reports and the upload */
  int exit_code;
} App;

static void
send_line (const char *line, gpointer user_data)
{
  App *app = user_data;
  if (app->ws) {
    rec_ws_signaling_send_line (app->ws, line);
    return;
  }
  g_autoptr (GError) error = NULL;
  if (app->out && !cr_line_write (app->out, line, &error)) {
    g_warning ("signaling output closed: %s", error->message);
    g_clear_object (&app->out);
  }
}

static void
on_job_done (RecJob *job, gboolean ok, gpointer user_data)
{
  App *app = user_data;
  if (!ok)
    app->exit_code = 1;
  g_main_loop_quit (app->loop);
}

static void
on_done (RecSession *session, gboolean ok, const char *reason, gpointer user_data)
{
  App *app = user_data;
  if (ok)
    g_message ("done: %s", reason);
  else
    g_warning ("recording failed: %s", reason);
  app->exit_code = ok ? 0 : 1;
  /* A job reports the end and finishes its upload before the process exits. */
  if (app->job) {
    double elapsed = pl_recording_get_elapsed (rec_session_get_recording (session));
    rec_job_end (app->job, ok, reason, elapsed, on_job_done, app);
    return;
  }
  g_main_loop_quit (app->loop);
}

static void
on_line (const char *line, gsize length, gpointer user_data)
{
  App *app = user_data;
  rec_session_handle_line (app->session, line, length);
}

static void
on_closed (const GError *error, gpointer user_data)
{
  App *app = user_data;
  rec_session_stop (app->session, error ? "signaling failed" : "signaling closed");
}

static void
on_ws_done (const GError *error, gpointer user_data)
{
  App *app = user_data;
  /* The server drops a closed socket's participant from the SFU: no more media comes. */
  rec_session_stop (app->session, error ? "signaling failed" : "signaling closed");
}

/* The bearer token: $CALLREC_TOKEN, else the first line of --token-file. */
static char *
read_token (const char *token_file, GError **error)
{
  if (!token_file) {
    const char *env = g_getenv ("CALLREC_TOKEN");
    if (!env || !*env) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--signaling ws needs a token: set CALLREC_TOKEN or pass --token-file");
      return NULL;
    }
    return g_strdup (env);
  }
  g_autofree char *text = NULL;
  if (!g_file_get_contents (token_file, &text, NULL, error))
    return NULL;
  return g_strdup (g_strstrip (text));
}

static gboolean
on_signal (gpointer user_data)
{
  App *app = user_data;
  rec_session_stop (app->session, "terminated by signal");
  return G_SOURCE_CONTINUE;
}

/* One line for operators and bench/recorder-cost: what this recording cost. */
static void
log_usage (gint64 started_us)
{
  struct rusage ru;
  if (getrusage (RUSAGE_SELF, &ru) != 0)
    return;
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
  double wall = (g_get_monotonic_time () - started_us) / 1e6;
  g_message ("usage: cpu %.2f s over %.2f s (%.3f core), peak rss %.1f MB", cpu, wall,
             wall > 0 ? cpu / wall : 0.0, ru.ru_maxrss / 1024.0);
}

static int
usage (GOptionContext *context, const char *message)
{
  g_printerr ("callrec-recorder: %s\n\n", message);
  g_autofree char *help = g_option_context_get_help (context, FALSE, NULL);
  g_printerr ("%s", help);
  return 2;
}

static gboolean
return_free_memory (gpointer user_data)
{
  malloc_trim (0);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *out_path = NULL;
  g_autofree char *signaling = NULL;
  g_autofree char *ice_address = NULL;
  gboolean ice_tcp_only = FALSE;
  g_autofree char *server = NULL, *channel = NULL, *job = NULL, *token_file = NULL;
  RecSessionConfig config;
  /* stdout carries signaling: every log line goes to stderr. */
  g_log_writer_default_set_use_stderr (TRUE);
  if (argc >= 2 && g_str_equal (argv[1], "upload"))
    return rec_upload_command (argc, argv);
  if (argc >= 2 && g_str_equal (argv[1], "worker"))
    return rec_worker_command (argc, argv);
  rec_session_config_init (&config);
  /* x264 asks for transparent huge pages for its frame buffers (madvise), and 2 MB pages
   * count in full against RSS: ~45 MB of a 1080p recording. Encoding speed does not
   * change measurably without them (docs/benchmarks.md). */
  prctl (PR_SET_THP_DISABLE, 1, 0, 0, 0);
  /* glibc gives each of our ~25 streaming threads its own malloc arena (up to 8 per
   * core), and 1080p frames (3 MB) freed in one arena stay resident there while the next
   * ones come from another: a slide recording measured 121-125 MB, and 110-120 MB (111
   * typical) with two arenas, at no measurable CPU cost. (A fixed M_MMAP_THRESHOLD below
   * the frame size saved a few MB more but page-faulted every frame of a moving share:
   * +0.19 core.) */
  mallopt (M_ARENA_MAX, 2);
  /* Even so, a frame freed in one arena while the next is taken from the other left both
   * resident now and then (slides: 119-128 MB in about 1 run of 4, 109 otherwise).
   * Handing free pages back once a second costs ~0.1 ms, and no run has had them since
   * (docs/benchmarks.md). */
  g_timeout_add_seconds (1, return_free_memory, NULL);

  const GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "Write the MP4 here", "FILE" },
    { "signaling", 0, 0, G_OPTION_ARG_STRING, &signaling,
      "Where signaling comes from: stdio (default), or ws (callrec-server)", "KIND" },
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "ws: the server, http://HOST:PORT", "URL" },
    { "channel", 0, 0, G_OPTION_ARG_STRING, &channel, "ws: the call's channel (id or name)",
      "C" },
    { "job", 0, 0, G_OPTION_ARG_STRING, &job, "ws: the recording job id", "ID" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
      "ws: read the bearer token from this file (default: $CALLREC_TOKEN)", "FILE" },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING, &ice_address,
      "Use only this local address for ICE (e.g. 127.0.0.1)", "ADDR" },
    { "ice-tcp-only", 0, 0, G_OPTION_ARG_NONE, &ice_tcp_only,
      "ICE over TCP only, for networks that block UDP", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("record - run one recording job");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, rec_options_group (&config));
  g_option_context_add_group (context, gst_init_get_option_group ());
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage (context, error->message);
  if (argc < 2 || !g_str_equal (argv[1], "record"))
    return usage (context, "the command is 'record'");
  if (!out_path)
    return usage (context, "--out FILE is required");
  gboolean ws_mode = signaling && g_str_equal (signaling, "ws");
  if (signaling && !ws_mode && !g_str_equal (signaling, "stdio"))
    return usage (context, "--signaling: stdio or ws");
  if (ws_mode && (!server || !channel))
    return usage (context, "--signaling ws needs --server URL and --channel C");
  g_autofree char *token = ws_mode ? read_token (token_file, &error) : NULL;
  if (ws_mode && !token)
    return usage (context, error->message);
  if (!rec_options_finish (&config, &error))
    return usage (context, error->message);
  config.ice_address = g_steal_pointer (&ice_address);
  config.ice_tcp_only = ice_tcp_only;

  App app = { .loop = g_main_loop_new (NULL, FALSE), .exit_code = 1 };
  app.out = g_unix_output_stream_new (1, FALSE);
  app.session = rec_session_new (&config, out_path, send_line, on_done, &app, &error);
  rec_session_config_clear (&config);
  if (!app.session || !rec_session_start (app.session, &error)) {
    g_printerr ("callrec-recorder: %s\n", error->message);
    return 2;
  }
  CrLineReader *reader = NULL;
  if (ws_mode) {
    RecWsConfig ws = { .server_url = server, .token = token, .channel = channel, .job_id = job };
    app.ws = rec_ws_signaling_new (&ws, app.session, on_ws_done, &app, &error);
    if (!app.ws) {
      g_printerr ("callrec-recorder: %s\n", error->message);
      rec_session_free (app.session);
      return 2;
    }
    if (job) {
      RecJobConfig jc = { .server_url = server, .token = token, .channel = channel,
                          .job_id = job, .path = out_path };
      app.job = rec_job_new (&jc, app.session);
    }
  } else {
    g_autoptr (GInputStream) in = g_unix_input_stream_new (0, FALSE);
    reader = cr_line_reader_new (in, MAX_SIGNAL_LINE, on_line, on_closed, &app);
  }
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);

  gint64 started_us = g_get_monotonic_time ();
  g_main_loop_run (app.loop);
  log_usage (started_us);

  if (reader)
    cr_line_reader_free (reader);
  g_clear_pointer (&app.job, rec_job_free);
  g_clear_pointer (&app.ws, rec_ws_signaling_free);
  rec_session_free (app.session);
  g_clear_object (&app.out);
  g_main_loop_unref (app.loop);
  return app.exit_code;
}
