/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-auth.h"
#include "srv-calls.h"
#include "srv-server.h"
#include "srv-shape.h"
#include "srv-store.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Shared between srv-server.c (HTTP plumbing, routing, auth) and the srv-api-*.c
 * handlers. Everything runs on the server's main context. */

struct _SrvServer {
  const SrvConfig *config;
  SrvStore *store;
  SoupServer *soup;
  SrvAuthLimiter *limiter;
  char *files_dir;
  guint port;
  GHashTable *requests_by_status; /* status (GUINT_TO_POINTER) -> count (GSIZE_TO_POINTER) */
  guint64 auth_failures;
  guint websockets_open;
  GHashTable *ws_sessions;   /* (element-type SrvWsSession): set of open sessions (srv-ws.c) */
  GHashTable *calls;         /* channel id -> SrvCall: running calls (srv-calls.c) */
  struct _SfuServer *sfu;    /* the media plane (srv-calls-media.c) */
  /* Recording bots (issue 5): decides whether a `join` with @job_id from @user may enter
   * a call, and which channel's (*@channel_id, transfer full). NULL: bots are refused
   * with not_implemented. */
  gboolean (*admit_bot) (SrvServer *server, SrvWsSession *ws, const SrvUser *user,
                         const char *job_id, char **channel_id, GError **error);
  /* Upload sessions in progress (srv-api-uploads.c): upload id -> their in-memory state
   * (the running hash, the append streaming now). Created on first use. */
  GHashTable *uploads;
  /* Recording jobs (issue 5): lets @user, who is not a member of @channel, upload to it
   * (a recorder's job token). NULL: only members may upload. */
  gboolean (*authorize_upload) (SrvServer *server, const SrvUser *user,
                                const SrvChannel *channel);
  struct _SrvRecordings *recordings; /* recording jobs (srv-recording.c) */
};

typedef struct {
  SrvServer *server;
  SoupServerMessage *msg;
  SrvUser *user;     /* the authenticated caller; NULL on unauthenticated routes */
  char *params[4];   /* the route's {placeholders}, in order (owned) */
  GHashTable *query; /* (nullable) */
} SrvRequest;

typedef void (*SrvHandler) (SrvRequest *req, JsonObject *body);

/* Responses. Error codes are stable snake_case words documented in docs/api.md. */
void srv_reply_json (SrvRequest *req, guint status, JsonNode *node);
void srv_reply_error (SrvRequest *req, guint status, const char *code, const char *field,
                      const char *format, ...) G_GNUC_PRINTF (5, 6);
/* Maps a SRV_STORE_ERROR: NOT_FOUND 404, CONFLICT 409, anything else 500 (logged, not
 * shown). @what names the object for the 404/409 message. */
void srv_reply_store_error (SrvRequest *req, const GError *error, const char *what);
void srv_reply_empty (SrvRequest *req, guint status);

/* Looks up a user by id or username: replies 404 itself and returns NULL if none. */
SrvUser *srv_request_find_user (SrvRequest *req, const char *ref);
gboolean srv_request_is_admin (SrvRequest *req);
/* Checks the request's bearer token (with the failure limit): replies the error itself
 * and returns NULL. Returns: (transfer full) (nullable): the caller. */
SrvUser *srv_request_authenticate (SrvRequest *req);

typedef enum {
  SRV_ACCESS_READ,   /* read: members; public channels also for non-guests; admins */
  SRV_ACCESS_WRITE,  /* post or upload: members only, not archived */
  SRV_ACCESS_MANAGE, /* archive, delete: the creator (not a guest) or an admin */
  SRV_ACCESS_MEMBER, /* download files: members only, archived or not */
} SrvAccess;

/* Finds a channel by id or name and checks @access for the caller: replies the error
 * (404 unknown or deleted, 403 not a member / archived) itself and returns NULL. */
SrvChannel *srv_request_channel (SrvRequest *req, const char *ref, SrvAccess access);

/* JSON for the API's objects. */
JsonNode *srv_json_user (const SrvUser *user);
JsonNode *srv_json_channel (const SrvChannel *channel);
JsonNode *srv_json_post (const SrvPost *post);
JsonNode *srv_json_file (const SrvFile *file);

/* Handlers (srv-api-*.c). */
void srv_api_users_me (SrvRequest *req, JsonObject *body);
void srv_api_users_list (SrvRequest *req, JsonObject *body);
void srv_api_users_create (SrvRequest *req, JsonObject *body);
void srv_api_users_get (SrvRequest *req, JsonObject *body);
void srv_api_users_deactivate (SrvRequest *req, JsonObject *body);
void srv_api_tokens_create (SrvRequest *req, JsonObject *body);
void srv_api_channels_create (SrvRequest *req, JsonObject *body);
void srv_api_channels_list (SrvRequest *req, JsonObject *body);
void srv_api_channels_get (SrvRequest *req, JsonObject *body);
void srv_api_channels_archive (SrvRequest *req, JsonObject *body);
void srv_api_channels_delete (SrvRequest *req, JsonObject *body);
void srv_api_members_list (SrvRequest *req, JsonObject *body);
void srv_api_members_add (SrvRequest *req, JsonObject *body);
void srv_api_members_remove (SrvRequest *req, JsonObject *body);
void srv_api_posts_list (SrvRequest *req, JsonObject *body);
void srv_api_posts_create (SrvRequest *req, JsonObject *body);
void srv_api_files_get (SrvRequest *req, JsonObject *body);
void srv_api_files_info (SrvRequest *req, JsonObject *body);

void srv_api_calls_get (SrvRequest *req, JsonObject *body);
void srv_api_calls_start (SrvRequest *req, JsonObject *body);
void srv_api_calls_join (SrvRequest *req, JsonObject *body);
void srv_api_calls_leave (SrvRequest *req, JsonObject *body);
void srv_api_calls_end (SrvRequest *req, JsonObject *body);
void srv_api_calls_stats_post (SrvRequest *req, JsonObject *body);
void srv_api_calls_stats_get (SrvRequest *req, JsonObject *body);
void srv_api_calls_sfu_stats (SrvRequest *req, JsonObject *body);
void srv_api_calls_recording (SrvRequest *req, JsonObject *body);
void srv_api_channels_call_link (SrvRequest *req, JsonObject *body);
/* GET /call/{channel} (no auth): once the channel is archived or deleted, replies why the
 * link no longer works and returns TRUE; otherwise FALSE (the web client serves it). */
gboolean srv_call_link_page (SrvServer *server, SoupServerMessage *msg, const char *channel);

/* Uploads stream to disk while the body arrives (srv-api-files.c): the early phase checks
 * the caller and the channel before any byte is read, the late phase stores the file. */
gboolean srv_api_files_upload_begin (SrvRequest *req);
void srv_api_files_upload_finish (SrvRequest *req, JsonObject *body);

/* Resumable upload sessions (srv-api-uploads.c). An append streams like a file upload:
 * srv_api_uploads_append_begin() runs in the early phase. */
void srv_api_uploads_create (SrvRequest *req, JsonObject *body);
void srv_api_uploads_get (SrvRequest *req, JsonObject *body);
gboolean srv_api_uploads_append_begin (SrvRequest *req);
void srv_api_uploads_append_finish (SrvRequest *req, JsonObject *body);
void srv_api_uploads_complete (SrvRequest *req, JsonObject *body);
void srv_api_uploads_shutdown (SrvServer *server);

/* Recording jobs (srv-api-jobs.c): the recorder's status reports. */
void srv_api_jobs_status (SrvRequest *req, JsonObject *body);
/* Recording nodes' claims, heartbeats and releases (worker dispatch). */
void srv_api_jobs_claim (SrvRequest *req, JsonObject *body);
void srv_api_jobs_heartbeat (SrvRequest *req, JsonObject *body);
void srv_api_jobs_release (SrvRequest *req, JsonObject *body);
void srv_api_jobs_hand_back (SrvRequest *req, JsonObject *body);

G_END_DECLS
