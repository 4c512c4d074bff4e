/* SPDX-License-Identifier: MIT */
/* Recorder pid files; see srv-pidfile.h. */
#include "srv-pidfile.h"

#include <stdio.h>
#include <string.h>

/* The state (field 3) and start time (field 22) of @pid, from /proc/PID/stat. The command
 * name (field 2) is in parentheses and may hold spaces: fields are counted after its last
 * ')'. FALSE when the process does not exist. */
static gboolean
read_stat (GPid pid, char *state, guint64 *start)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *rest;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  rest = strrchr (text, ')');
  if (rest == NULL)
    return FALSE;
  /* After ')': field 3 is the first, field 22 the twentieth. */
  fields = g_strsplit_set (rest + 1, " ", -1);
  if (g_strv_length (fields) < 21)
    return FALSE;
  *state = fields[1][0];
  return g_ascii_string_to_unsigned (fields[20], 10, 0, G_MAXUINT64, start, NULL);
}

gboolean
srv_pidfile_write (const char *path, GPid pid, GError **error)
{
  g_autofree char *text = NULL;
  guint64 start = 0;
  char state;

  if (!read_stat (pid, &state, &start)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "process %d is gone", (int) pid);
    return FALSE;
  }
  text = g_strdup_printf ("%d %" G_GUINT64_FORMAT "\n", (int) pid, start);
  return g_file_set_contents (path, text, -1, error);
}

SrvPidfileState
srv_pidfile_check (const char *path)
{
  g_autofree char *text = NULL;
  guint64 pid = 0, start = 0, now_start = 0;
  char state = 0;
  char *end = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return SRV_PIDFILE_UNKNOWN;
  pid = g_ascii_strtoull (text, &end, 10);
  if (end == text || *end != ' ' || pid == 0 || pid > G_MAXINT)
    return SRV_PIDFILE_UNKNOWN;
  start = g_ascii_strtoull (end + 1, NULL, 10);
  if (!read_stat ((GPid) pid, &state, &now_start) || now_start != start || state == 'Z' ||
      state == 'X')
    return SRV_PIDFILE_GONE;
  return SRV_PIDFILE_ALIVE;
}
