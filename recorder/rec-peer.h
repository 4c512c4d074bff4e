/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-glib/json-glib.h>
#include "pl-recording.h"

G_BEGIN_DECLS

#define REC_PEER_ERROR (rec_peer_error_quark ())
GQuark rec_peer_error_quark (void);
typedef enum {
  REC_PEER_ERROR_SDP,       /* the offer could not be parsed or applied */
  REC_PEER_ERROR_CANDIDATE, /* a bad ICE candidate */
  REC_PEER_ERROR_STATE,     /* e.g. an answer where an offer was expected */
} RecPeerError;

/* One WebRTC connection answered by a webrtcbin inside the recording's pipeline. It
 * answers offers with any mix of audio and video m-lines (Opus, VP8, H.264 preferred;
 * NACK on), renegotiates as m-lines come and go, and hands each incoming track to the
 * recording: audio as a voice, video as the screen share.
 *
 * Track ids are "<conn>:<mid>"; the participant of a track is the stream id of its
 * a=msid (falling back to the connection id).
 *
 * Main context only (the one that created it); webrtcbin's own threads hop there. */
typedef struct _RecPeer RecPeer;

/* Sends a signaling message of the given type; data (transfer none) includes "conn". */
typedef void (*RecPeerSendFunc) (RecPeer *peer, const char *type, JsonObject *data,
                                 gpointer user_data);

/* ice_address: the only local address ICE may use (e.g. "127.0.0.1"), or NULL to let
 * libnice discover them; libnice finds nothing on a host that has only lo.
 * ice_tcp_only: ICE over TCP only (networks that block UDP). */
RecPeer *rec_peer_new (PlRecording *rec, const char *conn_id, guint jitter_latency_ms,
                       const char *ice_address, gboolean ice_tcp_only,
                       RecPeerSendFunc send, gpointer user_data, GError **error);
/* Removes the connection and every track it fed. */
void rec_peer_free (RecPeer *peer);
const char *rec_peer_get_id (RecPeer *peer);

/* Applies a remote offer and, asynchronously, sends the answer. A bad offer is refused
 * with an error and changes nothing. */
gboolean rec_peer_handle_offer (RecPeer *peer, const char *sdp, GError **error);
/* Makes the first offer ourselves (a receive-only audio m-line; an SFU expects clients to
 * offer first), sent asynchronously; the remote's answer goes to rec_peer_handle_answer.
 * The remote's later offers are answered as usual. */
gboolean rec_peer_offer (RecPeer *peer, GError **error);
gboolean rec_peer_handle_answer (RecPeer *peer, const char *sdp, GError **error);
gboolean rec_peer_add_candidate (RecPeer *peer, guint mline_index, const char *candidate,
                                 GError **error);
/* TRUE once ICE and DTLS are up. */
gboolean rec_peer_is_connected (RecPeer *peer);

G_END_DECLS
