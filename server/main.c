/* SPDX-License-Identifier: MIT */
/* callrec-server: the control plane (REST API, store, files).
 *
 *   callrec-server --data DIR --listen HOST:PORT [--config FILE]
 *
 * Options, defaults and environment variables are listed in srv-config.c and in
 * config/callrec-server.conf. Once listening it prints one line on stdout,
 * "listening on http://HOST:PORT/", with the port actually bound (--listen HOST:0 picks a
 * free one). Logs go to stderr. SIGINT/SIGTERM stop it cleanly.
 *
 * Exit status: 0 stopped by a signal, 1 failed to start, 2 bad usage or configuration. */
#include "srv-log.h"
#include "srv-server.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *config_path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (SrvServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *host = NULL;
  guint port = 0;
  SrvConfig config;
  const GOptionEntry entries[] = {
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir,
      "Data directory (database, files, admin.token)", "DIR" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, "Address to serve HTTP on", "HOST:PORT" },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { NULL },
  };

  setlocale (LC_ALL, "");
  context = g_option_context_new ("- the callrec call server");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("callrec-server: %s\n", error->message);
    return 2;
  }
  if (argc > 1) {
    g_printerr ("callrec-server: unexpected argument '%s'\n", argv[1]);
    return 2;
  }
  srv_config_init (&config);
  if (!srv_config_load (&config, config_path, &error)) {
    g_printerr ("callrec-server: %s\n", error->message);
    srv_config_clear (&config);
    return 2;
  }
  if (data_dir) {
    g_free (config.data_dir);
    config.data_dir = g_steal_pointer (&data_dir);
  }
  if (listen) {
    g_free (config.listen);
    config.listen = g_steal_pointer (&listen);
  }
  if (!srv_config_validate (&config, &error)) {
    g_printerr ("callrec-server: %s\n", error->message);
    srv_config_clear (&config);
    return 2;
  }
  srv_log_init (config.log_format);

  loop = g_main_loop_new (NULL, FALSE);
  server = srv_server_new (&config, &error);
  if (server == NULL) {
    g_critical ("cannot start: %s", error->message);
    srv_config_clear (&config);
    return 1;
  }
  srv_config_parse_listen (config.listen, &host, &port, NULL);
  g_message ("listening on %s port %u, data in %s", host, srv_server_get_port (server),
             config.data_dir);
  printf ("listening on http://%s%s%s:%u/\n", strchr (host, ':') ? "[" : "", host,
          strchr (host, ':') ? "]" : "", srv_server_get_port (server));
  fflush (stdout);

  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  g_message ("stopping");
  g_clear_pointer (&server, srv_server_free);
  srv_config_clear (&config);
  return 0;
}
