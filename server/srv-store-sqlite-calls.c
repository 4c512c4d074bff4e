/* SPDX-License-Identifier: MIT */
/* The SQLite backend's call history: calls, their participants, and each user's last
 * call stats. */
#include "srv-store-private.h"

void
srv_call_stats_free (SrvCallStats *stats)
{
  if (stats == NULL)
    return;
  g_free (stats->user_id);
  g_free (stats->call_id);
  g_free (stats->channel_id);
  g_free (stats->stats);
  g_free (stats);
}

gboolean
srv_store_call_insert (SrvStore *store, const char *id, const char *channel_id,
                       const char *root_post_id, const char *owner_id, gint64 started_at,
                       GError **error)
{
  return srv_store_exec_stmt (
      store,
      srv_store_stmt (store,
                      "INSERT INTO calls (id, channel_id, root_post_id, host_id, owner_id, "
                      "started_at) VALUES (?, ?, ?, ?, ?, ?)",
                      error, "sssssi", id, channel_id, root_post_id, owner_id, owner_id,
                      started_at),
      error);
}

gboolean
srv_store_call_set_host (SrvStore *store, const char *id, const char *host_id, GError **error)
{
  return srv_store_exec_stmt (
      store,
      srv_store_stmt (store, "UPDATE calls SET host_id = ? WHERE id = ?", error, "ss", host_id, id),
      error);
}

gboolean
srv_store_call_end (SrvStore *store, const char *id, gint64 ended_at, const char *reason,
                    GError **error)
{
  sqlite3_stmt *st;

  if (!srv_store_begin (store, error))
    return FALSE;
  st = srv_store_stmt (store, "UPDATE calls SET ended_at = ?, end_reason = ? WHERE id = ?", error,
                       "iss", ended_at, reason, id);
  if (!srv_store_exec_stmt (store, st, error))
    goto fail;
  st = srv_store_stmt (store,
                       "UPDATE call_participants SET left_at = ? WHERE call_id = ? AND left_at = 0",
                       error, "is", ended_at, id);
  if (!srv_store_exec_stmt (store, st, error) || !srv_store_commit (store, error))
    goto fail;
  return TRUE;

fail:
  srv_store_rollback (store);
  return FALSE;
}

gint64
srv_store_call_end_all (SrvStore *store, gint64 ended_at, const char *reason, GError **error)
{
  sqlite3_stmt *st;
  gint64 n;

  if (!srv_store_begin (store, error))
    return -1;
  st = srv_store_stmt (store, "UPDATE call_participants SET left_at = ? WHERE left_at = 0", error,
                       "i", ended_at);
  if (!srv_store_exec_stmt (store, st, error))
    goto fail;
  st = srv_store_stmt (store, "UPDATE calls SET ended_at = ?, end_reason = ? WHERE ended_at = 0",
                       error, "is", ended_at, reason);
  if (!srv_store_exec_stmt (store, st, error))
    goto fail;
  n = srv_store_changes (store);
  if (!srv_store_commit (store, error))
    goto fail;
  return n;

fail:
  srv_store_rollback (store);
  return -1;
}

char *
srv_store_call_running (SrvStore *store, const char *channel_id, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (
      store, "SELECT id FROM calls WHERE channel_id = ? AND ended_at = 0", error, "s", channel_id);
  char *id;

  if (st == NULL || !srv_store_step (store, st, error))
    return NULL;
  id = srv_store_col_text (st, 0);
  sqlite3_reset (st);
  return id;
}

gboolean
srv_store_call_participant_join (SrvStore *store, const char *call_id, const char *session_id,
                                 const char *user_id, gint64 joined_at, GError **error)
{
  return srv_store_exec_stmt (
      store,
      srv_store_stmt (store,
                      "INSERT INTO call_participants (call_id, session_id, user_id, joined_at) "
                      "VALUES (?, ?, ?, ?)",
                      error, "sssi", call_id, session_id, user_id, joined_at),
      error);
}

gboolean
srv_store_call_participant_leave (SrvStore *store, const char *call_id, const char *session_id,
                                  gint64 left_at, GError **error)
{
  return srv_store_exec_stmt (
      store,
      srv_store_stmt (store,
                      "UPDATE call_participants SET left_at = ? "
                      "WHERE call_id = ? AND session_id = ? AND left_at = 0",
                      error, "iss", left_at, call_id, session_id),
      error);
}

gboolean
srv_store_call_stats_put (SrvStore *store, const char *user_id, const char *call_id,
                          const char *channel_id, const char *stats, GError **error)
{
  return srv_store_exec_stmt (
      store,
      srv_store_stmt (store,
                      "INSERT INTO call_stats (user_id, call_id, channel_id, stats, updated_at) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET "
                      "call_id = excluded.call_id, channel_id = excluded.channel_id, "
                      "stats = excluded.stats, updated_at = excluded.updated_at",
                      error, "ssssi", user_id, call_id, channel_id, stats, srv_store_now_ms ()),
      error);
}

gboolean
srv_store_call_stats_reset (SrvStore *store, const char *user_id, const char *call_id,
                            GError **error)
{
  return srv_store_exec_stmt (
      store,
      srv_store_stmt (store, "DELETE FROM call_stats WHERE user_id = ? AND call_id != ?", error,
                      "ss", user_id, call_id),
      error);
}

SrvCallStats *
srv_store_call_stats_get (SrvStore *store, const char *user_id, GError **error)
{
  sqlite3_stmt *st = srv_store_stmt (
      store,
      "SELECT user_id, call_id, channel_id, stats, updated_at FROM call_stats WHERE user_id = ?",
      error, "s", user_id);
  GError *local = NULL;
  SrvCallStats *stats;

  if (st == NULL)
    return NULL;
  if (!srv_store_step (store, st, &local)) {
    if (local)
      g_propagate_error (error, local);
    else
      srv_store_not_found (error, "call stats");
    return NULL;
  }
  stats = g_new0 (SrvCallStats, 1);
  stats->user_id = srv_store_col_text (st, 0);
  stats->call_id = srv_store_col_text (st, 1);
  stats->channel_id = srv_store_col_text (st, 2);
  stats->stats = srv_store_col_text (st, 3);
  stats->updated_at = sqlite3_column_int64 (st, 4);
  sqlite3_reset (st);
  return stats;
}
