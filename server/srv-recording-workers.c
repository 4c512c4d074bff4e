/* SPDX-License-Identifier: MIT */
/* Worker dispatch (recording.dispatch = workers, docs/recording.md "Recording nodes"):
 * jobs wait in the queue until a recording node's `callrec-recorder worker` claims one
 * (POST /jobs/claim) and gets the job token with a lease that it renews
 * (POST /jobs/{id}/heartbeat) while its recorder runs, then gives back
 * (POST /jobs/{id}/release) once the recorder has exited and what it left is uploaded.
 *
 * A lease that runs out means the node is gone. Before the recording started, the job
 * goes back to the head of the queue for another worker, with a fresh token; after, it
 * fails ("recording node lost"). The file was on the lost node, but its recorder was
 * uploading it while recording: what reached the server is posted as a partial
 * recording (or, if nothing did, the failure). While a worker holds
 * the lease, job->running is TRUE: the job's post waits for the release like it waits
 * for a local recorder's exit. */
#include "srv-auth.h"
#include "srv-recording-private.h"
#include "srv-uploads-private.h"

#include <string.h>

gboolean
srv_recording_uses_workers (SrvServer *server)
{
  return g_str_equal (server->config->recording_dispatch, "workers");
}

gboolean
srv_recording_is_worker_user (const SrvUser *user)
{
  return user && user->role == SRV_ROLE_GUEST && !user->deactivated
         && g_str_has_prefix (user->username, SRV_WORKER_USER_PREFIX);
}

void
srv_job_drop_lease (SrvJob *job)
{
  if (job->lease_id) {
    g_source_remove (job->lease_id);
    job->lease_id = 0;
  }
  g_clear_pointer (&job->worker_user_id, g_free);
  job->running = FALSE;
}

/* Copies the first @length bytes of @from to @to. */
static gboolean
copy_head (const char *from, const char *to, gint64 length, GError **error)
{
  g_autoptr (GFile) src = g_file_new_for_path (from);
  g_autoptr (GFile) dst = g_file_new_for_path (to);
  g_autoptr (GFileInputStream) in = g_file_read (src, NULL, error);
  g_autoptr (GFileOutputStream) out = NULL;
  guint8 buf[64 * 1024];

  if (in == NULL)
    return FALSE;
  out = g_file_replace (dst, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);
  if (out == NULL)
    return FALSE;
  while (length > 0) {
    gssize n = g_input_stream_read (G_INPUT_STREAM (in), buf, MIN ((gint64)sizeof buf, length),
                                    NULL, error);

    if (n < 0)
      return FALSE;
    if (n == 0) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s is shorter than its offset", from);
      return FALSE;
    }
    if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), buf, n, NULL, NULL, error))
      return FALSE;
    length -= n;
  }
  return g_output_stream_close (G_OUTPUT_STREAM (out), NULL, error);
}

/* The lost node's recorder was uploading the file while it recorded: the bytes of its
 * unfinished upload session that the server holds (up to the offset: synced, in order)
 * become the job's local file, which srv_job_finish() stores and posts as partial. */
static void
salvage_upload (SrvJob *job)
{
  SrvServer *server = job->server;
  g_autoptr (GError) error = NULL;
  g_autofree char *id
      = srv_store_upload_latest_open_id (server->store, job->row->bot_user_id, &error);
  g_autoptr (SrvUpload) up = id ? srv_store_upload_get (server->store, id, &error) : NULL;
  g_autofree char *path = NULL;

  if (up == NULL || up->offset <= 0 || !g_str_equal (up->channel_id, job->row->channel_id))
    return;
  path = srv_uploads_path (server, up->id);
  if (!copy_head (path, job->out_path, up->offset, &error)) {
    g_warning ("recording %s: cannot take the uploaded part: %s", job->row->id, error->message);
    return;
  }
  g_message ("recording %s: %" G_GINT64_FORMAT " bytes had been uploaded", job->row->id,
             up->offset);
  /* Whatever the node reported, these bytes are not known to be the whole file. */
  job->file_finished = FALSE;
}

/* Nothing is recorded yet: another node may take the job, first in line. The job's
 * tokens went to the node that had it and die here, so that its recorder, if it still
 * runs, can no longer report for the job; the next claim makes a new one. */
static void
requeue_unstarted (SrvJob *job)
{
  SrvServer *server = job->server;
  g_autoptr (GError) error = NULL;

  srv_job_drop_lease (job);
  srv_job_clear_start_timeout (job);
  if (job->token) {
    memset (job->token, 0, strlen (job->token));
    g_clear_pointer (&job->token, g_free);
  }
  if (job->row->bot_user_id[0] &&
      srv_store_tokens_delete_for_user (server->store, job->row->bot_user_id, &error) < 0)
    g_warning ("recording %s: cannot revoke the job's token: %s", job->row->id, error->message);
  g_queue_push_head (&server->recordings->pending, job);
  srv_recording_queue_changed (server);
}

gboolean
srv_job_hand_back (SrvJob *job)
{
  if (job->state != JOB_INITIALIZING || job->started)
    return FALSE;
  g_message ("recording %s: handed back by its worker before it started; queued again",
             job->row->id);
  requeue_unstarted (job);
  return TRUE;
}

static gboolean
on_lease_lost (gpointer user_data)
{
  SrvJob *job = user_data;

  job->lease_id = 0;
  g_message ("recording %s: the worker's lease ran out", job->row->id);
  if (job->state == JOB_INITIALIZING && !job->started) {
    requeue_unstarted (job);
    return G_SOURCE_REMOVE;
  }
  srv_job_drop_lease (job);
  if (job->started && !job->posted)
    salvage_upload (job);
  if (job->state == JOB_STOPPED || job->state == JOB_FAILED)
    srv_job_finish (job);
  else
    srv_job_fail (job, "recording node lost"); /* not running: posts the failure */
  return G_SOURCE_REMOVE;
}

static void
arm_lease (SrvJob *job)
{
  if (job->lease_id)
    g_source_remove (job->lease_id);
  job->lease_id
      = g_timeout_add_seconds (job->server->config->recording_lease_s, on_lease_lost, job);
}

JsonNode *
srv_recording_claim (SrvServer *server, const SrvUser *worker, GError **error)
{
  SrvRecordings *r = server->recordings;
  SrvJob *job;
  g_autofree char *secret = NULL;
  g_autofree char *ice = NULL;
  g_autofree char *url = NULL;
  JsonObject *o;
  JsonNode *node;

  if (!srv_recording_uses_workers (server) || g_queue_is_empty (&r->pending))
    return NULL;
  job = g_queue_peek_head (&r->pending);
  if (job->token) {
    secret = g_steal_pointer (&job->token);
  } else {
    g_autofree char *label = g_strdup_printf ("recording job %s (re-dispatched)", job->row->id);
    g_autoptr (SrvToken) token
        = srv_auth_token_create (server->store, job->row->bot_user_id, label, &secret, error);

    if (token == NULL)
      return NULL;
  }
  g_queue_pop_head (&r->pending);
  job->worker_user_id = g_strdup (worker->id);
  job->running = TRUE;
  arm_lease (job);
  srv_job_arm_start_timeout (job);
  g_message ("recording %s: claimed by worker '%s'", job->row->id, worker->username);

  url = srv_recording_own_url (server, &ice);
  o = json_object_new ();
  json_object_set_string_member (o, "id", job->row->id);
  json_object_set_string_member (o, "call_id", job->row->call_id);
  json_object_set_string_member (o, "channel_id", job->row->channel_id);
  json_object_set_string_member (o, "server_url", url);
  json_object_set_string_member (o, "token", secret);
  json_object_set_int_member (o, "max_duration_s", srv_recording_recorder_limit_s (server));
  json_object_set_int_member (o, "warning_before_s", srv_recording_recorder_warning_s (server));
  json_object_set_int_member (o, "lease_s", server->config->recording_lease_s);
  node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (node, o);
  memset (secret, 0, strlen (secret));
  srv_recording_queue_changed (server);
  return node;
}

SrvJob *
srv_recording_leased_job (SrvServer *server, const SrvUser *worker, const char *id, GError **error)
{
  SrvJob *job = server->recordings ? g_hash_table_lookup (server->recordings->jobs, id) : NULL;

  if (job == NULL || job->worker_user_id == NULL
      || !g_str_equal (job->worker_user_id, worker->id)) {
    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_FORBIDDEN,
                 "this worker holds no lease on job %s (it ran out, or was never claimed)", id);
    return NULL;
  }
  return job;
}

void
srv_job_heartbeat (SrvJob *job)
{
  arm_lease (job);
}

void
srv_job_release (SrvJob *job)
{
  g_message ("recording %s: released by its worker", job->row->id);
  srv_job_drop_lease (job);
  if (job->state != JOB_STOPPED && job->state != JOB_FAILED)
    srv_job_fail (job, "the recorder exited unexpectedly"); /* posts, not running */
  else
    srv_job_finish (job);
}
