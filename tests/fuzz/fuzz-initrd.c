/* Fuzz the initramfs lister (distros/initrd-list.c): cpio newc
 * archives, zero padding, and a compressed rest (the decompressor runs
 * as it would on a guest's file). */
#include <sys/mman.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "distros/distro.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd = memfd_create ("initrd", MFD_CLOEXEC);
  char **l;

  if (fd == -1 || write (fd, data, size) != (ssize_t) size ||
      lseek (fd, 0, SEEK_SET) == -1)
    abort ();
  l = initrd_list_fd ("/boot/initrd.img", fd);
  free_string_list (l);
  close (fd);
  return 0;
}
