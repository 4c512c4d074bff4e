/* SPDX-License-Identifier: MIT */
/* The baseline for bench/sfu-forward: what the kernel alone charges for the same fan-out.
 *
 *   udp-fanout-baseline [--calls C] [--participants P] [--speakers U] [--screen]
 *                       [--seconds S] [--warmup W]
 *
 * One UDP socket sends, on the same schedule as sfu-forward's senders, every packet of the
 * load to every other participant of its call: speakers' 116-byte packets 50 times a
 * second, the share's frames of six 1116-byte packets 30 times a second (the sizes the SFU
 * sends after SRTP). Each wakeup sends what fell due in one sendmmsg() with one entry per
 * datagram, as a relay without coalescing would; no SRTP, no parsing, no copies. The
 * receivers are sockets on 127.0.0.1 drained by a child process (epoll, like the bench's
 * clients), so that delivery wakes a reader as it does in the real bench.
 *
 * Prints "baseline: <µs> us/datagram, <n> datagrams/s": this process's CPU time (user +
 * system, the child excluded) in the measured window over the datagrams sent. */
#define _GNU_SOURCE
#include <glib.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define AUDIO_BYTES 116
#define VIDEO_BYTES 1116
#define AUDIO_INTERVAL_US 20000
#define FRAME_INTERVAL_US 33333
#define PACKETS_PER_FRAME 6
#define MAX_BATCH 1024

typedef struct {
  guint call, sender; /* participant index in its call */
  gboolean video;
  gint64 next_us;
} Source;

static double
cpu_seconds (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static G_GNUC_NORETURN void
drain_forever (const int *fds, guint n)
{
  int ep = epoll_create1 (0);
  static char buf[2048];
  struct epoll_event events[64];

  for (guint i = 0; i < n; i++) {
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fds[i] };
    epoll_ctl (ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  for (;;) {
    int got = epoll_wait (ep, events, G_N_ELEMENTS (events), -1);

    for (int k = 0; k < got; k++)
      while (recv (events[k].data.fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        ;
  }
}

int
main (int argc, char **argv)
{
  int calls = 1, participants = 10, speakers = 2, seconds = 10, warmup = 1;
  gboolean screen = FALSE;
  GOptionEntry entries[] = {
    { "calls", 0, 0, G_OPTION_ARG_INT, &calls, "Calls (default 1)", "C" },
    { "participants", 0, 0, G_OPTION_ARG_INT, &participants, "Per call (default 10)", "P" },
    { "speakers", 0, 0, G_OPTION_ARG_INT, &speakers, "Speakers per call (default 2)", "U" },
    { "screen", 0, 0, G_OPTION_ARG_NONE, &screen, "Participant 0 shares", NULL },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Measured seconds (default 10)", "S" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Load before measuring (default 1)", "W" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- bare UDP fan-out baseline");
  g_autoptr (GError) error = NULL;
  static char payload[VIDEO_BYTES];
  static struct mmsghdr msgs[MAX_BATCH];
  static struct iovec iovs[MAX_BATCH];

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("udp-fanout-baseline: %s\n", error->message);
    return 2;
  }
  if (calls < 1 || participants < 2 || speakers < 0 || speakers > participants ||
      seconds < 1 || warmup < 0 || calls * participants > 5000) {
    g_printerr ("udp-fanout-baseline: bad arguments\n");
    return 2;
  }
  {
    struct rlimit rl;
    if (getrlimit (RLIMIT_NOFILE, &rl) == 0) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit (RLIMIT_NOFILE, &rl);
    }
  }

  guint n = (guint) (calls * participants);
  int *fds = g_new (int, n);
  struct sockaddr_in *addrs = g_new0 (struct sockaddr_in, n);
  for (guint i = 0; i < n; i++) {
    socklen_t len = sizeof addrs[i];

    addrs[i].sin_family = AF_INET;
    addrs[i].sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    fds[i] = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fds[i] < 0 || bind (fds[i], (struct sockaddr *) &addrs[i], sizeof addrs[i]) < 0 ||
        getsockname (fds[i], (struct sockaddr *) &addrs[i], &len) < 0) {
      g_printerr ("udp-fanout-baseline: socket: %s\n", g_strerror (errno));
      return 1;
    }
  }
  pid_t child = fork ();
  if (child == 0) {
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    drain_forever (fds, n);
    _exit (0);
  }
  int tx = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int sndbuf = 4 * 1024 * 1024;
  setsockopt (tx, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  memset (payload, 0x80, sizeof payload);

  /* Sources at random phases, like the bench's senders. */
  GArray *sources = g_array_new (FALSE, FALSE, sizeof (Source));
  gint64 start = g_get_monotonic_time ();
  for (guint c = 0; c < (guint) calls; c++) {
    for (guint s = 0; s < (guint) speakers; s++) {
      Source src = { c, s, FALSE, start + g_random_int_range (0, AUDIO_INTERVAL_US) };
      g_array_append_val (sources, src);
    }
    if (screen) {
      Source src = { c, 0, TRUE, start + g_random_int_range (0, FRAME_INTERVAL_US) };
      g_array_append_val (sources, src);
    }
  }

  gint64 measure_from = start + (gint64) warmup * G_USEC_PER_SEC;
  gint64 end = measure_from + (gint64) seconds * G_USEC_PER_SEC;
  double cpu0 = 0;
  guint64 sent = 0;
  gboolean measuring = FALSE;
  for (;;) {
    gint64 now = g_get_monotonic_time (), next = G_MAXINT64;
    guint queued = 0;

    if (!measuring && now >= measure_from) {
      measuring = TRUE;
      cpu0 = cpu_seconds ();
      sent = 0;
    }
    if (now >= end)
      break;
    for (guint i = 0; i < sources->len; i++) {
      Source *src = &g_array_index (sources, Source, i);

      while (src->next_us <= now) {
        guint packets = src->video ? PACKETS_PER_FRAME : 1;
        gsize bytes = src->video ? VIDEO_BYTES : AUDIO_BYTES;

        for (guint p = 0; p < packets; p++) {
          for (guint r = 0; r < (guint) participants; r++) {
            guint to = src->call * (guint) participants + r;

            if (r == src->sender)
              continue;
            if (queued == MAX_BATCH) {
              int done = sendmmsg (tx, msgs, queued, 0);
              sent += done > 0 ? (guint) done : 0;
              queued = 0;
            }
            iovs[queued] = (struct iovec) { payload, bytes };
            msgs[queued].msg_hdr = (struct msghdr) { .msg_name = &addrs[to],
                                                     .msg_namelen = sizeof addrs[to],
                                                     .msg_iov = &iovs[queued],
                                                     .msg_iovlen = 1 };
            queued++;
          }
        }
        src->next_us += src->video ? FRAME_INTERVAL_US : AUDIO_INTERVAL_US;
      }
      next = MIN (next, src->next_us);
    }
    if (queued > 0) {
      int done = sendmmsg (tx, msgs, queued, 0);
      sent += done > 0 ? (guint) done : 0;
    }
    now = g_get_monotonic_time ();
    if (next > now)
      g_usleep ((gulong) (MIN (next, end) - now));
  }
  double cpu = cpu_seconds () - cpu0;
  kill (child, SIGKILL);
  waitpid (child, NULL, 0);
  printf ("baseline: %.2f us/datagram, %.0f datagrams/s\n", sent ? cpu * 1e6 / sent : 0,
          sent / (double) seconds);
  return 0;
}
