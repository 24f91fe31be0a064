/* Fuzz the vsphere:// disk URI parser (replicate/vsphere/uri.c). */
#include <stdlib.h>

#include "replicate/vsphere/vsphere.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = fuzz_string (data, size);
  struct vsphere_uri u = { 0 };

  if (vsphere_uri_p (s) && vsphere_uri_parse (s, &u) == 0)
    vsphere_uri_free (&u);
  free (s);
  return 0;
}
