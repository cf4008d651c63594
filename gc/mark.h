/*
 * mark.h: marking: greying candidate pointers and draining the work list.
 */
#ifndef HN_GC_MARK_H
#define HN_GC_MARK_H

#include <stdint.h>

#include "gc/workq.h"

typedef struct hn_marker {
  hn_gcwork_t work;
  uint64_t marked_bytes;   /* bytes of objects this marker greyed */
  uint64_t marked_objects;
  uint64_t scanned_bytes;  /* bytes of objects and roots it scanned */
} hn_marker_t;

/* Grey the object holding p, if p points into an allocated GC object. */
void hn_mark_ptr(hn_marker_t *m, uintptr_t p);
/* Treat every aligned word of [lo, hi) as a candidate pointer. */
void hn_mark_range(hn_marker_t *m, uintptr_t lo, uintptr_t hi);
/* Scan grey objects until the work list (this marker's and the shared pool) is empty. */
void hn_mark_drain(hn_marker_t *m);
/* Scan grey objects until about `budget` bytes are scanned or no work is left; returns
 * the bytes scanned. Any thread, concurrently with other markers and mutators. */
uint64_t hn_mark_drain_n(hn_marker_t *m, uint64_t budget);
/* Nonzero if the object holding p is marked (p must point into a GC object). */
int hn_mark_is_marked(uintptr_t p);

#endif
