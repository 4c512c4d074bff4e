/* SPDX-License-Identifier: MIT */
/* One light WebRTC-like client for bench/sfu-forward: a non-blocking UDP socket on
 * 127.0.0.1 connected to the SFU, real ICE checks (signed with the password from the SFU's
 * answer), a real DTLS client (sfu-dtls) and real SRTP (sfu-srtp). It sends Opus-sized
 * audio at 50 packets/s when it speaks, ~1.6 Mbit/s of VP8-shaped video when it shares, and
 * counts what it receives, decrypting only one packet in every N.
 *
 * Many clients run on one thread: the caller polls every client's fd and calls
 * sfu_load_client_readable() when it is readable, and sfu_load_client_tick() often (every
 * few milliseconds) for timers and sending. */
#pragma once

#include "sfu-cert.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SfuLoadClient SfuLoadClient;

typedef struct {
  guint64 sent;             /* media packets sent */
  guint64 received;         /* RTP packets received (after DTLS) */
  guint64 received_bytes;
  guint64 sampled;          /* of which decrypted */
  guint64 sample_failures;  /* of which failed to decrypt */
} SfuLoadCounters;

/* Shared by every client: the SFU's port on 127.0.0.1, one DTLS certificate (its
 * fingerprint goes in every offer; a key pair per client would only slow set-up), and how
 * many received packets per decrypted one. */
void sfu_load_init (guint16 sfu_port, SfuCert *cert, guint sample_every);

/* @speaker: sends audio; @sharer: sends the screen share. (transfer full) */
SfuLoadClient *sfu_load_client_new (const char *call_id, const char *id, gboolean speaker,
                                    gboolean sharer, GError **error);
void sfu_load_client_free (SfuLoadClient *client);

const char *sfu_load_client_get_call_id (SfuLoadClient *client);
const char *sfu_load_client_get_id (SfuLoadClient *client);
int sfu_load_client_get_fd (SfuLoadClient *client);
gboolean sfu_load_client_is_sender (SfuLoadClient *client);

/* The client's first offer: a sendonly Opus m-line (speaker) or a recvonly one, plus a
 * sendonly VP8 m-line (sharer). (transfer full) */
char *sfu_load_client_offer (SfuLoadClient *client);
/* The SFU's answer to it: keeps the SFU's ICE credentials and fingerprint. */
gboolean sfu_load_client_set_answer (SfuLoadClient *client, const char *sdp, GError **error);
/* An offer from the SFU: returns the answer (directions flipped, our ICE and DTLS
 * attributes) and remembers how many tracks it forwards to us. (transfer full) */
char *sfu_load_client_answer (SfuLoadClient *client, const char *offer, GError **error);
/* Forwarded tracks (sendonly m-lines) in the last SFU offer answered. */
guint sfu_load_client_get_out_tracks (SfuLoadClient *client);

/* Starts ICE; DTLS follows the first successful check. */
void sfu_load_client_start (SfuLoadClient *client);
gboolean sfu_load_client_is_connected (SfuLoadClient *client);
/* A DTLS failure, or NULL. */
const char *sfu_load_client_get_error (SfuLoadClient *client);

void sfu_load_client_readable (SfuLoadClient *client);
/* Retransmissions, consent checks (every 5 s) and, when @send_media, the media due at
 * @now_us (g_get_monotonic_time ()). */
void sfu_load_client_tick (SfuLoadClient *client, gint64 now_us, gboolean send_media);

void sfu_load_client_get_counters (SfuLoadClient *client, SfuLoadCounters *out);
/* Per SSRC received: sampled decryptions that succeeded and failed. (transfer full) */
char *sfu_load_client_describe_samples (SfuLoadClient *client);

G_END_DECLS
