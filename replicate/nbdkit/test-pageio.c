/* Unit test of the page-blob block device (replicate/nbdkit/pageio.c) on a
 * blob in memory that enforces Put Page's rules: 512-aligned ranges,
 * at most 4 MiB per update, nothing past the blob.  Random reads,
 * writes and zeroes at any alignment are compared with a plain copy;
 * the footer must never change. */
#include <errno.h>
#include <string.h>

#include "prep/common/common.h"
#include "replicate/nbdkit/pageio.h"

#define BLOB (9 * 1024 * 1024 + 512)

static unsigned char blob[BLOB], model[BLOB - 512];
static int failures;
static int fail_writes;         /* m_write fails while set */

#define FAIL(...) do { fprintf (stderr, "FAIL: " __VA_ARGS__); \
    fputc ('\n', stderr); failures++; } while (0)

static int
check_put (uint64_t n, uint64_t off, const char *what)
{
  if (off % 512 || n % 512 || n == 0 || off + n > BLOB) {
    FAIL ("%s: bad range %llu+%llu", what, (unsigned long long) off,
          (unsigned long long) n);
    return -1;
  }
  return 0;
}

static int
m_read (void *h, void *buf, uint64_t n, uint64_t off)
{
  if (off + n > BLOB) {
    FAIL ("read past the blob");
    return -1;
  }
  memcpy (buf, blob + off, n);
  return 0;
}

static int
m_write (void *h, const void *buf, uint64_t n, uint64_t off)
{
  if (check_put (n, off, "write") == -1 || fail_writes)
    return -1;
  if (n > PAGEIO_MAX_PUT)
    FAIL ("write of %llu bytes > 4 MiB", (unsigned long long) n);
  memcpy (blob + off, buf, n);
  return 0;
}

static int
m_clear (void *h, uint64_t n, uint64_t off)
{
  if (check_put (n, off, "clear") == -1)
    return -1;
  memset (blob + off, 0, n);
  return 0;
}

static const struct pageio_ops ops = { m_read, m_write, m_clear };

static uint64_t seed = 42;
static uint64_t
rnd (uint64_t n)
{
  seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  return (seed >> 33) % n;
}

/* The guest's 4 KiB writes of 1 MiB, in order and then with each pair
 * swapped (requests arrive out of order), go as one Put Page each time,
 * at the flush; a read before the flush sees them. */
static void
test_gather (struct pageio *p)
{
  static unsigned char w[4096], r[4096];
  uint64_t base = 3 * 1024 * 1024 + 8192, before;

  for (int pass = 0; pass < 2; pass++) {
    before = p->writes;
    for (int i = 0; i < 256; i++) {
      int k = pass ? i ^ 1 : i;
      memset (w, k + pass, sizeof w);
      if (pageio_pwrite (p, w, sizeof w, base + k * 4096ULL) == -1)
        FAIL ("gathered write %d", k);
      memcpy (model + base + k * 4096ULL, w, sizeof w);
    }
    if (p->writes != before)
      FAIL ("gathered writes were sent before the flush");
    if (pageio_pread (p, r, sizeof r, base + 4096) == -1 ||
        memcmp (r, model + base + 4096, sizeof r))
      FAIL ("a read did not see the gathered writes");
    if (pageio_flush (p) == -1)
      FAIL ("flush");
    if (memcmp (blob + base, model + base, 1024 * 1024))
      FAIL ("the flush did not write the gathered writes");
    /* The read sent the window, as one Put Page; nothing was left. */
    if (p->writes - before != 1)
      FAIL ("256 writes of 4 KiB took %llu Put Pages, not 1",
            (unsigned long long) (p->writes - before));
  }
  /* A zero over a gathered write lands after it. */
  memset (w, 0xAB, sizeof w);
  if (pageio_pwrite (p, w, sizeof w, base) == -1 ||
      pageio_zero (p, 1024, base + 512) == -1 || pageio_flush (p) == -1)
    FAIL ("write then zero");
  memcpy (model + base, w, sizeof w);
  memset (model + base + 512, 0, 1024);
  if (memcmp (blob + base, model + base, sizeof w))
    FAIL ("a zero after a gathered write was overwritten by it");
}

/* A gathered write that the blob then refuses: acknowledged, so the
 * flush fails, and so does every later write and flush. */
static void
test_lost (void)
{
  struct pageio p;
  char w[512] = "lost";

  if (pageio_init (&p, &ops, NULL, BLOB) == -1)
    FAIL ("init");
  if (pageio_pwrite (&p, w, sizeof w, 0) == -1)
    FAIL ("a gathered write failed before it was sent");
  fail_writes = 1;
  errno = 0;
  if (pageio_flush (&p) != -1 || errno != EIO)
    FAIL ("the flush of a lost write succeeded");
  fail_writes = 0;
  if (pageio_pwrite (&p, w, sizeof w, 4096) != -1 ||
      pageio_flush (&p) != -1)
    FAIL ("writes went on after one was lost");
  if (p.write_errors != 1)
    FAIL ("write_errors is %llu, not 1",
          (unsigned long long) p.write_errors);
  pageio_destroy (&p);
}

int
main (void)
{
  struct pageio p;
  static unsigned char buf[6 * 1024 * 1024], footer[512];
  uint64_t dev = BLOB - 512;

  for (size_t i = 0; i < BLOB; i++)
    blob[i] = i * 7 + 3;
  memcpy (model, blob, dev);
  memcpy (footer, blob + dev, 512);

  if (pageio_init (&p, &ops, NULL, 1000) != -1)
    FAIL ("a blob size that is not a multiple of 512 was accepted");
  if (pageio_init (&p, &ops, NULL, BLOB) == -1 || p.size != dev)
    FAIL ("init");

  for (int i = 0; i < 400; i++) {
    uint64_t off = rnd (dev), n = 1 + rnd (i % 10 == 0 ? sizeof buf : 3000);
    int op = rnd (3);
    if (off + n > dev)
      n = dev - off;
    if (op == 0) {
      if (pageio_pread (&p, buf, n, off) == -1 || memcmp (buf, model + off, n))
        FAIL ("read %llu+%llu", (unsigned long long) off,
              (unsigned long long) n);
    }
    else if (op == 1) {
      for (uint64_t k = 0; k < n; k++)
        buf[k] = rnd (256);
      if (pageio_pwrite (&p, buf, n, off) == -1)
        FAIL ("write %llu+%llu", (unsigned long long) off,
              (unsigned long long) n);
      memcpy (model + off, buf, n);
    }
    else {
      if (pageio_zero (&p, n, off) == -1)
        FAIL ("zero %llu+%llu", (unsigned long long) off,
              (unsigned long long) n);
      memset (model + off, 0, n);
    }
  }
  if (pageio_flush (&p) == -1)
    FAIL ("flush");
  if (memcmp (blob, model, dev))
    FAIL ("the blob differs from the model");
  if (memcmp (blob + dev, footer, 512))
    FAIL ("the footer was changed");
  test_gather (&p);
  if (memcmp (blob, model, dev))
    FAIL ("the blob differs from the model");

  /* Nothing reaches the footer, even one byte. */
  if (pageio_pwrite (&p, "x", 1, dev) != -1 ||
      pageio_zero (&p, 512, dev - 511) != -1 ||
      pageio_pread (&p, buf, 2, dev - 1) != -1)
    FAIL ("I/O past the device was accepted");
  if (memcmp (blob + dev, footer, 512))
    FAIL ("the footer was changed");

  if (p.bytes_written == 0 || p.bytes_read == 0 || p.bytes_cleared == 0 ||
      p.writes == 0)
    FAIL ("counters were not kept");
  pageio_destroy (&p);
  test_lost ();
  if (failures)
    return 1;
  printf ("pageio: ok (%llu read, %llu written, %llu cleared)\n",
          (unsigned long long) p.bytes_read,
          (unsigned long long) p.bytes_written,
          (unsigned long long) p.bytes_cleared);
  return 0;
}
