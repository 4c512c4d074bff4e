/* SPDX-License-Identifier: MIT */
/* libFuzzer target for sfu-stun: any bytes as one datagram on the SFU's media port.
 *
 * Each run classifies and parses the input; checks the parsed fields against the input;
 * checks FINGERPRINT and MESSAGE-INTEGRITY (with a fixed key) against independent
 * implementations (a bitwise CRC-32, OpenSSL's one-shot HMAC()); runs the ICE-lite decision
 * with and without a known remote ufrag, builds every reply into a 1500-byte buffer and
 * parses it back. Since a fuzzer cannot forge an HMAC, it then re-signs a copy of the input
 * (MESSAGE-INTEGRITY recomputed, FINGERPRINT fixed or appended) and decides again, which
 * reaches the verdicts after authentication (420, 487, success). It also builds a Binding
 * request from the input's bytes and parses it back.
 *
 * Anything that aborts is a finding: a crash, a sanitizer report, a GLib critical or
 * warning (made fatal below), or a broken invariant. The key and ufrags are RFC 5769's, so
 * its sample request is an authentic seed. */
#include "sfu-packet.h"
#include "sfu-stun.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define UFRAG "evtj"
#define PWD "VOkJxbRl1RmTxUk/WvJxBt"
#define REMOTE_UFRAG "h6vY"

static void
init_once (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&done, 1);
  }
}

static guint32
rd32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static guint32
ref_crc32 (const guint8 *p, gsize n)
{
  guint32 crc = 0xffffffffu;

  for (gsize i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
  }
  return ~crc;
}

/* MESSAGE-INTEGRITY of @msg's first @mi bytes, the length field ending after it. */
static void
ref_hmac (const guint8 *msg, gsize mi, guint8 out[20])
{
  g_autofree guint8 *copy = g_memdup2 (msg, mi);
  unsigned int len = 0;
  gsize body = mi + 24 - 20;

  copy[2] = body >> 8;
  copy[3] = body & 0xff;
  if (HMAC (EVP_sha1 (), PWD, strlen (PWD), copy, mi, out, &len) == NULL || len != 20)
    abort ();
}

static void
check_message (const SfuStunMessage *m, const guint8 *data, size_t size)
{
  char local[8], remote[8], big_local[600], big_remote[600];
  gboolean fp_ok = FALSE, mi_ok = FALSE;
  SfuAddress addr;

  if (m->data != data || m->len != size || m->n_attributes > SFU_STUN_MAX_ATTRIBUTES ||
      m->n_unknown > SFU_STUN_MAX_UNKNOWN || memcmp (m->txid, data + 8, 12) != 0)
    abort ();
  if (m->username && (m->username < data || m->username + m->username_len > data + size ||
                      m->username_len > SFU_STUN_MAX_USERNAME))
    abort ();
  for (guint i = 0; i < m->n_unknown; i++) {
    if (m->unknown[i] >= 0x8000)
      abort ();
  }
  if (m->integrity_offset &&
      (m->integrity_offset % 4 || m->integrity_offset + 24 > size ||
       data[m->integrity_offset] != 0x00 || data[m->integrity_offset + 1] != 0x08))
    abort ();
  if (m->fingerprint_offset &&
      (m->fingerprint_offset != size - 8 || rd32 (data + size - 8) != 0x80280004))
    abort ();

  if (m->fingerprint_offset)
    fp_ok = (ref_crc32 (data, size - 8) ^ 0x5354554eu) == rd32 (data + size - 4);
  if (sfu_stun_check_fingerprint (m) != fp_ok)
    abort ();
  if (m->integrity_offset) {
    guint8 mac[20];

    ref_hmac (data, m->integrity_offset, mac);
    mi_ok = memcmp (mac, data + m->integrity_offset + 4, 20) == 0;
  }
  if (sfu_stun_check_integrity (m, (const guint8 *) PWD, strlen (PWD)) != mi_ok)
    abort ();

  if (sfu_stun_username_split (m, local, sizeof local, remote, sizeof remote) &&
      strlen (local) + 1 + strlen (remote) != m->username_len)
    abort ();
  if (sfu_stun_username_split (m, big_local, sizeof big_local, big_remote, sizeof big_remote) &&
      strlen (big_local) + 1 + strlen (big_remote) != m->username_len)
    abort ();
  if (sfu_stun_message_get_xor_mapped_address (m, &addr) != (m->xor_mapped_offset != 0))
    abort ();
}

/* The USERNAME is "evtj:" and a non-empty remote ufrag without ':' or NUL. */
static gboolean
ref_username_ok (const SfuStunMessage *m)
{
  return m->username && m->username_len > 5 && memcmp (m->username, UFRAG ":", 5) == 0 &&
         !memchr (m->username + 5, ':', m->username_len - 5) &&
         !memchr (m->username + 5, '\0', m->username_len - 5);
}

static void
check_reply (const SfuStunMessage *req, SfuStunVerdict v, const SfuStunReply *reply,
             const guint8 *data, size_t size)
{
  SfuAddress mapped = { G_SOCKET_FAMILY_IPV4, { 0 }, 0 }, back;
  SfuStunMessage msg;
  guint8 out[1500];
  gsize n;

  /* The mapped address comes from the input so that both families and all bytes occur
   * (@size >= 20: the input parsed). */
  if (data[size - 1] & 1)
    mapped.family = G_SOCKET_FAMILY_IPV6;
  memcpy (mapped.addr, data + size - 16, mapped.family == G_SOCKET_FAMILY_IPV4 ? 4 : 16);
  mapped.port = data[0] << 8 | data[1];

  if (reply->verdict != v)
    abort ();
  n = sfu_stun_build_reply (reply, &mapped, PWD, out, sizeof out);
  if (v == SFU_STUN_VERDICT_IGNORE) {
    if (n != 0 || (req->type == SFU_STUN_BINDING_REQUEST && sfu_stun_check_fingerprint (req)))
      abort ();
    return;
  }
  if (req->type != SFU_STUN_BINDING_REQUEST || !sfu_stun_check_fingerprint (req))
    abort ();
  /* 401 is never signed; 420, 487 and success always are; 400 is either. */
  if ((v == SFU_STUN_VERDICT_UNAUTHENTICATED && reply->authenticated) ||
      ((v == SFU_STUN_VERDICT_SUCCESS || v == SFU_STUN_VERDICT_UNKNOWN_ATTRIBUTE ||
        v == SFU_STUN_VERDICT_ROLE_CONFLICT) && !reply->authenticated) ||
      (reply->authenticated && !sfu_stun_check_integrity (req, (const guint8 *) PWD, strlen (PWD))))
    abort ();

  if (n == 0 || !sfu_stun_parse (out, n, &msg, NULL) || memcmp (msg.txid, req->txid, 12) != 0 ||
      !sfu_stun_check_fingerprint (&msg) ||
      sfu_stun_check_integrity (&msg, (const guint8 *) PWD, strlen (PWD)) !=
          reply->authenticated ||
      (reply->authenticated != (msg.integrity_offset != 0)))
    abort ();
  if (v == SFU_STUN_VERDICT_SUCCESS) {
    if (msg.type != SFU_STUN_BINDING_SUCCESS ||
        !sfu_stun_message_get_xor_mapped_address (&msg, &back) ||
        !sfu_address_equal (&back, &mapped) || memcmp (back.addr, mapped.addr, 16) != 0 ||
        reply->nominated != req->use_candidate)
      abort ();
  } else if (msg.type != SFU_STUN_BINDING_ERROR || msg.error_code != reply->error_code ||
             msg.unknown_attributes_len != 2 * reply->n_unknown) {
    abort ();
  }
}

static void
decide (const SfuStunMessage *m, const guint8 *data, size_t size)
{
  static const char *remotes[] = { NULL, REMOTE_UFRAG };
  SfuStunReply reply;

  for (gsize i = 0; i < G_N_ELEMENTS (remotes); i++) {
    SfuStunVerdict v = sfu_stun_handle_request (m, UFRAG, PWD, remotes[i], &reply);

    check_reply (m, v, &reply, data, size);
  }
}

/* A copy with valid MESSAGE-INTEGRITY and FINGERPRINT, decided again. */
static void
resign (const SfuStunMessage *m, const guint8 *data, size_t size)
{
  g_autofree guint8 *copy = g_malloc (size + 8);
  gsize len = size, fp = m->fingerprint_offset;
  SfuStunReply reply;
  SfuStunMessage again;
  SfuStunVerdict v;
  guint32 crc;

  memcpy (copy, data, size);
  if (m->integrity_offset)
    ref_hmac (copy, m->integrity_offset, copy + m->integrity_offset + 4);
  if (fp == 0) {
    if (size + 8 > SFU_STUN_MAX_SIZE || m->n_attributes >= SFU_STUN_MAX_ATTRIBUTES)
      return;
    fp = len;
    len += 8;
    copy[2] = (len - 20) >> 8;
    copy[3] = (len - 20) & 0xff;
    memcpy (copy + fp, "\x80\x28\x00\x04", 4);
  }
  crc = ref_crc32 (copy, fp) ^ 0x5354554eu;
  copy[fp + 4] = crc >> 24;
  copy[fp + 5] = (crc >> 16) & 0xff;
  copy[fp + 6] = (crc >> 8) & 0xff;
  copy[fp + 7] = crc & 0xff;
  if (!sfu_stun_parse (copy, len, &again, NULL) || !sfu_stun_check_fingerprint (&again) ||
      (again.integrity_offset &&
       !sfu_stun_check_integrity (&again, (const guint8 *) PWD, strlen (PWD))))
    abort ();
  check_message (&again, copy, len);
  decide (&again, copy, len);

  /* Authentic now: with both USERNAME and MESSAGE-INTEGRITY, 401 if and only if the
   * USERNAME is not ours. */
  v = sfu_stun_handle_request (&again, UFRAG, PWD, NULL, &reply);
  if (again.type == SFU_STUN_BINDING_REQUEST &&
      (v == SFU_STUN_VERDICT_IGNORE ||
       (again.username && again.integrity_offset &&
        (v == SFU_STUN_VERDICT_UNAUTHENTICATED) == ref_username_ok (&again))))
    abort ();
}

/* A Binding request built from the input's bytes must parse back to the same fields. */
static void
build_request (const guint8 *data, size_t size)
{
  char username[SFU_STUN_MAX_USERNAME + 1];
  SfuStunRequestParams p = { username, 0, 0, 0, FALSE };
  gsize ulen = size < 16 ? 0 : MIN (size - 16, SFU_STUN_MAX_USERNAME);
  SfuStunMessage m;
  guint8 out[1500];
  gsize n;

  if (size < 16)
    return;
  for (gsize i = 0; i < ulen; i++)
    username[i] = data[16 + i] ? data[16 + i] : 'x';
  username[ulen] = '\0';
  p.priority = rd32 (data);
  p.tie_breaker = (guint64) rd32 (data + 4) << 32 | rd32 (data + 8);
  p.role = data[12] % 3;
  p.use_candidate = data[13] & 1;
  n = sfu_stun_build_binding_request (data + 4, &p, (const guint8 *) PWD, strlen (PWD), out,
                                      sizeof out);
  if (n == 0 || !sfu_stun_parse (out, n, &m, NULL) || !sfu_stun_check_fingerprint (&m) ||
      !sfu_stun_check_integrity (&m, (const guint8 *) PWD, strlen (PWD)) ||
      m.username_len != ulen || memcmp (m.username, username, ulen) != 0 ||
      m.priority != p.priority || m.use_candidate != p.use_candidate ||
      m.ice_controlling != (p.role == SFU_STUN_ROLE_CONTROLLING) ||
      m.ice_controlled != (p.role == SFU_STUN_ROLE_CONTROLLED) ||
      (p.role != SFU_STUN_ROLE_NONE && m.tie_breaker != p.tie_breaker))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  SfuPacketKind kind;
  SfuStunMessage msg;

  init_once ();
  kind = sfu_packet_classify (data, size);
  if ((size > 0 && data[0] <= 3 && size >= 20) != (kind == SFU_PACKET_STUN))
    abort ();
  build_request (data, size);

  if (!sfu_stun_parse (data, size, &msg, &error)) {
    if (error == NULL || error->domain != SFU_STUN_ERROR)
      abort ();
    return 0;
  }
  if (kind != SFU_PACKET_STUN)
    abort ();
  check_message (&msg, data, size);
  decide (&msg, data, size);
  resign (&msg, data, size);
  return 0;
}
