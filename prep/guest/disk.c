/* Disks: probing with qemu-img info before anything else touches them,
 * so that a corrupt or truncated image gets a one-line error naming it.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/image.h"
#include "prep/guest/guest.h"
#include "prep/guest/disk-hook.h"

/* Weak, so that a build with no remote disk kind still links. */
extern const struct disk_hook *const __start_azprep_disk_hooks[]
  __attribute__((weak));
extern const struct disk_hook *const __stop_azprep_disk_hooks[]
  __attribute__((weak));

const struct disk_hook *
disk_hook_find (const char *path)
{
  if (!__start_azprep_disk_hooks)
    return NULL;
  for (const struct disk_hook *const *h = __start_azprep_disk_hooks;
       h < __stop_azprep_disk_hooks; h++)
    if (!strncmp (path, (*h)->prefix, strlen ((*h)->prefix)))
      return *h;
  return NULL;
}

/* Open a remote disk through its hook: it becomes an NBD disk. */
static int
disk_attach (struct disk *d, const struct disk_hook *hook)
{
  d->hook_state = hook->open (d->path, &d->nbd_server, &d->size);
  if (!d->hook_state)
    return -1;
  d->hook = hook;
  return 0;
}

int
disks_add (struct disk **disks, size_t *n, const char *path,
           const char *format)
{
  struct disk *nd = realloc (*disks, (*n + 1) * sizeof *nd);
  if (!nd) {
    azp_error ("out of memory");
    return -1;
  }
  *disks = nd;
  memset (&nd[*n], 0, sizeof nd[*n]);
  nd[*n].path = xstrdup (path);
  nd[*n].format = format ? xstrdup (format) : NULL;
  if (!nd[*n].path)
    return -1;
  (*n)++;
  return 0;
}

void
disks_free (struct disk *disks, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free (disks[i].path);
    free (disks[i].format);
    free (disks[i].nbd_server);
    disk_unlock (&disks[i]);
    if (disks[i].hook)
      disks[i].hook->close (disks[i].hook_state);
    if (disks[i].overlay) {
      unlink (disks[i].overlay);
      free (disks[i].overlay);
    }
  }
  free (disks);
}

static const char *const known_formats[] = {
  "raw", "qcow2", "vmdk", "vpc", "vhdx", "qed", "vdi", NULL
};

/* Run qemu-img info and fill format and size.  The first line of
 * qemu-img's error is kept for the message. */
/* A truncated or damaged qcow2 (vhdx, vdi, qed) can still have a good
 * header: qemu-img check walks its tables.  Exit 2 is corruption, 3
 * leaked clusters only (harmless for reading), 63 no check for this
 * format. */
static int
disk_check_metadata (struct disk *d)
{
  CLEANUP_FREE char *out = NULL, *err = NULL;
  const char *argv[] = { "qemu-img", "check", "-U", "-q", "-f", d->format,
                         d->path, NULL };
  int r;

  if (strcmp (d->format, "qcow2") && strcmp (d->format, "vhdx") &&
      strcmp (d->format, "vdi") && strcmp (d->format, "qed"))
    return 0;
  r = run_command_full (&out, &err, argv);
  if (r == 0 || r == 3 || r == 63)
    return 0;
  {
    /* The first ERROR line says what is wrong. */
    const char *e = out && strstr (out, "ERROR: ") ? strstr (out, "ERROR: ")
                  : err && strstr (err, "ERROR: ") ? strstr (err, "ERROR: ")
                  : err;
    if (e && !strncmp (e, "ERROR: ", 7))
      e += 7;
    CLEANUP_FREE char *why = first_line (e);
    azp_error ("%s: not a readable disk image: damaged %s metadata%s%s",
               d->path, d->format, why && *why ? ": " : "", why ? why : "");
  }
  return -1;
}

int
disk_probe (struct disk *d)
{
  CLEANUP_FREE char *out = NULL, *err = NULL;
  struct stat st;
  cJSON *j, *fmt, *vsize;
  const struct disk_hook *hook = disk_hook_find (d->path);
  bool told = d->format != NULL;
  int r;

  if (d->probed)
    return 0;
  /* A remote disk (in vCenter), read in place. */
  if (hook && !d->nbd_server && disk_attach (d, hook) == -1)
    return -1;
  if (d->nbd_server) {
    if (d->format && strcmp (d->format, "raw")) {
      azp_error ("%s: an NBD export is read as raw, not %s", d->path,
                 d->format);
      return -1;
    }
    if (d->size < 512) {
      azp_error ("%s: NBD export %s: unknown size", d->path, d->nbd_server);
      return -1;
    }
    if (!d->format)
      d->format = xstrdup ("raw");
    return d->format ? 0 : -1;
  }
  if (stat (d->path, &st) == -1) {
    azp_error ("%s: %m", d->path);
    return -1;
  }
  if (S_ISDIR (st.st_mode)) {
    azp_error ("%s: is a directory, not a disk image", d->path);
    return -1;
  }
  if (d->format) {
    bool ok = false;
    for (size_t i = 0; known_formats[i]; i++)
      ok |= !strcmp (known_formats[i], d->format);
    if (!ok) {
      azp_error ("%s: unknown --format '%s' (raw, qcow2, vmdk, vpc, vhdx)",
                 d->path, d->format);
      return -1;
    }
  }
  {
    const char *argv[] = { "qemu-img", "info", "--output=json", "-U",
                           d->format ? "-f" : d->path,
                           d->format ? d->format : NULL,
                           d->format ? d->path : NULL, NULL };
    r = run_command_full (&out, &err, argv);
  }
  if (r != 0) {
    CLEANUP_FREE char *why = first_line (err);
    azp_error ("%s: not a readable disk image%s%s", d->path,
               why && *why ? ": " : "", why ? why : "");
    return -1;
  }
  j = cJSON_Parse (out);
  if (!j) {
    azp_error ("%s: qemu-img info gave unreadable output", d->path);
    return -1;
  }
  fmt = cJSON_GetObjectItem (j, "format");
  vsize = cJSON_GetObjectItem (j, "virtual-size");
  if (!cJSON_IsString (fmt) || !cJSON_IsNumber (vsize)) {
    cJSON_Delete (j);
    azp_error ("%s: qemu-img info: no format or size", d->path);
    return -1;
  }
  if (!told) {
    /* The format came from the file's bytes: what it names is refused
     * (prep/common/image.c), as a guest may have written them. */
    CLEANUP_FREE char *why = image_local_refuse (j, d->path);
    if (why) {
      cJSON_Delete (j);
      azp_error ("%s", why);
      return -1;
    }
    d->format = xstrdup (fmt->valuestring);
  }
  d->size = (int64_t) vsize->valuedouble;
  cJSON_Delete (j);
  if (!d->format)
    return -1;
  if (d->size < 512) {
    azp_error ("%s: disk is empty (%lld bytes)", d->path, (long long) d->size);
    return -1;
  }
  if (disk_check_metadata (d) == -1)
    return -1;
  azp_debug ("%s: format %s, virtual size %lld", d->path, d->format,
             (long long) d->size);
  d->probed = true;
  return 0;
}
