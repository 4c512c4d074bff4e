/* SPDX-License-Identifier: MIT */
/* Unit tests for sfu-stun and sfu-packet: the RFC 5769 test vectors, round trips of every
 * builder, the ICE-lite verdicts, and hostile messages that must be refused (or accepted)
 * without ever reading outside the datagram. Hand-made messages are signed here with
 * OpenSSL's one-shot HMAC() and a bitwise CRC-32, independent of the code under test. */
#include "sfu-packet.h"
#include "sfu-stun.h"

#include <gio/gnetworking.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

/* RFC 5769 §2: username "evtj:h6vY", password below, software "STUN test client". */
#define RFC_PWD "VOkJxbRl1RmTxUk/WvJxBt"
static const guint8 rfc_request[] = {
  0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
  0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e,
  0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24,
  0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1,
  0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68,
  0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
  0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5,
  0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};
/* §2.2, mapped 192.0.2.1:32853; software "test vector" padded with spaces. */
static const guint8 rfc_response_v4[] = {
  0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
  0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
  0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
  0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
  0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b,
  0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};
/* §2.3, mapped [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const guint8 rfc_response_v6[] = {
  0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
  0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
  0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02,
  0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5,
  0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6,
  0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
  0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};
static const guint8 rfc_v6_addr[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
                                        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };

#define UFRAG "srvA"
#define PWD "server-password-0123456789"
#define PEER_UFRAG "peerB"
static const guint8 txid[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* A hand-made message. */
typedef struct {
  guint8 buf[2048];
  gsize len;
} Raw;

static void
raw_begin (Raw *r, guint16 type)
{
  memset (r, 0, sizeof *r);
  r->buf[0] = type >> 8;
  r->buf[1] = type & 0xff;
  memcpy (r->buf + 4, "\x21\x12\xa4\x42", 4);
  memcpy (r->buf + 8, txid, 12);
  r->len = 20;
}

static void
raw_set_length (Raw *r, gsize body)
{
  r->buf[2] = body >> 8;
  r->buf[3] = body & 0xff;
}

/* Appends an attribute padded with @pad bytes and keeps the length field true. */
static void
raw_attr_pad (Raw *r, guint16 type, gconstpointer value, gsize len, guint8 pad)
{
  guint8 *p = r->buf + r->len;
  gsize padded = (len + 3) & ~(gsize) 3;

  g_assert_cmpuint (r->len + 4 + padded, <=, sizeof r->buf);
  p[0] = type >> 8;
  p[1] = type & 0xff;
  p[2] = len >> 8;
  p[3] = len & 0xff;
  memset (p + 4, pad, padded);
  if (len > 0)
    memcpy (p + 4, value, len);
  r->len += 4 + padded;
  raw_set_length (r, r->len - 20);
}

static void
raw_attr (Raw *r, guint16 type, gconstpointer value, gsize len)
{
  raw_attr_pad (r, type, value, len, 0);
}

static void
raw_u32 (Raw *r, guint16 type, guint32 v)
{
  guint32 be = GUINT32_TO_BE (v);

  raw_attr (r, type, &be, 4);
}

static void
raw_u64 (Raw *r, guint16 type, guint64 v)
{
  guint64 be = GUINT64_TO_BE (v);

  raw_attr (r, type, &be, 8);
}

static void
raw_sign (Raw *r, const char *key)
{
  guint8 mac[20];
  unsigned int mac_len = 0;
  gsize at = r->len;

  raw_set_length (r, at + 24 - 20);
  g_assert_nonnull (HMAC (EVP_sha1 (), key, strlen (key), r->buf, at, mac, &mac_len));
  raw_attr (r, 0x0008, mac, 20);
}

static guint32
bitwise_crc32 (const guint8 *p, gsize n)
{
  guint32 crc = 0xffffffffu;

  for (gsize i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
  }
  return ~crc;
}

static void
raw_fingerprint (Raw *r)
{
  guint32 be;

  raw_set_length (r, r->len + 8 - 20);
  be = GUINT32_TO_BE (bitwise_crc32 (r->buf, r->len) ^ 0x5354554eu);
  raw_attr (r, 0x8028, &be, 4);
}

/* A check as Chromium sends it to us (our ufrag first). */
static void
raw_check (Raw *r, const char *username, gboolean use_candidate)
{
  raw_begin (r, SFU_STUN_BINDING_REQUEST);
  raw_attr (r, 0x0006, username, strlen (username));
  raw_attr (r, 0xC057, "\x00\x01\x00\x0a", 4); /* GOOG-NETWORK-INFO, optional */
  raw_u64 (r, 0x802A, G_GUINT64_CONSTANT (0x1122334455667788));
  if (use_candidate)
    raw_attr (r, 0x0025, NULL, 0);
  raw_u32 (r, 0x0024, 0x6e7f1eff);
}

/* Parses from an exact-size heap copy, so that an over-read reaches ASan. */
static gboolean
parse (const guint8 *data, gsize len, SfuStunMessage *msg, GError **error)
{
  g_autofree guint8 *copy = g_memdup2 (data, len);
  gboolean ok = sfu_stun_parse (copy, len, msg, error);

  msg->data = msg->username = msg->error_reason = msg->unknown_attributes = NULL;
  return ok;
}

static void
parse_fails (const Raw *r, gint code)
{
  g_autoptr (GError) error = NULL;
  SfuStunMessage msg;

  g_assert_false (parse (r->buf, r->len, &msg, &error));
  g_assert_error (error, SFU_STUN_ERROR, code);
}

/* Field by field: the structs have padding. */
static void
assert_address_equal (const SfuAddress *a, const SfuAddress *b)
{
  g_assert_cmpint (a->family, ==, b->family);
  g_assert_cmpuint (a->port, ==, b->port);
  g_assert_cmpmem (a->addr, sizeof a->addr, b->addr, sizeof b->addr);
}

static SfuStunVerdict
handle (const Raw *r, const char *remote_ufrag, SfuStunReply *reply)
{
  SfuStunMessage msg;

  g_assert_true (sfu_stun_parse (r->buf, r->len, &msg, NULL));
  return sfu_stun_handle_request (&msg, UFRAG, PWD, remote_ufrag, reply);
}

static void
test_rfc5769_request (void)
{
  SfuStunMessage msg;
  SfuStunReply reply;
  char local[64], remote[64];
  guint8 out[1500];
  gsize n;

  g_assert_true (sfu_stun_parse (rfc_request, sizeof rfc_request, &msg, NULL));
  g_assert_cmpuint (msg.type, ==, SFU_STUN_BINDING_REQUEST);
  g_assert_cmpmem (msg.txid, 12, rfc_request + 8, 12);
  g_assert_cmpuint (msg.n_attributes, ==, 6);
  g_assert_cmpmem (msg.username, msg.username_len, "evtj:h6vY", 9); /* padding was "   " */
  g_assert_true (msg.has_priority);
  g_assert_cmphex (msg.priority, ==, 0x6e0001ff);
  g_assert_true (msg.ice_controlled && !msg.ice_controlling && !msg.use_candidate);
  g_assert_cmphex (msg.tie_breaker, ==, G_GUINT64_CONSTANT (0x932ff9b151263b36));
  g_assert_cmpuint (msg.n_unknown, ==, 0); /* SOFTWARE is comprehension-optional */
  g_assert_cmpuint (msg.integrity_offset, ==, 76);
  g_assert_cmpuint (msg.fingerprint_offset, ==, 100);
  g_assert_true (sfu_stun_check_fingerprint (&msg));
  g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) RFC_PWD, strlen (RFC_PWD)));
  g_assert_false (sfu_stun_check_integrity (&msg, (const guint8 *) "VOkJxbRl1RmTxUk/WvJxBT", 22));
  g_assert_true (sfu_stun_username_split (&msg, local, sizeof local, remote, sizeof remote));
  g_assert_cmpstr (local, ==, "evtj");
  g_assert_cmpstr (remote, ==, "h6vY");

  /* The sample is from an agent that thinks it is controlled: a role conflict for us. */
  g_assert_cmpint (sfu_stun_handle_request (&msg, "evtj", RFC_PWD, "h6vY", &reply), ==,
                   SFU_STUN_VERDICT_ROLE_CONFLICT);
  g_assert_true (reply.authenticated);
  n = sfu_stun_build_reply (&reply, NULL, RFC_PWD, out, sizeof out);
  g_assert_cmpuint (n, >, 0);
  g_assert_true (sfu_stun_parse (out, n, &msg, NULL));
  g_assert_cmpuint (msg.type, ==, SFU_STUN_BINDING_ERROR);
  g_assert_cmpuint (msg.error_code, ==, 487);
  g_assert_cmpmem (msg.txid, 12, rfc_request + 8, 12);
  g_assert_true (sfu_stun_check_fingerprint (&msg));
  g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) RFC_PWD, strlen (RFC_PWD)));
}

static void
check_rfc_response (const guint8 *vector, gsize len, GSocketFamily family,
                    const guint8 *addr)
{
  SfuStunMessage msg, ours;
  SfuAddress mapped;
  guint8 out[256];
  gsize n, alen = family == G_SOCKET_FAMILY_IPV4 ? 4 : 16;

  g_assert_true (sfu_stun_parse (vector, len, &msg, NULL));
  g_assert_cmpuint (msg.type, ==, SFU_STUN_BINDING_SUCCESS);
  g_assert_true (sfu_stun_check_fingerprint (&msg));
  g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) RFC_PWD, strlen (RFC_PWD)));
  g_assert_true (sfu_stun_message_get_xor_mapped_address (&msg, &mapped));
  g_assert_cmpint (mapped.family, ==, family);
  g_assert_cmpuint (mapped.port, ==, 32853);
  g_assert_cmpmem (mapped.addr, alen, addr, alen);

  /* Ours has no SOFTWARE but must encode the same XOR-MAPPED-ADDRESS bytes. */
  n = sfu_stun_build_binding_success (msg.txid, &mapped, (const guint8 *) RFC_PWD,
                                      strlen (RFC_PWD), out, sizeof out);
  g_assert_cmpuint (n, ==, 20 + 4 + 4 + alen + 24 + 8);
  g_assert_true (sfu_stun_parse (out, n, &ours, NULL));
  g_assert_cmpmem (out + ours.xor_mapped_offset, 8 + alen, vector + msg.xor_mapped_offset,
                   8 + alen);
  g_assert_true (sfu_stun_check_fingerprint (&ours));
  g_assert_true (sfu_stun_check_integrity (&ours, (const guint8 *) RFC_PWD, strlen (RFC_PWD)));
}

static void
test_rfc5769_response_ipv4 (void)
{
  check_rfc_response (rfc_response_v4, sizeof rfc_response_v4, G_SOCKET_FAMILY_IPV4,
                      (const guint8 *) "\xc0\x00\x02\x01");
}

static void
test_rfc5769_response_ipv6 (void)
{
  check_rfc_response (rfc_response_v6, sizeof rfc_response_v6, G_SOCKET_FAMILY_IPV6,
                      rfc_v6_addr);
}

/* Every builder: parse back, and every byte count short of the full length returns 0
 * without writing past the given capacity. */
static void
check_truncated_builds (gsize full, gsize (*build) (guint8 *out, gsize cap))
{
  for (gsize cap = 0; cap < full; cap++) {
    g_autofree guint8 *buf = g_malloc (cap + 1);

    buf[cap] = 0xa5;
    g_assert_cmpuint (build (buf, cap), ==, 0);
    g_assert_cmpuint (buf[cap], ==, 0xa5);
  }
}

static gsize
build_success_v6 (guint8 *out, gsize cap)
{
  SfuAddress a = { G_SOCKET_FAMILY_IPV6, { 0 }, 9 };

  memcpy (a.addr, rfc_v6_addr, 16);
  return sfu_stun_build_binding_success (txid, &a, (const guint8 *) PWD, strlen (PWD), out, cap);
}

static gsize
build_error_420 (guint8 *out, gsize cap)
{
  static const guint16 unknown[] = { 0x0031, 0x7fff, 0x0003 };

  return sfu_stun_build_error (txid, 420, NULL, unknown, 3, (const guint8 *) PWD, strlen (PWD),
                               out, cap);
}

static gsize
build_request (guint8 *out, gsize cap)
{
  SfuStunRequestParams p = { UFRAG ":" PEER_UFRAG, 0x6e7f1eff, SFU_STUN_ROLE_CONTROLLING,
                             G_GUINT64_CONSTANT (0xfedcba9876543210), TRUE };

  return sfu_stun_build_binding_request (txid, &p, (const guint8 *) PWD, strlen (PWD), out, cap);
}

static void
test_build_round_trips (void)
{
  SfuAddress v4 = { G_SOCKET_FAMILY_IPV4, { 10, 0, 0, 7 }, 50000 }, back;
  SfuStunMessage msg;
  guint8 out[1500];
  gsize n;

  /* Success, IPv4 without a key, IPv6 with one. */
  n = sfu_stun_build_binding_success (txid, &v4, NULL, 0, out, sizeof out);
  g_assert_cmpuint (n, ==, 20 + 12 + 8);
  g_assert_true (sfu_stun_parse (out, n, &msg, NULL));
  g_assert_true (sfu_stun_check_fingerprint (&msg));
  g_assert_cmpuint (msg.integrity_offset, ==, 0);
  g_assert_true (sfu_stun_message_get_xor_mapped_address (&msg, &back));
  assert_address_equal (&back, &v4);

  n = build_success_v6 (out, sizeof out);
  g_assert_true (sfu_stun_parse (out, n, &msg, NULL));
  g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) PWD, strlen (PWD)));
  g_assert_true (sfu_stun_message_get_xor_mapped_address (&msg, &back));
  g_assert_cmpuint (back.port, ==, 9);
  g_assert_cmpmem (back.addr, 16, rfc_v6_addr, 16);
  check_truncated_builds (n, build_success_v6);

  /* 420 with UNKNOWN-ATTRIBUTES (6 bytes, padded) and MESSAGE-INTEGRITY. */
  n = build_error_420 (out, sizeof out);
  g_assert_true (sfu_stun_parse (out, n, &msg, NULL));
  g_assert_cmpuint (msg.type, ==, SFU_STUN_BINDING_ERROR);
  g_assert_cmpuint (msg.error_code, ==, 420);
  g_assert_cmpmem (msg.error_reason, msg.error_reason_len, "Unknown Attribute", 17);
  g_assert_cmpmem (msg.unknown_attributes, msg.unknown_attributes_len,
                   "\x00\x31\x7f\xff\x00\x03", 6);
  g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) PWD, strlen (PWD)));
  g_assert_true (sfu_stun_check_fingerprint (&msg));
  check_truncated_builds (n, build_error_420);

  /* 400 with a custom reason and no key. */
  n = sfu_stun_build_error (txid, 400, "Nope", NULL, 0, NULL, 0, out, sizeof out);
  g_assert_true (sfu_stun_parse (out, n, &msg, NULL));
  g_assert_cmpuint (msg.error_code, ==, 400);
  g_assert_cmpmem (msg.error_reason, msg.error_reason_len, "Nope", 4);
  g_assert_cmpuint (msg.integrity_offset, ==, 0);
  g_assert_true (sfu_stun_check_fingerprint (&msg));

  /* Request: what a full agent sends, and what we accept. */
  n = build_request (out, sizeof out);
  g_assert_true (sfu_stun_parse (out, n, &msg, NULL));
  g_assert_cmpmem (msg.username, msg.username_len, UFRAG ":" PEER_UFRAG, 10);
  g_assert_true (msg.has_priority && msg.priority == 0x6e7f1eff);
  g_assert_true (msg.ice_controlling && msg.use_candidate && !msg.ice_controlled);
  g_assert_cmphex (msg.tie_breaker, ==, G_GUINT64_CONSTANT (0xfedcba9876543210));
  g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) PWD, strlen (PWD)));
  g_assert_true (sfu_stun_check_fingerprint (&msg));
  check_truncated_builds (n, build_request);
}

static void
test_handle_success (void)
{
  guint8 out[1500];
  SfuAddress src = { G_SOCKET_FAMILY_IPV4, { 192, 0, 2, 77 }, 61000 }, back;
  SfuStunMessage msg;
  SfuStunReply reply;
  gsize n;
  Raw r;

  for (int nominate = 0; nominate <= 1; nominate++) {
    raw_check (&r, UFRAG ":" PEER_UFRAG, nominate);
    raw_sign (&r, PWD);
    raw_fingerprint (&r);
    g_assert_cmpint (handle (&r, PEER_UFRAG, &reply), ==, SFU_STUN_VERDICT_SUCCESS);
    g_assert_cmpint (reply.nominated, ==, nominate);
    g_assert_cmphex (reply.priority, ==, 0x6e7f1eff);
    g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_SUCCESS);

    n = sfu_stun_build_reply (&reply, &src, PWD, out, sizeof out);
    g_assert_true (sfu_stun_parse (out, n, &msg, NULL));
    g_assert_cmpuint (msg.type, ==, SFU_STUN_BINDING_SUCCESS);
    g_assert_cmpmem (msg.txid, 12, txid, 12);
    g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) PWD, strlen (PWD)));
    g_assert_true (sfu_stun_message_get_xor_mapped_address (&msg, &back));
    assert_address_equal (&back, &src);
  }

  /* The builder's own request is accepted, and a check without a role attribute too. */
  n = build_request (r.buf, sizeof r.buf);
  r.len = n;
  g_assert_cmpint (handle (&r, PEER_UFRAG, &reply), ==, SFU_STUN_VERDICT_SUCCESS);
  g_assert_true (reply.nominated);
  raw_begin (&r, SFU_STUN_BINDING_REQUEST);
  raw_attr (&r, 0x0006, UFRAG ":x", 6);
  raw_u32 (&r, 0x0024, 1);
  raw_sign (&r, PWD);
  raw_fingerprint (&r);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_SUCCESS);
}

/* Checks @r signed with @key for @username gets @expected and a reply that parses. */
static void
check_verdict (const char *username, const char *key, const char *remote_ufrag,
               SfuStunVerdict expected)
{
  SfuAddress src = { G_SOCKET_FAMILY_IPV4, { 127, 0, 0, 1 }, 1 };
  SfuStunMessage msg;
  SfuStunReply reply;
  guint8 out[1500];
  gsize n;
  Raw r;

  raw_check (&r, username, TRUE);
  raw_sign (&r, key);
  raw_fingerprint (&r);
  g_assert_cmpint (handle (&r, remote_ufrag, &reply), ==, expected);
  n = sfu_stun_build_reply (&reply, &src, PWD, out, sizeof out);
  g_assert_true (sfu_stun_parse (out, n, &msg, NULL));
  if (expected == SFU_STUN_VERDICT_UNAUTHENTICATED) {
    g_assert_cmpuint (msg.error_code, ==, 401);
    g_assert_false (reply.authenticated);
    g_assert_cmpuint (msg.integrity_offset, ==, 0); /* never signed for a failed check */
  }
}

static void
test_handle_unauthenticated (void)
{
  check_verdict (UFRAG ":" PEER_UFRAG, "wrong-password", PEER_UFRAG,
                 SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict (UFRAG ":" PEER_UFRAG, "", NULL, SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict ("srvX:" PEER_UFRAG, PWD, NULL, SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict ("srvAA:" PEER_UFRAG, PWD, NULL, SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict (PEER_UFRAG ":" UFRAG, PWD, NULL, SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict (UFRAG ":", PWD, NULL, SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict (UFRAG, PWD, NULL, SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict (UFRAG "x" PEER_UFRAG, PWD, NULL, SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict (UFRAG ":a:b", PWD, NULL, SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict (UFRAG ":old", PWD, PEER_UFRAG, SFU_STUN_VERDICT_UNAUTHENTICATED);
  check_verdict (UFRAG ":old", PWD, NULL, SFU_STUN_VERDICT_SUCCESS);
}

static void
test_handle_bad_request (void)
{
  SfuStunReply reply;
  Raw r;

  /* No MESSAGE-INTEGRITY: 400, unsigned. */
  raw_check (&r, UFRAG ":" PEER_UFRAG, FALSE);
  raw_fingerprint (&r);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_BAD_REQUEST);
  g_assert_false (reply.authenticated);
  /* No USERNAME. */
  raw_begin (&r, SFU_STUN_BINDING_REQUEST);
  raw_u32 (&r, 0x0024, 1);
  raw_sign (&r, PWD);
  raw_fingerprint (&r);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_BAD_REQUEST);
  /* No PRIORITY: 400 after authentication, so signed. */
  raw_begin (&r, SFU_STUN_BINDING_REQUEST);
  raw_attr (&r, 0x0006, UFRAG ":p", 6);
  raw_sign (&r, PWD);
  raw_fingerprint (&r);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_BAD_REQUEST);
  g_assert_true (reply.authenticated);
  /* Both roles at once. */
  raw_check (&r, UFRAG ":p", FALSE);
  raw_u64 (&r, 0x8029, 1);
  raw_sign (&r, PWD);
  raw_fingerprint (&r);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_BAD_REQUEST);
}

static void
test_handle_unknown_attribute (void)
{
  SfuStunMessage msg;
  SfuStunReply reply;
  guint8 out[1500];
  gsize n;
  Raw r;

  raw_check (&r, UFRAG ":p", TRUE);
  for (guint16 t = 0x7ff0; t < 0x7ffc; t++) { /* 12 distinct, each twice */
    raw_attr (&r, t, "x", 1);
    raw_attr (&r, t, NULL, 0);
  }
  raw_attr (&r, 0xC001, "opt", 3); /* comprehension-optional: ignored */
  raw_sign (&r, PWD);
  raw_attr (&r, 0x0031, NULL, 0); /* after MESSAGE-INTEGRITY: ignored */
  raw_fingerprint (&r);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_UNKNOWN_ATTRIBUTE);
  g_assert_cmpuint (reply.n_unknown, ==, SFU_STUN_MAX_UNKNOWN);
  for (guint i = 0; i < reply.n_unknown; i++)
    g_assert_cmphex (reply.unknown[i], ==, 0x7ff0 + i);
  n = sfu_stun_build_reply (&reply, NULL, PWD, out, sizeof out);
  g_assert_true (sfu_stun_parse (out, n, &msg, NULL));
  g_assert_cmpuint (msg.error_code, ==, 420);
  g_assert_cmpuint (msg.unknown_attributes_len, ==, 16);
  g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) PWD, strlen (PWD)));
  /* A wrong key still wins over unknown attributes: 401 comes first. */
  raw_check (&r, UFRAG ":p", TRUE);
  raw_attr (&r, 0x0031, NULL, 0);
  raw_sign (&r, "other");
  raw_fingerprint (&r);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_UNAUTHENTICATED);
}

static void
test_handle_role_conflict (void)
{
  SfuStunRequestParams p = { UFRAG ":p", 1, SFU_STUN_ROLE_CONTROLLED, 0, TRUE };
  SfuStunReply reply;
  Raw r;

  /* Whatever the tie-breaker: a lite agent cannot become controlling. */
  for (int i = 0; i < 2; i++) {
    p.tie_breaker = i ? G_MAXUINT64 : 0;
    r.len = sfu_stun_build_binding_request (txid, &p, (const guint8 *) PWD, strlen (PWD),
                                            r.buf, sizeof r.buf);
    g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_ROLE_CONFLICT);
    g_assert_cmpuint (reply.error_code, ==, 487);
    g_assert_true (reply.authenticated);
    g_assert_false (reply.nominated);
  }
}

static void
test_handle_ignored (void)
{
  SfuStunReply reply;
  guint8 out[64];
  Raw r;

  /* Keepalive indication, a response, another method, no or a bad FINGERPRINT. */
  static const guint16 types[] = { SFU_STUN_BINDING_INDICATION, SFU_STUN_BINDING_SUCCESS,
                                   SFU_STUN_BINDING_ERROR, 0x0003 /* TURN Allocate */ };
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++) {
    raw_check (&r, UFRAG ":p", FALSE);
    r.buf[0] = types[i] >> 8;
    r.buf[1] = types[i] & 0xff;
    raw_sign (&r, PWD);
    raw_fingerprint (&r);
    g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_IGNORE);
    g_assert_cmpuint (sfu_stun_build_reply (&reply, NULL, PWD, out, sizeof out), ==, 0);
  }
  raw_check (&r, UFRAG ":p", FALSE);
  raw_sign (&r, PWD);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_IGNORE);
  raw_fingerprint (&r);
  r.buf[r.len - 1] ^= 1;
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_IGNORE);
}

static void
test_fingerprint_mismatch (void)
{
  SfuStunMessage msg;
  guint8 copy[sizeof rfc_request];

  /* One flipped bit anywhere before FINGERPRINT (not the header's fields the parser
   * checks) is caught; so is a flipped bit in FINGERPRINT itself. */
  for (gsize i = 8; i < sizeof copy; i++) {
    memcpy (copy, rfc_request, sizeof copy);
    copy[i] ^= 0x10;
    if (!sfu_stun_parse (copy, sizeof copy, &msg, NULL))
      continue; /* e.g. a flipped attribute length */
    g_assert_false (sfu_stun_check_fingerprint (&msg));
  }
}

static void
test_truncated (void)
{
  const guint8 *vectors[] = { rfc_request, rfc_response_v4, rfc_response_v6 };
  gsize lens[] = { sizeof rfc_request, sizeof rfc_response_v4, sizeof rfc_response_v6 };

  for (gsize v = 0; v < G_N_ELEMENTS (vectors); v++) {
    for (gsize len = 0; len < lens[v]; len++) {
      g_autoptr (GError) error = NULL;
      SfuStunMessage msg;

      g_assert_false (parse (vectors[v], len, &msg, &error));
      g_assert_nonnull (error);
    }
  }
}

static void
test_length_lies (void)
{
  Raw r;

  memcpy (r.buf, rfc_request, sizeof rfc_request);
  r.len = sizeof rfc_request;
  for (guint body = 0; body < 0x10000; body += (body < 200 ? 1 : 997)) {
    raw_set_length (&r, body);
    if (body != sizeof rfc_request - 20)
      parse_fails (&r, SFU_STUN_ERROR_LENGTH);
  }
  /* Not STUN: top bits set; a first byte RFC 7983 gives to no one (4) or to DTLS (22),
   * though RFC 8489 alone would accept both (a fuzzer finding). */
  static const guint16 types[] = { 0x4001, 0x0401, 0x1601 };
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++) {
    raw_begin (&r, types[i]);
    parse_fails (&r, SFU_STUN_ERROR_NOT_STUN);
  }
  raw_begin (&r, 1);
  r.buf[7] ^= 1;
  parse_fails (&r, SFU_STUN_ERROR_NOT_STUN);
}

static void
test_attribute_past_end (void)
{
  static const guint16 lens[] = { 5, 8, 9, 100, 0xffff };
  Raw r;

  for (gsize i = 0; i < G_N_ELEMENTS (lens); i++) {
    raw_begin (&r, 1);
    raw_attr (&r, 0x0006, "ab:cd", 5); /* 8 bytes of value on the wire */
    r.buf[22] = lens[i] >> 8;
    r.buf[23] = lens[i] & 0xff;
    if (lens[i] <= 8)
      g_assert_true (sfu_stun_parse (r.buf, r.len, &(SfuStunMessage) { 0 }, NULL));
    else
      parse_fails (&r, SFU_STUN_ERROR_ATTRIBUTE);
  }
  /* PRIORITY's header fits, its value does not. */
  raw_begin (&r, 1);
  raw_set_length (&r, 4);
  r.len = 24;
  memcpy (r.buf + 20, "\x00\x24\x00\x04", 4);
  parse_fails (&r, SFU_STUN_ERROR_ATTRIBUTE);
}

static void
test_padding_nonzero (void)
{
  SfuStunMessage msg;
  SfuStunReply reply;
  Raw r;

  raw_begin (&r, SFU_STUN_BINDING_REQUEST);
  raw_attr_pad (&r, 0x0006, UFRAG ":p", 6, 0xff);
  raw_attr_pad (&r, 0x8022, "x", 1, 0xee);
  raw_u32 (&r, 0x0024, 7);
  raw_u64 (&r, 0x802A, 1);
  raw_sign (&r, PWD);
  raw_fingerprint (&r);
  g_assert_true (sfu_stun_parse (r.buf, r.len, &msg, NULL));
  g_assert_cmpmem (msg.username, msg.username_len, UFRAG ":p", 6);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_SUCCESS);
}

static void
test_duplicates (void)
{
  SfuStunMessage msg;
  SfuStunReply reply;
  Raw r;

  /* First occurrence wins (RFC 8489 §14). */
  raw_check (&r, UFRAG ":first", FALSE);
  raw_attr (&r, 0x0006, UFRAG ":second", 11);
  raw_u32 (&r, 0x0024, 2);
  raw_u64 (&r, 0x8029, 5); /* ICE-CONTROLLED after ICE-CONTROLLING */
  raw_sign (&r, PWD);
  raw_sign (&r, "a second MESSAGE-INTEGRITY is ignored");
  raw_fingerprint (&r);
  g_assert_true (sfu_stun_parse (r.buf, r.len, &msg, NULL));
  g_assert_cmpmem (msg.username, msg.username_len, UFRAG ":first", 10);
  g_assert_cmphex (msg.priority, ==, 0x6e7f1eff);
  g_assert_cmphex (msg.tie_breaker, ==, G_GUINT64_CONSTANT (0x1122334455667788));
  g_assert_true (msg.ice_controlled && msg.ice_controlling);
  g_assert_true (sfu_stun_check_integrity (&msg, (const guint8 *) PWD, strlen (PWD)));
  g_assert_cmpint (handle (&r, "first", &reply), ==, SFU_STUN_VERDICT_BAD_REQUEST);
  /* A duplicate with an invalid size is still refused. */
  raw_check (&r, UFRAG ":first", FALSE);
  raw_attr (&r, 0x0024, "\1\2", 2);
  parse_fails (&r, SFU_STUN_ERROR_ATTRIBUTE);
}

static void
test_after_integrity_and_fingerprint (void)
{
  SfuStunMessage msg;
  SfuStunReply reply;
  Raw r;

  /* Unauthenticated USE-CANDIDATE and ICE-CONTROLLED after MESSAGE-INTEGRITY are ignored. */
  raw_check (&r, UFRAG ":p", FALSE);
  raw_sign (&r, PWD);
  raw_attr (&r, 0x0025, NULL, 0);
  raw_u64 (&r, 0x8029, 1);
  raw_attr (&r, 0x0024, "\1\2", 2); /* not even its size is checked */
  raw_fingerprint (&r);
  g_assert_true (sfu_stun_parse (r.buf, r.len, &msg, NULL));
  g_assert_false (msg.use_candidate || msg.ice_controlled);
  g_assert_cmpuint (msg.n_attributes, ==, 9);
  g_assert_cmpint (handle (&r, NULL, &reply), ==, SFU_STUN_VERDICT_SUCCESS);
  g_assert_false (reply.nominated);

  /* Anything after FINGERPRINT, a second FINGERPRINT included, is refused. */
  raw_attr (&r, 0x8022, "x", 1);
  parse_fails (&r, SFU_STUN_ERROR_ORDER);
  r.len -= 8;
  raw_fingerprint (&r);
  parse_fails (&r, SFU_STUN_ERROR_ORDER);
}

static void
test_attribute_sizes (void)
{
  static const struct {
    guint16 type;
    gsize len;
    gboolean ok;
  } cases[] = {
    { 0x0006, 513, TRUE }, { 0x0006, 514, FALSE }, { 0x0008, 16, FALSE },
    { 0x0008, 32, FALSE }, { 0x8028, 8, FALSE },   { 0x0024, 2, FALSE },
    { 0x0025, 4, FALSE },  { 0x802A, 4, FALSE },   { 0x8029, 16, FALSE },
    { 0x0020, 12, FALSE }, { 0x0009, 3, FALSE },   { 0x000A, 3, FALSE },
    { 0x8022, 1000, TRUE },
  };
  guint8 value[1024];

  memset (value, 'u', sizeof value);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    SfuStunMessage msg;
    Raw r;

    raw_begin (&r, 1);
    raw_attr (&r, cases[i].type, value, cases[i].len);
    if (cases[i].ok)
      g_assert_true (parse (r.buf, r.len, &msg, NULL));
    else
      parse_fails (&r, SFU_STUN_ERROR_ATTRIBUTE);
  }
}

static void
test_limits (void)
{
  SfuStunMessage msg;
  guint8 big[1300] = { 0 };
  Raw r;

  raw_begin (&r, 1);
  for (int i = 0; i < SFU_STUN_MAX_ATTRIBUTES; i++)
    raw_attr (&r, 0xC000, NULL, 0);
  g_assert_true (parse (r.buf, r.len, &msg, NULL));
  g_assert_cmpuint (msg.n_attributes, ==, SFU_STUN_MAX_ATTRIBUTES);
  raw_attr (&r, 0xC000, NULL, 0);
  parse_fails (&r, SFU_STUN_ERROR_LIMIT);

  raw_begin (&r, 1);
  raw_attr (&r, 0xC000, big, sizeof big);
  parse_fails (&r, SFU_STUN_ERROR_LIMIT);
}

static void
test_username_split (void)
{
  static const struct {
    const char *username;
    gsize local_size;
    const char *local, *remote; /* NULL when refused */
  } cases[] = {
    { "abcd:efgh", 64, "abcd", "efgh" }, { "abcd:efgh", 5, "abcd", "efgh" },
    { "abcd:efgh", 4, NULL, NULL },      { ":efgh", 64, NULL, NULL },
    { "abcd:", 64, NULL, NULL },         { "abcd", 64, NULL, NULL },
    { "a:b:c", 64, NULL, NULL },         { "", 64, NULL, NULL },
  };
  char local[64], remote[64];
  SfuStunMessage msg;
  Raw r;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    raw_begin (&r, 1);
    raw_attr (&r, 0x0006, cases[i].username, strlen (cases[i].username));
    g_assert_true (sfu_stun_parse (r.buf, r.len, &msg, NULL));
    g_assert_cmpint (sfu_stun_username_split (&msg, local, cases[i].local_size, remote,
                                              sizeof remote), ==, cases[i].local != NULL);
    if (cases[i].local) {
      g_assert_cmpstr (local, ==, cases[i].local);
      g_assert_cmpstr (remote, ==, cases[i].remote);
    }
  }
  raw_begin (&r, 1); /* a NUL inside */
  raw_attr (&r, 0x0006, "ab\0d:efgh", 9);
  g_assert_true (sfu_stun_parse (r.buf, r.len, &msg, NULL));
  g_assert_false (sfu_stun_username_split (&msg, local, sizeof local, remote, sizeof remote));
}

static void
test_addresses (void)
{
  struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = g_htons (4242) };
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = g_htons (80) };
  g_autoptr (GSocketAddress) ga = g_inet_socket_address_new_from_string ("2001:db8::1", 7);
  SfuAddress a, b;

  sin.sin_addr.s_addr = g_htonl (0xc0000201);
  g_assert_true (sfu_address_from_sockaddr (&sin, sizeof sin, &a));
  g_assert_true (a.family == G_SOCKET_FAMILY_IPV4 && a.port == 80);
  g_assert_cmpmem (a.addr, 4, "\xc0\x00\x02\x01", 4);
  g_assert_false (sfu_address_from_sockaddr (&sin, sizeof sin - 1, &a));

  memcpy (&sin6.sin6_addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00\x00\x09", 16);
  g_assert_true (sfu_address_from_sockaddr (&sin6, sizeof sin6, &a));
  g_assert_true (a.family == G_SOCKET_FAMILY_IPV4 && a.port == 4242); /* v4-mapped */
  g_assert_cmpmem (a.addr, 4, "\x0a\x00\x00\x09", 4);
  memcpy (&sin6.sin6_addr, rfc_v6_addr, 16);
  g_assert_true (sfu_address_from_sockaddr (&sin6, sizeof sin6, &a));
  g_assert_true (a.family == G_SOCKET_FAMILY_IPV6);
  g_assert_cmpmem (a.addr, 16, rfc_v6_addr, 16);

  g_assert_true (sfu_address_from_socket_address (ga, &a));
  g_assert_true (a.family == G_SOCKET_FAMILY_IPV6 && a.port == 7);
  g_assert_cmpmem (a.addr, 16, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);

  g_assert_true (sfu_address_equal (&a, &a));
  b = a;
  b.port++;
  g_assert_false (sfu_address_equal (&a, &b));
  b = a;
  b.addr[15] ^= 1;
  g_assert_false (sfu_address_equal (&a, &b));
  b = a;
  b.family = G_SOCKET_FAMILY_IPV4;
  g_assert_false (sfu_address_equal (&a, &b));
}

/* Each thread gets its own HMAC context, freed when it exits (LeakSanitizer would say if
 * not). Also run under -fsanitize=thread. */
static gpointer
check_in_thread (G_GNUC_UNUSED gpointer data)
{
  SfuStunMessage msg;

  for (int i = 0; i < 200; i++) {
    if (!sfu_stun_parse (rfc_request, sizeof rfc_request, &msg, NULL) ||
        !sfu_stun_check_fingerprint (&msg) ||
        !sfu_stun_check_integrity (&msg, (const guint8 *) RFC_PWD, strlen (RFC_PWD)))
      return GINT_TO_POINTER (FALSE);
  }
  return GINT_TO_POINTER (TRUE);
}

static void
test_threads (void)
{
  GThread *threads[4];

  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("stun-check", check_in_thread, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (threads[i])));
}

static void
test_classify (void)
{
  static const struct {
    guint8 b0, b1;
    gsize len;
    SfuPacketKind kind;
  } cases[] = {
    { 0, 1, 20, SFU_PACKET_STUN },      { 1, 1, 108, SFU_PACKET_STUN },
    { 3, 0, 20, SFU_PACKET_STUN },      { 0, 1, 19, SFU_PACKET_UNKNOWN },
    { 4, 0, 100, SFU_PACKET_UNKNOWN },  { 16, 0, 100, SFU_PACKET_UNKNOWN }, /* ZRTP */
    { 19, 0, 100, SFU_PACKET_UNKNOWN }, { 20, 254, 13, SFU_PACKET_DTLS },
    { 22, 254, 100, SFU_PACKET_DTLS },  { 63, 0, 13, SFU_PACKET_DTLS },
    { 22, 254, 12, SFU_PACKET_UNKNOWN }, { 64, 0, 100, SFU_PACKET_UNKNOWN }, /* TURN */
    { 79, 0, 100, SFU_PACKET_UNKNOWN }, { 127, 0, 100, SFU_PACKET_UNKNOWN },
    { 128, 111, 12, SFU_PACKET_RTP },   { 0x90, 0xe0, 100, SFU_PACKET_RTP }, /* M + 96 */
    { 191, 127, 12, SFU_PACKET_RTP },   { 128, 96, 11, SFU_PACKET_UNKNOWN },
    { 128, 191, 12, SFU_PACKET_RTP },   { 0x80, 200, 8, SFU_PACKET_RTCP }, /* SR */
    { 0x81, 201, 32, SFU_PACKET_RTCP }, { 0x8f, 206, 12, SFU_PACKET_RTCP }, /* PLI */
    { 128, 192, 8, SFU_PACKET_RTCP },   { 128, 223, 8, SFU_PACKET_RTCP },
    { 128, 224, 12, SFU_PACKET_RTP },   { 128, 200, 7, SFU_PACKET_UNKNOWN },
    { 192, 200, 100, SFU_PACKET_UNKNOWN }, { 255, 0, 100, SFU_PACKET_UNKNOWN },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree guint8 *p = g_malloc0 (cases[i].len);

    p[0] = cases[i].b0;
    if (cases[i].len > 1)
      p[1] = cases[i].b1;
    g_assert_cmpstr (sfu_packet_kind_to_string (sfu_packet_classify (p, cases[i].len)), ==,
                     sfu_packet_kind_to_string (cases[i].kind));
  }
  g_assert_cmpint (sfu_packet_classify (NULL, 0), ==, SFU_PACKET_UNKNOWN);
  g_assert_cmpint (sfu_packet_classify ((const guint8 *) "\x80", 1), ==, SFU_PACKET_UNKNOWN);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sfu-stun/rfc5769/request", test_rfc5769_request);
  g_test_add_func ("/sfu-stun/rfc5769/response-ipv4", test_rfc5769_response_ipv4);
  g_test_add_func ("/sfu-stun/rfc5769/response-ipv6", test_rfc5769_response_ipv6);
  g_test_add_func ("/sfu-stun/build/round-trips", test_build_round_trips);
  g_test_add_func ("/sfu-stun/handle/success", test_handle_success);
  g_test_add_func ("/sfu-stun/handle/unauthenticated", test_handle_unauthenticated);
  g_test_add_func ("/sfu-stun/handle/bad-request", test_handle_bad_request);
  g_test_add_func ("/sfu-stun/handle/unknown-attribute", test_handle_unknown_attribute);
  g_test_add_func ("/sfu-stun/handle/role-conflict", test_handle_role_conflict);
  g_test_add_func ("/sfu-stun/handle/ignored", test_handle_ignored);
  g_test_add_func ("/sfu-stun/parse/fingerprint-mismatch", test_fingerprint_mismatch);
  g_test_add_func ("/sfu-stun/parse/truncated", test_truncated);
  g_test_add_func ("/sfu-stun/parse/length-lies", test_length_lies);
  g_test_add_func ("/sfu-stun/parse/attribute-past-end", test_attribute_past_end);
  g_test_add_func ("/sfu-stun/parse/padding-nonzero", test_padding_nonzero);
  g_test_add_func ("/sfu-stun/parse/duplicates", test_duplicates);
  g_test_add_func ("/sfu-stun/parse/after-integrity-and-fingerprint",
                   test_after_integrity_and_fingerprint);
  g_test_add_func ("/sfu-stun/parse/attribute-sizes", test_attribute_sizes);
  g_test_add_func ("/sfu-stun/parse/limits", test_limits);
  g_test_add_func ("/sfu-stun/username-split", test_username_split);
  g_test_add_func ("/sfu-stun/addresses", test_addresses);
  g_test_add_func ("/sfu-stun/threads", test_threads);
  g_test_add_func ("/sfu-stun/classify", test_classify);

  return g_test_run ();
}
