#!/bin/sh
# sim/tools/mark_mix.sh BUILD TRACE TIME_SCALE LIVE RATE DURATION: does the trace mark
# at the cost model's price, and if not, is it its size mix or the order its objects
# die in? One calibration, then ROUNDS (default 5) rounds, each replaying in turn, at
# GOGC 50 and 200 (`--replay=gc --cycles`):
#   default  a steady heap of LIVE at RATE for DURATION in calibrate's small-object
#            mix (lognormal:64:1), objects dying at random
#   mix      the same with the trace's own sizes (gen --sizes=trace:TRACE)
#   mix-old  the trace's sizes, oldest objects dying first (gen --deaths=oldest)
#   trace    the trace itself, at TIME_SCALE
# and prints for each, per GOGC, the marking CPU over what the model charges (cycles
# that scan over 2 MiB: the first ones mark a heap still in the cache), the
# rounds' median, range and median ratio to `default` of the same round, since this
# VM's speed drifts from minute to minute. Takes about four minutes.
# Example: sim/tools/mark_mix.sh build sim/traces/python-json.trace 8 7MiB 35MiB/s 1.2s
set -eu
[ $# -eq 6 ] || { echo "usage: $0 BUILD TRACE TIME_SCALE LIVE RATE DURATION" >&2; exit 2; }
GCSIM=$1/sim/gcsim TRACE=$2 SCALE=$3 LIVE=$4 RATE=$5 DURATION=$6
ROUNDS=${ROUNDS:-5}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

gen() { # gen NAME OPTIONS...
    name=$1
    shift
    "$GCSIM" gen steady -o "$TMP/$name.trace" --live="$LIVE" --rate="$RATE" \
        --duration="$DURATION" --seed=9 "$@" >/dev/null
}
gen default --sizes=lognormal:64:1
gen mix --sizes=trace:"$TRACE"
gen mix-old --sizes=trace:"$TRACE" --deaths=oldest
"$GCSIM" calibrate --output="$TMP/cost" >/dev/null 2>&1
for r in $(seq "$ROUNDS"); do
    for name in default mix mix-old trace; do
        t=$TMP/$name.trace scale=1
        [ "$name" = trace ] && t=$TRACE scale=$SCALE
        "$GCSIM" --cost="$TMP/cost" --replay=gc --procs="$(getconf _NPROCESSORS_ONLN)" \
            --time-scale="$scale" --gogc=50,200 --cycles="$TMP/$name.$r.csv" "$t" >/dev/null
    done
done
echo "cost model: $(grep -v '^#' "$TMP/cost" | paste -sd' ' -)"
python3 - "$TMP" "$ROUNDS" <<'PY'
import csv, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
names = ["default", "mix", "mix-old", "trace"]
for gogc in ("50", "200"):
    ratio = {}
    for n in names:
        for r in range(1, rounds + 1):
            rows = [x for x in csv.DictReader(open(f"{tmp}/{n}.{r}.csv"))
                    if x["run"].endswith("=" + gogc) and float(x["scanned"]) > 2 * 2**20]
            m = sum(float(x["mark_cpu_ns"]) for x in rows)
            p = sum(float(x["model_mark_ns"]) for x in rows)
            ratio[n, r] = m / p if p else float("nan")
    print(f"GOGC={gogc}: marking CPU / the model's")
    for n in names:
        v = [ratio[n, r] for r in range(1, rounds + 1)]
        rel = [ratio[n, r] / ratio["default", r] for r in range(1, rounds + 1)]
        print(f"  {n:8s} median {statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f}), "
              f"to default's {statistics.median(rel):.2f}")
PY
