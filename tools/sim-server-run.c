/* SPDX-License-Identifier: MIT */
/* callrec-sim --server: a simulated call on a running callrec-server, recorded by a
 * callrec-recorder that joins it like the recording bot does (WebSocket signaling, media
 * through the SFU). */
#include "sim-server-run.h"
#include "sim-ws.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

typedef struct {
  GMainLoop *loop;
  SimWsCall *call;
  guint voices;
  GPtrArray *recorder_args; /* argv for the recorder, NULL-terminated */
  char *token;              /* the bot's */
  GSubprocess *recorder;
  gint64 created_us;
  double seconds;
  gint64 started_us;
  int exit_code;
  gboolean stopping;
} Run;

static void
stop_recorder (Run *run, const char *why)
{
  if (run->stopping)
    return;
  run->stopping = TRUE;
  g_message ("sim: %s, stopping the recording", why);
  if (!run->recorder) {
    g_main_loop_quit (run->loop);
    return;
  }
  /* SIGTERM: the recorder finishes its file and exits 0. */
  g_subprocess_send_signal (run->recorder, SIGTERM);
}

static gboolean
on_seconds_elapsed (gpointer user_data)
{
  Run *run = user_data;
  g_autofree char *why = g_strdup_printf ("%.0f s elapsed", run->seconds);
  stop_recorder (run, why);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer user_data)
{
  stop_recorder (user_data, "interrupted");
  return G_SOURCE_CONTINUE;
}

static gboolean
on_progress (gpointer user_data)
{
  Run *run = user_data;
  if (!run->stopping)
    g_message ("sim: %.0f / %.0f s, %u participants connected to the SFU",
               (g_get_monotonic_time () - run->started_us) / 1e6, run->seconds,
               sim_ws_call_count_connected (run->call));
  return G_SOURCE_CONTINUE;
}

static void
on_recorder_exit (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  GSubprocess *proc = G_SUBPROCESS (source);
  g_subprocess_wait_finish (proc, result, NULL);
  if (g_subprocess_get_if_signaled (proc)) {
    g_printerr ("callrec-sim: the recorder was killed by signal %d\n",
                g_subprocess_get_term_sig (proc));
    run->exit_code = 1;
  } else {
    run->exit_code = g_subprocess_get_exit_status (proc);
  }
  g_main_loop_quit (run->loop);
}

static gboolean
start_when_connected (gpointer user_data)
{
  Run *run = user_data;
  if (run->stopping)
    return G_SOURCE_REMOVE;
  if (sim_ws_call_count_connected (run->call) < run->voices) {
    if (g_get_monotonic_time () - run->created_us < 30 * G_USEC_PER_SEC)
      return G_SOURCE_CONTINUE;
    g_printerr ("callrec-sim: only %u of %u participants connected to the SFU in 30 s\n",
                sim_ws_call_count_connected (run->call), run->voices);
    run->exit_code = 1;
    g_main_loop_quit (run->loop);
    return G_SOURCE_REMOVE;
  }
  g_autoptr (GError) error = NULL;
  /* The token goes in the environment: a command line is visible to every user. */
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_setenv (launcher, "CALLREC_TOKEN", run->token, TRUE);
  run->recorder = g_subprocess_launcher_spawnv (
      launcher, (const char *const *) run->recorder_args->pdata, &error);
  if (!run->recorder) {
    g_printerr ("callrec-sim: could not start the recorder: %s\n", error->message);
    run->exit_code = 2;
    g_main_loop_quit (run->loop);
    return G_SOURCE_REMOVE;
  }
  printf ("recorder pid %s\nrecording started\n", g_subprocess_get_identifier (run->recorder));
  fflush (stdout);
  run->started_us = g_get_monotonic_time ();
  g_subprocess_wait_async (run->recorder, NULL, on_recorder_exit, run);
  g_timeout_add ((guint) (run->seconds * 1000), on_seconds_elapsed, run);
  g_timeout_add_seconds (5, on_progress, run);
  return G_SOURCE_REMOVE;
}

int
sim_run_on_server (const SimWsConfig *config, const char *record, const char *recorder_path,
                   char **recorder_args, int n_args, double seconds)
{
  g_autoptr (GError) error = NULL;
  Run run = { .loop = g_main_loop_new (NULL, FALSE), .seconds = seconds, .exit_code = 1 };
  run.call = sim_ws_call_new (config, &error);
  if (!run.call) {
    g_printerr ("callrec-sim: %s\n", error->message);
    return 2;
  }
  g_autofree char *bot = g_strdup_printf ("recorder-%s", sim_ws_call_get_tag (run.call));
  g_autofree char *token = sim_ws_call_add_member (run.call, bot, "Recording", &error);
  if (!token) {
    g_printerr ("callrec-sim: %s\n", error->message);
    sim_ws_call_free (run.call);
    return 2;
  }

  GPtrArray *args = g_ptr_array_new ();
  g_ptr_array_add (args, (char *) recorder_path);
  g_ptr_array_add (args, (char *) "record");
  g_ptr_array_add (args, (char *) "--out");
  g_ptr_array_add (args, (char *) record);
  g_ptr_array_add (args, (char *) "--signaling");
  g_ptr_array_add (args, (char *) "ws");
  g_ptr_array_add (args, (char *) "--server");
  g_ptr_array_add (args, (char *) config->server_url);
  g_ptr_array_add (args, (char *) "--channel");
  g_ptr_array_add (args, (char *) config->channel);
  g_ptr_array_add (args, (char *) "--ice-address");
  g_ptr_array_add (args, (char *) "127.0.0.1");
  for (int i = 0; i < n_args; i++)
    if (!g_str_equal (recorder_args[i], "--"))
      g_ptr_array_add (args, recorder_args[i]);
  g_ptr_array_add (args, NULL);
  run.recorder_args = args;
  run.token = g_steal_pointer (&token);
  run.voices = config->voices;
  run.created_us = g_get_monotonic_time ();
  /* The recording starts once everyone is in the call, as when a host presses record
   * during a call: the bot then joins a call whose tracks, share included, exist. */
  g_timeout_add (100, start_when_connected, &run);
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &run);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &run);

  g_main_loop_run (run.loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  sim_ws_call_free (run.call);
  g_clear_object (&run.recorder);
  g_ptr_array_unref (run.recorder_args);
  g_free (run.token);
  g_main_loop_unref (run.loop);
  if (run.exit_code == 0)
    printf ("recorded %s\n", record);
  return run.exit_code;
}
