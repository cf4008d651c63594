/*
 * gcmem.c: the collector's memory from the allocator (see gcmem.h).
 *
 * Span records come from free lists bucketed by power-of-two size (64 B .. 4 KiB), carved
 * from 64 KiB blocks of the OS layer and recycled, never unmapped: the marker may read a
 * record through a stale page map entry of a just-freed span only in the object
 * queries, and a recycled record is still a valid record.
 */
#include "gc/gcmem.h"

#include <string.h>

#include "alloc/internal.h"
#include "alloc/os.h"
#include "alloc/pageheap.h"
#include "alloc/span.h"
#include "gc/fatal.h"

static inline size_t round_page(size_t n) { return (n + HN_OS_PAGE - 1) & ~(HN_OS_PAGE - 1); }

void *hn_gcmem_map(size_t size) {
  void *p = NULL;
  if (size == 0 || size > ((size_t)1 << 46)) return NULL;
  if (hn_os_reserve(round_page(size), HN_OS_PAGE, &p) != 0) return NULL;
  return p;
}

void hn_gcmem_unmap(void *p, size_t size) {
  if (hn_os_unmap(p, round_page(size)) != 0) hn_gc_fatal("unmapping collector metadata failed");
}

/* Buckets 64 B << i for i < META_BUCKETS: 64 B holds a record with two one-word bitmaps
 * up to 4 KiB for 1024-object spans (two 128-byte bitmaps; the rest is slack). */
#define META_MIN_SHIFT 6
#define META_BUCKETS 7
/* Records are carved from 64 KiB blocks: a few dozen mapping calls for a 1 GiB heap. */
#define META_BLOCK ((size_t)64 * 1024)

static void *meta_free[META_BUCKETS];
static char *meta_bump, *meta_end;
static size_t meta_mapped;

void *hn_gcmem_meta_alloc_locked(size_t bytes, size_t *got) {
  unsigned b = 0;
  while (((size_t)1 << (META_MIN_SHIFT + b)) < bytes) b++;
  if (b >= META_BUCKETS) return NULL;
  size_t sz = (size_t)1 << (META_MIN_SHIFT + b);
  *got = sz;
  void *p = meta_free[b];
  if (p != NULL) {
    meta_free[b] = *(void **)p;
    memset(p, 0, sz);
    return p;
  }
  if (meta_bump == NULL || (size_t)(meta_end - meta_bump) < sz) {
    char *blk = hn_gcmem_map(META_BLOCK);
    if (blk == NULL) return NULL;
    meta_mapped += META_BLOCK;
    meta_bump = blk;
    meta_end = blk + META_BLOCK;
  }
  p = meta_bump;
  meta_bump += sz;
  return p;
}

void hn_gcmem_meta_free_locked(void *p, size_t got) {
  unsigned b = 0;
  while (((size_t)1 << (META_MIN_SHIFT + b)) < got) b++;
  *(void **)p = meta_free[b];
  meta_free[b] = p;
}

size_t hn_gcmem_meta_mapped(void) { return __atomic_load_n(&meta_mapped, __ATOMIC_RELAXED); }

uintptr_t hn_gcmem_pages_alloc_locked(unsigned cl, size_t npages, int noscan, void **handle,
                                      int *zeroed) {
  hn_init();
  hn_span_t *s = hn_pageheap_alloc(npages, 1, cl ? HN_SPAN_SMALL : HN_SPAN_LARGE);
  if (s == NULL) return 0;
  *zeroed = s->zeroed;
  if (cl != 0) {
    if (hn_span_init_class(s, cl, HN_KIND_GC) != 0) {
      hn_pageheap_free(s);
      return 0;
    }
  } else {
    /* The page heap already made it one object of the whole span (elemsize, nelems). */
    s->kind = HN_KIND_GC;
  }
  s->noscan = (uint8_t)noscan;
  *handle = s;
  return s->start;
}

void hn_gcmem_pages_free_locked(void *handle) {
  hn_span_t *s = handle;
  s->gcdata = NULL;
  hn_pageheap_free(s);
}

void hn_gcmem_pages_set_owner(void *handle, void *gcspan) { ((hn_span_t *)handle)->gcdata = gcspan; }
