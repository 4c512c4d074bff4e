/* SPDX-License-Identifier: MIT */
#pragma once

#include "sim-participant.h"

G_BEGIN_DECLS

/* Synthetic participants in a real call on callrec-server: each is a user of its own
 * (created through the REST API with an admin token), joins the channel's call over the
 * WebSocket (docs/signaling.md) with a webrtcbin offer carrying its voice and, for
 * participant 0, its screen share, unmutes, turns its screen on, and answers the SFU's
 * re-offers. The media is what callrec-sim always sends (tones 440 + 220·k Hz, the share
 * pattern). Main context only. */
typedef struct _SimWsCall SimWsCall;

typedef struct {
  const char *server_url;  /* http://host:port */
  const char *admin_token; /* creates the users, their tokens, the channel, memberships */
  const char *channel;     /* name; created (public) if missing */
  guint voices;
  SimShareCodec share;
  int share_width, share_height;
  SimMediaOptions media;
} SimWsConfig;

/* Creates the users and the channel (blocking REST calls), then starts connecting. */
SimWsCall *sim_ws_call_new (const SimWsConfig *config, GError **error);
void sim_ws_call_free (SimWsCall *call);
/* Creates a user, makes it a member of the channel and returns a token for it (transfer
 * full), e.g. for the recording bot. */
char *sim_ws_call_add_member (SimWsCall *call, const char *username, const char *display_name,
                              GError **error);
/* A suffix unique to this run, for usernames. */
const char *sim_ws_call_get_tag (SimWsCall *call);
/* A REST call as participant 0, the call's host (it joins first and starts the call). */
gboolean sim_ws_call_host_rest (SimWsCall *call, const char *method, const char *path,
                                const char *body, JsonNode **out, GError **error);
/* The call's thread (its root post), once participant 0 is in; else NULL. */
const char *sim_ws_call_get_thread_id (SimWsCall *call);
const char *sim_ws_call_get_channel (SimWsCall *call);
/* Participants whose WebRTC connection to the SFU is up. */
guint sim_ws_call_count_connected (SimWsCall *call);
/* Everyone leaves (the sockets close). */
void sim_ws_call_leave (SimWsCall *call);

G_END_DECLS
