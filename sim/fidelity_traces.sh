#!/bin/sh
# sim/fidelity_traces.sh GCSIM DIR: the traces sim/fidelity.sh judges the model on, for
# it and the tools that look closer at the same rows (sim/tools/cost_check.sh). Writes
# DIR/steady-small.trace and DIR/steady-large.trace (generated: a small-object and a
# large-object steady heap) and DIR/traces, one line each: name, path, time scale. The
# time scale stretches a trace with more events a second than the replay loop manages,
# until the replay keeps to the time line within a few milliseconds (python-json by 8,
# sqlite by 4: at 2 its replays fell 3-18 ms behind in its bursts; the generated ones
# are slow enough: fidelity.sh, docs/gcsim.md "Fidelity").
set -eu
[ $# -eq 2 ] || { echo "usage: $0 GCSIM DIR" >&2; exit 2; }
GCSIM=$1 DIR=$2
"$GCSIM" gen steady -o "$DIR/steady-small.trace" --live=4MiB --rate=32MiB/s --duration=4s \
    --sizes=lognormal:64:1 --seed=5 >/dev/null
"$GCSIM" gen steady -o "$DIR/steady-large.trace" --live=32MiB --rate=128MiB/s --duration=3s \
    --sizes=lognormal:512:1.5 --seed=6 >/dev/null
cat >"$DIR/traces" <<END
python-json sim/traces/python-json.trace 8
sqlite sim/traces/sqlite.trace 4
steady-small $DIR/steady-small.trace 1
steady-large $DIR/steady-large.trace 1
END
