/* SPDX-License-Identifier: MIT */
/* callrec-sim --server … --host-records: the whole main job from a host's seat. The
 * participants join a call on callrec-server; once everyone is connected, participant 0
 * (the host: it started the call) asks the server to record, stops the recording after
 * the given seconds, and waits for the recording's post in the call thread, which it
 * prints along with the rest of the thread. The server runs the recorder.
 *
 * For bench/recording-latency it also prints two lines on stdout: `latency
 * start_to_recording_ms N`, from just before the start request to the first poll of the
 * call (every TICK_MS) that shows the recording in state `recording`, and `latency
 * stop_to_post_ms N`, from just before the stop request to the first poll of the thread
 * that shows the post with the file. Both are upper bounds by up to one poll. */
#include "sim-server-run.h"
#include "sim-ws.h"
#include "cr-json.h"

#include <glib-unix.h>
#include <stdio.h>

#define POST_TIMEOUT_S 120
/* The poll period: the resolution of the latency lines. A GET on loopback takes about a
 * millisecond, so polling this often costs the call nothing that matters. */
#define TICK_MS 50

typedef enum { WAIT_CONNECTED, RECORDING, WAIT_POST, DONE } Phase;

typedef struct {
  GMainLoop *loop;
  SimWsCall *call;
  guint voices;
  double seconds;
  Phase phase;
  gint64 phase_since_us;
  gboolean recording_seen; /* the start latency has been printed (or cannot be) */
  int exit_code;
} Run;

static gboolean
host_post (Run *run, const char *action, GError **error)
{
  g_autofree char *path = g_strdup_printf ("/calls/%s/recording/%s",
                                           sim_ws_call_get_channel (run->call), action);
  return sim_ws_call_host_rest (run->call, "POST", path, "{}", NULL, error);
}

static void
fail (Run *run, const char *what, const GError *error)
{
  g_printerr ("callrec-sim: %s: %s\n", what, error ? error->message : "timed out");
  run->exit_code = 1;
  run->phase = DONE;
  g_main_loop_quit (run->loop);
}

/* Polls the call once; prints the start latency when the recording has reached
 * `recording`. A recording that failed first is reported on stderr, with no latency. */
static void
poll_recording_state (Run *run)
{
  g_autofree char *path = g_strdup_printf ("/calls/%s", sim_ws_call_get_channel (run->call));
  JsonNode *node = NULL;
  if (!sim_ws_call_host_rest (run->call, "GET", path, NULL, &node, NULL) || !node ||
      !JSON_NODE_HOLDS_OBJECT (node)) {
    if (node)
      json_node_unref (node);
    return;
  }
  JsonObject *recording = cr_json_object (json_node_get_object (node), "recording");
  const char *state = cr_json_string (recording, "state");
  if (g_strcmp0 (state, "recording") == 0 || g_strcmp0 (state, "stopping") == 0 ||
      g_strcmp0 (state, "stopped") == 0) {
    /* Past `recording` already only if it went by between two polls. */
    printf ("latency start_to_recording_ms %" G_GINT64_FORMAT "\n",
            (g_get_monotonic_time () - run->phase_since_us) / 1000);
    fflush (stdout);
    run->recording_seen = TRUE;
  } else if (g_strcmp0 (state, "failed") == 0) {
    const char *reason = cr_json_string (recording, "reason");
    g_printerr ("callrec-sim: the recording failed before it started: %s\n",
                reason ? reason : "(no reason)");
    run->recording_seen = TRUE;
  }
  json_node_unref (node);
}

/* Prints the thread; returns the first attachment of a post with one, if any. */
static char *
print_thread_find_file (JsonArray *posts, gboolean print)
{
  char *file_id = NULL;
  for (guint i = 0; i < json_array_get_length (posts); i++) {
    JsonNode *n = json_array_get_element (posts, i);
    if (!JSON_NODE_HOLDS_OBJECT (n))
      continue;
    JsonObject *post = json_node_get_object (n);
    JsonNode *files = json_object_get_member (post, "file_ids");
    const char *file = NULL;
    if (files && JSON_NODE_HOLDS_ARRAY (files) && json_array_get_length (json_node_get_array (files)) > 0)
      file = json_array_get_string_element (json_node_get_array (files), 0);
    const char *message = cr_json_string (post, "message");
    if (print)
      printf ("  %s%s%s%s\n", message ? message : "", file ? "  [attachment " : "",
              file ? file : "", file ? "]" : "");
    if (file && file[0] && !file_id)
      file_id = g_strdup (file);
  }
  return file_id;
}

static gboolean
tick (gpointer user_data)
{
  Run *run = user_data;
  gint64 now = g_get_monotonic_time ();
  double in_phase = (now - run->phase_since_us) / 1e6;
  g_autoptr (GError) error = NULL;

  switch (run->phase) {
  case WAIT_CONNECTED:
    if (sim_ws_call_count_connected (run->call) < run->voices) {
      if (in_phase > 30)
        fail (run, "participants did not all connect to the SFU within 30 s", NULL);
      return run->phase != DONE;
    }
    g_message ("sim: everyone is in the call; the host starts recording");
    /* The clock starts before the request: its round trip is part of what the host waits. */
    if (!host_post (run, "start", &error)) {
      fail (run, "recording start", error);
      return G_SOURCE_REMOVE;
    }
    printf ("recording started\n");
    fflush (stdout);
    run->phase = RECORDING;
    run->phase_since_us = now;
    poll_recording_state (run);
    return G_SOURCE_CONTINUE;
  case RECORDING:
    if (!run->recording_seen)
      poll_recording_state (run);
    if (in_phase < run->seconds)
      return G_SOURCE_CONTINUE;
    g_message ("sim: %.0f s recorded; the host stops the recording", run->seconds);
    now = g_get_monotonic_time ();
    if (!host_post (run, "stop", &error)) {
      fail (run, "recording stop", error);
      return G_SOURCE_REMOVE;
    }
    run->phase = WAIT_POST;
    run->phase_since_us = now;
    return G_SOURCE_CONTINUE;
  case WAIT_POST: {
    g_autofree char *path = g_strdup_printf ("/channels/%s/posts?root_id=%s",
                                             sim_ws_call_get_channel (run->call),
                                             sim_ws_call_get_thread_id (run->call));
    JsonNode *node = NULL;
    if (sim_ws_call_host_rest (run->call, "GET", path, NULL, &node, NULL) && node &&
        JSON_NODE_HOLDS_ARRAY (node)) {
      g_autofree char *file = print_thread_find_file (json_node_get_array (node), FALSE);
      if (file) {
        printf ("latency stop_to_post_ms %" G_GINT64_FORMAT "\n",
                (g_get_monotonic_time () - run->phase_since_us) / 1000);
        printf ("thread:\n");
        g_free (print_thread_find_file (json_node_get_array (node), TRUE));
        printf ("recording file %s\n", file);
        run->phase = DONE;
        run->exit_code = 0;
        g_main_loop_quit (run->loop);
      }
    }
    if (node)
      json_node_unref (node);
    if (run->phase != DONE && in_phase > POST_TIMEOUT_S)
      fail (run, "the recording's post did not appear within 120 s", NULL);
    return run->phase != DONE;
  }
  case DONE:
  default:
    return G_SOURCE_REMOVE;
  }
}

static gboolean
on_signal (gpointer user_data)
{
  Run *run = user_data;
  run->exit_code = 1;
  g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

int
sim_run_host_recording (const SimWsConfig *config, double seconds)
{
  g_autoptr (GError) error = NULL;
  Run run = { .loop = g_main_loop_new (NULL, FALSE), .seconds = seconds, .exit_code = 1,
              .voices = config->voices, .phase = WAIT_CONNECTED,
              .phase_since_us = g_get_monotonic_time () };
  run.call = sim_ws_call_new (config, &error);
  if (!run.call) {
    g_printerr ("callrec-sim: %s\n", error->message);
    return 2;
  }
  g_timeout_add (TICK_MS, tick, &run);
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &run);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &run);
  g_main_loop_run (run.loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  sim_ws_call_free (run.call);
  g_main_loop_unref (run.loop);
  return run.exit_code;
}
