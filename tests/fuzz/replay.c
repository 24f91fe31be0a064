/* tests/fuzz: replay a corpus without libFuzzer.  Each argument is a
 * file or a directory of files; each file is given once to the target's
 * LLVMFuzzerTestOneInput.  Built with -fsanitize=address,undefined (gcc
 * or clang), a crash found once stays fixed: make check-fuzz replays
 * every checked-in corpus.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

/* Largest input replayed: libFuzzer's default -max_len is far below. */
#define REPLAY_MAX (1 << 20)

static int
replay_file (const char *path)
{
  FILE *fp = fopen (path, "rb");
  uint8_t *buf = malloc (REPLAY_MAX);
  size_t n;

  if (!fp || !buf) {
    perror (path);
    free (buf);
    if (fp)
      fclose (fp);
    return -1;
  }
  n = fread (buf, 1, REPLAY_MAX, fp);
  fclose (fp);
  fprintf (stderr, "replay: %s (%zu bytes)\n", path, n);
  /* A copy of exactly n bytes, so ASan sees a read past the input. */
  {
    uint8_t *in = malloc (n ? n : 1);
    if (!in)
      abort ();
    memcpy (in, buf, n);
    free (buf);
    LLVMFuzzerTestOneInput (in, n);
    free (in);
  }
  return 0;
}

int
main (int argc, char **argv)
{
  size_t count = 0;

  for (int i = 1; i < argc; i++) {
    struct stat st;
    struct dirent **ents;
    int n;

    if (stat (argv[i], &st) == -1) {
      perror (argv[i]);
      return 1;
    }
    if (!S_ISDIR (st.st_mode)) {
      if (replay_file (argv[i]) == -1)
        return 1;
      count++;
      continue;
    }
    n = scandir (argv[i], &ents, NULL, alphasort);
    if (n == -1) {
      perror (argv[i]);
      return 1;
    }
    for (int k = 0; k < n; k++) {
      char path[4096];
      if (ents[k]->d_name[0] != '.') {
        snprintf (path, sizeof path, "%s/%s", argv[i], ents[k]->d_name);
        if (replay_file (path) == -1)
          return 1;
        count++;
      }
      free (ents[k]);
    }
    free (ents);
  }
  printf ("%zu inputs replayed\n", count);
  return 0;
}
