#!/usr/bin/env bash
# record.sh: records the example traces that ship in sim/traces/, from the repository's
# root, with the gcsim of build/ (or $GCSIM):
#   python-json.trace   python3 (PYTHONMALLOC=malloc, so every object is a malloc)
#                       building, serialising and parsing JSON documents, keeping the
#                       last four rounds alive: a heap that ramps up, then churns
#   sqlite.trace        sqlite3 building a table of 30,000 rows in memory, indexing it
#                       and querying it
#   steady-small.trace  a small generated steady state, for golden tests
# Recorded traces differ from run to run (time stamps, the C library's own allocations);
# the generated one is the same byte for byte.
set -euo pipefail
cd "$(dirname "$0")/../.."
gcsim=${GCSIM:-build/sim/gcsim}
out=sim/traces
py=$(python3 -c 'import sys; print(sys.executable)') # the interpreter, not a wrapper

PYTHONMALLOC=malloc "$gcsim" record -o "$out/python-json.trace" -- "$py" -c '
import json
keep = []
for r in range(9):
    docs = [{"id": i, "name": "user%d" % i, "tags": ["t%d" % (i % 7), "x" * (i % 40)],
             "score": i * 0.5, "round": r} for i in range(700)]
    back = json.loads(json.dumps(docs))
    keep.append(back)
    if len(keep) > 4:
        keep.pop(0)
print(sum(len(k) for k in keep), "documents kept")'

"$gcsim" record -o "$out/sqlite.trace" -- sqlite3 :memory: "
  create table t(a integer primary key, b text, c real, d blob);
  with recursive n(i) as (select 1 union all select i + 1 from n where i < 30000)
  insert into t select i, hex(randomblob(8 + i % 32)), i * 0.5, randomblob(i % 200) from n;
  create index tb on t(b);
  create index tc on t(c);
  select count(*), sum(length(d)) from t group by a % 11;
  select b, count(*) from t group by substr(b, 1, 2) order by 2 desc limit 5;
  delete from t where a % 3 = 0;
  vacuum;" > /dev/null

"$gcsim" gen steady -o "$out/steady-small.trace" --live=256KiB --rate=4MiB/s \
  --duration=500ms --sizes=lognormal:64:1 --threads=2 --seed=42
"$gcsim" info "$out"/*.trace | grep -E '^(trace|events|file size|bytes per event)'
