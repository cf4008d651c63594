/*
 * stats.h: the collector's cycle counters (the heap's own live in heap.h). Written by
 * the collector under the cycle lock, read with relaxed atomic loads.
 */
#ifndef HN_GC_STATS_H
#define HN_GC_STATS_H

#include <stdint.h>

typedef struct hn_gc_counters {
  uint64_t cycles, forced_cycles;
  uint64_t mark_resumes; /* mark terminations that went back to concurrent marking */
  uint64_t pauses, pause_total_ns, pause_max_ns, pause_last_ns; /* each STW pause */
  uint64_t live, live_objects; /* marked by the last cycle */
} hn_gc_counters_t;

extern hn_gc_counters_t hn_gc_counters;

#endif
