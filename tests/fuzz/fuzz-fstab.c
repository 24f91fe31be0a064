/* Fuzz the one fstab(5) reader (prep/common/fstab.c): the whole-file
 * parser and the line splitter editors use. */
#include <stdlib.h>
#include <string.h>

#include "prep/common/fstab.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  struct fstab_entry *e = NULL;
  ssize_t n = fstab_parse (text, size, &e);
  size_t start = 0;

  for (ssize_t i = 0; i < n; i++) {
    fstab_is_network (&e[i]);
    fstab_has_option (e[i].opts, "_netdev");
  }
  if (n >= 0)
    fstab_free (e, n);
  while (start < size) {
    const char *nl = memchr (text + start, '\n', size - start);
    size_t len = nl ? (size_t) (nl - text) - start : size - start;
    struct fstab_line fl;
    struct fstab_entry one;

    fstab_split_line (text + start, len, &fl);
    if (fl.nfields >= 3 &&
        fstab_entry_of_line (text + start, &fl, 1, &one) == 0)
      fstab_entry_clear (&one);
    for (size_t i = 0; i < fl.nfields && i < FSTAB_NFIELDS; i++)
      free (fstab_field (text + start, &fl, i));
    start += len + 1;
  }
  return 0;
}
