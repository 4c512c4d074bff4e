/* SPDX-License-Identifier: MIT */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Reads newline-delimited messages from a stream on the thread-default main context.
 * A line longer than max_line is reported through on_error and skipped, never buffered
 * whole. on_closed runs once, at end of stream or on a read error. */
typedef struct _CrLineReader CrLineReader;
typedef void (*CrLineFunc) (const char *line, gsize length, gpointer user_data);
typedef void (*CrLineClosedFunc) (const GError *error, gpointer user_data);

CrLineReader *cr_line_reader_new (GInputStream *stream, gsize max_line, CrLineFunc on_line,
                                  CrLineClosedFunc on_closed, gpointer user_data);
void cr_line_reader_free (CrLineReader *reader);

/* Writes line and a newline, whole, blocking (messages are small and the peer reads them
 * promptly). Returns FALSE when the stream is closed. */
gboolean cr_line_write (GOutputStream *stream, const char *line, GError **error);

G_END_DECLS
