/* Live test of replicate/azure/blob.h against Azurite: run by
 * tests/test-replicate-blob.sh, which starts Azurite and sets
 * AZURE_STORAGE_CONNECTION_STRING.  Skips (77) when run without it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/azure/blob.h"

static void
watchdog (int sig)
{
  static const char m[] = "test-blob: FAIL: Copy Blob still polling after "
    "60 s: its deadline did not fire\n";
  ssize_t r = write (2, m, sizeof m - 1);
  _exit (r < 0 ? 2 : 1);
}

/* AZPREP_TEST_COPY_PENDING: the connection string's endpoint is a proxy
 * that says every copy is pending (faultproxy.js --copy-pending).
 * Polling stops at the deadline with a clear error. */
static int
copy_pending (struct creds *cr)
{
  struct blob_opts o = { .max_tries = 3, .retry_base_ms = 50,
                         .copy_timeout_s = 3 };
  struct blob_client *c = blob_client_new (cr, &o);
  struct blob *src, *dst;
  time_t t0;
  const char *err;

  signal (SIGALRM, watchdog);
  alarm (60);
  CHECK (c != NULL);
  if (!c)
    return 1;
  CHECK (blob_container_create (c, "live") == 0);
  src = blob_open (c, "live", "pending-src.vhd");
  dst = blob_open (c, "live", "pending.vhd");
  CHECK (blob_create_page_blob (src, 1 << 20, NULL) == 0);
  t0 = time (NULL);
  CHECK (blob_copy_from (dst, src, NULL) == -1);
  CHECK (time (NULL) - t0 >= 3);
  err = log_last_error ();
  CHECK (err && strstr (err, "pending.vhd: the copy from ") &&
         strstr (err, "is still pending after 3 s: stopped waiting"));
  CHECK (blob_delete (dst, NULL, true) == 0);
  CHECK (blob_delete (src, NULL, true) == 0);
  blob_close (src);
  blob_close (dst);
  blob_client_free (c);
  return UNIT_RESULT ("test-blob (copy pending)");
}

int
main (void)
{
  CLEANUP_CREDS struct creds cr = { 0 };
  struct blob_opts o = { .max_tries = 3, .retry_base_ms = 50 };
  struct blob_client *c;
  struct blob *b, *b2, *cp;
  struct blob_props p;
  struct rangelist rl = { 0 };
  static unsigned char buf[4 << 20], back[4 << 20];
  const char *meta[] = { "azprep=1", "srcdisk=test", NULL };
  char *snap = NULL, *lease = NULL;

  if (!getenv ("AZPREP_TEST_LIVE")) {
    fprintf (stderr, "SKIP: a live test against Azurite: "
             "tests/test-replicate-blob.sh runs it\n");
    return 77;
  }
  if (creds_load (&cr, NULL) == -1)
    return 1;
  if (getenv ("AZPREP_TEST_COPY_PENDING"))
    return copy_pending (&cr);
  c = blob_client_new (&cr, &o);
  CHECK (c != NULL);
  CHECK (blob_container_create (c, "live") == 0);
  CHECK (blob_container_create (c, "live") == 0);
  b = blob_open (c, "live", "dir/disk 0.vhd");
  CHECK (b != NULL);
  CHECK (blob_get_properties (b, NULL, &p) == 0 && !p.exists);
  CHECK (blob_create_page_blob (b, 16 << 20, meta) == 0);
  CHECK (blob_create_page_blob (b, 16 << 20, NULL) == -1 &&
         !strcmp (blob_error_code (), "BlobAlreadyExists") &&
         blob_error_status () == 409);
  CHECK (blob_get_properties (b, NULL, &p) == 0 && p.exists &&
         p.size == 16 << 20 && !strcmp (p.blob_type, "PageBlob"));
  CHECK (blob_props_meta (&p, "srcdisk") &&
         !strcmp (blob_props_meta (&p, "srcdisk"), "test"));
  blob_props_free (&p);

  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = i * 7 + (i >> 12);
  CHECK (blob_put_page (b, 4 << 20, buf, sizeof buf) == 0);
  CHECK (blob_put_page (b, 0, buf, 512) == 0);
  CHECK (blob_put_page (b, 100, buf, 512) == -1);
  CHECK (blob_get_range (b, NULL, 4 << 20, back, sizeof back) == 0 &&
         memcmp (buf, back, sizeof buf) == 0);
  CHECK (blob_get_page_ranges (b, NULL, 0, 0, &rl) == 0 && rl.n == 2 &&
         rl.r[0].start == 0 && rl.r[0].end == 512 &&
         rl.r[1].start == 4 << 20 && rl.r[1].end == 8 << 20);
  rangelist_free (&rl);

  CHECK (blob_snapshot (b, NULL, &snap) == 0 && snap);
  CHECK (blob_clear_pages (b, 4 << 20, 1 << 20) == 0);
  CHECK (blob_get_page_ranges (b, NULL, 0, 0, &rl) == 0 && rl.n == 2 &&
         rl.r[1].start == 5 << 20);
  rangelist_free (&rl);
  /* The snapshot still has the old pages and data. */
  CHECK (blob_get_page_ranges (b, snap, 0, 0, &rl) == 0 && rl.n == 2 &&
         rl.r[1].start == 4 << 20);
  rangelist_free (&rl);
  CHECK (blob_get_range (b, snap, 4 << 20, back, 4096) == 0 &&
         memcmp (buf, back, 4096) == 0);
  CHECK (blob_get_range (b, NULL, 4 << 20, back, 4096) == 0 &&
         back[0] == 0 && back[4095] == 0);

  /* Lease: another handle without the id is refused with 412. */
  CHECK (blob_lease_acquire (b, "5b3f0a8e-6c1e-4c59-9d3e-0123456789ab", -1,
                             &lease) == 0 && lease &&
         !strcmp (lease, "5b3f0a8e-6c1e-4c59-9d3e-0123456789ab"));
  b2 = blob_open (c, "live", "dir/disk 0.vhd");
  CHECK (blob_put_page (b2, 0, buf, 512) == -1 && blob_error_status () == 412);
  CHECK (blob_put_page (b, 0, buf, 512) == 0);
  CHECK (blob_set_metadata (b, meta) == 0);

  /* Parallel writer. */
  {
    struct blob_writer *w = blob_writer_new (b, 4, NULL, NULL);
    CHECK (w != NULL);
    for (int i = 0; i < 8; i++) {
      void *m = malloc (1 << 20);
      memset (m, i + 1, 1 << 20);
      CHECK (blob_writer_put (w, (uint64_t) (8 + i) << 20, m, 1 << 20,
                              NULL) == 0);
    }
    CHECK (blob_writer_put (w, 0, NULL, 512, NULL) == 0);
    CHECK (blob_writer_finish (w) == 0);
    CHECK (blob_get_range (b, NULL, 15 << 20, back, 512) == 0 && back[0] == 8);
    CHECK (blob_get_range (b, NULL, 0, back, 512) == 0 && back[1] == 0);
  }

  /* Copy a snapshot to a new blob. */
  cp = blob_open (c, "live", "copy.vhd");
  CHECK (blob_copy_from (cp, b, snap) == 0);
  CHECK (blob_get_range (cp, NULL, 4 << 20, back, 4096) == 0 &&
         memcmp (buf, back, 4096) == 0);

  CHECK (blob_delete (b, snap, false) == 0);
  CHECK (blob_get_properties (b, snap, &p) == 0 && !p.exists);
  CHECK (blob_lease_release (b) == 0);
  CHECK (blob_delete (b, NULL, true) == 0);
  CHECK (blob_delete (b, NULL, true) == 0);     /* already gone: ok */
  CHECK (blob_delete (cp, NULL, true) == 0);
  CHECK (blob_client_bytes_sent (c) > (4 << 20));

  free (snap);
  free (lease);
  blob_close (b);
  blob_close (b2);
  blob_close (cp);
  blob_client_free (c);
  return UNIT_RESULT ("test-blob");
}
