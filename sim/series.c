/*
 * series.c: the bucketed time series of series.h.
 */
#include "sim/series.h"

#include <stdlib.h>
#include <string.h>

int hn_series_init(hn_series *s)
{
    memset(s, 0, sizeof *s);
    s->pts = calloc(HN_SERIES_BUCKETS, sizeof *s->pts);
    if (!s->pts)
        return -1;
    s->width = HN_SERIES_FIRST_WIDTH_NS;
    return 0;
}

void hn_series_destroy(hn_series *s)
{
    free(s->pts);
    free(s->cycles);
    memset(s, 0, sizeof *s);
}

/* Halve the resolution: bucket i takes buckets 2i and 2i+1. */
static void merge_pairs(hn_series *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->npts; i += 2, n++) {
        hn_series_point a = s->pts[i];
        if (i + 1 < s->npts && s->pts[i + 1].used) {
            const hn_series_point *b = &s->pts[i + 1];
            if (!a.used) {
                a = *b;
            } else {
                if (b->heap_min < a.heap_min)
                    a.heap_min = b->heap_min;
                if (b->heap_max > a.heap_max)
                    a.heap_max = b->heap_max;
                if (b->rss_min < a.rss_min)
                    a.rss_min = b->rss_min;
                if (b->rss_max > a.rss_max)
                    a.rss_max = b->rss_max;
                a.goal = b->goal;
                a.live = b->live;
                a.cycles += b->cycles;
            }
        }
        a.t = s->origin + (int64_t)n * s->width * 2;
        s->pts[n] = a;
    }
    memset(s->pts + n, 0, (HN_SERIES_BUCKETS - n) * sizeof *s->pts);
    s->npts = n;
    s->width *= 2;
}

static hn_series_point *bucket(hn_series *s, int64_t t)
{
    if (s->npts == 0)
        s->origin = t;
    int64_t off = t - s->origin;
    size_t i = (size_t)(off / s->width);
    while (i >= HN_SERIES_BUCKETS) {
        merge_pairs(s);
        i = (size_t)(off / s->width);
    }
    if (i >= s->npts) {
        /* Buckets entered now start from the last state noted: flat until changed. */
        for (size_t k = s->npts; k <= i; k++)
            s->pts[k] = (hn_series_point){
                .t = s->origin + (int64_t)k * s->width,
                .heap_min = s->last_heap, .heap_max = s->last_heap,
                .rss_min = s->last_rss, .rss_max = s->last_rss,
                .goal = s->last_goal, .live = s->last_live, .used = s->noted,
            };
        s->npts = i + 1;
    }
    return &s->pts[i];
}

void hn_series_note(hn_series *s, int64_t t, uint64_t heap, uint64_t rss, uint64_t goal,
                    uint64_t live)
{
    if (!s->pts)
        return;
    hn_series_point *p = bucket(s, t);
    if (!p->used) {
        p->used = 1;
        p->heap_min = p->heap_max = heap;
        p->rss_min = p->rss_max = rss;
    } else {
        if (heap < p->heap_min)
            p->heap_min = heap;
        if (heap > p->heap_max)
            p->heap_max = heap;
        if (rss < p->rss_min)
            p->rss_min = rss;
        if (rss > p->rss_max)
            p->rss_max = rss;
    }
    p->goal = goal;
    p->live = live;
    s->last_heap = heap;
    s->last_rss = rss;
    s->last_goal = goal;
    s->last_live = live;
    s->noted = 1;
}

void hn_series_mark_cycle(hn_series *s, int64_t t)
{
    if (!s->pts)
        return;
    bucket(s, t)->cycles++;
}

int hn_series_add_cycle(hn_series *s, const hn_series_cycle *c)
{
    if (s->ncycles == s->capcycles) {
        size_t cap = s->capcycles ? s->capcycles * 2 : 256;
        hn_series_cycle *n = realloc(s->cycles, cap * sizeof *n);
        if (!n)
            return -1;
        s->cycles = n;
        s->capcycles = cap;
    }
    s->cycles[s->ncycles++] = *c;
    return 0;
}
