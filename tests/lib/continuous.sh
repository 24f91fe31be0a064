# Sourced by the tests of replicate --continuous and of a stopped cycle
# (after tests/lib/functions.sh and tests/lib/azurite.sh), with the
# state in $T/state.  Sourcing it requires qemu-img, qemu-io and
# qemu-nbd and starts Azurite.
#
#   MiB                 1048576
#   count EVENT FILE    the "event":"EVENT" lines of FILE
#   jget JOB EXPR       json_get on the journal of JOB
#   jnum JOB FIELD      a number field of that journal, without node
#   img_digest IMG V    the digest of an image as the blobtool sees it
#   snap_of_cycle CONTAINER BLOB CYCLE
#                       that cycle's recovery point
#   running             the pid of an azprep run in the background,
#                       killed (-9) when the test ends unless cleared
#   pause_waiting PID JOB MIN
#                       stop (SIGSTOP) azprep PID once it waits after
#                       cycle MIN or later; sets CAUGHT
#   slow_job_b          job "b" through a proxy that slows every reply
#                       by 200 ms: the source img (512 MiB qcow2, 12 MiB
#                       of data), V, the command rep_b
#   change_32_mib       write 32 MiB across img
requires qemu-img qemu-io qemu-nbd
azurite_start

MiB=$((1024 * 1024))
count () { grep -c "\"event\":\"$1\"" "$2" || true; }
jget () { json_get "$T/state/$1.json" "$2"; }
# A number field of the journal (one disk), without starting node.
jnum () { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([0-9]*\).*/\1/p" \
            "$T/state/$1.json" | head -1; }
# The digest of an image as the blobtool sees it, and of a blob or one
# of its snapshots.
img_digest () {
  qemu-img convert -U -O raw "$1" "$T/tmp.raw"
  blobtool filedigest "$T/tmp.raw" "$2"
  rm -f "$T/tmp.raw"
}
snap_of_cycle () {  # CONTAINER BLOB CYCLE: that cycle's recovery point
  blobtool list "$1" >"$T/list.json"
  json_get "$T/list.json" \
    "d.filter(b=>b.snapshot && b.name==='$2' && b.metadata.cycle==='$3').map(b=>b.snapshot)[0]"
}
# pause_waiting PID JOB MIN: return once azprep PID is stopped
# (SIGSTOP) while it waits after cycle MIN or a later one (sources
# closed); sets CAUGHT to the cycles completed.
running=
stop_running () { [ -z "$running" ] || kill -9 "$running" 2>/dev/null || true; }
on_exit stop_running
pause_waiting () {
  local i c
  for i in $(seq 1 1200); do
    kill -0 "$1" 2>/dev/null || { cat "$T/err.$2"; fail "azprep ($2) exited"; }
    if [ -f "$T/state/$2.json" ] && [ "$(jnum "$2" next_cycle)" != 0 ] &&
       [ "$(jnum "$2" cycles)" -ge "$3" ]; then
      kill -STOP "$1"
      # Stopped now: if it still waits, the next cycle cannot begin.
      if [ "$(jnum "$2" next_cycle)" != 0 ]; then
        CAUGHT=$(jnum "$2" cycles)
        return 0
      fi
      kill -CONT "$1"
    fi
    sleep 0.1
  done
  fail "$2: no wait after cycle $3"
}

slow_job_b () {
  faultproxy_start --slow 200
  export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT")
  img=$T/b.qcow2
  V=$((512 * MiB))
  qemu-img create -q -f qcow2 "$img" 512M
  write_extents "$img" 12 40 1 1M
  rep_b=("$AZPREP" replicate --container vms --name b --state "$T/state"
         --json --parallel 1 "$img")
}

change_32_mib () { write_extents "$img" 32 15 20 1M 101; }
