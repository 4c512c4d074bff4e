/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The server's persistent state behind one small interface. Callers never see SQL: the
 * only backend today is SQLite under the data directory (srv-store-sqlite.c); a
 * PostgreSQL backend for several server nodes would implement these same functions.
 *
 * Every function runs synchronously on the caller's thread (the main loop); a SrvStore
 * is not thread-safe. Runtime failures are GErrors in SRV_STORE_ERROR. Times are Unix
 * milliseconds. Ids are 26 lowercase base32 characters, random. */

#define SRV_STORE_ERROR (srv_store_error_quark ())
GQuark srv_store_error_quark (void);

typedef enum {
  SRV_STORE_ERROR_FAILED,    /* the database itself failed (I/O, corruption) */
  SRV_STORE_ERROR_NOT_FOUND, /* no such row */
  SRV_STORE_ERROR_CONFLICT,  /* a unique name is taken, or the row is in the wrong state */
} SrvStoreError;

typedef enum {
  SRV_ROLE_SYSTEM_ADMIN,
  SRV_ROLE_MEMBER,
  SRV_ROLE_GUEST,
} SrvRole;

typedef enum {
  SRV_CHANNEL_PUBLIC,
  SRV_CHANNEL_PRIVATE,
  SRV_CHANNEL_GROUP,
  SRV_CHANNEL_DIRECT,
} SrvChannelType;

const char *srv_role_to_string (SrvRole role);
gboolean srv_role_from_string (const char *s, SrvRole *role);
const char *srv_channel_type_to_string (SrvChannelType type);
gboolean srv_channel_type_from_string (const char *s, SrvChannelType *type);

typedef struct {
  char *id;
  char *username;
  char *display_name;
  SrvRole role;
  gboolean deactivated;
  gint64 created_at;
} SrvUser;

typedef struct {
  char *id;
  char *name; /* unique, also after archive or delete */
  char *display_name;
  SrvChannelType type;
  char *creator_id;
  gint64 created_at;
  gint64 archived_at; /* 0: not archived */
  gint64 deleted_at;  /* 0: not deleted */
} SrvChannel;

typedef struct {
  char *user_id;
  gint64 joined_at;
} SrvMember;

typedef struct {
  char *id;
  char *channel_id;
  char *root_id; /* NULL for a root post */
  char *user_id;
  char *message;
  char *props; /* a JSON object as text; "{}" when empty */
  gint64 created_at;
  GPtrArray *file_ids; /* (element-type utf8): attachments, in upload order */
} SrvPost;

typedef struct {
  char *id;
  char *channel_id;
  char *user_id;
  char *post_id; /* NULL until a post attaches it */
  char *name;
  char *content_type;
  char *sha256; /* lowercase hex */
  gint64 size;
  gint64 created_at;
} SrvFile;

typedef struct {
  char *id;
  char *user_id;
  char *label;
  gint64 created_at;
} SrvToken;

void srv_user_free (SrvUser *user);
void srv_channel_free (SrvChannel *channel);
void srv_member_free (SrvMember *member);
void srv_post_free (SrvPost *post);
void srv_file_free (SrvFile *file);
void srv_token_free (SrvToken *token);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvUser, srv_user_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvChannel, srv_channel_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvMember, srv_member_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvPost, srv_post_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvFile, srv_file_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvToken, srv_token_free)

typedef struct _SrvStore SrvStore;

/* Opens (creating if needed) the store under @data_dir and migrates it to the current
 * schema. Returns: (transfer full) (nullable). */
SrvStore *srv_store_open (const char *data_dir, GError **error);
void srv_store_close (SrvStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvStore, srv_store_close)

int srv_store_schema_version (SrvStore *store);
/* Bytes the database occupies on disk (main file and write-ahead log). */
gint64 srv_store_size (SrvStore *store);
/* Makes a new random id (also used for file names on disk). */
char *srv_store_new_id (void);
/* Fills @buf from the kernel's CSPRNG. */
void srv_random_bytes (guint8 *buf, gsize len);

/* Users. Usernames are unique (CONFLICT). */
SrvUser *srv_store_user_create (SrvStore *store, const char *username, const char *display_name,
                                SrvRole role, GError **error);
SrvUser *srv_store_user_get (SrvStore *store, const char *id, GError **error);
SrvUser *srv_store_user_get_by_name (SrvStore *store, const char *username, GError **error);
/* Returns: (element-type SrvUser): every user, by username. */
GPtrArray *srv_store_user_list (SrvStore *store, GError **error);
gint64 srv_store_user_count (SrvStore *store, GError **error);
gboolean srv_store_user_deactivate (SrvStore *store, const char *id, GError **error);

/* Tokens: only the SHA-256 of the secret is stored (@hash, lowercase hex). */
SrvToken *srv_store_token_create (SrvStore *store, const char *user_id, const char *hash,
                                  const char *label, GError **error);
/* Returns: (nullable): the token's owner, NOT_FOUND if no token has this hash. */
SrvUser *srv_store_token_lookup (SrvStore *store, const char *hash, GError **error);
/* Deletes every token of @user_id (none is not an error); returns how many went. */
gint64 srv_store_tokens_delete_for_user (SrvStore *store, const char *user_id, GError **error);

/* Channels. Names are unique (CONFLICT). @member_ids (nullable) join with the creator, in
 * one transaction. */
SrvChannel *srv_store_channel_create (SrvStore *store, const char *name, const char *display_name,
                                      SrvChannelType type, const char *creator_id,
                                      const char *const *member_ids, GError **error);
/* Deleted channels are returned too: callers decide what a deleted channel means. */
SrvChannel *srv_store_channel_get (SrvStore *store, const char *id, GError **error);
SrvChannel *srv_store_channel_get_by_name (SrvStore *store, const char *name, GError **error);
/* Returns: (element-type SrvChannel): channels @user_id is a member of, not deleted. */
GPtrArray *srv_store_channel_list_for_user (SrvStore *store, const char *user_id, GError **error);
/* CONFLICT if already archived/deleted. */
gboolean srv_store_channel_archive (SrvStore *store, const char *id, GError **error);
gboolean srv_store_channel_delete (SrvStore *store, const char *id, GError **error);

/* Members. Adding an existing member is CONFLICT, removing a non-member NOT_FOUND. */
gboolean srv_store_member_add (SrvStore *store, const char *channel_id, const char *user_id,
                               GError **error);
gboolean srv_store_member_remove (SrvStore *store, const char *channel_id, const char *user_id,
                                  GError **error);
gboolean srv_store_member_check (SrvStore *store, const char *channel_id, const char *user_id,
                                 gboolean *is_member, GError **error);
/* Returns: (element-type SrvMember): by join time. */
GPtrArray *srv_store_member_list (SrvStore *store, const char *channel_id, GError **error);

/* Posts. @root_id (nullable) must be a root post of the same channel (NOT_FOUND).
 * @file_ids (nullable) must be files of this channel uploaded by @user_id and not yet
 * attached (CONFLICT otherwise). @props is a JSON object's text. */
SrvPost *srv_store_post_create (SrvStore *store, const char *channel_id, const char *root_id,
                                const char *user_id, const char *message, const char *props,
                                const char *const *file_ids, GError **error);
SrvPost *srv_store_post_get (SrvStore *store, const char *id, GError **error);
/* Returns: (element-type SrvPost): root posts of the channel (@root_id NULL) or the thread
 * of @root_id (the root first), oldest first, at most @limit after @after_ms. */
GPtrArray *srv_store_post_list (SrvStore *store, const char *channel_id, const char *root_id,
                                gint64 after_ms, guint limit, GError **error);

/* Files: metadata only; the bytes live in DIR/files/<id>, written by the caller. */
gboolean srv_store_file_insert (SrvStore *store, const SrvFile *file, GError **error);
SrvFile *srv_store_file_get (SrvStore *store, const char *id, GError **error);

/* Calls (srv-store-sqlite-calls.c): the history of calls and who was in them. The live
 * state is the server's (srv-calls.c); the store keeps what must survive it. */
typedef struct {
  char *user_id;
  char *call_id;
  char *channel_id;
  char *stats; /* a JSON object as text */
  gint64 updated_at;
} SrvCallStats;

void srv_call_stats_free (SrvCallStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvCallStats, srv_call_stats_free)

gboolean srv_store_call_insert (SrvStore *store, const char *id, const char *channel_id,
                                const char *root_post_id, const char *owner_id,
                                gint64 started_at, GError **error);
gboolean srv_store_call_set_host (SrvStore *store, const char *id, const char *host_id,
                                  GError **error);
/* Ends the call and every participant still in it. */
gboolean srv_store_call_end (SrvStore *store, const char *id, gint64 ended_at, const char *reason,
                             GError **error);
/* Calls left running by a server that stopped: ended with @reason. Returns how many, or -1. */
gint64 srv_store_call_end_all (SrvStore *store, gint64 ended_at, const char *reason,
                               GError **error);
/* Returns: the id of the channel's running call (NULL: none), for tests of the history. */
char *srv_store_call_running (SrvStore *store, const char *channel_id, GError **error);
gboolean srv_store_call_participant_join (SrvStore *store, const char *call_id,
                                          const char *session_id, const char *user_id,
                                          gint64 joined_at, GError **error);
gboolean srv_store_call_participant_leave (SrvStore *store, const char *call_id,
                                           const char *session_id, gint64 left_at,
                                           GError **error);

/* Client stats: one row per user, the last call's. */
gboolean srv_store_call_stats_put (SrvStore *store, const char *user_id, const char *call_id,
                                   const char *channel_id, const char *stats, GError **error);
/* Drops @user_id's stats unless they belong to @call_id (a new call replaces them). */
gboolean srv_store_call_stats_reset (SrvStore *store, const char *user_id, const char *call_id,
                                     GError **error);
/* NOT_FOUND if the user has none. */
SrvCallStats *srv_store_call_stats_get (SrvStore *store, const char *user_id, GError **error);

/* Upload sessions (srv-store-sqlite-uploads.c): a file arriving in pieces. The row holds
 * how many bytes are safely on disk (offset); the bytes live in DIR/uploads/<id>, written
 * by the caller. Completing turns the session into a row of files. */
typedef struct {
  char *id;
  char *channel_id;
  char *user_id; /* who created it: only they may append or complete */
  char *name;
  char *content_type;
  gint64 expected_size; /* -1: not declared */
  gint64 offset;        /* bytes received and synced to disk */
  gint64 created_at;
  gint64 updated_at;
  char *file_id; /* NULL until completed */
} SrvUpload;

void srv_upload_free (SrvUpload *upload);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvUpload, srv_upload_free)

/* Inserts @upload as given (offset 0, no file). */
gboolean srv_store_upload_insert (SrvStore *store, const SrvUpload *upload, GError **error);
SrvUpload *srv_store_upload_get (SrvStore *store, const char *id, GError **error);
/* The id of @user_id's newest session not completed yet; NOT_FOUND if none. */
char *srv_store_upload_latest_open_id (SrvStore *store, const char *user_id, GError **error);
/* Moves the offset from @from to @to: CONFLICT if the stored offset is not @from or the
 * session is complete, so that two writers can never both advance it. */
gboolean srv_store_upload_advance (SrvStore *store, const char *id, gint64 from, gint64 to,
                                   GError **error);
/* In one transaction: inserts @file and marks the session complete with it. CONFLICT if
 * the session was completed already or its offset is not @file->size. */
gboolean srv_store_upload_complete (SrvStore *store, const char *id, const SrvFile *file,
                                    GError **error);

/* Recordings (srv-store-sqlite-recordings.c): a recording job's state as the call saw
 * it (srv-recording.c holds the live one). @state is a SrvRecording state word. */
typedef struct {
  char *id;
  char *call_id;
  char *channel_id;
  char *thread_id;
  char *requested_by;
  char *bot_user_id;
  char *state;
  char *reason; /* (nullable) */
  gint64 created_at;
  gint64 started_at;
  gint64 stopped_at;
  gint64 ends_at;
  char *post_id; /* (nullable): the post that holds the file or the failure */
} SrvRecordingRow;

void srv_recording_row_free (SrvRecordingRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvRecordingRow, srv_recording_row_free)

gboolean srv_store_recording_insert (SrvStore *store, const SrvRecordingRow *row, GError **error);
/* Writes state, reason, the times and post_id of @row->id. */
gboolean srv_store_recording_update (SrvStore *store, const SrvRecordingRow *row, GError **error);
SrvRecordingRow *srv_store_recording_get (SrvStore *store, const char *id, GError **error);
/* Returns: (element-type SrvRecordingRow): recordings without a post (unfinished jobs). */
GPtrArray *srv_store_recording_list_unposted (SrvStore *store, GError **error);

G_END_DECLS
