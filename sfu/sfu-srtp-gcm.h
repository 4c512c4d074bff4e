/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SRTP and SRTCP with AEAD_AES_128_GCM (RFC 7714) on OpenSSL, for sfu-srtp.c.
 *
 * Why not libsrtp, which sfu-srtp.c uses for the other profile: Debian builds libsrtp2 on
 * NSS, where each packet costs a PK11_Encrypt round trip with locks (~2.2 µs a forwarded
 * packet in bench/sfu-forward); here each direction keeps one OpenSSL cipher context keyed
 * once, and a packet costs an IV reset and one GCM pass (see docs/benchmarks.md).
 *
 * What it keeps per SSRC: inbound, the highest packet index and a replay window of
 * SFU_SRTP_REPLAY_WINDOW packets (RTP and SRTCP alike), made only after a packet
 * authenticates; outbound, the highest index, to know the rollover counter. Outbound SRTCP
 * indexes come from one counter per session, so they increase for every SSRC as RFC 3711
 * §3.4 asks. At most SFU_SRTP_GCM_MAX_STREAMS SSRCs per direction: packets of further ones
 * fail.
 *
 * The contract of each function is the one of its sfu_srtp_* counterpart in sfu-srtp.h. */

#define SFU_SRTP_GCM_KEY_LEN 16
#define SFU_SRTP_GCM_SALT_LEN 12
#define SFU_SRTP_GCM_TAG_LEN 16
#define SFU_SRTP_GCM_MAX_STREAMS 1024

typedef struct _SfuSrtpGcm SfuSrtpGcm;

/* @local and @remote: master key then master salt (28 bytes each). NULL when OpenSSL
 * cannot set up AES-GCM. */
SfuSrtpGcm *sfu_srtp_gcm_new (const guint8 *local, const guint8 *remote);
void sfu_srtp_gcm_free (SfuSrtpGcm *gcm);

gboolean sfu_srtp_gcm_unprotect_rtp (SfuSrtpGcm *gcm, guint8 *buf, gsize *len);
gboolean sfu_srtp_gcm_unprotect_rtcp (SfuSrtpGcm *gcm, guint8 *buf, gsize *len);
/* @buf has room for *@len + SFU_SRTP_GCM_TAG_LEN + 4 bytes (checked by the caller). */
gboolean sfu_srtp_gcm_protect_rtp (SfuSrtpGcm *gcm, guint8 *buf, gsize *len);
gboolean sfu_srtp_gcm_protect_rtcp (SfuSrtpGcm *gcm, guint8 *buf, gsize *len);

G_END_DECLS
