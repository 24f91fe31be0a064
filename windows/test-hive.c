/* Unit test (no appliance): hive header checks and the registry table
 * on hive files built here with libhivex from the project's own empty
 * hive (build/images-tools/phony, made by "make images").  Bad input
 * must give an error, never a finding or a write. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "windows/windows.h"

static char dir[] = "/tmp/azprep-test-hive.XXXXXX";
static int failures;

#define CHECK(cond) do {                                              \
    if (!(cond)) {                                                    \
      fprintf (stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                     \
    }                                                                 \
  } while (0)

static void
set (hive_h *h, hive_node_h n, const char *k, hive_type t, const void *d,
     size_t len)
{
  hive_set_value v = { (char *) k, t, len, (char *) d };
  if (hivex_node_set_value (h, n, &v, 0) == -1) {
    perror ("set");
    exit (1);
  }
}

/* SYSTEM with ControlSet001\Services\{storvsc (Start=REG_SZ), good
 * (Start=3)} and RDP-Tcp\SSLCertificateSHA1Hash of 300000 bytes. */
static char *
make_system (const char *phony)
{
  char *path = xasprintf ("%s/SYSTEM", dir);
  const char *argv[] = { phony, "hive", path, NULL };
  static char big[300000];
  hive_h *h;
  hive_node_h cs, svc, n;
  unsigned char three[4] = { 3 };

  if (run_command (NULL, argv) != 0)
    exit (1);
  h = hivex_open (path, HIVEX_OPEN_WRITE);
  cs = hivex_node_add_child (h, hivex_root (h), "ControlSet001");
  svc = hivex_node_add_child (h, cs, "Services");
  n = hivex_node_add_child (h, svc, "storvsc");
  set (h, n, "Start", hive_t_REG_SZ, "3\0\0", 4);
  n = hivex_node_add_child (h, svc, "good");
  set (h, n, "Start", hive_t_REG_DWORD, three, 4);
  n = hivex_node_add_child (h, cs, "Big");
  set (h, n, "Hash", hive_t_REG_BINARY, big, sizeof big);
  if (hivex_commit (h, NULL, 0) == -1 || hivex_close (h) == -1)
    exit (1);
  return path;
}

static void
patch (const char *path, long off, const void *data, size_t len)
{
  FILE *fp = fopen (path, "r+b");
  if (!fp || fseek (fp, off, SEEK_SET) || fwrite (data, len, 1, fp) != 1
      || fclose (fp))
    exit (1);
}

static void
copy (const char *from, const char *to)
{
  const char *argv[] = { "cp", from, to, NULL };
  if (run_command (NULL, argv) != 0)
    exit (1);
}

static void
test_header (const char *good)
{
  CLEANUP_FREE char *p = xasprintf ("%s/x", dir);
  const char *argv[] = { "truncate", "-s", "6000", p, NULL };
  bool dirty = true;

  CHECK (win_hive_check_header ("SYSTEM", good, &dirty) == 0 && !dirty);
  copy (good, p);
  patch (p, 0, "XXXX", 4);                       /* no magic */
  CHECK (win_hive_check_header ("SYSTEM", p, &dirty) == -1);
  copy (good, p);
  patch (p, 0x30, "garbage", 7);                 /* bad checksum */
  CHECK (win_hive_check_header ("SYSTEM", p, &dirty) == -1);
  copy (good, p);
  CHECK (run_command (NULL, argv) == 0);         /* truncated */
  CHECK (win_hive_check_header ("SYSTEM", p, &dirty) == -1);
  unlink (p);
}

/* A hive source on the host: the size the "guest" claims, the file it
 * serves, how many times it was copied. */
struct fake { int64_t size; const char *file; int downloads; };

static int64_t
fake_size (void *arg, const char *path)
{
  return ((struct fake *) arg)->size;
}

static int
fake_download (void *arg, const char *path, const char *dest)
{
  struct fake *f = arg;
  f->downloads++;
  copy (f->file, dest);
  return 0;
}

/* The explanation of a failed inspection: a hive over Windows' limit is
 * refused before any of it is copied (the guest chooses its size). */
static void
test_explain (const char *good)
{
  CLEANUP_FREE char *bad = xasprintf ("%s/bad", dir);
  struct fake f = { WIN_HIVE_MAX + 1, good, 0 };
  const struct win_hive_source src = { fake_size, fake_download, &f };
  const char *err;

  CHECK (win_explain_hive (&src, "SYSTEM hive", "/SYSTEM") == 1);
  CHECK (f.downloads == 0);
  err = log_last_error ();
  CHECK (err && strstr (err, "SYSTEM hive: absurd size (2147483649 bytes)"));
  f.size = WIN_HIVE_MAX;                       /* at the limit: read */
  CHECK (win_explain_hive (&src, "SYSTEM hive", "/SYSTEM") == 0);
  CHECK (f.downloads == 1);
  f.size = -1;                                 /* unreadable: nothing */
  CHECK (win_explain_hive (&src, "SYSTEM hive", "/SYSTEM") == 0);
  CHECK (f.downloads == 1);
  copy (good, bad);
  patch (bad, 0, "XXXX", 4);
  f.size = 8192;
  f.file = bad;
  CHECK (win_explain_hive (&src, "SYSTEM hive", "/SYSTEM") == 1);
  CHECK (f.downloads == 2);
  unlink (bad);
}

int
main (void)
{
  const char *phony = getenv ("WIN_PHONY") ? getenv ("WIN_PHONY")
    : "build/images-tools/phony";
  struct guest gs = { 0 };
  struct windows_state *st;
  char *sys;

  if (access (phony, X_OK) != 0) {
    printf ("SKIP: %s not built (make images)\n", phony);
    return 0;
  }
  if (!mkdtemp (dir))
    return 1;
  sys = make_system (phony);
  test_header (sys);
  test_explain (sys);

  /* A guest with no appliance: the hive copy is already local. */
  gs.windows_current_control_set = (char *) "ControlSet001";
  gs.report = report_new ();
  st = win_state (&gs);
  st->hives[HIVE_SYSTEM].local = xstrdup (sys);
  st->hives[HIVE_SYSTEM].guest_path =
    xstrdup ("/Windows/System32/config/SYSTEM");
  {
    const struct win_reg good[] = {
      { "t", HIVE_SYSTEM, "Services\\good", "Start", WIN_DWORD, 0,
        .flags = WIN_IF_KEY, .why = "x" },
      { "t", HIVE_SYSTEM, "Services\\absent", "Start", WIN_DWORD, 0,
        .flags = WIN_IF_KEY, .why = "x" },
    };
    const struct win_reg wrong_type[] = {
      { "t", HIVE_SYSTEM, "Services\\storvsc", "Start", WIN_DWORD, 0,
        .why = "x" },
    };
    const struct win_reg absurd[] = {
      { "t", HIVE_SYSTEM, "Big", "Hash", WIN_DELETE, .why = "x" },
    };
    CHECK (win_table_check (&gs, good, 2) == 0);
    CHECK (gs.report->nfindings == 1);
    CHECK (gs.report->nfindings == 1
           && !strcmp (gs.report->findings[0].object,
                       "HKLM\\SYSTEM\\ControlSet001\\Services\\good\\Start"));
    CHECK (win_table_check (&gs, wrong_type, 1) == -1);
    CHECK (win_table_check (&gs, absurd, 1) == -1);
    CHECK (gs.report->nfindings == 1);
  }
  /* A dirty header is flagged, not an error. */
  {
    bool dirty = false;
    unsigned char hdr[512];
    FILE *fp = fopen (sys, "rb");
    uint32_t sum = 0;
    if (!fp || fread (hdr, sizeof hdr, 1, fp) != 1)
      return 1;
    fclose (fp);
    hdr[8]++;
    for (size_t i = 0; i < 0x1fc; i += 4)
      sum ^= (uint32_t) hdr[i] | hdr[i + 1] << 8 | hdr[i + 2] << 16
        | (uint32_t) hdr[i + 3] << 24;
    patch (sys, 8, hdr + 8, 4);
    patch (sys, 0x1fc, &sum, 4);
    CHECK (win_hive_check_header ("SYSTEM", sys, &dirty) == 0 && dirty);
  }
  report_free (gs.report);
  gs.windows_current_control_set = NULL;
  windows_free (&gs);
  unlink (sys);
  free (sys);
  rmdir (dir);
  if (failures)
    return 1;
  printf ("test-hive: ok\n");
  return 0;
}
