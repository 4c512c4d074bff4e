/* SPDX-License-Identifier: MIT */
/* Unit tests for sfu-cert and sfu-dtls on the real OpenSSL: a client and a server SfuDtls
 * wired back to back through in-memory queues. The handshake completes with GCM chosen,
 * the exported keys cross-match and carry real SRTP between two SfuSrtp; fingerprints are
 * enforced both ways; lost flights are recovered by the retransmission timer; hostile
 * datagrams (empty, truncated, random, zero-length fragments, huge messages, a ClientHello
 * to a connected session, records after failure) never crash and leave a sane state.
 *
 * With SFU_DTLS_WRITE_SEEDS=DIR in the environment, the handshake test also writes the
 * client's first flight and all its flights there in the fuzz target's framing (seeds for
 * tests/fuzz/corpus/sfu-dtls/).
 *
 * Not covered: a renegotiation ClientHello inside epoch 1 (SfuDtls never sends one, and a
 * hand-built one needs the session keys); the SSL_CTX refuses it with
 * SSL_OP_NO_RENEGOTIATION. */
#include "sfu-cert.h"
#include "sfu-dtls.h"
#include "sfu-srtp.h"

#include <string.h>

typedef struct _Pair Pair;

typedef struct {
  Pair *pair;
  GQueue out; /* GBytes: datagrams this side sent, not yet delivered */
  GQueue all; /* GBytes: every datagram this side sent */
  guint sent;
  gsize max_len;
} Side;

struct _Pair {
  SfuCert *client_cert, *server_cert;
  SfuDtls *client, *server;
  Side c, s;
};

static void
side_send (const guint8 *data, gsize len, gpointer user_data)
{
  Side *side = user_data;

  g_queue_push_tail (&side->out, g_bytes_new (data, len));
  g_queue_push_tail (&side->all, g_bytes_new (data, len));
  side->sent++;
  side->max_len = MAX (side->max_len, len);
}

static SfuCert *
new_cert (void)
{
  g_autoptr (GError) error = NULL;
  SfuCert *cert = sfu_cert_new (&error);

  g_assert_no_error (error);
  g_assert_nonnull (cert);
  return cert;
}

/* A pair whose sides expect each other's fingerprints unless @client_expects or
 * @server_expects overrides them. */
static void
pair_init_full (Pair *p, const char *client_expects, const char *server_expects)
{
  memset (p, 0, sizeof *p);
  p->c.pair = p->s.pair = p;
  p->client_cert = new_cert ();
  p->server_cert = new_cert ();
  p->client = sfu_dtls_new (p->client_cert, SFU_DTLS_ROLE_CLIENT,
                            client_expects ? client_expects
                                           : sfu_cert_get_fingerprint (p->server_cert),
                            side_send, &p->c);
  p->server = sfu_dtls_new (p->server_cert, SFU_DTLS_ROLE_SERVER,
                            server_expects ? server_expects
                                           : sfu_cert_get_fingerprint (p->client_cert),
                            side_send, &p->s);
}

static void
pair_init (Pair *p)
{
  pair_init_full (p, NULL, NULL);
}

static void
pair_clear (Pair *p)
{
  g_queue_clear_full (&p->c.out, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&p->s.out, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&p->c.all, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&p->s.all, (GDestroyNotify) g_bytes_unref);
  sfu_dtls_free (p->client);
  sfu_dtls_free (p->server);
  sfu_cert_unref (p->client_cert);
  sfu_cert_unref (p->server_cert);
}

static void
drop_all (Side *side)
{
  g_queue_clear_full (&side->out, (GDestroyNotify) g_bytes_unref);
  g_queue_init (&side->out);
}

/* Delivers every queued datagram, in order, until both sides are quiet. */
static void
pump (Pair *p)
{
  for (guint round = 0; round < 1000; round++) {
    GBytes *to_server = g_queue_pop_head (&p->c.out);
    GBytes *to_client = g_queue_pop_head (&p->s.out);

    if (to_server == NULL && to_client == NULL)
      return;
    if (to_server) {
      sfu_dtls_handle_datagram (p->server, g_bytes_get_data (to_server, NULL),
                                g_bytes_get_size (to_server));
      g_bytes_unref (to_server);
    }
    if (to_client) {
      sfu_dtls_handle_datagram (p->client, g_bytes_get_data (to_client, NULL),
                                g_bytes_get_size (to_client));
      g_bytes_unref (to_client);
    }
  }
  g_assert_not_reached ();
}

/* Waits for @dtls's retransmission timer and fires it until @side has sent something.
 * Waiting is all it does with time: nothing asserts how long it took. */
static void
fire_timer (SfuDtls *dtls, Side *side)
{
  guint before = side->sent;

  for (guint tries = 0; tries < 50 && side->sent == before; tries++) {
    gint64 deadline = sfu_dtls_get_timeout_us (dtls);

    g_assert_cmpint (deadline, >, 0);
    g_usleep (MAX (deadline - g_get_monotonic_time (), 0) + 1000);
    g_assert_cmpint (sfu_dtls_handle_timeout (dtls), ==, SFU_DTLS_STATE_HANDSHAKING);
  }
  g_assert_cmpuint (side->sent, >, before);
}

static void
write_seed (const char *name, GQueue *datagrams)
{
  const char *dir = g_getenv ("SFU_DTLS_WRITE_SEEDS");
  g_autoptr (GByteArray) out = NULL;
  g_autofree char *path = NULL;

  if (dir == NULL)
    return;
  /* The fuzz target's framing: a 2-byte big-endian length before each datagram. */
  out = g_byte_array_new ();
  for (GList *l = datagrams->head; l; l = l->next) {
    gsize n;
    const guint8 *d = g_bytes_get_data (l->data, &n);
    guint8 prefix[2] = { n >> 8, n & 0xff };

    g_byte_array_append (out, prefix, 2);
    g_byte_array_append (out, d, n);
  }
  path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, (const char *) out->data, out->len, NULL));
}

static void
assert_keys_match (Pair *p, SfuSrtpProfile profile)
{
  SfuSrtpKeys ck, sk;
  gsize n = sfu_srtp_profile_key_len (profile) + sfu_srtp_profile_salt_len (profile);

  g_assert_true (sfu_dtls_get_srtp_keys (p->client, &ck));
  g_assert_true (sfu_dtls_get_srtp_keys (p->server, &sk));
  g_assert_cmpint (ck.profile, ==, profile);
  g_assert_cmpint (sk.profile, ==, profile);
  g_assert_cmpmem (ck.local, n, sk.remote, n);
  g_assert_cmpmem (ck.remote, n, sk.local, n);
  g_assert_true (memcmp (ck.local, ck.remote, n) != 0);
  sfu_srtp_keys_clear (&ck);
  sfu_srtp_keys_clear (&sk);
}

/* One RTP packet each way through SfuSrtp sessions made from the exported keys. */
static void
assert_srtp_works (Pair *p)
{
  SfuDtls *from[2] = { p->client, p->server }, *to[2] = { p->server, p->client };

  for (guint dir = 0; dir < 2; dir++) {
    g_autoptr (SfuSrtp) tx = NULL, rx = NULL;
    guint8 plain[40] = { 0x80, 111, 0, 1, 0, 0, 0, 9, 0xab, 0xcd, 0xef, 0x01 }, buf[100];
    gsize len = sizeof plain;
    SfuSrtpKeys k;

    g_assert_true (sfu_dtls_get_srtp_keys (from[dir], &k));
    tx = sfu_srtp_new (&k, NULL);
    g_assert_true (sfu_dtls_get_srtp_keys (to[dir], &k));
    rx = sfu_srtp_new (&k, NULL);
    sfu_srtp_keys_clear (&k);
    g_assert_nonnull (tx);
    g_assert_nonnull (rx);
    memcpy (buf, plain, len);
    g_assert_true (sfu_srtp_protect_rtp (tx, buf, &len, sizeof buf));
    g_assert_true (sfu_srtp_unprotect_rtp (rx, buf, &len));
    g_assert_cmpmem (buf, len, plain, sizeof plain);
  }
}

static void
connect_pair (Pair *p)
{
  g_assert_cmpint (sfu_dtls_start (p->client), ==, SFU_DTLS_STATE_HANDSHAKING);
  pump (p);
  g_assert_cmpint (sfu_dtls_get_state (p->client), ==, SFU_DTLS_STATE_CONNECTED);
  g_assert_cmpint (sfu_dtls_get_state (p->server), ==, SFU_DTLS_STATE_CONNECTED);
}

static void
test_cert (void)
{
  g_autoptr (SfuCert) a = new_cert ();
  g_autoptr (SfuCert) b = new_cert ();
  const char *fa = sfu_cert_get_fingerprint (a);
  guint8 digest[32], again[32];
  g_autofree char *lower = g_ascii_strdown (fa, -1);
  g_autofree char *prefixed = g_strconcat ("sha-256 ", fa, NULL);
  g_autofree char *bad = g_strdup (fa);

  g_assert_true (g_regex_match_simple ("^([0-9A-F]{2}:){31}[0-9A-F]{2}$", fa, 0, 0));
  g_assert_cmpstr (fa, !=, sfu_cert_get_fingerprint (b));
  g_assert_true (sfu_cert_ref (a) == a);
  sfu_cert_unref (a);

  g_assert_true (sfu_cert_parse_fingerprint (fa, digest));
  g_assert_true (sfu_cert_parse_fingerprint (lower, again));
  g_assert_cmpmem (digest, 32, again, 32);
  g_assert_true (sfu_cert_parse_fingerprint (prefixed, again));
  g_assert_cmpmem (digest, 32, again, 32);
  g_assert_cmpuint (digest[0], ==, g_ascii_xdigit_value (fa[0]) << 4 | g_ascii_xdigit_value (fa[1]));

  g_assert_false (sfu_cert_parse_fingerprint (NULL, digest));
  g_assert_false (sfu_cert_parse_fingerprint ("", digest));
  g_assert_false (sfu_cert_parse_fingerprint ("AB:CD", digest));
  g_assert_false (sfu_cert_parse_fingerprint (prefixed + 1, digest));
  bad[5] = '-';
  g_assert_false (sfu_cert_parse_fingerprint (bad, digest));
  bad[5] = ':';
  bad[6] = 'G';
  g_assert_false (sfu_cert_parse_fingerprint (bad, digest));
}

static void
test_handshake (void)
{
  Pair p;
  SfuSrtpKeys k;

  pair_init (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_NEW);
  g_assert_cmpint (sfu_dtls_get_timeout_us (p.server), ==, -1);
  /* The server starts nothing. */
  g_assert_cmpint (sfu_dtls_start (p.server), ==, SFU_DTLS_STATE_NEW);
  g_assert_cmpuint (p.s.sent, ==, 0);

  g_assert_cmpint (sfu_dtls_start (p.client), ==, SFU_DTLS_STATE_HANDSHAKING);
  g_assert_cmpuint (p.c.out.length, ==, 1); /* the ClientHello */
  write_seed ("client-hello.bin", &p.c.out);
  g_assert_cmpint (sfu_dtls_get_timeout_us (p.client), >, 0);
  g_assert_false (sfu_dtls_get_srtp_keys (p.client, &k));
  /* Starting twice does nothing. */
  g_assert_cmpint (sfu_dtls_start (p.client), ==, SFU_DTLS_STATE_HANDSHAKING);
  g_assert_cmpuint (p.c.sent, ==, 1);

  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_CONNECTED);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_CONNECTED);
  g_assert_null (sfu_dtls_get_error (p.client));
  g_assert_null (sfu_dtls_get_error (p.server));
  g_assert_cmpint (sfu_dtls_get_timeout_us (p.client), ==, -1);
  g_assert_cmpint (sfu_dtls_get_timeout_us (p.server), ==, -1);
  /* Certificate flights included, nothing over the MTU. */
  g_assert_cmpuint (p.c.max_len, <=, SFU_DTLS_MTU);
  g_assert_cmpuint (p.s.max_len, <=, SFU_DTLS_MTU);
  assert_keys_match (&p, SFU_SRTP_PROFILE_AEAD_AES_128_GCM);
  assert_srtp_works (&p);
  /* Everything the client sent: its second flight fails the fuzz target's fingerprint
   * check, after the certificate parsing the fuzzer should reach. */
  write_seed ("client-all-flights.bin", &p.c.all);
  pair_clear (&p);
}

/* A client that offers only AES128_CM_SHA1_80 gets it; one that offers only a profile the
 * server does not do gets no SRTP, and both sides fail. */
static void
test_profiles (void)
{
  Pair p;

  pair_init (&p);
  g_assert_true (sfu_dtls_set_srtp_profiles (p.client, "SRTP_AES128_CM_SHA1_80"));
  connect_pair (&p);
  assert_keys_match (&p, SFU_SRTP_PROFILE_AES128_CM_SHA1_80);
  assert_srtp_works (&p);
  g_assert_false (sfu_dtls_set_srtp_profiles (p.client, "SRTP_AES128_CM_SHA1_80"));
  pair_clear (&p);

  pair_init (&p);
  g_assert_false (sfu_dtls_set_srtp_profiles (p.client, "NO_SUCH_PROFILE"));
  g_assert_true (sfu_dtls_set_srtp_profiles (p.client, "SRTP_AES128_CM_SHA1_32"));
  sfu_dtls_start (p.client);
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_FAILED);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_FAILED);
  g_assert_nonnull (strstr (sfu_dtls_get_error (p.server), "SRTP"));
  pair_clear (&p);
}

/* Each side refuses a certificate that is not the one its peer's SDP announced. */
static void
test_wrong_fingerprint (void)
{
  g_autoptr (SfuCert) other = new_cert ();
  SfuSrtpKeys k;
  Pair p;

  /* The server expects another client. */
  pair_init_full (&p, NULL, sfu_cert_get_fingerprint (other));
  sfu_dtls_start (p.client);
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_FAILED);
  g_assert_nonnull (strstr (sfu_dtls_get_error (p.server), "fingerprint"));
  /* The server's alert fails the client too. */
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_FAILED);
  g_assert_nonnull (sfu_dtls_get_error (p.client));
  g_assert_false (sfu_dtls_get_srtp_keys (p.server, &k));
  g_assert_false (sfu_dtls_get_srtp_keys (p.client, &k));
  pair_clear (&p);

  /* The client expects another server. */
  pair_init_full (&p, sfu_cert_get_fingerprint (other), NULL);
  sfu_dtls_start (p.client);
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_FAILED);
  g_assert_nonnull (strstr (sfu_dtls_get_error (p.client), "fingerprint"));
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_FAILED);
  pair_clear (&p);

  /* A fingerprint that is not one gives a failed session, not a crash or a critical. */
  pair_init_full (&p, "sha-1 00:11", NULL);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_FAILED);
  g_assert_nonnull (sfu_dtls_get_error (p.client));
  g_assert_false (sfu_dtls_set_srtp_profiles (p.client, "SRTP_AES128_CM_SHA1_80"));
  g_assert_cmpint (sfu_dtls_start (p.client), ==, SFU_DTLS_STATE_FAILED);
  g_assert_cmpint (sfu_dtls_handle_timeout (p.client), ==, SFU_DTLS_STATE_FAILED);
  g_assert_cmpint (sfu_dtls_get_timeout_us (p.client), ==, -1);
  g_assert_cmpuint (p.c.sent, ==, 0);
  sfu_dtls_close (p.client);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_FAILED);
  pair_clear (&p);
}

/* Each of the three flights lost once: the sender's (or, for the last flight, the
 * client's) timer resends and the handshake completes. */
static void
test_retransmit (void)
{
  Pair p;

  /* Lost ClientHello. */
  pair_init (&p);
  sfu_dtls_start (p.client);
  drop_all (&p.c);
  fire_timer (p.client, &p.c);
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_CONNECTED);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_CONNECTED);
  assert_keys_match (&p, SFU_SRTP_PROFILE_AEAD_AES_128_GCM);
  pair_clear (&p);

  /* Lost server flight (ServerHello … ServerHelloDone): the client's timer resends the
   * ClientHello and the server answers it again. */
  pair_init (&p);
  sfu_dtls_start (p.client);
  sfu_dtls_handle_datagram (p.server, g_bytes_get_data (p.c.out.head->data, NULL),
                            g_bytes_get_size (p.c.out.head->data));
  drop_all (&p.c);
  g_assert_cmpuint (p.s.out.length, >, 0);
  drop_all (&p.s);
  fire_timer (p.client, &p.c);
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_CONNECTED);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_CONNECTED);
  assert_keys_match (&p, SFU_SRTP_PROFILE_AEAD_AES_128_GCM);
  pair_clear (&p);

  /* Lost final server flight (ChangeCipherSpec, Finished): the server is CONNECTED, the
   * client resends its flight, and the connected server must answer with its last one. */
  pair_init (&p);
  sfu_dtls_start (p.client);
  for (guint i = 0; i < 100 && sfu_dtls_get_state (p.server) != SFU_DTLS_STATE_CONNECTED; i++) {
    GBytes *d = g_queue_pop_head (&p.c.out);

    if (d) {
      sfu_dtls_handle_datagram (p.server, g_bytes_get_data (d, NULL), g_bytes_get_size (d));
      g_bytes_unref (d);
    }
    if (sfu_dtls_get_state (p.server) == SFU_DTLS_STATE_CONNECTED)
      break;
    while ((d = g_queue_pop_head (&p.s.out)) != NULL) {
      sfu_dtls_handle_datagram (p.client, g_bytes_get_data (d, NULL), g_bytes_get_size (d));
      g_bytes_unref (d);
    }
  }
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_CONNECTED);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_HANDSHAKING);
  drop_all (&p.s);
  drop_all (&p.c);
  fire_timer (p.client, &p.c);
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_CONNECTED);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_CONNECTED);
  assert_keys_match (&p, SFU_SRTP_PROFILE_AEAD_AES_128_GCM);
  assert_srtp_works (&p);
  pair_clear (&p);
}

static void
test_close (void)
{
  Pair p;
  SfuSrtpKeys k;

  pair_init (&p);
  connect_pair (&p);
  sfu_dtls_close (p.client);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_CLOSED);
  g_assert_cmpuint (p.c.out.length, ==, 1); /* close_notify */
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_CLOSED);
  g_assert_false (sfu_dtls_get_srtp_keys (p.server, &k));
  g_assert_null (sfu_dtls_get_error (p.server));
  sfu_dtls_close (p.client);
  sfu_dtls_close (p.server);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_CLOSED);
  pair_clear (&p);
}

/* A DTLS 1.2 handshake record (epoch 0) holding one handshake fragment header and
 * @frag_len bytes of @fill. */
static gsize
make_fragment (guint8 *out, guint8 msg_type, guint32 msg_len, guint16 msg_seq,
               guint32 frag_off, guint32 frag_len, guint8 fill)
{
  gsize body = 12 + frag_len;
  guint8 *h = out + 13;

  out[0] = 22;
  out[1] = 0xfe;
  out[2] = 0xfd;
  memset (out + 3, 0, 8); /* epoch 0, sequence 0 */
  out[10] = 1;
  out[11] = body >> 8;
  out[12] = body & 0xff;
  h[0] = msg_type;
  h[1] = msg_len >> 16;
  h[2] = (msg_len >> 8) & 0xff;
  h[3] = msg_len & 0xff;
  h[4] = msg_seq >> 8;
  h[5] = msg_seq & 0xff;
  h[6] = frag_off >> 16;
  h[7] = (frag_off >> 8) & 0xff;
  h[8] = frag_off & 0xff;
  h[9] = frag_len >> 16;
  h[10] = (frag_len >> 8) & 0xff;
  h[11] = frag_len & 0xff;
  memset (h + 12, fill, frag_len);
  return 13 + body;
}

/* Hostile datagrams to a fresh server: none connects it, none crashes it, and a real
 * client can still complete a handshake with it afterwards (garbage is dropped, not
 * fatal), except for the inputs that end the session with a fatal error. */
static void
test_hostile_handshake (void)
{
  static guint8 buf[SFU_DTLS_MAX_DATAGRAM + 1];
  g_autoptr (GBytes) hello = NULL;
  const guint8 *h;
  gsize hlen, n;
  Pair p;

  /* A real ClientHello, to cut up. */
  pair_init (&p);
  sfu_dtls_start (p.client);
  hello = g_queue_pop_head (&p.c.out);
  h = g_bytes_get_data (hello, &hlen);
  pair_clear (&p);

  pair_init (&p);
  g_assert_cmpint (sfu_dtls_handle_datagram (p.server, buf, 0), ==, SFU_DTLS_STATE_NEW);
  g_assert_cmpint (sfu_dtls_handle_datagram (p.server, NULL, 0), ==, SFU_DTLS_STATE_NEW);
  /* Over the limit: dropped unread. */
  g_assert_cmpint (sfu_dtls_handle_datagram (p.server, buf, sizeof buf), ==, SFU_DTLS_STATE_NEW);
  /* Every truncation of a real ClientHello. */
  for (gsize cut = 1; cut < hlen; cut++)
    g_assert_cmpint (sfu_dtls_handle_datagram (p.server, h, cut), ==,
                     SFU_DTLS_STATE_HANDSHAKING);
  /* Random bytes, and random bytes behind a valid record header. */
  for (guint round = 0; round < 300; round++) {
    n = g_test_rand_int_range (1, 1500);
    for (gsize i = 0; i < n; i++)
      buf[i] = (guint8) g_test_rand_int ();
    if (round % 2 && n > 13) {
      memcpy (buf, h, 11);
      buf[11] = (n - 13) >> 8;
      buf[12] = (n - 13) & 0xff;
    }
    sfu_dtls_handle_datagram (p.server, buf, n);
    g_assert_cmpint (sfu_dtls_get_state (p.server), !=, SFU_DTLS_STATE_CONNECTED);
  }
  /* Zero-length fragments of a message announcing 16 MiB, at every message sequence. */
  for (guint16 seq = 0; seq < 20; seq++) {
    n = make_fragment (buf, 1, 0xffffff, seq, 0, 0, 0);
    sfu_dtls_handle_datagram (p.server, buf, n);
  }
  /* Whatever that did, the session is sane: either still waiting or failed with a
   * reason. */
  if (sfu_dtls_get_state (p.server) == SFU_DTLS_STATE_FAILED)
    g_assert_nonnull (sfu_dtls_get_error (p.server));
  else
    g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_HANDSHAKING);
  pair_clear (&p);

  /* Garbage before a real handshake does not stop it. */
  pair_init (&p);
  for (guint round = 0; round < 50; round++) {
    n = g_test_rand_int_range (1, 300);
    for (gsize i = 0; i < n; i++)
      buf[i] = (guint8) g_test_rand_int ();
    sfu_dtls_handle_datagram (p.server, buf, n);
  }
  for (gsize cut = 1; cut < hlen; cut += 7)
    sfu_dtls_handle_datagram (p.server, h, cut);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_HANDSHAKING);
  drop_all (&p.s);
  connect_pair (&p);
  assert_keys_match (&p, SFU_SRTP_PROFILE_AEAD_AES_128_GCM);
  pair_clear (&p);

  /* A ClientHello fragment announcing a message far over the handshake limit fails the
   * session (OpenSSL will not reserve that much) rather than being buffered. */
  pair_init (&p);
  n = make_fragment (buf, 1, 1 << 20, 0, 0, 1000, 0x41);
  g_assert_cmpint (sfu_dtls_handle_datagram (p.server, buf, n), ==, SFU_DTLS_STATE_FAILED);
  g_assert_nonnull (sfu_dtls_get_error (p.server));
  pair_clear (&p);

  /* A session failed by a bad certificate ignores whatever comes after. */
  pair_init_full (&p, NULL, "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                            "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
  sfu_dtls_start (p.client);
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_FAILED);
  /* Records after failure are ignored: no state change, nothing sent. */
  n = p.s.sent;
  sfu_dtls_handle_datagram (p.server, h, hlen);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_FAILED);
  g_assert_cmpuint (p.s.sent, ==, n);
  pair_clear (&p);

  /* A client ignores everything before it is started. */
  pair_init (&p);
  g_assert_cmpint (sfu_dtls_handle_datagram (p.client, h, hlen), ==, SFU_DTLS_STATE_NEW);
  g_assert_cmpuint (p.c.sent, ==, 0);
  pair_clear (&p);
}

/* Hostile datagrams to a connected server: a new ClientHello (a spoofed restart, or a
 * renegotiation attempt in the clear), its truncations, random bytes and forged records
 * in the current epoch change nothing; the keys stay the same. */
static void
test_hostile_connected (void)
{
  g_autoptr (SfuCert) intruder_cert = new_cert ();
  g_autoptr (GBytes) hello = NULL;
  SfuSrtpKeys before, after;
  guint8 buf[1500];
  const guint8 *h;
  SfuDtls *intruder;
  Side intruder_side = { 0 };
  gsize hlen, n;
  Pair p;

  pair_init (&p);
  connect_pair (&p);
  g_assert_true (sfu_dtls_get_srtp_keys (p.server, &before));

  intruder = sfu_dtls_new (intruder_cert, SFU_DTLS_ROLE_CLIENT,
                           sfu_cert_get_fingerprint (p.server_cert), side_send, &intruder_side);
  sfu_dtls_start (intruder);
  hello = g_queue_pop_head (&intruder_side.out);
  h = g_bytes_get_data (hello, &hlen);
  g_assert_cmpint (sfu_dtls_handle_datagram (p.server, h, hlen), ==, SFU_DTLS_STATE_CONNECTED);
  for (gsize cut = 1; cut < hlen; cut++)
    g_assert_cmpint (sfu_dtls_handle_datagram (p.server, h, cut), ==,
                     SFU_DTLS_STATE_CONNECTED);
  for (guint round = 0; round < 300; round++) {
    n = g_test_rand_int_range (1, sizeof buf);
    for (gsize i = 0; i < n; i++)
      buf[i] = (guint8) g_test_rand_int ();
    if (round % 2 && n > 13) {
      /* Epoch 1, a plausible record header: application data, alert or handshake. */
      static const guint8 types[] = { 21, 22, 23 };

      buf[0] = types[round % 3];
      buf[1] = 0xfe;
      buf[2] = 0xfd;
      buf[3] = 0;
      buf[4] = 1;
      /* Also records too short for the GCM nonce and tag, which OpenSSL drops in a way
       * that looks like an error (see record_dropped() in sfu-dtls.c). */
      if (round % 5 == 0)
        n = MIN (n, 13 + round % 24);
      buf[11] = (n - 13) >> 8;
      buf[12] = (n - 13) & 0xff;
    }
    g_assert_cmpint (sfu_dtls_handle_datagram (p.server, buf, n), ==,
                     SFU_DTLS_STATE_CONNECTED);
  }
  /* Every short protected record of every type: OpenSSL alone would answer the short
   * application-data ones with a fatal alert. */
  for (gsize body = 0; body < 40; body++) {
    for (guint8 type = 20; type <= 24; type++) {
      memset (buf, 0x5a, sizeof buf);
      buf[0] = type;
      buf[1] = 0xfe;
      buf[2] = 0xfd;
      buf[3] = 0;
      buf[4] = 1;
      buf[11] = 0;
      buf[12] = body;
      g_assert_cmpint (sfu_dtls_handle_datagram (p.server, buf, 13 + body), ==,
                       SFU_DTLS_STATE_CONNECTED);
    }
  }
  g_assert_cmpuint (p.s.out.length, ==, 0); /* no alert, nothing */
  g_assert_true (sfu_dtls_get_srtp_keys (p.server, &after));
  g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
  /* And the real peer is still fine. */
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.client), ==, SFU_DTLS_STATE_CONNECTED);
  assert_srtp_works (&p);
  /* The server still reads real records after all that: the client's close_notify. */
  sfu_dtls_close (p.client);
  pump (&p);
  g_assert_cmpint (sfu_dtls_get_state (p.server), ==, SFU_DTLS_STATE_CLOSED);

  g_queue_clear_full (&intruder_side.out, (GDestroyNotify) g_bytes_unref);
  sfu_dtls_free (intruder);
  pair_clear (&p);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sfu-dtls/cert", test_cert);
  g_test_add_func ("/sfu-dtls/handshake", test_handshake);
  g_test_add_func ("/sfu-dtls/profiles", test_profiles);
  g_test_add_func ("/sfu-dtls/wrong-fingerprint", test_wrong_fingerprint);
  g_test_add_func ("/sfu-dtls/retransmit", test_retransmit);
  g_test_add_func ("/sfu-dtls/close", test_close);
  g_test_add_func ("/sfu-dtls/hostile/handshake", test_hostile_handshake);
  g_test_add_func ("/sfu-dtls/hostile/connected", test_hostile_connected);
  return g_test_run ();
}
