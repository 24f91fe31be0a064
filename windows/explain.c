/* When libguestfs inspection itself fails on a Windows guest (a damaged
 * SYSTEM or SOFTWARE hive makes it throw "Hivex.Error"), find the hive
 * and name it, so that the error says what to repair. */
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "windows/windows.h"

static const char *const hives[] = { "SYSTEM", "SOFTWARE" };

int
win_explain_hive (const struct win_hive_source *src, const char *label,
                  const char *path)
{
  char tmp[] = "/var/tmp/azprep-hive-XXXXXX";
  CLEANUP_CLOSE int fd = mkstemp (tmp);
  CLEANUP_HIVE_CLOSE hive_h *h = NULL;
  bool dirty;
  int64_t size;
  int r = 0;

  if (fd == -1)
    return 0;
  /* The guest decides the file's size: no more than a hive can be,
   * checked before a byte of it is copied. */
  size = src->size (src->arg, path);
  if (size > WIN_HIVE_MAX) {
    azp_error ("%s: absurd size (%lld bytes): not a registry hive", label,
               (long long) size);
    unlink (tmp);
    return 1;
  }
  if (size >= 0 && src->download (src->arg, path, tmp) == 0) {
    if (win_hive_check_header (label, tmp, &dirty) == -1)
      r = 1;
    else if (!(h = hivex_open (tmp, 0))) {
      azp_error ("%s: corrupted registry hive (%m)", label);
      r = 1;
    }
  }
  unlink (tmp);
  return r;
}

static int64_t
guest_size (void *gs, const char *path)
{
  return guestfs_filesize (((struct guest *) gs)->g, path);
}

static int
guest_download (void *gs, const char *path, const char *dest)
{
  return guestfs_download (((struct guest *) gs)->g, path, dest);
}

/* Check one hive file in the filesystem mounted at /.  1 reported, 0
 * fine or absent. */
static int
check_one (struct guest *gs, const char *dev, const char *name)
{
  const struct win_hive_source src = { guest_size, guest_download, gs };
  CLEANUP_FREE char *p = xasprintf ("/Windows/System32/config/%s", name);
  CLEANUP_FREE char *real = NULL, *label = NULL;

  if (!p || !(real = win_find_file (gs, p)))
    return 0;
  label = xasprintf ("%s: %s hive %s:%s", gs->disks[0].path, name, dev,
                     real);
  return label ? win_explain_hive (&src, label, real) : 0;
}

int
windows_explain_inspect (struct guest *gs, const char *why)
{
  CLEANUP_FREE_STRING_LIST char **parts = NULL;
  int found = 0;

  if (!strstr (why, "Hivex"))
    return 0;

  guestfs_push_error_handler (gs->g, NULL, NULL);
  parts = guestfs_list_partitions (gs->g);
  guestfs_pop_error_handler (gs->g);
  for (size_t i = 0; !found && parts && parts[i]; i++) {
    CLEANUP_FREE char *vfs = NULL;
    int r;
    guestfs_push_error_handler (gs->g, NULL, NULL);
    vfs = guestfs_vfs_type (gs->g, parts[i]);
    r = vfs && !strcmp (vfs, "ntfs")
      ? guestfs_mount_ro (gs->g, parts[i], "/") : -1;
    guestfs_pop_error_handler (gs->g);
    if (r == -1)
      continue;
    for (size_t k = 0; !found && k < 2; k++)
      found = check_one (gs, parts[i], hives[k]);
    guestfs_umount_all (gs->g);
  }
  return found;
}
