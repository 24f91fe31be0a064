/* azprep verify: compare a replicated blob (or a recovery point) with its
 * source, and check its VHD footer.
 */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "prep/azprep.h"
#include "replicate/engine/replicate.h"
#include "replicate/engine/state.h"
#include "replicate/azure/vhd.h"

static const char usage[] =
  "Usage: azprep verify [OPTIONS] NAME\n"
  "Compare each disk of the replication job NAME with its blob (or a\n"
  "recovery point): the VHD footer must be valid with the right size, and\n"
  "every byte must match the source.  Only chunks where the source has\n"
  "data or the blob has pages are downloaded.  Meaningful when the source\n"
  "has not changed since the cycle verified.\n"
  "\n"
  "Options:\n"
  "  --recovery-point SNAP  verify this snapshot (\"latest\": the last one)\n"
  "  --state DIR       journal directory (default ~/.local/state/azprep)\n"
  STATE_CONTAINER_USAGE ("                    ")
  "  --to-file FILE    the blob URLs with SAS again, one a line, one per\n"
  "                    disk, for a managed-disk target\n"
  "  --credentials FILE, --cacert FILE, --allow-http, --api-version V:\n"
  "                    as for replicate\n"
  "  --json            print JSON\n"
  "  --help            this text\n"
  "\n"
  "Exit: 0 identical, 1 error, 2 usage, 3 differs.\n";

enum {
  OPT_STATE = OPT_FIRST_COMMAND_SPECIFIC, OPT_RP, OPT_TO, OPT_CREDENTIALS,
  OPT_CACERT, OPT_ALLOW_HTTP, OPT_API_VERSION, OPT_TO_FILE,
};

struct vctx { struct rangelist data; };

static int
data_cb (void *opaque, uint64_t off, uint64_t len, bool zero)
{
  struct vctx *v = opaque;
  return zero ? 0 : rangelist_add (&v->data, off, off + len);
}

/* Compare disk i; returns 0 same, 1 differs, -1 error. */
static int
verify_disk (struct rdisk *d, const char *snap, uint64_t *first_diff,
             const char **why)
{
  struct jdisk *jd = d->jd;
  unsigned char f[VHD_FOOTER_SIZE];
  uint64_t fsize, ssize = source_size (d->src);
  struct rangelist pages = { 0 };
  struct vctx v = { { 0 } };
  unsigned char *a = malloc (CHUNK), *b = malloc (CHUNK);
  int r = -1;

  *why = NULL;
  if (!a || !b) {
    azp_error ("out of memory");
    goto out;
  }
  if (blob_get_range (d->blob, snap, jd->size, f, sizeof f) == -1)
    goto out;
  if (vhd_footer_check (f, &fsize, why) == -1) {
    *first_diff = jd->size;
    r = 1;
    goto out;
  }
  if (fsize != jd->size) {
    *why = "the VHD footer's size is not the disk's";
    r = 1;
    goto out;
  }
  if (blob_get_page_ranges (d->blob, snap, 0, jd->size, &pages) == -1 ||
      source_extents (d->src, 0, ssize, data_cb, &v) == -1)
    goto out;
  rangelist_normalize (&pages);
  rangelist_normalize (&v.data);
  for (uint64_t off = 0; off < jd->size; off += CHUNK) {
    uint64_t len = jd->size - off < CHUNK ? jd->size - off : CHUNK;
    uint64_t rlen = off >= ssize ? 0 : ssize - off < len ? ssize - off : len;
    bool src_data = rangelist_overlaps (&v.data, off, off + len);
    bool blob_pages = rangelist_overlaps (&pages, off, off + len);

    if (!src_data && !blob_pages)
      continue;
    memset (a, 0, len);
    memset (b, 0, len);
    if (src_data && source_pread (d->src, a, rlen, off) == -1)
      goto out;
    if (blob_pages && blob_get_range (d->blob, snap, off, b, len) == -1)
      goto out;
    if (memcmp (a, b, len) != 0) {
      for (uint64_t k = 0; k < len; k += 512)
        if (memcmp (a + k, b + k, 512) != 0) {
          *first_diff = off + k;
          break;
        }
      *why = "content differs";
      r = 1;
      goto out;
    }
  }
  r = 0;
 out:
  rangelist_free (&pages);
  rangelist_free (&v.data);
  free (a);
  free (b);
  return r;
}

/* The snapshot to verify disk jd against: rp, the latest for
 * "latest", NULL (the blob itself) without rp.  0 or -1.
 */
static int
pick_point (const struct jdisk *jd, const char *rp, const char **snap)
{
  size_t ns = count_strings (jd->snapshots);

  *snap = rp;
  if (rp && !strcmp (rp, "latest")) {
    if (ns == 0) {
      azp_error ("%s: no recovery point yet", jd->blob);
      return -1;
    }
    *snap = jd->snapshots[ns - 1];
  }
  return 0;
}

static void
print_result (size_t i, const struct jdisk *jd, const char *snap, int r,
              const char *why, uint64_t diff, bool json)
{
  if (json)
    printf ("{\"disk\":%zu,\"blob\":\"%s\",\"recovery_point\":%s%s%s,"
            "\"identical\":%s,\"reason\":%s%s%s,\"offset\":%" PRIu64 "}\n",
            i, jd->blob, snap ? "\"" : "", snap ? snap : "null",
            snap ? "\"" : "", r == 0 ? "true" : "false",
            why ? "\"" : "", why ? why : "null", why ? "\"" : "", diff);
  else if (r == 0)
    printf ("disk %zu: %s%s%s matches %s (footer valid)\n", i,
            jd->blob, snap ? " @ " : "", snap ? snap : "", jd->source);
  else
    printf ("disk %zu: %s%s%s DIFFERS from %s: %s at byte %" PRIu64 "\n",
            i, jd->blob, snap ? " @ " : "", snap ? snap : "",
            jd->source, why, diff);
}

/* Verify every disk of the loaded job: 0 identical, 1 one differs, -1
 * error.
 */
static int
verify_job (struct job *job, const char *rp, char **to, size_t nto,
            bool json)
{
  bool differs = false;

  job->disks = calloc (job->j.ndisks, sizeof *job->disks);
  if (!job->disks)
    return -1;
  for (size_t i = 0; i < job->j.ndisks; i++) {
    struct rdisk *d = &job->disks[i];
    const char *snap, *why;
    uint64_t diff = 0;
    int r;

    d->jd = &job->j.disks[i];
    if (pick_point (d->jd, rp, &snap) == -1)
      return -1;
    if (d->jd->managed && nto != job->j.ndisks) {
      azp_error ("%s: give the managed disk's SAS URL again with --to-file",
                 d->jd->blob);
      return -1;
    }
    d->blob = blob_open_url (job->client,
                             d->jd->managed ? to[i] : d->jd->blob);
    if (!d->blob || rdisk_open_source (job, d) == -1)
      return -1;
    if (d->jd->cycles == 0)
      azp_warning ("%s: the initial copy is not finished", d->jd->blob);
    r = verify_disk (d, snap, &diff, &why);
    if (r == -1)
      return -1;
    print_result (i, d->jd, snap, r, why, diff, json);
    if (r == 1)
      differs = true;
  }
  return differs ? 1 : 0;
}

static int
verify_run (int argc, char **argv)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    { "state", required_argument, NULL, OPT_STATE },
    STATE_LONG_OPTIONS,
    { "recovery-point", required_argument, NULL, OPT_RP },
    { "to", required_argument, NULL, OPT_TO },
    { "to-file", required_argument, NULL, OPT_TO_FILE },
    { "credentials", required_argument, NULL, OPT_CREDENTIALS },
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "api-version", required_argument, NULL, OPT_API_VERSION },
    { "allow-http", no_argument, NULL, OPT_ALLOW_HTTP },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  struct job job = { 0 };
  CLEANUP_CREDS struct creds cr = { 0 };
  const char *state = NULL, *rp = NULL, *credentials = NULL;
  struct blob_opts bo = { 0 };
  struct state_opts so = { .readonly = true };
  struct state_args sa = { 0 };
  struct state *st = NULL;
  char **to = NULL;
  size_t nto = 0;
  bool exists;
  int c, r, ret = EXIT_ERROR;

  while ((c = getopt_long (argc, argv, COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&o, c, usage))
      continue;
    r = state_args_option (&sa, "verify", c, optarg);
    if (r > 0) {
      creds_urls_free (to);
      return r;
    }
    if (r == 0)
      continue;
    switch (c) {
    case OPT_STATE: state = optarg; break;
    case OPT_RP: rp = optarg; break;
    case OPT_TO:
      creds_urls_free (to);
      return usage_error ("verify", "--to: refused: a managed disk's URL "
                          "carries a SAS, a secret that would show in the "
                          "process list and shell history; put the URLs in "
                          "a file (mode 600) and give --to-file FILE");
    case OPT_TO_FILE:
      if (to) {
        creds_urls_free (to);
        return usage_error ("verify", "give --to-file once");
      }
      to = creds_read_urls (optarg, &nto);
      if (!to)
        return EXIT_ERROR;
      break;
    case OPT_CREDENTIALS: credentials = optarg; break;
    case OPT_CACERT: bo.cacert = optarg; break;
    case OPT_API_VERSION:
      if (blob_set_api_version (optarg) == -1) {
        creds_urls_free (to);
        return usage_error ("verify", "bad --api-version");
      }
      break;
    case OPT_ALLOW_HTTP: bo.allow_http = true; break;
    default:
      creds_urls_free (to);
      return usage_error ("verify", "unknown option");
    }
  }
  if (optind + 1 != argc) {
    creds_urls_free (to);
    return usage_error ("verify", "give the job NAME");
  }
  r = state_args_check (&sa, "verify", false);
  if (r != -1) {
    creds_urls_free (to);
    return r;
  }
  so.dir = state;
  so.container = sa.container;
  if (creds_load (&cr, credentials) == -1 ||
      !(st = state_open (&so, &cr, &bo)) ||
      state_journal_load (st, argv[optind], &job.j, &exists) == -1)
    goto out;
  if (!exists) {
    azp_error ("no replication job %s in %s", argv[optind],
               state_where (st));
    goto out;
  }
  job.client = blob_client_new (&cr, &bo);
  if (!job.client)
    goto out;
  r = verify_job (&job, rp, to, nto, o.json);
  if (r >= 0)
    ret = r == 1 ? EXIT_NOTREADY : EXIT_OK;
 out:
  /* For vsphere:// disks this also removes the cycle's snapshot. */
  job_close (&job);
  state_close (st);
  creds_urls_free (to);
  return ret;
}

static const struct command verify_cmd = {
  "verify", "compare a replicated blob or recovery point with its source",
  verify_run,
};
COMMAND (verify_cmd);
