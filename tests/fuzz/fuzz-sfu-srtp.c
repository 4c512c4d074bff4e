/* SPDX-License-Identifier: MIT */
/* libFuzzer target for sfu-srtp, both profiles: any bytes as an SRTP and an SRTCP packet
 * from the peer (unprotect must refuse forgeries without reading past them), and the same
 * bytes, made to look like RTP / RTCP, as a packet of ours: protect, then the peer's
 * unprotect must give back exactly those bytes, whatever their CSRC count and header
 * extension length say. Sessions are made fresh for each input, so that a finding replays
 * alone. Anything that aborts is a finding, GLib criticals included. */
#include "sfu-srtp.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define BUF_SIZE 2048

typedef struct {
  SfuSrtp *ours, *peer; /* ours' local keys are peer's remote keys */
} Session;

static const SfuSrtpProfile profiles[2] = { SFU_SRTP_PROFILE_AEAD_AES_128_GCM,
                                            SFU_SRTP_PROFILE_AES128_CM_SHA1_80 };

static void
init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&done, 1);
  }
}

static void
session_init (Session *s, SfuSrtpProfile profile)
{
  SfuSrtpKeys a = { profile }, b = { profile };

  for (guint i = 0; i < SFU_SRTP_MAX_MASTER_LEN; i++) {
    a.local[i] = b.remote[i] = (guint8) (i * 5 + 1);
    a.remote[i] = b.local[i] = (guint8) (i * 11 + 7);
  }
  s->ours = sfu_srtp_new (&a, NULL);
  s->peer = sfu_srtp_new (&b, NULL);
  g_assert (s->ours != NULL && s->peer != NULL);
}

static void
session_clear (Session *s)
{
  sfu_srtp_free (s->ours);
  sfu_srtp_free (s->peer);
}

static void
round_trip (Session *s, gboolean rtcp, const uint8_t *data, size_t size)
{
  static guint8 buf[BUF_SIZE];
  gsize len = size;
  gboolean ok;

  if (size + SFU_SRTP_MAX_TRAILER > BUF_SIZE)
    return;
  memcpy (buf, data, size);
  buf[0] = (buf[0] & 0x3f) | 0x80;
  ok = rtcp ? sfu_srtp_protect_rtcp (s->ours, buf, &len, BUF_SIZE)
            : sfu_srtp_protect_rtp (s->ours, buf, &len, BUF_SIZE);
  if (!ok)
    return;
  g_assert (len > size && len <= size + SFU_SRTP_MAX_TRAILER);
  ok = rtcp ? sfu_srtp_unprotect_rtcp (s->peer, buf, &len)
            : sfu_srtp_unprotect_rtp (s->peer, buf, &len);
  g_assert (ok);
  g_assert (len == size);
  g_assert (memcmp (buf + 1, data + 1, size - 1) == 0);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static guint8 buf[BUF_SIZE];

  init_once ();
  if (size > BUF_SIZE)
    return 0;
  for (guint p = 0; p < G_N_ELEMENTS (profiles); p++) {
    Session s;
    gsize len = size;

    session_init (&s, profiles[p]);
    memcpy (buf, data, size);
    (void) sfu_srtp_unprotect_rtp (s.ours, buf, &len);
    len = size;
    memcpy (buf, data, size);
    (void) sfu_srtp_unprotect_rtcp (s.ours, buf, &len);
    round_trip (&s, FALSE, data, size);
    round_trip (&s, TRUE, data, size);
    session_clear (&s);
  }
  return 0;
}
