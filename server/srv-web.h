/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-server.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

/* Serves the web client (config->web_dir) for paths outside /api/v1: "/" and call links
 * "/call/<channel>" get index.html, other paths the file of that name under the web
 * root. Returns FALSE, without touching @msg, when @path names no file there (the caller
 * then answers 404). */
gboolean srv_web_handle (SrvServer *server, SoupServerMessage *msg, const char *path);

/* The directory actually served: config->web_dir, or when that is empty the installed
 * web/ (for an installed server) or the source tree's web/ (for one run from its build
 * directory). Returns: (transfer full). */
char *srv_web_resolve_dir (const char *configured);

G_END_DECLS
