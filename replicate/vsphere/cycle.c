/* Replication cycles on a vSphere VM: a snapshot per cycle, the frozen
 * base disks read in place over NBD, the snapshot removed at the end
 * (and stale azprep snapshots removed at the start of the next run).
 */
#include <string.h>
#include <time.h>

#include "prep/common/common.h"
#include "replicate/vsphere/vsphere.h"

struct cycle_disk {
  char *url;                  /* datastore URL of the flat extent */
  int64_t size;
  struct datastore_export *b;
};

struct vsphere_cycle {
  struct vsphere *v;
  char *vm_name, *vm_ref;
  char *snap_name, *snap_ref;
  struct cycle_disk *disks;
  size_t ndisks;
};

size_t
vsphere_cycle_ndisks (const struct vsphere_cycle *c)
{
  return c->ndisks;
}

const char *
vsphere_cycle_nbd_uri (const struct vsphere_cycle *c, size_t i)
{
  return datastore_export_uri (c->disks[i].b);
}

int64_t
vsphere_cycle_disk_size (const struct vsphere_cycle *c, size_t i)
{
  return c->disks[i].size;
}

const char *
vsphere_cycle_snapshot_name (const struct vsphere_cycle *c)
{
  return c->snap_name;
}

int
vsphere_check_final_cycle (const struct vsphere_vm *vm, bool source_shutdown)
{
  if (!vm->power_state || !strcmp (vm->power_state, "poweredOff"))
    return 0;
  if (source_shutdown)
    azp_error ("%s: --source-shutdown says the VM is shut down, but vCenter "
               "reports it %s: shut it down first, or the final cycle misses "
               "what it writes afterwards", vm->name, vm->power_state);
  else
    azp_error ("%s: the VM is %s: a final cycle of a running VM misses what it "
               "writes afterwards; shut it down and give --source-shutdown",
               vm->name, vm->power_state);
  return -1;
}

int
vsphere_check_final_cycle_uri (const char *uri, bool source_shutdown)
{
  struct vsphere_uri u;
  struct vsphere_opts o;
  struct vsphere *v = NULL;
  struct vsphere_inventory *inv = NULL;
  const struct vsphere_vm *vm;
  int ret = -1;

  if (vsphere_uri_parse (uri, &u) == -1)
    return -1;
  if (!u.vm) {
    azp_error ("%s: name the VM (vsphere://HOST/[DC/]VM/DISK) to check its "
               "power state", uri);
    vsphere_uri_free (&u);
    return -1;
  }
  if (vsphere_opts_from_uri (&u, &o) == 0 && (v = vsphere_connect (&o)) &&
      (inv = vsphere_get_inventory (v)) &&
      (vm = vsphere_find_vm (inv, u.dcpath, u.vm, vsphere_host (v))))
    ret = vsphere_check_final_cycle (vm, source_shutdown);
  vsphere_inventory_free (inv);
  vsphere_close (v);
  vsphere_opts_free (&o);
  vsphere_uri_free (&u);
  return ret;
}

/* What a cycle refuses, for every disk of the VM it reads. */
static int
check_vm (const struct vsphere_inventory *inv, const struct vsphere_vm *vm)
{
  size_t own = 0;

  for (size_t i = 0; i < vm->nsnapshots; i++)
    if (!vm->snapshots[i].name ||
        strncmp (vm->snapshots[i].name, VSPHERE_SNAPSHOT_PREFIX,
                 strlen (VSPHERE_SNAPSHOT_PREFIX)))
      own++;
  if (own) {
    azp_error ("%s: the VM has %zu snapshot%s of its own: its current state "
               "lives in delta disks that cannot be read in place, and its "
               "base "
               "disks hold the state at the first snapshot; delete or "
               "consolidate the snapshots before replicating", vm->name, own,
               own > 1 ? "s" : "");
    return -1;
  }
  for (size_t i = 0; i < vm->ndisks; i++) {
    const struct vsphere_disk *d = &vm->disks[i];
    if (d->mode && !strncmp (d->mode, "independent", 11)) {
      azp_error ("%s: disk %zu is independent (%s): a VM snapshot does not "
                 "freeze it, so it cannot be replicated consistently; make it "
                 "dependent (persistent) first", vm->name, i, d->mode);
      return -1;
    }
    if (vsphere_disk_readable (inv, vm, i) == -1)
      return -1;
  }
  return 0;
}

/* Parse the URIs: one vCenter, one VM; the disk indexes. */
static int
parse_uris (char *const *uris, size_t n, struct vsphere_uri *first,
            int *idx)
{
  for (size_t i = 0; i < n; i++) {
    struct vsphere_uri u;
    if (vsphere_uri_parse (uris[i], &u) == -1)
      return -1;
    if (!u.vm) {
      azp_error ("%s: replicate needs vsphere://HOST/[DC/]VM/DISKINDEX, to "
                 "snapshot the VM", uris[i]);
      vsphere_uri_free (&u);
      return -1;
    }
    if (i > 0 && (strcmp (u.host, first->host) || strcmp (u.vm, first->vm) ||
                  (!u.dcpath) != (!first->dcpath) ||
                  (u.dcpath && strcmp (u.dcpath, first->dcpath)))) {
      azp_error ("%s: all the disks of a cycle must belong to one VM (%s)",
                 uris[i], first->vm);
      vsphere_uri_free (&u);
      return -1;
    }
    idx[i] = u.disk;
    if (i == 0)
      *first = u;
    else
      vsphere_uri_free (&u);
  }
  return 0;
}

static void
cycle_free (struct vsphere_cycle *c)
{
  for (size_t i = 0; i < c->ndisks; i++) {
    datastore_export_stop (c->disks[i].b);
    free (c->disks[i].url);
  }
  free (c->disks);
  vsphere_close (c->v);
  free (c->vm_name); free (c->vm_ref); free (c->snap_name); free (c->snap_ref);
  free (c);
}

struct vsphere_cycle *
vsphere_cycle_begin (char *const *uris, size_t n, bool quiesce)
{
  struct vsphere_uri u = { 0 };
  struct vsphere_opts o = { 0 };
  struct vsphere_inventory *inv = NULL;
  const struct vsphere_vm *vm;
  struct vsphere_cycle *c = NULL;
  CLEANUP_FREE int *idx = calloc (n ? n : 1, sizeof *idx);

  if (!idx || n == 0) {
    azp_error (n ? "out of memory" : "no disk given");
    return NULL;
  }
  if (parse_uris (uris, n, &u, idx) == -1 ||
      vsphere_opts_from_uri (&u, &o) == -1)
    goto fail;
  c = calloc (1, sizeof *c);
  if (!c) {
    azp_error ("out of memory");
    goto fail;
  }
  c->v = vsphere_connect (&o);
  if (!c->v)
    goto fail;
  inv = vsphere_get_inventory (c->v);
  if (!inv)
    goto fail;
  vm = vsphere_find_vm (inv, u.dcpath, u.vm, vsphere_host (c->v));
  if (!vm)
    goto fail;
  c->vm_name = xstrdup (vm->name);
  c->vm_ref = xstrdup (vm->ref);
  if (!c->vm_name || !c->vm_ref)
    goto fail;
  if (vsphere_remove_stale_snapshots (c->v, vm) == -1)
    goto fail;
  if (check_vm (inv, vm) == -1)
    goto fail;
  if (!vm->datacenter) {
    azp_error ("%s: cannot tell the VM's datacenter", vm->name);
    goto fail;
  }

  c->disks = calloc (n, sizeof *c->disks);
  if (!c->disks) {
    azp_error ("out of memory");
    goto fail;
  }
  /* The base of each disk now: what the snapshot freezes. */
  for (size_t i = 0; i < n; i++) {
    CLEANUP_FREE char *ds = NULL, *path = NULL, *flat = NULL;
    if ((size_t) idx[i] >= vm->ndisks) {
      azp_error ("%s: VM %s has %zu disk%s (indexes from 0)", uris[i], vm->name,
                 vm->ndisks, vm->ndisks == 1 ? "" : "s");
      goto fail;
    }
    if (vsphere_split_ds_path (vm->disks[idx[i]].base_file, &ds, &path) == -1
        || !(flat = vsphere_flat_name (path)))
      goto fail;
    c->disks[i].url = vsphere_datastore_url (vsphere_base (c->v),
                                             vm->datacenter, ds, flat);
    c->ndisks++;
    if (!c->disks[i].url)
      goto fail;
  }

  c->snap_name = xasprintf ("%s-%lld", VSPHERE_SNAPSHOT_PREFIX,
                            (long long) time (NULL));
  if (!c->snap_name)
    goto fail;
  c->snap_ref = vsphere_create_snapshot (c->v, vm, c->snap_name,
                                         quiesce || u.quiesce);
  if (!c->snap_ref)
    goto fail;
  azp_info ("%s: snapshot %s created", c->vm_name, c->snap_name);
  for (size_t i = 0; i < c->ndisks; i++) {
    if (vsphere_probe_range (c->v, c->disks[i].url, &c->disks[i].size) == -1)
      goto fail_snap;
    c->disks[i].b = datastore_export_start (c->v, c->disks[i].url);
    if (!c->disks[i].b)
      goto fail_snap;
  }
  vsphere_inventory_free (inv);
  vsphere_uri_free (&u);
  vsphere_opts_free (&o);
  return c;

 fail_snap:
  vsphere_cycle_end (c);
  c = NULL;
 fail:
  if (c)
    cycle_free (c);
  vsphere_inventory_free (inv);
  vsphere_uri_free (&u);
  vsphere_opts_free (&o);
  return NULL;
}

int
vsphere_cycle_end (struct vsphere_cycle *c)
{
  int ret = 0;

  if (!c)
    return 0;
  /* Stop reading before the snapshot goes: its removal writes the
   * deltas back into the base. */
  for (size_t i = 0; i < c->ndisks; i++) {
    datastore_export_stop (c->disks[i].b);
    c->disks[i].b = NULL;
  }
  if (c->snap_ref) {
    CLEANUP_FREE char *what = xasprintf ("%s: remove snapshot %s",
                                         c->vm_name, c->snap_name);
    if (vsphere_remove_snapshot (c->v, c->snap_ref,
                                 what ? what : c->vm_name) == -1) {
      azp_error ("%s: snapshot %s is left behind; the next run removes it",
                 c->vm_name, c->snap_name);
      ret = -1;
    }
    else
      azp_info ("%s: snapshot %s removed", c->vm_name, c->snap_name);
  }
  cycle_free (c);
  return ret;
}
