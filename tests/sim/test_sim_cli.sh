#!/bin/sh
# test_sim_cli.sh GCSIM SRCDIR: every option and error path of gcsim's simulation
# command line: exit codes (0 ok, 1 failure, 2 usage), the one-line error messages, the
# files each output option writes, and the calibration file being found and checked.
set -u
GCSIM=$1
SRC=$2
SANITIZE=${3:-none}   # the build's b_sanitize
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TRACE=$SRC/tests/sim/golden/steady.trace
fails=0

# run CODE PATTERN ARGS...: gcsim ARGS must exit with CODE and, for errors, print
# exactly one stderr line starting "gcsim: error: " that contains PATTERN.
run() {
    want=$1 pattern=$2
    shift 2
    "$GCSIM" "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: gcsim $*: exit $got, expected $want"; sed 's/^/  stderr: /' "$TMP/err"
        fails=$((fails + 1)); return
    fi
    if [ "$want" != 0 ]; then
        lines=$(wc -l <"$TMP/err")
        if [ "$lines" != 1 ] || ! grep -q "^gcsim: error: .*$pattern" "$TMP/err"; then
            echo "FAIL: gcsim $*: expected one error line with '$pattern', got:"
            sed 's/^/  stderr: /' "$TMP/err"; fails=$((fails + 1))
        fi
    elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$TMP/out"; then
        echo "FAIL: gcsim $*: stdout lacks '$pattern'"; fails=$((fails + 1))
    fi
}

check() { # check DESCRIPTION COMMAND...: the command must succeed
    d=$1; shift
    if ! "$@" >/dev/null 2>&1; then echo "FAIL: $d"; fails=$((fails + 1)); fi
}

# The calibration file must come from here, not from the user running the tests.
XDG_CONFIG_HOME=$TMP/config
export XDG_CONFIG_HOME

# Usage and help.
"$GCSIM" >/dev/null 2>&1; [ $? = 2 ] || { echo "FAIL: no arguments: expected exit 2"; fails=$((fails + 1)); }
run 0 "usage: gcsim" --help
run 0 "gcsim \[OPTIONS\] trace.bin" sim --help
run 0 "--gomemlimit" --help-sim

# Bad options: exit 2 before any trace is read.
run 2 "unknown option '--frobnicate'" --frobnicate "$TRACE"
run 2 "unknown option '-x'" -x "$TRACE"
run 2 "needs a value" "$TRACE" --gogc
run 2 "--gogc=abc" --gogc=abc "$TRACE"
run 2 "--gogc=" --gogc= "$TRACE"
run 2 "empty item" --gogc=50,,100 "$TRACE"
run 2 "empty item" --gogc=50, "$TRACE"
run 2 "at most 8" --gogc=1,2,3,4,5,6,7,8,9 "$TRACE"
run 2 "--gogc=99999999999" --gogc=99999999999 "$TRACE"
run 2 "--gomemlimit=64MB" --gomemlimit=64MB "$TRACE"
run 2 "--gomemlimit=-1" --gomemlimit=-1 "$TRACE"
run 2 "--gomemlimit=" --gomemlimit= "$TRACE"
run 2 "--procs=0" --procs=0 "$TRACE"
run 2 "--procs=two" --procs=two "$TRACE"
run 2 "--procs=5000" --procs=5000 "$TRACE"
run 2 "expected gc or malloc" --replay=jvm "$TRACE"
run 2 "--allocator needs --replay=malloc" --allocator=heron "$TRACE"
run 2 "no trace given" --gogc=100
run 2 "is extra" "$TRACE" "$TRACE"
run 2 "--cost=" --cost= "$TRACE"
run 2 "unknown option '--model=stw'" --model=stw "$TRACE"
run 2 "--time-scale=0" --time-scale=0 "$TRACE"
run 2 "--time-scale=fast" --time-scale=fast "$TRACE"
run 2 "--time-scale=2x" --time-scale=2x "$TRACE"
run 2 "unknown allocator 'hoard'" --replay=malloc --allocator=heron,hoard "$TRACE"
run 2 "calibrate: unknown option '--fast'" calibrate --fast
run 2 "calibrate: unexpected argument" calibrate extra
run 0 "usage: gcsim calibrate" calibrate --help

# Bad traces and files: exit 1.
run 1 "nothing-here.trace" "$TMP/nothing-here.trace"
printf 'not a trace at all\n' >"$TMP/text.trace"
run 1 "text.trace" "$TMP/text.trace"
head -c 5000 "$TRACE" >"$TMP/cut.trace"
"$GCSIM" --cost=default "$TMP/cut.trace" >"$TMP/out" 2>"$TMP/err"
code=$?
if [ $code = 0 ]; then
    grep -q "gcsim: warning: .*cut" "$TMP/err" || { echo "FAIL: cut trace: no warning"; fails=$((fails + 1)); }
elif ! grep -q "^gcsim: error: " "$TMP/err"; then
    echo "FAIL: cut trace: exit $code without an error line"; fails=$((fails + 1))
fi
cp "$TRACE" "$TMP/flip.trace"
printf '\377\377\377\377' | dd of="$TMP/flip.trace" bs=1 seek=2000 conv=notrunc 2>/dev/null
run 1 "flip.trace" --cost=default "$TMP/flip.trace"
run 1 "--cost=$TMP/none: no such file" --cost="$TMP/none" "$TRACE"
printf 'version 2\npause_ns 1\nmark_ns_per_byte abc\nmark_ns_per_object 1\nsweep_ns_per_span 1\n' >"$TMP/badcost"
run 1 "line 3" --cost="$TMP/badcost" "$TRACE"
printf 'version 2\npause_ns 1\n' >"$TMP/shortcost"
run 1 "needs pause_ns" --cost="$TMP/shortcost" "$TRACE"
printf 'version 2\npause_ns 1\nmark_ns_per_byte 1\nmark_ns_per_object 1\nsweep_ns_per_span 1\nspeed 9\n' >"$TMP/unknowncost"
run 1 "unknown name 'speed'" --cost="$TMP/unknowncost" "$TRACE"
run 1 "$TMP/no/such/dir/x.csv" --cost=default --csv="$TMP/no/such/dir/x.csv" "$TRACE"
run 1 "$TMP/no/x.json" --cost=default --json="$TMP/no/x.json" "$TRACE"
run 1 "$TMP/no/x.svg" --cost=default --svg="$TMP/no/x.svg" "$TRACE"
run 1 "$TMP/no/x.html" --cost=default --html="$TMP/no/x.html" "$TRACE"

# The calibration file: found in $XDG_CONFIG_HOME/heron, used, and checked.
run 0 "cost model: defaults" "$TRACE"
mkdir -p "$XDG_CONFIG_HOME/heron"
printf '# test\nversion 2\npause_ns 1000\nmark_ns_per_byte 5\nmark_ns_per_object 10\nsweep_ns_per_span 10\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 0 "cost model: $XDG_CONFIG_HOME/heron/gcsim-calibration" "$TRACE"
# It changes the answer: five times the mark cost shows in GC CPU.
"$GCSIM" "$TRACE" | grep '^GC CPU' >"$TMP/cal"
"$GCSIM" --cost=default "$TRACE" | grep '^GC CPU' >"$TMP/def"
cmp -s "$TMP/cal" "$TMP/def" && { echo "FAIL: the calibration file did not change GC CPU"; fails=$((fails + 1)); }
run 0 "cost model: defaults" --cost=default "$TRACE"
printf 'version 2\npause_ns -5\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 1 "gcsim-calibration: line 2: '-5' is not a non-negative number" "$TRACE"
# Old and foreign files are refused with the reason: the stop-the-world collector's
# unversioned file, another version, a file with no version line at all.
printf '# old\npause_ns 1000\nmark_ns_per_byte 5\nmark_ns_per_object 10\nsweep_ns_per_span 10\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 1 "line 2: no version line before it: an old calibration" "$TRACE"
printf 'version 8\npause_ns 1000\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 1 "line 1: version '8': this gcsim reads versions 2 to 7; run .gcsim calibrate. again" "$TRACE"
# Version 3 needs the streamed bytes' cost and the cache term; version 2 has neither
# (its per-byte cost is used for streamed bytes, no cache term) and may not name them.
printf 'version 3\npause_ns 1000\nmark_ns_per_byte 5\nmark_ns_per_object 10\nsweep_ns_per_span 10\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 1 "needs pause_ns, mark_ns_per_byte, mark_ns_per_streamed_byte, mark_ns_per_object, mark_ns_per_object_uncached, cache_bytes" "$TRACE"
printf 'version 2\npause_ns 1000\nmark_ns_per_byte 5\nmark_ns_per_streamed_byte 1\nmark_ns_per_object 10\nsweep_ns_per_span 10\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 1 "unknown name 'mark_ns_per_streamed_byte'" "$TRACE"
printf 'version 2\npause_ns 1000\nmark_ns_per_byte 5\nmark_ns_per_object 10\ncache_bytes 1\nsweep_ns_per_span 10\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 1 "unknown name 'cache_bytes'" "$TRACE"
printf 'version 3\npause_ns 1000\nmark_ns_per_byte 5\nmark_ns_per_streamed_byte 5\nmark_ns_per_object 10\nmark_ns_per_object_uncached 0\ncache_bytes 0\nsweep_ns_per_span 10\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
"$GCSIM" "$TRACE" | grep '^GC CPU' >"$TMP/v3"
cmp -s "$TMP/cal" "$TMP/v3" || { echo "FAIL: version 3 with equal byte costs and no cache term differs from version 2"; fails=$((fails + 1)); }
# Version 4 is version 3 with the sweep cost per span: the same seven names, read alike.
sed 's/^version 3$/version 4/' "$XDG_CONFIG_HOME/heron/gcsim-calibration" >"$TMP/v4cost"
"$GCSIM" --cost="$TMP/v4cost" "$TRACE" | grep '^GC CPU' >"$TMP/v4"
cmp -s "$TMP/v3" "$TMP/v4" || { echo "FAIL: version 4 read unlike version 3"; fails=$((fails + 1)); }
# Version 5 adds the cost per page holding a live object: needed there, unknown before,
# and at 0 it reads as version 4; a cost per page raises GC CPU.
sed 's/^version 3$/version 5/' "$XDG_CONFIG_HOME/heron/gcsim-calibration" >"$TMP/v5cost"
run 1 "needs pause_ns, .*mark_ns_per_page" --cost="$TMP/v5cost" "$TRACE"
printf 'mark_ns_per_page 0\n' >>"$TMP/v5cost"
"$GCSIM" --cost="$TMP/v5cost" "$TRACE" | grep '^GC CPU' >"$TMP/v5"
cmp -s "$TMP/v4" "$TMP/v5" || { echo "FAIL: version 5 with no cost per page read unlike version 4"; fails=$((fails + 1)); }
sed 's/^mark_ns_per_page 0$/mark_ns_per_page 5000/' "$TMP/v5cost" >"$TMP/v5pcost"
"$GCSIM" --cost="$TMP/v5pcost" "$TRACE" | grep '^GC CPU' >"$TMP/v5p"
cmp -s "$TMP/v5" "$TMP/v5p" && { echo "FAIL: the cost per page did not change GC CPU"; fails=$((fails + 1)); }
cat "$TMP/v4cost" >"$TMP/v4pcost"
printf 'mark_ns_per_page 5\n' >>"$TMP/v4pcost"
run 1 "unknown name 'mark_ns_per_page'" --cost="$TMP/v4pcost" "$TRACE"
# The cache term: a heap bigger than the cache costs more per object.
printf 'version 3\npause_ns 1000\nmark_ns_per_byte 5\nmark_ns_per_streamed_byte 5\nmark_ns_per_object 10\nmark_ns_per_object_uncached 100\ncache_bytes 1024\nsweep_ns_per_span 10\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
"$GCSIM" "$TRACE" | grep '^GC CPU' >"$TMP/v3c"
cmp -s "$TMP/v3" "$TMP/v3c" && { echo "FAIL: the cache term did not change GC CPU"; fails=$((fails + 1)); }
# Version 6 has version 5's names; its cache term is of the live pages, not the heap.
sed 's/^version 5$/version 6/; s/^mark_ns_per_object_uncached 0$/mark_ns_per_object_uncached 100/; s/^cache_bytes 0$/cache_bytes 1048576/' "$TMP/v5cost" >"$TMP/v6cost"
sed 's/^version 6$/version 5/' "$TMP/v6cost" >"$TMP/v5ccost"
"$GCSIM" --cost="$TMP/v6cost" "$TRACE" | grep '^GC CPU' >"$TMP/v6c"
"$GCSIM" --cost="$TMP/v5ccost" "$TRACE" | grep '^GC CPU' >"$TMP/v5c"
grep -q '^cache_bytes 1048576$' "$TMP/v6cost" && ! cmp -s "$TMP/v5c" "$TMP/v6c" ||
    { echo "FAIL: version 6's cache term read like version 5's"; fails=$((fails + 1)); }
# Version 7 prices an object at knots of size: version 6's line (10 ns an object, 5 a
# byte) at the knots reads as version 6 did; each knot is needed, and the names of the
# line are unknown there (as the knots are before); a dear knot raises GC CPU.
knots="16 32 48 64 128 256 512 1024"
{ printf 'version 7\n'; for k in $knots; do echo "mark_ns_at_$k $((10 + 5 * k))"; done
  grep -v '^version\|^mark_ns_per_byte\|^mark_ns_per_object ' "$TMP/v6cost"; } >"$TMP/v7cost"
"$GCSIM" --cost="$TMP/v7cost" "$TRACE" | grep '^GC CPU' >"$TMP/v7"
cmp -s "$TMP/v6c" "$TMP/v7" || { echo "FAIL: version 7 on version 6's line read unlike it"; fails=$((fails + 1)); }
grep -v '^mark_ns_at_48 ' "$TMP/v7cost" >"$TMP/v7short"
run 1 "needs pause_ns, mark_ns_at_16 mark_ns_at_32 mark_ns_at_48 mark_ns_at_64 mark_ns_at_128 mark_ns_at_256 mark_ns_at_512 mark_ns_at_1024, mark_ns_per_streamed_byte" --cost="$TMP/v7short" "$TRACE"
{ cat "$TMP/v7short"; echo "mark_ns_at_40 250"; } >"$TMP/v7odd"
run 1 "unknown name 'mark_ns_at_40'" --cost="$TMP/v7odd" "$TRACE"
sed 's/^mark_ns_at_16 /mark_ns_at_016 /' "$TMP/v7cost" >"$TMP/v7zero"
run 1 "unknown name 'mark_ns_at_016'" --cost="$TMP/v7zero" "$TRACE"
{ cat "$TMP/v7cost"; echo "mark_ns_per_byte 5"; } >"$TMP/v7line"
run 1 "unknown name 'mark_ns_per_byte'" --cost="$TMP/v7line" "$TRACE"
{ cat "$TMP/v6cost"; echo "mark_ns_at_16 90"; } >"$TMP/v6knot"
run 1 "unknown name 'mark_ns_at_16'" --cost="$TMP/v6knot" "$TRACE"
sed 's/^mark_ns_at_64 .*/mark_ns_at_64 5000/' "$TMP/v7cost" >"$TMP/v7dear"
"$GCSIM" --cost="$TMP/v7dear" "$TRACE" | grep '^GC CPU' >"$TMP/v7d"
cmp -s "$TMP/v7" "$TMP/v7d" && { echo "FAIL: a dearer knot did not change GC CPU"; fails=$((fails + 1)); }
printf 'version 2x\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 1 "version '2x'" "$TRACE"
printf '# nothing\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 1 "empty: no version line" "$TRACE"
printf 'version 2\npause_ns 1000\n' >"$XDG_CONFIG_HOME/heron/gcsim-calibration"
run 1 "needs pause_ns, mark_ns_per_byte" "$TRACE"
rm "$XDG_CONFIG_HOME/heron/gcsim-calibration"

# Outputs.
run 0 "GOGC=50 *GOGC=100 *GOGC=off" --cost=default --gogc=50,100,off "$TRACE"
run 0 "^gc 1 @" --cost=default --gctrace "$TRACE"
run 0 "^# GOGC=50 GOMEMLIMIT=off" --cost=default --gctrace --gogc=50,100 "$TRACE"
run 0 "8.00 MiB" --cost=default --gomemlimit=8MiB "$TRACE"
run 0 "off" --cost=default --gomemlimit=off "$TRACE"
run 0 "procs  *2" --cost=default --procs=2 "$TRACE"
run 0 "" --cost=default --gogc=50,100 --csv="$TMP/s.csv" --json="$TMP/s.json" \
    --svg="$TMP/s.svg" --html="$TMP/s.html" "$TRACE"
check "CSV header" grep -q '^setting,t_s,heap_min,heap_max,goal,live,rss_min,rss_max,cycles$' "$TMP/s.csv"
check "CSV rows for both runs" grep -q '^GOGC=50,' "$TMP/s.csv"
check "CSV rows for both runs" grep -q '^GOGC=100,' "$TMP/s.csv"
check "JSON parses, two runs with cycles" python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d['runs']) == 2
r = d['runs'][1]
assert r['gogc'] == 100 and r['gomemlimit'] is None
assert r['summary']['cycles'] == len(r['cycles']) > 0
assert all(len(p) == 8 for p in r['series'])
" "$TMP/s.json"
check "SVG is well-formed XML with two panels" python3 -c "
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
texts = [t.text or '' for t in root.iter('{http://www.w3.org/2000/svg}text')]
assert sum('GOGC=' in t for t in texts) == 2
assert any('time (' in t for t in texts) and any('memory (' in t for t in texts)
" "$TMP/s.svg"
check "HTML holds the SVG and the summary" grep -q "<svg" "$TMP/s.html"
check "HTML holds the summary" grep -q "GC cycles" "$TMP/s.html"
run 0 "" --cost=default --csv=- "$TRACE"
grep -q '^setting,t_s' "$TMP/out" || { echo "FAIL: --csv=- wrote no CSV to stdout"; fails=$((fails + 1)); }

# --time-scale: the program's time line twice as long: wall time about doubles (the
# trace lasts 1 s; pauses and assists add a little to both).
"$GCSIM" --cost=default --json="$TMP/t1.json" "$TRACE" >/dev/null &&
"$GCSIM" --cost=default --time-scale=2 --json="$TMP/t2.json" "$TRACE" >/dev/null &&
python3 - "$TMP/t1.json" "$TMP/t2.json" <<'PY' || { echo "FAIL: --time-scale=2 did not double the wall time"; fails=$((fails + 1)); }
import json, sys
a, b = (json.load(open(f))["runs"][0]["summary"]["wall_ns"] for f in sys.argv[1:])
sys.exit(0 if 1.9 < b / a < 2.1 else 1)
PY

# Replays: on heron's collector beside the simulation, and on real allocators (not under
# a sanitizer, which owns malloc and refuses a preloaded one).
run 0 "gc GOGC=100" --cost=default --replay=gc "$TRACE"
awk '/^GC cycles/ { if ($3 < 1 || $4 < 1) exit 1 }' "$TMP/out" ||
    { echo "FAIL: --replay=gc: no cycles"; fails=$((fails + 1)); }
# The replay's GC CPU comes apart like the simulation's (the collector's own figures),
# and it runs on the trace's time line: its wall time is at least the trace's 1 s.
awk '/^  background mark/ { if ($5 == "-" || $5 + 0 <= 0) exit 1 }
     /^wall time/ { if ($6 == "ms" && $5 + 0 < 990) exit 1 }' "$TMP/out" ||
    { echo "FAIL: --replay=gc: no background marking, or not on the trace's time line:"; cat "$TMP/out"; fails=$((fails + 1)); }
# Beside a replay the model plans with the collector's processors, the CPUs online.
grep -q "^procs  *$(getconf _NPROCESSORS_ONLN)  *$(getconf _NPROCESSORS_ONLN)\$" "$TMP/out" ||
    { echo "FAIL: --replay=gc: procs are not the CPUs online"; fails=$((fails + 1)); }
# --cycles: the replay's cycles one line each, with what each mark began with.
run 0 "gc GOGC=100" --cost=default --replay=gc --cycles="$TMP/cycles.csv" "$TRACE"
real_cycles=$(awk '/^GC cycles/ { print $4 }' "$TMP/out")
# The model's column is the default cost of what each mark began with (costmodel.h; no
# cache term, no cost per page): 0.32 ns a byte in objects' first KiB, 0.108 past it,
# 65 ns an object, which is 65 + 0.32 * SIZE at each knot (the at_SIZE columns, which
# count every object once between them, to a tenth of an object).
# The goal is twice what the last cycle marked (GOGC=100) and at least 4 MiB, plus the
# replay's stack and globals (the pacer's S + G), which are the program's as the
# collector sees it: a few KiB, not gcsim's own buffers (replay_gc.c, step 4; with two
# results on the stack they were 86 KB). A sanitizer's frames are larger. A cycle marks
# at least what the program held when it began (and may pass its goal: under TSan
# marking is slow and allocates black).
stack_max=32768
[ "$SANITIZE" = none ] || stack_max=262144
awk -F, -v want="$real_cycles" -v stack_max="$stack_max" 'NR == 1 { if ($0 != "run,start_unix,cycle,pause_ns,mark_cpu_ns,scanned,streamed,objects,heap,pages,model_mark_ns,goal,live,at_16,at_32,at_48,at_64,at_128,at_256,at_512,at_1024") exit 1
                  for (i = 14; i <= 21; i++) { size[i] = substr($i, 4) }; next }
     { m = 0.108 * $7; k = 0; tol = 1; for (i = 14; i <= 21; i++) { c = 65 + 0.32 * size[i]; m += c * $i; k += $i; tol += 0.05 * c }
       if ($11 < m - tol || $11 > m + tol || k < $8 - 0.5 || k > $8 + 0.5) bad = 1 }
     { n++; if ($3 != n || $5 <= 0 || $8 <= 0 || $10 <= 0 || $10 > $8 || $6 < 16 * $8 || $9 < $6 || $1 !~ /GOGC=100"$/) bad = 1
       if ($13 < $6 || $12 < 4 * 1048576) bad = 1
       if (n > 1 && 2 * prev_live > 4 * 1048576 && ($12 < 2 * prev_live || $12 > 2 * prev_live + stack_max)) bad = 1
       prev_live = $13 }
     END { exit !(!bad && n >= want - 1 && n <= want && n > 0) }' "$TMP/cycles.csv" ||
    { echo "FAIL: --cycles: not the replay's $real_cycles cycles:"; cat "$TMP/cycles.csv"; fails=$((fails + 1)); }
run 2 "--cycles needs --replay=gc" --cycles="$TMP/c.csv" "$TRACE"
run 1 "--cycles=$TMP/no/such/dir.csv: No such file" --cost=default --replay=gc --cycles="$TMP/no/such/dir.csv" "$TRACE"
# A memory limit reaches the collector.
run 0 "gc GOGC=off" --cost=default --replay=gc --gogc=off --gomemlimit=12MiB "$TRACE"
awk '/^GOMEMLIMIT/ { if ($2 != "12.0" || $4 != "12.0") exit 1 }
     /^GC cycles/ { if ($3 < 1 || $4 < 1) exit 1 }' "$TMP/out" ||
    { echo "FAIL: --replay=gc --gomemlimit: the limit did not start cycles:"; cat "$TMP/out"; fails=$((fails + 1)); }
if [ "$SANITIZE" = none ]; then
    # The replay's RSS is the collector's: 130 thousand 16-byte objects held take the
    # replay's own tables (tree and id map, 80 bytes an object) to three times the heap,
    # and those are resident before the RSS baseline. (A sanitizer's shadow would count.)
    "$GCSIM" gen steady -o "$TMP/tiny.trace" --live=2MiB --sizes=fixed:16 --rate=8MiB/s \
        --duration=500ms --seed=9 >/dev/null &&
    "$GCSIM" --cost=default --replay=gc --json="$TMP/tiny.json" "$TMP/tiny.trace" >/dev/null &&
    python3 - "$TMP/tiny.json" <<'PY' || { echo "FAIL: --replay=gc: RSS counts the replay's tables"; fails=$((fails + 1)); }
import json, sys
rep = json.load(open(sys.argv[1]))["runs"][1]["summary"]
print(f"replay RSS peak {rep['rss_peak'] / 2**20:.1f} MiB, heap peak {rep['heap_peak'] / 2**20:.1f} MiB")
sys.exit(0 if 0 < rep["rss_peak"] < 1.5 * rep["heap_peak"] else 1)
PY
    run 0 "heron *glibc" --replay=malloc --allocator=heron,glibc --csv="$TMP/m.csv" "$TRACE"
    grep -q '^heron,[0-9]*,' "$TMP/m.csv" || { echo "FAIL: --replay=malloc CSV"; fails=$((fails + 1)); }
    for a in jemalloc mimalloc tcmalloc; do
        run 0 "$a" --replay=malloc --allocator=$a "$TRACE"
    done
    # A preload that does not take effect is caught, not measured as glibc.
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 "$GCSIM" replay-child glibc "$TRACE" \
        >/dev/null 2>"$TMP/err" && { echo "FAIL: replay-child: glibc under jemalloc passed"; fails=$((fails + 1)); }
    grep -q "jemalloc is loaded" "$TMP/err" || { echo "FAIL: replay-child: wrong message"; cat "$TMP/err"; fails=$((fails + 1)); }
    "$GCSIM" replay-child mimalloc "$TRACE" >/dev/null 2>"$TMP/err" &&
        { echo "FAIL: replay-child: mimalloc without its preload passed"; fails=$((fails + 1)); }
    grep -q "did not take effect" "$TMP/err" || { echo "FAIL: replay-child: no preload message"; cat "$TMP/err"; fails=$((fails + 1)); }
fi

# Progress: forced on it draws a bar on stderr; off (and by default, off a tty) none.
"$GCSIM" --cost=default --progress "$TRACE" >/dev/null 2>"$TMP/err"
grep -q '%' "$TMP/err" || { echo "FAIL: --progress drew nothing"; fails=$((fails + 1)); }
"$GCSIM" --cost=default "$TRACE" >/dev/null 2>"$TMP/err"
[ -s "$TMP/err" ] && { echo "FAIL: stderr not empty without a terminal"; fails=$((fails + 1)); }
"$GCSIM" --cost=default --bench "$TRACE" >/dev/null 2>"$TMP/err"
grep -q 'million events/s' "$TMP/err" || { echo "FAIL: --bench printed no speed"; fails=$((fails + 1)); }

# Standard input as the trace.
"$GCSIM" --cost=default - <"$TRACE" >"$TMP/stdin.out" 2>&1 || { echo "FAIL: trace on stdin"; fails=$((fails + 1)); }

if [ $fails != 0 ]; then
    echo "$fails check(s) failed"
    exit 1
fi
echo "all gcsim command-line checks passed"
