/* SPDX-License-Identifier: MIT */
#include "srv-auth.h"

#include <string.h>

char *
srv_auth_token_new (void)
{
  guint8 bytes[32];
  GString *s = g_string_new (SRV_TOKEN_PREFIX);

  srv_random_bytes (bytes, sizeof bytes);
  for (gsize i = 0; i < sizeof bytes; i++)
    g_string_append_printf (s, "%02x", bytes[i]);
  memset (bytes, 0, sizeof bytes);
  return g_string_free (s, FALSE);
}

char *
srv_auth_token_hash (const char *token)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, token, -1);
}

SrvToken *
srv_auth_token_create (SrvStore *store, const char *user_id, const char *label, char **secret,
                       GError **error)
{
  g_autofree char *token = srv_auth_token_new ();
  g_autofree char *hash = srv_auth_token_hash (token);
  SrvToken *row = srv_store_token_create (store, user_id, hash, label, error);

  if (row)
    *secret = g_steal_pointer (&token);
  return row;
}

typedef struct {
  gint64 window_start_us;
  guint failures;
} Window;

struct _SrvAuthLimiter {
  guint limit;
  GHashTable *windows; /* address -> Window */
};

#define WINDOW_US (60 * G_USEC_PER_SEC)

SrvAuthLimiter *
srv_auth_limiter_new (guint failures_per_minute)
{
  SrvAuthLimiter *limiter = g_new0 (SrvAuthLimiter, 1);

  limiter->limit = MAX (failures_per_minute, 1);
  limiter->windows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return limiter;
}

void
srv_auth_limiter_free (SrvAuthLimiter *limiter)
{
  if (limiter == NULL)
    return;
  g_hash_table_unref (limiter->windows);
  g_free (limiter);
}

gboolean
srv_auth_limiter_allow (SrvAuthLimiter *limiter, const char *address, gint64 now_us,
                        guint *retry_after_s)
{
  Window *w = g_hash_table_lookup (limiter->windows, address ? address : "");

  if (w == NULL || now_us - w->window_start_us >= WINDOW_US || w->failures < limiter->limit)
    return TRUE;
  if (retry_after_s)
    *retry_after_s = (WINDOW_US - (now_us - w->window_start_us)) / G_USEC_PER_SEC + 1;
  return FALSE;
}

static gboolean
expired (gpointer key, gpointer value, gpointer user_data)
{
  const Window *w = value;

  return *(const gint64 *) user_data - w->window_start_us >= WINDOW_US;
}

void
srv_auth_limiter_fail (SrvAuthLimiter *limiter, const char *address, gint64 now_us)
{
  Window *w;

  if (address == NULL)
    address = "";
  w = g_hash_table_lookup (limiter->windows, address);
  if (w == NULL) {
    if (g_hash_table_size (limiter->windows) >= SRV_AUTH_LIMITER_MAX_ADDRESSES)
      g_hash_table_foreach_remove (limiter->windows, expired, &now_us);
    if (g_hash_table_size (limiter->windows) >= SRV_AUTH_LIMITER_MAX_ADDRESSES)
      g_hash_table_remove_all (limiter->windows); /* a flood of addresses: start over */
    w = g_new0 (Window, 1);
    w->window_start_us = now_us;
    g_hash_table_insert (limiter->windows, g_strdup (address), w);
  }
  if (now_us - w->window_start_us >= WINDOW_US) {
    w->window_start_us = now_us;
    w->failures = 0;
  }
  w->failures++;
}
