/*
 * gctcache.h: the per-thread cache of free objects, and the allocation fast path.
 *
 * Each attached thread keeps, per class and scan kind, up to HN_GCTCACHE_N objects that
 * heap.c took from a span under the heap lock (alloc bits set, zeroed, precise
 * descriptor word 0), so most allocations take no lock: pop, write the descriptor,
 * return. Collection stops threads at any instruction, so the cache must be safe to
 * read at any point of the pop:
 *   - the collector marks every object below `n` of every thread's cache (without
 *     scanning it: it is zero) so cached objects survive the sweep;
 *   - the pop loads the object before it lowers `n` (a compiler barrier keeps that
 *     order): stopped in between, the object is in the cache and in a register; after,
 *     in a register, which the stack scan sees.
 * A detaching thread gives its cached objects back (heap.c), so counts stay exact.
 */
#ifndef HN_GC_GCTCACHE_H
#define HN_GC_GCTCACHE_H

#include <stdint.h>

#include "gc/heap.h"

/* 16 objects per refill: one lock round trip per 16 allocations, and at most
 * 16 * 32 KiB cached per class in the worst case (in practice small classes). */
#define HN_GCTCACHE_N 16

typedef struct hn_gctcache_class {
  uint32_t n;
  uintptr_t obj[HN_GCTCACHE_N];
} hn_gctcache_class_t;

typedef struct hn_gctcache {
  hn_gctcache_class_t cls[HN_GCLASSES];
} hn_gctcache_t;

/* Slow path: refill the class's cache under the heap lock and return one object. */
void *hn_gctcache_refill(hn_gctcache_t **tcp, unsigned cl, int scan, uintptr_t desc);
/* Give every cached object back (thread detach), leaving tc empty but allocated: a
 * collector may still walk it until its thread leaves the registry, and the caller frees
 * it after that. Takes the heap lock. */
void hn_gctcache_flush(hn_gctcache_t *tc);
/* With the world stopped: mark the cached objects of tc. Returns bytes marked. */
uint64_t hn_gctcache_mark(const hn_gctcache_t *tc, uint64_t *objects);

/* The fast path: pop an object of class cl from the thread's cache, or NULL when the
 * cache is empty (the caller refills). */
static inline void *hn_gctcache_pop(hn_gctcache_t *tc, unsigned cl, int scan, uintptr_t desc) {
  if (__builtin_expect(tc != NULL, 1)) {
    hn_gctcache_class_t *c = &tc->cls[cl * HN_SCAN_KINDS + (unsigned)scan];
    uint32_t n = c->n;
    if (__builtin_expect(n != 0, 1)) {
      uintptr_t obj = c->obj[n - 1];
      __asm__ volatile("" : "+r"(obj) : : "memory"); /* load before the store of n */
      c->n = n - 1;
      if (scan == HN_SCAN_PRECISE) ((uintptr_t *)(obj + hn_class_size[cl]))[-1] = desc;
      return (void *)obj;
    }
  }
  return NULL;
}

#endif
