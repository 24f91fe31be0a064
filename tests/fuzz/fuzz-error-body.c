/* Fuzz the storage error reply parser (replicate/azure/ranges.c). */
#include <stdlib.h>

#include "replicate/azure/ranges.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *code = NULL, *message = NULL;

  storage_error_parse ((const char *) data, size, &code, &message);
  free (code);
  free (message);
  return 0;
}
