/*
 * report_series.c: the time series as CSV and as JSON.
 *
 * CSV, one row per time bucket per run (docs/gcsim.md lists the columns):
 *   setting,t_s,heap_min,heap_max,goal,live,rss_min,rss_max,cycles
 * heap_* and rss_* are the lowest and highest values inside the bucket, goal and live
 * the values at its end, cycles the number of cycles that started in it.
 *
 * JSON, one object: {"trace": ..., "runs": [{"setting", "gogc", "gomemlimit",
 * "summary": {...}, "columns": [...], "series": [[...], ...], "cycles": [{...}]}]}.
 * The summary's fields come from HN_SUMMARY_FIELDS, so the JSON and the struct never
 * drift. Sizes are bytes, times seconds (series) or nanoseconds (summary, cycles).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gc/pacer.h"
#include "sim/report.h"

static FILE *open_out(const char *path, char *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f)
        snprintf(err, HN_REPORT_ERR_LEN, "%s: %s", path, strerror(errno));
    return f;
}

static int close_out(FILE *f, const char *path, char *err)
{
    int bad = ferror(f);
    if (f == stdout)
        bad |= fflush(f) != 0;
    else
        bad |= fclose(f) != 0;
    if (bad) {
        snprintf(err, HN_REPORT_ERR_LEN, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int hn_report_csv(const char *path, const hn_run *runs, size_t n, char *err)
{
    FILE *f = open_out(path, err);
    if (!f)
        return -1;
    fprintf(f, "setting,t_s,heap_min,heap_max,goal,live,rss_min,rss_max,cycles\n");
    for (size_t i = 0; i < n; i++) {
        const hn_series *s = runs[i].series;
        if (!s)
            continue;
        for (size_t k = 0; k < s->npts; k++) {
            const hn_series_point *p = &s->pts[k];
            fprintf(f, "%s,%.6f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                       ",%" PRIu64 ",%" PRIu32 "\n",
                    runs[i].label, (double)(p->t - s->origin) / 1e9, p->heap_min, p->heap_max,
                    p->goal == UINT64_MAX ? 0 : p->goal, p->live, p->rss_min, p->rss_max,
                    p->cycles);
        }
    }
    return close_out(f, path, err);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

int hn_report_json(const char *path, const char *trace, const hn_run *runs, size_t n,
                   char *err)
{
    FILE *f = open_out(path, err);
    if (!f)
        return -1;
    fputs("{\"trace\": ", f);
    json_string(f, trace);
    fputs(", \"runs\": [", f);
    for (size_t i = 0; i < n; i++) {
        const hn_run *r = &runs[i];
        fputs(i ? ",\n{" : "\n{", f);
        fputs("\"setting\": ", f);
        json_string(f, r->setting);
        if (r->gogc < 0)
            fputs(", \"gogc\": null", f);
        else
            fprintf(f, ", \"gogc\": %" PRId32, r->gogc);
        if (r->memory_limit == HN_PACER_NO_LIMIT)
            fputs(", \"gomemlimit\": null", f);
        else
            fprintf(f, ", \"gomemlimit\": %" PRId64, r->memory_limit);
        fputs(", \"summary\": {", f);
        const char *sep = "";
#define HN_JSON_FIELD(name, doc)                                 \
        fprintf(f, "%s\"" #name "\": %.0f", sep, r->sum.name); \
        sep = ", ";
        HN_SUMMARY_FIELDS(HN_JSON_FIELD)
#undef HN_JSON_FIELD
        fputs("}", f);
        const hn_series *s = r->series;
        if (s) {
            fputs(",\n \"columns\": [\"t_s\", \"heap_min\", \"heap_max\", \"goal\", \"live\", "
                  "\"rss_min\", \"rss_max\", \"cycles\"],\n \"series\": [",
                  f);
            for (size_t k = 0; k < s->npts; k++) {
                const hn_series_point *p = &s->pts[k];
                fprintf(f, "%s[%.6f, %" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64
                           ", %" PRIu64 ", %" PRIu64 ", %" PRIu32 "]",
                        k ? ",\n  " : "\n  ", (double)(p->t - s->origin) / 1e9, p->heap_min,
                        p->heap_max, p->goal == UINT64_MAX ? 0 : p->goal, p->live, p->rss_min,
                        p->rss_max, p->cycles);
            }
            fputs("],\n \"cycles\": [", f);
            for (size_t k = 0; k < s->ncycles; k++) {
                const hn_series_cycle *c = &s->cycles[k];
                fprintf(f, "%s{\"num\": %" PRIu64 ", \"start_ns\": %" PRId64
                           ", \"mark_end_ns\": %" PRId64 ", \"end_ns\": %" PRId64
                           ", \"heap_start\": %" PRIu64 ", \"heap_end\": %" PRIu64
                           ", \"live\": %" PRIu64 ", \"goal\": %" PRIu64 ", \"rss\": %" PRIu64
                           ", \"pause_ns\": %" PRId64 ", \"assist_ns\": %.0f"
                           ", \"background_ns\": %.0f}",
                        k ? ",\n  " : "\n  ", c->num, c->start, c->mark_end, c->end,
                        c->heap_start, c->heap_end, c->live,
                        c->goal == UINT64_MAX ? 0 : c->goal, c->rss, c->pause_ns, c->assist_ns,
                        c->background_ns);
            }
            fputs("]", f);
        }
        fputs("}", f);
    }
    fputs("\n]}\n", f);
    return close_out(f, path, err);
}
