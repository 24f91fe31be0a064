/* Fuzz the replication journal reader (replicate/engine/journal.c). */
#include "replicate/engine/journal.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct journal j;
  bool exists;
  int mark = fuzz_fd_mark ();

  journal_load (&j, fuzz_file (data, size, ".json"), &exists);
  journal_free (&j);
  fuzz_fd_release (mark, "journal");
  return 0;
}
