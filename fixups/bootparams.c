/* The kernel command line policy shared by linux-boot-params and
 * linux-grub-config (see bootparams.h). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"
#include "fixups/bootparams.h"

/* root=/dev/sda2 -> root=UUID=...; the word or NULL when unchanged. */
static char *
stable_param (const struct devmap *dm, const char *word, const char *key)
{
  size_t kl = strlen (key);
  CLEANUP_FREE char *uuid = NULL;

  if (strncmp (word, key, kl) || !device_unstable (word + kl))
    return NULL;
  uuid = dm->uuid (dm->opaque, word + kl, NULL);
  return uuid ? xasprintf ("%sUUID=%s", key, uuid) : NULL;
}

/* The new command line (always a new string). */
const char *const *
boot_params_wanted (struct guest *gs)
{
  static const char *const all[] = BOOT_ADD_PARAMS;
  static const char *without_delay[sizeof all / sizeof all[0]];
  struct distro_data *d = distro_get (gs);
  size_t n = 0;

  if (!d || !d->initramfs || !d->initramfs->rootdelay_sleeps)
    return all;
  for (size_t i = 0; all[i]; i++)
    if (strncmp (all[i], "rootdelay=", 10))
      without_delay[n++] = all[i];
  without_delay[n] = NULL;
  return without_delay;
}

char *
boot_cmdline_edit (const char *const *addp, const struct devmap *dm,
                   const char *old, bool add)
{
  static const char *const rmp[] = BOOT_REMOVE_PARAMS;
  char *s = xstrdup (old ? old : ""), *t;

  for (size_t i = 0; s && rmp[i]; i++) {
    t = words_remove (s, rmp[i]);
    free (s);
    s = t;
  }
  for (size_t i = 0; s && add && addp[i]; i++) {
    t = words_set (s, addp[i]);
    free (s);
    s = t;
  }
  /* root= and resume= on device names. */
  if (s) {
    char *copy = xstrdup (s), *save = NULL;
    for (char *w = copy ? strtok_r (copy, " \t", &save) : NULL; w;
         w = strtok_r (NULL, " \t", &save)) {
      CLEANUP_FREE char *nw = stable_param (dm, w, "root=");
      CLEANUP_FREE char *nr = nw ? NULL : stable_param (dm, w, "resume=");
      if (nw || nr) {
        char *a = words_remove (s, w), *b = a ? words_set (a, nw ? nw : nr)
          : NULL;
        free (a);
        free (s);
        s = b;
        if (!s)
          break;
      }
    }
    free (copy);
  }
  return s;
}

char *
boot_cmdline_fix (struct guest *gs, const char *old, bool add)
{
  struct devmap dm = devmap_of_guest (gs);
  return boot_cmdline_edit (boot_params_wanted (gs), &dm, old, add);
}

const char *
boot_cmdline_problem_of (const char *const *addp, const char *words)
{
  static const char *const rmp[] = BOOT_REMOVE_PARAMS;
  for (size_t i = 0; addp[i]; i++)
    if (!words_has (words, addp[i]))
      return addp[i];
  for (size_t i = 0; rmp[i]; i++)
    if (words_has (words, rmp[i]))
      return rmp[i];
  for (const char *p = words; (p = strstr (p, "=/dev/")); p++)
    if ((p - words >= 4 && !strncmp (p - 4, "root", 4)) ||
        (p - words >= 6 && !strncmp (p - 6, "resume", 6)))
      if (device_unstable (p + 1))
        return "root= or resume= on a device name";
  return NULL;
}

/* What is wrong with one kernel command line, or NULL. */
const char *
boot_cmdline_problem (struct guest *gs, const char *words)
{
  return boot_cmdline_problem_of (boot_params_wanted (gs), words);
}

char *
bls_entry_options (const char *text, const char *kopts)
{
  char *s = NULL;
  size_t n;
  bool any = false;
  FILE *fp = open_memstream (&s, &n);

  if (!fp)
    return NULL;
  /* Every "options" line, in order (the spec combines them). */
  for (const char *l = text; *l; ) {
    const char *end = strchrnul (l, '\n');
    if (!strncmp (l, "options", 7) && (l[7] == ' ' || l[7] == '\t')) {
      size_t len = end - (l + 8);
      while (len > 0 && (l[8 + len - 1] == '\r' || l[8 + len - 1] == ' ' ||
                         l[8 + len - 1] == '\t'))
        len--;
      fprintf (fp, "%s%.*s", any ? " " : "", (int) len, l + 8);
      any = true;
    }
    l = *end ? end + 1 : end;
  }
  fclose (fp);
  if (!any) {
    free (s);
    return NULL;
  }
  if (kopts && strstr (s, "$kernelopts")) {
    char *full = xasprintf ("%s %s", s, kopts);
    free (s);
    s = full;
  }
  return s;
}
