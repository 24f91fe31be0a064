/* Fuzz the .vmx reader (prep/check/desc/vmx.c) and the JSON made of
 * what it read. */
#include "prep/check/desc/desc.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct vm_desc *d = desc_read_vmx (fuzz_file (data, size, ".vmx"));
  int mark = fuzz_fd_mark ();

  if (d) {
    cJSON_Delete (desc_json (d));
    desc_free (d);
  }
  fuzz_fd_release (mark, "vmx");
  return 0;
}
