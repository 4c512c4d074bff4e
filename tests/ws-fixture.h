/* SPDX-License-Identifier: MIT */
#pragma once

#include "server-fixture.h"

G_BEGIN_DECLS

/* A signaling client for process tests: libsoup's WebSocket client against the real
 * callrec-server (docs/signaling.md). Received messages queue up; the readers below run
 * the thread-default main context until one is there. A wait that sees nothing for 30 s
 * fails the test (a hang guard, not a timing assertion). */

typedef struct {
  SoupSession *session;
  SoupWebsocketConnection *conn;
  GQueue queue;    /* JsonNode* envelopes, oldest first */
  GPtrArray *seen; /* JsonNode* handed out, freed with the client */
  gboolean closed;
  gushort close_code;
  gint64 seq;       /* the last seq sent */
  char *session_id; /* from hello */
} Ws;

/* Connects; with @token, as an Authorization header (and expects `hello`). On a refused
 * upgrade returns NULL and sets *@http_status (nullable). */
Ws *ws_connect (Server *s, const char *token, guint *http_status);
/* Connects without a header and authenticates with an `auth` message. */
Ws *ws_connect_auth (Server *s, const char *token);
void ws_free (Ws *ws);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ws, ws_free)

/* Sends {"type", "seq", "data"} (@data: JSON object text, nullable). Returns its seq. */
gint64 ws_send (Ws *ws, const char *type, const char *data);
void ws_send_raw (Ws *ws, const char *text);
void ws_send_binary (Ws *ws, const void *data, gsize len);

/* The next message: (transfer none) envelope object, valid until ws_free(). */
JsonObject *ws_next (Ws *ws);
/* The next message must be @type; returns its data. */
JsonObject *ws_expect (Ws *ws, const char *type);
/* Skips messages until one of @type; returns its data. */
JsonObject *ws_wait (Ws *ws, const char *type);
/* The next message is an error with @code (and the seq of the message at fault, or -1
 * for an error about no particular message). */
void ws_expect_error (Ws *ws, const char *code, gint64 seq);
/* Waits for the server to close the socket; returns the close code. */
gushort ws_wait_closed (Ws *ws);
/* TRUE once nothing is queued (does not wait). */
gboolean ws_queue_empty (Ws *ws);

/* Data helpers. */
const char *data_string (JsonObject *data, const char *member);

G_END_DECLS
