/* linux-boot-params' transform of /etc/default/grub and its drop-ins
 * (/etc/default/grub.d/NAME.cfg), on bytes alone (grub-edit.c). */
#ifndef AZPREP_GRUB_EDIT_H
#define AZPREP_GRUB_EDIT_H

#include <stdbool.h>
#include <stddef.h>

struct devmap;
struct report;

struct grub_edit {
  const char *const *add;      /* the parameters (boot_params_wanted) */
  const struct devmap *dm;     /* root= and resume= to UUIDs */
  struct report *rep;          /* check's findings */
  bool fix;
};

/* texts[0] is /etc/default/grub, texts[1..n-1] the drop-ins in the
 * order grub-mkconfig sources them (names[] for findings).  Every line
 * that sets GRUB_CMDLINE_LINUX(_DEFAULT), GRUB_TERMINAL or
 * GRUB_SERIAL_COMMAND is edited where it is (a drop-in sourced later
 * would undo an edit of the main file); a line that extends the value
 * ("$GRUB_CMDLINE_LINUX ...") only loses the removed words, as the
 * value it extends has the rest; a setting set nowhere is added to the
 * main file; GRUB_DISABLE_LINUX_UUID=true lines go.  With fix false,
 * findings only; with fix true, outs[i] is the new text of file i or
 * NULL when it does not change.  0 or -1. */
int grub_defaults_edit (const struct grub_edit *ge, size_t n,
                        const char *const *names, const char *const *texts,
                        char **outs);
/* KEY's value once the texts are sourced in order ($KEY and ${KEY}
 * expanded; nothing else is), or NULL when none sets it. */
char *grub_defaults_value (size_t n, const char *const *texts,
                           const char *key);

#endif
