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
