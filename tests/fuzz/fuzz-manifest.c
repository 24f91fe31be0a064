/* Fuzz the replication manifest (replicate/engine/manifest.c) opened
 * over a file left by an earlier run: any length, any bytes.  The
 * first byte chooses the disk size (in 64 KiB blocks), so that both a
 * matching and a wrong-sized file are tried. */
#include <stddef.h>

#include "replicate/engine/manifest.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const unsigned char zero[MANIFEST_ENTRY];
  struct manifest *m;
  uint64_t blocks;
  int mark = fuzz_fd_mark ();

  if (size < 1)
    return 0;
  blocks = data[0] ? data[0] : (size - 1) / MANIFEST_ENTRY;
  m = manifest_open (fuzz_file (data + 1, size - 1, ".manifest"),
                     blocks * MANIFEST_BLOCK);
  if (m) {
    for (uint64_t b = 0; b < blocks; b++)
      if (manifest_equal (m, b, zero) && b + 1 < blocks)
        manifest_set_unknown (m, b + 1);
    manifest_close (m);
  }
  fuzz_fd_release (mark, "manifest");
  return 0;
}
