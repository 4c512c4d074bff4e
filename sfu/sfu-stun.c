/* SPDX-License-Identifier: MIT */
#include "sfu-stun.h"

#include <gio/gnetworking.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

G_DEFINE_QUARK (sfu-stun-error-quark, sfu_stun_error)

#define ATTR_HEADER_SIZE 4
#define INTEGRITY_SIZE 20
#define FINGERPRINT_SIZE 4

static inline guint16
rd16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static inline guint32
rd32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static inline void
wr16 (guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static inline void
wr32 (guint8 *p, guint32 v)
{
  wr16 (p, v >> 16);
  wr16 (p + 2, v & 0xffff);
}

static inline gsize
pad4 (gsize n)
{
  return (n + 3) & ~(gsize) 3;
}

static gboolean stun_error (GError **error, SfuStunError code, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
stun_error (GError **error, SfuStunError code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (SFU_STUN_ERROR, code, format, args));
  va_end (args);
  return FALSE;
}

/* CRC-32 (ISO-HDLC, as zlib), for FINGERPRINT. The table is built once; it is read-only
 * afterwards, so threads share it. */
static guint32 crc_table[256];

static guint32
crc32_compute (const guint8 *p, gsize len)
{
  static gsize table_ready = 0;
  guint32 crc = 0xffffffffu;

  if (g_once_init_enter (&table_ready)) {
    for (guint32 i = 0; i < 256; i++) {
      guint32 c = i;

      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      crc_table[i] = c;
    }
    g_once_init_leave (&table_ready, 1);
  }
  for (gsize i = 0; i < len; i++)
    crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

/* HMAC-SHA1 of @header (20 bytes, given separately so that a check can adjust the length
 * field without writing to the received buffer) followed by @body.
 *
 * HMAC() fetches the algorithm and creates a context on every call (13 allocations per call
 * with OpenSSL 3.0, measured); a context kept per thread and re-keyed costs 5 and no fetch
 * under the provider store's lock. Each data-plane thread lives as long as the process; the
 * context is freed when a thread exits. */
static void
mac_ctx_free (gpointer ctx)
{
  EVP_MAC_CTX_free (ctx);
}

static GPrivate mac_ctx_key = G_PRIVATE_INIT (mac_ctx_free);

static EVP_MAC_CTX *
get_mac_ctx (void)
{
  EVP_MAC_CTX *ctx = g_private_get (&mac_ctx_key);
  EVP_MAC *mac;
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, (char *) "SHA1", 0),
    OSSL_PARAM_construct_end (),
  };

  if (ctx != NULL)
    return ctx;
  mac = EVP_MAC_fetch (NULL, "HMAC", NULL);
  if (mac == NULL)
    return NULL;
  ctx = EVP_MAC_CTX_new (mac);
  EVP_MAC_free (mac); /* the context keeps its own reference */
  if (ctx != NULL && !EVP_MAC_CTX_set_params (ctx, params)) {
    EVP_MAC_CTX_free (ctx);
    ctx = NULL;
  }
  if (ctx != NULL)
    g_private_set (&mac_ctx_key, ctx);
  return ctx;
}

static gboolean
hmac_sha1 (const guint8 *key, gsize key_len, const guint8 header[SFU_STUN_HEADER_SIZE],
           const guint8 *body, gsize body_len, guint8 out[INTEGRITY_SIZE])
{
  EVP_MAC_CTX *ctx = get_mac_ctx ();
  /* OpenSSL wants a non-NULL key even when it is empty. */
  static const guint8 empty_key[1] = { 0 };
  gsize out_len = 0;

  return ctx != NULL &&
         EVP_MAC_init (ctx, key_len > 0 ? key : empty_key, key_len, NULL) &&
         EVP_MAC_update (ctx, header, SFU_STUN_HEADER_SIZE) &&
         EVP_MAC_update (ctx, body, body_len) &&
         EVP_MAC_final (ctx, out, &out_len, INTEGRITY_SIZE) && out_len == INTEGRITY_SIZE;
}

/* Parsing. The attributes we interpret, with the value sizes they may have; any other
 * comprehension-required type (< 0x8000) is unknown. */
static const struct {
  guint16 type;
  guint16 min_len, max_len;
} known_attrs[] = {
  { SFU_STUN_ATTR_MAPPED_ADDRESS, 8, 20 },
  { SFU_STUN_ATTR_USERNAME, 0, SFU_STUN_MAX_USERNAME },
  { SFU_STUN_ATTR_MESSAGE_INTEGRITY, INTEGRITY_SIZE, INTEGRITY_SIZE },
  { SFU_STUN_ATTR_ERROR_CODE, 4, 4 + SFU_STUN_MAX_REASON },
  { SFU_STUN_ATTR_UNKNOWN_ATTRIBUTES, 0, SFU_STUN_MAX_SIZE },
  { SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 8, 20 },
  { SFU_STUN_ATTR_PRIORITY, 4, 4 },
  { SFU_STUN_ATTR_USE_CANDIDATE, 0, 0 },
  { SFU_STUN_ATTR_ICE_CONTROLLED, 8, 8 },
  { SFU_STUN_ATTR_ICE_CONTROLLING, 8, 8 },
};

/* Records a known attribute whose size is in range; FALSE when its value is invalid.
 * Every occurrence is validated, only the first is recorded (RFC 8489 §14). */
static gboolean
record_attribute (SfuStunMessage *msg, guint16 type, const guint8 *value, gsize len,
                  gsize offset)
{
  switch (type) {
  case SFU_STUN_ATTR_USERNAME:
    if (msg->username == NULL) {
      msg->username = value;
      msg->username_len = len;
    }
    return TRUE;
  case SFU_STUN_ATTR_MESSAGE_INTEGRITY:
    /* Only ever the first: the caller skips everything after it but FINGERPRINT. */
    msg->integrity_offset = offset;
    return TRUE;
  case SFU_STUN_ATTR_ERROR_CODE:
    /* RFC 8489 §14.8: class 3..6, number 0..99. */
    if ((value[2] & 7) < 3 || (value[2] & 7) > 6 || value[3] > 99)
      return FALSE;
    if (msg->error_code == 0) {
      msg->error_code = (value[2] & 7) * 100 + value[3];
      msg->error_reason = value + 4;
      msg->error_reason_len = len - 4;
    }
    return TRUE;
  case SFU_STUN_ATTR_UNKNOWN_ATTRIBUTES:
    if (len % 2 != 0)
      return FALSE;
    if (msg->unknown_attributes == NULL) {
      msg->unknown_attributes = value;
      msg->unknown_attributes_len = len;
    }
    return TRUE;
  case SFU_STUN_ATTR_XOR_MAPPED_ADDRESS:
    /* RFC 8489 §14.2: family 0x01 with a 4-byte address, 0x02 with 16 bytes. */
    if (!((value[1] == 0x01 && len == 8) || (value[1] == 0x02 && len == 20)))
      return FALSE;
    if (msg->xor_mapped_offset == 0)
      msg->xor_mapped_offset = offset;
    return TRUE;
  case SFU_STUN_ATTR_PRIORITY:
    if (!msg->has_priority) {
      msg->has_priority = TRUE;
      msg->priority = rd32 (value);
    }
    return TRUE;
  case SFU_STUN_ATTR_USE_CANDIDATE:
    msg->use_candidate = TRUE;
    return TRUE;
  case SFU_STUN_ATTR_ICE_CONTROLLED:
  case SFU_STUN_ATTR_ICE_CONTROLLING:
    if (!msg->ice_controlling && !msg->ice_controlled)
      msg->tie_breaker = (guint64) rd32 (value) << 32 | rd32 (value + 4);
    if (type == SFU_STUN_ATTR_ICE_CONTROLLING)
      msg->ice_controlling = TRUE;
    else
      msg->ice_controlled = TRUE;
    return TRUE;
  default:
    return TRUE; /* MAPPED-ADDRESS: known, nothing to record */
  }
}

static void
note_unknown (SfuStunMessage *msg, guint16 type)
{
  for (guint i = 0; i < msg->n_unknown; i++) {
    if (msg->unknown[i] == type)
      return;
  }
  if (msg->n_unknown < SFU_STUN_MAX_UNKNOWN)
    msg->unknown[msg->n_unknown++] = type;
}

static gboolean
parse_attribute (SfuStunMessage *msg, guint16 type, const guint8 *value, gsize len,
                 gsize offset, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (known_attrs); i++) {
    if (known_attrs[i].type != type)
      continue;
    if (len < known_attrs[i].min_len || len > known_attrs[i].max_len ||
        !record_attribute (msg, type, value, len, offset))
      return stun_error (error, SFU_STUN_ERROR_ATTRIBUTE,
                         "attribute 0x%04x at offset %" G_GSIZE_FORMAT
                         " has an invalid value of %" G_GSIZE_FORMAT " bytes",
                         type, offset, len);
    return TRUE;
  }
  /* RFC 8489 §14: 0x0000-0x7FFF are comprehension-required, the rest optional. */
  if (type < 0x8000)
    note_unknown (msg, type);
  return TRUE;
}

gboolean
sfu_stun_parse (const guint8 *data, gsize len, SfuStunMessage *msg, GError **error)
{
  gsize offset;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (msg, 0, sizeof *msg);
  /* RFC 8489 §5: top two bits zero, magic cookie; §6.3: length matches. */
  if (len < SFU_STUN_HEADER_SIZE)
    return stun_error (error, SFU_STUN_ERROR_NOT_STUN,
                       "%" G_GSIZE_FORMAT " bytes are shorter than a STUN header", len);
  if ((data[0] & 0xc0) != 0 || rd32 (data + 4) != SFU_STUN_MAGIC_COOKIE)
    return stun_error (error, SFU_STUN_ERROR_NOT_STUN, "not a STUN message");
  if (len > SFU_STUN_MAX_SIZE)
    return stun_error (error, SFU_STUN_ERROR_LIMIT, "message of %" G_GSIZE_FORMAT
                       " bytes exceeds %d", len, SFU_STUN_MAX_SIZE);
  if (rd16 (data + 2) % 4 != 0 || rd16 (data + 2) != len - SFU_STUN_HEADER_SIZE)
    return stun_error (error, SFU_STUN_ERROR_LENGTH,
                       "length field %u does not match %" G_GSIZE_FORMAT " bytes",
                       rd16 (data + 2), len);

  msg->data = data;
  msg->len = len;
  msg->type = rd16 (data);
  memcpy (msg->txid, data + 8, SFU_STUN_TXID_SIZE);

  /* Every offset stays a multiple of 4 and <= len, so the attribute header always fits
   * when offset < len; the value and its padding are checked against what is left. */
  for (offset = SFU_STUN_HEADER_SIZE; offset < len;) {
    guint16 type = rd16 (data + offset);
    gsize attr_len = rd16 (data + offset + 2);
    const guint8 *value = data + offset + ATTR_HEADER_SIZE;

    if (pad4 (attr_len) > len - offset - ATTR_HEADER_SIZE)
      return stun_error (error, SFU_STUN_ERROR_ATTRIBUTE,
                         "attribute 0x%04x at offset %" G_GSIZE_FORMAT
                         " runs past the end", type, offset);
    if (++msg->n_attributes > SFU_STUN_MAX_ATTRIBUTES)
      return stun_error (error, SFU_STUN_ERROR_LIMIT, "more than %d attributes",
                         SFU_STUN_MAX_ATTRIBUTES);
    if (msg->fingerprint_offset != 0)
      return stun_error (error, SFU_STUN_ERROR_ORDER,
                         "attribute 0x%04x after FINGERPRINT", type);

    if (type == SFU_STUN_ATTR_FINGERPRINT) {
      /* RFC 8489 §14.7: last, even after MESSAGE-INTEGRITY. */
      if (attr_len != FINGERPRINT_SIZE)
        return stun_error (error, SFU_STUN_ERROR_ATTRIBUTE,
                           "FINGERPRINT of %" G_GSIZE_FORMAT " bytes", attr_len);
      msg->fingerprint_offset = offset;
    } else if (msg->integrity_offset == 0 &&
               !parse_attribute (msg, type, value, attr_len, offset, error)) {
      return FALSE;
    }
    /* Padding bytes are skipped whatever they hold (RFC 8489 §14: "MUST be ignored"). */
    offset += ATTR_HEADER_SIZE + pad4 (attr_len);
  }
  return TRUE;
}

gboolean
sfu_stun_check_fingerprint (const SfuStunMessage *msg)
{
  g_return_val_if_fail (msg != NULL, FALSE);

  if (msg->fingerprint_offset == 0)
    return FALSE;
  return (crc32_compute (msg->data, msg->fingerprint_offset) ^ SFU_STUN_FINGERPRINT_XOR) ==
         rd32 (msg->data + msg->fingerprint_offset + ATTR_HEADER_SIZE);
}

gboolean
sfu_stun_check_integrity (const SfuStunMessage *msg, const guint8 *key, gsize key_len)
{
  guint8 header[SFU_STUN_HEADER_SIZE];
  guint8 mac[INTEGRITY_SIZE];
  gsize mi = msg ? msg->integrity_offset : 0;

  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (key != NULL || key_len == 0, FALSE);

  if (mi == 0)
    return FALSE;
  /* The length field as if MESSAGE-INTEGRITY were the last attribute (RFC 8489 §14.5). */
  memcpy (header, msg->data, SFU_STUN_HEADER_SIZE);
  wr16 (header + 2, mi + ATTR_HEADER_SIZE + INTEGRITY_SIZE - SFU_STUN_HEADER_SIZE);
  if (!hmac_sha1 (key, key_len, header, msg->data + SFU_STUN_HEADER_SIZE,
                  mi - SFU_STUN_HEADER_SIZE, mac))
    return FALSE;
  return CRYPTO_memcmp (mac, msg->data + mi + ATTR_HEADER_SIZE, INTEGRITY_SIZE) == 0;
}

static gboolean
copy_part (const guint8 *p, gsize n, char *out, gsize size)
{
  if (n == 0 || n >= size || memchr (p, '\0', n) != NULL || memchr (p, ':', n) != NULL)
    return FALSE;
  memcpy (out, p, n);
  out[n] = '\0';
  return TRUE;
}

gboolean
sfu_stun_username_split (const SfuStunMessage *msg, char *local, gsize local_size,
                         char *remote, gsize remote_size)
{
  const guint8 *colon;

  g_return_val_if_fail (msg != NULL, FALSE);
  g_return_val_if_fail (local != NULL && remote != NULL, FALSE);

  if (msg->username == NULL)
    return FALSE;
  colon = memchr (msg->username, ':', msg->username_len);
  if (colon == NULL)
    return FALSE;
  return copy_part (msg->username, colon - msg->username, local, local_size) &&
         copy_part (colon + 1, msg->username + msg->username_len - colon - 1,
                    remote, remote_size);
}

gboolean
sfu_stun_address_from_sockaddr (gconstpointer sockaddr, gsize len, SfuStunAddress *out)
{
  const struct sockaddr *sa = sockaddr;
  static const guint8 v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  g_return_val_if_fail (sockaddr != NULL && out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (len >= sizeof (struct sockaddr_in) && sa->sa_family == AF_INET) {
    const struct sockaddr_in *sin = sockaddr;

    out->family = G_SOCKET_FAMILY_IPV4;
    memcpy (out->addr, &sin->sin_addr, 4);
    out->port = g_ntohs (sin->sin_port);
    return TRUE;
  }
  if (len >= sizeof (struct sockaddr_in6) && sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = sockaddr;
    const guint8 *a = (const guint8 *) &sin6->sin6_addr;

    if (memcmp (a, v4_mapped, sizeof v4_mapped) == 0) {
      out->family = G_SOCKET_FAMILY_IPV4;
      memcpy (out->addr, a + 12, 4);
    } else {
      out->family = G_SOCKET_FAMILY_IPV6;
      memcpy (out->addr, a, 16);
    }
    out->port = g_ntohs (sin6->sin6_port);
    return TRUE;
  }
  return FALSE;
}

gboolean
sfu_stun_address_from_socket_address (GSocketAddress *address, SfuStunAddress *out)
{
  struct sockaddr_storage ss;

  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (address) && out != NULL, FALSE);

  if (!g_socket_address_to_native (address, &ss, sizeof ss, NULL))
    return FALSE;
  return sfu_stun_address_from_sockaddr (&ss, sizeof ss, out);
}

/* XOR-MAPPED-ADDRESS hides the address from NATs that rewrite payload bytes that look like
 * it (RFC 8489 §14.2): the port is XORed with the cookie's top half, the address with the
 * cookie followed by the transaction id. The same operation encodes and decodes. */
static void
xor_address (const guint8 txid[SFU_STUN_TXID_SIZE], gsize addr_len, const guint8 *in,
             guint8 *out)
{
  guint8 mask[16];

  wr32 (mask, SFU_STUN_MAGIC_COOKIE);
  memcpy (mask + 4, txid, SFU_STUN_TXID_SIZE);
  for (gsize i = 0; i < addr_len; i++)
    out[i] = in[i] ^ mask[i];
}

gboolean
sfu_stun_message_get_xor_mapped_address (const SfuStunMessage *msg, SfuStunAddress *out)
{
  const guint8 *value;

  g_return_val_if_fail (msg != NULL && out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (msg->xor_mapped_offset == 0)
    return FALSE;
  value = msg->data + msg->xor_mapped_offset + ATTR_HEADER_SIZE;
  /* The parser accepted only family 1 with 4 bytes or family 2 with 16. */
  out->family = value[1] == 0x01 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6;
  out->port = rd16 (value + 2) ^ (SFU_STUN_MAGIC_COOKIE >> 16);
  xor_address (msg->txid, value[1] == 0x01 ? 4 : 16, value + 4, out->addr);
  return TRUE;
}

/* Building. A Writer appends attributes into the caller's buffer and remembers whether
 * anything did not fit, so builders check once at the end. */
typedef struct {
  guint8 *out;
  gsize cap, len;
  gboolean overflow;
} Writer;

static void
writer_init (Writer *w, guint16 type, const guint8 txid[SFU_STUN_TXID_SIZE], guint8 *out,
             gsize cap)
{
  *w = (Writer) { out, cap, SFU_STUN_HEADER_SIZE, cap < SFU_STUN_HEADER_SIZE };
  if (w->overflow)
    return;
  wr16 (out, type);
  wr16 (out + 2, 0);
  wr32 (out + 4, SFU_STUN_MAGIC_COOKIE);
  memcpy (out + 8, txid, SFU_STUN_TXID_SIZE);
}

/* Returns where the value goes (zero-padded), or NULL when it does not fit. */
static guint8 *
writer_add (Writer *w, guint16 type, gsize len)
{
  gsize total = ATTR_HEADER_SIZE + pad4 (len);
  guint8 *p;

  if (w->overflow || len > G_MAXUINT16 || total > w->cap - w->len ||
      w->len + total > SFU_STUN_MAX_SIZE) {
    w->overflow = TRUE;
    return NULL;
  }
  p = w->out + w->len;
  wr16 (p, type);
  wr16 (p + 2, len);
  memset (p + ATTR_HEADER_SIZE, 0, pad4 (len));
  w->len += total;
  wr16 (w->out + 2, w->len - SFU_STUN_HEADER_SIZE);
  return p + ATTR_HEADER_SIZE;
}

static void
writer_add_bytes (Writer *w, guint16 type, gconstpointer value, gsize len)
{
  guint8 *p = writer_add (w, type, len);

  if (p != NULL && len > 0)
    memcpy (p, value, len);
}

/* MESSAGE-INTEGRITY (when @key) then FINGERPRINT; returns the final length or 0. */
static gsize
writer_finish (Writer *w, const guint8 *key, gsize key_len)
{
  guint8 *p;

  if (key != NULL) {
    gsize mi = w->len;

    /* writer_add sets the length field to end after MESSAGE-INTEGRITY, as the HMAC needs. */
    if ((p = writer_add (w, SFU_STUN_ATTR_MESSAGE_INTEGRITY, INTEGRITY_SIZE)) == NULL ||
        !hmac_sha1 (key, key_len, w->out, w->out + SFU_STUN_HEADER_SIZE,
                    mi - SFU_STUN_HEADER_SIZE, p))
      return 0;
  }
  if ((p = writer_add (w, SFU_STUN_ATTR_FINGERPRINT, FINGERPRINT_SIZE)) == NULL)
    return 0;
  wr32 (p, crc32_compute (w->out, w->len - ATTR_HEADER_SIZE - FINGERPRINT_SIZE) ^
               SFU_STUN_FINGERPRINT_XOR);
  return w->overflow ? 0 : w->len;
}

gsize
sfu_stun_build_binding_success (const guint8 txid[SFU_STUN_TXID_SIZE],
                                const SfuStunAddress *mapped, const guint8 *key,
                                gsize key_len, guint8 *out, gsize cap)
{
  gboolean v4 = mapped && mapped->family == G_SOCKET_FAMILY_IPV4;
  gsize addr_len = v4 ? 4 : 16;
  Writer w;
  guint8 *p;

  g_return_val_if_fail (txid != NULL && out != NULL, 0);
  g_return_val_if_fail (mapped != NULL && (mapped->family == G_SOCKET_FAMILY_IPV4 ||
                                           mapped->family == G_SOCKET_FAMILY_IPV6), 0);

  writer_init (&w, SFU_STUN_BINDING_SUCCESS, txid, out, cap);
  if ((p = writer_add (&w, SFU_STUN_ATTR_XOR_MAPPED_ADDRESS, 4 + addr_len)) != NULL) {
    p[1] = v4 ? 0x01 : 0x02;
    wr16 (p + 2, mapped->port ^ (SFU_STUN_MAGIC_COOKIE >> 16));
    xor_address (txid, addr_len, mapped->addr, p + 4);
  }
  return writer_finish (&w, key, key_len);
}

static const char *
default_reason (guint code)
{
  switch (code) {
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthenticated";
  case 420:
    return "Unknown Attribute";
  case 487:
    return "Role Conflict";
  default:
    return "Error";
  }
}

gsize
sfu_stun_build_error (const guint8 txid[SFU_STUN_TXID_SIZE], guint code, const char *reason,
                      const guint16 *unknown, guint n_unknown, const guint8 *key,
                      gsize key_len, guint8 *out, gsize cap)
{
  gsize reason_len;
  Writer w;
  guint8 *p;

  g_return_val_if_fail (txid != NULL && out != NULL, 0);
  g_return_val_if_fail (code >= 300 && code <= 699, 0);
  g_return_val_if_fail (unknown != NULL || n_unknown == 0, 0);

  if (reason == NULL)
    reason = default_reason (code);
  reason_len = strlen (reason);
  g_return_val_if_fail (reason_len <= SFU_STUN_MAX_REASON, 0);

  writer_init (&w, SFU_STUN_BINDING_ERROR, txid, out, cap);
  if ((p = writer_add (&w, SFU_STUN_ATTR_ERROR_CODE, 4 + reason_len)) != NULL) {
    p[2] = code / 100;
    p[3] = code % 100;
    memcpy (p + 4, reason, reason_len);
  }
  /* RFC 8489 §14.13; padding is zero (RFC 3489 repeated an attribute instead). */
  if (n_unknown > 0 &&
      (p = writer_add (&w, SFU_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * (gsize) n_unknown)) != NULL) {
    for (guint i = 0; i < n_unknown; i++)
      wr16 (p + 2 * i, unknown[i]);
  }
  return writer_finish (&w, key, key_len);
}

gsize
sfu_stun_build_binding_request (const guint8 txid[SFU_STUN_TXID_SIZE],
                                const SfuStunRequestParams *params, const guint8 *key,
                                gsize key_len, guint8 *out, gsize cap)
{
  Writer w;
  guint8 *p;

  g_return_val_if_fail (txid != NULL && params != NULL && out != NULL, 0);
  g_return_val_if_fail (params->username != NULL, 0);
  g_return_val_if_fail (strlen (params->username) <= SFU_STUN_MAX_USERNAME, 0);

  writer_init (&w, SFU_STUN_BINDING_REQUEST, txid, out, cap);
  writer_add_bytes (&w, SFU_STUN_ATTR_USERNAME, params->username, strlen (params->username));
  if ((p = writer_add (&w, SFU_STUN_ATTR_PRIORITY, 4)) != NULL)
    wr32 (p, params->priority);
  if (params->role != SFU_STUN_ROLE_NONE &&
      (p = writer_add (&w, params->role == SFU_STUN_ROLE_CONTROLLING
                               ? SFU_STUN_ATTR_ICE_CONTROLLING
                               : SFU_STUN_ATTR_ICE_CONTROLLED, 8)) != NULL) {
    wr32 (p, params->tie_breaker >> 32);
    wr32 (p + 4, params->tie_breaker & 0xffffffffu);
  }
  if (params->use_candidate)
    writer_add (&w, SFU_STUN_ATTR_USE_CANDIDATE, 0);
  return writer_finish (&w, key, key_len);
}

/* ICE-lite decisions, in the order RFC 8489 and RFC 8445 give them. Each step either
 * answers or passes the request on. */

static SfuStunVerdict
verdict (SfuStunReply *reply, SfuStunVerdict v, guint code)
{
  reply->verdict = v;
  reply->error_code = code;
  reply->reason = code ? default_reason (code) : NULL;
  return v;
}

/* RFC 8445 §7.3: the USERNAME is valid if it is two values separated by a colon, the
 * first our ufrag. The second is checked too when signaling has told us the peer's: a
 * check carrying another ufrag belongs to a previous ICE session of that peer (before an
 * ICE restart, RFC 8445 §9) and must not validate an address for this one. */
static gboolean
username_valid (const SfuStunMessage *req, const char *local_ufrag, const char *remote_ufrag)
{
  gsize local_len = strlen (local_ufrag);
  const guint8 *remote = req->username + local_len + 1;
  gsize remote_len;

  if (req->username_len <= local_len + 1 ||
      memcmp (req->username, local_ufrag, local_len) != 0 || req->username[local_len] != ':')
    return FALSE;
  remote_len = req->username_len - local_len - 1;
  if (memchr (remote, ':', remote_len) != NULL || memchr (remote, '\0', remote_len) != NULL)
    return FALSE;
  return remote_ufrag == NULL ||
         (strlen (remote_ufrag) == remote_len && memcmp (remote, remote_ufrag, remote_len) == 0);
}

SfuStunVerdict
sfu_stun_handle_request (const SfuStunMessage *req, const char *local_ufrag,
                         const char *local_pwd, const char *remote_ufrag, SfuStunReply *reply)
{
  g_return_val_if_fail (req != NULL && reply != NULL, SFU_STUN_VERDICT_IGNORE);
  g_return_val_if_fail (local_ufrag != NULL && *local_ufrag != '\0', SFU_STUN_VERDICT_IGNORE);
  g_return_val_if_fail (local_pwd != NULL, SFU_STUN_VERDICT_IGNORE);

  memset (reply, 0, sizeof *reply);
  memcpy (reply->txid, req->txid, SFU_STUN_TXID_SIZE);

  /* Indications (keepalives, RFC 8445 §11) want no answer; responses would answer checks,
   * which an ICE-lite agent never sends (RFC 8445 §2.5); other methods (TURN's) are not
   * served on this port. None gets a reply, so none can be used for reflection. */
  if (req->type != SFU_STUN_BINDING_REQUEST)
    return verdict (reply, SFU_STUN_VERDICT_IGNORE, 0);
  /* RFC 8445 §7.3: ICE "MUST utilize the FINGERPRINT mechanism"; a check without a valid
   * one is not an ICE check, and is discarded silently (RFC 8489 §6.3). */
  if (!sfu_stun_check_fingerprint (req))
    return verdict (reply, SFU_STUN_VERDICT_IGNORE, 0);

  /* RFC 8489 §9.1.3 (short-term credentials): no USERNAME or no MESSAGE-INTEGRITY is 400,
   * an unknown USERNAME or a wrong MESSAGE-INTEGRITY is 401, both without
   * MESSAGE-INTEGRITY in the response since the sender did not prove it has the key. */
  if (req->username == NULL || req->integrity_offset == 0)
    return verdict (reply, SFU_STUN_VERDICT_BAD_REQUEST, 400);
  if (!username_valid (req, local_ufrag, remote_ufrag) ||
      !sfu_stun_check_integrity (req, (const guint8 *) local_pwd, strlen (local_pwd)))
    return verdict (reply, SFU_STUN_VERDICT_UNAUTHENTICATED, 401);
  /* From here on every response carries MESSAGE-INTEGRITY with the same key. */
  reply->authenticated = TRUE;

  /* RFC 8489 §6.3.1: after authentication, unknown comprehension-required attributes are
   * answered with 420 listing them. Only those before MESSAGE-INTEGRITY count: the parser
   * ignores everything after it. */
  if (req->n_unknown > 0) {
    memcpy (reply->unknown, req->unknown, sizeof reply->unknown);
    reply->n_unknown = req->n_unknown;
    return verdict (reply, SFU_STUN_VERDICT_UNKNOWN_ATTRIBUTE, 420);
  }

  /* RFC 8445 §7.1.1: a check MUST carry PRIORITY; §7.1.3: the sender states exactly one
   * role. Both at once is self-contradictory; neither (an RFC 5245-era agent) is accepted,
   * as no conflict can be detected. */
  if (!req->has_priority || (req->ice_controlling && req->ice_controlled))
    return verdict (reply, SFU_STUN_VERDICT_BAD_REQUEST, 400);

  /* A lite agent only supports the controlled role (RFC 8445 §6.1.1, appendix A), so a peer
   * that also claims to be controlled is in conflict, and nobody would nominate. RFC 8445
   * §7.3.1.1 has the controlled agent compare tie-breakers and either switch to controlling
   * or answer 487; we cannot switch, so we always answer 487 (as if our tie-breaker were
   * the smaller), which makes the peer switch to controlling (RFC 8445 §7.2.5.1). */
  if (req->ice_controlled)
    return verdict (reply, SFU_STUN_VERDICT_ROLE_CONFLICT, 487);

  /* RFC 8445 §7.3.2: an accepted check with USE-CANDIDATE nominates the pair. */
  reply->nominated = req->use_candidate;
  reply->priority = req->priority;
  return verdict (reply, SFU_STUN_VERDICT_SUCCESS, 0);
}

gsize
sfu_stun_build_reply (const SfuStunReply *reply, const SfuStunAddress *mapped,
                      const char *local_pwd, guint8 *out, gsize cap)
{
  const guint8 *key = NULL;
  gsize key_len = 0;

  g_return_val_if_fail (reply != NULL && out != NULL, 0);
  g_return_val_if_fail (!reply->authenticated || local_pwd != NULL, 0);

  if (reply->authenticated) {
    key = (const guint8 *) local_pwd;
    key_len = strlen (local_pwd);
  }
  switch (reply->verdict) {
  case SFU_STUN_VERDICT_IGNORE:
    return 0;
  case SFU_STUN_VERDICT_SUCCESS:
    g_return_val_if_fail (mapped != NULL, 0);
    return sfu_stun_build_binding_success (reply->txid, mapped, key, key_len, out, cap);
  case SFU_STUN_VERDICT_BAD_REQUEST:
  case SFU_STUN_VERDICT_UNAUTHENTICATED:
  case SFU_STUN_VERDICT_UNKNOWN_ATTRIBUTE:
  case SFU_STUN_VERDICT_ROLE_CONFLICT:
  default:
    return sfu_stun_build_error (reply->txid, reply->error_code, reply->reason,
                                 reply->unknown, reply->n_unknown, key, key_len, out, cap);
  }
}
