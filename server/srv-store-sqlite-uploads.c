/* SPDX-License-Identifier: MIT */
/* The SQLite backend's upload sessions. The offset only ever moves forward from the value
 * a writer read (compare-and-set), so a stale writer cannot overwrite a newer one's
 * progress. */
#include "srv-store-private.h"

#define UPLOAD_COLUMNS                                                                             \
  "id, channel_id, user_id, name, content_type, expected_size, offset, created_at, "               \
  "updated_at, file_id"

void
srv_upload_free (SrvUpload *upload)
{
  if (upload == NULL)
    return;
  g_free (upload->id);
  g_free (upload->channel_id);
  g_free (upload->user_id);
  g_free (upload->name);
  g_free (upload->content_type);
  g_free (upload->file_id);
  g_free (upload);
}

gboolean
srv_store_upload_insert (SrvStore *store, const SrvUpload *upload, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (
      store, "INSERT INTO uploads (" UPLOAD_COLUMNS ") VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, NULL)",
      error, "sssssiii", upload->id, upload->channel_id, upload->user_id, upload->name,
      upload->content_type, upload->expected_size, upload->created_at, upload->created_at);

  return srv_store_exec_stmt (store, st, error);
}

SrvUpload *
srv_store_upload_get (SrvStore *store, const char *id, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (store, "SELECT " UPLOAD_COLUMNS " FROM uploads WHERE id = ?",
                                     error, "s", id);
  SrvUpload *up;
  GError *local = NULL;

  if (st == NULL)
    return NULL;
  if (!srv_store_step (store, st, &local)) {
    if (local)
      g_propagate_error (error, local);
    else
      srv_store_not_found (error, "upload");
    return NULL;
  }
  up = g_new0 (SrvUpload, 1);
  up->id = srv_store_col_text (st, 0);
  up->channel_id = srv_store_col_text (st, 1);
  up->user_id = srv_store_col_text (st, 2);
  up->name = srv_store_col_text (st, 3);
  up->content_type = srv_store_col_text (st, 4);
  up->expected_size = sqlite3_column_int64 (st, 5);
  up->offset = sqlite3_column_int64 (st, 6);
  up->created_at = sqlite3_column_int64 (st, 7);
  up->updated_at = sqlite3_column_int64 (st, 8);
  up->file_id = srv_store_col_text (st, 9);
  sqlite3_reset (st);
  return up;
}

gboolean
srv_store_upload_advance (SrvStore *store, const char *id, gint64 from, gint64 to, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (store,
                                     "UPDATE uploads SET offset = ?, updated_at = ? "
                                     "WHERE id = ? AND offset = ? AND file_id IS NULL",
                                     error, "iisi", to, srv_store_now_ms (), id, from);

  if (!srv_store_exec_stmt (store, st, error))
    return FALSE;
  if (srv_store_changes (store) != 1) {
    g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT,
                 "the upload moved on or was completed");
    return FALSE;
  }
  return TRUE;
}

gboolean
srv_store_upload_complete (SrvStore *store, const char *id, const SrvFile *file, GError **error)
{
  sqlite3_stmt *st;

  if (!srv_store_begin (store, error))
    return FALSE;
  if (!srv_store_file_insert (store, file, error))
    goto fail;
  st = srv_store_stmt (store,
                       "UPDATE uploads SET file_id = ?, updated_at = ? "
                       "WHERE id = ? AND offset = ? AND file_id IS NULL",
                       error, "sisi", file->id, srv_store_now_ms (), id, file->size);
  if (!srv_store_exec_stmt (store, st, error))
    goto fail;
  if (srv_store_changes (store) != 1) {
    g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT,
                 "the upload moved on or was completed");
    goto fail;
  }
  if (!srv_store_commit (store, error))
    goto fail;
  return TRUE;

fail:
  srv_store_rollback (store);
  return FALSE;
}

char *
srv_store_upload_latest_open_id (SrvStore *store, const char *user_id, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (store,
                                     "SELECT id FROM uploads WHERE user_id = ? AND file_id IS NULL "
                                     "ORDER BY created_at DESC, rowid DESC LIMIT 1",
                                     error, "s", user_id);
  GError *local = NULL;
  char *id;

  if (st == NULL)
    return NULL;
  if (!srv_store_step (store, st, &local)) {
    if (local)
      g_propagate_error (error, local);
    else
      srv_store_not_found (error, "upload");
    return NULL;
  }
  id = srv_store_col_text (st, 0);
  sqlite3_reset (st);
  return id;
}
