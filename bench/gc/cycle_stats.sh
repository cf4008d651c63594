#!/bin/sh
# bench/gc/cycle_stats.sh: per-cycle figures of heron's collector from its gctrace,
# for the marks of docs/gc.md that the comparison table does not show.
#
#   bench/gc/cycle_stats.sh [BUILD_DIR] [RUNS] [LIVE_MIB THREADS ALLOC_GIB]
#
# Runs build/bench/gc/gc_steady RUNS times (default 3; program arguments default to
# 256 2 2: 256 MiB live, 2 threads, 2 GiB allocated) with HERON_GCTRACE=2 and, per
# run, prints:
#   - the background worker's share of the CPUs while marking: its CPU over mark wall
#     time x procs, per cycle (median and mean);
#   - the assists' share, the same way (mean);
#   - the longest stop part of any pause (signals sent until every thread stopped);
# then, over the pauses of all runs together (a run of 56 pauses has no p99 of its
# own: its p99 is its longest pause), the pause median, p99 and maximum and the
# number over 0.5 ms, the number of stop parts over 0.3 ms, and the machine's floor for such a stop without a collector
# (stop_floor, 2 busy threads, 10 s).
# GOGC is taken from the environment, as the collector does.
set -eu
B=${1:-build}
RUNS=${2:-3}
shift 2 2>/dev/null || shift $#
[ $# -eq 3 ] || set -- 256 2 2
TMP=$(mktemp)
ALL=$(mktemp)
trap 'rm -f "$TMP" "$ALL"' EXIT
echo "gc_steady $*, GOGC=${GOGC:-100}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$RUNS"); do
  HERON_GCTRACE=2 "$B/bench/gc/gc_steady" "$@" 2>"$TMP" >/dev/null
  cat "$TMP" >>"$ALL"
  python3 - "$TMP" "$r" <<'PY'
import re, statistics, sys
bg, asr, stops = [], [], []
for line in open(sys.argv[1]):
    m = re.search(r': [\d.]+\+([\d.]+)\+[\d.]+ ms clock, [\d.]+\+([\d.]+)/([\d.]+)/[\d.]+\+[\d.]+ ms cpu.* (\d+) P', line)
    if m:
        mark, procs = float(m.group(1)), int(m.group(4))
        if mark > 0:
            bg.append(float(m.group(3)) / (mark * procs))
            asr.append(float(m.group(2)) / (mark * procs))
    m = re.search(r'pauses: ([\d.]+)\+[\d.]+\+[\d.]+ ms, ([\d.]+)\+', line)
    if m:
        stops += [float(m.group(1)), float(m.group(2))]
if not bg:
    sys.exit("cycle_stats: no gctrace lines")
print(f"run {sys.argv[2]}: {len(bg)} cycles, background share median {statistics.median(bg):.3f} "
      f"mean {statistics.mean(bg):.3f}, assists mean {statistics.mean(asr):.3f}, "
      f"longest stop {max(stops):.3f} ms")
PY
done
python3 "$(dirname "$0")/pauses.py" "$ALL" "$RUNS"
"$B/bench/gc/stop_floor" 2 10
