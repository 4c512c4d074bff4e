/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SRTP and SRTCP for one peer session (RFC 3711, RFC 7714): AES-128-GCM on OpenSSL
 * (sfu-srtp-gcm.c), AES-128-CM with HMAC-SHA1-80 on libsrtp2.
 *
 * Inbound state covers any SSRC the peer sends (its keys, the "remote" half of SfuSrtpKeys),
 * outbound any SSRC we send (ours). State for a new SSRC is made on first use: inbound only
 * after a packet authenticates, so garbage cannot create state.
 *
 * Used by one thread at a time. Protect and unprotect work in place, allocate only for a
 * new SSRC, and never log: a packet that fails is the caller's to count. */

#define SFU_SRTP_ERROR (sfu_srtp_error_quark ())
GQuark sfu_srtp_error_quark (void);

typedef enum {
  SFU_SRTP_ERROR_PROFILE, /* not a profile listed in SfuSrtpProfile */
  SFU_SRTP_ERROR_FAILED,  /* libsrtp or OpenSSL refused the keys or could not start */
} SfuSrtpError;

/* DTLS-SRTP protection profiles, by their IANA numbers (RFC 5764 §4.1.2, RFC 7714 §14.2). */
typedef enum {
  SFU_SRTP_PROFILE_NONE = 0,
  SFU_SRTP_PROFILE_AES128_CM_SHA1_80 = 0x0001,
  SFU_SRTP_PROFILE_AEAD_AES_128_GCM = 0x0007,
} SfuSrtpProfile;

/* Master key + master salt: 16 + 14 bytes for AES128_CM_SHA1_80, 16 + 12 for GCM. */
#define SFU_SRTP_MAX_MASTER_LEN 30

/* The most bytes protect adds: an SRTCP index (4) and a GCM tag (16). No MKI is used. */
#define SFU_SRTP_MAX_TRAILER 20

/* Keys of one session, as DTLS-SRTP exports them (RFC 5764 §4.2). "local" protects what we
 * send, "remote" what the peer sends; each is the master key followed by the master salt.
 * Secret: wipe with sfu_srtp_keys_clear() when done, never log. */
typedef struct {
  SfuSrtpProfile profile;
  guint8 local[SFU_SRTP_MAX_MASTER_LEN];
  guint8 remote[SFU_SRTP_MAX_MASTER_LEN];
} SfuSrtpKeys;

/* Key and salt lengths of @profile; 0 for an unknown profile. */
gsize sfu_srtp_profile_key_len (SfuSrtpProfile profile);
gsize sfu_srtp_profile_salt_len (SfuSrtpProfile profile);
/* The RFC name ("SRTP_AEAD_AES_128_GCM"), or NULL. */
const char *sfu_srtp_profile_name (SfuSrtpProfile profile);

void sfu_srtp_keys_clear (SfuSrtpKeys *keys);

/* Replay window, in packets, for both directions: the SFU retransmits on NACK, and a peer's
 * retransmissions (RTX on its own SSRC aside) can arrive this late. */
#define SFU_SRTP_REPLAY_WINDOW 1024

typedef struct _SfuSrtp SfuSrtp;

/* A session from @keys (copied; the caller may clear them after). (transfer full) */
SfuSrtp *sfu_srtp_new (const SfuSrtpKeys *keys, GError **error);
void sfu_srtp_free (SfuSrtp *srtp);

/* Unprotect the SRTP / SRTCP packet of *@len bytes in @buf in place; on success *@len is the
 * plain packet's length. FALSE (and @buf, *@len unspecified) for a packet that is too short,
 * fails authentication, or is a replay. */
gboolean sfu_srtp_unprotect_rtp (SfuSrtp *srtp, guint8 *buf, gsize *len);
gboolean sfu_srtp_unprotect_rtcp (SfuSrtp *srtp, guint8 *buf, gsize *len);

/* Protect the RTP / RTCP packet of *@len bytes in @buf in place; *@len grows by at most
 * SFU_SRTP_MAX_TRAILER, which @capacity must leave room for. Sending the same RTP sequence
 * number twice (a retransmission) is allowed. FALSE when @capacity is too small or the
 * packet is not RTP / RTCP (shorter than its fixed header). */
gboolean sfu_srtp_protect_rtp (SfuSrtp *srtp, guint8 *buf, gsize *len, gsize capacity);
gboolean sfu_srtp_protect_rtcp (SfuSrtp *srtp, guint8 *buf, gsize *len, gsize capacity);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfuSrtp, sfu_srtp_free)

G_END_DECLS
