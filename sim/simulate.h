/*
 * simulate.h: gcsim's model of the collector running a trace (see simulate.c for the
 * algorithm), its inputs (settings, cost model) and what it measures.
 *
 *   hn_sim sim;
 *   hn_sim_init(&sim, &cfg);                  settings, cost model, outputs wanted
 *   while (hn_trace_next(r, &ev) > 0)
 *       if (hn_sim_event(&sim, &ev) < 0) ...  a free of an object that is not live
 *   hn_sim_finish(&sim);                      the summary is in sim.sum
 *   hn_sim_destroy(&sim);
 *
 * Memory grows with the live objects of the trace (one hash map entry each), with the
 * garbage waiting for a sweep (a 4-byte slot each, placement.h) and, when a
 * time series is wanted, with the number of GC cycles (one record each); never with the
 * length of the trace. Single-threaded.
 */
#ifndef HN_SIM_SIMULATE_H
#define HN_SIM_SIMULATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alloc/sizeclass.h"
#include "gc/limiter.h"
#include "gc/pacer.h"
#include "gc/scavenge_goal.h"
#include "sim/bg_worker.h"
#include "sim/costmodel.h"
#include "sim/model_heap.h"
#include "sim/placement.h"
#include "sim/series.h"
#include "sim/trace_format.h"
#include "sim/objmap.h"

/* What one run is asked to model. */
typedef struct hn_sim_config {
    int32_t gogc;          /* HN_PACER_GOGC_OFF for off */
    int64_t memory_limit;  /* HN_PACER_NO_LIMIT for off */
    int32_t procs;         /* GOMAXPROCS of the model; 0: the trace's threads so far */
    double time_scale;     /* the program's time line stretched by this (0 or 1: as is) */
    hn_cost cost;          /* CPU cost of the collector's work */
    FILE *gctrace;         /* one Go-format line per cycle, or NULL */
    bool series;           /* keep the time series and cycle list (for CSV/JSON/SVG) */
} hn_sim_config;

/* The summary: the same fields for the simulation and for a replay. Heap figures are
 * bytes of objects (size-class rounded) including garbage not yet swept; live figures
 * are what a mark found reachable; RSS is the page heap's resident pages. */
#define HN_SUMMARY_FIELDS(X)                                              \
    X(cycles, "GC cycles")                                                \
    X(heap_peak, "peak heap (bytes)")                                     \
    X(heap_mean, "time-weighted mean heap (bytes)")                       \
    X(rss_peak, "peak RSS (bytes)")                                       \
    X(rss_mean, "time-weighted mean RSS (bytes)")                         \
    X(live_peak, "peak live heap found by a mark (bytes)")                \
    X(live_mean, "mean live heap found by the marks (bytes)")             \
    X(wall_ns, "wall time of the run (ns)")                               \
    X(gc_cpu_ns, "GC CPU time (ns)")                                      \
    X(assist_cpu_ns, "of which mark assists (ns)")                        \
    X(background_cpu_ns, "of which background marking (ns)")              \
    X(pause_cpu_ns, "of which stop-the-world pauses (ns)")                \
    X(sweep_cpu_ns, "of which sweeping (ns)")                             \
    X(total_cpu_ns, "processor time available: wall x procs (ns)")        \
    X(pauses, "stop-the-world pauses")                                    \
    X(pause_total_ns, "total pause time (ns)")                            \
    X(pause_max_ns, "longest pause (ns)")                                 \
    X(limiter_ns, "wall time the CPU limiter was limiting (ns)")          \
    X(released_bytes, "bytes the scavenger returned to the OS")           \
    X(events, "trace events")                                             \
    X(behind_ns, "replay only: most it fell behind the trace's time line (ns)")

typedef struct hn_summary {
#define HN_SUMMARY_FIELD(name, doc) double name;
    HN_SUMMARY_FIELDS(HN_SUMMARY_FIELD)
#undef HN_SUMMARY_FIELD
} hn_summary;

/* Garbage waiting for a sweep: the large objects and their pages, and the bytes of all.
 * The small objects of each class are the placement's slots of the same generation
 * (placement.h), which the sweep counts. */
typedef struct hn_sim_gen {
    uint64_t large;
    uint64_t large_pages;
    uint64_t bytes;
} hn_sim_gen;

typedef struct hn_sim {
    hn_sim_config cfg;
    hn_pacer pacer;
    hn_limiter limiter;
    hn_model_heap heap;
    hn_objmap objects;  /* id + 1 -> slot (small) or rounded size (large) << 8 | class:
                         * the objects the program holds */
    hn_placement place; /* their slots and the pages holding them */
    /* heron's thread caches (gc/gctcache.h): per trace thread and small class, the
     * objects a refill took that the thread has not allocated yet; they are heap. */
    uint8_t (*cached)[HN_NCLASSES];
    uint32_t ncached;   /* threads with a row in `cached` */

    /* Garbage: freed by the program and waiting for a sweep. `pending` will be found
     * dead by the next mark; `condemned` was found dead by the mark in progress;
     * `survivor` was freed during this mark, which still marked it. */
    hn_sim_gen pending, condemned, survivor;
    uint64_t live_bytes;      /* objects the program holds, rounded */
    uint64_t live_in_class[HN_NCLASSES]; /* of them, in each small class; in 0 the large */
    uint64_t live_large_bytes; /* the large ones' bytes, whole pages */
    uint64_t heap_bytes;      /* live + garbage not yet swept: Go's heapLive */
    uint64_t goal;            /* the pacer's heap goal now */
    hn_scavenge_goals scav;   /* the scavenger's goals since the last cycle */

    /* Time: trace time + shift = model time (pauses and assists stretch the program). */
    int64_t shift;
    int64_t now;
    int64_t start;
    bool started;

    uint64_t trigger;         /* cached pacer trigger; UINT64_MAX: none */
    bool trigger_stale;       /* page heap changed since it was computed */

    /* The cycle in progress. */
    bool marking;
    int64_t cycle_start;      /* sweep termination began (model time) */
    int64_t mark_start;       /* concurrent mark began */
    int64_t mark_progress_t;  /* background work counted up to here */
    hn_bg_worker worker;      /* its slices and sleeps */
    double scan_total;        /* bytes the mark must scan */
    double mark_ns_per_byte;  /* this mark's CPU per byte, per-object cost included */
    double scan_done;
    int64_t alloc_credit;     /* allocation bytes already paid for by assists */
    double assist_ns_cycle, bg_ns_cycle;
    double assist_ns_window;  /* assist CPU since the last limiter update */
    int64_t mark_done_at;     /* model time background marking finishes */
    uint64_t heap_at_trigger;
    uint64_t goal_at_start;
    int64_t pause_cycle;      /* length of this cycle's first pause */

    int64_t next_check;       /* earliest model time something time-driven is due */

    /* Running integrals and extremes for the summary. */
    double heap_area, rss_area, live_sum, cpu_area;
    int32_t procs;            /* processors now */
    int32_t procs_wanted;     /* threads seen, applied at the next cycle boundary */
    int64_t last_area_t;
    hn_summary sum;

    hn_series series;
} hn_sim;

/* 0, or -1 when out of memory. */
int hn_sim_init(hn_sim *s, const hn_sim_config *cfg);
void hn_sim_destroy(hn_sim *s);
/* Feeds one event: 0, or -1 when it frees or reallocates an object that is not live
 * (a corrupt trace), or when memory runs out (errno ENOMEM). */
int hn_sim_event(hn_sim *s, const hn_trace_event *ev);
/* Optional: called for an event some events before hn_sim_event gets it, so that the
 * random memory access of a free is under way by then (a free's lookup is the one cache
 * and TLB miss per event that the model cannot avoid). */
static inline void hn_sim_prefetch(const hn_sim *s, const hn_trace_event *ev)
{
    if (ev->kind == HN_EV_FREE)
        hn_objmap_prefetch(&s->objects, ev->id + 1);
    else if (ev->kind == HN_EV_REALLOC)
        hn_objmap_prefetch(&s->objects, ev->old_id + 1);
}

/* The trace ended: close the books (a cycle in progress is left unfinished). */
void hn_sim_finish(hn_sim *s);

#endif
