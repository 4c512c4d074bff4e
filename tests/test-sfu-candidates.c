/* SPDX-License-Identifier: MIT */
/* Candidate selection: host override (IP and hostname), port override, STUN discovery
 * against a tiny STUN server on 127.0.0.1 (and its timeout), the bound address, the
 * interfaces fallback (never a wildcard), and the candidate lines. */
#include "sfu-candidates.h"
#include "sfu-test-peer.h"
#include "sfu-udp.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A STUN server thread: answers one Binding request per call with the source address. */
typedef struct {
  int fd;
  SfuAddress addr;
  gboolean answer;
  gint stop; /* atomic */
  GThread *thread;
} StunServer;

static gpointer
stun_server_run (gpointer data)
{
  StunServer *srv = data;

  while (!g_atomic_int_get (&srv->stop)) {
    struct pollfd pfd = { srv->fd, POLLIN, 0 };
    struct sockaddr_storage from;
    socklen_t fromlen = sizeof from;
    guint8 buf[1500], out[256];
    SfuStunMessage msg;
    SfuAddress src;
    ssize_t n;
    gsize m;

    if (poll (&pfd, 1, 20) <= 0)
      continue;
    n = recvfrom (srv->fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &fromlen);
    if (n <= 0 || !srv->answer)
      continue;
    if (!sfu_stun_parse (buf, (gsize) n, &msg, NULL) || msg.type != SFU_STUN_BINDING_REQUEST)
      continue;
    sfu_address_from_sockaddr (&from, fromlen, &src);
    m = sfu_stun_build_binding_success (msg.txid, &src, NULL, 0, out, sizeof out);
    sendto (srv->fd, out, m, 0, (struct sockaddr *) &from, fromlen);
  }
  return NULL;
}

static StunServer *
stun_server_new (gboolean answer)
{
  StunServer *srv = g_new0 (StunServer, 1);

  srv->fd = test_udp_socket (&srv->addr);
  srv->answer = answer;
  srv->thread = g_thread_new ("stun-server", stun_server_run, srv);
  return srv;
}

static void
stun_server_free (StunServer *srv)
{
  g_atomic_int_set (&srv->stop, 1);
  g_thread_join (srv->thread);
  close (srv->fd);
  g_free (srv);
}

static char *
server_string (StunServer *srv)
{
  return g_strdup_printf ("127.0.0.1:%u", srv->addr.port);
}

static SfuAddress
wildcard (guint16 port)
{
  SfuAddress a;
  g_assert_true (sfu_udp_address_parse ("0.0.0.0", port, &a));
  return a;
}

static void
test_override_ip (void)
{
  SfuCandidatesConfig config;
  SfuAddress bound = wildcard (8443), expect;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) c = NULL;

  sfu_candidates_config_init (&config);
  config.host_override = "203.0.113.7";
  config.port_override = 443;
  config.stun_server = "127.0.0.1:9"; /* not asked: the override wins */
  c = sfu_candidates_gather (&config, &bound, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->len, ==, 1);
  g_assert_true (sfu_udp_address_parse ("203.0.113.7", 443, &expect));
  g_assert_true (sfu_address_equal (&g_array_index (c, SfuCandidate, 0).address, &expect));
  g_assert_cmpuint (g_array_index (c, SfuCandidate, 0).tcp_port, ==, 443);
  g_assert_cmpint (g_array_index (c, SfuCandidate, 0).source, ==, SFU_CANDIDATE_OVERRIDE);

  /* A wildcard override is refused. */
  g_clear_pointer (&c, g_array_unref);
  config.host_override = "0.0.0.0";
  c = sfu_candidates_gather (&config, &bound, -1, &error);
  g_assert_null (c);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_override_hostname (void)
{
  SfuCandidatesConfig config;
  SfuAddress bound = wildcard (8443), expect;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) c = NULL;
  gboolean found = FALSE;

  sfu_candidates_config_init (&config);
  config.host_override = "localhost";
  c = sfu_candidates_gather (&config, &bound, -1, &error);
  g_assert_no_error (error);
  g_assert_true (sfu_udp_address_parse ("127.0.0.1", 8443, &expect));
  for (guint i = 0; i < c->len; i++) {
    const SfuCandidate *cand = &g_array_index (c, SfuCandidate, i);
    /* An IPv4 socket: only IPv4 addresses. */
    g_assert_cmpint (cand->address.family, ==, G_SOCKET_FAMILY_IPV4);
    found |= sfu_address_equal (&cand->address, &expect);
  }
  g_assert_true (found);

  g_clear_pointer (&c, g_array_unref);
  config.host_override = "no-such-host.invalid";
  c = sfu_candidates_gather (&config, &bound, -1, &error);
  g_assert_null (c);
  g_assert_nonnull (error);
}

static void
test_stun_discovery (void)
{
  StunServer *srv = stun_server_new (TRUE);
  g_autofree char *server = server_string (srv);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) c = NULL;
  SfuCandidatesConfig config;
  SfuAddress me, mapped, bound = wildcard (0);
  int fd = test_udp_socket (&me);

  g_assert_true (sfu_candidates_discover (fd, server, G_USEC_PER_SEC * 5, &mapped, &error));
  g_assert_no_error (error);
  g_assert_true (sfu_address_equal (&mapped, &me));

  sfu_candidates_config_init (&config);
  config.stun_server = server;
  bound.port = me.port;
  c = sfu_candidates_gather (&config, &bound, fd, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->len, ==, 1);
  g_assert_cmpint (g_array_index (c, SfuCandidate, 0).source, ==, SFU_CANDIDATE_STUN);
  g_assert_true (sfu_address_equal (&g_array_index (c, SfuCandidate, 0).address, &me));
  stun_server_free (srv);
  close (fd);
}

static void
test_stun_timeout (void)
{
  StunServer *srv = stun_server_new (FALSE);
  g_autofree char *server = server_string (srv);
  g_autoptr (GError) error = NULL;
  SfuAddress mapped;
  int fd = test_udp_socket (NULL);

  g_assert_false (sfu_candidates_discover (fd, server, G_USEC_PER_SEC / 4, &mapped, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  stun_server_free (srv);
  close (fd);
}

static void
test_bound_and_interfaces (void)
{
  SfuCandidatesConfig config;
  SfuAddress bound;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) c = NULL;

  sfu_candidates_config_init (&config);
  g_assert_true (sfu_udp_address_parse ("127.0.0.1", 5000, &bound));
  c = sfu_candidates_gather (&config, &bound, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->len, ==, 1);
  g_assert_true (sfu_address_equal (&g_array_index (c, SfuCandidate, 0).address, &bound));
  g_assert_cmpint (g_array_index (c, SfuCandidate, 0).source, ==, SFU_CANDIDATE_BOUND);

  /* A wildcard bind: the interfaces' addresses (at least lo), never 0.0.0.0. */
  g_clear_pointer (&c, g_array_unref);
  bound = wildcard (5000);
  config.port_override = 6000;
  c = sfu_candidates_gather (&config, &bound, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (c->len, >=, 1);
  for (guint i = 0; i < c->len; i++) {
    const SfuCandidate *cand = &g_array_index (c, SfuCandidate, i);
    g_assert_false (sfu_address_equal (&cand->address, &bound));
    g_assert_cmpuint (cand->address.addr[0] | cand->address.addr[1] | cand->address.addr[2] |
                        cand->address.addr[3],
                      !=, 0);
    g_assert_cmpuint (cand->address.port, ==, 6000);
    g_assert_cmpint (cand->source, ==, SFU_CANDIDATE_INTERFACE);
  }
}

static void
test_lines (void)
{
  g_autoptr (GArray) c = g_array_new (FALSE, FALSE, sizeof (SfuCandidate));
  g_autoptr (GPtrArray) lines = NULL;
  SfuCandidate cand = { { 0 }, 8443, SFU_CANDIDATE_OVERRIDE };
  guint udp_prio, tcp_prio;
  char ip[64], proto[8], typ[8], host[8], tcptype[16], passive[16];
  guint foundation, component, port;

  g_assert_true (sfu_udp_address_parse ("198.51.100.4", 8443, &cand.address));
  g_array_append_val (c, cand);
  lines = sfu_candidates_to_lines (c, TRUE);
  g_assert_cmpuint (lines->len, ==, 2);
  g_assert_cmpint (sscanf (lines->pdata[0], "candidate:%u %u %7s %u %63s %u %7s %7s",
                           &foundation, &component, proto, &udp_prio, ip, &port, typ, host),
                   ==, 8);
  g_assert_cmpstr (proto, ==, "udp");
  g_assert_cmpstr (ip, ==, "198.51.100.4");
  g_assert_cmpuint (port, ==, 8443);
  g_assert_cmpuint (component, ==, 1);
  g_assert_cmpstr (host, ==, "host");
  g_assert_cmpint (sscanf (lines->pdata[1], "candidate:%u %u %7s %u %63s %u %7s %7s %15s %15s",
                           &foundation, &component, proto, &tcp_prio, ip, &port, typ, host,
                           tcptype, passive),
                   ==, 10);
  g_assert_cmpstr (proto, ==, "tcp");
  g_assert_cmpstr (tcptype, ==, "tcptype");
  g_assert_cmpstr (passive, ==, "passive");
  g_assert_cmpuint (port, ==, 8443);
  /* RFC 8445: 126 << 24 for host; UDP above TCP. */
  g_assert_cmpuint (udp_prio >> 24, ==, 126);
  g_assert_cmpuint (udp_prio, >, tcp_prio);
  g_assert_cmpuint (udp_prio & 0xff, ==, 255);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sfu-candidates/override-ip", test_override_ip);
  g_test_add_func ("/sfu-candidates/override-hostname", test_override_hostname);
  g_test_add_func ("/sfu-candidates/stun-discovery", test_stun_discovery);
  g_test_add_func ("/sfu-candidates/stun-timeout", test_stun_timeout);
  g_test_add_func ("/sfu-candidates/bound-and-interfaces", test_bound_and_interfaces);
  g_test_add_func ("/sfu-candidates/lines", test_lines);
  return g_test_run ();
}
