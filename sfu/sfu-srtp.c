/* SPDX-License-Identifier: MIT */
#include "sfu-srtp.h"
#include "sfu-srtp-gcm.h"

#include <openssl/crypto.h>
#include <srtp2/srtp.h>

G_DEFINE_QUARK (sfu-srtp-error-quark, sfu_srtp_error)

/* Fixed headers: RTP 12 bytes (RFC 3550 §5.1); RTCP 8 (header + sender SSRC). */
#define RTP_HEADER 12
#define RTCP_HEADER 8
/* SRTCP adds the E flag + index word, then the tag. */
#define SRTCP_INDEX 4

G_STATIC_ASSERT (SFU_SRTP_MAX_TRAILER >= SRTCP_INDEX + SRTP_MAX_TAG_LEN);

/* AES-GCM goes through our own OpenSSL path (sfu-srtp-gcm.c says why); AES-CM with
 * HMAC-SHA1 through libsrtp: two sessions, since a session holds one wildcard-SSRC
 * template and we need one per direction. */
struct _SfuSrtp {
  SfuSrtpGcm *gcm;
  srtp_t in, out;
  gsize tag_len; /* what protect appends to RTP (and, after the index, to RTCP) */
};

gsize
sfu_srtp_profile_key_len (SfuSrtpProfile profile)
{
  switch (profile) {
  case SFU_SRTP_PROFILE_AES128_CM_SHA1_80:
  case SFU_SRTP_PROFILE_AEAD_AES_128_GCM:
    return 16;
  case SFU_SRTP_PROFILE_NONE:
  default:
    return 0;
  }
}

gsize
sfu_srtp_profile_salt_len (SfuSrtpProfile profile)
{
  switch (profile) {
  case SFU_SRTP_PROFILE_AES128_CM_SHA1_80:
    return 14;
  case SFU_SRTP_PROFILE_AEAD_AES_128_GCM:
    return 12;
  case SFU_SRTP_PROFILE_NONE:
  default:
    return 0;
  }
}

const char *
sfu_srtp_profile_name (SfuSrtpProfile profile)
{
  switch (profile) {
  case SFU_SRTP_PROFILE_AES128_CM_SHA1_80:
    return "SRTP_AES128_CM_SHA1_80";
  case SFU_SRTP_PROFILE_AEAD_AES_128_GCM:
    return "SRTP_AEAD_AES_128_GCM";
  case SFU_SRTP_PROFILE_NONE:
  default:
    return NULL;
  }
}

void
sfu_srtp_keys_clear (SfuSrtpKeys *keys)
{
  g_return_if_fail (keys != NULL);

  OPENSSL_cleanse (keys, sizeof *keys);
}

/* libsrtp's global state (the crypto kernel) is set up once per process and never torn
 * down: sessions on any thread share it. */
static srtp_err_status_t
init_once (void)
{
  static gsize done = 0;
  static srtp_err_status_t status;

  if (g_once_init_enter (&done)) {
    status = srtp_init ();
    /* Someone else in the process (GStreamer's srtp plugin, in webrtcbin tests) initialised
     * libsrtp first: the kernel is up, and srtp_init() fails only on registering its debug
     * module a second time. */
    if (status == srtp_err_status_bad_param)
      status = srtp_err_status_ok;
    g_once_init_leave (&done, 1);
  }
  return status;
}

static void
set_policy (srtp_policy_t *policy, SfuSrtpProfile profile, const guint8 *key,
            srtp_ssrc_type_t type)
{
  g_assert (profile == SFU_SRTP_PROFILE_AES128_CM_SHA1_80);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&policy->rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 (&policy->rtcp);
  policy->ssrc.type = type;
  /* libsrtp copies the key into the session at srtp_create(). */
  policy->key = (unsigned char *) key;
  policy->window_size = SFU_SRTP_REPLAY_WINDOW;
  /* The SFU resends a packet with its sequence number unchanged when a receiver NACKs it
   * (sfu-outstream.c), which libsrtp would otherwise refuse as a replay on output. */
  policy->allow_repeat_tx = type == ssrc_any_outbound;
}

SfuSrtp *
sfu_srtp_new (const SfuSrtpKeys *keys, GError **error)
{
  srtp_policy_t in = { 0 }, out = { 0 };
  srtp_err_status_t status;
  SfuSrtp *srtp;

  g_return_val_if_fail (keys != NULL, NULL);

  if (sfu_srtp_profile_name (keys->profile) == NULL) {
    g_set_error (error, SFU_SRTP_ERROR, SFU_SRTP_ERROR_PROFILE, "Unknown SRTP profile %u",
                 (guint) keys->profile);
    return NULL;
  }
  if (keys->profile == SFU_SRTP_PROFILE_AEAD_AES_128_GCM) {
    G_STATIC_ASSERT (SFU_SRTP_GCM_KEY_LEN + SFU_SRTP_GCM_SALT_LEN <= SFU_SRTP_MAX_MASTER_LEN);
    srtp = g_new0 (SfuSrtp, 1);
    srtp->tag_len = SFU_SRTP_GCM_TAG_LEN;
    srtp->gcm = sfu_srtp_gcm_new (keys->local, keys->remote);
    if (srtp->gcm == NULL) {
      g_set_error (error, SFU_SRTP_ERROR, SFU_SRTP_ERROR_FAILED,
                   "Could not set up AES-128-GCM in OpenSSL for %s",
                   sfu_srtp_profile_name (keys->profile));
      sfu_srtp_free (srtp);
      return NULL;
    }
    return srtp;
  }

  status = init_once ();
  if (status != srtp_err_status_ok) {
    g_set_error (error, SFU_SRTP_ERROR, SFU_SRTP_ERROR_FAILED,
                 "Could not initialise libsrtp (error %d)", (int) status);
    return NULL;
  }

  set_policy (&in, keys->profile, keys->remote, ssrc_any_inbound);
  set_policy (&out, keys->profile, keys->local, ssrc_any_outbound);

  srtp = g_new0 (SfuSrtp, 1);
  srtp->tag_len = 10;
  status = srtp_create (&srtp->in, &in);
  if (status == srtp_err_status_ok)
    status = srtp_create (&srtp->out, &out);
  if (status != srtp_err_status_ok) {
    g_set_error (error, SFU_SRTP_ERROR, SFU_SRTP_ERROR_FAILED,
                 "Could not create the SRTP session for %s (libsrtp error %d)",
                 sfu_srtp_profile_name (keys->profile), (int) status);
    sfu_srtp_free (srtp);
    return NULL;
  }
  return srtp;
}

void
sfu_srtp_free (SfuSrtp *srtp)
{
  if (srtp == NULL)
    return;
  /* Both wipe the session keys. */
  sfu_srtp_gcm_free (srtp->gcm);
  if (srtp->in)
    srtp_dealloc (srtp->in);
  if (srtp->out)
    srtp_dealloc (srtp->out);
  g_free (srtp);
}

/* libsrtp takes int lengths; datagrams are far below that, but a caller's gsize is not. */
#define FITS_INT(n) ((n) <= (gsize) G_MAXINT)

gboolean
sfu_srtp_unprotect_rtp (SfuSrtp *srtp, guint8 *buf, gsize *len)
{
  int n;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL, FALSE);

  /* libsrtp 2.5 validates the header extension and CSRC lengths itself; the minimum here
   * keeps it from ever looking at fewer bytes than a header and a tag. */
  if (*len < RTP_HEADER + srtp->tag_len || !FITS_INT (*len) || (buf[0] >> 6) != 2)
    return FALSE;
  if (srtp->gcm)
    return sfu_srtp_gcm_unprotect_rtp (srtp->gcm, buf, len);
  n = (int) *len;
  if (srtp_unprotect (srtp->in, buf, &n) != srtp_err_status_ok)
    return FALSE;
  *len = (gsize) n;
  return TRUE;
}

gboolean
sfu_srtp_unprotect_rtcp (SfuSrtp *srtp, guint8 *buf, gsize *len)
{
  int n;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL, FALSE);

  if (*len < RTCP_HEADER + SRTCP_INDEX + srtp->tag_len || !FITS_INT (*len) ||
      (buf[0] >> 6) != 2)
    return FALSE;
  if (srtp->gcm)
    return sfu_srtp_gcm_unprotect_rtcp (srtp->gcm, buf, len);
  n = (int) *len;
  if (srtp_unprotect_rtcp (srtp->in, buf, &n) != srtp_err_status_ok)
    return FALSE;
  *len = (gsize) n;
  return TRUE;
}

gboolean
sfu_srtp_protect_rtp (SfuSrtp *srtp, guint8 *buf, gsize *len, gsize capacity)
{
  int n;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL, FALSE);

  if (*len < RTP_HEADER || *len > capacity || capacity - *len < SFU_SRTP_MAX_TRAILER ||
      !FITS_INT (*len + SFU_SRTP_MAX_TRAILER))
    return FALSE;
  if (srtp->gcm)
    return sfu_srtp_gcm_protect_rtp (srtp->gcm, buf, len);
  n = (int) *len;
  if (srtp_protect (srtp->out, buf, &n) != srtp_err_status_ok)
    return FALSE;
  *len = (gsize) n;
  return TRUE;
}

gboolean
sfu_srtp_protect_rtcp (SfuSrtp *srtp, guint8 *buf, gsize *len, gsize capacity)
{
  int n;

  g_return_val_if_fail (srtp != NULL && buf != NULL && len != NULL, FALSE);

  if (*len < RTCP_HEADER || *len > capacity || capacity - *len < SFU_SRTP_MAX_TRAILER ||
      !FITS_INT (*len + SFU_SRTP_MAX_TRAILER))
    return FALSE;
  if (srtp->gcm)
    return sfu_srtp_gcm_protect_rtcp (srtp->gcm, buf, len);
  n = (int) *len;
  if (srtp_protect_rtcp (srtp->out, buf, &n) != srtp_err_status_ok)
    return FALSE;
  *len = (gsize) n;
  return TRUE;
}
