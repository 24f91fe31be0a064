/* windows-rdp: Remote Desktop reachable on Azure.  Registry values from
 * Microsoft's VHD preparation guide (local and policy keys), TermService
 * not disabled, the firewall profiles on, and the built-in "Remote
 * Desktop" rule group (EmbedCtxt=@FirewallAPI.dll,-28752) active.  The
 * rules are edited in place, Active=FALSE to Active=TRUE, never
 * rebuilt: their schema version differs per build.  Block rules for
 * RDP, local or from Group Policy, are reported, not removed: someone
 * put them there. */

#include <stdlib.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "windows/firewall.h"
#include "windows/windows.h"

#define TS "Control\\Terminal Server"
#define RDPTCP TS "\\WinStations\\RDP-Tcp"
#define POLICY "Policies\\Microsoft\\Windows NT\\Terminal Services"
#define FWPOL "Services\\SharedAccess\\Parameters\\FirewallPolicy"
#define RULES FWPOL "\\FirewallRules"
#define RDP_GROUP "@FirewallAPI.dll,-28752"
#define RDP_PORT 3389
/* Group Policy's rule store (SOFTWARE): it wins over the local one. */
#define GPO_RULES "Policies\\Microsoft\\WindowsFirewall\\FirewallRules"

#define RDP(val, data, text) \
  { "windows-rdp-setting", HIVE_SYSTEM, RDPTCP, val, WIN_DWORD, data, \
    .flags = WIN_IF_KEY, .why = text }
#define POL(val, data, text) \
  { "windows-rdp-policy", HIVE_SOFTWARE, POLICY, val, WIN_DWORD, data, \
    .why = text }
#define PROFILE(p) \
  { "windows-firewall-profile", HIVE_SYSTEM, FWPOL "\\" p, \
    "EnableFirewall", WIN_DWORD, 1, .flags = WIN_IF_KEY, \
    .why = "firewall profile " p " is off (Azure expects it on, with " \
    "the Remote Desktop rules active)" }

static const struct win_reg rows[] = {
  { "windows-rdp-deny", HIVE_SYSTEM, TS, "fDenyTSConnections", WIN_DWORD, 0,
    .why = "Remote Desktop connections are denied" },
  RDP ("PortNumber", 3389, "Remote Desktop port is not 3389"),
  RDP ("LanAdapter", 0, "Remote Desktop listens on one adapter only"),
  RDP ("UserAuthentication", 1, "Network Level Authentication is off"),
  RDP ("KeepAliveTimeout", 1, "keep-alive timeout"),
  RDP ("fInheritReconnectSame", 1, "reconnect setting"),
  RDP ("fReconnectSame", 0, "reconnect setting"),
  RDP ("MaxInstanceCount", 0xffffffff, "connection limit"),
  { "windows-rdp-certificate", HIVE_SYSTEM, RDPTCP,
    "SSLCertificateSHA1Hash", WIN_DELETE,
    .why = "Remote Desktop is bound to a certificate of the source host" },
  { "windows-rdp-service", HIVE_SYSTEM, "Services\\TermService", "Start",
    WIN_DWORD, 3, .flags = WIN_IF_KEY | WIN_IF_DISABLED,
    .why = "the Remote Desktop service is disabled" },
  PROFILE ("DomainProfile"), PROFILE ("StandardProfile"),
  PROFILE ("PublicProfile"),
  { "windows-rdp-deny", HIVE_SOFTWARE, POLICY, "fDenyTSConnections",
    WIN_DWORD, 0, .flags = WIN_IF_KEY,
    .why = "a policy denies Remote Desktop connections" },
  POL ("KeepAliveEnable", 1, "keep-alive is off"),
  POL ("KeepAliveInterval", 1, "keep-alive interval"),
  POL ("fDisableAutoReconnect", 0, "automatic reconnection is off"),
};

WIN_STATIC_TABLE (rdp, "windows-rdp", rows);

/* An active Block rule for port 3389 (alone, in a list or a range) or
 * for the Remote Desktop group. */
static bool
blocks_rdp (const struct fw_rule *r)
{
  return r->action == FW_BLOCK && r->active == 1
    && (fw_rule_has_lport (r, RDP_PORT) || fw_rule_in_group (r, RDP_GROUP));
}

/* The text of a REG_SZ or REG_EXPAND_SZ rule value (its type in
 * *type if given), NULL if it is not one (or absent); -1 on error
 * (reported). */
static int
rule_text (struct guest *gs, hive_h *h, enum win_hive which,
           const char *path, hive_node_h node, const char *name,
           char **object, char **rule, hive_type *type)
{
  struct win_value v;

  *rule = NULL;
  *object = win_object (gs, which, path, name);
  if (!*object || win_value_get (h, node, name, *object, &v) == -1)
    return -1;
  if (v.type == hive_t_REG_SZ || v.type == hive_t_REG_EXPAND_SZ)
    *rule = win_value_text (&v);
  if (type)
    *type = v.type;
  win_value_free (&v);
  return 0;
}

/* The values of the rule store at path under base (-1: an error
 * already reported); *vals stays NULL when the key is absent.  0 or
 * -1 (reported). */
static int
store_values (hive_h *h, enum win_hive which, int64_t base,
              const char *path, int64_t *node, hive_value_h **vals)
{
  *vals = NULL;
  *node = base == -1 ? -1
    : win_key_lookup (h, win_hive_name (which), base, path);
  if (*node <= 0)
    return *node == 0 ? 0 : -1;
  *vals = hivex_node_values (h, *node);
  if (!*vals) {
    azp_error ("%s hive: %s: %m", win_hive_name (which), path);
    return -1;
  }
  return 0;
}

/* Group Policy firewall rules are the domain's: a Block rule for
 * Remote Desktop there is reported (the policy, not the guest, must
 * change), never edited. */
static int
policy_blocks (struct guest *gs)
{
  hive_h *h = win_hive_open (gs, HIVE_SOFTWARE, false);
  CLEANUP_FREE hive_value_h *vals = NULL;
  int64_t node;
  int ret = -1;

  if (!h)
    return -1;
  if (store_values (h, HIVE_SOFTWARE, hivex_root (h), GPO_RULES, &node,
                    &vals) == -1 || !vals) {
    hivex_close (h);
    return node == 0 ? 0 : -1;
  }
  for (size_t i = 0; vals[i]; i++) {
    CLEANUP_FREE char *name = hivex_value_key (h, vals[i]);
    CLEANUP_FREE char *object = NULL, *rule = NULL;
    struct fw_rule fr;

    if (!name || rule_text (gs, h, HIVE_SOFTWARE, GPO_RULES, node, name,
                            &object, &rule, NULL) == -1
        || (rule && fw_rule_parse (rule, &fr) == -1))
      goto out;
    if (rule && blocks_rdp (&fr)
        && report_finding (gs->report, SEV_WARNING,
                           "windows-rdp-firewall-policy-block", object,
                           "change the Group Policy that sets it (a local "
                           "change is overwritten at the next refresh)",
                           false, "a Group Policy firewall rule blocks "
                           "Remote Desktop (port 3389)") == -1)
      goto out;
  }
  ret = 0;
 out:
  hivex_close (h);
  return ret;
}

/* A rule to activate: its value's name and type, its text before and
 * after. */
struct edit {
  char *name, *before, *after;
  hive_type type;
};

/* Write the edited rules, each with its own type (REG_SZ, or
 * REG_EXPAND_SZ as some tools store them). */
static int
write_edits (struct guest *gs, hive_h *h, int64_t node,
             const struct edit *e, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    CLEANUP_FREE char *object = win_object (gs, HIVE_SYSTEM, RULES,
                                            e[i].name);
    const char *s = e[i].after;
    size_t len;
    CLEANUP_FREE char *data = win_utf16 (&s, 1, false, &len);
    if (!object || !data
        || win_value_set (h, node, e[i].name, e[i].type, data, len,
                          object) == -1
        || report_change (gs->report, "registry", object, e[i].before,
                          e[i].after) == -1)
      return -1;
  }
  return 0;
}

/* The built-in Remote Desktop rules: Active=FALSE becomes Active=TRUE,
 * allow rules only, however many there are.  Block rules on 3389 are
 * reported.  Rules to change are gathered first: setting a value
 * invalidates the value handles. */
static int
rules (struct guest *gs, bool apply)
{
  hive_h *h = win_hive_open (gs, HIVE_SYSTEM, apply);
  CLEANUP_FREE hive_value_h *vals = NULL;
  struct edit *e = NULL;
  size_t n = 0, nvals = 0;
  int64_t base, node;
  int ret = -1;

  if (!h)
    return -1;
  base = win_table_base (gs, h, HIVE_SYSTEM);
  if (store_values (h, HIVE_SYSTEM, base, RULES, &node, &vals) == -1
      || !vals) {
    hivex_close (h);
    return node == 0 ? 0 : -1;
  }
  while (vals[nvals])
    nvals++;
  e = calloc (nvals + 1, sizeof *e);
  if (!e) {
    azp_error ("out of memory");
    goto out;
  }
  for (size_t i = 0; vals[i]; i++) {
    CLEANUP_FREE char *name = hivex_value_key (h, vals[i]);
    CLEANUP_FREE char *object = NULL, *rule = NULL;
    struct fw_rule fr;
    hive_type type;

    if (!name || rule_text (gs, h, HIVE_SYSTEM, RULES, node, name,
                            &object, &rule, &type) == -1)
      goto out;
    if (!rule)
      continue;
    if (fw_rule_parse (rule, &fr) == -1)
      goto out;
    if (blocks_rdp (&fr)) {
      if (!apply
          && report_finding (gs->report, SEV_WARNING,
                             "windows-rdp-firewall-block", object,
                             "remove or disable the rule if Remote Desktop "
                             "is how you reach the VM", false,
                             "a firewall rule blocks Remote Desktop "
                             "(port 3389)") == -1)
        goto out;
      continue;
    }
    if (!fw_rule_in_group (&fr, RDP_GROUP) || fr.action != FW_ALLOW
        || fr.active != 0)
      continue;
    if (!apply) {
      if (report_finding (gs->report, SEV_WARNING, "windows-rdp-firewall",
                          object, NULL, true, "Remote Desktop firewall "
                          "rule %s is not active", name) == -1)
        goto out;
      continue;
    }
    e[n].after = fw_rule_activate (rule, &fr);
    e[n].name = name;
    e[n].before = rule;
    e[n].type = type;
    name = rule = NULL;
    if (!e[n++].after)
      goto out;
  }
  ret = write_edits (gs, h, node, e, n);
 out:
  for (size_t i = 0; i < n; i++) {
    free (e[i].name);
    free (e[i].before);
    free (e[i].after);
  }
  free (e);
  if (ret == 0 && n > 0)
    return win_hive_commit (gs, HIVE_SYSTEM, h);
  hivex_close (h);
  return ret;
}

static int
rdp_check (struct guest *gs)
{
  if (win_table_check (gs, rows, sizeof rows / sizeof rows[0]) == -1
      || policy_blocks (gs) == -1)
    return -1;
  return rules (gs, false);
}

static int
rdp_apply (struct guest *gs)
{
  if (win_table_apply (gs, rows, sizeof rows / sizeof rows[0]) == -1)
    return -1;
  return rules (gs, true);
}

static const struct fixup windows_rdp = {
  .name = "windows-rdp",
  .heading = "Remote Desktop on, its firewall rules active, profiles on",
  .order = 300,
  .guests = FIXUP_WINDOWS,
  .applies = win_not_refused,
  .check = rdp_check,
  .apply = rdp_apply,
};
FIXUP (windows_rdp);
