/* SPDX-License-Identifier: MIT */
/* Negotiation for one participant, on its call's loop: answering its offers, keeping its
 * incoming tracks in step with them, giving it one out-track per forwarded track, and the
 * SFU's re-offers, one at a time (docs/sfu.md, "Core").
 *
 * State: p->local is the SFU's description in effect, p->pending the SFU's offer awaiting
 * the client's answer (NULL when stable). A change while an offer is pending sets
 * p->renegotiate; the next offer goes out when the answer comes. */
#include "sfu-private.h"

#include <string.h>

static const char *const ext_uris[SFU_EXT_COUNT] = {
  [SFU_EXT_AUDIO_LEVEL] = SFU_SDP_URI_AUDIO_LEVEL,
  [SFU_EXT_MID] = SFU_SDP_URI_MID,
  [SFU_EXT_TRANSPORT_CC] = SFU_SDP_URI_TRANSPORT_CC,
  [SFU_EXT_ABS_SEND_TIME] = SFU_SDP_URI_ABS_SEND_TIME,
};

static SfuSdpCodec *
codec_copy (const SfuSdpCodec *c)
{
  SfuSdpCodec *copy = g_new0 (SfuSdpCodec, 1);

  *copy = *c;
  copy->name = g_strdup (c->name);
  copy->fmtp = g_strdup (c->fmtp);
  copy->rtx_pt = -1; /* the SFU does not forward RTX: it resends on the stream's own SSRC */
  return copy;
}

static SfuTrackKind
track_kind (SfuInTrack *t)
{
  return t->kind == SFU_MEDIA_AUDIO ? SFU_TRACK_AUDIO : SFU_TRACK_SCREEN;
}

static gboolean
forwardable (SfuInTrack *t)
{
  return t->sending && (t->kind == SFU_MEDIA_AUDIO || t->owner->screen);
}

/* The primary SSRC of an m-line: the first of a FID group (its RTX is the second), else
 * the first listed. */
static gboolean
primary_ssrc (const SfuSdpMedia *m, guint32 *ssrc)
{
  for (guint i = 0; i < m->ssrc_groups->len; i++) {
    SfuSdpSsrcGroup *g = g_ptr_array_index (m->ssrc_groups, i);
    if (g_strcmp0 (g->semantics, "FID") == 0 && g->n_ssrcs > 0) {
      *ssrc = g->ssrcs[0];
      return TRUE;
    }
  }
  if (m->ssrcs->len == 0)
    return FALSE;
  *ssrc = ((SfuSdpSsrc *) g_ptr_array_index (m->ssrcs, 0))->ssrc;
  return TRUE;
}

/* Incoming tracks follow the latest offer/answer pair: one per accepted m-line the client
 * sends on. A track whose m-line stopped sending stays (its mid is never reused) with
 * sending = FALSE. */
static void
update_in_tracks (SfuParticipant *p, const SfuSdp *offer, const SfuSdp *answer)
{
  for (guint i = 0; i < p->in_tracks->len; i++)
    ((SfuInTrack *) g_ptr_array_index (p->in_tracks, i))->sending = FALSE;

  for (guint i = 0; i < answer->media->len && i < offer->media->len; i++) {
    const SfuSdpMedia *am = g_ptr_array_index (answer->media, i);
    const SfuSdpMedia *om = g_ptr_array_index (offer->media, i);
    SfuInTrack *t;
    SfuMediaKind kind;
    guint32 ssrc;

    if (sfu_sdp_media_is_rejected (am) || !am->mid || am->codecs->len == 0 ||
        (am->kind != SFU_SDP_AUDIO && am->kind != SFU_SDP_VIDEO) ||
        (am->direction != SFU_SDP_DIR_RECVONLY && am->direction != SFU_SDP_DIR_SENDRECV))
      continue;
    t = sfu_participant_find_in_track (p, am->mid);
    if (!t) {
      t = g_new0 (SfuInTrack, 1);
      t->owner = p;
      t->mid = g_strdup (am->mid);
      t->outs = g_ptr_array_new ();
      sfu_keyframe_throttle_init (&t->throttle, 0);
      sfu_seq_unwrapper_init (&t->seq);
      g_ptr_array_add (p->in_tracks, t);
    }
    kind = am->kind == SFU_SDP_AUDIO ? SFU_MEDIA_AUDIO : SFU_MEDIA_VIDEO;
    if (!t->store || kind != t->kind) {
      SfuPacketStoreConfig config;

      sfu_packet_store_config_init (&config, kind == SFU_MEDIA_VIDEO);
      sfu_packet_store_free (t->store);
      t->store = sfu_packet_store_new (&config);
    }
    t->kind = kind;
    if (t->codec) {
      g_free (t->codec->name);
      g_free (t->codec->fmtp);
      g_free (t->codec);
    }
    t->codec = codec_copy (g_ptr_array_index (am->codecs, 0));
    t->pt = t->codec->pt;
    t->ssrc_known = primary_ssrc (om, &ssrc);
    t->ssrc = t->ssrc_known ? ssrc : 0;
    for (guint u = 0; u < SFU_EXT_COUNT; u++) {
      int id = sfu_sdp_media_find_extmap (am, ext_uris[u]);
      t->ext_uri_ids[u] = id > 0 && id < 15 ? (guint8) id : 0; /* one-byte form only */
    }
    t->sending = TRUE;
  }
}

static gboolean
parse (const char *text, SfuSdp **out, GError **error)
{
  SfuSdp *sdp = g_new0 (SfuSdp, 1);
  GError *local = NULL;

  if (!sfu_sdp_parse (text, strlen (text), sdp, &local)) {
    g_free (sdp);
    g_set_error (error, SFU_ERROR, SFU_ERROR_INVALID, "bad SDP: %s", local->message);
    g_error_free (local);
    return FALSE;
  }
  *out = sdp;
  return TRUE;
}

static SfuSdp *
answer (SfuParticipant *p, const SfuSdp *offer, GError **error)
{
  SfuServer *server = p->call->server;
  SfuSdpLocal local = { 0 };
  GError *err = NULL;
  SfuSdp *answer;

  local.ice_ufrag = p->ufrag;
  local.ice_pwd = p->pwd;
  local.fingerprint_alg = "sha-256";
  local.fingerprint = sfu_cert_get_fingerprint (server->cert);
  local.session_id = g_random_int () & 0x7FFFFFFF;
  local.candidates = (const SfuSdpLocalCandidate *) server->local_candidates->data;
  local.n_candidates = server->local_candidates->len;
  local.previous = p->local;
  answer = sfu_sdp_answer (offer, &local, &err);
  if (!answer) {
    g_set_error (error, SFU_ERROR, SFU_ERROR_INVALID, "cannot answer: %s", err->message);
    g_error_free (err);
  }
  return answer;
}

gboolean
sfu_negotiate_first_offer (SfuParticipant *p, const char *text, char **out, GError **error)
{
  g_autoptr (SfuSdp) offer = NULL;
  SfuSdp *ans;

  if (!parse (text, &offer, error))
    return FALSE;
  if (g_strcmp0 (offer->fingerprint_alg, "sha-256") != 0) {
    g_set_error (error, SFU_ERROR, SFU_ERROR_INVALID,
                 "the offer needs an a=fingerprint:sha-256 (got %s)",
                 offer->fingerprint_alg ? offer->fingerprint_alg : "none");
    return FALSE;
  }
  ans = answer (p, offer, error);
  if (!ans)
    return FALSE;
  sfu_ice_session_set_remote_ufrag (p->ice, offer->ice_ufrag);
  sfu_participant_start_dtls (p, offer->fingerprint);
  update_in_tracks (p, offer, ans);
  p->local = ans;
  p->remote = g_steal_pointer (&offer);
  *out = sfu_sdp_to_string (ans);
  return TRUE;
}

gboolean
sfu_negotiate_client_offer (SfuParticipant *p, const char *text, char **out, GError **error)
{
  g_autoptr (SfuSdp) offer = NULL;
  SfuSdp *ans;

  if (p->pending) {
    g_set_error (error, SFU_ERROR, SFU_ERROR_GLARE,
                 "the SFU's offer to “%s” is pending: answer it, then offer again", p->id);
    return FALSE;
  }
  if (!parse (text, &offer, error))
    return FALSE;
  /* The DTLS association stays (no ICE/DTLS restart): a new fingerprint cannot be honoured. */
  if (g_strcmp0 (offer->fingerprint, p->remote->fingerprint) != 0) {
    g_set_error (error, SFU_ERROR, SFU_ERROR_INVALID,
                 "the offer changes the DTLS fingerprint; a new connection needs a new join");
    return FALSE;
  }
  ans = answer (p, offer, error);
  if (!ans)
    return FALSE;
  if (p->ice && g_strcmp0 (offer->ice_ufrag, p->remote->ice_ufrag) != 0)
    sfu_ice_session_set_remote_ufrag (p->ice, offer->ice_ufrag);
  update_in_tracks (p, offer, ans);
  sfu_sdp_free (p->local);
  p->local = ans;
  sfu_sdp_free (p->remote);
  p->remote = g_steal_pointer (&offer);
  *out = sfu_sdp_to_string (ans);
  return TRUE;
}

static void
renegotiate (SfuParticipant *p)
{
  gboolean needed = FALSE;
  SfuSdp *offer;

  if (p->pending) {
    p->renegotiate = TRUE;
    return;
  }
  if (!p->local)
    return;
  for (guint i = 0; i < p->out_tracks->len; i++) {
    SfuOutTrack *o = g_ptr_array_index (p->out_tracks, i);
    if ((o->source && !o->mid) || (!o->source && o->mid && !o->inactive))
      needed = TRUE;
  }
  if (!needed)
    return;

  offer = sfu_sdp_copy (p->local);
  for (guint i = 0; i < p->out_tracks->len; i++) {
    SfuOutTrack *o = g_ptr_array_index (p->out_tracks, i);

    if (o->source && !o->mid) {
      g_autofree char *mid = sfu_sdp_new_mid (offer);
      g_autoptr (GError) error = NULL;
      SfuSdpSendTrack track = {
        .kind = o->kind == SFU_MEDIA_AUDIO ? SFU_SDP_AUDIO : SFU_SDP_VIDEO,
        .mid = mid,
        .codec = o->source->codec,
        .ssrc = o->ssrc,
        .cname = o->source_participant,
        .msid_stream = o->source_participant,
        .msid_track = o->source_mid,
      };
      SfuSdpMedia *m = sfu_sdp_add_send_media (offer, &track, &error);

      if (!m) {
        /* A full description (64 m-lines): this receiver does not get the track. */
        g_warning ("sfu: cannot offer %s's track %s to %s: %s", o->source_participant,
                   o->source_mid, p->id, error->message);
        g_ptr_array_remove_fast (o->source->outs, o);
        o->source = NULL;
        o->inactive = TRUE;
        continue;
      }
      o->mid = g_steal_pointer (&mid);
      o->pt = ((SfuSdpCodec *) g_ptr_array_index (m->codecs, 0))->pt;
    } else if (!o->source && o->mid && !o->inactive) {
      sfu_sdp_set_inactive (offer, o->mid);
      o->inactive = TRUE;
    }
  }
  sfu_sdp_bump_version (offer);
  p->pending = offer;
  p->renegotiate = FALSE;
  sfu_server_post_offer (p->call, p->id, sfu_sdp_to_string (offer));
}

gboolean
sfu_negotiate_apply_answer (SfuParticipant *p, const char *text, GError **error)
{
  g_autoptr (SfuSdp) ans = NULL;

  if (!p->pending) {
    g_set_error (error, SFU_ERROR, SFU_ERROR_NO_OFFER, "no SFU offer to “%s” is pending", p->id);
    return FALSE;
  }
  if (!parse (text, &ans, error))
    return FALSE;
  if (ans->media->len != p->pending->media->len) {
    g_set_error (error, SFU_ERROR, SFU_ERROR_INVALID,
                 "the answer has %u m-lines, the offer %u", ans->media->len,
                 p->pending->media->len);
    return FALSE;
  }
  for (guint i = 0; i < ans->media->len; i++) {
    SfuSdpMedia *am = g_ptr_array_index (ans->media, i);
    SfuSdpMedia *om = g_ptr_array_index (p->pending->media, i);
    if (g_strcmp0 (am->mid, om->mid) != 0) {
      g_set_error (error, SFU_ERROR, SFU_ERROR_INVALID, "m-line %u of the answer has mid %s, not %s",
                   i, am->mid ? am->mid : "(none)", om->mid ? om->mid : "(none)");
      return FALSE;
    }
  }

  for (guint i = 0; i < p->out_tracks->len; i++) {
    SfuOutTrack *o = g_ptr_array_index (p->out_tracks, i);
    SfuSdpMedia *am;

    if (!o->mid || o->negotiated || !o->source)
      continue;
    am = sfu_sdp_find_media (ans, o->mid);
    if (!am || sfu_sdp_media_is_rejected (am) ||
        (am->direction != SFU_SDP_DIR_RECVONLY && am->direction != SFU_SDP_DIR_SENDRECV))
      continue; /* refused: never forwarded */
    o->negotiated = TRUE;
    memset (o->ext_map, 0, sizeof o->ext_map);
    /* The sender's mid and transport-wide sequence numbers mean nothing on this leg. */
    for (guint u = 0; u < SFU_EXT_COUNT; u++) {
      guint8 src = o->source->ext_uri_ids[u];
      int id = sfu_sdp_media_find_extmap (am, ext_uris[u]);

      if (u == SFU_EXT_MID || u == SFU_EXT_TRANSPORT_CC || src == 0)
        continue;
      o->ext_map[src] = id > 0 && id < 15 ? (guint8) id : 0;
    }
  }
  sfu_sdp_free (p->local);
  p->local = g_steal_pointer (&p->pending);
  if (p->renegotiate)
    renegotiate (p);
  return TRUE;
}

static SfuOutTrack *
out_track_new (SfuParticipant *p, SfuInTrack *t)
{
  SfuOutTrack *o = g_new0 (SfuOutTrack, 1);
  SfuOutStreamConfig config;

  o->receiver = p;
  o->source = t;
  o->kind = t->kind;
  o->source_participant = g_strdup (t->owner->id);
  o->source_mid = g_strdup (t->mid);
  o->ssrc = g_random_int ();
  sfu_outstream_config_init (&config, t->kind, o->ssrc);
  if (t->codec->clock_rate > 0 && t->codec->clock_rate <= 1000000)
    config.clock_rate = t->codec->clock_rate;
  sfu_outstream_init (&o->stream, &config);
  g_ptr_array_add (t->outs, o);
  return o;
}

void
sfu_negotiate_detach_source (SfuInTrack *t)
{
  for (guint i = 0; i < t->outs->len; i++)
    ((SfuOutTrack *) g_ptr_array_index (t->outs, i))->source = NULL;
  g_ptr_array_set_size (t->outs, 0);
  if (t->announced) {
    t->announced = FALSE;
    sfu_server_post_event (t->owner->call, SFU_EVENT_TRACK_REMOVED, t->owner->id, t->mid,
                           track_kind (t), NULL);
  }
}

void
sfu_negotiate_sync (SfuParticipant *p)
{
  SfuCall *call = p->call;

  /* Drop what is no longer forwarded: never-offered out-tracks go at once, offered ones
   * stay until their m-line is offered inactive. */
  for (guint i = p->out_tracks->len; i-- > 0;) {
    SfuOutTrack *o = g_ptr_array_index (p->out_tracks, i);

    if (o->source && !forwardable (o->source)) {
      g_ptr_array_remove_fast (o->source->outs, o);
      o->source = NULL;
    }
    if (!o->source && !o->mid)
      g_ptr_array_remove_index (p->out_tracks, i);
  }
  for (guint i = 0; i < call->participants->len; i++) {
    SfuParticipant *q = g_ptr_array_index (call->participants, i);

    if (q == p)
      continue;
    for (guint j = 0; j < q->in_tracks->len; j++) {
      SfuInTrack *t = g_ptr_array_index (q->in_tracks, j);
      gboolean have = FALSE;

      if (!forwardable (t))
        continue;
      for (guint k = 0; k < t->outs->len && !have; k++)
        have = ((SfuOutTrack *) g_ptr_array_index (t->outs, k))->receiver == p;
      if (!have)
        g_ptr_array_add (p->out_tracks, out_track_new (p, t));
    }
  }
  renegotiate (p);
}

void
sfu_negotiate_sync_all (SfuCall *call)
{
  for (guint i = 0; i < call->participants->len; i++) {
    SfuParticipant *p = g_ptr_array_index (call->participants, i);

    for (guint j = 0; j < p->in_tracks->len; j++) {
      SfuInTrack *t = g_ptr_array_index (p->in_tracks, j);
      gboolean fwd = forwardable (t);

      if (fwd != t->announced) {
        t->announced = fwd;
        sfu_server_post_event (call, fwd ? SFU_EVENT_TRACK_ADDED : SFU_EVENT_TRACK_REMOVED, p->id,
                               t->mid, track_kind (t), NULL);
      }
    }
  }
  for (guint i = 0; i < call->participants->len; i++)
    sfu_negotiate_sync (g_ptr_array_index (call->participants, i));
}
