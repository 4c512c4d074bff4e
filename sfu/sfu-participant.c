/* SPDX-License-Identifier: MIT */
/* One participant on its call's loop: its ICE-lite session, DTLS (the SFU is the server),
 * SRTP once DTLS is done, the RTCP report timer, and its voice state. Forwarding itself
 * is in sfu-forward.c, negotiation in sfu-negotiate.c. Everything here runs on the call's
 * loop thread. */
#include "sfu-private.h"

#include <string.h>

#define RTCP_INTERVAL_US (G_USEC_PER_SEC)

static void
random_ice_chars (char *out, gsize n)
{
  static const char chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  for (gsize i = 0; i < n; i++)
    out[i] = chars[g_random_int_range (0, 64)];
  out[n] = '\0';
}

void
sfu_in_track_free (SfuInTrack *t)
{
  if (!t)
    return;
  g_assert (t->outs->len == 0);
  g_ptr_array_unref (t->outs);
  sfu_packet_store_free (t->store);
  if (t->codec) {
    g_free (t->codec->name);
    g_free (t->codec->fmtp);
    g_free (t->codec);
  }
  g_free (t->mid);
  g_free (t);
}

void
sfu_out_track_free (SfuOutTrack *o)
{
  if (!o)
    return;
  if (o->source)
    g_ptr_array_remove_fast (o->source->outs, o);
  sfu_outstream_clear (&o->stream);
  g_free (o->source_participant);
  g_free (o->source_mid);
  g_free (o->mid);
  g_free (o);
}

SfuInTrack *
sfu_participant_find_in_track (SfuParticipant *p, const char *mid)
{
  for (guint i = 0; i < p->in_tracks->len; i++) {
    SfuInTrack *t = g_ptr_array_index (p->in_tracks, i);
    if (g_strcmp0 (t->mid, mid) == 0)
      return t;
  }
  return NULL;
}

/* ---- events ---- */

void
sfu_participant_set_voice (SfuParticipant *p, gboolean voice)
{
  if (p->voice == voice)
    return;
  p->voice = voice;
  sfu_server_post_event (p->call, voice ? SFU_EVENT_VOICE_ON : SFU_EVENT_VOICE_OFF, p->id, NULL,
                         SFU_TRACK_AUDIO, NULL);
}

static void
disconnect (SfuParticipant *p, const char *reason)
{
  if (p->disconnected)
    return;
  p->disconnected = TRUE;
  sfu_participant_set_voice (p, FALSE);
  g_message ("sfu: participant %s of call %s disconnected: %s", p->id, p->call->id, reason);
  sfu_server_post_event (p->call, SFU_EVENT_DISCONNECTED, p->id, NULL, SFU_TRACK_AUDIO, reason);
}

/* ---- DTLS ---- */

static void
dtls_send (const guint8 *data, gsize len, gpointer user_data)
{
  SfuParticipant *p = user_data;

  if (p->ice)
    sfu_ice_session_send (p->ice, data, len);
}

static void
dtls_arm_timer (SfuParticipant *p)
{
  gint64 at = sfu_dtls_get_timeout_us (p->dtls);

  if (at < 0)
    sfu_loop_timer_stop (p->dtls_timer);
  else
    sfu_loop_timer_start (p->dtls_timer, at);
}

static void
dtls_state_changed (SfuParticipant *p, SfuDtlsState state)
{
  if (state == SFU_DTLS_STATE_CONNECTED && !p->srtp) {
    SfuSrtpKeys keys;
    g_autoptr (GError) error = NULL;

    if (!sfu_dtls_get_srtp_keys (p->dtls, &keys)) {
      disconnect (p, "DTLS gave no SRTP keys");
      return;
    }
    SfuSrtpProfile profile = keys.profile;

    p->srtp = sfu_srtp_new (&keys, &error);
    sfu_srtp_keys_clear (&keys);
    if (!p->srtp) {
      disconnect (p, error->message);
      return;
    }
    p->connected = TRUE;
    gboolean over_tcp = FALSE;
    sfu_ice_session_get_selected (p->ice, NULL, &over_tcp, NULL);
    g_message ("sfu: participant %s of call %s connected over %s (%s)", p->id, p->call->id,
               over_tcp ? "TCP" : "UDP",
               sfu_srtp_profile_name (profile) ? sfu_srtp_profile_name (profile) : "?");
    sfu_server_post_event (p->call, SFU_EVENT_CONNECTED, p->id, NULL, SFU_TRACK_AUDIO, NULL);
    sfu_loop_timer_start (p->rtcp_timer, sfu_loop_now (p->call->loop) + RTCP_INTERVAL_US);
    /* Receivers that joined before this sender connected wait for a keyframe. */
    for (guint i = 0; i < p->in_tracks->len; i++) {
      SfuInTrack *t = g_ptr_array_index (p->in_tracks, i);
      if (t->kind == SFU_MEDIA_VIDEO && t->outs->len > 0)
        sfu_participant_request_keyframe (t);
    }
  } else if (state == SFU_DTLS_STATE_FAILED) {
    const char *why = sfu_dtls_get_error (p->dtls);
    g_autofree char *reason = g_strdup_printf ("DTLS failed: %s", why ? why : "unknown");
    disconnect (p, reason);
  } else if (state == SFU_DTLS_STATE_CLOSED) {
    disconnect (p, "DTLS closed by the peer");
  }
}

static void
on_dtls_timer (SfuLoop *loop, SfuLoopTimer *timer, gpointer data)
{
  SfuParticipant *p = data;
  SfuDtlsState before = sfu_dtls_get_state (p->dtls);
  SfuDtlsState state = sfu_dtls_handle_timeout (p->dtls);

  if (state != before)
    dtls_state_changed (p, state);
  if (state == SFU_DTLS_STATE_HANDSHAKING)
    dtls_arm_timer (p);
}

/* ---- ICE ---- */

static void
on_packet (SfuIceSession *session, SfuPacketKind kind, guint8 *data, gsize len, gpointer ud)
{
  SfuParticipant *p = ud;

  switch (kind) {
  case SFU_PACKET_DTLS: {
    SfuDtlsState before = sfu_dtls_get_state (p->dtls);
    SfuDtlsState state = sfu_dtls_handle_datagram (p->dtls, data, len);

    if (state != before)
      dtls_state_changed (p, state);
    if (state == SFU_DTLS_STATE_HANDSHAKING)
      dtls_arm_timer (p);
    else
      sfu_loop_timer_stop (p->dtls_timer);
    break;
  }
  case SFU_PACKET_RTP:
    if (!p->srtp) {
      p->stats.dropped_before_dtls++;
      return;
    }
    if (!sfu_srtp_unprotect_rtp (p->srtp, data, &len)) {
      p->stats.srtp_errors++;
      return;
    }
    sfu_forward_rtp (p, data, len);
    break;
  case SFU_PACKET_RTCP:
    if (!p->srtp) {
      p->stats.dropped_before_dtls++;
      return;
    }
    if (!sfu_srtp_unprotect_rtcp (p->srtp, data, &len)) {
      p->stats.srtp_errors++;
      return;
    }
    sfu_forward_rtcp (p, data, len);
    break;
  default:
    break;
  }
}

static void
on_closed (SfuIceSession *session, gpointer ud)
{
  SfuParticipant *p = ud;

  sfu_ice_session_free (p->ice);
  p->ice = NULL;
  disconnect (p, "ICE consent lost");
}

static void
on_rtcp_timer (SfuLoop *loop, SfuLoopTimer *timer, gpointer data)
{
  SfuParticipant *p = data;
  gint64 now = sfu_loop_now (loop);

  /* Pending (throttled) keyframe requests toward this participant's sources. */
  for (guint i = 0; i < p->in_tracks->len; i++) {
    SfuInTrack *t = g_ptr_array_index (p->in_tracks, i);
    if (sfu_keyframe_throttle_due (&t->throttle, now))
      sfu_participant_send_pli (t);
  }
  /* Voice off after a second without a loud packet (or without any packet: DTX). */
  if (p->voice) {
    gboolean loud = FALSE;
    for (guint i = 0; i < p->in_tracks->len; i++) {
      SfuInTrack *t = g_ptr_array_index (p->in_tracks, i);
      if (t->kind == SFU_MEDIA_AUDIO && t->last_loud_us && now - t->last_loud_us < G_USEC_PER_SEC)
        loud = TRUE;
    }
    if (!loud)
      sfu_participant_set_voice (p, FALSE);
  }
  if (p->srtp && !p->disconnected)
    sfu_forward_send_reports (p);
  /* 0.5..1.5 × the interval (RFC 3550 §6.3.1), so participants do not report in step. */
  sfu_loop_timer_start (timer, now + RTCP_INTERVAL_US / 2 +
                                   g_random_int_range (0, (gint32) RTCP_INTERVAL_US));
}

/* ---- lifecycle ---- */

SfuParticipant *
sfu_participant_new (SfuCall *call, const char *id, GError **error)
{
  static const SfuIceSessionCallbacks callbacks = { on_packet, NULL, on_closed };
  SfuParticipant *p;
  char ufrag[9], pwd[25];

  if (!id || !*id || strlen (id) > 256 || !g_utf8_validate (id, -1, NULL)) {
    g_set_error (error, SFU_ERROR, SFU_ERROR_INVALID, "participant id must be 1..256 bytes of UTF-8");
    return NULL;
  }
  p = g_new0 (SfuParticipant, 1);
  p->call = call;
  p->id = g_strdup (id);
  p->in_tracks = g_ptr_array_new_with_free_func ((GDestroyNotify) sfu_in_track_free);
  p->out_tracks = g_ptr_array_new_with_free_func ((GDestroyNotify) sfu_out_track_free);
  p->rtcp_ssrc = g_random_int ();
  p->rtt_ms = -1;
  p->cname = g_strdup_printf ("sfu-%08x", g_random_int ());
  /* A ufrag collision is astronomically unlikely; the table refuses it anyway. */
  random_ice_chars (ufrag, 8);
  random_ice_chars (pwd, 24);
  p->ufrag = g_strdup (ufrag);
  p->pwd = g_strdup (pwd);
  p->dtls_timer = sfu_loop_timer_new (call->loop, on_dtls_timer, p);
  p->rtcp_timer = sfu_loop_timer_new (call->loop, on_rtcp_timer, p);
  p->ice = sfu_ice_session_new (call->server->agent, call->loop, p->ufrag, p->pwd, NULL,
                                &callbacks, p, error);
  if (!p->ice) {
    sfu_participant_free (p);
    return NULL;
  }
  return p;
}

/* Also called on a half-made participant (add failed). */
void
sfu_participant_free (SfuParticipant *p)
{
  if (!p)
    return;
  /* Unhook from the rest of the call first: the receivers' out-tracks lose their source,
   * the sources lose this receiver's out-tracks. */
  for (guint i = 0; i < p->in_tracks->len; i++)
    sfu_negotiate_detach_source (g_ptr_array_index (p->in_tracks, i));
  g_ptr_array_unref (p->out_tracks);
  g_ptr_array_unref (p->in_tracks);
  if (p->dtls) {
    sfu_dtls_close (p->dtls);
    sfu_dtls_free (p->dtls);
  }
  g_clear_pointer (&p->ice, sfu_ice_session_free);
  g_clear_pointer (&p->srtp, sfu_srtp_free);
  g_clear_pointer (&p->dtls_timer, sfu_loop_timer_free);
  g_clear_pointer (&p->rtcp_timer, sfu_loop_timer_free);
  g_clear_pointer (&p->remote, sfu_sdp_free);
  g_clear_pointer (&p->local, sfu_sdp_free);
  g_clear_pointer (&p->pending, sfu_sdp_free);
  g_free (p->id);
  g_free (p->ufrag);
  g_free (p->pwd);
  g_free (p->cname);
  g_free (p);
}

void
sfu_participant_start_dtls (SfuParticipant *p, const char *fingerprint)
{
  p->dtls = sfu_dtls_new (p->call->server->cert, SFU_DTLS_ROLE_SERVER, fingerprint, dtls_send, p);
  sfu_dtls_start (p->dtls);
}

void
sfu_participant_send_rtcp (SfuParticipant *p, guint8 *buf, gsize len)
{
  if (!p->srtp || !p->ice || p->disconnected)
    return;
  if (sfu_srtp_protect_rtcp (p->srtp, buf, &len, SFU_SCRATCH_SIZE))
    sfu_ice_session_send (p->ice, buf, len);
}
