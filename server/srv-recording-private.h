/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-recording.h"
#include "srv-server-private.h"

#include <errno.h>
#include <signal.h>

G_BEGIN_DECLS

/* Shared by srv-recording.c (state machine) and srv-recording-runner.c (the local
 * runner, the supervisor and the posts) only. */

/* Bot users are guests named JOB_USER_PREFIX + the job id. */
#define JOB_USER_PREFIX "recorder-"

typedef enum {
  JOB_INITIALIZING,
  JOB_RECORDING,
  JOB_STOPPING,
  JOB_STOPPED,
  JOB_FAILED,
} JobState;

struct _SrvJob {
  SrvServer *server;
  SrvRecordingRow *row; /* the persisted state; row->state follows @state */
  JobState state;
  char *token;            /* the job token's secret until the recorder is spawned, then NULL */
  char *out_path;         /* DATA/recordings/<id>.mp4 */
  gboolean started;       /* the recorder reported media flowing into the file */
  gboolean file_finished; /* the recorder reported the file finished */
  gboolean posted;        /* the post (file or failure) is made: the job is over */
  gboolean call_gone;
  gint64 duration_ms;
  GSubprocess *proc;
  GCancellable *wait_cancel;
  gboolean running; /* the process has not exited, or a worker holds the job's lease */
  guint start_timeout_id, warning_id, limit_id, stop_deadline_id;
  char *worker_user_id; /* workers: the user whose worker holds the lease */
  guint lease_id;       /* workers: the lease runs out */
  /* Left recording by the previous server process: its recorder finishes the file when the
   * server goes away and uploads it once it is back (srv_recording_recover). */
  gboolean recovered;
  guint grace_id; /* the recorder's time to deliver, then what the file holds is posted */
  guint liveness_id; /* after a restart: is the recorder the last process left still alive? */
};

typedef struct _SrvRecordings {
  GHashTable *jobs;    /* job id -> SrvJob (owned) */
  GHashTable *by_call; /* call id -> SrvJob: the call's latest recording */
  GQueue pending;      /* SrvJob*: waiting for a free recorder slot, in order */
  guint running;       /* recorder processes alive */
  char *dir;           /* DATA/recordings */
} SrvRecordings;

void srv_recording_dispatch (SrvServer *server);
/* Queued jobs' positions changed: each hears its own. */
void srv_recording_queue_changed (SrvServer *server);
/* The job must be recording within recording.start_timeout_s from now. */
void srv_job_arm_start_timeout (SrvJob *job);
void srv_job_clear_start_timeout (SrvJob *job);
/* The URL a recorder reaches this server at; @ice_address (out, nullable) the address it
 * should gather ICE candidates on. */
char *srv_recording_own_url (SrvServer *server, char **ice_address);
/* The recorder's own duration limit and warning (a little after the server's). */
guint srv_recording_recorder_limit_s (SrvServer *server);
guint srv_recording_recorder_warning_s (SrvServer *server);
/* Fails @job with @reason (no-op once stopped or failed). */
void srv_job_fail (SrvJob *job, const char *reason);
/* With no recorder process left: posts what the job has (the file the recorder left, or
 * the failure) unless already posted, and retires the bot user. */
void srv_job_finish (SrvJob *job);
/* Posts @file_id (uploaded or imported by the bot user) in the call thread. */
gboolean srv_job_post_file (SrvJob *job, const char *file_id, gboolean partial, GError **error);
/* Jobs a previous process left unfinished: failed, and what their files hold posted. */
gboolean srv_recording_recover (SrvServer *server, GError **error);
/* A recorder left running by the previous process delivered its file: post it, retire the
 * job. */
void srv_job_recovered_done (SrvJob *job);

gboolean srv_recording_admit_bot (SrvServer *server, SrvWsSession *ws, const SrvUser *user,
                                  const char *job_id, char **channel_id, GError **error);
gboolean srv_recording_authorize_upload (SrvServer *server, const SrvUser *user,
                                         const SrvChannel *channel);

/* Worker dispatch (srv-recording-workers.c). */
gboolean srv_recording_uses_workers (SrvServer *server);
void srv_job_drop_lease (SrvJob *job);

G_END_DECLS
