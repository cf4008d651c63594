/*
 * heap.h: the GC heap: spans by class and scan kind, allocation, sweeping.
 *
 * Lock: `hn_heap.lock` guards every span list, each class's current span, every span's
 * bitmaps outside of a stopped world, the sweep generation and the counters marked
 * (heap lock). The collector holds it for the whole cycle, from sweep termination to
 * the restart of the world, so no allocation runs while the world is stopped.
 */
#ifndef HN_GC_HEAP_H
#define HN_GC_HEAP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/sizeclass.h"
#include "gc/span.h"

#define HN_GCLASSES (HN_NCLASSES * HN_SCAN_KINDS)

/* The automatic trigger never asks for less growth than this (Go's 4 MiB heap minimum). */
#define HN_HEAP_MIN_TRIGGER ((uint64_t)4 << 20)

typedef struct hn_gcclass {
  hn_gcspan_t *cur;        /* swept span being allocated from, or NULL */
  hn_gcspan_t *partial[2]; /* [sweepgen/2 % 2]: swept with free slots; the other: unswept */
  hn_gcspan_t *full[2];    /* same, without free slots */
} hn_gcclass_t;

enum hn_phase { HN_PHASE_OFF = 0, HN_PHASE_MARK = 1, HN_PHASE_MARKTERM = 2 };

typedef struct hn_heap {
  pthread_mutex_t lock;
  uint32_t sweepgen;        /* grows by 2 per cycle */
  int phase;                /* enum hn_phase; MARK means allocate black */
  hn_gcclass_t cls[HN_GCLASSES];
  hn_gcspan_t *large[2];    /* large spans, swept set and unswept set as above */
  unsigned sweep_next;      /* no class below it has an unswept span (heap lock) */
  /* counters (heap lock to write, relaxed atomics to read) */
  uint64_t in_use;          /* bytes of objects allocated and not yet swept free */
  uint64_t span_bytes;      /* bytes of spans held */
  uint64_t spans;           /* spans held */
  uint64_t alloc_bytes, alloc_objects;
  uint64_t freed_bytes, freed_objects;
  uint64_t since_gc;        /* bytes allocated since the last mark termination */
  uint64_t trigger;         /* since_gc that starts a cycle */
  uint64_t unswept;         /* spans left to sweep in this cycle */
  uint64_t in_use_marked;   /* bytes marked by the cycle being finished (set before flip) */
  uint64_t retain;          /* span bytes kept when spans fall empty: 110 % of the goal */
} hn_heap_t;

extern hn_heap_t hn_heap;

int hn_heap_init(void);

/* The largest object hn_heap_alloc takes (1 TiB); past it, NULL. */
#define HN_HEAP_LARGE_MAX ((size_t)1 << 40)

/* Allocate a zeroed object of `size` bytes of scan kind `scan`; the last word of a
 * precise object is set to `desc`. Takes the heap lock. NULL when out of memory. */
void *hn_heap_alloc(size_t size, int scan, uintptr_t desc);

/* Start of the allocated object holding p, or 0; its usable size in *size. Takes the
 * heap lock. */
uintptr_t hn_heap_find_object(uintptr_t p, size_t *size);

/* Sweep one span that needs it; returns 0 when none is left. Heap lock. */
int hn_heap_sweep_one_locked(void);
/* Sweep everything (sweep termination). Heap lock. */
void hn_heap_finish_sweep_locked(void);
/* Move every current span to its class's swept lists, before the flip. Heap lock. */
void hn_heap_release_current_locked(void);
/* End of marking: every span becomes unswept; the bytes kept for reuse are set from
 * in_use_marked and the trigger (set both first). Heap lock, world stopped. */
void hn_heap_flip_locked(void);

#endif
