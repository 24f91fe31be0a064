# Sourced by benchmarks: timing, the alternation of a pair and its
# report.  Nothing here asserts: a benchmark prints figures, never fails
# on time.
#
# The method (issue 18): a pair (a peer and azprep) runs alternately,
# peer then azprep, BENCH_RUNS times (default 3; at least 3 to be
# believed).  Each side's median and spread (min-max) are printed, and
# the ratio of each adjacent pair, with its median and spread, against
# the target; the load average before and after.  When the ratios'
# spread is wider than the gap between their median and the target, the
# verdict is "inconclusive": the noise is larger than the margin.
set -euo pipefail
: "${AZPREP:=$PWD/azprep}" "${IMAGES:=$PWD/build/images}"
BENCH_RUNS=${BENCH_RUNS:-3}
B=$(mktemp -d "${TMPDIR:-/var/tmp}/azprep-bench.XXXXXX")
trap 'rm -rf "$B"' EXIT

# timed CMD...: run CMD (its output in $B/wall.log, the end shown if it
# fails); TIMED_WALL and TIMED_CPU (user + system seconds of CMD and
# the children it waited for) set; CMD's exit status returned.
timed () {
  local rc=0 t TIMEFORMAT='%R %U %S'
  { time "$@" >"$B/wall.log" 2>&1 || rc=$?; } 2>"$B/time"
  t=$(tail -1 "$B/time")
  TIMED_WALL=$(awk '{ printf "%.2f", $1 }' <<<"$t")
  TIMED_CPU=$(awk '{ printf "%.2f", $2 + $3 }' <<<"$t")
  if [ "$rc" != 0 ]; then
    echo "  (command failed, exit $rc: $*)"
    tail -25 "$B/wall.log" | sed 's/^/    /'
  fi
  return "$rc"
}

# wall SECONDS_VAR CMD...: timed, the wall-clock seconds into the var.
wall () {
  local __var=$1; shift
  timed "$@" || true
  printf -v "$__var" '%s' "$TIMED_WALL"
}

# checked CMD...: an azprep check, exit 0 on a verdict (0 ready, 3 not
# ready, 4 ready with warnings), 1 when the check could not be made.
checked () {
  local rc=0
  "$@" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 3 ] || [ "$rc" = 4 ]
}

# load: the load averages now (benchmarks share the machine).
load () { cut -d' ' -f1-3 /proc/loadavg; }

# ratio A B: A/B with two decimals.
ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }

# stats V...: "median min max" of the values.
stats () {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
    printf "%.2f %.2f %.2f", m, v[1], v[NR] }'
}

# verdict OP TARGET MEDIAN MIN MAX: met, missed or inconclusive (the
# spread wider than the gap between the median and the target).
verdict () {
  awk -v op="$1" -v t="$2" -v m="$3" -v lo="$4" -v hi="$5" 'BEGIN {
    ok = op == "<=" ? m <= t : m >= t;
    gap = m > t ? m - t : t - m;
    if (hi - lo > gap)
      printf "inconclusive (spread %.2f wider than the gap %.2f to the target)",
             hi - lo, gap;
    else
      printf ok ? "met" : "missed" }'
}

# bench_summary LABEL OP TARGET MEDIAN MIN MAX TIMES LOAD0 LOAD1 VERDICT:
# a row of make bench's table, when $BENCH_SUMMARY is set.
bench_summary () {
  [ -n "${BENCH_SUMMARY:-}" ] || return 0
  printf '| %s | %s %sx | %sx (%s-%s) | %s | %s / %s | %s |\n' "$@" \
    >>"$BENCH_SUMMARY"
}

# bench_pair LABEL OP TARGET PEER OURS
#   PEER and OURS are commands (shell functions or programs) run
#   alternately BENCH_RUNS times, peer first.  A function NAME_prep,
#   when defined, runs untimed before each run of NAME (a fresh copy, a
#   fresh server).  OP "<=": the ratio is azprep's time / the peer's (a
#   time target); ">=": the peer's time / azprep's (a speed target).
#   The summary line goes to $BENCH_SUMMARY too when it is set.  Sets
#   BENCH_PEER, BENCH_OURS (median seconds), BENCH_RATIO, BENCH_RSPREAD
#   (min-max), BENCH_VERDICT, and the median CPU seconds of each side,
#   BENCH_PEER_CPU and BENCH_OURS_CPU.
bench_pair () {
  local label=$1 op=$2 target=$3 peer=$4 ours=$5
  local p=() o=() pc=() oc=() r=() l0 l1 i failed=0 ps os rs pcs ocs v
  l0=$(load)
  for i in $(seq "$BENCH_RUNS"); do
    ! declare -F "${peer}_prep" >/dev/null || "${peer}_prep" >/dev/null
    timed "$peer" || failed=$((failed + 1))
    p+=("$TIMED_WALL") pc+=("$TIMED_CPU")
    ! declare -F "${ours}_prep" >/dev/null || "${ours}_prep" >/dev/null
    timed "$ours" || failed=$((failed + 1))
    o+=("$TIMED_WALL") oc+=("$TIMED_CPU")
    if [ "$op" = "<=" ]; then r+=("$(ratio "${o[-1]}" "${p[-1]}")")
    else r+=("$(ratio "${p[-1]}" "${o[-1]}")"); fi
    echo "  run $i: peer ${p[-1]} s, azprep ${o[-1]} s, ratio ${r[-1]}x" \
      "(load $(cut -d' ' -f1 /proc/loadavg))"
  done
  l1=$(load)
  read -r ps pmin pmax <<<"$(stats "${p[@]}")"
  read -r os omin omax <<<"$(stats "${o[@]}")"
  read -r rs rmin rmax <<<"$(stats "${r[@]}")"
  pcs=$(stats "${pc[@]}" | cut -d' ' -f1)
  ocs=$(stats "${oc[@]}" | cut -d' ' -f1)
  v=$(verdict "$op" "$target" "$rs" "$rmin" "$rmax")
  [ "$BENCH_RUNS" -ge 3 ] || v="$v, but fewer than 3 runs: not a measurement"
  [ "$failed" = 0 ] || v="not measured: $failed run(s) failed"
  printf '  %s, median of %s (spread min-max):\n' "$label" "$BENCH_RUNS"
  printf '    peer   %8s s  (%s-%s)  cpu %s s\n' "$ps" "$pmin" "$pmax" "$pcs"
  printf '    azprep %8s s  (%s-%s)  cpu %s s\n' "$os" "$omin" "$omax" "$ocs"
  printf '    ratio  %8sx  (%s-%s)  target %s %sx: %s\n' "$rs" "$rmin" \
    "$rmax" "$op" "$target" "$v"
  printf '    load average before %s, after %s\n' "$l0" "$l1"
  bench_summary "$label" "$op" "$target" "$rs" "$rmin" "$rmax" \
    "$os s / $ps s" "$l0" "$l1" "$v"
  BENCH_RATIO=$rs BENCH_RSPREAD="$rmin-$rmax" BENCH_VERDICT=$v
  BENCH_PEER=$ps BENCH_OURS=$os BENCH_PEER_CPU=$pcs BENCH_OURS_CPU=$ocs
}

# The old one-line report (benchmarks not yet on bench_pair).
report () {
  printf '  %-44s azprep %6ss  peer %6ss  ratio %sx  (target <= %sx)\n' \
    "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"
}
