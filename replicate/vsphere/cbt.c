/* Changed Block Tracking (CBT): what changed on a disk between two
 * snapshots, from vCenter's QueryChangedDiskAreas, and turning CBT on.
 *
 * VMware's documented semantics (vSphere Web Services API reference,
 * VirtualMachine.QueryChangedDiskAreas and DiskChangeInfo; VDDK
 * Programming Guide, "Changed Block Tracking on Virtual Disks"):
 * - changeId identifies the state of a disk at a snapshot; it is the
 *   backing's changeId in the snapshot's config.  A later query with it
 *   returns the areas that changed since that snapshot.
 * - changeId "*" returns the allocated areas of the disk (used for the
 *   first copy of a thin or lazily zeroed disk; on storage that cannot
 *   tell, the whole disk).
 * - One reply (DiskChangeInfo) covers only [startOffset, startOffset +
 *   length): "callers will make multiple calls ... repeatedly calling
 *   queryChangedDiskAreas until a map for the entire virtual disk has
 *   been obtained".  changedArea[] lies within that window.
 * - The result may hold false positives, never misses a change.
 * - A changeId the host cannot use (CBT reset by a storage migration,
 *   a restore, a corrupt tracking file) is answered with a fault
 *   (FileFault, InvalidArgument ...): the caller then reads the whole
 *   disk and starts a new chain from the current snapshot.
 * - changeTrackingEnabled (VirtualMachineConfigSpec) takes effect at
 *   the next stun/unstun of the VM: a snapshot creation is one.
 */
#include <inttypes.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/xml.h"
#include "replicate/vsphere/internal.h"

/* The most areas accepted in one reply, and in all (a hostile server
 * could make a list of millions of 1-byte areas). */
#define MAX_AREAS_PER_REPLY (1 << 20)

/* A non-negative integer child of n. */
static int
parse_i64 (xmlNodePtr n, const char *name, int64_t *v)
{
  CLEANUP_FREE char *t = vsphere_child_text (n, name);

  return parse_int64 (t, v) == -1 || *v < 0 ? -1 : 0;
}

int
vsphere_changed_areas_parse (xmlNodePtr rv, int64_t start, int64_t capacity,
                             const char *what, struct rangelist *out,
                             int64_t *next)
{
  int64_t so, len, prev_end;
  size_t n = 0;

  if (!rv || parse_i64 (rv, "startOffset", &so) == -1 ||
      parse_i64 (rv, "length", &len) == -1) {
    azp_error ("%s: QueryChangedDiskAreas: a reply without startOffset and "
               "length", what);
    return -1;
  }
  if (so != start || len <= 0 || len > capacity - start) {
    azp_error ("%s: QueryChangedDiskAreas: asked from %" PRId64 ", the reply "
               "covers %" PRId64 "+%" PRId64 " (disk of %" PRId64 " bytes)",
               what, start, so, len, capacity);
    return -1;
  }
  prev_end = so;
  for (xmlNodePtr a = rv->children; a; a = a->next) {
    int64_t as, al;
    if (a->type != XML_ELEMENT_NODE ||
        strcmp ((const char *) a->name, "changedArea"))
      continue;
    if (parse_i64 (a, "start", &as) == -1 ||
        parse_i64 (a, "length", &al) == -1 || al <= 0 ||
        as < prev_end || as > so + len || al > so + len - as) {
      azp_error ("%s: QueryChangedDiskAreas: a changed area outside %" PRId64
                 "+%" PRId64 " or out of order", what, so, len);
      return -1;
    }
    if (++n > MAX_AREAS_PER_REPLY) {
      azp_error ("%s: QueryChangedDiskAreas: more than %d areas in one reply",
                 what, MAX_AREAS_PER_REPLY);
      return -1;
    }
    if (rangelist_add (out, as, as + al) == -1)
      return -1;
    prev_end = as + al;
  }
  *next = so + len;
  return 0;
}

char *
vsphere_changed_areas_body (const char *vm_ref, const char *snap_ref, int key,
                            int64_t start, const char *change_id)
{
  CLEANUP_FREE char *ev = vsphere_xml_escape (vm_ref);
  CLEANUP_FREE char *es = vsphere_xml_escape (snap_ref);
  CLEANUP_FREE char *ec = vsphere_xml_escape (change_id);

  if (!ev || !es || !ec)
    return NULL;
  return xasprintf ("<QueryChangedDiskAreas xmlns=\"urn:vim25\">"
                    "<_this type=\"VirtualMachine\">%s</_this>"
                    "<snapshot type=\"VirtualMachineSnapshot\">%s</snapshot>"
                    "<deviceKey>%d</deviceKey>"
                    "<startOffset>%" PRId64 "</startOffset>"
                    "<changeId>%s</changeId>"
                    "</QueryChangedDiskAreas>", ev, es, key, start, ec);
}

int
vsphere_query_changed (struct vsphere *v, const char *vm_ref,
                       const char *snap_ref, int key, int64_t capacity,
                       const char *change_id, const char *what,
                       struct rangelist *out, struct vsphere_fault *f)
{
  int64_t off = 0;

  memset (f, 0, sizeof *f);
  /* Page by startOffset until the whole capacity is covered. */
  while (off < capacity) {
    CLEANUP_FREE char *body = vsphere_changed_areas_body (vm_ref, snap_ref,
                                                          key, off, change_id);
    xmlNodePtr rv;
    CLEANUP_XMLDOC xmlDoc *doc = NULL;
    int64_t next;

    if (!body)
      return -1;
    doc = vsphere_call_fault (v, body, what, &rv, f);
    if (!doc)
      return f->type ? -2 : -1;
    if (vsphere_changed_areas_parse (vsphere_child (rv, "returnval"), off,
                                     capacity, what, out, &next) == -1)
      return -1;
    off = next;
  }
  rangelist_normalize (out);
  return 0;
}

int
vsphere_snapshot_devices (struct vsphere *v, const char *snap_ref,
                          struct vsphere_vm *vm)
{
  CLEANUP_FREE char *es = vsphere_xml_escape (snap_ref);
  CLEANUP_FREE char *body = NULL;
  CLEANUP_XMLDOC xmlDoc *doc = NULL;
  xmlNodePtr rv, objects;

  if (!es)
    return -1;
  body = xasprintf ("<RetrievePropertiesEx xmlns=\"urn:vim25\">"
                    "<_this type=\"PropertyCollector\">%s</_this>"
                    "<specSet><propSet><type>VirtualMachineSnapshot</type>"
                    "<pathSet>config.hardware.device</pathSet></propSet>"
                    "<objectSet><obj type=\"VirtualMachineSnapshot\">%s"
                    "</obj></objectSet></specSet><options/>"
                    "</RetrievePropertiesEx>", v->property_collector, es);
  if (!body)
    return -1;
  doc = vsphere_call (v, body, "the snapshot's disks", &rv);
  if (!doc)
    return -1;
  objects = vsphere_child (vsphere_child (rv, "returnval"), "objects");
  for (xmlNodePtr p = objects ? objects->children : NULL; p; p = p->next)
    if (p->type == XML_ELEMENT_NODE &&
        !strcmp ((const char *) p->name, "propSet")) {
      xmlNodePtr val = vsphere_child (p, "val");
      if (val && vsphere_parse_devices (vm, val) == -1)
        return -1;
    }
  return 0;
}

int
vsphere_enable_cbt (struct vsphere *v, const struct vsphere_vm *vm)
{
  CLEANUP_FREE char *eref = vsphere_xml_escape (vm->ref);
  CLEANUP_FREE char *body = NULL, *what = NULL;
  char *r;

  if (!eref)
    return -1;
  body = xasprintf ("<ReconfigVM_Task xmlns=\"urn:vim25\">"
                    "<_this type=\"VirtualMachine\">%s</_this>"
                    "<spec><changeTrackingEnabled>true"
                    "</changeTrackingEnabled></spec>"
                    "</ReconfigVM_Task>", eref);
  what = xasprintf ("%s: enable changed block tracking", vm->name);
  if (!body || !what)
    return -1;
  r = vsphere_run_task (v, body, what);
  if (!r)
    return -1;
  free (r);
  azp_info ("%s: changed block tracking enabled (effective from this "
            "cycle's snapshot)", vm->name);
  return 0;
}
