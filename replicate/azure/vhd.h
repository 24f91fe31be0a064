/* azprep replicate: the fixed-VHD footer (pure functions). */
#ifndef AZPREP_REPLICATE_VHD_H
#define AZPREP_REPLICATE_VHD_H

#include <stdint.h>
#include <time.h>

#define VHD_FOOTER_SIZE 512
#define VHD_ALIGN (1024 * 1024)           /* Azure: virtual size in whole MiB */
#define VHD_MAX_PAGE_BLOB 8796093022208ULL  /* 8 TiB */

/* V: the size rounded up to 1 MiB. */
uint64_t vhd_virtual_size (uint64_t disk_size);
/* CHS geometry from the VHD specification's algorithm. */
void vhd_geometry (uint64_t size, uint16_t *cyl, uint8_t *heads,
                   uint8_t *spt);
uint32_t vhd_checksum (const unsigned char f[VHD_FOOTER_SIZE]);
/* Build the footer of a fixed VHD of virtual size size (a multiple of
 * 512), created at time t (Unix) with the 16-byte uuid.
 */
void vhd_footer (unsigned char f[VHD_FOOTER_SIZE], uint64_t size, time_t t,
                 const unsigned char uuid[16]);
/* Check a footer: cookie, fixed type, checksum.  Sets *size to the
 * Current Size.  Returns 0 if valid, -1 (no message) if not; *why says
 * what is wrong.
 */
int vhd_footer_check (const unsigned char f[VHD_FOOTER_SIZE],
                      uint64_t *size, const char **why);

#endif
