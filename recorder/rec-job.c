/* SPDX-License-Identifier: MIT */
/* A recording job's side channel to callrec-server (docs/recording.md): status reports
 * on POST /api/v1/jobs/{id}/status with the job token, and the upload of the file while
 * it is recorded (rec-upload.c in follow mode), completed with its SHA-256 at the end.
 *
 *   media flows into the file  →  started, the upload starts following the file
 *   the session ends (ok)      →  stopped {duration_ms}, the upload sends the rest
 *   the session ends (failed)  →  failed {reason}, the upload still sends what there is
 *   the upload is confirmed    →  uploaded {file_id, duration_ms}: the server posts it
 *
 * Reports go out one at a time, in order, each retried a few times. */
#include "rec-job.h"
#include "rec-upload.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#define REPORT_ATTEMPTS 5
#define UPLOAD_GIVE_UP_S 300

struct _RecJob {
  char *server;
  char *token; /* a secret: never logged */
  char *channel;
  char *job_id;
  char *path;
  RecSession *session;
  SoupSession *http;
  GQueue reports; /* char*: JSON bodies waiting, oldest first */
  gboolean sending;
  guint attempts;
  guint poll_id;
  gboolean started;
  gboolean ended;
  gboolean ok;
  gint64 duration_ms;
  RecUpload *upload;
  gboolean upload_done;
  RecJobDoneFunc done;
  gpointer user_data;
};

static void send_next (RecJob *job);

static void
maybe_done (RecJob *job)
{
  RecJobDoneFunc done = job->done;

  if (!job->ended || job->sending || !g_queue_is_empty (&job->reports)
      || (job->upload && !job->upload_done) || done == NULL)
    return;
  job->done = NULL;
  done (job, job->ok, job->user_data);
}

static gboolean
retry_report (gpointer user_data)
{
  send_next (user_data);
  return G_SOURCE_REMOVE;
}

static void
on_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RecJob *job = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body
      = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  guint status = msg ? soup_message_get_status (msg) : 0;

  job->sending = FALSE;
  if (body && status >= 200 && status < 300) {
    g_free (g_queue_pop_head (&job->reports));
    job->attempts = 0;
  } else if (body && status >= 400 && status < 500) {
    g_warning ("job status refused (HTTP %u): %.*s", status,
               (int)MIN (g_bytes_get_size (body), 300),
               (const char *)g_bytes_get_data (body, NULL));
    g_free (g_queue_pop_head (&job->reports));
    job->attempts = 0;
  } else if (++job->attempts >= REPORT_ATTEMPTS) {
    g_warning ("job status not delivered: %s", error ? error->message : "server error");
    g_free (g_queue_pop_head (&job->reports));
    job->attempts = 0;
  } else {
    g_timeout_add_seconds (1, retry_report, job);
    return;
  }
  send_next (job);
  maybe_done (job);
}

static void
send_next (RecJob *job)
{
  const char *body = g_queue_peek_head (&job->reports);
  g_autofree char *url = NULL;
  g_autofree char *auth = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (job->sending || body == NULL)
    return;
  url = g_strdup_printf ("%s/api/v1/jobs/%s/status", job->server, job->job_id);
  msg = soup_message_new ("POST", url);
  if (msg == NULL) {
    g_warning ("job status: bad URL %s", url);
    g_free (g_queue_pop_head (&job->reports));
    return;
  }
  auth = g_strconcat ("Bearer ", job->token, NULL);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  bytes = g_bytes_new (body, strlen (body));
  soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
  job->sending = TRUE;
  soup_session_send_and_read_async (job->http, msg, G_PRIORITY_DEFAULT, NULL, on_reply, job);
}

static void
report (RecJob *job, const char *state, const char *reason, const char *file_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, state);
  if (reason) {
    g_autofree char *cut = g_utf8_substring (reason, 0, MIN (g_utf8_strlen (reason, -1), 1000));

    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, cut);
  }
  if (file_id) {
    json_builder_set_member_name (b, "file_id");
    json_builder_add_string_value (b, file_id);
  }
  if (job->duration_ms > 0) {
    json_builder_set_member_name (b, "duration_ms");
    json_builder_add_int_value (b, job->duration_ms);
  }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  g_message ("job %s: %s%s%s", job->job_id, state, reason ? ": " : "", reason ? reason : "");
  g_queue_push_tail (&job->reports, json_to_string (root, FALSE));
  send_next (job);
}

static void
on_upload_done (RecUpload *upload, const char *file_id, const GError *error, gpointer user_data)
{
  RecJob *job = user_data;

  job->upload_done = TRUE;
  if (file_id) {
    report (job, "uploaded", NULL, file_id);
  } else {
    g_autofree char *reason = g_strdup_printf ("upload failed: %s", error->message);

    job->ok = FALSE;
    report (job, "failed", reason, NULL);
  }
  maybe_done (job);
}

static void
start_upload (RecJob *job)
{
  RecUploadConfig config;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  rec_upload_config_init (&config);
  config.server = g_strdup (job->server);
  config.token = g_strdup (job->token);
  config.channel = g_strdup (job->channel);
  config.path = g_strdup (job->path);
  config.name = g_date_time_format (now, "recording-%Y%m%d-%H%M%S.mp4");
  config.follow = TRUE;
  config.poll_ms = 500;
  /* Through a server outage, but not forever: after that the local file stays for the
   * server's supervisor to post. */
  config.give_up_after_s = UPLOAD_GIVE_UP_S;
  job->upload = rec_upload_new (&config, NULL, on_upload_done, job, &error);
  rec_upload_config_clear (&config);
  if (job->upload == NULL) {
    g_warning ("job %s: cannot upload: %s", job->job_id, error->message);
    return;
  }
  rec_upload_start (job->upload);
}

/* Media is flowing into the file once a connection is up and bytes were written. */
static gboolean
on_poll (gpointer user_data)
{
  RecJob *job = user_data;
  PlStats stats;

  pl_recording_get_stats (rec_session_get_recording (job->session), &stats);
  if (rec_session_count_connected (job->session) > 0 && stats.bytes_written > 0) {
    job->started = TRUE;
    report (job, "started", NULL, NULL);
    start_upload (job);
    job->poll_id = 0;
    pl_stats_clear (&stats);
    return G_SOURCE_REMOVE;
  }
  pl_stats_clear (&stats);
  return G_SOURCE_CONTINUE;
}

RecJob *
rec_job_new (const RecJobConfig *config, RecSession *session)
{
  RecJob *job = g_new0 (RecJob, 1);

  job->server = g_strdup (config->server_url);
  while (g_str_has_suffix (job->server, "/"))
    job->server[strlen (job->server) - 1] = '\0';
  job->token = g_strdup (config->token);
  job->channel = g_strdup (config->channel);
  job->job_id = g_strdup (config->job_id);
  job->path = g_strdup (config->path);
  job->session = session;
  job->http = soup_session_new_with_options ("timeout", 30, "user-agent", "callrec-recorder", NULL);
  soup_session_set_proxy_resolver (job->http, NULL);
  g_queue_init (&job->reports);
  job->poll_id = g_timeout_add (250, on_poll, job);
  return job;
}

void
rec_job_end (RecJob *job, gboolean ok, const char *reason, double elapsed_s, RecJobDoneFunc done,
             gpointer user_data)
{
  job->ended = TRUE;
  job->ok = ok;
  job->done = done;
  job->user_data = user_data;
  job->duration_ms = (gint64)(elapsed_s * 1000);
  if (job->poll_id) {
    g_source_remove (job->poll_id);
    job->poll_id = 0;
  }
  if (!job->started) {
    job->ok = FALSE;
    report (job, "failed", reason ? reason : "no media arrived", NULL);
  } else {
    report (job, ok ? "stopped" : "failed", reason, NULL);
    if (job->upload)
      rec_upload_finish (job->upload);
  }
  maybe_done (job);
}

void
rec_job_free (RecJob *job)
{
  if (job == NULL)
    return;
  if (job->poll_id)
    g_source_remove (job->poll_id);
  g_clear_pointer (&job->upload, rec_upload_free);
  g_queue_clear_full (&job->reports, g_free);
  g_clear_object (&job->http);
  if (job->token)
    memset (job->token, 0, strlen (job->token));
  g_free (job->token);
  g_free (job->server);
  g_free (job->channel);
  g_free (job->job_id);
  g_free (job->path);
  g_free (job);
}
