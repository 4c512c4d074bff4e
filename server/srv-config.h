/* SPDX-License-Identifier: MIT */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SRV_CONFIG_ERROR (srv_config_error_quark ())
GQuark srv_config_error_quark (void);

typedef enum {
  SRV_LOG_TEXT,
  SRV_LOG_JSON,
} SrvLogFormat;

/* Every option of callrec-server; srv-config.c documents each, its default and its
 * environment variable. */
typedef struct {
  char *listen; /* HOST:PORT; port 0 picks a free port */
  char *data_dir;
  SrvLogFormat log_format;
  char *web_dir; /* the web client's files; empty: the installed or source web/ */

  guint rtc_port;
  char *ice_host_override; /* empty: advertise the local addresses */
  char *stun_server;       /* empty: no STUN discovery */
  char **turn_servers;     /* TURN URLs handed to clients */
  char *turn_username;
  char *turn_credential; /* a secret: never logged */

  guint recording_max_duration_min;
  guint recording_warning_offset_min;
  guint recording_max_concurrent;
  guint recording_max_duration_s;   /* 0: recording_max_duration_min */
  guint recording_warning_offset_s;  /* 0: recording_warning_offset_min */
  guint recording_start_timeout_s;
  char *recording_recorder_path;     /* empty: the build's recorder, else $PATH's */
  char *recording_dispatch;          /* "local" (spawn recorders) or "workers" (claimed) */
  guint recording_lease_s;           /* workers: a claim lasts this long unless renewed */

  gint64 max_body_bytes;   /* JSON request bodies */
  gint64 max_upload_bytes; /* one file upload */
  guint auth_failures_per_minute;
  gint64 ws_max_message_bytes;
  guint ws_messages_per_second;
} SrvConfig;

void srv_config_init (SrvConfig *config);
void srv_config_clear (SrvConfig *config);
/* Reads @path (nullable) over the defaults, then the CALLREC_* environment over that.
 * Command-line options are applied by the caller afterwards. */
gboolean srv_config_load (SrvConfig *config, const char *path, GError **error);
/* Checks the values together (ranges, listen address syntax). */
gboolean srv_config_validate (const SrvConfig *config, GError **error);
/* The recording limit and warning offset in seconds (the _s keys over the _min ones). */
guint srv_config_recording_limit_s (const SrvConfig *config);
guint srv_config_recording_warning_s (const SrvConfig *config);
/* Splits HOST:PORT ("[::1]:80" for IPv6). */
gboolean srv_config_parse_listen (const char *listen, char **host, guint *port, GError **error);

G_END_DECLS
