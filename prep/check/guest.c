/* Helpers readiness rules share: which disk holds a device, the
 * guest's fstab, fstab specs to devices. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/check/guest.h"
#include "prep/check/report/report.h"

/* The disk of the first PV of the VG holding this LV. */
static char *
lv_disk (const struct check_ctx *ctx, const char *lv)
{
  guestfs_h *g = ctx->gs->g;
  CLEANUP_FREE char *canon = guestfs_lvm_canonical_lv_name (g, lv);
  CLEANUP_FREE_STRING_LIST char **uuids = NULL;
  struct guestfs_lvm_pv_list *pvs = NULL;
  char vg[256];
  const char *p, *slash;
  char *ret = NULL;

  if (!canon || strncmp (canon, "/dev/", 5))
    return NULL;
  p = canon + 5;
  slash = strchr (p, '/');
  if (!slash || (size_t) (slash - p) >= sizeof vg)
    return NULL;
  memcpy (vg, p, slash - p);
  vg[slash - p] = '\0';
  uuids = guestfs_vgpvuuids (g, vg);
  pvs = guestfs_pvs_full (g);
  for (size_t i = 0; uuids && uuids[0] && pvs && i < pvs->len; i++) {
    if (strlen (uuids[0]) >= 32 &&
        !memcmp (pvs->val[i].pv_uuid, uuids[0], 32)) {
      ret = check_device_disk (ctx, pvs->val[i].pv_name);
      break;
    }
  }
  if (pvs)
    guestfs_free_lvm_pv_list (pvs);
  return ret;
}

char *
check_device_disk (const struct check_ctx *ctx, const char *dev)
{
  struct guest *gs = ctx->gs;
  const struct guest_blockdev *b = guest_blockdev (gs, dev);
  char *ret = NULL;

  if (b && b->kind == BDEV_DISK)
    return xstrdup (dev);
  if (b && b->kind == BDEV_PARTITION)
    return b->disk ? xstrdup (b->disk) : NULL;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  if (guestfs_is_lv (gs->g, dev) == 1)
    ret = lv_disk (ctx, dev);
  guestfs_pop_error_handler (gs->g);
  return ret;
}

/* The guest's /etc/fstab: the number of entries (0 without one) or -1. */
static ssize_t
check_fstab_read (struct guest *gs, struct fstab_entry **out)
{
  CLEANUP_FREE char *text = NULL;
  size_t len;

  *out = NULL;
  if (!guest_exists (gs, "/etc/fstab"))
    return 0;
  text = guest_read_file (gs, "/etc/fstab", 1024 * 1024, &len);
  if (!text)
    return -1;
  return fstab_parse (text, len, out);
}

char *
check_resolve_spec (const struct check_ctx *ctx, const char *spec)
{
  return guest_resolve_spec (ctx->gs, spec);
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_len (const unsigned char *s)
{
  size_t n;
  unsigned int c;

  if (s[0] < 0x80)
    return 1;
  if ((s[0] & 0xe0) == 0xc0) { n = 2; c = s[0] & 0x1f; }
  else if ((s[0] & 0xf0) == 0xe0) { n = 3; c = s[0] & 0x0f; }
  else if ((s[0] & 0xf8) == 0xf0) { n = 4; c = s[0] & 0x07; }
  else
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3f);
  }
  /* Overlong forms, surrogates, beyond U+10FFFF, U+FFFE/FFFF. */
  if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
      (n == 4 && c < 0x10000) || (c >= 0xd800 && c <= 0xdfff) ||
      c > 0x10ffff || c == 0xfffe || c == 0xffff)
    return 0;
  return n;
}

char *
check_clean_text (const char *s)
{
  char *out = malloc (strlen (s) + 1), *w = out;
  const unsigned char *p = (const unsigned char *) s;

  if (!out) {
    azp_error ("out of memory");
    return NULL;
  }
  while (*p) {
    size_t n = utf8_len (p);
    if (n == 0 || (n == 1 && *p < 0x20 && *p != '\t' && *p != '\n') ||
        *p == 0x7f) {
      *w++ = '?';
      p++;
      continue;
    }
    memcpy (w, p, n);
    w += n;
    p += n;
  }
  *w = '\0';
  return out;
}

static int
clean_tree (cJSON *j)
{
  cJSON *c;

  if (cJSON_IsString (j)) {
    char *s = check_clean_text (j->valuestring);
    if (!s)
      return -1;
    /* One byte out for one byte in: the same length. */
    memcpy (j->valuestring, s, strlen (s) + 1);
    free (s);
  }
  cJSON_ArrayForEach (c, j)
    if (clean_tree (c) == -1)
      return -1;
  return 0;
}

cJSON *
check_clean_json (const cJSON *j)
{
  cJSON *d = cJSON_Duplicate (j, 1);
  if (!d || clean_tree (d) == -1) {
    azp_error ("out of memory");
    cJSON_Delete (d);
    return NULL;
  }
  return d;
}

/* Every filesystem, swap area and encrypted volume with its type, from
 * the block devices inspection read once with blkid (not
 * guestfs_list_filesystems: it probes far more than the rules need
 * and took a third of a check's own time).  Pairs device, type. */
char **
check_list_filesystems (struct guest *gs)
{
  char **fses = calloc (2 * gs->nbdevs + 1, sizeof *fses);
  size_t n = 0;

  if (!fses) {
    azp_error ("out of memory");
    return NULL;
  }
  for (size_t i = 0; i < gs->nbdevs; i++) {
    const struct guest_blockdev *b = &gs->bdevs[i];
    if (!b->type || strstr (b->type, "_member"))
      continue;
    fses[n++] = xstrdup (b->device);
    fses[n++] = xstrdup (b->type);
  }
  fses[n] = NULL;
  return fses;
}

void
check_ctx_prepare (struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  guestfs_h *g = gs ? gs->g : NULL;

  if (!g || guest_scan_storage (gs) == -1)
    return;
  if (!ctx->fses)
    ctx->fses = check_list_filesystems (gs);
  if (!ctx->dirty)
    ctx->dirty = check_probe_dirty (gs, ctx->fses);
  if (!ctx->fstab_read && gs->mounted && gs->type &&
      !strcmp (gs->type, "linux")) {
    ctx->nfstab = check_fstab_read (gs, &ctx->fstab);
    ctx->fstab_read = true;
  }
}

void
check_ctx_release (struct check_ctx *ctx)
{
  free_string_list (ctx->fses);
  free_string_list (ctx->dirty);
  if (ctx->nfstab > 0)
    fstab_free (ctx->fstab, ctx->nfstab);
  ctx->fses = ctx->dirty = NULL;
  ctx->fstab = NULL;
  ctx->nfstab = 0;
  ctx->fstab_read = false;
}
