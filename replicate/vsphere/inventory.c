/* vSphere inventory: the objects of RetrievePropertiesEx results parsed
 * into VMs (disks, controllers, NICs, snapshots), datastores and the
 * names and parents of everything else.  Pure (unit tested).
 */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/xml.h"
#include "replicate/vsphere/vsphere.h"

struct vsphere_inventory *
vsphere_inventory_new (void)
{
  struct vsphere_inventory *inv = calloc (1, sizeof *inv);
  if (!inv)
    azp_error ("out of memory");
  return inv;
}

void
vsphere_vm_clear (struct vsphere_vm *vm)
{
  for (size_t i = 0; i < vm->ndisks; i++) {
    struct vsphere_disk *d = &vm->disks[i];
    free (d->label); free (d->file); free (d->base_file);
    free (d->datastore); free (d->backing); free (d->mode);
    free (d->controller); free (d->change_id);
  }
  for (size_t i = 0; i < vm->nnics; i++) {
    free (vm->nics[i].type); free (vm->nics[i].mac);
    free (vm->nics[i].network);
  }
  for (size_t i = 0; i < vm->nsnapshots; i++) {
    free (vm->snapshots[i].ref); free (vm->snapshots[i].name);
    free (vm->snapshots[i].created);
  }
  free (vm->disks); free (vm->nics); free (vm->snapshots);
  free (vm->ref); free (vm->name); free (vm->instance_uuid);
  free (vm->bios_uuid); free (vm->power_state); free (vm->guest_id);
  free (vm->firmware); free (vm->host); free (vm->datacenter);
  free (vm->parent); free (vm->host_ref);
}

void
vsphere_inventory_free (struct vsphere_inventory *inv)
{
  if (!inv)
    return;
  for (size_t i = 0; i < inv->nvms; i++)
    vsphere_vm_clear (&inv->vms[i]);
  for (size_t i = 0; i < inv->ndatastores; i++) {
    struct vsphere_datastore *ds = &inv->datastores[i];
    free (ds->ref); free (ds->name); free (ds->type); free (ds->datacenter);
  }
  for (size_t i = 0; i < inv->nobjects; i++) {
    struct vsphere_object *o = &inv->objects[i];
    free (o->type); free (o->ref); free (o->name); free (o->parent);
  }
  free (inv->vms);
  free (inv->datastores);
  free (inv->objects);
  free (inv);
}

/* Grow an array by one zeroed element; returns it or NULL. */
static void *
append (void *arrayp, size_t *n, size_t size)
{
  void **array = arrayp;
  char *a = realloc (*array, (*n + 1) * size);
  if (!a) {
    azp_error ("out of memory");
    return NULL;
  }
  *array = a;
  memset (a + *n * size, 0, size);
  return a + (*n)++ * size;
}

static char *
text (xmlNodePtr n)
{
  CLEANUP_XMLFREE xmlChar *t = n ? xmlNodeGetContent (n) : NULL;

  return t ? xstrdup ((const char *) t) : NULL;
}

static int64_t
child_int (xmlNodePtr n, const char *name, int64_t def)
{
  CLEANUP_FREE char *t = vsphere_child_text (n, name);
  int64_t v;
  return t && parse_int64 (t, &v) == 0 ? v : def;
}

static bool
child_bool (xmlNodePtr n, const char *name)
{
  CLEANUP_FREE char *t = vsphere_child_text (n, name);
  return t && !strcmp (t, "true");
}

static bool
name_is (xmlNodePtr n, const char *name)
{
  return n->type == XML_ELEMENT_NODE &&
    !strcmp ((const char *) n->name, name);
}

/* Controller kinds by xsi:type. */
static const struct { const char *type, *kind; } controllers[] = {
  { "ParaVirtualSCSIController", "pvscsi" },
  { "VirtualLsiLogicController", "lsilogic" },
  { "VirtualLsiLogicSASController", "lsilogic-sas" },
  { "VirtualBusLogicController", "buslogic" },
  { "VirtualAHCIController", "sata" },
  { "VirtualNVMEController", "nvme" },
  { "VirtualIDEController", "ide" },
};

static const char *
controller_kind (const char *type)
{
  for (size_t i = 0; i < sizeof controllers / sizeof controllers[0]; i++)
    if (!strcmp (controllers[i].type, type))
      return controllers[i].kind;
  return NULL;
}

static const struct { const char *type, *kind; } backings[] = {
  { "VirtualDiskFlatVer2BackingInfo", "flat" },
  { "VirtualDiskFlatVer1BackingInfo", "flat" },
  { "VirtualDiskRawDiskMappingVer1BackingInfo", "rdm" },
  { "VirtualDiskRawDiskVer2BackingInfo", "rdm" },
  { "VirtualDiskSparseVer2BackingInfo", "sparse" },
  { "VirtualDiskSparseVer1BackingInfo", "sparse" },
  { "VirtualDiskSeSparseBackingInfo", "sesparse" },
};

static char *
backing_kind (const char *type)
{
  if (!type)
    return xstrdup ("unknown");
  for (size_t i = 0; i < sizeof backings / sizeof backings[0]; i++)
    if (!strcmp (backings[i].type, type))
      return xstrdup (backings[i].kind);
  return xstrdup (type);
}

static int
parse_disk (struct vsphere_vm *vm, xmlNodePtr dev)
{
  struct vsphere_disk *d = append (&vm->disks, &vm->ndisks, sizeof *d);
  xmlNodePtr b, base;
  CLEANUP_FREE char *btype = NULL;
  int64_t kb;

  if (!d)
    return -1;
  d->key = child_int (dev, "key", -1);
  d->label = text (vsphere_child (vsphere_child (dev, "deviceInfo"),
                                  "label"));
  d->capacity = child_int (dev, "capacityInBytes", -1);
  kb = child_int (dev, "capacityInKB", -1);
  if (d->capacity < 0 && kb >= 0 && kb <= INT64_MAX / 1024)
    d->capacity = kb * 1024;
  d->controller_key = child_int (dev, "controllerKey", -1);
  d->unit = child_int (dev, "unitNumber", -1);
  b = vsphere_child (dev, "backing");
  if (!b)
    return 0;
  d->file = vsphere_child_text (b, "fileName");
  d->mode = vsphere_child_text (b, "diskMode");
  d->change_id = vsphere_child_text (b, "changeId");
  /* The base of a snapshot chain: follow <parent>, bounded. */
  base = b;
  for (int depth = 0; depth < 256 && vsphere_child (base, "parent"); depth++)
    base = vsphere_child (base, "parent");
  d->base_file = vsphere_child_text (base, "fileName");
  btype = vsphere_xsi_type (base);
  d->backing = backing_kind (btype);
  d->thin = child_bool (base, "thinProvisioned");
  if (d->base_file && d->base_file[0] == '[') {
    const char *close = strchr (d->base_file, ']');
    if (close)
      d->datastore = strndup (d->base_file + 1, close - d->base_file - 1);
  }
  return 0;
}

static const struct { const char *type, *kind; } nics[] = {
  { "VirtualVmxnet3", "vmxnet3" }, { "VirtualVmxnet3Vrdma", "vmxnet3-vrdma" },
  { "VirtualVmxnet2", "vmxnet2" }, { "VirtualVmxnet", "vmxnet" },
  { "VirtualE1000", "e1000" }, { "VirtualE1000e", "e1000e" },
  { "VirtualPCNet32", "pcnet32" }, { "VirtualSriovEthernetCard", "sriov" },
};

static int
parse_nic (struct vsphere_vm *vm, xmlNodePtr dev, const char *kind)
{
  struct vsphere_nic *n = append (&vm->nics, &vm->nnics, sizeof *n);
  xmlNodePtr b;

  if (!n)
    return -1;
  n->type = xstrdup (kind);
  n->mac = vsphere_child_text (dev, "macAddress");
  b = vsphere_child (dev, "backing");
  /* A moref to resolve to a name later, or a name already. */
  if (vsphere_child (b, "network"))
    n->network = vsphere_child_text (b, "network");
  else if (vsphere_child (vsphere_child (b, "port"), "portgroupKey"))
    n->network = vsphere_child_text (vsphere_child (b, "port"),
                                     "portgroupKey");
  else if (vsphere_child (b, "deviceName"))
    n->network = vsphere_child_text (b, "deviceName");
  else if (vsphere_child (b, "opaqueNetworkId"))
    n->network = vsphere_child_text (b, "opaqueNetworkId");
  return 0;
}

int
vsphere_parse_devices (struct vsphere_vm *vm, xmlNodePtr val)
{
  size_t first = vm->ndisks;

  for (xmlNodePtr dev = val->children; dev; dev = dev->next) {
    CLEANUP_FREE char *type = NULL;
    if (dev->type != XML_ELEMENT_NODE)
      continue;
    type = vsphere_xsi_type (dev);
    if (!type)
      continue;
    if (!strcmp (type, "VirtualDisk")) {
      if (parse_disk (vm, dev) == -1)
        return -1;
      continue;
    }
    for (size_t i = 0; i < sizeof nics / sizeof nics[0]; i++)
      if (!strcmp (nics[i].type, type) && parse_nic (vm, dev, nics[i].kind))
        return -1;
  }
  /* Controller of each disk (the controllers may come after the disks). */
  for (size_t i = first; i < vm->ndisks; i++) {
    for (xmlNodePtr dev = val->children; dev; dev = dev->next) {
      CLEANUP_FREE char *type = NULL;
      const char *kind;
      if (dev->type != XML_ELEMENT_NODE ||
          child_int (dev, "key", -2) != vm->disks[i].controller_key)
        continue;
      type = vsphere_xsi_type (dev);
      kind = type ? controller_kind (type) : NULL;
      vm->disks[i].controller = xstrdup (kind ? kind : type ? type : "?");
      break;
    }
  }
  return 0;
}

static int
parse_snapshot_list (struct vsphere_vm *vm, xmlNodePtr parent, int depth)
{
  if (depth > 64)
    return 0;
  for (xmlNodePtr t = parent->children; t; t = t->next) {
    struct vsphere_snapshot *s;
    if (!name_is (t, "rootSnapshotList") && !name_is (t,
                                                      "childSnapshotList"))
      continue;
    s = append (&vm->snapshots, &vm->nsnapshots, sizeof *s);
    if (!s)
      return -1;
    s->ref = vsphere_child_text (t, "snapshot");
    s->name = vsphere_child_text (t, "name");
    s->created = vsphere_child_text (t, "createTime");
    s->quiesced = child_bool (t, "quiesced");
    if (parse_snapshot_list (vm, t, depth + 1) == -1)
      return -1;
  }
  return 0;
}

static int
vm_prop (struct vsphere_vm *vm, const char *name, xmlNodePtr val)
{
  if (!strcmp (name, "name"))
    vm->name = text (val);
  else if (!strcmp (name, "config.instanceUuid"))
    vm->instance_uuid = text (val);
  else if (!strcmp (name, "config.uuid"))
    vm->bios_uuid = text (val);
  else if (!strcmp (name, "runtime.powerState"))
    vm->power_state = text (val);
  else if (!strcmp (name, "config.guestId"))
    vm->guest_id = text (val);
  else if (!strcmp (name, "config.firmware"))
    vm->firmware = text (val);
  else if (!strcmp (name, "config.hardware.numCPU")) {
    CLEANUP_FREE char *t = text (val);
    int64_t v;
    vm->cpus = t && parse_int64 (t, &v) == 0 && v < 100000 ? (int) v : 0;
  }
  else if (!strcmp (name, "config.hardware.memoryMB")) {
    CLEANUP_FREE char *t = text (val);
    if (!t || parse_int64 (t, &vm->memory_mb) == -1)
      vm->memory_mb = 0;
  }
  else if (!strcmp (name, "config.changeTrackingEnabled")) {
    CLEANUP_FREE char *t = text (val);
    vm->cbt = t && !strcmp (t, "true");
  }
  else if (!strcmp (name, "runtime.host"))
    vm->host_ref = text (val);
  else if (!strcmp (name, "parent"))
    vm->parent = text (val);
  else if (!strcmp (name, "config.hardware.device"))
    return vsphere_parse_devices (vm, val);
  else if (!strcmp (name, "snapshot"))
    return parse_snapshot_list (vm, val, 0);
  return 0;
}

static void
datastore_prop (struct vsphere_datastore *ds, const char *name,
                xmlNodePtr val)
{
  if (!strcmp (name, "name"))
    ds->name = text (val);
  else if (!strcmp (name, "summary")) {
    ds->type = vsphere_child_text (val, "type");
    ds->capacity = child_int (val, "capacity", -1);
    ds->free = child_int (val, "freeSpace", -1);
    ds->accessible = child_bool (val, "accessible");
  }
  else if (!strcmp (name, "parent"))
    ds->datacenter = text (val);        /* resolved later */
}

static int
add_object (struct vsphere_inventory *inv, xmlNodePtr objects)
{
  xmlNodePtr obj = vsphere_child (objects, "obj");
  CLEANUP_XMLFREE xmlChar *type = NULL;
  char *ref;
  struct vsphere_vm *vm = NULL;
  struct vsphere_datastore *ds = NULL;
  struct vsphere_object *o = NULL;

  if (!obj)
    return 0;
  type = xmlGetProp (obj, BAD_CAST "type");
  if (!type)
    return 0;
  ref = text (obj);
  if (!strcmp ((const char *) type, "VirtualMachine"))
    vm = append (&inv->vms, &inv->nvms, sizeof *vm);
  else if (!strcmp ((const char *) type, "Datastore"))
    ds = append (&inv->datastores, &inv->ndatastores, sizeof *ds);
  else
    o = append (&inv->objects, &inv->nobjects, sizeof *o);
  if (!vm && !ds && !o) {
    free (ref);
    return -1;
  }
  if (vm)
    vm->ref = ref;
  else if (ds)
    ds->ref = ref;
  else {
    o->ref = ref;
    o->type = xstrdup ((const char *) type);
  }

  for (xmlNodePtr p = objects->children; p; p = p->next) {
    CLEANUP_FREE char *name = NULL;
    xmlNodePtr val;
    if (!name_is (p, "propSet"))
      continue;
    name = vsphere_child_text (p, "name");
    val = vsphere_child (p, "val");
    if (!name || !val)
      continue;
    if (vm) {
      if (vm_prop (vm, name, val) == -1)
        return -1;
    }
    else if (ds)
      datastore_prop (ds, name, val);
    else if (!strcmp (name, "name"))
      o->name = text (val);
    else if (!strcmp (name, "parent"))
      o->parent = text (val);
  }
  return 0;
}

int
vsphere_inventory_add (struct vsphere_inventory *inv, xmlNodePtr returnval,
                       char **token)
{
  *token = NULL;
  if (!returnval)
    return 0;           /* an empty result has no <returnval> */
  for (xmlNodePtr c = returnval->children; c; c = c->next) {
    if (name_is (c, "objects")) {
      if (add_object (inv, c) == -1)
        return -1;
    }
    else if (name_is (c, "token"))
      *token = text (c);
  }
  return 0;
}

static const struct vsphere_object *
find_object (const struct vsphere_inventory *inv, const char *ref)
{
  if (!ref)
    return NULL;
  for (size_t i = 0; i < inv->nobjects; i++)
    if (!strcmp (inv->objects[i].ref, ref))
      return &inv->objects[i];
  return NULL;
}

/* The inventory path of the datacenter above ref ("DC0", or
 * "Folder/DC0" for a datacenter in a folder), or NULL. */
static char *
datacenter_path (const struct vsphere_inventory *inv, const char *ref)
{
  const struct vsphere_object *o = find_object (inv, ref);
  char *path;

  for (int i = 0; o && i < 256 && strcmp (o->type, "Datacenter"); i++)
    o = find_object (inv, o->parent);
  if (!o || !o->name)
    return NULL;
  path = xstrdup (o->name);
  /* Folders above the datacenter, up to (not including) the root. */
  for (int i = 0; path && i < 256; i++) {
    const struct vsphere_object *f = find_object (inv, o->parent);
    char *np;
    if (!f || !f->parent || !f->name)
      break;
    np = xasprintf ("%s/%s", f->name, path);
    free (path);
    path = np;
    o = f;
  }
  return path;
}

/* Replace a moref by the object's name, if known. */
static void
resolve_name (const struct vsphere_inventory *inv, char **ref)
{
  const struct vsphere_object *o = find_object (inv, *ref);
  if (o && o->name) {
    char *n = xstrdup (o->name);
    if (n) {
      free (*ref);
      *ref = n;
    }
  }
}

int
vsphere_inventory_resolve (struct vsphere_inventory *inv)
{
  size_t ndc = 0;
  const struct vsphere_object *dc = NULL;

  for (size_t i = 0; i < inv->nobjects; i++)
    if (!strcmp (inv->objects[i].type, "Datacenter")) {
      ndc++;
      dc = &inv->objects[i];
    }
  for (size_t i = 0; i < inv->ndatastores; i++) {
    struct vsphere_datastore *ds = &inv->datastores[i];
    char *p = datacenter_path (inv, ds->datacenter);
    free (ds->datacenter);
    ds->datacenter = p;
  }
  for (size_t i = 0; i < inv->nvms; i++) {
    struct vsphere_vm *vm = &inv->vms[i];
    vm->datacenter = datacenter_path (inv, vm->parent);
    /* A VM in a vApp has no folder parent: with one datacenter, that
     * one. */
    if (!vm->datacenter && ndc == 1)
      vm->datacenter = datacenter_path (inv, dc->ref);
    if (vm->host_ref) {
      const struct vsphere_object *h = find_object (inv, vm->host_ref);
      vm->host = xstrdup (h && h->name ? h->name : vm->host_ref);
    }
    for (size_t j = 0; j < vm->nnics; j++)
      if (vm->nics[j].network)
        resolve_name (inv, &vm->nics[j].network);
  }
  return 0;
}

const struct vsphere_datastore *
vsphere_inventory_datastore (const struct vsphere_inventory *inv,
                             const char *dcpath, const char *name)
{
  if (!name)
    return NULL;
  for (size_t i = 0; i < inv->ndatastores; i++) {
    const struct vsphere_datastore *ds = &inv->datastores[i];
    if (ds->name && !strcmp (ds->name, name) &&
        (!dcpath || !ds->datacenter || !strcmp (ds->datacenter, dcpath)))
      return ds;
  }
  return NULL;
}
