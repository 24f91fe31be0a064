/* phony: small binary files for the phony Windows test images.
 *
 *   phony hive FILE     an empty registry hive (one root key, one
 *                       security descriptor); the images fill it with
 *                       "hivexregedit --merge" from .reg text, so the
 *                       project vendors no binary hive
 *   phony dirty FILE    make a hive's header sequence numbers differ
 *                       (as after a crash with unreplayed logs)
 *   phony pe32|pe64 FILE  a PE header (i386 / x86-64 console program),
 *                       enough for libguestfs's architecture detection
 *
 * Hive layout: see windows.md §7c; the header checksum is the XOR of
 * the first 127 dwords.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BLOCK 4096

static void
put32 (uint8_t *p, uint32_t v)
{
  p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}

static void
put16 (uint8_t *p, uint16_t v)
{
  p[0] = v; p[1] = v >> 8;
}

/* A SID: revision 1, 6-byte big-endian authority, sub-authorities. */
static size_t
put_sid (uint8_t *p, uint8_t authority, const uint32_t *subs, size_t n)
{
  p[0] = 1;
  p[1] = n;
  memset (p + 2, 0, 6);
  p[7] = authority;
  for (size_t i = 0; i < n; i++)
    put32 (p + 8 + 4 * i, subs[i]);
  return 8 + 4 * n;
}

static uint32_t
checksum (const uint8_t *hdr)
{
  uint32_t sum = 0;
  for (size_t i = 0; i < 0x1fc; i += 4)
    sum ^= (uint32_t) hdr[i] | hdr[i + 1] << 8 | hdr[i + 2] << 16
      | (uint32_t) hdr[i + 3] << 24;
  return sum;
}

static int
write_all (const char *path, const void *buf, size_t len)
{
  FILE *fp = fopen (path, "wb");
  if (!fp || fwrite (buf, len, 1, fp) != 1 || fclose (fp) != 0) {
    perror (path);
    return 1;
  }
  return 0;
}

static int
dirty (const char *path)
{
  uint8_t hdr[512];
  FILE *fp = fopen (path, "r+b");

  if (!fp || fread (hdr, sizeof hdr, 1, fp) != 1) {
    perror (path);
    return 1;
  }
  put32 (hdr + 0x08, hdr[4] + 1);         /* sequence2 != sequence1 */
  put32 (hdr + 0x1fc, checksum (hdr));
  if (fseek (fp, 0, SEEK_SET) != 0 || fwrite (hdr, sizeof hdr, 1, fp) != 1
      || fclose (fp) != 0) {
    perror (path);
    return 1;
  }
  return 0;
}

static int
pe (const char *path, int bits)
{
  uint8_t f[512] = { 'M', 'Z' };
  uint8_t *nt = f + 0x40, *opt = nt + 24;

  put32 (f + 0x3c, 0x40);
  memcpy (nt, "PE\0\0", 4);
  put16 (nt + 4, bits == 64 ? 0x8664 : 0x014c);
  put16 (nt + 20, bits == 64 ? 0xf0 : 0xe0);   /* optional header size */
  put16 (nt + 22, 0x0022);                     /* executable */
  put16 (opt, bits == 64 ? 0x20b : 0x10b);
  put16 (opt + 68, 3);                         /* console subsystem */
  return write_all (path, f, sizeof f);
}

static int
hive (const char *path)
{
  static uint8_t file[2 * BLOCK];
  uint8_t *hdr = file, *bin = file + BLOCK;
  const uint32_t everyone[] = { 0 }, admins[] = { 32, 544 };
  const uint32_t nk_off = 0x20, sk_off = 0x78;     /* relative to bin */
  uint8_t *nk = bin + nk_off, *sk = bin + sk_off, *sd;
  size_t sdlen, acl_len, ace_len, sklen, used;
  uint32_t sum = 0;

  /* Base block. */
  memcpy (hdr, "regf", 4);
  put32 (hdr + 0x04, 1);          /* sequence1 */
  put32 (hdr + 0x08, 1);          /* sequence2: equal = clean */
  put32 (hdr + 0x14, 1);          /* major version */
  put32 (hdr + 0x18, 5);          /* minor version */
  put32 (hdr + 0x1c, 0);          /* primary file */
  put32 (hdr + 0x20, 1);          /* direct memory load */
  put32 (hdr + 0x24, nk_off);     /* root key */
  put32 (hdr + 0x28, BLOCK);      /* size of the hive bins */
  put32 (hdr + 0x2c, 1);          /* clustering factor */
  sum = checksum (hdr);
  put32 (hdr + 0x1fc, sum);

  /* One hive bin. */
  memcpy (bin, "hbin", 4);
  put32 (bin + 0x04, 0);
  put32 (bin + 0x08, BLOCK);

  /* Root nk: 0x50 bytes of fields + "ROOT", rounded to 8: 0x58. */
  put32 (nk, (uint32_t) -0x58);
  memcpy (nk + 0x04, "nk", 2);
  put16 (nk + 0x06, 0x2c);        /* HIVE_ENTRY | NO_DELETE | COMP_NAME */
  put32 (nk + 0x14, 0xffffffff);  /* parent */
  put32 (nk + 0x20, 0xffffffff);  /* subkey list */
  put32 (nk + 0x24, 0xffffffff);  /* volatile subkey list */
  put32 (nk + 0x2c, 0xffffffff);  /* value list */
  put32 (nk + 0x30, sk_off);      /* security */
  put32 (nk + 0x34, 0xffffffff);  /* class name */
  put16 (nk + 0x4c, 4);
  memcpy (nk + 0x50, "ROOT", 4);

  /* sk: header 0x18 bytes, then a self-relative security descriptor
   * (owner and group Administrators, DACL: Everyone KEY_ALL_ACCESS). */
  sd = sk + 0x18;
  {
    uint8_t *acl = sd + 20, *ace = acl + 8;
    size_t sidlen = put_sid (ace + 8, 1, everyone, 1);
    ace_len = 8 + sidlen;
    ace[0] = 0;                   /* ACCESS_ALLOWED */
    ace[1] = 0x02;                /* CONTAINER_INHERIT */
    put16 (ace + 2, ace_len);
    put32 (ace + 4, 0x000f003f);  /* KEY_ALL_ACCESS */
    acl_len = 8 + ace_len;
    acl[0] = 2;
    put16 (acl + 2, acl_len);
    put16 (acl + 4, 1);
    sd[0] = 1;
    put16 (sd + 2, 0x8004);       /* SELF_RELATIVE | DACL_PRESENT */
    put32 (sd + 4, 20 + acl_len);
    put32 (sd + 8, 20 + acl_len + 16);
    put32 (sd + 16, 20);
    put_sid (sd + 20 + acl_len, 5, admins, 2);
    put_sid (sd + 20 + acl_len + 16, 5, admins, 2);
    sdlen = 20 + acl_len + 32;
  }
  sklen = (0x18 + sdlen + 7) & ~(size_t) 7;
  put32 (sk, (uint32_t) -(int32_t) sklen);
  memcpy (sk + 0x04, "sk", 2);
  put32 (sk + 0x08, sk_off);      /* flink */
  put32 (sk + 0x0c, sk_off);      /* blink */
  put32 (sk + 0x10, 1);           /* reference count */
  put32 (sk + 0x14, sdlen);

  /* The rest of the bin is one free cell. */
  used = sk_off + sklen;
  put32 (bin + used, BLOCK - used);

  return write_all (path, file, sizeof file);
}

int
main (int argc, char **argv)
{
  if (argc == 3 && !strcmp (argv[1], "hive"))
    return hive (argv[2]);
  if (argc == 3 && !strcmp (argv[1], "dirty"))
    return dirty (argv[2]);
  if (argc == 3 && !strcmp (argv[1], "pe32"))
    return pe (argv[2], 32);
  if (argc == 3 && !strcmp (argv[1], "pe64"))
    return pe (argv[2], 64);
  fprintf (stderr, "usage: phony hive|dirty|pe32|pe64 FILE\n");
  return 2;
}
