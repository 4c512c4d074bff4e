/* SPDX-License-Identifier: MIT */
#include "srv-log.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static SrvLogFormat log_format = SRV_LOG_TEXT;

static const char *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "ERROR";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "CRITICAL";
  if (level & G_LOG_LEVEL_WARNING)
    return "WARNING";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "MESSAGE";
  if (level & G_LOG_LEVEL_INFO)
    return "INFO";
  return "DEBUG";
}

static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  const char *domain = NULL, *message = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *ts = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
  g_autofree char *line = NULL;

  for (gsize i = 0; i < n_fields; i++) {
    if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
    else if (g_str_equal (fields[i].key, "MESSAGE"))
      message = fields[i].value;
  }
  if ((level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO))
      && g_log_writer_default_would_drop (level, domain))
    return G_LOG_WRITER_HANDLED;
  /* Microseconds are too fine for a log: keep milliseconds. */
  if (ts && strlen (ts) > 24)
    memmove (ts + 23, ts + strlen (ts) - 1, 2);
  if (log_format == SRV_LOG_JSON) {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    g_autoptr (JsonNode) root = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "ts");
    json_builder_add_string_value (b, ts);
    json_builder_set_member_name (b, "level");
    json_builder_add_string_value (b, level_name (level));
    json_builder_set_member_name (b, "domain");
    json_builder_add_string_value (b, domain ? domain : "");
    json_builder_set_member_name (b, "msg");
    json_builder_add_string_value (b, message ? message : "");
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    json_generator_set_root (gen, root);
    line = json_generator_to_data (gen, NULL);
  } else {
    line = g_strdup_printf ("%s %s %s: %s", ts, level_name (level), domain ? domain : "",
                            message ? message : "");
  }
  fprintf (stderr, "%s\n", line);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
srv_log_init (SrvLogFormat format)
{
  log_format = format;
  g_log_set_writer_func (writer, NULL, NULL);
}
