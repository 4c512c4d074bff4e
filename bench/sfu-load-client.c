/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* recvmmsg */
#include "sfu-load-client.h"

#include "sfu-bytes.h"
#include "sfu-dtls.h"
#include "sfu-packet.h"
#include "sfu-sdp.h"
#include "sfu-srtp.h"
#include "sfu-stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define AUDIO_PT 111
#define VIDEO_PT 96
#define AUDIO_LEVEL_ID 1
#define AUDIO_INTERVAL_US 20000    /* 50 packets/s */
#define AUDIO_PAYLOAD 80           /* Opus at ~32 kbit/s, 20 ms frames */
#define FRAME_INTERVAL_US 33333    /* 30 fps */
#define VIDEO_PACKETS_PER_FRAME 6  /* 6 x 1100 bytes x 30 fps = 1.58 Mbit/s */
#define VIDEO_PACKET_SIZE 1100     /* RTP header included, SRTP tag not */
#define CHECK_RETRY_US 100000      /* ICE check retransmission until the first success */
#define CONSENT_INTERVAL_US 5000000
#define RECV_BATCH 32
#define RECV_BUF 2048
#define MAX_TRACKED_SSRCS 64

/* Sampled decryptions per SSRC received: which streams fail when some do. */
typedef struct {
  guint32 ssrc;
  guint8 pt;
  guint16 first_seq;
  guint ok, failed;
} SsrcSample;

struct _SfuLoadClient {
  char *call_id, *id;
  int fd;
  gboolean speaker, sharer;
  char ufrag[16], pwd[32];
  char *server_ufrag, *server_pwd, *server_fp;
  SfuDtls *dtls;
  SfuSrtp *srtp;
  char *error;
  gboolean ice_done;
  gint64 next_check_us;
  guint32 audio_ssrc, video_ssrc;
  guint16 audio_seq, video_seq;
  guint32 audio_ts, video_ts;
  gint64 next_audio_us, next_frame_us; /* 0: media not started */
  guint out_tracks;
  guint sample_countdown;
  SsrcSample ssrcs[MAX_TRACKED_SSRCS];
  guint n_ssrcs;
  SfuLoadCounters counters;
};

static guint16 sfu_port;
static SfuCert *client_cert;
static guint sample_every = 50;

void
sfu_load_init (guint16 port, SfuCert *cert, guint every)
{
  sfu_port = port;
  client_cert = cert;
  sample_every = MAX (every, 1);
}

static void
random_string (char *out, gsize len)
{
  static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

  for (gsize i = 0; i + 1 < len; i++)
    out[i] = chars[g_random_int_range (0, sizeof chars - 1)];
  out[len - 1] = '\0';
}

SfuLoadClient *
sfu_load_client_new (const char *call_id, const char *id, gboolean speaker, gboolean sharer,
                     GError **error)
{
  struct sockaddr_in sin = { 0 }, to;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int rcvbuf = 1 << 20;
  SfuLoadClient *c;

  if (fd < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "socket: %s",
                 g_strerror (errno));
    return NULL;
  }
  /* A receiver of a 100-person call gets bursts of 100+ packets when the share sends a
   * frame: a larger buffer keeps the bench's own scheduling delays from showing as loss.
   * FORCE works as root; otherwise the kernel caps the request at rmem_max. */
  if (setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    setsockopt (fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  to = sin;
  to.sin_port = htons (sfu_port);
  /* Connected: send() without an address, and only the SFU's datagrams come in. */
  if (bind (fd, (struct sockaddr *) &sin, sizeof sin) < 0 ||
      connect (fd, (struct sockaddr *) &to, sizeof to) < 0) {
    int saved = errno;
    close (fd);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "bind/connect: %s",
                 g_strerror (saved));
    return NULL;
  }
  c = g_new0 (SfuLoadClient, 1);
  c->fd = fd;
  c->call_id = g_strdup (call_id);
  c->id = g_strdup (id);
  c->speaker = speaker;
  c->sharer = sharer;
  random_string (c->ufrag, 9);
  random_string (c->pwd, 25);
  c->audio_ssrc = g_random_int ();
  c->video_ssrc = g_random_int ();
  c->audio_seq = (guint16) g_random_int ();
  c->video_seq = (guint16) g_random_int ();
  c->sample_countdown = g_random_int_range (1, sample_every + 1);
  return c;
}

void
sfu_load_client_free (SfuLoadClient *c)
{
  if (!c)
    return;
  g_clear_pointer (&c->dtls, sfu_dtls_free);
  g_clear_pointer (&c->srtp, sfu_srtp_free);
  close (c->fd);
  g_free (c->server_ufrag);
  g_free (c->server_pwd);
  g_free (c->server_fp);
  g_free (c->error);
  g_free (c->call_id);
  g_free (c->id);
  g_free (c);
}

const char *
sfu_load_client_get_call_id (SfuLoadClient *c)
{
  return c->call_id;
}

const char *
sfu_load_client_get_id (SfuLoadClient *c)
{
  return c->id;
}

int
sfu_load_client_get_fd (SfuLoadClient *c)
{
  return c->fd;
}

gboolean
sfu_load_client_is_sender (SfuLoadClient *c)
{
  return c->speaker || c->sharer;
}

guint
sfu_load_client_get_out_tracks (SfuLoadClient *c)
{
  return c->out_tracks;
}

gboolean
sfu_load_client_is_connected (SfuLoadClient *c)
{
  return c->srtp != NULL;
}

const char *
sfu_load_client_get_error (SfuLoadClient *c)
{
  return c->error;
}

char *
sfu_load_client_describe_samples (SfuLoadClient *c)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < c->n_ssrcs; i++)
    g_string_append_printf (s, "%sssrc %u pt %u (first sampled seq %u): %u ok, %u failed",
                            i ? "; " : "", c->ssrcs[i].ssrc, c->ssrcs[i].pt,
                            c->ssrcs[i].first_seq, c->ssrcs[i].ok, c->ssrcs[i].failed);
  return g_string_free (s, FALSE);
}

void
sfu_load_client_get_counters (SfuLoadClient *c, SfuLoadCounters *out)
{
  *out = c->counters;
}

char *
sfu_load_client_offer (SfuLoadClient *c)
{
  GString *s = g_string_new ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
  const char *fp = sfu_cert_get_fingerprint (client_cert);

  g_string_append_printf (s, "a=group:BUNDLE a0%s\r\n", c->sharer ? " v0" : "");
  g_string_append_printf (s,
                          "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\na=mid:a0\r\n"
                          "a=%s\r\na=rtcp-mux\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                          "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\n"
                          "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1\r\n"
                          "a=extmap:%d " SFU_SDP_URI_AUDIO_LEVEL "\r\n",
                          AUDIO_PT, c->speaker ? "sendonly" : "recvonly", c->ufrag, c->pwd, fp,
                          AUDIO_PT, AUDIO_PT, AUDIO_LEVEL_ID);
  if (c->speaker)
    g_string_append_printf (s, "a=ssrc:%u cname:%s\r\na=msid:%s a0\r\n", c->audio_ssrc, c->id,
                            c->id);
  if (c->sharer)
    g_string_append_printf (
        s,
        "m=video 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\na=mid:v0\r\na=sendonly\r\n"
        "a=rtcp-mux\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n"
        "a=setup:actpass\r\na=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d nack\r\n"
        "a=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\na=ssrc:%u cname:%s\r\n"
        "a=msid:%s v0\r\n",
        VIDEO_PT, c->ufrag, c->pwd, fp, VIDEO_PT, VIDEO_PT, VIDEO_PT, VIDEO_PT, c->video_ssrc,
        c->id, c->id);
  return g_string_free (s, FALSE);
}

gboolean
sfu_load_client_set_answer (SfuLoadClient *c, const char *text, GError **error)
{
  SfuSdp sdp = { 0 };

  if (!sfu_sdp_parse (text, strlen (text), &sdp, error))
    return FALSE;
  if (!sdp.ice_ufrag || !sdp.ice_pwd || !sdp.fingerprint) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "the SFU's answer lacks ICE credentials or a fingerprint");
    sfu_sdp_clear (&sdp);
    return FALSE;
  }
  g_free (c->server_ufrag);
  g_free (c->server_pwd);
  g_free (c->server_fp);
  c->server_ufrag = g_steal_pointer (&sdp.ice_ufrag);
  c->server_pwd = g_steal_pointer (&sdp.ice_pwd);
  c->server_fp = g_steal_pointer (&sdp.fingerprint);
  sfu_sdp_clear (&sdp);
  return TRUE;
}

char *
sfu_load_client_answer (SfuLoadClient *c, const char *offer, GError **error)
{
  SfuSdp sdp = { 0 };
  char *out;

  if (!sfu_sdp_parse (offer, strlen (offer), &sdp, error))
    return NULL;
  g_free (sdp.ice_ufrag);
  g_free (sdp.ice_pwd);
  g_free (sdp.fingerprint);
  sdp.ice_ufrag = g_strdup (c->ufrag);
  sdp.ice_pwd = g_strdup (c->pwd);
  sdp.fingerprint = g_strdup (sfu_cert_get_fingerprint (client_cert));
  sdp.setup = SFU_SDP_SETUP_ACTIVE;
  sdp.ice_lite = FALSE;
  sdp.end_of_candidates = FALSE;
  g_ptr_array_set_size (sdp.candidates, 0);
  c->out_tracks = 0;
  for (guint i = 0; i < sdp.media->len; i++) {
    SfuSdpMedia *m = g_ptr_array_index (sdp.media, i);
    if (m->direction == SFU_SDP_DIR_SENDONLY) {
      /* A track forwarded to us: we receive it and describe no sources of our own. */
      m->direction = SFU_SDP_DIR_RECVONLY;
      g_ptr_array_set_size (m->ssrcs, 0);
      g_ptr_array_set_size (m->ssrc_groups, 0);
      g_ptr_array_set_size (m->msids, 0);
      c->out_tracks++;
    } else if (m->direction == SFU_SDP_DIR_RECVONLY) {
      m->direction = SFU_SDP_DIR_SENDONLY;
    }
  }
  out = sfu_sdp_to_string (&sdp);
  sfu_sdp_clear (&sdp);
  return out;
}

/* ---- ICE and DTLS ---- */

static void
send_datagram (SfuLoadClient *c, const guint8 *data, gsize len)
{
  /* Loopback: a full socket buffer is the only failure, and a lost datagram is what the
   * protocols above already retransmit or what the loss figure counts. */
  if (send (c->fd, data, len, 0) < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    g_warning ("%s: send: %s", c->id, g_strerror (errno));
}

static void
dtls_send (const guint8 *data, gsize len, gpointer user_data)
{
  send_datagram (user_data, data, len);
}

static void
send_check (SfuLoadClient *c)
{
  g_autofree char *username = g_strdup_printf ("%s:%s", c->server_ufrag, c->ufrag);
  SfuStunRequestParams params = { username, 0x6e0001ff, SFU_STUN_ROLE_CONTROLLING,
                                  0x1122334455667788ull, TRUE };
  guint8 txid[SFU_STUN_TXID_SIZE], buf[512];
  gsize n;

  for (int i = 0; i < SFU_STUN_TXID_SIZE; i++)
    txid[i] = (guint8) g_random_int ();
  n = sfu_stun_build_binding_request (txid, &params, (const guint8 *) c->server_pwd,
                                      strlen (c->server_pwd), buf, sizeof buf);
  if (n > 0)
    send_datagram (c, buf, n);
}

void
sfu_load_client_start (SfuLoadClient *c)
{
  g_return_if_fail (c->server_ufrag != NULL);
  send_check (c);
  c->next_check_us = g_get_monotonic_time () + CHECK_RETRY_US;
}

static void
dtls_progress (SfuLoadClient *c, SfuDtlsState state)
{
  SfuSrtpKeys keys;
  g_autoptr (GError) error = NULL;

  if (state == SFU_DTLS_STATE_FAILED && !c->error) {
    c->error = g_strdup (sfu_dtls_get_error (c->dtls));
    return;
  }
  if (state != SFU_DTLS_STATE_CONNECTED || c->srtp || !sfu_dtls_get_srtp_keys (c->dtls, &keys))
    return;
  c->srtp = sfu_srtp_new (&keys, &error);
  sfu_srtp_keys_clear (&keys);
  if (!c->srtp)
    c->error = g_strdup (error->message);
}

static void
handle_stun (SfuLoadClient *c, const guint8 *data, gsize len)
{
  SfuStunMessage msg;

  if (!sfu_stun_parse (data, len, &msg, NULL) || msg.type != SFU_STUN_BINDING_SUCCESS ||
      c->ice_done)
    return;
  c->ice_done = TRUE;
  c->dtls = sfu_dtls_new (client_cert, SFU_DTLS_ROLE_CLIENT, c->server_fp, dtls_send, c);
  dtls_progress (c, sfu_dtls_start (c->dtls));
}

static SsrcSample *
find_ssrc (SfuLoadClient *c, guint32 ssrc)
{
  for (guint i = 0; i < c->n_ssrcs; i++)
    if (c->ssrcs[i].ssrc == ssrc)
      return &c->ssrcs[i];
  return NULL;
}

static void
handle_rtp (SfuLoadClient *c, guint8 *data, gsize len)
{
  guint32 ssrc = sfu_rd32 (data + 8);
  SsrcSample *t = find_ssrc (c, ssrc);
  gboolean ok;

  if (!c->srtp)
    return;
  c->counters.received++;
  c->counters.received_bytes += len;
  /* Authenticating a sample proves the stream is real SRTP for this session; doing it for
   * every packet would make the bench, not the SFU, the bottleneck. But the first packet of
   * every stream is always decrypted: a receiver learns the rollover counter (RFC 3711
   * §3.3.1) from the sequence numbers it sees, so a stream whose first sample came after
   * its sequence number wrapped would fail forever, through no fault of the sender. */
  if (t && --c->sample_countdown > 0)
    return;
  if (!t) {
    if (c->n_ssrcs == MAX_TRACKED_SSRCS)
      return; /* cannot follow more streams: count, never decrypt */
    t = &c->ssrcs[c->n_ssrcs++];
    *t = (SsrcSample) { ssrc, data[1] & 0x7f, sfu_rd16 (data + 2), 0, 0 };
  } else {
    c->sample_countdown = sample_every;
  }
  c->counters.sampled++;
  ok = sfu_srtp_unprotect_rtp (c->srtp, data, &len);
  if (ok) {
    t->ok++;
  } else {
    t->failed++;
    c->counters.sample_failures++;
  }
}

void
sfu_load_client_readable (SfuLoadClient *c)
{
  static guint8 bufs[RECV_BATCH][RECV_BUF];
  struct mmsghdr msgs[RECV_BATCH];
  struct iovec iov[RECV_BATCH];

  for (;;) {
    int n;

    for (int i = 0; i < RECV_BATCH; i++) {
      iov[i] = (struct iovec) { bufs[i], RECV_BUF };
      msgs[i] = (struct mmsghdr) { .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
    }
    n = recvmmsg (c->fd, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;
    for (int i = 0; i < n; i++) {
      guint8 *data = bufs[i];
      gsize len = msgs[i].msg_len;

      switch (sfu_packet_classify (data, len)) {
      case SFU_PACKET_RTP:
        handle_rtp (c, data, len);
        break;
      case SFU_PACKET_DTLS:
        if (c->dtls)
          dtls_progress (c, sfu_dtls_handle_datagram (c->dtls, data, len));
        break;
      case SFU_PACKET_STUN:
        handle_stun (c, data, len);
        break;
      default: /* RTCP (sender reports, PLIs for the sharer) is not needed by the bench */
        break;
      }
    }
    if (n < RECV_BATCH)
      return;
  }
}

/* ---- media ---- */

static void
protect_and_send (SfuLoadClient *c, guint8 *pkt, gsize len, gsize cap)
{
  if (sfu_srtp_protect_rtp (c->srtp, pkt, &len, cap)) {
    send_datagram (c, pkt, len);
    c->counters.sent++;
  }
}

static void
send_audio (SfuLoadClient *c)
{
  guint8 pkt[256];
  gsize n = 12;

  pkt[0] = 0x90; /* version 2, header extension */
  pkt[1] = AUDIO_PT;
  sfu_wr16 (pkt + 2, c->audio_seq++);
  sfu_wr32 (pkt + 4, c->audio_ts += 960);
  sfu_wr32 (pkt + 8, c->audio_ssrc);
  /* One-byte extension block with the audio level: voice, -20 dBov. */
  pkt[n++] = 0xBE;
  pkt[n++] = 0xDE;
  pkt[n++] = 0x00;
  pkt[n++] = 0x01;
  pkt[n++] = (guint8) (AUDIO_LEVEL_ID << 4);
  pkt[n++] = 0x80 | 20;
  pkt[n++] = 0;
  pkt[n++] = 0;
  memset (pkt + n, 0x5a, AUDIO_PAYLOAD);
  n += AUDIO_PAYLOAD;
  protect_and_send (c, pkt, n, sizeof pkt);
}

static void
send_frame (SfuLoadClient *c)
{
  /* A VP8 payload descriptor with S=1, then a key frame header with its start code: the
   * first packet of every frame looks like a keyframe start to the SFU. */
  static const guint8 vp8_key[] = { 0x10, 0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0,
                                    0x01 };
  guint8 pkt[VIDEO_PACKET_SIZE + SFU_SRTP_MAX_TRAILER];

  c->video_ts += 3000;
  for (int i = 0; i < VIDEO_PACKETS_PER_FRAME; i++) {
    gboolean last = i == VIDEO_PACKETS_PER_FRAME - 1;

    pkt[0] = 0x80;
    pkt[1] = (guint8) (VIDEO_PT | (last ? 0x80 : 0));
    sfu_wr16 (pkt + 2, c->video_seq++);
    sfu_wr32 (pkt + 4, c->video_ts);
    sfu_wr32 (pkt + 8, c->video_ssrc);
    memset (pkt + 12, 0x33, VIDEO_PACKET_SIZE - 12);
    if (i == 0)
      memcpy (pkt + 12, vp8_key, sizeof vp8_key);
    else
      pkt[12] = 0x00; /* continuation: S=0 */
    protect_and_send (c, pkt, VIDEO_PACKET_SIZE, sizeof pkt);
  }
}

void
sfu_load_client_tick (SfuLoadClient *c, gint64 now, gboolean send_media)
{
  if (c->server_ufrag && c->next_check_us && now >= c->next_check_us) {
    send_check (c);
    c->next_check_us = now + (c->ice_done ? CONSENT_INTERVAL_US : CHECK_RETRY_US);
  }
  if (c->dtls && !c->srtp && !c->error)
    dtls_progress (c, sfu_dtls_handle_timeout (c->dtls));
  if (!c->srtp)
    return;
  if (!send_media) {
    c->next_audio_us = c->next_frame_us = 0;
    return;
  }
  /* Start each sender at a random phase so that the call's senders do not send in step. */
  if (c->next_audio_us == 0) {
    c->next_audio_us = now + g_random_int_range (0, AUDIO_INTERVAL_US);
    c->next_frame_us = now + g_random_int_range (0, FRAME_INTERVAL_US);
  }
  if (c->speaker && now >= c->next_audio_us) {
    send_audio (c);
    c->next_audio_us += AUDIO_INTERVAL_US;
    if (now - c->next_audio_us > 10 * AUDIO_INTERVAL_US) /* the bench stalled: don't burst */
      c->next_audio_us = now + AUDIO_INTERVAL_US;
  }
  if (c->sharer && now >= c->next_frame_us) {
    send_frame (c);
    c->next_frame_us += FRAME_INTERVAL_US;
    if (now - c->next_frame_us > 10 * FRAME_INTERVAL_US)
      c->next_frame_us = now + FRAME_INTERVAL_US;
  }
}
