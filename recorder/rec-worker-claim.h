/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a recording node reads from the server's worker routes (docs/api.md, "Recording
 * nodes"): the job a claim hands over, and the job's state in a heartbeat's reply. Peer
 * bytes: every member is checked before it reaches a command line, a URL or a log. */

typedef struct {
  char *id;                /* [A-Za-z0-9_-]{1,64}: in URLs and a file name */
  char *channel_id;        /* [A-Za-z0-9_-]{1,64} */
  char *token;             /* the job token: printable ASCII without spaces, 1..256 bytes */
  gint64 max_duration_s;   /* 1..REC_WORKER_MAX_DURATION_S */
  gint64 warning_before_s; /* 0..max_duration_s */
  guint lease_s;           /* 3..300 */
} RecWorkerClaim;

#define REC_WORKER_MAX_DURATION_S (48 * 3600)

/* Parses a claim's reply body. FALSE with @error (G_IO_ERROR_INVALID_DATA) if it is not
 * a JSON object with every member above in its form; @claim is then left empty. */
gboolean rec_worker_claim_parse (const char *data, gsize len, RecWorkerClaim *claim,
                                 GError **error);
/* Frees the members, wiping the token. */
void rec_worker_claim_clear (RecWorkerClaim *claim);

typedef enum {
  REC_WORKER_JOB_INITIALIZING,
  REC_WORKER_JOB_RECORDING,
  REC_WORKER_JOB_STOPPING,
  REC_WORKER_JOB_STOPPED,
  REC_WORKER_JOB_FAILED,
} RecWorkerJobState;

/* Parses a heartbeat's reply (a Recording object): its state and started_at (0 if not
 * started). FALSE with @error if either is missing or malformed. */
gboolean rec_worker_job_state_parse (const char *data, gsize len, RecWorkerJobState *state,
                                     gint64 *started_at, GError **error);

G_END_DECLS
