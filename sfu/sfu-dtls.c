/* SPDX-License-Identifier: MIT */
#include "sfu-dtls.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

/* Retransmission timer: the first flight is resent after 250 ms, then the wait doubles up
 * to 4 s. OpenSSL gives up after 12 expiries without progress (DTLS1_TMO_ALERT_COUNT),
 * ~35 s in all; the transport normally abandons the session before that. */
#define INITIAL_TIMEOUT_US 250000u
#define MAX_TIMEOUT_US 4000000u

/* RFC 5764 §4.2: the exporter label for DTLS-SRTP keys. */
#define EXPORTER_LABEL "EXTRACTOR-dtls_srtp"

/* Application records drained per datagram: each SSL_read consumes at least one record of
 * the datagram, so this only guards against a loop, never limits a real peer. */
#define MAX_READS_PER_DATAGRAM 64

/* type, version, epoch, sequence number, length (RFC 6347 §4.1) */
#define DTLS_RECORD_HEADER 13

struct _SfuDtls {
  SSL *ssl; /* owns rbio and the send BIO */
  BIO *rbio; /* memory BIO: holds the one datagram being handled, emptied after it */
  SfuDtlsRole role;
  SfuDtlsState state;
  SfuDtlsSendFunc send;
  gpointer user_data;
  guint8 peer_digest[32]; /* read by sfu-cert.c's verify callback during the handshake */
  SfuSrtpKeys keys;       /* valid in CONNECTED */
  gsize min_protected;    /* shortest possible epoch > 0 record body, set in CONNECTED */
  char *error;            /* why FAILED */
};

/* Outgoing datagrams leave through a BIO of our own rather than a memory BIO: OpenSSL
 * writes each datagram with one BIO_write(), and a memory BIO would join a flight's
 * datagrams into one byte stream, losing the boundaries the peer needs. */
static int
send_bio_write (BIO *bio, const char *data, int len)
{
  SfuDtls *dtls = BIO_get_data (bio);

  if (len > 0 && dtls != NULL)
    dtls->send ((const guint8 *) data, (gsize) len, dtls->user_data);
  return len;
}

static long
send_bio_ctrl (BIO *bio, int cmd, long num, void *ptr)
{
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_DGRAM_QUERY_MTU:
    return SFU_DTLS_MTU;
  default:
    /* Nothing pending, no MTU overhead, no peer address, no socket timeouts. */
    return 0;
  }
}

static int
send_bio_create (BIO *bio)
{
  BIO_set_init (bio, 1);
  return 1;
}

static const BIO_METHOD *
send_bio_method (void)
{
  static gsize method = 0;

  if (g_once_init_enter (&method)) {
    BIO_METHOD *m = BIO_meth_new (BIO_get_new_index () | BIO_TYPE_SOURCE_SINK, "sfu-dtls-send");

    /* Only allocation failure at startup can make these fail. */
    g_assert (m != NULL);
    BIO_meth_set_write (m, send_bio_write);
    BIO_meth_set_ctrl (m, send_bio_ctrl);
    BIO_meth_set_create (m, send_bio_create);
    g_once_init_leave (&method, (gsize) m);
  }
  return (const BIO_METHOD *) method;
}

static unsigned int
timer_cb (SSL *ssl, unsigned int previous_us)
{
  if (previous_us == 0)
    return INITIAL_TIMEOUT_US;
  return MIN (previous_us * 2, MAX_TIMEOUT_US);
}

/* Enters FAILED with @what and, when there is one, OpenSSL's reason. Clears OpenSSL's
 * per-thread error queue, which other sessions on this thread share. */
static void
fail (SfuDtls *dtls, const char *what)
{
  char reason[256] = "";
  unsigned long e = ERR_peek_last_error ();

  if (dtls->ssl && SSL_get_verify_result (dtls->ssl) == X509_V_ERR_CERT_REJECTED) {
    g_strlcpy (reason, "the peer's certificate does not match the fingerprint in its SDP",
               sizeof reason);
  } else if (e != 0) {
    ERR_error_string_n (e, reason, sizeof reason);
  }
  ERR_clear_error ();
  g_free (dtls->error);
  dtls->error = reason[0] ? g_strdup_printf ("%s: %s", what, reason) : g_strdup (what);
  dtls->state = SFU_DTLS_STATE_FAILED;
}

SfuDtls *
sfu_dtls_new (SfuCert *cert, SfuDtlsRole role, const char *remote_fingerprint,
              SfuDtlsSendFunc send, gpointer user_data)
{
  SfuDtls *dtls;
  BIO *wbio;

  g_return_val_if_fail (cert != NULL, NULL);
  g_return_val_if_fail (role == SFU_DTLS_ROLE_SERVER || role == SFU_DTLS_ROLE_CLIENT, NULL);
  g_return_val_if_fail (send != NULL, NULL);

  dtls = g_new0 (SfuDtls, 1);
  dtls->role = role;
  dtls->state = SFU_DTLS_STATE_NEW;
  dtls->send = send;
  dtls->user_data = user_data;

  if (!sfu_cert_parse_fingerprint (remote_fingerprint, dtls->peer_digest)) {
    fail (dtls, "The peer's fingerprint is not a sha-256 value");
    return dtls;
  }

  ERR_clear_error ();
  dtls->ssl = sfu_cert_new_ssl (cert, dtls->peer_digest);
  dtls->rbio = BIO_new (BIO_s_mem ());
  wbio = BIO_new (send_bio_method ());
  if (dtls->ssl == NULL || dtls->rbio == NULL || wbio == NULL) {
    BIO_free (dtls->rbio);
    BIO_free (wbio);
    dtls->rbio = NULL;
    fail (dtls, "Could not create the DTLS session");
    return dtls;
  }
  /* An empty memory BIO reads as "retry", so OpenSSL waits for the next datagram. */
  BIO_set_mem_eof_return (dtls->rbio, -1);
  BIO_set_data (wbio, dtls);
  SSL_set_bio (dtls->ssl, dtls->rbio, wbio);
  SSL_set_mtu (dtls->ssl, SFU_DTLS_MTU);
  DTLS_set_timer_cb (dtls->ssl, timer_cb);
  if (role == SFU_DTLS_ROLE_CLIENT)
    SSL_set_connect_state (dtls->ssl);
  else
    SSL_set_accept_state (dtls->ssl);
  return dtls;
}

void
sfu_dtls_free (SfuDtls *dtls)
{
  if (dtls == NULL)
    return;
  if (dtls->ssl) {
    /* No more sends from inside OpenSSL: the caller may be tearing down the transport. */
    BIO_set_data (SSL_get_wbio (dtls->ssl), NULL);
    SSL_free (dtls->ssl);
  }
  sfu_srtp_keys_clear (&dtls->keys);
  g_free (dtls->error);
  g_free (dtls);
}

gboolean
sfu_dtls_set_srtp_profiles (SfuDtls *dtls, const char *profiles)
{
  g_return_val_if_fail (dtls != NULL && profiles != NULL, FALSE);

  /* A session that FAILED at creation (a bad fingerprint from the peer) has no SSL. */
  if (dtls->state != SFU_DTLS_STATE_NEW || dtls->ssl == NULL)
    return FALSE;
  /* 0 means success here. */
  if (SSL_set_tlsext_use_srtp (dtls->ssl, profiles) != 0) {
    ERR_clear_error ();
    return FALSE;
  }
  return TRUE;
}

static SfuSrtpProfile
profile_from_openssl (const SRTP_PROTECTION_PROFILE *p)
{
  if (p == NULL)
    return SFU_SRTP_PROFILE_NONE;
  switch (p->id) {
  case SRTP_AEAD_AES_128_GCM:
    return SFU_SRTP_PROFILE_AEAD_AES_128_GCM;
  case SRTP_AES128_CM_SHA1_80:
    return SFU_SRTP_PROFILE_AES128_CM_SHA1_80;
  default:
    return SFU_SRTP_PROFILE_NONE;
  }
}

/* The handshake finished: check what it agreed and export the SRTP keys (RFC 5764 §4.2:
 * client key, server key, client salt, server salt). */
static void
connected (SfuDtls *dtls)
{
  SfuSrtpProfile profile = profile_from_openssl (SSL_get_selected_srtp_profile (dtls->ssl));
  gsize k = sfu_srtp_profile_key_len (profile), s = sfu_srtp_profile_salt_len (profile);
  guint8 material[2 * SFU_SRTP_MAX_MASTER_LEN];
  guint8 *mine, *theirs;

  if (profile == SFU_SRTP_PROFILE_NONE) {
    fail (dtls, "The DTLS handshake agreed no SRTP profile");
    return;
  }
  /* SSL_VERIFY_FAIL_IF_NO_PEER_CERT covers the server side; certificates are mandatory in
   * every suite we offer for the client side. Checked anyway: everything rests on it. */
  if (SSL_get0_peer_certificate (dtls->ssl) == NULL ||
      SSL_get_verify_result (dtls->ssl) != X509_V_OK) {
    fail (dtls, "The peer is not authenticated");
    return;
  }
  if (SSL_export_keying_material (dtls->ssl, material, 2 * (k + s), EXPORTER_LABEL,
                                  strlen (EXPORTER_LABEL), NULL, 0, 0) != 1) {
    fail (dtls, "Could not export the SRTP keys");
    return;
  }
  dtls->keys.profile = profile;
  mine = dtls->keys.local;
  theirs = dtls->keys.remote;
  if (dtls->role == SFU_DTLS_ROLE_SERVER) {
    mine = dtls->keys.remote;
    theirs = dtls->keys.local;
  }
  /* mine = the client's write key and salt, theirs = the server's. */
  memcpy (mine, material, k);
  memcpy (theirs, material + k, k);
  memcpy (mine + k, material + 2 * k, s);
  memcpy (theirs + k, material + 2 * k + s, s);
  OPENSSL_cleanse (material, sizeof material);
  /* AES-GCM records carry an 8-byte explicit nonce and a 16-byte tag, ChaCha20-Poly1305
   * only the tag (RFC 5288 §3, RFC 7905 §2). */
  dtls->min_protected =
      SSL_CIPHER_get_cipher_nid (SSL_get_current_cipher (dtls->ssl)) == NID_chacha20_poly1305
          ? 16
          : 24;
  dtls->state = SFU_DTLS_STATE_CONNECTED;
}

/* With memory BIOs there are no system calls, so OpenSSL 3.0's SSL_ERROR_SYSCALL with an
 * empty error queue and no alert received means a record it discarded without an error
 * entry, returning before reading on. In CONNECTED that is an epoch-1 record too short to
 * hold the AEAD nonce and tag, and the connection carries on (the tests check it still
 * reads the peer's next records): DTLS drops invalid records rather than failing (RFC 6347
 * §4.1.2.7), or anyone able to spoof the peer's address could end the session with one
 * datagram. During the handshake the same return can leave OpenSSL's state machine in
 * error (a ClientHello fragment announcing a message over the size limit does), so there
 * it fails the session. Real errors come as SSL_ERROR_SSL. */
static gboolean
record_dropped (SfuDtls *dtls)
{
  return ERR_peek_error () == 0 && !(SSL_get_shutdown (dtls->ssl) & SSL_RECEIVED_SHUTDOWN);
}

static void
advance_handshake (SfuDtls *dtls)
{
  int ret = SSL_do_handshake (dtls->ssl);

  if (ret == 1) {
    connected (dtls);
    return;
  }
  switch (SSL_get_error (dtls->ssl, ret)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return;
  default:
    fail (dtls, "DTLS handshake failed");
  }
}

/* In CONNECTED: lets OpenSSL see the records (alerts, close_notify, a retransmitted final
 * flight from the client it must answer, renegotiation it refuses) and discards
 * application data, which DTLS-SRTP without data channels never carries. */
static void
read_records (SfuDtls *dtls)
{
  guint8 scratch[2048];

  for (guint i = 0; i < MAX_READS_PER_DATAGRAM; i++) {
    int ret = SSL_read (dtls->ssl, scratch, sizeof scratch);

    if (ret > 0)
      continue;
    switch (SSL_get_error (dtls->ssl, ret)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return;
    case SSL_ERROR_SYSCALL:
      if (record_dropped (dtls))
        return;
      fail (dtls, "DTLS connection failed");
      return;
    case SSL_ERROR_ZERO_RETURN:
      /* close_notify: answer with ours (RFC 5246 §7.2.1) and stop. */
      SSL_shutdown (dtls->ssl);
      dtls->state = SFU_DTLS_STATE_CLOSED;
      return;
    default:
      fail (dtls, "DTLS connection failed");
      return;
    }
  }
}

SfuDtlsState
sfu_dtls_start (SfuDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, SFU_DTLS_STATE_FAILED);

  if (dtls->role != SFU_DTLS_ROLE_CLIENT || dtls->state != SFU_DTLS_STATE_NEW)
    return dtls->state;
  ERR_clear_error ();
  dtls->state = SFU_DTLS_STATE_HANDSHAKING;
  advance_handshake (dtls);
  ERR_clear_error ();
  return dtls->state;
}

/* Puts the datagram in the read BIO. Once CONNECTED, protected records too short to be
 * authentic are left out: OpenSSL 3.0 answers a short application-data record with a
 * fatal internal_error alert, which would let anyone able to spoof the peer's address end
 * the session with one datagram (DTLS drops invalid records, RFC 6347 §4.1.2.7). So is a
 * record running past the datagram's end, and everything after it. */
static gboolean
buffer_datagram (SfuDtls *dtls, const guint8 *data, gsize len)
{
  gsize i = 0;

  if (dtls->state != SFU_DTLS_STATE_CONNECTED)
    return BIO_write (dtls->rbio, data, (int) len) == (int) len;
  while (i + DTLS_RECORD_HEADER <= len) {
    guint epoch = (guint) data[i + 3] << 8 | data[i + 4];
    gsize body = (gsize) data[i + 11] << 8 | data[i + 12];
    gsize size = DTLS_RECORD_HEADER + body;

    if (size > len - i)
      break;
    if ((epoch == 0 || body >= dtls->min_protected) &&
        BIO_write (dtls->rbio, data + i, (int) size) != (int) size)
      return FALSE;
    i += size;
  }
  return TRUE;
}

SfuDtlsState
sfu_dtls_handle_datagram (SfuDtls *dtls, const guint8 *data, gsize len)
{
  g_return_val_if_fail (dtls != NULL, SFU_DTLS_STATE_FAILED);
  g_return_val_if_fail (data != NULL || len == 0, dtls->state);

  if (len == 0 || len > SFU_DTLS_MAX_DATAGRAM)
    return dtls->state;
  switch (dtls->state) {
  case SFU_DTLS_STATE_NEW:
    if (dtls->role == SFU_DTLS_ROLE_CLIENT)
      return dtls->state;
    dtls->state = SFU_DTLS_STATE_HANDSHAKING;
    break;
  case SFU_DTLS_STATE_HANDSHAKING:
  case SFU_DTLS_STATE_CONNECTED:
    break;
  case SFU_DTLS_STATE_FAILED:
  case SFU_DTLS_STATE_CLOSED:
  default:
    return dtls->state;
  }

  ERR_clear_error ();
  if (!buffer_datagram (dtls, data, len)) {
    fail (dtls, "Could not buffer a DTLS datagram");
    return dtls->state;
  }
  if (dtls->state == SFU_DTLS_STATE_HANDSHAKING)
    advance_handshake (dtls);
  /* Not "else": records after the final flight in the same datagram. */
  if (dtls->state == SFU_DTLS_STATE_CONNECTED)
    read_records (dtls);
  /* Whatever OpenSSL left unread (a malformed record's tail) must not be taken as the start
   * of the next datagram. */
  (void) BIO_reset (dtls->rbio);
  ERR_clear_error ();
  return dtls->state;
}

SfuDtlsState
sfu_dtls_get_state (SfuDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, SFU_DTLS_STATE_FAILED);

  return dtls->state;
}

gint64
sfu_dtls_get_timeout_us (SfuDtls *dtls)
{
  struct timeval tv;

  g_return_val_if_fail (dtls != NULL, -1);

  if (dtls->state != SFU_DTLS_STATE_HANDSHAKING || DTLSv1_get_timeout (dtls->ssl, &tv) != 1)
    return -1;
  return g_get_monotonic_time () + (gint64) tv.tv_sec * G_USEC_PER_SEC + tv.tv_usec;
}

SfuDtlsState
sfu_dtls_handle_timeout (SfuDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, SFU_DTLS_STATE_FAILED);

  if (dtls->state != SFU_DTLS_STATE_HANDSHAKING)
    return dtls->state;
  ERR_clear_error ();
  if (DTLSv1_handle_timeout (dtls->ssl) < 0)
    fail (dtls, "DTLS handshake timed out");
  ERR_clear_error ();
  return dtls->state;
}

gboolean
sfu_dtls_get_srtp_keys (SfuDtls *dtls, SfuSrtpKeys *out)
{
  g_return_val_if_fail (dtls != NULL && out != NULL, FALSE);

  if (dtls->state != SFU_DTLS_STATE_CONNECTED)
    return FALSE;
  *out = dtls->keys;
  return TRUE;
}

const char *
sfu_dtls_get_error (SfuDtls *dtls)
{
  g_return_val_if_fail (dtls != NULL, NULL);

  return dtls->error;
}

void
sfu_dtls_close (SfuDtls *dtls)
{
  g_return_if_fail (dtls != NULL);

  if (dtls->state == SFU_DTLS_STATE_CONNECTED) {
    ERR_clear_error ();
    SSL_shutdown (dtls->ssl);
    ERR_clear_error ();
  }
  if (dtls->state != SFU_DTLS_STATE_FAILED)
    dtls->state = SFU_DTLS_STATE_CLOSED;
}
