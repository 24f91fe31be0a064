/* Fuzz what azprep reads of a guest's registry hives
 * (windows/hive.c): the base block check, and values as text and as
 * DWORDs.  The first input byte is the value's type, the rest its
 * data; the whole input is also checked as a hive file. */
#include <stdlib.h>
#include <string.h>

#include "windows/windows.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct win_value v = { .present = true };
  bool dirty;
  uint32_t dw;
  int mark = fuzz_fd_mark ();

  win_hive_check_header ("fuzz", fuzz_file (data, size, ".hive"), &dirty);
  if (size < 1)
    return 0;
  v.type = data[0];
  v.len = size - 1;
  /* As win_value_get leaves it: NUL-padded. */
  v.data = calloc (1, size + 3);
  if (!v.data)
    abort ();
  memcpy (v.data, data + 1, size - 1);
  free (win_value_text (&v));
  win_value_dword (&v, "fuzz", &dw);
  win_value_free (&v);
  fuzz_fd_release (mark, "hive");
  return 0;
}
