/* OVF descriptors and OVA archives (ovftool exports), read with
 * prep/common/xml.h's safe parse: no network, no entity substitution,
 * no DTD loading, any DOCTYPE refused (that is where entity bombs
 * live), at most DESC_MAX_SIZE bytes.
 *
 * What check needs: the disks in the order of the hardware section's
 * disk items (HostResource ovf:/disk/ID -> Disk fileRef -> File href),
 * their capacity, the firmware (vmw:Config firmware=efi), Secure Boot
 * and vTPM, CPUs, memory, NICs, the guest OS id.
 *
 * An OVA is a tar: its .ovf member is read, and the disks it refers to
 * are read in place (prep/check/desc/ova.c).
 */
#include <ctype.h>
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/xml.h"
#include "prep/check/desc/desc.h"

#define IS(n, nm) ((n)->type == XML_ELEMENT_NODE && \
                   !strcmp ((const char *) (n)->name, (nm)))

/* At most this many VMs in one descriptor, collections this deep. */
#define OVF_MAX_VMS 1000
#define OVF_MAX_DEPTH 8

/* An attribute by local name, in any namespace (ovf:, vmw:, none). */
static char *
attr (xmlNode *n, const char *name)
{
  for (xmlAttr *a = n->properties; a; a = a->next)
    if (!strcmp ((const char *) a->name, name)) {
      CLEANUP_XMLFREE xmlChar *v =
        xmlNodeListGetString (n->doc, a->children, 1);
      return v ? xstrdup ((const char *) v) : NULL;
    }
  return NULL;
}

/* Is n the OVF element name: <name> (OVF 1.x, any prefix), or OVF
 * 0.9's <Section> or <Content> with xsi:type="PREFIX:name_Type"? */
static bool
is_elem (xmlNode *n, const char *name)
{
  CLEANUP_FREE char *type = NULL;
  const char *t;
  size_t l = strlen (name);

  if (n->type != XML_ELEMENT_NODE)
    return false;
  if (!strcmp ((const char *) n->name, name))
    return true;
  if (!IS (n, "Section") && !IS (n, "Content"))
    return false;
  type = attr (n, "type");
  if (!type)
    return false;
  t = strchr (type, ':') ? strchr (type, ':') + 1 : type;
  return !strncmp (t, name, l) && !strcmp (t + l, "_Type");
}

static xmlNode *
child (xmlNode *n, const char *name)
{
  for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (is_elem (c, name))
      return c;
  return NULL;
}

static char *
child_text (xmlNode *n, const char *name)
{
  xmlNode *c = child (n, name);
  CLEANUP_XMLFREE xmlChar *v = c ? xmlNodeGetContent (c) : NULL;
  char *s, *e;

  if (!c)
    return NULL;
  s = v ? xstrdup ((const char *) v) : NULL;
  if (!s)
    return NULL;
  for (e = s + strlen (s); e > s && isspace ((unsigned char) e[-1]); e--)
    ;
  *e = '\0';
  return s;
}

/* "byte * 2^30" and friends: the multiplier, or -1. */
static int64_t
units (const char *u)
{
  int p;
  if (!u || !*u || !strcasecmp (u, "byte") || !strcasecmp (u, "bytes"))
    return 1;
  if (sscanf (u, "byte * 2^%d", &p) == 1 && p >= 0 && p <= 60)
    return (int64_t) 1 << p;
  if (!strcasecmp (u, "KB") || !strcasecmp (u, "KiloBytes")) return 1024;
  if (!strcasecmp (u, "MB") || !strcasecmp (u, "MegaBytes")) return 1 << 20;
  if (!strcasecmp (u, "GB") || !strcasecmp (u, "GigaBytes")) return 1 << 30;
  return -1;
}

static int64_t
quantity (const char *path, const char *what, const char *v, const char *u)
{
  int64_t q, m = units (u);
  if (!v || parse_int64 (v, &q) == -1 || q < 0 || m < 0 ||
      (q > 0 && m > INT64_MAX / q)) {
    azp_error ("%s: %s: bad quantity \"%s\" (%s)", path, what, v ? v : "",
               u ? u : "bytes");
    return -1;
  }
  return q * m;
}

struct ovf_file { char *id, *href; bool compressed; };
struct ovf_disk { char *id, *file_ref; int64_t capacity; };

/* One descriptor being read: its File and Disk tables, and the VM. */
struct ovf {
  const char *path, *dir;
  struct ovf_file *files;
  struct ovf_disk *disks;
  size_t nfiles, ndisks;
  struct vm_desc *d;
  char ***hrefs_out;
};

static void
ovf_free_tables (struct ovf *o)
{
  for (size_t i = 0; i < o->nfiles; i++) {
    free (o->files[i].id); free (o->files[i].href);
  }
  for (size_t i = 0; i < o->ndisks; i++) {
    free (o->disks[i].id); free (o->disks[i].file_ref);
  }
  free (o->files);
  free (o->disks);
}

/* References/File: id, href, compression. */
static int
read_references (struct ovf *o, xmlNode *root)
{
  xmlNode *refs = child (root, "References");

  for (xmlNode *c = refs ? refs->children : NULL; c; c = c->next) {
    struct ovf_file *nf, *f;
    CLEANUP_FREE char *comp = NULL;
    if (!IS (c, "File"))
      continue;
    nf = realloc (o->files, (o->nfiles + 1) * sizeof *nf);
    if (!nf) {
      azp_error ("out of memory");
      return -1;
    }
    o->files = nf;
    f = &o->files[o->nfiles++];
    f->id = attr (c, "id");
    f->href = attr (c, "href");
    comp = attr (c, "compression");
    f->compressed = comp && *comp && strcmp (comp, "identity");
    if (!f->id || !f->href) {
      azp_error ("%s: a References/File without id or href", o->path);
      return -1;
    }
  }
  return 0;
}

/* DiskSection/Disk: diskId, fileRef, capacity. */
static int
read_disk_section (struct ovf *o, xmlNode *root)
{
  xmlNode *dsec = child (root, "DiskSection");

  for (xmlNode *c = dsec ? dsec->children : NULL; c; c = c->next) {
    struct ovf_disk *nd, *dk;
    CLEANUP_FREE char *cap = NULL, *cu = NULL;
    if (!IS (c, "Disk"))
      continue;
    nd = realloc (o->disks, (o->ndisks + 1) * sizeof *nd);
    if (!nd) {
      azp_error ("out of memory");
      return -1;
    }
    o->disks = nd;
    dk = &o->disks[o->ndisks++];
    dk->id = attr (c, "diskId");
    dk->file_ref = attr (c, "fileRef");
    cap = attr (c, "capacity");
    cu = attr (c, "capacityAllocationUnits");
    if (!dk->id) {
      azp_error ("%s: a DiskSection/Disk without diskId", o->path);
      return -1;
    }
    dk->capacity = cap ? quantity (o->path, "Disk capacity", cap, cu) : -1;
    if (cap && dk->capacity < 0)
      return -1;
  }
  return 0;
}

/* vmw:Config and vmw:ExtraConfig key/value pairs. */
static void
read_config (struct vm_desc *d, xmlNode *c)
{
  CLEANUP_FREE char *k = attr (c, "key"), *v = attr (c, "value");

  if (!k || !v)
    return;
  if (!strcmp (k, "firmware"))
    d->firmware = !strcasecmp (v, "efi") ? FIRMWARE_UEFI : FIRMWARE_BIOS;
  else if (!strcmp (k, "uefi.secureBoot.enabled") ||
           !strcmp (k, "bootOptions.efiSecureBootEnabled"))
    d->secure_boot = !strcasecmp (v, "true");
  else if (!strcmp (k, "vtpm.present"))
    d->vtpm = !strcasecmp (v, "true");
}

/* The File a disk item's HostResource (ovf:/disk/ID) leads to, checked
 * for use; NULL (reported) if there is none or it cannot be used. */
static const struct ovf_file *
disk_item_file (const struct ovf *o, const char *hr,
                const struct ovf_disk **dk_out)
{
  const struct ovf_disk *dk = NULL;
  const struct ovf_file *f = NULL;
  const char *id = strrchr (hr, '/') ? strrchr (hr, '/') + 1 : hr;

  for (size_t i = 0; i < o->ndisks; i++)
    if (!strcmp (o->disks[i].id, id))
      dk = &o->disks[i];
  if (!dk) {
    azp_error ("%s: the disk item %s refers to disk \"%s\", which is not "
               "in the DiskSection", o->path, hr, id);
    return NULL;
  }
  for (size_t i = 0; dk->file_ref && i < o->nfiles; i++)
    if (!strcmp (o->files[i].id, dk->file_ref))
      f = &o->files[i];
  if (!f) {
    azp_error ("%s: disk \"%s\" refers to file \"%s\", which is not in "
               "References", o->path, dk->id,
               dk->file_ref ? dk->file_ref : "(none)");
    return NULL;
  }
  if (!desc_safe_relative (f->href)) {
    azp_error ("%s: file \"%s\" has an unsafe href \"%s\" (absolute, "
               "\"..\" or a URL): refused", o->path, f->id, f->href);
    return NULL;
  }
  if (strstr (f->href, "://")) {
    azp_error ("%s: file \"%s\" is a URL (%s): download it first", o->path,
               f->id, f->href);
    return NULL;
  }
  if (f->compressed) {
    azp_error ("%s: file \"%s\" is compressed: not supported, export "
               "without compression", o->path, f->href);
    return NULL;
  }
  *dk_out = dk;
  return f;
}

/* A disk item: the disk joins d, its href joins *hrefs_out (an OVA's
 * members to serve). */
static int
add_disk_item (struct ovf *o, const char *hr)
{
  const struct ovf_disk *dk = NULL;
  const struct ovf_file *f;

  if (!hr) {
    azp_error ("%s: a disk item without HostResource", o->path);
    return -1;
  }
  f = disk_item_file (o, hr, &dk);
  if (!f || desc_add_disk (o->d, o->dir, f->href, dk->capacity) == -1)
    return -1;
  if (o->hrefs_out) {
    size_t n = count_strings (*o->hrefs_out);
    char **nh = realloc (*o->hrefs_out, (n + 2) * sizeof *nh);
    if (!nh) {
      azp_error ("out of memory");
      return -1;
    }
    nh[n] = xstrdup (f->href);
    nh[n + 1] = NULL;
    *o->hrefs_out = nh;
  }
  return 0;
}

/* A hardware item (rasd:ResourceType): CPUs, memory, a NIC, a vTPM or
 * a disk.  Items of other types are skipped. */
static int
read_item (struct ovf *o, xmlNode *c)
{
  struct vm_desc *d = o->d;
  CLEANUP_FREE char *rt = child_text (c, "ResourceType");
  CLEANUP_FREE char *sub = child_text (c, "ResourceSubType");
  CLEANUP_FREE char *q = child_text (c, "VirtualQuantity");
  CLEANUP_FREE char *u = child_text (c, "AllocationUnits");
  CLEANUP_FREE char *hr = child_text (c, "HostResource");
  int64_t type;

  if (!rt || parse_int64 (rt, &type) == -1)
    return 0;
  if (type == 3) {                            /* processors */
    int64_t n = quantity (o->path, "CPU VirtualQuantity", q, NULL);
    if (n < 1 || n > 4096) {
      azp_error ("%s: bad CPU count \"%s\"", o->path, q ? q : "");
      return -1;
    }
    d->cpus = n;
  }
  else if (type == 4) {                       /* memory */
    int64_t b = quantity (o->path, "memory VirtualQuantity", q,
                          u ? u : "byte * 2^20");
    if (b < 0)
      return -1;
    d->memory_mib = b >> 20;
  }
  else if (type == 10)                        /* ethernet */
    d->nics++;
  else if (type == 1 && sub && strcasestr (sub, "vtpm"))
    d->vtpm = true;
  else if (type == 17 || type == 31)          /* disk */
    return add_disk_item (o, hr);
  return 0;
}

/* The VirtualSystem: name, guest OS, then the hardware section. */
static int
read_virtual_system (struct ovf *o, xmlNode *vs)
{
  struct vm_desc *d = o->d;
  xmlNode *os = child (vs, "OperatingSystemSection");
  xmlNode *hw = child (vs, "VirtualHardwareSection");

  d->name = child_text (vs, "Name");
  if (!d->name)
    d->name = attr (vs, "id");
  if (os) {
    d->guest_os = attr (os, "osType");
    if (!d->guest_os)
      d->guest_os = child_text (os, "Description");
  }
  d->firmware = FIRMWARE_BIOS;
  /* No hardware section, or no disk in it: check reports the VM
   * without disks (no-disks), as it does a VM whose disks are gone. */
  for (xmlNode *c = hw ? hw->children : NULL; c; c = c->next) {
    if (IS (c, "Config") || IS (c, "ExtraConfig"))
      read_config (d, c);
    else if ((IS (c, "Item") || IS (c, "StorageItem") ||
              IS (c, "EthernetPortItem")) && read_item (o, c) == -1)
      return -1;
  }
  return 0;
}

/* The VirtualSystems under n, in document order, through nested
 * VirtualSystemCollections (a vApp). */
static int
collect_systems (const char *path, xmlNode *n, int depth, xmlNode **vs,
                 size_t *nvs)
{
  if (depth > OVF_MAX_DEPTH) {
    azp_error ("%s: VirtualSystemCollections nested more than %d deep",
               path, OVF_MAX_DEPTH);
    return -1;
  }
  for (xmlNode *c = n->children; c; c = c->next) {
    if (is_elem (c, "VirtualSystem")) {
      if (*nvs == OVF_MAX_VMS) {
        azp_error ("%s: more than %d VMs", path, OVF_MAX_VMS);
        return -1;
      }
      vs[(*nvs)++] = c;
    }
    else if (is_elem (c, "VirtualSystemCollection") &&
             collect_systems (path, c, depth + 1, vs, nvs) == -1)
      return -1;
  }
  return 0;
}

/* A VirtualSystem's id: ovf:id, else "#N" (its place, from 1). */
static char *
system_id (xmlNode *vs, size_t i)
{
  char *id = attr (vs, "id");

  if (id && *id)
    return id;
  free (id);
  return xasprintf ("#%zu", i + 1);
}

/* The Envelope's VirtualSystems (*vs, allocated), at least one. */
static int
virtual_systems (const char *path, xmlNode *root, xmlNode ***vs,
                 size_t *nvs)
{
  if (!root || !IS (root, "Envelope")) {
    azp_error ("%s: not an OVF descriptor (the root element is not Envelope)",
               path);
    return -1;
  }
  *nvs = 0;
  *vs = calloc (OVF_MAX_VMS, sizeof **vs);
  if (!*vs) {
    azp_error ("out of memory");
    return -1;
  }
  if (collect_systems (path, root, 0, *vs, nvs) == -1)
    return -1;
  if (*nvs == 0) {
    azp_error ("%s: no VirtualSystem element", path);
    return -1;
  }
  return 0;
}

/* The VirtualSystem to check: the one with id vm_id, or the only one. */
static xmlNode *
virtual_system (const char *path, xmlNode *root, const char *vm_id)
{
  CLEANUP_FREE xmlNode **vs = NULL;
  xmlNode *found = NULL;
  size_t n = 0;

  if (virtual_systems (path, root, &vs, &n) == -1)
    return NULL;
  if (!vm_id) {
    if (n == 1)
      return vs[0];
    azp_error ("%s: holds %zu VMs (a vApp): check it whole, or one with "
               "--ovf-vm ID", path, n);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    CLEANUP_FREE char *id = system_id (vs[i], i);
    if (!id || strcmp (id, vm_id))
      continue;
    if (found) {
      azp_error ("%s: two VirtualSystems have the id \"%s\"", path, vm_id);
      return NULL;
    }
    found = vs[i];
  }
  if (!found)
    azp_error ("%s: no VirtualSystem with the id \"%s\"", path, vm_id);
  return found;
}

static xmlDoc *
ovf_parse (const char *path, const char *text, size_t len)
{
  const struct xml_parse_opts xo = {
    .what = path, .max_size = DESC_MAX_SIZE,
    .too_large = "too large for an OVF descriptor",
    .not_xml = "not well-formed XML", .reason = true,
    .has_dtd = "has a DOCTYPE or ENTITY declaration (a DTD, possibly an "
    "entity bomb or external entity): refused, OVF descriptors have none",
  };
  return xml_parse_safe (text, len, &xo);
}

/* Parse an OVF text, for the VM vm_id (NULL: the only one).  The
 * disks are dir/href.  For an OVA, *hrefs_out
 * (if not NULL) gets the hrefs of the disks, in order, to serve from
 * the tar. */
static struct vm_desc *
parse_ovf (const char *path, const char *kind, const char *text,
           size_t len, const char *dir, const char *vm_id,
           char **hrefs_out[])
{
  CLEANUP_XMLDOC xmlDoc *doc = ovf_parse (path, text, len);
  struct ovf o = { .path = path, .dir = dir, .hrefs_out = hrefs_out };
  xmlNode *root, *vs;

  if (!doc)
    return NULL;
  root = xmlDocGetRootElement (doc);
  vs = virtual_system (path, root, vm_id);
  if (vs && read_references (&o, root) == 0 &&
      read_disk_section (&o, root) == 0) {
    o.d = desc_new (kind, path);
    if (o.d && read_virtual_system (&o, vs) == -1) {
      desc_free (o.d);
      o.d = NULL;
    }
  }
  ovf_free_tables (&o);
  return o.d;
}

static bool
is_tar (const char *path)
{
  char magic[6] = "";
  CLEANUP_FCLOSE FILE *fp = fopen (path, "r");
  return fp && fseek (fp, 257, SEEK_SET) == 0 &&
    fread (magic, 1, 5, fp) == 5 && !memcmp (magic, "ustar", 5);
}

/* The descriptor's text (an OVA's .ovf member), the name to report it
 * by (OVA:MEMBER) and the disks' directory (an OVA: the archive). */
static char *
ovf_text (const char *path, size_t *len, char **label, char **dir,
          bool *ova)
{
  char *text;

  *label = *dir = NULL;
  *ova = is_tar (path);
  if (*ova) {
    CLEANUP_FREE char *member = NULL;
    text = ova_read_ovf (path, &member, len);
    if (text) {
      *label = xasprintf ("%s:%s", path, member);
      *dir = xstrdup (path);
    }
  }
  else {
    text = desc_slurp (path, len);
    *label = xstrdup (path);
    *dir = desc_dirname (path);
  }
  if (text && (!*label || !*dir)) {
    free (text);
    text = NULL;
  }
  return text;
}

struct vm_desc *
desc_read_ovf_vm (const char *path, const char *vm_id)
{
  CLEANUP_FREE char *text = NULL, *label = NULL, *dir = NULL;
  CLEANUP_FREE_STRING_LIST char **hrefs = NULL;
  struct vm_desc *d;
  size_t len = 0;
  bool ova;

  text = ovf_text (path, &len, &label, &dir, &ova);
  if (!text)
    return NULL;
  /* An OVA's disks are named OVA/MEMBER in reports. */
  d = parse_ovf (label, ova ? "ova" : "ovf", text, len, dir, vm_id,
                 ova ? &hrefs : NULL);
  if (!d || !ova)
    return d;
  free (d->source);
  d->source = xstrdup (path);
  if (d->ndisks && ova_serve_disks (d, path, hrefs) == -1) {
    desc_free (d);
    return NULL;
  }
  return d;
}

struct vm_desc *
desc_read_ovf (const char *path)
{
  return desc_read_ovf_vm (path, NULL);
}

int
desc_ovf_vms (const char *path, char ***ids, char ***names)
{
  CLEANUP_FREE char *text = NULL, *label = NULL, *dir = NULL;
  CLEANUP_FREE xmlNode **vs = NULL;
  CLEANUP_XMLDOC xmlDoc *doc = NULL;
  size_t len = 0, n = 0;
  bool ova;

  *ids = *names = NULL;
  text = ovf_text (path, &len, &label, &dir, &ova);
  if (!text || !(doc = ovf_parse (label, text, len)) ||
      virtual_systems (label, xmlDocGetRootElement (doc), &vs, &n) == -1)
    return -1;
  *ids = calloc (n + 1, sizeof **ids);
  *names = calloc (n + 1, sizeof **names);
  if (!*ids || !*names) {
    azp_error ("out of memory");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    (*ids)[i] = system_id (vs[i], i);
    (*names)[i] = child_text (vs[i], "Name");
    if (!(*names)[i] || !*(*names)[i]) {
      free ((*names)[i]);
      (*names)[i] = xstrdup ((*ids)[i]);
    }
    if (!(*ids)[i] || !(*names)[i]) {
      azp_error ("out of memory");
      return -1;
    }
  }
  return (int) n;
}
