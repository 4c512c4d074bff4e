/* SPDX-License-Identifier: MIT */
#pragma once

#include "sfu-packet.h"

G_BEGIN_DECLS

/* Which ICE candidates the SFU advertises for its one port. In order, the first that
 * applies:
 *   1. the configured host override: an IP, or a hostname resolved now to its addresses
 *      (browsers take only IP literals or mDNS names in candidates); failing to resolve it
 *      is an error, not a reason to guess;
 *   2. the public address a configured STUN server reports for the media socket (a Binding
 *      request sent from that socket, retransmitted until a timeout); if that fails, a
 *      warning and on to 3;
 *   3. the bound address, if it is not a wildcard;
 *   4. the addresses of the interfaces that are up: not loopback or link-local, unless only
 *      loopback ones exist (a test host, a container with only lo).
 * A wildcard (0.0.0.0, ::) is never advertised. The port is the override if set, else the
 * STUN-mapped port (UDP) or the bound port. Every address gets a UDP candidate and, when TCP
 * is on, a passive ICE-TCP one (RFC 6544: "tcptype passive", the listening port). */

typedef enum {
  SFU_CANDIDATE_OVERRIDE,
  SFU_CANDIDATE_STUN,
  SFU_CANDIDATE_BOUND,
  SFU_CANDIDATE_INTERFACE,
} SfuCandidateSource;

typedef struct {
  SfuAddress address; /* IP and UDP port */
  guint16 tcp_port;
  SfuCandidateSource source;
} SfuCandidate;

typedef struct {
  const char *host_override; /* IP or hostname; NULL or "" for none */
  guint16 port_override;     /* 0 for none */
  const char *stun_server;   /* "host", "host:port", "[v6]:port"; default port 3478 */
  gint64 stun_timeout_us;    /* default 3 s */
} SfuCandidatesConfig;

void sfu_candidates_config_init (SfuCandidatesConfig *config);

/* Sends a Binding request from @fd (a bound UDP socket nobody else reads right now) to
 * @stun_server and waits up to @timeout_us for the answer, retransmitting (RFC 8489 §6.2.1,
 * from 250 ms). On success *@mapped is the XOR-MAPPED-ADDRESS. Errors: G_IO_ERROR_TIMED_OUT,
 * G_IO_ERROR_NOT_FOUND (unresolvable server), G_IO_ERROR_INVALID_DATA. Blocks: call it at
 * startup, before the socket's loops read it. */
gboolean sfu_candidates_discover (int fd, const char *stun_server, gint64 timeout_us,
                                  SfuAddress *mapped, GError **error);

/* @bound: the media socket's address and port (possibly a wildcard); @udp_fd: that socket,
 * for STUN, or -1. Returns a GArray of SfuCandidate, never empty on success. */
GArray *sfu_candidates_gather (const SfuCandidatesConfig *config, const SfuAddress *bound,
                               int udp_fd, GError **error);

/* RFC 8839 "candidate:…" attribute values (without "a="), UDP first; with @tcp, one passive
 * TCP candidate per address after them. Priorities per RFC 8445 §5.1.2 and RFC 6544 §4.2:
 * host type, UDP local preference above any TCP one. Returns a GPtrArray of strings. */
GPtrArray *sfu_candidates_to_lines (GArray *candidates, gboolean tcp);

G_END_DECLS
