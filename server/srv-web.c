/* SPDX-License-Identifier: MIT */
/* The web client's static files (web/: HTML, CSS, ES modules; no build step).
 *
 * Every path outside /api/v1 that is not /healthz or /metrics comes here. "/" and call
 * links ("/call/<channel id or name>") get index.html, whose script reads the channel
 * from location.pathname; anything else is looked up under the web root.
 *
 * Safety: the path is percent-decoded once (an encoded '/' or NUL is refused), then every
 * segment must be a plain name: no "", ".", ".." or dot-files, no backslash or control
 * characters; the final file is opened with O_NOFOLLOW and must be a regular file. So
 * nothing outside the web root, and no symlink planted in it, is ever served.
 *
 * Caching: the modules are not content-hashed (there is no build step), so a long max-age
 * would pin stale code after an upgrade. Everything is `no-cache` with a strong ETag
 * (size + mtime) and Last-Modified; the browser revalidates and gets 304 when unchanged. */
#include "srv-server-private.h"
#include "srv-web.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WEB_FILE (16 * 1024 * 1024)
#define MAX_SEGMENTS 16

/* The page may talk only to its own origin (REST, the WebSocket) and show media from it
 * or from local blobs; nothing inline, no framing. */
#define PAGE_CSP                                                                                   \
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "          \
  "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "               \
  "frame-ancestors 'none'; form-action 'self'"

static const struct {
  const char *ext;
  const char *type;
} types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".mjs", "text/javascript; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".json", "application/json" },
  { ".webmanifest", "application/manifest+json" },
  { ".svg", "image/svg+xml" },
  { ".png", "image/png" },
  { ".ico", "image/x-icon" },
  { ".woff2", "font/woff2" },
  { ".txt", "text/plain; charset=utf-8" },
  { ".mp4", "video/mp4" },
};

static const char *
content_type_for (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++) {
    if (g_str_has_suffix (name, types[i].ext))
      return types[i].type;
  }
  return "application/octet-stream";
}

char *
srv_web_resolve_dir (const char *configured)
{
  g_autofree char *exe = NULL;

  if (configured && configured[0])
    return g_strdup (configured);
  /* A server started from its build tree serves the sources being edited; an installed
   * one serves what was installed with it. */
  exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe && g_str_has_prefix (exe, CALLREC_BUILD_ROOT "/"))
    return g_strdup (CALLREC_SOURCE_WEB_DIR);
  return g_strdup (CALLREC_INSTALLED_WEB_DIR);
}

static gboolean
valid_segment (const char *seg)
{
  if (seg[0] == '\0' || seg[0] == '.' || strlen (seg) > 255 || !g_utf8_validate (seg, -1, NULL))
    return FALSE;
  for (const char *p = seg; *p; p++) {
    guchar c = *p;

    if (c < 0x20 || c == 0x7f || c == '\\')
      return FALSE;
  }
  return TRUE;
}

/* Maps a request path to a relative file name under the web root, or NULL if the path
 * cannot name a servable file. */
static char *
map_path (const char *path)
{
  g_autofree char *decoded = g_uri_unescape_string (path, "/");
  g_auto (GStrv) segs = NULL;
  guint n;

  if (decoded == NULL || decoded[0] != '/')
    return NULL;
  if (g_str_equal (decoded, "/") || g_str_equal (decoded, "/index.html"))
    return g_strdup ("index.html");
  segs = g_strsplit (decoded + 1, "/", MAX_SEGMENTS + 1);
  n = g_strv_length (segs);
  if (n > MAX_SEGMENTS)
    return NULL;
  for (guint i = 0; i < n; i++) {
    if (!valid_segment (segs[i]))
      return NULL;
  }
  /* A call link: the page itself, which joins the call named in its URL. */
  if (n == 2 && g_str_equal (segs[0], "call"))
    return g_strdup ("index.html");
  return g_strjoinv ("/", segs);
}

static gboolean
etag_matches (const char *if_none_match, const char *etag)
{
  g_auto (GStrv) tags = NULL;

  if (if_none_match == NULL)
    return FALSE;
  tags = g_strsplit (if_none_match, ",", -1);
  for (gsize i = 0; tags[i]; i++) {
    const char *t = g_strstrip (tags[i]);

    if (g_str_equal (t, "*"))
      return TRUE;
    if (g_str_has_prefix (t, "W/"))
      t += 2;
    if (g_str_equal (t, etag))
      return TRUE;
  }
  return FALSE;
}

/* Reads the whole regular file @fd (at most MAX_WEB_FILE bytes). */
static GBytes *
read_all (int fd, gsize size)
{
  guint8 *buf = g_malloc (size ? size : 1);
  gsize done = 0;

  while (done < size) {
    ssize_t n = read (fd, buf + done, size - done);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      g_free (buf);
      return NULL;
    }
    done += n;
  }
  return g_bytes_new_take (buf, size);
}

gboolean
srv_web_handle (SrvServer *server, SoupServerMessage *msg, const char *path)
{
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *req_hdrs = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  g_autofree char *rel = map_path (path);
  g_autofree char *root = NULL;
  g_autofree char *full = NULL;
  g_autofree char *etag = NULL;
  g_autoptr (GDateTime) mtime = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char *last_modified = NULL;
  const char *type;
  struct stat st;
  int fd;

  if (rel == NULL)
    return FALSE;
  root = srv_web_resolve_dir (server->config->web_dir);
  full = g_build_filename (root, rel, NULL);
  fd = open (full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
      g_warning ("web: cannot open %s: %s", full, g_strerror (errno));
    return FALSE;
  }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > MAX_WEB_FILE) {
    close (fd);
    return FALSE;
  }
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")) {
    close (fd);
    soup_message_headers_replace (hdrs, "Allow", "GET, HEAD");
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return TRUE;
  }

  etag = g_strdup_printf ("\"%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x-%lx\"",
                          (gint64)st.st_size, (gint64)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  mtime = g_date_time_new_from_unix_utc (st.st_mtim.tv_sec);
  last_modified = g_date_time_format (mtime, "%a, %d %b %Y %H:%M:%S GMT");
  soup_message_headers_replace (hdrs, "Cache-Control", "no-cache");
  soup_message_headers_replace (hdrs, "ETag", etag);
  soup_message_headers_replace (hdrs, "Last-Modified", last_modified);
  soup_message_headers_replace (hdrs, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace (hdrs, "Referrer-Policy", "no-referrer");
  type = content_type_for (rel);
  if (g_str_has_prefix (type, "text/html"))
    soup_message_headers_replace (hdrs, "Content-Security-Policy", PAGE_CSP);

  if (etag_matches (soup_message_headers_get_one (req_hdrs, "If-None-Match"), etag)) {
    close (fd);
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_MODIFIED, NULL);
    return TRUE;
  }
  body = read_all (fd, st.st_size);
  close (fd);
  if (body == NULL) {
    g_warning ("web: cannot read %s", full);
    soup_server_message_set_status (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
    return TRUE;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (hdrs, "Content-Type", type);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), body);
  return TRUE;
}
