/* SPDX-License-Identifier: MIT */
#pragma once

#include "ws-fixture.h"

G_BEGIN_DECLS

/* One callrec-server per test binary with users and channels made through the REST API:
 *   alice, bob, carol, dave, eve (members), gus, gina (guests), admin;
 *   town: public, admin alice bob carol gus eve; attic: archived, alice;
 *   den: private, alice alone (admin is not a member). */
typedef struct {
  char *dir;
  Server *server;
  char *admin, *alice, *bob, *carol, *gus, *gina, *dave, *eve; /* tokens */
  char *town, *attic;                                          /* channel ids */
} CallsWorld;

extern CallsWorld world;

void ensure_world (void);
/* Stops the server, checks its log holds no token, removes its files. */
void finish_world (void);
/* Returns: (transfer full): a token of the new user. */
char *make_user (const char *username, const char *role);
/* A public channel made by the admin with @members (JSON strings, comma-separated).
 * Returns: (transfer full): its id. */
char *make_channel (const char *name, const char *members);
/* Joins @channel over @ws; returns the `joined` data's call. */
JsonObject *join (Ws *ws, const char *channel);
JsonArray *participants (JsonObject *call);
JsonObject *participant (JsonObject *call, guint i);
/* The user id of @token's owner (cached). */
const char *user_id (const char *token);
void assert_no_call (const char *channel);
/* Stops a test's own server and removes its data and log. */
void stop_and_clean (Server *s, const char *dir);

G_END_DECLS
