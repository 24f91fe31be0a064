/* Fuzz the OVF reader (prep/check/desc/ovf.c) on a .ovf file, and the
 * JSON made of what it read.  A tar (an OVA) is left to fuzz-ova: its
 * disks would be served by qemu-nbd. */
#include <string.h>

#include "prep/check/desc/desc.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vm_desc *d;
  int mark = fuzz_fd_mark ();

  if (size >= 262 && !memcmp (data + 257, "ustar", 5))
    return 0;
  d = desc_read_ovf (fuzz_file (data, size, ".ovf"));
  if (d) {
    cJSON_Delete (desc_json (d));
    desc_free (d);
  }
  fuzz_fd_release (mark, "ovf");
  return 0;
}
