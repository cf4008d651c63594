#!/usr/bin/env python3
"""record_overhead.py: what recording costs a program: each workload run plain and under
`gcsim record`, alternately, after a discarded warm-up pair; medians of wall time and of
CPU time (user + system, from wait4), min and max, and the ratios.

    python3 sim/tools/record_overhead.py [--runs N] [--gcsim build/sim/gcsim]

Workloads (allocation-heavy on purpose):
  python-json   python3 with PYTHONMALLOC=malloc building 20,000 JSON documents,
                serialising and parsing them
  sqlite        sqlite3 inserting 200,000 rows into an in-memory table, indexing them,
                grouping them
Every recorded run is checked to have written a trace with events (the preload took
effect). CPU time is the figure to trust on a shared machine: wall time counts the time
slices other processes took.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PY = sys.executable
WORKLOADS = {
    "python-json": ([PY, "-c", """
import json
d = [{"k": i, "v": [str(j) for j in range(50)], "s": "x" * (i % 300)} for i in range(20000)]
e = json.loads(json.dumps(d))
print(len(e))"""], {"PYTHONMALLOC": "malloc"}),
    "sqlite": (["sqlite3", ":memory:", """
create table t(a integer primary key, b text, c real);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 200000)
insert into t select i, hex(randomblob(16)), i * 0.5 from n;
create index tb on t(b);
select count(*), sum(length(b)) from t group by a % 7;"""], {}),
}


def run(cmd, env):
    """Runs cmd; returns (wall seconds, cpu seconds, peak RSS KiB)."""
    t = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("record_overhead: %s failed" % cmd[0])
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--gcsim", default="build/sim/gcsim")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    trace = os.path.join(tmp, "t.trace")
    print("%-12s %-9s %10s %10s %10s %10s" % ("workload", "mode", "wall s", "cpu s",
                                             "cpu min", "cpu max"))
    for name, (cmd, extra) in WORKLOADS.items():
        env = dict(os.environ, **extra)
        rec = [args.gcsim, "record", "-o", trace, "--"] + cmd
        res = {"plain": [], "recorded": []}
        for i in range(args.runs + 1):
            for mode, c in (("plain", cmd), ("recorded", rec)):
                r = run(c, env)
                if mode == "recorded":
                    info = subprocess.run([args.gcsim, "info", trace], capture_output=True,
                                          text=True).stdout
                    events = int(info.split("\nevents")[1].split()[0])
                    if events < 10000:
                        sys.exit("record_overhead: the recorder logged only %d events" % events)
                if i:  # the first pair warms the page cache and is discarded
                    res[mode].append(r)
        med = {}
        for mode, rs in res.items():
            cpu = [r[1] for r in rs]
            med[mode] = (statistics.median(r[0] for r in rs), statistics.median(cpu))
            spread = (max(cpu) - min(cpu)) / med[mode][1]
            print("%-12s %-9s %10.3f %10.3f %10.3f %10.3f%s" % (
                name, mode, med[mode][0], med[mode][1], min(cpu), max(cpu),
                "  (spread > 5%)" if spread > 0.05 else ""))
        print("%-12s %-9s %9.2fx %9.2fx   (%d events in the last trace)" % (
            name, "ratio", med["recorded"][0] / med["plain"][0],
            med["recorded"][1] / med["plain"][1], events))
    with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
        print("transparent huge pages:", f.read().strip())


if __name__ == "__main__":
    main()
