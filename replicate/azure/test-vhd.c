/* Unit tests: VHD footer layout, checksum, CHS geometry (vectors from
 * shared/research/replication.md §3).
 */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/azure/vhd.h"


static void
geom (uint64_t size, uint16_t c, uint8_t h, uint8_t s)
{
  uint16_t cyl;
  uint8_t heads, spt;
  vhd_geometry (size, &cyl, &heads, &spt);
  if (cyl != c || heads != h || spt != s) {
    fprintf (stderr, "FAIL: geometry of %llu: %u/%u/%u, want %u/%u/%u\n",
             (unsigned long long) size, cyl, heads, spt, c, h, s);
    failures++;
  }
}

int
main (void)
{
  static const unsigned char want[88] = {
    0x63,0x6f,0x6e,0x65,0x63,0x74,0x69,0x78,0x00,0x00,0x00,0x02,0x00,0x01,
    0x00,0x00,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,0x00,0x00,0x00,0x00,
    0x77,0x69,0x6e,0x20,0x00,0x0a,0x00,0x00,0x57,0x69,0x32,0x6b,0x00,0x00,
    0x00,0x02,0x80,0x00,0x00,0x00,0x00,0x00,0x00,0x02,0x80,0x00,0x00,0x00,
    0x51,0x45,0x10,0x3f,0x00,0x00,0x00,0x02,0xff,0xff,0xef,0x6f,0x00,0x01,
    0x02,0x03,0x04,0x05,0x06,0x07,0x08,0x09,0x0a,0x0b,0x0c,0x0d,0x0e,0x0f,
    0x00,0x00,0x00,0x00,
  };
  unsigned char uuid[16], f[512];
  uint64_t size;
  const char *why;

  for (int i = 0; i < 16; i++)
    uuid[i] = i;
  /* Time stamp 0: a Unix time at or before the VHD epoch. */
  vhd_footer (f, 10737418240ULL, 0, uuid);
  CHECK (memcmp (f, want, sizeof want) == 0);
  for (size_t i = sizeof want; i < 512; i++)
    CHECK (f[i] == 0);
  CHECK (vhd_checksum (f) == 0xFFFFEF6F);
  CHECK (vhd_footer_check (f, &size, &why) == 0 && size == 10737418240ULL);
  f[100] ^= 1;
  CHECK (vhd_footer_check (f, &size, &why) == -1);

  geom (20ULL << 20, 602, 4, 17);
  geom (1ULL << 30, 2080, 16, 63);
  geom (10ULL << 30, 20805, 16, 63);
  geom (127ULL << 30, 65278, 16, 255);
  geom (2ULL << 40, 65535, 16, 255);

  CHECK (vhd_virtual_size (1) == 1048576);
  CHECK (vhd_virtual_size (1048576) == 1048576);
  CHECK (vhd_virtual_size (1048577) == 2097152);

  return UNIT_RESULT ("test-vhd");
}
