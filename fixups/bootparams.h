/* The kernel command line and GRUB terminal azprep wants, shared by
 * linux-boot-params (the settings) and linux-grub-config (the
 * generated configuration). */
#ifndef AZPREP_BOOTPARAMS_H
#define AZPREP_BOOTPARAMS_H

#include <stdbool.h>

/* Added to GRUB_CMDLINE_LINUX (a KEY= word replaces another KEY=,
 * except console=, which may repeat).  rootdelay=300 (Azure's advice
 * for slow storage) only where the initramfs takes it as the longest
 * wait for the root device: initramfs-tools sleeps that long
 * unconditionally (initramfs_ops.rootdelay_sleeps). */
#define BOOT_ADD_PARAMS { "console=tty1", "console=ttyS0,115200n8", \
    "earlyprintk=ttyS0,115200", "net.ifnames=0", "rootdelay=300", NULL }
/* Removed from GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT. */
#define BOOT_REMOVE_PARAMS { "rhgb", "quiet", "splash", "splash=silent", NULL }
#define GRUB_SERIAL "serial --speed=115200 --unit=0 --word=8 --parity=no " \
  "--stop=1"
#define GRUB_TERMINAL_VALUE "serial console"

struct guest;
struct devmap;

/* The parameters this guest gets (NULL-terminated, static). */
const char *const *boot_params_wanted (struct guest *gs);
/* The command line with the parameters added (when add) and removed,
 * root= and resume= on UUIDs.  A new string, or NULL. */
char *boot_cmdline_fix (struct guest *gs, const char *old, bool add);
/* What is wrong with a command line (static string), or NULL. */
const char *boot_cmdline_problem (struct guest *gs, const char *words);
/* The same two on bytes alone: add, the parameters to add
 * (boot_params_wanted's); devices through dm. */
char *boot_cmdline_edit (const char *const *add, const struct devmap *dm,
                         const char *old, bool do_add);
const char *boot_cmdline_problem_of (const char *const *add,
                                     const char *words);
/* The kernel parameters of a BLS entry (/boot/loader/entries): every
 * "options" line, joined, and kopts (grubenv's kernelopts) when they
 * say $kernelopts.  NULL when the entry has no options line. */
char *bls_entry_options (const char *text, const char *kopts);

#endif
