/* Fuzz the storage credentials file reader (replicate/azure/creds.c):
 * a connection string, or KEY=VALUE lines. */
#include "replicate/azure/auth.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct creds c = { 0 };
  int mark = fuzz_fd_mark ();

  creds_load (&c, fuzz_file (data, size, ".creds"));
  creds_free (&c);
  fuzz_fd_release (mark, "creds");
  return 0;
}
