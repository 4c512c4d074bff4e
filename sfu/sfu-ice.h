/* SPDX-License-Identifier: MIT */
#pragma once

#include "sfu-loop.h"
#include "sfu-packet.h"
#include "sfu-tcp.h"
#include "sfu-udp.h"

G_BEGIN_DECLS

/* The ICE-lite session table on top of the shared port (UDP and ICE-TCP).
 *
 * A session is registered with its local ufrag and password (and the peer's ufrag once
 * known) on the loop that owns its call. Every packet on the port is demultiplexed:
 *   - STUN Binding requests by the local ufrag in USERNAME, then checked by sfu-stun
 *     (MESSAGE-INTEGRITY, FINGERPRINT, role). A success validates the source (a UDP address,
 *     or a TCP connection) for the session, USE-CANDIDATE nominates it, and each success
 *     refreshes that path's consent (RFC 7675).
 *   - anything else by validated source address; from an address that no session has
 *     validated it is dropped and counted (the spoofed-ClientHello attack). DTLS, RTP and
 *     RTCP from a validated path go up to the session's packet callback, classified.
 * A path whose consent is older than consent_timeout is forgotten; a session left with no
 * path (or that never got one within consent_timeout of its creation) is closed: its closed
 * callback runs and nothing more is delivered.
 *
 * Sessions live on their loop: every sfu_ice_session_* function is called on that loop's
 * thread, and the callbacks run there. A packet read by another loop is handed over
 * (sfu_udp_hand_off, sfu_tcp_conn_move) before any session state is touched. */

typedef struct _SfuIceAgent SfuIceAgent;
typedef struct _SfuIceSession SfuIceSession;

#define SFU_ICE_DEFAULT_PORT 8443
/* Validated paths remembered per session (candidate pairs that passed a check). */
#define SFU_ICE_MAX_PATHS 8

typedef struct {
  const char *bind_host; /* IP literal; NULL: 0.0.0.0 */
  guint16 port;          /* UDP and TCP; 0 picks a free number for both (tests) */
  gboolean enable_tcp;
  SfuTcpLimits tcp_limits;
  gint64 consent_timeout_us; /* RFC 7675: 30 s */
} SfuIceConfig;

typedef struct {
  guint64 stun_requests;     /* Binding requests for a known ufrag */
  guint64 stun_success;      /* answered with success (path validated) */
  guint64 stun_error_replies; /* 400/401/420/487 sent */
  guint64 stun_ignored;      /* dropped: unparsable, not a request, unknown ufrag, … */
  guint64 unvalidated;       /* non-STUN from an address no session validated */
  guint64 unknown_kind;      /* from a validated path, but not DTLS/RTP/RTCP */
  guint64 delivered;         /* DTLS/RTP/RTCP given to a session */
  guint64 consent_expired;   /* paths forgotten */
  guint64 sessions_closed;   /* by consent */
} SfuIceStats;

typedef struct {
  /* @data may be modified in place (SRTP unprotect); valid during the call. */
  void (*packet) (SfuIceSession *session, SfuPacketKind kind, guint8 *data, gsize len,
                  gpointer user_data);
  /* Optional: the path sfu_ice_session_send() uses changed (nomination, or it went away). */
  void (*selected) (SfuIceSession *session, gpointer user_data);
  /* Consent lost: the session is closed. The callee may free it here. */
  void (*closed) (SfuIceSession *session, gpointer user_data);
} SfuIceSessionCallbacks;

void sfu_ice_config_init (SfuIceConfig *config);

/* Binds UDP (first socket only, see sfu_udp_new) and, if enabled, listens on TCP. From
 * outside the loops. */
SfuIceAgent *sfu_ice_agent_new (SfuLoopGroup *group, const SfuIceConfig *config,
                                GError **error);
/* For sfu_candidates_discover() between new and start. */
SfuUdp *sfu_ice_agent_get_udp (SfuIceAgent *agent);
SfuTcp *sfu_ice_agent_get_tcp (SfuIceAgent *agent); /* NULL when TCP is off */
gboolean sfu_ice_agent_start (SfuIceAgent *agent, GError **error);
/* From outside the loops, after every session was freed. */
void sfu_ice_agent_free (SfuIceAgent *agent);
guint16 sfu_ice_agent_get_port (SfuIceAgent *agent);
/* From outside the loops: the sum over all loops. */
void sfu_ice_agent_get_stats (SfuIceAgent *agent, SfuIceStats *out);

/* On @loop's thread. @local_ufrag: 4..256 ice-chars (RFC 8839), unique in the agent;
 * @local_pwd: 22..256 ice-chars; @remote_ufrag may be NULL until known. */
SfuIceSession *sfu_ice_session_new (SfuIceAgent *agent, SfuLoop *loop, const char *local_ufrag,
                                    const char *local_pwd, const char *remote_ufrag,
                                    const SfuIceSessionCallbacks *callbacks,
                                    gpointer user_data, GError **error);
/* Unregisters; closes its TCP connections. Allowed inside its callbacks. */
void sfu_ice_session_free (SfuIceSession *session);
void sfu_ice_session_set_remote_ufrag (SfuIceSession *session, const char *remote_ufrag);
SfuLoop *sfu_ice_session_get_loop (SfuIceSession *session);
gboolean sfu_ice_session_is_closed (SfuIceSession *session);
/* Sends one packet (DTLS record, SRTP, SRTCP) on the nominated path, or before nomination
 * on the last validated one. FALSE when there is none or it could not be queued. */
gboolean sfu_ice_session_send (SfuIceSession *session, const guint8 *data, gsize len);
/* The path send() uses: FALSE when none. @is_tcp may be NULL. */
gboolean sfu_ice_session_get_selected (SfuIceSession *session, SfuAddress *address,
                                       gboolean *is_tcp, gboolean *nominated);

G_END_DECLS
