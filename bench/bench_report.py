"""bench_report.py: what bench/run writes after the runs: the machine facts, the
markdown summary (median ratios against jemalloc with min/max, geometric means and worst
ratios, the memory tests, heron's marks), the SVG picture, and the splice of the summary
into docs/benchmarks.md. Python 3 standard library only; imported by bench/run.
"""

import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = "jemalloc"
# Column order of every table; jemalloc first as the baseline.
ALLOC_ORDER = ["jemalloc", "heron", "glibc", "mimalloc", "tcmalloc"]
SPREAD_FLAG = 0.05           # flag (max - min) / median above 5 %, as the protocol says

# Debian packages behind each allocator, for the machine facts.
ALLOC_PACKAGES = {
    "glibc": "libc6",
    "jemalloc": "libjemalloc2",
    "mimalloc": "libmimalloc2.0",
    "tcmalloc": "libtcmalloc-minimal4",
}


def error(msg, code=1):
    print(f"bench/run: error: {msg}", file=sys.stderr)
    sys.exit(code)


# ---------------------------------------------------------------- machine facts

def sh(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def damon_facts():
    """Kernel DAMON schemes running (a pageout scheme can lower RSS behind a test)."""
    base = "/sys/kernel/mm/damon/admin/kdamonds"
    out = []
    try:
        for k in sorted(os.listdir(base)):
            if not k.isdigit():
                continue
            with open(f"{base}/{k}/state") as f:
                state = f.read().strip()
            actions = []
            cbase = f"{base}/{k}/contexts"
            for c in sorted(x for x in os.listdir(cbase) if x.isdigit()):
                with open(f"{cbase}/{c}/operations") as f:
                    ops = f.read().strip()
                sbase = f"{cbase}/{c}/schemes"
                for sch in sorted(x for x in os.listdir(sbase) if x.isdigit()):
                    with open(f"{sbase}/{sch}/action") as f:
                        actions.append(f"{f.read().strip()} ({ops})")
            out.append(f"kdamond {k} {state}: " + (", ".join(actions) or "no schemes"))
    except OSError:
        pass
    return "; ".join(out) or "not running"


def machine_facts(libs, args):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.1f} GiB"
    def read(path):
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError:
            return "n/a"
    facts = [
        ("date (UTC)", time.strftime("%Y-%m-%d %H:%M", time.gmtime())),
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("memory", mem),
        ("kernel", platform.release()),
        ("transparent huge pages", read("/sys/kernel/mm/transparent_hugepage/enabled")
         + "; defrag " + read("/sys/kernel/mm/transparent_hugepage/defrag")),
        ("load average at start", " ".join(read("/proc/loadavg").split()[:3])),
        ("DAMON", damon_facts()),
        ("swap", "none" if read("/proc/swaps").count("\n") == 0 else "present"),
    ]
    for name in ALLOC_ORDER:
        if name not in libs:
            continue
        if name == "heron":
            commit = sh(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"])
            last = sh(["git", "-C", ROOT, "log", "-1", "--format=%h %s", "--", "alloc", "include"])
            dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--", "alloc", "include"])
            facts.append(("heron", f"{libs['heron']}, tree at commit {commit}; last allocator "
                          f"commit: {last[:100]}"
                          + (" (with uncommitted allocator changes)" if dirty else "")))
        else:
            pkg = ALLOC_PACKAGES[name]
            ver = sh(["dpkg-query", "-W", "-f=${Version}", pkg]) or "not a Debian package"
            where = libs[name] or "no preload"
            facts.append((name, f"{pkg} {ver} ({where})"))
    for pkg in ["redis-server", "sqlite3", "python3.11", "gcc-12"]:
        ver = sh(["dpkg-query", "-W", "-f=${Version}", pkg])
        if ver:
            facts.append((pkg, ver))
    return facts


# ---------------------------------------------------------------- summary

def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def collect(rows):
    """(bench, alloc) -> list of run dicts."""
    by = {}
    for r in rows:
        by.setdefault((r["bench"], r["alloc"]), []).append(r)
    return by


def metric(runs, key):
    return [float(r[key]) for r in runs]


def ratio_cell(vals, base_vals):
    if not vals or not base_vals:
        return None
    base = statistics.median(base_vals)
    med = statistics.median(vals)
    if base <= 0:
        return None
    spread = (max(vals) - min(vals)) / med if med > 0 else 0
    return dict(ratio=med / base, lo=min(vals) / base, hi=max(vals) / base,
                flag=spread > SPREAD_FLAG, median=med)


def fmt_cell(c):
    if c is None:
        return "n/a"
    return f"{c['ratio']:.2f} ({c['lo']:.2f}-{c['hi']:.2f}){' *' if c['flag'] else ''}"


def results_of(run):
    return dict(kv.split("=", 1) for kv in run["results"].split(";") if "=" in kv)


def summarize(rows, allocs, benches, facts, args):
    by = collect(rows)
    lines = ["# heron benchmark suite: results", ""]
    lines.append(f"Command: `bench/run {' '.join(args.argv)}`".rstrip() + "  ")
    lines.append(f"Runs per cell: {args.runs}"
                 + ("" if args.quick else ", after one discarded warm-up round")
                 + "; allocators in round-robin order.")
    lines += ["", "## Machine", "", "| fact | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in facts]
    others = [a for a in allocs if a != BASELINE]
    cells = {}
    for key, title, unit, scale in (("wall_s", "Wall time", "s", 1.0),
                                    ("maxrss_kib", "Peak RSS", "MiB", 1 / 1024),
                                    ("cpu_s", "CPU time (user + sys)", "s", 1.0)):
        lines += ["", f"## {title}: median ratio against jemalloc (min-max)", "",
                  f"Lower is better. `*`: the runs of that cell spread over {SPREAD_FLAG:.0%} "
                  "of their median. jemalloc's column is its median in "
                  f"{unit}.", ""]
        lines.append("| benchmark | jemalloc " + unit + " | " + " | ".join(others) + " |")
        lines.append("|---|---:|" + "---:|" * len(others))
        for b in benches:
            base = metric(by.get((b["name"], BASELINE), []), key)
            bcell = f"{statistics.median(base) * scale:.3f}" if base else "n/a"
            if base and (max(base) - min(base)) / statistics.median(base) > SPREAD_FLAG:
                bcell += " *"
            timed = key != "maxrss_kib"
            row = [b["name"] + (" (memory test)" if b.get("memory") and timed else ""), bcell]
            for a in others:
                c = ratio_cell(metric(by.get((b["name"], a), []), key), base)
                cells[(key, b["name"], a)] = c
                row.append(fmt_cell(c))
            lines.append("| " + " | ".join(row) + " |")
        gm_row, worst_row = ["**geometric mean**", ""], ["**worst**", ""]
        for a in others:
            pairs = [(cells[(key, b["name"], a)]["ratio"], b["name"]) for b in benches
                     if cells.get((key, b["name"], a)) and not (key != "maxrss_kib" and b.get("memory"))]
            g = geomean([p[0] for p in pairs])
            gm_row.append(f"**{g:.3f}**" if g else "n/a")
            w = max(pairs) if pairs else None
            worst_row.append(f"{w[0]:.2f} ({w[1]})" if w else "n/a")
        lines.append("| " + " | ".join(gm_row) + " |")
        lines.append("| " + " | ".join(worst_row) + " |")
        if key == "wall_s":
            lines += ["", "The time summary leaves out the memory tests (phase, randfree): "
                      "their wall time is mostly the idle period they sleep through."]
        if key == "cpu_s":
            lines += ["", "CPU time is a second view of speed for a shared machine: another "
                      "user's load stretches wall time but much less the CPU a run uses itself. "
                      "For redis it is the server's CPU only."]
    lines += memory_tests(by, allocs)
    if "heron" in allocs:
        lines += heron_marks(by, cells, benches)
    lines += ["", "## Benchmarks", "", "| benchmark | stresses |", "|---|---|"]
    lines += [f"| {b['name']} | {b['what']} |" for b in benches]
    return "\n".join(lines) + "\n", cells


def median_result(runs, key):
    vals = [float(results_of(r)[key]) for r in runs if key in results_of(r)]
    return statistics.median(vals) if vals else None


def memory_tests(by, allocs):
    lines = []
    MiB = 1 << 20
    phase = [(a, by.get(("phase", a))) for a in allocs if by.get(("phase", a))]
    if phase:
        lines += ["", "## Phase test: RSS / live bytes (medians)", "",
                  "After the first GiB is freed, `live` is the second phase's ~100 MiB. "
                  "`trim` is `malloc_trim(0)` where the allocator has one (glibc, heron); "
                  "elsewhere RSS after trim is RSS after idle.", "",
                  "| allocator | live MiB | RSS after free | after idle | after trim | trim "
                  "| busy s | busy vs jemalloc |",
                  "|---|---:|---:|---:|---:|---|---:|---:|"]
        base = by.get(("phase", BASELINE))
        for a, runs in phase:
            trim = results_of(runs[0]).get("trim", "?")
            busy = median_result(runs, "busy")
            vs = f"{busy / median_result(base, 'busy'):.2f}" if base else "n/a"
            lines.append(f"| {a} | {median_result(runs, 'live') / MiB:.0f} | "
                         f"{median_result(runs, 'ratio_free'):.2f}x | "
                         f"{median_result(runs, 'ratio_idle'):.2f}x | "
                         f"{median_result(runs, 'ratio_trim'):.2f}x | {trim} | {busy:.2f} | {vs} |")
    rf = [(a, by.get(("randfree", a))) for a in allocs if by.get(("randfree", a))]
    if rf:
        base = by.get(("randfree", BASELINE))
        lines += ["", "## Random-free test: RSS (medians)", "",
                  "90 % of ~1 GiB freed at random, idle, then the same bytes allocated again.", "",
                  "| allocator | RSS after free MiB | after idle MiB | idle / live | "
                  "after refill MiB | refill / live | idle vs jemalloc | refill vs jemalloc "
                  "| busy s | busy vs jemalloc |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for a, runs in rf:
            idle = median_result(runs, "rss_idle")
            refill = median_result(runs, "rss_refill")
            busy = median_result(runs, "busy")
            vs = vs2 = vs3 = "n/a"
            if base:
                vs = f"{idle / median_result(base, 'rss_idle'):.2f}"
                vs2 = f"{refill / median_result(base, 'rss_refill'):.2f}"
                vs3 = f"{busy / median_result(base, 'busy'):.2f}"
            lines.append(f"| {a} | {median_result(runs, 'rss_free') / MiB:.0f} | {idle / MiB:.0f} | "
                         f"{median_result(runs, 'ratio_idle'):.2f}x | {refill / MiB:.0f} | "
                         f"{median_result(runs, 'ratio_refill'):.2f}x | {vs} | {vs2} | "
                         f"{busy:.2f} | {vs3} |")
    if phase or rf:
        lines += ["", "`busy` is the test's time minus the idle period: the cost of filling, "
                  "freeing and refilling, which the wall-time table cannot show."]
    return lines


def heron_marks(by, cells, benches):
    """The issue's marks for heron, each met or missed with the figure."""
    def ok(b):
        return "met" if b else "**missed**"
    lines = ["", "## heron against the issue's marks", "", "| mark | figure | |", "|---|---|---|"]
    t = [(cells[("wall_s", b["name"], "heron")]["ratio"], b["name"]) for b in benches
         if cells.get(("wall_s", b["name"], "heron")) and not b.get("memory")]
    m = [(cells[("maxrss_kib", b["name"], "heron")]["ratio"], b["name"]) for b in benches
         if cells.get(("maxrss_kib", b["name"], "heron"))]
    if t:
        g = geomean([x[0] for x in t])
        lines.append(f"| time geomean vs jemalloc <= 0.90 | {g:.3f} | {ok(g <= 0.90)} |")
        bad = [f"{n} {r:.2f}x" for r, n in sorted(t, reverse=True) if r > 1.5]
        lines.append(f"| no benchmark > 1.5x jemalloc | worst {max(t)[1]} {max(t)[0]:.2f}x"
                     + (f"; over: {', '.join(bad)}" if bad else "") + f" | {ok(not bad)} |")
    if m:
        g = geomean([x[0] for x in m])
        lines.append(f"| peak RSS geomean vs jemalloc <= 1.00 | {g:.3f} | {ok(g <= 1.0)} |")
    ph = by.get(("phase", "heron"))
    if ph:
        r = median_result(ph, "ratio_trim")
        lines.append(f"| phase test RSS <= 1.2x live after trim | {r:.2f}x | {ok(r <= 1.2)} |")
    rf, rj = by.get(("randfree", "heron")), by.get(("randfree", BASELINE))
    if rf and rj:
        r = median_result(rf, "rss_idle") / median_result(rj, "rss_idle")
        r2 = median_result(rf, "rss_refill") / median_result(rj, "rss_refill")
        lines.append(f"| random-free RSS <= jemalloc | idle {r:.2f}x, refill {r2:.2f}x | "
                     f"{ok(r <= 1.0 and r2 <= 1.0)} |")
    return lines


# ---------------------------------------------------------------- SVG

COLORS = {"jemalloc": "#444444", "heron": "#d62728", "glibc": "#1f77b4",
          "mimalloc": "#2ca02c", "tcmalloc": "#ff7f0e"}


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def svg_bars(cells, key, title, benches, others, x0, y0, w, h):
    """Grouped bars of median ratios on a log2 axis from 1/4 to 4, with a line at 1."""
    out = [f'<text x="{x0}" y="{y0 - 8}" font-size="14" font-weight="bold">{esc(title)}</text>']
    lo, hi = math.log2(0.25), math.log2(4)
    def ypos(v):
        v = min(max(math.log2(v), lo), hi)
        return y0 + h - (v - lo) / (hi - lo) * h
    for tick in (0.25, 0.5, 1, 2, 4):
        y = ypos(tick)
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="'
                   + ("#000" if tick == 1 else "#ddd") + '" stroke-width="1"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{tick:g}x</text>')
    names = [b["name"] for b in benches]
    gw = w / max(1, len(names))
    bw = gw * 0.8 / max(1, len(others))
    for i, n in enumerate(names):
        gx = x0 + i * gw + gw * 0.1
        for j, a in enumerate(others):
            c = cells.get((key, n, a))
            if not c:
                continue
            y1, y = ypos(1), ypos(c["ratio"])
            top, height = min(y, y1), abs(y1 - y)
            out.append(f'<rect x="{gx + j * bw:.1f}" y="{top:.1f}" width="{bw * 0.9:.1f}" '
                       f'height="{max(height, 0.5):.1f}" fill="{COLORS.get(a, "#888")}">'
                       f'<title>{esc(n)} {a}: {c["ratio"]:.2f}x</title></rect>')
            if c["ratio"] > 4 or c["ratio"] < 0.25:
                ty = y - 2 - 9 * j if c["ratio"] > 4 else y + 9 + 9 * j  # stagger labels
                out.append(f'<text x="{gx + j * bw:.1f}" y="{ty:.1f}" font-size="8">'
                           f'{c["ratio"]:.2g}</text>')
        out.append(f'<text x="{gx + gw * 0.4:.1f}" y="{y0 + h + 12}" font-size="10" '
                   f'text-anchor="end" transform="rotate(-40 {gx + gw * 0.4:.1f} {y0 + h + 12})">'
                   f'{esc(n)}</text>')
    return out


def svg_lines(series, live, title, x0, y0, w, h):
    """RSS (MiB) over time per allocator, with the live bytes dashed."""
    out = [f'<text x="{x0}" y="{y0 - 8}" font-size="14" font-weight="bold">{esc(title)}</text>']
    pts = [p for s in series.values() for p in s] + live
    if not pts:
        return out
    tmax = max(p[0] for p in pts) or 1
    ymax = max(p[1] for p in pts) or 1
    step = 16  # MiB between grid lines: the first of 16, 32, 64, ... giving at most 8
    while ymax / 2**20 / step > 8:
        step *= 2
    def xy(t, v):
        return x0 + t / tmax * w, y0 + h - v / ymax * h
    out.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="none" stroke="#999"/>')
    mib = 0
    while mib * 2**20 <= ymax:
        _, y = xy(0, mib * 2**20)
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + w}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{mib} MiB</text>')
        mib += step
    out.append(f'<text x="{x0 + w}" y="{y0 + h + 14}" font-size="10" text-anchor="end">'
               f'{tmax:.1f} s</text>')
    for a, s in series.items():
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(t, v) for t, v in s))
        out.append(f'<polyline points="{d}" fill="none" stroke="{COLORS.get(a, "#888")}" '
                   f'stroke-width="1.5"><title>{a}</title></polyline>')
    if live:
        d = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(t, v) for t, v in live))
        out.append(f'<polyline points="{d}" fill="none" stroke="#000" stroke-dasharray="4 3"/>')
    return out


def write_svg(path, cells, benches, allocs, samples):
    others = [a for a in allocs if a != BASELINE]
    W = 980
    parts = []
    y = 40
    legend = []
    for i, a in enumerate(allocs):
        legend.append(f'<rect x="{60 + i * 110}" y="10" width="12" height="12" fill="{COLORS.get(a, "#888")}"/>'
                      f'<text x="{76 + i * 110}" y="21" font-size="12">{a}</text>')
    legend.append(f'<text x="{60 + len(allocs) * 110}" y="21" font-size="12">'
                  f'- - live bytes ({allocs[0]}\'s run)</text>')
    parts += legend
    parts += svg_bars(cells, "wall_s", "Wall time / jemalloc (median, log scale)", benches, others,
                      60, y + 20, W - 80, 200)
    y += 320
    parts += svg_bars(cells, "maxrss_kib", "Peak RSS / jemalloc (median, log scale)", benches, others,
                      60, y + 20, W - 80, 200)
    y += 320
    for test, title in (("phase", "Phase test: RSS over time (run 1)"),
                        ("randfree", "Random-free test: RSS over time (run 1)")):
        series, live = {}, []
        for s in samples:
            if s["bench"] == test and s["source"] == "inner" and int(s["run"]) == 1:
                series.setdefault(s["alloc"], []).append((float(s["t"]), int(s["rss"])))
                if s["alloc"] == allocs[0]:
                    live.append((float(s["t"]), int(s["live"])))
        if series:
            parts += svg_lines(series, live, title, 90, y + 20, W - 120, 220)
            y += 290
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{y}" '
           f'font-family="sans-serif">', f'<rect width="{W}" height="{y}" fill="white"/>']
    svg += parts + ["</svg>"]
    with open(path, "w") as f:
        f.write("\n".join(svg) + "\n")


DOC_BEGIN = "<!-- bench/run results: begin -->"
DOC_END = "<!-- bench/run results: end -->"


def splice_doc(doc, md, svg):
    """Put the summary between the markers of doc (headings one level down) and the
    picture beside it as <doc name>.svg."""
    with open(doc) as f:
        text = f.read()
    if DOC_BEGIN not in text or DOC_END not in text:
        error(f"{doc}: no '{DOC_BEGIN}' ... '{DOC_END}' markers")
    body = "\n".join(("#" + line) if line.startswith("#") else line for line in md.splitlines())
    picture = os.path.splitext(doc)[0] + ".svg"
    shutil.copyfile(svg, picture)
    body += f"\n\n![time and peak RSS ratios, RSS over time]({os.path.basename(picture)})\n"
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail_text = rest.split(DOC_END, 1)
    with open(doc, "w") as f:
        f.write(head + DOC_BEGIN + "\n" + body + "\n" + DOC_END + tail_text)
    print(f"bench/run: results spliced into {doc}, picture {picture}", file=sys.stderr)
