/*
 * pagemap.h: page number -> span, in O(1), for any address.
 *
 * A two-level radix tree over the 47-bit user address space: 34 bits of page number,
 * 17 for the root (a static array of 2^17 pointers, 1 MiB of zero pages until used) and
 * 17 for a leaf (2^17 span pointers, 1 MiB of address space covering 1 GiB). Leaves are
 * made by the page heap when it reserves address space and are never freed.
 *
 * Invariant: an entry that is not NULL points to a span that contains its page. Pages
 * of spans in use all have entries; a free span has entries at its first and last page
 * and NULL between. A span record is reused only after all its entries are cleared or
 * overwritten, so a lookup never sees a span that does not contain the address.
 * Readers do not lock (one acquire load per level); writers hold the page heap lock.
 *
 * Each leaf also holds a class byte per page, written by the central list that owns the
 * span (when it takes the span from the page heap and before it gives it back), and
 * the page heap's released bits: bit set = the page is not
 * resident (never touched since reservation, or given back with madvise).
 */
#ifndef HN_PAGEMAP_H
#define HN_PAGEMAP_H

#include <stdatomic.h>
#include <stdint.h>

#include "alloc/span.h"

#define HN_PM_LEAF_BITS 17
#define HN_PM_ROOT_BITS 17 /* 13 + 17 + 17 = 47 bits of address */
#define HN_PM_LEAF_LEN ((uintptr_t)1 << HN_PM_LEAF_BITS)
#define HN_PM_ROOT_LEN ((uintptr_t)1 << HN_PM_ROOT_BITS)

typedef struct hn_pm_leaf {
  hn_span_t *_Atomic span[HN_PM_LEAF_LEN];
  /* The size class of a page of a small malloc span in use, else 0: free() reads it
   * without touching the span, one dependent load less (TCMalloc's class map). */
  _Atomic uint8_t cls[HN_PM_LEAF_LEN];
  uint64_t released[HN_PM_LEAF_LEN / 64];
} hn_pm_leaf_t;

extern hn_pm_leaf_t *_Atomic hn_pagemap_root[HN_PM_ROOT_LEN];

/* The span holding addr, or NULL (never heron's, or free space between span edges). */
static inline hn_span_t *hn_pagemap_lookup(uintptr_t addr) {
  uintptr_t page = addr >> HN_PAGE_SHIFT;
  uintptr_t i1 = page >> HN_PM_LEAF_BITS;
  if (__builtin_expect(i1 >= HN_PM_ROOT_LEN, 0))
    return 0;
  hn_pm_leaf_t *leaf = atomic_load_explicit(&hn_pagemap_root[i1], memory_order_acquire);
  if (__builtin_expect(leaf == 0, 0))
    return 0;
  return atomic_load_explicit(&leaf->span[page & (HN_PM_LEAF_LEN - 1)], memory_order_acquire);
}

/* The leaf holding addr, or NULL. */
static inline hn_pm_leaf_t *hn_pagemap_leaf(uintptr_t addr) {
  uintptr_t i1 = addr >> (HN_PAGE_SHIFT + HN_PM_LEAF_BITS);
  if (__builtin_expect(i1 >= HN_PM_ROOT_LEN, 0))
    return 0;
  return atomic_load_explicit(&hn_pagemap_root[i1], memory_order_acquire);
}

static inline uintptr_t hn_pagemap_index(uintptr_t addr) {
  return (addr >> HN_PAGE_SHIFT) & (HN_PM_LEAF_LEN - 1);
}

/* Set the class byte of every page of span s (whose leaves exist) to cl. */
void hn_pagemap_set_class(const hn_span_t *s, unsigned cl);

/* Make sure leaves exist for [start, start + bytes); 0 or ENOMEM. Page heap lock. */
int hn_pagemap_ensure_locked(uintptr_t start, size_t bytes);
/* Point the entries of pages [first, first + n) at s (NULL clears). Page heap lock. */
void hn_pagemap_set_locked(uintptr_t first_page, uintptr_t n, hn_span_t *s);
void hn_pagemap_set1_locked(uintptr_t page, hn_span_t *s);
/* Released bits of pages [first, first + n): count set bits, set all, clear all. */
uintptr_t hn_pagemap_count_released_locked(uintptr_t first_page, uintptr_t n);
void hn_pagemap_mark_released_locked(uintptr_t first_page, uintptr_t n, int released);

#endif
