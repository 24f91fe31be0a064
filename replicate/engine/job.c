/* The replication job: state directory, journal, sources, blobs. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/engine/replicate.h"
#include "replicate/vsphere/vsphere.h"

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

char *
replicate_journal_path (const char *dir, const char *name)
{
  return xasprintf ("%s/%s.json", dir, name);
}

int
replicate_lock_job (const char *dir, const char *name, const char *what)
{
  CLEANUP_FREE char *path = xasprintf ("%s/%s.lock", dir, name);
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
  CLEANUP_FREE char *ctx = NULL;

  if (vsphere_uri_p (jd->source))
    return vsphere_job_open_source (job, d);
  if (uri && bitmap && !(ctx = xasprintf ("qemu:dirty-bitmap:%s", bitmap)))
    return -1;
  d->src = uri ? source_open_nbd (jd->source, ctx)
    : source_open_local (jd->source, jd->format, bitmap);
  return d->src ? 0 : -1;
}

int
rdisk_open_manifest (struct job *job, struct rdisk *d)
{
  CLEANUP_FREE char *path = xasprintf ("%s/%s", job->state_dir,
                                       d->jd->manifest);
  if (!path)
    return -1;
  d->man = manifest_open (path, d->jd->size);
  return d->man ? 0 : -1;
}
