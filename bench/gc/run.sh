#!/bin/sh
# bench/gc/run.sh: heron's collector against bdwgc on the same workloads; prints the
# table of docs/gc.md. Pauses of heron come from its gctrace lines (both pauses of
# each cycle), bdwgc's from its collection events (world stopped to world started).
#
#   [GOGCS="100 33"] bench/gc/run.sh [BUILD_DIR] [--big]
#
# BUILD_DIR defaults to build (a debugoptimized or release build). --big adds the
# 1 GiB live, 2 mutator thread steady state (about 3 GiB of RSS, a minute or two).
# GOGCS lists the settings heron runs at (bdwgc has none to match).
set -eu
B=${1:-build}
BIG=${2:-}
BT=$B/gc/examples
ST=$B/bench/gc
GOGCS=${GOGCS:-100 33}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pauses() { # gctrace file -> "mean p99 max" in ms over both pauses of every cycle
  python3 "$(dirname "$0")/pauses.py" "$1"
}

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo
echo "| workload | collector | wall s | CPU s | peak RSS MiB | GC CPU share | pause mean ms | p99 ms | max ms |"
echo "|---|---|---|---|---|---|---|---|---|"

for gogc in $GOGCS; do
  GOGC=$gogc HERON_GCTRACE=1 "$BT/binary_trees" 18 >"$TMP/bt.out" 2>"$TMP/bt.trace"
  set -- $(tail -1 "$TMP/bt.out" | sed 's/[,:]//g')
  # heron: wall W s, cpu C s, peak RSS R MiB, ...
  gc=$(tail -1 "$TMP/bt.trace" | sed -n 's/.* \([0-9]*\)%: .*/\1/p')
  echo "| binary_trees 18 | heron GOGC=$gogc | $3 | $6 | ${10} | ${gc}% (of 2 CPUs) | $(pauses "$TMP/bt.trace" | sed 's/ / | /g') |"
done
if [ -x "$BT/binary_trees_bdwgc" ]; then
  set -- $("$BT/binary_trees_bdwgc" 18 | tail -1 | sed 's/[,:]//g')
  echo "| binary_trees 18 | bdwgc | $3 | $6 | ${10} | - | ${22} | - | (not reported) |"
fi

steady() { # live threads alloc
  for gogc in $GOGCS; do
    GOGC=$gogc HERON_GCTRACE=1 "$ST/gc_steady" "$@" >"$TMP/st.out" 2>"$TMP/st.trace"
    line=$(cat "$TMP/st.out")
    v() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p" | tr -d 'sMiB%'; }
    echo "| steady $1 MiB x$2 | heron GOGC=$gogc | $(v wall) | $(v cpu) | $(v maxrss) | $(v gc_share)% (of CPU) | $(pauses "$TMP/st.trace" | sed 's/ / | /g') |"
  done
  if [ -x "$ST/gc_steady_bdwgc" ]; then
    line=$("$ST/gc_steady_bdwgc" "$@")
    v() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p" | tr -d 'sMiB%' | sed 's/m$//'; }
    echo "| steady $1 MiB x$2 | bdwgc | $(v wall) | $(v cpu) | $(v maxrss) | $(v gc_share)% (stopped, of wall) | $(v pause_mean) | $(v pause_p99) | $(v pause_max) |"
  fi
}
steady 64 2 2
if [ "$BIG" = "--big" ]; then
  steady 1024 2 4
fi
echo
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
