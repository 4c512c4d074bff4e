/* SPDX-License-Identifier: MIT */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The CLI's REST client: one synchronous request at a time to callrec-server's /api/v1,
 * with the bearer token. Errors are in CLI_ERROR, their message one line fit to show. */

#define CLI_ERROR (cli_error_quark ())
GQuark cli_error_quark (void);

typedef enum {
  CLI_ERROR_USAGE,   /* bad command line or configuration: exit 2 */
  CLI_ERROR_NETWORK, /* the server could not be reached */
  CLI_ERROR_SERVER,  /* the server said no (an HTTP error status) */
} CliError;

typedef struct _CliClient CliClient;

/* @server_url: "http://host:port" (a trailing slash or /api/v1 is fine). */
CliClient *cli_client_new (const char *server_url, const char *token, GError **error);
void cli_client_free (CliClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliClient, cli_client_free)

/* Sends @method @path (below /api/v1, e.g. "/users") with @body (nullable, JSON).
 * Returns: (transfer full) (nullable): the reply's JSON (an empty object for 204), or
 * NULL with @error set: for an error status, the server's error message and code. */
JsonNode *cli_client_call (CliClient *client, const char *method, const char *path, JsonNode *body,
                           GError **error);

/* Escapes one path segment (a channel or user name, or an id). */
char *cli_segment (const char *s);

G_END_DECLS
