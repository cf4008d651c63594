/*
 * report_svg.c: the picture: heap, heap goal, live heap and RSS over time, one panel
 * per run, with the GC cycles marked; as plain SVG text, or an HTML page holding it.
 *
 * Each panel plots, against time in seconds (or milliseconds for short traces):
 *   - the heap as a shaded band between its lowest and highest value in each time
 *     bucket (the saw-tooth of allocation and sweeping), outlined at the top;
 *   - the heap goal (dashed), the live heap found by the last mark, and RSS;
 *   - GOMEMLIMIT as a dotted line, when one is set and near the curves;
 *   - a short tick under the plot where each cycle started (a histogram of starts
 *     when there are too many cycles to tell apart).
 * Axes have rounded ticks (1, 2, 5 times a power of ten) with units. The SVG uses no
 * scripts and no external resources, so it opens in any browser or viewer.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gc/pacer.h"
#include "sim/report.h"
#include "sim/units.h"

#define W 960        /* picture width, pixels */
#define PANEL_H 340  /* height of one run's panel */
#define ML 80        /* margins around the plot area: left (y labels) */
#define MR 170       /* right (legend) */
#define MT 40        /* top (title) */
#define MB 56        /* bottom (x labels, cycle ticks) */
/* Above this many cycles, individual cycle ticks would merge: draw a histogram. */
#define MAX_CYCLE_TICKS 400

static const char *const C_HEAP = "#1f77b4";
static const char *const C_GOAL = "#ff7f0e";
static const char *const C_LIVE = "#2ca02c";
static const char *const C_RSS = "#d62728";
static const char *const C_LIMIT = "#7f7f7f";

/* A round step near range / want: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int want)
{
    if (range <= 0)
        return 1;
    double raw = range / want;
    double p = pow(10, floor(log10(raw)));
    double m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

struct frame {
    double x0, y0, w, h;     /* plot area in pixels */
    double tmax;             /* seconds */
    double ymax;             /* bytes */
    double tdiv;             /* seconds per axis unit */
    const char *tunit;
    double ydiv;
    const char *yunit;
};

static double px(const struct frame *fr, double t)
{
    return fr->x0 + (fr->tmax > 0 ? t / fr->tmax : 0) * fr->w;
}

static double py(const struct frame *fr, double v)
{
    return fr->y0 + fr->h - (fr->ymax > 0 ? v / fr->ymax : 0) * fr->h;
}

static void axes(FILE *f, const struct frame *fr)
{
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='white' "
               "stroke='#888'/>\n",
            fr->x0, fr->y0, fr->w, fr->h);
    double tstep = nice_step(fr->tmax / fr->tdiv, 8);
    for (double v = 0; v <= fr->tmax / fr->tdiv * (1 + 1e-9); v += tstep) {
        double x = px(fr, v * fr->tdiv);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>\n", x,
                fr->y0, x, fr->y0 + fr->h);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>%g</text>\n", x,
                fr->y0 + fr->h + 16, v);
    }
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='middle'>time (%s)</text>\n",
            fr->x0 + fr->w / 2, fr->y0 + fr->h + 46, fr->tunit);
    double ystep = nice_step(fr->ymax / fr->ydiv, 6);
    for (double v = 0; v <= fr->ymax / fr->ydiv * (1 + 1e-9); v += ystep) {
        double y = py(fr, v * fr->ydiv);
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#eee'/>\n", fr->x0,
                y, fr->x0 + fr->w, y);
        fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end'>%g</text>\n", fr->x0 - 6, y + 4,
                v);
    }
    fprintf(f, "<text transform='translate(%.1f %.1f) rotate(-90)' text-anchor='middle'>"
               "memory (%s)</text>\n",
            fr->x0 - 58, fr->y0 + fr->h / 2, fr->yunit);
}

/* A polyline of one field of the series; skip unused buckets. */
static void line(FILE *f, const struct frame *fr, const hn_series *s, int which,
                 const char *color, const char *extra)
{
    fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' %s points='", color,
            extra);
    for (size_t k = 0; k < s->npts; k++) {
        const hn_series_point *p = &s->pts[k];
        if (!p->used)
            continue;
        double t = (double)(p->t - s->origin) / 1e9;
        double v = which == 0 ? (double)p->heap_max
                 : which == 1 ? (double)(p->goal == UINT64_MAX ? 0 : p->goal)
                 : which == 2 ? (double)p->live
                              : (double)p->rss_max;
        if (v > fr->ymax)
            v = fr->ymax; /* a goal far above the heap is cut at the top */
        fprintf(f, "%.1f,%.1f ", px(fr, t), py(fr, v));
    }
    fputs("'/>\n", f);
}

static void panel(FILE *f, const hn_run *r, double top, double tmax_all)
{
    const hn_series *s = r->series;
    struct frame fr = {ML, top + MT, W - ML - MR, PANEL_H - MT - MB, tmax_all, 0, 1, "s",
                       1, "B"};
    double hmax = 0;
    for (size_t k = 0; k < s->npts; k++) {
        const hn_series_point *p = &s->pts[k];
        if ((double)p->heap_max > hmax)
            hmax = (double)p->heap_max;
        if ((double)p->rss_max > hmax)
            hmax = (double)p->rss_max;
    }
    /* The goal may be far above (GOGC=off with a limit): show it only up to 1.5x. */
    double ymax = hmax;
    for (size_t k = 0; k < s->npts; k++) {
        double g = s->pts[k].goal == UINT64_MAX ? 0 : (double)s->pts[k].goal;
        if (g > ymax && g < hmax * 1.5)
            ymax = g;
    }
    /* The memory limit is drawn when it is within reach of the curves. */
    bool limit = r->memory_limit != HN_PACER_NO_LIMIT && (double)r->memory_limit < hmax * 1.5;
    if (limit && (double)r->memory_limit > ymax)
        ymax = (double)r->memory_limit;
    if (ymax <= 0)
        ymax = 1;
    fr.ymax = ymax * 1.05;
    if (fr.tmax < 1) {
        fr.tdiv = 1e-3;
        fr.tunit = "ms";
    }
    if (ymax >= 1 << 30) {
        fr.ydiv = 1 << 30;
        fr.yunit = "GiB";
    } else if (ymax >= 1 << 20) {
        fr.ydiv = 1 << 20;
        fr.yunit = "MiB";
    } else {
        fr.ydiv = 1 << 10;
        fr.yunit = "KiB";
    }
    char a[32], b[32];
    fprintf(f, "<text x='%d' y='%.1f' font-size='15' font-weight='bold'>", ML, top + 24);
    fprintf(f, "%s: %.0f cycles, heap peak %s, RSS peak %s, GC CPU %.1f%%</text>\n",
            r->setting, r->sum.cycles, hn_fmt_size(a, sizeof a, r->sum.heap_peak),
            hn_fmt_size(b, sizeof b, r->sum.rss_peak),
            r->sum.total_cpu_ns > 0 ? 100 * r->sum.gc_cpu_ns / r->sum.total_cpu_ns : 0);
    axes(f, &fr);

    /* The heap band: along the maxima, back along the minima. */
    fprintf(f, "<polygon fill='%s' fill-opacity='0.25' stroke='none' points='", C_HEAP);
    for (size_t k = 0; k < s->npts; k++)
        if (s->pts[k].used)
            fprintf(f, "%.1f,%.1f ", px(&fr, (double)(s->pts[k].t - s->origin) / 1e9),
                    py(&fr, (double)s->pts[k].heap_max));
    for (size_t k = s->npts; k-- > 0;)
        if (s->pts[k].used)
            fprintf(f, "%.1f,%.1f ", px(&fr, (double)(s->pts[k].t - s->origin) / 1e9),
                    py(&fr, (double)s->pts[k].heap_min));
    fputs("'/>\n", f);
    line(f, &fr, s, 3, C_RSS, "");
    line(f, &fr, s, 1, C_GOAL, "stroke-dasharray='6 4'");
    line(f, &fr, s, 2, C_LIVE, "");
    line(f, &fr, s, 0, C_HEAP, "");
    if (limit)
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
                   "stroke-width='1.5' stroke-dasharray='2 3'/>\n",
                fr.x0, py(&fr, (double)r->memory_limit), fr.x0 + fr.w,
                py(&fr, (double)r->memory_limit), C_LIMIT);

    /* Cycle marks under the plot. */
    double ybase = fr.y0 + fr.h;
    if (s->ncycles <= MAX_CYCLE_TICKS) {
        for (size_t k = 0; k < s->ncycles; k++) {
            double x = px(&fr, (double)s->cycles[k].start / 1e9);
            fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#555'/>\n", x,
                    ybase + 20, x, ybase + 28);
        }
    } else {
        uint32_t most = 1;
        for (size_t k = 0; k < s->npts; k++)
            if (s->pts[k].cycles > most)
                most = s->pts[k].cycles;
        for (size_t k = 0; k < s->npts; k++)
            if (s->pts[k].cycles) {
                double x = px(&fr, (double)(s->pts[k].t - s->origin) / 1e9);
                double hgt = 8.0 * s->pts[k].cycles / most + 1;
                fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#555'/>\n",
                        x, ybase + 28 - hgt, x, ybase + 28);
            }
    }
    fprintf(f, "<text x='%.1f' y='%.1f' text-anchor='end' fill='#555'>GC cycles</text>\n",
            fr.x0 - 6, ybase + 30);

    /* Legend. */
    static const char *const names[] = {"heap (band: min-max)", "heap goal", "live heap",
                                        "RSS", "GOMEMLIMIT"};
    const char *colors[] = {C_HEAP, C_GOAL, C_LIVE, C_RSS, C_LIMIT};
    int nlegend = r->memory_limit != HN_PACER_NO_LIMIT ? 5 : 4;
    for (int i = 0; i < nlegend; i++) {
        double y = fr.y0 + 12 + i * 20;
        double x = fr.x0 + fr.w + 12;
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' "
                   "stroke-width='2'%s/>\n",
                x, y, x + 22, y, colors[i],
                i == 1 ? " stroke-dasharray='6 4'" : i == 4 ? " stroke-dasharray='2 3'" : "");
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='11'>%s</text>\n", x + 28, y + 4,
                names[i]);
    }
}

void hn_report_svg_write(FILE *f, const char *trace, const hn_run *runs, size_t n)
{
    size_t panels = 0;
    double tmax = 0;
    for (size_t i = 0; i < n; i++) {
        const hn_series *s = runs[i].series;
        if (!s || s->npts == 0)
            continue;
        panels++;
        double t = (double)(s->pts[s->npts - 1].t - s->origin + s->width) / 1e9;
        if (t > tmax)
            tmax = t;
    }
    int h = (int)panels * PANEL_H + 30;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
               "viewBox='0 0 %d %d' font-family='sans-serif' font-size='12'>\n",
            W, h, W, h);
    fprintf(f, "<rect width='100%%' height='100%%' fill='#fafafa'/>\n");
    fprintf(f, "<text x='%d' y='20' font-size='13' fill='#333'>gcsim: ", ML);
    for (const char *p = trace; *p; p++) {
        if (*p == '<')
            fputs("&lt;", f);
        else if (*p == '&')
            fputs("&amp;", f);
        else
            fputc(*p, f);
    }
    fputs("</text>\n", f);
    double top = 24;
    for (size_t i = 0; i < n; i++) {
        const hn_series *s = runs[i].series;
        if (!s || s->npts == 0)
            continue;
        panel(f, &runs[i], top, tmax);
        top += PANEL_H;
    }
    fputs("</svg>\n", f);
}

static int write_file(const char *path, const char *trace, const hn_run *runs, size_t n,
                      bool html, char *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        snprintf(err, HN_REPORT_ERR_LEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (html) {
        fputs("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>gcsim</title>"
              "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
              "td,th{padding:2px 10px;text-align:right}pre{background:#f4f4f4;padding:1em}"
              "</style></head><body>\n<h1>gcsim</h1>\n",
              f);
        hn_report_svg_write(f, trace, runs, n);
        fputs("<pre>\n", f);
        hn_report_summary(f, runs, n);
        fputs("</pre>\n</body></html>\n", f);
    } else {
        fputs("<?xml version='1.0' encoding='UTF-8'?>\n", f);
        hn_report_svg_write(f, trace, runs, n);
    }
    int bad = ferror(f);
    bad |= f == stdout ? fflush(f) != 0 : fclose(f) != 0;
    if (bad) {
        snprintf(err, HN_REPORT_ERR_LEN, "%s: write failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int hn_report_svg(const char *path, const char *trace, const hn_run *runs, size_t n,
                  char *err)
{
    return write_file(path, trace, runs, n, false, err);
}

int hn_report_html(const char *path, const char *trace, const hn_run *runs, size_t n,
                   char *err)
{
    return write_file(path, trace, runs, n, true, err);
}
