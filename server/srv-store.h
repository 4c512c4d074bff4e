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

G_END_DECLS
