#!/bin/sh
# sim/tools/cost_check.sh BUILD [OTHER_GCSIM]: how well does a calibration price the
# marking of the traces sim/fidelity.sh judges, cycle by cycle? And, given a second
# gcsim (another commit's build), does its calibration price them better or worse?
#
# ROUNDS rounds (default 3), each: `gcsim calibrate` with BUILD's gcsim (and with
# OTHER_GCSIM, in alternating order: the machine's speed drifts from minute to minute,
# so neither calibration always gets the earlier one), then BUILD's `--replay=gc
# --cycles` of python-json, sqlite and fidelity.sh's two steady heaps at GOGC 50, 100
# and 200. Prints, for each trace and GOGC, each round's marking CPU (the replay's
# background and assist CPU, summed over its cycles) over what each calibration's model
# charges the same cycles, and the median over the rounds: 1.00 is a perfect price,
# above it the model is too cheap. The model's charge is computed here from the
# cycles CSV's columns (what each mark began with: objects at each knot, streamed bytes,
# objects, pages), so both calibrations are judged on the same replays; a calibration
# file before version 7 prices objects on its line (costmodel.c). Takes about three and
# a half minutes a round with two builds.
# Example: sim/tools/cost_check.sh build /work/old/build/sim/gcsim
set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD [OTHER_GCSIM]" >&2; exit 2; }
GCSIM=$1/sim/gcsim OTHER=${2:-}
ROUNDS=${ROUNDS:-3}
PROCS=$(getconf _NPROCESSORS_ONLN)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$(dirname "$0")/../fidelity_traces.sh" "$GCSIM" "$TMP" # the traces fidelity.sh judges
for r in $(seq "$ROUNDS"); do
    if [ -n "$OTHER" ] && [ $((r % 2)) -eq 0 ]; then
        "$OTHER" calibrate --output="$TMP/other.$r" >/dev/null 2>&1
    fi
    "$GCSIM" calibrate --output="$TMP/this.$r" >/dev/null 2>&1
    if [ -n "$OTHER" ] && [ $((r % 2)) -eq 1 ]; then
        "$OTHER" calibrate --output="$TMP/other.$r" >/dev/null 2>&1
    fi
    while read -r name trace scale; do
        "$GCSIM" --cost="$TMP/this.$r" --replay=gc --procs="$PROCS" --time-scale="$scale" \
            --gogc=50,100,200 --cycles="$TMP/$name.$r.csv" "$trace" >/dev/null 2>&1
    done <"$TMP/traces"
done
python3 - "$TMP" "$ROUNDS" <<'PY'
import csv, os, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])

def load(path, knots):
    c = dict(l.split() for l in open(path) if l.strip() and not l.startswith("#"))
    c = {k: float(v) for k, v in c.items()}
    if c["version"] < 7:  # one line through the knots (costmodel.c)
        for k in knots:
            c[f"mark_ns_at_{k}"] = c["mark_ns_per_object"] + c["mark_ns_per_byte"] * k
    return c

def charge(c, row):  # hn_cost_mark_ns for a version 6 or 7 file
    pages, objects = float(row["pages"]), float(row["objects"])
    walked, cache = pages * 8192, c["cache_bytes"]
    miss = 1 - cache / walked if walked > cache and walked > 0 else 0
    ns = (c["mark_ns_per_streamed_byte"] * float(row["streamed"]) +
          c["mark_ns_per_object_uncached"] * miss * objects + c["mark_ns_per_page"] * pages)
    return ns + sum(c["mark_ns_" + k] * float(v) for k, v in row.items() if k.startswith("at_"))

names = [l.split()[0] for l in open(f"{tmp}/traces")]
sides = ["this"] + (["other"] if os.path.exists(f"{tmp}/other.1") else [])
print("marking CPU / the model's, per round (median); this: the first build's calibration"
      + (", other: the second's" if len(sides) > 1 else ""))
for name in names:
    for gogc in ("50", "100", "200"):
        line = f"  {name:12s} GOGC={gogc:3s}"
        for side in sides:
            v = []
            for r in range(1, rounds + 1):
                rows = [x for x in csv.DictReader(open(f"{tmp}/{name}.{r}.csv"))
                        if x["run"].endswith("=" + gogc)]
                # the knots' sizes: the cycles CSV's at_SIZE columns
                c = load(f"{tmp}/{side}.{r}", [int(k[3:]) for k in rows[0] if k.startswith("at_")])
                v.append(sum(float(x["mark_cpu_ns"]) for x in rows) /
                         sum(charge(c, x) for x in rows))
            line += f"   {side}: {' '.join(f'{x:.2f}' for x in v)} ({statistics.median(v):.2f})"
        print(line)
PY
