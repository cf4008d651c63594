/*
 * meta.c: the metadata allocator. Span records, bitmaps and page map leaves live in
 * memory reserved from the OS in HN_META_CHUNK pieces, carved by a bump pointer, with
 * free lists for the fixed-size records. Nothing here ever calls malloc, so the page
 * heap can grow while malloc is being initialised, and metadata is never returned.
 */
#include <errno.h>
#include <string.h>

#include "alloc/internal.h"
#include "alloc/lock.h"

/* 256 KiB: small enough that a tiny program maps little, large enough that a big heap
 * reserves metadata rarely (a chunk holds about 1,600 span records). */
#define HN_META_CHUNK ((size_t)256 << 10)
#define HN_META_ALIGN 16 /* records pack tightly (an 80-byte span record wastes none) */
#define HN_BITMAP_BYTES (HN_MAX_OBJECTS / 8)

typedef struct free_bitmap {
  struct free_bitmap *next;
} free_bitmap_t;

static hn_lock_t meta_lock = HN_LOCK_INIT;
static uintptr_t bump, bump_end;   /* meta_lock */
static size_t mapped;              /* meta_lock */
static hn_span_t *free_spans;      /* meta_lock */
static free_bitmap_t *free_bitmaps; /* meta_lock */

static void *alloc_locked(size_t size) {
  size = (size + HN_META_ALIGN - 1) & ~(size_t)(HN_META_ALIGN - 1);
  if (size > HN_META_CHUNK / 4) {
    /* Big records (page map leaves) get their own reservation. */
    size_t len = (size + HN_OS_PAGE - 1) & ~(HN_OS_PAGE - 1);
    void *p;
    if (hn_os_reserve(len, HN_OS_PAGE, &p) != 0)
      return NULL;
    mapped += len;
    return p;
  }
  if (bump_end - bump < size) {
    void *p;
    if (hn_os_reserve(HN_META_CHUNK, HN_OS_PAGE, &p) != 0)
      return NULL;
    mapped += HN_META_CHUNK;
    bump = (uintptr_t)p;
    bump_end = bump + HN_META_CHUNK;
  }
  void *r = (void *)bump;
  bump += size;
  return r;
}

void *hn_meta_alloc(size_t size) {
  hn_lock(&meta_lock);
  void *p = alloc_locked(size);
  hn_unlock(&meta_lock);
  return p;
}

hn_span_t *hn_meta_span_new(void) {
  hn_lock(&meta_lock);
  hn_span_t *s = free_spans;
  if (s)
    free_spans = s->next;
  else
    s = alloc_locked(sizeof *s);
  hn_unlock(&meta_lock);
  if (s)
    memset(s, 0, sizeof *s);
  return s;
}

void hn_meta_span_free(hn_span_t *s) {
  s->state = HN_SPAN_UNUSED;
  hn_lock(&meta_lock);
  s->next = free_spans;
  free_spans = s;
  hn_unlock(&meta_lock);
}

uint64_t *hn_meta_bitmap_new(void) {
  hn_lock(&meta_lock);
  free_bitmap_t *b = free_bitmaps;
  if (b)
    free_bitmaps = b->next;
  else
    b = alloc_locked(HN_BITMAP_BYTES);
  hn_unlock(&meta_lock);
  if (b)
    memset(b, 0, HN_BITMAP_BYTES);
  return (uint64_t *)b;
}

void hn_meta_bitmap_free(uint64_t *bits) {
  free_bitmap_t *b = (free_bitmap_t *)bits;
  hn_lock(&meta_lock);
  b->next = free_bitmaps;
  free_bitmaps = b;
  hn_unlock(&meta_lock);
}

size_t hn_meta_mapped(void) {
  hn_lock(&meta_lock);
  size_t m = mapped;
  hn_unlock(&meta_lock);
  return m;
}

void hn_meta_lock_all(void) { hn_lock(&meta_lock); }

void hn_meta_unlock_all(int child) {
  if (child)
    hn_lock_reset(&meta_lock);
  else
    hn_unlock(&meta_lock);
}
