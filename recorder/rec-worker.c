/* SPDX-License-Identifier: MIT */
/* callrec-recorder worker: a recording node (docs/recording.md, "Recording nodes").
 *
 *   callrec-recorder worker --server URL [--max-jobs N] [--token-file F] [--out-dir DIR]
 *                           [--ice-address ADDR] [--recorder PATH] [--poll-interval S]
 *
 * The worker token (a guest user named worker-…) comes from $CALLREC_TOKEN or the first
 * line of --token-file, never the command line. While it has a free slot the worker
 * claims the server's next queued job (POST /jobs/claim) and runs it as a child
 * `callrec-recorder record --signaling ws … --job ID` with the job token in the child's
 * environment; it renews the job's lease (POST /jobs/{id}/heartbeat) until the child has
 * exited and what it left is taken care of, then gives the job back (POST
 * /jobs/{id}/release).
 *
 * A child that dies after media started leaves a fragmented MP4 valid up to its last
 * fragment: the worker, its supervisor, reports the job failed with the exit status,
 * uploads what the file holds with the job token (rec-upload.c) and reports it uploaded,
 * so the server posts it as a partial recording, as it does for its own recorders. A
 * child that dies before is only released: the server fails the job.
 *
 * The children die with the worker (PR_SET_PDEATHSIG): a lost node loses its jobs, and the
 * server re-dispatches those not yet started. An unreachable server is retried with
 * backoff. SIGTERM/SIGINT: no more claims; jobs not started yet are handed back to the
 * server for another node (POST /jobs/{id}/hand-back), the others' children stop
 * gracefully (they finish and upload their files); then the worker exits; a second signal
 * exits at once.
 *
 * Exit status: 0 after a signal, 2 bad usage or a token the server refuses. */
#include "rec-worker.h"
#include "rec-upload-reply.h"
#include "rec-upload.h"
#include "rec-worker-claim.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000
#define REPORT_ATTEMPTS 5

typedef struct _Worker Worker;

typedef struct {
  Worker *worker;
  char *id;
  char *channel_id;
  char *token; /* the job token: a secret, never logged */
  char *out_path;
  guint lease_s;
  GSubprocess *proc;
  gboolean exited;
  char *exit_how;      /* "exit status N" / "killed by signal N" */
  gboolean lease_lost; /* the server no longer lets this worker hold the job */
  gboolean signalled;  /* the child was told to stop */
  gint64 started_at;   /* the server's started_at: media flowed */
  guint heartbeat_id;
  RecUpload *salvage;
  GQueue reports; /* char*: status bodies to send with the job token, in order */
  gboolean reporting;
  guint report_attempts;
  gboolean release_pending; /* release once the reports are out */
  gboolean releasing;
  guint release_attempts;
  guint inflight;   /* requests about this job awaiting their reply */
  gboolean removed; /* done: freed once no reply is awaited */
} Job;

struct _Worker {
  char *server;
  char *token; /* the worker token: a secret, never logged */
  guint max_jobs;
  char *out_dir;
  char *recorder;
  char *ice_address;
  guint poll_ms;
  SoupSession *http;
  GPtrArray *jobs; /* Job* */
  guint claim_id;
  gboolean claiming;
  guint backoff_ms;
  gboolean stopping;
  GMainLoop *loop;
  int exit_code;
};

static void schedule_claim (Worker *w, guint delay_ms);
static void job_send_heartbeat (Job *job);
static void job_maybe_release (Job *job);

static void
wipe (char *secret)
{
  if (secret)
    memset (secret, 0, strlen (secret));
  g_free (secret);
}

static void
job_free (Job *job)
{
  if (job->heartbeat_id)
    g_source_remove (job->heartbeat_id);
  g_clear_pointer (&job->salvage, rec_upload_free);
  g_queue_clear_full (&job->reports, g_free);
  g_clear_object (&job->proc);
  wipe (job->token);
  g_free (job->id);
  g_free (job->channel_id);
  g_free (job->out_path);
  g_free (job->exit_how);
  g_free (job);
}

/* ---- HTTP ---- */

/* @body: the reply's bytes (peer bytes: parse with rec-worker-claim.h or
 * rec-upload-reply.h), NULL if the server was not reached. */
typedef void (*ReplyFunc) (guint status, GBytes *body, const GError *error, gpointer data);

typedef struct {
  ReplyFunc func;
  gpointer data;
  Job *job; /* (nullable) a request about this job */
} Pending;

static void
on_http_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *p = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body
      = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  guint status = body && msg ? soup_message_get_status (msg) : 0;

  if (p->job && --p->job->inflight == 0 && p->job->removed)
    job_free (p->job); /* a late reply about a job already done */
  else if (p->job == NULL || !p->job->removed)
    p->func (status, body, error, p->data);
  g_free (p);
}

/* POST @path with @token and an optional JSON @body; @func hears the status (0 if the
 * server was not reached) and the JSON reply, if any. */
static void
post_full (Worker *w, Job *job, const char *path, const char *token, const char *body,
           ReplyFunc func, gpointer data)
{
  g_autofree char *url = g_strconcat (w->server, path, NULL);
  g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  Pending *p = g_new0 (Pending, 1);

  p->func = func;
  p->data = data;
  p->job = job;
  if (job)
    job->inflight++;
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  if (body) {
    g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));

    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  }
  soup_session_send_and_read_async (w->http, msg, G_PRIORITY_DEFAULT, NULL, on_http_reply, p);
}

static void
post (Worker *w, const char *path, const char *token, const char *body, ReplyFunc func,
      gpointer data)
{
  post_full (w, NULL, path, token, body, func, data);
}

/* A request about @job, whose reply goes to @func with @job. */
static void
post_job (Job *job, const char *path, const char *token, const char *body, ReplyFunc func)
{
  post_full (job->worker, job, path, token, body, func, job);
}

/* The message of an error reply, checked (printable, bounded) for a log line; "" if none.
 * Returns: (transfer full). */
static char *
reply_message (GBytes *body)
{
  RecUploadReply reply;
  gsize len = 0;
  const char *data = body ? g_bytes_get_data (body, &len) : NULL;
  char *message = NULL;

  if (data && rec_upload_reply_parse (data, len, &reply, NULL)) {
    message = g_steal_pointer (&reply.error_message);
    rec_upload_reply_clear (&reply);
  }
  return message ? message : g_strdup ("");
}

/* ---- the job's life ---- */

static void
job_remove (Job *job)
{
  Worker *w = job->worker;

  g_message ("job %s: done", job->id);
  g_ptr_array_remove (w->jobs, job);
  if (job->heartbeat_id) {
    g_source_remove (job->heartbeat_id);
    job->heartbeat_id = 0;
  }
  job->removed = TRUE;
  if (job->inflight == 0)
    job_free (job);
  if (w->stopping && w->jobs->len == 0)
    g_main_loop_quit (w->loop);
  else
    schedule_claim (w, 0);
}

static void
stop_child (Job *job, const char *why)
{
  if (job->exited || job->signalled)
    return;
  job->signalled = TRUE;
  g_message ("job %s: stopping the recorder (%s)", job->id, why);
  g_subprocess_send_signal (job->proc, SIGTERM);
}

static void
on_heartbeat (guint status, GBytes *body, const GError *error, gpointer data)
{
  Job *job = data;
  g_autoptr (GError) local = NULL;
  RecWorkerJobState state;
  gint64 started_at = 0;
  gsize len = 0;
  const char *bytes = body ? g_bytes_get_data (body, &len) : NULL;

  if (status == 200
      && !rec_worker_job_state_parse (bytes ? bytes : "", len, &state, &started_at, &local)) {
    g_warning ("job %s: heartbeat reply not understood: %s", job->id, local->message);
  } else if (status == 200) {
    if (started_at > 0)
      job->started_at = started_at;
    /* The server gave up on the job (start timeout, stop deadline): so does its child.
     * A stopped one is left alone: its recorder is sending the file's tail. */
    if (state == REC_WORKER_JOB_FAILED)
      stop_child (job, "the server failed the job");
  } else if (status == 409 || status == 403 || status == 404) {
    g_warning ("job %s: lease lost (HTTP %u)", job->id, status);
    job->lease_lost = TRUE;
    stop_child (job, "lease lost");
  } else {
    g_warning ("job %s: heartbeat not delivered: %s", job->id,
               error ? error->message : "server error");
  }
}

static gboolean
heartbeat_tick (gpointer data)
{
  Job *job = data;

  if (!job->lease_lost)
    job_send_heartbeat (job);
  return G_SOURCE_CONTINUE;
}

static void
job_send_heartbeat (Job *job)
{
  g_autofree char *path = g_strdup_printf ("/api/v1/jobs/%s/heartbeat", job->id);

  post_job (job, path, job->worker->token, NULL, on_heartbeat);
}

static void send_report (Job *job);

static gboolean
retry_report (gpointer data)
{
  send_report (data);
  return G_SOURCE_REMOVE;
}

static void
on_report (guint status, GBytes *body, const GError *error, gpointer data)
{
  Job *job = data;

  job->reporting = FALSE;
  if (status == 0 || status >= 500) {
    if (++job->report_attempts < REPORT_ATTEMPTS) {
      g_timeout_add (BACKOFF_MIN_MS << (job->report_attempts - 1), retry_report, job);
      return;
    }
    g_warning ("job %s: status not delivered: %s", job->id,
               error ? error->message : "server error");
  } else if (status >= 400) {
    g_autofree char *message = reply_message (body);

    g_warning ("job %s: status refused (HTTP %u): %s", job->id, status, message);
  }
  job->report_attempts = 0;
  g_free (g_queue_pop_head (&job->reports));
  send_report (job);
  job_maybe_release (job);
}

static void
send_report (Job *job)
{
  g_autofree char *path = NULL;

  if (job->reporting || g_queue_is_empty (&job->reports))
    return;
  path = g_strdup_printf ("/api/v1/jobs/%s/status", job->id);
  job->reporting = TRUE;
  post_job (job, path, job->token, g_queue_peek_head (&job->reports), on_report);
}

static void
report (Job *job, const char *state, const char *reason, const char *file_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, state);
  if (reason) {
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, reason);
  }
  if (file_id) {
    json_builder_set_member_name (b, "file_id");
    json_builder_add_string_value (b, file_id);
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  g_message ("job %s: %s%s%s", job->id, state, reason ? ": " : "", reason ? reason : "");
  g_queue_push_tail (&job->reports, json_to_string (root, FALSE));
  send_report (job);
}

static gboolean
retry_release (gpointer data)
{
  Job *job = data;

  job->releasing = FALSE;
  job_maybe_release (job);
  return G_SOURCE_REMOVE;
}

static void
on_release (guint status, GBytes *body, const GError *error, gpointer data)
{
  Job *job = data;

  if ((status == 0 || status >= 500) && ++job->release_attempts < REPORT_ATTEMPTS
      && !job->lease_lost) {
    g_timeout_add (BACKOFF_MIN_MS << (job->release_attempts - 1), retry_release, job);
    return;
  }
  if (status != 204)
    g_warning ("job %s: release not delivered (HTTP %u); the lease runs out instead", job->id,
               status);
  job_remove (job);
}

/* Releases the job once the child has exited, any salvage is over and the reports are
 * out. */
static void
job_maybe_release (Job *job)
{
  g_autofree char *path = NULL;

  if (!job->release_pending || job->releasing || job->salvage || job->reporting
      || !g_queue_is_empty (&job->reports))
    return;
  if (job->lease_lost) {
    job_remove (job);
    return;
  }
  job->releasing = TRUE;
  path = g_strdup_printf ("/api/v1/jobs/%s/release", job->id);
  post_job (job, path, job->worker->token, NULL, on_release);
}

static void
on_salvage_done (RecUpload *upload, const char *file_id, const GError *error, gpointer data)
{
  Job *job = data;

  if (file_id) {
    g_message ("job %s: uploaded what the recorder left", job->id);
    report (job, "uploaded", NULL, file_id);
  } else {
    g_warning ("job %s: cannot upload what the recorder left (%s): %s is kept", job->id,
               error->message, job->out_path);
  }
  /* Not from inside the upload's own callback. */
  g_idle_add_once ((GSourceOnceFunc)rec_upload_free, job->salvage);
  job->salvage = NULL;
  job_maybe_release (job);
}

static void
salvage (Job *job)
{
  Worker *w = job->worker;
  RecUploadConfig config;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *reason
      = g_strdup_printf ("the recorder exited unexpectedly (%s)", job->exit_how);

  report (job, "failed", reason, NULL);
  rec_upload_config_init (&config);
  config.server = g_strdup (w->server);
  config.token = g_strdup (job->token);
  config.channel = g_strdup (job->channel_id);
  config.path = g_strdup (job->out_path);
  config.name = g_date_time_format (now, "recording-%Y%m%d-%H%M%S.mp4");
  config.give_up_after_s = 300;
  job->salvage = rec_upload_new (&config, NULL, on_salvage_done, job, &error);
  rec_upload_config_clear (&config);
  if (job->salvage == NULL) {
    g_warning ("job %s: cannot upload %s: %s", job->id, job->out_path, error->message);
    return;
  }
  g_message ("job %s: uploading what the recorder left", job->id);
  rec_upload_start (job->salvage);
}

/* After the child's death: the server's view decides whether media had started. */
static void
on_final_heartbeat (guint status, GBytes *body, const GError *error, gpointer data)
{
  Job *job = data;
  GStatBuf st;

  on_heartbeat (status, body, error, data);
  if (!job->lease_lost && job->started_at > 0 && g_stat (job->out_path, &st) == 0 && st.st_size > 0)
    salvage (job);
  job->release_pending = TRUE;
  job_maybe_release (job);
}

static void
on_child_exit (GObject *source, GAsyncResult *result, gpointer data)
{
  GSubprocess *proc = G_SUBPROCESS (source);
  Job *job = data;
  g_autofree char *path = NULL;

  g_subprocess_wait_finish (proc, result, NULL);
  job->exited = TRUE;
  if (g_subprocess_get_if_signaled (proc))
    job->exit_how = g_strdup_printf ("killed by signal %d", g_subprocess_get_term_sig (proc));
  else
    job->exit_how = g_strdup_printf ("exit status %d", g_subprocess_get_exit_status (proc));
  g_message ("job %s: recorder exited (%s)", job->id, job->exit_how);
  if (g_subprocess_get_successful (proc) || job->lease_lost) {
    /* It reported and uploaded everything itself. */
    job->release_pending = TRUE;
    job_maybe_release (job);
    return;
  }
  path = g_strdup_printf ("/api/v1/jobs/%s/heartbeat", job->id);
  post_job (job, path, job->worker->token, NULL, on_final_heartbeat);
}

static void
child_setup (gpointer data)
{
  /* A lost node loses its recordings: none outlives its worker. */
  prctl (PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

static gboolean
job_start (Worker *w, RecWorkerClaim *claim, GError **error)
{
  Job *job = g_new0 (Job, 1);
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autofree char *file = NULL;
  g_autofree char *limit = g_strdup_printf ("%" G_GINT64_FORMAT, claim->max_duration_s);
  g_autofree char *warning = g_strdup_printf ("%" G_GINT64_FORMAT, claim->warning_before_s);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  job->worker = w;
  job->id = g_steal_pointer (&claim->id);
  job->channel_id = g_steal_pointer (&claim->channel_id);
  job->token = g_steal_pointer (&claim->token);
  job->lease_s = claim->lease_s;
  g_queue_init (&job->reports);
  file = g_strconcat (job->id, ".mp4", NULL);
  job->out_path = g_build_filename (w->out_dir, file, NULL);
  g_ptr_array_add (argv, w->recorder);
  g_ptr_array_add (argv, (char *)"record");
  g_ptr_array_add (argv, (char *)"--signaling");
  g_ptr_array_add (argv, (char *)"ws");
  g_ptr_array_add (argv, (char *)"--server");
  g_ptr_array_add (argv, w->server);
  g_ptr_array_add (argv, (char *)"--channel");
  g_ptr_array_add (argv, job->channel_id);
  g_ptr_array_add (argv, (char *)"--job");
  g_ptr_array_add (argv, job->id);
  g_ptr_array_add (argv, (char *)"--out");
  g_ptr_array_add (argv, job->out_path);
  g_ptr_array_add (argv, (char *)"--max-duration");
  g_ptr_array_add (argv, limit);
  g_ptr_array_add (argv, (char *)"--warning-before");
  g_ptr_array_add (argv, warning);
  if (w->ice_address) {
    g_ptr_array_add (argv, (char *)"--ice-address");
    g_ptr_array_add (argv, w->ice_address);
  }
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "CALLREC_TOKEN", job->token, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  job->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, error);
  if (job->proc == NULL) {
    /* The lease runs out and the server gives the job to another node. */
    job_free (job);
    return FALSE;
  }
  g_ptr_array_add (w->jobs, job);
  g_message ("job %s: recorder started (pid %s) for channel %s", job->id,
             g_subprocess_get_identifier (job->proc), job->channel_id);
  job->heartbeat_id = g_timeout_add_seconds (MAX (1, job->lease_s / 3), heartbeat_tick, job);
  g_subprocess_wait_async (job->proc, NULL, on_child_exit, job);
  return TRUE;
}

/* ---- claims ---- */

static gboolean claim_tick (gpointer data);

static void
on_claim (guint status, GBytes *body, const GError *error, gpointer data)
{
  Worker *w = data;
  g_autoptr (GError) local = NULL;
  g_autofree char *message = NULL;
  RecWorkerClaim claim;

  w->claiming = FALSE;
  if (status == 200) {
    w->backoff_ms = 0;
    if (w->stopping) {
      /* Claimed while a signal came: its lease runs out and another node takes it. */
      g_message ("claimed a job while stopping: leaving it to the server");
      return;
    }
    gsize len = 0;
    const char *bytes = g_bytes_get_data (body, &len);

    if (!rec_worker_claim_parse (bytes ? bytes : "", len, &claim, &local))
      g_warning ("claim reply not understood: %s", local->message);
    else if (!job_start (w, &claim, &local))
      g_warning ("cannot run the claimed job: %s", local->message);
    rec_worker_claim_clear (&claim);
    schedule_claim (w, 0);
    return;
  }
  if (status == 204) {
    w->backoff_ms = 0;
    schedule_claim (w, w->poll_ms);
    return;
  }
  message = reply_message (body);
  if (status == 401 || status == 403) {
    g_printerr ("callrec-recorder worker: the server refuses this worker's token (HTTP %u): %s\n",
                status, message);
    w->exit_code = 2;
    w->stopping = TRUE;
    for (guint i = 0; i < w->jobs->len; i++)
      stop_child (w->jobs->pdata[i], "the worker stops");
    if (w->jobs->len == 0)
      g_main_loop_quit (w->loop);
    return;
  }
  w->backoff_ms = w->backoff_ms ? MIN (w->backoff_ms * 2, BACKOFF_MAX_MS) : BACKOFF_MIN_MS;
  g_warning ("cannot claim a job (%s%s); retrying in %u ms",
             error ? error->message : "server error: ", error ? "" : message, w->backoff_ms);
  schedule_claim (w, w->backoff_ms);
}

static gboolean
claim_tick (gpointer data)
{
  Worker *w = data;

  w->claim_id = 0;
  if (w->stopping || w->claiming || w->jobs->len >= w->max_jobs)
    return G_SOURCE_REMOVE;
  w->claiming = TRUE;
  post (w, "/api/v1/jobs/claim", w->token, NULL, on_claim, w);
  return G_SOURCE_REMOVE;
}

static void
schedule_claim (Worker *w, guint delay_ms)
{
  if (w->stopping || w->claiming || w->claim_id || w->jobs->len >= w->max_jobs)
    return;
  w->claim_id = g_timeout_add (delay_ms, claim_tick, w);
}

static void
on_hand_back (guint status, GBytes *body, const GError *error, gpointer data)
{
  Job *job = data;

  if (status == 204) {
    /* Not ours any more: no heartbeats, no reports, no release. */
    g_message ("job %s: handed back to the server before it started: another node takes it",
               job->id);
    job->lease_lost = TRUE;
  } else {
    g_message ("job %s: not handed back (HTTP %u): it stops here", job->id, status);
  }
  stop_child (job, "the worker stops");
}

/* A job whose recording has not started (as far as the last heartbeat said) is offered
 * back to the server, which queues it for another node unless it started meanwhile. */
static void
stop_job_for_shutdown (Job *job)
{
  g_autofree char *path = NULL;

  if (job->exited || job->lease_lost || job->started_at > 0) {
    stop_child (job, "the worker stops");
    return;
  }
  path = g_strdup_printf ("/api/v1/jobs/%s/hand-back", job->id);
  post_job (job, path, job->worker->token, NULL, on_hand_back);
}

static gboolean
on_signal (gpointer data)
{
  Worker *w = data;

  if (w->stopping) {
    g_message ("second signal: exiting now");
    g_main_loop_quit (w->loop);
    return G_SOURCE_CONTINUE;
  }
  g_message ("signal: no more claims; stopping %u recorder(s)", w->jobs->len);
  w->stopping = TRUE;
  if (w->claim_id) {
    g_source_remove (w->claim_id);
    w->claim_id = 0;
  }
  for (guint i = 0; i < w->jobs->len; i++)
    stop_job_for_shutdown (w->jobs->pdata[i]);
  if (w->jobs->len == 0)
    g_main_loop_quit (w->loop);
  return G_SOURCE_CONTINUE;
}

/* ---- the command ---- */

static char *
read_token (const char *token_file, GError **error)
{
  g_autofree char *text = NULL;
  const char *env = g_getenv ("CALLREC_TOKEN");

  if (token_file == NULL) {
    if (env == NULL || env[0] == '\0') {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "the worker needs its token: set CALLREC_TOKEN or pass --token-file");
      return NULL;
    }
    return g_strdup (env);
  }
  if (!g_file_get_contents (token_file, &text, NULL, error))
    return NULL;
  g_strstrip (text);
  if (text[0] == '\0') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s is empty", token_file);
    return NULL;
  }
  return g_strdup (text);
}

/* An ICE address for the children: a loopback server means a loopback-only call. */
static char *
loopback_of (const char *server)
{
  g_autoptr (GUri) uri = g_uri_parse (server, G_URI_FLAGS_NONE, NULL);
  const char *host = uri ? g_uri_get_host (uri) : NULL;

  return host && g_str_has_prefix (host, "127.") ? g_strdup (host) : NULL;
}

static int
usage (GOptionContext *context, const char *message)
{
  g_autofree char *help = g_option_context_get_help (context, FALSE, NULL);

  g_printerr ("callrec-recorder worker: %s\n\n%s", message, help);
  return 2;
}

int
rec_worker_command (int argc, char **argv)
{
  g_autofree char *server = NULL, *token_file = NULL, *out_dir = NULL;
  g_autofree char *ice_address = NULL, *recorder = NULL;
  int max_jobs = 1;
  double poll_s = 1.0;
  const GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "The server, http://HOST:PORT", "URL" },
    { "max-jobs", 0, 0, G_OPTION_ARG_INT, &max_jobs, "Recordings at once (default 1)", "N" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
      "Read the worker token from this file (default: $CALLREC_TOKEN)", "FILE" },
    { "out-dir", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Where recordings are written (default: a new directory under $TMPDIR)", "DIR" },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING, &ice_address,
      "The recorders' only ICE address (default: the server's, if loopback)", "ADDR" },
    { "recorder", 0, 0, G_OPTION_ARG_FILENAME, &recorder,
      "The callrec-recorder to run (default: this one)", "PATH" },
    { "poll-interval", 0, 0, G_OPTION_ARG_DOUBLE, &poll_s,
      "Seconds between claims while the queue is empty (default 1)", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) context
      = g_option_context_new ("worker - claim and run recording jobs");
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;
  Worker w = { .exit_code = 0 };
  guint sig_int, sig_term;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage (context, error->message);
  if (argc != 2)
    return usage (context, "unexpected arguments");
  if (server == NULL
      || !(g_str_has_prefix (server, "http://") || g_str_has_prefix (server, "https://")))
    return usage (context, "--server http://HOST:PORT is required");
  if (max_jobs < 1 || max_jobs > 64)
    return usage (context, "--max-jobs: 1..64");
  if (!(poll_s >= 0.05 && poll_s <= 60))
    return usage (context, "--poll-interval: 0.05..60 s");
  token = read_token (token_file, &error);
  if (token == NULL)
    return usage (context, error->message);
  if (out_dir == NULL) {
    out_dir = g_dir_make_tmp ("callrec-worker-XXXXXX", &error);
    if (out_dir == NULL)
      return usage (context, error->message);
  } else if (g_mkdir_with_parents (out_dir, 0700) != 0) {
    g_autofree char *msg = g_strdup_printf ("cannot create %s", out_dir);

    return usage (context, msg);
  }
  if (recorder == NULL) {
    recorder = g_file_read_link ("/proc/self/exe", NULL);
    /* Replaced on disk since this process started (an upgrade): run the new one. */
    if (recorder && g_str_has_suffix (recorder, " (deleted)"))
      recorder[strlen (recorder) - strlen (" (deleted)")] = '\0';
  }
  if (recorder == NULL)
    return usage (context, "cannot find this program: pass --recorder");
  if (ice_address == NULL)
    ice_address = loopback_of (server);

  while (g_str_has_suffix (server, "/"))
    server[strlen (server) - 1] = '\0';
  w.server = server;
  w.token = g_steal_pointer (&token);
  w.max_jobs = max_jobs;
  w.out_dir = out_dir;
  w.recorder = recorder;
  w.ice_address = ice_address;
  w.poll_ms = (guint)(poll_s * 1000);
  w.http = soup_session_new_with_options ("timeout", 30, "user-agent", "callrec-recorder-worker",
                                          NULL);
  soup_session_set_proxy_resolver (w.http, NULL);
  w.jobs = g_ptr_array_new ();
  w.loop = g_main_loop_new (NULL, FALSE);
  sig_int = g_unix_signal_add (SIGINT, on_signal, &w);
  sig_term = g_unix_signal_add (SIGTERM, on_signal, &w);
  g_message ("worker: up to %u job(s) from %s, files in %s", w.max_jobs, w.server, w.out_dir);
  schedule_claim (&w, 0);
  g_main_loop_run (w.loop);
  g_source_remove (sig_int);
  g_source_remove (sig_term);
  if (w.claim_id)
    g_source_remove (w.claim_id);
  /* Only after a second signal: their recorders die with this process. */
  for (guint i = 0; i < w.jobs->len; i++)
    job_free (w.jobs->pdata[i]);
  g_ptr_array_unref (w.jobs);
  g_object_unref (w.http);
  g_main_loop_unref (w.loop);
  wipe (w.token);
  return w.exit_code;
}
