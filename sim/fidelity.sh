#!/bin/sh
# sim/fidelity.sh [BUILD_DIR]: how close the simulation comes to heron's real collector.
#
# For the shipped traces and for generated steady-state traces, at GOGC 50, 100 and 200,
# runs the simulation (both models) and `--replay=gc` (RUNS times; the median of each
# figure, since the replay is timed on a shared machine), and prints markdown tables of
# cycles, peak heap and GC CPU % with the relative error against the replay. The bounds
# checked: cycles and peak heap within 10 %, GC CPU within 25 % (relative).
# docs/gcsim.md shows its output. Takes a few minutes.
set -eu
BUILD=${1:-build}
GCSIM=$BUILD/sim/gcsim
RUNS=${RUNS:-3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$GCSIM" gen steady -o "$TMP/steady-small.trace" --live=4MiB --rate=64MiB/s --duration=2s \
    --sizes=lognormal:64:1 --seed=5 >/dev/null
"$GCSIM" gen steady -o "$TMP/steady-large.trace" --live=32MiB --rate=128MiB/s --duration=3s \
    --sizes=lognormal:512:1.5 --seed=6 >/dev/null

for t in sim/traces/python-json.trace sim/traces/sqlite.trace "$TMP/steady-small.trace" \
         "$TMP/steady-large.trace"; do
    name=$(basename "$t" .trace)
    "$GCSIM" --gogc=50,100,200 --json="$TMP/$name.conc.json" "$t" >/dev/null
    for r in $(seq "$RUNS"); do
        "$GCSIM" --model=stw --replay=gc --gogc=50,100,200 --json="$TMP/$name.stw.$r.json" \
            "$t" >/dev/null
    done
done

python3 - "$TMP" "$RUNS" <<'PY'
import json, os, statistics, sys
tmp, runs = sys.argv[1], int(sys.argv[2])
names = ["python-json", "sqlite", "steady-small", "steady-large"]

def pct(s):
    return 100 * s["gc_cpu_ns"] / s["total_cpu_ns"] if s["total_cpu_ns"] else 0

def err(a, b):
    return (a - b) / b * 100 if b else float("inf")

rows, fails = [], 0
for n in names:
    stw = [json.load(open(f"{tmp}/{n}.stw.{r}.json"))["runs"] for r in range(1, runs + 1)]
    conc = json.load(open(f"{tmp}/{n}.conc.json"))["runs"]
    for i, gogc in enumerate([50, 100, 200]):
        sim = stw[0][2 * i]["summary"]
        reps = [s[2 * i + 1]["summary"] for s in stw]
        rep = {k: statistics.median(r[k] for r in reps) for k in reps[0]}
        rep_pct = statistics.median(pct(r) for r in reps)
        c = conc[i]["summary"]
        rows.append((n, gogc, sim, rep, rep_pct, c))

print("Stop-the-world model (`--model=stw`, heron's collector as it is) against "
      "`--replay=gc` (median of %d replays):\n" % runs)
print("| trace | GOGC | cycles sim / real | err | peak heap sim / real (MiB) | err "
      "| GC CPU % sim / real | err | within bounds |")
print("|---|---|---|---|---|---|---|---|---|")
for n, gogc, sim, rep, rep_pct, c in rows:
    ec, eh, ep = err(sim["cycles"], rep["cycles"]), err(sim["heap_peak"], rep["heap_peak"]), \
        err(pct(sim), rep_pct)
    ok = abs(ec) <= 10 and abs(eh) <= 10 and abs(ep) <= 25
    fails += not ok
    print(f"| {n} | {gogc} | {sim['cycles']:.0f} / {rep['cycles']:.0f} | {ec:+.0f} % "
          f"| {sim['heap_peak']/2**20:.1f} / {rep['heap_peak']/2**20:.1f} | {eh:+.0f} % "
          f"| {pct(sim):.1f} / {rep_pct:.1f} | {ep:+.0f} % | {'yes' if ok else 'no'} |")
print(f"\n{len(rows) - fails} of {len(rows)} rows within bounds.\n")
print("Concurrent model (the default, Go's cycle) on the same traces, for comparison:\n")
print("| trace | GOGC | cycles conc / real | peak heap conc / real (MiB) | GC CPU % conc / real |")
print("|---|---|---|---|---|")
for n, gogc, sim, rep, rep_pct, c in rows:
    print(f"| {n} | {gogc} | {c['cycles']:.0f} / {rep['cycles']:.0f} "
          f"| {c['heap_peak']/2**20:.1f} / {rep['heap_peak']/2**20:.1f} "
          f"| {pct(c):.1f} / {rep_pct:.1f} |")
PY
