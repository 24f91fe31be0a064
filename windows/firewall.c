/* Windows Firewall rule strings: one pattern for a field, one for a
 * port item, compiled once; everything else is a field name. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prep/common/common.h"
#include "prep/common/regex.h"
#include "windows/firewall.h"

/* "|Key=Value": the version ("v2.31") has no '=', and a value may hold
 * one ("Desc=a=b") but never a '|'. */
static struct re field = {
  "firewall-field", "\\|([^|=]+)=([^|]*)"
};

/* One local port item: "3389" or a range "49152-65535". */
static struct re port_item = {
  "firewall-port", "^([0-9]{1,5})(?:-([0-9]{1,5}))?$"
};

static bool
is (const char *s, size_t len, const char *word)
{
  return len == strlen (word) && !strncasecmp (s, word, len);
}

static unsigned
number (const char *s, size_t len)
{
  unsigned v = 0;
  for (size_t i = 0; i < len; i++)
    v = v * 10 + (s[i] - '0');
  return v;
}

/* The port items of one LPort value (comma-separated), into r. */
static int
add_ports (struct fw_rule *r, const char *val, size_t len,
           pcre2_match_data *md)
{
  while (len > 0) {
    const char *comma = memchr (val, ',', len);
    size_t n = comma ? (size_t) (comma - val) : len;
    const char *lo, *hi;
    size_t lolen, hilen;
    int m = re_match (&port_item, val, n, 0, md);

    if (m == -1)
      return -1;
    if (m == 1 && r->nlports < FW_MAX_PORTS) {
      re_group (md, val, 1, &lo, &lolen);
      if (!re_group (md, val, 2, &hi, &hilen)) {
        hi = lo;
        hilen = lolen;
      }
      r->lports[r->nlports].lo = number (lo, lolen);
      r->lports[r->nlports].hi = number (hi, hilen);
      r->nlports++;
    }
    val += n + (comma != NULL);
    len -= n + (comma != NULL);
  }
  return 0;
}

/* One field, key = value. */
static int
take (struct fw_rule *r, const char *text, const char *key, size_t klen,
      const char *val, size_t vlen, pcre2_match_data *md)
{
  if (is (key, klen, "Action"))
    r->action = is (val, vlen, "Allow") ? FW_ALLOW
      : is (val, vlen, "Block") ? FW_BLOCK : FW_ACTION_OTHER;
  else if (is (key, klen, "Active")) {
    r->active = is (val, vlen, "TRUE") ? 1 : is (val, vlen, "FALSE") ? 0 : -1;
    r->active_at = val - text;
    r->active_len = vlen;
  }
  else if (is (key, klen, "EmbedCtxt")) {
    r->group = val;
    r->group_len = vlen;
  }
  else if (is (key, klen, "LPort") || is (key, klen, "LPort2_10"))
    return add_ports (r, val, vlen, md);
  return 0;
}

int
fw_rule_parse (const char *text, struct fw_rule *r)
{
  CLEANUP_PCRE2_MATCH_DATA_FREE pcre2_match_data *md = re_match_data ();
  CLEANUP_PCRE2_MATCH_DATA_FREE pcre2_match_data *pmd = re_match_data ();
  size_t len = strlen (text), start = 0;
  int m;

  memset (r, 0, sizeof *r);
  r->active = -1;
  if (!md || !pmd)
    return -1;
  while ((m = re_match (&field, text, len, start, md)) == 1) {
    const char *key, *val;
    size_t klen, vlen;

    re_group (md, text, 1, &key, &klen);
    re_group (md, text, 2, &val, &vlen);
    start = pcre2_get_ovector_pointer (md)[1];
    if (take (r, text, key, klen, val, vlen, pmd) == -1)
      return -1;
  }
  return m;
}

bool
fw_rule_has_lport (const struct fw_rule *r, unsigned port)
{
  for (size_t i = 0; i < r->nlports; i++)
    if (r->lports[i].lo <= port && port <= r->lports[i].hi)
      return true;
  return false;
}

bool
fw_rule_in_group (const struct fw_rule *r, const char *group)
{
  return r->group && is (r->group, r->group_len, group);
}

char *
fw_rule_activate (const char *text, const struct fw_rule *r)
{
  return xasprintf ("%.*sTRUE%s", (int) r->active_at, text,
                    text + r->active_at + r->active_len);
}
