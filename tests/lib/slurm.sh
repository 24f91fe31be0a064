# Sourced by the Slurm tests and benchmark (after tests/lib/functions.sh):
# a one-node Slurm cluster on loopback, with its own munged, in scratch
# directories, stopped when the test ends.
#
#   slurm_start [--licenses L] [--cpus N] [--conf KEY=VALUE]...
#                   start munged (as the munge user) and slurmctld and
#                   slurmd (-N localhost) on 127.0.0.1, on free ports;
#                   exports SLURM_CONF so sbatch, squeue, scontrol use
#                   it.  L: slurm.conf Licenses (e.g. esx1:2); N: the
#                   node's CPUs (default 4: tasks are mostly waiting on
#                   I/O; SlurmdParameters=config_overrides lets it
#                   exceed the machine's); --conf: a slurm.conf line
#                   that replaces the one with the same KEY (or is
#                   added), e.g. SlurmctldDebug=debug2 to time a job
#   slurm_wait JOBID [SECS]
#                   wait until no task of the job (an array) is pending
#                   or running (default at most 600 s); fails after
#   slurm_states JOBID
#                   "TASK STATE" lines of an array's tasks, from
#                   scontrol (the cluster keeps no accounting)
#   slurm_stop      stop the daemons (done at exit)
# The cluster's files are in $SLURM_DIR; logs slurmctld.log, slurmd.log.
# The daemons run as root (with sudo -n when the test is not root; jobs
# run as the user who submits them).
requires munged slurmctld slurmd sbatch scontrol squeue

SLURM_DIR=
_slurm_pids=()
SUDO=

_slurm_port () {
  python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
}

slurm_start () {
  local licenses= cpus=4 conf=() kv
  while [ $# -gt 0 ]; do
    case $1 in
      --licenses) licenses=$2; shift 2 ;;
      --cpus) cpus=$2; shift 2 ;;
      --conf) conf+=("$2"); shift 2 ;;
      *) fail "slurm_start: unknown option $1" ;;
    esac
  done
  if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null ||
      skip "a Slurm cluster needs root or sudo -n (munged, slurmd)"
    SUDO="sudo -n"
  fi
  id munge >/dev/null 2>&1 || skip "no munge user (apt-get install munge)"
  # munged runs as munge: its directory is not under $T (mode 700).
  SLURM_DIR=$(mktemp -d "${TMPDIR:-/var/tmp}/azprep-slurm.XXXXXX")
  on_exit slurm_stop
  local M=$SLURM_DIR/munge
  mkdir -p "$M/key" "$SLURM_DIR/state" "$SLURM_DIR/spool"
  chmod 755 "$SLURM_DIR" "$M"
  head -c 1024 /dev/urandom > "$M/key/munge.key"
  $SUDO chown -R munge:munge "$M"
  $SUDO chown root "$SLURM_DIR/state" "$SLURM_DIR/spool"
  $SUDO chmod 700 "$M/key"
  $SUDO chmod 400 "$M/key/munge.key"
  # The socket's directory must be searchable by all; the key's not.
  $SUDO runuser -u munge -- munged --socket="$M/munge.socket" \
    --key-file="$M/key/munge.key" --pid-file="$M/munged.pid" \
    --log-file="$M/munged.log" --seed-file="$M/munged.seed" \
    || { $SUDO cat "$M/munged.log"; fail "munged did not start"; }

  local cport dport
  cport=$(_slurm_port)
  dport=$(_slurm_port)
  cat > "$SLURM_DIR/slurm.conf" <<EOT
ClusterName=azpreptest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$cport
SlurmdPort=$dport
SlurmctldParameters=enable_configless
AuthType=auth/munge
AuthInfo=socket=$M/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/slurmctld.log
SlurmdLogFile=$SLURM_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
# The tuning replicate/fleet/replicate.sbatch explains: an Epilog (any)
# has slurmd report a job's end in a message on which slurmctld starts
# the next task at once (without one it waits for a scheduling pass);
# batch_sched_delay=0: that pass (an array's first tasks) comes within
# a second of a submission; sched_interval=1 (tests only): --begin and
# requeued tasks are looked at every second, not every minute.
SchedulerParameters=batch_sched_delay=0,sched_interval=1
Epilog=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MinJobAge=600
KillWait=30
SlurmdParameters=config_overrides
${licenses:+Licenses=$licenses}
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1024 State=UNKNOWN
PartitionName=azprep Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOT
  for kv in "${conf[@]}"; do
    grep -v "^${kv%%=*}=" "$SLURM_DIR/slurm.conf" > "$SLURM_DIR/conf.new" ||
      true
    echo "$kv" >> "$SLURM_DIR/conf.new"
    mv "$SLURM_DIR/conf.new" "$SLURM_DIR/slurm.conf"
  done
  export SLURM_CONF=$SLURM_DIR/slurm.conf
  $SUDO slurmctld -D -i -f "$SLURM_CONF" >"$SLURM_DIR/slurmctld.out" 2>&1 &
  _slurm_pids+=($!)
  $SUDO slurmd -D -N localhost -f "$SLURM_CONF" >"$SLURM_DIR/slurmd.out" 2>&1 &
  _slurm_pids+=($!)
  local i
  for i in $(seq 1 600); do
    if scontrol show node localhost 2>/dev/null |
        grep -Eq 'State=(IDLE|MIXED|ALLOCATED)'; then
      return 0
    fi
    sleep 0.1
  done
  $SUDO cat "$SLURM_DIR/slurmctld.log" "$SLURM_DIR/slurmd.log" | tail -30
  fail "the Slurm node did not come up"
}

slurm_wait () {
  local job=$1 secs=${2:-600} i out
  for i in $(seq 1 $((secs * 5))); do
    # Only an answer that lists no task ends the wait: a squeue that
    # fails (slurmctld busy: "Socket timed out") prints nothing either.
    if out=$(squeue -h -j "$job" 2>&1); then
      [ -z "$out" ] && return 0
    else
      # Done so long ago that slurmctld forgot it (MinJobAge).
      case $out in *"Invalid job id"*) return 0 ;; esac
    fi
    sleep 0.2
  done
  squeue -j "$job" || true
  fail "Slurm job $job still queued or running after $secs s"
}

slurm_states () {
  scontrol -o show job "$1" |
    sed -n 's/.*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\) .*/\1 \2/p' |
    sort -n
}

slurm_stop () {
  local p
  # Their pid files: under sudo, $! is sudo's.
  for p in slurmctld slurmd; do
    [ -n "$SLURM_DIR" ] && [ -f "$SLURM_DIR/$p.pid" ] &&
      $SUDO kill "$(cat "$SLURM_DIR/$p.pid")" 2>/dev/null
  done
  for p in "${_slurm_pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${_slurm_pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  _slurm_pids=()
  if [ -n "$SLURM_DIR" ] && [ -f "$SLURM_DIR/munge/munged.pid" ]; then
    p=$(cat "$SLURM_DIR/munge/munged.pid")
    $SUDO kill "$p" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.1
    done
  fi
  [ -n "$SLURM_DIR" ] && $SUDO rm -rf "$SLURM_DIR"
  SLURM_DIR=
}
