/* SPDX-License-Identifier: MIT */
/* The SFU server: loops, the shared port, the certificate, the advertised candidates, and
 * the one way loop threads reach the caller: callbacks posted to its GMainContext. See
 * sfu.h and docs/sfu.md ("Core"). */
#include "sfu-private.h"
#include "sfu-candidates.h"

#include <arpa/inet.h>
#include <string.h>

G_DEFINE_QUARK (sfu-error-quark, sfu_error)

void
sfu_config_init (SfuConfig *config)
{
  memset (config, 0, sizeof *config);
  config->port = SFU_ICE_DEFAULT_PORT;
  config->enable_tcp = TRUE;
}

static gboolean
make_candidates (SfuServer *server, GError **error)
{
  SfuCandidatesConfig cc;
  SfuAddress bound;
  SfuUdp *udp = sfu_ice_agent_get_udp (server->agent);

  sfu_candidates_config_init (&cc);
  cc.host_override = server->ice_host_override;
  cc.port_override = server->config.ice_port_override;
  cc.stun_server = server->stun_server;
  sfu_udp_get_local_address (udp, &bound);
  g_autoptr (GArray) cands = sfu_candidates_gather (&cc, &bound, sfu_udp_get_fd (udp), error);
  if (!cands)
    return FALSE;

  server->local_candidates = g_array_new (FALSE, TRUE, sizeof (SfuSdpLocalCandidate));
  server->candidate_addresses = g_ptr_array_new_with_free_func (g_free);
  /* UDP first, then passive TCP: the answer lists them in this order. */
  for (int tcp = 0; tcp <= (server->config.enable_tcp ? 1 : 0); tcp++) {
    for (guint i = 0; i < cands->len; i++) {
      SfuCandidate *c = &g_array_index (cands, SfuCandidate, i);
      char text[INET6_ADDRSTRLEN];
      int family = c->address.family == G_SOCKET_FAMILY_IPV4 ? AF_INET : AF_INET6;
      SfuSdpLocalCandidate lc = { 0 };

      if (!inet_ntop (family, c->address.addr, text, sizeof text))
        continue;
      char *addr = g_strdup (text);
      g_ptr_array_add (server->candidate_addresses, addr);
      lc.transport = tcp ? SFU_SDP_TRANSPORT_TCP : SFU_SDP_TRANSPORT_UDP;
      lc.address = addr;
      lc.port = tcp ? c->tcp_port : c->address.port;
      g_array_append_val (server->local_candidates, lc);
    }
  }
  return TRUE;
}

SfuServer *
sfu_server_new (const SfuConfig *config, GError **error)
{
  SfuIceConfig ice;
  GError *local = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  SfuServer *server = g_new0 (SfuServer, 1);
  server->config = *config;
  server->bind_host = g_strdup (config->bind_host);
  server->ice_host_override = g_strdup (config->ice_host_override);
  server->stun_server = g_strdup (config->stun_server);
  server->turn_servers = g_strdupv ((char **) config->turn_servers);
  if (!server->turn_servers)
    server->turn_servers = g_new0 (char *, 1);
  server->config.bind_host = server->bind_host;
  server->config.ice_host_override = server->ice_host_override;
  server->config.stun_server = server->stun_server;
  server->config.turn_servers = (const char *const *) server->turn_servers;
  server->context = config->context ? g_main_context_ref (config->context)
                                    : g_main_context_ref_thread_default ();
  server->calls = g_hash_table_new (g_str_hash, g_str_equal);

  server->cert = sfu_cert_new (&local);
  if (!server->cert)
    goto fail;
  server->group = sfu_loop_group_new (config->n_loops, &local);
  if (!server->group)
    goto fail;
  server->scratch = g_malloc0 (sizeof *server->scratch *
                               sfu_loop_group_get_n_loops (server->group));
  sfu_ice_config_init (&ice);
  ice.bind_host = server->bind_host;
  ice.port = config->port;
  ice.enable_tcp = config->enable_tcp;
  if (config->consent_timeout_us > 0)
    ice.consent_timeout_us = config->consent_timeout_us;
  server->agent = sfu_ice_agent_new (server->group, &ice, &local);
  if (!server->agent || !make_candidates (server, &local) ||
      !sfu_ice_agent_start (server->agent, &local))
    goto fail;
  return server;

fail:
  g_set_error (error, SFU_ERROR, SFU_ERROR_FAILED, "SFU could not start: %s", local->message);
  g_clear_error (&local);
  sfu_server_free (server);
  return NULL;
}

void
sfu_server_free (SfuServer *server)
{
  if (!server)
    return;
  if (server->calls) {
    g_autoptr (GList) calls = g_hash_table_get_values (server->calls);
    for (GList *l = calls; l; l = l->next)
      sfu_call_end (l->data);
    g_hash_table_unref (server->calls);
  }
  if (server->agent)
    sfu_ice_agent_free (server->agent);
  if (server->group)
    sfu_loop_group_free (server->group);
  g_clear_pointer (&server->cert, sfu_cert_unref);
  g_clear_pointer (&server->local_candidates, g_array_unref);
  g_clear_pointer (&server->candidate_addresses, g_ptr_array_unref);
  g_main_context_unref (server->context);
  g_strfreev (server->turn_servers);
  g_free (server->scratch);
  g_free (server->bind_host);
  g_free (server->ice_host_override);
  g_free (server->stun_server);
  g_free (server);
}

guint16
sfu_server_get_port (SfuServer *server)
{
  return sfu_ice_agent_get_port (server->agent);
}

const char *const *
sfu_server_get_turn_servers (SfuServer *server)
{
  return (const char *const *) server->turn_servers;
}

guint8 *
sfu_server_scratch (SfuServer *server, SfuLoop *loop)
{
  return server->scratch[sfu_loop_get_index (loop)];
}

/* ---- posting to the caller's context ---- */

SfuCallHandle *
sfu_call_handle_ref (SfuCallHandle *handle)
{
  g_atomic_int_inc (&handle->refcount);
  return handle;
}

void
sfu_call_handle_unref (SfuCallHandle *handle)
{
  if (!g_atomic_int_dec_and_test (&handle->refcount))
    return;
  g_hash_table_unref (handle->members);
  g_free (handle->call_id);
  g_free (handle);
}

typedef struct {
  SfuCallHandle *handle;
  gboolean is_offer;
  SfuEventType type;
  char *participant_id, *track_id, *reason, *sdp;
  SfuTrackKind kind;
} Posted;

static void
posted_free (gpointer data)
{
  Posted *p = data;

  sfu_call_handle_unref (p->handle);
  g_free (p->participant_id);
  g_free (p->track_id);
  g_free (p->reason);
  g_free (p->sdp);
  g_free (p);
}

static gboolean
posted_run (gpointer data)
{
  Posted *p = data;
  SfuServer *server = p->handle->server;
  const SfuCallbacks *cb = &server->config.callbacks;

  /* A call that ended, or a participant that was removed, gets nothing more. */
  if (p->handle->ended || !g_hash_table_contains (p->handle->members, p->participant_id))
    return G_SOURCE_REMOVE;
  if (p->is_offer) {
    if (cb->offer)
      cb->offer (p->handle->call_id, p->participant_id, p->sdp, server->config.user_data);
  } else if (cb->event) {
    SfuEvent ev = { p->type, p->handle->call_id, p->participant_id, p->track_id, p->kind,
                    p->reason };
    cb->event (&ev, server->config.user_data);
  }
  return G_SOURCE_REMOVE;
}

/* Never g_main_context_invoke(): it runs the function right here when the context is free,
 * which would be on a loop thread. */
static void
post (SfuCall *call, Posted *p)
{
  GSource *source = g_idle_source_new ();

  p->handle = sfu_call_handle_ref (call->handle);
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, posted_run, p, posted_free);
  g_source_attach (source, call->server->context);
  g_source_unref (source);
}

void
sfu_server_post_event (SfuCall *call, SfuEventType type, const char *participant_id,
                       const char *track_id, SfuTrackKind kind, const char *reason)
{
  Posted *p = g_new0 (Posted, 1);

  p->type = type;
  p->participant_id = g_strdup (participant_id);
  p->track_id = g_strdup (track_id);
  p->kind = kind;
  p->reason = g_strdup (reason);
  post (call, p);
}

void
sfu_server_post_offer (SfuCall *call, const char *participant_id, char *sdp)
{
  Posted *p = g_new0 (Posted, 1);

  p->is_offer = TRUE;
  p->participant_id = g_strdup (participant_id);
  p->sdp = sdp;
  post (call, p);
}
