/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-store.h"

G_BEGIN_DECLS

/* Bearer tokens and the limit on failed authentications.
 *
 * A token is "crt_" followed by 64 hex digits (256 random bits). The server keeps only
 * its SHA-256; the secret is shown once, when it is created. */

#define SRV_TOKEN_PREFIX "crt_"

/* Returns: (transfer full): a new secret. */
char *srv_auth_token_new (void);
/* Returns: (transfer full): the lowercase hex SHA-256 of @token. */
char *srv_auth_token_hash (const char *token);
/* Creates a token for @user_id; @secret (out) gets the secret to show once. */
SrvToken *srv_auth_token_create (SrvStore *store, const char *user_id, const char *label,
                                 char **secret, GError **error);

/* Failed authentications per client address in fixed one-minute windows: once an address
 * reaches the limit, it is refused (429) until its window ends. Bounded memory: at most
 * SRV_AUTH_LIMITER_MAX_ADDRESSES addresses are tracked; past that the oldest windows are
 * dropped first. */
#define SRV_AUTH_LIMITER_MAX_ADDRESSES 10000

typedef struct _SrvAuthLimiter SrvAuthLimiter;

SrvAuthLimiter *srv_auth_limiter_new (guint failures_per_minute);
void srv_auth_limiter_free (SrvAuthLimiter *limiter);
/* TRUE if @address may try to authenticate now; otherwise @retry_after_s says when. */
gboolean srv_auth_limiter_allow (SrvAuthLimiter *limiter, const char *address, gint64 now_us,
                                 guint *retry_after_s);
void srv_auth_limiter_fail (SrvAuthLimiter *limiter, const char *address, gint64 now_us);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvAuthLimiter, srv_auth_limiter_free)

G_END_DECLS
