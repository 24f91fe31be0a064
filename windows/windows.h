/* Windows guests: inspection (the "windows" os_ops), the per-guest
 * state, hive copies, the registry table applier and the BCD.  Internal
 * to windows/.
 *
 * Hives are edited with libhivex on a local copy: downloaded once per
 * run (guestfs_download), opened, edited, committed, uploaded back
 * (guestfs_upload), one hive at a time.  Checks read the same copy, so
 * each hive crosses the appliance boundary once each way.
 */
#ifndef AZPREP_WINDOWS_H
#define AZPREP_WINDOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <hivex.h>
#include <cjson/cJSON.h>

#include "prep/guest/guest.h"

enum win_hive { HIVE_SYSTEM = 0, HIVE_SOFTWARE, HIVE_BCD, HIVE_COUNT };
#define WIN_HIVE_MAX ((int64_t) 2 << 30)  /* Windows' own hive limit */

struct win_hive_copy {
  char *guest_path;     /* path inside the mounted filesystem */
  char *local;          /* host copy, or NULL before the download */
  bool dirty_header;    /* sequence numbers differ (unreplayed log) */
  bool pending;         /* committed locally, not yet uploaded */
};

struct windows_state {
  char *tmpdir;                         /* host directory for copies */
  struct win_hive_copy hives[HIVE_COUNT];
  /* Refusal reasons, found once (win_refusals); each is a blocker. */
  bool probed;
  bool probe_failed;
  char **refusals;      /* pairs: object, message; NULL-terminated */
  /* The BCD: which filesystem holds it (NULL = the mounted root) and
   * its path there. */
  bool bcd_searched;
  char *bcd_device;
  char *bcd_path;
  /* The regular files in System32\drivers (read once), or NULL. */
  bool drivers_listed;
  char **drivers;
};

/* The guest's Windows state (gs->os_data), created on first use (NULL
 * on ENOMEM). */
struct windows_state *win_state (struct guest *gs);
/* The state if it was created, else NULL. */
static inline struct windows_state *
win_data (struct guest *gs)
{
  return gs->os_data;
}

/* The "windows" os_ops (os.c) and what it calls elsewhere:
 * windows_explain_inspect names a damaged hive when libguestfs's
 * inspection failed on one (explain.c; 1 if it reported, else 0);
 * inspect_windows_json adds the control set, hives, BCD, storage
 * drivers, SAN policy, RDP and hibernation sections (inspect.c);
 * windows_flush uploads the hives the fixups changed, once after every
 * apply() (0 or -1), and windows_free releases the state (hive.c). */
int windows_explain_inspect (struct guest *gs, const char *why);
/* Where windows_explain_inspect reads a hive: the guest's files (in the
 * unit test, the host's).  size gives -1 when the file cannot be read,
 * download copies it to dest (0 or -1). */
struct win_hive_source {
  int64_t (*size) (void *arg, const char *path);
  int (*download) (void *arg, const char *path, const char *dest);
  void *arg;
};
/* Name what is wrong with the hive at path (label, in messages): an
 * absurd size (then nothing is copied), not a hive, corrupted.  1 if it
 * reported, 0 (fine, or unreadable). */
int win_explain_hive (const struct win_hive_source *src, const char *label,
                      const char *path);
int inspect_windows_json (struct guest *gs, cJSON *o);
int windows_flush (struct guest *gs);
void windows_free (struct guest *gs);

/* Hive names for messages: "SYSTEM", "SOFTWARE", "BCD". */
const char *win_hive_name (enum win_hive which);

/* Open the local copy of a hive, downloading it first if needed.
 * Errors (missing, corrupted, truncated hive) are reported naming the
 * hive and return NULL.  A hive with differing sequence numbers is
 * opened (for reading) and flagged dirty_header. */
hive_h *win_hive_open (struct guest *gs, enum win_hive which, bool write);
/* A hive handle closed when it goes out of scope (if not NULL), as
 * libguestfs's CLEANUP_* macros; win_hive_take hands it to a function
 * that closes it itself (win_hive_commit) and leaves NULL behind. */
static inline void
win_hive_closep (hive_h **h)
{
  if (*h)
    hivex_close (*h);
}
#define CLEANUP_HIVE_CLOSE __attribute__((cleanup (win_hive_closep)))
static inline hive_h *
win_hive_take (hive_h **h)
{
  hive_h *r = *h;
  *h = NULL;
  return r;
}

/* Commit an opened-for-write hive to the local copy and mark it for
 * upload.  Closes h.  0 or -1.  windows_flush, run once
 * after every fixup's apply(), uploads each changed hive back into the
 * guest (keeping one backup unless --no-backup): one upload per hive
 * however many fixups changed it. */
int win_hive_commit (struct guest *gs, enum win_hive which, hive_h *h);
/* Move a hive copy: download into a fresh copy, or upload it back
 * (hive.c; for the BCD, bcd.c mounts its filesystem around it). */
int win_hive_transfer (struct guest *gs, enum win_hive which, bool upload);
int win_bcd_transfer (struct guest *gs, bool upload);
/* Check a hive file's base block; 0 fine, -1 error (reported); sets
 * *dirty when the sequence numbers differ. */
int win_hive_check_header (const char *label, const char *file, bool *dirty);
/* The real-case path of the regular file p on the filesystem mounted
 * at /, or NULL (no error reported: absent is an answer) (bcd.c). */
char *win_find_file (struct guest *gs, const char *p);

/* Key lookup relative to a node: path components separated by '\'.
 * Returns the node, 0 when a component is missing, -1 on error
 * (reported, naming the hive and key). */
int64_t win_key_lookup (hive_h *h, const char *hive, hive_node_h from,
                        const char *path);
/* The same, creating missing keys. */
int64_t win_key_create (hive_h *h, const char *hive, hive_node_h from,
                        const char *path);

/* A registry value read: type, raw bytes (malloc'd, NUL-padded), or
 * present = false. */
struct win_value {
  bool present;
  hive_type type;
  char *data;
  size_t len;
};
void win_value_free (struct win_value *v);
/* Read value name under node; object names it in errors.  Values
 * larger than 1 MiB are an error.  0 or -1. */
int win_value_get (hive_h *h, hive_node_h node, const char *name,
                   const char *object, struct win_value *v);
/* The data as text for reports: DWORD decimal, strings as text,
 * MULTI_SZ joined with ';', others as hex bytes.  NULL if absent. */
char *win_value_text (const struct win_value *v);
/* A DWORD value: 0, 1 absent, -1 wrong type or size (reported). */
int win_value_dword (const struct win_value *v, const char *object,
                     uint32_t *r);
/* Set / delete one value (other values of the key kept).  0 or -1. */
int win_value_set (hive_h *h, hive_node_h node, const char *name,
                   hive_type type, const void *data, size_t len,
                   const char *object);
int win_value_delete (hive_h *h, hive_node_h node, const char *name,
                      const char *object);
/* Encode UTF-8 text as UTF-16LE with the terminating NUL(s): for
 * REG_SZ/REG_EXPAND_SZ one string; for REG_MULTI_SZ strings[] (n).
 * Returns malloc'd bytes and *len, or NULL. */
char *win_utf16 (const char *const *strings, size_t n, bool multi,
                 size_t *len);

/* "HKLM\SYSTEM\ControlSet001\<rest>" etc. */
char *win_object (struct guest *gs, enum win_hive which, const char *path,
                  const char *value);

/* The declarative registry table. */
enum win_op {
  WIN_DWORD,          /* set DWORD data */
  WIN_SZ,             /* set REG_SZ str */
  WIN_EXPAND_SZ,      /* set REG_EXPAND_SZ str */
  WIN_BINARY,         /* set REG_BINARY bin/binlen */
  WIN_DELETE,         /* delete the value if present */
  WIN_DELETE_ALL,     /* delete every value of the key */
  WIN_DELETE_KEY,     /* delete the key (path) with its subkeys */
};
/* Conditions are decided against the hive as it will be after the
 * whole table, never against what earlier rows did: a table gives the
 * same result in any row order.  WIN_IF_KEY: the key exists now (and
 * no row deletes it or a parent) or another row of the table must put
 * a value in it or below it; this row alone never creates it. */
enum {
  WIN_IF_KEY = 1,       /* only when the key exists (never create it) */
  WIN_IF_DISABLED = 2,  /* DWORD: only when the current data is 4 */
  WIN_IF_VALUE = 4,     /* only when the value exists */
  WIN_QWORD_OK = 8,     /* DWORD: a REG_QWORD of the same data is fine */
};
struct win_reg {
  const char *id;               /* finding id */
  enum win_hive hive;
  const char *path;             /* in SYSTEM, relative to ControlSet00N */
  const char *value;            /* value name; NULL for WIN_DELETE_ALL */
  enum win_op op;
  uint32_t dword;
  const char *str;
  const void *bin;
  size_t binlen;
  unsigned flags;
  const char *why;              /* finding message */
  const void *alt;              /* WIN_BINARY: other data also fine */
  size_t altlen;
};

/* Check: one fixable finding per value that differs.  0 or -1. */
int win_table_check (struct guest *gs, const struct win_reg *t, size_t n);
/* Apply: every differing value, one hive at a time, each change
 * recorded.  0 or -1. */
int win_table_apply (struct guest *gs, const struct win_reg *t, size_t n);

/* check() and apply() of a fixup that is one static table (registered
 * with WIN_STATIC_TABLE under the fixup's name). */
#define WIN_TABLE_FIXUP_FUNCS(prefix, name, rows)                        \
  static int prefix##_check (struct guest *gs)                           \
  { return win_table_check (gs, rows, sizeof rows / sizeof rows[0]); }  \
  static int prefix##_apply (struct guest *gs)                           \
  { return win_table_apply (gs, rows, sizeof rows / sizeof rows[0]); }  \
  WIN_STATIC_TABLE (prefix, name, rows);

/* Every registry table of the Windows fixups, as check() and apply()
 * run it, for the host-side variant test (windows/test-regvariants.c):
 * a static table (rows, n), or one built for the guest (build, into a
 * struct win_rows; may read the guest's hives).  Registered with
 * WIN_TABLE, gathered by the linker as the fixups are. */
#define WIN_ROWS_MAX 64
struct win_rows {
  struct win_reg r[WIN_ROWS_MAX];
  char path[WIN_ROWS_MAX][300];
  size_t n;
};
struct win_table {
  const char *fixup;
  const struct win_reg *rows;
  size_t n;
  int (*build) (struct guest *gs, struct win_rows *t);
};
#define WIN_TABLE(t) \
  static const struct win_table *const t##_table_ptr \
  __attribute__((section ("azprep_win_tables"), used)) = &(t)
#define WIN_STATIC_TABLE(prefix, name, rows)                             \
  static const struct win_table prefix##_rows = {                        \
    name, rows, sizeof rows / sizeof rows[0], NULL };                    \
  WIN_TABLE (prefix##_rows)
const struct win_table *const *win_tables (size_t *n);
/* A table's rows that conflict (two rows for one value, a row inside a
 * key another row deletes or empties): the first offending row's
 * index, or -1 when the rows are independent. */
ssize_t win_table_conflict (const struct win_reg *t, size_t n);

/* Root node for table paths: the control set key in SYSTEM, the root
 * otherwise.  Returns the node, or -1 (reported). */
int64_t win_table_base (struct guest *gs, hive_h *h, enum win_hive which);

/* Refusals and the gate every other Windows fixup uses as applies(). */
int win_probe (struct guest *gs);
/* "hibernated", "clean" or "absent" (hiberfil.sys); *path_r if given
 * gets its real path (or NULL). */
const char *win_hiberfil_state (struct guest *gs, char **path_r);
/* A DWORD at path\value under node: 0 read, 1 absent, -1 wrong type
 * or error (reported). */
int win_get_dword (hive_h *h, const char *hive, hive_node_h node,
                   const char *path, const char *value, uint32_t *r);
bool win_not_refused (struct guest *gs);

/* The BCD (bcd.c).  It lives on the System Reserved partition
 * (\Boot\BCD, BIOS), on the ESP (\EFI\Microsoft\Boot\BCD, UEFI) or
 * on C: itself.  Those partitions are not among the mounted guest
 * filesystems: to reach one, bcd.c unmounts the guest, mounts that
 * partition alone at /, moves the hive copy and mounts the guest back,
 * so that no mountpoint directory is ever created inside the guest.
 * win_hive_open (HIVE_BCD) and win_hive_commit do this.  Returns 0
 * found, 1 no BCD (st->bcd_path NULL), -1 error. */
int win_bcd_locate (struct guest *gs);

/* Is System32\drivers\NAME a regular file (case-insensitive)?  The
 * directory is listed once per run.  1 yes, 0 no. */
int win_driver_file (struct guest *gs, const char *name);

#define WIN_BOOTMGR "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"
#define WIN_EMSSETTINGS "{0ce4991b-e6b3-4b16-b23c-5e0d9250e5d9}"

#endif
