/* SPDX-License-Identifier: MIT */
/* The SQLite backend's recordings: one row per recording job, written on every state
 * change so that a restarted server knows which jobs were left unfinished. */
#include "srv-store-private.h"

#define RECORDING_COLUMNS                                                                          \
  "id, call_id, channel_id, thread_id, requested_by, bot_user_id, state, reason, created_at, "     \
  "started_at, stopped_at, ends_at, post_id"

void
srv_recording_row_free (SrvRecordingRow *row)
{
  if (row == NULL)
    return;
  g_free (row->id);
  g_free (row->call_id);
  g_free (row->channel_id);
  g_free (row->thread_id);
  g_free (row->requested_by);
  g_free (row->bot_user_id);
  g_free (row->state);
  g_free (row->reason);
  g_free (row->post_id);
  g_free (row);
}

gboolean
srv_store_recording_insert (SrvStore *store, const SrvRecordingRow *row, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (store,
                                     "INSERT INTO recordings (" RECORDING_COLUMNS
                                     ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                     error, "ssssssssiiiis", row->id, row->call_id, row->channel_id,
                                     row->thread_id, row->requested_by, row->bot_user_id,
                                     row->state, row->reason, row->created_at, row->started_at,
                                     row->stopped_at, row->ends_at, row->post_id);

  return srv_store_exec_stmt (store, st, error);
}

gboolean
srv_store_recording_update (SrvStore *store, const SrvRecordingRow *row, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (store,
                                     "UPDATE recordings SET state = ?, reason = ?, started_at = ?, "
                                     "stopped_at = ?, ends_at = ?, post_id = ? WHERE id = ?",
                                     error, "ssiiiss", row->state, row->reason, row->started_at,
                                     row->stopped_at, row->ends_at, row->post_id, row->id);

  if (!srv_store_exec_stmt (store, st, error))
    return FALSE;
  if (srv_store_changes (store) != 1) {
    srv_store_not_found (error, "recording");
    return FALSE;
  }
  return TRUE;
}

static SrvRecordingRow *
row_from_stmt (sqlite3_stmt *st)
{
  SrvRecordingRow *row = g_new0 (SrvRecordingRow, 1);

  row->id = srv_store_col_text (st, 0);
  row->call_id = srv_store_col_text (st, 1);
  row->channel_id = srv_store_col_text (st, 2);
  row->thread_id = srv_store_col_text (st, 3);
  row->requested_by = srv_store_col_text (st, 4);
  row->bot_user_id = srv_store_col_text (st, 5);
  row->state = srv_store_col_text (st, 6);
  row->reason = srv_store_col_text (st, 7);
  row->created_at = sqlite3_column_int64 (st, 8);
  row->started_at = sqlite3_column_int64 (st, 9);
  row->stopped_at = sqlite3_column_int64 (st, 10);
  row->ends_at = sqlite3_column_int64 (st, 11);
  row->post_id = srv_store_col_text (st, 12);
  return row;
}

SrvRecordingRow *
srv_store_recording_get (SrvStore *store, const char *id, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (
      store, "SELECT " RECORDING_COLUMNS " FROM recordings WHERE id = ?", error, "s", id);
  SrvRecordingRow *row;
  GError *local = NULL;

  if (st == NULL)
    return NULL;
  if (!srv_store_step (store, st, &local)) {
    if (local)
      g_propagate_error (error, local);
    else
      srv_store_not_found (error, "recording");
    return NULL;
  }
  row = row_from_stmt (st);
  sqlite3_reset (st);
  return row;
}

GPtrArray *
srv_store_recording_list_unposted (SrvStore *store, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (
      store, "SELECT " RECORDING_COLUMNS " FROM recordings WHERE post_id IS NULL", error, "");
  g_autoptr (GPtrArray) rows = NULL;
  GError *local = NULL;

  if (st == NULL)
    return NULL;
  rows = g_ptr_array_new_with_free_func ((GDestroyNotify)srv_recording_row_free);
  while (srv_store_step (store, st, &local))
    g_ptr_array_add (rows, row_from_stmt (st));
  sqlite3_reset (st);
  if (local) {
    g_propagate_error (error, local);
    return NULL;
  }
  return g_steal_pointer (&rows);
}
