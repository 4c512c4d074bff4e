/* SPDX-License-Identifier: MIT */
/* The SFU's answer, SDP text output, and the helpers that turn the last local description
 * into a re-offer. */
#include "sfu-sdp-private.h"

#include <string.h>

static const char *const direction_names[] = {
  [SFU_SDP_DIR_NONE] = NULL,           [SFU_SDP_DIR_SENDRECV] = "sendrecv",
  [SFU_SDP_DIR_SENDONLY] = "sendonly", [SFU_SDP_DIR_RECVONLY] = "recvonly",
  [SFU_SDP_DIR_INACTIVE] = "inactive",
};

static const char *const setup_names[] = {
  [SFU_SDP_SETUP_NONE] = NULL,           [SFU_SDP_SETUP_ACTPASS] = "actpass",
  [SFU_SDP_SETUP_ACTIVE] = "active",     [SFU_SDP_SETUP_PASSIVE] = "passive",
  [SFU_SDP_SETUP_HOLDCONN] = "holdconn",
};

/* rtcp-fb the SFU answers: it retransmits on NACK, forwards or throttles PLI and FIR
 * toward the sender, and feeds transport-cc to the sender's congestion control. REMB is
 * dropped: transport-cc replaces it. */
#define ALLOWED_FEEDBACK                                                                           \
  (SFU_SDP_FB_NACK | SFU_SDP_FB_NACK_PLI | SFU_SDP_FB_CCM_FIR | SFU_SDP_FB_TRANSPORT_CC)

/* Header extensions the SFU reads or rewrites; every other one is dropped from answers,
 * so no sender spends bytes on them. */
static const char *const allowed_extensions[] = {
  SFU_SDP_URI_AUDIO_LEVEL,
  SFU_SDP_URI_MID,
  SFU_SDP_URI_TRANSPORT_CC,
  SFU_SDP_URI_ABS_SEND_TIME,
};

static gboolean
extension_allowed (const char *uri, SfuSdpKind kind)
{
  if (kind == SFU_SDP_VIDEO && strcmp (uri, SFU_SDP_URI_AUDIO_LEVEL) == 0)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (allowed_extensions); i++) {
    if (strcmp (uri, allowed_extensions[i]) == 0)
      return TRUE;
  }
  return FALSE;
}

static gboolean
is_named (const SfuSdpCodec *codec, const char *name)
{
  return codec->name != NULL && g_ascii_strcasecmp (codec->name, name) == 0;
}

/* ---- writer ---- */

static void
write_codec (GString *s, const SfuSdpCodec *codec)
{
  static const struct {
    guint flag;
    const char *name;
  } fb[] = {
    { SFU_SDP_FB_GOOG_REMB, "goog-remb" }, { SFU_SDP_FB_TRANSPORT_CC, "transport-cc" },
    { SFU_SDP_FB_CCM_FIR, "ccm fir" },     { SFU_SDP_FB_NACK, "nack" },
    { SFU_SDP_FB_NACK_PLI, "nack pli" },
  };

  if (codec->name) {
    g_string_append_printf (s, "a=rtpmap:%u %s/%u", codec->pt, codec->name, codec->clock_rate);
    if (codec->channels > 0)
      g_string_append_printf (s, "/%u", codec->channels);
    g_string_append (s, "\r\n");
  }
  for (gsize i = 0; i < G_N_ELEMENTS (fb); i++) {
    if (codec->feedback & fb[i].flag)
      g_string_append_printf (s, "a=rtcp-fb:%u %s\r\n", codec->pt, fb[i].name);
  }
  if (codec->fmtp)
    g_string_append_printf (s, "a=fmtp:%u %s\r\n", codec->pt, codec->fmtp);
}

static void
write_candidate (GString *s, const SfuSdpCandidate *c)
{
  g_string_append_printf (s, "a=candidate:%s %u %s %u %s %u typ %s", c->foundation, c->component,
                          c->transport == SFU_SDP_TRANSPORT_TCP ? "tcp" : "udp", c->priority,
                          c->address, c->port, c->type);
  if (c->raddr)
    g_string_append_printf (s, " raddr %s rport %u", c->raddr, c->rport);
  if (c->tcptype)
    g_string_append_printf (s, " tcptype %s", c->tcptype);
  g_string_append (s, "\r\n");
}

static void
write_transport (GString *s, const SfuSdp *sdp)
{
  if (sdp->ice_ufrag)
    g_string_append_printf (s, "a=ice-ufrag:%s\r\n", sdp->ice_ufrag);
  if (sdp->ice_pwd)
    g_string_append_printf (s, "a=ice-pwd:%s\r\n", sdp->ice_pwd);
  if (sdp->ice_trickle)
    g_string_append (s, "a=ice-options:trickle\r\n");
  if (sdp->fingerprint)
    g_string_append_printf (s, "a=fingerprint:%s %s\r\n", sdp->fingerprint_alg, sdp->fingerprint);
  if (sdp->setup != SFU_SDP_SETUP_NONE)
    g_string_append_printf (s, "a=setup:%s\r\n", setup_names[sdp->setup]);
}

static void
write_candidates (GString *s, const SfuSdp *sdp)
{
  for (guint i = 0; i < sdp->candidates->len; i++)
    write_candidate (s, g_ptr_array_index (sdp->candidates, i));
  if (sdp->end_of_candidates)
    g_string_append (s, "a=end-of-candidates\r\n");
}

static void
write_media (GString *s, const SfuSdp *sdp, const SfuSdpMedia *m, gboolean transport)
{
  g_string_append_printf (s, "m=%s %u %s", m->media, m->port, m->proto);
  if (m->formats) {
    g_string_append_printf (s, " %s", m->formats);
  } else {
    for (guint i = 0; i < m->codecs->len; i++)
      g_string_append_printf (s, " %u", ((SfuSdpCodec *)g_ptr_array_index (m->codecs, i))->pt);
  }
  g_string_append (s, "\r\nc=IN IP4 0.0.0.0\r\n");
  if (m->bundle_only)
    g_string_append (s, "a=bundle-only\r\n");
  /* ICE and DTLS attributes in every m-line, as browsers write them (JSEP §5.2.1); the
   * values are the same everywhere since everything is bundled. */
  write_transport (s, sdp);
  if (m->mid)
    g_string_append_printf (s, "a=mid:%s\r\n", m->mid);
  /* Candidates once, in the m-line that carries the bundle's transport (RFC 8843 §7.2). */
  if (transport)
    write_candidates (s, sdp);
  for (guint i = 0; i < m->extmaps->len; i++) {
    const SfuSdpExtmap *e = g_ptr_array_index (m->extmaps, i);

    g_string_append_printf (s, "a=extmap:%u", e->id);
    if (e->direction != SFU_SDP_DIR_NONE)
      g_string_append_printf (s, "/%s", direction_names[e->direction]);
    g_string_append_printf (s, " %s\r\n", e->uri);
  }
  if (m->direction != SFU_SDP_DIR_NONE)
    g_string_append_printf (s, "a=%s\r\n", direction_names[m->direction]);
  for (guint i = 0; i < m->msids->len; i++) {
    const SfuSdpMsid *msid = g_ptr_array_index (m->msids, i);

    g_string_append_printf (s, "a=msid:%s%s%s\r\n", msid->stream, msid->track ? " " : "",
                            msid->track ? msid->track : "");
  }
  if (m->rtcp_mux)
    g_string_append (s, "a=rtcp-mux\r\n");
  if (m->rtcp_rsize)
    g_string_append (s, "a=rtcp-rsize\r\n");
  for (guint i = 0; m->formats == NULL && i < m->codecs->len; i++)
    write_codec (s, g_ptr_array_index (m->codecs, i));
  for (guint i = 0; i < m->ssrc_groups->len; i++) {
    const SfuSdpSsrcGroup *g = g_ptr_array_index (m->ssrc_groups, i);

    g_string_append_printf (s, "a=ssrc-group:%s", g->semantics);
    for (guint j = 0; j < g->n_ssrcs; j++)
      g_string_append_printf (s, " %u", g->ssrcs[j]);
    g_string_append (s, "\r\n");
  }
  for (guint i = 0; i < m->ssrcs->len; i++) {
    const SfuSdpSsrc *ssrc = g_ptr_array_index (m->ssrcs, i);

    if (ssrc->cname)
      g_string_append_printf (s, "a=ssrc:%u cname:%s\r\n", ssrc->ssrc, ssrc->cname);
    if (ssrc->msid_stream)
      g_string_append_printf (s, "a=ssrc:%u msid:%s%s%s\r\n", ssrc->ssrc, ssrc->msid_stream,
                              ssrc->msid_track ? " " : "",
                              ssrc->msid_track ? ssrc->msid_track : "");
  }
}

char *
sfu_sdp_to_string (const SfuSdp *sdp)
{
  GString *s;
  guint transport = 0;

  g_return_val_if_fail (sdp != NULL, NULL);

  s = g_string_sized_new (1024 + 1024 * sdp->media->len);
  g_string_append_printf (s,
                          "v=0\r\no=- %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                          " IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
                          sdp->session_id, sdp->session_version);
  if (sdp->ice_lite)
    g_string_append (s, "a=ice-lite\r\n");
  if (sdp->extmap_allow_mixed)
    g_string_append (s, "a=extmap-allow-mixed\r\n");
  if (sdp->bundle->len > 0) {
    g_string_append (s, "a=group:BUNDLE");
    for (guint i = 0; i < sdp->bundle->len; i++)
      g_string_append_printf (s, " %s", (const char *)g_ptr_array_index (sdp->bundle, i));
    g_string_append (s, "\r\n");
  }
  /* The transport is the first bundled m-line's, else the first accepted one's. */
  if (sdp->bundle->len > 0) {
    for (guint i = 0; i < sdp->media->len; i++) {
      const SfuSdpMedia *m = g_ptr_array_index (sdp->media, i);

      if (g_strcmp0 (m->mid, g_ptr_array_index (sdp->bundle, 0)) == 0)
        transport = i;
    }
  } else {
    for (guint i = sdp->media->len; i-- > 0;) {
      if (!sfu_sdp_media_is_rejected (g_ptr_array_index (sdp->media, i)))
        transport = i;
    }
  }
  /* Without m-lines (a description the SFU never sends, but one a peer may) the transport
   * goes at session level, so that nothing of the model is lost. */
  if (sdp->media->len == 0) {
    write_transport (s, sdp);
    write_candidates (s, sdp);
  }
  for (guint i = 0; i < sdp->media->len; i++)
    write_media (s, sdp, g_ptr_array_index (sdp->media, i), i == transport);
  return g_string_free (s, FALSE);
}

/* ---- answer ---- */

/* The value of @key in "k1=v1;k2=v2" (keys without case), or NULL. */
static char *
fmtp_get (const char *fmtp, const char *key)
{
  g_auto (GStrv) params = NULL;

  if (fmtp == NULL)
    return NULL;
  params = g_strsplit (fmtp, ";", 0);
  for (guint i = 0; params[i]; i++) {
    char *eq = strchr (params[i], '=');

    if (eq == NULL)
      continue;
    *eq = '\0';
    if (g_ascii_strcasecmp (g_strstrip (params[i]), key) == 0)
      return g_strdup (g_strstrip (eq + 1));
  }
  return NULL;
}

/* H.264 the SFU forwards: packetization-mode=1 (mode 0 caps a NAL unit at the MTU) and
 * a Baseline-family profile (profile_idc 0x42: 42e01f, 42001f, 42c01f, …), which every
 * WebRTC receiver decodes. Without profile-level-id RFC 6184 §8.1 means 420010. */
static gboolean
h264_acceptable (const SfuSdpCodec *codec)
{
  g_autofree char *mode = fmtp_get (codec->fmtp, "packetization-mode");
  g_autofree char *profile = fmtp_get (codec->fmtp, "profile-level-id");

  if (g_strcmp0 (mode, "1") != 0)
    return FALSE;
  return profile == NULL
         || (strlen (profile) == 6 && g_ascii_strncasecmp (profile, "42", 2) == 0
             && g_ascii_isxdigit (profile[2]) && g_ascii_isxdigit (profile[3])
             && g_ascii_isxdigit (profile[4]) && g_ascii_isxdigit (profile[5]));
}

static SfuSdpCodec *
answer_codec (const SfuSdpCodec *offered, const char *fmtp)
{
  SfuSdpCodec *codec = sfu_sdp_codec_new (offered->pt);

  codec->name = g_strdup (offered->name);
  codec->clock_rate = offered->clock_rate;
  codec->channels = offered->channels;
  codec->fmtp = g_strdup (fmtp);
  codec->feedback = offered->feedback & ALLOWED_FEEDBACK;
  return codec;
}

/* Adds @offered and its rtx (if offered) to @out. */
static void
add_video_codec (GPtrArray *out, const SfuSdpMedia *om, const SfuSdpCodec *offered)
{
  SfuSdpCodec *codec = answer_codec (offered, offered->fmtp);
  const SfuSdpCodec *rtx
      = offered->rtx_pt >= 0 ? sfu_sdp_media_find_codec (om, offered->rtx_pt) : NULL;

  g_ptr_array_add (out, codec);
  if (rtx && rtx->clock_rate == offered->clock_rate) {
    g_autofree char *apt = g_strdup_printf ("apt=%u", offered->pt);
    SfuSdpCodec *r = answer_codec (rtx, apt);

    r->feedback = 0;
    r->apt = offered->pt;
    codec->rtx_pt = rtx->pt;
    g_ptr_array_add (out, r);
  }
}

/* The codecs of the answer to @om, best first; empty when none fits. */
static GPtrArray *
select_codecs (const SfuSdpMedia *om)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)sfu_sdp_codec_free);

  for (guint i = 0; om->kind == SFU_SDP_AUDIO && i < om->codecs->len; i++) {
    const SfuSdpCodec *c = g_ptr_array_index (om->codecs, i);

    /* RFC 7587 §7: always "opus/48000/2", whatever the sender's channel count. */
    if (is_named (c, "opus") && c->clock_rate == 48000 && c->channels == 2) {
      g_ptr_array_add (out, answer_codec (c, "minptime=10;useinbandfec=1"));
      break;
    }
  }
  /* VP8 first, the SFU's preference (docs/sfu.md "SDP"), then H.264 in the offer's order. */
  for (guint pass = 0; om->kind == SFU_SDP_VIDEO && pass < 2; pass++) {
    for (guint i = 0; i < om->codecs->len; i++) {
      const SfuSdpCodec *c = g_ptr_array_index (om->codecs, i);

      if (c->clock_rate != 90000)
        continue;
      if (pass == 0 ? is_named (c, "VP8") : is_named (c, "H264") && h264_acceptable (c))
        add_video_codec (out, om, c);
    }
  }
  return out;
}

static SfuSdpMedia *
media_shell (const SfuSdpMedia *om)
{
  SfuSdpMedia *m = sfu_sdp_media_new ();

  m->kind = om->kind;
  m->media = g_strdup (om->media);
  m->proto = g_strdup (om->proto);
  m->formats = g_strdup (om->formats);
  m->mid = g_strdup (om->mid);
  return m;
}

/* A rejected m-line: port 0, the offer's first format (an m-line needs one). */
static SfuSdpMedia *
reject_media (const SfuSdpMedia *om)
{
  SfuSdpMedia *m = media_shell (om);

  m->port = 0;
  m->direction = SFU_SDP_DIR_INACTIVE;
  if (om->codecs->len > 0) {
    const SfuSdpCodec *first = g_ptr_array_index (om->codecs, 0);
    SfuSdpCodec *codec = sfu_sdp_codec_new (first->pt);

    codec->name = g_strdup (first->name);
    codec->clock_rate = first->clock_rate;
    codec->channels = first->channels;
    g_ptr_array_add (m->codecs, codec);
  }
  return m;
}

static gboolean
sends (const SfuSdpMedia *m)
{
  return m != NULL && (m->direction == SFU_SDP_DIR_SENDRECV || m->direction == SFU_SDP_DIR_SENDONLY)
         && m->ssrcs->len > 0;
}

static SfuSdpMedia *
answer_media (const SfuSdpMedia *om, const SfuSdpLocal *local, gboolean bundled)
{
  const SfuSdpMedia *prev
      = local->previous && om->mid ? sfu_sdp_find_media (local->previous, om->mid) : NULL;
  gboolean send = local->send_on_offered || sends (prev);
  g_autoptr (GPtrArray) codecs = NULL;
  SfuSdpMedia *m;

  if (sfu_sdp_media_is_rejected (om) || !bundled || om->mid == NULL || !om->rtcp_mux
      || (om->kind != SFU_SDP_AUDIO && om->kind != SFU_SDP_VIDEO)
      || strstr (om->proto, "TLS/RTP/SAVP") == NULL)
    return reject_media (om);
  codecs = select_codecs (om);
  if (codecs->len == 0)
    return reject_media (om);

  m = media_shell (om);
  m->port = 9; /* JSEP §5.2.1: the real address is in the candidates */
  m->rtcp_mux = TRUE;
  m->rtcp_rsize = om->rtcp_rsize;
  g_ptr_array_unref (m->codecs);
  m->codecs = g_steal_pointer (&codecs);
  for (guint i = 0; i < om->extmaps->len; i++) {
    const SfuSdpExtmap *e = g_ptr_array_index (om->extmaps, i);

    if (extension_allowed (e->uri, om->kind))
      g_ptr_array_add (m->extmaps, sfu_sdp_extmap_new (e->id, e->uri));
  }
  /* RFC 3264 §6.1, from the SFU's side. */
  switch (om->direction) {
  case SFU_SDP_DIR_SENDRECV:
    m->direction = send ? SFU_SDP_DIR_SENDRECV : SFU_SDP_DIR_RECVONLY;
    break;
  case SFU_SDP_DIR_SENDONLY:
    m->direction = SFU_SDP_DIR_RECVONLY;
    break;
  case SFU_SDP_DIR_RECVONLY:
    m->direction = send ? SFU_SDP_DIR_SENDONLY : SFU_SDP_DIR_INACTIVE;
    break;
  default:
    m->direction = SFU_SDP_DIR_INACTIVE;
    break;
  }
  /* A track the SFU already sends on this m-line keeps its SSRCs and msid. */
  if (prev && (m->direction == SFU_SDP_DIR_SENDRECV || m->direction == SFU_SDP_DIR_SENDONLY)) {
    for (guint i = 0; i < prev->ssrcs->len; i++)
      g_ptr_array_add (m->ssrcs, sfu_sdp_ssrc_copy (g_ptr_array_index (prev->ssrcs, i)));
    for (guint i = 0; i < prev->ssrc_groups->len; i++)
      g_ptr_array_add (m->ssrc_groups,
                       sfu_sdp_ssrc_group_copy (g_ptr_array_index (prev->ssrc_groups, i)));
    for (guint i = 0; i < prev->msids->len; i++)
      g_ptr_array_add (m->msids, sfu_sdp_msid_copy (g_ptr_array_index (prev->msids, i)));
  }
  return m;
}

static gboolean
in_bundle (const SfuSdp *offer, const char *mid)
{
  for (guint i = 0; mid && i < offer->bundle->len; i++) {
    if (strcmp (g_ptr_array_index (offer->bundle, i), mid) == 0)
      return TRUE;
  }
  return FALSE;
}

static gboolean
check_local (const SfuSdpLocal *local, GError **error)
{
  const char *what = NULL;

  if (!sfu_sdp_is_ice_chars (local->ice_ufrag, 4, 256))
    what = "ICE ufrag is not 4 to 256 ice-chars";
  else if (!sfu_sdp_is_ice_chars (local->ice_pwd, 22, 256))
    what = "ICE password is not 22 to 256 ice-chars";
  else if (!sfu_sdp_is_fingerprint (local->fingerprint_alg, local->fingerprint))
    what = "fingerprint does not match its algorithm";
  else if (local->n_candidates > SFU_SDP_MAX_CANDIDATES)
    what = "too many candidates";
  for (guint i = 0; what == NULL && i < local->n_candidates; i++) {
    const SfuSdpLocalCandidate *c = &local->candidates[i];

    if (!sfu_sdp_is_address (c->address) || c->port == 0 || c->port > 65535)
      what = "candidate address or port is not valid";
  }
  if (what == NULL)
    return TRUE;
  g_set_error (error, SFU_SDP_ERROR, SFU_SDP_ERROR_INVALID, "local description: %s", what);
  return FALSE;
}

/* Host candidates (RFC 8445 §5.1.2.1): type preference 126; UDP before TCP, and in the
 * given order within each; TCP local preference after RFC 6544 §4.2 (passive: 4 << 13). */
static SfuSdpCandidate *
local_candidate (const SfuSdpLocalCandidate *lc, guint index)
{
  SfuSdpCandidate *c = g_new0 (SfuSdpCandidate, 1);
  gboolean tcp = lc->transport == SFU_SDP_TRANSPORT_TCP;
  guint local_pref = tcp ? (4u << 13) + 8191 - index : 65535 - index;

  c->foundation = g_strdup_printf ("%u", index + 1);
  c->component = 1;
  c->transport = lc->transport;
  c->priority = (126u << 24) | (local_pref << 8) | (256 - 1);
  c->address = g_strdup (lc->address);
  c->port = lc->port;
  c->type = g_strdup ("host");
  c->tcptype = tcp ? g_strdup ("passive") : NULL;
  return c;
}

SfuSdp *
sfu_sdp_answer (const SfuSdp *offer, const SfuSdpLocal *local, GError **error)
{
  g_autoptr (SfuSdp) answer = NULL;
  gboolean unbundled_taken = FALSE;
  guint accepted = 0;

  g_return_val_if_fail (offer != NULL && offer->media != NULL, NULL);
  g_return_val_if_fail (local != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_local (local, error))
    return NULL;
  if (offer->ice_ufrag == NULL || offer->ice_pwd == NULL) {
    g_set_error_literal (error, SFU_SDP_ERROR, SFU_SDP_ERROR_NEGOTIATION,
                         "offer has no a=ice-ufrag or no a=ice-pwd");
    return NULL;
  }
  if (offer->fingerprint == NULL) {
    g_set_error_literal (error, SFU_SDP_ERROR, SFU_SDP_ERROR_NEGOTIATION,
                         "offer has no a=fingerprint with a known hash");
    return NULL;
  }
  /* The SFU is always the DTLS server (RFC 8842 §5.3): an offer that is passive itself
   * cannot be answered. No a=setup means active (RFC 4145 §4). */
  if (offer->setup == SFU_SDP_SETUP_PASSIVE || offer->setup == SFU_SDP_SETUP_HOLDCONN) {
    g_set_error (error, SFU_SDP_ERROR, SFU_SDP_ERROR_NEGOTIATION,
                 "offer has a=setup:%s, but the SFU is always the DTLS server",
                 setup_names[offer->setup]);
    return NULL;
  }

  answer = sfu_sdp_new ();
  answer->session_id = local->previous ? local->previous->session_id : local->session_id;
  answer->session_version = local->previous ? local->previous->session_version + 1 : 1;
  answer->ice_ufrag = g_strdup (local->ice_ufrag);
  answer->ice_pwd = g_strdup (local->ice_pwd);
  answer->ice_lite = TRUE;
  answer->fingerprint_alg = g_ascii_strdown (local->fingerprint_alg, -1);
  answer->fingerprint = g_ascii_strup (local->fingerprint, -1);
  answer->setup = SFU_SDP_SETUP_PASSIVE;
  answer->extmap_allow_mixed = offer->extmap_allow_mixed;

  for (guint i = 0; i < offer->media->len; i++) {
    const SfuSdpMedia *om = g_ptr_array_index (offer->media, i);
    /* Everything shares one transport: with a BUNDLE group only its members, without one
     * only the first m-line the SFU can take. */
    gboolean bundled = offer->bundle->len > 0 ? in_bundle (offer, om->mid) : !unbundled_taken;
    SfuSdpMedia *m = answer_media (om, local, bundled);

    if (!sfu_sdp_media_is_rejected (m)) {
      accepted++;
      unbundled_taken = TRUE;
    }
    g_ptr_array_add (answer->media, m);
  }
  if (accepted == 0) {
    g_set_error_literal (error, SFU_SDP_ERROR, SFU_SDP_ERROR_NEGOTIATION,
                         "no m-line of the offer can be accepted (the SFU takes bundled, "
                         "rtcp-mux audio with Opus and video with VP8 or H.264)");
    return NULL;
  }
  /* RFC 8843 §7.3.1: the accepted mids, in the offer's group order. */
  for (guint i = 0; i < offer->bundle->len; i++) {
    const SfuSdpMedia *m = sfu_sdp_find_media (answer, g_ptr_array_index (offer->bundle, i));

    if (m && !sfu_sdp_media_is_rejected (m))
      g_ptr_array_add (answer->bundle, g_strdup (m->mid));
  }
  for (guint pass = 0; pass < 2; pass++) {
    SfuSdpTransport want = pass == 0 ? SFU_SDP_TRANSPORT_UDP : SFU_SDP_TRANSPORT_TCP;

    for (guint i = 0; i < local->n_candidates; i++) {
      if (local->candidates[i].transport == want)
        g_ptr_array_add (answer->candidates, local_candidate (&local->candidates[i], i));
    }
  }
  answer->end_of_candidates = TRUE;
  return g_steal_pointer (&answer);
}

/* ---- re-offers ---- */

/* Whether any m-line in the bundle uses @pt (for something else than @except). */
static gboolean
pt_used (const SfuSdp *sdp, guint pt)
{
  for (guint i = 0; i < sdp->media->len; i++) {
    const SfuSdpMedia *m = g_ptr_array_index (sdp->media, i);

    if (!sfu_sdp_media_is_rejected (m) && sfu_sdp_media_find_codec (m, pt))
      return TRUE;
  }
  return FALSE;
}

static gboolean
same_codec (const SfuSdpCodec *a, const SfuSdpCodec *b)
{
  return a->name && b->name && g_ascii_strcasecmp (a->name, b->name) == 0
         && a->clock_rate == b->clock_rate && a->channels == b->channels
         && g_strcmp0 (a->fmtp, b->fmtp) == 0;
}

/* RFC 8843 §9.1: within a bundle one payload type means one codec configuration. Reuses
 * the pt this description already gives @codec, else @codec->pt if free, else the first
 * free dynamic one; -1 when none is left. @avoid is a pt already chosen, or -1. */
static int
choose_pt (const SfuSdp *sdp, const SfuSdpCodec *codec, int avoid)
{
  for (guint i = 0; i < sdp->media->len; i++) {
    const SfuSdpMedia *m = g_ptr_array_index (sdp->media, i);

    for (guint j = 0; !sfu_sdp_media_is_rejected (m) && j < m->codecs->len; j++) {
      const SfuSdpCodec *c = g_ptr_array_index (m->codecs, j);

      if ((int)c->pt != avoid && same_codec (c, codec))
        return c->pt;
    }
  }
  if ((int)codec->pt != avoid && codec->pt >= 35 && !pt_used (sdp, codec->pt))
    return codec->pt;
  for (guint pt = 96; pt < 128 + 29; pt++) {
    guint p = pt < 128 ? pt : pt - 128 + 35; /* 96..127, then 35..63 */

    if ((int)p != avoid && !pt_used (sdp, p))
      return p;
  }
  return -1;
}

static void
note_extmap_ids (const SfuSdpMedia *m, gboolean used[15])
{
  for (guint j = 0; j < m->extmaps->len; j++) {
    const SfuSdpExtmap *e = g_ptr_array_index (m->extmaps, j);

    if (e->id < 15)
      used[e->id] = TRUE;
  }
}

/* RFC 8843 §9.2: one id per URI in the bundle. The id the bundle already gives @uri, else
 * the first one-byte id (1..14) used neither in the bundle nor by @adding; -1 when none. */
static int
choose_extmap_id (const SfuSdp *sdp, const SfuSdpMedia *adding, const char *uri)
{
  gboolean used[15] = { FALSE };

  for (guint i = 0; i < sdp->media->len; i++) {
    const SfuSdpMedia *m = g_ptr_array_index (sdp->media, i);
    int id = sfu_sdp_media_find_extmap (m, uri);

    if (id > 0)
      return id;
    note_extmap_ids (m, used);
  }
  note_extmap_ids (adding, used);
  for (guint id = 1; id < 15; id++) {
    if (!used[id])
      return id;
  }
  return -1;
}

static gboolean
reoffer_fail (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error,
                     g_error_new_valist (SFU_SDP_ERROR, SFU_SDP_ERROR_INVALID, format, args));
  va_end (args);
  return FALSE;
}

static gboolean
check_value (const char *s)
{
  return s != NULL && *s != '\0' && strlen (s) <= SFU_SDP_MAX_VALUE && strpbrk (s, " \r\n") == NULL;
}

static void
add_ssrc (SfuSdpMedia *m, guint32 ssrc, const SfuSdpSendTrack *track)
{
  SfuSdpSsrc *s = sfu_sdp_ssrc_new (ssrc);

  s->cname = g_strdup (track->cname);
  s->msid_stream = g_strdup (track->msid_stream);
  s->msid_track = g_strdup (track->msid_track);
  g_ptr_array_add (m->ssrcs, s);
}

SfuSdpMedia *
sfu_sdp_add_send_media (SfuSdp *sdp, const SfuSdpSendTrack *track, GError **error)
{
  SfuSdpMedia *m;
  SfuSdpCodec *codec;
  int pt, rtx_pt = -1;

  g_return_val_if_fail (sdp != NULL && track != NULL && track->codec != NULL, NULL);
  g_return_val_if_fail (track->kind == SFU_SDP_AUDIO || track->kind == SFU_SDP_VIDEO, NULL);

  if (!check_value (track->mid) || !check_value (track->cname) || !check_value (track->msid_stream)
      || !check_value (track->msid_track) || track->codec->name == NULL) {
    reoffer_fail (error, "forwarded track: a mid, cname, msid or codec name is missing or "
                         "not a token");
    return NULL;
  }
  if (sfu_sdp_find_media (sdp, track->mid)) {
    reoffer_fail (error, "mid \"%s\" is already used (mids are never reused)", track->mid);
    return NULL;
  }
  if (sdp->media->len >= SFU_SDP_MAX_MEDIA) {
    reoffer_fail (error, "the description already has %d m-lines", SFU_SDP_MAX_MEDIA);
    return NULL;
  }
  pt = choose_pt (sdp, track->codec, -1);
  if (pt >= 0 && track->rtx) {
    /* The rtx format as it will be written, so that an existing rtx pt is reused only
     * if it repairs the same pt. */
    g_autoptr (SfuSdpCodec) want = sfu_sdp_codec_new (track->rtx->pt);

    want->name = g_strdup (track->rtx->name ? track->rtx->name : "rtx");
    want->clock_rate = track->codec->clock_rate;
    want->fmtp = g_strdup_printf ("apt=%d", pt);
    rtx_pt = choose_pt (sdp, want, pt);
  }
  if (pt < 0 || (track->rtx && rtx_pt < 0)) {
    reoffer_fail (error, "no free payload type left in the bundle");
    return NULL;
  }

  m = sfu_sdp_media_new ();
  m->kind = track->kind;
  m->media = g_strdup (track->kind == SFU_SDP_AUDIO ? "audio" : "video");
  m->proto = g_strdup ("UDP/TLS/RTP/SAVPF");
  m->port = 9;
  m->mid = g_strdup (track->mid);
  m->direction = SFU_SDP_DIR_SENDONLY;
  m->rtcp_mux = TRUE;
  m->rtcp_rsize = track->kind == SFU_SDP_VIDEO;
  codec = sfu_sdp_codec_copy (track->codec);
  codec->pt = pt;
  codec->feedback &= ALLOWED_FEEDBACK;
  codec->apt = -1;
  codec->rtx_pt = rtx_pt;
  g_ptr_array_add (m->codecs, codec);
  if (track->rtx) {
    SfuSdpCodec *rtx = sfu_sdp_codec_new (rtx_pt);

    rtx->name = g_strdup (track->rtx->name ? track->rtx->name : "rtx");
    rtx->clock_rate = track->codec->clock_rate;
    rtx->fmtp = g_strdup_printf ("apt=%d", pt);
    rtx->apt = pt;
    g_ptr_array_add (m->codecs, rtx);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (allowed_extensions); i++) {
    int id;

    if (!extension_allowed (allowed_extensions[i], track->kind))
      continue;
    id = choose_extmap_id (sdp, m, allowed_extensions[i]);
    if (id > 0)
      g_ptr_array_add (m->extmaps, sfu_sdp_extmap_new (id, allowed_extensions[i]));
  }
  add_ssrc (m, track->ssrc, track);
  if (track->rtx) {
    SfuSdpSsrcGroup *fid = sfu_sdp_ssrc_group_new ("FID");

    fid->ssrcs[0] = track->ssrc;
    fid->ssrcs[1] = track->rtx_ssrc;
    fid->n_ssrcs = 2;
    g_ptr_array_add (m->ssrc_groups, fid);
    add_ssrc (m, track->rtx_ssrc, track);
  }
  g_ptr_array_add (m->msids, sfu_sdp_msid_new (track->msid_stream, track->msid_track));

  /* A description without a BUNDLE group had one accepted m-line; the new one joins it. */
  if (sdp->bundle->len == 0) {
    for (guint i = 0; i < sdp->media->len; i++) {
      const SfuSdpMedia *old = g_ptr_array_index (sdp->media, i);

      if (!sfu_sdp_media_is_rejected (old) && old->mid)
        g_ptr_array_add (sdp->bundle, g_strdup (old->mid));
    }
  }
  g_ptr_array_add (sdp->bundle, g_strdup (m->mid));
  g_ptr_array_add (sdp->media, m);
  return m;
}

gboolean
sfu_sdp_set_inactive (SfuSdp *sdp, const char *mid)
{
  SfuSdpMedia *m;

  g_return_val_if_fail (sdp != NULL, FALSE);

  m = sfu_sdp_find_media (sdp, mid);
  if (m == NULL)
    return FALSE;
  m->direction = SFU_SDP_DIR_INACTIVE;
  g_ptr_array_set_size (m->ssrcs, 0);
  g_ptr_array_set_size (m->ssrc_groups, 0);
  g_ptr_array_set_size (m->msids, 0);
  return TRUE;
}

char *
sfu_sdp_new_mid (const SfuSdp *sdp)
{
  guint64 next = 0;

  g_return_val_if_fail (sdp != NULL, NULL);

  for (guint i = 0; i < sdp->media->len; i++) {
    const char *mid = ((SfuSdpMedia *)g_ptr_array_index (sdp->media, i))->mid;
    guint64 v;

    if (mid && g_ascii_isdigit (*mid) && strlen (mid) < 10
        && g_ascii_string_to_unsigned (mid, 10, 0, G_MAXUINT32, &v, NULL) && v + 1 > next)
      next = v + 1;
  }
  return g_strdup_printf ("%" G_GUINT64_FORMAT, next);
}

void
sfu_sdp_bump_version (SfuSdp *sdp)
{
  g_return_if_fail (sdp != NULL);

  sdp->session_version++;
}
