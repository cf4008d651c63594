#!/bin/sh
# test_sim_golden.sh GCSIM SRCDIR [--update]: the simulator's output for committed
# generated traces at the compiled-in cost model (--cost=default), compared byte for
# byte with tests/sim/golden/*.txt. A change to the model changes these on purpose:
# rerun with --update, read the diff, and commit it with the reason.
set -u
GCSIM=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$2" || exit 1
update=${3:-}
G=tests/sim/golden
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0

golden() { # golden NAME ARGS...
    name=$1; shift
    if ! "$GCSIM" --cost=default "$@" >"$TMP/$name.txt" 2>"$TMP/$name.err"; then
        echo "FAIL: $name: gcsim $* failed:"; cat "$TMP/$name.err"; fails=$((fails + 1)); return
    fi
    if [ "$update" = --update ]; then
        cp "$TMP/$name.txt" "$G/$name.txt"; echo "updated $G/$name.txt"
    elif ! diff -u "$G/$name.txt" "$TMP/$name.txt"; then
        echo "FAIL: $name differs from $G/$name.txt"; fails=$((fails + 1))
    fi
}

golden steady --gogc=50,100,200,off $G/steady.trace
golden steady-procs4 --gogc=100 --procs=4 $G/steady.trace
golden phases --gogc=50,100,200 $G/phases.trace
golden phases-limit-gctrace --gogc=100 --gomemlimit=4MiB --gctrace $G/phases.trace
golden phases-off-limit --gogc=off --gomemlimit=3MiB $G/phases.trace

[ $fails = 0 ] || { echo "$fails golden file(s) differ"; exit 1; }
echo "golden outputs match"
