/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the upload client's reading of the server's replies
 * (recorder/rec-upload-reply.c). A reply either fails with an error, leaving nothing
 * behind, or yields members that hold their documented forms: ids usable in a URL path,
 * a 64-digit lowercase hash, printable error text. GLib criticals and warnings abort. */
#include "rec-upload-reply.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_id (const char *id)
{
  if (id && !rec_upload_id_valid (id))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gsize init = 0;
  g_autoptr (GError) error = NULL;
  RecUploadReply reply;

  if (g_once_init_enter (&init)) {
    g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    g_once_init_leave (&init, 1);
  }
  if (!rec_upload_reply_parse ((const char *)data, size, &reply, &error)) {
    if (error == NULL || reply.upload_id || reply.file_id || reply.file_sha256 || reply.error_code
        || reply.error_message)
      abort ();
    return 0;
  }
  if (error != NULL)
    abort ();
  check_id (reply.upload_id);
  check_id (reply.file_id);
  if (reply.file_sha256
      && (strlen (reply.file_sha256) != 64 || strspn (reply.file_sha256, "0123456789abcdef") != 64))
    abort ();
  if (reply.file_sha256 && (reply.file_id == NULL || reply.file_size < 0))
    abort ();
  if (reply.error_message) {
    if (strlen (reply.error_message) > 256)
      abort ();
    for (const char *p = reply.error_message; *p; p++)
      if (!g_ascii_isprint (*p))
        abort ();
  }
  if (reply.offset < -1 || reply.file_size < -1)
    abort ();
  rec_upload_reply_clear (&reply);
  return 0;
}
