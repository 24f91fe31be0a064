/* windows-rdp: Remote Desktop reachable on Azure.  Registry values from
 * Microsoft's VHD preparation guide (local and policy keys), TermService
 * not disabled, the firewall profiles on, and the built-in "Remote
 * Desktop" rule group (EmbedCtxt=@FirewallAPI.dll,-28752) active.  The
 * rules are edited in place, Active=FALSE to Active=TRUE, never
 * rebuilt: their schema version differs per build.  Block rules for
 * RDP are reported, not removed: someone put them there. */
#include <string.h>

#include "azprep.h"
#include "fixup.h"
#include "windows.h"

#define TS "Control\\Terminal Server"
#define RDPTCP TS "\\WinStations\\RDP-Tcp"
#define POLICY "Policies\\Microsoft\\Windows NT\\Terminal Services"
#define FWPOL "Services\\SharedAccess\\Parameters\\FirewallPolicy"
#define RULES FWPOL "\\FirewallRules"
#define RDP_GROUP "|EmbedCtxt=@FirewallAPI.dll,-28752|"

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

#define MAX_RULES 32

/* The built-in Remote Desktop rules: Active=FALSE becomes Active=TRUE,
 * allow rules only.  Block rules on 3389 are reported.  Rules to change
 * are gathered first: setting a value invalidates the value handles. */
static int
rules (struct guest *gs, bool apply)
{
  hive_h *h = win_hive_open (gs, HIVE_SYSTEM, apply);
  CLEANUP_FREE hive_value_h *vals = NULL;
  char *names[MAX_RULES], *befores[MAX_RULES], *afters[MAX_RULES];
  size_t n = 0;
  int64_t base, node;
  int ret = -1;

  if (!h)
    return -1;
  base = win_table_base (gs, h, HIVE_SYSTEM);
  node = base == -1 ? -1 : win_key_lookup (h, "SYSTEM", base, RULES);
  if (node <= 0) {
    hivex_close (h);
    return node == 0 ? 0 : -1;
  }
  vals = hivex_node_values (h, node);
  if (!vals) {
    error ("SYSTEM hive: %s: %m", RULES);
    goto out;
  }
  for (size_t i = 0; vals[i] && n < MAX_RULES; i++) {
    CLEANUP_FREE char *name = hivex_value_key (h, vals[i]);
    CLEANUP_FREE char *object = NULL, *rule = NULL;
    struct win_value v;
    char *act;

    if (!name || !(object = win_object (gs, HIVE_SYSTEM, RULES, name)))
      goto out;
    if (win_value_get (h, node, name, object, &v) == -1)
      goto out;
    if (v.type == hive_t_REG_SZ || v.type == hive_t_REG_EXPAND_SZ)
      rule = win_value_text (&v);
    win_value_free (&v);
    if (!rule)
      continue;
    if (strstr (rule, "|Action=Block|") && strstr (rule, "|Active=TRUE|")
        && (strstr (rule, "|LPort=3389|") || strstr (rule, RDP_GROUP))) {
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
    if (!strstr (rule, RDP_GROUP) || !strstr (rule, "|Action=Allow|")
        || !(act = strstr (rule, "|Active=FALSE|")))
      continue;
    if (!apply) {
      if (report_finding (gs->report, SEV_WARNING, "windows-rdp-firewall",
                          object, NULL, true, "Remote Desktop firewall "
                          "rule %s is not active", name) == -1)
        goto out;
      continue;
    }
    afters[n] = xasprintf ("%.*s|Active=TRUE|%s", (int) (act - rule), rule,
                           act + strlen ("|Active=FALSE|"));
    names[n] = name;
    befores[n] = rule;
    name = rule = NULL;
    n++;
    if (!afters[n - 1])
      goto out;
  }
  for (size_t i = 0; i < n; i++) {
    CLEANUP_FREE char *object = win_object (gs, HIVE_SYSTEM, RULES,
                                            names[i]);
    const char *s = afters[i];
    size_t len;
    CLEANUP_FREE char *data = win_utf16 (&s, 1, false, &len);
    if (!object || !data
        || win_value_set (h, node, names[i], hive_t_REG_SZ, data, len,
                          object) == -1
        || report_change (gs->report, "registry", object, befores[i],
                          afters[i]) == -1)
      goto out;
  }
  ret = 0;
 out:
  for (size_t i = 0; i < n; i++) {
    free (names[i]);
    free (befores[i]);
    free (afters[i]);
  }
  if (ret == 0 && n > 0)
    return win_hive_commit (gs, HIVE_SYSTEM, h);
  hivex_close (h);
  return ret;
}

static int
rdp_check (struct guest *gs)
{
  if (win_table_check (gs, rows, sizeof rows / sizeof rows[0]) == -1)
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
