/* Fuzz the Get Page Ranges reply parser (replicate/azure/ranges.c). */
#include <stdlib.h>

#include "replicate/azure/ranges.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct rangelist pages = { 0 }, clears = { 0 };
  char *marker = NULL;

  if (pagelist_parse ((const char *) data, size, "fuzz", 4096, &pages,
                      &clears, &marker) == 0) {
    rangelist_normalize (&pages);
    rangelist_bytes (&pages);
    rangelist_covers (&pages, 0, 512);
    rangelist_overlaps (&clears, 512, 4096);
  }
  rangelist_free (&pages);
  rangelist_free (&clears);
  free (marker);
  return 0;
}
