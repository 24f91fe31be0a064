/* linux-grub-config: regenerate the configuration GRUB reads from
 * /etc/default/grub with the guest's own tool (update-grub,
 * grub2-mkconfig), and on BLS guests (RHEL 8+) update every boot entry
 * with grubby, so that every kernel boots with the parameters of
 * linux-boot-params.  Verified by reading the result: every kernel line
 * or BLS entry carries them, and GRUB's serial terminal is set. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"
#include "fixups/bootparams.h"

#define CFG_MAX (8 << 20)

static const char grub_default[] = "/etc/default/grub";

static bool
applies (struct guest *gs)
{
  return distro_supported (gs) && guest_exists (gs, grub_default);
}

static const char *
cfg_path (struct distro_data *d)
{
  return d->grub_cfg ? d->grub_cfg : d->ops->grub_cfgs[0];
}

/* grub.cfg: every linux line right, and the serial terminal set.
 * Returns a problem description (static) or NULL; *err on error. */
static const char *
cfg_problem (struct guest *gs, const char *cfg, bool need_kernels, int *err)
{
  CLEANUP_FREE char *text = NULL;
  static __thread char why[256];
  struct lines ls;
  size_t nk = 0;
  const char *r = NULL;

  *err = 0;
  if (!guest_exists (gs, cfg))
    return "missing";
  text = guest_read_file (gs, cfg, CFG_MAX, NULL);
  if (!text || lines_split (&ls, text) == -1) {
    *err = -1;
    return NULL;
  }
  if (!strstr (text, "serial --speed=115200"))
    r = "no GRUB serial terminal";
  for (size_t i = 0; !r && i < ls.n; i++) {
    const char *l = ls.l[i] + line_indent (ls.l[i]);
    const char *p;
    if (strncmp (l, "linux", 5) || !strchr (" \t16e", l[5]))
      continue;
    p = l + strcspn (l, " \t");
    if (strncmp (l, "linux ", 6) && strncmp (l, "linux\t", 6) &&
        strncmp (l, "linux16", 7) && strncmp (l, "linuxefi", 8))
      continue;
    nk++;
    if ((p = boot_cmdline_problem (gs, p))) {
      snprintf (why, sizeof why, "line %zu: %s", i + 1, p);
      r = why;
    }
  }
  if (!r && need_kernels && nk == 0)
    r = "no kernel entries";
  lines_free (&ls);
  return r;
}

/* The kernelopts of grubenv (RHEL 8 entries say "$kernelopts"). */
static char *
grubenv_kernelopts (struct guest *gs)
{
  CLEANUP_FREE char *env = NULL;
  if (!guest_exists (gs, "/boot/grub2/grubenv"))
    return NULL;
  env = guest_read_file (gs, "/boot/grub2/grubenv", 1 << 16, NULL);
  return env ? kv_get (env, "kernelopts") : NULL;
}

/* The effective options of a BLS entry, or NULL (no options line). */
static char *
entry_options (struct guest *gs, const char *path, const char *kopts,
               bool *err)
{
  CLEANUP_FREE char *text = distro_read_config (gs, path);

  *err = !text;
  return text ? bls_entry_options (text, kopts) : NULL;
}

/* BLS entries whose options are wrong. */
static int
bls_problems (struct guest *gs, char ***bad)
{
  CLEANUP_FREE_STRING_LIST char **entries =
    guestfs_glob_expand (gs->g, "/boot/loader/entries/*.conf");
  CLEANUP_FREE char *kopts = grubenv_kernelopts (gs);

  if (!entries) {
    azp_error ("/boot/loader/entries: %s", guestfs_last_error (gs->g));
    return -1;
  }
  for (size_t i = 0; entries[i]; i++) {
    bool err;
    CLEANUP_FREE char *opts = entry_options (gs, entries[i], kopts, &err);
    if (err)
      return -1;
    if (opts && !boot_cmdline_problem (gs, opts))
      continue;
    if (strv_add (bad, entries[i]) == -1)
      return -1;
  }
  return 0;
}

static int
check (struct guest *gs)
{
  struct distro_data *d = distro_get (gs);
  CLEANUP_FREE_STRING_LIST char **bad = NULL;
  const char *why;
  int err;

  if (d->grub == GRUB_NONE)
    return report_finding (gs->report, SEV_WARNING, "linux-grub-no-tool",
                           grub_default, "regenerate the GRUB configuration "
                           "by hand", false, "no grub-mkconfig / update-grub "
                           "in the guest");
  why = cfg_problem (gs, cfg_path (d), d->grub != GRUB_BLS, &err);
  if (err)
    return -1;
  if (why && report_finding (gs->report, SEV_WARNING, "linux-grub-config",
                             cfg_path (d), NULL, true, "regenerate with %s: "
                             "%s", d->grub_tool ? d->grub_tool : "grubby",
                             why) == -1)
    return -1;
  if (d->grub != GRUB_BLS)
    return 0;
  if (bls_problems (gs, &bad) == -1)
    return -1;
  for (size_t i = 0; bad && bad[i]; i++)
    if (report_finding (gs->report, SEV_WARNING, "linux-grub-bls-entry",
                        bad[i], NULL, true, "boot entry lacks the Azure "
                        "kernel parameters (update with grubby)") == -1)
      return -1;
  return 0;
}

static char *
summary (struct guest *gs, const char *path)
{
  int64_t size;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  size = guestfs_filesize (gs->g, path);
  guestfs_pop_error_handler (gs->g);
  return size < 0 ? NULL : xasprintf ("(%lld bytes)", (long long) size);
}

static int
run_mkconfig (struct guest *gs, struct distro_data *d)
{
  const char *cfg = cfg_path (d);
  const char *base = strrchr (d->grub_tool, '/') + 1;
  CLEANUP_FREE char *before = summary (gs, cfg), *after = NULL;
  const char *argv[] = { d->grub_tool, "-o", cfg, NULL };

  if (!strcmp (base, "update-grub") || !strcmp (base, "update-grub2"))
    argv[1] = NULL;
  if (guest_backup_file (gs, cfg) == -1)
    return -1;
  if (guest_run (gs, argv) == -1)
    return -1;
  after = summary (gs, cfg);
  return report_change (gs->report, "file", cfg, before, after);
}

static int
run_grubby (struct guest *gs, struct distro_data *d)
{
  const char *const *addp = boot_params_wanted (gs);
  static const char *const rmp[] = BOOT_REMOVE_PARAMS;
  CLEANUP_FREE_STRING_LIST char **bad = NULL;
  CLEANUP_FREE char *args = NULL, *rm = NULL, *kopts = NULL;
  CLEANUP_FREE char *opts = NULL, *fixed = NULL;
  bool err;
  char *s;
  size_t n;
  FILE *fp;

  if (bls_problems (gs, &bad) == -1)
    return -1;
  if (!bad || !bad[0])
    return 0;
  /* The parameters to add, and root=/resume= on UUIDs as the first
   * wrong entry has them (grubby replaces a KEY= by KEY=). */
  kopts = grubenv_kernelopts (gs);
  opts = entry_options (gs, bad[0], kopts, &err);
  if (err)
    return -1;
  fixed = boot_cmdline_fix (gs, opts ? opts : "", true);
  fp = fixed ? open_memstream (&s, &n) : NULL;
  for (size_t i = 0; fp && addp[i]; i++)
    fprintf (fp, "%s%s", i ? " " : "", addp[i]);
  for (char *w = fixed; fp && w && *w; ) {
    size_t len = strcspn (w, " ");
    if ((!strncmp (w, "root=UUID=", 10) || !strncmp (w, "resume=UUID=", 12))
        && (!opts || !strstr (opts, w)))
      fprintf (fp, " %.*s", (int) len, w);
    w += len + strspn (w + len, " ");
  }
  if (fp)
    fclose (fp);
  args = fp ? xasprintf ("--args=%s", s) : NULL;
  free (fp ? s : NULL);
  fp = open_memstream (&s, &n);
  for (size_t i = 0; fp && rmp[i]; i++)
    fprintf (fp, "%s%s", i ? " " : "", rmp[i]);
  if (fp)
    fclose (fp);
  rm = fp ? xasprintf ("--remove-args=%s", s) : NULL;
  free (fp ? s : NULL);
  if (!args || !rm)
    return -1;
  for (size_t i = 0; bad[i]; i++)
    if (guest_backup_file (gs, bad[i]) == -1)
      return -1;
  if (kopts && guest_backup_file (gs, "/boot/grub2/grubenv") == -1)
    return -1;
  {
    const char *argv[] = { d->grubby, "--update-kernel=ALL", args, rm, NULL };
    if (guest_run (gs, argv) == -1)
      return -1;
  }
  for (size_t i = 0; bad[i]; i++) {
    CLEANUP_FREE char *after = distro_read_config (gs, bad[i]);
    if (!after || report_change (gs->report, "file", bad[i], NULL,
                                 after) == -1)
      return -1;
  }
  if (kopts) {
    CLEANUP_FREE char *nk = grubenv_kernelopts (gs);
    if (nk && strcmp (nk, kopts) &&
        report_change (gs->report, "file", "/boot/grub2/grubenv", kopts,
                       nk) == -1)
      return -1;
  }
  return 0;
}

static int
apply (struct guest *gs)
{
  struct distro_data *d = distro_get (gs);
  int err;

  if (d->grub_tool &&
      cfg_problem (gs, cfg_path (d), d->grub != GRUB_BLS, &err) &&
      run_mkconfig (gs, d) == -1)
    return -1;
  if (d->grub == GRUB_BLS && run_grubby (gs, d) == -1)
    return -1;
  return 0;
}

static const struct fixup linux_grub_config = {
  .name = "linux-grub-config",
  .heading = "regenerate the GRUB configuration with the guest's tool",
  .order = 910,
  .guests = FIXUP_LINUX,
  .applies = applies,
  .check = check,
  .apply = apply,
};
FIXUP (linux_grub_config);
