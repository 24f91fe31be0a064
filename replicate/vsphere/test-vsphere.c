/* Unit tests for the pure vSphere parts: escaping, envelopes, safe
 * parsing, faults, inventory parsing, datastore URLs, vsphere:// URIs.
 * Fixed responses in tests/data/vsphere/ (vcsim-inventory.xml is a
 * real govmomi simulator answer; the others are written from the vim25
 * schema).
 */
#include <string.h>
#include <sys/stat.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "prep/common/xml.h"
#include "replicate/vsphere/vsphere.h"

static char *
slurp (const char *name, size_t *len)
{
  CLEANUP_FREE char *path = xasprintf ("tests/data/vsphere/%s", name);
  FILE *fp = fopen (path, "r");
  char *buf;
  struct stat st;

  if (!fp || fstat (fileno (fp), &st) == -1) {
    fprintf (stderr, "%s: cannot open (run from the top of the tree)\n",
             path);
    exit (1);
  }
  buf = malloc (st.st_size + 1);
  *len = fread (buf, 1, st.st_size, fp);
  buf[*len] = '\0';
  fclose (fp);
  return buf;
}

static xmlDocPtr
load (const char *name)
{
  size_t len;
  CLEANUP_FREE char *buf = slurp (name, &len);
  return vsphere_parse_xml (buf, len, name);
}

static void
test_escape (void)
{
  CLEANUP_FREE char *e = vsphere_xml_escape ("a<b>&\"c'");
  CLEANUP_FREE char *env = NULL;
  CLEANUP_XMLDOC xmlDoc *doc = NULL;
  xmlNodePtr body;
  struct vsphere_fault f;
  CLEANUP_FREE char *pw = NULL, *login = NULL;

  CHECK_STR (e, "a&lt;b&gt;&amp;&quot;c&apos;");
  /* A password full of XML survives a round trip unchanged. */
  pw = vsphere_xml_escape ("p&<w>]]>\"'");
  login = xasprintf ("<Login xmlns=\"urn:vim25\"><password>%s</password>"
                     "</Login>", pw);
  env = vsphere_envelope (login);
  doc = vsphere_parse_xml (env, strlen (env), "envelope");
  CHECK (doc != NULL);
  body = doc ? vsphere_body (doc, &f) : NULL;
  CHECK (body && !strcmp ((const char *) body->name, "Login"));
  if (body) {
    CLEANUP_FREE char *p = vsphere_child_text (body, "password");
    CHECK_STR (p, "p&<w>]]>\"'");
  }
}

static void
test_unsafe_xml (void)
{
  size_t len;
  CLEANUP_FREE char *buf = slurp ("entity.xml", &len);

  /* A DTD (entities, external entities) is refused outright. */
  CHECK (vsphere_parse_xml (buf, len, "entity.xml") == NULL);
  CHECK (vsphere_parse_xml ("<a>", 3, "truncated") == NULL);
  CHECK (vsphere_parse_xml ("x", VSPHERE_MAX_RESPONSE + 1, "huge") == NULL);
}

static void
check_fault (const char *file, const char *type, const char *detail,
             const char *in_message)
{
  CLEANUP_XMLDOC xmlDoc *doc = load (file);
  struct vsphere_fault f;
  CLEANUP_FREE char *msg = NULL;

  CHECK (doc != NULL);
  if (!doc)
    return;
  CHECK (vsphere_body (doc, &f) == NULL);
  CHECK_STR (f.type, type);
  if (detail)
    CHECK_STR (f.detail, detail);
  msg = vsphere_fault_message (&f, "vc.example.com");
  CHECK (msg && strstr (msg, in_message));
  CHECK (msg && !strncmp (msg, "vc.example.com: ", 16));
  vsphere_fault_clear (&f);
}

static void
test_faults (void)
{
  CLEANUP_XMLDOC xmlDoc *doc = NULL;
  xmlNodePtr objects, p;
  struct vsphere_fault f = { 0 };
  CLEANUP_FREE char *msg = NULL;

  check_fault ("fault-invalid-login.xml", "InvalidLogin", NULL,
               "wrong user name or password");
  check_fault ("fault-no-permission.xml", "NoPermission",
               "VirtualMachine.State.CreateSnapshot",
               "privilege VirtualMachine.State.CreateSnapshot");
  check_fault ("fault-not-found.xml", "ManagedObjectNotFound", "vm-99",
               "no longer exists");

  /* A task's error (LocalizedMethodFault): busy. */
  doc = load ("task-busy.xml");
  CHECK (doc != NULL);
  if (!doc)
    return;
  objects = vsphere_child (vsphere_child (vsphere_body (doc, &f),
                                          "returnval"), "objects");
  for (p = objects ? objects->children : NULL; p; p = p->next) {
    CLEANUP_FREE char *name = vsphere_child_text (p, "name");
    if (name && !strcmp (name, "info.error"))
      vsphere_fault_from_node (vsphere_child (p, "val"), &f);
  }
  CHECK_STR (f.type, "TaskInProgress");
  msg = vsphere_fault_message (&f, "web: create snapshot");
  CHECK (msg && strstr (msg, "busy"));
  vsphere_fault_clear (&f);
}

static void
test_paths (void)
{
  CLEANUP_FREE char *ds = NULL, *path = NULL, *flat = NULL, *url = NULL;
  CLEANUP_FREE char *flat2 = NULL;

  CHECK (vsphere_split_ds_path ("[ds 1] web vm/web.vmdk", &ds, &path) == 0);
  CHECK_STR (ds, "ds 1");
  CHECK_STR (path, "web vm/web.vmdk");
  flat = vsphere_flat_name (path);
  CHECK_STR (flat, "web vm/web-flat.vmdk");
  flat2 = vsphere_flat_name ("a/b-flat.vmdk");
  CHECK_STR (flat2, "a/b-flat.vmdk");
  CHECK (vsphere_flat_name ("a/b.img") == NULL);
  url = vsphere_datastore_url ("https://vc:443", "Europe & Asia/Paris DC",
                               ds, flat);
  CHECK_STR (url, "https://vc:443/folder/web%20vm/web-flat.vmdk"
             "?dcPath=Europe%20%26%20Asia/Paris%20DC&dsName=ds%201");
  {
    char *a = NULL, *b = NULL;
    CHECK (vsphere_split_ds_path ("no brackets", &a, &b) == -1);
    CHECK (vsphere_split_ds_path ("[] x.vmdk", &a, &b) == -1);
  }
}

/* The inventory in the fixed RetrieveProperties answer file, resolved,
 * with its continuation token in *token.  NULL (a failure) if the file
 * does not parse. */
static struct vsphere_inventory *
load_inventory (const char *file, char **token)
{
  CLEANUP_XMLDOC xmlDoc *doc = load (file);
  struct vsphere_inventory *inv;
  struct vsphere_fault f;

  CHECK (doc != NULL);
  if (!doc)
    return NULL;
  inv = vsphere_inventory_new ();
  CHECK (vsphere_inventory_add (inv, vsphere_child (vsphere_body (doc, &f),
                                                    "returnval"),
                                token) == 0);
  vsphere_inventory_resolve (inv);
  return inv;
}

static void
test_inventory_vcsim (void)
{
  char *token = (char *) "x";
  struct vsphere_inventory *inv = load_inventory ("vcsim-inventory.xml",
                                                  &token);
  const struct vsphere_vm *vm;

  if (!inv)
    return;
  CHECK (token == NULL);
  CHECK (inv->nvms == 4);
  vm = vsphere_find_vm (inv, NULL, "DC0_H0_VM0", "vcsim");
  CHECK (vm != NULL);
  if (vm) {
    CHECK_STR (vm->instance_uuid, "b4689bed-97f0-5bcd-8a4c-07477cc8f06f");
    CHECK_STR (vm->power_state, "poweredOn");
    CHECK_STR (vm->firmware, "bios");
    CHECK_STR (vm->datacenter, "DC0");
    CHECK_STR (vm->host, "DC0_H0");
    CHECK (vm->cpus == 1 && vm->memory_mb == 32);
    CHECK (vm->ndisks == 1 && vm->nnics == 1 && vm->nsnapshots == 0);
    if (vm->ndisks == 1) {
      CHECK_STR (vm->disks[0].base_file, "[LocalDS_0] DC0_H0_VM0/disk1.vmdk");
      CHECK_STR (vm->disks[0].controller, "pvscsi");
      CHECK_STR (vm->disks[0].backing, "flat");
      CHECK (vm->disks[0].thin);
      CHECK (vm->disks[0].capacity == 1024 * 1024);
      CHECK (vsphere_disk_readable (inv, vm, 0) == 0);
    }
    if (vm->nnics == 1) {
      CHECK_STR (vm->nics[0].network, "DC0_DVPG0");
      CHECK_STR (vm->nics[0].mac, "00:0c:29:36:63:62");
    }
  }
  CHECK (vsphere_find_vm (inv, "DC1", "DC0_H0_VM0", "vcsim") == NULL);
  CHECK (vsphere_find_vm (inv, NULL, "nope", "vcsim") == NULL);
  CHECK (inv->ndatastores == 1 && inv->datastores[0].accessible);
  vsphere_inventory_free (inv);
}

static void
test_inventory_edge (void)
{
  CLEANUP_FREE char *token = NULL;
  struct vsphere_inventory *inv = load_inventory ("inventory-edge.xml",
                                                  &token);
  const struct vsphere_vm *vm;

  if (!inv)
    return;
  CHECK_STR (token, "page-2");
  vm = vsphere_find_vm (inv, "Europe & Asia/Paris DC", "web <01>", "vc");
  CHECK (vm != NULL);
  if (!vm)
    goto out;
  CHECK_STR (vm->firmware, "efi");
  CHECK_STR (vm->host, "esx1.example.com");
  CHECK (vm->cbt);
  CHECK (vm->cpus == 4 && vm->memory_mb == 8192);
  CHECK (vm->nsnapshots == 2);
  if (vm->nsnapshots == 2) {
    CHECK_STR (vm->snapshots[0].name, "before upgrade");
    CHECK_STR (vm->snapshots[1].name, "azprep-cycle-1");
    CHECK_STR (vm->snapshots[1].ref, "snapshot-31");
    CHECK (vm->snapshots[1].quiesced);
  }
  CHECK (vm->ndisks == 4);
  if (vm->ndisks == 4) {
    /* A snapshot chain: the base is at the bottom. */
    CHECK_STR (vm->disks[0].file, "[ds 1] web/web-000002.vmdk");
    CHECK_STR (vm->disks[0].base_file, "[ds 1] web/web.vmdk");
    CHECK_STR (vm->disks[0].datastore, "ds 1");
    CHECK_STR (vm->disks[0].controller, "lsilogic-sas");
    CHECK_STR (vm->disks[0].change_id, "52 aa bb/12");
    CHECK (vm->disks[0].thin);
    CHECK (vm->disks[0].capacity == 17179869184LL);
    CHECK (vsphere_disk_readable (inv, vm, 0) == 0);
    CHECK_STR (vm->disks[1].backing, "rdm");
    CHECK (vsphere_disk_readable (inv, vm, 1) == -1);
    CHECK_STR (vm->disks[2].controller, "sata");
    CHECK_STR (vm->disks[2].mode, "independent_nonpersistent");
    CHECK (vsphere_disk_readable (inv, vm, 2) == -1);   /* inaccessible */
    CHECK_STR (vm->disks[3].datastore, "vsanDatastore");
    CHECK (vsphere_disk_readable (inv, vm, 3) == -1);   /* vSAN */
  }
  CHECK (vm->nnics == 1);
  if (vm->nnics == 1) {
    CHECK_STR (vm->nics[0].type, "vmxnet3");
    CHECK_STR (vm->nics[0].network, "VM Network");
  }
  {
    const struct vsphere_datastore *ds =
      vsphere_inventory_datastore (inv, "Europe & Asia/Paris DC", "ds 1");
    CHECK (ds && ds->free == 549755813888LL && !strcmp (ds->type, "VMFS"));
  }
 out:
  vsphere_inventory_free (inv);
}

static void
test_uris (void)
{
  struct vsphere_uri u;

  CHECK (vsphere_uri_p ("vsphere://vc/vm/0"));
  CHECK (!vsphere_uri_p ("/tmp/vsphere://x"));
  CHECK (vsphere_uri_parse ("vsphere://vc.example.com/web/0", &u) == 0);
  CHECK_STR (u.host, "vc.example.com");
  CHECK (u.dcpath == NULL);
  CHECK_STR (u.vm, "web");
  CHECK (u.disk == 0 && !u.http && !u.insecure);
  vsphere_uri_free (&u);

  CHECK (vsphere_uri_parse ("vsphere://vc:8443/Europe%20%26%20Asia/Paris%20DC"
                            "/web%20%3C01%3E/2?cacert=/etc/ca%20x.pem"
                            "&insecure=0&http=1", &u) == 0);
  CHECK_STR (u.host, "vc:8443");
  CHECK_STR (u.dcpath, "Europe & Asia/Paris DC");
  CHECK_STR (u.vm, "web <01>");
  CHECK (u.disk == 2 && u.http && !u.insecure);
  CHECK_STR (u.cacert, "/etc/ca x.pem");
  vsphere_uri_free (&u);

  CHECK (vsphere_uri_parse ("vsphere://vc/DC0/[ds 1] web/web.vmdk", &u) == 0);
  CHECK_STR (u.dcpath, "DC0");
  CHECK_STR (u.ds, "ds 1");
  CHECK_STR (u.ds_path, "web/web.vmdk");
  CHECK (u.vm == NULL);
  vsphere_uri_free (&u);

  CHECK (vsphere_uri_parse ("vsphere://user:pw@vc/web/0", &u) == -1);
  CHECK (vsphere_uri_parse ("vsphere://vc/web", &u) == -1);
  CHECK (vsphere_uri_parse ("vsphere://vc/web/x", &u) == -1);
  CHECK (vsphere_uri_parse ("vsphere://vc/web/-1", &u) == -1);
  CHECK (vsphere_uri_parse ("vsphere://vc//web/0", &u) == -1);
  CHECK (vsphere_uri_parse ("vsphere://vc/w%zz/0", &u) == -1);
  CHECK (vsphere_uri_parse ("vsphere://vc/w%00/0", &u) == -1);
  CHECK (vsphere_uri_parse ("vsphere://vc/web/0?bogus=1", &u) == -1);
  CHECK (vsphere_uri_parse ("vsphere://vc/web/0?quiesce=1", &u) == 0);
  CHECK (u.quiesce);
  vsphere_uri_free (&u);
  CHECK (vsphere_uri_parse ("vsphere://vc/[ds] x.vmdk", &u) == -1);
}

/* One DiskChangeInfo reply (the vim25 schema's shape, namespaced as
 * vCenter sends it) parsed as asked from start on a disk of cap bytes. */
static int
changed (const char *info, int64_t start, int64_t cap, struct rangelist *l,
         int64_t *next)
{
  CLEANUP_FREE char *body = xasprintf (
    "<QueryChangedDiskAreasResponse xmlns=\"urn:vim25\">"
    "<returnval>%s</returnval></QueryChangedDiskAreasResponse>", info);
  CLEANUP_FREE char *env = vsphere_envelope (body);
  CLEANUP_XMLDOC xmlDoc *doc = vsphere_parse_xml (env, strlen (env), "qcda");
  struct vsphere_fault f;
  xmlNodePtr rv = doc ? vsphere_body (doc, &f) : NULL;

  CHECK (rv != NULL);
  return vsphere_changed_areas_parse (vsphere_child (rv, "returnval"), start,
                                      cap, "disk", l, next);
}

#define AREA(s, l) "<changedArea><start>" #s "</start><length>" #l \
  "</length></changedArea>"

static void
test_changed_areas (void)
{
  const int64_t G = 1LL << 30, cap = 3 * G + 65536;
  struct rangelist l = { 0 };
  int64_t next = -1;
  CLEANUP_FREE char *b = NULL;

  /* Paging: three windows (the host covers less than asked), areas
   * merged across them; the tail past the last whole GiB is not lost. */
  CHECK (changed ("<startOffset>0</startOffset><length>1073741824</length>"
                  AREA (0, 65536) AREA (1048576, 131072)
                  AREA (1073676288, 65536), 0, cap, &l, &next) == 0);
  CHECK (next == G && l.n == 3);
  CHECK (changed ("<startOffset>1073741824</startOffset>"
                  "<length>2147483648</length>"
                  AREA (1073741824, 65536), G, cap, &l, &next) == 0);
  CHECK (next == 3 * G);
  CHECK (changed ("<startOffset>3221225472</startOffset><length>65536"
                  "</length>" AREA (3221225472, 65536), 3 * G, cap, &l,
                  &next) == 0);
  CHECK (next == cap);
  rangelist_normalize (&l);
  CHECK (l.n == 4 && l.r[2].start == G - 65536 && l.r[2].end == G + 65536);
  CHECK (rangelist_bytes (&l) == 5 * 65536 + 65536);
  rangelist_free (&l);
  /* An empty window: nothing changed there. */
  CHECK (changed ("<startOffset>0</startOffset><length>3221291008</length>",
                  0, cap, &l, &next) == 0 && l.n == 0 && next == cap);

  /* Hostile or broken replies are refused. */
  CHECK (changed ("<startOffset>65536</startOffset><length>65536</length>",
                  0, cap, &l, &next) == -1);          /* not where asked */
  CHECK (changed ("<startOffset>0</startOffset><length>0</length>",
                  0, cap, &l, &next) == -1);          /* no progress */
  CHECK (changed ("<startOffset>0</startOffset><length>3221291009</length>",
                  0, cap, &l, &next) == -1);          /* past the disk */
  CHECK (changed ("<startOffset>0</startOffset><length>65536</length>"
                  AREA (0, 131072), 0, cap, &l, &next) == -1);
  CHECK (changed ("<startOffset>0</startOffset><length>1048576</length>"
                  AREA (65536, 65536) AREA (0, 65536), 0, cap, &l,
                  &next) == -1);                      /* out of order */
  CHECK (changed ("<startOffset>0</startOffset><length>1048576</length>"
                  AREA (0, 131072) AREA (65536, 65536), 0, cap, &l,
                  &next) == -1);                      /* overlapping */
  CHECK (changed ("<startOffset>0</startOffset><length>1048576</length>"
                  AREA (-1, 65536), 0, cap, &l, &next) == -1);
  CHECK (changed ("<startOffset>0</startOffset><length>1048576</length>"
                  AREA (0, 0), 0, cap, &l, &next) == -1);
  CHECK (changed ("<startOffset>0</startOffset><length>1048576</length>"
                  AREA (0, 9223372036854775807), 0, cap, &l, &next) == -1);
  CHECK (changed ("<startOffset>0</startOffset><length>1048576</length>"
                  "<changedArea><start>x</start><length>1</length>"
                  "</changedArea>", 0, cap, &l, &next) == -1);
  CHECK (changed ("<length>1048576</length>", 0, cap, &l, &next) == -1);
  rangelist_free (&l);

  /* The request: every value escaped, the changeId as given. */
  b = vsphere_changed_areas_body ("vm-<1>", "snapshot-2", 2000, 1073741824,
                                  "52 de ad/7&");
  CHECK (strstr (b, "<_this type=\"VirtualMachine\">vm-&lt;1&gt;</_this>"));
  CHECK (strstr (b, "<snapshot type=\"VirtualMachineSnapshot\">snapshot-2"
                 "</snapshot>"));
  CHECK (strstr (b, "<deviceKey>2000</deviceKey>"
                 "<startOffset>1073741824</startOffset>"
                 "<changeId>52 de ad/7&amp;</changeId>"));
}

int
main (void)
{
  test_changed_areas ();
  test_escape ();
  test_unsafe_xml ();
  test_faults ();
  test_paths ();
  test_inventory_vcsim ();
  test_inventory_edge ();
  test_uris ();
  return UNIT_RESULT ("test-vsphere");
}
