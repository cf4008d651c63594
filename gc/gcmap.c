/*
 * gcmap.c: setting entries of the GC page map (see gcmap.h).
 */
#include "gc/gcmap.h"

#include <errno.h>

#include "gc/gcmem.h"

hn_gcmap_leaf_t **hn_gcmap_root;
uintptr_t hn_gcmap_lo = UINTPTR_MAX, hn_gcmap_hi;

int hn_gcmap_init(void) {
  if (hn_gcmap_root != NULL) return 0;
  hn_gcmap_root = hn_gcmem_map(sizeof(hn_gcmap_leaf_t *) << HN_GCMAP_ROOT_BITS);
  return hn_gcmap_root != NULL ? 0 : ENOMEM;
}

int hn_gcmap_set(uintptr_t base, size_t npages, hn_gcspan_t *s) {
  uintptr_t first = base >> HN_GC_PAGE_SHIFT;
  for (uintptr_t p = first; p < first + npages; p++) {
    uintptr_t r = p >> HN_GCMAP_LEAF_BITS;
    if (r >= ((uintptr_t)1 << HN_GCMAP_ROOT_BITS)) return EINVAL;
    hn_gcmap_leaf_t *leaf = hn_gcmap_root[r];
    if (leaf == NULL) {
      if (s == NULL) continue;
      leaf = hn_gcmem_map(sizeof *leaf);
      if (leaf == NULL) return ENOMEM;
      __atomic_store_n(&hn_gcmap_root[r], leaf, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&leaf->span[p & ((1u << HN_GCMAP_LEAF_BITS) - 1)], s, __ATOMIC_RELEASE);
  }
  if (s != NULL) {
    uintptr_t end = base + (npages << HN_GC_PAGE_SHIFT);
    if (base < hn_gcmap_lo) __atomic_store_n(&hn_gcmap_lo, base, __ATOMIC_RELAXED);
    if (end > hn_gcmap_hi) __atomic_store_n(&hn_gcmap_hi, end, __ATOMIC_RELAXED);
  }
  return 0;
}
