/* SPDX-License-Identifier: MIT */
/* /api/v1/channels: channels, their members and their posts, with the permission rules
 * of docs/api.md ("Permissions"). */
#include "srv-server-private.h"

#include <stdlib.h>
#include <string.h>

/* A group message has 3..8 people, the caller included. */
#define GROUP_MIN_OTHERS 2
#define GROUP_MAX_OTHERS 7

SrvChannel *
srv_request_channel (SrvRequest *req, const char *ref, SrvAccess access)
{
  SrvStore *store = req->server->store;
  g_autoptr (SrvChannel) ch = NULL;
  g_autoptr (GError) error = NULL;
  gboolean member = FALSE;
  gboolean admin = srv_request_is_admin (req);

  ch = srv_store_channel_get (store, ref, &error);
  if (ch == NULL && g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    g_clear_error (&error);
    ch = srv_store_channel_get_by_name (store, ref, &error);
  }
  if (ch == NULL && !g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    srv_reply_store_error (req, error, "channel");
    return NULL;
  }
  if (ch == NULL || ch->deleted_at != 0) {
    srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "channel_not_found", NULL, "no channel '%s'", ref);
    return NULL;
  }
  if (!srv_store_member_check (store, ch->id, req->user->id, &member, &error)) {
    srv_reply_store_error (req, error, "member");
    return NULL;
  }
  switch (access) {
  case SRV_ACCESS_READ:
    if (admin || member || (ch->type == SRV_CHANNEL_PUBLIC && req->user->role != SRV_ROLE_GUEST))
      return g_steal_pointer (&ch);
    break;
  case SRV_ACCESS_WRITE:
    if (!member)
      break;
    if (ch->archived_at != 0) {
      srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "channel_archived", NULL,
                       "channel '%s' is archived", ch->name);
      return NULL;
    }
    return g_steal_pointer (&ch);
  case SRV_ACCESS_MEMBER:
    if (member)
      return g_steal_pointer (&ch);
    break;
  case SRV_ACCESS_MANAGE:
    if (admin || (req->user->role != SRV_ROLE_GUEST && g_str_equal (ch->creator_id, req->user->id)))
      return g_steal_pointer (&ch);
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "only the channel's creator or a system admin can do this");
    return NULL;
  }
  srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "not_a_member", NULL,
                   "you are not a member of channel '%s'", ch->name);
  return NULL;
}

static void
reply_channel (SrvRequest *req, guint status, const SrvChannel *ch)
{
  g_autoptr (JsonNode) node = srv_json_channel (ch);

  srv_reply_json (req, status, node);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Resolves @refs (ids or usernames) to active users other than the caller, without
 * duplicates. Replies the error itself and returns NULL. */
static GPtrArray *
resolve_members (SrvRequest *req, const char *const *refs)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; refs && refs[i]; i++) {
    g_autoptr (SrvUser) user = srv_request_find_user (req, refs[i]);

    if (user == NULL)
      return NULL;
    if (user->deactivated) {
      srv_reply_error (req, SOUP_STATUS_CONFLICT, "user_deactivated", "members",
                       "user '%s' is deactivated", user->username);
      return NULL;
    }
    if (!g_str_equal (user->id, req->user->id)
        && !g_ptr_array_find_with_equal_func (ids, user->id, g_str_equal, NULL))
      g_ptr_array_add (ids, g_strdup (user->id));
  }
  g_ptr_array_sort (ids, compare_strings);
  return g_steal_pointer (&ids);
}

void
srv_api_channels_create (SrvRequest *req, JsonObject *body)
{
  SrvStore *store = req->server->store;
  const char *name = srv_shape_get_string (body, "name");
  const char *display_name = srv_shape_get_string (body, "display_name");
  SrvChannelType type = SRV_CHANNEL_PUBLIC;
  g_autofree const char **refs = srv_shape_get_strv (body, "members");
  g_autoptr (GPtrArray) others = NULL;
  g_autofree char *auto_name = NULL;
  g_autoptr (GString) auto_display = NULL;
  g_autoptr (SrvChannel) ch = NULL;
  g_autoptr (GError) error = NULL;

  srv_channel_type_from_string (srv_shape_get_string (body, "type"), &type);
  if (req->user->role == SRV_ROLE_GUEST) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "guests cannot create channels");
    return;
  }
  others = resolve_members (req, refs);
  if (others == NULL)
    return;
  if (type == SRV_CHANNEL_PUBLIC || type == SRV_CHANNEL_PRIVATE) {
    if (name == NULL) {
      srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "name",
                       "field 'name' is missing (required for %s channels)",
                       srv_channel_type_to_string (type));
      return;
    }
    /* Those prefixes name direct and group channels: a squatted "dm-A-B" must never be
     * taken for A and B's direct channel. */
    if (g_str_has_prefix (name, "dm-") || g_str_has_prefix (name, "gm-")) {
      srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "name",
                       "field 'name' may not start with 'dm-' or 'gm-'");
      return;
    }
  } else {
    guint lo = type == SRV_CHANNEL_DIRECT ? 1 : GROUP_MIN_OTHERS;
    guint hi = type == SRV_CHANNEL_DIRECT ? 1 : GROUP_MAX_OTHERS;

    if (name != NULL) {
      srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "name",
                       "field 'name' is chosen by the server for %s channels",
                       srv_channel_type_to_string (type));
      return;
    }
    if (others->len < lo || others->len > hi) {
      srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "members",
                       "field 'members' must name %u..%u other users for a %s channel", lo, hi,
                       srv_channel_type_to_string (type));
      return;
    }
    if (type == SRV_CHANNEL_DIRECT) {
      /* One direct channel per pair: its name is the pair's sorted ids. */
      const char *a = req->user->id, *b = others->pdata[0];

      auto_name = strcmp (a, b) < 0 ? g_strdup_printf ("dm-%s-%s", a, b)
                                    : g_strdup_printf ("dm-%s-%s", b, a);
      ch = srv_store_channel_get_by_name (store, auto_name, NULL);
      if (ch && ch->deleted_at == 0 && ch->type == SRV_CHANNEL_DIRECT) {
        reply_channel (req, SOUP_STATUS_OK, ch);
        return;
      }
      g_clear_pointer (&ch, srv_channel_free);
    } else {
      g_autofree char *id = srv_store_new_id ();

      auto_name = g_strdup_printf ("gm-%s", id);
    }
    name = auto_name;
    if (display_name == NULL || display_name[0] == '\0') {
      auto_display = g_string_new (req->user->username);
      for (guint i = 0; i < others->len; i++) {
        g_autoptr (SrvUser) u = srv_store_user_get (store, others->pdata[i], NULL);

        g_string_append_printf (auto_display, ", %s", u ? u->username : "?");
      }
      display_name = auto_display->str;
    }
  }
  g_ptr_array_add (others, NULL);
  ch = srv_store_channel_create (store, name, display_name && display_name[0] ? display_name : name,
                                 type, req->user->id, (const char *const *) others->pdata, &error);
  if (ch == NULL) {
    if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT))
      srv_reply_error (req, SOUP_STATUS_CONFLICT, "name_taken", "name",
                       "channel name '%s' is taken", name);
    else
      srv_reply_store_error (req, error, "channel");
    return;
  }
  g_message ("channel '%s' (%s) created by '%s'", ch->name, srv_channel_type_to_string (type),
             req->user->username);
  reply_channel (req, SOUP_STATUS_CREATED, ch);
}

void
srv_api_channels_list (SrvRequest *req, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list
      = srv_store_channel_list_for_user (req->server->store, req->user->id, &error);
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) node = NULL;

  if (list == NULL) {
    srv_reply_store_error (req, error, "channels");
    return;
  }
  for (guint i = 0; i < list->len; i++)
    json_array_add_element (array, srv_json_channel (list->pdata[i]));
  node = json_node_init_array (json_node_alloc (), array);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

void
srv_api_channels_get (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = srv_request_channel (req, req->params[0], SRV_ACCESS_READ);

  if (ch)
    reply_channel (req, SOUP_STATUS_OK, ch);
}

static void
change_channel (SrvRequest *req, gboolean delete)
{
  g_autoptr (SrvChannel) ch = srv_request_channel (req, req->params[0], SRV_ACCESS_MANAGE);
  g_autoptr (SrvChannel) updated = NULL;
  g_autoptr (GError) error = NULL;
  gboolean ok;

  if (ch == NULL)
    return;
  ok = delete ? srv_store_channel_delete (req->server->store, ch->id, &error)
              : srv_store_channel_archive (req->server->store, ch->id, &error);
  if (!ok) {
    if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT))
      srv_reply_error (req, SOUP_STATUS_CONFLICT, "channel_archived", NULL, "channel '%s': %s",
                       ch->name, error->message);
    else
      srv_reply_store_error (req, error, "channel");
    return;
  }
  /* A call in it ends now: its link stops working and nobody may join. */
  srv_calls_channel_closed (req->server, ch->id,
                            delete ? SRV_CALL_END_DELETED : SRV_CALL_END_ARCHIVED);
  g_message ("channel '%s' %s by '%s'", ch->name, delete ? "deleted" : "archived",
             req->user->username);
  if (delete) {
    srv_reply_empty (req, SOUP_STATUS_NO_CONTENT);
    return;
  }
  updated = srv_store_channel_get (req->server->store, ch->id, &error);
  if (updated == NULL)
    srv_reply_store_error (req, error, "channel");
  else
    reply_channel (req, SOUP_STATUS_OK, updated);
}

void
srv_api_channels_archive (SrvRequest *req, JsonObject *body)
{
  change_channel (req, FALSE);
}

void
srv_api_channels_delete (SrvRequest *req, JsonObject *body)
{
  change_channel (req, TRUE);
}

void
srv_api_members_list (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = srv_request_channel (req, req->params[0], SRV_ACCESS_READ);
  g_autoptr (GPtrArray) members = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) node = NULL;

  if (ch == NULL)
    return;
  members = srv_store_member_list (req->server->store, ch->id, &error);
  if (members == NULL) {
    srv_reply_store_error (req, error, "members");
    return;
  }
  for (guint i = 0; i < members->len; i++) {
    SrvMember *m = members->pdata[i];
    g_autoptr (SrvUser) user = srv_store_user_get (req->server->store, m->user_id, NULL);
    JsonNode *item;

    if (user == NULL)
      continue;
    item = srv_json_user (user);
    json_object_set_int_member (json_node_get_object (item), "joined_at", m->joined_at);
    json_array_add_element (array, item);
  }
  node = json_node_init_array (json_node_alloc (), array);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

/* Membership changes: a channel that is archived or direct does not change. */
static gboolean
check_membership_changeable (SrvRequest *req, const SrvChannel *ch)
{
  if (ch->archived_at != 0) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "channel_archived", NULL,
                     "channel '%s' is archived", ch->name);
    return FALSE;
  }
  if (ch->type == SRV_CHANNEL_DIRECT) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "a direct channel's members cannot change");
    return FALSE;
  }
  return TRUE;
}

void
srv_api_members_add (SrvRequest *req, JsonObject *body)
{
  SrvStore *store = req->server->store;
  g_autoptr (SrvChannel) ch = srv_request_channel (req, req->params[0], SRV_ACCESS_READ);
  g_autoptr (SrvUser) target = NULL;
  g_autoptr (GError) error = NULL;
  gboolean caller_member = FALSE;
  gboolean self;
  g_autoptr (JsonNode) node = NULL;

  if (ch == NULL || !check_membership_changeable (req, ch))
    return;
  target = srv_request_find_user (req, srv_shape_get_string (body, "user"));
  if (target == NULL)
    return;
  if (!srv_store_member_check (store, ch->id, req->user->id, &caller_member, &error)) {
    srv_reply_store_error (req, error, "member");
    return;
  }
  self = g_str_equal (target->id, req->user->id);
  /* Admins add anyone; members (not guests) add to their channels; anyone but a guest
   * joins a public channel. */
  if (!srv_request_is_admin (req)
      && !(req->user->role != SRV_ROLE_GUEST
           && (caller_member || (self && ch->type == SRV_CHANNEL_PUBLIC)))) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "you cannot add members to channel '%s'", ch->name);
    return;
  }
  if (target->deactivated) {
    srv_reply_error (req, SOUP_STATUS_CONFLICT, "user_deactivated", "user",
                     "user '%s' is deactivated", target->username);
    return;
  }
  if (!srv_store_member_add (store, ch->id, target->id, &error)) {
    if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT))
      srv_reply_error (req, SOUP_STATUS_CONFLICT, "already_member", "user",
                       "'%s' is already a member of '%s'", target->username, ch->name);
    else
      srv_reply_store_error (req, error, "member");
    return;
  }
  g_message ("'%s' added to channel '%s' by '%s'", target->username, ch->name, req->user->username);
  node = srv_json_user (target);
  srv_reply_json (req, SOUP_STATUS_CREATED, node);
}

void
srv_api_members_remove (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = srv_request_channel (req, req->params[0], SRV_ACCESS_READ);
  g_autoptr (SrvUser) target = NULL;
  g_autoptr (GError) error = NULL;

  if (ch == NULL || !check_membership_changeable (req, ch))
    return;
  target = srv_request_find_user (req, req->params[1]);
  if (target == NULL)
    return;
  if (!srv_request_is_admin (req) && !g_str_equal (target->id, req->user->id)
      && !(req->user->role != SRV_ROLE_GUEST && g_str_equal (ch->creator_id, req->user->id))) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "only the user, the channel's creator or a system admin can remove a member");
    return;
  }
  if (!srv_store_member_remove (req->server->store, ch->id, target->id, &error)) {
    if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND))
      srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_a_member", NULL,
                       "'%s' is not a member of '%s'", target->username, ch->name);
    else
      srv_reply_store_error (req, error, "member");
    return;
  }
  g_message ("'%s' removed from channel '%s' by '%s'", target->username, ch->name,
             req->user->username);
  /* Out of the channel, out of its call. */
  {
    SrvCall *call = srv_calls_get (req->server, ch->id);
    SrvParticipant *p = call ? srv_call_find_user (call, target->id) : NULL;

    if (p)
      srv_calls_leave (call, p);
  }
  srv_reply_empty (req, SOUP_STATUS_NO_CONTENT);
}

/* Reads an optional integer query parameter within bounds; replies 400 itself. */
static gboolean
query_int (SrvRequest *req, const char *name, gint64 min, gint64 max, gint64 *value)
{
  const char *s = req->query ? g_hash_table_lookup (req->query, name) : NULL;

  if (s == NULL)
    return TRUE;
  if (!g_ascii_string_to_signed (s, 10, min, max, value, NULL)) {
    srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", name,
                     "query parameter '%s' must be an integer within %" G_GINT64_FORMAT
                     "..%" G_GINT64_FORMAT,
                     name, min, max);
    return FALSE;
  }
  return TRUE;
}

void
srv_api_posts_list (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = srv_request_channel (req, req->params[0], SRV_ACCESS_READ);
  const char *root_id = req->query ? g_hash_table_lookup (req->query, "root_id") : NULL;
  gint64 after = 0, limit = 100;
  g_autoptr (GPtrArray) posts = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) node = NULL;

  if (ch == NULL || !query_int (req, "after", 0, G_MAXINT64, &after)
      || !query_int (req, "limit", 1, 1000, &limit))
    return;
  posts = srv_store_post_list (req->server->store, ch->id, root_id, after, limit, &error);
  if (posts == NULL) {
    srv_reply_store_error (req, error, "posts");
    return;
  }
  for (guint i = 0; i < posts->len; i++)
    json_array_add_element (array, srv_json_post (posts->pdata[i]));
  node = json_node_init_array (json_node_alloc (), array);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

void
srv_api_posts_create (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvChannel) ch = srv_request_channel (req, req->params[0], SRV_ACCESS_WRITE);
  g_autofree const char **file_ids = srv_shape_get_strv (body, "file_ids");
  JsonNode *props = json_object_get_member (body, "props");
  g_autofree char *props_text = NULL;
  g_autoptr (SrvPost) post = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;

  if (ch == NULL)
    return;
  if (props)
    props_text = json_to_string (props, FALSE);
  post = srv_store_post_create (req->server->store, ch->id, srv_shape_get_string (body, "root_id"),
                                req->user->id, srv_shape_get_string (body, "message"), props_text,
                                file_ids, &error);
  if (post == NULL) {
    if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND))
      srv_reply_error (req, SOUP_STATUS_NOT_FOUND, "not_found", "root_id", "%s", error->message);
    else if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT))
      srv_reply_error (req, SOUP_STATUS_CONFLICT, "conflict", "file_ids", "%s", error->message);
    else
      srv_reply_store_error (req, error, "post");
    return;
  }
  srv_calls_post_created (req->server, post);
  node = srv_json_post (post);
  srv_reply_json (req, SOUP_STATUS_CREATED, node);
}
