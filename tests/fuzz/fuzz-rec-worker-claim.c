/* SPDX-License-Identifier: MIT */
/* libFuzzer target for a recording node's reading of the server's worker replies
 * (recorder/rec-worker-claim.c): a claim and a heartbeat's Recording object. A reply
 * either fails with an error, leaving nothing behind, or yields members in their
 * documented forms: ids usable in a URL path and a file name, a token without spaces or
 * control bytes, limits in range. GLib criticals and warnings abort. */
#include "rec-upload-reply.h"
#include "rec-worker-claim.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gsize init = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) state_error = NULL;
  RecWorkerClaim claim;
  RecWorkerJobState state = REC_WORKER_JOB_INITIALIZING;
  gint64 started_at = -1;

  if (g_once_init_enter (&init)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&init, 1);
  }
  if (!rec_worker_claim_parse ((const char *)data, size, &claim, &error)) {
    if (error == NULL || claim.id || claim.channel_id || claim.token)
      abort ();
  } else {
    if (error != NULL || !rec_upload_id_valid (claim.id) || !rec_upload_id_valid (claim.channel_id)
        || claim.token == NULL || claim.token[0] == '\0' || claim.max_duration_s < 1
        || claim.max_duration_s > REC_WORKER_MAX_DURATION_S || claim.warning_before_s < 0
        || claim.warning_before_s > claim.max_duration_s || claim.lease_s < 3
        || claim.lease_s > 300)
      abort ();
    for (const char *p = claim.token; *p; p++) {
      if (*p <= ' ' || *p > '~')
        abort ();
    }
    rec_worker_claim_clear (&claim);
  }
  if (rec_worker_job_state_parse ((const char *)data, size, &state, &started_at, &state_error)) {
    if (state_error != NULL || state > REC_WORKER_JOB_FAILED || started_at < 0)
      abort ();
  } else if (state_error == NULL) {
    abort ();
  }
  return 0;
}
