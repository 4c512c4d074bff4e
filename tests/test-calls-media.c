/* SPDX-License-Identifier: MIT */
/* Media through the signaling WebSocket: three GStreamer webrtcbin clients in this process
 * join one call of the real callrec-server (free HTTP and RTC ports, media advertised on
 * 127.0.0.1) the way a browser does: `join` with an offer, the answer as `signal`, every
 * SFU re-offer answered with `sdp`. Each must reach ICE and DTLS connected (webrtcbin's
 * connection-state) and the server must see them connected (sfu-stats). Everyone joins
 * muted: after `unmute` each client receives the others' audio, and each hears
 * `user_voice_on` for every speaker (the SFU reads the RFC 6464 levels the clients send).
 * The first client also sends a VP8 track: after its `screen_on` the others receive it
 * (the SFU re-offers, the clients answer over the socket); a second `screen_on` is
 * refused. Finally `mute` makes the SFU drop the first client's audio. */
#include "webrtc-client.h"
#include "ws-fixture.h"

#include <gst/gst.h>
#include <gst/rtp/rtp.h>
#include <gst/sdp/sdp.h>
#include <glib/gstdio.h>
#include <string.h>

#define N_CLIENTS 3
#define GUARD_S 60

typedef struct {
  Ws *ws;
  char *token;
  GstElement *pipeline, *webrtc;
  gint audio_buffers; /* atomic: RTP buffers received on audio pads */
  gint video_buffers; /* atomic: RTP buffers received on video pads */
  guint voice_on;     /* user_voice_on events heard */
} Client;

static void
on_audio (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer user_data)
{
  g_atomic_int_inc (&((Client *) user_data)->audio_buffers);
}

static void
on_video (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer user_data)
{
  g_atomic_int_inc (&((Client *) user_data)->video_buffers);
}

/* Each forwarded track ends in a counting fakesink (webrtcbin's streaming thread). */
static void
on_pad_added (GstElement *webrtc, GstPad *pad, gpointer user_data)
{
  Client *c = user_data;
  g_autoptr (GstCaps) caps = NULL;
  GstElement *sink;
  GstPad *sinkpad;
  const char *media;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  /* webrtcbin exposes the pad once RTP flows, so its caps are set. */
  caps = gst_pad_get_current_caps (pad);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  media = gst_structure_get_string (gst_caps_get_structure (caps, 0), "media");
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, "signal-handoffs", TRUE, NULL);
  g_signal_connect (sink, "handoff",
                    g_strcmp0 (media, "video") == 0 ? G_CALLBACK (on_video) : G_CALLBACK (on_audio),
                    c);
  gst_bin_add (GST_BIN (c->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  g_assert_cmpint (gst_pad_link (pad, sinkpad), ==, GST_PAD_LINK_OK);
  gst_object_unref (sinkpad);
}

/* {"channel_id": …, "sdp": …} or {"type": "answer", "sdp": …}, JSON-escaped. */
static char *
sdp_data (const char *key, const char *value, const char *sdp)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, value);
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, sdp);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  return json_to_string (node, FALSE);
}

static void
client_start (Client *c, gboolean share)
{
  g_autoptr (GError) error = NULL;
  GstWebRTCSessionDescription *offer;
  GstPromise *promise;
  g_autofree char *launch = NULL;
  g_autofree char *text = NULL;
  g_autofree char *data = NULL;
  JsonObject *signal, *desc;

  launch = g_strdup_printf (
      "webrtcbin name=webrtc bundle-policy=max-bundle "
      "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! "
      "level audio-level-meta=true ! opusenc ! rtpopuspay name=pay pt=111 ! webrtc.sink_0 %s",
      share ? "videotestsrc is-live=true pattern=ball ! "
              "video/x-raw,width=320,height=240,framerate=15/1 ! "
              "vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96 ! "
              "application/x-rtp,media=video,encoding-name=VP8,payload=96 ! webrtc.sink_1"
            : "");
  c->pipeline = gst_parse_launch (launch, &error);
  g_assert_no_error (error);
  c->webrtc = gst_bin_get_by_name (GST_BIN (c->pipeline), "webrtc");
  webrtc_client_configure_ice (c->webrtc);
  g_signal_connect (c->webrtc, "pad-added", G_CALLBACK (on_pad_added), c);
  {
    /* RFC 6464 audio levels (from `level`'s meta), from which the SFU derives voice. */
    GstElement *pay = gst_bin_get_by_name (GST_BIN (c->pipeline), "pay");
    GstRTPHeaderExtension *ext
        = gst_rtp_header_extension_create_from_uri ("urn:ietf:params:rtp-hdrext:ssrc-audio-level");

    g_assert_nonnull (ext);
    gst_rtp_header_extension_set_id (ext, 1);
    g_signal_emit_by_name (pay, "add-extension", ext);
    gst_object_unref (ext);
    gst_object_unref (pay);
  }
  for (int i = 0; i < (share ? 2 : 1); i++) {
    g_autofree char *name = g_strdup_printf ("sink_%d", i);
    GstPad *pad = gst_element_get_static_pad (c->webrtc, name);
    GstWebRTCRTPTransceiver *trans = NULL;

    g_object_get (pad, "transceiver", &trans, NULL);
    g_object_set (trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, NULL);
    gst_object_unref (trans);
    gst_object_unref (pad);
  }
  gst_element_set_state (c->pipeline, GST_STATE_PLAYING);
  /* webrtcbin writes a track's SSRC in the offer only once caps reached its pad. */
  for (int i = 0; i < (share ? 2 : 1); i++) {
    g_autofree char *name = g_strdup_printf ("sink_%d", i);
    GstPad *pad = gst_element_get_static_pad (c->webrtc, name);
    GstCaps *caps = NULL;

    for (int t = 0; t < 3000 && !(caps = gst_pad_get_current_caps (pad)); t++)
      g_usleep (10000);
    g_assert_nonnull (caps);
    gst_caps_unref (caps);
    gst_object_unref (pad);
  }

  promise = gst_promise_new ();
  g_signal_emit_by_name (c->webrtc, "create-offer", NULL, promise);
  offer = webrtc_client_promise_sdp (promise, "offer");
  webrtc_client_set_description (c->webrtc, "set-local-description", offer);
  text = gst_sdp_message_as_text (offer->sdp);
  gst_webrtc_session_description_free (offer);

  data = sdp_data ("channel_id", "town", text);
  ws_send (c->ws, "join", data);
  ws_wait (c->ws, "joined");
  signal = ws_expect (c->ws, "signal");
  desc = json_object_get_object_member (signal, "sdp");
  g_assert_cmpstr (data_string (desc, "type"), ==, "answer");
  {
    GstWebRTCSessionDescription *answer
        = webrtc_client_sdp_from_text (GST_WEBRTC_SDP_TYPE_ANSWER, data_string (desc, "sdp"));

    webrtc_client_set_description (c->webrtc, "set-remote-description", answer);
    gst_webrtc_session_description_free (answer);
  }
}

/* Handles what the server sent: SFU re-offers are answered. */
static void
client_pump (Client *c)
{
  while (!ws_queue_empty (c->ws)) {
    JsonObject *env = ws_next (c->ws);
    const char *type = json_object_get_string_member (env, "type");
    JsonObject *data = json_object_get_object_member (env, "data");
    JsonObject *desc;
    GstWebRTCSessionDescription *offer, *answer;
    GstPromise *promise;
    g_autofree char *text = NULL;
    g_autofree char *reply = NULL;

    if (g_str_equal (type, "error"))
      g_error ("server error: %s: %s", data_string (data, "code"), data_string (data, "message"));
    if (g_str_equal (type, "user_voice_on"))
      c->voice_on++;
    if (!g_str_equal (type, "signal"))
      continue;
    desc = json_object_get_object_member (data, "sdp");
    g_assert_nonnull (desc);
    g_assert_cmpstr (data_string (desc, "type"), ==, "offer");
    offer = webrtc_client_sdp_from_text (GST_WEBRTC_SDP_TYPE_OFFER, data_string (desc, "sdp"));
    webrtc_client_set_description (c->webrtc, "set-remote-description", offer);
    gst_webrtc_session_description_free (offer);
    promise = gst_promise_new ();
    g_signal_emit_by_name (c->webrtc, "create-answer", NULL, promise);
    answer = webrtc_client_promise_sdp (promise, "answer");
    webrtc_client_set_description (c->webrtc, "set-local-description", answer);
    text = gst_sdp_message_as_text (answer->sdp);
    gst_webrtc_session_description_free (answer);
    reply = sdp_data ("type", "answer", text);
    ws_send (c->ws, "sdp", reply);
  }
}

static gboolean
client_connected (Client *c)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (c->webrtc, "connection-state", &state, NULL);
  return state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED;
}

typedef gboolean (*Condition) (Client *clients, Server *s, const char *admin);

/* Runs the main context and answers offers until @cond holds; fails after GUARD_S. */
static void
pump_until (Client *clients, Server *s, const char *admin, Condition cond, const char *what)
{
  gint64 end = g_get_monotonic_time () + GUARD_S * G_USEC_PER_SEC;

  while (!cond (clients, s, admin)) {
    if (g_get_monotonic_time () > end)
      g_error ("not reached in %d s: %s", GUARD_S, what);
    while (g_main_context_iteration (NULL, FALSE))
      ;
    for (int i = 0; i < N_CLIENTS; i++)
      client_pump (&clients[i]);
    g_usleep (10000);
  }
}

static gboolean
all_connected (Client *clients, Server *s, const char *admin)
{
  for (int i = 0; i < N_CLIENTS; i++)
    if (!client_connected (&clients[i]))
      return FALSE;
  return TRUE;
}

static gboolean
server_sees_all (Client *clients, Server *s, const char *admin)
{
  g_autoptr (Reply) r = call (s, "GET", "/api/v1/calls/town/sfu-stats", admin, NULL);
  JsonArray *a;
  guint connected = 0;

  assert_status (r, 200);
  a = json_node_get_array (r->json);
  for (guint i = 0; i < json_array_get_length (a); i++)
    connected += json_object_get_boolean_member (json_array_get_object_element (a, i), "connected");
  return connected == N_CLIENTS;
}

static gboolean
others_see_screen (Client *clients, Server *s, const char *admin)
{
  for (int i = 1; i < N_CLIENTS; i++)
    if (g_atomic_int_get (&clients[i].video_buffers) < 30)
      return FALSE;
  return TRUE;
}

/* Each client was told that each of the three speaks (from the SFU's audio levels). */
static gboolean
all_voices_seen (Client *clients, Server *s, const char *admin)
{
  for (int i = 0; i < N_CLIENTS; i++)
    if (clients[i].voice_on < N_CLIENTS)
      return FALSE;
  return TRUE;
}

static gboolean
first_dropped (Client *clients, Server *s, const char *admin)
{
  g_autoptr (Reply) r = call (s, "GET", "/api/v1/calls/town/sfu-stats", admin, NULL);
  JsonArray *a;

  assert_status (r, 200);
  a = json_node_get_array (r->json);
  for (guint i = 0; i < json_array_get_length (a); i++) {
    JsonObject *o = json_array_get_object_element (a, i);

    if (g_str_equal (json_object_get_string_member (o, "session_id"), clients[0].ws->session_id))
      return json_object_get_int_member (o, "dropped_muted") > 0;
  }
  g_assert_not_reached ();
}

static gboolean
all_hear (Client *clients, Server *s, const char *admin)
{
  for (int i = 0; i < N_CLIENTS; i++)
    if (g_atomic_int_get (&clients[i].audio_buffers) < 100)
      return FALSE;
  return TRUE;
}

static void
test_webrtc_clients (void)
{
  g_autofree char *dir = g_dir_make_tmp ("callrec-calls-media-XXXXXX", NULL);
  Server *s = server_start (dir, NULL);
  g_autofree char *admin = read_admin_token (dir);
  Client clients[N_CLIENTS] = { 0 };
  static const char *const names[N_CLIENTS] = { "ann", "ben", "cat" };

  for (int i = 0; i < N_CLIENTS; i++) {
    g_autofree char *body = g_strdup_printf ("{\"username\":\"%s\"}", names[i]);
    g_autofree char *path = g_strdup_printf ("/api/v1/users/%s/tokens", names[i]);
    g_autoptr (Reply) u = call (s, "POST", "/api/v1/users", admin, body);
    g_autoptr (Reply) t = call (s, "POST", path, admin, "{}");

    assert_status (u, 201);
    assert_status (t, 201);
    clients[i].token = g_strdup (member_string (t->json, "token"));
  }
  {
    g_autoptr (Reply) r = call (s, "POST", "/api/v1/channels", admin,
                                "{\"type\":\"public\",\"name\":\"town\","
                                "\"members\":[\"ann\",\"ben\",\"cat\"]}");
    assert_status (r, 201);
  }
  for (int i = 0; i < N_CLIENTS; i++) {
    clients[i].ws = ws_connect (s, clients[i].token, NULL);
    client_start (&clients[i], i == 0);
  }
  pump_until (clients, s, admin, all_connected, "every client ICE+DTLS connected");
  pump_until (clients, s, admin, server_sees_all, "the SFU sees every client connected");

  /* Everyone joined muted; unmuted, each hears the others. */
  for (int i = 0; i < N_CLIENTS; i++)
    ws_send (clients[i].ws, "unmute", NULL);
  pump_until (clients, s, admin, all_hear, "audio from the others at every client");
  pump_until (clients, s, admin, all_voices_seen, "user_voice_on for every speaker");

  /* Mute is enforced in the SFU: the first client keeps sending, the SFU drops it. */
  ws_send (clients[0].ws, "mute", NULL);
  pump_until (clients, s, admin, first_dropped, "the SFU dropping the muted client's audio");

  /* The first client shares its screen: the others receive its video. */
  ws_send (clients[0].ws, "screen_on", NULL);
  pump_until (clients, s, admin, others_see_screen, "the share at the other clients");
  g_assert_cmpint (g_atomic_int_get (&clients[0].video_buffers), ==, 0);
  {
    /* A second sharer is refused (skipping what else the server says meanwhile). */
    gint64 seq = ws_send (clients[1].ws, "screen_on", NULL);
    JsonObject *err = ws_wait (clients[1].ws, "error");

    g_assert_cmpstr (data_string (err, "code"), ==, "screen_busy");
    g_assert_cmpint (json_object_get_int_member (err, "seq"), ==, seq);
  }

  {
    g_autoptr (Reply) r = call (s, "GET", "/api/v1/calls/town/sfu-stats", admin, NULL);
    JsonArray *a = json_node_get_array (r->json);

    for (guint i = 0; i < json_array_get_length (a); i++) {
      JsonObject *o = json_array_get_object_element (a, i);

      g_assert_cmpint (json_object_get_int_member (o, "packets_in"), >, 0);
      g_assert_cmpint (json_object_get_int_member (o, "packets_out"), >, 0);
    }
  }
  for (int i = 0; i < N_CLIENTS; i++) {
    g_clear_pointer (&clients[i].ws, ws_free);
    gst_element_set_state (clients[i].pipeline, GST_STATE_NULL);
    gst_object_unref (clients[i].webrtc);
    gst_object_unref (clients[i].pipeline);
    g_free (clients[i].token);
  }
  {
    g_autofree char *log = g_strdup (s->log_path);

    server_stop (s);
    remove_tree (dir);
    g_unlink (log);
  }
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  /* webrtcbin 1.22 warns (g_warn_if_reached, "jitter_buffer_set_retransmission") when RTP
   * arrives for an m-line of an offer it has not applied yet: the SFU forwards a new track
   * right after its re-offer, and in a slow build (ASan) the first packets can beat the
   * client's answer. Criticals stay fatal; warnings in this process are GStreamer's (the
   * server under test is another process). */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/calls/media/webrtc-clients", test_webrtc_clients);
  return g_test_run ();
}
