/* SPDX-License-Identifier: MIT */
/* The SFU core (sfu.h) with hand-driven peers: each RawPeer is a UDP socket on 127.0.0.1
 * that does what a browser does on the wire with the project's own pieces (STUN checks
 * signed with the SFU's password, a DTLS client on SfuDtls, SRTP on SfuSrtp), so every
 * byte the SFU sees can be chosen: negotiation rules (re-offers, glare, one share), real
 * forwarding with rewritten SSRCs, mute, and hostile input (SRTP before DTLS, a
 * ClientHello from another address, NACK and PLI floods). The webrtcbin peers are in
 * test-sfu-webrtc.c. */
#include "sfu.h"
#include "sfu-bytes.h"
#include "sfu-cert.h"
#include "sfu-dtls.h"
#include "sfu-rtcp.h"
#include "sfu-rtp.h"
#include "sfu-sdp.h"
#include "sfu-srtp.h"
#include "sfu-test-peer.h"

#include <string.h>
#include <unistd.h>

#define PEER_PWD "peerpassword0123456789abcd"

typedef struct {
  SfuServer *server;
  SfuCall *call;
  GHashTable *offers; /* participant id -> latest offer (char *) */
  GPtrArray *events;  /* "type:participant[:track]" */
} Fixture;

typedef struct {
  Fixture *fx;
  char *id;
  int fd;
  guint16 port;
  SfuCert *cert;
  SfuDtls *dtls;
  SfuSrtp *srtp;
  char *server_ufrag, *server_pwd, *server_fp;
  guint32 audio_ssrc, video_ssrc;
  guint16 seq;
  guint plis;      /* PLIs received for video_ssrc */
  guint rtp;       /* RTP received */
  guint16 last_seq; /* of the last RTP received */
  char *last_offer; /* the last SFU offer it answered */
} RawPeer;

static const char *const event_names[] = { "connected", "disconnected", "voice-on",
                                           "voice-off", "track-added", "track-removed" };

static void
on_offer (const char *call_id, const char *participant_id, const char *sdp, gpointer user_data)
{
  Fixture *fx = user_data;

  g_assert_true (sfu_loop_get_current () == NULL); /* never on a loop thread */
  g_hash_table_insert (fx->offers, g_strdup (participant_id), g_strdup (sdp));
}

static void
on_event (const SfuEvent *ev, gpointer user_data)
{
  Fixture *fx = user_data;

  g_ptr_array_add (fx->events, g_strdup_printf ("%s:%s%s%s", event_names[ev->type],
                                                ev->participant_id, ev->track_id ? ":" : "",
                                                ev->track_id ? ev->track_id : ""));
}

static void
pump (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static gboolean
has_event (Fixture *fx, const char *text)
{
  for (guint i = 0; i < fx->events->len; i++)
    if (strcmp (g_ptr_array_index (fx->events, i), text) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
wait_event (Fixture *fx, const char *text)
{
  for (int i = 0; i < 1000 && !has_event (fx, text); i++) {
    pump ();
    g_usleep (5000);
  }
  return has_event (fx, text);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  SfuConfig config;
  g_autoptr (GError) error = NULL;

  sfu_config_init (&config);
  config.bind_host = "127.0.0.1";
  config.port = 0;
  config.n_loops = 2;
  config.callbacks.offer = on_offer;
  config.callbacks.event = on_event;
  config.user_data = fx;
  fx->offers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fx->events = g_ptr_array_new_with_free_func (g_free);
  fx->server = sfu_server_new (&config, &error);
  g_assert_no_error (error);
  fx->call = sfu_call_new (fx->server, "call-1", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  sfu_call_end (fx->call);
  sfu_server_free (fx->server);
  pump ();
  g_hash_table_unref (fx->offers);
  g_ptr_array_unref (fx->events);
}

/* ---- the raw peer ---- */

/* Each peer numbers the audio-level extension differently, so forwarding must remap. */
static guint
raw_peer_ext_id (RawPeer *peer)
{
  return (guint) (peer->id[0] % 13) + 1;
}

static char *
raw_offer (RawPeer *peer, gboolean audio, gboolean video)
{
  GString *s = g_string_new ("v=0\r\no=- 4242 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");

  g_string_append_printf (s, "a=group:BUNDLE%s%s\r\n", audio ? " a0" : "", video ? " v0" : "");
  if (audio)
    g_string_append_printf (
        s,
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a0\r\na=sendonly\r\n"
        "a=rtcp-mux\r\na=ice-ufrag:" PEER_UFRAG "\r\na=ice-pwd:" PEER_PWD "\r\n"
        "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\n"
        "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
        "a=extmap:%u urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
        "a=ssrc:%u cname:%s\r\na=msid:%s a0\r\n",
        sfu_cert_get_fingerprint (peer->cert), raw_peer_ext_id (peer), peer->audio_ssrc, peer->id,
        peer->id);
  if (video)
    g_string_append_printf (
        s,
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v0\r\na=sendonly\r\n"
        "a=rtcp-mux\r\na=ice-ufrag:" PEER_UFRAG "\r\na=ice-pwd:" PEER_PWD "\r\n"
        "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=rtpmap:96 VP8/90000\r\n"
        "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\n"
        "a=ssrc:%u cname:%s\r\na=msid:%s v0\r\n",
        sfu_cert_get_fingerprint (peer->cert), peer->video_ssrc, peer->id, peer->id);
  return g_string_free (s, FALSE);
}

static void
dtls_send (const guint8 *data, gsize len, gpointer user_data)
{
  RawPeer *peer = user_data;

  test_udp_send (peer->fd, peer->port, data, len);
}

static RawPeer *
raw_peer_join (Fixture *fx, const char *id, gboolean audio, gboolean video)
{
  RawPeer *peer = g_new0 (RawPeer, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *offer = NULL;
  g_autofree char *answer = NULL;
  SfuSdp sdp = { 0 };

  peer->fx = fx;
  peer->id = g_strdup (id);
  peer->fd = test_udp_socket (NULL);
  peer->port = sfu_server_get_port (fx->server);
  peer->cert = sfu_cert_new (&error);
  g_assert_no_error (error);
  peer->audio_ssrc = g_random_int ();
  peer->video_ssrc = g_random_int ();
  offer = raw_offer (peer, audio, video);
  g_assert_true (sfu_participant_add (fx->call, id, offer, &answer, &error));
  g_assert_no_error (error);
  g_assert_true (sfu_sdp_parse (answer, strlen (answer), &sdp, &error));
  g_assert_true (sdp.ice_lite);
  g_assert_cmpint (sdp.setup, ==, SFU_SDP_SETUP_PASSIVE);
  g_assert_cmpuint (sdp.candidates->len, >=, 1);
  g_assert_cmpuint (((SfuSdpCandidate *) g_ptr_array_index (sdp.candidates, 0))->port, ==,
                    peer->port);
  for (guint i = 0; i < sdp.media->len; i++)
    g_assert_cmpint (((SfuSdpMedia *) g_ptr_array_index (sdp.media, i))->direction, ==,
                     SFU_SDP_DIR_RECVONLY);
  peer->server_ufrag = g_strdup (sdp.ice_ufrag);
  peer->server_pwd = g_strdup (sdp.ice_pwd);
  peer->server_fp = g_strdup (sdp.fingerprint);
  sfu_sdp_clear (&sdp);
  return peer;
}

static void
raw_peer_free (RawPeer *peer)
{
  g_clear_pointer (&peer->dtls, sfu_dtls_free);
  g_clear_pointer (&peer->srtp, sfu_srtp_free);
  sfu_cert_unref (peer->cert);
  close (peer->fd);
  g_free (peer->server_ufrag);
  g_free (peer->server_pwd);
  g_free (peer->server_fp);
  g_free (peer->last_offer);
  g_free (peer->id);
  g_free (peer);
}

static void
raw_peer_ice (RawPeer *peer)
{
  guint8 buf[2048], txid[SFU_STUN_TXID_SIZE];
  gsize n = test_build_check (buf, sizeof buf, peer->server_ufrag, peer->server_pwd, TRUE, txid);
  SfuStunMessage msg;

  test_udp_send (peer->fd, peer->port, buf, n);
  for (int i = 0; i < 50; i++) {
    if (test_recv (peer->fd, buf, sizeof buf, &n, 100) &&
        test_parse_reply (buf, n, txid, &msg) == SFU_STUN_BINDING_SUCCESS)
      return;
  }
  g_assert_not_reached ();
}

/* Handles one datagram from the SFU: DTLS, or SRTP/SRTCP once keys exist. */
static void
raw_peer_handle (RawPeer *peer, guint8 *buf, gsize n)
{
  switch (sfu_packet_classify (buf, n)) {
  case SFU_PACKET_DTLS:
    if (peer->dtls)
      sfu_dtls_handle_datagram (peer->dtls, buf, n);
    break;
  case SFU_PACKET_RTP:
    if (peer->srtp && sfu_srtp_unprotect_rtp (peer->srtp, buf, &n)) {
      peer->rtp++;
      peer->last_seq = sfu_rd16 (buf + 2);
    }
    break;
  case SFU_PACKET_RTCP: {
    SfuRtcpIter iter;
    SfuRtcpBlock block;
    SfuRtcpFb fb;

    if (!peer->srtp || !sfu_srtp_unprotect_rtcp (peer->srtp, buf, &n))
      break;
    sfu_rtcp_iter_init (&iter, buf, n);
    while (sfu_rtcp_iter_next (&iter, &block))
      if (block.type == SFU_RTCP_PSFB && sfu_rtcp_read_pli (&block, &fb) &&
          fb.media_ssrc == peer->video_ssrc)
        peer->plis++;
    break;
  }
  default:
    break;
  }
}

static void
raw_peer_connect (RawPeer *peer)
{
  SfuSrtpKeys keys;
  guint8 buf[4096];
  gsize n;

  raw_peer_ice (peer);
  peer->dtls = sfu_dtls_new (peer->cert, SFU_DTLS_ROLE_CLIENT, peer->server_fp, dtls_send, peer);
  sfu_dtls_start (peer->dtls);
  for (int i = 0; i < 200 && sfu_dtls_get_state (peer->dtls) == SFU_DTLS_STATE_HANDSHAKING; i++) {
    if (test_recv (peer->fd, buf, sizeof buf, &n, 50))
      raw_peer_handle (peer, buf, n);
    sfu_dtls_handle_timeout (peer->dtls);
  }
  g_assert_cmpint (sfu_dtls_get_state (peer->dtls), ==, SFU_DTLS_STATE_CONNECTED);
  g_assert_true (sfu_dtls_get_srtp_keys (peer->dtls, &keys));
  peer->srtp = sfu_srtp_new (&keys, NULL);
  sfu_srtp_keys_clear (&keys);
  g_assert_nonnull (peer->srtp);
  g_autofree char *ev = g_strdup_printf ("connected:%s", peer->id);
  g_assert_true (wait_event (peer->fx, ev));
}

/* Reads what arrives for up to @ms. */
static void
raw_peer_drain (RawPeer *peer, int ms)
{
  guint8 buf[4096];
  gsize n;

  while (test_recv (peer->fd, buf, sizeof buf, &n, ms))
    raw_peer_handle (peer, buf, n);
}

/* @sdp (an SFU offer) seen from the peer: directions flipped, its own ICE and DTLS
 * attributes, no candidates (ICE-lite learns the address from the checks). As an answer
 * (setup active) or as the peer's re-offer of the same session (setup actpass). */
static char *
flip_description (RawPeer *peer, const char *text, SfuSdpSetup setup)
{
  SfuSdp sdp = { 0 };

  g_assert_true (sfu_sdp_parse (text, strlen (text), &sdp, NULL));
  g_free (sdp.ice_ufrag);
  g_free (sdp.ice_pwd);
  g_free (sdp.fingerprint);
  sdp.ice_ufrag = g_strdup (PEER_UFRAG);
  sdp.ice_pwd = g_strdup (PEER_PWD);
  sdp.fingerprint = g_strdup (sfu_cert_get_fingerprint (peer->cert));
  sdp.setup = setup;
  sdp.ice_lite = FALSE;
  sdp.end_of_candidates = FALSE;
  g_ptr_array_set_size (sdp.candidates, 0);
  for (guint i = 0; i < sdp.media->len; i++) {
    SfuSdpMedia *m = g_ptr_array_index (sdp.media, i);
    if (m->direction == SFU_SDP_DIR_SENDONLY) {
      m->direction = SFU_SDP_DIR_RECVONLY;
      g_ptr_array_set_size (m->ssrcs, 0);
      g_ptr_array_set_size (m->ssrc_groups, 0);
      g_ptr_array_set_size (m->msids, 0);
    } else if (m->direction == SFU_SDP_DIR_RECVONLY) {
      m->direction = SFU_SDP_DIR_SENDONLY;
    }
  }
  char *out = sfu_sdp_to_string (&sdp);
  sfu_sdp_clear (&sdp);
  return out;
}

/* Answers the SFU's pending offer to @peer. */
static void
raw_peer_answer (RawPeer *peer)
{
  Fixture *fx = peer->fx;
  g_autoptr (GError) error = NULL;
  const char *offer;

  for (int i = 0; i < 400 && !g_hash_table_contains (fx->offers, peer->id); i++) {
    pump ();
    g_usleep (5000);
  }
  offer = g_hash_table_lookup (fx->offers, peer->id);
  g_assert_nonnull (offer);
  g_autofree char *text = flip_description (peer, offer, SFU_SDP_SETUP_ACTIVE);
  g_free (peer->last_offer);
  peer->last_offer = g_strdup (offer);
  g_hash_table_remove (fx->offers, peer->id);
  g_assert_true (sfu_participant_apply_answer (fx->call, peer->id, text, &error));
  g_assert_no_error (error);
}

/* The outgoing SSRC and mid the SFU offered to @peer for @source's track @kind. */
static guint32
offered_ssrc (const char *offer, const char *source, SfuSdpKind kind, char **mid)
{
  SfuSdp sdp = { 0 };
  guint32 ssrc = 0;

  g_assert_true (sfu_sdp_parse (offer, strlen (offer), &sdp, NULL));
  for (guint i = 0; i < sdp.media->len; i++) {
    SfuSdpMedia *m = g_ptr_array_index (sdp.media, i);
    if (m->kind == kind && m->direction == SFU_SDP_DIR_SENDONLY && m->msids->len == 1 &&
        strcmp (((SfuSdpMsid *) g_ptr_array_index (m->msids, 0))->stream, source) == 0) {
      g_assert_cmpuint (m->ssrcs->len, >=, 1);
      ssrc = ((SfuSdpSsrc *) g_ptr_array_index (m->ssrcs, 0))->ssrc;
      if (mid)
        *mid = g_strdup (m->mid);
    }
  }
  sfu_sdp_clear (&sdp);
  return ssrc;
}

static void
raw_peer_send_rtp (RawPeer *peer, gboolean video, guint8 level, guint8 marker_byte)
{
  guint8 pkt[256] = { 0 };
  gsize n;

  pkt[0] = video ? 0x80 : 0x90; /* audio carries the audio-level extension */
  pkt[1] = video ? 96 : 111;
  sfu_wr16 (pkt + 2, peer->seq++);
  sfu_wr32 (pkt + 4, peer->seq * (video ? 3000u : 960u));
  sfu_wr32 (pkt + 8, video ? peer->video_ssrc : peer->audio_ssrc);
  n = 12;
  if (!video) {
    static const guint8 ext_hdr[] = { 0xBE, 0xDE, 0x00, 0x01 };
    memcpy (pkt + n, ext_hdr, 4);
    pkt[n + 4] = (guint8) (raw_peer_ext_id (peer) << 4); /* one byte of data */
    pkt[n + 5] = 0x80 | level;
    n += 8;
    memset (pkt + n, marker_byte, 40);
    n += 40;
  } else {
    /* A VP8 keyframe start: descriptor S=1, then a key frame header with its start code. */
    static const guint8 vp8[] = { 0x10, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01 };
    memcpy (pkt + n, vp8, sizeof vp8);
    n += sizeof vp8 + 100;
  }
  g_assert_true (sfu_srtp_protect_rtp (peer->srtp, pkt, &n, sizeof pkt));
  test_udp_send (peer->fd, peer->port, pkt, n);
}

static void
raw_peer_send_rtcp (RawPeer *peer, guint8 *buf, gsize n, gsize cap)
{
  g_assert_true (sfu_srtp_protect_rtcp (peer->srtp, buf, &n, cap));
  test_udp_send (peer->fd, peer->port, buf, n);
}

/* ---- tests ---- */

static void
test_negotiation (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *mid_b = NULL, *mid_a = NULL;
  RawPeer *a = raw_peer_join (fx, "alice", TRUE, FALSE);

  pump ();
  /* Nobody else: nothing to offer to alice. */
  g_assert_false (g_hash_table_contains (fx->offers, "alice"));
  g_assert_true (has_event (fx, "track-added:alice:a0"));

  RawPeer *b = raw_peer_join (fx, "bob", TRUE, FALSE);
  pump ();
  const char *offer_a = g_hash_table_lookup (fx->offers, "alice");
  const char *offer_b = g_hash_table_lookup (fx->offers, "bob");
  g_assert_nonnull (offer_a);
  g_assert_nonnull (offer_b);
  /* msid stream = the source participant, so a recorder can name the track. */
  g_assert_cmpuint (offered_ssrc (offer_a, "bob", SFU_SDP_AUDIO, &mid_b), !=, 0);
  g_assert_cmpuint (offered_ssrc (offer_b, "alice", SFU_SDP_AUDIO, &mid_a), !=, 0);
  g_assert_nonnull (strstr (offer_a, "a=setup:passive"));

  /* Glare: the SFU's offer to bob is pending, so bob's own offer is refused. */
  g_autofree char *reoffer = raw_offer (b, TRUE, FALSE);
  g_autofree char *answer = NULL;
  g_assert_false (sfu_participant_handle_offer (fx->call, "bob", reoffer, &answer, &error));
  g_assert_error (error, SFU_ERROR, SFU_ERROR_GLARE);
  g_clear_error (&error);

  raw_peer_answer (a);
  raw_peer_answer (b);
  /* No offer pending now. */
  g_assert_false (sfu_participant_apply_answer (fx->call, "bob", "v=0\r\n", &error));
  g_assert_error (error, SFU_ERROR, SFU_ERROR_NO_OFFER);
  g_clear_error (&error);

  /* Carol joins: alice and bob each get one more m-line, a new mid, the old ones kept. */
  RawPeer *c = raw_peer_join (fx, "carol", TRUE, FALSE);
  pump ();
  g_autofree char *mid_c = NULL;
  offer_a = g_hash_table_lookup (fx->offers, "alice");
  g_assert_nonnull (offer_a);
  g_assert_cmpuint (offered_ssrc (offer_a, "carol", SFU_SDP_AUDIO, &mid_c), !=, 0);
  g_assert_cmpstr (mid_c, !=, mid_b);
  raw_peer_answer (a);
  raw_peer_answer (b);
  raw_peer_answer (c);

  /* Bob leaves: alice's m-line for bob goes inactive and keeps its mid. */
  g_assert_true (sfu_participant_remove (fx->call, "bob", &error));
  pump ();
  offer_a = g_hash_table_lookup (fx->offers, "alice");
  g_assert_nonnull (offer_a);
  {
    SfuSdp sdp = { 0 };
    g_assert_true (sfu_sdp_parse (offer_a, strlen (offer_a), &sdp, NULL));
    SfuSdpMedia *m = sfu_sdp_find_media (&sdp, mid_b);
    g_assert_nonnull (m);
    g_assert_cmpint (m->direction, ==, SFU_SDP_DIR_INACTIVE);
    g_assert_cmpuint (m->ssrcs->len, ==, 0);
    sfu_sdp_clear (&sdp);
  }
  raw_peer_answer (a);
  /* Unknown participants and malformed input get errors, not crashes. */
  g_assert_false (sfu_participant_remove (fx->call, "bob", &error));
  g_assert_error (error, SFU_ERROR, SFU_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (sfu_participant_add_candidate (fx->call, "alice", "candidate:garbage", &error));
  g_assert_error (error, SFU_ERROR, SFU_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (sfu_participant_add_candidate (
      fx->call, "alice", "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host", &error));
  g_autofree char *dummy = NULL;
  g_assert_false (sfu_participant_add (fx->call, "alice", "v=0\r\n", &dummy, &error));
  g_assert_error (error, SFU_ERROR, SFU_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (sfu_participant_add (fx->call, "dave", "v=0\r\nnonsense", &dummy, &error));
  g_assert_error (error, SFU_ERROR, SFU_ERROR_INVALID);
  g_clear_error (&error);
  raw_peer_free (a);
  raw_peer_free (b);
  raw_peer_free (c);
}

static void
test_screen_busy (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  RawPeer *a = raw_peer_join (fx, "alice", TRUE, TRUE);
  RawPeer *b = raw_peer_join (fx, "bob", TRUE, TRUE);

  pump ();
  /* Video is not forwarded until the share is on. */
  g_assert_false (has_event (fx, "track-added:alice:v0"));
  g_assert_true (sfu_participant_set_screen (fx->call, "alice", TRUE, &error));
  pump ();
  g_assert_true (has_event (fx, "track-added:alice:v0"));
  g_assert_false (sfu_participant_set_screen (fx->call, "bob", TRUE, &error));
  g_assert_error (error, SFU_ERROR, SFU_ERROR_SCREEN_BUSY);
  g_assert_nonnull (strstr (error->message, "alice"));
  g_clear_error (&error);
  g_assert_true (sfu_participant_set_screen (fx->call, "alice", FALSE, &error));
  pump ();
  g_assert_true (has_event (fx, "track-removed:alice:v0"));
  g_assert_true (sfu_participant_set_screen (fx->call, "bob", TRUE, &error));
  g_assert_no_error (error);
  raw_peer_free (a);
  raw_peer_free (b);
}

static void
test_forward_and_mute (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SfuParticipantStats st;
  RawPeer *a = raw_peer_join (fx, "alice", TRUE, FALSE);
  RawPeer *b = raw_peer_join (fx, "bob", TRUE, FALSE);
  guint8 buf[4096];
  gsize n;

  raw_peer_answer (a);
  raw_peer_answer (b);
  raw_peer_connect (a);
  raw_peer_connect (b);

  /* Alice's loud audio reaches bob, under the SSRC the SFU offered him. */
  guint32 ssrc = 0;
  for (int i = 0; i < 20; i++)
    raw_peer_send_rtp (a, FALSE, 3, 0xA1);
  gboolean got = FALSE;
  for (int i = 0; i < 100 && !got; i++) {
    if (!test_recv (b->fd, buf, sizeof buf, &n, 50))
      continue;
    if (sfu_packet_classify (buf, n) == SFU_PACKET_RTP &&
        sfu_srtp_unprotect_rtp (b->srtp, buf, &n)) {
      SfuRtpPacket pkt;
      g_assert_true (sfu_rtp_parse (buf, n, &pkt));
      ssrc = pkt.ssrc;
      g_assert_cmpuint (ssrc, !=, a->audio_ssrc);
      g_assert_cmpuint (pkt.payload_len, ==, 40);
      g_assert_cmpuint (pkt.payload[0], ==, 0xA1);
      /* The level arrives under the id bob's description gives the extension. */
      SfuSdp sdp = { 0 };
      g_assert_true (sfu_sdp_parse (b->last_offer, strlen (b->last_offer), &sdp, NULL));
      SfuSdpMedia *m = g_ptr_array_index (sdp.media, sdp.media->len - 1);
      int id = sfu_sdp_media_find_extmap (m, SFU_SDP_URI_AUDIO_LEVEL);
      sfu_sdp_clear (&sdp);
      gboolean v;
      guint8 level;
      g_assert_cmpint (id, ==, (int) raw_peer_ext_id (b));
      g_assert_cmpint (id, !=, (int) raw_peer_ext_id (a));
      g_assert_true (sfu_rtp_audio_level (&pkt, (guint8) id, &v, &level));
      g_assert_cmpuint (level, ==, 3);
      gsize ext_len;
      g_assert_null (sfu_rtp_find_extension (&pkt, (guint8) raw_peer_ext_id (a), &ext_len));
      got = TRUE;
    } else {
      raw_peer_handle (b, buf, n);
    }
  }
  g_assert_true (got);
  /* Voice on needs 100 ms of loud packets by arrival time: keep sending until it comes. */
  for (int i = 0; i < 100 && !has_event (fx, "voice-on:alice"); i++) {
    raw_peer_send_rtp (a, FALSE, 3, 0xA1);
    g_usleep (10000);
    pump ();
  }
  g_assert_true (has_event (fx, "voice-on:alice"));

  /* Muted: nothing of alice's reaches bob; unmuted, the next packet does. */
  g_assert_true (sfu_participant_set_muted (fx->call, "alice", TRUE, &error));
  raw_peer_drain (b, 100);
  for (int i = 0; i < 30; i++)
    raw_peer_send_rtp (a, FALSE, 3, 0xB2);
  g_assert_true (sfu_participant_get_stats (fx->call, "alice", &st, &error));
  for (int i = 0; i < 100 && st.dropped_muted < 30; i++) {
    g_usleep (5000);
    g_assert_true (sfu_participant_get_stats (fx->call, "alice", &st, &error));
  }
  g_assert_cmpuint (st.dropped_muted, ==, 30);
  g_assert_true (sfu_participant_set_muted (fx->call, "alice", FALSE, &error));
  raw_peer_send_rtp (a, FALSE, 3, 0xC3);
  got = FALSE;
  for (int i = 0; i < 100 && !got; i++) {
    if (!test_recv (b->fd, buf, sizeof buf, &n, 50))
      continue;
    if (sfu_packet_classify (buf, n) == SFU_PACKET_RTP) {
      SfuRtpPacket pkt;
      g_assert_true (sfu_srtp_unprotect_rtp (b->srtp, buf, &n));
      g_assert_true (sfu_rtp_parse (buf, n, &pkt));
      g_assert_cmpuint (pkt.payload[0], !=, 0xB2); /* nothing sent while muted */
      got = pkt.payload[0] == 0xC3;
    }
  }
  g_assert_true (got);
  pump ();
  g_assert_true (has_event (fx, "voice-off:alice")); /* muting turns voice off */

  /* Bob re-offers in the stable state: the answer keeps alice's m-line sending with the
   * same SSRC, and forwarding goes on. */
  {
    g_autofree char *reoffer = flip_description (b, b->last_offer, SFU_SDP_SETUP_ACTPASS);
    g_autofree char *answer = NULL;
    SfuSdp sdp = { 0 };
    gboolean found = FALSE;

    g_assert_true (sfu_participant_handle_offer (fx->call, "bob", reoffer, &answer, &error));
    g_assert_no_error (error);
    g_assert_true (sfu_sdp_parse (answer, strlen (answer), &sdp, NULL));
    for (guint i = 0; i < sdp.media->len; i++) {
      SfuSdpMedia *m = g_ptr_array_index (sdp.media, i);
      if (m->direction == SFU_SDP_DIR_SENDONLY) {
        g_assert_cmpuint (((SfuSdpSsrc *) g_ptr_array_index (m->ssrcs, 0))->ssrc, ==, ssrc);
        found = TRUE;
      }
    }
    g_assert_true (found);
    sfu_sdp_clear (&sdp);
    raw_peer_send_rtp (a, FALSE, 3, 0xD4);
    got = FALSE;
    for (int i = 0; i < 100 && !got; i++) {
      if (!test_recv (b->fd, buf, sizeof buf, &n, 50))
        continue;
      if (sfu_packet_classify (buf, n) == SFU_PACKET_RTP) {
        SfuRtpPacket pkt;
        g_assert_true (sfu_srtp_unprotect_rtp (b->srtp, buf, &n));
        g_assert_true (sfu_rtp_parse (buf, n, &pkt));
        g_assert_cmpuint (pkt.ssrc, ==, ssrc);
        got = pkt.payload[0] == 0xD4;
      }
    }
    g_assert_true (got);
  }

  g_assert_true (sfu_participant_get_stats (fx->call, "bob", &st, &error));
  g_assert_true (st.connected);
  g_assert_cmpuint (st.packets_out, >=, 2);
  g_assert_true (sfu_participant_get_stats (fx->call, "alice", &st, &error));
  g_assert_cmpuint (st.packets_in, >=, 50);
  g_assert_cmpuint (st.packets_lost, ==, 0);

  /* Five sequence numbers skipped: five packets lost in alice's stats. */
  guint64 in_before = st.packets_in;
  a->seq += 5;
  raw_peer_send_rtp (a, FALSE, 3, 0xE5);
  for (int i = 0; i < 200 && st.packets_in == in_before; i++) {
    g_usleep (5000);
    g_assert_true (sfu_participant_get_stats (fx->call, "alice", &st, &error));
  }
  g_assert_cmpuint (st.packets_lost, ==, 5);

  /* Alice closes DTLS: bob hears of it as an event, and the call goes on. */
  sfu_dtls_close (a->dtls);
  g_assert_true (wait_event (fx, "disconnected:alice"));
  g_assert_true (sfu_participant_get_stats (fx->call, "alice", &st, &error));
  g_assert_false (st.connected);
  raw_peer_free (a);
  raw_peer_free (b);
}

static void
test_hostile_before_dtls (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SfuParticipantStats st;
  RawPeer *a = raw_peer_join (fx, "alice", TRUE, FALSE);
  guint8 buf[2048];
  gsize n;
  int other = test_udp_socket (NULL);

  raw_peer_ice (a);
  /* SRTP-looking packets from the validated address before DTLS: dropped, counted. */
  for (guint16 i = 0; i < 20; i++) {
    n = test_fake_rtp (buf, i);
    test_udp_send (a->fd, a->port, buf, n);
  }
  for (int i = 0; i < 200; i++) {
    g_assert_true (sfu_participant_get_stats (fx->call, "alice", &st, &error));
    if (st.dropped_before_dtls == 20)
      break;
    g_usleep (5000);
  }
  g_assert_cmpuint (st.dropped_before_dtls, ==, 20);

  /* A real ClientHello from another address: never answered, the session unharmed. */
  {
    g_autoptr (SfuCert) cert = sfu_cert_new (NULL);
    RawPeer spoof = { .fd = other, .port = a->port };
    SfuDtls *dtls = sfu_dtls_new (cert, SFU_DTLS_ROLE_CLIENT, a->server_fp, dtls_send, &spoof);
    sfu_dtls_start (dtls);
    g_assert_false (test_recv (other, buf, sizeof buf, &n, 300));
    sfu_dtls_free (dtls);
  }
  raw_peer_connect (a);
  g_assert_true (sfu_participant_get_stats (fx->call, "alice", &st, &error));
  g_assert_true (st.connected);
  close (other);
  raw_peer_free (a);
}

static void
test_hostile_floods (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SfuParticipantStats st;
  RawPeer *a = raw_peer_join (fx, "alice", FALSE, TRUE);
  RawPeer *b = raw_peer_join (fx, "bob", TRUE, FALSE);
  guint8 buf[1500];
  g_autofree char *offer = NULL;
  guint32 out_ssrc;

  g_assert_true (sfu_participant_set_screen (fx->call, "alice", TRUE, &error));
  raw_peer_answer (a);
  pump ();
  offer = g_strdup (g_hash_table_lookup (fx->offers, "bob"));
  g_assert_nonnull (offer);
  out_ssrc = offered_ssrc (offer, "alice", SFU_SDP_VIDEO, NULL);
  g_assert_cmpuint (out_ssrc, !=, 0);
  raw_peer_answer (b);
  raw_peer_connect (a);
  raw_peer_connect (b);
  for (int i = 0; i < 50; i++)
    raw_peer_send_rtp (a, TRUE, 0, 0);
  for (int i = 0; i < 100 && b->rtp < 50; i++)
    raw_peer_drain (b, 20);
  g_assert_cmpuint (b->rtp, ==, 50);
  raw_peer_drain (a, 50);
  guint plis_before = a->plis;

  gint64 start = g_get_monotonic_time ();
  SfuRtcpFb fb = { 0x1234, out_ssrc };
  guint16 seqs[400];
  /* The 50 packets bob got, then numbers never sent. */
  for (guint i = 0; i < G_N_ELEMENTS (seqs); i++)
    seqs[i] = (guint16) (b->last_seq - 49 + i);
  for (int i = 0; i < 500; i++) {
    gsize n = sfu_rtcp_build_pli (buf, sizeof buf - 32, &fb);
    raw_peer_send_rtcp (b, buf, n, sizeof buf);
    n = sfu_rtcp_build_nack (buf, sizeof buf - 32, &fb, seqs, 256);
    g_assert_cmpuint (n, >, 0);
    raw_peer_send_rtcp (b, buf, n, sizeof buf);
    if (i % 50 == 0)
      raw_peer_drain (a, 1);
  }
  /* Wait until the SFU has read them all. */
  for (int i = 0; i < 400; i++) {
    g_assert_true (sfu_participant_get_stats (fx->call, "bob", &st, &error));
    if (st.plis_received >= 500)
      break;
    raw_peer_drain (a, 5);
  }
  raw_peer_drain (a, 100);
  double elapsed = (g_get_monotonic_time () - start) / 1e6;
  g_assert_true (sfu_participant_get_stats (fx->call, "bob", &st, &error));
  /* Some may be lost in the socket buffer; most arrive. */
  g_assert_cmpuint (st.plis_received, >=, 100);
  /* 500 PLIs become at most one PLI per second toward alice (plus the one in flight). */
  g_assert_cmpuint (a->plis - plis_before, <=, 2 + (guint) elapsed);
  /* NACK work is bounded by the stream's budget (500 resends/s for video). */
  g_assert_cmpuint (st.nacks_resent, <=, 64 + 500 * (1 + (guint) elapsed));
  g_assert_cmpuint (st.nacks_resent, >=, 1); /* the 50 stored packets were found */
  raw_peer_free (a);
  raw_peer_free (b);
}

/* After DTLS, authenticated garbage (the peer itself is hostile): padding-only and
 * truncated RTP, RTCP with short blocks, empty NACKs, FIRs, unknown types. None of it
 * crashes the SFU or stops the session. */
static void
test_hostile_authenticated (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SfuParticipantStats st;
  RawPeer *a = raw_peer_join (fx, "alice", TRUE, FALSE);
  RawPeer *b = raw_peer_join (fx, "bob", TRUE, FALSE);
  guint8 buf[1500];
  gsize n;

  raw_peer_answer (a);
  raw_peer_answer (b);
  raw_peer_connect (a);
  raw_peer_connect (b);
  for (int round = 0; round < 300; round++) {
    /* RTP: a valid header with random extension/padding flags and lengths. */
    n = 12 + g_random_int_range (0, 60);
    for (gsize i = 0; i < n; i++)
      buf[i] = (guint8) g_random_int ();
    buf[0] = (guint8) (0x80 | (buf[0] & 0x3F));
    buf[1] = (guint8) (round % 2 ? 111 : (buf[1] & 0x7F));
    if (round % 3 == 0)
      sfu_wr32 (buf + 8, a->audio_ssrc);
    if (round % 5 == 0) {
      buf[0] |= 0x20;       /* padding */
      buf[n - 1] = (guint8) (n - 12); /* padding-only */
    }
    if (round % 2)
      buf[1] = (guint8) (200 + round % 7); /* an RTCP packet type on an RTP-ish body */
    raw_peer_send_rtcp (a, buf, n, sizeof buf);
    n = 12 + g_random_int_range (0, 60);
    buf[0] = 0x80;
    buf[1] = 111;
    sfu_wr16 (buf + 2, a->seq++); /* libsrtp refuses to protect far jumps */
    sfu_wr32 (buf + 8, round % 2 ? a->audio_ssrc : g_random_int ());
    gsize m = n;
    g_assert_true (sfu_srtp_protect_rtp (a->srtp, buf, &m, sizeof buf));
    test_udp_send (a->fd, a->port, buf, m);

    /* RTCP: random compound blocks of every feedback type, lengths off by some. */
    static const guint8 types[] = { 200, 201, 202, 203, 204, 205, 206 };
    n = 8 + 4 * g_random_int_range (0, 10);
    for (gsize i = 0; i < n; i++)
      buf[i] = (guint8) g_random_int ();
    buf[0] = (guint8) (0x80 | g_random_int_range (0, 32));
    buf[1] = types[g_random_int_range (0, G_N_ELEMENTS (types))];
    sfu_wr16 (buf + 2, (guint16) ((n / 4 - 1) + g_random_int_range (-1, 2)));
    raw_peer_send_rtcp (b, buf, n, sizeof buf);
  }
  /* Still forwarding. */
  raw_peer_drain (b, 100);
  guint before = b->rtp;
  raw_peer_send_rtp (a, FALSE, 3, 0xF6);
  for (int i = 0; i < 100 && b->rtp == before; i++)
    raw_peer_drain (b, 20);
  g_assert_cmpuint (b->rtp, >, before);
  g_assert_true (sfu_participant_get_stats (fx->call, "alice", &st, &error));
  g_assert_true (st.connected);
  raw_peer_free (a);
  raw_peer_free (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/sfu/call/negotiation", Fixture, NULL, fixture_setup, test_negotiation,
              fixture_teardown);
  g_test_add ("/sfu/call/screen-busy", Fixture, NULL, fixture_setup, test_screen_busy,
              fixture_teardown);
  g_test_add ("/sfu/call/forward-and-mute", Fixture, NULL, fixture_setup, test_forward_and_mute,
              fixture_teardown);
  g_test_add ("/sfu/call/hostile/before-dtls", Fixture, NULL, fixture_setup,
              test_hostile_before_dtls, fixture_teardown);
  g_test_add ("/sfu/call/hostile/authenticated-garbage", Fixture, NULL, fixture_setup,
              test_hostile_authenticated, fixture_teardown);
  g_test_add ("/sfu/call/hostile/floods", Fixture, NULL, fixture_setup, test_hostile_floods,
              fixture_teardown);
  return g_test_run ();
}
