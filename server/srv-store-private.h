/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-store.h"

#include <sqlite3.h>

G_BEGIN_DECLS

/* Shared between the SQLite backend's files (srv-store-sqlite*.c) only. */

gint64 srv_store_now_ms (void);
sqlite3_stmt *srv_store_stmt (SrvStore *store, const char *sql, GError **error, const char *types,
                              ...);
gboolean srv_store_exec_stmt (SrvStore *store, sqlite3_stmt *st, GError **error);
gboolean srv_store_step (SrvStore *store, sqlite3_stmt *st, GError **error);
gint64 srv_store_changes (SrvStore *store);
char *srv_store_col_text (sqlite3_stmt *st, int col);
gboolean srv_store_begin (SrvStore *store, GError **error);
gboolean srv_store_commit (SrvStore *store, GError **error);
void srv_store_rollback (SrvStore *store);
void srv_store_not_found (GError **error, const char *what);

G_END_DECLS
