#!/usr/bin/env bash
# cli.sh: gcsim's trace commands (record, info, gen) from the outside: usage and exit
# codes, the error lines for damaged and foreign traces, `gcsim gen` patterns checked
# through `gcsim info`, determinism, and the committed steady-state trace regenerated
# byte for byte.
#   cli.sh GCSIM SOURCE_ROOT
set -euo pipefail
gcsim=$1 src=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
py=$(python3 -c 'import sys; print(sys.executable)')
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect STATUS STDERR-LINE COMMAND...: exit status and the first line on stderr
expect() {
  local want_rc=$1 want_err=$2; shift 2
  local rc=0
  "$@" > "$dir/out" 2> "$dir/err" || rc=$?
  [ "$rc" = "$want_rc" ] || fail "$*: exit $rc, expected $want_rc; stderr: $(cat "$dir/err")"
  if [ -n "$want_err" ]; then
    [ "$(head -n 1 "$dir/err")" = "$want_err" ] || fail "$*: stderr '$(head -n 1 "$dir/err")', expected '$want_err'"
  fi
}
# json FILE EXPR: a Python expression over d = `gcsim info --json FILE`
json() {
  "$gcsim" info --json "$1" | "$py" -c "import json, sys; d = json.load(sys.stdin); print($2)"
}

echo "== usage and exit codes"
# (what names no subcommand belongs to the simulator, the default command: its tests)
expect 2 "" "$gcsim"
grep -q "gcsim record" "$dir/err" || fail "the usage lists no record command"
expect 0 "" "$gcsim" --help
grep -q "gcsim record" "$dir/out" || fail "--help lists no record command"
expect 2 "gcsim: error: info: no trace given" "$gcsim" info
expect 1 "gcsim: error: $dir/none.trace: No such file or directory" "$gcsim" info "$dir/none.trace"
expect 2 "gcsim: error: record: no output file (-o trace.bin)" "$gcsim" record -- true
expect 2 "gcsim: error: record: no program to run (gcsim record -o t.bin -- PROGRAM ARGS...)" "$gcsim" record -o t.bin
expect 2 "gcsim: error: --fork=sometimes: expected follow or ignore" "$gcsim" record --fork=sometimes -o t.bin -- true
expect 2 "gcsim: error: gen: give one pattern: steady, spike, leak or phases" "$gcsim" gen -o "$dir/g"
expect 2 "gcsim: error: gen: unknown pattern 'wavy' (steady, spike, leak or phases)" "$gcsim" gen wavy -o "$dir/g"
expect 2 "gcsim: error: gen: no output file (-o trace.bin)" "$gcsim" gen steady
expect 2 "gcsim: error: gen: bad size '12QB': unknown unit 'QB' (use B, KiB, MiB, GiB, TiB, or kB, MB, GB, TB)" "$gcsim" gen steady -o "$dir/g" --live=12QB
expect 2 "gcsim: error: gen: bad duration '10': missing unit (use ns, us, ms, s, m, h as in 1m30s)" "$gcsim" gen steady -o "$dir/g" --duration=10
expect 2 "gcsim: error: --sizes=normal:5: expected fixed:SIZE, uniform:MIN:MAX, lognormal:MEDIAN:SIGMA (SIGMA from 0 to 10) or trace:FILE" "$gcsim" gen steady -o "$dir/g" --sizes=normal:5
expect 2 "gcsim: error: --threads=0: too small (expected an integer from 1 to 65536)" "$gcsim" gen steady -o "$dir/g" --threads=0
expect 1 "gcsim: error: /nonexistent/dir/g: No such file or directory" "$gcsim" gen steady -o /nonexistent/dir/g
expect 2 "gcsim: error: gen: --deaths: 'young' is not random or oldest" \
  "$gcsim" gen steady -o "$dir/g" --deaths=young
expect 1 "gcsim: error: gen: --sizes: $dir/none.trace: No such file or directory" \
  "$gcsim" gen steady -o "$dir/g" --sizes=trace:"$dir/none.trace"
expect 1 "gcsim: error: gen: --sizes: /bin/sh: not a heron trace (bad magic)" \
  "$gcsim" gen steady -o "$dir/g" --sizes=trace:/bin/sh

echo "== damaged and foreign traces"
base=$src/sim/traces/steady-small.trace
cp "$base" "$dir/flip.trace"
# flip one bit inside chunk 1's payload: offset of chunk 1 + 40-byte header + 100
"$py" - "$dir/flip.trace" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
off = 24 + struct.unpack_from("<I", b, 16)[0]          # chunk 0
off += 40 + struct.unpack_from("<I", b, off + 8)[0]    # chunk 1
b[off + 140] ^= 0x20
open(sys.argv[1], "wb").write(b)
PY
expect 1 "gcsim: error: $dir/flip.trace: chunk 1: bad checksum" "$gcsim" info "$dir/flip.trace"
head -c 100000 "$base" > "$dir/cut.trace"
# what the chunk headers say: chunk 1's payload length, its bytes left, chunk 0's events
read -r len1 got1 n0 < <("$py" - "$base" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
c0 = 24 + struct.unpack_from("<I", b, 16)[0]
c1 = c0 + 40 + struct.unpack_from("<I", b, c0 + 8)[0]
print(struct.unpack_from("<I", b, c1 + 8)[0], 100000 - c1 - 40, struct.unpack_from("<I", b, c0 + 12)[0])
PY
)
expect 0 "gcsim: warning: $dir/cut.trace: cut short in chunk 1 ($got1 of $len1 payload bytes); read $n0 events" \
  "$gcsim" info "$dir/cut.trace"
grep -q "^events  *$n0$" "$dir/out" || fail "cut-short trace did not report the events it read"
# gen --sizes=trace: takes the sizes a cut-short trace holds, with the reader's warning
expect 0 "gcsim: warning: $dir/cut.trace: cut short in chunk 1 ($got1 of $len1 payload bytes); read $n0 events" \
  "$gcsim" gen steady -o "$dir/g" --live=64KiB --duration=10ms --sizes=trace:"$dir/cut.trace"
expect 1 "gcsim: error: /bin/sh: not a heron trace (bad magic)" "$gcsim" info /bin/sh
: > "$dir/empty.trace"
expect 1 "gcsim: error: $dir/empty.trace: empty file, not a heron trace" "$gcsim" info "$dir/empty.trace"

echo "== gen: determinism, and the committed trace regenerated"
# same_events A B: the chunks (all but the header, which holds the command line) agree
same_events() {
  "$py" - "$1" "$2" <<'PY'
import struct, sys
def chunks(path):
    b = open(path, "rb").read()
    return b[24 + struct.unpack_from("<I", b, 16)[0]:]
sys.exit(0 if chunks(sys.argv[1]) == chunks(sys.argv[2]) else 1)
PY
}
"$gcsim" gen steady -o "$dir/a.trace" --live=1MiB --duration=200ms --seed=9
"$gcsim" gen steady -o "$dir/b.trace" --live=1MiB --duration=200ms --seed=9
"$gcsim" gen steady -o "$dir/c.trace" --live=1MiB --duration=200ms --seed=10
same_events "$dir/a.trace" "$dir/b.trace" || fail "the same seed gave different traces"
same_events "$dir/a.trace" "$dir/c.trace" && fail "different seeds gave the same trace"
"$gcsim" gen steady -o "$dir/steady-small.trace" --live=256KiB --rate=4MiB/s \
  --duration=500ms --sizes=lognormal:64:1 --threads=2 --seed=42
same_events "$dir/steady-small.trace" "$base" ||
  fail "sim/traces/steady-small.trace no longer regenerates (see sim/traces/record.sh)"

echo "== gen patterns do what they say"
check() { # check TRACE PYTHON-CONDITION
  [ "$(json "$1" "$2")" = True ] || fail "$1: not $2: $("$gcsim" info --json "$1")"
}
# the live heap is held at the target, never above it by more than one object
check "$base" 'd["threads"] == 2 and d["events"] == d["mallocs"] + d["frees"] and 256*1024 <= d["peak_live_bytes"] <= 256*1024 + 20000'
check "$base" 'abs(d["duration_ns"] - 500e6) < 1e6 and abs(d["bytes_allocated"] - 2*1024*1024) < 20000'
"$gcsim" gen spike -o "$dir/spike.trace" --live=1MiB --peak=4MiB --rate=32MiB/s --duration=1s --sizes=fixed:256
check "$dir/spike.trace" '4*2**20 <= d["peak_live_bytes"] <= 4*2**20 + 256 and 2**20 - 256 <= d["live_bytes_at_end"] <= 2**20'
check "$dir/spike.trace" 'd["size_hist_log2"][8] == d["objects"]'
"$gcsim" gen leak -o "$dir/leak.trace" --live=1MiB --leak-rate=2MiB/s --rate=16MiB/s --duration=1s --sizes=uniform:16:4096
check "$dir/leak.trace" 'abs(d["live_bytes_at_end"] - 3*2**20) <= 4096 and d["peak_live_bytes"] <= 3*2**20 + 4096'
"$gcsim" gen phases -o "$dir/phases.trace" --phases=1MiB,3MiB,512KiB --rate=32MiB/s --duration=900ms --sizes=fixed:1KiB --threads=4
check "$dir/phases.trace" '3*2**20 <= d["peak_live_bytes"] <= 3*2**20 + 1024 and d["live_bytes_at_end"] == 512*1024 and d["threads"] == 4'
# --deaths=oldest: at a steady live heap of fixed-size objects every freed object lived
# live / rate (31.25 ms: the 16.8-33.6 ms bucket, 2^24 ns up); random deaths spread them
fixed256="--live=1MiB --rate=32MiB/s --duration=1s --sizes=fixed:256"
"$gcsim" gen steady -o "$dir/oldest.trace" $fixed256 --deaths=oldest
check "$dir/oldest.trace" \
  'd["lifetime_hist_log2_ns"][24] == d["frees"] > 100000 and d["header"]["deaths"] == "oldest"'
"$gcsim" gen steady -o "$dir/random.trace" $fixed256
check "$dir/random.trace" \
  'd["lifetime_hist_log2_ns"][24] < d["frees"] / 2 and "deaths" not in d["header"]'
# --sizes=trace:FILE draws the sizes FILE allocated: all 256 bytes from the spike trace;
# from the lognormal committed trace, each power-of-two bucket's share within 1.5 points
"$gcsim" gen steady -o "$dir/sized.trace" --live=1MiB --rate=32MiB/s --duration=200ms \
  --sizes=trace:"$dir/spike.trace"
check "$dir/sized.trace" 'd["size_hist_log2"][8] == d["objects"] > 10000'
"$gcsim" gen steady -o "$dir/mix.trace" --live=1MiB --rate=32MiB/s --duration=1s \
  --sizes=trace:"$base"
"$gcsim" info --json "$base" > "$dir/base.json"
check "$dir/mix.trace" 'all(abs(a / d["objects"] - b / s["objects"]) < 0.015
  for s in [json.load(open("'"$dir/base.json"'"))]
  for a, b in zip(d["size_hist_log2"], s["size_hist_log2"]))'

echo "== info: text report of the committed trace"
"$gcsim" info "$base" > "$dir/info.txt"
for line in "events               36585" "threads              2" "duration             500.0 ms" \
            "peak live bytes      259 KiB (264733 B)" "live objects at end  2497" "written by           gcsim gen 0.1.0"; do
  grep -qxF "$line" "$dir/info.txt" || fail "info lacks '$line'"
done
echo "all command-line checks pass"
