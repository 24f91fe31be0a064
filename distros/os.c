/* Inspection of a Linux root mounted at /: distro and version from
 * os-release (or the older release files), architecture from an ELF
 * header, hostname, and the mountpoints from /etc/fstab. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "prep/common/common.h"
#include "prep/common/fstab.h"
#include "prep/guest/guest.h"
#include "prep/guest/os.h"
#include "prep/fixup.h"
#include "distros/distro.h"

#define SMALL_FILE (64 * 1024)
#define FSTAB_MAX (1024 * 1024)

/* A guest file's content, or NULL when absent (no error). */
static char *
read_quiet (struct guest *gs, const char *path, size_t max)
{
  char *s;
  if (!guest_exists (gs, path))
    return NULL;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  s = guest_read_file (gs, path, max, NULL);
  guestfs_pop_error_handler (gs->g);
  return s;
}

/* The value of KEY in a shell-style KEY=value file, unquoted. */
static char *
shell_value (const char *text, const char *key)
{
  size_t kl = strlen (key);
  for (const char *p = text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
    const char *e;
    size_t l;
    nl = strchr (p, '\n');
    while (*p == ' ' || *p == '\t')
      p++;
    if (strncmp (p, key, kl) || p[kl] != '=')
      continue;
    p += kl + 1;
    e = strchr (p, '\n');
    l = e ? (size_t) (e - p) : strlen (p);
    while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\r'))
      l--;
    if (l >= 2 && (p[0] == '"' || p[0] == '\'') && p[l - 1] == p[0]) {
      p++;
      l -= 2;
    }
    return l ? strndup (p, l) : NULL;
  }
  return NULL;
}

static char *
first_line_of (const char *text)
{
  size_t l;
  if (!text)
    return NULL;
  while (*text == ' ' || *text == '\t')
    text++;
  l = strcspn (text, "\r\n");
  while (l > 0 && (text[l - 1] == ' ' || text[l - 1] == '\t'))
    l--;
  return l ? strndup (text, l) : NULL;
}

/* os-release IDs as libguestfs names the distros. */
static const char *
distro_name (const char *id)
{
  static const char *const map[][2] = {
    { "rhel", "rhel" }, { "centos", "centos" }, { "fedora", "fedora" },
    { "rocky", "rocky" }, { "almalinux", "almalinux" },
    { "ol", "oraclelinux" }, { "scientific", "scientificlinux" },
    { "sles", "sles" }, { "sled", "sles" }, { "sles_sap", "sles" },
    { "opensuse", "opensuse" }, { "opensuse-leap", "opensuse" },
    { "opensuse-tumbleweed", "opensuse" }, { "debian", "debian" },
    { "ubuntu", "ubuntu" }, { "linuxmint", "linuxmint" },
    { "alpine", "alpinelinux" }, { "arch", "archlinux" },
    { "amzn", "amazonlinux" }, { "photon", "photon" },
    { "mariner", "mariner" }, { "azurelinux", "azurelinux" },
  };
  for (size_t i = 0; id && i < sizeof map / sizeof map[0]; i++)
    if (!strcmp (id, map[i][0]))
      return map[i][1];
  return id;
}

/* "9.2" -> 9, 2; "15-SP5" -> 15, 5; "12" -> 12, 0. */
static void
parse_version (const char *v, int *major, int *minor)
{
  char *end;
  long a, b = 0;

  if (!v || !isdigit ((unsigned char) *v))
    return;
  a = strtol (v, &end, 10);
  if (*end == '.' || *end == '-') {
    const char *p = end + 1;
    if (!strncasecmp (p, "SP", 2))
      p += 2;
    if (isdigit ((unsigned char) *p))
      b = strtol (p, NULL, 10);
  }
  if (a >= 0 && a < 100000 && b >= 0 && b < 100000) {
    *major = (int) a;
    *minor = (int) b;
  }
}

/* Distro and version when there is no os-release. */
static void
legacy_release (struct guest *gs)
{
  static const struct { const char *file, *distro; } files[] = {
    { "/etc/redhat-release", NULL }, { "/etc/SuSE-release", "sles" },
    { "/etc/debian_version", "debian" },
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0] && !gs->distro;
       i++) {
    CLEANUP_FREE char *t = read_quiet (gs, files[i].file, SMALL_FILE);
    const char *d = files[i].distro, *num;
    if (!t)
      continue;
    if (!d)
      d = strstr (t, "CentOS") ? "centos" : strstr (t, "Fedora") ? "fedora"
        : strstr (t, "Red Hat") ? "rhel" : NULL;
    if (!d)
      continue;
    gs->distro = xstrdup (d);
    gs->product_name = first_line_of (t);
    num = strpbrk (t, "0123456789");
    parse_version (num, &gs->major, &gs->minor);
    if (!strcmp (d, "sles")) {
      CLEANUP_FREE char *pl = shell_value (t, "PATCHLEVEL");
      if (pl)
        gs->minor = (int) strtol (pl, NULL, 10);
    }
  }
}

static void
read_release (struct guest *gs)
{
  CLEANUP_FREE char *osr = read_quiet (gs, "/etc/os-release", SMALL_FILE);
  CLEANUP_FREE char *id = NULL, *ver = NULL;

  if (!osr)
    osr = read_quiet (gs, "/usr/lib/os-release", SMALL_FILE);
  if (!osr)
    return;               /* linux_inspect_os tries the older files */
  id = shell_value (osr, "ID");
  ver = shell_value (osr, "VERSION_ID");
  if (id) {
    for (char *p = id; *p; p++)
      *p = tolower ((unsigned char) *p);
    gs->distro = xstrdup (distro_name (id));
  }
  parse_version (ver, &gs->major, &gs->minor);
  gs->product_name = shell_value (osr, "PRETTY_NAME");

  /* Debian's point release is only in debian_version ("12.5"), and
   * RHEL-likes name the release best in redhat-release. */
  if (gs->distro && !strcmp (gs->distro, "debian")) {
    CLEANUP_FREE char *dv = read_quiet (gs, "/etc/debian_version",
                                        SMALL_FILE);
    int ma = 0, mi = 0;
    parse_version (dv, &ma, &mi);
    if (ma == gs->major)
      gs->minor = mi;
  }
  else if (guest_exists (gs, "/etc/redhat-release")) {
    CLEANUP_FREE char *rr = read_quiet (gs, "/etc/redhat-release",
                                        SMALL_FILE);
    char *l = first_line_of (rr);
    if (l) {
      free (gs->product_name);
      gs->product_name = l;
    }
  }
}

/* ELF e_machine of the guest's own binaries. */
static void
read_arch (struct guest *gs)
{
  static const char *const bins[] = {
    "/usr/bin/ls", "/bin/ls", "/usr/bin/bash", "/bin/bash", "/bin/sh",
    "/usr/bin/sh", "/sbin/init", NULL
  };
  for (size_t i = 0; bins[i] && !gs->arch; i++) {
    CLEANUP_FREE char *h = NULL;
    size_t len = 0;
    unsigned m;
    guestfs_push_error_handler (gs->g, NULL, NULL);
    h = guestfs_pread (gs->g, bins[i], 20, 0, &len);
    guestfs_pop_error_handler (gs->g);
    if (!h || len < 20 || memcmp (h, "\177ELF", 4))
      continue;
    m = (unsigned char) h[18] | (unsigned char) h[19] << 8;
    if (h[5] == 2)                      /* big endian */
      m = (unsigned char) h[19] | (unsigned char) h[18] << 8;
    gs->arch = xstrdup (m == 0x3e ? "x86_64" : m == 0x03 ? "i386"
                        : m == 0xb7 ? "aarch64" : m == 0x28 ? "arm"
                        : m == 0x15 ? "ppc64" : m == 0x16 ? "s390x"
                        : m == 0xf3 ? "riscv64" : "unknown");
  }
}

static void
read_hostname (struct guest *gs)
{
  CLEANUP_FREE char *h = read_quiet (gs, "/etc/hostname", SMALL_FILE);
  if (!h)
    h = read_quiet (gs, "/etc/HOSTNAME", SMALL_FILE);
  if (h) {
    gs->hostname = first_line_of (h);
    return;
  }
  h = read_quiet (gs, "/etc/sysconfig/network", SMALL_FILE);
  if (h)
    gs->hostname = shell_value (h, "HOSTNAME");
}

/* libosinfo's short id, as libguestfs makes it. */
static void
make_osinfo (struct guest *gs)
{
  const char *d = gs->distro;
  if (!d)
    return;
  if (!strcmp (d, "ubuntu"))
    gs->osinfo = xasprintf ("ubuntu%d.%02d", gs->major, gs->minor);
  else if (!strcmp (d, "sles") || !strcmp (d, "sled"))
    gs->osinfo = gs->minor ? xasprintf ("%s%dsp%d", d, gs->major, gs->minor)
      : xasprintf ("%s%d", d, gs->major);
  else if (!strcmp (d, "debian") || !strcmp (d, "fedora") ||
           (!strcmp (d, "centos") && gs->major >= 8))
    gs->osinfo = xasprintf ("%s%d", d, gs->major);
  else
    gs->osinfo = xasprintf ("%s%d.%d", d, gs->major, gs->minor);
}

static void
package_kind (struct guest *gs)
{
  static const struct { const char *distro, *format, *mgmt; } kinds[] = {
    { "debian", "deb", "apt" }, { "ubuntu", "deb", "apt" },
    { "linuxmint", "deb", "apt" }, { "sles", "rpm", "zypper" },
    { "opensuse", "rpm", "zypper" }, { "fedora", "rpm", "dnf" },
    { "alpinelinux", "apk", "apk" }, { "archlinux", "pacman", "pacman" },
    { "rhel", "rpm", NULL }, { "centos", "rpm", NULL },
    { "rocky", "rpm", "dnf" }, { "almalinux", "rpm", "dnf" },
    { "oraclelinux", "rpm", NULL }, { "scientificlinux", "rpm", "yum" },
    { "amazonlinux", "rpm", NULL },
  };
  for (size_t i = 0; gs->distro && i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp (gs->distro, kinds[i].distro)) {
      gs->package_format = xstrdup (kinds[i].format);
      gs->package_management = xstrdup (kinds[i].mgmt ? kinds[i].mgmt
                                        : gs->major >= 8 ? "dnf" : "yum");
    }
}

static int
add_mountpoint (char ***mps, size_t *n, const char *mp, char *dev)
{
  char **l;
  for (size_t i = 0; i < *n; i += 2)
    if (!strcmp ((*mps)[i], mp)) {
      free (dev);
      return 0;
    }
  l = realloc (*mps, (*n + 3) * sizeof *l);
  if (!l) {
    free (dev);
    return -1;
  }
  *mps = l;
  l[(*n)++] = xstrdup (mp);
  l[(*n)++] = dev;
  l[*n] = NULL;
  return 0;
}

/* Types of fstab lines that name no local filesystem to inspect:
 * swap, pseudo and memory filesystems, host shares, and what the
 * kernel must probe; network filesystems come from fstab.h's table. */
static bool
not_local (const struct fstab_entry *e)
{
  static const char *const skip[] = {
    "swap", "none", "tmpfs", "proc", "sysfs", "devpts", "devtmpfs",
    "cgroup", "cgroup2", "fuse", "virtiofs", "bind", "auto", NULL
  };
  for (size_t i = 0; skip[i]; i++)
    if (!strcmp (e->type, skip[i]))
      return true;
  return fstab_type_is_network (e->type) ||
    fstab_has_option (e->opts, "bind") || fstab_has_option (e->opts, "rbind");
}

/* Local filesystems of /etc/fstab that resolve to a device here. */
static int
read_fstab (struct guest *gs)
{
  CLEANUP_FREE char *t = read_quiet (gs, "/etc/fstab", FSTAB_MAX);
  struct fstab_entry *e = NULL;
  ssize_t ne = t ? fstab_parse (t, strlen (t), &e) : 0;
  char **mps = NULL;
  size_t n = 0;
  int r = 0;

  if (ne == -1 || add_mountpoint (&mps, &n, "/", xstrdup (gs->root)) == -1)
    r = -1;
  for (ssize_t i = 0; r == 0 && i < ne; i++) {
    char *dev;
    if (e[i].mp[0] != '/' || !strcmp (e[i].mp, "/") || not_local (&e[i]))
      continue;
    dev = guest_resolve_spec (gs, e[i].spec);
    if (dev && add_mountpoint (&mps, &n, e[i].mp, dev) == -1)
      r = -1;
  }
  fstab_free (e, ne);
  if (r == -1) {
    free_string_list (mps);
    return -1;
  }
  gs->mountpoints = mps;
  return 0;
}

static bool
has_entry (char *const *names, const char *name)
{
  for (size_t i = 0; names && names[i]; i++)
    if (!strcasecmp (names[i], name))
      return true;
  return false;
}

/* A Linux root has /etc and one of /usr, /bin, /sbin. */
static int
linux_probe (guestfs_h *g, char *const *top, char **hint_r)
{
  return has_entry (top, "etc") &&
    (has_entry (top, "usr") || has_entry (top, "bin") ||
     has_entry (top, "sbin")) &&
    guest_is_dir (g, "/etc", false) == 1;
}

static int
linux_inspect_os (struct guest *gs, char *hint)
{
  free (hint);
  gs->type = xstrdup ("linux");
  read_release (gs);
  if (!gs->distro)
    legacy_release (gs);
  read_arch (gs);
  read_hostname (gs);
  make_osinfo (gs);
  package_kind (gs);
  return read_fstab (gs);
}

static const struct os_ops linux_os = {
  .type = "linux",
  .fixups = FIXUP_LINUX,
  .probe = linux_probe,
  .inspect = linux_inspect_os,
  .json = inspect_linux_json,
};
OS_OPS (linux_os);
