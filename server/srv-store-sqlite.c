/* SPDX-License-Identifier: MIT */
/* The SQLite backend of srv-store.h: one database file, DIR/callrec.db, in WAL mode with
 * foreign keys enforced and a busy timeout. The schema is a list of migrations applied in
 * order inside one transaction each and recorded in schema_version; a database written by
 * a newer server is refused rather than misread.
 *
 * Every statement is prepared once with placeholders and cached by its SQL text: no value
 * is ever pasted into SQL. */
#include "srv-store-private.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/random.h>

G_DEFINE_QUARK (srv-store-error-quark, srv_store_error)

struct _SrvStore {
  sqlite3 *db;
  char *path;
  GHashTable *stmts; /* SQL text (static string) -> sqlite3_stmt* */
};

static const char *const migrations[] = {
  /* 1: users, tokens, channels, members, posts, files, calls */
  "CREATE TABLE users ("
  "  id TEXT PRIMARY KEY,"
  "  username TEXT NOT NULL UNIQUE,"
  "  display_name TEXT NOT NULL,"
  "  role TEXT NOT NULL CHECK (role IN ('system_admin', 'member', 'guest')),"
  "  deactivated INTEGER NOT NULL DEFAULT 0,"
  "  created_at INTEGER NOT NULL);"
  "CREATE TABLE tokens ("
  "  id TEXT PRIMARY KEY,"
  "  user_id TEXT NOT NULL REFERENCES users (id),"
  "  hash TEXT NOT NULL UNIQUE,"
  "  label TEXT NOT NULL,"
  "  created_at INTEGER NOT NULL);"
  "CREATE TABLE channels ("
  "  id TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL UNIQUE,"
  "  display_name TEXT NOT NULL,"
  "  type TEXT NOT NULL CHECK (type IN ('public', 'private', 'group', 'direct')),"
  "  creator_id TEXT NOT NULL REFERENCES users (id),"
  "  created_at INTEGER NOT NULL,"
  "  archived_at INTEGER NOT NULL DEFAULT 0,"
  "  deleted_at INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE members ("
  "  channel_id TEXT NOT NULL REFERENCES channels (id),"
  "  user_id TEXT NOT NULL REFERENCES users (id),"
  "  joined_at INTEGER NOT NULL,"
  "  PRIMARY KEY (channel_id, user_id));"
  "CREATE INDEX members_by_user ON members (user_id);"
  "CREATE TABLE posts ("
  "  id TEXT PRIMARY KEY,"
  "  channel_id TEXT NOT NULL REFERENCES channels (id),"
  "  root_id TEXT REFERENCES posts (id),"
  "  user_id TEXT NOT NULL REFERENCES users (id),"
  "  message TEXT NOT NULL,"
  "  props TEXT NOT NULL DEFAULT '{}',"
  "  created_at INTEGER NOT NULL);"
  "CREATE INDEX posts_by_channel ON posts (channel_id, root_id, created_at);"
  "CREATE TABLE files ("
  "  id TEXT PRIMARY KEY,"
  "  channel_id TEXT NOT NULL REFERENCES channels (id),"
  "  user_id TEXT NOT NULL REFERENCES users (id),"
  "  post_id TEXT REFERENCES posts (id),"
  "  name TEXT NOT NULL,"
  "  content_type TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  created_at INTEGER NOT NULL);"
  "CREATE INDEX files_by_post ON files (post_id);"
  "CREATE TABLE calls ("
  "  id TEXT PRIMARY KEY,"
  "  channel_id TEXT NOT NULL REFERENCES channels (id),"
  "  root_post_id TEXT REFERENCES posts (id),"
  "  host_id TEXT REFERENCES users (id),"
  "  started_at INTEGER NOT NULL,"
  "  ended_at INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE call_participants ("
  "  call_id TEXT NOT NULL REFERENCES calls (id),"
  "  user_id TEXT NOT NULL REFERENCES users (id),"
  "  joined_at INTEGER NOT NULL,"
  "  left_at INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX call_participants_by_call ON call_participants (call_id);",
  /* 2: calls get their owner (the starter) and why they ended; participants their
   * session (one user may rejoin several times); the last call's client stats per user. */
  "ALTER TABLE calls ADD COLUMN owner_id TEXT REFERENCES users (id);"
  "ALTER TABLE calls ADD COLUMN end_reason TEXT NOT NULL DEFAULT '';"
  "CREATE INDEX calls_by_channel ON calls (channel_id, ended_at);"
  "ALTER TABLE call_participants ADD COLUMN session_id TEXT NOT NULL DEFAULT '';"
  "CREATE TABLE call_stats ("
  "  user_id TEXT PRIMARY KEY REFERENCES users (id),"
  "  call_id TEXT NOT NULL REFERENCES calls (id),"
  "  channel_id TEXT NOT NULL REFERENCES channels (id),"
  "  stats TEXT NOT NULL,"
  "  updated_at INTEGER NOT NULL);",
  /* 3: resumable upload sessions (srv-store-sqlite-uploads.c); their bytes are in
   * DIR/uploads/<id>. */
  "CREATE TABLE uploads ("
  "  id TEXT PRIMARY KEY,"
  "  channel_id TEXT NOT NULL REFERENCES channels (id),"
  "  user_id TEXT NOT NULL REFERENCES users (id),"
  "  name TEXT NOT NULL,"
  "  content_type TEXT NOT NULL,"
  "  expected_size INTEGER NOT NULL DEFAULT -1,"
  "  offset INTEGER NOT NULL DEFAULT 0,"
  "  created_at INTEGER NOT NULL,"
  "  updated_at INTEGER NOT NULL,"
  "  file_id TEXT REFERENCES files (id));",
  /* 4: recordings (srv-store-sqlite-recordings.c): one row per recording job; its bot
   * user (bot_user_id) holds the job's token in tokens. */
  "CREATE TABLE recordings ("
  "  id TEXT PRIMARY KEY,"
  "  call_id TEXT NOT NULL REFERENCES calls (id),"
  "  channel_id TEXT NOT NULL REFERENCES channels (id),"
  "  thread_id TEXT NOT NULL REFERENCES posts (id),"
  "  requested_by TEXT NOT NULL REFERENCES users (id),"
  "  bot_user_id TEXT NOT NULL REFERENCES users (id),"
  "  state TEXT NOT NULL CHECK (state IN ('initializing', 'recording', 'stopping',"
  "                                       'stopped', 'failed')),"
  "  reason TEXT,"
  "  created_at INTEGER NOT NULL,"
  "  started_at INTEGER NOT NULL DEFAULT 0,"
  "  stopped_at INTEGER NOT NULL DEFAULT 0,"
  "  ends_at INTEGER NOT NULL DEFAULT 0,"
  "  post_id TEXT REFERENCES posts (id));"
  "CREATE INDEX recordings_by_call ON recordings (call_id);",
};

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

char *
srv_store_new_id (void)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  guint8 bytes[26];
  char *id = g_malloc (27);

  srv_random_bytes (bytes, sizeof bytes);
  for (gsize i = 0; i < sizeof bytes; i++)
    id[i] = alphabet[bytes[i] & 31];
  id[26] = '\0';
  return id;
}

void
srv_random_bytes (guint8 *buf, gsize len)
{
  gsize done = 0;

  while (done < len) {
    ssize_t n = getrandom (buf + done, len - done, 0);

    /* getrandom only fails on EINTR once the pool is initialised. */
    if (n > 0)
      done += n;
  }
}

static gboolean
db_error (SrvStore *store, GError **error, const char *what)
{
  int code = sqlite3_extended_errcode (store->db);

  if ((code & 0xff) == SQLITE_CONSTRAINT)
    g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT, "%s: %s", what,
                 sqlite3_errmsg (store->db));
  else
    g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_FAILED, "%s: %s", what,
                 sqlite3_errmsg (store->db));
  return FALSE;
}

/* The cached statement for @sql (a string literal), reset and bound to the arguments
 * named by @types: 's' a string (NULL binds NULL), 'i' a gint64. */
sqlite3_stmt *
srv_store_stmt (SrvStore *store, const char *sql, GError **error, const char *types, ...)
{
  sqlite3_stmt *st = g_hash_table_lookup (store->stmts, sql);
  va_list ap;

  if (st == NULL) {
    if (sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL)
        != SQLITE_OK) {
      db_error (store, error, "prepare");
      return NULL;
    }
    g_hash_table_insert (store->stmts, (gpointer) sql, st);
  }
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  va_start (ap, types);
  for (int i = 0; types[i]; i++) {
    if (types[i] == 's') {
      const char *s = va_arg (ap, const char *);

      sqlite3_bind_text (st, i + 1, s, -1, SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_int64 (st, i + 1, va_arg (ap, gint64));
    }
  }
  va_end (ap);
  return st;
}

/* Steps a statement that returns no rows. */
gboolean
srv_store_exec_stmt (SrvStore *store, sqlite3_stmt *st, GError **error)
{
  int rc;

  if (st == NULL)
    return FALSE;
  rc = sqlite3_step (st);
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    return db_error (store, error, "write");
  return TRUE;
}

/* Steps to the next row: TRUE with a row, FALSE at the end (error unset) or on failure. */
gboolean
srv_store_step (SrvStore *store, sqlite3_stmt *st, GError **error)
{
  int rc = sqlite3_step (st);

  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    db_error (store, error, "read");
  sqlite3_reset (st);
  return FALSE;
}

gint64
srv_store_changes (SrvStore *store)
{
  return sqlite3_changes64 (store->db);
}

char *
srv_store_col_text (sqlite3_stmt *st, int col)
{
  const unsigned char *s = sqlite3_column_text (st, col);

  return s ? g_strdup ((const char *) s) : NULL;
}

gboolean
srv_store_begin (SrvStore *store, GError **error)
{
  return srv_store_exec_stmt (store, srv_store_stmt (store, "BEGIN IMMEDIATE", error, ""), error);
}

gboolean
srv_store_commit (SrvStore *store, GError **error)
{
  return srv_store_exec_stmt (store, srv_store_stmt (store, "COMMIT", error, ""), error);
}

void
srv_store_rollback (SrvStore *store)
{
  srv_store_exec_stmt (store, srv_store_stmt (store, "ROLLBACK", NULL, ""), NULL);
}

void
srv_store_not_found (GError **error, const char *what)
{
  g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND, "%s not found", what);
}

static gboolean
exec_script (SrvStore *store, const char *sql, GError **error)
{
  char *msg = NULL;

  if (sqlite3_exec (store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_FAILED, "%s", msg ? msg : "failed");
    sqlite3_free (msg);
    return FALSE;
  }
  return TRUE;
}

static gboolean
migrate (SrvStore *store, GError **error)
{
  int current = 0;
  const int latest = G_N_ELEMENTS (migrations);

  if (!exec_script (store,
                    "CREATE TABLE IF NOT EXISTS schema_version ("
                    "  version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                    error))
    return FALSE;
  current = srv_store_schema_version (store);
  if (current > latest) {
    g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_FAILED,
                 "database schema version %d is newer than this server's %d", current, latest);
    return FALSE;
  }
  for (int v = current + 1; v <= latest; v++) {
    sqlite3_stmt *st;

    if (!exec_script (store, "BEGIN IMMEDIATE", error))
      return FALSE;
    st = srv_store_stmt (store, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                         error, "ii", (gint64) v, now_ms ());
    if (!exec_script (store, migrations[v - 1], error) || !srv_store_exec_stmt (store, st, error)
        || !exec_script (store, "COMMIT", error)) {
      g_prefix_error (error, "migration %d: ", v);
      exec_script (store, "ROLLBACK", NULL);
      return FALSE;
    }
    g_message ("store: migrated to schema version %d", v);
  }
  return TRUE;
}

static void
finalize_stmt (gpointer st)
{
  sqlite3_finalize (st);
}

SrvStore *
srv_store_open (const char *data_dir, GError **error)
{
  g_autoptr (SrvStore) store = g_new0 (SrvStore, 1);

  g_return_val_if_fail (data_dir != NULL, NULL);

  store->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, finalize_stmt);
  store->path = g_build_filename (data_dir, "callrec.db", NULL);
  if (sqlite3_open_v2 (store->path, &store->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL)
      != SQLITE_OK) {
    g_set_error (error, SRV_STORE_ERROR, SRV_STORE_ERROR_FAILED, "cannot open %s: %s", store->path,
                 store->db ? sqlite3_errmsg (store->db) : "out of memory");
    return NULL;
  }
  sqlite3_busy_timeout (store->db, 5000);
  sqlite3_extended_result_codes (store->db, 1);
  if (!exec_script (store,
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                    "PRAGMA foreign_keys = ON;",
                    error)
      || !migrate (store, error)) {
    g_prefix_error (error, "%s: ", store->path);
    return NULL;
  }
  return g_steal_pointer (&store);
}

void
srv_store_close (SrvStore *store)
{
  if (store == NULL)
    return;
  g_clear_pointer (&store->stmts, g_hash_table_unref); /* finalizes before the close */
  sqlite3_close (store->db);
  g_free (store->path);
  g_free (store);
}

int
srv_store_schema_version (SrvStore *store)
{
  sqlite3_stmt *st = srv_store_stmt (store, "SELECT MAX(version) FROM schema_version", NULL, "");
  int v = 0;

  if (st && srv_store_step (store, st, NULL)) {
    v = sqlite3_column_int (st, 0);
    sqlite3_reset (st);
  }
  return v;
}

gint64
srv_store_size (SrvStore *store)
{
  gint64 total = 0;
  const char *suffixes[] = { "", "-wal" };

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++) {
    g_autofree char *p = g_strconcat (store->path, suffixes[i], NULL);
    GStatBuf sb;

    if (g_stat (p, &sb) == 0)
      total += sb.st_size;
  }
  return total;
}

gint64
srv_store_now_ms (void)
{
  return now_ms ();
}
