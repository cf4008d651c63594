/*
 * report_text.c: the summary table gcsim prints, one column per run.
 *
 * Rows are the same for a simulation and a replay; a figure a run could not measure
 * (a replay does not know assist time apart) prints as "-". Percentages of CPU are of
 * the processor time available (wall time x procs), as Go's gctrace reports them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gc/pacer.h"
#include "sim/report.h"
#include "sim/units.h"

#define LABEL_W 22 /* width of the row names */
#define COL_W 16   /* width of each run's column */

const char *hn_report_gogc(char *buf, size_t len, int32_t gogc)
{
    if (gogc < 0)
        snprintf(buf, len, "GOGC=off");
    else
        snprintf(buf, len, "GOGC=%" PRId32, gogc);
    return buf;
}

const char *hn_report_limit(char *buf, size_t len, int64_t limit)
{
    if (limit == HN_PACER_NO_LIMIT)
        snprintf(buf, len, "off");
    else
        hn_fmt_size(buf, len, (double)limit);
    return buf;
}

enum fmt { F_COUNT, F_SIZE, F_PCT, F_DUR };

struct row {
    const char *name;
    enum fmt fmt;
    size_t off;        /* offset of the field in hn_summary */
    bool sim_only;     /* a replay does not measure it: "-" */
};

#define OFF(f) offsetof(hn_summary, f)
static const struct row rows[] = {
    {"GC cycles", F_COUNT, OFF(cycles), false},
    {"heap peak", F_SIZE, OFF(heap_peak), false},
    {"heap mean", F_SIZE, OFF(heap_mean), false},
    {"RSS peak", F_SIZE, OFF(rss_peak), false},
    {"RSS mean", F_SIZE, OFF(rss_mean), false},
    {"live heap peak", F_SIZE, OFF(live_peak), false},
    {"live heap mean", F_SIZE, OFF(live_mean), false},
    {"GC CPU", F_PCT, OFF(gc_cpu_ns), false},
    {"  assists", F_PCT, OFF(assist_cpu_ns), false},
    {"  background mark", F_PCT, OFF(background_cpu_ns), false},
    {"  pauses", F_PCT, OFF(pause_cpu_ns), false},
    {"  sweep", F_PCT, OFF(sweep_cpu_ns), false},
    {"STW pauses", F_COUNT, OFF(pauses), false},
    {"  mean pause", F_DUR, OFF(pause_total_ns), false},
    {"  max pause", F_DUR, OFF(pause_max_ns), false},
    {"CPU limiter on", F_DUR, OFF(limiter_ns), true},
    {"scavenger released", F_SIZE, OFF(released_bytes), false},
    {"wall time", F_DUR, OFF(wall_ns), false},
};

static void cell(char *buf, size_t len, const struct row *r, const hn_run *run)
{
    const hn_summary *u = &run->sum;
    double v;
    memcpy(&v, (const char *)u + r->off, sizeof v);
    if (r->sim_only && run->replay) {
        snprintf(buf, len, "-");
        return;
    }
    switch (r->fmt) {
    case F_COUNT:
        snprintf(buf, len, "%.0f", v);
        break;
    case F_SIZE:
        hn_fmt_size(buf, len, v);
        break;
    case F_PCT:
        snprintf(buf, len, "%.2f %%", u->total_cpu_ns > 0 ? 100 * v / u->total_cpu_ns : 0);
        break;
    case F_DUR:
        if (r->off == OFF(pause_total_ns))
            v = u->pauses > 0 ? v / u->pauses : 0;
        hn_fmt_duration(buf, len, v);
        break;
    }
}

void hn_report_summary(FILE *f, const hn_run *runs, size_t n)
{
    char buf[64];
    fprintf(f, "%-*s", LABEL_W, "");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%*s", COL_W, runs[i].label);
    fputc('\n', f);
    fprintf(f, "%-*s", LABEL_W, "GOMEMLIMIT");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%*s", COL_W, hn_report_limit(buf, sizeof buf, runs[i].memory_limit));
    fputc('\n', f);
    fprintf(f, "%-*s", LABEL_W, "procs");
    for (size_t i = 0; i < n; i++) {
        if (runs[i].procs > 0)
            snprintf(buf, sizeof buf, "%" PRId32, runs[i].procs);
        else
            snprintf(buf, sizeof buf, "threads");
        fprintf(f, "%*s", COL_W, buf);
    }
    fputc('\n', f);
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        fprintf(f, "%-*s", LABEL_W, rows[k].name);
        for (size_t i = 0; i < n; i++) {
            cell(buf, sizeof buf, &rows[k], &runs[i]);
            fprintf(f, "%*s", COL_W, buf);
        }
        fputc('\n', f);
    }
}
