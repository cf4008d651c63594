/*
 * gcmap.h: from any address to the GC span that holds it, in two loads.
 *
 * The collector keeps its own map of GC pages (the allocator's page map covers malloc
 * spans too and would need a kind test and a second load per candidate pointer). A
 * two-level radix tree over 48-bit addresses: the root has 2^17 entries of 2^18 leaf
 * entries of 8 KiB pages; leaves (2 MiB each, mapped lazily and only touched where GC
 * spans live) come from the OS layer. Most conservative words fail the quick range test
 * against [lo, hi) of all GC spans before any load.
 *
 * Writers (span setup and release) hold the heap lock; readers are the marker and the
 * object queries, which read entries with relaxed atomic loads.
 */
#ifndef HN_GC_GCMAP_H
#define HN_GC_GCMAP_H

#include <stdint.h>

#include "gc/span.h"

#define HN_GC_PAGE_SHIFT 13
#define HN_GCMAP_LEAF_BITS 18
#define HN_GCMAP_ROOT_BITS (48 - HN_GC_PAGE_SHIFT - HN_GCMAP_LEAF_BITS)

typedef struct hn_gcmap_leaf {
  hn_gcspan_t *span[1u << HN_GCMAP_LEAF_BITS];
} hn_gcmap_leaf_t;

extern hn_gcmap_leaf_t **hn_gcmap_root;
extern uintptr_t hn_gcmap_lo, hn_gcmap_hi;

int hn_gcmap_init(void);
/* Map [base, base + npages pages) to s (NULL to unmap). Heap lock. 0 or ENOMEM. */
int hn_gcmap_set(uintptr_t base, size_t npages, hn_gcspan_t *s);

static inline hn_gcspan_t *hn_gcmap_lookup(uintptr_t addr) {
  if (addr < __atomic_load_n(&hn_gcmap_lo, __ATOMIC_RELAXED) ||
      addr >= __atomic_load_n(&hn_gcmap_hi, __ATOMIC_RELAXED))
    return NULL;
  uintptr_t page = addr >> HN_GC_PAGE_SHIFT;
  /* Acquire, pairing with hn_gcmap_set's release: a concurrent marker that finds a
   * span set up by an allocating thread sees its fields (plain loads on x86-64). */
  hn_gcmap_leaf_t *leaf = __atomic_load_n(&hn_gcmap_root[page >> HN_GCMAP_LEAF_BITS], __ATOMIC_ACQUIRE);
  if (leaf == NULL) return NULL;
  return __atomic_load_n(&leaf->span[page & ((1u << HN_GCMAP_LEAF_BITS) - 1)], __ATOMIC_ACQUIRE);
}

#endif
