/*
 * series.h: the time series a run keeps for its CSV, JSON and SVG output, in memory
 * that does not grow with the trace.
 *
 * Time is cut into at most HN_SERIES_BUCKETS buckets of equal width. Each bucket keeps
 * the lowest and highest heap and RSS seen in it and the goal and live heap at its end,
 * so the saw-tooth of a collected heap survives any zoom: the picture draws the band
 * between min and max. When the run outlasts the buckets, neighbours are merged in
 * pairs and the width doubles. Cycles are kept one record each (what the markers and
 * the gctrace-like CSV rows need); that list grows with the number of cycles only.
 */
#ifndef HN_SIM_SERIES_H
#define HN_SIM_SERIES_H

#include <stddef.h>
#include <stdint.h>

/* Enough points for a picture 2000 pixels wide; CSV stays a few hundred KiB. */
#define HN_SERIES_BUCKETS 2048
/* First bucket width: 10 us, so a short trace still gets a detailed curve. */
#define HN_SERIES_FIRST_WIDTH_NS 10000

typedef struct hn_series_point {
    int64_t t;            /* start of the bucket */
    uint64_t heap_min, heap_max;
    uint64_t rss_min, rss_max;
    uint64_t goal;        /* at the end of the bucket */
    uint64_t live;        /* marked live by the latest mark */
    uint32_t cycles;      /* cycles that started in the bucket */
    uint32_t used;        /* 1 once something was recorded */
} hn_series_point;

typedef struct hn_series_cycle {
    uint64_t num;
    int64_t start, mark_end, end;  /* model time: trigger, mark done, sweep done */
    uint64_t heap_start, heap_end, live, goal;
    uint64_t rss;
    int64_t pause_ns;              /* both pauses */
    double assist_ns, background_ns;
} hn_series_cycle;

typedef struct hn_series {
    hn_series_point *pts;     /* HN_SERIES_BUCKETS, or NULL when not kept */
    size_t npts;              /* buckets in use */
    int64_t width;
    int64_t origin;
    uint64_t last_heap, last_rss, last_goal, last_live; /* the last state noted */
    uint32_t noted;
    hn_series_cycle *cycles;
    size_t ncycles, capcycles;
} hn_series;

/* 0, or -1 when out of memory. */
int hn_series_init(hn_series *s);
void hn_series_destroy(hn_series *s);
/* Record the state at model time t (>= every earlier t). */
void hn_series_note(hn_series *s, int64_t t, uint64_t heap, uint64_t rss, uint64_t goal,
                    uint64_t live);
void hn_series_mark_cycle(hn_series *s, int64_t t);
/* 0, or -1 when out of memory. */
int hn_series_add_cycle(hn_series *s, const hn_series_cycle *c);

#endif
