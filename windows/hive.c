/* Hive copies and registry value helpers (libhivex on a host copy). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "windows/windows.h"

#define VALUE_MAX (256 << 10)  /* no value we read is near this */

static const char *const names[HIVE_COUNT] = { "SYSTEM", "SOFTWARE", "BCD" };

const char *
win_hive_name (enum win_hive which)
{
  return names[which];
}

struct windows_state *
win_state (struct guest *gs)
{
  if (!gs->os_data) {
    gs->os_data = calloc (1, sizeof (struct windows_state));
    if (!gs->os_data)
      azp_error ("out of memory");
  }
  return gs->os_data;
}

/* The os_ops free(), called by guest_close. */
void
windows_free (struct guest *gs)
{
  struct windows_state *st = win_data (gs);

  if (!st)
    return;
  for (size_t i = 0; i < HIVE_COUNT; i++) {
    if (st->hives[i].local)
      unlink (st->hives[i].local);
    free (st->hives[i].local);
    free (st->hives[i].guest_path);
  }
  if (st->tmpdir)
    rmdir (st->tmpdir);
  free (st->tmpdir);
  free_string_list (st->refusals);
  free_string_list (st->drivers);
  free (st->bcd_device);
  free (st->bcd_path);
  free (st);
  gs->os_data = NULL;
}

static uint32_t
le32 (const unsigned char *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

int
win_hive_check_header (const char *label, const char *file, bool *dirty)
{
  unsigned char hdr[512];
  CLEANUP_CLOSE int fd = open (file, O_RDONLY | O_CLOEXEC);
  struct stat sb;
  uint32_t sum = 0, bins;
  ssize_t r;

  if (fd == -1 || fstat (fd, &sb) == -1) {
    azp_error ("%s: %m", label);
    return -1;
  }
  r = pread (fd, hdr, sizeof hdr, 0);
  if (r != (ssize_t) sizeof hdr || memcmp (hdr, "regf", 4)) {
    azp_error ("%s: not a registry hive (no 'regf' header)", label);
    return -1;
  }
  for (size_t i = 0; i < 0x1fc; i += 4)
    sum ^= le32 (hdr + i);
  if (sum != le32 (hdr + 0x1fc)) {
    azp_error ("%s: corrupted registry hive (bad header checksum)", label);
    return -1;
  }
  bins = le32 (hdr + 0x28);
  if (bins == 0 || bins % 4096 || (int64_t) bins + 4096 > sb.st_size) {
    azp_error ("%s: truncated or corrupted registry hive (header says "
               "%u bytes of data, the file has %lld)", label, bins,
               (long long) sb.st_size - 4096);
    return -1;
  }
  *dirty = le32 (hdr + 4) != le32 (hdr + 8);
  return 0;
}

/* The guest path of a hive; for the BCD, located by win_bcd_locate. */
static const char *
hive_guest_path (struct guest *gs, enum win_hive which)
{
  struct windows_state *st = win_data (gs);

  switch (which) {
  case HIVE_SYSTEM: return gs->windows_system_hive;
  case HIVE_SOFTWARE: return gs->windows_software_hive;
  default: return st->bcd_path;
  }
}

static int
download (struct guest *gs, enum win_hive which, struct win_hive_copy *c)
{
  struct windows_state *st = win_data (gs);
  int64_t size;

  size = guestfs_filesize (gs->g, c->guest_path);
  if (size == -1) {
    azp_error ("%s hive %s: %s", names[which], c->guest_path,
               guestfs_last_error (gs->g));
    return -1;
  }
  if (size > WIN_HIVE_MAX) {
    azp_error ("%s hive %s: absurd size (%lld bytes)", names[which],
               c->guest_path, (long long) size);
    return -1;
  }
  if (!st->tmpdir) {
    const char *t = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/var/tmp";
    char *d = xasprintf ("%s/azprep-hives-XXXXXX", t);
    if (!d)
      return -1;
    if (!mkdtemp (d)) {
      azp_error ("%s: %m", d);
      free (d);
      return -1;
    }
    st->tmpdir = d;
  }
  c->local = xasprintf ("%s/%s", st->tmpdir, names[which]);
  if (!c->local)
    return -1;
  if (guestfs_download (gs->g, c->guest_path, c->local) == -1) {
    azp_error ("%s hive %s: cannot read: %s", names[which], c->guest_path,
               guestfs_last_error (gs->g));
    unlink (c->local);
    free (c->local);
    c->local = NULL;
    return -1;
  }
  return 0;
}


/* Fetch the local copy of a hive (once per run). */
static int
fetch (struct guest *gs, enum win_hive which)
{
  struct windows_state *st = win_state (gs);
  struct win_hive_copy *c;
  CLEANUP_FREE char *label = NULL;

  if (!st)
    return -1;
  c = &st->hives[which];
  if (c->local)
    return 0;
  if (which == HIVE_BCD) {
    /* Locating the BCD downloads it when it is on another partition. */
    int r = win_bcd_locate (gs);
    if (r == 1)
      return win_bcd_transfer (gs, false);  /* the error: no BCD */
    if (r == -1 || c->local)
      return r;
    return win_bcd_transfer (gs, false);
  }
  if (!hive_guest_path (gs, which)) {
    azp_error ("%s: no %s hive (expected %s/System32/config/%s)", gs->root,
               names[which], gs->windows_systemroot ? gs->windows_systemroot
               : "/Windows", names[which]);
    return -1;
  }
  c->guest_path = xstrdup (hive_guest_path (gs, which));
  if (!c->guest_path || download (gs, which, c) == -1)
    return -1;
  label = xasprintf ("%s hive %s", names[which], c->guest_path);
  if (!label)
    return -1;
  return win_hive_check_header (label, c->local, &c->dirty_header);
}

/* For bcd.c: download (or upload) the BCD copy while its filesystem is
 * mounted at /.  st->bcd_path is set by win_bcd_locate. */
int
win_hive_transfer (struct guest *gs, enum win_hive which, bool upload)
{
  struct windows_state *st = win_data (gs);
  struct win_hive_copy *c = &st->hives[which];

  if (!upload) {
    CLEANUP_FREE char *label = NULL;
    free (c->guest_path);
    c->guest_path = xstrdup (hive_guest_path (gs, which));
    if (!c->guest_path || download (gs, which, c) == -1)
      return -1;
    label = xasprintf ("%s hive %s%s%s", names[which],
                       st->bcd_device ? st->bcd_device : "",
                       st->bcd_device ? ":" : "", c->guest_path);
    if (!label)
      return -1;
    return win_hive_check_header (label, c->local, &c->dirty_header);
  }
  /* Downloaded from there in this run: it exists. */
  if (guest_backup_present (gs, c->guest_path) == -1)
    return -1;
  if (guestfs_upload (gs->g, c->local, c->guest_path) == -1) {
    azp_error ("%s hive %s: cannot write: %s", names[which], c->guest_path,
               guestfs_last_error (gs->g));
    return -1;
  }
  return 0;
}

hive_h *
win_hive_open (struct guest *gs, enum win_hive which, bool write)
{
  struct win_hive_copy *c;
  hive_h *h;

  if (fetch (gs, which) == -1)
    return NULL;
  c = &win_data (gs)->hives[which];
  h = hivex_open (c->local, write ? HIVEX_OPEN_WRITE : 0);
  if (!h) {
    azp_error ("%s hive %s: corrupted registry hive (%m)", names[which],
               c->guest_path);
    return NULL;
  }
  return h;
}

int
win_hive_commit (struct guest *gs, enum win_hive which, hive_h *h)
{
  struct win_hive_copy *c = &win_data (gs)->hives[which];

  if (hivex_commit (h, NULL, 0) == -1) {
    azp_error ("%s hive %s: cannot commit: %m", names[which], c->guest_path);
    hivex_close (h);
    return -1;
  }
  hivex_close (h);
  c->pending = true;
  return 0;
}

/* The os_ops flush(), called by fixups_apply. */
int
windows_flush (struct guest *gs)
{
  struct windows_state *st = win_data (gs);

  if (!st)
    return 0;
  for (int w = 0; w < HIVE_COUNT; w++) {
    struct win_hive_copy *c = &st->hives[w];
    int r;

    if (!c->pending)
      continue;
    azp_debug ("windows: uploading the %s hive", names[w]);
    r = w == HIVE_BCD ? win_bcd_transfer (gs, true)
      : win_hive_transfer (gs, w, true);
    if (r == -1)
      return -1;
    c->pending = false;
  }
  return 0;
}

/* Walk (or create) a '\'-separated path. */
static int64_t
walk (hive_h *h, const char *hive, hive_node_h from, const char *path,
      bool create)
{
  CLEANUP_FREE char *copy = xstrdup (path);
  char *save = NULL, *tok;
  hive_node_h node = from;

  if (!copy)
    return -1;
  for (tok = strtok_r (copy, "\\", &save); tok;
       tok = strtok_r (NULL, "\\", &save)) {
    hive_node_h child;
    errno = 0;
    child = hivex_node_get_child (h, node, tok);
    if (child == 0 && errno != 0) {
      azp_error ("%s hive: key %s: %m", hive, path);
      return -1;
    }
    if (child == 0) {
      if (!create)
        return 0;
      child = hivex_node_add_child (h, node, tok);
      if (child == 0) {
        azp_error ("%s hive: cannot create key %s: %m", hive, path);
        return -1;
      }
    }
    node = child;
  }
  return node;
}

int64_t
win_key_lookup (hive_h *h, const char *hive, hive_node_h from,
                const char *path)
{
  return walk (h, hive, from, path, false);
}

int64_t
win_key_create (hive_h *h, const char *hive, hive_node_h from,
                const char *path)
{
  return walk (h, hive, from, path, true);
}

void
win_value_free (struct win_value *v)
{
  free (v->data);
  v->data = NULL;
  v->present = false;
}

int
win_value_get (hive_h *h, hive_node_h node, const char *name,
               const char *object, struct win_value *v)
{
  hive_value_h val;
  size_t len;
  hive_type t;
  char *data;

  memset (v, 0, sizeof *v);
  errno = 0;
  val = hivex_node_get_value (h, node, name);
  if (val == 0) {
    if (errno != 0 && errno != ENOENT) {
      azp_error ("%s: %m", object);
      return -1;
    }
    return 0;
  }
  if (hivex_value_type (h, val, &t, &len) == -1) {
    azp_error ("%s: %m", object);
    return -1;
  }
  if (len > VALUE_MAX) {
    azp_error ("%s: absurd value size (%zu bytes)", object, len);
    return -1;
  }
  data = hivex_value_value (h, val, &t, &len);
  if (!data) {
    azp_error ("%s: %m", object);
    return -1;
  }
  /* Pad with NULs so that strings always end. */
  v->data = realloc (data, len + 4);
  if (!v->data) {
    free (data);
    azp_error ("out of memory");
    return -1;
  }
  memset (v->data + len, 0, 4);
  v->present = true;
  v->type = t;
  v->len = len;
  return 0;
}

int
win_value_dword (const struct win_value *v, const char *object,
                 uint32_t *r)
{
  if (!v->present)
    return 1;
  if (v->type != hive_t_REG_DWORD || v->len != 4) {
    azp_error ("%s: wrong value type or size (type %d, %zu bytes; expected "
               "REG_DWORD, 4 bytes)", object, (int) v->type, v->len);
    return -1;
  }
  *r = le32 ((const unsigned char *) v->data);
  return 0;
}

/* UTF-16LE (BMP only, as registry names in practice) to UTF-8. */
static char *
from_utf16 (const char *p, size_t bytes, size_t *used)
{
  char *out = malloc (bytes * 2 + 1), *o = out;
  size_t i;

  if (!out)
    return NULL;
  for (i = 0; i + 1 < bytes; i += 2) {
    unsigned c = (unsigned char) p[i] | (unsigned char) p[i + 1] << 8;
    if (c == 0)
      break;
    if (c < 0x80)
      *o++ = c;
    else if (c < 0x800) {
      *o++ = 0xc0 | c >> 6;
      *o++ = 0x80 | (c & 0x3f);
    }
    else {
      *o++ = 0xe0 | c >> 12;
      *o++ = 0x80 | ((c >> 6) & 0x3f);
      *o++ = 0x80 | (c & 0x3f);
    }
  }
  *o = '\0';
  if (used)
    *used = i + 2;
  return out;
}

char *
win_value_text (const struct win_value *v)
{
  if (!v->present)
    return NULL;
  switch (v->type) {
  case hive_t_REG_DWORD:
    if (v->len == 4)
      return xasprintf ("%u", le32 ((const unsigned char *) v->data));
    break;
  case hive_t_REG_QWORD:
    if (v->len == 8)
      return xasprintf ("%llu", (unsigned long long)
                        le32 ((const unsigned char *) v->data)
                        | (unsigned long long)
                        le32 ((const unsigned char *) v->data + 4) << 32);
    break;
  case hive_t_REG_SZ:
  case hive_t_REG_EXPAND_SZ:
    return from_utf16 (v->data, v->len, NULL);
  case hive_t_REG_MULTI_SZ: {
    char *out = xstrdup ("");
    size_t off = 0;
    while (out && off + 1 < v->len) {
      size_t used;
      CLEANUP_FREE char *s = from_utf16 (v->data + off, v->len - off, &used);
      char *n;
      if (!s || !*s)
        break;
      n = xasprintf ("%s%s%s", out, *out ? ";" : "", s);
      free (out);
      out = n;
      off += used;
    }
    return out;
  }
  default:
    break;
  }
  {
    char *out = malloc (v->len * 3 + 1);
    if (!out) {
      azp_error ("out of memory");
      return NULL;
    }
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < v->len; i++)
      off += snprintf (out + off, 4, "%s%02x", i ? "," : "",
                       (unsigned char) v->data[i]);
    return out;
  }
}

char *
win_utf16 (const char *const *strings, size_t n, bool multi, size_t *len)
{
  size_t cap = 4, off = 0;
  char *out;

  for (size_t i = 0; i < n; i++)
    cap += 2 * strlen (strings[i]) + 2;
  out = calloc (1, cap);
  if (!out) {
    azp_error ("out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const unsigned char *s = (const unsigned char *) strings[i];
    while (*s) {
      unsigned c = *s++;
      /* Decode UTF-8 (up to 3 bytes: the BMP). */
      if (c >= 0xe0 && s[0] && s[1]) {
        c = (c & 0x0f) << 12 | (s[0] & 0x3f) << 6 | (s[1] & 0x3f);
        s += 2;
      }
      else if (c >= 0xc0 && s[0]) {
        c = (c & 0x1f) << 6 | (s[0] & 0x3f);
        s++;
      }
      out[off++] = c & 0xff;
      out[off++] = c >> 8;
    }
    off += 2;                   /* the string's NUL */
  }
  if (multi)
    off += 2;                   /* the list's final NUL */
  *len = off;
  return out;
}

int
win_value_set (hive_h *h, hive_node_h node, const char *name,
               hive_type type, const void *data, size_t len,
               const char *object)
{
  hive_set_value sv = {
    .key = (char *) name, .t = type, .len = len, .value = (char *) data,
  };
  if (hivex_node_set_value (h, node, &sv, 0) == -1) {
    azp_error ("%s: cannot set: %m", object);
    return -1;
  }
  return 0;
}

int
win_value_delete (hive_h *h, hive_node_h node, const char *name,
                  const char *object)
{
  CLEANUP_FREE hive_value_h *vals = hivex_node_values (h, node);
  hive_set_value *keep = NULL;
  size_t n = 0, k = 0;
  int ret = -1;

  if (!vals) {
    azp_error ("%s: %m", object);
    return -1;
  }
  while (vals[n])
    n++;
  keep = calloc (n + 1, sizeof *keep);
  if (!keep) {
    azp_error ("out of memory");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    char *key = hivex_value_key (h, vals[i]);
    if (!key) {
      azp_error ("%s: %m", object);
      goto out;
    }
    if (name && !strcasecmp (key, name)) {
      free (key);
      continue;
    }
    keep[k].key = key;
    keep[k].value = hivex_value_value (h, vals[i], &keep[k].t,
                                       &keep[k].len);
    k++;
    if (!keep[k - 1].value) {
      azp_error ("%s: %m", object);
      goto out;
    }
  }
  if (hivex_node_set_values (h, node, k, keep, 0) == -1) {
    azp_error ("%s: cannot delete: %m", object);
    goto out;
  }
  ret = 0;
 out:
  for (size_t i = 0; i < k; i++) {
    free (keep[i].key);
    free (keep[i].value);
  }
  free (keep);
  return ret;
}

char *
win_object (struct guest *gs, enum win_hive which, const char *path,
            const char *value)
{
  const char *sep = value ? "\\" : "";
  const char *v = value ? value : "";

  switch (which) {
  case HIVE_SYSTEM:
    return xasprintf ("HKLM\\SYSTEM\\%s%s%s%s%s",
                      gs->windows_current_control_set,
                      *path ? "\\" : "", path, sep, v);
  case HIVE_SOFTWARE:
    return xasprintf ("HKLM\\SOFTWARE%s%s%s%s", *path ? "\\" : "", path,
                      sep, v);
  default:
    return xasprintf ("BCD%s%s%s%s", *path ? "\\" : "", path, sep, v);
  }
}

int
win_get_dword (hive_h *h, const char *hive, hive_node_h node,
               const char *path, const char *value, uint32_t *r)
{
  CLEANUP_FREE char *object = xasprintf ("%s hive: %s\\%s", hive, path,
                                         value);
  struct win_value v;
  int64_t key;
  int ret;

  if (!object)
    return -1;
  key = win_key_lookup (h, hive, node, path);
  if (key <= 0)
    return key == 0 ? 1 : -1;
  if (win_value_get (h, key, value, object, &v) == -1)
    return -1;
  ret = win_value_dword (&v, object, r);
  win_value_free (&v);
  return ret;
}
