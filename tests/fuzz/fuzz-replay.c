/* SPDX-License-Identifier: MIT */
/* Runs a libFuzzer target without libFuzzer: every file named on the command line, and
 * every file in every directory named there, is passed once to LLVMFuzzerTestOneInput.
 * This is how gcc builds and `meson test --suite fuzzing` replay the seed corpus and past
 * crashers. Each input is copied into a buffer of exactly its size, so that an over-read
 * reaches the sanitizer instead of a trailing NUL. A path that cannot be read fails. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static gboolean
run_file (const char *path, guint *count)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree uint8_t *copy = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &error)) {
    g_printerr ("fuzz-replay: %s\n", error->message);
    return FALSE;
  }
  copy = g_memdup2 (contents, len);
  LLVMFuzzerTestOneInput (copy, len);
  (*count)++;
  return TRUE;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
run_dir (const char *path, guint *count)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  gboolean ok = TRUE;

  if (dir == NULL) {
    g_printerr ("fuzz-replay: %s\n", error->message);
    return FALSE;
  }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  /* A fixed order makes a failure reproducible from the log. */
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++) {
    const char *file = g_ptr_array_index (names, i);

    if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
      ok = run_file (file, count) && ok;
  }
  return ok;
}

int
main (int argc, char **argv)
{
  guint count = 0;
  gboolean ok = TRUE;

  if (argc < 2) {
    g_printerr ("usage: %s FILE-OR-DIR…\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
      ok = run_dir (argv[i], &count) && ok;
    else
      ok = run_file (argv[i], &count) && ok;
  }
  printf ("fuzz-replay: %u inputs ran\n", count);
  if (count == 0) {
    g_printerr ("fuzz-replay: no inputs found\n");
    return 1;
  }
  return ok ? 0 : 1;
}
