/* SPDX-License-Identifier: MIT */
#pragma once

#include "sfu-packet.h"

G_BEGIN_DECLS

/* STUN (RFC 8489) for the SFU's ICE-lite responder (RFC 8445 §2.5).
 *
 * The SFU is an ICE-lite agent: it never sends connectivity checks, it only answers Binding
 * requests on the shared media port, and it is always in the controlled role (RFC 8445
 * §6.1.1). A check that succeeds validates the sender's address for DTLS and SRTP; one with
 * USE-CANDIDATE nominates it (RFC 8445 §7.3.2).
 *
 * Nothing here allocates on the heap or keeps state between calls, except that
 * MESSAGE-INTEGRITY uses one cached OpenSSL HMAC context per thread (OpenSSL 3.0 still
 * makes a few small allocations inside each HMAC). sfu_stun_parse() fills a caller-owned
 * SfuStunMessage whose pointers point into the caller's buffer; builders write into
 * caller buffers. Every function is safe to call from any thread.
 *
 * The transport's receive path:
 *
 *   if (sfu_packet_classify (buf, n) == SFU_PACKET_STUN &&
 *       sfu_stun_parse (buf, n, &msg, NULL) &&
 *       sfu_stun_username_split (&msg, local, sizeof local, remote, sizeof remote) &&
 *       (session = lookup_by_local_ufrag (local)) != NULL) {
 *     verdict = sfu_stun_handle_request (&msg, session->ufrag, session->pwd,
 *                                        session->remote_ufrag, &reply);
 *     if (verdict != SFU_STUN_VERDICT_IGNORE)
 *       send (sfu_stun_build_reply (&reply, &source, session->pwd, out, sizeof out));
 *   }
 *
 * A message sfu_stun_parse() refuses is dropped without an answer (RFC 8489 §6.3): its
 * framing cannot be trusted, and answering unauthenticated garbage only helps reflection
 * attacks. A request for an unknown local ufrag is dropped too. */

#define SFU_STUN_ERROR (sfu_stun_error_quark ())
GQuark sfu_stun_error_quark (void);

typedef enum {
  SFU_STUN_ERROR_NOT_STUN,  /* shorter than a header, first byte > 3, wrong magic cookie */
  SFU_STUN_ERROR_LENGTH,    /* length field not a multiple of 4, or not the datagram's */
  SFU_STUN_ERROR_LIMIT,     /* over SFU_STUN_MAX_SIZE bytes or SFU_STUN_MAX_ATTRIBUTES */
  SFU_STUN_ERROR_ATTRIBUTE, /* an attribute runs past the end, or has a value of wrong size */
  SFU_STUN_ERROR_ORDER,     /* an attribute after FINGERPRINT */
} SfuStunError;

#define SFU_STUN_HEADER_SIZE 20
#define SFU_STUN_TXID_SIZE 12
#define SFU_STUN_MAGIC_COOKIE 0x2112A442u
#define SFU_STUN_FINGERPRINT_XOR 0x5354554eu
/* ICE checks are ~100-200 bytes; 1280 is the IPv6 minimum MTU, so a larger message would
 * be fragmented on some path, which no ICE agent does. */
#define SFU_STUN_MAX_SIZE 1280
#define SFU_STUN_MAX_ATTRIBUTES 64
/* RFC 8839 §5.4 allows ice-ufrag values of up to 256 characters, and an ICE USERNAME is
 * "ufrag:ufrag": 256 + 1 + 256. (RFC 8489 §14.3 says < 509, RFC 5389 < 513.) */
#define SFU_STUN_MAX_USERNAME 513
/* An ERROR-CODE reason phrase (RFC 8489 §14.8: < 128 characters, up to 763 bytes). */
#define SFU_STUN_MAX_REASON 763
/* Unknown comprehension-required attribute types remembered for a 420 response. */
#define SFU_STUN_MAX_UNKNOWN 8

/* Message type = method (Binding = 1) and class (RFC 8489 §5). */
typedef enum {
  SFU_STUN_BINDING_REQUEST = 0x0001,
  SFU_STUN_BINDING_INDICATION = 0x0011,
  SFU_STUN_BINDING_SUCCESS = 0x0101,
  SFU_STUN_BINDING_ERROR = 0x0111,
} SfuStunType;

typedef enum {
  SFU_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
  SFU_STUN_ATTR_USERNAME = 0x0006,
  SFU_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
  SFU_STUN_ATTR_ERROR_CODE = 0x0009,
  SFU_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
  SFU_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
  SFU_STUN_ATTR_PRIORITY = 0x0024,
  SFU_STUN_ATTR_USE_CANDIDATE = 0x0025,
  SFU_STUN_ATTR_SOFTWARE = 0x8022,
  SFU_STUN_ATTR_FINGERPRINT = 0x8028,
  SFU_STUN_ATTR_ICE_CONTROLLED = 0x8029,
  SFU_STUN_ATTR_ICE_CONTROLLING = 0x802A,
} SfuStunAttr;

/* A parsed message. All pointers point into the buffer given to sfu_stun_parse(), which
 * must outlive the struct. Offsets are from the start of the message to an attribute's
 * type field; 0 means "absent" (no attribute starts inside the header).
 *
 * Of a repeated attribute only the first occurrence counts (RFC 8489 §14). Attributes after
 * MESSAGE-INTEGRITY, other than FINGERPRINT, are bounds-checked and counted but otherwise
 * ignored (RFC 8489 §14.5): they are not covered by the integrity check. */
typedef struct {
  const guint8 *data;
  gsize len;
  guint16 type; /* SfuStunType or any other method/class */
  guint8 txid[SFU_STUN_TXID_SIZE];
  guint n_attributes; /* all walked, ignored ones included */

  const guint8 *username; /* NULL when absent; not NUL-terminated, may contain anything */
  gsize username_len;     /* <= SFU_STUN_MAX_USERNAME */
  gsize integrity_offset;
  gsize fingerprint_offset; /* when set, always len - 8: FINGERPRINT must be last */
  gboolean has_priority;
  guint32 priority;
  gboolean use_candidate;
  gboolean ice_controlling, ice_controlled;
  guint64 tie_breaker; /* of whichever of ICE-CONTROLLING/ICE-CONTROLLED came first */

  /* In responses. */
  gsize xor_mapped_offset; /* see sfu_stun_message_get_xor_mapped_address() */
  guint error_code;        /* 300..699, 0 when absent */
  const guint8 *error_reason; /* UTF-8 as sent, not NUL-terminated */
  gsize error_reason_len;
  const guint8 *unknown_attributes; /* the UNKNOWN-ATTRIBUTES value: big-endian u16s */
  gsize unknown_attributes_len;

  /* Comprehension-required types (< 0x8000) before MESSAGE-INTEGRITY that this parser does
   * not know, each listed once; the first SFU_STUN_MAX_UNKNOWN of them. */
  guint16 unknown[SFU_STUN_MAX_UNKNOWN];
  guint n_unknown;
} SfuStunMessage;

/* Parses one STUN message that fills @len bytes (a whole UDP datagram, or one RFC 4571
 * frame on ICE-TCP). On failure returns FALSE with @error in SFU_STUN_ERROR and @msg's
 * contents unspecified. Never reads outside [@data, @data + @len). */
gboolean sfu_stun_parse (const guint8 *data, gsize len, SfuStunMessage *msg, GError **error);

/* TRUE when FINGERPRINT is present and matches (CRC-32 of the message before it, XOR
 * SFU_STUN_FINGERPRINT_XOR; RFC 8489 §14.7). */
gboolean sfu_stun_check_fingerprint (const SfuStunMessage *msg);

/* TRUE when MESSAGE-INTEGRITY is present and is the HMAC-SHA1 with @key of the message up
 * to it, with the header's length field ending after it (RFC 8489 §14.5). For ICE the key
 * is the password of the agent receiving the request (RFC 8445 §7.2.2). Compared in
 * constant time. */
gboolean sfu_stun_check_integrity (const SfuStunMessage *msg, const guint8 *key, gsize key_len);

/* Splits an ICE USERNAME "LOCALUFRAG:REMOTEUFRAG" (the receiver's ufrag first, RFC 8445
 * §7.2.2) into NUL-terminated copies. FALSE when there is no USERNAME, not exactly one
 * colon, an empty part, a NUL byte, or a part that does not fit its buffer. */
gboolean sfu_stun_username_split (const SfuStunMessage *msg,
                                  char *local, gsize local_size,
                                  char *remote, gsize remote_size);

/* Decodes XOR-MAPPED-ADDRESS. FALSE when the message has none. */
gboolean sfu_stun_message_get_xor_mapped_address (const SfuStunMessage *msg, SfuAddress *out);

/* Builders. Each writes one complete message into @out and returns its length, or 0 when
 * it does not fit in @cap (bytes of @out past @cap are never written, bytes before it may
 * be). With @key (may be NULL: then no MESSAGE-INTEGRITY) the message carries
 * MESSAGE-INTEGRITY; every message ends with FINGERPRINT. */

/* Binding success response: XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT. */
gsize sfu_stun_build_binding_success (const guint8 txid[SFU_STUN_TXID_SIZE],
                                      const SfuAddress *mapped,
                                      const guint8 *key, gsize key_len,
                                      guint8 *out, gsize cap);

/* Binding error response: ERROR-CODE (@code 300..699; @reason NULL for the standard
 * phrase), UNKNOWN-ATTRIBUTES when @n_unknown > 0, MESSAGE-INTEGRITY, FINGERPRINT. */
gsize sfu_stun_build_error (const guint8 txid[SFU_STUN_TXID_SIZE],
                            guint code, const char *reason,
                            const guint16 *unknown, guint n_unknown,
                            const guint8 *key, gsize key_len,
                            guint8 *out, gsize cap);

typedef enum {
  SFU_STUN_ROLE_NONE, /* neither ICE-CONTROLLING nor ICE-CONTROLLED (only for tests) */
  SFU_STUN_ROLE_CONTROLLING,
  SFU_STUN_ROLE_CONTROLLED,
} SfuStunRole;

typedef struct {
  const char *username; /* "THEIRUFRAG:OURUFRAG", <= SFU_STUN_MAX_USERNAME bytes */
  guint32 priority;
  SfuStunRole role;
  guint64 tie_breaker;
  gboolean use_candidate;
} SfuStunRequestParams;

/* Binding request as a full ICE agent sends it (for tests and load clients): USERNAME,
 * PRIORITY, ICE-CONTROLLING or ICE-CONTROLLED, USE-CANDIDATE when asked,
 * MESSAGE-INTEGRITY with @key (the receiver's password), FINGERPRINT. */
gsize sfu_stun_build_binding_request (const guint8 txid[SFU_STUN_TXID_SIZE],
                                      const SfuStunRequestParams *params,
                                      const guint8 *key, gsize key_len,
                                      guint8 *out, gsize cap);

/* What the ICE-lite responder does with a request. */
typedef enum {
  SFU_STUN_VERDICT_IGNORE,            /* send nothing */
  SFU_STUN_VERDICT_SUCCESS,           /* Binding success: the source address is validated */
  SFU_STUN_VERDICT_BAD_REQUEST,       /* 400 */
  SFU_STUN_VERDICT_UNAUTHENTICATED,   /* 401 */
  SFU_STUN_VERDICT_UNKNOWN_ATTRIBUTE, /* 420 */
  SFU_STUN_VERDICT_ROLE_CONFLICT,     /* 487 */
} SfuStunVerdict;

typedef struct {
  SfuStunVerdict verdict;
  guint8 txid[SFU_STUN_TXID_SIZE];
  guint error_code;   /* 0 on success */
  const char *reason; /* static */
  /* The request passed MESSAGE-INTEGRITY, so the reply carries it too (RFC 8489 §9.1.3);
   * 400 and 401 before that point are sent without it. */
  gboolean authenticated;
  guint16 unknown[SFU_STUN_MAX_UNKNOWN]; /* for 420 */
  guint n_unknown;
  gboolean nominated; /* success with USE-CANDIDATE: select this address (RFC 8445 §7.3.2) */
  guint32 priority;   /* the request's PRIORITY */
} SfuStunReply;

/* Decides the answer to @req, a parsed message received on a session whose local ICE
 * credentials are @local_ufrag and @local_pwd. @remote_ufrag is the peer's ufrag from
 * signaling, or NULL to accept any (RFC 8445 §7.3: a check may arrive before the peer's
 * credentials do). Fills all of @reply and returns @reply->verdict. The order of the checks
 * and the reasons for each answer are documented in sfu-stun.c. */
SfuStunVerdict sfu_stun_handle_request (const SfuStunMessage *req,
                                        const char *local_ufrag,
                                        const char *local_pwd,
                                        const char *remote_ufrag,
                                        SfuStunReply *reply);

/* Writes the response @reply describes: a Binding success to @mapped (the request's source
 * address; unused for errors) or an error, with MESSAGE-INTEGRITY keyed by @local_pwd when
 * @reply->authenticated. Returns the length, or 0 when it does not fit or the verdict is
 * IGNORE. */
gsize sfu_stun_build_reply (const SfuStunReply *reply, const SfuAddress *mapped,
                            const char *local_pwd, guint8 *out, gsize cap);

G_END_DECLS
