/* The replication job: state directory, journal and lock paths, the
 * job's creation from the command line, its sources.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/azure/vhd.h"
#include "replicate/engine/internal.h"
#include "replicate/engine/state.h"

/* The source hooks, in the linker section REPLICATE_SOURCE() fills
 * (weak: a program may register none).
 */
extern const struct replicate_source *const __start_azprep_sources[]
  __attribute__((weak));
extern const struct replicate_source *const __stop_azprep_sources[]
  __attribute__((weak));

char *
replicate_default_state_dir (void)
{
  const char *x = getenv ("XDG_STATE_HOME"), *h = getenv ("HOME");
  if (x && *x == '/')
    return xasprintf ("%s/azprep", x);
  if (h && *h == '/')
    return xasprintf ("%s/.local/state/azprep", h);
  return xstrdup ("azprep-state");
}

/* The state directory holds journals that say which blobs and sources
 * to write and read: it must be the user's, writable by no one else. */
int
replicate_check_state_dir (const char *dir)
{
  struct stat st;

  if (lstat (dir, &st) == -1)
    return errno == ENOENT ? 0 : (azp_error ("%s: %m", dir), -1);
  if (!S_ISDIR (st.st_mode)) {
    azp_error ("state directory %s: not a directory", dir);
    return -1;
  }
  if (st.st_uid != geteuid () || (st.st_mode & 022)) {
    azp_error ("state directory %s: refused: %s (its journals decide what "
               "is read and written): chmod go-w it, or use another --state",
               dir, st.st_uid != geteuid () ? "owned by another user"
               : "writable by group or others");
    return -1;
  }
  return 0;
}

char *
replicate_journal_path (const char *dir, const char *name)
{
  if (replicate_check_state_dir (dir) == -1)
    return NULL;
  return xasprintf ("%s/%s.json", dir, name);
}

char *
replicate_lock_path (const char *dir, const char *name)
{
  return xasprintf ("%s/%s.lock", dir, name);
}

int
replicate_lock_job (const char *dir, const char *name, const char *what)
{
  CLEANUP_FREE char *path = replicate_lock_path (dir, name);
  char pid[32] = "";
  ssize_t n;
  int fd;

  if (!path)
    return -1;
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1) {
    azp_error ("%s: %m", path);
    return -1;
  }
  if (flock (fd, LOCK_EX | LOCK_NB) == -1) {
    if (errno != EWOULDBLOCK) {
      azp_error ("%s: cannot lock: %m", path);
      close (fd);
      return -1;
    }
    n = pread (fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = '\0';
    pid[strcspn (pid, "\n")] = '\0';
    azp_error ("%s %s: refused: another azprep%s%s works on the job (%s); "
               "stop it first (SIGTERM, or Ctrl-C, ends a --continuous "
               "replication cleanly)", what, name, *pid ? " with pid " : "",
               pid, path);
    close (fd);
    return -1;
  }
  snprintf (pid, sizeof pid, "%ld\n", (long) getpid ());
  if (ftruncate (fd, 0) == -1 ||
      pwrite (fd, pid, strlen (pid), 0) != (ssize_t) strlen (pid))
    azp_debug ("%s: cannot record the pid: %m", path);
  return 0;                     /* fd stays open: the lock lasts */
}

double
replicate_next_wait (double cycle_seconds, bool was_initial)
{
  double w = cycle_seconds / 2;
  if (was_initial)
    return 0;
  return w < 3600 ? 3600 : w > 43200 ? 43200 : w;
}

int
rdisk_open_source (struct job *job, struct rdisk *d)
{
  struct jdisk *jd = d->jd;
  bool uri = strstr (jd->source, "://") != NULL;
  const char *bitmap = job->use_bitmap ? jd->bitmap : NULL;
  const struct replicate_source *h = replicate_source_find (jd->source);
  CLEANUP_FREE char *ctx = NULL;

  if (h) {
    job->hook = h;
    return h->open (job, d);
  }
  if (uri && bitmap && !(ctx = xasprintf ("qemu:dirty-bitmap:%s", bitmap)))
    return -1;
  d->src = uri ? source_open_nbd (jd->source, ctx)
    : source_open_local (jd->source, jd->format, bitmap);
  return d->src ? 0 : -1;
}

int
rdisk_open_manifest (struct job *job, struct rdisk *d)
{
  CLEANUP_FREE char *path = NULL;

  if (job->state) {
    d->man = state_manifest_open (job->state, &job->j, d - job->disks);
    return d->man ? 0 : -1;
  }
  path = xasprintf ("%s/%s", job->state_dir, d->jd->manifest);
  if (!path)
    return -1;
  d->man = manifest_open (path, d->jd->size);
  return d->man ? 0 : -1;
}

const struct replicate_source *
replicate_source_find (const char *source)
{
  if (!__start_azprep_sources)
    return NULL;
  for (const struct replicate_source *const *h = __start_azprep_sources;
       h < __stop_azprep_sources; h++)
    if ((*h)->match (source))
      return *h;
  return NULL;
}

int
job_end_cycle (struct job *job)
{
  return job->hook ? job->hook->end_cycle (job) : 0;
}

void
job_close (struct job *job)
{
  job_end_cycle (job);
  for (size_t i = 0; job->disks && i < job->j.ndisks; i++) {
    source_close (job->disks[i].src);
    blob_close (job->disks[i].blob);
    manifest_close (job->disks[i].man);
    rangelist_free (&job->disks[i].changed);
  }
  free (job->disks);
  blob_client_free (job->client);
  journal_free (&job->j);
  free (job->state_dir);
}

bool
replicate_url_is_blob (const char *url)
{
  const char *q = strchr (url, '?');
  size_t plen = q ? (size_t) (q - url) : strlen (url);
  return (q && (strstr (q, "sr=b&") || strstr (q, "&sr=b") ||
                strstr (q, "?sr=b"))) ||
    (plen > 4 && strncasecmp (url + plen - 4, ".vhd", 4) == 0);
}

int
random_uuid (unsigned char u[16], char *str /* [37] or NULL */)
{
  if (getrandom (u, 16, 0) != 16) {
    azp_error ("getrandom: %m");
    return -1;
  }
  u[6] = (u[6] & 0x0f) | 0x40;
  u[8] = (u[8] & 0x3f) | 0x80;
  if (str)
    snprintf (str, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
              "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
              u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
              u[15]);
  return 0;
}

/* The source's size decides V; its bitmaps decide delta tracking. */
static int
jdisk_probe_source (struct jdisk *jd, const struct replicate_opts *o)
{
  const struct replicate_source *h = replicate_source_find (jd->source);

  if (h) {
    int64_t vs;
    if (h->size (jd->source, &vs) == -1)
      return -1;
    jd->size = vhd_virtual_size (vs);
  }
  else {
    struct source *s = strstr (jd->source, "://")
      ? source_open_nbd (jd->source, NULL)
      : source_open_local (jd->source, jd->format, NULL);
    if (!s)
      return -1;
    jd->size = vhd_virtual_size (source_size (s));
    source_close (s);
  }
  if (jd->size + VHD_FOOTER_SIZE > VHD_MAX_PAGE_BLOB && !jd->managed) {
    azp_error ("%s: %" PRIu64 " bytes is over the page blob limit (8 TiB)",
               jd->source, jd->size);
    return -1;
  }
  if (!strstr (jd->source, "://")) {
    CLEANUP_FREE_STRING_LIST char **bm = source_list_bitmaps (jd->source);
    if (o->bitmap) {
      bool found = false;
      for (size_t k = 0; bm && bm[k]; k++)
        found |= !strcmp (bm[k], o->bitmap);
      if (!found) {
        azp_error ("%s: no dirty bitmap named %s (qemu-img bitmap --add)",
                   jd->source, o->bitmap);
        return -1;
      }
      jd->bitmap = xstrdup (o->bitmap);
    }
    else if (bm && count_strings (bm) == 1)
      jd->bitmap = xstrdup (bm[0]);
  }
  else if (o->bitmap)
    jd->bitmap = xstrdup (o->bitmap);
  return 0;
}

int
job_create (struct job *job, const struct replicate_opts *o,
            const char *container_url)
{
  struct journal *j = &job->j;

  j->name = xstrdup (o->name);
  j->created = time (NULL);
  if (!j->name)
    return -1;
  for (size_t i = 0; i < o->ndisks; i++) {
    struct jdisk *jd = journal_add_disk (j);
    char lease[37];
    unsigned char lu[16];

    if (!jd)
      return -1;
    jd->source = xstrdup (o->disks[i]);
    jd->format = o->formats[i] ? xstrdup (o->formats[i]) : NULL;
    jd->state = xstrdup ("initial");
    jd->manifest = xasprintf ("%s-disk%zu.manifest", o->name, i);
    if (!jd->source || !jd->state || !jd->manifest ||
        random_uuid (jd->uuid, NULL) == -1 || random_uuid (lu, lease) == -1)
      return -1;
    jd->managed = o->nto > 0 && replicate_url_is_blob (o->to[0]);
    if (jd->managed) {
      if (o->nto != o->ndisks) {
        azp_error ("give --to once per disk when the targets are blob URLs");
        return -1;
      }
      jd->blob = redact_url (o->to[i]);
    }
    else {
      jd->lease = xstrdup (lease);
      jd->blob = xasprintf ("%s/%s-disk%zu.vhd", container_url, o->name, i);
      if (!jd->lease)
        return -1;
    }
    if (!jd->blob || jdisk_probe_source (jd, o) == -1)
      return -1;
  }
  return 0;
}

int
job_check_disks (const struct job *job, const struct replicate_opts *o)
{
  if (job->j.ndisks != o->ndisks) {
    azp_error ("journal %s: the job has %zu disks, %zu given (use another "
               "--name "
               "for another VM)", job->j.path, job->j.ndisks, o->ndisks);
    return -1;
  }
  for (size_t i = 0; i < o->ndisks; i++)
    if (strcmp (job->j.disks[i].source, o->disks[i]) != 0) {
      azp_error ("journal %s: disk %zu is %s, not %s", job->j.path, i,
                 job->j.disks[i].source, o->disks[i]);
      return -1;
    }
  return 0;
}

bool
source_host_only (const char *source)
{
  return !strstr (source, "://") || !strncmp (source, "nbd+unix://", 11) ||
    !strncmp (source, "nbds+unix://", 12);
}

int
job_note_host (struct job *job)
{
  CLEANUP_FREE char *me = state_worker_id ();
  char *slash = me ? strrchr (me, '/') : NULL;

  if (!slash)
    return -1;
  *slash = '\0';
  if (job->j.host && strcmp (job->j.host, me) != 0)
    for (size_t i = 0; i < job->j.ndisks; i++) {
      const struct jdisk *jd = &job->j.disks[i];
      if (!source_host_only (jd->source))
        continue;
      azp_warning ("%s: the job last ran on host %s, this is %s: the "
                   "path is read on this host and must name the same disk "
                   "(shared storage)%s", jd->source, job->j.host, me,
                   jd->bitmap ? "; its dirty bitmap is not trusted this "
                   "run: digests find what changed" : "");
      job->use_bitmap = false;
    }
  free (job->j.host);
  job->j.host = xstrdup (me);
  return job->j.host ? 0 : -1;
}
