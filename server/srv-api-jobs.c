/* SPDX-License-Identifier: MIT */
/* POST /api/v1/jobs/{job}/status: a recorder reports its job's progress with the job
 * token (docs/api.md, "Recording jobs"). */
#include "srv-recording.h"
#include "srv-server-private.h"

void
srv_api_jobs_status (SrvRequest *req, JsonObject *body)
{
  SrvJob *job = srv_recording_job_for_user (req->server, req->user);
  g_autoptr (GError) error = NULL;
  g_autofree char *post_id = NULL;
  g_autoptr (JsonNode) node = NULL;
  gint64 duration_ms = 0;

  if (job == NULL || !g_str_equal (srv_job_get_id (job), req->params[0])) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "only the job's own token may report its status");
    return;
  }
  if (json_object_has_member (body, "duration_ms"))
    duration_ms = json_object_get_int_member (body, "duration_ms");
  if (!srv_job_report (job, srv_shape_get_string (body, "state"),
                       srv_shape_get_string (body, "reason"),
                       srv_shape_get_string (body, "file_id"), duration_ms, &post_id, &error)) {
    srv_reply_error (req, srv_call_error_status (error), srv_call_error_code (error), NULL, "%s",
                     error->message);
    return;
  }
  node = srv_job_to_json (job);
  if (post_id)
    json_object_set_string_member (json_node_get_object (node), "post_id", post_id);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

/* ---- recording nodes (srv-recording-workers.c) ---- */

static gboolean
check_worker (SrvRequest *req)
{
  if (srv_recording_is_worker_user (req->user))
    return TRUE;
  srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                   "only a recording node's token (a guest user named '%s…') may do this",
                   SRV_WORKER_USER_PREFIX);
  return FALSE;
}

/* POST /api/v1/jobs/claim: the next queued job with its token, or 204 if none. */
void
srv_api_jobs_claim (SrvRequest *req, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) job = NULL;

  if (!check_worker (req))
    return;
  job = srv_recording_claim (req->server, req->user, &error);
  if (job == NULL && error) {
    srv_reply_error (req, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", NULL,
                     "internal error (see the server log)");
    g_warning ("recording: claim: %s", error->message);
    return;
  }
  if (job == NULL) {
    srv_reply_empty (req, SOUP_STATUS_NO_CONTENT);
    return;
  }
  srv_reply_json (req, SOUP_STATUS_OK, job);
}

static SrvJob *
leased_job (SrvRequest *req)
{
  g_autoptr (GError) error = NULL;
  SrvJob *job;

  if (!check_worker (req))
    return NULL;
  job = srv_recording_leased_job (req->server, req->user, req->params[0], &error);
  if (job == NULL)
    srv_reply_error (req, SOUP_STATUS_CONFLICT, "lease_lost", NULL, "%s", error->message);
  return job;
}

/* POST /api/v1/jobs/{job}/heartbeat: renews the lease; replies the job (its state). */
void
srv_api_jobs_heartbeat (SrvRequest *req, JsonObject *body)
{
  SrvJob *job = leased_job (req);
  g_autoptr (JsonNode) node = NULL;

  if (job == NULL)
    return;
  srv_job_heartbeat (job);
  node = srv_job_to_json (job);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

/* POST /api/v1/jobs/{job}/hand-back: the worker stops before the recording started and
 * gives the job to another node. 409 once it has started. */
void
srv_api_jobs_hand_back (SrvRequest *req, JsonObject *body)
{
  SrvJob *job = leased_job (req);

  if (job == NULL)
    return;
  if (!srv_job_hand_back (job)) {
    srv_reply_error (req, SOUP_STATUS_CONFLICT, "started", NULL,
                     "the recording has started: stop the recorder and release the job");
    return;
  }
  srv_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

/* POST /api/v1/jobs/{job}/release: the worker is done with the job. */
void
srv_api_jobs_release (SrvRequest *req, JsonObject *body)
{
  SrvJob *job = leased_job (req);

  if (job == NULL)
    return;
  srv_job_release (job);
  srv_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}
