/*
 * pagemap.c: creating page map leaves and writing entries (see pagemap.h for the
 * invariant). All writers hold the page heap lock.
 */
#include <errno.h>

#include "alloc/internal.h"
#include "alloc/pagemap.h"

hn_pm_leaf_t *_Atomic hn_pagemap_root[HN_PM_ROOT_LEN];

int hn_pagemap_ensure_locked(uintptr_t start, size_t bytes) {
  uintptr_t first = start >> HN_PAGE_SHIFT, last = (start + bytes - 1) >> HN_PAGE_SHIFT;
  for (uintptr_t i = first >> HN_PM_LEAF_BITS; i <= last >> HN_PM_LEAF_BITS; i++) {
    if (i >= HN_PM_ROOT_LEN)
      return ENOMEM;
    if (atomic_load_explicit(&hn_pagemap_root[i], memory_order_relaxed))
      continue;
    hn_pm_leaf_t *leaf = hn_meta_alloc(sizeof *leaf);
    if (!leaf)
      return ENOMEM;
    atomic_store_explicit(&hn_pagemap_root[i], leaf, memory_order_release);
  }
  return 0;
}

static hn_pm_leaf_t *leaf_of(uintptr_t page) {
  return atomic_load_explicit(&hn_pagemap_root[page >> HN_PM_LEAF_BITS], memory_order_relaxed);
}

void hn_pagemap_set1_locked(uintptr_t page, hn_span_t *s) {
  atomic_store_explicit(&leaf_of(page)->span[page & (HN_PM_LEAF_LEN - 1)], s, memory_order_release);
}

void hn_pagemap_set_locked(uintptr_t first, uintptr_t n, hn_span_t *s) {
  for (uintptr_t p = first; p < first + n; p++)
    hn_pagemap_set1_locked(p, s);
}

uintptr_t hn_pagemap_count_released_locked(uintptr_t first, uintptr_t n) {
  uintptr_t count = 0;
  for (uintptr_t p = first; p < first + n;) {
    hn_pm_leaf_t *leaf = leaf_of(p);
    uintptr_t i = p & (HN_PM_LEAF_LEN - 1);
    if ((i & 63) == 0 && first + n - p >= 64) {
      count += (uintptr_t)__builtin_popcountll(leaf->released[i >> 6]);
      p += 64;
    } else {
      count += (leaf->released[i >> 6] >> (i & 63)) & 1;
      p++;
    }
  }
  return count;
}

void hn_pagemap_mark_released_locked(uintptr_t first, uintptr_t n, int released) {
  for (uintptr_t p = first; p < first + n;) {
    hn_pm_leaf_t *leaf = leaf_of(p);
    uintptr_t i = p & (HN_PM_LEAF_LEN - 1);
    if ((i & 63) == 0 && first + n - p >= 64) {
      leaf->released[i >> 6] = released ? ~(uint64_t)0 : 0;
      p += 64;
    } else {
      uint64_t bit = (uint64_t)1 << (i & 63);
      if (released)
        leaf->released[i >> 6] |= bit;
      else
        leaf->released[i >> 6] &= ~bit;
      p++;
    }
  }
}

void hn_pagemap_set_class(const hn_span_t *s, unsigned cl) {
  uintptr_t first = s->start >> HN_PAGE_SHIFT;
  for (uintptr_t p = first; p < first + s->npages; p++)
    atomic_store_explicit(&leaf_of(p)->cls[p & (HN_PM_LEAF_LEN - 1)], (uint8_t)cl, memory_order_relaxed);
}
