/* The command line of migrate's final delta cycle: see
 * migrate_final_argv in replicate/migrate/migrate.h. */
#include <string.h>

#include "replicate/migrate/migrate.h"

/* A fixed-capacity argv: adding past the end is refused, never
 * written. */
struct argv_builder {
  const char **v;
  size_t n, cap;
  bool overflow;
};

static void
add (struct argv_builder *b, const char *s)
{
  if (b->n + 1 >= b->cap) {     /* keep one slot for the NULL */
    b->overflow = true;
    return;
  }
  b->v[b->n++] = s;
}

const char **
migrate_final_argv (const struct migrate *m, const char *self,
                    const char *container, bool json)
{
  /* 10 fixed words, 10 optional ones, 3 per disk, the NULL. */
  struct argv_builder b = { .cap = 10 + 10 + 3 * m->j.ndisks + 1 };
  const struct lowered *l = opt_lowered ();

  b.v = calloc (b.cap, sizeof *b.v);
  if (!b.v) {
    azp_error ("out of memory");
    return NULL;
  }
  add (&b, self);
  add (&b, "replicate");
  add (&b, "--name");
  add (&b, m->name);
  add (&b, "--state");
  add (&b, m->state_dir);
  add (&b, "--cycles");
  add (&b, "1");
  add (&b, "--to");
  add (&b, container);
  if (m->creds_file) {
    add (&b, "--credentials");
    add (&b, m->creds_file);
  }
  /* The job's lock is shared with the child through its environment
   * (STATE_JOIN_ENV), not here. */
  if (m->sa.container) {
    add (&b, "--state-container");
    add (&b, m->sa.container);
  }
  if (m->cacert) {
    add (&b, "--cacert");
    add (&b, m->cacert);
  }
  if (m->allow_http)
    add (&b, "--allow-http");
  if (json)
    add (&b, "--json");
  /* This run's flags (a vsphere:// source): the child is this run. */
  if (l->vsphere_insecure)
    add (&b, "--vsphere-insecure");
  if (l->vsphere_allow_http)
    add (&b, "--vsphere-allow-http");
  for (size_t k = 0; k < m->j.ndisks; k++) {
    add (&b, "--format");
    add (&b, m->j.disks[k].format ? m->j.disks[k].format : "auto");
    add (&b, m->j.disks[k].source);
  }
  if (b.overflow) {
    azp_error ("%s: internal error: the final cycle's command line is "
               "longer than counted", m->name);
    free (b.v);
    return NULL;
  }
  b.v[b.n] = NULL;
  return b.v;
}
