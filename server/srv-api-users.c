/* SPDX-License-Identifier: MIT */
/* /api/v1/users and tokens, and the JSON form of every API object. */
#include "srv-server-private.h"
#include "srv-ws.h"

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
add_bool (JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

JsonNode *
srv_json_user (const SrvUser *user)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "id", user->id);
  add_string (b, "username", user->username);
  add_string (b, "display_name", user->display_name);
  add_string (b, "role", srv_role_to_string (user->role));
  add_bool (b, "deactivated", user->deactivated);
  add_int (b, "created_at", user->created_at);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
srv_json_channel (const SrvChannel *ch)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "id", ch->id);
  add_string (b, "name", ch->name);
  add_string (b, "display_name", ch->display_name);
  add_string (b, "type", srv_channel_type_to_string (ch->type));
  add_string (b, "creator_id", ch->creator_id);
  add_int (b, "created_at", ch->created_at);
  add_bool (b, "archived", ch->archived_at != 0);
  add_int (b, "archived_at", ch->archived_at);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
srv_json_post (const SrvPost *post)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();

  json_builder_begin_object (b);
  add_string (b, "id", post->id);
  add_string (b, "channel_id", post->channel_id);
  add_string (b, "root_id", post->root_id);
  add_string (b, "user_id", post->user_id);
  add_string (b, "message", post->message);
  json_builder_set_member_name (b, "props");
  /* Stored only after validation as an object, so this parses. */
  if (post->props && json_parser_load_from_data (parser, post->props, -1, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
  else
    json_builder_add_value (b, json_node_init_object (json_node_alloc (), json_object_new ()));
  json_builder_set_member_name (b, "file_ids");
  json_builder_begin_array (b);
  for (guint i = 0; post->file_ids && i < post->file_ids->len; i++)
    json_builder_add_string_value (b, post->file_ids->pdata[i]);
  json_builder_end_array (b);
  add_int (b, "created_at", post->created_at);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
srv_json_file (const SrvFile *file)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string (b, "id", file->id);
  add_string (b, "channel_id", file->channel_id);
  add_string (b, "user_id", file->user_id);
  add_string (b, "post_id", file->post_id);
  add_string (b, "name", file->name);
  add_string (b, "content_type", file->content_type);
  add_int (b, "size", file->size);
  add_string (b, "sha256", file->sha256);
  add_int (b, "created_at", file->created_at);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

SrvUser *
srv_request_find_user (SrvRequest *req, const char *ref)
{
  g_autoptr (GError) error = NULL;
  SrvUser *user;

  if (g_str_equal (ref, "me"))
    return srv_store_user_get (req->server->store, req->user->id, NULL);
  user = srv_store_user_get (req->server->store, ref, &error);
  if (user == NULL && g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_NOT_FOUND)) {
    g_clear_error (&error);
    user = srv_store_user_get_by_name (req->server->store, ref, &error);
  }
  if (user == NULL)
    srv_reply_store_error (req, error, "user");
  return user;
}

void
srv_api_users_me (SrvRequest *req, JsonObject *body)
{
  g_autoptr (JsonNode) node = srv_json_user (req->user);

  srv_reply_json (req, SOUP_STATUS_OK, node);
}

void
srv_api_users_list (SrvRequest *req, JsonObject *body)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) users = NULL;
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) node = NULL;

  if (req->user->role == SRV_ROLE_GUEST) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL, "guests cannot list users");
    return;
  }
  users = srv_store_user_list (req->server->store, &error);
  if (users == NULL) {
    srv_reply_store_error (req, error, "users");
    return;
  }
  for (guint i = 0; i < users->len; i++)
    json_array_add_element (array, srv_json_user (users->pdata[i]));
  node = json_node_init_array (json_node_alloc (), array);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

void
srv_api_users_create (SrvRequest *req, JsonObject *body)
{
  const char *username = srv_shape_get_string (body, "username");
  const char *display_name = srv_shape_get_string (body, "display_name");
  const char *role_name = srv_shape_get_string (body, "role");
  SrvRole role = SRV_ROLE_MEMBER;
  g_autoptr (GError) error = NULL;
  g_autoptr (SrvUser) user = NULL;
  g_autoptr (JsonNode) node = NULL;

  if (!srv_request_is_admin (req)) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "only a system admin can create users");
    return;
  }
  if (g_str_equal (username, "me")) {
    srv_reply_error (req, SOUP_STATUS_BAD_REQUEST, "invalid_field", "username",
                     "field 'username' may not be 'me'");
    return;
  }
  if (role_name)
    srv_role_from_string (role_name, &role); /* the shape allows only valid names */
  user = srv_store_user_create (req->server->store, username,
                                display_name && display_name[0] ? display_name : username, role,
                                &error);
  if (user == NULL) {
    if (g_error_matches (error, SRV_STORE_ERROR, SRV_STORE_ERROR_CONFLICT))
      srv_reply_error (req, SOUP_STATUS_CONFLICT, "username_taken", "username",
                       "username '%s' is taken", username);
    else
      srv_reply_store_error (req, error, "user");
    return;
  }
  g_message ("user '%s' (%s) created by '%s'", user->username, srv_role_to_string (user->role),
             req->user->username);
  node = srv_json_user (user);
  srv_reply_json (req, SOUP_STATUS_CREATED, node);
}

void
srv_api_users_get (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvUser) user = NULL;
  g_autoptr (JsonNode) node = NULL;

  if (req->user->role == SRV_ROLE_GUEST && !g_str_equal (req->params[0], "me")
      && !g_str_equal (req->params[0], req->user->id)
      && !g_str_equal (req->params[0], req->user->username)) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "guests can only look up themselves");
    return;
  }
  user = srv_request_find_user (req, req->params[0]);
  if (user == NULL)
    return;
  node = srv_json_user (user);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

void
srv_api_users_deactivate (SrvRequest *req, JsonObject *body)
{
  g_autoptr (SrvUser) user = NULL;
  g_autoptr (SrvUser) updated = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = NULL;

  if (!srv_request_is_admin (req)) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "only a system admin can deactivate users");
    return;
  }
  user = srv_request_find_user (req, req->params[0]);
  if (user == NULL)
    return;
  if (g_str_equal (user->id, req->user->id)) {
    srv_reply_error (req, SOUP_STATUS_CONFLICT, "conflict", NULL,
                     "an admin cannot deactivate themselves");
    return;
  }
  if (!srv_store_user_deactivate (req->server->store, user->id, &error)
      || !(updated = srv_store_user_get (req->server->store, user->id, &error))) {
    srv_reply_store_error (req, error, "user");
    return;
  }
  g_message ("user '%s' deactivated by '%s'", user->username, req->user->username);
  srv_ws_close_user (req->server, user->id);
  node = srv_json_user (updated);
  srv_reply_json (req, SOUP_STATUS_OK, node);
}

void
srv_api_tokens_create (SrvRequest *req, JsonObject *body)
{
  const char *label = srv_shape_get_string (body, "label");
  g_autoptr (SrvUser) owner = NULL;
  g_autoptr (SrvToken) token = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *secret = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) node = NULL;

  owner = srv_request_find_user (req, req->params[0]);
  if (owner == NULL)
    return;
  if (!g_str_equal (owner->id, req->user->id) && !srv_request_is_admin (req)) {
    srv_reply_error (req, SOUP_STATUS_FORBIDDEN, "forbidden", NULL,
                     "only a system admin can create tokens for another user");
    return;
  }
  if (owner->deactivated) {
    srv_reply_error (req, SOUP_STATUS_CONFLICT, "user_deactivated", NULL,
                     "user '%s' is deactivated", owner->username);
    return;
  }
  token = srv_auth_token_create (req->server->store, owner->id, label, &secret, &error);
  if (token == NULL) {
    srv_reply_store_error (req, error, "token");
    return;
  }
  /* The id only: the secret never reaches a log. */
  g_message ("token %s created for '%s' by '%s'", token->id, owner->username, req->user->username);
  json_builder_begin_object (b);
  add_string (b, "id", token->id);
  add_string (b, "user_id", token->user_id);
  add_string (b, "label", token->label);
  add_int (b, "created_at", token->created_at);
  add_string (b, "token", secret);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  srv_reply_json (req, SOUP_STATUS_CREATED, node);
}
