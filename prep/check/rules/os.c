/* Rules about the operating system: type and distro azprep supports,
 * the version Azure supports, the architecture.
 *
 * The support table (documented in prep/check.pod) comes from the
 * research notes (shared/research/conversion.md §4.2, windows.md §6):
 * Azure Migrate's agentless preparation covers RHEL/CentOS 6-8, SLES
 * 12/15, Ubuntu 14-19, Debian 7-9, Oracle Linux 7 and Windows Server
 * 2008 or later; Microsoft's VHD preparation covers 64-bit Windows
 * Server 2008 R2 and later.  Later releases of the same distros are
 * endorsed by Azure, so the table has a minimum, no maximum.
 */
#include <string.h>

#include "prep/common/common.h"
#include "prep/check/rule.h"

struct support {
  const char *distro;        /* as libguestfs names it */
  int min_major;             /* older: blocker */
  int warn_below_major;      /* older (and >= min): warning */
  int warn_below_minor;      /* with warn_below_major: x.y below */
  const char *why;           /* the warning's reason */
};

static const struct support linux_table[] = {
  { "rhel", 6, 6, 4, "RHEL 6.0-6.3 need the LIS package (Hyper-V drivers)" },
  { "centos", 6, 6, 4, "CentOS 6.0-6.3 need the LIS package" },
  { "scientificlinux", 6, 6, 4, "6.0-6.3 need the LIS package" },
  { "redhat-based", 6, 0, 0, NULL },
  { "oraclelinux", 7, 0, 0, NULL },
  { "rocky", 8, 0, 0, NULL },
  { "almalinux", 8, 0, 0, NULL },
  { "sles", 12, 0, 0, NULL },
  { "suse-based", 12, 0, 0, NULL },
  { "opensuse", 15, 0, 0, NULL },
  { "ubuntu", 14, 0, 0, NULL },
  { "debian", 7, 0, 0, NULL },
  { "fedora", 0, 0, 0, NULL },
  { NULL }
};

static const struct support *
find_support (const char *distro)
{
  for (const struct support *s = linux_table; distro && s->distro; s++)
    if (!strcmp (s->distro, distro))
      return s;
  return NULL;
}

static bool
is_type (const struct guest *gs, const char *t)
{
  return gs->type && !strcmp (gs->type, t);
}

static const struct rule os_unsupported;
static const struct rule os_unknown;
static const struct rule os_version;
static const struct rule arch_32bit;

static int
check_os_unsupported (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;

  if (!is_type (gs, "linux") && !is_type (gs, "windows"))
    return rule_finding (ctx, &os_unsupported, SEV_BLOCKER, gs->root,
                         "migrate a Linux or Windows guest",
                         "the operating system type is %s: azprep prepares "
                         "Linux and Windows", gs->type ? gs->type
                         : "unknown");
  if (is_type (gs, "linux") && gs->distro && !find_support (gs->distro))
    return rule_finding (ctx, &os_unsupported, SEV_BLOCKER, gs->root,
                         "see the supported distributions in azprep(1)",
                         "the Linux distribution %s is not one azprep "
                         "supports", gs->distro);
  return 0;
}
static const struct rule os_unsupported = {
  "os-unsupported", "the OS is Linux or Windows, of a supported family",
  SEV_BLOCKER, RULE_NEEDS_OS, check_os_unsupported,
};
RULE (os_unsupported);

static int
check_os_unknown (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;

  if (is_type (gs, "linux") && !gs->distro)
    return rule_finding (ctx, &os_unknown, SEV_BLOCKER, gs->root,
                         "make sure /etc/os-release is present and "
                         "correct on the source",
                         "the Linux distribution cannot be identified");
  return 0;
}
static const struct rule os_unknown = {
  "os-unknown", "the distribution can be identified", SEV_BLOCKER,
  RULE_NEEDS_OS, check_os_unknown,
};
RULE (os_unknown);

static int
check_windows_version (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  bool client = gs->product_variant &&
    !strcasecmp (gs->product_variant, "Client");
  const char *name = gs->product_name ? gs->product_name : "Windows";

  if (gs->major < 6 || (gs->major == 6 && gs->minor < 1) ||
      (!client && gs->major == 6 && gs->minor == 0))
    return rule_finding (ctx, &os_version, SEV_BLOCKER, gs->root,
                         "upgrade to Windows Server 2012 R2 or later first",
                         "%s (%d.%d) is older than Azure supports "
                         "(Windows Server 2008 R2, 6.1)", name,
                         gs->major, gs->minor);
  if (gs->major == 6 && gs->minor <= 3 && !client && gs->minor >= 2)
    return rule_finding (ctx, &os_version, SEV_WARNING, gs->root,
                         "test-migrate first; install the latest Hyper-V "
                         "integration components",
                         "%s (%d.%d): Windows Server 2012/2012 R2 born on "
                         "VMware may not boot on current Azure hosts "
                         "(ACPI MSFT1000)", name, gs->major, gs->minor);
  if (client && gs->major < 10)
    return rule_finding (ctx, &os_version, SEV_WARNING, gs->root,
                         "upgrade to Windows 10 or later",
                         "%s (%d.%d): Azure supports Windows 10 and later "
                         "client editions", name, gs->major, gs->minor);
  return 0;
}

static int
check_os_version (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  const struct support *s;

  if (is_type (gs, "windows"))
    return check_windows_version (ctx);
  s = find_support (gs->distro);
  if (!is_type (gs, "linux") || !s)
    return 0;
  if (gs->major < s->min_major)
    return rule_finding (ctx, &os_version, SEV_BLOCKER, gs->root,
                         "upgrade the guest before migrating",
                         "%s %d.%d is older than Azure supports (%s %d or "
                         "later)", gs->distro, gs->major, gs->minor,
                         gs->distro, s->min_major);
  if (s->why && (gs->major < s->warn_below_major ||
                 (gs->major == s->warn_below_major &&
                  gs->minor < s->warn_below_minor)))
    return rule_finding (ctx, &os_version, SEV_WARNING, gs->root,
                         "install the Hyper-V drivers (LIS) first",
                         "%s %d.%d: %s", gs->distro, gs->major, gs->minor,
                         s->why);
  return 0;
}
static const struct rule os_version = {
  "os-version", "the OS version is one Azure supports", SEV_BLOCKER,
  RULE_NEEDS_OS, check_os_version,
};
RULE (os_version);

static int
check_arch (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  const char *a = gs->arch;

  if (!a || !strcmp (a, "x86_64"))
    return 0;
  if (!strcmp (a, "i386") || !strcmp (a, "i486") || !strcmp (a, "i586") ||
      !strcmp (a, "i686"))
    return rule_finding (ctx, &arch_32bit, SEV_BLOCKER, gs->root,
                         "migrate a 64-bit installation",
                         "the guest is 32-bit (%s): Azure runs 64-bit "
                         "guests", a);
  return rule_finding (ctx, &arch_32bit, SEV_BLOCKER, gs->root,
                       "azprep migrates x86_64 guests",
                       "the guest architecture %s is not x86_64", a);
}
static const struct rule arch_32bit = {
  "arch-32bit", "the guest is 64-bit x86 (x86_64)", SEV_BLOCKER,
  RULE_NEEDS_OS, check_arch,
};
RULE (arch_32bit);
