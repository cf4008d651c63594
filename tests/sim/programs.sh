#!/usr/bin/env bash
# programs.sh: real programs recorded under the LD_PRELOAD recorder, and their traces
# checked: python3 and sqlite3 workloads, the project's multi-threaded mt_alloc and the
# forking, exec'ing, crashing fork_alloc.
#   programs.sh GCSIM MT_ALLOC FORK_ALLOC SANITIZING
# `gcsim info` checks every free and realloc against the live set (a free of an object
# that is not live fails it), so each trace read here is also checked for that.
# Skipped (77) in sanitizer builds: the sanitizer runtime owns malloc there.
set -euo pipefail
gcsim=$1 mt=$2 forker=$3 sanitizing=$4
if [ "$sanitizing" = true ]; then
  echo "skip: the recorder replaces malloc, which the sanitizer runtime owns"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# the interpreter itself, not a wrapper script (pyenv) that would slow every call
py=$(python3 -c 'import sys; print(sys.executable)')
# load FILE: reads `gcsim info --json FILE` once; field FILE NAME: one value from it
declare -A info_cache
load() {
  info_cache[$1]=$("$gcsim" info --json "$1" | "$py" -c '
import json, sys
for k, v in json.load(sys.stdin).items():
    if not isinstance(v, (dict, list)):
        print("%s=%s" % (k, v))') || fail "gcsim info $1"
}
field() {
  sed -n "s/^$2=//p" <<< "${info_cache[$1]}"
}
expect_ge() { [ "$2" -ge "$3" ] || fail "$1: $2 < $3"; }
expect_eq() { [ "$2" = "$3" ] || fail "$1: '$2' != '$3'"; }

echo "== python3 (PYTHONMALLOC=malloc)"
PYTHONMALLOC=malloc "$gcsim" record -o "$dir/py.trace" -- "$py" -c '
import json
d = [{"k": i, "v": [str(j) for j in range(20)]} for i in range(3000)]
print(len(json.loads(json.dumps(d))))' > "$dir/py.out"
expect_eq "python output" "$(cat "$dir/py.out")" 3000
load "$dir/py.trace"
expect_ge "python mallocs" "$(field "$dir/py.trace" mallocs)" 60000
expect_ge "python frees" "$(field "$dir/py.trace" frees)" 60000
expect_eq "python complete" "$(field "$dir/py.trace" complete)" True
"$gcsim" info "$dir/py.trace" | grep -q '^program .*python' || fail "python trace names no python program"

echo "== sqlite3"
"$gcsim" record -o "$dir/sq.trace" -- sqlite3 :memory: "
  create table t(a integer primary key, b text, c real);
  with recursive n(i) as (select 1 union all select i + 1 from n where i < 20000)
  insert into t select i, hex(randomblob(16)), i * 0.5 from n;
  create index tb on t(b);
  select count(*), sum(length(b)) from t group by a % 7;" > "$dir/sq.out"
expect_eq "sqlite3 output lines" "$(wc -l < "$dir/sq.out")" 7
load "$dir/sq.trace"
expect_ge "sqlite3 events" "$(field "$dir/sq.trace" events)" 2000
expect_ge "sqlite3 frees" "$(field "$dir/sq.trace" frees)" 1000

echo "== mt_alloc: 4 threads, cross-thread frees"
"$gcsim" record -o "$dir/mt.trace" --callsites -- "$mt" 4 2000 > "$dir/mt.out"
read -r _ allocs _ frees < "$dir/mt.out"
load "$dir/mt.trace"
expect_eq "mt threads" "$(field "$dir/mt.trace" threads)" 5
mallocs=$(( $(field "$dir/mt.trace" mallocs) + $(field "$dir/mt.trace" callocs) + $(field "$dir/mt.trace" aligned) ))
expect_ge "mt allocations (program counted $allocs)" "$mallocs" "$allocs"
expect_ge "mt frees (program counted $frees)" "$(field "$dir/mt.trace" frees)" "$frees"
expect_ge "mt aligned" "$(field "$dir/mt.trace" aligned)" $((5 * 4 * 2000))
expect_ge "mt reallocs" "$(field "$dir/mt.trace" reallocs)" $((2 * 4 * 2000))
"$gcsim" info --json "$dir/mt.trace" | "$py" -c '
import json, sys
d = json.load(sys.stdin)
assert d["callsites"] is True, "no call sites"
# the sites that allocated most are in mt_alloc itself, named from the maps in the header
assert any(s["where"].startswith("mt_alloc+") for s in d["top_callsites"]), d["top_callsites"]
# every object the program allocated and freed: at most a few left live (libc, stdio)
assert d["live_objects_at_end"] < 50, d["live_objects_at_end"]' || fail "mt trace content"

echo "== fork_alloc --fork=follow: fork, exec, _exit"
"$gcsim" record -o "$dir/fk.trace" -- "$forker"
files=("$dir"/fk.trace.*)
[ ${#files[@]} -eq 3 ] || fail "expected 3 child traces, got: ${files[*]}"
load "$dir/fk.trace"
expect_ge "parent mallocs" "$(field "$dir/fk.trace" mallocs)" 1000
expect_ge "parent frees" "$(field "$dir/fk.trace" frees)" 1000
seen_child=0 seen_exec=0
for f in "${files[@]}"; do
  load "$f"
  m=$(field "$f" mallocs); fr=$(field "$f" frees)
  expect_eq "$f complete" "$(field "$f" complete)" True
  if [ "$m" -ge 3000 ]; then seen_exec=1; expect_ge "exec frees" "$fr" 1500
  elif [ "$m" -ge 2000 ]; then seen_child=1; expect_ge "child frees" "$fr" 2000
    # the inherited objects it freed are not in its trace
    [ "$fr" -lt 2100 ] || fail "child trace logged frees of inherited objects"
  fi
done
[ $seen_child = 1 ] && [ $seen_exec = 1 ] || fail "missing the child's or the exec'd program's trace"

echo "== fork_alloc --fork=ignore"
"$gcsim" record --fork=ignore -o "$dir/ig.trace" -- "$forker"
compgen -G "$dir/ig.trace.*" > /dev/null && fail "--fork=ignore wrote child traces"
load "$dir/ig.trace"
expect_ge "ignore parent mallocs" "$(field "$dir/ig.trace" mallocs)" 1000

echo "== fork_alloc crash: SIGSEGV, the trace keeps what was buffered"
set +e
"$gcsim" record -o "$dir/cr.trace" -- "$forker" crash 2> "$dir/cr.err"
rc=$?
set -e
expect_eq "crash exit status" "$rc" 139
grep -q "ended by signal 11" "$dir/cr.err" || fail "no word of the signal: $(cat "$dir/cr.err")"
load "$dir/cr.trace"
expect_ge "crash mallocs" "$(field "$dir/cr.trace" mallocs)" 4000
expect_eq "crash complete" "$(field "$dir/cr.trace" complete)" True

echo "== fork_alloc quit: _exit"
set +e
"$gcsim" record -o "$dir/qu.trace" -- "$forker" quit
rc=$?
set -e
expect_eq "_exit status" "$rc" 3
load "$dir/qu.trace"
expect_ge "_exit mallocs" "$(field "$dir/qu.trace" mallocs)" 5000
expect_eq "_exit complete" "$(field "$dir/qu.trace" complete)" True

echo "== fork_alloc execfail: an exec that fails, then more allocations"
"$gcsim" record -o "$dir/ef.trace" -- "$forker" execfail
load "$dir/ef.trace"
expect_ge "execfail mallocs" "$(field "$dir/ef.trace" mallocs)" 3000
expect_eq "execfail complete" "$(field "$dir/ef.trace" complete)" True

echo "== fork_alloc vfork: a vfork child execs, the parent goes on"
timeout 60 "$gcsim" record -o "$dir/vf.trace" -- "$forker" vfork || fail "vfork run failed or hung"
load "$dir/vf.trace"
expect_ge "vfork parent mallocs" "$(field "$dir/vf.trace" mallocs)" 1000
vf=("$dir"/vf.trace.*)
[ ${#vf[@]} -eq 1 ] || fail "expected the exec'd program's trace, got: ${vf[*]}"
load "${vf[0]}"
expect_ge "vfork exec'd mallocs" "$(field "${vf[0]}" mallocs)" 3000

echo "== a program that does not exist"
set +e
"$gcsim" record -o "$dir/no.trace" -- /nonexistent/program 2> "$dir/no.err"
rc=$?
set -e
expect_eq "missing program status" "$rc" 127
grep -q "gcsim: error: /nonexistent/program: No such file or directory" "$dir/no.err" || fail "$(cat "$dir/no.err")"
echo "all recorded programs check out"
