/* SPDX-License-Identifier: MIT */
/* The local runner of recording jobs: spawns callrec-recorder with the job token in its
 * environment (never on the command line), watches it as its supervisor, and makes the
 * job's post in the call thread. A recorder that dies leaves its fragmented MP4 valid up
 * to the last fragment: the supervisor stores what the file holds and posts it as a
 * partial recording. */
#include "srv-pidfile.h"
#include "srv-recording-private.h"

#include <glib/gstdio.h>
#include <string.h>

#define RECORDER_SLACK_S 10

static char *
recorder_path (const SrvConfig *config)
{
  g_autofree char *built = NULL;

  if (config->recording_recorder_path && config->recording_recorder_path[0])
    return g_strdup (config->recording_recorder_path);
#ifdef CALLREC_BUILD_ROOT
  built = g_build_filename (CALLREC_BUILD_ROOT, "recorder", "callrec-recorder", NULL);
  if (g_file_test (built, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&built);
#endif
  return g_strdup ("callrec-recorder");
}

/* The URL the recorder reaches this server at: its listen address, with a wildcard
 * replaced by loopback. */
char *
srv_recording_own_url (SrvServer *server, char **ice_address)
{
  g_autofree char *host = NULL;
  guint port = 0;

  srv_config_parse_listen (server->config->listen, &host, &port, NULL);
  if (host == NULL || g_str_equal (host, "0.0.0.0") || g_str_equal (host, "::")
      || g_str_equal (host, "")) {
    g_free (host);
    host = g_strdup ("127.0.0.1");
  }
  /* libnice finds nothing to gather from on a loopback-only host: name the address. */
  *ice_address = g_str_has_prefix (host, "127.") ? g_strdup (host) : NULL;
  if (strchr (host, ':'))
    return g_strdup_printf ("http://[%s]:%u", host, server->port);
  return g_strdup_printf ("http://%s:%u", host, server->port);
}

guint
srv_recording_recorder_limit_s (SrvServer *server)
{
  return srv_config_recording_limit_s (server->config) + RECORDER_SLACK_S;
}

guint
srv_recording_recorder_warning_s (SrvServer *server)
{
  return srv_config_recording_warning_s (server->config) + RECORDER_SLACK_S;
}

static void
on_recorder_exit (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GSubprocess *proc = G_SUBPROCESS (source);
  g_autoptr (GError) error = NULL;
  SrvJob *job = user_data;
  SrvServer *server;
  g_autofree char *how = NULL;

  if (!g_subprocess_wait_finish (proc, result, &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the server is shutting down: @job is gone */
  server = job->server;
  job->running = FALSE;
  server->recordings->running--;
  if (g_subprocess_get_if_signaled (proc))
    how = g_strdup_printf ("killed by signal %d", g_subprocess_get_term_sig (proc));
  else
    how = g_strdup_printf ("exit status %d", g_subprocess_get_exit_status (proc));
  g_message ("recording %s: recorder exited (%s)", job->row->id, how);
  if (job->state != JOB_STOPPED && job->state != JOB_FAILED) {
    g_autofree char *reason = g_strdup_printf ("the recorder exited unexpectedly (%s)", how);

    srv_job_fail (job, reason);
  }
  srv_job_finish (job);
  srv_recording_dispatch (server);
}

/* Next to the recorder's output: a restarted server reads it (on_liveness_check). */
static char *
recorder_pidfile (const SrvJob *job)
{
  return g_strconcat (job->out_path, ".pid", NULL);
}

gboolean
srv_job_spawn (SrvJob *job, const char *token, GError **error)
{
  SrvServer *server = job->server;
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autofree char *path = recorder_path (server->config);
  g_autofree char *ice = NULL;
  g_autofree char *url = srv_recording_own_url (server, &ice);
  /* The recorder's own limit is a backstop for a server it cannot reach: a little later
   * than the server's, which stops it first when all is well. */
  g_autofree char *limit = g_strdup_printf ("%u", srv_recording_recorder_limit_s (server));
  g_autofree char *warning = g_strdup_printf ("%u", srv_recording_recorder_warning_s (server));
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, (char *)"record");
  g_ptr_array_add (argv, (char *)"--signaling");
  g_ptr_array_add (argv, (char *)"ws");
  g_ptr_array_add (argv, (char *)"--server");
  g_ptr_array_add (argv, url);
  g_ptr_array_add (argv, (char *)"--channel");
  g_ptr_array_add (argv, job->row->channel_id);
  g_ptr_array_add (argv, (char *)"--job");
  g_ptr_array_add (argv, job->row->id);
  g_ptr_array_add (argv, (char *)"--out");
  g_ptr_array_add (argv, job->out_path);
  g_ptr_array_add (argv, (char *)"--max-duration");
  g_ptr_array_add (argv, limit);
  g_ptr_array_add (argv, (char *)"--warning-before");
  g_ptr_array_add (argv, warning);
  if (ice) {
    g_ptr_array_add (argv, (char *)"--ice-address");
    g_ptr_array_add (argv, ice);
  }
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "CALLREC_TOKEN", token, TRUE);
  job->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, error);
  if (job->proc == NULL)
    return FALSE;
  job->running = TRUE;
  server->recordings->running++;
  job->wait_cancel = g_cancellable_new ();
  g_subprocess_wait_async (job->proc, job->wait_cancel, on_recorder_exit, job);
  g_message ("recording %s: recorder started (pid %s)", job->row->id,
             g_subprocess_get_identifier (job->proc));
  {
    /* For a restarted server to tell whether this recorder outlived the last process. */
    g_autofree char *pidfile = recorder_pidfile (job);
    GPid pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (job->proc), NULL, 10);
    g_autoptr (GError) local = NULL;

    if (!srv_pidfile_write (pidfile, pid, &local))
      g_warning ("recording %s: no pid file: %s", job->row->id, local->message);
  }
  return TRUE;
}

void
srv_job_kill (SrvJob *job, int signum)
{
  if (job->proc && job->running)
    g_subprocess_send_signal (job->proc, signum);
}

/* ---- posts ---- */

static char *
format_duration (gint64 ms)
{
  gint64 s = MAX (0, (ms + 500) / 1000);

  if (s >= 3600)
    return g_strdup_printf ("%" G_GINT64_FORMAT ":%02d:%02d", s / 3600, (int)(s / 60 % 60),
                            (int)(s % 60));
  return g_strdup_printf ("%d:%02d", (int)(s / 60), (int)(s % 60));
}

static char *
title_of (SrvJob *job)
{
  g_autoptr (SrvChannel) ch
      = srv_store_channel_get (job->server->store, job->row->channel_id, NULL);
  g_autoptr (GDateTime) at = g_date_time_new_from_unix_utc (
      (job->row->started_at ? job->row->started_at : job->row->created_at) / 1000);
  g_autofree char *when = g_date_time_format (at, "%Y-%m-%d %H:%M UTC");

  return g_strdup_printf ("Call in %s, %s", ch ? ch->display_name : "this channel", when);
}

static gboolean
make_post (SrvJob *job, const char *message, JsonObject *props, const char *file_id, GError **error)
{
  SrvServer *server = job->server;
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *props_text = NULL;
  g_autoptr (SrvPost) post = NULL;
  g_autoptr (GError) local = NULL;
  const char *files[] = { file_id, NULL };

  json_node_set_object (node, props);
  props_text = json_to_string (node, FALSE);
  post = srv_store_post_create (server->store, job->row->channel_id, job->row->thread_id,
                                job->row->bot_user_id, message, props_text, file_id ? files : NULL,
                                &local);
  if (post == NULL) {
    g_warning ("recording %s: cannot post: %s", job->row->id, local->message);
    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_FORBIDDEN, "cannot post the recording: %s",
                 local->message);
    return FALSE;
  }
  job->posted = TRUE;
  g_free (job->row->post_id);
  job->row->post_id = g_strdup (post->id);
  {
    g_autoptr (GError) e = NULL;

    if (!srv_store_recording_update (server->store, job->row, &e))
      g_warning ("recording %s: %s", job->row->id, e->message);
  }
  g_message ("recording %s: posted %s", job->row->id, post->id);
  srv_calls_post_created (server, post);
  return TRUE;
}

gboolean
srv_job_post_file (SrvJob *job, const char *file_id, gboolean partial, GError **error)
{
  g_autoptr (SrvFile) file = srv_store_file_get (job->server->store, file_id, NULL);
  g_autofree char *title = title_of (job);
  g_autofree char *duration = format_duration (job->duration_ms);
  g_autofree char *size = NULL;
  g_autofree char *message = NULL;
  JsonObject *props = json_object_new ();
  gboolean ok;

  if (file == NULL || !g_str_equal (file->user_id, job->row->bot_user_id)
      || !g_str_equal (file->channel_id, job->row->channel_id) || file->post_id != NULL) {
    json_object_unref (props);
    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_FORBIDDEN,
                 "file %s is not this job's unposted upload", file_id);
    return FALSE;
  }
  size = g_format_size (file->size);
  message = g_strdup_printf ("Here's the call recording%s\n%s · %s · %s",
                             partial ? " (partial: the recorder stopped unexpectedly)" : "", title,
                             duration, size);
  json_object_set_string_member (props, "type", "recording");
  json_object_set_string_member (props, "recording_id", job->row->id);
  json_object_set_string_member (props, "call_id", job->row->call_id);
  json_object_set_string_member (props, "file_id", file_id);
  json_object_set_string_member (props, "title", title);
  json_object_set_int_member (props, "duration_ms", job->duration_ms);
  json_object_set_int_member (props, "size", file->size);
  json_object_set_boolean_member (props, "partial", partial);
  ok = make_post (job, message, props, file_id, error);
  json_object_unref (props);
  return ok;
}

static void
post_failure (SrvJob *job)
{
  const char *reason = job->row->reason ? job->row->reason : "unknown";
  g_autofree char *message = g_strdup_printf ("The call recording failed: %s", reason);
  JsonObject *props = json_object_new ();

  json_object_set_string_member (props, "type", "recording_failed");
  json_object_set_string_member (props, "recording_id", job->row->id);
  json_object_set_string_member (props, "call_id", job->row->call_id);
  json_object_set_string_member (props, "reason", reason);
  make_post (job, message, props, NULL, NULL);
  json_object_unref (props);
}

/* Moves what the recorder left into the file store as the bot's file. Returns: (transfer
 * full) (nullable): the file id, NULL if there is nothing to store. */
static char *
import_file (SrvServer *server, const SrvRecordingRow *row, const char *path)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GFile) gfile = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (gfile, NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SrvFile) file = NULL;
  g_autoptr (GDateTime) at = g_date_time_new_now_utc ();
  g_autofree char *dest = NULL;
  guint8 buf[64 * 1024];
  gint64 size = 0;
  gssize n;

  if (in == NULL)
    return NULL;
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, sizeof buf, NULL, &error)) > 0) {
    g_checksum_update (sum, buf, n);
    size += n;
  }
  if (n < 0 || size == 0) {
    if (error)
      g_warning ("recording %s: cannot read %s: %s", row->id, path, error->message);
    return NULL;
  }
  file = g_new0 (SrvFile, 1);
  file->id = srv_store_new_id ();
  file->channel_id = g_strdup (row->channel_id);
  file->user_id = g_strdup (row->bot_user_id);
  file->name = g_date_time_format (at, "recording-%Y%m%d-%H%M%S.mp4");
  file->content_type = g_strdup ("video/mp4");
  file->sha256 = g_strdup (g_checksum_get_string (sum));
  file->size = size;
  file->created_at = g_get_real_time () / 1000;
  dest = g_build_filename (server->files_dir, file->id, NULL);
  if (g_rename (path, dest) != 0) {
    g_warning ("recording %s: cannot move %s: %s", row->id, path, g_strerror (errno));
    return NULL;
  }
  if (!srv_store_file_insert (server->store, file, &error)) {
    g_warning ("recording %s: %s", row->id, error->message);
    g_rename (dest, path);
    return NULL;
  }
  g_message ("recording %s: stored the %" G_GINT64_FORMAT " bytes the recorder left", row->id,
             size);
  return g_strdup (file->id);
}

static void
retire_bot (SrvServer *server, const char *bot_user_id)
{
  g_autoptr (GError) error = NULL;

  if (bot_user_id[0] && !srv_store_user_deactivate (server->store, bot_user_id, &error))
    g_warning ("recording: cannot retire bot user: %s", error->message);
}

void
srv_job_finish (SrvJob *job)
{
  SrvServer *server = job->server;

  if (job->running)
    return;
  if (!job->posted) {
    g_autofree char *file_id = NULL;

    /* A file the recorder finished is whole; one it left while recording is partial. */
    if (job->started)
      file_id = import_file (server, job->row, job->out_path);
    if (file_id) {
      if (job->duration_ms == 0 && job->row->started_at)
        job->duration_ms = job->row->stopped_at - job->row->started_at;
      srv_job_post_file (job, file_id, !job->file_finished, NULL);
    }
    if (!job->posted)
      post_failure (job);
  }
  g_unlink (job->out_path);
  {
    g_autofree char *pidfile = recorder_pidfile (job);
    g_unlink (pidfile);
  }
  retire_bot (server, job->row->bot_user_id);
}

/* The recorder gives up its upload after 300 s (rec-job.c); a little more for it to report. */
#define RESTART_GRACE_S 330

/* How often a restarted server looks whether a recorder it waits for is still alive. */
#define LIVENESS_CHECK_S 2

static void
stop_waiting (SrvJob *job)
{
  if (job->grace_id) {
    g_source_remove (job->grace_id);
    job->grace_id = 0;
  }
  if (job->liveness_id) {
    g_source_remove (job->liveness_id);
    job->liveness_id = 0;
  }
}

void
srv_job_recovered_done (SrvJob *job)
{
  stop_waiting (job);
  srv_job_finish (job);
}

/* The recorder will not deliver (dead, or out of time): post what the local file holds.
 * Failing the job does that; a job the recorder reported stopped (but never delivered) is
 * over already and only needs finishing. */
static void
give_up_on_recorder (SrvJob *job)
{
  stop_waiting (job);
  if (job->posted)
    return;
  if (job->state == JOB_STOPPED || job->state == JOB_FAILED)
    srv_job_finish (job);
  else
    srv_job_fail (job, "the server stopped during the recording");
}

static gboolean
on_restart_grace (gpointer user_data)
{
  SrvJob *job = user_data;

  job->grace_id = 0;
  g_message ("recording %s: its recorder did not deliver within %d s of the restart; "
             "posting what the file holds", job->row->id, RESTART_GRACE_S);
  give_up_on_recorder (job);
  return G_SOURCE_REMOVE;
}

static gboolean
on_liveness_check (gpointer user_data)
{
  SrvJob *job = user_data;
  g_autofree char *pidfile = recorder_pidfile (job);

  switch (srv_pidfile_check (pidfile)) {
  case SRV_PIDFILE_ALIVE:
    return G_SOURCE_CONTINUE;
  case SRV_PIDFILE_GONE:
    job->liveness_id = 0;
    g_message ("recording %s: its recorder exited without delivering; posting what the file "
               "holds", job->row->id);
    give_up_on_recorder (job);
    return G_SOURCE_REMOVE;
  case SRV_PIDFILE_UNKNOWN:
  default:
    /* No pid file (an older server made the job): only the grace period tells. */
    job->liveness_id = 0;
    return G_SOURCE_REMOVE;
  }
}

gboolean
srv_recording_recover (SrvServer *server, GError **error)
{
  g_autoptr (GPtrArray) rows = srv_store_recording_list_unposted (server->store, error);

  if (rows == NULL)
    return FALSE;
  for (guint i = 0; i < rows->len; i++) {
    SrvRecordingRow *row = rows->pdata[i];
    SrvJob *job = g_new0 (SrvJob, 1);
    g_autofree char *file = g_strconcat (row->id, ".mp4", NULL);

    /* A stand-in job, only to post what the last process's recording left. */
    job->server = server;
    job->row = g_steal_pointer (&rows->pdata[i]);
    job->out_path = g_build_filename (server->recordings->dir, file, NULL);
    job->started = job->row->started_at != 0;
    job->file_finished = g_str_equal (job->row->state, "stopped");
    job->call_gone = TRUE;
    if (job->started && (g_str_equal (job->row->state, "recording")
                         || g_str_equal (job->row->state, "stopping"))) {
      /* Its recorder was left running (srv_recording_shutdown): it finished the file when
       * the server went away and is retrying its upload; its token still works. */
      job->recovered = TRUE;
      job->state = JOB_STOPPING;
      g_free (job->row->state);
      job->row->state = g_strdup ("stopping");
      g_free (job->row->reason);
      job->row->reason = g_strdup ("the server restarted; waiting for the recorder's file");
      g_hash_table_insert (server->recordings->jobs, job->row->id, job);
      job->grace_id = g_timeout_add_seconds (RESTART_GRACE_S, on_restart_grace, job);
      job->liveness_id = g_timeout_add_seconds (LIVENESS_CHECK_S, on_liveness_check, job);
      g_message ("recording %s: was recording when the last process stopped; waiting for its "
                 "recorder's upload", job->row->id);
      continue;
    }
    job->state = job->file_finished ? JOB_STOPPED : JOB_FAILED;
    if (!job->file_finished) {
      g_free (job->row->state);
      job->row->state = g_strdup ("failed");
      g_free (job->row->reason);
      job->row->reason = g_strdup ("the server stopped during the recording");
      if (job->row->stopped_at == 0)
        job->row->stopped_at = g_get_real_time () / 1000;
    }
    job->call_gone = TRUE;
    g_hash_table_insert (server->recordings->jobs, job->row->id, job);
    g_message ("recording %s: left unfinished by the last process", job->row->id);
    srv_job_finish (job);
  }
  return TRUE;
}
