/* SPDX-License-Identifier: MIT */
#include "sfu-stun.h"
#include "sfu-bytes.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

G_DEFINE_QUARK (sfu-stun-error-quark, sfu_stun_error)

#define ATTR_HEADER_SIZE 4
#define INTEGRITY_SIZE 20
#define FINGERPRINT_SIZE 4

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

/* CRC-32 (ISO-HDLC, as zlib), for FINGERPRINT: the reflected polynomial 0xEDB88320, one
 * table entry per byte value. A constant, so threads share it without synchronisation. */
static const guint32 crc_table[256] = {
  0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
  0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988, 0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
  0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
  0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
  0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172, 0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
  0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
  0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
  0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924, 0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
  0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
  0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
  0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e, 0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
  0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
  0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
  0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0, 0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
  0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
  0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
  0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a, 0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
  0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
  0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
  0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc, 0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
  0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
  0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
  0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236, 0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
  0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
  0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
  0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38, 0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
  0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
  0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
  0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2, 0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
  0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
  0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
  0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94, 0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

static guint32
crc32_compute (const guint8 *p, gsize len)
{
  guint32 crc = 0xffffffffu;

  for (gsize i = 0; i < len; i++)
    crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

/* HMAC() fetches the algorithm and creates a context on every call (13 allocations per call
 * with OpenSSL 3.0, measured); a context kept per thread and re-keyed costs 5, and no fetch
 * under the provider store's lock. Data-plane threads live as long as the process; the
 * context is freed if a thread exits. */
static void
mac_ctx_free (gpointer ctx)
{
  EVP_MAC_CTX_free (ctx);
}

static GPrivate mac_ctx_key = G_PRIVATE_INIT (mac_ctx_free);

/* HMAC-SHA1 of @header (passed apart so that a check can adjust its length field without
 * writing to the received buffer) followed by @body. */
static gboolean
hmac_sha1 (const guint8 *key, gsize key_len, const guint8 header[SFU_STUN_HEADER_SIZE],
           const guint8 *body, gsize body_len, guint8 out[INTEGRITY_SIZE])
{
  static const guint8 empty_key[1] = { 0 }; /* OpenSSL wants a pointer even for "" */
  EVP_MAC_CTX *ctx = g_private_get (&mac_ctx_key);
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, (char *) "SHA1", 0),
    OSSL_PARAM_construct_end (),
  };
  gsize out_len = 0;
  EVP_MAC *mac;

  if (ctx == NULL && (mac = EVP_MAC_fetch (NULL, "HMAC", NULL)) != NULL) {
    ctx = EVP_MAC_CTX_new (mac);
    EVP_MAC_free (mac); /* the context holds its own reference */
    if (ctx != NULL && !EVP_MAC_CTX_set_params (ctx, params))
      g_clear_pointer (&ctx, EVP_MAC_CTX_free);
    g_private_set (&mac_ctx_key, ctx);
  }
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
      msg->priority = sfu_rd32 (value);
    }
    return TRUE;
  case SFU_STUN_ATTR_USE_CANDIDATE:
    msg->use_candidate = TRUE;
    return TRUE;
  case SFU_STUN_ATTR_ICE_CONTROLLED:
  case SFU_STUN_ATTR_ICE_CONTROLLING:
    if (!msg->ice_controlling && !msg->ice_controlled)
      msg->tie_breaker = (guint64) sfu_rd32 (value) << 32 | sfu_rd32 (value + 4);
    *(type == SFU_STUN_ATTR_ICE_CONTROLLING ? &msg->ice_controlling : &msg->ice_controlled) =
        TRUE;
    return TRUE;
  default:
    return TRUE; /* MAPPED-ADDRESS: known, nothing to record */
  }
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
  if (type >= 0x8000)
    return TRUE;
  for (guint i = 0; i < msg->n_unknown; i++) {
    if (msg->unknown[i] == type)
      return TRUE;
  }
  if (msg->n_unknown < SFU_STUN_MAX_UNKNOWN)
    msg->unknown[msg->n_unknown++] = type;
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
  /* RFC 8489 §5 only needs the top two bits zero, but on a port shared with DTLS and RTP
   * RFC 7983 §7 leaves STUN the first bytes 0..3 (methods up to 0x0FF, all defined ones):
   * the same test as sfu_packet_classify(), so parser and demultiplexer always agree. */
  if (len < SFU_STUN_HEADER_SIZE)
    return stun_error (error, SFU_STUN_ERROR_NOT_STUN,
                       "%" G_GSIZE_FORMAT " bytes are shorter than a STUN header", len);
  if (data[0] > 3 || sfu_rd32 (data + 4) != SFU_STUN_MAGIC_COOKIE)
    return stun_error (error, SFU_STUN_ERROR_NOT_STUN, "not a STUN message");
  if (len > SFU_STUN_MAX_SIZE)
    return stun_error (error, SFU_STUN_ERROR_LIMIT, "message of %" G_GSIZE_FORMAT
                       " bytes exceeds %d", len, SFU_STUN_MAX_SIZE);
  /* RFC 8489 §5: the length field counts what follows the header, in whole words. */
  if (sfu_rd16 (data + 2) % 4 != 0 || sfu_rd16 (data + 2) != len - SFU_STUN_HEADER_SIZE)
    return stun_error (error, SFU_STUN_ERROR_LENGTH,
                       "length field %u does not match %" G_GSIZE_FORMAT " bytes",
                       sfu_rd16 (data + 2), len);

  msg->data = data;
  msg->len = len;
  msg->type = sfu_rd16 (data);
  memcpy (msg->txid, data + 8, SFU_STUN_TXID_SIZE);

  /* Every offset stays a multiple of 4 and <= len, so the attribute header always fits
   * when offset < len; the value and its padding are checked against what is left. */
  for (offset = SFU_STUN_HEADER_SIZE; offset < len;) {
    guint16 type = sfu_rd16 (data + offset);
    gsize attr_len = sfu_rd16 (data + offset + 2);
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
         sfu_rd32 (msg->data + msg->fingerprint_offset + ATTR_HEADER_SIZE);
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
  sfu_wr16 (header + 2, mi + ATTR_HEADER_SIZE + INTEGRITY_SIZE - SFU_STUN_HEADER_SIZE);
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

/* RFC 8489 §14.2: the address XORed with the cookie and the transaction id (so that NATs
 * rewriting bytes that look like their address leave it alone). Encodes and decodes. */
static void
xor_address (const guint8 txid[SFU_STUN_TXID_SIZE], gsize addr_len, const guint8 *in,
             guint8 *out)
{
  guint8 mask[16];

  sfu_wr32 (mask, SFU_STUN_MAGIC_COOKIE);
  memcpy (mask + 4, txid, SFU_STUN_TXID_SIZE);
  for (gsize i = 0; i < addr_len; i++)
    out[i] = in[i] ^ mask[i];
}

gboolean
sfu_stun_message_get_xor_mapped_address (const SfuStunMessage *msg, SfuAddress *out)
{
  const guint8 *value;

  g_return_val_if_fail (msg != NULL && out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (msg->xor_mapped_offset == 0)
    return FALSE;
  value = msg->data + msg->xor_mapped_offset + ATTR_HEADER_SIZE;
  /* The parser accepted only family 1 with 4 bytes or family 2 with 16. */
  out->family = value[1] == 0x01 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6;
  out->port = sfu_rd16 (value + 2) ^ (SFU_STUN_MAGIC_COOKIE >> 16);
  xor_address (msg->txid, value[1] == 0x01 ? 4 : 16, value + 4, out->addr);
  return TRUE;
}

/* Appends attributes to the caller's buffer, remembering whether any did not fit so that
 * builders check once at the end. */
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
  sfu_wr16 (out, type);
  sfu_wr16 (out + 2, 0);
  sfu_wr32 (out + 4, SFU_STUN_MAGIC_COOKIE);
  memcpy (out + 8, txid, SFU_STUN_TXID_SIZE);
}

/* Returns where the value goes (zero-padded), or NULL when it does not fit. */
static guint8 *
writer_add (Writer *w, guint16 type, gsize len)
{
  gsize total = ATTR_HEADER_SIZE + pad4 (len);
  guint8 *p;

  if (w->overflow || len > G_MAXUINT16 || total > w->cap - w->len) {
    w->overflow = TRUE;
    return NULL;
  }
  p = w->out + w->len;
  sfu_wr16 (p, type);
  sfu_wr16 (p + 2, len);
  memset (p + ATTR_HEADER_SIZE, 0, pad4 (len));
  w->len += total;
  sfu_wr16 (w->out + 2, w->len - SFU_STUN_HEADER_SIZE);
  return p + ATTR_HEADER_SIZE;
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
  sfu_wr32 (p, crc32_compute (w->out, w->len - ATTR_HEADER_SIZE - FINGERPRINT_SIZE) ^
               SFU_STUN_FINGERPRINT_XOR);
  return w->overflow ? 0 : w->len;
}

gsize
sfu_stun_build_binding_success (const guint8 txid[SFU_STUN_TXID_SIZE],
                                const SfuAddress *mapped, const guint8 *key,
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
    sfu_wr16 (p + 2, mapped->port ^ (SFU_STUN_MAGIC_COOKIE >> 16));
    xor_address (txid, addr_len, mapped->addr, p + 4);
  }
  return writer_finish (&w, key, key_len);
}

static const char *
default_reason (guint code)
{
  return code == 400 ? "Bad Request" : code == 401 ? "Unauthenticated"
       : code == 420 ? "Unknown Attribute" : code == 487 ? "Role Conflict" : "Error";
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
      sfu_wr16 (p + 2 * i, unknown[i]);
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
  if ((p = writer_add (&w, SFU_STUN_ATTR_USERNAME, strlen (params->username))) != NULL)
    memcpy (p, params->username, strlen (params->username));
  if ((p = writer_add (&w, SFU_STUN_ATTR_PRIORITY, 4)) != NULL)
    sfu_wr32 (p, params->priority);
  if (params->role != SFU_STUN_ROLE_NONE &&
      (p = writer_add (&w, params->role == SFU_STUN_ROLE_CONTROLLING
                               ? SFU_STUN_ATTR_ICE_CONTROLLING
                               : SFU_STUN_ATTR_ICE_CONTROLLED, 8)) != NULL) {
    sfu_wr32 (p, params->tie_breaker >> 32);
    sfu_wr32 (p + 4, params->tie_breaker & 0xffffffffu);
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
sfu_stun_build_reply (const SfuStunReply *reply, const SfuAddress *mapped,
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
  if (reply->verdict == SFU_STUN_VERDICT_IGNORE)
    return 0;
  if (reply->verdict == SFU_STUN_VERDICT_SUCCESS)
    return sfu_stun_build_binding_success (reply->txid, mapped, key, key_len, out, cap);
  return sfu_stun_build_error (reply->txid, reply->error_code, reply->reason, reply->unknown,
                               reply->n_unknown, key, key_len, out, cap);
}
