/* SPDX-License-Identifier: MIT */
/* Recording jobs: the state machine of srv-recording.h, its timers (start timeout,
 * duration warning and limit), the bot's admission and upload rights, and the post that
 * ends every job — the file, a partial file, or the failure with its reason. */
#include "srv-recording-private.h"
#include "srv-calls-private.h"
#include "srv-ws.h"

#include <glib/gstdio.h>
#include <string.h>

static const char *const state_names[] = {
  [JOB_INITIALIZING] = "initializing", [JOB_RECORDING] = "recording", [JOB_STOPPING] = "stopping",
  [JOB_STOPPED] = "stopped",           [JOB_FAILED] = "failed",
};

/* The stopping recorder must have finished its file by then. */
#define STOP_DEADLINE_S 30

static void
clear_source (guint *id)
{
  if (*id) {
    g_source_remove (*id);
    *id = 0;
  }
}

static void
job_free (SrvJob *job)
{
  clear_source (&job->start_timeout_id);
  clear_source (&job->warning_id);
  clear_source (&job->limit_id);
  clear_source (&job->stop_deadline_id);
  clear_source (&job->lease_id);
  clear_source (&job->grace_id);
  clear_source (&job->liveness_id);
  g_free (job->worker_user_id);
  if (job->wait_cancel)
    g_cancellable_cancel (job->wait_cancel);
  g_clear_object (&job->wait_cancel);
  g_clear_object (&job->proc);
  if (job->token) {
    memset (job->token, 0, strlen (job->token));
    g_free (job->token);
  }
  g_free (job->out_path);
  srv_recording_row_free (job->row);
  g_free (job);
}

static SrvRecordings *
recs (SrvServer *server)
{
  return server->recordings;
}

gboolean
srv_recording_init (SrvServer *server, GError **error)
{
  SrvRecordings *r = g_new0 (SrvRecordings, 1);

  r->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)job_free);
  r->by_call = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&r->pending);
  r->dir = g_build_filename (server->config->data_dir, "recordings", NULL);
  server->recordings = r;
  server->admit_bot = srv_recording_admit_bot;
  server->authorize_upload = srv_recording_authorize_upload;
  if (g_mkdir_with_parents (r->dir, 0700) != 0) {
    int saved = errno;

    g_set_error (error, SRV_SERVER_ERROR, 0, "cannot create %s: %s", r->dir, g_strerror (saved));
    return FALSE;
  }
  return srv_recording_recover (server, error);
}

void
srv_recording_shutdown (SrvServer *server)
{
  SrvRecordings *r = recs (server);
  GHashTableIter iter;
  gpointer value;

  if (r == NULL)
    return;
  /* A recorder that is recording outlives its server: the call ends with the server (its
   * SFU is in here), so the recorder finishes its file, keeps retrying its upload, and
   * delivers it once the server is back (srv_recording_recover): a restart costs the rest
   * of the call, not the recording. Recorders that had not started are killed; the next
   * start posts their failure. */
  g_hash_table_iter_init (&iter, r->jobs);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SrvJob *job = value;
    if (job->proc && job->started && (job->state == JOB_RECORDING || job->state == JOB_STOPPING))
      g_message ("recording %s: its recorder carries on; it uploads the file when the server "
                 "is back", job->row->id);
    else
      srv_job_kill (job, SIGKILL);
  }
  g_queue_clear (&r->pending);
  g_hash_table_unref (r->by_call);
  g_hash_table_unref (r->jobs);
  g_free (r->dir);
  g_free (r);
  server->recordings = NULL;
}

/* ---- lookups and JSON ---- */

const char *
srv_job_get_id (SrvJob *job)
{
  return job->row->id;
}

SrvJob *
srv_recording_job_for_user (SrvServer *server, const SrvUser *user)
{
  GHashTableIter iter;
  gpointer value;

  if (recs (server) == NULL || user == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, recs (server)->jobs);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SrvJob *job = value;

    if (g_str_equal (job->row->bot_user_id, user->id))
      return job;
  }
  return NULL;
}

gboolean
srv_recording_is_job_user (SrvServer *server, const SrvUser *user)
{
  /* Bot users of finished jobs are deactivated and cannot authenticate at all; the name
   * prefix covers any left behind by a crash between the post and the deactivation. */
  return srv_recording_job_for_user (server, user) != NULL
         || (user->role == SRV_ROLE_GUEST && g_str_has_prefix (user->username, JOB_USER_PREFIX));
}

static guint
queue_position (SrvJob *job)
{
  int i = g_queue_index (&recs (job->server)->pending, job);

  return i < 0 ? 0 : (guint)i + 1;
}

JsonNode *
srv_job_to_json (SrvJob *job)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_string_member (o, "id", job->row->id);
  json_object_set_string_member (o, "state", state_names[job->state]);
  if (job->row->reason)
    json_object_set_string_member (o, "reason", job->row->reason);
  else
    json_object_set_null_member (o, "reason");
  json_object_set_int_member (o, "started_at", job->row->started_at);
  json_object_set_int_member (o, "ends_at", job->row->ends_at);
  json_object_set_int_member (o, "queue_position", queue_position (job));
  json_node_take_object (node, o);
  return node;
}

JsonNode *
srv_recording_call_json (SrvServer *server, const char *call_id)
{
  SrvJob *job = recs (server) ? g_hash_table_lookup (recs (server)->by_call, call_id) : NULL;

  if (job == NULL)
    return json_node_new (JSON_NODE_NULL);
  return srv_job_to_json (job);
}

/* ---- state ---- */

static gboolean
is_over (JobState state)
{
  return state == JOB_STOPPED || state == JOB_FAILED;
}

static void
broadcast (SrvJob *job, const char *type, JsonNode *data)
{
  SrvCall *call = srv_calls_find (job->server, job->row->call_id);

  if (call)
    srv_call_broadcast (call, type, data, NULL);
}

static void
persist (SrvJob *job)
{
  g_autoptr (GError) error = NULL;

  if (!srv_store_recording_update (job->server->store, job->row, &error))
    g_warning ("recording %s: %s", job->row->id, error->message);
}

static void
set_state (SrvJob *job, JobState state, const char *reason)
{
  g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  gint64 now = g_get_real_time () / 1000;

  job->state = state;
  g_free (job->row->state);
  job->row->state = g_strdup (state_names[state]);
  if (reason) {
    g_free (job->row->reason);
    job->row->reason = g_strdup (reason);
  }
  if (is_over (state)) {
    job->row->stopped_at = now;
    clear_source (&job->start_timeout_id);
    clear_source (&job->warning_id);
    clear_source (&job->limit_id);
    if (state == JOB_STOPPED)
      clear_source (&job->stop_deadline_id);
    g_queue_remove (&recs (job->server)->pending, job);
  }
  persist (job);
  g_message ("recording %s: %s%s%s", job->row->id, state_names[state], reason ? ": " : "",
             reason ? reason : "");
  json_object_set_string_member (o, "call_id", job->row->call_id);
  json_object_set_member (o, "recording", srv_job_to_json (job));
  json_node_take_object (data, o);
  broadcast (job, "recording_state", data);
}

void
srv_recording_queue_changed (SrvServer *server)
{
  for (GList *l = recs (server)->pending.head; l; l = l->next) {
    SrvJob *job = l->data;

    set_state (job, job->state, NULL);
  }
}

static gboolean
on_start_timeout (gpointer user_data)
{
  SrvJob *job = user_data;
  g_autofree char *reason = g_strdup_printf ("the recorder did not start recording within %u s",
                                             job->server->config->recording_start_timeout_s);

  job->start_timeout_id = 0;
  srv_job_fail (job, reason);
  return G_SOURCE_REMOVE;
}

void
srv_job_arm_start_timeout (SrvJob *job)
{
  clear_source (&job->start_timeout_id);
  job->start_timeout_id = g_timeout_add_seconds (job->server->config->recording_start_timeout_s,
                                                 on_start_timeout, job);
}

void
srv_job_clear_start_timeout (SrvJob *job)
{
  clear_source (&job->start_timeout_id);
}

/* Starts queued jobs while slots are free; with workers, they claim them. */
void
srv_recording_dispatch (SrvServer *server)
{
  SrvRecordings *r = recs (server);
  gboolean moved = FALSE;

  if (srv_recording_uses_workers (server))
    return;
  while (r->running < server->config->recording_max_concurrent && !g_queue_is_empty (&r->pending)) {
    SrvJob *job = g_queue_pop_head (&r->pending);
    g_autoptr (GError) error = NULL;

    moved = TRUE;
    if (!srv_job_spawn (job, job->token, &error)) {
      g_autofree char *reason
          = g_strdup_printf ("could not start the recorder: %s", error->message);

      srv_job_fail (job, reason);
      continue;
    }
    memset (job->token, 0, strlen (job->token));
    g_clear_pointer (&job->token, g_free);
    srv_job_arm_start_timeout (job);
  }
  if (moved)
    srv_recording_queue_changed (server);
}

void
srv_job_fail (SrvJob *job, const char *reason)
{
  if (is_over (job->state))
    return;
  set_state (job, JOB_FAILED, reason);
  /* The recorder finishes its file on SIGTERM; its exit posts what there is. */
  if (job->running)
    srv_job_kill (job, SIGTERM);
  else
    srv_job_finish (job);
}

static void
send_job_stop (SrvJob *job, const char *reason)
{
  SrvCall *call = srv_calls_find (job->server, job->row->call_id);
  g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  gboolean sent = FALSE;

  json_object_set_string_member (o, "job_id", job->row->id);
  json_object_set_string_member (o, "reason", reason);
  json_node_take_object (data, o);
  for (guint i = 0; call && i < call->participants->len; i++) {
    SrvParticipant *p = call->participants->pdata[i];

    if (p->bot && p->ws && g_str_equal (p->user_id, job->row->bot_user_id)) {
      srv_ws_send (p->ws, "job_stop", data);
      sent = TRUE;
    }
  }
  /* A recorder that is not in the call hears it as a signal. */
  if (!sent)
    srv_job_kill (job, SIGTERM);
}

static gboolean
on_stop_deadline (gpointer user_data)
{
  SrvJob *job = user_data;

  job->stop_deadline_id = 0;
  if (job->state == JOB_STOPPING) {
    srv_job_fail (job, "the recorder did not finish its file in time");
    srv_job_kill (job, SIGKILL);
  }
  return G_SOURCE_REMOVE;
}

static void
stop_job (SrvJob *job, const char *reason)
{
  if (job->state == JOB_INITIALIZING) {
    g_autofree char *why = g_strdup_printf ("stopped before the recording started (%s)", reason);

    srv_job_fail (job, why);
    return;
  }
  if (job->state != JOB_RECORDING)
    return;
  set_state (job, JOB_STOPPING, reason);
  send_job_stop (job, reason);
  job->stop_deadline_id = g_timeout_add_seconds (STOP_DEADLINE_S, on_stop_deadline, job);
}

/* ---- start and stop ---- */

/* Frees the jobs that are over: posted, no process, and their call gone. Only called
 * from entry points, never from inside a job's own callbacks. */
static void
sweep (SrvRecordings *r)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, r->jobs);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    SrvJob *job = value;

    if (job->posted && !job->running && job->call_gone)
      g_hash_table_iter_remove (&iter);
  }
}

SrvJob *
srv_recording_start (SrvServer *server, SrvCall *call, const SrvUser *user, GError **error)
{
  SrvRecordings *r = recs (server);
  SrvJob *current = g_hash_table_lookup (r->by_call, call->id);
  g_autofree char *id = srv_store_new_id ();
  g_autofree char *username = g_strconcat (JOB_USER_PREFIX, id, NULL);
  g_autoptr (SrvUser) bot = NULL;
  g_autoptr (SrvToken) token = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *label = g_strdup_printf ("recording job %s", id);
  g_autofree char *file = g_strconcat (id, ".mp4", NULL);
  char *secret = NULL;
  SrvJob *job;

  sweep (r);
  if (current && !is_over (current->state)) {
    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_RECORDING_RUNNING,
                 "a recording of this call is %s: stop it first", state_names[current->state]);
    return NULL;
  }
  bot = srv_store_user_create (server->store, username, "Call recorder", SRV_ROLE_GUEST, &local);
  if (bot)
    token = srv_auth_token_create (server->store, bot->id, label, &secret, &local);
  job = g_new0 (SrvJob, 1);
  job->server = server;
  job->token = secret;
  job->out_path = g_build_filename (r->dir, file, NULL);
  job->state = JOB_INITIALIZING;
  job->row = g_new0 (SrvRecordingRow, 1);
  job->row->id = g_strdup (id);
  job->row->call_id = g_strdup (call->id);
  job->row->channel_id = g_strdup (call->channel_id);
  job->row->thread_id = g_strdup (call->thread_id);
  job->row->requested_by = g_strdup (user->id);
  job->row->bot_user_id = g_strdup (bot ? bot->id : "");
  job->row->state = g_strdup (state_names[JOB_INITIALIZING]);
  job->row->created_at = g_get_real_time () / 1000;
  if (token == NULL || !srv_store_recording_insert (server->store, job->row, &local)) {
    g_warning ("recording: %s", local ? local->message : "cannot start");
    g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_INTERNAL,
                         "internal error (see the server log)");
    job_free (job);
    return NULL;
  }
  g_hash_table_insert (r->jobs, job->row->id, job);
  g_hash_table_insert (r->by_call, g_strdup (call->id), job);
  g_message ("recording %s of call %s requested by '%s'", id, call->id, user->username);
  g_queue_push_tail (&r->pending, job);
  set_state (job, JOB_INITIALIZING, NULL);
  srv_recording_dispatch (server);
  return job;
}

SrvJob *
srv_recording_stop (SrvServer *server, SrvCall *call, const char *reason, GError **error)
{
  SrvJob *job = g_hash_table_lookup (recs (server)->by_call, call->id);

  if (job == NULL || (job->state != JOB_INITIALIZING && job->state != JOB_RECORDING)) {
    g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_NO_RECORDING,
                         "this call is not being recorded");
    return NULL;
  }
  stop_job (job, reason);
  return job;
}

void
srv_recording_call_ended (SrvServer *server, SrvCall *call)
{
  SrvRecordings *r = recs (server);
  SrvJob *job = r ? g_hash_table_lookup (r->by_call, call->id) : NULL;

  if (r)
    sweep (r);
  if (job == NULL)
    return;
  stop_job (job, "the call ended");
  g_hash_table_remove (r->by_call, call->id);
  job->call_gone = TRUE;
}

/* ---- the duration limit ---- */

static gboolean
on_warning (gpointer user_data)
{
  SrvJob *job = user_data;
  g_autoptr (JsonNode) data = json_node_new (JSON_NODE_OBJECT);
  JsonObject *o = json_object_new ();
  gint64 now = g_get_real_time () / 1000;

  job->warning_id = 0;
  json_object_set_string_member (o, "call_id", job->row->call_id);
  json_object_set_string_member (o, "recording_id", job->row->id);
  json_object_set_int_member (o, "remaining_s", MAX (0, (job->row->ends_at - now + 500) / 1000));
  json_object_set_int_member (o, "ends_at", job->row->ends_at);
  json_node_take_object (data, o);
  g_message ("recording %s: ends in %" G_GINT64_FORMAT " s", job->row->id,
             (job->row->ends_at - now) / 1000);
  broadcast (job, "recording_warning", data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_limit (gpointer user_data)
{
  SrvJob *job = user_data;

  job->limit_id = 0;
  stop_job (job, "duration limit reached");
  return G_SOURCE_REMOVE;
}

static void
start_recording (SrvJob *job)
{
  const SrvConfig *config = job->server->config;
  guint limit = srv_config_recording_limit_s (config);
  guint warning = srv_config_recording_warning_s (config);

  clear_source (&job->start_timeout_id);
  job->row->started_at = g_get_real_time () / 1000;
  job->row->ends_at = job->row->started_at + (gint64)limit * 1000;
  if (warning > 0 && warning < limit)
    job->warning_id = g_timeout_add ((limit - warning) * 1000, on_warning, job);
  job->limit_id = g_timeout_add (limit * 1000, on_limit, job);
  set_state (job, JOB_RECORDING, NULL);
}

/* ---- reports from the recorder ---- */

gboolean
srv_job_report (SrvJob *job, const char *state, const char *reason, const char *file_id,
                gint64 duration_ms, char **post_id, GError **error)
{
  if (g_str_equal (state, "started")) {
    job->started = TRUE;
    if (job->state == JOB_INITIALIZING)
      start_recording (job);
  } else if (g_str_equal (state, "stopped")) {
    job->file_finished = TRUE;
    job->duration_ms = duration_ms;
    if (!job->started)
      srv_job_fail (job, reason ? reason : "the recorder stopped before any media arrived");
    else if (!is_over (job->state))
      /* A stop the server asked for keeps its reason. */
      set_state (job, JOB_STOPPED, job->state == JOB_STOPPING ? NULL : reason);
  } else if (g_str_equal (state, "failed")) {
    srv_job_fail (job, reason ? reason : "the recorder failed");
  } else if (g_str_equal (state, "uploaded")) {
    if (file_id == NULL) {
      g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_FORBIDDEN,
                           "'uploaded' needs the file_id");
      return FALSE;
    }
    if (job->posted) {
      g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_FORBIDDEN,
                           "this job's recording was posted already");
      return FALSE;
    }
    if (duration_ms > 0)
      job->duration_ms = duration_ms;
    /* A supervisor salvaging a dead recorder's file does not know how long it is. */
    if (job->duration_ms == 0 && job->row->started_at)
      job->duration_ms = (job->row->stopped_at ? job->row->stopped_at : g_get_real_time () / 1000)
                         - job->row->started_at;
    if (!is_over (job->state))
      set_state (job, JOB_STOPPED, NULL);
    if (!srv_job_post_file (job, file_id, job->state == JOB_FAILED, error))
      return FALSE;
    if (post_id)
      *post_id = g_strdup (job->row->post_id);
    if (job->recovered)
      srv_job_recovered_done (job);
  }
  return TRUE;
}

/* ---- hooks ---- */

gboolean
srv_recording_admit_bot (SrvServer *server, SrvWsSession *ws, const SrvUser *user,
                         const char *job_id, char **channel_id, GError **error)
{
  SrvJob *job = g_hash_table_lookup (recs (server)->jobs, job_id);

  if (job == NULL || !g_str_equal (job->row->bot_user_id, user->id)) {
    g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_FORBIDDEN,
                         "this token is not for that recording job");
    return FALSE;
  }
  if (job->state != JOB_INITIALIZING && job->state != JOB_RECORDING) {
    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_FORBIDDEN,
                 "recording job %s is %s: no bot is admitted", job_id, state_names[job->state]);
    return FALSE;
  }
  if (srv_calls_find (server, job->row->call_id) == NULL) {
    g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_NO_CALL, "the job's call is over");
    return FALSE;
  }
  *channel_id = g_strdup (job->row->channel_id);
  return TRUE;
}

gboolean
srv_recording_authorize_upload (SrvServer *server, const SrvUser *user, const SrvChannel *channel)
{
  SrvJob *job = srv_recording_job_for_user (server, user);

  return job && !job->posted && g_str_equal (job->row->channel_id, channel->id);
}
