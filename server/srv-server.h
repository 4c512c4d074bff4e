/* SPDX-License-Identifier: MIT */
#pragma once

#include "srv-config.h"

#include <gio/gio.h>

G_BEGIN_DECLS

#define SRV_SERVER_ERROR (srv_server_error_quark ())
GQuark srv_server_error_quark (void);

typedef struct _SrvServer SrvServer;

/* Opens the store under config->data_dir (creating the directory, and on a fresh store
 * the system admin and DIR/admin.token) and starts listening on config->listen. The
 * server runs in the thread-default main context; @config must outlive it.
 *
 * Returns: (transfer full) (nullable). */
SrvServer *srv_server_new (const SrvConfig *config, GError **error);
void srv_server_free (SrvServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SrvServer, srv_server_free)

/* The port actually bound (useful with port 0). */
guint srv_server_get_port (SrvServer *server);

G_END_DECLS
