/* SPDX-License-Identifier: MIT */
#include "sfu-cert.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

G_DEFINE_QUARK (sfu-cert-error-quark, sfu_cert_error)

#define VALIDITY_DAYS 30
/* Handshake messages and certificate lists a peer may send: a WebRTC certificate is ~300-600
 * bytes; OpenSSL's default (100 KiB per message, per session) is memory a hostile peer
 * could make us hold in every session. */
#define MAX_HANDSHAKE_MESSAGE 16384

/* TLS 1.2 suites with forward secrecy and AEAD. Both ECDSA (ours, Chrome's, Firefox's) and
 * RSA (older or custom peers, when we are the client) server certificates. */
#define CIPHERS                                                                            \
  "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                             \
  "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                             \
  "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define GROUPS "X25519:P-256:P-384"
/* Most preferred first: with OpenSSL as the server, the server's order decides. */
#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

struct _SfuCert {
  gatomicrefcount ref;
  SSL_CTX *ctx;
  char fingerprint[SFU_CERT_FINGERPRINT_LEN + 1];
};

/* The SSL ex_data slot holding a session's expected peer digest. */
static int
peer_digest_index (void)
{
  static gsize index = 0;

  if (g_once_init_enter (&index)) {
    int i = SSL_get_ex_new_index (0, NULL, NULL, NULL, NULL);

    g_assert (i >= 0); /* only fails on allocation failure, at startup */
    g_once_init_leave (&index, (gsize) i + 1);
  }
  return (int) index - 1;
}

/* Replaces OpenSSL's chain verification: a WebRTC peer's certificate is self-signed and
 * authenticated only by its digest in the SDP, so there is no chain to build and no
 * validity period to enforce (RFC 8827 §6.5). Only the leaf counts. */
static int
verify_leaf (X509_STORE_CTX *store, void *arg)
{
  SSL *ssl = X509_STORE_CTX_get_ex_data (store, SSL_get_ex_data_X509_STORE_CTX_idx ());
  const guint8 *expected = ssl ? SSL_get_ex_data (ssl, peer_digest_index ()) : NULL;
  X509 *leaf = X509_STORE_CTX_get0_cert (store);
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  if (expected == NULL || leaf == NULL || !X509_digest (leaf, EVP_sha256 (), md, &n) ||
      n != 32 || CRYPTO_memcmp (md, expected, 32) != 0) {
    X509_STORE_CTX_set_error (store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  X509_STORE_CTX_set_error (store, X509_V_OK);
  return 1;
}

static gboolean
openssl_failed (GError **error, const char *what)
{
  char reason[256] = "unknown reason";
  unsigned long e = ERR_peek_last_error ();

  if (e != 0)
    ERR_error_string_n (e, reason, sizeof reason);
  ERR_clear_error ();
  g_set_error (error, SFU_CERT_ERROR, SFU_CERT_ERROR_FAILED, "Could not %s: %s", what, reason);
  return FALSE;
}

static X509 *
make_certificate (EVP_PKEY *key, GError **error)
{
  X509 *x509 = X509_new ();
  BIGNUM *serial = BN_new ();
  X509_NAME *name = NULL;

  if (x509 == NULL || serial == NULL)
    goto fail;
  /* Browsers keep no state about our certificates, but a fresh serial per certificate
   * keeps two SFU processes' certificates distinct to anything that caches them. */
  if (!X509_set_version (x509, X509_VERSION_3) ||
      !BN_rand (serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ODD) ||
      !BN_to_ASN1_INTEGER (serial, X509_get_serialNumber (x509)) ||
      !X509_gmtime_adj (X509_getm_notBefore (x509), -(long) VALIDITY_DAYS * 24 * 3600) ||
      !X509_gmtime_adj (X509_getm_notAfter (x509), (long) VALIDITY_DAYS * 24 * 3600) ||
      !X509_set_pubkey (x509, key))
    goto fail;
  name = X509_get_subject_name (x509);
  if (!X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const guint8 *) "callrec", -1,
                                   -1, 0) ||
      !X509_set_issuer_name (x509, name) || !X509_sign (x509, key, EVP_sha256 ()))
    goto fail;
  BN_free (serial);
  return x509;

fail:
  BN_free (serial);
  X509_free (x509);
  openssl_failed (error, "make the DTLS certificate");
  return NULL;
}

static SSL_CTX *
make_context (X509 *x509, EVP_PKEY *key, GError **error)
{
  SSL_CTX *ctx = SSL_CTX_new (DTLS_method ());

  if (ctx == NULL)
    goto fail;
  if (!SSL_CTX_set_min_proto_version (ctx, DTLS1_2_VERSION) ||
      !SSL_CTX_use_certificate (ctx, x509) || !SSL_CTX_use_PrivateKey (ctx, key) ||
      !SSL_CTX_check_private_key (ctx) || !SSL_CTX_set_cipher_list (ctx, CIPHERS) ||
      !SSL_CTX_set1_groups_list (ctx, GROUPS) ||
      /* 0 is success for this one */
      SSL_CTX_set_tlsext_use_srtp (ctx, SRTP_PROFILES) != 0)
    goto fail;
  /* The server asks for the client's certificate: both sides are authenticated by their
   * fingerprints. */
  SSL_CTX_set_verify (ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  SSL_CTX_set_cert_verify_callback (ctx, verify_leaf, NULL);
  /* Renegotiation would change keys under SRTP and is a known DoS lever; tickets and the
   * session cache would only keep state for peers that never resume; the MTU is ours
   * (sfu-dtls.c sets it per session), there is no socket to ask. */
  SSL_CTX_set_options (ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_NO_QUERY_MTU |
                                SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode (ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_max_cert_list (ctx, MAX_HANDSHAKE_MESSAGE);
  SSL_CTX_set_read_ahead (ctx, 1);
  return ctx;

fail:
  SSL_CTX_free (ctx);
  openssl_failed (error, "set up the DTLS context");
  return NULL;
}

SfuCert *
sfu_cert_new (GError **error)
{
  g_autoptr (SfuCert) cert = NULL;
  EVP_PKEY *key = NULL;
  X509 *x509 = NULL;
  guint8 md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  ERR_clear_error ();
  key = EVP_EC_gen ("P-256");
  if (key == NULL) {
    openssl_failed (error, "make the DTLS key");
    return NULL;
  }
  x509 = make_certificate (key, error);
  if (x509 == NULL) {
    EVP_PKEY_free (key);
    return NULL;
  }
  if (!X509_digest (x509, EVP_sha256 (), md, &n) || n != 32) {
    openssl_failed (error, "hash the DTLS certificate");
    goto out;
  }

  cert = g_new0 (SfuCert, 1);
  g_atomic_ref_count_init (&cert->ref);
  for (guint i = 0; i < 32; i++)
    g_snprintf (cert->fingerprint + 3 * i, 4, i < 31 ? "%02X:" : "%02X", md[i]);
  cert->ctx = make_context (x509, key, error);
  if (cert->ctx == NULL)
    g_clear_pointer (&cert, sfu_cert_unref);

out:
  X509_free (x509);
  EVP_PKEY_free (key);
  return g_steal_pointer (&cert);
}

SfuCert *
sfu_cert_ref (SfuCert *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);

  g_atomic_ref_count_inc (&cert->ref);
  return cert;
}

void
sfu_cert_unref (SfuCert *cert)
{
  g_return_if_fail (cert != NULL);

  if (!g_atomic_ref_count_dec (&cert->ref))
    return;
  SSL_CTX_free (cert->ctx);
  g_free (cert);
}

const char *
sfu_cert_get_fingerprint (SfuCert *cert)
{
  g_return_val_if_fail (cert != NULL, NULL);

  return cert->fingerprint;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

gboolean
sfu_cert_parse_fingerprint (const char *text, guint8 out[32])
{
  g_return_val_if_fail (out != NULL, FALSE);

  if (text == NULL)
    return FALSE;
  if (g_ascii_strncasecmp (text, "sha-256 ", 8) == 0)
    text += 8;
  if (strlen (text) != SFU_CERT_FINGERPRINT_LEN)
    return FALSE;
  for (guint i = 0; i < 32; i++) {
    const char *p = text + 3 * i;
    int hi = hex_value (p[0]), lo = hex_value (p[1]);

    if (hi < 0 || lo < 0 || (i < 31 && p[2] != ':'))
      return FALSE;
    out[i] = (guint8) (hi << 4 | lo);
  }
  return TRUE;
}

struct ssl_st *
sfu_cert_new_ssl (SfuCert *cert, const guint8 *peer_digest)
{
  SSL *ssl;

  g_return_val_if_fail (cert != NULL, NULL);
  g_return_val_if_fail (peer_digest != NULL, NULL);

  ssl = SSL_new (cert->ctx);
  if (ssl == NULL)
    return NULL;
  /* The cast drops const only for OpenSSL's void * slot; verify_leaf() only reads it. */
  if (!SSL_set_ex_data (ssl, peer_digest_index (), (void *) peer_digest)) {
    SSL_free (ssl);
    return NULL;
  }
  return ssl;
}
