/* SPDX-License-Identifier: MIT */
/* Unit tests for srv-pidfile: a live process is alive; an exited one, a reused PID (same
 * number, other start time) and a zombie are gone; a missing or malformed file is unknown. */
#include "srv-pidfile.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char *
temp_path (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pidfile-XXXXXX", NULL);

  g_assert_nonnull (dir);
  return g_build_filename (dir, "rec.mp4.pid", NULL);
}

static void
remove_path (char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_unlink (path);
  g_rmdir (dir);
  g_free (path);
}

static void
test_states (void)
{
  char *path = temp_path ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  char *bad;
  pid_t child;

  g_assert_cmpint (srv_pidfile_check (path), ==, SRV_PIDFILE_UNKNOWN);
  g_assert_true (srv_pidfile_write (path, getpid (), &error));
  g_assert_no_error (error);
  g_assert_cmpint (srv_pidfile_check (path), ==, SRV_PIDFILE_ALIVE);

  /* The same PID with another start time: a reused number. */
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  bad = g_strdup_printf ("%d 1\n", (int) getpid ());
  g_assert_true (g_file_set_contents (path, bad, -1, NULL));
  g_free (bad);
  g_assert_cmpint (srv_pidfile_check (path), ==, SRV_PIDFILE_GONE);

  /* A child: alive, then a zombie, then reaped. */
  child = fork ();
  if (child == 0) {
    pause ();
    _exit (0);
  }
  g_assert_true (srv_pidfile_write (path, child, &error));
  g_assert_cmpint (srv_pidfile_check (path), ==, SRV_PIDFILE_ALIVE);
  kill (child, SIGKILL);
  for (int i = 0; i < 200 && srv_pidfile_check (path) == SRV_PIDFILE_ALIVE; i++)
    g_usleep (10000);
  g_assert_cmpint (srv_pidfile_check (path), ==, SRV_PIDFILE_GONE); /* a zombie */
  g_assert_cmpint (waitpid (child, NULL, 0), ==, child);
  g_assert_cmpint (srv_pidfile_check (path), ==, SRV_PIDFILE_GONE);
  /* Writing for a process that is gone fails. */
  g_assert_false (srv_pidfile_write (path, child, &error));
  g_assert_nonnull (error);

  for (guint i = 0; i < 4; i++) {
    static const char *const garbage[] = { "", "abc 12\n", "0 5\n", "99999999999 1\n" };

    g_assert_true (g_file_set_contents (path, garbage[i], -1, NULL));
    g_assert_cmpint (srv_pidfile_check (path), ==, SRV_PIDFILE_UNKNOWN);
  }
  remove_path (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/srv-pidfile/states", test_states);
  return g_test_run ();
}
