/* SPDX-License-Identifier: MIT */
/* Unit tests for sfu-sdp: real offers from Chromium, webrtcbin and Firefox (the seeds in
 * tests/fuzz/corpus/sfu-sdp/), the SFU's answers to them, round trips through text (also
 * through GStreamer's SDP parser), re-offers, and every limit and syntax error. */
#include "sfu-sdp.h"

#include <gst/sdp/sdp.h>
#include <string.h>

#define CRLF "\r\n"
#define FP                                                                                         \
  "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:"        \
  "2C:19:08"
#define SESSION "v=0" CRLF "o=- 1 2 IN IP4 127.0.0.1" CRLF "s=-" CRLF "t=0 0" CRLF
#define TRANSPORT                                                                                  \
  "a=ice-ufrag:Yc4v" CRLF "a=ice-pwd:7y5lPaHdX1zHgkmqZyO7Ilk3" CRLF                                \
  "a=fingerprint:sha-256 " FP CRLF "a=setup:actpass" CRLF
#define AUDIO(mid)                                                                                 \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF TRANSPORT "a=mid:" mid CRLF "a=rtcp-mux" CRLF             \
  "a=sendonly" CRLF "a=rtpmap:111 opus/48000/2" CRLF

#define SFU_FP                                                                                     \
  "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"        \
  "DD:EE:FF"

static const SfuSdpLocalCandidate local_candidates[] = {
  { SFU_SDP_TRANSPORT_TCP, "127.0.0.1", 8443 },
  { SFU_SDP_TRANSPORT_UDP, "127.0.0.1", 8443 },
};

static SfuSdpLocal
make_local (void)
{
  SfuSdpLocal local = {
    .ice_ufrag = "sfuA",
    .ice_pwd = "0123456789abcdefghijkl",
    .fingerprint_alg = "sha-256",
    .fingerprint = SFU_FP,
    .session_id = 77,
    .candidates = local_candidates,
    .n_candidates = G_N_ELEMENTS (local_candidates),
  };
  return local;
}

static char *
load_seed (const char *name, gsize *len)
{
  const char *dir = g_getenv ("CALLREC_SOURCE_DIR");
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  g_assert_nonnull (dir);
  path = g_build_filename (dir, "tests", "fuzz", "corpus", "sfu-sdp", name, NULL);
  g_file_get_contents (path, &text, len, &error);
  g_assert_no_error (error);
  return text;
}

static SfuSdp *
parse_seed (const char *name)
{
  gsize len = 0;
  g_autofree char *text = load_seed (name, &len);
  g_autoptr (GError) error = NULL;
  SfuSdp *sdp = g_new0 (SfuSdp, 1);

  g_assert_true (sfu_sdp_parse (text, len, sdp, &error));
  g_assert_no_error (error);
  return sdp;
}

static SfuSdp *
parse_text (const char *text)
{
  g_autoptr (GError) error = NULL;
  SfuSdp *sdp = g_new0 (SfuSdp, 1);

  g_assert_true (sfu_sdp_parse (text, strlen (text), sdp, &error));
  g_assert_no_error (error);
  return sdp;
}

static SfuSdpMedia *
media_at (const SfuSdp *sdp, guint i)
{
  g_assert_cmpuint (i, <, sdp->media->len);
  return g_ptr_array_index (sdp->media, i);
}

static SfuSdpCodec *
codec_at (const SfuSdpMedia *m, guint i)
{
  g_assert_cmpuint (i, <, m->codecs->len);
  return g_ptr_array_index (m->codecs, i);
}

static guint
count_substr (const char *text, const char *needle)
{
  guint n = 0;

  for (const char *p = text; (p = strstr (p, needle)) != NULL; p++)
    n++;
  return n;
}

/* parse(to_string(x)) == x, and GStreamer's parser reads the same m-lines and ICE
 * credentials from the text. */
static void
check_round_trip (const SfuSdp *sdp)
{
  g_autofree char *text = sfu_sdp_to_string (sdp);
  g_autoptr (GError) error = NULL;
  g_autoptr (GstSDPMessage) msg = NULL;
  SfuSdp again = { 0 };

  g_assert_true (sfu_sdp_parse (text, strlen (text), &again, &error));
  g_assert_no_error (error);
  g_assert_true (sfu_sdp_equal (sdp, &again));
  sfu_sdp_clear (&again);
  g_assert_null (strstr (text, "\n\n"));
  g_assert_cmpuint (count_substr (text, "\n"), ==, count_substr (text, "\r\n"));

  g_assert_cmpint (gst_sdp_message_new (&msg), ==, GST_SDP_OK);
  g_assert_cmpint (gst_sdp_message_parse_buffer ((const guint8 *)text, strlen (text), msg), ==,
                   GST_SDP_OK);
  g_assert_cmpuint (gst_sdp_message_medias_len (msg), ==, sdp->media->len);
  for (guint i = 0; i < sdp->media->len; i++) {
    const GstSDPMedia *gm = gst_sdp_message_get_media (msg, i);
    const SfuSdpMedia *m = media_at (sdp, i);

    g_assert_cmpuint (gst_sdp_media_get_port (gm), ==, m->port);
    g_assert_cmpstr (gst_sdp_media_get_attribute_val (gm, "mid"), ==, m->mid);
    g_assert_cmpstr (gst_sdp_media_get_attribute_val (gm, "ice-ufrag"), ==, sdp->ice_ufrag);
    if (m->formats == NULL)
      g_assert_cmpuint (gst_sdp_media_formats_len (gm), ==, m->codecs->len);
  }
}

/* ---- parsing real offers ---- */

static void
test_parse_chromium (void)
{
  g_autoptr (SfuSdp) sdp = parse_seed ("chromium-audio-camera-screen.sdp");
  const SfuSdpMedia *audio, *camera, *screen;
  const SfuSdpCodec *opus, *vp8, *rtx;
  const SfuSdpCandidate *c;
  const SfuSdpSsrcGroup *fid;
  const SfuSdpSsrc *ssrc;

  g_assert_cmpuint (sdp->session_id, ==, G_GUINT64_CONSTANT (4611731400430051336));
  g_assert_cmpuint (sdp->session_version, ==, 2);
  g_assert_cmpuint (sdp->media->len, ==, 3);
  g_assert_cmpuint (sdp->bundle->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (sdp->bundle, 2), ==, "2");
  g_assert_true (sdp->extmap_allow_mixed);
  g_assert_false (sdp->ice_lite);
  g_assert_true (sdp->ice_trickle);
  g_assert_cmpstr (sdp->ice_ufrag, ==, "Yc4v");
  g_assert_cmpstr (sdp->ice_pwd, ==, "7y5lPaHdX1zHgkmqZyO7Ilk3");
  g_assert_cmpstr (sdp->fingerprint_alg, ==, "sha-256");
  g_assert_cmpstr (sdp->fingerprint, ==, FP);
  g_assert_cmpint (sdp->setup, ==, SFU_SDP_SETUP_ACTPASS);

  g_assert_cmpuint (sdp->candidates->len, ==, 3);
  c = g_ptr_array_index (sdp->candidates, 1);
  g_assert_cmpstr (c->foundation, ==, "435653019");
  g_assert_cmpint (c->transport, ==, SFU_SDP_TRANSPORT_TCP);
  g_assert_cmpuint (c->priority, ==, 1518280447);
  g_assert_cmpstr (c->tcptype, ==, "active");
  c = g_ptr_array_index (sdp->candidates, 2);
  g_assert_cmpstr (c->type, ==, "srflx");
  g_assert_cmpstr (c->address, ==, "203.0.113.7");
  g_assert_cmpstr (c->raddr, ==, "127.0.0.1");
  g_assert_cmpuint (c->rport, ==, 46243);

  audio = media_at (sdp, 0);
  g_assert_cmpint (audio->kind, ==, SFU_SDP_AUDIO);
  g_assert_cmpstr (audio->mid, ==, "0");
  g_assert_cmpint (audio->direction, ==, SFU_SDP_DIR_SENDRECV);
  g_assert_true (audio->rtcp_mux);
  g_assert_false (sfu_sdp_media_is_rejected (audio));
  g_assert_cmpuint (audio->codecs->len, ==, 8);
  opus = codec_at (audio, 0);
  g_assert_cmpuint (opus->pt, ==, 111);
  g_assert_cmpstr (opus->name, ==, "opus");
  g_assert_cmpuint (opus->clock_rate, ==, 48000);
  g_assert_cmpuint (opus->channels, ==, 2);
  g_assert_cmpstr (opus->fmtp, ==, "minptime=10;useinbandfec=1");
  g_assert_cmpuint (opus->feedback, ==, SFU_SDP_FB_TRANSPORT_CC);
  g_assert_cmpint (sfu_sdp_media_find_pt (audio, "PCMU"), ==, 0);
  g_assert_cmpuint (audio->extmaps->len, ==, 4);
  g_assert_cmpint (sfu_sdp_media_find_extmap (audio, SFU_SDP_URI_AUDIO_LEVEL), ==, 1);
  g_assert_cmpint (sfu_sdp_media_find_extmap (audio, "urn:nope"), ==, -1);
  g_assert_cmpuint (audio->msids->len, ==, 1);
  g_assert_cmpstr (((SfuSdpMsid *)g_ptr_array_index (audio->msids, 0))->track, ==,
                   "8f1c2a7e-audio");
  ssrc = g_ptr_array_index (audio->ssrcs, 0);
  g_assert_cmpuint (ssrc->ssrc, ==, 1001);
  g_assert_cmpstr (ssrc->cname, ==, "4TOk42mSjXCkVIa6");
  g_assert_cmpstr (ssrc->msid_stream, ==, "5d1a9a8c-stream");

  camera = media_at (sdp, 1);
  g_assert_cmpint (camera->kind, ==, SFU_SDP_VIDEO);
  g_assert_cmpint (camera->direction, ==, SFU_SDP_DIR_SENDONLY);
  g_assert_true (camera->rtcp_rsize);
  g_assert_cmpuint (camera->codecs->len, ==, 25);
  g_assert_cmpuint (camera->extmaps->len, ==, 11);
  vp8 = sfu_sdp_media_find_codec (camera, 96);
  g_assert_cmpstr (vp8->name, ==, "VP8");
  g_assert_cmpuint (vp8->feedback, ==,
                    SFU_SDP_FB_GOOG_REMB | SFU_SDP_FB_TRANSPORT_CC | SFU_SDP_FB_CCM_FIR
                        | SFU_SDP_FB_NACK | SFU_SDP_FB_NACK_PLI);
  g_assert_cmpint (vp8->rtx_pt, ==, 97);
  rtx = sfu_sdp_media_find_codec (camera, 97);
  g_assert_cmpint (rtx->apt, ==, 96);
  g_assert_cmpint (rtx->rtx_pt, ==, -1);
  g_assert_cmpstr (sfu_sdp_media_find_codec (camera, 127)->fmtp, ==,
                   "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f");
  g_assert_cmpuint (camera->ssrc_groups->len, ==, 1);
  fid = g_ptr_array_index (camera->ssrc_groups, 0);
  g_assert_cmpstr (fid->semantics, ==, "FID");
  g_assert_cmpuint (fid->n_ssrcs, ==, 2);
  g_assert_cmpuint (fid->ssrcs[1], ==, 2002);

  screen = sfu_sdp_find_media (sdp, "2");
  g_assert_true (screen == media_at (sdp, 2));
  g_assert_cmpstr (((SfuSdpMsid *)g_ptr_array_index (screen->msids, 0))->stream, ==,
                   "7e2f0b3a-screen-stream");
  g_assert_null (sfu_sdp_find_media (sdp, "3"));

  check_round_trip (sdp);
}

static void
test_parse_webrtcbin (void)
{
  g_autoptr (SfuSdp) sdp = parse_seed ("webrtcbin-offer.sdp");
  const SfuSdpMedia *m;
  const SfuSdpSsrc *ssrc;

  g_assert_cmpuint (sdp->media->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (sdp->bundle, 0), ==, "audio0");
  g_assert_true (sdp->ice_trickle);
  g_assert_nonnull (sdp->fingerprint); /* only at media level in webrtcbin's offers */
  g_assert_cmpuint (strlen (sdp->ice_ufrag), ==, 32);

  m = media_at (sdp, 0);
  g_assert_cmpstr (m->mid, ==, "audio0");
  g_assert_cmpint (sfu_sdp_media_find_pt (m, "opus"), ==, 111);
  g_assert_cmpstr (codec_at (m, 0)->name, ==, "OPUS");
  g_assert_cmpuint (m->msids->len, ==, 0);
  ssrc = g_ptr_array_index (m->ssrcs, 0);
  g_assert_nonnull (ssrc->msid_stream); /* webrtcbin writes msid only in a=ssrc */
  g_assert_cmpstr (ssrc->msid_track, ==, "webrtctransceiver0");

  /* max-bundle: port 0 with bundle-only is not a rejection */
  m = media_at (sdp, 1);
  g_assert_cmpuint (m->port, ==, 0);
  g_assert_true (m->bundle_only);
  g_assert_false (sfu_sdp_media_is_rejected (m));
  g_assert_cmpuint (codec_at (m, 0)->feedback, ==,
                    SFU_SDP_FB_NACK_PLI | SFU_SDP_FB_CCM_FIR | SFU_SDP_FB_TRANSPORT_CC);
  g_assert_cmpint (sfu_sdp_media_find_pt (media_at (sdp, 2), "h264"), ==, 102);

  check_round_trip (sdp);
}

static void
test_parse_firefox (void)
{
  g_autoptr (SfuSdp) sdp = parse_seed ("firefox-audio-video-datachannel.sdp");
  const SfuSdpMedia *audio, *video, *data;
  const SfuSdpExtmap *ext;

  g_assert_cmpstr (sdp->ice_ufrag, ==, "5c2e9a7f");
  g_assert_cmpstr (sdp->fingerprint_alg, ==, "sha-256"); /* session level */
  g_assert_true (sdp->end_of_candidates);
  g_assert_cmpuint (sdp->candidates->len, ==, 3);
  g_assert_cmpint (((SfuSdpCandidate *)g_ptr_array_index (sdp->candidates, 0))->transport, ==,
                   SFU_SDP_TRANSPORT_UDP);
  g_assert_true (g_str_has_suffix (
      ((SfuSdpCandidate *)g_ptr_array_index (sdp->candidates, 2))->address, ".local"));

  audio = media_at (sdp, 0);
  ext = g_ptr_array_index (audio->extmaps, 1);
  g_assert_cmpuint (ext->id, ==, 2);
  g_assert_cmpint (ext->direction, ==, SFU_SDP_DIR_RECVONLY);
  g_assert_cmpstr (codec_at (audio, 1)->name, ==, "G722");
  g_assert_cmpuint (codec_at (audio, 1)->channels, ==, 1);

  video = media_at (sdp, 1);
  g_assert_cmpint (sfu_sdp_media_find_codec (video, 120)->rtx_pt, ==, 124);
  g_assert_cmpint (sfu_sdp_media_find_codec (video, 126)->rtx_pt, ==, 127);
  g_assert_cmpint (sfu_sdp_media_find_codec (video, 119)->apt, ==, 122);

  data = media_at (sdp, 2);
  g_assert_cmpint (data->kind, ==, SFU_SDP_APPLICATION);
  g_assert_cmpstr (data->proto, ==, "UDP/DTLS/SCTP");
  g_assert_cmpstr (data->formats, ==, "webrtc-datachannel");
  g_assert_cmpuint (data->codecs->len, ==, 0);

  check_round_trip (sdp);
}

/* ---- answers ---- */

static SfuSdp *
answer_ok (const SfuSdp *offer, const SfuSdpLocal *local)
{
  g_autoptr (GError) error = NULL;
  SfuSdp *answer = sfu_sdp_answer (offer, local, &error);

  g_assert_no_error (error);
  g_assert_nonnull (answer);
  g_assert_true (answer->ice_lite);
  g_assert_cmpint (answer->setup, ==, SFU_SDP_SETUP_PASSIVE);
  g_assert_cmpstr (answer->ice_ufrag, ==, local->ice_ufrag);
  g_assert_cmpstr (answer->fingerprint, ==, SFU_FP);
  g_assert_cmpuint (answer->media->len, ==, offer->media->len);
  for (guint i = 0; i < answer->media->len; i++) {
    const SfuSdpMedia *a = media_at (answer, i), *o = media_at (offer, i);

    g_assert_cmpstr (a->mid, ==, o->mid);
    g_assert_cmpstr (a->media, ==, o->media);
    g_assert_false (a->bundle_only);
    g_assert_true (a->port == 0 || a->port == 9);
  }
  check_round_trip (answer);
  return answer;
}

static void
check_pts (const SfuSdpMedia *m, const guint *pts, guint n)
{
  g_assert_cmpuint (m->codecs->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint (codec_at (m, i)->pt, ==, pts[i]);
}

static void
test_answer_chromium (void)
{
  g_autoptr (SfuSdp) offer = parse_seed ("chromium-audio-camera-screen.sdp");
  SfuSdpLocal local = make_local ();
  g_autoptr (SfuSdp) answer = answer_ok (offer, &local);
  static const guint video_pts[] = { 96, 97, 102, 103, 106, 107 };
  g_autofree char *text = NULL;
  const SfuSdpMedia *audio, *video;
  const SfuSdpCodec *opus;
  const SfuSdpCandidate *c;

  g_assert_cmpuint (answer->session_id, ==, 77);
  g_assert_cmpuint (answer->session_version, ==, 1);
  g_assert_true (answer->extmap_allow_mixed);
  g_assert_cmpuint (answer->bundle->len, ==, 3);
  g_assert_true (answer->end_of_candidates);
  g_assert_cmpuint (answer->candidates->len, ==, 2);
  c = g_ptr_array_index (answer->candidates, 0); /* UDP first, whatever the given order */
  g_assert_cmpint (c->transport, ==, SFU_SDP_TRANSPORT_UDP);
  g_assert_null (c->tcptype);
  g_assert_cmpuint (c->priority, ==, (126u << 24) | (65534u << 8) | 255);
  c = g_ptr_array_index (answer->candidates, 1);
  g_assert_cmpint (c->transport, ==, SFU_SDP_TRANSPORT_TCP);
  g_assert_cmpstr (c->tcptype, ==, "passive");
  g_assert_cmpuint (c->port, ==, 8443);
  g_assert_cmpuint (c->priority, <,
                    ((SfuSdpCandidate *)g_ptr_array_index (answer->candidates, 0))->priority);

  audio = media_at (answer, 0);
  g_assert_cmpuint (audio->port, ==, 9);
  g_assert_cmpint (audio->direction, ==, SFU_SDP_DIR_RECVONLY); /* sendrecv offered */
  g_assert_cmpuint (audio->codecs->len, ==, 1);
  opus = codec_at (audio, 0);
  g_assert_cmpuint (opus->pt, ==, 111);
  g_assert_cmpuint (opus->channels, ==, 2);
  g_assert_cmpstr (opus->fmtp, ==, "minptime=10;useinbandfec=1");
  g_assert_cmpuint (opus->feedback, ==, SFU_SDP_FB_TRANSPORT_CC);
  g_assert_cmpuint (audio->extmaps->len, ==, 4);
  g_assert_cmpint (sfu_sdp_media_find_extmap (audio, SFU_SDP_URI_AUDIO_LEVEL), ==, 1);
  g_assert_cmpint (sfu_sdp_media_find_extmap (audio, SFU_SDP_URI_TRANSPORT_CC), ==, 3);
  g_assert_cmpuint (audio->ssrcs->len, ==, 0);

  for (guint i = 1; i < 3; i++) {
    video = media_at (answer, i);
    g_assert_cmpint (video->direction, ==, SFU_SDP_DIR_RECVONLY);
    g_assert_true (video->rtcp_rsize);
    /* VP8 + rtx, then the two packetization-mode=1 baseline H.264 + rtx; not mode 0, not
     * main (4d001f) or high (64001f), not VP9, AV1, red, ulpfec. */
    check_pts (video, video_pts, G_N_ELEMENTS (video_pts));
    g_assert_cmpuint (codec_at (video, 0)->feedback, ==,
                      SFU_SDP_FB_NACK | SFU_SDP_FB_NACK_PLI | SFU_SDP_FB_CCM_FIR
                          | SFU_SDP_FB_TRANSPORT_CC);
    g_assert_cmpint (codec_at (video, 0)->rtx_pt, ==, 97);
    g_assert_cmpstr (codec_at (video, 1)->fmtp, ==, "apt=96");
    g_assert_cmpuint (codec_at (video, 1)->feedback, ==, 0);
    g_assert_cmpstr (codec_at (video, 4)->fmtp, ==,
                     "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    g_assert_cmpuint (video->extmaps->len, ==, 3); /* abs-send-time, transport-cc, mid */
    g_assert_cmpint (sfu_sdp_media_find_extmap (video, SFU_SDP_URI_MID), ==, 4);
    g_assert_cmpint (sfu_sdp_media_find_extmap (video, SFU_SDP_URI_ABS_SEND_TIME), ==, 2);
  }

  text = sfu_sdp_to_string (answer);
  g_assert_cmpuint (count_substr (text, "a=setup:passive\r\n"), ==, 3);
  g_assert_cmpuint (count_substr (text, "a=ice-lite\r\n"), ==, 1);
  g_assert_cmpuint (count_substr (text, "a=end-of-candidates\r\n"), ==, 1);
  g_assert_nonnull (strstr (text, "a=group:BUNDLE 0 1 2\r\n"));
  g_assert_nonnull (strstr (text, " tcp "));
  g_assert_nonnull (strstr (text, "127.0.0.1 8443 typ host tcptype passive\r\n"));
  g_assert_null (strstr (text, "goog-remb"));
  g_assert_null (strstr (text, "rtp-stream-id"));
}

static void
test_answer_webrtcbin (void)
{
  g_autoptr (SfuSdp) offer = parse_seed ("webrtcbin-offer.sdp");
  SfuSdpLocal local = make_local ();
  g_autoptr (SfuSdp) answer = answer_ok (offer, &local);

  g_assert_cmpuint (answer->bundle->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpuint (media_at (answer, i)->port, ==, 9);
    g_assert_cmpint (media_at (answer, i)->direction, ==, SFU_SDP_DIR_RECVONLY);
    g_assert_cmpuint (media_at (answer, i)->codecs->len, ==, 1);
  }
  g_assert_cmpstr (codec_at (media_at (answer, 0), 0)->name, ==, "OPUS");
  g_assert_cmpuint (codec_at (media_at (answer, 1), 0)->pt, ==, 96);
  /* 42c015: constrained baseline with another constraint-flag spelling, still Baseline */
  g_assert_cmpuint (codec_at (media_at (answer, 2), 0)->pt, ==, 102);
  g_assert_false (answer->extmap_allow_mixed);
}

static void
test_answer_firefox (void)
{
  g_autoptr (SfuSdp) offer = parse_seed ("firefox-audio-video-datachannel.sdp");
  SfuSdpLocal local = make_local ();
  g_autoptr (SfuSdp) answer = NULL;
  static const guint video_pts[] = { 120, 124, 126, 127 };
  const SfuSdpMedia *data;

  local.send_on_offered = TRUE;
  answer = answer_ok (offer, &local);
  g_assert_cmpint (media_at (answer, 0)->direction, ==, SFU_SDP_DIR_SENDRECV);
  g_assert_cmpuint (codec_at (media_at (answer, 0), 0)->pt, ==, 109);
  g_assert_cmpuint (media_at (answer, 0)->extmaps->len, ==, 2); /* not csrc-audio-level */
  check_pts (media_at (answer, 1), video_pts, G_N_ELEMENTS (video_pts));
  g_assert_cmpstr (codec_at (media_at (answer, 1), 0)->fmtp, ==, "max-fs=12288;max-fr=60");
  g_assert_cmpuint (media_at (answer, 1)->extmaps->len, ==, 3);
  data = media_at (answer, 2);
  g_assert_true (sfu_sdp_media_is_rejected (data));
  g_assert_cmpstr (data->formats, ==, "webrtc-datachannel");
  g_assert_cmpuint (answer->bundle->len, ==, 2);
}

/* What is rejected with port 0, and what fails the whole answer. */
static void
test_answer_rejects (void)
{
  static const char offer_text[] = SESSION "a=group:BUNDLE 0 1 2 3" CRLF AUDIO ("0")
      /* no rtcp-mux */
      "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF "a=mid:1" CRLF "a=rtpmap:111 opus/48000/2" CRLF
      /* no usable codec: mono Opus, H.264 mode 0 */
      "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF "a=mid:2" CRLF "a=rtcp-mux" CRLF
      "a=rtpmap:111 opus/48000/1" CRLF "m=video 9 UDP/TLS/RTP/SAVPF 102" CRLF "a=mid:3" CRLF
      "a=rtcp-mux" CRLF "a=rtpmap:102 H264/90000" CRLF "a=fmtp:102 profile-level-id=42e01f" CRLF
      /* not in the BUNDLE group */
      "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF "a=mid:4" CRLF "a=rtcp-mux" CRLF
      "a=rtpmap:111 opus/48000/2" CRLF
      /* rejected by the offerer */
      "m=video 0 UDP/TLS/RTP/SAVPF 96" CRLF "a=mid:5" CRLF "a=rtcp-mux" CRLF
      "a=rtpmap:96 VP8/90000" CRLF;
  g_autoptr (SfuSdp) offer = parse_text (offer_text);
  SfuSdpLocal local = make_local ();
  g_autoptr (SfuSdp) answer = answer_ok (offer, &local);

  g_assert_false (sfu_sdp_media_is_rejected (media_at (answer, 0)));
  for (guint i = 1; i < 6; i++) {
    g_assert_true (sfu_sdp_media_is_rejected (media_at (answer, i)));
    g_assert_cmpint (media_at (answer, i)->direction, ==, SFU_SDP_DIR_INACTIVE);
    g_assert_cmpuint (media_at (answer, i)->codecs->len, ==, 1);
  }
  g_assert_cmpuint (answer->bundle->len, ==, 1);
}

static void
test_answer_unbundled (void)
{
  /* Without a BUNDLE group only the first acceptable m-line can share the one transport. */
  static const char offer_text[] = SESSION AUDIO ("a") AUDIO ("b");
  g_autoptr (SfuSdp) offer = parse_text (offer_text);
  SfuSdpLocal local = make_local ();
  g_autoptr (SfuSdp) answer = answer_ok (offer, &local);
  g_autofree char *text = sfu_sdp_to_string (answer);

  g_assert_false (sfu_sdp_media_is_rejected (media_at (answer, 0)));
  g_assert_true (sfu_sdp_media_is_rejected (media_at (answer, 1)));
  g_assert_cmpuint (answer->bundle->len, ==, 0);
  g_assert_null (strstr (text, "a=group"));
}

static void
expect_answer_error (const char *offer_text, const SfuSdpLocal *local, SfuSdpError code,
                     const char *words)
{
  g_autoptr (SfuSdp) offer = parse_text (offer_text);
  g_autoptr (GError) error = NULL;
  g_autoptr (SfuSdp) answer = sfu_sdp_answer (offer, local, &error);

  g_assert_null (answer);
  g_assert_error (error, SFU_SDP_ERROR, (int)code);
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_answer_errors (void)
{
  SfuSdpLocal local = make_local ();
  SfuSdpLocal bad = make_local ();
  static const SfuSdpLocalCandidate bad_candidate = { SFU_SDP_TRANSPORT_UDP, "1.2.3.4 x", 1 };

  expect_answer_error (SESSION "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF "a=setup:passive" CRLF
                               "a=ice-ufrag:Yc4v" CRLF "a=ice-pwd:7y5lPaHdX1zHgkmqZyO7Ilk3" CRLF
                               "a=fingerprint:sha-256 " FP CRLF "a=mid:0" CRLF "a=rtcp-mux" CRLF
                               "a=rtpmap:111 opus/48000/2" CRLF,
                       &local, SFU_SDP_ERROR_NEGOTIATION, "DTLS server");
  expect_answer_error (SESSION "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF "a=ice-ufrag:Yc4v" CRLF
                               "a=ice-pwd:7y5lPaHdX1zHgkmqZyO7Ilk3" CRLF "a=mid:0" CRLF,
                       &local, SFU_SDP_ERROR_NEGOTIATION, "fingerprint");
  expect_answer_error (SESSION "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF
                               "a=fingerprint:sha-256 " FP CRLF "a=mid:0" CRLF,
                       &local, SFU_SDP_ERROR_NEGOTIATION, "ice-ufrag");
  expect_answer_error (SESSION "m=application 9 UDP/DTLS/SCTP webrtc-datachannel" CRLF TRANSPORT
                               "a=mid:0" CRLF,
                       &local, SFU_SDP_ERROR_NEGOTIATION, "no m-line");
  expect_answer_error (SESSION, &local, SFU_SDP_ERROR_NEGOTIATION, "ice-ufrag");

  bad.ice_pwd = "short";
  expect_answer_error (SESSION AUDIO ("0"), &bad, SFU_SDP_ERROR_INVALID, "password");
  bad = make_local ();
  bad.fingerprint = "00:11";
  expect_answer_error (SESSION AUDIO ("0"), &bad, SFU_SDP_ERROR_INVALID, "fingerprint");
  bad = make_local ();
  bad.candidates = &bad_candidate;
  bad.n_candidates = 1;
  expect_answer_error (SESSION AUDIO ("0"), &bad, SFU_SDP_ERROR_INVALID, "candidate");
}

/* ---- re-offers ---- */

static void
test_reoffer (void)
{
  g_autoptr (SfuSdp) offer = parse_seed ("chromium-audio-camera-screen.sdp");
  SfuSdpLocal local = make_local ();
  g_autoptr (SfuSdp) answer = answer_ok (offer, &local);
  g_autoptr (SfuSdp) reoffer = sfu_sdp_copy (answer);
  g_autoptr (GError) error = NULL;
  g_autofree char *mid = sfu_sdp_new_mid (reoffer);
  g_autofree char *mid2 = NULL;
  g_autofree char *text = NULL;
  const SfuSdpMedia *camera = media_at (answer, 1);
  SfuSdpCodec vp9
      = { .pt = 96, .name = (char *)"VP9", .clock_rate = 90000, .rtx_pt = -1, .apt = -1 };
  SfuSdpSendTrack track = {
    .kind = SFU_SDP_VIDEO,
    .mid = mid,
    .codec = codec_at (camera, 0),
    .rtx = codec_at (camera, 1),
    .ssrc = 5001,
    .rtx_ssrc = 5002,
    .cname = "sfu-cname",
    .msid_stream = "peer-b",
    .msid_track = "peer-b-screen",
  };
  SfuSdpMedia *added;
  const SfuSdpSsrcGroup *fid;

  g_assert_true (sfu_sdp_equal (reoffer, answer));
  g_assert_cmpstr (mid, ==, "3");
  added = sfu_sdp_add_send_media (reoffer, &track, &error);
  g_assert_no_error (error);
  g_assert_nonnull (added);
  g_assert_true (sfu_sdp_find_media (reoffer, "3") == added);
  g_assert_cmpint (added->direction, ==, SFU_SDP_DIR_SENDONLY);
  g_assert_cmpuint (added->port, ==, 9);
  /* The bundle already says 96 = this VP8 and 97 = its rtx: the same pts */
  g_assert_cmpuint (codec_at (added, 0)->pt, ==, 96);
  g_assert_cmpint (codec_at (added, 0)->rtx_pt, ==, 97);
  g_assert_cmpuint (codec_at (added, 1)->pt, ==, 97);
  g_assert_cmpint (codec_at (added, 1)->apt, ==, 96);
  /* extension ids are the bundle's */
  g_assert_cmpint (sfu_sdp_media_find_extmap (added, SFU_SDP_URI_MID), ==, 4);
  g_assert_cmpint (sfu_sdp_media_find_extmap (added, SFU_SDP_URI_TRANSPORT_CC), ==, 3);
  g_assert_cmpint (sfu_sdp_media_find_extmap (added, SFU_SDP_URI_AUDIO_LEVEL), ==, -1);
  g_assert_cmpuint (added->ssrcs->len, ==, 2);
  fid = g_ptr_array_index (added->ssrc_groups, 0);
  g_assert_cmpuint (fid->ssrcs[0], ==, 5001);
  g_assert_cmpuint (fid->ssrcs[1], ==, 5002);
  g_assert_cmpstr (g_ptr_array_index (reoffer->bundle, 3), ==, "3");

  /* A mid is never reused. */
  g_assert_null (sfu_sdp_add_send_media (reoffer, &track, &error));
  g_assert_error (error, SFU_SDP_ERROR, SFU_SDP_ERROR_INVALID);
  g_clear_error (&error);

  /* A codec whose pt means something else in the bundle gets a free one. */
  mid2 = sfu_sdp_new_mid (reoffer);
  g_assert_cmpstr (mid2, ==, "4");
  track.mid = mid2;
  track.codec = &vp9;
  track.rtx = NULL;
  track.ssrc = 6001;
  added = sfu_sdp_add_send_media (reoffer, &track, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (codec_at (added, 0)->pt, !=, 96);
  g_assert_cmpuint (codec_at (added, 0)->pt, >=, 96);
  g_assert_null (sfu_sdp_media_find_codec (media_at (reoffer, 1), codec_at (added, 0)->pt));

  g_assert_true (sfu_sdp_set_inactive (reoffer, "4"));
  g_assert_false (sfu_sdp_set_inactive (reoffer, "99"));
  g_assert_cmpint (sfu_sdp_find_media (reoffer, "4")->direction, ==, SFU_SDP_DIR_INACTIVE);
  g_assert_cmpuint (sfu_sdp_find_media (reoffer, "4")->ssrcs->len, ==, 0);
  sfu_sdp_bump_version (reoffer);
  g_assert_cmpuint (reoffer->session_version, ==, answer->session_version + 1);

  text = sfu_sdp_to_string (reoffer);
  g_assert_cmpuint (count_substr (text, "a=setup:passive\r\n"), ==, 5);
  g_assert_null (strstr (text, "actpass"));
  g_assert_nonnull (strstr (text, "a=group:BUNDLE 0 1 2 3 4\r\n"));
  g_assert_nonnull (strstr (text, "a=msid:peer-b peer-b-screen\r\n"));
  g_assert_nonnull (strstr (text, "a=ssrc-group:FID 5001 5002\r\n"));
  g_assert_nonnull (strstr (text, "a=ssrc:5002 msid:peer-b peer-b-screen\r\n"));
  check_round_trip (reoffer);
}

/* The client re-offers, echoing the SFU's sendonly m-line as recvonly: the answer keeps
 * the SFU's SSRCs and msid on it. */
static void
test_answer_keeps_sending_media (void)
{
  g_autoptr (SfuSdp) offer = parse_text (SESSION "a=group:BUNDLE 0" CRLF AUDIO ("0"));
  SfuSdpLocal local = make_local ();
  g_autoptr (SfuSdp) answer = answer_ok (offer, &local);
  g_autoptr (SfuSdp) reoffer = sfu_sdp_copy (answer);
  g_autoptr (SfuSdp) reanswer = NULL;
  g_autoptr (SfuSdp) client = NULL;
  g_autoptr (GError) error = NULL;
  SfuSdpSendTrack track = {
    .kind = SFU_SDP_AUDIO,
    .mid = "1",
    .codec = codec_at (media_at (answer, 0), 0),
    .ssrc = 7001,
    .cname = "sfu",
    .msid_stream = "s",
    .msid_track = "t",
  };
  const SfuSdpMedia *m;

  g_assert_nonnull (sfu_sdp_add_send_media (reoffer, &track, &error));
  g_assert_no_error (error);
  sfu_sdp_bump_version (reoffer);

  client = parse_text (SESSION "a=group:BUNDLE 0 1" CRLF AUDIO (
      "0") "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF TRANSPORT "a=mid:1" CRLF "a=rtcp-mux" CRLF
           "a=recvonly" CRLF "a=rtpmap:111 opus/48000/2" CRLF);
  local.previous = reoffer;
  reanswer = answer_ok (client, &local);
  g_assert_cmpuint (reanswer->session_version, ==, reoffer->session_version + 1);
  g_assert_cmpuint (reanswer->session_id, ==, reoffer->session_id);
  m = media_at (reanswer, 1);
  g_assert_cmpint (m->direction, ==, SFU_SDP_DIR_SENDONLY);
  g_assert_cmpuint (m->ssrcs->len, ==, 1);
  g_assert_cmpuint (((SfuSdpSsrc *)g_ptr_array_index (m->ssrcs, 0))->ssrc, ==, 7001);
  g_assert_cmpuint (m->msids->len, ==, 1);
  /* Without a previous track on it an offered recvonly is inactive. */
  local.previous = NULL;
  g_clear_pointer (&reanswer, sfu_sdp_free);
  reanswer = answer_ok (client, &local);
  g_assert_cmpint (media_at (reanswer, 1)->direction, ==, SFU_SDP_DIR_INACTIVE);
}

/* ---- errors ---- */

static void
expect_parse_error (const char *text, gsize len, SfuSdpError code, const char *prefix)
{
  g_autoptr (GError) error = NULL;
  SfuSdp sdp = { 0 };

  g_assert_false (sfu_sdp_parse (text, len, &sdp, &error));
  g_assert_error (error, SFU_SDP_ERROR, (int)code);
  if (prefix && !g_str_has_prefix (error->message, prefix))
    g_error ("expected \"%s…\", got \"%s\"", prefix, error->message);
  g_assert_null (sdp.media);
}

static void
expect_text_error (const char *text, SfuSdpError code, const char *prefix)
{
  expect_parse_error (text, strlen (text), code, prefix);
}

/* @head, then @n copies of @unit with every '#' replaced by the copy's index, then @tail.
 * (SESSION is 4 lines, so the first line after it is line 5.) */
static char *
repeat (const char *head, const char *unit, guint n, const char *tail)
{
  GString *s = g_string_new (head);
  g_auto (GStrv) parts = g_strsplit (unit, "#", -1);

  for (guint i = 0; i < n; i++) {
    for (guint j = 0; parts[j]; j++) {
      if (j > 0)
        g_string_append_printf (s, "%u", i);
      g_string_append (s, parts[j]);
    }
  }
  g_string_append (s, tail);
  return g_string_free (s, FALSE);
}

static void
test_limits (void)
{
  g_autofree char *big = g_strnfill (SFU_SDP_MAX_SIZE + 1, 'x');
  g_autofree char *many_lines = repeat (SESSION, "a=x##" CRLF, SFU_SDP_MAX_LINES, "");
  g_autofree char *ys = g_strnfill (SFU_SDP_MAX_LINE_LENGTH, 'y');
  g_autofree char *long_line = g_strdup_printf (SESSION "a=x:%s" CRLF, ys);
  g_autofree char *long_value = NULL;
  g_autofree char *long_fmtp = NULL;
  g_autofree char *mlines
      = repeat (SESSION, "m=audio 9 RTP/AVP 0" CRLF "a=mid:##" CRLF, SFU_SDP_MAX_MEDIA + 1, "");
  g_autofree char *pts = repeat (SESSION "m=audio 9 RTP/AVP", " #", SFU_SDP_MAX_CODECS + 1, CRLF);
  g_autofree char *extmaps = repeat (SESSION "m=audio 9 RTP/AVP 0" CRLF, "a=extmap:# urn:x:#" CRLF,
                                     SFU_SDP_MAX_EXTMAPS + 1, "");
  g_autofree char *ssrcs = repeat (SESSION "m=audio 9 RTP/AVP 0" CRLF, "a=ssrc:# cname:#" CRLF,
                                   SFU_SDP_MAX_SSRCS + 1, "");
  g_autofree char *groups = repeat (SESSION "m=audio 9 RTP/AVP 0" CRLF, "a=ssrc-group:FID # #" CRLF,
                                    SFU_SDP_MAX_SSRC_GROUPS + 1, "");
  g_autofree char *msids
      = repeat (SESSION "m=audio 9 RTP/AVP 0" CRLF, "a=msid:s# t#" CRLF, SFU_SDP_MAX_MSIDS + 1, "");
  g_autofree char *candidates
      = repeat (SESSION "m=audio 9 RTP/AVP 0" CRLF,
                "a=candidate:# 1 udp 1 127.0.0.1 # typ host" CRLF, SFU_SDP_MAX_CANDIDATES + 1, "");
  g_autofree char *group_line = NULL;
  g_autofree char *err = NULL;
  g_autofree char *yy = g_strnfill (SFU_SDP_MAX_VALUE + 1, 'y');
  g_autofree char *fmtp_value = g_strnfill (SFU_SDP_MAX_VALUE / 2, 'k');

  big[0] = 'v';
  expect_parse_error (big, SFU_SDP_MAX_SIZE + 1, SFU_SDP_ERROR_LIMIT, "SDP of");
  err = g_strdup_printf ("line %d: more than", SFU_SDP_MAX_LINES + 1);
  expect_text_error (many_lines, SFU_SDP_ERROR_LIMIT, err);
  expect_text_error (long_line, SFU_SDP_ERROR_LIMIT, "line 5: longer than");
  long_value = g_strdup_printf (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=mid:%s" CRLF, yy);
  expect_text_error (long_value, SFU_SDP_ERROR_LIMIT, "line 6: a value longer than 256");
  long_fmtp = g_strdup_printf (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=fmtp:0 %s %s %s" CRLF,
                               fmtp_value, fmtp_value, fmtp_value);
  expect_text_error (long_fmtp, SFU_SDP_ERROR_LIMIT, "line 6: fmtp parameters longer");
  g_free (err);
  err = g_strdup_printf ("line %d: more than 64 m-lines", 4 + 2 * SFU_SDP_MAX_MEDIA + 1);
  expect_text_error (mlines, SFU_SDP_ERROR_LIMIT, err);
  expect_text_error (pts, SFU_SDP_ERROR_LIMIT, "line 5: m-line has more than 64 formats");
  expect_text_error (extmaps, SFU_SDP_ERROR_SYNTAX, "line 6: extmap id is not"); /* id 0 */
  g_free (extmaps);
  extmaps = repeat (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=extmap:255 urn:y" CRLF,
                    "a=extmap:1# urn:x:#" CRLF, SFU_SDP_MAX_EXTMAPS, "");
  g_free (err);
  err = g_strdup_printf ("line %d: more than 32 extmaps", 6 + SFU_SDP_MAX_EXTMAPS);
  expect_text_error (extmaps, SFU_SDP_ERROR_LIMIT, err);
  g_free (err);
  err = g_strdup_printf ("line %d: more than 32 SSRCs", 6 + SFU_SDP_MAX_SSRCS);
  expect_text_error (ssrcs, SFU_SDP_ERROR_LIMIT, err);
  g_free (err);
  err = g_strdup_printf ("line %d: more than 16 ssrc-groups", 6 + SFU_SDP_MAX_SSRC_GROUPS);
  expect_text_error (groups, SFU_SDP_ERROR_LIMIT, err);
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=ssrc-group:SIM 1 2 3 4 5 6 7 8 9" CRLF,
                     SFU_SDP_ERROR_LIMIT, "line 6: ssrc-group has more than 8");
  g_free (err);
  err = g_strdup_printf ("line %d: more than 4 a=msid", 6 + SFU_SDP_MAX_MSIDS);
  expect_text_error (msids, SFU_SDP_ERROR_LIMIT, err);
  g_free (err);
  err = g_strdup_printf ("line %d: more than 64 candidates", 6 + SFU_SDP_MAX_CANDIDATES);
  expect_text_error (candidates, SFU_SDP_ERROR_LIMIT, err);
  group_line = repeat (SESSION "a=group:BUNDLE", " ##", SFU_SDP_MAX_MEDIA + 1, CRLF);
  expect_text_error (group_line, SFU_SDP_ERROR_LIMIT, "line 5: BUNDLE group has more than 64");
}

static void
test_syntax_errors (void)
{
  static const char nul[] = "v=0\r\no=- 1 2 IN IP4 x\r\na=mid\0:0\r\n";

  expect_text_error ("", SFU_SDP_ERROR_SYNTAX, "empty SDP");
  expect_text_error ("v=1\r\n", SFU_SDP_ERROR_SYNTAX, "line 1: the first line is not v=0");
  expect_text_error ("hello", SFU_SDP_ERROR_SYNTAX, "line 1: not of the form");
  expect_text_error (" v=0\r\n", SFU_SDP_ERROR_SYNTAX, "line 1: not of the form");
  expect_parse_error (nul, sizeof nul - 1, SFU_SDP_ERROR_SYNTAX, "SDP contains a NUL");
  expect_text_error ("v=0\r\na=x\rb\r\n", SFU_SDP_ERROR_SYNTAX, "line 2: a CR");
  expect_text_error ("v=0\r\ns=\xff\r\n", SFU_SDP_ERROR_SYNTAX, "SDP is not valid UTF-8");
  expect_text_error ("v=0\r\ns=-\r\n", SFU_SDP_ERROR_INVALID, "no o= line");
  expect_text_error ("v=0\r\nv=0\r\n", SFU_SDP_ERROR_SYNTAX, "line 2: a second v=");
  expect_text_error ("v=0\r\no=- x 2 IN IP4 a\r\n", SFU_SDP_ERROR_SYNTAX, "line 2: o= is not");
  expect_text_error ("v=0\r\no=- 18446744073709551616 2 IN IP4 a\r\n", SFU_SDP_ERROR_SYNTAX,
                     "line 2: o= is not");
  expect_text_error (SESSION "m=audio 9" CRLF, SFU_SDP_ERROR_SYNTAX, "line 5: m-line is not");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 128" CRLF, SFU_SDP_ERROR_SYNTAX,
                     "line 5: payload type \"128\"");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0 0" CRLF, SFU_SDP_ERROR_INVALID,
                     "line 5: payload type 0 listed twice");
  expect_text_error (SESSION "m=audio 70000 RTP/AVP 0" CRLF, SFU_SDP_ERROR_SYNTAX,
                     "line 5: m-line is not");
  expect_text_error (SESSION AUDIO ("0") AUDIO ("0"), SFU_SDP_ERROR_INVALID,
                     "line 19: mid \"0\" is already m-line 0's");
  expect_text_error (SESSION "a=group:BUNDLE 0 1" CRLF AUDIO ("0"), SFU_SDP_ERROR_INVALID,
                     "line 5: BUNDLE names mid \"1\"");
  expect_text_error (SESSION "a=fingerprint:sha-256 00:11" CRLF, SFU_SDP_ERROR_SYNTAX,
                     "line 5: fingerprint is not 32");
  expect_text_error (SESSION "a=ice-pwd:short" CRLF, SFU_SDP_ERROR_SYNTAX,
                     "line 5: ice-pwd is not 22");
  expect_text_error (SESSION "a=ice-ufrag:a:b" CRLF, SFU_SDP_ERROR_SYNTAX,
                     "line 5: ice-ufrag is not 4");
  expect_text_error (SESSION "a=setup:server" CRLF, SFU_SDP_ERROR_SYNTAX, "line 5: setup");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=rtpmap:0 PCMU" CRLF,
                     SFU_SDP_ERROR_SYNTAX, "line 6: rtpmap is not");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=rtpmap:0 PCMU/8000/0" CRLF,
                     SFU_SDP_ERROR_SYNTAX, "line 6: rtpmap is not");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=extmap:0 urn:x" CRLF,
                     SFU_SDP_ERROR_SYNTAX, "line 6: extmap id");
  /* An empty token before a separator (found by libFuzzer: a NULL dereference). */
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=extmap: urn:x" CRLF,
                     SFU_SDP_ERROR_SYNTAX, "line 6: extmap id");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=rtpmap:0 /8000" CRLF,
                     SFU_SDP_ERROR_SYNTAX, "line 6: rtpmap is not");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=extmap:1 urn:x" CRLF
                             "a=extmap:1 urn:y" CRLF,
                     SFU_SDP_ERROR_INVALID, "line 7: extmap id 1 used twice");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=ssrc:4294967296 cname:x" CRLF,
                     SFU_SDP_ERROR_SYNTAX, "line 6: ssrc is not a number");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=candidate:1 1 udp x 1.2.3.4 1 typ "
                             "host" CRLF,
                     SFU_SDP_ERROR_SYNTAX, "line 6: candidate is not");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=candidate:1 1 udp 1 1.2.3.4/8 1 typ "
                             "host" CRLF,
                     SFU_SDP_ERROR_SYNTAX, "line 6: candidate is not");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=mid:0" CRLF "a=mid:1" CRLF,
                     SFU_SDP_ERROR_INVALID, "line 7: second a=mid");
  expect_text_error (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=msid:a b c" CRLF, SFU_SDP_ERROR_SYNTAX,
                     "line 6: msid is not");
}

/* Lenient where browsers are: unknown attributes, a=rtpmap for unlisted payload types,
 * unknown fingerprint hashes, candidates of other transports, LF-only line endings. */
static void
test_tolerated (void)
{
  g_autoptr (SfuSdp) sdp
      = parse_text ("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nt=0 0\na=fingerprint:md5 whatever\n"
                    "a=fingerprint:SHA-256 "
                    "7b:8b:f0:65:5f:78:e2:51:3b:ac:6f:f3:3f:46:1b:35:dc:b8:5f:64:1a:"
                    "24:c2:43:f0:a1:58:d0:a1:2c:19:08\n"
                    "m=audio 9 UDP/TLS/RTP/SAVPF 111\na=whatever:1 2 3\na=rtpmap:112 foo/1\n"
                    "a=rtcp-fb:* nack\na=rtcp-fb:111 nack rpsi\na=rtpmap:111 opus/48000/2\n"
                    "a=candidate:1 1 ssltcp 1 1.2.3.4 1 typ host\na=ssrc:5 mslabel:x\n\n");
  const SfuSdpMedia *m = media_at (sdp, 0);

  g_assert_cmpstr (sdp->fingerprint_alg, ==, "sha-256");
  g_assert_cmpstr (sdp->fingerprint, ==, FP);
  g_assert_cmpuint (m->codecs->len, ==, 1);
  g_assert_cmpuint (codec_at (m, 0)->feedback, ==, SFU_SDP_FB_NACK);
  g_assert_cmpuint (sdp->candidates->len, ==, 0);
  g_assert_cmpuint (m->ssrcs->len, ==, 0);
  g_assert_cmpint (m->direction, ==, SFU_SDP_DIR_SENDRECV);
  check_round_trip (sdp);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sfu/sdp/parse/chromium", test_parse_chromium);
  g_test_add_func ("/sfu/sdp/parse/webrtcbin", test_parse_webrtcbin);
  g_test_add_func ("/sfu/sdp/parse/firefox", test_parse_firefox);
  g_test_add_func ("/sfu/sdp/parse/tolerated", test_tolerated);
  g_test_add_func ("/sfu/sdp/parse/limits", test_limits);
  g_test_add_func ("/sfu/sdp/parse/syntax-errors", test_syntax_errors);
  g_test_add_func ("/sfu/sdp/answer/chromium", test_answer_chromium);
  g_test_add_func ("/sfu/sdp/answer/webrtcbin", test_answer_webrtcbin);
  g_test_add_func ("/sfu/sdp/answer/firefox", test_answer_firefox);
  g_test_add_func ("/sfu/sdp/answer/rejects", test_answer_rejects);
  g_test_add_func ("/sfu/sdp/answer/unbundled", test_answer_unbundled);
  g_test_add_func ("/sfu/sdp/answer/errors", test_answer_errors);
  g_test_add_func ("/sfu/sdp/answer/keeps-sending-media", test_answer_keeps_sending_media);
  g_test_add_func ("/sfu/sdp/reoffer", test_reoffer);
  return g_test_run ();
}
