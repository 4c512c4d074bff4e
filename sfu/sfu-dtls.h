/* SPDX-License-Identifier: MIT */
#pragma once

#include "sfu-cert.h"
#include "sfu-srtp.h"

G_BEGIN_DECLS

/* DTLS 1.2 (RFC 6347) with the use_srtp extension (RFC 5764) for one ICE session, on
 * OpenSSL without sockets: the transport hands in every datagram RFC 7983 classifies as
 * DTLS (only from the address ICE validated: that check is the transport's), and
 * datagrams to send come back through the send callback, one call per datagram, each at
 * most SFU_DTLS_MTU bytes.
 *
 * Both sides authenticate with self-signed certificates: the peer's is accepted when its
 * SHA-256 digest equals the fingerprint from its SDP (RFC 8122 §5, RFC 8827 §6.5), and
 * refused otherwise, which fails the handshake with an alert.
 *
 * Offered SRTP profiles, most preferred first: SRTP_AEAD_AES_128_GCM,
 * SRTP_AES128_CM_SHA1_80. As the server we pick by that order among what the client offers.
 * A handshake that ends without an SRTP profile fails.
 *
 * Bounded against a hostile peer: datagrams over SFU_DTLS_MAX_DATAGRAM bytes or empty are
 * dropped, handshake messages are capped at 16 KiB (the certificate list included),
 * renegotiation is refused, and once the session is FAILED or CLOSED everything is
 * ignored. OpenSSL itself bounds buffered out-of-order records and fragments.
 *
 * One SfuDtls is used by one thread (its session's). The send callback runs synchronously
 * inside sfu_dtls_start(), sfu_dtls_handle_datagram(), sfu_dtls_handle_timeout() and
 * sfu_dtls_close(); it must not free the SfuDtls. */

/* The largest datagram we send (RFC 8261 §5 / common WebRTC practice: fits any path with
 * IPv6, UDP and TURN overheads). */
#define SFU_DTLS_MTU 1200
/* The largest datagram accepted: a full DTLS record (2^14 bytes of fragment plus header and
 * expansion). Peers send at most their MTU. */
#define SFU_DTLS_MAX_DATAGRAM 18432

typedef enum {
  SFU_DTLS_ROLE_SERVER, /* a=setup:passive: we wait for the ClientHello (we answer the offer) */
  SFU_DTLS_ROLE_CLIENT, /* a=setup:active: sfu_dtls_start() sends the ClientHello */
} SfuDtlsRole;

typedef enum {
  SFU_DTLS_STATE_NEW,
  SFU_DTLS_STATE_HANDSHAKING,
  SFU_DTLS_STATE_CONNECTED, /* keys available */
  SFU_DTLS_STATE_FAILED,    /* final; see sfu_dtls_get_error() */
  SFU_DTLS_STATE_CLOSED,    /* final: a close_notify was received or sent */
} SfuDtlsState;

typedef void (*SfuDtlsSendFunc) (const guint8 *data, gsize len, gpointer user_data);

typedef struct _SfuDtls SfuDtls;

/* A session authenticating the peer by @remote_fingerprint, the sha-256 value from its SDP
 * (see sfu_cert_parse_fingerprint()). A value that does not parse gives a session that is
 * already FAILED, with the reason in sfu_dtls_get_error(): the fingerprint comes from a
 * peer. (transfer full) */
SfuDtls *sfu_dtls_new (SfuCert *cert, SfuDtlsRole role, const char *remote_fingerprint,
                       SfuDtlsSendFunc send, gpointer user_data);
void sfu_dtls_free (SfuDtls *dtls);

/* Restricts the profiles offered (client) or accepted (server), as an OpenSSL list such as
 * "SRTP_AES128_CM_SHA1_80". Before sfu_dtls_start() or the first datagram; for tests and
 * interop checks. FALSE when OpenSSL knows none of them. */
gboolean sfu_dtls_set_srtp_profiles (SfuDtls *dtls, const char *profiles);

/* Client: sends the first flight and enters HANDSHAKING. Server: does nothing (the server
 * enters HANDSHAKING on the first datagram). Returns the state. */
SfuDtlsState sfu_dtls_start (SfuDtls *dtls);

/* Feeds one datagram (one UDP payload, or one RFC 4571 frame). Returns the state after it.
 * Application data (there is none in DTLS-SRTP without data channels) is discarded. In
 * NEW, a client ignores datagrams until started. */
SfuDtlsState sfu_dtls_handle_datagram (SfuDtls *dtls, const guint8 *data, gsize len);

SfuDtlsState sfu_dtls_get_state (SfuDtls *dtls);

/* The g_get_monotonic_time() at which sfu_dtls_handle_timeout() should be called to
 * retransmit the last flight, or -1 when no timer runs. Changes after every call that
 * moves the handshake on. */
gint64 sfu_dtls_get_timeout_us (SfuDtls *dtls);

/* Retransmits if the timer has expired (otherwise does nothing). After too many
 * retransmissions without an answer the session FAILS. Returns the state. */
SfuDtlsState sfu_dtls_handle_timeout (SfuDtls *dtls);

/* After CONNECTED: the negotiated profile and the exported keys (RFC 5764 §4.2), "local"
 * being ours (the client's write key when we are the client). FALSE in any other state.
 * The caller owns the copy and should wipe it (sfu_srtp_keys_clear()) once used. */
gboolean sfu_dtls_get_srtp_keys (SfuDtls *dtls, SfuSrtpKeys *out);

/* Why the session FAILED (a short English sentence with OpenSSL's reason, never key
 * material), or NULL. (transfer none): valid as long as @dtls. */
const char *sfu_dtls_get_error (SfuDtls *dtls);

/* Sends close_notify (when CONNECTED) and enters CLOSED. Idempotent. */
void sfu_dtls_close (SfuDtls *dtls);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfuDtls, sfu_dtls_free)

G_END_DECLS
