/* SPDX-License-Identifier: MIT */
/* callrec-server's configuration: defaults, then a GKeyFile (--config FILE; a commented
 * sample is config/callrec-server.conf), then the environment, then the command line
 * (--data, --listen). Every key:
 *
 *   [server]
 *   listen = 127.0.0.1:8065              CALLREC_LISTEN      HOST:PORT; port 0 = any free
 *   data_dir =                           CALLREC_DATA_DIR    required (here or --data)
 *   log_format = text                    CALLREC_LOG_FORMAT  text | json
 *   web_dir =                            CALLREC_WEB_DIR     empty = installed/source web/
 *   [rtc]
 *   port = 8443                          CALLREC_RTC_PORT    UDP and TCP media port; 0 = any free
 *   ice_host_override =                  CALLREC_ICE_HOST_OVERRIDE  public address to advertise
 *   stun_server =                        CALLREC_STUN_SERVER  host:port; empty = no STUN
 *   turn_servers =                       CALLREC_TURN_SERVERS  ';'-separated turn: URLs
 *   turn_username =                      CALLREC_TURN_USERNAME
 *   turn_credential =                    CALLREC_TURN_CREDENTIAL  secret, never logged
 *   [recording]
 *   max_duration_min = 60                CALLREC_RECORDING_MAX_DURATION_MIN  1..1440
 *   warning_offset_min = 10              CALLREC_RECORDING_WARNING_OFFSET_MIN  < max duration
 *   max_concurrent = 2                   CALLREC_RECORDING_MAX_CONCURRENT  1..64
 *   max_duration_s = 0                   CALLREC_RECORDING_MAX_DURATION_S  0 = use the minutes
 *   warning_offset_s = 0                 CALLREC_RECORDING_WARNING_OFFSET_S  0 = use the minutes
 *   start_timeout_s = 30                 CALLREC_RECORDING_START_TIMEOUT_S  1..600: a job not
 *                                        recording by then fails
 *   recorder_path =                      CALLREC_RECORDING_RECORDER_PATH  callrec-recorder to
 *                                        spawn; empty = the build's, else $PATH's
 *   dispatch = local                     CALLREC_RECORDING_DISPATCH  local | workers
 *   lease_s = 15                         CALLREC_RECORDING_LEASE_S  3..300: a worker's claim
 *                                        lapses unless renewed this often
 *   [limits]
 *   max_body_bytes = 1048576             CALLREC_LIMITS_MAX_BODY_BYTES  JSON bodies
 *   max_upload_bytes = 1073741824        CALLREC_LIMITS_MAX_UPLOAD_BYTES  one file
 *   auth_failures_per_minute = 20        CALLREC_LIMITS_AUTH_FAILURES_PER_MINUTE  per address
 *   ws_max_message_bytes = 65536         CALLREC_LIMITS_WS_MAX_MESSAGE_BYTES
 *   ws_messages_per_second = 50          CALLREC_LIMITS_WS_MESSAGES_PER_SECOND
 *
 * An unknown group or key in the file is an error (a typo must not silently fall back to
 * a default); so is an environment value that does not parse. */
#include "srv-config.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (srv-config-error-quark, srv_config_error)

typedef enum {
  KEY_STRING,
  KEY_UINT,
  KEY_INT64,
  KEY_LIST,
  KEY_LOG_FORMAT,
} KeyType;

typedef struct {
  const char *group;
  const char *key;
  const char *env;
  KeyType type;
  gsize offset;
  gint64 min, max; /* KEY_UINT, KEY_INT64 */
} KeySpec;

#define OFF(field) G_STRUCT_OFFSET (SrvConfig, field)

static const KeySpec keys[] = {
  { "server", "listen", "CALLREC_LISTEN", KEY_STRING, OFF (listen) },
  { "server", "data_dir", "CALLREC_DATA_DIR", KEY_STRING, OFF (data_dir) },
  { "server", "log_format", "CALLREC_LOG_FORMAT", KEY_LOG_FORMAT, OFF (log_format) },
  { "server", "web_dir", "CALLREC_WEB_DIR", KEY_STRING, OFF (web_dir) },
  { "rtc", "port", "CALLREC_RTC_PORT", KEY_UINT, OFF (rtc_port), 0, 65535 },
  { "rtc", "ice_host_override", "CALLREC_ICE_HOST_OVERRIDE", KEY_STRING, OFF (ice_host_override) },
  { "rtc", "stun_server", "CALLREC_STUN_SERVER", KEY_STRING, OFF (stun_server) },
  { "rtc", "turn_servers", "CALLREC_TURN_SERVERS", KEY_LIST, OFF (turn_servers) },
  { "rtc", "turn_username", "CALLREC_TURN_USERNAME", KEY_STRING, OFF (turn_username) },
  { "rtc", "turn_credential", "CALLREC_TURN_CREDENTIAL", KEY_STRING, OFF (turn_credential) },
  { "recording", "max_duration_min", "CALLREC_RECORDING_MAX_DURATION_MIN", KEY_UINT,
    OFF (recording_max_duration_min), 1, 1440 },
  { "recording", "warning_offset_min", "CALLREC_RECORDING_WARNING_OFFSET_MIN", KEY_UINT,
    OFF (recording_warning_offset_min), 0, 1439 },
  { "recording", "max_concurrent", "CALLREC_RECORDING_MAX_CONCURRENT", KEY_UINT,
    OFF (recording_max_concurrent), 1, 64 },
  /* Seconds override the minutes when set (tests use a limit of a few seconds). */
  { "recording", "max_duration_s", "CALLREC_RECORDING_MAX_DURATION_S", KEY_UINT,
    OFF (recording_max_duration_s), 0, 86400 },
  { "recording", "warning_offset_s", "CALLREC_RECORDING_WARNING_OFFSET_S", KEY_UINT,
    OFF (recording_warning_offset_s), 0, 86399 },
  { "recording", "start_timeout_s", "CALLREC_RECORDING_START_TIMEOUT_S", KEY_UINT,
    OFF (recording_start_timeout_s), 1, 600 },
  { "recording", "recorder_path", "CALLREC_RECORDING_RECORDER_PATH", KEY_STRING,
    OFF (recording_recorder_path) },
  { "recording", "dispatch", "CALLREC_RECORDING_DISPATCH", KEY_STRING, OFF (recording_dispatch) },
  { "recording", "lease_s", "CALLREC_RECORDING_LEASE_S", KEY_UINT, OFF (recording_lease_s), 3,
    300 },
  { "limits", "max_body_bytes", "CALLREC_LIMITS_MAX_BODY_BYTES", KEY_INT64, OFF (max_body_bytes),
    1024, 64 * 1024 * 1024 },
  { "limits", "max_upload_bytes", "CALLREC_LIMITS_MAX_UPLOAD_BYTES", KEY_INT64,
    OFF (max_upload_bytes), 1024, G_GINT64_CONSTANT (1) << 40 },
  { "limits", "auth_failures_per_minute", "CALLREC_LIMITS_AUTH_FAILURES_PER_MINUTE", KEY_UINT,
    OFF (auth_failures_per_minute), 1, 1000000 },
  { "limits", "ws_max_message_bytes", "CALLREC_LIMITS_WS_MAX_MESSAGE_BYTES", KEY_INT64,
    OFF (ws_max_message_bytes), 1024, 16 * 1024 * 1024 },
  { "limits", "ws_messages_per_second", "CALLREC_LIMITS_WS_MESSAGES_PER_SECOND", KEY_UINT,
    OFF (ws_messages_per_second), 1, 10000 },
};

void
srv_config_init (SrvConfig *config)
{
  memset (config, 0, sizeof *config);
  config->listen = g_strdup ("127.0.0.1:8065");
  config->log_format = SRV_LOG_TEXT;
  config->web_dir = g_strdup ("");
  config->rtc_port = 8443;
  config->ice_host_override = g_strdup ("");
  config->stun_server = g_strdup ("");
  config->turn_servers = g_new0 (char *, 1);
  config->turn_username = g_strdup ("");
  config->turn_credential = g_strdup ("");
  config->recording_max_duration_min = 60;
  config->recording_warning_offset_min = 10;
  config->recording_max_concurrent = 2;
  config->recording_start_timeout_s = 30;
  config->recording_recorder_path = g_strdup ("");
  config->recording_dispatch = g_strdup ("local");
  config->recording_lease_s = 15;
  config->max_body_bytes = 1024 * 1024;
  config->max_upload_bytes = G_GINT64_CONSTANT (1024) * 1024 * 1024;
  config->auth_failures_per_minute = 20;
  config->ws_max_message_bytes = 64 * 1024;
  config->ws_messages_per_second = 50;
}

void
srv_config_clear (SrvConfig *config)
{
  g_clear_pointer (&config->listen, g_free);
  g_clear_pointer (&config->data_dir, g_free);
  g_clear_pointer (&config->web_dir, g_free);
  g_clear_pointer (&config->ice_host_override, g_free);
  g_clear_pointer (&config->stun_server, g_free);
  g_clear_pointer (&config->turn_servers, g_strfreev);
  g_clear_pointer (&config->turn_username, g_free);
  g_clear_pointer (&config->turn_credential, g_free);
  g_clear_pointer (&config->recording_recorder_path, g_free);
  g_clear_pointer (&config->recording_dispatch, g_free);
}

/* Sets one key from its text form, whether it came from the file or the environment. */
static gboolean
set_value (SrvConfig *config, const KeySpec *spec, const char *value, const char *origin,
           GError **error)
{
  gpointer field = G_STRUCT_MEMBER_P (config, spec->offset);
  g_autoptr (GError) local = NULL;
  g_autofree char *stripped = g_strstrip (g_strdup (value));

  switch (spec->type) {
  case KEY_STRING:
    g_free (*(char **) field);
    *(char **) field = g_steal_pointer (&stripped);
    return TRUE;
  case KEY_LIST: {
    g_auto (GStrv) parts = g_strsplit (stripped, ";", -1);
    g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

    for (gsize i = 0; parts[i]; i++) {
      g_strstrip (parts[i]);
      if (parts[i][0])
        g_strv_builder_add (b, parts[i]);
    }
    g_strfreev (*(char ***) field);
    *(char ***) field = g_strv_builder_end (b);
    return TRUE;
  }
  case KEY_LOG_FORMAT:
    if (g_str_equal (stripped, "text"))
      *(SrvLogFormat *) field = SRV_LOG_TEXT;
    else if (g_str_equal (stripped, "json"))
      *(SrvLogFormat *) field = SRV_LOG_JSON;
    else
      break;
    return TRUE;
  case KEY_UINT:
  case KEY_INT64: {
    gint64 v;

    if (!g_ascii_string_to_signed (stripped, 10, spec->min, spec->max, &v, &local)) {
      g_set_error (error, SRV_CONFIG_ERROR, 0, "%s: %s.%s: %s", origin, spec->group, spec->key,
                   local->message);
      return FALSE;
    }
    if (spec->type == KEY_UINT)
      *(guint *) field = (guint) v;
    else
      *(gint64 *) field = v;
    return TRUE;
  }
  }
  g_set_error (error, SRV_CONFIG_ERROR, 0, "%s: %s.%s: '%s' is not text or json", origin,
               spec->group, spec->key, stripped);
  return FALSE;
}

static const KeySpec *
find_key (const char *group, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++) {
    if (g_str_equal (keys[i].group, group) && g_str_equal (keys[i].key, key))
      return &keys[i];
  }
  return NULL;
}

static gboolean
load_file (SrvConfig *config, const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) groups = NULL;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error)) {
    g_prefix_error (error, "%s: ", path);
    return FALSE;
  }
  groups = g_key_file_get_groups (kf, NULL);
  for (gsize g = 0; groups[g]; g++) {
    g_auto (GStrv) names = g_key_file_get_keys (kf, groups[g], NULL, NULL);

    for (gsize k = 0; names && names[k]; k++) {
      const KeySpec *spec = find_key (groups[g], names[k]);
      g_autofree char *value = NULL;

      if (spec == NULL) {
        g_set_error (error, SRV_CONFIG_ERROR, 0, "%s: unknown key %s.%s", path, groups[g],
                     names[k]);
        return FALSE;
      }
      value = g_key_file_get_value (kf, groups[g], names[k], error);
      if (value == NULL || !set_value (config, spec, value, path, error))
        return FALSE;
    }
  }
  return TRUE;
}

gboolean
srv_config_load (SrvConfig *config, const char *path, GError **error)
{
  if (path && !load_file (config, path, error))
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++) {
    const char *value = g_getenv (keys[i].env);

    if (value && !set_value (config, &keys[i], value, keys[i].env, error))
      return FALSE;
  }
  return TRUE;
}

gboolean
srv_config_parse_listen (const char *listen, char **host, guint *port, GError **error)
{
  const char *colon = listen ? strrchr (listen, ':') : NULL;
  g_autofree char *h = NULL;
  guint64 p;

  if (colon == NULL || colon == listen
      || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &p, NULL)) {
    g_set_error (error, SRV_CONFIG_ERROR, 0, "listen address '%s' is not HOST:PORT",
                 listen ? listen : "");
    return FALSE;
  }
  h = g_strndup (listen, colon - listen);
  if (h[0] == '[' && h[strlen (h) - 1] == ']') {
    char *inner = g_strndup (h + 1, strlen (h) - 2);

    g_free (h);
    h = inner;
  }
  if (g_str_equal (h, "localhost")) {
    g_free (h);
    h = g_strdup ("127.0.0.1");
  }
  if (!g_hostname_is_ip_address (h)) {
    g_set_error (error, SRV_CONFIG_ERROR, 0,
                 "listen host '%s' must be an IP address (or localhost)", h);
    return FALSE;
  }
  *host = g_steal_pointer (&h);
  *port = p;
  return TRUE;
}

gboolean
srv_config_validate (const SrvConfig *config, GError **error)
{
  g_autofree char *host = NULL;
  guint port;

  if (config->data_dir == NULL || config->data_dir[0] == '\0') {
    g_set_error_literal (error, SRV_CONFIG_ERROR, 0,
                         "a data directory is required (--data DIR or CALLREC_DATA_DIR)");
    return FALSE;
  }
  if (!srv_config_parse_listen (config->listen, &host, &port, error))
    return FALSE;
  if (config->recording_dispatch == NULL
      || (!g_str_equal (config->recording_dispatch, "local")
          && !g_str_equal (config->recording_dispatch, "workers"))) {
    g_set_error (error, SRV_CONFIG_ERROR, 0, "recording: dispatch is 'local' or 'workers', not '%s'",
                 config->recording_dispatch ? config->recording_dispatch : "");
    return FALSE;
  }
  if (srv_config_recording_warning_s (config) >= srv_config_recording_limit_s (config)) {
    g_set_error (error, SRV_CONFIG_ERROR, 0,
                 "recording: the warning offset (%u s) must be below the duration limit (%u s)",
                 srv_config_recording_warning_s (config), srv_config_recording_limit_s (config));
    return FALSE;
  }
  return TRUE;
}

guint
srv_config_recording_limit_s (const SrvConfig *config)
{
  return config->recording_max_duration_s ? config->recording_max_duration_s
                                          : config->recording_max_duration_min * 60;
}

guint
srv_config_recording_warning_s (const SrvConfig *config)
{
  return config->recording_warning_offset_s ? config->recording_warning_offset_s
                                            : config->recording_warning_offset_min * 60;
}
