/* Disk locks.  fix writes a disk in place (the undo journal, then the
 * clusters), and every command that opens a disk first rolls back an
 * interrupted fix (commit_recover).  Without a lock, a check started
 * while a fix commits would take the fix's fresh journal for a dead
 * one and roll part of the disk back under it.
 *
 * The lock is an flock(2) on the disk file itself (no file beside it,
 * so a disk on read-only media can still be checked): exclusive while
 * fix or a roll-back may write, shared while a command only reads.  A
 * lock held by another run is an error naming the disk, never a wait:
 * a fix under TCG can take many minutes.  flock locks are separate
 * from the fcntl locks qemu takes on images, so they do not collide. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/guest/disk-hook.h"
#include "prep/guest/guest.h"

static int
try_flock (struct disk *d, int op)
{
  int r;

  do
    r = flock (d->lock_fd, op | LOCK_NB);
  while (r == -1 && errno == EINTR);
  return r;
}

static int
busy (const struct disk *d, bool exclusive)
{
  if (exclusive)
    azp_error ("%s: another azprep command is using this disk (it holds "
               "the disk's lock); run fix again once it has finished",
               d->path);
  else
    azp_error ("%s: an azprep fix is writing this disk, or rolling an "
               "interrupted fix back (it holds the disk's lock); run again "
               "once it has finished", d->path);
  return -1;
}

/* Open and lock: 0; 1 when another run holds a conflicting lock (not
 * reported); -1 on error (reported). */
static int
lock_quietly (struct disk *d, bool exclusive)
{
  int e;

  /* A remote disk (vsphere://, NBD) has no local file to lock: its
   * source guards it (a snapshot's frozen base is read-only). */
  if (d->nbd_server || d->hook || disk_hook_find (d->path))
    return 0;
  if (d->locked && (!exclusive || d->exclusive))
    return 0;
  if (d->locked) {
    /* Shared to exclusive.  flock converts by dropping, then taking:
     * if another reader holds it, take the shared lock back. */
    if (try_flock (d, LOCK_EX) == 0) {
      d->exclusive = true;
      return 0;
    }
    if (errno == EWOULDBLOCK && try_flock (d, LOCK_SH) == 0)
      return 1;
    disk_unlock (d);
    return 1;
  }
  d->lock_fd = open (d->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (d->lock_fd == -1) {
    azp_error ("%s: %m", d->path);
    return -1;
  }
  if (try_flock (d, exclusive ? LOCK_EX : LOCK_SH) == 0) {
    d->locked = true;
    d->exclusive = exclusive;
    return 0;
  }
  e = errno;
  close (d->lock_fd);
  d->lock_fd = -1;
  if (e == EWOULDBLOCK)
    return 1;
  errno = e;
  azp_error ("%s: cannot lock: %m", d->path);
  return -1;
}

int
disk_lock (struct disk *d, bool exclusive)
{
  int r = lock_quietly (d, exclusive);
  return r == 1 ? busy (d, exclusive) : r;
}

void
disk_unlock (struct disk *d)
{
  if (!d->locked)
    return;
  close (d->lock_fd);           /* drops the flock */
  d->lock_fd = -1;
  d->locked = false;
}

int
disk_lock_and_recover (struct disk *d, bool exclusive)
{
  CLEANUP_FREE char *undo = NULL;
  int r;

  if (exclusive)
    return disk_lock (d, true) == -1 ? -1 : commit_recover (d->path);
  /* A reader rolls back only when it is alone on the disk: try the
   * exclusive lock first, then settle for a shared one. */
  r = lock_quietly (d, true);
  if (r == -1)
    return -1;
  if (r == 0) {
    if (commit_recover (d->path) == -1)
      return -1;
    /* Down to shared.  flock converts by dropping, then taking: it can
     * fail only if a fix took the disk in between. */
    if (try_flock (d, LOCK_SH) == -1) {
      disk_unlock (d);
      return busy (d, false);
    }
    d->exclusive = false;
    return 0;
  }
  if (disk_lock (d, false) == -1)
    return -1;
  /* Other readers hold it, so no fix runs: a journal is a dead fix's,
   * and it must be rolled back before anyone reads the disk. */
  undo = commit_undo_path (d->path);
  if (!undo || access (undo, F_OK) == 0) {
    disk_unlock (d);
    if (undo)
      azp_error ("%s: an interrupted fix must be rolled back first, and "
                 "other azprep commands are reading this disk; run again "
                 "once they have finished", d->path);
    return -1;
  }
  return 0;
}
