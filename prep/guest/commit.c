/* Committing the overlays: the disk changes all at once or not at all.
 *
 * raw disks: an undo journal.  For each cluster the overlay wrote, the
 * original bytes are saved to DISK.azprep-undo (written, fsynced,
 * renamed into place) before the disk is written; the journal is
 * removed once every disk of the VM is written and synced.  A run that
 * dies in between leaves the journal, and the next azprep command that
 * opens the disk (commit_recover) writes the original bytes back.
 *
 * qcow2 disks: a copy, committed into and renamed over the original.
 *
 * Other formats (vmdk, vhd, vhdx) are never written in place: use
 * --output.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/guest/guest.h"

#define UNDO_SUFFIX ".azprep-undo"
#define UNDO_TMP_SUFFIX ".azprep-undo.tmp"
#define NEW_SUFFIX ".azprep-new"
#define OUT_TMP_SUFFIX ".azprep-tmp"
/* The file a copy's or a conversion's tool creates inside its own
 * temporary directory (create_tempdir_beside). */
#define TMP_MEMBER "/disk"
#define UNDO_MAGIC "AZPREP-UNDO-1\n"
#define MAX_EXTENT (64 << 20)

struct extent {
  int64_t start, length;
  int64_t ovl_offset;           /* -1: zeroes */
};

/* Read all of [off, off + len) into rbuf, or write it all from wbuf
 * (when not NULL).  0 or -1 (errno set, or a short read). */
static int
pio_all (int fd, char *rbuf, const char *wbuf, size_t len, off_t off)
{
  while (len > 0) {
    ssize_t r = wbuf ? pwrite (fd, wbuf, len, off)
      : pread (fd, rbuf, len, off);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    if (wbuf)
      wbuf += r;
    else
      rbuf += r;
    len -= r;
    off += r;
  }
  return 0;
}

/* The clusters the overlay itself holds (depth 0), from qemu-img map. */
static int
overlay_extents (struct disk *d, struct extent **ext, size_t *n)
{
  CLEANUP_FREE char *out = NULL, *err = NULL;
  const char *argv[] = { "qemu-img", "map", "--output=json", "-f", "qcow2",
                         d->overlay, NULL };
  CLEANUP_CJSON cJSON *j = NULL;
  cJSON *e;

  *ext = NULL;
  *n = 0;
  if (run_command_full (&out, &err, argv) != 0) {
    CLEANUP_FREE char *why = first_line (err);
    azp_error ("%s: cannot map the overlay: %s", d->path, why ? why : "");
    return -1;
  }
  j = cJSON_Parse (out);
  if (!cJSON_IsArray (j)) {
    azp_error ("%s: qemu-img map gave unreadable output", d->path);
    return -1;
  }
  cJSON_ArrayForEach (e, j) {
    cJSON *depth = cJSON_GetObjectItem (e, "depth");
    cJSON *data = cJSON_GetObjectItem (e, "data");
    cJSON *zero = cJSON_GetObjectItem (e, "zero");
    cJSON *off = cJSON_GetObjectItem (e, "offset");
    struct extent *ne;

    if (!cJSON_IsNumber (depth) || depth->valueint != 0)
      continue;
    if (!cJSON_IsTrue (data) && !cJSON_IsTrue (zero))
      continue;
    ne = realloc (*ext, (*n + 1) * sizeof *ne);
    if (!ne) {
      azp_error ("out of memory");
      return -1;
    }
    *ext = ne;
    ne[*n].start = (int64_t) cJSON_GetObjectItem (e, "start")->valuedouble;
    ne[*n].length = (int64_t) cJSON_GetObjectItem (e, "length")->valuedouble;
    ne[*n].ovl_offset = cJSON_IsTrue (data) && cJSON_IsNumber (off)
      ? (int64_t) off->valuedouble : -1;
    (*n)++;
  }
  return 0;
}

/* Write the undo journal for a raw disk: header, then for each extent
 * (start, length, original bytes), then an end record.  Returns 0/-1. */
static int
write_undo (struct disk *d, const struct extent *ext, size_t n)
{
  CLEANUP_FREE char *path = xasprintf ("%s" UNDO_SUFFIX, d->path);
  CLEANUP_FREE char *tmp = NULL;
  CLEANUP_FREE char *buf = malloc (MAX_EXTENT);
  CLEANUP_CLOSE int in = -1;
  FILE *fp;
  int fd;

  if (!path || !buf) {
    azp_error ("out of memory");
    return -1;
  }
  in = open (d->path, O_RDONLY | O_CLOEXEC);
  if (in == -1) {
    azp_error ("%s: %m", d->path);
    return -1;
  }
  /* The journal holds guest bytes: 0600, a name nobody can plant. */
  fd = create_temp_beside (d->path, UNDO_TMP_SUFFIX, &tmp);
  if (fd == -1)
    return -1;
  fp = fdopen (fd, "w");
  if (!fp) {
    azp_error ("%s: %m", tmp);
    close (fd);
    unlink (tmp);
    return -1;
  }
  fprintf (fp, UNDO_MAGIC "%lld\n", (long long) d->size);
  for (size_t i = 0; i < n; i++) {
    for (int64_t o = 0; o < ext[i].length; o += MAX_EXTENT) {
      int64_t len = ext[i].length - o;
      if (len > MAX_EXTENT)
        len = MAX_EXTENT;
      if (pio_all (in, buf, NULL, len, ext[i].start + o) == -1) {
        azp_error ("%s: read at %lld: %m", d->path,
                   (long long) (ext[i].start + o));
        goto fail;
      }
      fprintf (fp, "%lld %lld\n", (long long) (ext[i].start + o),
               (long long) len);
      if (fwrite (buf, 1, len, fp) != (size_t) len)
        goto wfail;
    }
  }
  fprintf (fp, "end\n");
  if (fflush (fp) != 0 || fsync (fileno (fp)) != 0)
    goto wfail;
  if (fclose (fp) != 0) {
    fp = NULL;
    goto wfail;
  }
  fp = NULL;
  if (rename (tmp, path) == -1) {
    azp_error ("%s: %m", path);
    unlink (tmp);
    return -1;
  }
  fsync_dir_of (path);
  return 0;
 wfail:
  azp_error ("%s: cannot write the undo journal: %m", tmp);
 fail:
  if (fp)
    fclose (fp);
  unlink (tmp);
  return -1;
}

/* Copy the overlay's clusters into the raw disk. */
static int
apply_extents (struct disk *d, const struct extent *ext, size_t n)
{
  CLEANUP_FREE char *buf = malloc (MAX_EXTENT);
  CLEANUP_CLOSE int ovl = -1, out = -1;

  if (!buf) {
    azp_error ("out of memory");
    return -1;
  }
  ovl = open (d->overlay, O_RDONLY | O_CLOEXEC);
  out = open (d->path, O_WRONLY | O_CLOEXEC);
  if (ovl == -1 || out == -1) {
    azp_error ("%s: %m", ovl == -1 ? d->overlay : d->path);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    for (int64_t o = 0; o < ext[i].length; o += MAX_EXTENT) {
      int64_t len = ext[i].length - o;
      if (len > MAX_EXTENT)
        len = MAX_EXTENT;
      if (ext[i].ovl_offset < 0)
        memset (buf, 0, len);
      else if (pio_all (ovl, buf, NULL, len, ext[i].ovl_offset + o) == -1) {
        azp_error ("%s: read: %m", d->overlay);
        return -1;
      }
      if (pio_all (out, NULL, buf, len, ext[i].start + o) == -1) {
        azp_error ("%s: write at %lld: %m", d->path,
                   (long long) (ext[i].start + o));
        return -1;
      }
      /* Test hook: die here, half written, to prove recovery. */
      if (getenv ("AZPREP_TEST_DIE_IN_COMMIT")) {
        fsync (out);
        raise (9);
      }
    }
  }
  if (fsync (out) == -1) {
    azp_error ("%s: fsync: %m", d->path);
    return -1;
  }
  return 0;
}

char *
commit_undo_path (const char *disk_path)
{
  return xasprintf ("%s" UNDO_SUFFIX, disk_path);
}

/* Is name BASE TAG .XXXXXX (create_temp_beside's shape)? */
static bool
is_temp_of (const char *name, const char *base, const char *tag)
{
  size_t bl = strlen (base), tl = strlen (tag);

  return !strncmp (name, base, bl) && !strncmp (name + bl, tag, tl) &&
    name[bl + tl] == '.' && strlen (name + bl + tl + 1) == 6;
}

/* The temporary files and directories an interrupted run of this disk
 * left beside it.  Called under the disk's exclusive lock, so no other
 * run is still writing them.  Nothing is followed: a symlink of that
 * shape is removed, not its target. */
static void
remove_stale_temps (const char *disk_path)
{
  CLEANUP_FREE char *c1 = xstrdup (disk_path), *c2 = xstrdup (disk_path);
  const char *base;
  struct dirent *e;
  DIR *dir;

  if (!c1 || !c2)
    return;
  base = basename (c2);
  dir = opendir (dirname (c1));
  if (!dir)
    return;
  while ((e = readdir (dir)) != NULL) {
    int dfd = dirfd (dir), sub;
    if (is_temp_of (e->d_name, base, UNDO_TMP_SUFFIX))
      unlinkat (dfd, e->d_name, 0);
    else if (is_temp_of (e->d_name, base, NEW_SUFFIX)) {
      sub = openat (dfd, e->d_name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        unlinkat (sub, TMP_MEMBER + 1, 0);
        close (sub);
        unlinkat (dfd, e->d_name, AT_REMOVEDIR);
      }
      else
        unlinkat (dfd, e->d_name, 0);
    }
  }
  closedir (dir);
}

int
commit_recover (const char *disk_path)
{
  CLEANUP_FREE char *path = xasprintf ("%s" UNDO_SUFFIX, disk_path);
  CLEANUP_FREE char *newp = xasprintf ("%s" NEW_SUFFIX, disk_path);
  CLEANUP_FREE char *buf = NULL;
  CLEANUP_CLOSE int out = -1;
  char line[128];
  FILE *fp;
  int ret = -1;

  if (!path || !newp)
    return -1;
  /* An interrupted qcow2 copy (and the name older versions used). */
  remove_stale_temps (disk_path);
  unlink (newp);
  fp = fopen (path, "r");
  if (!fp)
    return errno == ENOENT ? 0 : (azp_error ("%s: %m", path), -1);
  buf = malloc (MAX_EXTENT);
  out = open (disk_path, O_WRONLY | O_CLOEXEC);
  if (!buf || out == -1) {
    azp_error ("%s: cannot roll back an interrupted fix: %m", disk_path);
    goto out;
  }
  if (!fgets (line, sizeof line, fp) || strcmp (line, UNDO_MAGIC) ||
      !fgets (line, sizeof line, fp))
    goto corrupt;
  while (fgets (line, sizeof line, fp)) {
    long long start, len;
    if (!strcmp (line, "end\n")) {
      if (fsync (out) == -1) {
        azp_error ("%s: fsync: %m", disk_path);
        goto out;
      }
      fclose (fp);
      fp = NULL;
      unlink (path);
      fsync_dir_of (path);
      azp_info ("%s: rolled back an interrupted fix; the disk is as it was",
                disk_path);
      ret = 0;
      goto out;
    }
    if (sscanf (line, "%lld %lld", &start, &len) != 2 || len <= 0 ||
        len > MAX_EXTENT || start < 0)
      goto corrupt;
    if (fread (buf, 1, len, fp) != (size_t) len)
      goto corrupt;
    if (pio_all (out, NULL, buf, len, start) == -1) {
      azp_error ("%s: write: %m", disk_path);
      goto out;
    }
  }
 corrupt:
  /* A journal without its end record was being written when the run
   * died: the disk had not been touched yet. */
  if (fp && feof (fp)) {
    fclose (fp);
    fp = NULL;
    unlink (path);
    ret = 0;
    goto out;
  }
  azp_error ("%s: the undo journal is damaged; keep it and restore the disk "
             "from a copy", path);
 out:
  if (fp)
    fclose (fp);
  return ret;
}

/* Remove a file made by tmp_member and its directory. */
static void
remove_tmp_member (const char *file)
{
  CLEANUP_FREE char *dir = xstrdup (file);

  unlink (file);
  if (dir) {
    dir[strlen (dir) - strlen (TMP_MEMBER)] = '\0';
    rmdir (dir);
  }
}

/* A path for a tool to create, inside a new private directory beside
 * path (cp and qemu-img create their output by name: in a directory
 * only azprep can write, no planted symlink redirects them). */
static char *
tmp_member (const char *path, const char *tag)
{
  CLEANUP_FREE char *dir = create_tempdir_beside (path, tag);
  return dir ? xasprintf ("%s" TMP_MEMBER, dir) : NULL;
}

static int
commit_qcow2_copy (struct disk *d, char **newpath)
{
  CLEANUP_FREE char *err = NULL;
  char *np = tmp_member (d->path, NEW_SUFFIX);

  *newpath = np;
  if (!np)
    return -1;
  {
    const char *cp[] = { "cp", "--sparse=always", "--reflink=auto",
                         d->path, np, NULL };
    if (run_command_full (NULL, &err, cp) != 0) {
      CLEANUP_FREE char *why = first_line (err);
      azp_error ("%s: cannot copy for commit: %s", d->path, why ? why : "");
      return -1;
    }
  }
  {
    CLEANUP_FREE char *abs = realpath (np, NULL);
    const char *rb[] = { "qemu-img", "rebase", "-u", "-f", "qcow2",
                         "-b", abs ? abs : np, "-F", "qcow2", d->overlay,
                         NULL };
    const char *cm[] = { "qemu-img", "commit", "-q", "-f", "qcow2",
                         d->overlay, NULL };
    free (err); err = NULL;
    if (run_command_full (NULL, &err, rb) != 0 ||
        run_command_full (NULL, &err, cm) != 0) {
      CLEANUP_FREE char *why = first_line (err);
      azp_error ("%s: cannot commit: %s", d->path, why ? why : "");
      return -1;
    }
  }
  {
    int fd = open (np, O_RDONLY | O_CLOEXEC);
    if (fd == -1 || fsync (fd) == -1) {
      azp_error ("%s: fsync: %m", np);
      if (fd >= 0)
        close (fd);
      return -1;
    }
    close (fd);
  }
  return 0;
}

int
guest_commit (struct guest *gs)
{
  struct extent *ext[gs->ndisks];
  size_t next[gs->ndisks];
  char *newpaths[gs->ndisks];
  int ret = -1;

  memset (ext, 0, sizeof ext);
  memset (newpaths, 0, sizeof newpaths);
  for (size_t i = 0; i < gs->ndisks; i++) {
    struct disk *d = &gs->disks[i];
    next[i] = 0;
    if (strcmp (d->format, "raw") && strcmp (d->format, "qcow2")) {
      azp_error ("%s: %s disks are not changed in place; write the fixed "
                 "guest with --output FILE", d->path, d->format);
      goto out;
    }
    if (access (d->path, W_OK) == -1) {
      azp_error ("%s: not writable: %m", d->path);
      goto out;
    }
  }

  /* Phase 1: everything needed to undo or finish, on stable storage. */
  for (size_t i = 0; i < gs->ndisks; i++) {
    struct disk *d = &gs->disks[i];
    if (!strcmp (d->format, "raw")) {
      if (overlay_extents (d, &ext[i], &next[i]) == -1 ||
          write_undo (d, ext[i], next[i]) == -1)
        goto out;
    }
    else if (commit_qcow2_copy (d, &newpaths[i]) == -1)
      goto out;
  }
  /* Phase 2: write the disks. */
  for (size_t i = 0; i < gs->ndisks; i++) {
    struct disk *d = &gs->disks[i];
    if (!strcmp (d->format, "raw")) {
      if (apply_extents (d, ext[i], next[i]) == -1)
        goto out;
    }
    else if (rename (newpaths[i], d->path) == -1) {
      azp_error ("%s: %m", d->path);
      goto out;
    }
    else {
      remove_tmp_member (newpaths[i]);
      free (newpaths[i]);
      newpaths[i] = NULL;
      fsync_dir_of (d->path);
    }
  }
  /* Phase 3: drop the journals. */
  for (size_t i = 0; i < gs->ndisks; i++) {
    CLEANUP_FREE char *undo = xasprintf ("%s" UNDO_SUFFIX,
                                         gs->disks[i].path);
    if (undo && !strcmp (gs->disks[i].format, "raw")) {
      unlink (undo);
      fsync_dir_of (undo);
    }
  }
  ret = 0;
 out:
  for (size_t i = 0; i < gs->ndisks; i++) {
    free (ext[i]);
    if (newpaths[i]) {
      remove_tmp_member (newpaths[i]);
      free (newpaths[i]);
    }
  }
  if (ret == -1) {
    /* Put back whatever phase 2 wrote. */
    for (size_t i = 0; i < gs->ndisks; i++)
      commit_recover (gs->disks[i].path);
  }
  return ret;
}

static const char *
format_from_name (const char *path)
{
  const char *dot = strrchr (path, '.');
  if (!dot)
    return "raw";
  if (!strcasecmp (dot, ".qcow2")) return "qcow2";
  if (!strcasecmp (dot, ".vhd")) return "vpc";
  if (!strcasecmp (dot, ".vhdx")) return "vhdx";
  if (!strcasecmp (dot, ".vmdk")) return "vmdk";
  return "raw";
}

int
guest_write_output (struct guest *gs, char *const *outputs,
                    const char *output_format)
{
  for (size_t i = 0; i < gs->ndisks; i++) {
    struct disk *d = &gs->disks[i];
    const char *fmt = output_format ? output_format
                                    : format_from_name (outputs[i]);
    CLEANUP_FREE char *tmp = tmp_member (outputs[i], OUT_TMP_SUFFIX);
    CLEANUP_FREE char *err = NULL;
    bool vhd = !strcmp (fmt, "vpc");
    int r;

    if (!tmp)
      return -1;
    if (vhd && d->size % (1 << 20)) {
      /* Azure wants a fixed VHD whose size is a whole MiB. */
      char size[32];
      snprintf (size, sizeof size, "%lld",
                (long long) ((d->size + (1 << 20) - 1) & ~((1 << 20) - 1)));
      const char *rs[] = { "qemu-img", "resize", "-q", "-f", "qcow2",
                           d->overlay, size, NULL };
      if (run_command_full (NULL, &err, rs) != 0) {
        CLEANUP_FREE char *why = first_line (err);
        azp_error ("%s: cannot round up to a whole MiB: %s", outputs[i],
                   why ? why : "");
        remove_tmp_member (tmp);
        return -1;
      }
    }
    {
      const char *cv[] = { "qemu-img", "convert", "-f", "qcow2",
                           d->overlay, "-O", fmt,
                           vhd ? "-o" : d->overlay,
                           vhd ? "subformat=fixed,force_size=on" : NULL,
                           tmp, NULL };
      /* Without -o, drop the duplicated overlay argument. */
      if (!vhd) {
        cv[7] = tmp;
        cv[8] = NULL;
      }
      free (err); err = NULL;
      r = run_command_full (NULL, &err, cv);
    }
    if (r != 0) {
      CLEANUP_FREE char *why = first_line (err);
      azp_error ("%s: cannot write: %s", outputs[i], why ? why : "");
      remove_tmp_member (tmp);
      return -1;
    }
    /* The whole guest is in it: its owner only, like the journal. */
    if (chmod (tmp, 0600) == -1 || rename (tmp, outputs[i]) == -1) {
      azp_error ("%s: %m", outputs[i]);
      remove_tmp_member (tmp);
      return -1;
    }
    remove_tmp_member (tmp);
  }
  return 0;
}
