/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The real callrec-server for process tests: started on 127.0.0.1 with a free port
 * ("--listen 127.0.0.1:0", the bound port read from its first stdout line) and a data
 * directory; its stderr is appended to DIR.log. */

typedef struct {
  GSubprocess *proc;
  char *dir;
  char *log_path;
  char *base; /* http://127.0.0.1:PORT */
} Server;

/* @env: extra NAME=VALUE pairs (nullable, NULL-terminated); @config: --config (nullable). */
Server *server_start_config (const char *dir, const char *const *env, const char *config);
Server *server_start (const char *dir, const char *const *env);
/* On a given address (HOST:PORT), e.g. to restart a server where its clients expect it. */
Server *server_start_listen (const char *dir, const char *const *env, const char *config,
                             const char *listen);
/* SIGTERM, and asserts a clean exit (status 0: under ASan, also no leaks). */
void server_stop (Server *s);
char *server_binary (void);
/* Returns: (transfer full): DIR/admin.token without its newline. */
char *read_admin_token (const char *dir);
/* Removes a temporary directory tree. */
void remove_tree (const char *path);

/* One HTTP exchange with the server (libsoup's client, no proxy). */
typedef struct {
  guint status;
  GBytes *body;
  JsonNode *json; /* when the reply is JSON */
  SoupMessageHeaders *headers;
} Reply;

void reply_free (Reply *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

/* @token, @body and @range are optional; @len -1 for a NUL-terminated @body. */
Reply *call_full (Server *s, const char *method, const char *path, const char *token,
                  const char *content_type, const void *body, gssize len, const char *range);
/* A JSON request (or none, with @json NULL). */
Reply *call (Server *s, const char *method, const char *path, const char *token,
             const char *json);
const char *member_string (JsonNode *node, const char *name);
/* Asserts an error reply: status, code and (if not NULL) the field. */
void assert_error (Reply *r, guint status, const char *code, const char *field);
void assert_status (Reply *r, guint status);

G_END_DECLS
