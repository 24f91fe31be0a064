/* BLS entries (/boot/loader/entries/NAME.conf) as linux-grub-config reads
 * them: every "options" line joined, $kernelopts from grubenv, in every
 * line order, separator, line ending and final-newline shape; the
 * check's predicate on what was read. */
#include <string.h>

#include "prep/common/common.h"
#include "fixups/bootparams.h"
#include "prep/common/unit.h"

#define GOOD "console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 " \
  "net.ifnames=0 rootdelay=300"

static const char *const add[] = BOOT_ADD_PARAMS;

/* The entry's lines; %s is the separator of key and value. */
static const char *const lines[] = {
  "title Red Hat Enterprise Linux (4.18.0-513.el8.x86_64) 8.9 (Ootpa)",
  "version%s4.18.0-513.el8.x86_64",
  "linux%s/vmlinuz-4.18.0-513.el8.x86_64",
  "initrd%s/initramfs-4.18.0-513.el8.x86_64.img $tuned_initrd",
  "options%s$kernelopts $tuned_params",
  "options%srd.lvm.lv=rhel/root " GOOD,
  "id%srhel-20231019-4.18.0-513.el8.x86_64",
  "grub_users $grub_users",
  "#options quiet",
  "grub_class kernel",
};
#define NLINES (sizeof lines / sizeof lines[0])

static char *
make (size_t rot, bool rev, const char *sep, const char *end, bool final)
{
  char *s = NULL;
  size_t len;
  FILE *fp = open_memstream (&s, &len);

  for (size_t k = 0; k < NLINES; k++) {
    size_t i = (rev ? NLINES - 1 - k : k + rot) % NLINES;
    const char *at = strstr (lines[i], "%s");
    if (at)
      fprintf (fp, "%.*s%s%s", (int) (at - lines[i]), lines[i], sep, at + 2);
    else
      fputs (lines[i], fp);
    if (k + 1 < NLINES || final)
      fputs (end, fp);
  }
  fclose (fp);
  return s;
}

int
main (void)
{
  static const char *const seps[] = { " ", "\t", "  " };
  static const char *const ends[] = { "\n", "\r\n" };
  size_t count = 0;

  for (size_t rot = 0; rot < NLINES; rot++)
  for (int rev = 0; rev < 2; rev++)
  for (size_t sp = 0; sp < 3; sp++)
  for (size_t e = 0; e < 2; e++)
  for (int final = 0; final < 2; final++) {
    CLEANUP_FREE char *text = make (rot, rev, seps[sp], ends[e], final);
    CLEANUP_FREE char *good = bls_entry_options (text, "root=UUID=1 ro "
                                                 GOOD);
    CLEANUP_FREE char *bad = bls_entry_options (text, "root=UUID=1 ro "
                                                "rhgb quiet");
    CLEANUP_FREE char *none = bls_entry_options (text, NULL);
    int fails = failures;

    /* Both lines, in file order, and grubenv's kernelopts. */
    CHECK (good && strstr (good, "$kernelopts") &&
           strstr (good, "rd.lvm.lv=rhel/root") &&
           strstr (good, "root=UUID=1 ro"));
    CHECK (good && !strchr (good, '\r'));
    CHECK (good && !boot_cmdline_problem_of (add, good));
    CHECK (bad && boot_cmdline_problem_of (add, bad) != NULL);
    CHECK (none && !strstr (none, "root=UUID=1"));
    count++;
    if (failures > fails) {
      fprintf (stderr, "variant rot=%zu rev=%d sep=%zu end=%zu final=%d:"
               "\n%s\n-> %s\n", rot, rev, sp, e, final, text,
               good ? good : "(null)");
      break;
    }
  }
  {
    CLEANUP_FREE char *n = bls_entry_options ("title x\nlinux /v\n", "a");
    CLEANUP_FREE char *w = bls_entry_options ("optionsfoo=1\n", NULL);
    CHECK (n == NULL && w == NULL);
  }
  printf ("test-bls: BLS entries %zu variants\n", count);
  return UNIT_RESULT ("test-bls");
}
