/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-calls.h"

G_BEGIN_DECLS

/* Recording jobs (docs/recording.md): the per-call recording state machine
 *
 *   initializing → recording → stopping → stopped      (or → failed, with a reason)
 *
 * persisted in the store and broadcast to the call as `recording_state`; its job token;
 * the local runner that spawns callrec-recorder (srv-recording-runner.c); the duration
 * limit and its warning; and the post of the file (or the failure) in the call thread.
 *
 * Each job has its own bot user, which owns the job's token (stored hashed like every
 * token): the token authenticates only as that user, the user is admitted only to its
 * job's call while the job is initializing or recording, may upload only to its job's
 * channel, and may use only the routes marked for jobs. The user is deactivated when the
 * job is over, which retires the token. Main context only. */

typedef struct _SrvJob SrvJob;

gboolean srv_recording_init (SrvServer *server, GError **error);
void srv_recording_shutdown (SrvServer *server);

/* Starts a recording of @call for @user (its host or an admin; the caller checked).
 * SRV_CALL_ERROR_RECORDING_RUNNING if one is not yet stopped. Returns: (transfer none). */
SrvJob *srv_recording_start (SrvServer *server, SrvCall *call, const SrvUser *user, GError **error);
/* Stops the call's current recording (NO_RECORDING if none is initializing or
 * recording). Returns: (transfer none). */
SrvJob *srv_recording_stop (SrvServer *server, SrvCall *call, const char *reason, GError **error);
/* The call ended (before it is freed): its recording stops. */
void srv_recording_call_ended (SrvServer *server, SrvCall *call);
/* The Recording object of the call's latest recording, or a JSON null.
 * Returns: (transfer full). */
JsonNode *srv_recording_call_json (SrvServer *server, const char *call_id);
JsonNode *srv_job_to_json (SrvJob *job);

/* TRUE if @user is a recording job's bot user (restricted to the job routes). */
gboolean srv_recording_is_job_user (SrvServer *server, const SrvUser *user);
/* (transfer none) (nullable): the job whose bot is @user. */
SrvJob *srv_recording_job_for_user (SrvServer *server, const SrvUser *user);
const char *srv_job_get_id (SrvJob *job);

/* A status report from the recorder (POST /jobs/{id}/status): @state is started,
 * stopped, uploaded (with @file_id) or failed (with @reason). */
gboolean srv_job_report (SrvJob *job, const char *state, const char *reason, const char *file_id,
                         gint64 duration_ms, char **post_id, GError **error);

/* The local runner (srv-recording-runner.c). */
gboolean srv_job_spawn (SrvJob *job, const char *token, GError **error);
void srv_job_kill (SrvJob *job, int signum);

/* Worker dispatch (recording.dispatch = workers, srv-recording-workers.c): recording
 * nodes claim queued jobs with a lease and renew it. A worker authenticates as a guest
 * user named SRV_WORKER_USER_PREFIX…, created by a system admin. */
#define SRV_WORKER_USER_PREFIX "worker-"
gboolean srv_recording_is_worker_user (const SrvUser *user);
/* The next queued job for @worker, or NULL (nothing queued, or not in workers mode); its
 * description with the job token in the claim's reply. Returns: (transfer full). */
JsonNode *srv_recording_claim (SrvServer *server, const SrvUser *worker, GError **error);
/* (transfer none) (nullable): job @id if @worker holds its lease, else NULL with @error. */
SrvJob *srv_recording_leased_job (SrvServer *server, const SrvUser *worker, const char *id,
                                  GError **error);
/* Renews @job's lease. */
void srv_job_heartbeat (SrvJob *job);
/* The worker is done with @job (its recorder exited): like a local recorder's exit. */
void srv_job_release (SrvJob *job);
/* The worker gives @job back before its recording started (the worker is shutting down):
 * it goes back to the head of the queue for another node, and its tokens are revoked.
 * FALSE, with nothing changed, once the recording has started: the worker must stop its
 * recorder and release the job. */
gboolean srv_job_hand_back (SrvJob *job);

G_END_DECLS
