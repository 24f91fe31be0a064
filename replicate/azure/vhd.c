/* The fixed-VHD footer: layout, CHS geometry and checksum, as in the
 * Virtual Hard Disk Image Format Specification.  Big-endian fields.
 */
#include <string.h>

#include "replicate/azure/vhd.h"

#define VHD_EPOCH 946684800   /* 2000-01-01T00:00:00Z */

static void
be16 (unsigned char *p, uint16_t v)
{
  p[0] = v >> 8; p[1] = v;
}

static void
be32 (unsigned char *p, uint32_t v)
{
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void
be64 (unsigned char *p, uint64_t v)
{
  be32 (p, v >> 32);
  be32 (p + 4, v);
}

static uint64_t
get_be64 (const unsigned char *p)
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return v;
}

static uint32_t
get_be32 (const unsigned char *p)
{
  return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

uint64_t
vhd_virtual_size (uint64_t disk_size)
{
  return (disk_size + VHD_ALIGN - 1) / VHD_ALIGN * VHD_ALIGN;
}

void
vhd_geometry (uint64_t size, uint16_t *cyl, uint8_t *heads, uint8_t *spt)
{
  uint64_t ts = size / 512, cth, hds, s;

  if (ts > 65535ULL * 16 * 255)
    ts = 65535ULL * 16 * 255;
  if (ts >= 65535ULL * 16 * 63) {
    s = 255;
    hds = 16;
    cth = ts / s;
  }
  else {
    s = 17;
    cth = ts / s;
    hds = (cth + 1023) / 1024;
    if (hds < 4)
      hds = 4;
    if (cth >= hds * 1024 || hds > 16) {
      s = 31;
      hds = 16;
      cth = ts / s;
    }
    if (cth >= hds * 1024) {
      s = 63;
      hds = 16;
      cth = ts / s;
    }
  }
  *cyl = cth / hds;
  *heads = hds;
  *spt = s;
}

uint32_t
vhd_checksum (const unsigned char f[VHD_FOOTER_SIZE])
{
  uint32_t s = 0;
  for (int i = 0; i < VHD_FOOTER_SIZE; i++)
    if (i < 64 || i >= 68)
      s += f[i];
  return ~s;
}

void
vhd_footer (unsigned char f[VHD_FOOTER_SIZE], uint64_t size, time_t t,
            const unsigned char uuid[16])
{
  uint16_t cyl;
  uint8_t heads, spt;

  memset (f, 0, VHD_FOOTER_SIZE);
  memcpy (f, "conectix", 8);
  be32 (f + 8, 2);                      /* features: reserved bit */
  be32 (f + 12, 0x00010000);            /* format version 1.0 */
  be64 (f + 16, UINT64_MAX);            /* data offset: fixed disk */
  be32 (f + 24, t > VHD_EPOCH ? (uint32_t) (t - VHD_EPOCH) : 0);
  /* "win "/Wi2k: creator whose Current Size newer qemu and Hyper-V trust. */
  memcpy (f + 28, "win ", 4);
  be32 (f + 32, 0x000A0000);
  memcpy (f + 36, "Wi2k", 4);
  be64 (f + 40, size);
  be64 (f + 48, size);
  vhd_geometry (size, &cyl, &heads, &spt);
  be16 (f + 56, cyl);
  f[58] = heads;
  f[59] = spt;
  be32 (f + 60, 2);                     /* disk type: fixed */
  memcpy (f + 68, uuid, 16);
  be32 (f + 64, vhd_checksum (f));
}

int
vhd_footer_check (const unsigned char f[VHD_FOOTER_SIZE], uint64_t *size,
                  const char **why)
{
  if (memcmp (f, "conectix", 8) != 0) {
    *why = "no VHD footer (cookie \"conectix\" missing)";
    return -1;
  }
  if (get_be32 (f + 64) != vhd_checksum (f)) {
    *why = "VHD footer checksum is wrong";
    return -1;
  }
  if (get_be32 (f + 60) != 2) {
    *why = "VHD is not a fixed disk";
    return -1;
  }
  *size = get_be64 (f + 48);
  if (*size % 512 != 0) {
    *why = "VHD size is not a multiple of 512";
    return -1;
  }
  *why = NULL;
  return 0;
}
