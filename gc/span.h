/*
 * span.h: the collector's view of a span, and the bit operations of the mark loop.
 *
 * A GC span is a run of pages from the allocator's page heap holding objects of one size
 * class and one scan kind (noscan, conservative, precise), or one large object. Its
 * metadata lives outside the heap (gcmem): two bitmaps of one bit per object, `alloc`
 * (the slot holds an object) and `mark` (reached in the current cycle), and the sweep
 * generation.
 *
 * Sweep generations (Go's mspan.sweepgen). The heap's `sweepgen` grows by 2 each cycle.
 *   span.sweepgen == heap - 2: the span needs sweeping (its marks are from the last mark)
 *   span.sweepgen == heap - 1: it is being swept
 *   span.sweepgen == heap:     swept, ready to allocate from
 * Nothing is allocated from a span before it is swept, so an object allocated after the
 * cycle's marking can never be freed by that cycle's sweep.
 *
 * Object index without division: idx = (offset * divmul) >> 32 with the allocator's
 * reciprocal of the class size (hn_class_divmagic, which its generator checks exact for
 * every offset of a span); 0 for a large span, whose only object is index 0.
 */
#ifndef HN_GC_SPAN_H
#define HN_GC_SPAN_H

#include <stddef.h>
#include <stdint.h>

enum { HN_SCAN_NOSCAN = 0, HN_SCAN_CONSERVATIVE = 1, HN_SCAN_PRECISE = 2, HN_SCAN_KINDS = 3 };

typedef struct hn_gcspan {
  uintptr_t base;           /* address of object 0 */
  uintptr_t limit;          /* base + nelems * elem_size */
  uint32_t elem_size;
  uint32_t divmul;
  uint32_t nelems;
  uint32_t nwords;          /* 64-bit words in each bitmap */
  uint32_t sweepgen;        /* see above; read and written under the heap lock */
  uint32_t freeindex;       /* no free slot below this index */
  uint32_t nalloc;          /* objects allocated in this span */
  uint16_t gclass;          /* size class * HN_SCAN_KINDS + scan kind; 0: large */
  uint8_t scan;             /* HN_SCAN_* */
  uint8_t in_list;          /* which heap list holds it (heap.c's bookkeeping) */
  size_t npages;
  void *pages;              /* the allocator's handle for these pages */
  struct hn_gcspan *next;   /* heap list link */
  uint64_t *alloc_bits;
  uint64_t *mark_bits;
  size_t meta_bytes;        /* size of this metadata block */
  uint64_t bits[];          /* alloc_bits then mark_bits */
} hn_gcspan_t;

static inline uint32_t hn_gcspan_index(const hn_gcspan_t *s, uintptr_t addr) {
  return (uint32_t)(((uint64_t)(addr - s->base) * s->divmul) >> 32);
}

static inline uintptr_t hn_gcspan_obj(const hn_gcspan_t *s, uint32_t idx) {
  return s->base + (uintptr_t)idx * s->elem_size;
}

static inline int hn_bit_test(const uint64_t *bits, uint32_t i) {
  return (int)((bits[i >> 6] >> (i & 63)) & 1);
}

static inline void hn_bit_set(uint64_t *bits, uint32_t i) { bits[i >> 6] |= (uint64_t)1 << (i & 63); }

/* For bitmaps that markers on other threads read and set while the world runs (mark
 * bits during concurrent marking, alloc bits the marker tests): one atomic or. The
 * release order publishes a mark bit set before it (allocate-black) with the alloc bit. */
static inline void hn_bit_set_atomic(uint64_t *bits, uint32_t i) {
  __atomic_fetch_or(&bits[i >> 6], (uint64_t)1 << (i & 63), __ATOMIC_RELEASE);
}

/* For alloc bits: written only under the heap lock, read by markers without it. A
 * load and a release store (two plain moves on x86-64, no locked instruction, which
 * was a quarter of the refill path's time) publish the bit after a mark bit set
 * before it. */
static inline void hn_bit_set_published(uint64_t *bits, uint32_t i) {
  uint64_t w = __atomic_load_n(&bits[i >> 6], __ATOMIC_RELAXED);
  __atomic_store_n(&bits[i >> 6], w | (uint64_t)1 << (i & 63), __ATOMIC_RELEASE);
}

#endif
