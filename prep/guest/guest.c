/* The guest handle: open all of a VM's disks in one appliance, inspect,
 * mount.  Writes go to temporary overlays (GUEST_OVERLAY) so that the
 * disks are untouched until guest_commit().
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "prep/report.h"
#include "prep/guest/disk-hook.h"
#include "prep/guest/os.h"

/* Overlays of runs that were killed (kill -9 leaves them): their names
 * carry the pid, so an overlay whose process is gone can go. */
static void
remove_stale_overlays (const char *tmpdir)
{
  DIR *dir = opendir (tmpdir);
  struct dirent *e;

  if (!dir)
    return;
  while ((e = readdir (dir)) != NULL) {
    int pid;
    char path[PATH_MAX];
    if (sscanf (e->d_name, "azprep-overlay-%d-", &pid) != 1 || pid <= 0)
      continue;
    if (kill (pid, 0) == 0 || errno != ESRCH)
      continue;
    if (snprintf (path, sizeof path, "%s/%s", tmpdir, e->d_name)
        < (int) sizeof path) {
      azp_debug ("removing stale overlay %s", path);
      unlink (path);
    }
  }
  closedir (dir);
}

static int
make_overlay (struct disk *d)
{
  const char *tmpdir = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/var/tmp";
  CLEANUP_FREE char *abs = realpath (d->path, NULL);
  CLEANUP_FREE char *err = NULL;
  char tmpl[PATH_MAX];
  int fd, r;

  if (!abs) {
    azp_error ("%s: %m", d->path);
    return -1;
  }
  if (snprintf (tmpl, sizeof tmpl, "%s/azprep-overlay-%d-XXXXXX", tmpdir,
                (int) getpid ()) >= (int) sizeof tmpl) {
    azp_error ("TMPDIR is too long");
    return -1;
  }
  fd = mkstemp (tmpl);
  if (fd == -1) {
    azp_error ("%s: cannot create overlay: %m", tmpl);
    return -1;
  }
  close (fd);
  d->overlay = xstrdup (tmpl);
  {
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2",
                           "-o", "cluster_size=65536",
                           "-b", abs, "-F", d->format, tmpl, NULL };
    r = run_command_full (NULL, &err, argv);
  }
  if (r != 0) {
    CLEANUP_FREE char *why = first_line (err);
    azp_error ("%s: cannot create overlay: %s", d->path, why ? why : "");
    return -1;
  }
  return 0;
}

static void
unlock_all (struct disk *disks, size_t ndisks)
{
  for (size_t i = 0; i < ndisks; i++)
    disk_unlock (&disks[i]);
}

/* Before anything touches the disks: refuse to write a remote one,
 * roll back an interrupted commit, probe each.  0 or -1. */
static int
prepare_disks (struct disk *disks, size_t ndisks, unsigned flags)
{
  for (size_t i = 0; i < ndisks; i++) {
    const struct disk_hook *hook = disk_hook_find (disks[i].path);
    if (hook && (flags & GUEST_OVERLAY)) {
      azp_error ("%s: %s disks are read in place, read-only; "
                 "replicate the VM and fix the copy", disks[i].path,
                 hook->prefix);
      return -1;
    }
    if (!disks[i].nbd_server && !hook &&
        disk_lock_and_recover (&disks[i], flags & GUEST_OVERLAY) == -1)
      return -1;
    if (disk_probe (&disks[i]) == -1)
      return -1;
  }
  return 0;
}

/* Add each disk to the handle: its NBD export, its overlay or the
 * image itself.  0 or -1. */
static int
add_drives (struct guest *gs)
{
  for (size_t i = 0; i < gs->ndisks; i++) {
    struct disk *d = &gs->disks[i];
    int r;
    if (d->nbd_server) {
      const char *server[] = { d->nbd_server, NULL };
      r = guestfs_add_drive_opts (gs->g, "",
                                  GUESTFS_ADD_DRIVE_OPTS_PROTOCOL, "nbd",
                                  GUESTFS_ADD_DRIVE_OPTS_SERVER, server,
                                  GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                                  GUESTFS_ADD_DRIVE_OPTS_READONLY,
                                  gs->readonly,
                                  -1);
    }
    else if (d->overlay)
      r = guestfs_add_drive_opts (gs->g, d->overlay,
                                  GUESTFS_ADD_DRIVE_OPTS_FORMAT, "qcow2",
                                  GUESTFS_ADD_DRIVE_OPTS_CACHEMODE, "unsafe",
                                  -1);
    else
      r = guestfs_add_drive_opts (gs->g, d->path,
                                  GUESTFS_ADD_DRIVE_OPTS_FORMAT, d->format,
                                  GUESTFS_ADD_DRIVE_OPTS_READONLY,
                                  gs->readonly,
                                  -1);
    if (r == -1) {
      azp_error ("%s: cannot add disk: %s", d->path,
                 guestfs_last_error (gs->g));
      return -1;
    }
  }
  return 0;
}

/* Inspection of a small guest needs little and launches faster on one
 * CPU.  A writable handle runs the guest's own tools (initramfs, grub:
 * most of a fix's time, much of it compression that uses every CPU), so
 * it gets what virt-v2v gives its conversion: every CPU (up to 8) and
 * twice libguestfs' default memory. */
static void
appliance_size (struct guest *gs)
{
  cpu_set_t set;
  int cpus = 1, mem;

  if (gs->readonly) {
    guestfs_set_memsize (gs->g, 1024);
    guestfs_set_smp (gs->g, 1);
    return;
  }
  if (sched_getaffinity (0, sizeof set, &set) == 0)
    cpus = CPU_COUNT (&set);
  mem = guestfs_get_memsize (gs->g);
  guestfs_set_smp (gs->g, cpus < 1 ? 1 : cpus > 8 ? 8 : cpus);
  if (mem > 0)
    guestfs_set_memsize (gs->g, 2 * mem);
}

/* -x: each libguestfs call and reply with the seconds since the handle
 * was opened, so that a trace shows what each round trip costs. */
static void
trace_event (guestfs_h *g, void *opaque, uint64_t event, int handle,
             int flags, const char *buf, size_t len, const uint64_t *array,
             size_t alen)
{
  const struct guest *gs = opaque;

  fprintf (stderr, "libguestfs: trace: [%8.3f] %.*s\n",
           monotonic_seconds () - gs->opened, (int) len, buf);
}

struct guest *
guest_open (struct disk *disks, size_t ndisks, unsigned flags)
{
  struct guest *gs;
  double t0;

  if (ndisks == 0) {
    azp_error ("no disk given");
    return NULL;
  }
  remove_stale_overlays (getenv ("TMPDIR") ? getenv ("TMPDIR")
                                            : "/var/tmp");
  if (prepare_disks (disks, ndisks, flags) == -1) {
    unlock_all (disks, ndisks);
    return NULL;
  }

  gs = calloc (1, sizeof *gs);
  if (!gs) {
    azp_error ("out of memory");
    unlock_all (disks, ndisks);
    return NULL;
  }
  gs->disks = disks;
  gs->ndisks = ndisks;
  gs->readonly = flags & GUEST_READONLY;
  gs->trace = flags & GUEST_TRACE;
  gs->report = report_new ();
  gs->timings = cJSON_CreateArray ();
  if (!gs->report || !gs->timings)
    goto fail;

  if (flags & GUEST_OVERLAY) {
    for (size_t i = 0; i < ndisks; i++)
      if (!disks[i].nbd_server && make_overlay (&disks[i]) == -1)
        goto fail;
  }

  gs->g = guestfs_create ();
  if (!gs->g) {
    azp_error ("cannot create the libguestfs handle");
    goto fail;
  }
  gs->opened = monotonic_seconds ();
  if (gs->trace) {
    guestfs_set_event_callback (gs->g, trace_event, GUESTFS_EVENT_TRACE, 0,
                                gs);
    guestfs_set_trace (gs->g, 1);
  }
  if (log_verbose () > 1)
    guestfs_set_verbose (gs->g, 1);
  appliance_size (gs);
  /* Read-only drives have nothing to sync at close. */
  if (gs->readonly)
    guestfs_set_autosync (gs->g, 0);

  if (add_drives (gs) == -1)
    goto fail;
  azp_debug ("launching the appliance");
  t0 = monotonic_seconds ();
  if (guestfs_launch (gs->g) == -1) {
    azp_error ("cannot launch the libguestfs appliance: %s",
               guestfs_last_error (gs->g));
    goto fail;
  }
  guest_timing (gs, "launch", t0);
  return gs;

 fail:
  if (gs->g)
    guestfs_close (gs->g);
  gs->g = NULL;
  for (size_t i = 0; i < ndisks; i++)
    if (disks[i].overlay) {
      unlink (disks[i].overlay);
      free (disks[i].overlay);
      disks[i].overlay = NULL;
    }
  report_free (gs->report);
  cJSON_Delete (gs->timings);
  free (gs);
  unlock_all (disks, ndisks);
  return NULL;
}

void
guest_timing (struct guest *gs, const char *phase, double start)
{
  double s = monotonic_seconds () - start;
  cJSON *o = cJSON_CreateObject ();

  azp_debug ("time: %s %.2f s", phase, s);
  if (!o || !cJSON_AddStringToObject (o, "phase", phase) ||
      !cJSON_AddNumberToObject (o, "seconds", (double) (int64_t)
                                (s * 1000 + 0.5) / 1000)) {
    cJSON_Delete (o);
    return;
  }
  cJSON_AddItemToArray (gs->timings, o);
}


int
guest_shutdown (struct guest *gs)
{
  if (!gs->g)
    return 0;
  if (gs->mounted) {
    guestfs_sync (gs->g);
    if (guestfs_umount_all (gs->g) == -1) {
      azp_error ("unmount: %s", guestfs_last_error (gs->g));
      return -1;
    }
    gs->mounted = false;
  }
  if (guestfs_shutdown (gs->g) == -1) {
    azp_error ("appliance shutdown: %s", guestfs_last_error (gs->g));
    return -1;
  }
  return 0;
}

void
guest_close (struct guest *gs)
{
  if (!gs)
    return;
  if (gs->os && gs->os->free)
    gs->os->free (gs);
  if (gs->g)
    guestfs_close (gs->g);
  for (size_t i = 0; i < gs->ndisks; i++)
    if (gs->disks[i].overlay) {
      unlink (gs->disks[i].overlay);
      free (gs->disks[i].overlay);
      gs->disks[i].overlay = NULL;
    }
  free (gs->root); free (gs->type); free (gs->distro);
  free (gs->product_name); free (gs->product_variant); free (gs->arch);
  free (gs->hostname); free (gs->osinfo); free (gs->package_format);
  free (gs->package_management); free (gs->windows_systemroot);
  free (gs->windows_current_control_set); free (gs->windows_system_hive);
  free (gs->windows_software_hive);
  free_string_list (gs->esps);
  free_string_list (gs->mountpoints);
  guest_storage_free (gs);
  report_free (gs->report);
  cJSON_Delete (gs->timings);
  unlock_all (gs->disks, gs->ndisks);
  free (gs);
}
