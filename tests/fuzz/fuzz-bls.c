/* Fuzz the BLS entry reader (fixups/bootparams.c bls_entry_options)
 * linux-grub-config uses on /boot/loader/entries/NAME.conf, with and
 * without grubenv's kernelopts (the input after a NUL byte, else
 * none), and the check's predicate on what it read. */
#include <stdlib.h>
#include <string.h>

#include "fixups/bootparams.h"
#include "tests/fuzz/fuzz.h"

static const char *const add[] = BOOT_ADD_PARAMS;

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = fuzz_string (data, size);
  const char *nul = memchr (data, '\0', size);
  char *kopts = nul ? fuzz_string ((const uint8_t *) nul + 1,
                                   size - (size_t) (nul - (const char *) data)
                                   - 1) : NULL;
  char *o = bls_entry_options (s, kopts);

  if (o)
    boot_cmdline_problem_of (add, o);
  free (o);
  free (bls_entry_options (s, NULL));
  free (kopts);
  free (s);
  return 0;
}
