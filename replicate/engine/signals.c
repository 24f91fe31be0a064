/* The signal thread of a replication: SIGINT and SIGTERM stop the job
 * cleanly.  They are blocked in every thread (so that no system call in
 * libcurl or libnbd is interrupted) and taken by one thread, which sets
 * the flag the cycle loop checks; a second signal kills at once.  The
 * flag is process-wide because signals are.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/engine/internal.h"

static volatile sig_atomic_t stop_requested;

/* Children (qemu-nbd, nbdkit, qemu-img) get the mask azprep had, plus
 * SIGINT and SIGTERM blocked: a Ctrl-C on the terminal reaches the
 * whole process group, and a batch system's or service manager's stop
 * every process of the job (Slurm signals the step's process group or
 * cgroup, systemd the unit's cgroup); the source servers must keep
 * serving until azprep has stopped cleanly and closes them (qemu-nbd
 * exits when its client goes, nbdkit on SIGQUIT: nbdkit_child_stop).
 */
static sigset_t child_mask;
static volatile sig_atomic_t stopper_active;

static void
stopper_atfork_child (void)
{
  if (stopper_active)
    pthread_sigmask (SIG_SETMASK, &child_mask, NULL);
}

static void
stopper_atfork_register (void)
{
  pthread_atfork (NULL, NULL, stopper_atfork_child);
}

static void *
stop_thread (void *arg)
{
  struct stopper *st = arg;
  int sig;

  if (sigwait (&st->set, &sig) != 0)
    return NULL;
  stop_requested = sig;
  azp_info ("%s: stopping after the writes in flight (the journal records "
            "them; send it again to stop at once)", strsignal (sig));
  if (sigwait (&st->set, &sig) != 0)
    return NULL;
  signal (sig, SIG_DFL);
  pthread_sigmask (SIG_UNBLOCK, &st->set, NULL);
  raise (sig);
  return NULL;
}

volatile sig_atomic_t *
stopper_start (struct stopper *st)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  int e;

  stop_requested = 0;
  pthread_once (&once, stopper_atfork_register);
  sigemptyset (&st->set);
  sigaddset (&st->set, SIGINT);
  sigaddset (&st->set, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &st->set, &st->old);
  child_mask = st->old;
  sigaddset (&child_mask, SIGINT);
  sigaddset (&child_mask, SIGTERM);
  e = pthread_create (&st->thread, NULL, stop_thread, st);
  if (e) {
    errno = e;
    azp_error ("pthread_create: %m");
    pthread_sigmask (SIG_SETMASK, &st->old, NULL);
    return NULL;
  }
  stopper_active = 1;
  st->running = true;
  return &stop_requested;
}

void
stopper_end (struct stopper *st)
{
  if (!st->running)
    return;
  stopper_active = 0;
  pthread_cancel (st->thread);
  pthread_join (st->thread, NULL);
  pthread_sigmask (SIG_SETMASK, &st->old, NULL);
  st->running = false;
}

void
stopper_wait (double secs)
{
  time_t end = time (NULL) + (time_t) secs;
  while (!stop_requested && time (NULL) < end)
    sleep (1);
}
