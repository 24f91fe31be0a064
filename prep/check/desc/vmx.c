/* VMware .vmx files: lines of key = "value".  What check needs: the
 * disks in controller order (scsiN:M, sataN:M, nvmeN:M, ideN:M with a
 * fileName, present, not a CD-ROM or .iso), firmware, Secure Boot, vTPM, CPUs,
 * memory, NICs, guest OS.  Values encode special characters as |XX.
 */
#include <ctype.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/check/desc/desc.h"

/* Real .vmx files are a few KiB; VMware allows a few hundred disks. */
#define VMX_MAX_SIZE (256 * 1024)
#define VMX_MAX_DISKS 1024

/* The pairs are sorted by key (then by position in the file), so that
 * a lookup is a binary search: n lookups cost n log n, not n^2. */
struct kv { char *key, *value; size_t pos; };

struct vmx_disk { int bus, ctrl, unit; size_t pos; const char *file; };

static const char *const buses[] = { "scsi", "sata", "nvme", "ide", NULL };

static const char *
get (const struct kv *kv, size_t n, const char *key)
{
  size_t lo = 0, hi = n;

  /* The last pair with this key: VMware takes the last one. */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcasecmp (kv[mid].key, key) <= 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo > 0 && !strcasecmp (kv[lo - 1].key, key) ? kv[lo - 1].value
    : NULL;
}

static int
compare_kv (const void *a, const void *b)
{
  const struct kv *x = a, *y = b;
  int c = strcasecmp (x->key, y->key);
  return c ? c : x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool
is_true (const char *v)
{
  return v && (!strcasecmp (v, "true") || !strcasecmp (v, "yes") ||
               !strcmp (v, "1"));
}

/* Decode |XX escapes in place. */
static void
unescape (char *s)
{
  char *w = s;
  for (char *r = s; *r; ) {
    if (r[0] == '|' && isxdigit ((unsigned char) r[1]) &&
        isxdigit ((unsigned char) r[2])) {
      char hex[3] = { r[1], r[2], 0 };
      *w++ = (char) strtol (hex, NULL, 16);
      r += 3;
    }
    else
      *w++ = *r++;
  }
  *w = '\0';
}

/* Parse "key = value" lines; value optionally in double quotes. */
static int
parse_lines (const char *path, char *text, struct kv **out, size_t *n)
{
  char *save = NULL, *line;
  size_t lineno = 0, alloc = 0;

  for (line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save)) {
    char *eq, *k, *v, *end;
    struct kv *nk;

    lineno++;
    while (isspace ((unsigned char) *line))
      line++;
    if (!*line || *line == '#' || !strncmp (line, ".encoding", 9))
      continue;
    eq = strchr (line, '=');
    if (!eq) {
      azp_error ("%s: line %zu: expected key = \"value\"", path, lineno);
      return -1;
    }
    k = line;
    for (end = eq; end > k && isspace ((unsigned char) end[-1]); end--)
      ;
    *end = '\0';
    v = eq + 1;
    while (isspace ((unsigned char) *v))
      v++;
    end = v + strlen (v);
    while (end > v && isspace ((unsigned char) end[-1]))
      end--;
    *end = '\0';
    if (*v == '"') {
      if (end - v < 2 || end[-1] != '"') {
        azp_error ("%s: line %zu: unterminated quoted value of %s", path,
                   lineno, k);
        return -1;
      }
      v++;
      end[-1] = '\0';
    }
    if (!*k || strlen (k) > 256) {
      azp_error ("%s: line %zu: bad key", path, lineno);
      return -1;
    }
    unescape (v);
    if (*n == alloc) {
      alloc = alloc ? 2 * alloc : 64;
      nk = realloc (*out, alloc * sizeof *nk);
      if (!nk) {
        azp_error ("out of memory");
        return -1;
      }
      *out = nk;
    }
    (*out)[*n].key = k;
    (*out)[*n].value = v;
    (*out)[*n].pos = *n;
    (*n)++;
  }
  qsort (*out, *n, sizeof **out, compare_kv);
  return 0;
}

static int
compare_disks (const void *a, const void *b)
{
  const struct vmx_disk *x = a, *y = b;
  if (x->bus != y->bus) return x->bus - y->bus;
  if (x->ctrl != y->ctrl) return x->ctrl - y->ctrl;
  if (x->unit != y->unit) return x->unit - y->unit;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Is key "<bus>N:M.fileName"?  Fill bus, ctrl, unit. */
static bool
disk_key (const char *key, struct vmx_disk *d)
{
  for (int b = 0; buses[b]; b++) {
    size_t l = strlen (buses[b]);
    int ctrl, unit, end = 0;
    if (strncasecmp (key, buses[b], l))
      continue;
    if (sscanf (key + l, "%3d:%3d.fileName%n", &ctrl, &unit, &end) == 2 &&
        end > 0 && key[l + end] == '\0' && ctrl >= 0 && unit >= 0) {
      d->bus = b; d->ctrl = ctrl; d->unit = unit;
      return true;
    }
  }
  return false;
}

/* The present hard disks (not CD-ROMs, not ISOs), one per bus:ctrl:unit
 * (the same one twice: the later line wins), in controller order, into
 * disks; their number. */
static size_t
collect_disks (const struct kv *kv, size_t n, struct vmx_disk *disks)
{
  size_t nd = 0, out = 0;

  for (size_t i = 0; i < n; i++) {
    struct vmx_disk x;
    char prefix[64], key[96];
    const char *type;
    size_t l;
    if (!disk_key (kv[i].key, &x))
      continue;
    l = strcspn (kv[i].key, ".");
    if (l >= sizeof prefix)
      continue;
    memcpy (prefix, kv[i].key, l);
    prefix[l] = '\0';
    snprintf (key, sizeof key, "%s.present", prefix);
    if (get (kv, n, key) && !is_true (get (kv, n, key)))
      continue;
    snprintf (key, sizeof key, "%s.deviceType", prefix);
    type = get (kv, n, key);
    if (type && strcasestr (type, "cdrom"))
      continue;
    l = strlen (kv[i].value);
    if (l == 0 || (l >= 4 && !strcasecmp (kv[i].value + l - 4, ".iso")))
      continue;
    x.file = kv[i].value;
    x.pos = kv[i].pos;
    disks[nd++] = x;
  }
  /* In order, and of each bus:ctrl:unit the last line only. */
  qsort (disks, nd, sizeof *disks, compare_disks);
  for (size_t i = 0; i < nd; i++) {
    const struct vmx_disk *a = &disks[i], *b = &disks[i + 1];
    if (i + 1 < nd && a->bus == b->bus && a->ctrl == b->ctrl &&
        a->unit == b->unit)
      continue;
    disks[out++] = disks[i];
  }
  return out;
}

/* Name, firmware, Secure Boot, vTPM, CPUs, memory, NICs, guest OS. */
static int
read_hardware (const char *path, const struct kv *kv, size_t n,
               struct vm_desc *d)
{
  const char *v;

  if ((v = get (kv, n, "displayName")))
    d->name = xstrdup (v);
  v = get (kv, n, "firmware");
  d->firmware = v && !strcasecmp (v, "efi") ? FIRMWARE_UEFI : FIRMWARE_BIOS;
  d->secure_boot = is_true (get (kv, n, "uefi.secureBoot.enabled"));
  d->vtpm = is_true (get (kv, n, "vtpm.present"));
  d->cpus = 1;
  if ((v = get (kv, n, "numvcpus"))) {
    int64_t c;
    if (parse_int64 (v, &c) == -1 || c < 1 || c > 4096) {
      azp_error ("%s: numvcpus: bad value \"%s\"", path, v);
      return -1;
    }
    d->cpus = c;
  }
  if ((v = get (kv, n, "memsize"))) {
    int64_t m;
    if (parse_int64 (v, &m) == -1 || m < 1 || m > 64LL * 1024 * 1024) {
      azp_error ("%s: memsize: bad value \"%s\"", path, v);
      return -1;
    }
    d->memory_mib = m;
  }
  for (int i = 0; i < 10; i++) {
    char key[32];
    snprintf (key, sizeof key, "ethernet%d.present", i);
    if (is_true (get (kv, n, key)))
      d->nics++;
  }
  if ((v = get (kv, n, "guestOS")))
    d->guest_os = xstrdup (v);
  return 0;
}

struct vm_desc *
desc_read_vmx (const char *path)
{
  size_t len = 0;
  CLEANUP_FREE char *text = desc_slurp (path, &len);
  CLEANUP_FREE char *dir = NULL;
  CLEANUP_FREE struct kv *kv = NULL;
  CLEANUP_FREE struct vmx_disk *disks = NULL;
  struct vm_desc *d = NULL;
  size_t n = 0, nd = 0;

  if (!text)
    return NULL;
  if (strlen (text) != len) {
    azp_error ("%s: not a text file", path);
    return NULL;
  }
  if (len > VMX_MAX_SIZE) {
    azp_error ("%s: %zu bytes: larger than a .vmx file can be (%d bytes): "
               "refused", path, len, VMX_MAX_SIZE);
    return NULL;
  }
  if (parse_lines (path, text, &kv, &n) == -1)
    return NULL;
  if (!get (kv, n, "config.version") && !get (kv, n, "virtualHW.version")) {
    azp_error ("%s: not a VMware .vmx file (no config.version or "
               "virtualHW.version)", path);
    return NULL;
  }
  disks = calloc (n + 1, sizeof *disks);
  d = desc_new ("vmx", path);
  dir = desc_dirname (path);
  if (!disks || !d || !dir)
    goto fail;
  /* No present disk (no scsiN:M/sataN:M/nvmeN:M/ideN:M.fileName): the
   * check reports it (no-disks), as it does for an OVF. */
  nd = collect_disks (kv, n, disks);
  if (nd > VMX_MAX_DISKS) {
    azp_error ("%s: %zu disks: more than a VM can have (%d): refused", path,
               nd, VMX_MAX_DISKS);
    goto fail;
  }
  for (size_t i = 0; i < nd; i++)
    if (desc_add_disk (d, dir, disks[i].file, -1) == -1)
      goto fail;
  if (read_hardware (path, kv, n, d) == -1)
    goto fail;
  return d;
 fail:
  desc_free (d);
  return NULL;
}
