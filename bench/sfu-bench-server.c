/* SPDX-License-Identifier: MIT */
/* The SFU under test for bench/sfu-forward, in its own process so that its CPU time and
 * memory can be read from /proc without the load clients' share. It links only the public
 * API (sfu.h) and is driven by one line per command on stdin; SDP travels base64-encoded so
 * that one SDP is one line.
 *
 *   call <call>                          -> ok call <call>
 *   add <call> <participant> <offer64>   -> answer <call> <participant> <answer64>
 *   answer <call> <participant> <sdp64>  -> ok answer <call> <participant>
 *   screen <call> <participant>          -> ok screen <call> <participant>
 *   stats                                -> stats <in> <out> <connected> <lost> <srtp errors>
 *   quit                                 -> (exits)
 *
 * A refused command gets "err <command> <message>" instead. Unprompted lines: "offer <call>
 * <participant> <offer64>" (the SFU's re-offers, to be answered with "answer") and "event
 * disconnected <call> <participant> <reason>". It prints "ready <port>" once listening on
 * 127.0.0.1 (an ephemeral port). Options: --loops N (default: one per core), --verbose (the
 * SFU's own messages, which are otherwise dropped). */
#include "sfu.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  SfuCall *call;
  GPtrArray *participants; /* char *: ids, for "stats" */
} BenchCall;

typedef struct {
  SfuServer *server;
  GHashTable *calls; /* call id -> BenchCall */
  GDataInputStream *in;
  GMainLoop *loop;
} BenchServer;

static void
bench_call_free (gpointer data)
{
  BenchCall *bc = data;

  sfu_call_end (bc->call);
  g_ptr_array_unref (bc->participants);
  g_free (bc);
}

/* Only the main thread prints (SFU callbacks run on the main context), so lines never
 * interleave. */
static void
emit (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static void
emit (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  vfprintf (stdout, fmt, ap);
  va_end (ap);
  fputc ('\n', stdout);
  fflush (stdout);
}

static void
on_offer (const char *call_id, const char *participant_id, const char *sdp, gpointer user_data)
{
  g_autofree char *b64 = g_base64_encode ((const guchar *) sdp, strlen (sdp));

  emit ("offer %s %s %s", call_id, participant_id, b64);
}

static void
on_event (const SfuEvent *ev, gpointer user_data)
{
  if (ev->type == SFU_EVENT_DISCONNECTED)
    emit ("event disconnected %s %s %s", ev->call_id, ev->participant_id,
          ev->reason ? ev->reason : "");
}

/* The SFU logs a line per participant connecting: hundreds of them, and writes to the
 * terminal inside the measured process. Warnings and errors still show. */
static GLogWriterOutput
quiet_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, data);
}

static char *
decode_sdp (const char *b64)
{
  gsize len = 0;
  guchar *raw = g_base64_decode (b64, &len);
  char *text = g_realloc (raw, len + 1); /* not in one expression: len is set by the call */

  text[len] = '\0';
  return text;
}

static void
print_stats (BenchServer *bs)
{
  GHashTableIter iter;
  gpointer value;
  guint64 in = 0, out = 0, lost = 0, srtp_errors = 0;
  guint connected = 0;

  g_hash_table_iter_init (&iter, bs->calls);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    BenchCall *bc = value;
    for (guint i = 0; i < bc->participants->len; i++) {
      SfuParticipantStats st;
      if (!sfu_participant_get_stats (bc->call, g_ptr_array_index (bc->participants, i), &st,
                                      NULL))
        continue;
      in += st.packets_in;
      out += st.packets_out;
      lost += st.packets_lost;
      srtp_errors += st.srtp_errors;
      connected += st.connected ? 1 : 0;
    }
  }
  emit ("stats %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %u %" G_GUINT64_FORMAT
        " %" G_GUINT64_FORMAT, in, out, connected, lost, srtp_errors);
}

/* One command line; FALSE to quit. */
static gboolean
handle_line (BenchServer *bs, char *line)
{
  g_auto (GStrv) argv = g_strsplit (g_strstrip (line), " ", 4);
  guint argc = g_strv_length (argv);
  g_autoptr (GError) error = NULL;
  BenchCall *bc = NULL;

  if (argc == 0 || argv[0][0] == '\0')
    return TRUE;
  if (strcmp (argv[0], "quit") == 0)
    return FALSE;
  if (strcmp (argv[0], "stats") == 0) {
    print_stats (bs);
    return TRUE;
  }
  if (argc >= 2 && strcmp (argv[0], "call") != 0) {
    bc = g_hash_table_lookup (bs->calls, argv[1]);
    if (!bc) {
      emit ("err %s no call %s", argv[0], argv[1]);
      return TRUE;
    }
  }
  if (strcmp (argv[0], "call") == 0 && argc == 2) {
    SfuCall *call = sfu_call_new (bs->server, argv[1], &error);
    if (call) {
      bc = g_new0 (BenchCall, 1);
      bc->call = call;
      bc->participants = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (bs->calls, g_strdup (argv[1]), bc);
      emit ("ok call %s", argv[1]);
    }
  } else if (strcmp (argv[0], "add") == 0 && argc == 4) {
    g_autofree char *offer = decode_sdp (argv[3]);
    g_autofree char *answer = NULL;
    if (sfu_participant_add (bc->call, argv[2], offer, &answer, &error)) {
      g_autofree char *b64 = g_base64_encode ((const guchar *) answer, strlen (answer));
      g_ptr_array_add (bc->participants, g_strdup (argv[2]));
      emit ("answer %s %s %s", argv[1], argv[2], b64);
    }
  } else if (strcmp (argv[0], "answer") == 0 && argc == 4) {
    g_autofree char *sdp = decode_sdp (argv[3]);
    if (sfu_participant_apply_answer (bc->call, argv[2], sdp, &error))
      emit ("ok answer %s %s", argv[1], argv[2]);
  } else if (strcmp (argv[0], "screen") == 0 && argc == 3) {
    if (sfu_participant_set_screen (bc->call, argv[2], TRUE, &error))
      emit ("ok screen %s %s", argv[1], argv[2]);
  } else {
    emit ("err %s bad command", argv[0]);
    return TRUE;
  }
  if (error)
    emit ("err %s %s", argv[0], error->message);
  return TRUE;
}

static void
on_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  BenchServer *bs = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line =
      g_data_input_stream_read_line_finish_utf8 (bs->in, result, NULL, &error);

  if (!line || !handle_line (bs, line)) {
    if (error)
      g_printerr ("sfu-bench-server: stdin: %s\n", error->message);
    g_main_loop_quit (bs->loop);
    return;
  }
  g_data_input_stream_read_line_async (bs->in, G_PRIORITY_DEFAULT, NULL, on_line, bs);
}

int
main (int argc, char **argv)
{
  BenchServer bs = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- the SFU for bench/sfu-forward");
  g_autoptr (GInputStream) raw = NULL;
  int loops = 0;
  gboolean verbose = FALSE;
  GOptionEntry entries[] = {
    { "loops", 0, 0, G_OPTION_ARG_INT, &loops, "SFU event loops (0: one per core)", "N" },
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &verbose, "Show the SFU's messages", NULL },
    { NULL },
  };
  SfuConfig config;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || loops < 0) {
    g_printerr ("sfu-bench-server: %s\n", error ? error->message : "bad --loops");
    return 2;
  }
  if (!verbose)
    g_log_set_writer_func (quiet_writer, NULL, NULL);
  sfu_config_init (&config);
  config.bind_host = "127.0.0.1";
  config.port = 0;
  config.n_loops = (guint) loops;
  config.callbacks.offer = on_offer;
  config.callbacks.event = on_event;
  config.user_data = &bs;
  bs.server = sfu_server_new (&config, &error);
  if (!bs.server) {
    g_printerr ("sfu-bench-server: %s\n", error->message);
    return 1;
  }
  bs.calls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, bench_call_free);
  bs.loop = g_main_loop_new (NULL, FALSE);
  raw = g_unix_input_stream_new (0, FALSE);
  bs.in = g_data_input_stream_new (raw);
  /* Offers can be 100 KB of base64 for a large call. */
  g_buffered_input_stream_set_buffer_size (G_BUFFERED_INPUT_STREAM (bs.in), 256 * 1024);
  emit ("ready %u", sfu_server_get_port (bs.server));
  g_data_input_stream_read_line_async (bs.in, G_PRIORITY_DEFAULT, NULL, on_line, &bs);
  g_main_loop_run (bs.loop);

  g_hash_table_unref (bs.calls);
  sfu_server_free (bs.server);
  g_object_unref (bs.in);
  g_main_loop_unref (bs.loop);
  return 0;
}
