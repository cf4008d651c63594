#!/bin/sh
# sim/bench_sim.sh [BUILD_DIR] [RUNS]: the simulator's speed on the shipped traces, in
# million events per CPU-second of one thread (reading and simulating together, as
# `gcsim --bench` measures it): a discarded warm-up, then RUNS runs (default 7), the
# median with min and max. CPU time, not wall time: on a shared machine wall time
# measures the neighbours.
set -eu
BUILD=${1:-build}
RUNS=${2:-7}
printf '%-28s %10s %8s %8s %8s\n' trace events median min max
for t in sim/traces/*.trace; do
    "$BUILD/sim/gcsim" --cost=default --bench "$t" >/dev/null 2>&1
    for i in $(seq "$RUNS"); do
        "$BUILD/sim/gcsim" --cost=default --bench "$t" 2>&1 >/dev/null |
            sed -n 's/.*: \([0-9]*\) events in .*: \([0-9.]*\) million events\/s/\1 \2/p'
    done | sort -n -k2 | awk -v t="$(basename "$t")" -v n="$RUNS" '
        { ev = $1; v[NR] = $2 }
        END { printf "%-28s %10d %8.1f %8.1f %8.1f  (M events/s)\n", t, ev, v[int((n + 1) / 2)], v[1], v[n] }'
done
