/* SPDX-License-Identifier: MIT */
/* The glue between calls and the SFU: the server owns one SfuServer (the RTC port, ICE
 * host override, STUN and TURN from the config); a call gets its SfuCall with its first
 * participant with media; client offers, answers and candidates go in, SFU offers come
 * back as `signal`, SFU events (voice activity, connection) become broadcasts. The SFU
 * calls back on the server's main context (SfuConfig.context), so no locking here. */
#include "srv-calls-private.h"
#include "srv-ws.h"

void
srv_calls_set_error (GError **error, const GError *sfu_error)
{
  SrvCallError code = SRV_CALL_ERROR_INTERNAL;

  if (sfu_error && sfu_error->domain == SFU_ERROR) {
    switch ((SfuError) sfu_error->code) {
    case SFU_ERROR_INVALID:
      code = SRV_CALL_ERROR_INVALID_SDP;
      break;
    case SFU_ERROR_SCREEN_BUSY:
      code = SRV_CALL_ERROR_SCREEN_BUSY;
      break;
    case SFU_ERROR_GLARE:
      code = SRV_CALL_ERROR_GLARE;
      break;
    case SFU_ERROR_NO_OFFER:
      code = SRV_CALL_ERROR_NO_OFFER;
      break;
    case SFU_ERROR_NOT_FOUND:
    case SFU_ERROR_EXISTS:
    case SFU_ERROR_FAILED:
      break;
    }
  }
  if (code == SRV_CALL_ERROR_INTERNAL) {
    g_warning ("calls: sfu: %s", sfu_error ? sfu_error->message : "unknown failure");
    g_set_error_literal (error, SRV_CALL_ERROR, code, "media error (see the server log)");
    return;
  }
  /* The SFU's messages describe the SDP or the state, never secrets. */
  g_set_error_literal (error, SRV_CALL_ERROR, code, sfu_error->message);
}

static SrvParticipant *
lookup (SrvServer *server, const char *call_id, const char *participant_id, SrvCall **call_out)
{
  SrvCall *call = srv_calls_find (server, call_id);

  *call_out = call;
  return call ? srv_call_find_session (call, participant_id) : NULL;
}

static void
on_sfu_offer (const char *call_id, const char *participant_id, const char *sdp, gpointer user_data)
{
  SrvCall *call;
  SrvParticipant *p = lookup (user_data, call_id, participant_id, &call);
  g_autoptr (JsonNode) data = NULL;
  JsonObject *o, *desc;

  if (p == NULL || p->ws == NULL)
    return;
  desc = json_object_new ();
  json_object_set_string_member (desc, "type", "offer");
  json_object_set_string_member (desc, "sdp", sdp);
  o = json_object_new ();
  json_object_set_object_member (o, "sdp", desc);
  data = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (data, o);
  srv_ws_send (p->ws, "signal", data);
}

static void
on_sfu_event (const SfuEvent *event, gpointer user_data)
{
  SrvCall *call;
  SrvParticipant *p = lookup (user_data, event->call_id, event->participant_id, &call);
  g_autoptr (JsonNode) data = NULL;

  if (p == NULL)
    return;
  switch (event->type) {
  case SFU_EVENT_CONNECTED:
    g_message ("call %s: '%s' media connected", call->id, p->username);
    break;
  case SFU_EVENT_DISCONNECTED:
    g_message ("call %s: '%s' media disconnected: %s", call->id, p->username,
               event->reason ? event->reason : "?");
    if (p->voice) {
      p->voice = FALSE;
      data = srv_participant_ref_json (p);
      srv_call_broadcast (call, "user_voice_off", data, NULL);
    }
    break;
  case SFU_EVENT_VOICE_ON:
  case SFU_EVENT_VOICE_OFF: {
    gboolean on = event->type == SFU_EVENT_VOICE_ON;

    /* A muted participant's audio is dropped: it has no voice to show. */
    if (p->bot || p->voice == on || (on && p->muted))
      break;
    p->voice = on;
    data = srv_participant_ref_json (p);
    srv_call_broadcast (call, on ? "user_voice_on" : "user_voice_off", data, NULL);
    break;
  }
  case SFU_EVENT_TRACK_ADDED:
  case SFU_EVENT_TRACK_REMOVED:
    g_debug ("call %s: '%s' track %s %s", call->id, p->username,
             event->track_id ? event->track_id : "?",
             event->type == SFU_EVENT_TRACK_ADDED ? "added" : "removed");
    break;
  }
}

gboolean
srv_calls_media_start (SrvServer *server, GError **error)
{
  const SrvConfig *cfg = server->config;
  SfuConfig sc;

  sfu_config_init (&sc);
  sc.port = cfg->rtc_port;
  sc.ice_host_override = cfg->ice_host_override[0] ? cfg->ice_host_override : NULL;
  sc.stun_server = cfg->stun_server[0] ? cfg->stun_server : NULL;
  sc.turn_servers = (const char *const *) cfg->turn_servers;
  sc.context = g_main_context_ref_thread_default ();
  sc.callbacks.offer = on_sfu_offer;
  sc.callbacks.event = on_sfu_event;
  sc.user_data = server;
  server->sfu = sfu_server_new (&sc, error);
  g_main_context_unref (sc.context);
  if (server->sfu == NULL) {
    g_prefix_error (error, "cannot start the SFU on RTC port %u: ", cfg->rtc_port);
    return FALSE;
  }
  g_message ("sfu: media on port %u (UDP and TCP)", sfu_server_get_port (server->sfu));
  return TRUE;
}

void
srv_calls_media_stop (SrvServer *server)
{
  g_clear_pointer (&server->sfu, sfu_server_free);
}

gboolean
srv_calls_media_offer (SrvCall *call, SrvParticipant *p, const char *sdp, char **answer,
                       GError **error)
{
  g_autoptr (GError) local = NULL;
  SfuServer *sfu = call->server->sfu;

  if (sfu == NULL) {
    g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_MEDIA_UNAVAILABLE,
                         "media is not available on this server");
    return FALSE;
  }
  if (call->sfu == NULL) {
    call->sfu = sfu_call_new (sfu, call->id, &local);
    if (call->sfu == NULL) {
      srv_calls_set_error (error, local);
      return FALSE;
    }
  }
  if (p->media) {
    /* A re-offer (a track added or stopped); GLARE while an SFU offer is pending. */
    if (!sfu_participant_handle_offer (call->sfu, p->session_id, sdp, answer, &local)) {
      srv_calls_set_error (error, local);
      return FALSE;
    }
    return TRUE;
  }
  if (!sfu_participant_add (call->sfu, p->session_id, sdp, answer, &local)) {
    srv_calls_set_error (error, local);
    return FALSE;
  }
  p->media = TRUE;
  /* Everyone joins muted; the state set before media existed carries over. */
  if (!sfu_participant_set_muted (call->sfu, p->session_id, p->muted, &local)
      || (p->screen && !sfu_participant_set_screen (call->sfu, p->session_id, TRUE, &local))) {
    g_warning ("calls: sfu state for %s: %s", p->session_id, local->message);
  }
  return TRUE;
}

gboolean
srv_calls_media_answer (SrvCall *call, SrvParticipant *p, const char *sdp, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!p->media || call->sfu == NULL) {
    g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_NO_OFFER,
                         "no SFU offer is pending: send your offer first");
    return FALSE;
  }
  if (!sfu_participant_apply_answer (call->sfu, p->session_id, sdp, &local)) {
    srv_calls_set_error (error, local);
    return FALSE;
  }
  return TRUE;
}

gboolean
srv_calls_media_candidate (SrvCall *call, SrvParticipant *p, const char *candidate, GError **error)
{
  g_autoptr (GError) local = NULL;

  /* ICE-lite: the SFU learns addresses from the checks. Candidates that arrive before
   * the offer, and end-of-candidates, need nothing. */
  if (!p->media || call->sfu == NULL || candidate[0] == '\0')
    return TRUE;
  if (!sfu_participant_add_candidate (call->sfu, p->session_id, candidate, &local)) {
    if (g_error_matches (local, SFU_ERROR, SFU_ERROR_INVALID)) {
      g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_INVALID_SDP, "bad candidate: %s",
                   local->message);
      return FALSE;
    }
    srv_calls_set_error (error, local);
    return FALSE;
  }
  return TRUE;
}

#define SET_U64(o, s, f) json_object_set_int_member (o, #f, (gint64) (s).f)

JsonNode *
srv_calls_media_stats (SrvCall *call)
{
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  JsonArray *out = json_array_new ();

  for (guint i = 0; call->sfu && i < call->participants->len; i++) {
    SrvParticipant *p = call->participants->pdata[i];
    SfuParticipantStats st = { 0 };
    g_autoptr (GError) error = NULL;
    JsonObject *o;

    if (!p->media)
      continue;
    if (!sfu_participant_get_stats (call->sfu, p->session_id, &st, &error)) {
      g_debug ("calls: stats of %s: %s", p->session_id, error->message);
      continue;
    }
    o = json_object_new ();
    json_object_set_string_member (o, "session_id", p->session_id);
    json_object_set_string_member (o, "user_id", p->user_id);
    json_object_set_boolean_member (o, "bot", p->bot);
    json_object_set_boolean_member (o, "connected", st.connected);
    SET_U64 (o, st, packets_in);
    SET_U64 (o, st, bytes_in);
    SET_U64 (o, st, packets_lost);
    json_object_set_double_member (o, "loss_fraction", st.loss_fraction);
    json_object_set_double_member (o, "jitter_ms", st.jitter_ms);
    SET_U64 (o, st, plis_sent);
    SET_U64 (o, st, packets_out);
    SET_U64 (o, st, bytes_out);
    json_object_set_double_member (o, "rtt_ms", st.rtt_ms);
    json_object_set_string_member (o, "transport", st.over_tcp ? "tcp" : "udp");
    SET_U64 (o, st, nacks_received);
    SET_U64 (o, st, nacks_resent);
    SET_U64 (o, st, plis_received);
    SET_U64 (o, st, dropped_before_dtls);
    SET_U64 (o, st, srtp_errors);
    SET_U64 (o, st, dropped_muted);
    json_array_add_object_element (out, o);
  }
  json_node_take_array (node, out);
  return node;
}

JsonNode *
srv_calls_ice_servers (SrvServer *server)
{
  const SrvConfig *cfg = server->config;
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  JsonArray *servers = json_array_new ();

  if (cfg->turn_servers && cfg->turn_servers[0]) {
    JsonObject *o = json_object_new ();
    JsonArray *urls = json_array_new ();

    for (gsize i = 0; cfg->turn_servers[i]; i++)
      json_array_add_string_element (urls, cfg->turn_servers[i]);
    json_object_set_array_member (o, "urls", urls);
    /* Clients need the credential to use TURN; it goes to authenticated call members
     * only and is never logged. */
    if (cfg->turn_username[0])
      json_object_set_string_member (o, "username", cfg->turn_username);
    if (cfg->turn_credential[0])
      json_object_set_string_member (o, "credential", cfg->turn_credential);
    json_array_add_object_element (servers, o);
  }
  json_node_take_array (node, servers);
  return node;
}
