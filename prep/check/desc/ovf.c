/* OVF descriptors and OVA archives (ovftool exports), read with
 * libxml2 safely: no network (XML_PARSE_NONET), no entity substitution
 * (no XML_PARSE_NOENT), no DTD loading, any DOCTYPE refused (that is
 * where entity bombs live), at most DESC_MAX_SIZE bytes.
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
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "prep/common/common.h"
#include "prep/check/desc/desc.h"

#define IS(n, nm) ((n)->type == XML_ELEMENT_NODE && \
                   !strcmp ((const char *) (n)->name, (nm)))

/* An attribute by local name, in any namespace (ovf:, vmw:, none). */
static char *
attr (xmlNode *n, const char *name)
{
  for (xmlAttr *a = n->properties; a; a = a->next)
    if (!strcmp ((const char *) a->name, name)) {
      xmlChar *v = xmlNodeListGetString (n->doc, a->children, 1);
      char *s = v ? xstrdup ((const char *) v) : NULL;
      xmlFree (v);
      return s;
    }
  return NULL;
}

static xmlNode *
child (xmlNode *n, const char *name)
{
  for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (IS (c, name))
      return c;
  return NULL;
}

static char *
child_text (xmlNode *n, const char *name)
{
  xmlNode *c = child (n, name);
  xmlChar *v;
  char *s, *e;

  if (!c)
    return NULL;
  v = xmlNodeGetContent (c);
  s = v ? xstrdup ((const char *) v) : NULL;
  xmlFree (v);
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

static void
free_tables (struct ovf_file *f, size_t nf, struct ovf_disk *d, size_t nd)
{
  for (size_t i = 0; i < nf; i++) {
    free (f[i].id); free (f[i].href);
  }
  for (size_t i = 0; i < nd; i++) {
    free (d[i].id); free (d[i].file_ref);
  }
  free (f);
  free (d);
}

/* Parse an OVF text.  The disks are dir/href.  For an OVA, members
 * (NULL-terminated) is the tar's member list: each href must be one. */
static struct vm_desc *
parse_ovf (const char *path, const char *kind, const char *text,
           size_t len, const char *dir, char **hrefs_out[])
{
  xmlDoc *doc;
  xmlNode *root, *refs, *dsec, *vs, *hw, *os;
  struct ovf_file *files = NULL;
  struct ovf_disk *disks = NULL;
  size_t nfiles = 0, ndisks = 0;
  struct vm_desc *d = NULL;
  char *s;

  /* Entities live in a DTD: refuse any before libxml2 sees it. */
  if (memmem (text, len, "<!DOCTYPE", 9) || memmem (text, len, "<!ENTITY", 8)) {
    azp_error ("%s: has a DOCTYPE or ENTITY declaration (a DTD, possibly an "
               "entity bomb or external entity): refused, OVF descriptors "
               "have none", path);
    return NULL;
  }
  doc = xmlReadMemory (text, (int) len, path, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR |
                       XML_PARSE_NOWARNING);
  if (!doc) {
    const xmlError *e = xmlGetLastError ();
    CLEANUP_FREE char *why = e && e->message ? first_line (e->message) : NULL;
    azp_error ("%s: not well-formed XML%s%s", path, why ? ": " : "",
               why ? why : "");
    return NULL;
  }
  if (doc->intSubset || doc->extSubset) {
    azp_error ("%s: has a DOCTYPE (a DTD, possibly entity definitions): "
               "refused, OVF descriptors have none", path);
    goto out;
  }
  root = xmlDocGetRootElement (doc);
  if (!root || !IS (root, "Envelope")) {
    azp_error ("%s: not an OVF descriptor (the root element is not Envelope)",
               path);
    goto out;
  }
  if (child (root, "VirtualSystemCollection")) {
    azp_error ("%s: holds several VMs (VirtualSystemCollection): give one "
               "VM per descriptor", path);
    goto out;
  }
  vs = child (root, "VirtualSystem");
  if (!vs) {
    azp_error ("%s: no VirtualSystem element", path);
    goto out;
  }

  refs = child (root, "References");
  for (xmlNode *c = refs ? refs->children : NULL; c; c = c->next) {
    struct ovf_file *nf;
    if (!IS (c, "File"))
      continue;
    nf = realloc (files, (nfiles + 1) * sizeof *nf);
    if (!nf)
      goto oom;
    files = nf;
    files[nfiles].id = attr (c, "id");
    files[nfiles].href = attr (c, "href");
    s = attr (c, "compression");
    files[nfiles].compressed = s && *s && strcmp (s, "identity");
    free (s);
    nfiles++;
    if (!files[nfiles - 1].id || !files[nfiles - 1].href) {
      azp_error ("%s: a References/File without id or href", path);
      goto out;
    }
  }
  dsec = child (root, "DiskSection");
  for (xmlNode *c = dsec ? dsec->children : NULL; c; c = c->next) {
    struct ovf_disk *nd;
    CLEANUP_FREE char *cap = NULL, *cu = NULL;
    if (!IS (c, "Disk"))
      continue;
    nd = realloc (disks, (ndisks + 1) * sizeof *nd);
    if (!nd)
      goto oom;
    disks = nd;
    disks[ndisks].id = attr (c, "diskId");
    disks[ndisks].file_ref = attr (c, "fileRef");
    cap = attr (c, "capacity");
    cu = attr (c, "capacityAllocationUnits");
    ndisks++;
    if (!disks[ndisks - 1].id) {
      azp_error ("%s: a DiskSection/Disk without diskId", path);
      goto out;
    }
    disks[ndisks - 1].capacity = cap ? quantity (path, "Disk capacity",
                                                 cap, cu) : -1;
    if (cap && disks[ndisks - 1].capacity < 0)
      goto out;
  }

  d = desc_new (kind, path);
  if (!d)
    goto out;
  d->name = child_text (vs, "Name");
  if (!d->name)
    d->name = attr (vs, "id");
  os = child (vs, "OperatingSystemSection");
  if (os) {
    d->guest_os = attr (os, "osType");
    if (!d->guest_os)
      d->guest_os = child_text (os, "Description");
  }
  d->firmware = FIRMWARE_BIOS;
  hw = child (vs, "VirtualHardwareSection");
  if (!hw) {
    azp_error ("%s: no VirtualHardwareSection", path);
    goto fail;
  }
  for (xmlNode *c = hw->children; c; c = c->next) {
    if (IS (c, "Config") || IS (c, "ExtraConfig")) {
      CLEANUP_FREE char *k = attr (c, "key"), *v = attr (c, "value");
      if (!k || !v)
        continue;
      if (!strcmp (k, "firmware"))
        d->firmware = !strcasecmp (v, "efi") ? FIRMWARE_UEFI : FIRMWARE_BIOS;
      else if (!strcmp (k, "uefi.secureBoot.enabled") ||
               !strcmp (k, "bootOptions.efiSecureBootEnabled"))
        d->secure_boot = !strcasecmp (v, "true");
      else if (!strcmp (k, "vtpm.present"))
        d->vtpm = !strcasecmp (v, "true");
      continue;
    }
    if (!IS (c, "Item") && !IS (c, "StorageItem") &&
        !IS (c, "EthernetPortItem"))
      continue;
    CLEANUP_FREE char *rt = child_text (c, "ResourceType");
    CLEANUP_FREE char *sub = child_text (c, "ResourceSubType");
    CLEANUP_FREE char *q = child_text (c, "VirtualQuantity");
    CLEANUP_FREE char *u = child_text (c, "AllocationUnits");
    CLEANUP_FREE char *hr = child_text (c, "HostResource");
    int64_t type;
    if (!rt || parse_int64 (rt, &type) == -1)
      continue;
    if (type == 3) {                          /* processors */
      int64_t n = quantity (path, "CPU VirtualQuantity", q, NULL);
      if (n < 1 || n > 4096) {
        azp_error ("%s: bad CPU count \"%s\"", path, q ? q : "");
        goto fail;
      }
      d->cpus = n;
    }
    else if (type == 4) {                     /* memory */
      int64_t b = quantity (path, "memory VirtualQuantity", q,
                            u ? u : "byte * 2^20");
      if (b < 0)
        goto fail;
      d->memory_mib = b >> 20;
    }
    else if (type == 10)                      /* ethernet */
      d->nics++;
    else if (type == 1 && sub && strcasestr (sub, "vtpm"))
      d->vtpm = true;
    else if (type == 17 || type == 31) {      /* disk */
      const struct ovf_disk *dk = NULL;
      const struct ovf_file *f = NULL;
      const char *id;
      if (!hr) {
        azp_error ("%s: a disk item without HostResource", path);
        goto fail;
      }
      id = strrchr (hr, '/') ? strrchr (hr, '/') + 1 : hr;
      for (size_t i = 0; i < ndisks; i++)
        if (!strcmp (disks[i].id, id))
          dk = &disks[i];
      if (!dk) {
        azp_error ("%s: the disk item %s refers to disk \"%s\", which is not "
                   "in the DiskSection", path, hr, id);
        goto fail;
      }
      for (size_t i = 0; dk->file_ref && i < nfiles; i++)
        if (!strcmp (files[i].id, dk->file_ref))
          f = &files[i];
      if (!f) {
        azp_error ("%s: disk \"%s\" refers to file \"%s\", which is not in "
                   "References", path, dk->id,
                   dk->file_ref ? dk->file_ref : "(none)");
        goto fail;
      }
      if (!desc_safe_relative (f->href)) {
        azp_error ("%s: file \"%s\" has an unsafe href \"%s\" (absolute, "
                   "\"..\" or a URL): refused", path, f->id, f->href);
        goto fail;
      }
      if (strstr (f->href, "://")) {
        azp_error ("%s: file \"%s\" is a URL (%s): download it first", path,
                   f->id, f->href);
        goto fail;
      }
      if (f->compressed) {
        azp_error ("%s: file \"%s\" is compressed: not supported, export "
                   "without compression", path, f->href);
        goto fail;
      }
      if (desc_add_disk (d, dir, f->href, dk->capacity) == -1)
        goto fail;
      if (hrefs_out) {
        size_t n = count_strings (*hrefs_out);
        char **nh = realloc (*hrefs_out, (n + 2) * sizeof *nh);
        if (!nh)
          goto oom;
        nh[n] = xstrdup (f->href);
        nh[n + 1] = NULL;
        *hrefs_out = nh;
      }
    }
  }
  if (d->ndisks == 0) {
    azp_error ("%s: the VM has no disks", path);
    goto fail;
  }
  goto out;

 oom:
  azp_error ("out of memory");
 fail:
  desc_free (d);
  d = NULL;
 out:
  free_tables (files, nfiles, disks, ndisks);
  xmlFreeDoc (doc);
  return d;
}

static bool
is_tar (const char *path)
{
  char magic[6] = "";
  CLEANUP_FCLOSE FILE *fp = fopen (path, "r");
  return fp && fseek (fp, 257, SEEK_SET) == 0 &&
    fread (magic, 1, 5, fp) == 5 && !memcmp (magic, "ustar", 5);
}

static struct vm_desc *
read_ova (const char *path)
{
  CLEANUP_FREE char *member = NULL, *text = NULL, *label = NULL;
  CLEANUP_FREE_STRING_LIST char **hrefs = NULL;
  struct vm_desc *d;
  size_t len = 0;

  text = ova_read_ovf (path, &member, &len);
  if (!text)
    return NULL;
  label = xasprintf ("%s:%s", path, member);
  /* The disks are named OVA/MEMBER in reports. */
  d = parse_ovf (label ? label : path, "ova", text, len, path, &hrefs);
  if (!d)
    return NULL;
  free (d->source);
  d->source = xstrdup (path);
  if (ova_serve_disks (d, path, hrefs) == -1) {
    desc_free (d);
    return NULL;
  }
  return d;
}

struct vm_desc *
desc_read_ovf (const char *path)
{
  CLEANUP_FREE char *text = NULL, *dir = NULL;
  size_t len;

  if (is_tar (path))
    return read_ova (path);
  text = desc_slurp (path, &len);
  dir = desc_dirname (path);
  if (!text || !dir)
    return NULL;
  return parse_ovf (path, "ovf", text, len, dir, NULL);
}
