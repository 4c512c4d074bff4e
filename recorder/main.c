/* SPDX-License-Identifier: MIT */
/* callrec-recorder: runs one recording job.
 *
 *   callrec-recorder record --out FILE [--signaling stdio] [recording options]
 *
 * With --signaling stdio (the default, and what callrec-sim uses) signaling messages
 * arrive on stdin and leave on stdout, one JSON object per line; logs go to stderr.
 * The recording stops on a "stop" message, at --max-duration, on SIGINT/SIGTERM, or when
 * stdin closes; the file is finished in every case.
 *
 * Exit status: 0 the file was finished, 1 the recording failed (the file still plays up
 * to its last fragment), 2 bad usage or configuration. */
#include "cr-lines.h"
#include "rec-options.h"
#include "rec-session.h"

#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#define MAX_SIGNAL_LINE (256 * 1024)

typedef struct {
  GMainLoop *loop;
  RecSession *session;
  GOutputStream *out;
  int exit_code;
} App;

static void
send_line (const char *line, gpointer user_data)
{
  App *app = user_data;
  g_autoptr (GError) error = NULL;
  if (app->out && !cr_line_write (app->out, line, &error)) {
    g_warning ("signaling output closed: %s", error->message);
    g_clear_object (&app->out);
  }
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

int
main (int argc, char **argv)
{
  g_autofree char *out_path = NULL;
  g_autofree char *signaling = NULL;
  g_autofree char *ice_address = NULL;
  RecSessionConfig config;
  /* stdout carries signaling: every log line goes to stderr. */
  g_log_writer_default_set_use_stderr (TRUE);
  rec_session_config_init (&config);
  /* x264 asks for transparent huge pages for its frame buffers (madvise), and 2 MB pages
   * count in full against RSS: ~45 MB of a 1080p recording. Encoding speed does not
   * change measurably without them (docs/benchmarks.md). */
  prctl (PR_SET_THP_DISABLE, 1, 0, 0, 0);

  const GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "Write the MP4 here", "FILE" },
    { "signaling", 0, 0, G_OPTION_ARG_STRING, &signaling,
      "Where signaling comes from: stdio (default)", "KIND" },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING, &ice_address,
      "Use only this local address for ICE (e.g. 127.0.0.1)", "ADDR" },
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
  if (signaling && !g_str_equal (signaling, "stdio"))
    return usage (context, "--signaling: only 'stdio' is supported");
  if (!rec_options_finish (&config, &error))
    return usage (context, error->message);
  config.ice_address = g_steal_pointer (&ice_address);

  App app = { .loop = g_main_loop_new (NULL, FALSE), .exit_code = 1 };
  app.out = g_unix_output_stream_new (1, FALSE);
  app.session = rec_session_new (&config, out_path, send_line, on_done, &app, &error);
  rec_session_config_clear (&config);
  if (!app.session || !rec_session_start (app.session, &error)) {
    g_printerr ("callrec-recorder: %s\n", error->message);
    return 2;
  }
  g_autoptr (GInputStream) in = g_unix_input_stream_new (0, FALSE);
  CrLineReader *reader = cr_line_reader_new (in, MAX_SIGNAL_LINE, on_line, on_closed, &app);
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);

  gint64 started_us = g_get_monotonic_time ();
  g_main_loop_run (app.loop);
  log_usage (started_us);

  cr_line_reader_free (reader);
  rec_session_free (app.session);
  g_clear_object (&app.out);
  g_main_loop_unref (app.loop);
  return app.exit_code;
}
