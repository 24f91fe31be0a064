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
  struct vsphere_cycle *c;    /* a powered-on VM: read from a snapshot */
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
  if (d->mode && !strncmp (d->mode, "independent", 11))
    azp_warning ("%s: disk %zu is independent (%s): VM snapshots do not cover "
                 "it, so replicate cannot read it consistently", vm->name, i,
                 d->mode);
}

/* The datastore URL of the disk a URI names, after checking it. */
static char *
disk_url (struct vsphere *v, const struct vsphere_uri *u, const char *uri,
          bool warn, bool *live, int64_t *capacity)
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
  /* ESXi holds an exclusive lock on the disks of a running VM; once a
   * snapshot exists the base is read-only and can be read. */
  *live = vm->nsnapshots == 0 && vm->power_state &&
    strcmp (vm->power_state, "poweredOff");
  *capacity = d->capacity;
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

/* A running VM's disk is locked by ESXi: read it from a temporary
 * snapshot (named like a cycle's, so that a run killed hard leaves
 * nothing the next cycle does not remove), removed at close, or by a
 * guard process if azprep dies first. */
static struct vsphere_source *
open_snapshot (struct vsphere_source *s, const char *uri, int64_t *size)
{
  char *const uris[] = { (char *) uri };
  struct vsphere_cycle_opts co = { .guard = true };

  vsphere_close (s->v);
  s->v = NULL;
  s->c = vsphere_cycle_begin (uris, 1, &co);
  if (!s->c) {
    azp_error ("%s: the VM is running, so its disk can only be read from a "
               "snapshot, and none could be taken (see above); shut the VM "
               "down, or allow azprep to create snapshots, and retry", uri);
    vsphere_source_close (s);
    return NULL;
  }
  azp_info ("%s: the VM is running: reading its disk from the temporary "
            "snapshot %s (removed afterwards)", uri,
            vsphere_cycle_snapshot_name (s->c));
  *size = vsphere_cycle_disk_size (s->c, 0);
  return s;
}

struct vsphere_source *
vsphere_source_open (const char *uri, int64_t *size)
{
  struct vsphere_uri u;
  struct vsphere_opts o;
  struct vsphere_source *s = NULL;
  CLEANUP_FREE char *url = NULL;
  bool live = false;
  int64_t capacity = 0;

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
  url = disk_url (s->v, &u, uri, true, &live, &capacity);
  if (!url)
    goto fail;
  if (live) {
    vsphere_uri_free (&u);
    vsphere_opts_free (&o);
    return open_snapshot (s, uri, size);
  }
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

/* A new job's disk size: a VM's disk from its config (capacityInBytes,
 * over SOAP: nothing reads the disk, which a running VM locks); a
 * datastore path with one ranged request. */
int
vsphere_uri_size (const char *uri, int64_t *size)
{
  struct vsphere_uri u;
  struct vsphere_opts o;
  struct vsphere *v = NULL;
  CLEANUP_FREE char *url = NULL;
  bool live = false;
  int64_t capacity = -1;
  int ret = -1;

  if (vsphere_uri_parse (uri, &u) == -1)
    return -1;
  if (vsphere_opts_from_uri (&u, &o) == 0 && (v = vsphere_connect (&o)) &&
      (url = disk_url (v, &u, uri, false, &live, &capacity))) {
    if (u.ds)
      ret = vsphere_probe_range (v, url, size);
    else if (capacity <= 0)
      azp_error ("%s: vCenter gives no capacity for the disk", uri);
    else {
      *size = capacity;
      ret = 0;
    }
  }
  vsphere_close (v);
  vsphere_opts_free (&o);
  vsphere_uri_free (&u);
  return ret;
}

const char *
vsphere_source_socket (const struct vsphere_source *s)
{
  return s->c ? vsphere_cycle_socket (s->c, 0) : datastore_export_socket (s->b);
}

void
vsphere_source_close (struct vsphere_source *s)
{
  if (!s)
    return;
  datastore_export_stop (s->b);
  vsphere_close (s->v);
  vsphere_cycle_end (s->c);
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
