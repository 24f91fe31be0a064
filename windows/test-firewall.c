/* Unit test: Windows Firewall rule strings as the registry keeps them
 * (FirewallPolicy\FirewallRules, Group Policy's WindowsFirewall\
 * FirewallRules): Action, Active, local ports (LPort lists, LPort2_10
 * ranges, keywords), the rule group, and the Active=TRUE rewrite. */
#include <stdlib.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "windows/firewall.h"

#define RDP_GROUP "@FirewallAPI.dll,-28752"

static struct fw_rule
parse (const char *text)
{
  struct fw_rule r;
  CHECK (fw_rule_parse (text, &r) == 0);
  return r;
}

static void
test_action_active (void)
{
  struct fw_rule r;

  r = parse ("v2.31|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=3389|"
             "Name=Block RDP|");
  CHECK (r.action == FW_BLOCK && r.active == 1);
  r = parse ("v2.10|Action=Allow|Active=FALSE|Dir=In|Protocol=6|LPort=3389|"
             "App=%SystemRoot%\\system32\\svchost.exe|Svc=termservice|"
             "Name=@FirewallAPI.dll,-28753|Desc=@FirewallAPI.dll,-28756|"
             "EmbedCtxt=@FirewallAPI.dll,-28752|");
  CHECK (r.action == FW_ALLOW && r.active == 0);
  CHECK (fw_rule_in_group (&r, RDP_GROUP));
  /* Respelled case: keys and values are read in any case. */
  r = parse ("v2.31|action=block|ACTIVE=true|lport=3389|"
             "embedctxt=@firewallapi.dll,-28752|");
  CHECK (r.action == FW_BLOCK && r.active == 1);
  CHECK (fw_rule_has_lport (&r, 3389) && fw_rule_in_group (&r, RDP_GROUP));
  /* No Action or Active field; other values. */
  r = parse ("v2.31|Dir=Out|Name=Nothing|");
  CHECK (r.action == FW_ACTION_OTHER && r.active == -1 && !r.group);
  r = parse ("v2.31|Action=Bypass|Active=maybe|");
  CHECK (r.action == FW_ACTION_OTHER && r.active == -1);
  /* A field value may hold '=' (Desc=a=b); the version has none. */
  r = parse ("v2.31|Desc=Active=TRUE|Action=Allow|");
  CHECK (r.action == FW_ALLOW && r.active == -1);
  /* Another group, or a group whose name only starts like it. */
  r = parse ("v2.31|Action=Allow|EmbedCtxt=@FirewallAPI.dll,-28502|");
  CHECK (!fw_rule_in_group (&r, RDP_GROUP));
  r = parse ("v2.31|Action=Allow|EmbedCtxt=@FirewallAPI.dll,-287520|");
  CHECK (!fw_rule_in_group (&r, RDP_GROUP));
}

static void
test_ports (void)
{
  struct fw_rule r;

  /* A list is the field repeated, or values with commas. */
  r = parse ("v2.30|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=80|"
             "LPort=443|LPort=3389|Name=Web and RDP|");
  CHECK (r.nlports == 3);
  CHECK (fw_rule_has_lport (&r, 80) && fw_rule_has_lport (&r, 3389));
  CHECK (!fw_rule_has_lport (&r, 3390));
  r = parse ("v2.30|Action=Block|Active=TRUE|LPort=22,3389|");
  CHECK (fw_rule_has_lport (&r, 3389) && fw_rule_has_lport (&r, 22));
  /* Ranges (LPort2_10), as a "block all inbound TCP" rule has them. */
  r = parse ("v2.31|Action=Block|Active=TRUE|Dir=In|Protocol=6|"
             "LPort2_10=1-66|LPort2_10=69-55554|LPort2_10=55556-65535|"
             "Name=TCP|");
  CHECK (r.nlports == 3);
  CHECK (fw_rule_has_lport (&r, 3389) && fw_rule_has_lport (&r, 1));
  CHECK (!fw_rule_has_lport (&r, 67) && !fw_rule_has_lport (&r, 55555));
  r = parse ("v2.31|Action=Block|Active=TRUE|LPort2_10=3380-3388|");
  CHECK (!fw_rule_has_lport (&r, 3389));
  /* Keywords are not ports; nor is a longer number starting with one. */
  r = parse ("v2.31|Action=Allow|Active=TRUE|LPort=RPC-EPMap|LPort=RPC|"
             "LPort=33890|");
  CHECK (r.nlports == 1 && !fw_rule_has_lport (&r, 3389));
  r = parse ("v2.31|Action=Allow|Active=TRUE|RPort=3389|");
  CHECK (r.nlports == 0 && !fw_rule_has_lport (&r, 3389));
}

static void
test_activate (void)
{
  static const char *const in[] = {
    "v2.10|Action=Allow|Active=FALSE|Dir=In|Protocol=6|LPort=3389|"
    "EmbedCtxt=@FirewallAPI.dll,-28752|",
    "v2.10|Action=Allow|active=false|LPort=3389|",
  };
  static const char *const out[] = {
    "v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=3389|"
    "EmbedCtxt=@FirewallAPI.dll,-28752|",
    "v2.10|Action=Allow|active=TRUE|LPort=3389|",
  };

  for (size_t i = 0; i < 2; i++) {
    struct fw_rule r = parse (in[i]);
    CLEANUP_FREE char *s = fw_rule_activate (in[i], &r);
    CHECK_STR (s, out[i]);
  }
}

int
main (void)
{
  test_action_active ();
  test_ports ();
  test_activate ();
  return UNIT_RESULT ("test-firewall");
}
