/* SPDX-License-Identifier: MIT */
/* Candidate gathering for the advertised address; see sfu-candidates.h. Startup code: it
 * may block (DNS, the STUN exchange) and allocate freely. */
#include "sfu-candidates.h"
#include "sfu-stun.h"
#include "sfu-udp.h"

#include <errno.h>
#include <gio/gio.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#define STUN_DEFAULT_PORT 3478
#define STUN_FIRST_RTO_US (250 * 1000)

void
sfu_candidates_config_init (SfuCandidatesConfig *config)
{
  memset (config, 0, sizeof *config);
  config->stun_timeout_us = 3 * G_USEC_PER_SEC;
}

static int
socket_family (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  if (getsockname (fd, (struct sockaddr *) &ss, &len) < 0)
    return AF_UNSPEC;
  return ss.ss_family;
}

/* Resolves @host to addresses usable from a socket of @family (AF_INET6 takes both). */
static GList *
resolve (const char *host, int family, GError **error)
{
  g_autoptr (GResolver) resolver = g_resolver_get_default ();
  GList *all, *usable = NULL;

  all = g_resolver_lookup_by_name (resolver, host, NULL, error);
  for (GList *l = all; l; l = l->next) {
    GInetAddress *a = l->data;
    if (family == AF_INET6 || g_inet_address_get_family (a) == G_SOCKET_FAMILY_IPV4)
      usable = g_list_append (usable, g_object_ref (a));
  }
  g_resolver_free_addresses (all);
  if (all && !usable)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "“%s” has no address of the media socket's family", host);
  return usable;
}

static void
address_from_inet (GInetAddress *inet, guint16 port, SfuAddress *out)
{
  memset (out, 0, sizeof *out);
  out->family = g_inet_address_get_family (inet);
  memcpy (out->addr, g_inet_address_to_bytes (inet), g_inet_address_get_native_size (inet));
  out->port = port;
}

gboolean
sfu_candidates_discover (int fd, const char *stun_server, gint64 timeout_us,
                         SfuAddress *mapped, GError **error)
{
  g_autoptr (GSocketConnectable) conn = NULL;
  GList *addrs;
  SfuAddress server;
  struct sockaddr_storage ss;
  socklen_t sslen;
  guint8 req[SFU_STUN_HEADER_SIZE], buf[1500];
  gint64 start, deadline, next_send, rto = STUN_FIRST_RTO_US;
  int family;

  g_return_val_if_fail (fd >= 0 && stun_server != NULL && mapped != NULL, FALSE);

  family = socket_family (fd);
  conn = g_network_address_parse (stun_server, STUN_DEFAULT_PORT, error);
  if (conn == NULL)
    return FALSE;
  addrs = resolve (g_network_address_get_hostname (G_NETWORK_ADDRESS (conn)), family, error);
  if (addrs == NULL)
    return FALSE;
  address_from_inet (addrs->data, g_network_address_get_port (G_NETWORK_ADDRESS (conn)),
                     &server);
  g_list_free_full (addrs, g_object_unref);
  sslen = sfu_udp_sockaddr_from_address (&server, family, &ss);
  if (sslen == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                 "STUN server %s: address family does not match the media socket", stun_server);
    return FALSE;
  }

  /* A bare Binding request (RFC 8489 §6.1): a header with a random transaction ID. */
  memset (req, 0, sizeof req);
  req[1] = 0x01;
  req[4] = 0x21, req[5] = 0x12, req[6] = 0xa4, req[7] = 0x42;
  for (int i = 0; i < SFU_STUN_TXID_SIZE; i++)
    req[8 + i] = (guint8) g_random_int_range (0, 256);

  start = g_get_monotonic_time ();
  deadline = start + timeout_us;
  next_send = start;
  for (;;) {
    gint64 now = g_get_monotonic_time ();
    struct pollfd pfd = { fd, POLLIN, 0 };
    int r;

    if (now >= deadline)
      break;
    if (now >= next_send) {
      sendto (fd, req, sizeof req, MSG_DONTWAIT, (struct sockaddr *) &ss, sslen);
      next_send = now + rto;
      rto *= 2;
    }
    r = poll (&pfd, 1, (int) ((MIN (deadline, next_send) - now + 999) / 1000));
    if (r < 0 && errno != EINTR) {
      int errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "poll: %s",
                   g_strerror (errsv));
      return FALSE;
    }
    while (r > 0) {
      struct sockaddr_storage from;
      socklen_t fromlen = sizeof from;
      SfuAddress src;
      SfuStunMessage msg;
      ssize_t n = recvfrom (fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &from,
                            &fromlen);
      if (n < 0)
        break;
      /* Only the server's answer to our transaction counts. */
      if (!sfu_address_from_sockaddr (&from, fromlen, &src) || !sfu_address_equal (&src, &server))
        continue;
      if (!sfu_stun_parse (buf, (gsize) n, &msg, NULL) ||
          memcmp (msg.txid, req + 8, SFU_STUN_TXID_SIZE) != 0)
        continue;
      if (msg.type != SFU_STUN_BINDING_SUCCESS ||
          !sfu_stun_message_get_xor_mapped_address (&msg, mapped)) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "STUN server %s answered without a mapped address (error %u)",
                     stun_server, msg.error_code);
        return FALSE;
      }
      return TRUE;
    }
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "STUN server %s did not answer in %" G_GINT64_FORMAT " ms",
               stun_server, timeout_us / 1000);
  return FALSE;
}

static gboolean
is_wildcard (const SfuAddress *a)
{
  static const guint8 zero[16] = { 0 };
  return memcmp (a->addr, zero, a->family == G_SOCKET_FAMILY_IPV4 ? 4 : 16) == 0;
}

static gboolean
is_link_local (const SfuAddress *a)
{
  if (a->family == G_SOCKET_FAMILY_IPV4)
    return a->addr[0] == 169 && a->addr[1] == 254;
  return a->addr[0] == 0xfe && (a->addr[1] & 0xc0) == 0x80;
}

static void
add (GArray *out, const SfuAddress *addr, guint16 udp_port, guint16 tcp_port,
     SfuCandidateSource source)
{
  SfuCandidate c = { *addr, tcp_port, source };

  c.address.port = udp_port;
  for (guint i = 0; i < out->len; i++)
    if (sfu_address_equal (&g_array_index (out, SfuCandidate, i).address, &c.address))
      return;
  g_array_append_val (out, c);
}

static void
add_interfaces (GArray *out, int family, guint16 port, gboolean loopback)
{
  struct ifaddrs *ifa_list = NULL;

  if (getifaddrs (&ifa_list) < 0)
    return;
  for (struct ifaddrs *ifa = ifa_list; ifa; ifa = ifa->ifa_next) {
    SfuAddress a;
    gsize salen;

    if (ifa->ifa_addr == NULL || !(ifa->ifa_flags & IFF_UP))
      continue;
    if (!!(ifa->ifa_flags & IFF_LOOPBACK) != loopback)
      continue;
    if (ifa->ifa_addr->sa_family == AF_INET)
      salen = sizeof (struct sockaddr_in);
    else if (ifa->ifa_addr->sa_family == AF_INET6 && family == AF_INET6)
      salen = sizeof (struct sockaddr_in6);
    else
      continue;
    if (!sfu_address_from_sockaddr (ifa->ifa_addr, salen, &a) || is_link_local (&a) ||
        is_wildcard (&a))
      continue;
    add (out, &a, port, port, SFU_CANDIDATE_INTERFACE);
  }
  freeifaddrs (ifa_list);
}

GArray *
sfu_candidates_gather (const SfuCandidatesConfig *config, const SfuAddress *bound, int udp_fd,
                       GError **error)
{
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, sizeof (SfuCandidate));
  guint16 port;
  int family;

  g_return_val_if_fail (config != NULL && bound != NULL, NULL);

  port = config->port_override ? config->port_override : bound->port;
  family = bound->family == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET;

  if (config->host_override && *config->host_override) {
    SfuAddress a;
    if (sfu_udp_address_parse (config->host_override, port, &a)) {
      if (is_wildcard (&a)) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "ICE host override %s is a wildcard address", config->host_override);
        return NULL;
      }
      add (out, &a, port, port, SFU_CANDIDATE_OVERRIDE);
    } else {
      GList *addrs = resolve (config->host_override, family, error);
      if (addrs == NULL) {
        g_prefix_error (error, "ICE host override: ");
        return NULL;
      }
      for (GList *l = addrs; l; l = l->next) {
        address_from_inet (l->data, port, &a);
        if (!is_wildcard (&a))
          add (out, &a, port, port, SFU_CANDIDATE_OVERRIDE);
      }
      g_list_free_full (addrs, g_object_unref);
    }
    if (out->len > 0)
      return g_steal_pointer (&out);
  }

  if (config->stun_server && *config->stun_server && udp_fd >= 0) {
    g_autoptr (GError) stun_error = NULL;
    SfuAddress mapped;
    if (sfu_candidates_discover (udp_fd, config->stun_server, config->stun_timeout_us, &mapped,
                                 &stun_error) &&
        !is_wildcard (&mapped)) {
      add (out, &mapped, config->port_override ? config->port_override : mapped.port, port,
           SFU_CANDIDATE_STUN);
      return g_steal_pointer (&out);
    }
    g_warning ("public address discovery failed, advertising local addresses: %s",
               stun_error ? stun_error->message : "wildcard mapped address");
  }

  if (!is_wildcard (bound)) {
    add (out, bound, port, port, SFU_CANDIDATE_BOUND);
    return g_steal_pointer (&out);
  }

  add_interfaces (out, family, port, FALSE);
  if (out->len == 0)
    add_interfaces (out, family, port, TRUE);
  if (out->len == 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "no address to advertise: no interface is up; set the ICE host override");
    return NULL;
  }
  return g_steal_pointer (&out);
}

/* RFC 8445 §5.1.2.1: (2^24) type preference + (2^8) local preference + (256 - component).
 * Host candidates, component 1 (rtcp-mux). UDP local preference 65535 - index; TCP (RFC 6544
 * §4.2) (2^13) direction preference (passive: 4) + other preference (8191 - index), so every
 * TCP candidate ranks below every UDP one. */
#define TYPE_PREF_HOST 126u

GPtrArray *
sfu_candidates_to_lines (GArray *candidates, gboolean tcp)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (candidates != NULL, lines);
  for (int pass = 0; pass < (tcp ? 2 : 1); pass++) {
    for (guint i = 0; i < candidates->len && i < 4096; i++) {
      const SfuCandidate *c = &g_array_index (candidates, SfuCandidate, i);
      g_autoptr (GInetAddress) inet = g_inet_address_new_from_bytes (c->address.addr,
                                                                      c->address.family);
      g_autofree char *ip = g_inet_address_to_string (inet);
      guint32 local = pass == 0 ? 65535u - i : (4u << 13) + (8191u - i);
      guint32 prio = (TYPE_PREF_HOST << 24) + (local << 8) + (256u - 1u);

      if (pass == 0)
        g_ptr_array_add (lines, g_strdup_printf ("candidate:%u 1 udp %u %s %u typ host",
                                                 2 * i + 1, prio, ip, c->address.port));
      else
        g_ptr_array_add (lines,
                         g_strdup_printf ("candidate:%u 1 tcp %u %s %u typ host tcptype passive",
                                          2 * i + 2, prio, ip, c->tcp_port));
    }
  }
  return lines;
}
