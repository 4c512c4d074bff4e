/* SPDX-License-Identifier: MIT */
#include "cr-lines.h"

#include <string.h>

#define CHUNK 16384

struct _CrLineReader {
  GInputStream *stream;
  GCancellable *cancellable;
  gsize max_line;
  CrLineFunc on_line;
  CrLineClosedFunc on_closed;
  gpointer user_data;
  GByteArray *pending; /* bytes of the current, unfinished line */
  gboolean skipping;   /* the current line was too long: drop it up to its newline */
  guint8 chunk[CHUNK];
};

static void read_more (CrLineReader *reader);

static void
deliver (CrLineReader *reader, const guint8 *data, gsize length)
{
  /* Tolerate CRLF. */
  if (length > 0 && data[length - 1] == '\r')
    length--;
  g_autofree char *line = g_strndup ((const char *) data, length);
  if (length > 0)
    reader->on_line (line, strlen (line), reader->user_data);
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError *error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (error);
    return; /* reader is being freed */
  }
  CrLineReader *reader = user_data;
  if (n <= 0) {
    reader->on_closed (error, reader->user_data);
    g_clear_error (&error);
    return;
  }
  const guint8 *p = reader->chunk, *end = reader->chunk + n;
  while (p < end) {
    const guint8 *nl = memchr (p, '\n', (gsize) (end - p));
    const guint8 *stop = nl ? nl : end;
    if (!reader->skipping) {
      g_byte_array_append (reader->pending, p, (guint) (stop - p));
      if (reader->pending->len > reader->max_line) {
        g_warning ("signaling line longer than %" G_GSIZE_FORMAT " bytes dropped",
                   reader->max_line);
        g_byte_array_set_size (reader->pending, 0);
        reader->skipping = TRUE;
      }
    }
    if (!nl)
      break;
    if (!reader->skipping)
      deliver (reader, reader->pending->data, reader->pending->len);
    g_byte_array_set_size (reader->pending, 0);
    reader->skipping = FALSE;
    p = nl + 1;
  }
  read_more (reader);
}

static void
read_more (CrLineReader *reader)
{
  g_input_stream_read_async (reader->stream, reader->chunk, CHUNK, G_PRIORITY_DEFAULT,
                             reader->cancellable, on_read, reader);
}

CrLineReader *
cr_line_reader_new (GInputStream *stream, gsize max_line, CrLineFunc on_line,
                    CrLineClosedFunc on_closed, gpointer user_data)
{
  CrLineReader *reader = g_new0 (CrLineReader, 1);
  reader->stream = g_object_ref (stream);
  reader->cancellable = g_cancellable_new ();
  reader->max_line = max_line;
  reader->on_line = on_line;
  reader->on_closed = on_closed;
  reader->user_data = user_data;
  reader->pending = g_byte_array_new ();
  read_more (reader);
  return reader;
}

static gboolean
free_later (gpointer data)
{
  CrLineReader *reader = data;
  g_object_unref (reader->stream);
  g_object_unref (reader->cancellable);
  g_byte_array_unref (reader->pending);
  g_free (reader);
  return G_SOURCE_REMOVE;
}

void
cr_line_reader_free (CrLineReader *reader)
{
  if (!reader)
    return;
  /* A pending read still points into reader->chunk: cancel it, and free only after its
   * callback had a chance to run (cancelled reads complete on a later iteration). */
  g_cancellable_cancel (reader->cancellable);
  g_timeout_add (100, free_later, reader);
}

gboolean
cr_line_write (GOutputStream *stream, const char *line, GError **error)
{
  gsize len = strlen (line);
  g_autofree char *buf = g_malloc (len + 1);
  memcpy (buf, line, len);
  buf[len] = '\n';
  return g_output_stream_write_all (stream, buf, len + 1, NULL, NULL, error);
}
