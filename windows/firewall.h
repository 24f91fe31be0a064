/* windows/firewall: the Windows Firewall rules as the registry keeps
 * them, one string per rule ("v2.31|Action=Allow|Active=TRUE|Dir=In|
 * Protocol=6|LPort=3389|...|EmbedCtxt=@FirewallAPI.dll,-28752|"), read
 * field by field with pcre2 patterns compiled once.  Keys and the
 * Action/Active values are read in any case.
 */
#ifndef AZPREP_WINDOWS_FIREWALL_H
#define AZPREP_WINDOWS_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>

#define FW_MAX_PORTS 32         /* port items kept per rule; more are ignored */

enum fw_action { FW_ACTION_OTHER, FW_ALLOW, FW_BLOCK };

struct fw_rule {
  enum fw_action action;
  int active;                   /* Active=: 1 TRUE, 0 FALSE, -1 absent */
  size_t active_at, active_len; /* where its value is in the text */
  const char *group;            /* EmbedCtxt= value, in the text; or NULL */
  size_t group_len;
  /* Local ports: LPort=N (repeated for a list, or N,M) and
   * LPort2_10=N-M ranges; keywords such as RPC are not ports. */
  struct { unsigned lo, hi; } lports[FW_MAX_PORTS];
  size_t nlports;
};

/* Read the rule string text into *r (which points into text).  0, or
 * -1 (reported). */
int fw_rule_parse (const char *text, struct fw_rule *r);
/* Does the rule name this local port? */
bool fw_rule_has_lport (const struct fw_rule *r, unsigned port);
/* Is the rule in this group (EmbedCtxt, any case)? */
bool fw_rule_in_group (const struct fw_rule *r, const char *group);
/* A copy of text with the rule's Active value set to TRUE, the rest
 * unchanged (NULL: out of memory, reported). */
char *fw_rule_activate (const char *text, const struct fw_rule *r);

#endif /* AZPREP_WINDOWS_FIREWALL_H */
