/* Fuzz the Azure Storage connection string parser
 * (replicate/azure/creds.c), and the base64 decoder behind the key. */
#include <stdlib.h>

#include "replicate/azure/auth.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = fuzz_string (data, size);
  struct creds c = { 0 };
  size_t len;

  creds_parse_connection_string (&c, s, "fuzz");
  creds_free (&c);
  free (base64_decode (s, &len));
  free (s);
  return 0;
}
