/* azprep replicate --vms FLEET (replicate/cmd/fleet.c): each VM of a
 * fleet file replicated as its own job, named after the VM.
 */
#ifndef AZPREP_REPLICATE_FLEET_H
#define AZPREP_REPLICATE_FLEET_H

#include <stdint.h>

#include "replicate/engine/replicate.h"
#include "replicate/engine/state.h"

/* The exit code of replicate_job_run's result (replicate.c). */
int replicate_exit (int r);

/* Replicate VM index of the fleet file path in this process, with the
 * options of o (its name, disks and formats replaced by the VM's).
 * Returns the exit code. */
int replicate_fleet_one (const char *path, int64_t index,
                         const struct replicate_opts *o);

/* Replicate every VM of the fleet file, each in a child azprep run with
 * this command line (argv, from "replicate" on) and "--vm-index I", at
 * most jobs at a time.  Their output lines are prefixed with the VM's
 * name ("vm" in JSON lines).  SIGINT and SIGTERM are passed on to the
 * children once.  Returns the worst exit code. */
int replicate_fleet_all (const char *path, int jobs, bool json, int argc,
                         char **argv);

#endif
