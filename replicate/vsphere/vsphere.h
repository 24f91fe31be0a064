/* replicate/vsphere: the vCenter source of replication (client,
 * inventory, disks, snapshots and the datastore bridge).
 *
 * A vSphere (vCenter/ESXi) client: SOAP (urn:vim25) over libcurl,
 * parsed with libxml2 (prep/common/xml.h).  Pure parts (envelopes,
 * escaping, response and inventory parsing, datastore URLs) live in
 * soap.c, inventory.c and uri.c and have unit tests (test-vsphere.c);
 * the network parts in client.c and tasks.c, the bridge to the
 * datastore (nbdkit-curl) in datastore-export.c, the replication
 * source hook in replicate.c.
 *
 * Credentials come from VSPHERE_USER / VSPHERE_PASSWORD or a credentials
 * file (lines "user=NAME" and "password=SECRET"); they never appear on a
 * command line, in a message or in a file azprep writes.
 */
#ifndef AZPREP_VSPHERE_H
#define AZPREP_VSPHERE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libxml/tree.h>

#include "replicate/azure/ranges.h"

/* Largest SOAP response accepted, and largest credentials file. */
#define VSPHERE_MAX_RESPONSE (64 * 1024 * 1024)
#define VSPHERE_MAX_CREDENTIALS 4096

/* Prefix of the names of the snapshots azprep creates. */
#define VSPHERE_SNAPSHOT_PREFIX "azprep-cycle"

/* ---- Pure parts (no network). ---- */

/* XML-escape s for element content and attribute values. */
char *vsphere_xml_escape (const char *s);
/* A whole SOAP envelope around body (already XML). */
char *vsphere_envelope (const char *body);

/* Parse a response safely: no network, no entity substitution, no DTD,
 * bounded size.  Returns the document or NULL (error reported, naming
 * what). */
xmlDocPtr vsphere_parse_xml (const char *buf, size_t len, const char *what);

/* A SOAP fault (or a task's error): the vim25 fault type (InvalidLogin,
 * NoPermission, ...) and the server's message. */
struct vsphere_fault {
  char *type;
  char *message;
  char *detail;        /* NoPermission: privilege; not found: the object */
};
void vsphere_fault_clear (struct vsphere_fault *f);
/* Find the Body's first element.  If it is a Fault, fill *f and return
 * NULL; otherwise return the element (e.g. LoginResponse).  Returns NULL
 * with f->type == NULL if the document is not a SOAP envelope. */
xmlNodePtr vsphere_body (xmlDocPtr doc, struct vsphere_fault *f);
/* Parse a LocalizedMethodFault (task info.error) into *f. */
void vsphere_fault_from_node (xmlNodePtr fault, struct vsphere_fault *f);
/* A clear one-line message for a fault, naming 'what' (the vCenter, the
 * VM...): wrong login, missing privilege, object not found, busy. */
char *vsphere_fault_message (const struct vsphere_fault *f, const char *what);

/* XML helpers on vim25 documents (namespace-agnostic element names). */
xmlNodePtr vsphere_child (xmlNodePtr n, const char *name);
/* Text of the named child (a new string), or NULL if absent. */
char *vsphere_child_text (xmlNodePtr n, const char *name);
/* xsi:type of a node (a new string), or NULL. */
char *vsphere_xsi_type (xmlNodePtr n);

/* "[DS] dir/disk.vmdk" -> ds "DS", path "dir/disk.vmdk".  0 or -1. */
int vsphere_split_ds_path (const char *ds_path, char **ds, char **path);
/* "dir/disk.vmdk" -> "dir/disk-flat.vmdk" (the extent of a flat disk). */
char *vsphere_flat_name (const char *path);
/* https://HOST[:PORT]/folder/PATH?dcPath=DC&dsName=DS, percent-encoded.
 * base is "https://HOST[:PORT]" (no path). */
char *vsphere_datastore_url (const char *base, const char *dcpath,
                             const char *ds, const char *path);

/* ---- Inventory (parsed from RetrievePropertiesEx pages). ---- */

struct vsphere_disk {
  int key;
  char *label;
  int64_t capacity;           /* bytes */
  char *file;                 /* current backing "[DS] dir/x-000001.vmdk" */
  char *base_file;            /* bottom of the backing chain */
  char *datastore;            /* datastore name (from base_file) */
  char *backing;              /* flat, rdm, sparse, sesparse, other: TYPE */
  bool thin;
  char *mode;                 /* persistent, independent_persistent, ... */
  char *controller;           /* pvscsi, lsilogic, lsilogic-sas, buslogic,
                               * sata, nvme, ide */
  int controller_key;
  int unit;
  char *change_id;            /* CBT change id, if any */
};

struct vsphere_nic {
  char *type;                 /* vmxnet3, e1000, e1000e, ... */
  char *mac;
  char *network;              /* network or port group name */
};

struct vsphere_snapshot {
  char *ref;                  /* VirtualMachineSnapshot moref */
  char *name;
  char *created;
  bool quiesced;
};

struct vsphere_vm {
  char *ref;                  /* vm-NN */
  char *name;
  char *instance_uuid;
  char *bios_uuid;
  char *power_state;          /* poweredOn, poweredOff, suspended */
  char *guest_id;
  char *firmware;             /* bios, efi */
  int cpus;
  int64_t memory_mb;
  bool cbt;
  char *host;                 /* host name */
  char *datacenter;           /* datacenter inventory path (dcPath) */
  char *parent;               /* parent moref (folder) */
  char *host_ref;
  struct vsphere_disk *disks;
  size_t ndisks;
  struct vsphere_nic *nics;
  size_t nnics;
  struct vsphere_snapshot *snapshots;   /* the whole tree, flattened */
  size_t nsnapshots;
};

struct vsphere_datastore {
  char *ref;
  char *name;
  char *type;                 /* VMFS, NFS, vsan, ... */
  int64_t capacity, free;
  bool accessible;
  char *datacenter;
};

/* Other objects, for names and the parent chain. */
struct vsphere_object {
  char *type, *ref, *name, *parent;
};

struct vsphere_inventory {
  struct vsphere_vm *vms;
  size_t nvms;
  struct vsphere_datastore *datastores;
  size_t ndatastores;
  struct vsphere_object *objects;
  size_t nobjects;
};

struct vsphere_inventory *vsphere_inventory_new (void);
void vsphere_inventory_free (struct vsphere_inventory *inv);
/* Add the <objects> of one RetrievePropertiesEx/Continue... result
 * (the <returnval> node).  Sets *token (new string) if more pages
 * follow.  0 or -1. */
int vsphere_inventory_add (struct vsphere_inventory *inv, xmlNodePtr returnval,
                           char **token);
/* After the last page: resolve datacenters, host and network names. */
int vsphere_inventory_resolve (struct vsphere_inventory *inv);
/* Add the disks and NICs of a config.hardware.device value to vm. */
int vsphere_parse_devices (struct vsphere_vm *vm, xmlNodePtr val);
/* Free what vm holds (not vm itself). */
void vsphere_vm_clear (struct vsphere_vm *vm);
const struct vsphere_datastore *
vsphere_inventory_datastore (const struct vsphere_inventory *inv,
                             const char *dcpath, const char *name);

/* ---- vsphere:// disk URIs (uri.c) ----
 *
 *   vsphere://HOST[:PORT]/[DCPATH/]VMNAME/DISKINDEX[?OPTIONS]
 *   vsphere://HOST[:PORT]/DCPATH/[DATASTORE] PATH/disk.vmdk[?OPTIONS]
 *
 * DISKINDEX counts from 0 in the order "discover" lists the disks.
 * Segments are percent-decoded.  OPTIONS: cacert=FILE, http=1 (plain
 * HTTP: refused unless --vsphere-allow-http), insecure=1 (refused
 * unless --vsphere-insecure, which alone skips verification),
 * credentials=FILE, quiesce=1 (replicate: quiesce the guest's file
 * systems for each snapshot).
 */
struct vsphere_uri {
  char *host;                 /* host[:port] */
  char *dcpath;               /* NULL: any datacenter */
  char *vm;                   /* NULL with a datastore path */
  int disk;
  char *ds, *ds_path;         /* datastore path form */
  char *cacert, *credentials;
  bool insecure, http;
  bool quiesce;               /* replicate: quiesced snapshots */
};

bool vsphere_uri_p (const char *s);
int vsphere_uri_parse (const char *s, struct vsphere_uri *u);
void vsphere_uri_free (struct vsphere_uri *u);
/* The URI of disk i of a VM, with the connection options of v. */
struct vsphere;
char *vsphere_uri_format (const struct vsphere *v, const char *dcpath,
                          const char *vm, size_t disk);

/* ---- Client (network). ---- */

struct vsphere_opts {
  char *url;                  /* https://HOST[:PORT][/sdk] */
  char *cacert;               /* CA bundle (PEM) to verify the server */
  bool insecure;              /* do not verify TLS (asked for) */
  char *credentials;          /* credentials file, or NULL: environment */
};

struct vsphere;

/* Settings of the command line (replicate). */
struct vsphere_tuning {
  int64_t task_timeout;       /* seconds; 0: wait while the task lives */
  int64_t keepalive;          /* seconds between keep-alives in a cycle */
  bool json;                  /* task progress as JSON events on stdout */
};
extern struct vsphere_tuning vsphere_tuning;

/* Log in (SessionManager.Login).  Errors name the vCenter.  A call that
 * finds the session gone (NotAuthenticated: vCenter's idle timeout)
 * logs in again and is repeated once; the cookie files registered
 * below then get the new session cookie. */
struct vsphere *vsphere_connect (const struct vsphere_opts *o);
/* Log out and free. */
void vsphere_close (struct vsphere *v);
/* "HOST[:PORT]" */
const char *vsphere_host (const struct vsphere *v);
/* "https://HOST[:PORT]" */
const char *vsphere_base (const struct vsphere *v);
/* The session cookie "vmware_soap_session=..." (a secret). */
const char *vsphere_cookie (const struct vsphere *v);
const struct vsphere_opts *vsphere_options (const struct vsphere *v);
/* Keep the file at path (0600, in a private directory) holding the
 * session cookie: rewritten atomically at each re-login (the bridge's
 * cookie script reads it).  0 or -1. */
int vsphere_cookie_file_add (struct vsphere *v, const char *path);
void vsphere_cookie_file_remove (struct vsphere *v, const char *path);
/* Write the cookie to path: a temporary 0600 file renamed over it. */
int vsphere_cookie_file_write (const struct vsphere *v, const char *path);
/* One keep-alive (SessionManager.SessionIsActive is not for the own
 * session; CurrentTime renews it), re-logging in if the session is
 * gone.  0 or -1 (reported). */
int vsphere_keepalive (struct vsphere *v);

/* One SOAP call: body is the XML of the request element.  On success
 * returns the document and *ret the response element; on a fault the
 * error is reported naming what, and NULL is returned. */
xmlDocPtr vsphere_call (struct vsphere *v, const char *body,
                        const char *what, xmlNodePtr *ret);
/* The same, but a fault is returned in *f instead of reported. */
xmlDocPtr vsphere_call_fault (struct vsphere *v, const char *body,
                              const char *what, xmlNodePtr *ret,
                              struct vsphere_fault *f);

/* All VMs (and datastores, hosts, networks, datacenters), only the
 * properties azprep needs, through a ContainerView. */
struct vsphere_inventory *vsphere_get_inventory (struct vsphere *v);

/* Wait for a task; returns its result moref (new string, "" if none) or
 * NULL with the task's fault reported naming what. */
char *vsphere_wait_task (struct vsphere *v, const char *task_ref,
                         const char *what);
/* Start a task (body returns its moref) and wait for it: as
 * vsphere_wait_task. */
char *vsphere_run_task (struct vsphere *v, const char *body,
                        const char *what);
/* CreateSnapshot_Task (memory off).  Returns the snapshot moref. */
char *vsphere_create_snapshot (struct vsphere *v, const struct vsphere_vm *vm,
                               const char *name, bool quiesce);
int vsphere_remove_snapshot (struct vsphere *v, const char *snap_ref,
                             const char *what);
/* Remove every snapshot of the VM whose name starts with
 * VSPHERE_SNAPSHOT_PREFIX (left by an interrupted run).  Returns the
 * number removed or -1. */
int vsphere_remove_stale_snapshots (struct vsphere *v,
                                    const struct vsphere_vm *vm);

/* ---- Changed Block Tracking (cbt.c) ---- */

/* Parse one DiskChangeInfo (the returnval of QueryChangedDiskAreas asked
 * from start, on a disk of capacity bytes): add its changed areas to
 * out and set *next to the end of the window it covers.  Refused: a
 * window that does not begin at start or runs past the capacity, areas
 * outside the window, overlapping or out of order.  0 or -1. */
int vsphere_changed_areas_parse (xmlNodePtr rv, int64_t start,
                                 int64_t capacity, const char *what,
                                 struct rangelist *out, int64_t *next);
/* The request element of one QueryChangedDiskAreas call. */
char *vsphere_changed_areas_body (const char *vm_ref, const char *snap_ref,
                                  int key, int64_t start,
                                  const char *change_id);
/* The areas of disk key (capacity bytes) that differ between the
 * snapshot and the disk as of change_id ("*": the allocated areas),
 * paging until the capacity is covered; out is normalized.  0; -1 an
 * error (reported); -2 vCenter refused the query: the fault is in *f
 * (not reported; the caller clears it). */
int vsphere_query_changed (struct vsphere *v, const char *vm_ref,
                           const char *snap_ref, int key, int64_t capacity,
                           const char *change_id, const char *what,
                           struct rangelist *out, struct vsphere_fault *f);
/* The disks of a snapshot's config (their backing's changeId), added to
 * vm.  0 or -1. */
int vsphere_snapshot_devices (struct vsphere *v, const char *snap_ref,
                              struct vsphere_vm *vm);
/* ReconfigVM_Task changeTrackingEnabled=true (effective at the next
 * snapshot).  0 or -1. */
int vsphere_enable_cbt (struct vsphere *v, const struct vsphere_vm *vm);

/* Check that url serves byte ranges: one ranged GET of one byte.
 * Sets *size from Content-Range.  A server that answers 200 (whole
 * file) is refused without reading the body.  0 or -1. */
int vsphere_probe_range (struct vsphere *v, const char *url, int64_t *size);

/* ---- The datastore export, an NBD bridge (datastore-export.c):
 * nbdkit's curl plugin on a unix socket, read-only, the cookie passed
 * in a file. ---- */
struct datastore_export;
/* Start it for url and wait until it serves.  NULL (reported). */
struct datastore_export *datastore_export_start (struct vsphere *v,
                                                 const char *url);
/* The same in two halves: spawn starts nbdkit (which reads nothing
 * until a client connects: the caller may spawn it before the snapshot
 * that it reads exists) and ready waits until it serves (0, or -1
 * reported; then stop it). */
struct datastore_export *datastore_export_spawn (struct vsphere *v,
                                                 const char *url);
int datastore_export_ready (struct datastore_export *b);
/* "/tmp/.../sock" and "nbd+unix:///?socket=/tmp/.../sock" */
const char *datastore_export_socket (const struct datastore_export *b);
const char *datastore_export_uri (const struct datastore_export *b);
void datastore_export_stop (struct datastore_export *b);

/* ---- A vsphere:// disk opened for reading (disk.c). ---- */
struct vsphere_source;
/* Resolve the URI, check the disk can be read in place, start the
 * bridge.  Warnings: existing snapshots, independent disks. */
struct vsphere_source *vsphere_source_open (const char *uri, int64_t *size);
const char *vsphere_source_socket (const struct vsphere_source *s);
/* The size of the disk a URI names (login, one ranged request), without
 * a bridge or a snapshot.  0 or -1. */
int vsphere_uri_size (const char *uri, int64_t *size);
void vsphere_source_close (struct vsphere_source *s);

/* Connection options from a vsphere:// URI. */
int vsphere_opts_from_uri (const struct vsphere_uri *u,
                           struct vsphere_opts *o);
void vsphere_opts_free (struct vsphere_opts *o);
/* Find a VM by name (and datacenter path, if not NULL). Reports
 * "no VM named ..." naming the vCenter. */
const struct vsphere_vm *vsphere_find_vm (const struct vsphere_inventory *inv,
                                          const char *dcpath,
                                          const char *name,
                                          const char *vcenter);
/* Can this disk be read in place?  Why not (RDM, sparse, vSAN/vVols,
 * inaccessible datastore), as a new string, or NULL if it can. */
char *vsphere_disk_unreadable (const struct vsphere_inventory *inv,
                               const struct vsphere_vm *vm, size_t i);
/* The same, reported with azp_error() naming the VM; 0 or -1. */
int vsphere_disk_readable (const struct vsphere_inventory *inv,
                           const struct vsphere_vm *vm, size_t i);

/* ---- Replication cycles (cycle.c) ----
 *
 * A cycle reads a VM's disks frozen by a snapshot: begin removes the
 * azprep snapshots an interrupted run left (by name), creates the cycle
 * snapshot (memory off, quiesce if asked), and serves each disk's base
 * (now frozen: the VM writes to the snapshot's delta) read-only over
 * NBD.  end stops the bridges and removes the snapshot, whether the
 * cycle succeeded or not.  All the URIs must name disks of one VM.
 * Refused: VMs with snapshots of their own (the base would be stale and
 * the current state is in deltas that cannot be read in place),
 * independent disks (snapshots do not cover them), RDMs, non-flat disks.
 */
struct vsphere_cycle;
struct vsphere_cycle_opts {
  bool quiesce;               /* quiesced snapshots */
  bool track;                 /* replication: CBT is wanted (warn if off) */
  bool enable_cbt;            /* turn CBT on when it is off */
  bool guard;                 /* a process removes the snapshot if
                               * azprep dies (check, inspect) */
};
struct vsphere_cycle *vsphere_cycle_begin (char *const *uris, size_t n,
                                           const struct vsphere_cycle_opts *o);
/* Disk i's changeId in the cycle's snapshot, or NULL (CBT off). */
const char *vsphere_cycle_change_id (const struct vsphere_cycle *c, size_t i);
/* The areas of disk i that changed since changeId since ("*": the
 * allocated areas), into out.  0; 1 CBT cannot tell (off, no changeId
 * recorded, the changeId rejected: warned, out empty): compare the whole
 * disk; -1 error. */
int vsphere_cycle_changed (struct vsphere_cycle *c, size_t i,
                           const char *since, struct rangelist *out);
size_t vsphere_cycle_ndisks (const struct vsphere_cycle *c);
/* "nbd+unix:///?socket=..." of disk i, and its size in bytes. */
const char *vsphere_cycle_nbd_uri (const struct vsphere_cycle *c, size_t i);
const char *vsphere_cycle_socket (const struct vsphere_cycle *c, size_t i);
int64_t vsphere_cycle_disk_size (const struct vsphere_cycle *c, size_t i);
const char *vsphere_cycle_snapshot_name (const struct vsphere_cycle *c);
/* Stop the bridges, remove the snapshot, log out, free.  0 or -1 (the
 * snapshot could not be removed: reported; the next cycle retries). */
int vsphere_cycle_end (struct vsphere_cycle *c);

/* replicate/vsphere/replicate.c registers vsphere:// disks with the
 * replication engine as a source hook (REPLICATE_SOURCE): one cycle,
 * one snapshot, for all the job's disks.
 */

/* For migrate's final cycle: a VM that vCenter reports powered on is
 * refused (its later writes would be lost), whether or not
 * --source-shutdown (source_shutdown) claims otherwise.  0 or -1
 * (reported).  The _uri form logs in and looks the VM up. */
int vsphere_check_final_cycle (const struct vsphere_vm *vm,
                               bool source_shutdown);
int vsphere_check_final_cycle_uri (const char *uri, bool source_shutdown);

#endif /* AZPREP_VSPHERE_H */
