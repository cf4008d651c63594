/*
 * meta.c: the metadata allocator. Span records, bitmaps and page map leaves live in
 * memory reserved from the OS, never from malloc, so the page heap can grow while
 * malloc is being initialised.
 *
 * Small records are carved by a bump pointer from HN_META_CHUNK chunks aligned to their
 * size, with free lists for the two fixed-size kinds (span records, bitmaps). Each
 * chunk starts with a header counting its live records. After a big heap shrinks,
 * most of its span records are free; hn_meta_release_free (malloc_trim) takes the
 * records of chunks with none live off the free lists and gives those chunks' pages
 * (all but the header's) back to the OS; such a chunk is the next one the bump pointer
 * uses. Address space is never unmapped. Big records (page map leaves) get their own
 * reservation and are never freed.
 */
#include <errno.h>
#include <string.h>

#include "alloc/internal.h"
#include "alloc/lock.h"

/* 256 KiB: small enough that a tiny program maps little, large enough that a big heap
 * reserves metadata rarely (a chunk holds about 3,200 span records). */
#define HN_META_CHUNK ((size_t)256 << 10)
#define HN_META_ALIGN 16 /* records pack tightly (an 80-byte span record wastes none) */
#define HN_BITMAP_BYTES (HN_MAX_OBJECTS / 8)

typedef struct chunk {
  uint32_t live;            /* records handed out and not freed */
  uint32_t released;        /* pages after the header given back to the OS */
  struct chunk *next;       /* released chunks waiting for reuse */
} chunk_t;

/* The header takes one OS page, so the rest of the chunk can be released on its own. */
#define HN_META_HEADER HN_OS_PAGE

typedef struct free_bitmap {
  struct free_bitmap *next;
} free_bitmap_t;

static hn_lock_t meta_lock = HN_LOCK_INIT;
static uintptr_t bump, bump_end;    /* meta_lock */
static size_t mapped;               /* meta_lock */
static hn_span_t *free_spans;       /* meta_lock */
static free_bitmap_t *free_bitmaps; /* meta_lock */
static chunk_t *released_chunks;    /* meta_lock */

static chunk_t *chunk_of(const void *p) { return (chunk_t *)((uintptr_t)p & ~(uintptr_t)(HN_META_CHUNK - 1)); }

/* A fresh chunk for the bump pointer: a released one, else a new reservation. */
static int new_chunk_locked(void) {
  chunk_t *c = released_chunks;
  if (c) {
    released_chunks = c->next;
    c->released = 0;
    c->next = NULL;
  } else {
    void *p;
    if (hn_os_reserve(HN_META_CHUNK, HN_META_CHUNK, &p) != 0)
      return ENOMEM;
    mapped += HN_META_CHUNK;
    c = p;
  }
  bump = (uintptr_t)c + HN_META_HEADER;
  bump_end = (uintptr_t)c + HN_META_CHUNK;
  return 0;
}

/* size bytes from the bump pointer (counted live in their chunk), or a reservation of
 * their own for big records. */
static void *alloc_locked(size_t size) {
  size = (size + HN_META_ALIGN - 1) & ~(size_t)(HN_META_ALIGN - 1);
  if (size > HN_META_CHUNK / 4) {
    size_t len = (size + HN_OS_PAGE - 1) & ~(HN_OS_PAGE - 1);
    void *p;
    if (hn_os_reserve(len, HN_OS_PAGE, &p) != 0)
      return NULL;
    mapped += len;
    return p;
  }
  if (bump_end - bump < size && new_chunk_locked() != 0)
    return NULL;
  void *r = (void *)bump;
  bump += size;
  chunk_of(r)->live++;
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
  if (s) {
    free_spans = s->next;
    chunk_of(s)->live++;
  } else {
    s = alloc_locked(sizeof *s);
  }
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
  chunk_of(s)->live--;
  hn_unlock(&meta_lock);
}

uint64_t *hn_meta_bitmap_new(void) {
  hn_lock(&meta_lock);
  free_bitmap_t *b = free_bitmaps;
  if (b) {
    free_bitmaps = b->next;
    chunk_of(b)->live++;
  } else {
    b = alloc_locked(HN_BITMAP_BYTES);
  }
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
  chunk_of(b)->live--;
  hn_unlock(&meta_lock);
}

/* True for a chunk whose pages may go: nothing live, not the bump pointer's. */
static int idle_chunk(const chunk_t *c) {
  return c->live == 0 && !((uintptr_t)c < bump_end && bump_end <= (uintptr_t)c + HN_META_CHUNK);
}

/* Mark c as going back to the OS (once) and queue it on *pending. */
static void mark(chunk_t *c, chunk_t **pending) {
  if (c->released)
    return;
  c->released = 1;
  c->next = *pending;
  *pending = c;
}

size_t hn_meta_release_free(void) {
  size_t released = 0;
  chunk_t *pending = NULL;
  hn_lock(&meta_lock);
  /* Take the records of idle chunks off both free lists. A chunk with nothing live has
   * all its records on these lists, so afterwards nothing refers into it. */
  hn_span_t **sp = &free_spans;
  while (*sp) {
    chunk_t *c = chunk_of(*sp);
    if (idle_chunk(c)) {
      mark(c, &pending);
      *sp = (*sp)->next;
    } else {
      sp = &(*sp)->next;
    }
  }
  free_bitmap_t **bp = &free_bitmaps;
  while (*bp) {
    chunk_t *c = chunk_of(*bp);
    if (idle_chunk(c)) {
      mark(c, &pending);
      *bp = (*bp)->next;
    } else {
      bp = &(*bp)->next;
    }
  }
  while (pending) {
    chunk_t *c = pending;
    pending = c->next;
    if (hn_os_release((char *)c + HN_META_HEADER, HN_META_CHUNK - HN_META_HEADER, HN_OS_RELEASE_DONTNEED) == 0)
      released += HN_META_CHUNK - HN_META_HEADER;
    c->next = released_chunks;
    released_chunks = c;
  }
  hn_unlock(&meta_lock);
  return released;
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
