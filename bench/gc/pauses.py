#!/usr/bin/env python3
"""pauses.py GCTRACE [RUNS]: the stop-the-world pauses in heron's gctrace lines (both
pauses of every cycle, wall clock).

Without RUNS prints "mean p99 max" in ms, or "- - -" when there are none (run.sh's
table). With RUNS, the file holds that many runs' lines together, and it prints their
count, median, p99, maximum and how many passed 0.5 ms (cycle_stats.sh); with
HERON_GCTRACE=2 lines, also how many of the pauses' stop parts (signals sent until every
thread stopped) passed 0.3 ms.
"""
import re
import sys

xs, stops = [], []
for line in open(sys.argv[1]):
    m = re.search(r': ([\d.]+)\+[\d.]+\+([\d.]+) ms clock', line)
    if m:
        xs += [float(m.group(1)), float(m.group(2))]
    m = re.search(r'pauses: ([\d.]+)\+[\d.]+\+[\d.]+ ms, ([\d.]+)\+', line)
    if m:
        stops += [float(m.group(1)), float(m.group(2))]
xs.sort()
n = len(xs)
p99 = xs[min(n - 1, n * 99 // 100)] if xs else 0
if len(sys.argv) < 3:
    print("%.3f %.3f %.3f" % (sum(xs) / n, p99, xs[-1]) if xs else "- - -")
elif xs:
    print(f"all {sys.argv[2]} runs: {n} pauses, median {xs[n // 2]:.3f} ms, p99 {p99:.3f} ms, "
          f"max {xs[-1]:.3f} ms, {sum(x > 0.5 for x in xs)} over 0.5 ms" +
          (f"; {sum(x > 0.3 for x in stops)} of {len(stops)} stops over 0.3 ms" if stops else ""))
else:
    sys.exit("pauses.py: no gctrace lines")
