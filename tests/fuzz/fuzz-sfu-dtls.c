/* SPDX-License-Identifier: MIT */
/* Fuzz target for the SFU's security layer: every byte here is what a peer (or anyone
 * spoofing its address) can send.
 *
 * The input is a sequence of datagrams, each behind a 2-byte big-endian length (a length
 * past the end takes the rest; an input shorter than 2 bytes is one datagram). They go to
 * a fresh server-role SfuDtls, as the transport hands them over, and each is also
 * unprotected as SRTP and SRTCP by sessions with fixed keys, in both profiles. Checks: no
 * crash or sanitizer report; no datagram sent over SFU_DTLS_MTU; the state, error, timer
 * and keys agree with each other; a packet that unprotects never grows; the first
 * datagram, protected by one end, unprotects at the other to the same bytes. */
#include "sfu-dtls.h"
#include "sfu-srtp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Not the client's: no input can complete a handshake, but every path up to the
 * certificate check is open. */
#define PEER_FINGERPRINT                                                                   \
  "0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:D2:E1:F0:0F:1E:2D:3C:4B:5A:69:78:87:96:A5:B4:C3:" \
  "D2:E1:F0"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static SfuCert *cert;

static void
init_once (void)
{
  if (cert == NULL) {
    cert = sfu_cert_new (NULL);
    if (cert == NULL)
      abort ();
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  }
}

static void
on_send (const guint8 *data, gsize len, gpointer user_data)
{
  if (len == 0 || len > SFU_DTLS_MTU)
    abort ();
  (*(gsize *) user_data) += len;
}

static void
check_dtls (SfuDtls *dtls)
{
  SfuDtlsState state = sfu_dtls_get_state (dtls);
  SfuSrtpKeys keys;

  if ((state == SFU_DTLS_STATE_FAILED) != (sfu_dtls_get_error (dtls) != NULL))
    abort ();
  if (sfu_dtls_get_srtp_keys (dtls, &keys) != (state == SFU_DTLS_STATE_CONNECTED))
    abort ();
  if (state != SFU_DTLS_STATE_HANDSHAKING && sfu_dtls_get_timeout_us (dtls) != -1)
    abort ();
  /* Never fires early: the timer just started or was never started. */
  if (sfu_dtls_handle_timeout (dtls) != state)
    abort ();
}

static void
make_pair (SfuSrtpProfile profile, SfuSrtp **a, SfuSrtp **b)
{
  SfuSrtpKeys ka = { profile }, kb = { profile };

  for (guint i = 0; i < SFU_SRTP_MAX_MASTER_LEN; i++) {
    ka.local[i] = kb.remote[i] = (guint8) (i * 5 + 1);
    ka.remote[i] = kb.local[i] = (guint8) (i * 11 + 7);
  }
  *a = sfu_srtp_new (&ka, NULL);
  *b = sfu_srtp_new (&kb, NULL);
  if (*a == NULL || *b == NULL)
    abort ();
}

static void
unprotect_all (SfuSrtp *s, const guint8 *data, gsize len)
{
  g_autofree guint8 *copy = g_malloc (len + 1);
  gsize n = len;

  memcpy (copy, data, len);
  if (sfu_srtp_unprotect_rtp (s, copy, &n) && n > len)
    abort ();
  memcpy (copy, data, len);
  n = len;
  if (sfu_srtp_unprotect_rtcp (s, copy, &n) && n > len)
    abort ();
}

static void
round_trip (SfuSrtp *a, SfuSrtp *b, gboolean rtcp, const guint8 *data, gsize len)
{
  g_autofree guint8 *buf = g_malloc (len + SFU_SRTP_MAX_TRAILER);
  gsize n = len;
  gboolean ok;

  memcpy (buf, data, len);
  ok = rtcp ? sfu_srtp_protect_rtcp (a, buf, &n, len + SFU_SRTP_MAX_TRAILER)
            : sfu_srtp_protect_rtp (a, buf, &n, len + SFU_SRTP_MAX_TRAILER);
  if (!ok)
    return;
  if (n <= len || n > len + SFU_SRTP_MAX_TRAILER)
    abort ();
  ok = rtcp ? sfu_srtp_unprotect_rtcp (b, buf, &n) : sfu_srtp_unprotect_rtp (b, buf, &n);
  /* libsrtp checks the RTP version only on the receiving side. */
  if ((data[0] >> 6) == 2 && (!ok || n != len || memcmp (buf, data, len) != 0))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const SfuSrtpProfile profiles[] = { SFU_SRTP_PROFILE_AEAD_AES_128_GCM,
                                             SFU_SRTP_PROFILE_AES128_CM_SHA1_80 };
  SfuSrtp *a[2], *b[2];
  gsize sent = 0, pos = 0;
  SfuDtls *dtls;
  gboolean first = TRUE;

  init_once ();
  dtls = sfu_dtls_new (cert, SFU_DTLS_ROLE_SERVER, PEER_FINGERPRINT, on_send, &sent);
  for (guint i = 0; i < 2; i++)
    make_pair (profiles[i], &a[i], &b[i]);

  do {
    const guint8 *d = data + pos;
    gsize n = size - pos;

    if (size >= 2) {
      gsize want = (gsize) data[pos] << 8 | data[pos + 1];

      d = data + pos + 2;
      n = MIN (want, size - pos - 2);
      pos += 2 + n;
    } else {
      pos = size;
    }
    sfu_dtls_handle_datagram (dtls, d, n);
    check_dtls (dtls);
    for (guint i = 0; i < 2; i++) {
      unprotect_all (b[i], d, n);
      if (first && n > 0) {
        round_trip (a[i], b[i], FALSE, d, n);
        round_trip (a[i], b[i], TRUE, d, n);
      }
    }
    first = FALSE;
  } while (pos + 2 <= size);

  /* No input can get past the certificate check. */
  if (sfu_dtls_get_state (dtls) == SFU_DTLS_STATE_CONNECTED)
    abort ();
  sfu_dtls_free (dtls);
  for (guint i = 0; i < 2; i++) {
    sfu_srtp_free (a[i]);
    sfu_srtp_free (b[i]);
  }
  return 0;
}
