/* A vsphere:// disk opened for reading in place: log in, find the VM and
 * the disk, check that it can be read (flat, on an accessible datastore,
 * the server honours Range), and serve it read-only over an NBD bridge.
 * The session stays open while the bridge runs (the cookie is its
 * credential).
 */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/disk-hook.h"
#include "replicate/vsphere/vsphere.h"

struct vsphere_source {
  struct vsphere *v;
  struct datastore_export *b;
};

/* What reading a disk in place means for this VM, said once. */
static void
warn_consistency (const struct vsphere_vm *vm, const struct vsphere_disk *d,
                  size_t i)
{
  if (vm->nsnapshots > 0)
    azp_warning ("%s: the VM has %zu snapshot%s (first: '%s'): the base disk "
                 "read in place holds the state at the first snapshot, not the "
                 "current one; consolidate or delete the snapshots for a "
                 "current view", vm->name, vm->nsnapshots,
                 vm->nsnapshots > 1 ? "s" : "",
                 vm->snapshots[0].name ? vm->snapshots[0].name : "?");
  else if (vm->power_state && !strcmp (vm->power_state, "poweredOn"))
    azp_warning ("%s: the VM is powered on: its disk is read while it changes, "
                 "so what is seen may be inconsistent (replicate reads a "
                 "snapshot instead)", vm->name);
  if (d->mode && !strncmp (d->mode, "independent", 11))
    azp_warning ("%s: disk %zu is independent (%s): VM snapshots do not cover "
                 "it, so replicate cannot read it consistently", vm->name, i,
                 d->mode);
}

/* The datastore URL of the disk a URI names, after checking it. */
static char *
disk_url (struct vsphere *v, const struct vsphere_uri *u, const char *uri,
          bool warn)
{
  struct vsphere_inventory *inv = NULL;
  const struct vsphere_vm *vm;
  const struct vsphere_disk *d;
  CLEANUP_FREE char *ds = NULL, *path = NULL, *flat = NULL;
  char *url = NULL;

  if (u->ds) {
    /* [DS] path form: no VM to look at. */
    flat = vsphere_flat_name (u->ds_path);
    return flat ? vsphere_datastore_url (vsphere_base (v), u->dcpath, u->ds,
                                         flat) : NULL;
  }
  inv = vsphere_get_inventory (v);
  if (!inv)
    return NULL;
  vm = vsphere_find_vm (inv, u->dcpath, u->vm, vsphere_host (v));
  if (!vm)
    goto out;
  if ((size_t) u->disk >= vm->ndisks) {
    azp_error ("%s: VM %s has %zu disk%s (indexes from 0)", uri, vm->name,
               vm->ndisks, vm->ndisks == 1 ? "" : "s");
    goto out;
  }
  if (vsphere_disk_readable (inv, vm, u->disk) == -1)
    goto out;
  d = &vm->disks[u->disk];
  if (warn)
    warn_consistency (vm, d, u->disk);
  if (!vm->datacenter) {
    azp_error ("%s: cannot tell the datacenter of VM %s", uri, vm->name);
    goto out;
  }
  if (vsphere_split_ds_path (d->base_file, &ds, &path) == -1)
    goto out;
  flat = vsphere_flat_name (path);
  if (flat)
    url = vsphere_datastore_url (vsphere_base (v), vm->datacenter, ds, flat);
 out:
  vsphere_inventory_free (inv);
  return url;
}

struct vsphere_source *
vsphere_source_open (const char *uri, int64_t *size)
{
  struct vsphere_uri u;
  struct vsphere_opts o;
  struct vsphere_source *s = NULL;
  CLEANUP_FREE char *url = NULL;

  if (vsphere_uri_parse (uri, &u) == -1)
    return NULL;
  if (vsphere_opts_from_uri (&u, &o) == -1) {
    vsphere_uri_free (&u);
    return NULL;
  }
  s = calloc (1, sizeof *s);
  if (!s) {
    azp_error ("out of memory");
    goto fail;
  }
  s->v = vsphere_connect (&o);
  if (!s->v)
    goto fail;
  url = disk_url (s->v, &u, uri, true);
  if (!url)
    goto fail;
  azp_debug ("%s: reading %s", uri, url);
  if (vsphere_probe_range (s->v, url, size) == -1)
    goto fail;
  if (*size < 512) {
    azp_error ("%s: the disk is empty (%lld bytes)", uri, (long long) *size);
    goto fail;
  }
  s->b = datastore_export_start (s->v, url);
  if (!s->b)
    goto fail;
  vsphere_uri_free (&u);
  vsphere_opts_free (&o);
  return s;

 fail:
  vsphere_source_close (s);
  vsphere_uri_free (&u);
  vsphere_opts_free (&o);
  return NULL;
}

int
vsphere_uri_size (const char *uri, int64_t *size)
{
  struct vsphere_uri u;
  struct vsphere_opts o;
  struct vsphere *v = NULL;
  CLEANUP_FREE char *url = NULL;
  int ret = -1;

  if (vsphere_uri_parse (uri, &u) == -1)
    return -1;
  if (vsphere_opts_from_uri (&u, &o) == 0 && (v = vsphere_connect (&o)) &&
      (url = disk_url (v, &u, uri, false)))
    ret = vsphere_probe_range (v, url, size);
  vsphere_close (v);
  vsphere_opts_free (&o);
  vsphere_uri_free (&u);
  return ret;
}

const char *
vsphere_source_socket (const struct vsphere_source *s)
{
  return datastore_export_socket (s->b);
}

void
vsphere_source_close (struct vsphere_source *s)
{
  if (!s)
    return;
  datastore_export_stop (s->b);
  vsphere_close (s->v);
  free (s);
}

/* A vsphere:// disk given to inspect, check or boot-test: read in place
 * through the bridge (prep/guest/disk-hook.h). */
static void *
vsphere_hook_open (const char *uri, char **nbd_server, int64_t *size)
{
  struct vsphere_source *s = vsphere_source_open (uri, size);

  if (!s)
    return NULL;
  *nbd_server = xasprintf ("unix:%s", vsphere_source_socket (s));
  if (!*nbd_server) {
    vsphere_source_close (s);
    return NULL;
  }
  return s;
}

static void
vsphere_hook_close (void *s)
{
  vsphere_source_close (s);
}

static const struct disk_hook vsphere_disk_hook = {
  .prefix = "vsphere://",
  .open = vsphere_hook_open,
  .close = vsphere_hook_close,
};
DISK_HOOK (vsphere_disk_hook);
