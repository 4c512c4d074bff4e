/* SPDX-License-Identifier: MIT */
/* The SFU with real WebRTC peers: three GStreamer webrtcbin clients in this process join an
 * SfuServer on 127.0.0.1 (ephemeral port). Full ICE (libnice) against the SFU's ICE-lite,
 * DTLS with the SFU as server, SRTP both ways, and every re-offer the SFU makes answered by
 * webrtcbin. Participant k sends an Opus sine at 440 + 220·k Hz; each client decodes what
 * it receives and a Hann-windowed Goertzel filter on every decoded buffer tells which
 * tones arrived. Participant 0 also shares a VP8 screen, which the others decode. Then a
 * second share is refused, a receive-only client joining after the share's keyframes went
 * out still gets decodable video (the SFU's PLI reaches the sharer), and muting
 * participant 0 stops its tone at the receivers while the others' tones go on. */
#include "sfu.h"
#include "webrtc-client.h"

#include <gst/app/app.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <math.h>

#define N_CLIENTS 3
#define TONE_AMPLITUDE 0.15 /* what counts as "the tone is there" (the source sends 0.5) */

typedef struct _Fixture Fixture;

typedef struct {
  Fixture *fx;
  char *id;
  int index;
  double freq;
  GstElement *pipeline, *webrtc;
  gint tone_buffers[N_CLIENTS]; /* atomic: decoded buffers carrying client k's tone */
  gint video_frames;            /* atomic: decoded screen frames */
} Client;

struct _Fixture {
  SfuServer *server;
  SfuCall *call;
  Client clients[N_CLIENTS];
  Client late; /* joins after the share started, sends nothing */
  int connected;
};

static const double freqs[N_CLIENTS] = { 440, 660, 880 };

/* Amplitude of a sine at @freq in @x, Hann-windowed so that the other tones (220 Hz away
 * or more) do not leak into it. */
static double
tone_amplitude (const float *x, gsize n, double freq, double rate)
{
  double w = 2 * G_PI * freq / rate, coeff = 2 * cos (w), s1 = 0, s2 = 0, wsum = 0;

  for (gsize i = 0; i < n; i++) {
    double hann = 0.5 - 0.5 * cos (2 * G_PI * i / (n - 1));
    double s = x[i] * hann + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
    wsum += hann;
  }
  return 2 * sqrt (s1 * s1 + s2 * s2 - coeff * s1 * s2) / wsum;
}

static GstFlowReturn
on_audio_sample (GstAppSink *sink, gpointer user_data)
{
  Client *c = user_data;
  g_autoptr (GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf = sample ? gst_sample_get_buffer (sample) : NULL;
  GstMapInfo map;

  if (!buf || !gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_OK;
  if (map.size / sizeof (float) >= 256) {
    for (int k = 0; k < N_CLIENTS; k++)
      if (tone_amplitude ((const float *) map.data, map.size / sizeof (float), freqs[k],
                          48000) > TONE_AMPLITUDE)
        g_atomic_int_inc (&c->tone_buffers[k]);
  }
  gst_buffer_unmap (buf, &map);
  return GST_FLOW_OK;
}

static void
on_video_frame (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer user_data)
{
  g_atomic_int_inc (&((Client *) user_data)->video_frames);
}

/* A decode branch for each stream the SFU forwards (webrtcbin's streaming thread). */
static void
on_pad_added (GstElement *webrtc, GstPad *pad, gpointer user_data)
{
  Client *c = user_data;
  g_autoptr (GstCaps) caps = NULL;
  const char *media;
  GstElement *bin;
  g_autoptr (GError) error = NULL;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  /* webrtcbin exposes the pad once RTP flows, so its caps are set. */
  caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  media = gst_structure_get_string (gst_caps_get_structure (caps, 0), "media");
  if (g_strcmp0 (media, "audio") == 0) {
    bin = gst_parse_bin_from_description (
        "rtpopusdepay ! opusdec ! audioconvert ! audioresample ! "
        "audio/x-raw,format=F32LE,channels=1,rate=48000 ! appsink name=sink sync=false",
        TRUE, &error);
    g_assert_no_error (error);
    GstElement *sink = gst_bin_get_by_name (GST_BIN (bin), "sink");
    GstAppSinkCallbacks cb = { .new_sample = on_audio_sample };
    gst_app_sink_set_callbacks (GST_APP_SINK (sink), &cb, c, NULL);
    gst_object_unref (sink);
  } else {
    bin = gst_parse_bin_from_description (
        "rtpvp8depay ! vp8dec ! fakesink name=sink sync=false signal-handoffs=true", TRUE,
        &error);
    g_assert_no_error (error);
    GstElement *sink = gst_bin_get_by_name (GST_BIN (bin), "sink");
    g_signal_connect (sink, "handoff", G_CALLBACK (on_video_frame), c);
    gst_object_unref (sink);
  }
  gst_bin_add (GST_BIN (c->pipeline), bin);
  gst_element_sync_state_with_parent (bin);
  GstPad *sinkpad = gst_element_get_static_pad (bin, "sink");
  g_assert_cmpint (gst_pad_link (pad, sinkpad), ==, GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
}

/* The SFU's re-offer to a client: answered by its webrtcbin (main context). */
static void
on_offer (const char *call_id, const char *participant_id, const char *sdp, gpointer user_data)
{
  Fixture *fx = user_data;
  g_autoptr (GError) error = NULL;

  for (int i = 0; i <= N_CLIENTS; i++) {
    Client *c = i < N_CLIENTS ? &fx->clients[i] : &fx->late;
    if (g_strcmp0 (c->id, participant_id) != 0)
      continue;
    GstWebRTCSessionDescription *offer = webrtc_client_sdp_from_text (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
    webrtc_client_set_description (c->webrtc, "set-remote-description", offer);
    gst_webrtc_session_description_free (offer);
    GstPromise *promise = gst_promise_new ();
    g_signal_emit_by_name (c->webrtc, "create-answer", NULL, promise);
    GstWebRTCSessionDescription *answer = webrtc_client_promise_sdp (promise, "answer");
    webrtc_client_set_description (c->webrtc, "set-local-description", answer);
    g_autofree char *text = gst_sdp_message_as_text (answer->sdp);
    gst_webrtc_session_description_free (answer);
    if (g_getenv ("SFU_TEST_DUMP_SDP"))
      g_printerr ("---- offer to %s\n%s---- answer\n%s", participant_id, sdp, text);
    g_assert_true (sfu_participant_apply_answer (fx->call, participant_id, text, &error));
    g_assert_no_error (error);
  }
}

static void
on_event (const SfuEvent *ev, gpointer user_data)
{
  Fixture *fx = user_data;

  if (ev->type == SFU_EVENT_CONNECTED)
    fx->connected++;
  if (ev->type == SFU_EVENT_DISCONNECTED)
    g_test_message ("%s disconnected: %s", ev->participant_id, ev->reason);
}

static void
iterate (int ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end) {
    while (g_main_context_iteration (NULL, FALSE))
      ;
    g_usleep (5000);
  }
}

static void
client_join (Fixture *fx, int index, gboolean share)
{
  Client *c = &fx->clients[index];
  g_autoptr (GError) error = NULL;
  g_autofree char *desc = NULL;
  g_autofree char *answer = NULL;
  GstPad *pads[2] = { NULL, NULL };

  c->fx = fx;
  c->index = index;
  c->id = g_strdup_printf ("p%d", index);
  c->freq = freqs[index];
  desc = g_strdup_printf (
      "webrtcbin name=webrtc bundle-policy=max-bundle "
      "audiotestsrc is-live=true wave=sine volume=0.5 freq=%.0f ! audioconvert ! audioresample ! "
      "opusenc ! rtpopuspay pt=111 ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! "
      "webrtc.sink_0 %s",
      c->freq,
      share ? "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 ! "
              "vp8enc deadline=1 keyframe-max-dist=3000 ! rtpvp8pay pt=96 ! "
              "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! webrtc.sink_1"
            : "");
  c->pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  c->webrtc = gst_bin_get_by_name (GST_BIN (c->pipeline), "webrtc");
  webrtc_client_configure_ice (c->webrtc);
  g_signal_connect (c->webrtc, "pad-added", G_CALLBACK (on_pad_added), c);
  for (int i = 0; i < (share ? 2 : 1); i++) {
    GstWebRTCRTPTransceiver *trans = NULL;
    g_autofree char *name = g_strdup_printf ("sink_%d", i);
    pads[i] = gst_element_get_static_pad (c->webrtc, name);
    g_assert_nonnull (pads[i]);
    g_object_get (pads[i], "transceiver", &trans, NULL);
    g_object_set (trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
    gst_object_unref (trans);
  }
  gst_element_set_state (c->pipeline, GST_STATE_PLAYING);
  /* webrtcbin writes a track's SSRC in the offer only once caps reached its pad. */
  for (int i = 0; i < (share ? 2 : 1); i++) {
    GstCaps *caps = NULL;
    for (int t = 0; t < 500 && !(caps = gst_pad_get_current_caps (pads[i])); t++)
      g_usleep (10000);
    g_assert_nonnull (caps);
    gst_caps_unref (caps);
    gst_object_unref (pads[i]);
  }

  GstPromise *promise = gst_promise_new ();
  g_signal_emit_by_name (c->webrtc, "create-offer", NULL, promise);
  GstWebRTCSessionDescription *offer = webrtc_client_promise_sdp (promise, "offer");
  webrtc_client_set_description (c->webrtc, "set-local-description", offer);
  g_autofree char *text = gst_sdp_message_as_text (offer->sdp);
  gst_webrtc_session_description_free (offer);
  g_assert_true (sfu_participant_add (fx->call, c->id, text, &answer, &error));
  g_assert_no_error (error);
  GstWebRTCSessionDescription *ans = webrtc_client_sdp_from_text (GST_WEBRTC_SDP_TYPE_ANSWER, answer);
  webrtc_client_set_description (c->webrtc, "set-remote-description", ans);
  gst_webrtc_session_description_free (ans);
  if (share) {
    g_assert_true (sfu_participant_set_screen (fx->call, c->id, TRUE, &error));
    g_assert_no_error (error);
  }
}

/* A client with no track of its own, like the recorder: one receive-only audio m-line
 * carries the transport, and the SFU's re-offer brings everyone's tracks. */
static void
late_join (Fixture *fx)
{
  Client *c = &fx->late;
  g_autoptr (GError) error = NULL;
  g_autofree char *answer = NULL;
  GstWebRTCRTPTransceiver *trans = NULL;
  g_autoptr (GstCaps) caps = gst_caps_from_string (
      "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2,"
      "payload=111");

  c->fx = fx;
  c->index = N_CLIENTS;
  c->id = g_strdup ("late");
  c->pipeline = gst_pipeline_new (NULL);
  c->webrtc = gst_element_factory_make ("webrtcbin", NULL);
  g_assert_nonnull (c->webrtc);
  gst_util_set_object_arg (G_OBJECT (c->webrtc), "bundle-policy", "max-bundle");
  gst_bin_add (GST_BIN (c->pipeline), gst_object_ref (c->webrtc));
  webrtc_client_configure_ice (c->webrtc);
  g_signal_connect (c->webrtc, "pad-added", G_CALLBACK (on_pad_added), c);
  g_signal_emit_by_name (c->webrtc, "add-transceiver",
                         GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
  g_assert_nonnull (trans);
  gst_object_unref (trans);
  gst_element_set_state (c->pipeline, GST_STATE_PLAYING);

  GstPromise *promise = gst_promise_new ();
  g_signal_emit_by_name (c->webrtc, "create-offer", NULL, promise);
  GstWebRTCSessionDescription *offer = webrtc_client_promise_sdp (promise, "offer");
  webrtc_client_set_description (c->webrtc, "set-local-description", offer);
  g_autofree char *text = gst_sdp_message_as_text (offer->sdp);
  gst_webrtc_session_description_free (offer);
  gboolean added = sfu_participant_add (fx->call, c->id, text, &answer, &error);
  g_assert_no_error (error);
  g_assert_true (added);
  GstWebRTCSessionDescription *ans = webrtc_client_sdp_from_text (GST_WEBRTC_SDP_TYPE_ANSWER, answer);
  webrtc_client_set_description (c->webrtc, "set-remote-description", ans);
  gst_webrtc_session_description_free (ans);
}

static gboolean
all_heard (Fixture *fx, int min_buffers)
{
  for (int i = 0; i < N_CLIENTS; i++)
    for (int k = 0; k < N_CLIENTS; k++)
      if (k != i && g_atomic_int_get (&fx->clients[i].tone_buffers[k]) < min_buffers)
        return FALSE;
  return TRUE;
}

static gboolean
all_see_screen (Fixture *fx, int min_frames)
{
  for (int i = 1; i < N_CLIENTS; i++)
    if (g_atomic_int_get (&fx->clients[i].video_frames) < min_frames)
      return FALSE;
  return TRUE;
}

static void
test_three_party_call (void)
{
  Fixture fx = { 0 };
  SfuConfig config;
  g_autoptr (GError) error = NULL;

  sfu_config_init (&config);
  config.bind_host = "127.0.0.1";
  config.port = 0;
  config.n_loops = 2;
  config.callbacks.offer = on_offer;
  config.callbacks.event = on_event;
  config.user_data = &fx;
  fx.server = sfu_server_new (&config, &error);
  g_assert_no_error (error);
  fx.call = sfu_call_new (fx.server, "call-webrtc", &error);
  g_assert_no_error (error);

  client_join (&fx, 0, TRUE);
  client_join (&fx, 1, FALSE);
  client_join (&fx, 2, FALSE);

  for (int i = 0; i < 100 && !(fx.connected == N_CLIENTS && all_heard (&fx, 25) &&
                               all_see_screen (&fx, 10));
       i++)
    iterate (100);
  g_assert_cmpint (fx.connected, ==, N_CLIENTS);
  for (int i = 0; i < N_CLIENTS; i++) {
    Client *c = &fx.clients[i];
    SfuParticipantStats st;
    g_assert_true (sfu_participant_get_stats (fx.call, c->id, &st, &error));
    g_test_message ("%s: in %" G_GUINT64_FORMAT " packets, out %" G_GUINT64_FORMAT
                    ", srtp errors %" G_GUINT64_FORMAT ", PLIs sent %" G_GUINT64_FORMAT,
                    c->id, st.packets_in, st.packets_out, st.srtp_errors, st.plis_sent);
    g_test_message ("%s heard %d/%d/%d tone buffers, saw %d frames", c->id, c->tone_buffers[0],
                    c->tone_buffers[1], c->tone_buffers[2], c->video_frames);
    /* Each hears the other two, and never itself. */
    for (int k = 0; k < N_CLIENTS; k++) {
      if (k == i)
        g_assert_cmpint (g_atomic_int_get (&c->tone_buffers[k]), ==, 0);
      else
        g_assert_cmpint (g_atomic_int_get (&c->tone_buffers[k]), >=, 25);
    }
  }
  g_assert_true (all_see_screen (&fx, 10));
  g_assert_cmpint (g_atomic_int_get (&fx.clients[0].video_frames), ==, 0);

  /* One share at a time. */
  g_assert_false (sfu_participant_set_screen (fx.call, "p1", TRUE, &error));
  g_assert_error (error, SFU_ERROR, SFU_ERROR_SCREEN_BUSY);
  g_clear_error (&error);

  /* A late joiner: the share's keyframes went out long ago (vp8enc sends one only when
   * asked), so its video starts only once the SFU's PLI for it reached p0's webrtcbin and
   * p0 answered with a keyframe; the SFU forwards no video to it before that keyframe. */
  SfuParticipantStats st;
  g_assert_true (sfu_participant_get_stats (fx.call, "p0", &st, &error));
  guint64 plis_before = st.plis_sent;
  late_join (&fx);
  for (int i = 0; i < 100 && g_atomic_int_get (&fx.late.video_frames) < 10; i++)
    iterate (100);
  g_assert_true (sfu_participant_get_stats (fx.call, "p0", &st, &error));
  g_test_message ("late: saw %d frames, heard %d/%d/%d tone buffers; PLIs to p0 %" G_GUINT64_FORMAT
                  " -> %" G_GUINT64_FORMAT,
                  fx.late.video_frames, fx.late.tone_buffers[0], fx.late.tone_buffers[1],
                  fx.late.tone_buffers[2], plis_before, st.plis_sent);
  g_assert_cmpint (g_atomic_int_get (&fx.late.video_frames), >=, 10);
  g_assert_cmpuint (st.plis_sent, >, plis_before);

  /* Mute p0: once what was in flight has played out, its tone stops at both receivers
   * while p1's and p2's go on. */
  g_assert_true (sfu_participant_set_muted (fx.call, "p0", TRUE, &error));
  iterate (1000);
  int before[N_CLIENTS][N_CLIENTS];
  for (int i = 0; i < N_CLIENTS; i++)
    for (int k = 0; k < N_CLIENTS; k++)
      before[i][k] = g_atomic_int_get (&fx.clients[i].tone_buffers[k]);
  iterate (1500);
  g_assert_cmpint (g_atomic_int_get (&fx.clients[1].tone_buffers[0]), ==, before[1][0]);
  g_assert_cmpint (g_atomic_int_get (&fx.clients[2].tone_buffers[0]), ==, before[2][0]);
  g_assert_cmpint (g_atomic_int_get (&fx.clients[1].tone_buffers[2]), >, before[1][2] + 10);
  g_assert_cmpint (g_atomic_int_get (&fx.clients[2].tone_buffers[1]), >, before[2][1] + 10);
  g_assert_cmpint (g_atomic_int_get (&fx.clients[0].tone_buffers[1]), >, before[0][1] + 10);

  g_assert_true (sfu_participant_get_stats (fx.call, "p0", &st, &error));
  g_assert_cmpuint (st.dropped_muted, >, 0);
  g_assert_cmpuint (st.packets_in, >, 0);
  g_assert_cmpuint (st.packets_out, >, 0);
  /* webrtcbin's receiver reports answer the SFU's sender reports (its RTCP interval is
   * several seconds: wait for one that follows an SR). */
  for (int i = 0; i < 150; i++) {
    g_assert_true (sfu_participant_get_stats (fx.call, "p1", &st, &error));
    if (st.rtt_ms >= 0)
      break;
    iterate (100);
  }
  g_test_message ("p1: rtt %.2f ms, jitter %.2f ms, lost %" G_GUINT64_FORMAT, st.rtt_ms,
                  st.jitter_ms, st.packets_lost);
  g_assert_cmpfloat (st.rtt_ms, >=, 0);

  /* Share off: the receivers' video m-lines go inactive in a re-offer webrtcbin accepts
   * (asserted in on_offer), and the call goes on. */
  g_assert_true (sfu_participant_set_screen (fx.call, "p0", FALSE, &error));
  iterate (500);
  for (int i = 0; i < N_CLIENTS; i++)
    for (int k = 0; k < N_CLIENTS; k++)
      before[i][k] = g_atomic_int_get (&fx.clients[i].tone_buffers[k]);
  iterate (1000);
  g_assert_cmpint (g_atomic_int_get (&fx.clients[2].tone_buffers[1]), >, before[2][1] + 10);
  g_assert_cmpint (g_atomic_int_get (&fx.clients[1].tone_buffers[2]), >, before[1][2] + 10);

  for (int i = 0; i < N_CLIENTS; i++) {
    gst_element_set_state (fx.clients[i].pipeline, GST_STATE_NULL);
    gst_object_unref (fx.clients[i].webrtc);
    gst_object_unref (fx.clients[i].pipeline);
    g_free (fx.clients[i].id);
  }
  gst_element_set_state (fx.late.pipeline, GST_STATE_NULL);
  gst_object_unref (fx.late.webrtc);
  gst_object_unref (fx.late.pipeline);
  g_free (fx.late.id);
  sfu_call_end (fx.call);
  sfu_server_free (fx.server);
}

/* Under -Db_sanitize=address: a GLib library constructor allocates 16 KiB once at load
 * time (its stack ends in _dl_init) and never frees it. Only that is suppressed; the slow
 * unwinder is needed to see that frame (GLib has no frame pointers). */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
  return "leak:_dl_init\n";
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sfu/webrtc/three-party-call", test_three_party_call);
  return g_test_run ();
}
