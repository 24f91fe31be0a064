/* Unit tests: the manifest's remote copy (only the pages whose entries
 * changed are pushed, a failed push is retried) and the journal's sink
 * (the state container's copy) with the host it names.
 */
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/engine/journal.h"
#include "replicate/engine/manifest.h"

struct rec {
  int n, fail;
  uint64_t off[16];
  size_t len[16];
  unsigned char first[16];
};

static int
put (void *opaque, uint64_t off, const void *buf, size_t len)
{
  struct rec *r = opaque;
  if (r->fail) {
    r->fail--;
    return -1;
  }
  if (r->n < 16) {
    r->off[r->n] = off;
    r->len[r->n] = len;
    r->first[r->n] = *(const unsigned char *) buf;
  }
  r->n++;
  return 0;
}

static char *sunk;

static int
sink (void *opaque, const char *json, size_t len)
{
  free (sunk);
  sunk = strndup (json, len);
  return *(int *) opaque;
}

int
main (void)
{
  char dir[] = "/tmp/test-manifest.XXXXXX";
  CLEANUP_FREE char *mpath = NULL, *jpath = NULL;
  struct rec r = { 0 };
  unsigned char d[MANIFEST_ENTRY];
  struct manifest *m;
  struct journal j = { 0 }, k = { 0 };
  int sink_ret = 0;

  CHECK (mkdtemp (dir) != NULL);
  mpath = xasprintf ("%s/m", dir);
  /* 64 MiB: 1024 blocks, 16 KiB of entries, 32 pages of 512 bytes. */
  CHECK (manifest_remote_size (64 << 20) == 16384);
  CHECK (manifest_remote_size (1 << 20) == 512);
  m = manifest_open (mpath, 64 << 20);
  CHECK (m != NULL);
  CHECK (manifest_push (m) == 0);      /* no remote copy: nothing */
  CHECK (manifest_set_remote (m, put, &r) == 0);
  CHECK (manifest_push (m) == 0 && r.n == 0);

  memset (d, 0x11, sizeof d);
  manifest_set (m, 0, d);              /* page 0 */
  memset (d, 0x22, sizeof d);
  manifest_set (m, 100, d);            /* page 3 (bytes 1600..) */
  manifest_set_unknown (m, 101);       /* page 3 too */
  CHECK (manifest_push (m) == 0);
  CHECK (r.n == 2);
  CHECK (r.off[0] == 0 && r.len[0] == 512 && r.first[0] == 0x11);
  CHECK (r.off[1] == 1536 && r.len[1] == 512);
  r.n = 0;
  CHECK (manifest_push (m) == 0 && r.n == 0);   /* nothing changed */

  /* Adjacent pages go in one request; a failed push keeps them marked. */
  manifest_set (m, 32, d);             /* page 1 */
  manifest_set (m, 64, d);             /* page 2 */
  r.fail = 1;
  CHECK (manifest_push (m) == -1 && r.n == 0);
  CHECK (manifest_push (m) == 0 && r.n == 1);
  CHECK (r.off[0] == 512 && r.len[0] == 1024 && r.first[0] == 0x22);
  manifest_close (m);

  /* The journal's sink gets what is saved; the host survives. */
  jpath = xasprintf ("%s/vm.json", dir);
  j.path = strdup (jpath);
  j.name = strdup ("vm");
  j.host = strdup ("host-a");
  j.sink = sink;
  j.sink_opaque = &sink_ret;
  CHECK (journal_save (&j) == 0 && sunk && strstr (sunk, "\"host-a\""));
  CHECK (journal_parse (&k, "copy", sunk, strlen (sunk)) == 0);
  CHECK_STR (k.host, "host-a");
  CHECK_STR (k.name, "vm");
  journal_free (&k);
  sink_ret = -1;                       /* the copy failed: so does save */
  CHECK (journal_save (&j) == -1);
  {
    const char *bad = "{\"version\": 1, \"name\": \"vm\", \"host\": 7, "
      "\"disks\": []}";
    CHECK (journal_parse (&k, "copy", bad, strlen (bad)) == -1);
  }
  journal_free (&k);
  journal_free (&j);
  free (sunk);

  unlink (mpath);
  unlink (jpath);
  rmdir (dir);
  return UNIT_RESULT ("test-manifest");
}
