#!/bin/sh
# sim/tools/pair_spread.sh BUILD [CYCLES_CSV]: how far apart the two replays of each of
# calibrate's runs mark. Runs `gcsim calibrate --dry-run --cycles` (about two minutes;
# or reads a cycles CSV calibrate wrote before) and prints, over the runs, the median
# and mean of the slower replay's marking CPU over the faster's, and their range. It is
# why calibrate fits both replays (sim/calibrate.c, step 3): the faster alone sat under
# a typical replay by about half the median spread.
set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD [CYCLES_CSV]" >&2; exit 2; }
if [ $# -eq 2 ]; then
    csv=$2
else
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
    csv=$TMP/cycles.csv
    "$1/sim/gcsim" calibrate --dry-run --cycles="$csv" >/dev/null 2>&1
fi
python3 - "$csv" <<'PY'
import collections, csv, statistics, sys
mark = collections.defaultdict(float)  # each replay's marking CPU, summed over its cycles
for row in csv.DictReader(open(sys.argv[1])):
    mark[row["run"]] += float(row["mark_cpu_ns"])
pairs = collections.defaultdict(list)  # "... run 1" and "... run 2" of the same run
for name, ns in mark.items():
    pairs[name.rsplit(" run ", 1)[0]].append(ns)
ratios = sorted(max(p) / min(p) for p in pairs.values() if len(p) == 2 and min(p) > 0)
print(f"{len(ratios)} runs: slower replay's marking over the faster's, median "
      f"{statistics.median(ratios):.2f}, mean {statistics.mean(ratios):.2f}, "
      f"range {ratios[0]:.2f}-{ratios[-1]:.2f}")
PY
