/* prep/common: the one reader of fstab(5) text and the one table of
 * network filesystems, so that inspection, check and fix read a mount
 * line the same way (prep/common/fstab.c).  Pure: no guest, no I/O. */
#ifndef AZPREP_COMMON_FSTAB_H
#define AZPREP_COMMON_FSTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The six fields of a mount line, in order. */
enum {
  FSTAB_SPEC, FSTAB_FILE, FSTAB_TYPE, FSTAB_OPTS, FSTAB_FREQ, FSTAB_PASSNO,
  FSTAB_NFIELDS
};

/* Where the fields of one line lie, as written.  Fields are separated
 * by spaces, tabs or CRs; a field that begins with '#' begins a
 * comment, which runs to the end of the line.  nfields counts every
 * field before the comment (it may exceed FSTAB_NFIELDS: only the
 * first FSTAB_NFIELDS are located); 0 for a blank or comment line. */
struct fstab_line {
  size_t nfields;
  struct { size_t start, len; } f[FSTAB_NFIELDS];
};
void fstab_split_line (const char *line, size_t len, struct fstab_line *fl);

/* Field i (< fl->nfields, < FSTAB_NFIELDS) of a split line with its
 * octal escapes undone (\040 space, \011 tab, \012 newline, \134
 * backslash: any \NNN from \001 to \377).  NULL on out of memory
 * (reported). */
char *fstab_field (const char *line, const struct fstab_line *fl, size_t i);

/* One mount line, escapes undone.  opts is "defaults" when the line
 * has only three fields; freq and passno are 0 when absent. */
struct fstab_entry {
  char *spec, *mp, *type, *opts;
  int freq, passno;
  size_t lineno;              /* 1-based, in the text parsed */
};

/* Parse len bytes of fstab text (no NUL or final newline needed) into
 * *out: every line of three or more fields, in order.  Blank lines,
 * comments and lines of one or two fields (which mount nothing) are
 * skipped.  Returns the number of entries, or -1 on out of memory
 * (reported).  Free with fstab_free. */
ssize_t fstab_parse (const char *text, size_t len, struct fstab_entry **out);
void fstab_free (struct fstab_entry *e, ssize_t n);
/* One split line of three or more fields as an entry (for editors that
 * walk a file line by line): 0, or -1 on out of memory (reported).
 * fstab_entry_clear frees its strings. */
int fstab_entry_of_line (const char *line, const struct fstab_line *fl,
                         size_t lineno, struct fstab_entry *e);
void fstab_entry_clear (struct fstab_entry *e);
#define CLEANUP_FSTAB_ENTRY __attribute__((cleanup (fstab_entry_clear)))

/* Is opt one of the comma-separated options (exactly, not a part)? */
bool fstab_has_option (const char *opts, const char *opt);

/* Is type a filesystem reached over the network or from the host (not
 * a disk of the VM), so that it will not be there, or not at first,
 * once the VM boots on Azure? */
bool fstab_type_is_network (const char *type);
/* The same for a whole line: a network type, or a local type that
 * the guest itself marks _netdev (iSCSI, NBD, DRBD). */
bool fstab_is_network (const struct fstab_entry *e);

#endif /* AZPREP_COMMON_FSTAB_H */
