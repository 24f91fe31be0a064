/* Fuzz the --vms fleet file reader (prep/check/fleet.c): a JSON list
 * or one VM per line. */
#include "prep/check/vm.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct fleet_vm *vms = NULL;
  size_t n = 0;
  int mark = fuzz_fd_mark ();

  if (fleet_read (fuzz_file (data, size, ".json"), &vms, &n) == 0)
    fleet_free (vms, n);
  fuzz_fd_release (mark, "fleet");
  return 0;
}
