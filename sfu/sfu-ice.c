/* SPDX-License-Identifier: MIT */
/* ICE-lite session table; see sfu-ice.h.
 *
 * Locks: SfuIceAgent.lock (a GRWLock) protects by_ufrag and by_addr. Readers are the receive
 * paths of every loop (one read lock per packet, uncontended in steady state); writers are
 * a session's own loop when it registers, validates or forgets an address, or is freed.
 * Under the lock another loop reads only a session's immutable fields (loop, local_ufrag)
 * and path addresses that are in the table (a path's address is set before it is inserted
 * and changes only after it is removed). All other session state belongs to its loop: a
 * packet for a session on another loop is handed over first. Sessions are freed only on
 * their loop, so a pointer found in the table stays valid there while that loop runs.
 * No other lock is taken while holding this one. */
#include "sfu-ice.h"
#include "sfu-stun.h"

#include <string.h>

#define REPLY_MAX 700

typedef struct {
  gboolean in_use, is_tcp, in_table;
  SfuAddress addr; /* UDP source, or the TCP peer (for XOR-MAPPED-ADDRESS) */
  SfuTcpConn *conn;
  gint64 last_consent;
} Path;

struct _SfuIceSession {
  SfuIceAgent *agent;
  SfuLoop *loop;
  char *local_ufrag, *local_pwd, *remote_ufrag;
  SfuIceSessionCallbacks callbacks;
  gpointer user_data;
  Path paths[SFU_ICE_MAX_PATHS];
  gint nominated;      /* path index or -1 */
  gint last_validated; /* path index or -1 */
  SfuLoopTimer *consent_timer;
  gint64 created;
  gboolean closed;
};

struct _SfuIceAgent {
  SfuLoopGroup *group;
  guint n_loops;
  SfuIceConfig config;
  char *bind_host;
  SfuUdp *udp;
  SfuTcp *tcp;
  GRWLock lock;
  GHashTable *by_ufrag; /* local ufrag (session-owned) -> session */
  GHashTable *by_addr;  /* SfuAddress (in some session's path) -> session; UDP only */
  SfuIceStats *stats;   /* [n_loops], each written only on its loop */
  gint n_sessions;      /* atomic */
};

void
sfu_ice_config_init (SfuIceConfig *config)
{
  memset (config, 0, sizeof *config);
  config->port = SFU_ICE_DEFAULT_PORT;
  config->enable_tcp = TRUE;
  sfu_tcp_limits_init (&config->tcp_limits);
  config->consent_timeout_us = 30 * G_USEC_PER_SEC;
}

static guint
address_hash (gconstpointer key)
{
  const SfuAddress *a = key;
  guint h = (guint) a->family * 31u + a->port;
  gsize n = a->family == G_SOCKET_FAMILY_IPV4 ? 4 : 16;

  for (gsize i = 0; i < n; i++)
    h = h * 31u + a->addr[i];
  return h;
}

static gboolean
address_equal (gconstpointer a, gconstpointer b)
{
  return sfu_address_equal (a, b);
}

static SfuIceStats *
stats_of (SfuIceAgent *agent, SfuLoop *loop)
{
  return &agent->stats[sfu_loop_get_index (loop)];
}

/* ---- paths ---- */

static void
path_forget (SfuIceSession *s, gint i)
{
  Path *p = &s->paths[i];
  SfuIceAgent *agent = s->agent;

  if (!p->in_use)
    return;
  if (p->in_table) {
    g_rw_lock_writer_lock (&agent->lock);
    /* Another session may have validated the same address since: leave its entry. */
    if (g_hash_table_lookup (agent->by_addr, &p->addr) == s)
      g_hash_table_remove (agent->by_addr, &p->addr);
    g_rw_lock_writer_unlock (&agent->lock);
  }
  p->in_use = FALSE;
  p->in_table = FALSE;
  if (p->conn) {
    SfuTcpConn *conn = p->conn;
    p->conn = NULL;
    /* Its closed callback finds no owner and so does not come back here. */
    sfu_tcp_conn_set_owner (conn, NULL);
    sfu_tcp_conn_close (conn);
  }
  if (s->nominated == i)
    s->nominated = -1;
  if (s->last_validated == i)
    s->last_validated = -1;
}

static gint
send_path (SfuIceSession *s)
{
  return s->nominated >= 0 ? s->nominated : s->last_validated;
}

static void
notify_selected (SfuIceSession *s, gint before)
{
  if (send_path (s) != before && s->callbacks.selected)
    s->callbacks.selected (s, s->user_data);
}

static gint
path_find (SfuIceSession *s, gboolean is_tcp, const SfuAddress *addr, SfuTcpConn *conn)
{
  for (gint i = 0; i < SFU_ICE_MAX_PATHS; i++) {
    Path *p = &s->paths[i];
    if (p->in_use && p->is_tcp == is_tcp &&
        (is_tcp ? p->conn == conn : sfu_address_equal (&p->addr, addr)))
      return i;
  }
  return -1;
}

/* Adds (or refreshes) a validated path; returns its index. */
static gint
path_validate (SfuIceSession *s, gboolean is_tcp, const SfuAddress *addr, SfuTcpConn *conn)
{
  gint64 now = sfu_loop_now (s->loop);
  gint i = path_find (s, is_tcp, addr, conn), oldest = -1;

  if (i < 0) {
    for (gint k = 0; k < SFU_ICE_MAX_PATHS && i < 0; k++)
      if (!s->paths[k].in_use)
        i = k;
    if (i < 0) {
      /* Full: forget the stalest path that is not the one in use. */
      for (gint k = 0; k < SFU_ICE_MAX_PATHS; k++)
        if (k != send_path (s) &&
            (oldest < 0 || s->paths[k].last_consent < s->paths[oldest].last_consent))
          oldest = k;
      path_forget (s, oldest);
      i = oldest;
    }
    s->paths[i].in_use = TRUE;
    s->paths[i].is_tcp = is_tcp;
    s->paths[i].addr = *addr;
    s->paths[i].conn = conn;
    if (conn)
      sfu_tcp_conn_set_owner (conn, s);
    if (!is_tcp) {
      g_rw_lock_writer_lock (&s->agent->lock);
      g_hash_table_replace (s->agent->by_addr, &s->paths[i].addr, s);
      g_rw_lock_writer_unlock (&s->agent->lock);
      s->paths[i].in_table = TRUE;
    }
  }
  s->paths[i].last_consent = now;
  return i;
}

/* ---- consent ---- */

static void
session_close (SfuIceSession *s)
{
  for (gint i = 0; i < SFU_ICE_MAX_PATHS; i++)
    path_forget (s, i);
  s->closed = TRUE;
  sfu_loop_timer_stop (s->consent_timer);
  stats_of (s->agent, s->loop)->sessions_closed++;
  g_debug ("ICE session %s: no consent for %" G_GINT64_FORMAT " ms, closed", s->local_ufrag,
           s->agent->config.consent_timeout_us / 1000);
  if (s->callbacks.closed)
    s->callbacks.closed (s, s->user_data); /* may free s */
}

static void
on_consent_timer (SfuLoop *loop, SfuLoopTimer *timer, gpointer data)
{
  SfuIceSession *s = data;
  gint64 now = sfu_loop_now (loop), timeout = s->agent->config.consent_timeout_us;
  gint64 next = G_MAXINT64;
  gboolean any = FALSE;
  gint before = send_path (s);

  for (gint i = 0; i < SFU_ICE_MAX_PATHS; i++) {
    Path *p = &s->paths[i];
    if (!p->in_use)
      continue;
    if (now - p->last_consent >= timeout) {
      stats_of (s->agent, loop)->consent_expired++;
      path_forget (s, i);
    } else {
      any = TRUE;
      next = MIN (next, p->last_consent + timeout);
    }
  }
  if (!any) {
    session_close (s);
    return;
  }
  /* The send path expired but another is fresh: send there from now on. */
  if (send_path (s) < 0) {
    for (gint i = 0; i < SFU_ICE_MAX_PATHS; i++)
      if (s->paths[i].in_use &&
          (s->last_validated < 0 ||
           s->paths[i].last_consent > s->paths[s->last_validated].last_consent))
        s->last_validated = i;
  }
  sfu_loop_timer_start (timer, next);
  notify_selected (s, before);
}

/* ---- STUN ---- */

static void
path_send (SfuIceSession *s, const Path *p, const guint8 *data, gsize len, gboolean *ok)
{
  *ok = p->is_tcp ? sfu_tcp_conn_send (p->conn, data, len)
                  : sfu_udp_send (s->agent->udp, s->loop, data, len, &p->addr);
}

/* A parsed Binding request for @s, from a UDP @addr or the TCP @conn (whose peer is @addr),
 * on @s's loop. */
static void
handle_request (SfuIceSession *s, const SfuStunMessage *msg, gboolean is_tcp,
                const SfuAddress *addr, SfuTcpConn *conn)
{
  SfuIceStats *st = stats_of (s->agent, s->loop);
  SfuStunReply reply;
  guint8 out[REPLY_MAX];
  gsize n;
  gint before, i;

  if (s->closed) {
    st->stun_ignored++;
    return;
  }
  st->stun_requests++;
  if (sfu_stun_handle_request (msg, s->local_ufrag, s->local_pwd, s->remote_ufrag, &reply) ==
      SFU_STUN_VERDICT_IGNORE) {
    st->stun_ignored++;
    return;
  }
  n = sfu_stun_build_reply (&reply, addr, s->local_pwd, out, sizeof out);
  if (n > 0) {
    gboolean ok;
    Path tmp = { TRUE, is_tcp, FALSE, *addr, conn, 0 };
    path_send (s, &tmp, out, n, &ok);
  }
  if (reply.verdict != SFU_STUN_VERDICT_SUCCESS) {
    st->stun_error_replies++;
    return;
  }
  st->stun_success++;
  before = send_path (s);
  i = path_validate (s, is_tcp, addr, conn);
  if (reply.nominated)
    s->nominated = i;
  /* Before nomination, answer DTLS where the latest check came from. */
  s->last_validated = i;
  notify_selected (s, before);
}

/* Looks up the session for a STUN Binding request in @data. NULL (counted) when it is not
 * one or names no session. On success *@msg is parsed. */
static SfuIceSession *
lookup_stun (SfuIceAgent *agent, SfuLoop *loop, const guint8 *data, gsize len,
             SfuStunMessage *msg, SfuLoop **owner)
{
  char local[SFU_STUN_MAX_USERNAME + 1], remote[SFU_STUN_MAX_USERNAME + 1];
  SfuIceSession *s;

  if (!sfu_stun_parse (data, len, msg, NULL) || msg->type != SFU_STUN_BINDING_REQUEST ||
      !sfu_stun_username_split (msg, local, sizeof local, remote, sizeof remote)) {
    stats_of (agent, loop)->stun_ignored++;
    return NULL;
  }
  g_rw_lock_reader_lock (&agent->lock);
  s = g_hash_table_lookup (agent->by_ufrag, local);
  *owner = s ? s->loop : NULL;
  g_rw_lock_reader_unlock (&agent->lock);
  if (s == NULL)
    stats_of (agent, loop)->stun_ignored++;
  return s;
}

static void
deliver (SfuIceSession *s, SfuPacketKind kind, guint8 *data, gsize len)
{
  SfuIceStats *st = stats_of (s->agent, s->loop);

  if (s->closed || kind == SFU_PACKET_UNKNOWN || kind == SFU_PACKET_STUN) {
    st->unknown_kind++;
    return;
  }
  st->delivered++;
  s->callbacks.packet (s, kind, data, len, s->user_data);
}

static void
on_udp (SfuUdp *udp, SfuLoop *loop, SfuUdpPacket *pkt, gpointer user_data)
{
  SfuIceAgent *agent = user_data;
  SfuPacketKind kind = sfu_packet_classify (pkt->data, pkt->len);
  SfuIceSession *s;
  SfuLoop *owner;

  if (kind == SFU_PACKET_STUN) {
    SfuStunMessage msg;
    s = lookup_stun (agent, loop, pkt->data, pkt->len, &msg, &owner);
    if (s == NULL)
      return;
    if (owner != loop) {
      if (!pkt->handed_off)
        sfu_udp_hand_off (udp, loop, owner, pkt);
      return;
    }
    handle_request (s, &msg, FALSE, &pkt->from, NULL);
    return;
  }

  g_rw_lock_reader_lock (&agent->lock);
  s = g_hash_table_lookup (agent->by_addr, &pkt->from);
  owner = s ? s->loop : NULL;
  g_rw_lock_reader_unlock (&agent->lock);
  if (s == NULL) {
    stats_of (agent, loop)->unvalidated++;
    return;
  }
  if (owner != loop) {
    if (!pkt->handed_off)
      sfu_udp_hand_off (udp, loop, owner, pkt);
    return;
  }
  deliver (s, kind, pkt->data, pkt->len);
}

static void
on_tcp_frame (SfuTcp *tcp, SfuTcpConn *conn, guint8 *data, gsize len, gpointer user_data)
{
  SfuIceAgent *agent = user_data;
  SfuLoop *loop = sfu_tcp_conn_get_loop (conn);
  SfuIceSession *s = sfu_tcp_conn_get_owner (conn), *named;
  SfuPacketKind kind = sfu_packet_classify (data, len);
  SfuStunMessage msg;
  SfuLoop *owner;

  if (kind != SFU_PACKET_STUN) {
    if (s)
      deliver (s, kind, data, len);
    else
      stats_of (agent, loop)->unvalidated++;
    return;
  }
  named = lookup_stun (agent, loop, data, len, &msg, &owner);
  if (named == NULL)
    return;
  if (s && named != s) {
    /* A bound connection carries one session's checks only. */
    stats_of (agent, loop)->stun_ignored++;
    return;
  }
  if (owner != loop) {
    sfu_tcp_conn_move (conn, owner);
    return;
  }
  handle_request (named, &msg, TRUE, sfu_tcp_conn_get_peer (conn), conn);
}

static void
on_tcp_closed (SfuTcp *tcp, SfuTcpConn *conn, gpointer user_data)
{
  SfuIceSession *s = sfu_tcp_conn_get_owner (conn);
  gint i, before;

  if (s == NULL)
    return;
  before = send_path (s);
  i = path_find (s, TRUE, NULL, conn);
  if (i >= 0) {
    s->paths[i].conn = NULL; /* already closing */
    path_forget (s, i);
  }
  notify_selected (s, before);
}

/* ---- agent ---- */

SfuIceAgent *
sfu_ice_agent_new (SfuLoopGroup *group, const SfuIceConfig *config, GError **error)
{
  static const SfuTcpCallbacks tcp_callbacks = { on_tcp_frame, on_tcp_closed };
  g_autoptr (GError) local_error = NULL;
  SfuIceAgent *agent;

  g_return_val_if_fail (group != NULL && config != NULL, NULL);
  g_return_val_if_fail (config->consent_timeout_us > 0, NULL);

  agent = g_new0 (SfuIceAgent, 1);
  agent->group = group;
  agent->n_loops = sfu_loop_group_get_n_loops (group);
  agent->config = *config;
  agent->bind_host = g_strdup (config->bind_host);
  agent->config.bind_host = agent->bind_host;
  g_rw_lock_init (&agent->lock);
  agent->by_ufrag = g_hash_table_new (g_str_hash, g_str_equal);
  agent->by_addr = g_hash_table_new (address_hash, address_equal);
  agent->stats = g_new0 (SfuIceStats, agent->n_loops);

  /* With port 0 the TCP listener must get the number UDP got: retry if it is taken. */
  for (int attempt = 0; attempt < (config->port == 0 ? 8 : 1); attempt++) {
    g_clear_error (&local_error);
    agent->udp = sfu_udp_new (group, agent->bind_host, config->port, &local_error);
    if (agent->udp == NULL)
      break;
    if (!config->enable_tcp)
      break;
    agent->tcp = sfu_tcp_new (group, agent->bind_host, sfu_udp_get_port (agent->udp),
                              &config->tcp_limits, &tcp_callbacks, agent, &local_error);
    if (agent->tcp)
      break;
    g_clear_pointer (&agent->udp, sfu_udp_free);
  }
  if (agent->udp == NULL) {
    g_propagate_error (error, g_steal_pointer (&local_error));
    sfu_ice_agent_free (agent);
    return NULL;
  }
  return agent;
}

SfuUdp *
sfu_ice_agent_get_udp (SfuIceAgent *agent)
{
  g_return_val_if_fail (agent != NULL, NULL);
  return agent->udp;
}

SfuTcp *
sfu_ice_agent_get_tcp (SfuIceAgent *agent)
{
  g_return_val_if_fail (agent != NULL, NULL);
  return agent->tcp;
}

guint16
sfu_ice_agent_get_port (SfuIceAgent *agent)
{
  g_return_val_if_fail (agent != NULL, 0);
  return sfu_udp_get_port (agent->udp);
}

gboolean
sfu_ice_agent_start (SfuIceAgent *agent, GError **error)
{
  g_return_val_if_fail (agent != NULL, FALSE);
  return sfu_udp_start (agent->udp, on_udp, agent, error);
}

void
sfu_ice_agent_free (SfuIceAgent *agent)
{
  if (agent == NULL)
    return;
  g_return_if_fail (sfu_loop_get_current () == NULL);
  if (g_atomic_int_get (&agent->n_sessions) > 0)
    g_critical ("sfu_ice_agent_free: %d sessions still registered",
                g_atomic_int_get (&agent->n_sessions));
  sfu_tcp_free (agent->tcp);
  sfu_udp_free (agent->udp);
  g_hash_table_unref (agent->by_ufrag);
  g_hash_table_unref (agent->by_addr);
  g_rw_lock_clear (&agent->lock);
  g_free (agent->stats);
  g_free (agent->bind_host);
  g_free (agent);
}

typedef struct {
  SfuIceAgent *agent;
  guint index;
  SfuIceStats *sum;
} StatsCall;

static void
stats_on_loop (gpointer data)
{
  StatsCall *call = data;
  const guint64 *s = (const guint64 *) &call->agent->stats[call->index];
  guint64 *d = (guint64 *) call->sum;

  /* SfuIceStats is all guint64 counters. */
  for (gsize i = 0; i < sizeof (SfuIceStats) / sizeof (guint64); i++)
    d[i] += s[i];
}

void
sfu_ice_agent_get_stats (SfuIceAgent *agent, SfuIceStats *out)
{
  g_return_if_fail (agent != NULL && out != NULL);
  memset (out, 0, sizeof *out);
  for (guint i = 0; i < agent->n_loops; i++) {
    StatsCall call = { agent, i, out };
    sfu_loop_invoke_sync (sfu_loop_group_get_loop (agent->group, i), stats_on_loop, &call);
  }
}

/* ---- sessions ---- */

/* RFC 8839 §5.4 ice-char: ALPHA / DIGIT / "+" / "/". */
static gboolean
valid_ice_chars (const char *s, gsize min, gsize max)
{
  gsize n = 0;

  for (; s[n]; n++)
    if (!g_ascii_isalnum (s[n]) && s[n] != '+' && s[n] != '/')
      return FALSE;
  return n >= min && n <= max;
}

SfuIceSession *
sfu_ice_session_new (SfuIceAgent *agent, SfuLoop *loop, const char *local_ufrag,
                     const char *local_pwd, const char *remote_ufrag,
                     const SfuIceSessionCallbacks *callbacks, gpointer user_data,
                     GError **error)
{
  SfuIceSession *s;
  gboolean taken;

  g_return_val_if_fail (agent != NULL && loop != NULL, NULL);
  g_return_val_if_fail (sfu_loop_get_current () == loop, NULL);
  g_return_val_if_fail (local_ufrag != NULL && local_pwd != NULL, NULL);
  g_return_val_if_fail (callbacks != NULL && callbacks->packet != NULL, NULL);

  if (!valid_ice_chars (local_ufrag, 4, 256) || !valid_ice_chars (local_pwd, 22, 256) ||
      (remote_ufrag && !valid_ice_chars (remote_ufrag, 4, 256))) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "ICE credentials must be ice-chars: ufrag 4-256, password 22-256");
    return NULL;
  }
  s = g_new0 (SfuIceSession, 1);
  s->agent = agent;
  s->loop = loop;
  s->local_ufrag = g_strdup (local_ufrag);
  s->local_pwd = g_strdup (local_pwd);
  s->remote_ufrag = g_strdup (remote_ufrag);
  s->callbacks = *callbacks;
  s->user_data = user_data;
  s->nominated = s->last_validated = -1;
  s->created = sfu_loop_now (loop);

  g_rw_lock_writer_lock (&agent->lock);
  taken = g_hash_table_contains (agent->by_ufrag, s->local_ufrag);
  if (!taken)
    g_hash_table_insert (agent->by_ufrag, s->local_ufrag, s);
  g_rw_lock_writer_unlock (&agent->lock);
  if (taken) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "ICE ufrag “%s” is already in use",
                 local_ufrag);
    g_free (s->local_ufrag);
    g_free (s->local_pwd);
    g_free (s->remote_ufrag);
    g_free (s);
    return NULL;
  }
  g_atomic_int_inc (&agent->n_sessions);
  /* A session that never gets a check within the consent timeout is closed too. */
  s->consent_timer = sfu_loop_timer_new (loop, on_consent_timer, s);
  sfu_loop_timer_start (s->consent_timer, s->created + agent->config.consent_timeout_us);
  return s;
}

void
sfu_ice_session_free (SfuIceSession *s)
{
  SfuIceAgent *agent;

  if (s == NULL)
    return;
  g_return_if_fail (sfu_loop_get_current () == s->loop);
  agent = s->agent;
  for (gint i = 0; i < SFU_ICE_MAX_PATHS; i++)
    path_forget (s, i);
  g_rw_lock_writer_lock (&agent->lock);
  g_hash_table_remove (agent->by_ufrag, s->local_ufrag);
  g_rw_lock_writer_unlock (&agent->lock);
  g_atomic_int_add (&agent->n_sessions, -1);
  sfu_loop_timer_free (s->consent_timer);
  /* The password leaves no copy behind. */
  memset (s->local_pwd, 0, strlen (s->local_pwd));
  g_free (s->local_pwd);
  g_free (s->local_ufrag);
  g_free (s->remote_ufrag);
  g_free (s);
}

void
sfu_ice_session_set_remote_ufrag (SfuIceSession *s, const char *remote_ufrag)
{
  g_return_if_fail (s != NULL);
  g_free (s->remote_ufrag);
  s->remote_ufrag = g_strdup (remote_ufrag);
}

SfuLoop *
sfu_ice_session_get_loop (SfuIceSession *s)
{
  g_return_val_if_fail (s != NULL, NULL);
  return s->loop;
}

gboolean
sfu_ice_session_is_closed (SfuIceSession *s)
{
  g_return_val_if_fail (s != NULL, TRUE);
  return s->closed;
}

gboolean
sfu_ice_session_send (SfuIceSession *s, const guint8 *data, gsize len)
{
  gint i;
  gboolean ok;

  g_return_val_if_fail (s != NULL, FALSE);
  i = send_path (s);
  if (s->closed || i < 0)
    return FALSE;
  path_send (s, &s->paths[i], data, len, &ok);
  return ok;
}

gboolean
sfu_ice_session_get_selected (SfuIceSession *s, SfuAddress *address, gboolean *is_tcp,
                              gboolean *nominated)
{
  gint i;

  g_return_val_if_fail (s != NULL, FALSE);
  i = send_path (s);
  if (i < 0)
    return FALSE;
  if (address)
    *address = s->paths[i].addr;
  if (is_tcp)
    *is_tcp = s->paths[i].is_tcp;
  if (nominated)
    *nominated = s->nominated == i;
  return TRUE;
}
