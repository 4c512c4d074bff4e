/* SPDX-License-Identifier: MIT */
/* The SQLite backend's rows: users, tokens, channels, members, posts, files. */
#include "srv-store-private.h"

#include <string.h>

static const char *const role_names[] = { "system_admin", "member", "guest" };
static const char *const channel_type_names[] = { "public", "private", "group", "direct" };

const char *
srv_role_to_string (SrvRole role)
{
  g_return_val_if_fail (role <= SRV_ROLE_GUEST, "guest");
  return role_names[role];
}

gboolean
srv_role_from_string (const char *s, SrvRole *role)
{
  for (gsize i = 0; s && i < G_N_ELEMENTS (role_names); i++) {
    if (strcmp (s, role_names[i]) == 0) {
      *role = i;
      return TRUE;
    }
  }
  return FALSE;
}

const char *
srv_channel_type_to_string (SrvChannelType type)
{
  g_return_val_if_fail (type <= SRV_CHANNEL_DIRECT, "private");
  return channel_type_names[type];
}

gboolean
srv_channel_type_from_string (const char *s, SrvChannelType *type)
{
  for (gsize i = 0; s && i < G_N_ELEMENTS (channel_type_names); i++) {
    if (strcmp (s, channel_type_names[i]) == 0) {
      *type = i;
      return TRUE;
    }
  }
  return FALSE;
}

void
srv_user_free (SrvUser *user)
{
  if (user == NULL)
    return;
  g_free (user->id);
  g_free (user->username);
  g_free (user->display_name);
  g_free (user);
}

void
srv_channel_free (SrvChannel *channel)
{
  if (channel == NULL)
    return;
  g_free (channel->id);
  g_free (channel->name);
  g_free (channel->display_name);
  g_free (channel->creator_id);
  g_free (channel);
}

void
srv_member_free (SrvMember *member)
{
  if (member == NULL)
    return;
  g_free (member->user_id);
  g_free (member);
}

void
srv_post_free (SrvPost *post)
{
  if (post == NULL)
    return;
  g_free (post->id);
  g_free (post->channel_id);
  g_free (post->root_id);
  g_free (post->user_id);
  g_free (post->message);
  g_free (post->props);
  g_clear_pointer (&post->file_ids, g_ptr_array_unref);
  g_free (post);
}

void
srv_file_free (SrvFile *file)
{
  if (file == NULL)
    return;
  g_free (file->id);
  g_free (file->channel_id);
  g_free (file->user_id);
  g_free (file->post_id);
  g_free (file->name);
  g_free (file->content_type);
  g_free (file->sha256);
  g_free (file);
}

void
srv_token_free (SrvToken *token)
{
  if (token == NULL)
    return;
  g_free (token->id);
  g_free (token->user_id);
  g_free (token->label);
  g_free (token);
}

/* ---- users ---- */

#define USER_COLUMNS "id, username, display_name, role, deactivated, created_at"

static SrvUser *
user_from_row (sqlite3_stmt *st)
{
  SrvUser *user = g_new0 (SrvUser, 1);

  user->id = srv_store_col_text (st, 0);
  user->username = srv_store_col_text (st, 1);
  user->display_name = srv_store_col_text (st, 2);
  if (!srv_role_from_string ((const char *) sqlite3_column_text (st, 3), &user->role))
    user->role = SRV_ROLE_GUEST; /* the CHECK constraint makes this unreachable */
  user->deactivated = sqlite3_column_int (st, 4) != 0;
  user->created_at = sqlite3_column_int64 (st, 5);
  return user;
}

/* Reads one user from a bound statement, NOT_FOUND if there is none. */
static SrvUser *
one_user (SrvStore *store, sqlite3_stmt *st, GError **error)
{
  GError *local = NULL;
  SrvUser *user;

  if (st == NULL)
    return NULL;
  if (!srv_store_step (store, st, &local)) {
    if (local)
      g_propagate_error (error, local);
    else
      srv_store_not_found (error, "user");
    return NULL;
  }
  user = user_from_row (st);
  sqlite3_reset (st);
  return user;
}

SrvUser *
srv_store_user_create (SrvStore *store, const char *username, const char *display_name,
                       SrvRole role, GError **error)
{
  g_autofree char *id = srv_store_new_id ();
  sqlite3_stmt *st = srv_store_stmt (
      store, "INSERT INTO users (" USER_COLUMNS ") VALUES (?, ?, ?, ?, 0, ?)", error, "ssssi", id,
      username, display_name, srv_role_to_string (role), srv_store_now_ms ());

  if (!srv_store_exec_stmt (store, st, error))
    return NULL;
  return srv_store_user_get (store, id, error);
}

SrvUser *
srv_store_user_get (SrvStore *store, const char *id, GError **error)
{
  return one_user (
      store,
      srv_store_stmt (store, "SELECT " USER_COLUMNS " FROM users WHERE id = ?", error, "s", id),
      error);
}

SrvUser *
srv_store_user_get_by_name (SrvStore *store, const char *username, GError **error)
{
  return one_user (store,
                   srv_store_stmt (store, "SELECT " USER_COLUMNS " FROM users WHERE username = ?",
                                   error, "s", username),
                   error);
}

GPtrArray *
srv_store_user_list (SrvStore *store, GError **error)
{
  g_autoptr (GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) srv_user_free);
  sqlite3_stmt *st
      = srv_store_stmt (store, "SELECT " USER_COLUMNS " FROM users ORDER BY username", error, "");
  GError *local = NULL;

  if (st == NULL)
    return NULL;
  while (srv_store_step (store, st, &local))
    g_ptr_array_add (users, user_from_row (st));
  if (local) {
    g_propagate_error (error, local);
    return NULL;
  }
  return g_steal_pointer (&users);
}

gint64
srv_store_user_count (SrvStore *store, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (store, "SELECT COUNT(*) FROM users", error, "");
  gint64 n;

  if (st == NULL || !srv_store_step (store, st, error))
    return -1;
  n = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  return n;
}

gboolean
srv_store_user_deactivate (SrvStore *store, const char *id, GError **error)
{
  sqlite3_stmt *st
      = srv_store_stmt (store, "UPDATE users SET deactivated = 1 WHERE id = ?", error, "s", id);

  if (!srv_store_exec_stmt (store, st, error))
    return FALSE;
  if (srv_store_changes (store) == 0) {
    srv_store_not_found (error, "user");
    return FALSE;
  }
  return TRUE;
}

/* ---- tokens ---- */

SrvToken *
srv_store_token_create (SrvStore *store, const char *user_id, const char *hash, const char *label,
                        GError **error)
{
  g_autoptr (SrvToken) token = g_new0 (SrvToken, 1);
  sqlite3_stmt *st;

  token->id = srv_store_new_id ();
  token->user_id = g_strdup (user_id);
  token->label = g_strdup (label ? label : "");
  token->created_at = srv_store_now_ms ();
  st = srv_store_stmt (store,
                       "INSERT INTO tokens (id, user_id, hash, label, created_at) "
                       "VALUES (?, ?, ?, ?, ?)",
                       error, "ssssi", token->id, user_id, hash, token->label, token->created_at);
  if (!srv_store_exec_stmt (store, st, error))
    return NULL;
  return g_steal_pointer (&token);
}

SrvUser *
srv_store_token_lookup (SrvStore *store, const char *hash, GError **error)
{
  return one_user (store,
                   srv_store_stmt (store,
                                   "SELECT u.id, u.username, u.display_name, u.role, "
                                   "u.deactivated, u.created_at FROM tokens t "
                                   "JOIN users u ON u.id = t.user_id WHERE t.hash = ?",
                                   error, "s", hash),
                   error);
}

gint64
srv_store_tokens_delete_for_user (SrvStore *store, const char *user_id, GError **error)
{
  sqlite3_stmt *st
      = srv_store_stmt (store, "DELETE FROM tokens WHERE user_id = ?", error, "s", user_id);

  if (!srv_store_exec_stmt (store, st, error))
    return -1;
  return srv_store_changes (store);
}

/* ---- channels ---- */

#define CHANNEL_COLUMNS                                                                            \
  "id, name, display_name, type, creator_id, created_at, archived_at, deleted_at"

static SrvChannel *
channel_from_row (sqlite3_stmt *st)
{
  SrvChannel *ch = g_new0 (SrvChannel, 1);

  ch->id = srv_store_col_text (st, 0);
  ch->name = srv_store_col_text (st, 1);
  ch->display_name = srv_store_col_text (st, 2);
  if (!srv_channel_type_from_string ((const char *) sqlite3_column_text (st, 3), &ch->type))
    ch->type = SRV_CHANNEL_PRIVATE;
  ch->creator_id = srv_store_col_text (st, 4);
  ch->created_at = sqlite3_column_int64 (st, 5);
  ch->archived_at = sqlite3_column_int64 (st, 6);
  ch->deleted_at = sqlite3_column_int64 (st, 7);
  return ch;
}

static SrvChannel *
one_channel (SrvStore *store, sqlite3_stmt *st, GError **error)
{
  GError *local = NULL;
  SrvChannel *ch;

  if (st == NULL)
    return NULL;
  if (!srv_store_step (store, st, &local)) {
    if (local)
      g_propagate_error (error, local);
    else
      srv_store_not_found (error, "channel");
    return NULL;
  }
  ch = channel_from_row (st);
  sqlite3_reset (st);
  return ch;
}

static gboolean
insert_member (SrvStore *store, const char *channel_id, const char *user_id, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (
      store, "INSERT INTO members (channel_id, user_id, joined_at) VALUES (?, ?, ?)", error, "ssi",
      channel_id, user_id, srv_store_now_ms ());

  return srv_store_exec_stmt (store, st, error);
}

SrvChannel *
srv_store_channel_create (SrvStore *store, const char *name, const char *display_name,
                          SrvChannelType type, const char *creator_id,
                          const char *const *member_ids, GError **error)
{
  g_autofree char *id = srv_store_new_id ();
  sqlite3_stmt *st;

  if (!srv_store_begin (store, error))
    return NULL;
  st = srv_store_stmt (store,
                       "INSERT INTO channels (" CHANNEL_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
                       error, "sssssi", id, name, display_name, srv_channel_type_to_string (type),
                       creator_id, srv_store_now_ms ());
  if (!srv_store_exec_stmt (store, st, error) || !insert_member (store, id, creator_id, error))
    goto fail;
  for (gsize i = 0; member_ids && member_ids[i]; i++) {
    if (strcmp (member_ids[i], creator_id) != 0 && !insert_member (store, id, member_ids[i], error))
      goto fail;
  }
  if (!srv_store_commit (store, error))
    goto fail;
  return srv_store_channel_get (store, id, error);

fail:
  srv_store_rollback (store);
  return NULL;
}

SrvChannel *
srv_store_channel_get (SrvStore *store, const char *id, GError **error)
{
  return one_channel (store,
                      srv_store_stmt (store,
                                      "SELECT " CHANNEL_COLUMNS " FROM channels WHERE id = ?",
                                      error, "s", id),
                      error);
}

SrvChannel *
srv_store_channel_get_by_name (SrvStore *store, const char *name, GError **error)
{
  return one_channel (store,
                      srv_store_stmt (store,
                                      "SELECT " CHANNEL_COLUMNS " FROM channels WHERE name = ?",
                                      error, "s", name),
                      error);
}

GPtrArray *
srv_store_channel_list_for_user (SrvStore *store, const char *user_id, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) srv_channel_free);
  sqlite3_stmt *st = srv_store_stmt (
      store,
      "SELECT c.id, c.name, c.display_name, c.type, c.creator_id, c.created_at, c.archived_at, "
      "c.deleted_at FROM channels c JOIN members m ON m.channel_id = c.id "
      "WHERE m.user_id = ? AND c.deleted_at = 0 ORDER BY c.name",
      error, "s", user_id);
  GError *local = NULL;

  if (st == NULL)
    return NULL;
  while (srv_store_step (store, st, &local))
    g_ptr_array_add (list, channel_from_row (st));
  if (local) {
    g_propagate_error (error, local);
    return NULL;
  }
  return g_steal_pointer (&list);
}

static gboolean
channel_update (SrvStore *store, sqlite3_stmt *st, const char *id, const char *already,
                GError **error)
{
  g_autoptr (SrvChannel) ch = NULL;

  if (!srv_store_exec_stmt (store, st, error))
    return FALSE;
  if (srv_store_changes (store) > 0)
    return TRUE;
  ch = srv_store_channel_get (store, id, error);
  if (ch)
    g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT, "channel is already %s",
                 already);
  return FALSE;
}

gboolean
srv_store_channel_archive (SrvStore *store, const char *id, GError **error)
{
  return channel_update (store,
                         srv_store_stmt (store,
                                         "UPDATE channels SET archived_at = ? "
                                         "WHERE id = ? AND archived_at = 0 AND deleted_at = 0",
                                         error, "is", srv_store_now_ms (), id),
                         id, "archived or deleted", error);
}

gboolean
srv_store_channel_delete (SrvStore *store, const char *id, GError **error)
{
  return channel_update (store,
                         srv_store_stmt (store,
                                         "UPDATE channels SET deleted_at = ? "
                                         "WHERE id = ? AND deleted_at = 0",
                                         error, "is", srv_store_now_ms (), id),
                         id, "deleted", error);
}

/* ---- members ---- */

gboolean
srv_store_member_add (SrvStore *store, const char *channel_id, const char *user_id, GError **error)
{
  return insert_member (store, channel_id, user_id, error);
}

gboolean
srv_store_member_remove (SrvStore *store, const char *channel_id, const char *user_id,
                         GError **error)
{
  sqlite3_stmt *st
      = srv_store_stmt (store, "DELETE FROM members WHERE channel_id = ? AND user_id = ?", error,
                        "ss", channel_id, user_id);

  if (!srv_store_exec_stmt (store, st, error))
    return FALSE;
  if (srv_store_changes (store) == 0) {
    srv_store_not_found (error, "member");
    return FALSE;
  }
  return TRUE;
}

gboolean
srv_store_member_check (SrvStore *store, const char *channel_id, const char *user_id,
                        gboolean *is_member, GError **error)
{
  sqlite3_stmt *st
      = srv_store_stmt (store, "SELECT 1 FROM members WHERE channel_id = ? AND user_id = ?", error,
                        "ss", channel_id, user_id);
  GError *local = NULL;

  if (st == NULL)
    return FALSE;
  *is_member = srv_store_step (store, st, &local);
  sqlite3_reset (st);
  if (local) {
    g_propagate_error (error, local);
    return FALSE;
  }
  return TRUE;
}

GPtrArray *
srv_store_member_list (SrvStore *store, const char *channel_id, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) srv_member_free);
  sqlite3_stmt *st = srv_store_stmt (
      store,
      "SELECT user_id, joined_at FROM members WHERE channel_id = ? ORDER BY joined_at, rowid",
      error, "s", channel_id);
  GError *local = NULL;

  if (st == NULL)
    return NULL;
  while (srv_store_step (store, st, &local)) {
    SrvMember *m = g_new0 (SrvMember, 1);

    m->user_id = srv_store_col_text (st, 0);
    m->joined_at = sqlite3_column_int64 (st, 1);
    g_ptr_array_add (list, m);
  }
  if (local) {
    g_propagate_error (error, local);
    return NULL;
  }
  return g_steal_pointer (&list);
}

/* ---- posts ---- */

#define POST_COLUMNS "id, channel_id, root_id, user_id, message, props, created_at"

static gboolean
load_post_files (SrvStore *store, SrvPost *post, GError **error)
{
  sqlite3_stmt *st
      = srv_store_stmt (store, "SELECT id FROM files WHERE post_id = ? ORDER BY created_at, rowid",
                        error, "s", post->id);
  GError *local = NULL;

  if (st == NULL)
    return FALSE;
  post->file_ids = g_ptr_array_new_with_free_func (g_free);
  while (srv_store_step (store, st, &local))
    g_ptr_array_add (post->file_ids, srv_store_col_text (st, 0));
  if (local) {
    g_propagate_error (error, local);
    return FALSE;
  }
  return TRUE;
}

static SrvPost *
post_from_row (sqlite3_stmt *st)
{
  SrvPost *post = g_new0 (SrvPost, 1);

  post->id = srv_store_col_text (st, 0);
  post->channel_id = srv_store_col_text (st, 1);
  post->root_id = srv_store_col_text (st, 2);
  post->user_id = srv_store_col_text (st, 3);
  post->message = srv_store_col_text (st, 4);
  post->props = srv_store_col_text (st, 5);
  post->created_at = sqlite3_column_int64 (st, 6);
  return post;
}

SrvPost *
srv_store_post_get (SrvStore *store, const char *id, GError **error)
{
  sqlite3_stmt *st
      = srv_store_stmt (store, "SELECT " POST_COLUMNS " FROM posts WHERE id = ?", error, "s", id);
  g_autoptr (SrvPost) post = NULL;
  GError *local = NULL;

  if (st == NULL)
    return NULL;
  if (!srv_store_step (store, st, &local)) {
    if (local)
      g_propagate_error (error, local);
    else
      srv_store_not_found (error, "post");
    return NULL;
  }
  post = post_from_row (st);
  sqlite3_reset (st);
  if (!load_post_files (store, post, error))
    return NULL;
  return g_steal_pointer (&post);
}

SrvPost *
srv_store_post_create (SrvStore *store, const char *channel_id, const char *root_id,
                       const char *user_id, const char *message, const char *props,
                       const char *const *file_ids, GError **error)
{
  g_autofree char *id = srv_store_new_id ();
  sqlite3_stmt *st;

  if (root_id) {
    g_autoptr (SrvPost) root = srv_store_post_get (store, root_id, NULL);

    if (root == NULL || root->root_id != NULL || strcmp (root->channel_id, channel_id) != 0) {
      g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND,
                   "root post not found in this channel");
      return NULL;
    }
  }
  if (!srv_store_begin (store, error))
    return NULL;
  st = srv_store_stmt (store, "INSERT INTO posts (" POST_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                       error, "ssssssi", id, channel_id, root_id, user_id, message,
                       props ? props : "{}", srv_store_now_ms ());
  if (!srv_store_exec_stmt (store, st, error))
    goto fail;
  for (gsize i = 0; file_ids && file_ids[i]; i++) {
    st = srv_store_stmt (store,
                         "UPDATE files SET post_id = ? WHERE id = ? AND channel_id = ? "
                         "AND user_id = ? AND post_id IS NULL",
                         error, "ssss", id, file_ids[i], channel_id, user_id);
    if (!srv_store_exec_stmt (store, st, error))
      goto fail;
    if (srv_store_changes (store) != 1) {
      g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT,
                   "file %s is not an unattached upload of yours in this channel", file_ids[i]);
      goto fail;
    }
  }
  if (!srv_store_commit (store, error))
    goto fail;
  return srv_store_post_get (store, id, error);

fail:
  srv_store_rollback (store);
  return NULL;
}

GPtrArray *
srv_store_post_list (SrvStore *store, const char *channel_id, const char *root_id, gint64 after_ms,
                     guint limit, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) srv_post_free);
  sqlite3_stmt *st;
  GError *local = NULL;

  if (root_id)
    st = srv_store_stmt (store,
                         "SELECT " POST_COLUMNS " FROM posts WHERE channel_id = ? "
                         "AND (id = ? OR root_id = ?) AND created_at > ? "
                         "ORDER BY created_at, rowid LIMIT ?",
                         error, "sssii", channel_id, root_id, root_id, after_ms, (gint64) limit);
  else
    st = srv_store_stmt (store,
                         "SELECT " POST_COLUMNS " FROM posts WHERE channel_id = ? "
                         "AND root_id IS NULL AND created_at > ? "
                         "ORDER BY created_at, rowid LIMIT ?",
                         error, "sii", channel_id, after_ms, (gint64) limit);
  if (st == NULL)
    return NULL;
  while (srv_store_step (store, st, &local))
    g_ptr_array_add (list, post_from_row (st));
  if (local) {
    g_propagate_error (error, local);
    return NULL;
  }
  for (guint i = 0; i < list->len; i++) {
    if (!load_post_files (store, list->pdata[i], error))
      return NULL;
  }
  return g_steal_pointer (&list);
}

/* ---- files ---- */

#define FILE_COLUMNS                                                                               \
  "id, channel_id, user_id, post_id, name, content_type, sha256, size, created_at"

gboolean
srv_store_file_insert (SrvStore *store, const SrvFile *file, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (
      store, "INSERT INTO files (" FILE_COLUMNS ") VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)", error,
      "ssssssii", file->id, file->channel_id, file->user_id, file->name, file->content_type,
      file->sha256, file->size, file->created_at);

  return srv_store_exec_stmt (store, st, error);
}

SrvFile *
srv_store_file_get (SrvStore *store, const char *id, GError **error)
{
  sqlite3_stmt *st
      = srv_store_stmt (store, "SELECT " FILE_COLUMNS " FROM files WHERE id = ?", error, "s", id);
  SrvFile *file;
  GError *local = NULL;

  if (st == NULL)
    return NULL;
  if (!srv_store_step (store, st, &local)) {
    if (local)
      g_propagate_error (error, local);
    else
      srv_store_not_found (error, "file");
    return NULL;
  }
  file = g_new0 (SrvFile, 1);
  file->id = srv_store_col_text (st, 0);
  file->channel_id = srv_store_col_text (st, 1);
  file->user_id = srv_store_col_text (st, 2);
  file->post_id = srv_store_col_text (st, 3);
  file->name = srv_store_col_text (st, 4);
  file->content_type = srv_store_col_text (st, 5);
  file->sha256 = srv_store_col_text (st, 6);
  file->size = sqlite3_column_int64 (st, 7);
  file->created_at = sqlite3_column_int64 (st, 8);
  sqlite3_reset (st);
  return file;
}
