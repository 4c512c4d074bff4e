/* SPDX-License-Identifier: MIT */
#include "test-harness.h"

#include <glib/gstdio.h>

typedef struct {
  const TestCallSpec *spec;
  TestCallResult *result;
  RecSession *session;
  SimCall *call;
  GMainLoop *loop;
  gboolean call_started;
  gboolean stopped;
  GQueue to_recorder; /* lines in flight, delivered from an idle so neither side re-enters */
  GQueue to_sim;
  guint pump;
} Harness;

void
test_call_spec_init (TestCallSpec *spec)
{
  memset (spec, 0, sizeof *spec);
  rec_session_config_init (&spec->rec);
  spec->rec.pipeline.width = 1280;
  spec->rec.pipeline.height = 720;
  spec->rec.ice_address = g_strdup ("127.0.0.1");
  spec->sim.voices = 2;
  spec->sim.share = SIM_SHARE_VP8;
  spec->sim.share_width = 1280;
  spec->sim.share_height = 720;
  spec->sim.media.share_kbps = 1500;
  spec->seconds = 8;
}

void
test_call_spec_clear (TestCallSpec *spec)
{
  rec_session_config_clear (&spec->rec);
}

static gboolean
pump (gpointer user_data)
{
  Harness *h = user_data;
  char *line;
  h->pump = 0;
  while ((line = g_queue_pop_head (&h->to_recorder))) {
    if (h->session)
      rec_session_handle_line (h->session, line, strlen (line));
    g_free (line);
  }
  while ((line = g_queue_pop_head (&h->to_sim))) {
    if (h->call)
      sim_call_handle_line (h->call, 0, line, strlen (line));
    g_free (line);
  }
  return G_SOURCE_REMOVE;
}

static void
schedule_pump (Harness *h)
{
  if (!h->pump)
    h->pump = g_idle_add (pump, h);
}

static void
recorder_send (const char *line, gpointer user_data)
{
  Harness *h = user_data;
  g_queue_push_tail (&h->to_sim, g_strdup (line));
  schedule_pump (h);
}

static void
sim_send (guint recorder, const char *line, gpointer user_data)
{
  Harness *h = user_data;
  g_queue_push_tail (&h->to_recorder, g_strdup (line));
  schedule_pump (h);
}

static gboolean
stop_now (gpointer user_data)
{
  Harness *h = user_data;
  if (!h->stopped) {
    h->stopped = TRUE;
    pl_recording_get_stats (rec_session_get_recording (h->session), &h->result->stats);
    sim_call_send_stop (h->call);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
inject (gpointer user_data)
{
  gpointer *data = user_data;
  Harness *h = data[0];
  const TestInjection *inj = data[1];
  if (inj->run) {
    inj->run (h->session);
    return G_SOURCE_REMOVE;
  }
  g_queue_push_tail (&h->to_recorder, g_strdup (inj->line));
  schedule_pump (h);
  return G_SOURCE_REMOVE;
}

static void
on_status (guint recorder, const char *state, const char *reason, double elapsed,
           gpointer user_data)
{
  Harness *h = user_data;
  g_ptr_array_add (h->result->statuses, g_strdup_printf ("%s: %s", state, reason ? reason : ""));
  if (g_strcmp0 (state, "recording") != 0 || h->call_started)
    return;
  h->call_started = TRUE;
  h->result->call_started_at = elapsed;
  g_autoptr (GError) error = NULL;
  if (!sim_call_start (h->call, &error))
    g_error ("sim call did not start: %s", error->message);
  g_timeout_add ((guint) (h->spec->seconds * 1000), stop_now, h);
  for (const TestInjection *inj = h->spec->injections; inj && (inj->line || inj->run); inj++) {
    gpointer *data = g_new (gpointer, 2);
    data[0] = h;
    data[1] = (gpointer) inj;
    g_timeout_add_full (G_PRIORITY_DEFAULT, (guint) (inj->at_s * 1000), inject, data, g_free);
  }
}

static void
on_done (RecSession *session, gboolean ok, const char *reason, gpointer user_data)
{
  Harness *h = user_data;
  h->result->finished = ok;
  h->result->reason = g_strdup (reason);
  /* Deliver the final status now: the loop stops before the idle would run. */
  if (h->pump) {
    g_source_remove (h->pump);
    h->pump = 0;
  }
  pump (h);
  g_main_loop_quit (h->loop);
}

static gboolean
on_watchdog (gpointer user_data)
{
  g_error ("test call did not finish in time");
  return G_SOURCE_REMOVE;
}

void
test_call_run (const TestCallSpec *spec, TestCallResult *result)
{
  memset (result, 0, sizeof *result);
  result->statuses = g_ptr_array_new_with_free_func (g_free);
  result->dir = g_dir_make_tmp ("callrec-test-XXXXXX", NULL);
  g_assert_nonnull (result->dir);
  result->path = g_build_filename (result->dir, "recording.mp4", NULL);

  Harness h = { .spec = spec, .result = result, .loop = g_main_loop_new (NULL, FALSE) };
  g_queue_init (&h.to_recorder);
  g_queue_init (&h.to_sim);
  g_autoptr (GError) error = NULL;
  h.call = sim_call_new (&spec->sim, sim_send, on_status, &h, &error);
  g_assert_no_error (error);
  h.session = rec_session_new (&spec->rec, result->path, recorder_send, on_done, &h, &error);
  g_assert_no_error (error);
  g_assert_true (rec_session_start (h.session, &error));
  guint watchdog = g_timeout_add_seconds ((guint) spec->seconds + 60, on_watchdog, NULL);

  g_main_loop_run (h.loop);

  g_source_remove (watchdog);
  if (h.pump)
    g_source_remove (h.pump);
  sim_call_free (h.call);
  h.call = NULL;
  rec_session_free (h.session);
  h.session = NULL;
  g_queue_clear_full (&h.to_recorder, g_free);
  g_queue_clear_full (&h.to_sim, g_free);
  g_main_loop_unref (h.loop);
}

void
test_call_result_clear (TestCallResult *result)
{
  if (result->path && !g_getenv ("CALLREC_KEEP_TEST_FILES"))
    g_unlink (result->path);
  if (result->dir && !g_getenv ("CALLREC_KEEP_TEST_FILES"))
    g_rmdir (result->dir);
  else if (result->path)
    g_test_message ("kept %s", result->path);
  g_free (result->dir);
  g_free (result->path);
  g_free (result->reason);
  pl_stats_clear (&result->stats);
  g_ptr_array_unref (result->statuses);
}

gboolean
test_call_result_has_status (const TestCallResult *result, const char *prefix)
{
  for (guint i = 0; i < result->statuses->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (result->statuses, i), prefix))
      return TRUE;
  return FALSE;
}
