/* Fuzz the OVA tar reader (prep/check/desc/ova.c): ustar headers, pax
 * extended headers, GNU long names, base-256 sizes, finding the .ovf
 * member.  The disks are not served (that starts qemu-nbd). */
#include <stdlib.h>

#include "prep/check/desc/desc.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_file (data, size, ".ova");
  char *member = NULL;
  size_t len = 0;
  int mark = fuzz_fd_mark ();
  char *ovf = ova_read_ovf (path, &member, &len);

  fuzz_fd_release (mark, "ova_read_ovf");
  free (ovf);
  free (member);
  return 0;
}
