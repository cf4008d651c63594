#!/bin/sh
# test_sim_calibrate.sh GCSIM: `gcsim calibrate` end to end on small heaps: it writes a
# version 7 calibration file that every later run loads, with fourteen non-negative costs,
# mark and pause costs that are not zero (the collector did mark and pause), and a mark
# fit close to what each run measured, over both replays of each run; --cycles writes
# every replay's cycles. The file goes to a temporary XDG_CONFIG_HOME.
set -u
GCSIM=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
XDG_CONFIG_HOME=$TMP/cfg
export XDG_CONFIG_HOME
"$GCSIM" calibrate --rate=16MiB/s --cycles="$TMP/cycles.csv" >"$TMP/out" 2>"$TMP/err" || { cat "$TMP/err"; exit 1; }
f=$XDG_CONFIG_HOME/heron/gcsim-calibration
[ -f "$f" ] || { echo "FAIL: no $f"; cat "$TMP/out"; exit 1; }
grep -q "^fit: " "$TMP/out" || { echo "FAIL: no fit printed"; exit 1; }
awk '/^(pause_ns|mark_ns_at_(16|32|48|64|128|256|512|1024)|mark_ns_per_streamed_byte|mark_ns_per_object_uncached|cache_bytes|mark_ns_per_page|sweep_ns_per_span) / { n++; if ($2 < 0) bad = 1 }
     /^mark_ns_(at_[0-9]+|per_streamed_byte) / { mark += $2 }
     /^pause_ns / { pause = $2 }
     /^version 7$/ { v = 1 }
     END { exit !(v && n == 14 && !bad && mark > 0 && pause > 0) }' "$f" || { echo "FAIL: bad file:"; cat "$f"; exit 1; }
# Each run's fitted marking CPU is the measured one's order of magnitude (the fit is of
# every cycle; a run more than 4x off either way means it fitted nothing), and every run
# scanned something, on pages it counted: each cycle begins with objects held (a cycle
# that passed between two of the replay's events had once been counted as scanning
# nothing).
awk '$3 ~ /^(50|200)$/ && NF == 13 { if ($5 <= 0 || $8 <= 0 || $13 <= 0 || $7 / $8 > 4 || $8 / $7 > 4) bad = 1; runs++ }
     END { exit !(runs == 34 && !bad) }' "$TMP/out" || { echo "FAIL: the mark fit is off:"; cat "$TMP/out"; exit 1; }
# --cycles holds every replay's cycles: 34 runs twice, in two passes (every run once, then
# again), so a run's repeats are a pass apart in time; the first pass mixes the heaps'
# kinds (every ten runs in a row hold all four: the three lognormal mixes and the fixed
# sizes) and the second goes backwards; and what the fit says each cost.
# Each run's line in the table is the mean of its two replays, both fitted: its "mark
# ms" and "fit ms" are the means of the replays' measured and fitted marking.
python3 - "$TMP/cycles.csv" "$TMP/out" <<'PY' || { echo "FAIL: --cycles:"; head "$TMP/cycles.csv"; exit 1; }
import collections, csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sums = collections.defaultdict(lambda: [0.0, 0.0])
for r in rows:
    s = sums[r["run"].rsplit(" run ", 1)[0]]
    s[0] += float(r["mark_cpu_ns"]) / 2e6
    s[1] += float(r["model_mark_ns"]) / 2e6
table = 0
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) == 13 and f[2] in ("50", "200"):
        mark, fit = sums["live %s sizes %s GOGC=%s" % (f[0], f[1], f[2])]
        assert abs(float(f[6]) - mark) <= 0.006 and abs(float(f[7]) - fit) <= 0.006, (line, mark, fit)
        table += 1
assert table == 34, table
starts = {}
model = mark = 0
for r in rows:
    assert float(r["mark_cpu_ns"]) > 0 and float(r["objects"]) >= float(r["pages"]) > 0, r
    starts[r["run"]] = float(r["start_unix"])
    model += float(r["model_mark_ns"])
    mark += float(r["mark_cpu_ns"])
# The fit's column: over every cycle, within a factor of two of the measured CPU.
assert 0.5 < model / mark < 2, (model, mark)
assert len(starts) == 68, len(starts)
first = [t for run, t in starts.items() if run.endswith(" run 1")]
second = [t for run, t in starts.items() if run.endswith(" run 2")]
assert len(first) == len(second) == 34 and max(first) < min(second), (first, second)
order = [run[:-len(" run 1")] for run, t in sorted(starts.items(), key=lambda x: x[1])]
assert order[34:] == order[:34][::-1], order
kinds = [run.split(" sizes ")[1].split()[0].split(":")[0:2 if "lognormal" in run else 1]
         for run in order[:34]]
kinds = [":".join(k) for k in kinds]
assert len(set(kinds)) == 4, kinds
assert all(len(set(kinds[i:i + 10])) == 4 for i in range(25)), kinds
PY
# Every simulation now uses it.
"$GCSIM" "$(dirname "$0")/golden/steady.trace" | grep -q "cost model: $f" ||
    { echo "FAIL: the calibration file is not used"; exit 1; }
# --output and --dry-run write where asked, or nowhere.
"$GCSIM" calibrate --rate=16MiB/s --dry-run >/dev/null 2>&1 || exit 1
# A bad rate is gen's one error line and exit 2, before anything runs.
err=$("$GCSIM" calibrate --dry-run --rate=fast 2>&1 >/dev/null); rc=$?
want="gcsim: error: gen: bad rate 'fast': expected SIZE/s or SIZE/DURATION such as 100MiB/s"
[ $rc -eq 2 ] && [ "$err" = "$want" ] ||
    { echo "FAIL: calibrate --rate=fast: exit $rc, '$err'"; exit 1; }
echo "calibration ok"
