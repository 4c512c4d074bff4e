/* SPDX-License-Identifier: MIT */
#pragma once

#include "cr-message.h"

G_BEGIN_DECLS

/* Strict JSON for cr-message.c, kept apart from the message table (cr-message-json.c).
 * Errors are in CR_MESSAGE_ERROR. */

/* Checks @text (UTF-8 without NUL bytes, @len bytes) against RFC 8259 without recursion:
 * nesting at most CR_MESSAGE_MAX_DEPTH, no "\u0000", no unpaired surrogate, integers
 * within gint64. */
gboolean cr_message_json_check (const char *text, gsize len, GError **error);

/* Appends @node as JSON; @depth is its nesting level (1 for a top-level container).
 * Fails on non-UTF-8 strings, non-finite doubles, nesting beyond CR_MESSAGE_MAX_DEPTH or
 * output beyond CR_MESSAGE_MAX_SIZE. */
gboolean cr_message_json_write (GString *out, JsonNode *node, guint depth, GError **error);
gboolean cr_message_json_write_string (GString *out, const char *s, GError **error);

G_END_DECLS
