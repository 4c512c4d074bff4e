/* SPDX-License-Identifier: MIT */
#include "sim-call.h"
#include "cr-message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { EV_MUTE, EV_UNMUTE, EV_LEAVE, EV_JOIN, EV_SHARE_ON, EV_SHARE_OFF } EventKind;

typedef struct {
  double at_s;
  EventKind kind;
  guint participant;
  int width, height; /* share-on */
} Event;

struct _SimCall {
  SimCallConfig config;
  SimLineFunc send_line;
  SimStatusFunc on_status;
  gpointer user_data;
  GstPipeline *pipeline;
  GHashTable *participants; /* "p<k>" → SimParticipant */
  guint recorders;
  /* "<recorder>/<connection id>" → SimPeer; connection ids "p<k>", or "call" */
  GHashTable *peers;
  SimPeer *shared[SIM_MAX_RECORDERS]; /* the one connection to each, or NULL */
  GArray *events;           /* Event */
  GPtrArray *timers;        /* GSource */
  GPtrArray *targets;       /* PeerTarget*, owned */
  gint64 seq[SIM_MAX_RECORDERS];
};

/* What a peer's callbacks need to reach its recorder. */
typedef struct {
  SimCall *call;
  guint recorder;
} PeerTarget;

static const char *const names[] = { "Alice", "Bob", "Carol", "Dave", "Erin", "Frank",
                                     "Grace", "Heidi", "Ivan", "Judy" };

const char *
sim_participant_name (guint index)
{
  return index < G_N_ELEMENTS (names) ? names[index] : NULL;
}

/* ---- schedule ---- */

gboolean
sim_parse_share_size (const char *text, int *width, int *height)
{
  char tail;
  return text && sscanf (text, "%dx%d%c", width, height, &tail) == 2 && *width >= 16 &&
         *height >= 16 && *width <= 4096 && *height <= 4096;
}

static gboolean
parse_uint (const char *s, guint *out)
{
  char *end = NULL;
  guint64 v = g_ascii_strtoull (s, &end, 10);
  if (!s[0] || *end || v > 1000)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static GArray *
parse_schedule (const char *schedule, GError **error)
{
  GArray *events = g_array_new (FALSE, TRUE, sizeof (Event));
  if (!schedule || !*schedule)
    return events;
  g_auto (GStrv) items = g_strsplit (schedule, ",", -1);
  for (guint i = 0; items[i]; i++) {
    g_auto (GStrv) f = g_strsplit (g_strstrip (items[i]), ":", 4);
    guint n = g_strv_length (f);
    Event ev = { 0 };
    char *end = NULL;
    ev.at_s = n >= 2 ? g_ascii_strtod (f[0], &end) : -1;
    gboolean ok = n >= 2 && end && !*end && ev.at_s >= 0;
    if (ok && (g_str_equal (f[1], "mute") || g_str_equal (f[1], "unmute") ||
               g_str_equal (f[1], "leave") || g_str_equal (f[1], "join"))) {
      ev.kind = g_str_equal (f[1], "mute")     ? EV_MUTE
                : g_str_equal (f[1], "unmute") ? EV_UNMUTE
                : g_str_equal (f[1], "leave")  ? EV_LEAVE
                                               : EV_JOIN;
      ok = n == 3 && parse_uint (f[2], &ev.participant) && ev.participant < 64;
    } else if (ok && g_str_equal (f[1], "share-off")) {
      ev.kind = EV_SHARE_OFF;
      ok = n == 2;
    } else if (ok && g_str_equal (f[1], "share-on")) {
      ev.kind = EV_SHARE_ON;
      ok = n == 2 || (n == 3 && sim_parse_share_size (f[2], &ev.width, &ev.height));
    } else {
      ok = FALSE;
    }
    if (!ok) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "schedule item '%s': expected T:mute:K, T:unmute:K, T:leave:K, T:join:K, "
                   "T:share-off or T:share-on[:WxH]",
                   items[i]);
      g_array_unref (events);
      return NULL;
    }
    g_array_append_val (events, ev);
  }
  return events;
}

int
sim_schedule_validate (const char *schedule, GError **error)
{
  GArray *events = parse_schedule (schedule, error);
  if (!events)
    return -1;
  int n = (int) events->len;
  g_array_unref (events);
  return n;
}

/* ---- messages ---- */

static void
send_to (SimCall *call, guint recorder, const char *type, JsonObject *data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line = cr_message_serialize (type, ++call->seq[recorder], data, &error);
  if (!line) {
    g_warning ("sim: could not send %s: %s", type, error->message);
    return;
  }
  call->send_line (recorder, line, call->user_data);
}

static void
send_message (SimCall *call, const char *type, JsonObject *data)
{
  for (guint k = 0; k < call->recorders; k++)
    send_to (call, k, type, data);
}

static void
peer_send (SimPeer *peer, const char *type, JsonObject *data, gpointer user_data)
{
  PeerTarget *target = user_data;
  send_to (target->call, target->recorder, type, data);
}

static char *
peer_key (guint recorder, const char *conn)
{
  return g_strdup_printf ("%u/%s", recorder, conn);
}

static SimPeer *
new_peer (SimCall *call, guint recorder, const char *conn, GError **error)
{
  PeerTarget *target = g_new (PeerTarget, 1);
  target->call = call;
  target->recorder = recorder;
  SimPeer *peer = sim_peer_new (call->pipeline, conn, peer_send, target, error);
  if (!peer) {
    g_free (target);
    return NULL;
  }
  /* The target lives as long as the call: peers may be freed while callbacks drain. */
  g_ptr_array_add (call->targets, target);
  g_hash_table_insert (call->peers, peer_key (recorder, conn), peer);
  return peer;
}

/* The connection to each recorder a participant's tracks go on. */
static gboolean
peers_for (SimCall *call, const char *participant_id, SimPeer **peers, GError **error)
{
  for (guint k = 0; k < call->recorders; k++) {
    if (call->config.one_connection) {
      if (!call->shared[k])
        call->shared[k] = new_peer (call, k, "call", error);
      peers[k] = call->shared[k];
    } else {
      peers[k] = new_peer (call, k, participant_id, error);
    }
    if (!peers[k])
      return FALSE;
  }
  return TRUE;
}

/* Removes a participant, and its connections unless they are the shared ones. */
static void
remove_participant (SimCall *call, const char *id)
{
  SimParticipant *p = g_hash_table_lookup (call->participants, id);
  if (!p)
    return;
  g_hash_table_remove (call->participants, id);
  for (guint k = 0; k < call->recorders; k++) {
    if (call->shared[k]) {
      sim_peer_changed (call->shared[k]);
    } else {
      g_autofree char *key = peer_key (k, id);
      g_hash_table_remove (call->peers, key);
    }
  }
}

static SimParticipant *
join (SimCall *call, guint index, GError **error)
{
  g_autofree char *id = g_strdup_printf ("p%u", index);
  if (g_hash_table_contains (call->participants, id)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "participant %s is in the call already",
                 id);
    return NULL;
  }
  const char *name = sim_participant_name (index);
  g_autofree char *fallback = name ? NULL : g_strdup_printf ("Participant %u", index + 1);
  SimPeer *peers[SIM_MAX_RECORDERS] = { NULL };
  if (!peers_for (call, id, peers, error))
    return NULL;
  SimParticipant *p = sim_participant_new (call->pipeline, peers, call->recorders, index,
                                           name ? name : fallback, &call->config.media);
  JsonObject *data = json_object_new ();
  json_object_set_string_member (data, "id", sim_participant_get_id (p));
  json_object_set_string_member (data, "name", sim_participant_get_name (p));
  send_message (call, "participant", data);
  json_object_unref (data);
  g_hash_table_insert (call->participants, g_strdup (sim_participant_get_id (p)), p);
  if (!sim_participant_start (p, error)) {
    remove_participant (call, id);
    return NULL;
  }
  g_message ("sim: %s (%s) joined", sim_participant_get_id (p), sim_participant_get_name (p));
  return p;
}

static void
leave (SimCall *call, const char *id)
{
  if (!g_hash_table_contains (call->participants, id))
    return;
  JsonObject *data;
  if (!call->config.one_connection) {
    data = json_object_new ();
    json_object_set_string_member (data, "conn", id);
    send_message (call, "close", data);
    json_object_unref (data);
  }
  data = json_object_new ();
  json_object_set_string_member (data, "id", id);
  send_message (call, "participant_left", data);
  json_object_unref (data);
  remove_participant (call, id);
  g_message ("sim: %s left", id);
}

static gboolean
run_event (gpointer user_data)
{
  SimCall *call = ((gpointer *) user_data)[0];
  const Event *ev = ((gpointer *) user_data)[1];
  g_autofree char *id = g_strdup_printf ("p%u", ev->participant);
  SimParticipant *p = g_hash_table_lookup (call->participants, id);
  SimParticipant *sharer = g_hash_table_lookup (call->participants, "p0");
  g_autoptr (GError) error = NULL;
  switch (ev->kind) {
  case EV_MUTE:
  case EV_UNMUTE:
    if (p)
      sim_participant_set_muted (p, ev->kind == EV_MUTE);
    break;
  case EV_LEAVE:
    leave (call, id);
    break;
  case EV_JOIN:
    if ((p = join (call, ev->participant, &error)))
      for (guint k = 0; k < call->recorders; k++)
        sim_peer_negotiate (sim_participant_get_peer (p, k));
    break;
  case EV_SHARE_ON: {
    SimShareCodec codec = call->config.share != SIM_SHARE_NONE ? call->config.share
                                                                : SIM_SHARE_VP8;
    int w = ev->width ? ev->width : call->config.share_width;
    int h = ev->height ? ev->height : call->config.share_height;
    if (sharer && !sim_participant_share_on (sharer, codec, w, h, &error))
      g_warning ("sim: share-on failed: %s", error->message);
    break;
  }
  case EV_SHARE_OFF:
    if (sharer)
      sim_participant_share_off (sharer);
    break;
  }
  if (error)
    g_warning ("sim: schedule event failed: %s", error->message);
  return G_SOURCE_REMOVE;
}

void
sim_call_handle_line (SimCall *call, guint recorder, const char *line, gsize length)
{
  g_return_if_fail (recorder < call->recorders);
  g_autoptr (GError) error = NULL;
  g_autoptr (CrMessage) msg = cr_message_parse (line, (gssize) length, &error);
  if (!msg) {
    g_warning ("sim: message from the recorder refused: %s", error->message);
    return;
  }
  const char *conn = cr_message_get_string (msg, "conn");
  g_autofree char *key = conn ? peer_key (recorder, conn) : NULL;
  SimPeer *peer = key ? g_hash_table_lookup (call->peers, key) : NULL;
  if (g_str_equal (msg->type, "sdp")) {
    const char *sdp_type = cr_message_get_string (msg, "sdp_type");
    if (peer && g_strcmp0 (sdp_type, "answer") == 0)
      sim_peer_handle_answer (peer, cr_message_get_string (msg, "sdp"));
    else if (peer && g_strcmp0 (sdp_type, "offer") == 0)
      sim_peer_handle_offer (peer, cr_message_get_string (msg, "sdp"));
  } else if (g_str_equal (msg->type, "ice")) {
    if (peer)
      sim_peer_handle_candidate (peer, (guint) cr_message_get_int (msg, "sdp_mline_index", 0),
                                 cr_message_get_string (msg, "candidate"));
  } else if (g_str_equal (msg->type, "status")) {
    if (call->on_status)
      call->on_status (recorder, cr_message_get_string (msg, "state"),
                       cr_message_get_string (msg, "reason"),
                       cr_message_get_double (msg, "elapsed_s", 0), call->user_data);
  }
}

void
sim_call_send_stop (SimCall *call)
{
  send_message (call, "stop", NULL);
}

guint
sim_call_count_connected (SimCall *call)
{
  guint n = 0;
  GHashTableIter iter;
  SimParticipant *p;
  g_hash_table_iter_init (&iter, call->participants);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    n += sim_peer_is_connected (sim_participant_get_peer (p, 0));
  return n;
}

/* ---- lifecycle ---- */

SimCall *
sim_call_new (const SimCallConfig *config, SimLineFunc send_line, SimStatusFunc on_status,
              gpointer user_data, GError **error)
{
  GArray *events = parse_schedule (config->schedule, error);
  if (!events)
    return NULL;
  SimCall *call = g_new0 (SimCall, 1);
  call->config = *config;
  call->config.schedule = NULL;
  call->events = events;
  call->send_line = send_line;
  call->on_status = on_status;
  call->user_data = user_data;
  call->pipeline = GST_PIPELINE (gst_pipeline_new ("sim"));
  call->participants = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify) sim_participant_free);
  call->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) sim_peer_free);
  call->timers = g_ptr_array_new ();
  call->targets = g_ptr_array_new_with_free_func (g_free);
  call->recorders = CLAMP (config->recorders, 1, SIM_MAX_RECORDERS);
  return call;
}

gboolean
sim_call_start (SimCall *call, GError **error)
{
  /* Running first, so every source is stamped on the same running-time axis as the
   * schedule (and the sync marks' flash and beep line up). */
  if (gst_element_set_state (GST_ELEMENT (call->pipeline), GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "sim pipeline failed to start");
    return FALSE;
  }
  for (guint k = 0; k < call->config.voices; k++) {
    SimParticipant *p = join (call, k, error);
    if (!p)
      return FALSE;
    if (k == 0 && call->config.share != SIM_SHARE_NONE &&
        !sim_participant_share_on (p, call->config.share, call->config.share_width,
                                   call->config.share_height, error))
      return FALSE;
  }
  /* One first offer per connection, with every track that exists by now; or the
   * recorder's first offer, and ours after it. */
  GHashTableIter iter;
  gpointer key;
  SimPeer *peer;
  g_hash_table_iter_init (&iter, call->peers);
  while (g_hash_table_iter_next (&iter, &key, (gpointer *) &peer)) {
    if (!call->config.recorder_offers) {
      sim_peer_negotiate (peer);
      continue;
    }
    JsonObject *data = json_object_new ();
    json_object_set_string_member (data, "conn", sim_peer_get_id (peer));
    send_to (call, (guint) g_ascii_strtoull (key, NULL, 10), "connect", data);
    json_object_unref (data);
  }
  for (guint i = 0; i < call->events->len; i++) {
    gpointer *data = g_new (gpointer, 2);
    data[0] = call;
    data[1] = &g_array_index (call->events, Event, i);
    GSource *timer = g_timeout_source_new ((guint) (g_array_index (call->events, Event, i).at_s * 1000));
    g_source_set_callback (timer, run_event, data, g_free);
    g_source_attach (timer, g_main_context_get_thread_default ());
    g_ptr_array_add (call->timers, timer);
  }
  return TRUE;
}

void
sim_call_free (SimCall *call)
{
  if (!call)
    return;
  for (guint i = 0; i < call->timers->len; i++) {
    g_source_destroy (g_ptr_array_index (call->timers, i));
    g_source_unref (g_ptr_array_index (call->timers, i));
  }
  g_ptr_array_unref (call->timers);
  /* Participants first: their branches link into the peers' webrtcbins. */
  g_hash_table_destroy (call->participants);
  g_hash_table_destroy (call->peers);
  g_ptr_array_unref (call->targets);
  gst_element_set_state (GST_ELEMENT (call->pipeline), GST_STATE_NULL);
  gst_object_unref (call->pipeline);
  g_array_unref (call->events);
  g_free (call);
}
