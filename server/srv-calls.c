/* SPDX-License-Identifier: MIT */
/* The call state machine: start, join, leave with host handover, end, and the in-call
 * state (mute, screen, hand, reactions), broadcast to the call as it changes and mirrored
 * in the store (calls, call_participants) so that the history survives the process. */
#include "srv-calls-private.h"
#include "srv-recording.h"
#include "srv-ws.h"

#include <string.h>

G_DEFINE_QUARK (srv-call-error-quark, srv_call_error)

static const struct {
  guint status;
  const char *code;
} call_errors[] = {
  [SRV_CALL_ERROR_INTERNAL] = { 500, "internal" },
  [SRV_CALL_ERROR_CHANNEL_NOT_FOUND] = { 404, "channel_not_found" },
  [SRV_CALL_ERROR_NOT_A_MEMBER] = { 403, "not_a_member" },
  [SRV_CALL_ERROR_CHANNEL_ARCHIVED] = { 403, "channel_archived" },
  [SRV_CALL_ERROR_NO_CALL] = { 404, "no_call" },
  [SRV_CALL_ERROR_CALL_RUNNING] = { 409, "call_running" },
  [SRV_CALL_ERROR_ALREADY_IN_CALL] = { 409, "already_in_call" },
  [SRV_CALL_ERROR_IN_ANOTHER_CALL] = { 409, "in_another_call" },
  [SRV_CALL_ERROR_NOT_IN_CALL] = { 409, "not_in_call" },
  [SRV_CALL_ERROR_FORBIDDEN] = { 403, "forbidden" },
  [SRV_CALL_ERROR_SCREEN_BUSY] = { 409, "screen_busy" },
  [SRV_CALL_ERROR_INVALID_SDP] = { 400, "invalid_sdp" },
  [SRV_CALL_ERROR_GLARE] = { 409, "glare" },
  [SRV_CALL_ERROR_NO_OFFER] = { 409, "no_offer" },
  [SRV_CALL_ERROR_MEDIA_UNAVAILABLE] = { 503, "media_unavailable" },
  [SRV_CALL_ERROR_NOT_IMPLEMENTED] = { 501, "not_implemented" },
  [SRV_CALL_ERROR_RECORDING_RUNNING] = { 409, "recording_running" },
  [SRV_CALL_ERROR_NO_RECORDING] = { 409, "no_recording" },
};

const char *
srv_call_error_code (const GError *error)
{
  if (error && error->domain == SRV_CALL_ERROR && error->code >= 0
      && (gsize) error->code < G_N_ELEMENTS (call_errors))
    return call_errors[error->code].code;
  return "internal";
}

guint
srv_call_error_status (const GError *error)
{
  if (error && error->domain == SRV_CALL_ERROR && error->code >= 0
      && (gsize) error->code < G_N_ELEMENTS (call_errors))
    return call_errors[error->code].status;
  return 500;
}

/* A store failure is logged here and shown to the client only as "internal". */
static void
set_internal (GError **error, const GError *cause)
{
  g_warning ("calls: %s", cause ? cause->message : "unknown failure");
  g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_INTERNAL,
                       "internal error (see the server log)");
}

static void
participant_free (SrvParticipant *p)
{
  g_free (p->session_id);
  g_free (p->user_id);
  g_free (p->username);
  g_free (p->display_name);
  g_free (p);
}

static void
call_free (SrvCall *call)
{
  g_ptr_array_unref (call->participants);
  g_free (call->id);
  g_free (call->channel_id);
  g_free (call->thread_id);
  g_free (call->owner_id);
  g_free (call->host_id);
  g_free (call);
}

gboolean
srv_calls_init (SrvServer *server, GError **error)
{
  gint64 n;

  server->calls = g_hash_table_new (g_str_hash, g_str_equal);
  n = srv_store_call_end_all (server->store, g_get_real_time () / 1000, SRV_CALL_END_SHUTDOWN,
                              error);
  if (n < 0)
    return FALSE;
  if (n > 0)
    g_message ("calls: %" G_GINT64_FORMAT " call(s) left running by the last process ended", n);
  return TRUE;
}

void
srv_calls_shutdown (SrvServer *server)
{
  GHashTableIter iter;
  gpointer value;

  if (server->calls == NULL)
    return;
  /* srv_calls_end() removes from the table: restart the walk each time. */
  for (;;) {
    g_hash_table_iter_init (&iter, server->calls);
    if (!g_hash_table_iter_next (&iter, NULL, &value))
      break;
    srv_calls_end (value, SRV_CALL_END_SHUTDOWN);
  }
  g_clear_pointer (&server->calls, g_hash_table_unref);
}

SrvChannel *
srv_calls_channel (SrvServer *server, const char *ref, const SrvUser *user, gboolean for_join,
                   GError **error)
{
  g_autoptr (SrvChannel) ch = NULL;
  g_autoptr (GError) local = NULL;
  gboolean member = FALSE;

  ch = srv_store_channel_get (server->store, ref, &local);
  if (ch == NULL && g_error_matches (local, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    g_clear_error (&local);
    ch = srv_store_channel_get_by_name (server->store, ref, &local);
  }
  if (ch == NULL && !g_error_matches (local, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    set_internal (error, local);
    return NULL;
  }
  if (ch == NULL || ch->deleted_at != 0) {
    g_autofree char *head = g_strndup (ref, 64);
    g_autofree char *escaped = g_strescape (head, NULL);

    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_CHANNEL_NOT_FOUND, "no channel '%s'",
                 escaped);
    return NULL;
  }
  if (!srv_store_member_check (server->store, ch->id, user->id, &member, &local)) {
    set_internal (error, local);
    return NULL;
  }
  if (!member && !(user->role == SRV_ROLE_SYSTEM_ADMIN && !for_join)) {
    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_NOT_A_MEMBER,
                 "you are not a member of channel '%s'", ch->name);
    return NULL;
  }
  if (for_join && ch->archived_at != 0) {
    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_CHANNEL_ARCHIVED,
                 "channel '%s' is archived: no calls", ch->name);
    return NULL;
  }
  return g_steal_pointer (&ch);
}

SrvCall *
srv_calls_get (SrvServer *server, const char *channel_id)
{
  return server->calls ? g_hash_table_lookup (server->calls, channel_id) : NULL;
}

SrvCall *
srv_calls_find (SrvServer *server, const char *call_id)
{
  GHashTableIter iter;
  gpointer value;

  if (server->calls == NULL || call_id == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, server->calls);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    if (g_str_equal (((SrvCall *) value)->id, call_id))
      return value;
  }
  return NULL;
}

guint
srv_calls_count (SrvServer *server)
{
  return server->calls ? g_hash_table_size (server->calls) : 0;
}

static guint
count_people (SrvCall *call)
{
  guint n = 0;

  for (guint i = 0; i < call->participants->len; i++)
    n += !((SrvParticipant *) call->participants->pdata[i])->bot;
  return n;
}

guint
srv_calls_count_participants (SrvServer *server)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  if (server->calls == NULL)
    return 0;
  g_hash_table_iter_init (&iter, server->calls);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += count_people (value);
  return n;
}

const char *
srv_call_get_id (SrvCall *call)
{
  return call->id;
}

const char *
srv_call_get_channel_id (SrvCall *call)
{
  return call->channel_id;
}

const char *
srv_call_get_host_id (SrvCall *call)
{
  return call->host_id;
}

const char *
srv_participant_get_session_id (SrvParticipant *p)
{
  return p->session_id;
}

const char *
srv_participant_get_user_id (SrvParticipant *p)
{
  return p->user_id;
}

SrvParticipant *
srv_call_find_session (SrvCall *call, const char *session_id)
{
  for (guint i = 0; i < call->participants->len; i++) {
    SrvParticipant *p = call->participants->pdata[i];

    if (g_str_equal (p->session_id, session_id))
      return p;
  }
  return NULL;
}

SrvParticipant *
srv_call_find_user (SrvCall *call, const char *user_id)
{
  for (guint i = 0; i < call->participants->len; i++) {
    SrvParticipant *p = call->participants->pdata[i];

    if (!p->bot && g_str_equal (p->user_id, user_id))
      return p;
  }
  return NULL;
}

/* ---- JSON ---- */

static JsonNode *
object_node (JsonObject *obj)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, obj);
  return node;
}

static JsonNode *
participant_to_json (SrvParticipant *p)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "session_id", p->session_id);
  json_object_set_string_member (o, "user_id", p->user_id);
  json_object_set_string_member (o, "username", p->username);
  json_object_set_string_member (o, "display_name", p->display_name);
  json_object_set_int_member (o, "joined_at", p->joined_at);
  json_object_set_boolean_member (o, "media", p->media);
  json_object_set_boolean_member (o, "muted", p->muted);
  json_object_set_boolean_member (o, "voice", p->voice);
  json_object_set_boolean_member (o, "screen", p->screen);
  json_object_set_boolean_member (o, "hand_raised", p->hand_raised);
  json_object_set_int_member (o, "hand_raised_at", p->hand_raised_at);
  return object_node (o);
}

JsonNode *
srv_participant_ref_json (SrvParticipant *p)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "session_id", p->session_id);
  json_object_set_string_member (o, "user_id", p->user_id);
  return object_node (o);
}

JsonNode *
srv_call_to_json (SrvCall *call)
{
  JsonObject *o = json_object_new ();
  JsonArray *people = json_array_new ();
  const char *sharer = NULL;

  json_object_set_string_member (o, "id", call->id);
  json_object_set_string_member (o, "channel_id", call->channel_id);
  json_object_set_string_member (o, "thread_id", call->thread_id);
  json_object_set_string_member (o, "owner_id", call->owner_id);
  json_object_set_string_member (o, "host_id", call->host_id);
  json_object_set_int_member (o, "started_at", call->started_at);
  for (guint i = 0; i < call->participants->len; i++) {
    SrvParticipant *p = call->participants->pdata[i];

    if (p->bot)
      continue;
    if (p->screen)
      sharer = p->user_id;
    json_array_add_element (people, participant_to_json (p));
  }
  if (sharer)
    json_object_set_string_member (o, "screen_sharer_id", sharer);
  else
    json_object_set_null_member (o, "screen_sharer_id");
  json_object_set_array_member (o, "participants", people);
  json_object_set_member (o, "recording", srv_recording_call_json (call->server, call->id));
  return object_node (o);
}

void
srv_call_broadcast (SrvCall *call, const char *type, JsonNode *data, SrvParticipant *except)
{
  /* A send never re-enters the state machine (closing is noticed later, from the main
   * loop), so the array is stable during the walk. */
  for (guint i = 0; i < call->participants->len; i++) {
    SrvParticipant *p = call->participants->pdata[i];

    if (p != except && p->ws)
      srv_ws_send (p->ws, type, data);
  }
}

static void
broadcast_ref (SrvCall *call, const char *type, SrvParticipant *p)
{
  g_autoptr (JsonNode) data = srv_participant_ref_json (p);

  srv_call_broadcast (call, type, data, NULL);
}

/* ---- lifecycle ---- */

SrvCall *
srv_calls_start (SrvServer *server, const SrvChannel *channel, const SrvUser *user, GError **error)
{
  g_autofree char *id = srv_store_new_id ();
  g_autofree char *message = NULL;
  g_autofree char *props = NULL;
  g_autoptr (SrvPost) root = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (JsonNode) data = NULL;
  SrvCall *call;
  gint64 now = g_get_real_time () / 1000;

  if (srv_calls_get (server, channel->id)) {
    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_CALL_RUNNING,
                 "a call is already running in channel '%s'", channel->name);
    return NULL;
  }
  message = g_strdup_printf ("Call started by @%s", user->username);
  props = g_strdup_printf ("{\"type\":\"call\",\"call_id\":\"%s\"}", id);
  root = srv_store_post_create (server->store, channel->id, NULL, user->id, message, props, NULL,
                                &local);
  if (root == NULL
      || !srv_store_call_insert (server->store, id, channel->id, root->id, user->id, now, &local)) {
    set_internal (error, local);
    return NULL;
  }
  call = g_new0 (SrvCall, 1);
  call->server = server;
  call->id = g_steal_pointer (&id);
  call->channel_id = g_strdup (channel->id);
  call->thread_id = g_strdup (root->id);
  call->owner_id = g_strdup (user->id);
  call->host_id = g_strdup (user->id);
  call->started_at = now;
  call->participants = g_ptr_array_new_with_free_func ((GDestroyNotify) participant_free);
  g_hash_table_insert (server->calls, call->channel_id, call);
  g_message ("call %s started in '%s' by '%s'", call->id, channel->name, user->username);

  {
    JsonObject *o = json_object_new ();

    json_object_set_member (o, "call", srv_call_to_json (call));
    data = object_node (o);
  }
  srv_ws_broadcast_channel (server, call->channel_id, "call_start", data, NULL);
  return call;
}

SrvParticipant *
srv_calls_join (SrvServer *server, const SrvChannel *channel, const SrvUser *user, SrvWsSession *ws,
                gboolean bot, GError **error)
{
  SrvCall *call = srv_calls_get (server, channel->id);
  g_autoptr (GError) local = NULL;
  SrvParticipant *p;

  if (call && !bot && srv_call_find_user (call, user->id)) {
    g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_ALREADY_IN_CALL,
                 "you are already in this call (from another session): leave there first");
    return NULL;
  }
  if (call == NULL) {
    if (bot) {
      g_set_error_literal (error, SRV_CALL_ERROR, SRV_CALL_ERROR_NO_CALL, "no call is running");
      return NULL;
    }
    call = srv_calls_start (server, channel, user, error);
    if (call == NULL)
      return NULL;
  }
  p = g_new0 (SrvParticipant, 1);
  p->session_id = ws ? g_strdup (srv_ws_session_get_id (ws)) : srv_store_new_id ();
  p->user_id = g_strdup (user->id);
  p->username = g_strdup (user->username);
  p->display_name = g_strdup (user->display_name);
  p->joined_at = g_get_real_time () / 1000;
  p->ws = ws;
  p->bot = bot;
  p->muted = TRUE;
  if (!srv_store_call_participant_join (server->store, call->id, p->session_id, user->id,
                                        p->joined_at, &local)
      || (!bot && !srv_store_call_stats_reset (server->store, user->id, call->id, &local))) {
    participant_free (p);
    set_internal (error, local);
    /* A call started just now for this join stays: it ends when it empties or its host
     * ends it, like any other call. */
    return NULL;
  }
  if (!bot) {
    g_autoptr (JsonNode) data = NULL;
    JsonObject *o = json_object_new ();

    json_object_set_member (o, "participant", participant_to_json (p));
    data = object_node (o);
    srv_call_broadcast (call, "user_joined", data, NULL);
  }
  g_ptr_array_add (call->participants, p);
  if (ws)
    srv_ws_session_set_call (ws, call);
  g_message ("call %s: '%s' joined (%s)", call->id, user->username, ws ? "websocket" : "presence");
  return p;
}

static void
set_host (SrvCall *call, const char *user_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) data = NULL;
  JsonObject *o = json_object_new ();

  g_free (call->host_id);
  call->host_id = g_strdup (user_id);
  if (!srv_store_call_set_host (call->server->store, call->id, user_id, &error))
    g_warning ("calls: %s", error->message);
  json_object_set_string_member (o, "call_id", call->id);
  json_object_set_string_member (o, "host_id", user_id);
  data = object_node (o);
  srv_call_broadcast (call, "call_host_changed", data, NULL);
}

void
srv_calls_leave (SrvCall *call, SrvParticipant *p)
{
  g_autoptr (GError) error = NULL;
  gboolean was_host;

  if (!p->bot)
    broadcast_ref (call, "user_left", p);
  if (p->media && call->sfu && !sfu_participant_remove (call->sfu, p->session_id, &error)) {
    g_debug ("calls: sfu remove %s: %s", p->session_id, error->message);
    g_clear_error (&error);
  }
  if (!srv_store_call_participant_leave (call->server->store, call->id, p->session_id,
                                         g_get_real_time () / 1000, &error))
    g_warning ("calls: %s", error->message);
  if (p->ws)
    srv_ws_session_set_call (p->ws, NULL);
  g_message ("call %s: '%s' left", call->id, p->username);
  was_host = !p->bot && g_strcmp0 (p->user_id, call->host_id) == 0;
  g_ptr_array_remove (call->participants, p); /* frees p */

  if (count_people (call) == 0) {
    srv_calls_end (call, SRV_CALL_END_EMPTY);
    return;
  }
  if (was_host) {
    /* The longest-present person: the first non-bot in join order. */
    for (guint i = 0; i < call->participants->len; i++) {
      SrvParticipant *next = call->participants->pdata[i];

      if (!next->bot) {
        set_host (call, next->user_id);
        break;
      }
    }
  }
}

void
srv_calls_end (SrvCall *call, const char *reason)
{
  SrvServer *server = call->server;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) data = NULL;
  JsonObject *o = json_object_new ();
  gint64 now = g_get_real_time () / 1000;

  /* Its recording stops first, while the bot can still be told (job_stop). */
  srv_recording_call_ended (server, call);
  /* Out of the table first: nothing below may find it again. */
  g_hash_table_remove (server->calls, call->channel_id);
  json_object_set_string_member (o, "call_id", call->id);
  json_object_set_string_member (o, "channel_id", call->channel_id);
  json_object_set_int_member (o, "ended_at", now);
  json_object_set_string_member (o, "reason", reason);
  data = object_node (o);
  srv_call_broadcast (call, "call_end", data, NULL);
  srv_ws_broadcast_channel (server, call->channel_id, "call_end", data, call);
  for (guint i = 0; i < call->participants->len; i++) {
    SrvParticipant *p = call->participants->pdata[i];

    if (p->ws)
      srv_ws_session_set_call (p->ws, NULL);
  }
  /* Removes every SFU participant; no callbacks follow for this call. */
  g_clear_pointer (&call->sfu, sfu_call_end);
  if (!srv_store_call_end (server->store, call->id, now, reason, &error))
    g_warning ("calls: %s", error->message);
  g_message ("call %s ended (%s)", call->id, reason);
  call_free (call);
}

void
srv_calls_channel_closed (SrvServer *server, const char *channel_id, const char *reason)
{
  SrvCall *call = srv_calls_get (server, channel_id);

  if (call)
    srv_calls_end (call, reason);
}

void
srv_calls_post_created (SrvServer *server, const SrvPost *post)
{
  SrvCall *call = srv_calls_get (server, post->channel_id);
  g_autoptr (JsonNode) data = NULL;
  JsonObject *o;

  if (call == NULL || post->root_id == NULL || !g_str_equal (post->root_id, call->thread_id))
    return;
  o = json_object_new ();
  json_object_set_member (o, "post", srv_json_post (post));
  data = object_node (o);
  srv_call_broadcast (call, "post_created", data, NULL);
}

/* ---- in-call state ---- */

gboolean
srv_calls_set_muted (SrvCall *call, SrvParticipant *p, gboolean muted, GError **error)
{
  g_autoptr (GError) local = NULL;

  /* The SFU enforces it: a client that keeps sending while muted is dropped there. */
  if (p->media && !sfu_participant_set_muted (call->sfu, p->session_id, muted, &local)) {
    srv_calls_set_error (error, local);
    return FALSE;
  }
  p->muted = muted;
  if (muted)
    p->voice = FALSE;
  broadcast_ref (call, muted ? "user_muted" : "user_unmuted", p);
  return TRUE;
}

gboolean
srv_calls_set_screen (SrvCall *call, SrvParticipant *p, gboolean on, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (on) {
    for (guint i = 0; i < call->participants->len; i++) {
      SrvParticipant *other = call->participants->pdata[i];

      if (other != p && other->screen) {
        g_set_error (error, SRV_CALL_ERROR, SRV_CALL_ERROR_SCREEN_BUSY,
                     "'%s' is sharing their screen: one share at a time", other->username);
        return FALSE;
      }
    }
  }
  /* The SFU keeps its own one-sharer rule; its refusal is reported the same way. */
  if (p->media && !sfu_participant_set_screen (call->sfu, p->session_id, on, &local)) {
    srv_calls_set_error (error, local);
    return FALSE;
  }
  p->screen = on;
  broadcast_ref (call, on ? "user_screen_on" : "user_screen_off", p);
  return TRUE;
}

void
srv_calls_set_hand (SrvCall *call, SrvParticipant *p, gboolean raised)
{
  g_autoptr (JsonNode) data = srv_participant_ref_json (p);

  if (raised && !p->hand_raised)
    p->hand_raised_at = g_get_real_time () / 1000;
  p->hand_raised = raised;
  if (!raised)
    p->hand_raised_at = 0;
  else
    json_object_set_int_member (json_node_get_object (data), "raised_at", p->hand_raised_at);
  srv_call_broadcast (call, raised ? "user_raised_hand" : "user_lowered_hand", data, NULL);
}

void
srv_calls_react (SrvCall *call, SrvParticipant *p, const char *emoji)
{
  g_autoptr (JsonNode) data = srv_participant_ref_json (p);
  JsonObject *o = json_node_get_object (data);

  json_object_set_string_member (o, "emoji", emoji);
  json_object_set_int_member (o, "at", g_get_real_time () / 1000);
  srv_call_broadcast (call, "user_reacted", data, NULL);
}
