/* Initramfs tools: how to make a kernel's initramfs hold the Hyper-V
 * drivers now (rebuild) and at every future kernel update (persist). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

#define CONF_MAX (1 << 20)
#define MARK "# Added by azprep: Hyper-V drivers for Azure.\n"

static char *
read_if_exists (struct guest *gs, const char *path, bool *err)
{
  *err = false;
  if (!guest_exists (gs, path))
    return NULL;
  {
    char *s = guest_read_file (gs, path, CONF_MAX, NULL);
    if (!s)
      *err = true;
    return s;
  }
}

/* initramfs-tools: one module per line in /etc/initramfs-tools/modules. */
static const char *const itools[] = {
  "/usr/sbin/update-initramfs", "/sbin/update-initramfs", NULL
};

static int
itools_persist (struct guest *gs, char *const *drivers, const char **path,
                char **content)
{
  static const char file[] = "/etc/initramfs-tools/modules";
  bool err;
  CLEANUP_FREE char *old = read_if_exists (gs, file, &err);
  CLEANUP_FREE_STRING_LIST char **have = NULL;
  char *save = NULL, *copy, *s = NULL;
  size_t n;
  FILE *fp;

  if (err)
    return -1;
  *path = file;
  *content = NULL;
  copy = old ? xstrdup (old) : NULL;
  for (char *l = copy ? strtok_r (copy, "\n", &save) : NULL; l;
       l = strtok_r (NULL, "\n", &save)) {
    l += strspn (l, " \t");
    if (*l == '#' || !*l)
      continue;
    l[strcspn (l, " \t")] = '\0';
    if (strv_add (&have, l) == -1) {
      free (copy);
      return -1;
    }
  }
  free (copy);
  fp = open_memstream (&s, &n);
  if (!fp) {
    azp_error ("out of memory");
    return -1;
  }
  if (old) {
    fputs (old, fp);
    if (*old && old[strlen (old) - 1] != '\n')
      fputc ('\n', fp);
  }
  for (size_t i = 0, first = 1; drivers[i]; i++) {
    if (strv_has (have, drivers[i]))
      continue;
    if (first)
      fputs (MARK, fp);
    first = 0;
    fprintf (fp, "%s\n", drivers[i]);
  }
  fclose (fp);
  if (old && !strcmp (s, old)) {
    free (s);
    return 0;
  }
  *content = s;
  return 0;
}

static int
itools_rebuild (struct guest *gs, const char *tool, const struct kernel *k,
                char *const *drivers)
{
  const char *argv[] = { tool, k->initrd_exists ? "-u" : "-c", "-k",
                         k->version, NULL };
  return guest_run (gs, argv);
}

const struct initramfs_ops initramfs_tools_ops = {
  .name = "initramfs-tools",
  .tools = itools,
  /* Its init: if [ "$ROOTDELAY" ]; then sleep $ROOTDELAY; fi */
  .rootdelay_sleeps = true,
  .persist = itools_persist,
  .rebuild = itools_rebuild,
};

/* dracut: add_drivers+= in /etc/dracut.conf.d/, --add-drivers now. */
static const char *const dtools[] = {
  "/usr/bin/dracut", "/sbin/dracut", "/usr/sbin/dracut", NULL
};

static int
dracut_persist (struct guest *gs, char *const *drivers, const char **path,
                char **content)
{
  static const char file[] = "/etc/dracut.conf.d/90-azure-hyperv.conf";
  bool err;
  CLEANUP_FREE char *old = read_if_exists (gs, file, &err);
  CLEANUP_FREE char *words = strv_join (drivers);
  char *s;

  if (err || !words)
    return -1;
  *path = file;
  s = xasprintf (MARK "add_drivers+=\" %s \"\n", words);
  if (!s)
    return -1;
  if (old && !strcmp (old, s)) {
    free (s);
    s = NULL;
  }
  *content = s;
  return 0;
}

static int
dracut_rebuild (struct guest *gs, const char *tool, const struct kernel *k,
                char *const *drivers)
{
  CLEANUP_FREE char *words = strv_join (drivers);
  const char *argv[] = { tool, "-f", "--add-drivers", words, k->initrd,
                         k->version, NULL };
  if (!words)
    return -1;
  return guest_run (gs, argv);
}

const struct initramfs_ops initramfs_dracut_ops = {
  .name = "dracut",
  .tools = dtools,
  .persist = dracut_persist,
  .rebuild = dracut_rebuild,
};

/* SUSE mkinitrd: INITRD_MODULES in /etc/sysconfig/kernel, -m now. */
static const char *const mtools[] = {
  "/sbin/mkinitrd", "/usr/sbin/mkinitrd", "/usr/bin/mkinitrd", NULL
};

static int
mkinitrd_persist (struct guest *gs, char *const *drivers, const char **path,
                  char **content)
{
  static const char file[] = "/etc/sysconfig/kernel";
  bool err;
  CLEANUP_FREE char *old = read_if_exists (gs, file, &err);
  CLEANUP_FREE char *mods = NULL;
  char *words = NULL;

  if (err)
    return -1;
  *path = file;
  *content = NULL;
  mods = old ? kv_get (old, "INITRD_MODULES") : NULL;
  words = xstrdup (mods ? mods : "");
  for (size_t i = 0; words && drivers[i]; i++) {
    char *nw = words_set (words, drivers[i]);
    free (words);
    words = nw;
  }
  if (!words)
    return -1;
  if (!mods || strcmp (mods, words))
    *content = kv_set (old ? old : "", "INITRD_MODULES", words);
  free (words);
  return 0;
}

static int
mkinitrd_rebuild (struct guest *gs, const char *tool, const struct kernel *k,
                  char *const *drivers)
{
  CLEANUP_FREE char *words = strv_join (drivers);
  const char *argv[] = { tool, "-k", k->vmlinuz, "-i", k->initrd, "-m",
                         words, NULL };
  if (!words)
    return -1;
  return guest_run (gs, argv);
}

const struct initramfs_ops initramfs_mkinitrd_ops = {
  .name = "mkinitrd",
  .tools = mtools,
  .persist = mkinitrd_persist,
  .rebuild = mkinitrd_rebuild,
};
