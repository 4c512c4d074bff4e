/* SPDX-License-Identifier: MIT */
/* bench/sfu-forward: what forwarding costs the SFU, per packet and per participant.
 *
 *   sfu-forward [--calls C] [--participants P] [--speakers U] [--screen] [--seconds S]
 *               [--warmup W] [--loops N] [--sample K] [--server PATH] [--no-baseline]
 *
 * After the SFU has stopped, the same invocation runs udp-fanout-baseline (next to this
 * binary) on the same load: a bare sendmmsg() fan-out with no SRTP or logic, the kernel's
 * own cost per datagram on this machine, and prints the SFU's figure as a ratio of it.
 *
 * The SFU runs in its own process (sfu-bench-server, next to this binary), so that its CPU
 * time (/proc/<pid>/task/<tid>/schedstat, all threads) and RSS (/proc/<pid>/status) are
 * its own. This process creates C calls of P participants through it; participant 0 of
 * each call shares its screen (with --screen), participants 0..U-1 speak. Every participant
 * is a light client (sfu-load-client.c) doing real ICE, DTLS and SRTP on its own UDP
 * socket, all on one epoll thread. After W s of load the SFU's CPU time and its forwarded
 * packet count (the sum of packets_out over participants, from its stats) are read, and
 * again S s later. docs/benchmarks.md, "SFU forwarding", explains the figures. */
#include "sfu-load-client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define TICK_MS 2

typedef struct {
  GPid pid;
  int in_fd, out_fd; /* its stdin (we write), its stdout (we read) */
  GString *buf;      /* bytes read from out_fd, not yet split into lines */
  gboolean eof;
  GQueue offers;     /* char *: "<call> <participant> <offer64>" awaiting our answer */
  guint errors, disconnects;
} Helper;

typedef struct {
  Helper helper;
  GPtrArray *clients;   /* SfuLoadClient */
  GHashTable *by_name;  /* "<call> <participant>" -> SfuLoadClient */
  int epfd;
  guint calls, participants, speakers;
  gboolean screen;
} Bench;

/* ---- the SFU process ---- */

static void
helper_read (Helper *h)
{
  char chunk[65536];
  ssize_t n;

  while ((n = read (h->out_fd, chunk, sizeof chunk)) > 0)
    g_string_append_len (h->buf, chunk, n);
  if (n == 0)
    h->eof = TRUE;
}

/* The next complete line (transfer full), or NULL. */
static char *
helper_next_line (Helper *h)
{
  char *nl = memchr (h->buf->str, '\n', h->buf->len);
  char *line;

  if (!nl)
    return NULL;
  line = g_strndup (h->buf->str, nl - h->buf->str);
  g_string_erase (h->buf, 0, nl - h->buf->str + 1);
  return line;
}

/* Writes all of @text, reading the helper's output meanwhile: both pipes can fill up
 * (a large call's offers one way, answers the other), and neither side may block on a
 * write while the other does. */
static gboolean
helper_write (Helper *h, const char *text)
{
  gsize len = strlen (text), done = 0;

  while (done < len) {
    ssize_t n = write (h->in_fd, text + done, len - done);
    if (n > 0) {
      done += n;
    } else if (n < 0 && errno == EAGAIN) {
      struct pollfd pfd[2] = { { h->in_fd, POLLOUT, 0 }, { h->out_fd, POLLIN, 0 } };
      poll (pfd, 2, 1000);
      if (pfd[1].revents)
        helper_read (h);
    } else {
      g_printerr ("sfu-forward: the SFU process went away\n");
      return FALSE;
    }
  }
  return TRUE;
}

/* A line that is not the awaited reply. */
static void
helper_dispatch (Helper *h, char *line)
{
  if (g_str_has_prefix (line, "offer ")) {
    g_queue_push_tail (&h->offers, g_strdup (line + 6));
  } else if (g_str_has_prefix (line, "err ")) {
    g_printerr ("sfu-forward: SFU refused: %s\n", line + 4);
    h->errors++;
  } else if (g_str_has_prefix (line, "event disconnected ")) {
    g_printerr ("sfu-forward: SFU: %s\n", line + 6);
    h->disconnects++;
  }
}

/* Handles what the helper printed, for up to @timeout_ms; returns the first line starting
 * with @prefix (transfer full), or NULL (timeout, or no @prefix given). */
static char *
helper_pump (Helper *h, const char *prefix, int timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  for (;;) {
    char *line;
    while ((line = helper_next_line (h))) {
      if (prefix && g_str_has_prefix (line, prefix))
        return line;
      helper_dispatch (h, line);
      g_free (line);
    }
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
    if (h->eof || left <= 0)
      return NULL;
    struct pollfd pfd = { h->out_fd, POLLIN, 0 };
    if (poll (&pfd, 1, (int) left) > 0)
      helper_read (h);
  }
}

/* Sends @cmd and waits for the reply starting with @prefix. (transfer full) */
static char *
helper_request (Helper *h, const char *cmd, const char *prefix)
{
  g_autofree char *text = g_strconcat (cmd, "\n", NULL);
  guint errors = h->errors;
  char *reply;

  if (!helper_write (h, text))
    return NULL;
  reply = helper_pump (h, prefix, 30000);
  if (!reply && h->errors == errors)
    g_printerr ("sfu-forward: no reply to \"%.40s\"\n", cmd);
  return reply;
}

static gboolean
helper_start (Helper *h, const char *path, int loops)
{
  g_autofree char *loops_arg = g_strdup_printf ("--loops=%d", loops);
  char *argv[] = { (char *) path, loops_arg, NULL };
  g_autoptr (GError) error = NULL;

  h->buf = g_string_new (NULL);
  if (!g_spawn_async_with_pipes (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                 &h->pid, &h->in_fd, &h->out_fd, NULL, &error)) {
    g_printerr ("sfu-forward: %s\n", error->message);
    return FALSE;
  }
  fcntl (h->in_fd, F_SETFL, fcntl (h->in_fd, F_GETFL) | O_NONBLOCK);
  fcntl (h->out_fd, F_SETFL, fcntl (h->out_fd, F_GETFL) | O_NONBLOCK);
  return TRUE;
}

static void
helper_stop (Helper *h)
{
  int status;

  if (!h->pid)
    return;
  helper_write (h, "quit\n");
  close (h->in_fd);
  for (int i = 0; i < 100; i++) {
    if (waitpid (h->pid, &status, WNOHANG) == h->pid)
      goto reaped;
    g_usleep (50000);
  }
  kill (h->pid, SIGKILL);
  waitpid (h->pid, &status, 0);
reaped:
  close (h->out_fd);
  g_string_free (h->buf, TRUE);
  h->pid = 0;
}

/* ---- /proc ---- */

/* CPU time of every thread of @pid, in ns: schedstat is exact where stat counts ticks. */
static gint64
proc_cpu_ns (GPid pid)
{
  g_autofree char *dir = g_strdup_printf ("/proc/%d/task", pid);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *tid;
  gint64 total = 0;

  while (d && (tid = g_dir_read_name (d))) {
    g_autofree char *path = g_strdup_printf ("%s/%s/schedstat", dir, tid);
    g_autofree char *text = NULL;
    if (g_file_get_contents (path, &text, NULL, NULL))
      total += g_ascii_strtoll (text, NULL, 10);
  }
  return total;
}

/* A "VmRSS:"-style field of /proc/<pid>/status, in KiB; -1 when missing. */
static gint64
proc_status_kib (GPid pid, const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || !(p = strstr (text, field)))
    return -1;
  return g_ascii_strtoll (p + strlen (field), NULL, 10);
}

/* UDP receive-buffer overflows in this network namespace (every socket, not only ours):
 * the kernel's count of datagrams dropped because a socket's buffer was full. */
static gint64
udp_rcvbuf_errors (void)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  gint64 value = -1;

  if (!g_file_get_contents ("/proc/net/snmp", &text, NULL, NULL))
    return -1;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] && lines[i + 1]; i++) {
    if (!g_str_has_prefix (lines[i], "Udp: ") || !g_str_has_prefix (lines[i + 1], "Udp: "))
      continue;
    g_auto (GStrv) names = g_strsplit (lines[i], " ", -1);
    g_auto (GStrv) values = g_strsplit (lines[i + 1], " ", -1);
    for (guint k = 0; names[k] && values[k]; k++)
      if (strcmp (names[k], "RcvbufErrors") == 0)
        value = g_ascii_strtoll (values[k], NULL, 10);
    break;
  }
  return value;
}

/* ---- set-up ---- */

/* Base64 to a NUL-terminated string. (transfer full) */
static char *
decode64 (const char *b64)
{
  gsize len = 0;
  guchar *raw = g_base64_decode (b64, &len);
  char *text = g_realloc (raw, len + 1);

  text[len] = '\0';
  return text;
}

static gboolean
answer_offers (Bench *b)
{
  char *item;

  while ((item = g_queue_pop_head (&b->helper.offers))) {
    g_auto (GStrv) parts = g_strsplit (item, " ", 3);
    g_autofree char *name = NULL;
    g_autofree char *answer = NULL;
    g_autofree char *offer = NULL;
    g_autofree char *b64 = NULL;
    g_autofree char *cmd = NULL;
    g_autoptr (GError) error = NULL;
    SfuLoadClient *c;

    g_free (item);
    if (g_strv_length (parts) != 3)
      continue;
    name = g_strdup_printf ("%s %s", parts[0], parts[1]);
    if (!(c = g_hash_table_lookup (b->by_name, name)))
      continue;
    offer = decode64 (parts[2]);
    answer = sfu_load_client_answer (c, offer, &error);
    if (!answer) {
      g_printerr ("sfu-forward: %s: bad SFU offer: %s\n", name, error->message);
      return FALSE;
    }
    b64 = g_base64_encode ((const guchar *) answer, strlen (answer));
    cmd = g_strdup_printf ("answer %s %s\n", name, b64);
    if (!helper_write (&b->helper, cmd))
      return FALSE;
  }
  return TRUE;
}

static gboolean
add_participants (Bench *b)
{
  for (guint ci = 0; ci < b->calls; ci++) {
    g_autofree char *call_id = g_strdup_printf ("c%u", ci);
    g_autofree char *cmd = g_strdup_printf ("call %s", call_id);
    g_autofree char *ok = helper_request (&b->helper, cmd, "ok call");

    if (!ok)
      return FALSE;
    for (guint pi = 0; pi < b->participants; pi++) {
      g_autofree char *id = g_strdup_printf ("p%u", pi);
      g_autoptr (GError) error = NULL;
      gboolean sharer = b->screen && pi == 0;
      SfuLoadClient *c = sfu_load_client_new (call_id, id, pi < b->speakers, sharer, &error);
      if (!c) {
        g_printerr ("sfu-forward: %s\n", error->message);
        return FALSE;
      }
      g_ptr_array_add (b->clients, c);
      g_hash_table_insert (b->by_name, g_strdup_printf ("%s %s", call_id, id), c);

      g_autofree char *offer = sfu_load_client_offer (c);
      g_autofree char *b64 = g_base64_encode ((const guchar *) offer, strlen (offer));
      g_autofree char *add = g_strdup_printf ("add %s %s %s", call_id, id, b64);
      g_autofree char *reply = helper_request (&b->helper, add, "answer ");
      if (!reply)
        return FALSE;
      g_auto (GStrv) parts = g_strsplit (reply, " ", 4);
      g_autofree char *answer = NULL;
      if (g_strv_length (parts) != 4)
        return FALSE;
      answer = decode64 (parts[3]);
      if (!sfu_load_client_set_answer (c, answer, &error)) {
        g_printerr ("sfu-forward: %s/%s: %s\n", call_id, id, error->message);
        return FALSE;
      }
      if (sharer) {
        g_autofree char *scmd = g_strdup_printf ("screen %s %s", call_id, id);
        g_autofree char *sok = helper_request (&b->helper, scmd, "ok screen");
        if (!sok)
          return FALSE;
      }
      if (!answer_offers (b))
        return FALSE;
    }
  }
  /* Renegotiation settles when no offer has come for a second. */
  for (int rounds = 0; rounds < 120; rounds++) {
    helper_pump (&b->helper, NULL, 1000);
    if (g_queue_is_empty (&b->helper.offers))
      break;
    if (!answer_offers (b))
      return FALSE;
  }
  return b->helper.errors == 0;
}

/* ---- the event loop ---- */

/* Runs the clients until @until_us, or until all are connected when @until_connected. */
static void
run (Bench *b, gint64 until_us, gboolean send_media, gboolean until_connected)
{
  struct epoll_event events[256];

  for (;;) {
    gint64 now = g_get_monotonic_time ();
    int n;

    for (guint i = 0; i < b->clients->len; i++)
      sfu_load_client_tick (g_ptr_array_index (b->clients, i), now, send_media);
    if (until_connected) {
      guint connected = 0;
      for (guint i = 0; i < b->clients->len; i++)
        connected += sfu_load_client_is_connected (g_ptr_array_index (b->clients, i));
      if (connected == b->clients->len)
        return;
    }
    if (now >= until_us)
      return;
    n = epoll_wait (b->epfd, events, G_N_ELEMENTS (events), TICK_MS);
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr) {
        sfu_load_client_readable (events[i].data.ptr);
      } else {
        helper_read (&b->helper);
        helper_pump (&b->helper, NULL, 0);
        answer_offers (b); /* a renegotiation during the run */
      }
    }
  }
}

typedef struct {
  gint64 time_us, cpu_ns, rcvbuf_errors;
  guint64 sfu_in, sfu_out, sfu_lost, sfu_srtp_errors;
  guint connected;
  SfuLoadCounters clients;   /* summed */
  guint64 sent_by_receivers; /* sent x receivers in its call: what should arrive */
} Snapshot;

static gboolean
snapshot (Bench *b, Snapshot *s)
{
  g_autofree char *reply = NULL;

  memset (s, 0, sizeof *s);
  s->cpu_ns = proc_cpu_ns (b->helper.pid);
  s->time_us = g_get_monotonic_time ();
  s->rcvbuf_errors = udp_rcvbuf_errors ();
  reply = helper_request (&b->helper, "stats", "stats ");
  if (!reply || sscanf (reply,
                        "stats %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %u %" G_GUINT64_FORMAT
                        " %" G_GUINT64_FORMAT,
                        &s->sfu_in, &s->sfu_out, &s->connected, &s->sfu_lost,
                        &s->sfu_srtp_errors) != 5)
    return FALSE;
  for (guint i = 0; i < b->clients->len; i++) {
    SfuLoadCounters c;
    sfu_load_client_get_counters (g_ptr_array_index (b->clients, i), &c);
    s->clients.sent += c.sent;
    s->clients.received += c.received;
    s->clients.received_bytes += c.received_bytes;
    s->clients.sampled += c.sampled;
    s->clients.sample_failures += c.sample_failures;
    s->sent_by_receivers += c.sent * (b->participants - 1);
  }
  return TRUE;
}

static char *
find_sibling (const char *argv0, const char *name)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = g_path_get_dirname (self ? self : argv0);

  return g_build_filename (dir, name, NULL);
}

/* Runs bench/udp-fanout-baseline on the same load (after the SFU has stopped, so that the
 * two never share the cores) and returns its µs per datagram, or 0. */
static double
run_baseline (const char *argv0, const Bench *b, int seconds)
{
  g_autofree char *path = find_sibling (argv0, "udp-fanout-baseline");
  g_autofree char *c = g_strdup_printf ("--calls=%u", b->calls);
  g_autofree char *p = g_strdup_printf ("--participants=%u", b->participants);
  g_autofree char *u = g_strdup_printf ("--speakers=%u", b->speakers);
  g_autofree char *sec = g_strdup_printf ("--seconds=%d", seconds);
  char *argv[] = { path, c, p, u, sec, b->screen ? (char *) "--screen" : NULL, NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  const char *line;
  int status = 0;

  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                     &error) ||
      !g_spawn_check_wait_status (status, &error)) {
    g_printerr ("sfu-forward: baseline: %s\n", error->message);
    return 0;
  }
  line = strstr (out, "baseline: ");
  return line ? g_ascii_strtod (line + strlen ("baseline: "), NULL) : 0;
}

int
main (int argc, char **argv)
{
  int calls = 1, participants = 10, speakers = 2, seconds = 10, warmup = 3, loops = 0;
  int sample = 50;
  gboolean screen = FALSE, no_baseline = FALSE;
  g_autofree char *server = NULL;
  GOptionEntry entries[] = {
    { "calls", 0, 0, G_OPTION_ARG_INT, &calls, "Calls (default 1)", "C" },
    { "participants", 0, 0, G_OPTION_ARG_INT, &participants, "Per call (default 10)", "P" },
    { "speakers", 0, 0, G_OPTION_ARG_INT, &speakers, "Speakers per call (default 2)", "U" },
    { "screen", 0, 0, G_OPTION_ARG_NONE, &screen, "Participant 0 shares 1.6 Mbit/s", NULL },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Measured seconds (default 10)", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Load before measuring (default 3)", "W" },
    { "loops", 0, 0, G_OPTION_ARG_INT, &loops, "SFU loops (default: one per core)", "N" },
    { "sample", 0, 0, G_OPTION_ARG_INT, &sample, "Decrypt 1 received in K (default 50)", "K" },
    { "server", 0, 0, G_OPTION_ARG_FILENAME, &server, "sfu-bench-server to run", "PATH" },
    { "no-baseline", 0, 0, G_OPTION_ARG_NONE, &no_baseline,
      "Skip the bare-UDP baseline run after the SFU's", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- SFU forwarding cost");
  g_autoptr (GError) error = NULL;
  g_autoptr (SfuCert) cert = NULL;
  g_autofree char *ready = NULL;
  Bench b = { 0 };
  Snapshot s0, s1, s2;
  struct rusage ru;
  int status = 1;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("sfu-forward: %s\n", error->message);
    return 2;
  }
  if (calls < 1 || participants < 2 || speakers < 0 || speakers > participants ||
      seconds < 1 || warmup < 0 || loops < 0 || sample < 1 || calls * participants > 5000) {
    g_printerr ("sfu-forward: need --calls >= 1, 2 <= --participants, 0 <= --speakers <= "
                "--participants, --seconds >= 1, --sample >= 1, at most 5000 clients\n");
    return 2;
  }
  b.calls = calls;
  b.participants = participants;
  b.speakers = speakers;
  b.screen = screen;
  if (!server)
    server = find_sibling (argv[0], "sfu-bench-server");
  /* One fd per client: raise the soft limit to the hard one. */
  {
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  }
  signal (SIGPIPE, SIG_IGN);
  if (!helper_start (&b.helper, server, loops))
    return 1;
  b.clients = g_ptr_array_new_with_free_func ((GDestroyNotify) sfu_load_client_free);
  b.by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  b.epfd = epoll_create1 (EPOLL_CLOEXEC);

  ready = helper_pump (&b.helper, "ready ", 10000);
  if (!ready) {
    g_printerr ("sfu-forward: %s did not start\n", server);
    goto out;
  }
  gint64 rss_empty = proc_status_kib (b.helper.pid, "VmRSS:");
  cert = sfu_cert_new (&error);
  if (!cert) {
    g_printerr ("sfu-forward: %s\n", error->message);
    goto out;
  }
  sfu_load_init ((guint16) atoi (ready + 6), cert, (guint) sample);

  gint64 t0 = g_get_monotonic_time ();
  if (!add_participants (&b)) {
    g_printerr ("sfu-forward: set-up failed\n");
    goto out;
  }
  /* Every participant should now receive each speaker but itself, and the share unless it
   * is the sharer (clients are in call order, participant 0 first). */
  guint short_tracks = 0;
  for (guint i = 0; i < b.clients->len; i++) {
    guint pi = i % b.participants;
    guint expected = b.speakers - (pi < b.speakers ? 1 : 0) + (screen && pi != 0 ? 1 : 0);
    if (sfu_load_client_get_out_tracks (g_ptr_array_index (b.clients, i)) != expected)
      short_tracks++;
  }
  gint64 t1 = g_get_monotonic_time ();

  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
  epoll_ctl (b.epfd, EPOLL_CTL_ADD, b.helper.out_fd, &ev);
  for (guint i = 0; i < b.clients->len; i++) {
    SfuLoadClient *c = g_ptr_array_index (b.clients, i);
    ev.data.ptr = c;
    epoll_ctl (b.epfd, EPOLL_CTL_ADD, sfu_load_client_get_fd (c), &ev);
    sfu_load_client_start (c);
  }
  run (&b, g_get_monotonic_time () + 60 * G_USEC_PER_SEC, FALSE, TRUE);
  gint64 t2 = g_get_monotonic_time ();
  guint connected = 0;
  for (guint i = 0; i < b.clients->len; i++) {
    SfuLoadClient *c = g_ptr_array_index (b.clients, i);
    if (sfu_load_client_is_connected (c))
      connected++;
    else if (sfu_load_client_get_error (c))
      g_printerr ("sfu-forward: %s/%s: %s\n", sfu_load_client_get_call_id (c),
                  sfu_load_client_get_id (c), sfu_load_client_get_error (c));
  }
  printf ("set-up: %u calls x %u participants (%u speaking%s): negotiated in %.1f s, "
          "ICE+DTLS in %.1f s, %u/%u connected\n",
          b.calls, b.participants, b.speakers, screen ? ", 1 sharing" : "",
          (t1 - t0) / 1e6, (t2 - t1) / 1e6, connected, b.clients->len);
  if (short_tracks)
    printf ("warning: %u participants were not offered the expected tracks\n", short_tracks);
  if (connected != b.clients->len) {
    g_printerr ("sfu-forward: not every client connected\n");
    goto out;
  }

  /* Load: warm up, measure, then stop sending and let the last packets arrive. */
  if (!snapshot (&b, &s0))
    goto out;
  run (&b, g_get_monotonic_time () + (gint64) warmup * G_USEC_PER_SEC, TRUE, FALSE);
  if (!snapshot (&b, &s1))
    goto out;
  run (&b, s1.time_us + (gint64) seconds * G_USEC_PER_SEC, TRUE, FALSE);
  if (!snapshot (&b, &s2))
    goto out;
  gint64 rss = proc_status_kib (b.helper.pid, "VmRSS:");
  gint64 hwm = proc_status_kib (b.helper.pid, "VmHWM:");
  run (&b, g_get_monotonic_time () + 500000, FALSE, FALSE);
  Snapshot s3;
  if (!snapshot (&b, &s3))
    goto out;

  double wall = (s2.time_us - s1.time_us) / 1e6;
  double cpu_s = (s2.cpu_ns - s1.cpu_ns) / 1e9;
  guint64 fwd = s2.sfu_out - s1.sfu_out;
  guint64 arrived = s2.clients.received - s1.clients.received;
  double us_per_packet = fwd ? cpu_s * 1e6 / fwd : 0;
  double cores = cpu_s / wall;
  guint n = b.clients->len;
  double per_core = cores > 0 ? n / cores : 0;
  guint64 expected = s3.sent_by_receivers - s0.sent_by_receivers;
  guint64 received = s3.clients.received - s0.clients.received;
  double loss = expected ? 100.0 * ((double) expected - (double) received) / expected : 0;

  /* Where the loss is: per receiver, what its call's senders sent minus what it got. */
  guint short_receivers = 0;
  gint64 worst = 0;
  SfuLoadClient *worst_client = NULL;
  for (guint ci = 0; ci < b.calls; ci++) {
    guint64 call_sent = 0;
    SfuLoadCounters c;
    for (guint pi = 0; pi < b.participants; pi++) {
      sfu_load_client_get_counters (g_ptr_array_index (b.clients, ci * b.participants + pi), &c);
      call_sent += c.sent;
    }
    for (guint pi = 0; pi < b.participants; pi++) {
      SfuLoadClient *client = g_ptr_array_index (b.clients, ci * b.participants + pi);
      sfu_load_client_get_counters (client, &c);
      gint64 missing = (gint64) (call_sent - c.sent) - (gint64) c.received;
      if (c.sample_failures) {
        g_autofree char *desc = sfu_load_client_describe_samples (client);
        printf ("decryption failures at %s/%s: %s\n", sfu_load_client_get_call_id (client),
                sfu_load_client_get_id (client), desc);
      }
      if (missing > 0)
        short_receivers++;
      if (missing > worst) {
        worst = missing;
        worst_client = client;
      }
    }
  }

  getrusage (RUSAGE_SELF, &ru);
  printf ("load: %.1f s measured after %d s warm-up; clients sent %.0f packets/s (%.2f Mbit/s "
          "of SRTP received per receiver on average)\n",
          wall, warmup, (s2.clients.sent - s1.clients.sent) / wall,
          (s2.clients.received_bytes - s1.clients.received_bytes) * 8.0 / wall / 1e6 /
              MAX (n, 1));
  printf ("SFU CPU: %.3f s in %.1f s = %.3f cores (all threads, schedstat)\n", cpu_s, wall,
          cores);
  printf ("forwarded: %.0f packets/s by the SFU's counters, %.0f packets/s arrived at clients\n",
          fwd / wall, arrived / wall);
  printf ("SFU CPU per forwarded packet: %.2f us\n", us_per_packet);
  printf ("SFU RSS: %.1f MB (%.1f MB with no call; peak %.1f MB): %.0f KB per participant "
          "(%.0f KB above the empty server)\n",
          rss / 1024.0, rss_empty / 1024.0, hwm / 1024.0, (double) rss / n,
          (double) (rss - rss_empty) / n);
  printf ("loss: %.3f %% (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
          " expected packets missing over the whole load); sampled %" G_GUINT64_FORMAT
          " decrypted, %" G_GUINT64_FORMAT " failed\n",
          loss, expected - MIN (expected, received), expected, s3.clients.sampled,
          s3.clients.sample_failures);
  printf ("SFU side: %" G_GUINT64_FORMAT " packets in, %" G_GUINT64_FORMAT
          " lost on the way in (sequence gaps), %" G_GUINT64_FORMAT " SRTP errors\n",
          s3.sfu_in - s0.sfu_in, s3.sfu_lost - s0.sfu_lost,
          s3.sfu_srtp_errors - s0.sfu_srtp_errors);
  printf ("kernel: %" G_GINT64_FORMAT " UDP datagrams dropped on full receive buffers "
          "(any socket on this machine) during the load\n",
          s3.rcvbuf_errors - s0.rcvbuf_errors);
  if (worst_client)
    printf ("loss by receiver: %u of %u receivers short; worst %s/%s, %" G_GINT64_FORMAT
            " packets\n",
            short_receivers, n, sfu_load_client_get_call_id (worst_client),
            sfu_load_client_get_id (worst_client), worst);
  printf ("bench process CPU (not in the figures above): %.1f s\n",
          ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
              (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
  if (b.helper.disconnects)
    printf ("warning: the SFU reported %u disconnections\n", b.helper.disconnects);
  printf ("targets (not asserted): <= 2 us/packet, >= 1500 participants/core, "
          "<= 200 KB RSS per participant\n");
  if (!no_baseline) {
    double base;

    fflush (stdout);
    helper_stop (&b.helper);
    base = run_baseline (argv[0], &b, seconds);
    if (base > 0)
      printf ("baseline: a bare UDP fan-out of the same packets (one datagram per sendmmsg "
              "entry, no SRTP, no receiving) costs %.2f us/datagram here; the SFU %.2fx "
              "that\n",
              base, us_per_packet / base);
  }
  printf ("sfu: %.2f us/packet, %.0f participants/core\n", us_per_packet, per_core);
  fflush (stdout);
  status = s3.clients.sample_failures == 0 && b.helper.disconnects == 0 ? 0 : 1;

out:
  helper_stop (&b.helper);
  if (b.clients)
    g_ptr_array_unref (b.clients);
  if (b.by_name)
    g_hash_table_unref (b.by_name);
  if (b.epfd > 0)
    close (b.epfd);
  return status;
}
