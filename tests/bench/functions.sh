# Sourced by benchmarks.  Wall-clock helpers; nothing here asserts.
set -euo pipefail
: "${AZPREP:=$PWD/azprep}" "${IMAGES:=$PWD/build/images}"
B=$(mktemp -d "${TMPDIR:-/var/tmp}/azprep-bench.XXXXXX")
trap 'rm -rf "$B"' EXIT

# wall SECONDS_VAR CMD...: run CMD (output kept in $B/wall.log, its end
# shown if CMD fails), store seconds.
wall () {
  local __var=$1; shift
  local s e
  s=$(date +%s.%N)
  "$@" >"$B/wall.log" 2>&1 ||
    { echo "  (command failed: $*)"; tail -5 "$B/wall.log" | sed 's/^/    /'; }
  e=$(date +%s.%N)
  printf -v "$__var" '%.2f' "$(echo "$e - $s" | bc -l)"
}

# median of three runs of CMD into VAR.
median3 () {
  local __var=$1; shift
  local a b c
  wall a "$@"; wall b "$@"; wall c "$@"
  printf -v "$__var" '%s' "$(printf '%s\n' "$a" "$b" "$c" | sort -n | sed -n 2p)"
}

# load: the load averages now (benchmarks share the machine).
load () { cut -d' ' -f1-3 /proc/loadavg; }

# ratio A B: A/B with two decimals.
ratio () { echo "scale=2; $1 / $2" | bc -l; }

# report NAME OURS PEER TARGET: one line per figure.
report () {
  printf '  %-44s azprep %6ss  peer %6ss  ratio %sx  (target <= %sx)\n' \
    "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"
}
