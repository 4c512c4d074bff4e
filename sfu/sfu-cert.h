/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The SFU's DTLS identity: one self-signed ECDSA P-256 certificate per process (RFC 8827
 * §6.5 lets a WebRTC endpoint use a self-signed certificate; its SHA-256 fingerprint in the
 * SDP is what authenticates it), and the one OpenSSL SSL_CTX every SfuDtls session is
 * created from.
 *
 * An SfuCert is immutable after sfu_cert_new() and refcounted atomically: any thread may
 * hold a reference and create sessions from it at the same time (OpenSSL 3 allows SSL_new()
 * on a shared SSL_CTX from many threads once the context is no longer being configured). */

#define SFU_CERT_ERROR (sfu_cert_error_quark ())
GQuark sfu_cert_error_quark (void);

typedef enum {
  SFU_CERT_ERROR_FAILED, /* OpenSSL could not make the key, the certificate or the context */
} SfuCertError;

/* "AB:CD:…": 32 bytes as uppercase hex pairs joined by ':' (RFC 8122 §5). */
#define SFU_CERT_FINGERPRINT_LEN (32 * 3 - 1)

typedef struct _SfuCert SfuCert;

/* A new key pair and a certificate with a random 64-bit serial, subject and issuer
 * CN=callrec, valid from 30 days ago to 30 days ahead, signed with ECDSA-SHA256.
 * (transfer full) */
SfuCert *sfu_cert_new (GError **error);
SfuCert *sfu_cert_ref (SfuCert *cert);
void sfu_cert_unref (SfuCert *cert);

/* The SHA-256 fingerprint for `a=fingerprint:sha-256 <value>`. (transfer none): valid as
 * long as @cert. */
const char *sfu_cert_get_fingerprint (SfuCert *cert);

/* Parses an SDP sha-256 fingerprint value (hex pairs separated by ':', either case; an
 * optional leading "sha-256 " is skipped) into 32 bytes. FALSE on anything else. */
gboolean sfu_cert_parse_fingerprint (const char *text, guint8 out[32]);

/* For sfu-dtls.c: a new OpenSSL SSL from @cert's context that accepts a peer certificate
 * only if its SHA-256 digest is @peer_digest (32 bytes, which must outlive the SSL; a
 * mismatch fails verification with X509_V_ERR_CERT_REJECTED). NULL if OpenSSL fails.
 * (transfer full) */
struct ssl_st;
struct ssl_st *sfu_cert_new_ssl (SfuCert *cert, const guint8 *peer_digest);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SfuCert, sfu_cert_unref)

G_END_DECLS
