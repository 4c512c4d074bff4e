/* SPDX-License-Identifier: MIT */
/* Unit tests for rec-offer: realistic browser offers, codec choice, codec-preferences
 * caps (also through a real webrtcbin answer when the plugin is installed), and hostile
 * offers that must fail with an error and never crash. */
#include "rec-offer.h"

#include <string.h>

#define CRLF "\r\n"
#define FINGERPRINT                                                                         \
  "a=fingerprint:sha-256 "                                                                  \
  "7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:" \
  "2C:19:08" CRLF
#define ICE                                                                                 \
  "c=IN IP4 0.0.0.0" CRLF "a=rtcp:9 IN IP4 0.0.0.0" CRLF "a=ice-ufrag:Yc4v" CRLF            \
  "a=ice-pwd:7y5lPaHdX1zHgkmqZyO7Ilk3" CRLF "a=ice-options:trickle" CRLF FINGERPRINT        \
  "a=setup:actpass" CRLF
#define SESSION                                                                             \
  "v=0" CRLF "o=- 4611731400430051336 2 IN IP4 127.0.0.1" CRLF "s=-" CRLF "t=0 0" CRLF
#define VIDEO_FB(pt)                                                                        \
  "a=rtcp-fb:" pt " goog-remb" CRLF "a=rtcp-fb:" pt " transport-cc" CRLF                    \
  "a=rtcp-fb:" pt " ccm fir" CRLF "a=rtcp-fb:" pt " nack" CRLF "a=rtcp-fb:" pt " nack pli" CRLF
#define H264(pt, rtx, mode, profile)                                                        \
  "a=rtpmap:" pt " H264/90000" CRLF VIDEO_FB (pt) "a=fmtp:" pt                              \
  " level-asymmetry-allowed=1;packetization-mode=" mode ";profile-level-id=" profile CRLF   \
  "a=rtpmap:" rtx " rtx/90000" CRLF "a=fmtp:" rtx " apt=" pt CRLF
#define TCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

#define CHROMIUM_AUDIO                                                                      \
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126" CRLF ICE "a=mid:0" CRLF             \
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level" CRLF                             \
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" CRLF              \
  "a=extmap:3 " TCC_URI CRLF "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF          \
  "a=sendrecv" CRLF "a=msid:5d1a9a8c-stream 8f1c2a7e-audio" CRLF "a=rtcp-mux" CRLF          \
  "a=rtpmap:111 opus/48000/2" CRLF "a=rtcp-fb:111 transport-cc" CRLF                        \
  "a=fmtp:111 minptime=10;useinbandfec=1" CRLF "a=rtpmap:63 red/48000/2" CRLF               \
  "a=fmtp:63 111/111" CRLF "a=rtpmap:9 G722/8000" CRLF "a=rtpmap:0 PCMU/8000" CRLF          \
  "a=rtpmap:8 PCMA/8000" CRLF "a=rtpmap:13 CN/8000" CRLF                                    \
  "a=rtpmap:110 telephone-event/48000" CRLF "a=rtpmap:126 telephone-event/8000" CRLF        \
  "a=ssrc:1001 cname:4TOk42mSjXCkVIa6" CRLF                                                 \
  "a=ssrc:1001 msid:5d1a9a8c-stream 8f1c2a7e-audio" CRLF

#define CHROMIUM_VIDEO                                                                      \
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 45 46 "  \
  "98 99 100 101 112 113 116 117 118" CRLF ICE "a=mid:1" CRLF                               \
  "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset" CRLF                                     \
  "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time" CRLF              \
  "a=extmap:13 urn:3gpp:video-orientation" CRLF "a=extmap:3 " TCC_URI CRLF                  \
  "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay" CRLF              \
  "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type" CRLF         \
  "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing" CRLF               \
  "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space" CRLF                \
  "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid" CRLF                                     \
  "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id" CRLF                          \
  "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id" CRLF                 \
  "a=sendonly" CRLF "a=msid:5d1a9a8c-stream 3b0e6c11-video" CRLF "a=rtcp-mux" CRLF          \
  "a=rtcp-rsize" CRLF "a=rtpmap:96 VP8/90000" CRLF VIDEO_FB ("96")                          \
  "a=rtpmap:97 rtx/90000" CRLF "a=fmtp:97 apt=96" CRLF                                      \
  H264 ("102", "103", "1", "42001f") H264 ("104", "105", "0", "42001f")                     \
  H264 ("106", "107", "1", "42e01f") H264 ("108", "109", "0", "42e01f")                     \
  H264 ("127", "125", "1", "4d001f") H264 ("39", "40", "0", "4d001f")                       \
  "a=rtpmap:45 AV1/90000" CRLF VIDEO_FB ("45") "a=fmtp:45 level-idx=5;profile=0;tier=0" CRLF \
  "a=rtpmap:46 rtx/90000" CRLF "a=fmtp:46 apt=45" CRLF "a=rtpmap:98 VP9/90000" CRLF         \
  VIDEO_FB ("98") "a=fmtp:98 profile-id=0" CRLF "a=rtpmap:99 rtx/90000" CRLF                \
  "a=fmtp:99 apt=98" CRLF "a=rtpmap:100 VP9/90000" CRLF VIDEO_FB ("100")                    \
  "a=fmtp:100 profile-id=2" CRLF "a=rtpmap:101 rtx/90000" CRLF "a=fmtp:101 apt=100" CRLF    \
  H264 ("112", "113", "1", "64001f") "a=rtpmap:116 red/90000" CRLF                          \
  "a=rtpmap:117 rtx/90000" CRLF "a=fmtp:117 apt=116" CRLF "a=rtpmap:118 ulpfec/90000" CRLF  \
  "a=ssrc-group:FID 2001 2002" CRLF "a=ssrc:2001 cname:4TOk42mSjXCkVIa6" CRLF               \
  "a=ssrc:2001 msid:5d1a9a8c-stream 3b0e6c11-video" CRLF                                    \
  "a=ssrc:2002 cname:4TOk42mSjXCkVIa6" CRLF                                                 \
  "a=ssrc:2002 msid:5d1a9a8c-stream 3b0e6c11-video" CRLF

static const char chromium_offer[] = SESSION "a=group:BUNDLE 0 1" CRLF
    "a=extmap-allow-mixed" CRLF "a=msid-semantic: WMS 5d1a9a8c-stream" CRLF CHROMIUM_AUDIO
        CHROMIUM_VIDEO;

/* Screen share from a client that offers only H.264, worst profile first. */
static const char h264_only_offer[] = SESSION "a=group:BUNDLE 0" CRLF
    "m=video 9 UDP/TLS/RTP/SAVPF 112 104 127 106" CRLF ICE "a=mid:0" CRLF "a=sendonly" CRLF
    "a=rtcp-mux" CRLF H264 ("112", "113", "1", "64001f") H264 ("104", "105", "0", "42001f")
        H264 ("127", "125", "1", "4d001f") H264 ("106", "107", "1", "42E01F");

/* Firefox: session-level direction, extmap with a direction, data channel m-line. */
static const char firefox_offer[] = SESSION "a=sendrecv" CRLF "a=group:BUNDLE 0 1 2" CRLF
    "m=audio 9 UDP/TLS/RTP/SAVPF 109 0" CRLF ICE "a=mid:0" CRLF
    "a=extmap:1/sendonly urn:ietf:params:rtp-hdrext:ssrc-audio-level" CRLF
    "a=msid:{a1b2} {c3d4}" CRLF "a=rtpmap:109 opus/48000/2" CRLF
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1" CRLF "a=rtpmap:0 PCMU/8000" CRLF
    "m=video 0 UDP/TLS/RTP/SAVPF 120" CRLF ICE "a=mid:1" CRLF "a=inactive" CRLF
    "a=rtpmap:120 VP8/90000" CRLF "a=rtcp-fb:120 nack" CRLF
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel" CRLF ICE "a=mid:2" CRLF
    "a=sctp-port:5000" CRLF;

static RecOffer *
parse_ok (const char *sdp)
{
  g_autoptr (GError) error = NULL;
  RecOffer *offer = rec_offer_parse (sdp, strlen (sdp), &error);

  g_assert_no_error (error);
  g_assert_nonnull (offer);
  return offer;
}

static void
parse_fails (const char *sdp, gsize len, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RecOffer) offer = rec_offer_parse (sdp, len, &error);

  g_assert_null (offer);
  g_assert_error (error, REC_OFFER_ERROR, code);
  g_test_message ("refused: %s", error->message);
}

static const RecCodec *
find_codec (const RecMline *mline, guint pt)
{
  for (guint i = 0; i < mline->codecs->len; i++) {
    const RecCodec *codec = g_ptr_array_index (mline->codecs, i);

    if (codec->pt == pt)
      return codec;
  }
  return NULL;
}

static void
test_parse_chromium (void)
{
  g_autoptr (RecOffer) offer = parse_ok (chromium_offer);
  const RecMline *audio, *video;
  const RecCodec *codec;

  g_assert_cmpuint (offer->mlines->len, ==, 2);
  g_assert_cmpstr (offer->bundle_group, ==, "0 1");

  audio = rec_offer_get_mline (offer, 0);
  g_assert_cmpint (audio->kind, ==, REC_MEDIA_AUDIO);
  g_assert_cmpstr (audio->mid, ==, "0");
  g_assert_cmpint (audio->direction, ==, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV);
  g_assert_false (audio->rejected);
  g_assert_cmpstr (audio->msid_stream, ==, "5d1a9a8c-stream");
  g_assert_cmpstr (audio->msid_track, ==, "8f1c2a7e-audio");
  g_assert_cmpint (audio->transport_cc_ext_id, ==, 3);
  g_assert_cmpint (audio->audio_level_ext_id, ==, 1);
  g_assert_cmpuint (audio->codecs->len, ==, 8);
  codec = find_codec (audio, 111);
  g_assert_cmpstr (codec->encoding_name, ==, "OPUS");
  g_assert_cmpuint (codec->clock_rate, ==, 48000);
  g_assert_cmpstr (codec->fmtp, ==, "minptime=10;useinbandfec=1");
  g_assert_true (codec->transport_cc);
  g_assert_false (codec->nack);
  g_assert_cmpstr (find_codec (audio, 0)->encoding_name, ==, "PCMU");
  g_assert_cmpstr (find_codec (audio, 63)->encoding_name, ==, "RED");

  video = rec_offer_get_mline (offer, 1);
  g_assert_cmpint (video->kind, ==, REC_MEDIA_VIDEO);
  g_assert_cmpstr (video->mid, ==, "1");
  g_assert_cmpint (video->direction, ==, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY);
  g_assert_cmpstr (video->msid_track, ==, "3b0e6c11-video");
  g_assert_cmpint (video->transport_cc_ext_id, ==, 3);
  g_assert_cmpint (video->audio_level_ext_id, ==, -1);
  g_assert_cmpuint (video->codecs->len, ==, 25);
  codec = find_codec (video, 96);
  g_assert_cmpstr (codec->encoding_name, ==, "VP8");
  g_assert_true (codec->nack && codec->nack_pli && codec->ccm_fir && codec->transport_cc);
  g_assert_null (codec->fmtp);
  g_assert_cmpstr (find_codec (video, 97)->encoding_name, ==, "RTX");
  g_assert_cmpstr (find_codec (video, 97)->fmtp, ==, "apt=96");
  g_assert_cmpstr (find_codec (video, 118)->encoding_name, ==, "ULPFEC");
  g_assert_null (rec_offer_get_mline (offer, 2));
}

static void
test_parse_firefox (void)
{
  g_autoptr (RecOffer) offer = parse_ok (firefox_offer);
  const RecMline *audio = rec_offer_get_mline (offer, 0);
  const RecMline *video = rec_offer_get_mline (offer, 1);
  const RecMline *data = rec_offer_get_mline (offer, 2);

  g_assert_cmpstr (offer->bundle_group, ==, "0 1 2");
  g_assert_cmpint (audio->direction, ==, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV);
  g_assert_cmpint (audio->audio_level_ext_id, ==, 1);
  g_assert_cmpint (audio->transport_cc_ext_id, ==, -1);
  g_assert_cmpstr (audio->msid_stream, ==, "{a1b2}");
  g_assert_true (video->rejected);
  g_assert_cmpint (video->direction, ==, GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE);
  g_assert_cmpint (data->kind, ==, REC_MEDIA_OTHER);
  g_assert_cmpuint (data->codecs->len, ==, 0);
  g_assert_null (rec_offer_pick_codec (data));
  g_assert_null (rec_offer_codec_preferences (offer, 2));
}

static void
test_parse_lf_only (void)
{
  g_auto (GStrv) lines = g_strsplit (firefox_offer, "\r\n", -1);
  g_autofree char *joined = g_strjoinv ("\n", lines);
  /* Some signaling layers turn CRLF into LF; trailing blank lines are common too. */
  g_autofree char *lf = g_strconcat (joined, "\n\n", NULL);
  g_autoptr (RecOffer) offer = NULL;

  offer = parse_ok (lf);
  g_assert_cmpuint (offer->mlines->len, ==, 3);
  g_assert_cmpstr (rec_offer_pick_codec (rec_offer_get_mline (offer, 0))->encoding_name, ==,
                   "OPUS");
}

static void
test_parse_msid (void)
{
  const char *sdp = SESSION
      /* webrtcbin as the sender: the msid only on the ssrc line */
      "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF "a=rtpmap:111 opus/48000/2" CRLF
      "a=ssrc:1 cname:x" CRLF "a=ssrc:1 msid:voice-1 track-1" CRLF
      /* an msid without a stream does not count; the next one does */
      "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF "a=rtpmap:111 opus/48000/2" CRLF
      "a=msid: lonely-track" CRLF "a=msid:s2 t2" CRLF "a=msid:s3 t3" CRLF
      /* stream only */
      "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF "a=rtpmap:111 opus/48000/2" CRLF "a=msid:s4" CRLF;
  g_autoptr (RecOffer) offer = parse_ok (sdp);

  g_assert_cmpstr (rec_offer_get_mline (offer, 0)->msid_stream, ==, "voice-1");
  g_assert_cmpstr (rec_offer_get_mline (offer, 0)->msid_track, ==, "track-1");
  g_assert_cmpstr (rec_offer_get_mline (offer, 1)->msid_stream, ==, "s2");
  g_assert_cmpstr (rec_offer_get_mline (offer, 1)->msid_track, ==, "t2");
  g_assert_cmpstr (rec_offer_get_mline (offer, 2)->msid_stream, ==, "s4");
  g_assert_null (rec_offer_get_mline (offer, 2)->msid_track);
}

static void
test_parse_bundle_only (void)
{
  const char *sdp = SESSION "a=group:BUNDLE a v" CRLF "m=audio 9 UDP/TLS/RTP/SAVPF 111" CRLF
      "a=mid:a" CRLF "a=rtpmap:111 opus/48000/2" CRLF "m=video 0 UDP/TLS/RTP/SAVPF 96" CRLF
      "a=mid:v" CRLF "a=bundle-only" CRLF "a=rtpmap:96 VP8/90000" CRLF;
  g_autoptr (RecOffer) offer = parse_ok (sdp);

  g_assert_false (rec_offer_get_mline (offer, 1)->rejected);
  g_assert_cmpstr (offer->bundle_group, ==, "a v");
}

static void
test_pick_chromium (void)
{
  g_autoptr (RecOffer) offer = parse_ok (chromium_offer);

  g_assert_cmpuint (rec_offer_pick_codec (rec_offer_get_mline (offer, 0))->pt, ==, 111);
  /* VP8 wins although H.264 is offered too. */
  g_assert_cmpuint (rec_offer_pick_codec (rec_offer_get_mline (offer, 1))->pt, ==, 96);
}

static void
test_pick_h264_only (void)
{
  g_autoptr (RecOffer) offer = parse_ok (h264_only_offer);
  const RecCodec *codec = rec_offer_pick_codec (rec_offer_get_mline (offer, 0));

  /* 42E01F (upper case) beats the earlier high and main profiles; mode 0 never wins. */
  g_assert_cmpuint (codec->pt, ==, 106);
}

static void
test_pick_h264_any_profile (void)
{
  const char *sdp = SESSION "m=video 9 UDP/TLS/RTP/SAVPF 104 112" CRLF
      H264 ("104", "105", "0", "42e01f") H264 ("112", "113", "1", "64001f");
  g_autoptr (RecOffer) offer = parse_ok (sdp);

  g_assert_cmpuint (rec_offer_pick_codec (rec_offer_get_mline (offer, 0))->pt, ==, 112);
}

static void
test_pick_unsupported (void)
{
  const char *cases[] = {
    /* H.264 in packetization-mode 0 only */
    SESSION "m=video 9 UDP/TLS/RTP/SAVPF 104" CRLF H264 ("104", "105", "0", "42e01f"),
    /* VP9 and AV1 only */
    SESSION "m=video 9 RTP/AVP 98 45" CRLF "a=rtpmap:98 VP9/90000" CRLF
        "a=rtpmap:45 AV1/90000" CRLF,
    /* VP8 at a wrong clock rate */
    SESSION "m=video 9 RTP/AVP 96" CRLF "a=rtpmap:96 VP8/48000" CRLF,
    /* G.711 only */
    SESSION "m=audio 9 RTP/AVP 0 8" CRLF,
    /* Opus at 16 kHz */
    SESSION "m=audio 9 RTP/AVP 111" CRLF "a=rtpmap:111 opus/16000/2" CRLF,
    /* Opus offered but its rtpmap missing: a dynamic type means nothing without one */
    SESSION "m=audio 9 RTP/AVP 111" CRLF "a=fmtp:111 useinbandfec=1" CRLF,
    /* an audio codec on a video m-line */
    SESSION "m=video 9 RTP/AVP 111" CRLF "a=rtpmap:111 opus/48000/2" CRLF,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (RecOffer) offer = parse_ok (cases[i]);

    g_assert_null (rec_offer_pick_codec (rec_offer_get_mline (offer, 0)));
    g_assert_null (rec_offer_codec_preferences (offer, 0));
  }
}

/* GStreamer fills in a missing clock rate from the encoding name, and webrtcbin reads the
 * offer the same way, so we agree with it rather than refuse. */
static void
test_pick_rtpmap_without_rate (void)
{
  g_autoptr (RecOffer) offer = parse_ok (SESSION "m=audio 9 RTP/AVP 111" CRLF
                                         "a=rtpmap:111 opus" CRLF);
  const RecCodec *codec = rec_offer_pick_codec (rec_offer_get_mline (offer, 0));

  g_assert_cmpuint (codec->clock_rate, ==, 48000);
}

static void
test_prefs_video (void)
{
  g_autoptr (RecOffer) offer = parse_ok (chromium_offer);
  g_autoptr (GstCaps) caps = rec_offer_codec_preferences (offer, 1);
  g_autoptr (GstCaps) expected = gst_caps_from_string (
      "application/x-rtp, media=(string)video, payload=(int)96, clock-rate=(int)90000, "
      "encoding-name=(string)VP8, rtcp-fb-nack=(boolean)true, "
      "rtcp-fb-nack-pli=(boolean)true, rtcp-fb-ccm-fir=(boolean)true, "
      "extmap-3=(string)" TCC_URI);

  g_assert_nonnull (caps);
  g_assert_true (gst_caps_is_equal (caps, expected));
}

static void
test_prefs_audio (void)
{
  g_autoptr (RecOffer) offer = parse_ok (chromium_offer);
  g_autoptr (GstCaps) caps = rec_offer_codec_preferences (offer, 0);
  g_autoptr (GstCaps) expected = gst_caps_from_string (
      "application/x-rtp, media=(string)audio, payload=(int)111, clock-rate=(int)48000, "
      "encoding-name=(string)OPUS, encoding-params=(string)2, minptime=(string)10, "
      "useinbandfec=(string)1, extmap-3=(string)" TCC_URI);

  g_assert_true (gst_caps_is_equal (caps, expected));
}

static void
test_prefs_h264 (void)
{
  g_autoptr (RecOffer) offer = parse_ok (h264_only_offer);
  g_autoptr (GstCaps) caps = rec_offer_codec_preferences (offer, 0);
  GstStructure *s = gst_caps_get_structure (caps, 0);

  g_assert_cmpint (gst_caps_get_size (caps), ==, 1);
  g_assert_cmpstr (gst_structure_get_string (s, "encoding-name"), ==, "H264");
  g_assert_cmpstr (gst_structure_get_string (s, "packetization-mode"), ==, "1");
  /* GStreamer turns level-asymmetry-allowed=1 + profile-level-id into "profile", in the
   * offer caps webrtcbin compares against too. */
  g_assert_cmpstr (gst_structure_get_string (s, "profile"), ==, "constrained-baseline");
  g_assert_false (gst_structure_has_field (s, "rtcp-fb-goog-remb"));
  g_assert_false (gst_structure_has_field (s, "rtcp-fb-transport-cc"));
  /* No transport-cc extmap offered, none invented. */
  for (guint i = 0; i < (guint) gst_structure_n_fields (s); i++)
    g_assert_false (g_str_has_prefix (gst_structure_nth_field_name (s, i), "extmap-"));
}

static void
test_prefs_fmtp_injection (void)
{
  /* fmtp parameters become caps fields; ones named like the fields webrtcbin writes as
   * separate lines must not reach the preferences. */
  const char *sdp = SESSION "m=video 9 UDP/TLS/RTP/SAVPF 96" CRLF "a=rtpmap:96 VP8/90000" CRLF
      "a=fmtp:96 extmap-7=urn:evil;a-ice-ufrag=evil;x-google-max-bitrate=1;ssrc=5;"
      "max-fs=12288" CRLF;
  g_autoptr (RecOffer) offer = parse_ok (sdp);
  g_autoptr (GstCaps) caps = rec_offer_codec_preferences (offer, 0);
  GstStructure *s = gst_caps_get_structure (caps, 0);

  g_assert_cmpstr (gst_structure_get_string (s, "max-fs"), ==, "12288");
  g_assert_false (gst_structure_has_field (s, "extmap-7"));
  g_assert_false (gst_structure_has_field (s, "a-ice-ufrag"));
  g_assert_false (gst_structure_has_field (s, "x-google-max-bitrate"));
  g_assert_false (gst_structure_has_field (s, "ssrc"));
}

static void
test_limits_size (void)
{
  g_autoptr (GString) sdp = g_string_new (SESSION "m=audio 9 RTP/AVP 0" CRLF);

  while (sdp->len <= REC_OFFER_MAX_SIZE)
    g_string_append (sdp, "a=x-padding:0123456789012345678901234567890123456789" CRLF);
  parse_fails (sdp->str, sdp->len, REC_OFFER_ERROR_LIMIT);
}

static void
test_limits_lines (void)
{
  g_autoptr (GString) sdp = g_string_new (SESSION "m=audio 9 RTP/AVP 0" CRLF);

  for (int i = 0; i < REC_OFFER_MAX_LINES; i++)
    g_string_append (sdp, "i=x" CRLF);
  g_assert_cmpuint (sdp->len, <, REC_OFFER_MAX_SIZE);
  parse_fails (sdp->str, sdp->len, REC_OFFER_ERROR_LIMIT);
}

static void
test_limits_long_line (void)
{
  g_autoptr (GString) sdp = g_string_new (SESSION "m=audio 9 RTP/AVP 0" CRLF "a=fmtp:0 x=");
  g_autofree char *value = g_strnfill (REC_OFFER_MAX_LINE_LENGTH, 'y');

  g_string_append (sdp, value);
  g_string_append (sdp, CRLF);
  parse_fails (sdp->str, sdp->len, REC_OFFER_ERROR_LIMIT);
}

static void
test_limits_too_many_mlines (void)
{
  g_autoptr (GString) sdp = g_string_new (SESSION);

  for (int i = 0; i <= REC_OFFER_MAX_MLINES; i++)
    g_string_append_printf (sdp, "m=audio 9 RTP/AVP 111" CRLF "a=mid:%d" CRLF
                            "a=rtpmap:111 opus/48000/2" CRLF, i);
  parse_fails (sdp->str, sdp->len, REC_OFFER_ERROR_LIMIT);
}

static void
test_limits_max_mlines_ok (void)
{
  g_autoptr (GString) sdp = g_string_new (SESSION);
  g_autoptr (RecOffer) offer = NULL;

  for (int i = 0; i < REC_OFFER_MAX_MLINES; i++)
    g_string_append_printf (sdp, "m=audio 9 RTP/AVP 111" CRLF "a=mid:%d" CRLF
                            "a=rtpmap:111 opus/48000/2" CRLF, i);
  offer = parse_ok (sdp->str);
  g_assert_cmpuint (offer->mlines->len, ==, REC_OFFER_MAX_MLINES);
}

static void
test_limits_too_many_pts (void)
{
  g_autoptr (GString) sdp = g_string_new (SESSION "m=video 9 RTP/AVP");

  for (int i = 0; i <= REC_OFFER_MAX_PAYLOAD_TYPES; i++)
    g_string_append_printf (sdp, " %d", 32 + i);
  g_string_append (sdp, CRLF);
  parse_fails (sdp->str, sdp->len, REC_OFFER_ERROR_LIMIT);
}

static void
test_limits_too_many_attributes (void)
{
  g_autoptr (GString) sdp = g_string_new (SESSION "m=video 9 RTP/AVP 96" CRLF);

  for (int i = 0; i <= REC_OFFER_MAX_MEDIA_ATTRIBUTES; i++)
    g_string_append (sdp, "a=rtcp-fb:* nack" CRLF);
  parse_fails (sdp->str, sdp->len, REC_OFFER_ERROR_LIMIT);
}

#define NUL_SDP "v=0\r\nm=audio 9 RTP/AVP 0\r\n\0m=video 9 RTP/AVP 96\r\n"

static void
test_limits_field_names (void)
{
  g_autoptr (GString) sdp = g_string_new (SESSION "m=video 9 RTP/AVP 96" CRLF
                                          "a=rtpmap:96 VP8/90000" CRLF);
  g_autoptr (RecOffer) offer = NULL;

  /* The same names again and again cost nothing… */
  for (int i = 0; i < 200; i++)
    g_string_append (sdp, "a=fmtp:96 max-fs=12288;max-fr=60" CRLF "a=rtcp-fb:96 nack pli" CRLF);
  offer = parse_ok (sdp->str);
  /* …fresh ones would be interned for the life of the process. */
  for (int i = 0; i < 200; i++)
    g_string_append_printf (sdp, "a=fmtp:96 unique-parameter-%d=1" CRLF, i);
  parse_fails (sdp->str, sdp->len, REC_OFFER_ERROR_LIMIT);
}

static void
test_hostile (void)
{
  static const struct {
    const char *name, *sdp;
    gsize len; /* 0: strlen */
    int code;
  } cases[] = {
    { "empty", "", 0, REC_OFFER_ERROR_SYNTAX },
    { "no-mlines", SESSION "a=group:BUNDLE 0" CRLF, 0, REC_OFFER_ERROR_NO_MEDIA },
    { "version-1", "v=1" CRLF "m=audio 9 RTP/AVP 0" CRLF, 0, REC_OFFER_ERROR_SYNTAX },
    { "version-00", "v=00" CRLF "m=audio 9 RTP/AVP 0" CRLF, 0, REC_OFFER_ERROR_SYNTAX },
    { "leading-space", " v=0" CRLF "m=audio 9 RTP/AVP 0" CRLF, 0, REC_OFFER_ERROR_SYNTAX },
    { "http", "GET / HTTP/1.1" CRLF CRLF, 0, REC_OFFER_ERROR_SYNTAX },
    { "nul-byte", NUL_SDP, sizeof (NUL_SDP) - 1, REC_OFFER_ERROR_SYNTAX },
    { "binary", "v=0\r\n\xff\xfe\x80garbage\r\n", 0, REC_OFFER_ERROR_SYNTAX },
    { "bare-cr", "v=0\r\na=x\rm=audio 9 RTP/AVP 0\r\n", 0, REC_OFFER_ERROR_SYNTAX },
    { "indented-mline", SESSION " m=audio 9 RTP/AVP 0" CRLF, 0, REC_OFFER_ERROR_SYNTAX },
    { "no-equals", SESSION "m audio 9 RTP/AVP 0" CRLF, 0, REC_OFFER_ERROR_SYNTAX },
    { "upper-type", SESSION "M=audio 9 RTP/AVP 0" CRLF, 0, REC_OFFER_ERROR_SYNTAX },
    { "pt-128", SESSION "m=audio 9 RTP/AVP 128" CRLF, 0, REC_OFFER_ERROR_BAD_MEDIA },
    { "pt-negative", SESSION "m=audio 9 RTP/AVP -1" CRLF, 0, REC_OFFER_ERROR_BAD_MEDIA },
    { "pt-word", SESSION "m=video 9 RTP/AVP vp8" CRLF, 0, REC_OFFER_ERROR_BAD_MEDIA },
    { "pt-huge", SESSION "m=video 9 RTP/AVP 99999999999999999999" CRLF, 0,
      REC_OFFER_ERROR_BAD_MEDIA },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_test_message ("case %s", cases[i].name);
    parse_fails (cases[i].sdp, cases[i].len ? cases[i].len : strlen (cases[i].sdp),
                 cases[i].code);
  }
}

/* Offers that are odd but must parse, with missing pieces reading as absent. */
static void
test_hostile_accepted (void)
{
  const char *cases[] = {
    /* m-line with nothing after the media */
    SESSION "m=audio" CRLF,
    SESSION "m=" CRLF,
    /* attributes without values, extmaps out of range or malformed */
    SESSION "m=audio 9 RTP/AVP 111" CRLF "a=mid" CRLF "a=msid" CRLF "a=extmap" CRLF
        "a=extmap:0 " TCC_URI CRLF "a=extmap:15 " TCC_URI CRLF "a=extmap:256 " TCC_URI CRLF
        "a=extmap:3" TCC_URI CRLF "a=extmap:-3 " TCC_URI CRLF "a=rtpmap:111" CRLF
        "a=rtpmap:" CRLF "a=fmtp:111" CRLF "a=rtcp-fb:111" CRLF "a=rtcp-fb:*" CRLF
        "a=group:BUNDLE" CRLF,
    /* rtpmap with absurd numbers */
    SESSION "m=audio 9 RTP/AVP 111" CRLF "a=rtpmap:111 opus/99999999999999999999/2" CRLF
        "a=rtpmap:111 opus/-48000" CRLF,
    /* trailing blanks after formats, and duplicate formats */
    SESSION "m=audio 9 RTP/AVP 111 111 111   " CRLF "a=rtpmap:111 opus/48000/2" CRLF,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (RecOffer) offer = parse_ok (cases[i]);

    for (guint m = 0; m < offer->mlines->len; m++) {
      const RecMline *mline = rec_offer_get_mline (offer, m);
      g_autoptr (GstCaps) caps = rec_offer_codec_preferences (offer, m);

      g_assert_cmpint (mline->transport_cc_ext_id, ==, -1);
      g_assert_true ((rec_offer_pick_codec (mline) == NULL) == (caps == NULL));
    }
  }
}

/* The claim rec-offer exists for: with these preferences, webrtcbin 1.22 answers with
 * the picked codec only and keeps the transport-cc extension. */
static void
on_new_transceiver (G_GNUC_UNUSED GstElement *webrtc, GstWebRTCRTPTransceiver *trans,
                    RecOffer *offer)
{
  guint mline;
  g_autoptr (GstCaps) caps = NULL;

  g_object_get (trans, "mlineindex", &mline, NULL);
  caps = rec_offer_codec_preferences (offer, mline);
  g_object_set (trans, "codec-preferences", caps, "do-nack", TRUE, NULL);
}

static void
test_webrtcbin_answer (void)
{
  g_autoptr (RecOffer) offer = parse_ok (chromium_offer);
  g_autoptr (GstElement) webrtc = gst_element_factory_make ("webrtcbin", NULL);
  GstSDPMessage *sdp = NULL;
  GstWebRTCSessionDescription *desc;
  GstPromise *promise;
  const GstStructure *reply;
  GstWebRTCSessionDescription *answer = NULL;
  g_autofree char *text = NULL;

  if (webrtc == NULL) {
    g_test_skip ("webrtcbin is not installed");
    return;
  }
  gst_object_ref_sink (webrtc);
  g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  g_signal_connect (webrtc, "on-new-transceiver", G_CALLBACK (on_new_transceiver), offer);
  g_assert_cmpint (gst_element_set_state (webrtc, GST_STATE_READY), !=,
                   GST_STATE_CHANGE_FAILURE);

  g_assert_cmpint (gst_sdp_message_new_from_text (chromium_offer, &sdp), ==, GST_SDP_OK);
  desc = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  promise = gst_promise_new ();
  g_signal_emit_by_name (webrtc, "set-remote-description", desc, promise);
  g_assert_cmpint (gst_promise_wait (promise), ==, GST_PROMISE_RESULT_REPLIED);
  gst_promise_unref (promise);
  gst_webrtc_session_description_free (desc);

  promise = gst_promise_new ();
  g_signal_emit_by_name (webrtc, "create-answer", NULL, promise);
  g_assert_cmpint (gst_promise_wait (promise), ==, GST_PROMISE_RESULT_REPLIED);
  reply = gst_promise_get_reply (promise);
  gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, NULL);
  gst_promise_unref (promise);
  g_assert_nonnull (answer);
  text = gst_sdp_message_as_text (answer->sdp);
  g_test_message ("answer:\n%s", text);

  g_assert_cmpuint (gst_sdp_message_medias_len (answer->sdp), ==, 2);
  g_assert_cmpstr (gst_sdp_media_get_format (gst_sdp_message_get_media (answer->sdp, 0), 0), ==,
                   "111");
  g_assert_cmpstr (gst_sdp_media_get_format (gst_sdp_message_get_media (answer->sdp, 1), 0), ==,
                   "96");
  g_assert_nonnull (strstr (text, "a=extmap:3 " TCC_URI));
  g_assert_nonnull (strstr (text, "a=rtpmap:96 VP8/90000"));
  g_assert_null (strstr (text, "H264"));
  g_assert_null (strstr (text, "a=ice-ufrag:Yc4v")); /* nothing of the offer echoed */

  gst_webrtc_session_description_free (answer);
  gst_element_set_state (webrtc, GST_STATE_NULL);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/rec-offer/parse/chromium-offer", test_parse_chromium);
  g_test_add_func ("/rec-offer/parse/firefox-offer", test_parse_firefox);
  g_test_add_func ("/rec-offer/parse/lf-line-endings", test_parse_lf_only);
  g_test_add_func ("/rec-offer/parse/msid", test_parse_msid);
  g_test_add_func ("/rec-offer/parse/bundle-only", test_parse_bundle_only);
  g_test_add_func ("/rec-offer/pick/chromium", test_pick_chromium);
  g_test_add_func ("/rec-offer/pick/h264-only", test_pick_h264_only);
  g_test_add_func ("/rec-offer/pick/h264-any-profile", test_pick_h264_any_profile);
  g_test_add_func ("/rec-offer/pick/unsupported", test_pick_unsupported);
  g_test_add_func ("/rec-offer/pick/rtpmap-without-rate", test_pick_rtpmap_without_rate);
  g_test_add_func ("/rec-offer/prefs/video", test_prefs_video);
  g_test_add_func ("/rec-offer/prefs/audio", test_prefs_audio);
  g_test_add_func ("/rec-offer/prefs/h264", test_prefs_h264);
  g_test_add_func ("/rec-offer/prefs/fmtp-injection", test_prefs_fmtp_injection);
  g_test_add_func ("/rec-offer/prefs/webrtcbin-answer", test_webrtcbin_answer);
  g_test_add_func ("/rec-offer/limits/size", test_limits_size);
  g_test_add_func ("/rec-offer/limits/lines", test_limits_lines);
  g_test_add_func ("/rec-offer/limits/long-line", test_limits_long_line);
  g_test_add_func ("/rec-offer/limits/too-many-mlines", test_limits_too_many_mlines);
  g_test_add_func ("/rec-offer/limits/max-mlines-ok", test_limits_max_mlines_ok);
  g_test_add_func ("/rec-offer/limits/too-many-payload-types", test_limits_too_many_pts);
  g_test_add_func ("/rec-offer/limits/too-many-attributes", test_limits_too_many_attributes);
  g_test_add_func ("/rec-offer/limits/field-names", test_limits_field_names);
  g_test_add_func ("/rec-offer/hostile/refused", test_hostile);
  g_test_add_func ("/rec-offer/hostile/accepted", test_hostile_accepted);

  return g_test_run ();
}
