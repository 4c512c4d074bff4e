/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Reading JSON a peer sent, and the envelope callrec-server's WebSocket speaks
 * (docs/signaling.md), for its clients: the recorder's signaling adapter and the sim. */

/* The member's string, or NULL when @object is NULL or the member is absent or not a
 * string: never assume the type of what arrived. */
const char *cr_json_string (JsonObject *object, const char *name);
/* The member's object, or NULL in the same cases. */
JsonObject *cr_json_object (JsonObject *object, const char *name);

/* {"type": @type, "seq": @seq, "data": @data} (no "data" when @data is NULL), as one line.
 * Returns: (transfer full). */
char *cr_json_envelope (const char *type, gint64 seq, JsonObject *data);

/* The server's WebSocket for a server URL: http://HOST:PORT[/…] → ws://HOST:PORT/api/v1/websocket
 * (https → wss). Returns: (transfer full) (nullable): NULL with @error for another URL. */
char *cr_websocket_url (const char *server_url, GError **error);

G_END_DECLS
