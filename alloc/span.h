/*
 * span.h: a span, a run of 8 KiB pages that is either free in the page heap, cut into
 * objects of one size class, or one large object.
 *
 * The fields the malloc fast path reads (start, fastclass) come first, in the first
 * cache line. The collector's room: kind (malloc heap or GC heap), noscan, markbits
 * (a bitmap of nelems bits from hn_meta_bitmap_new, owned by the collector), gcdata,
 * and the reciprocal divmagic that turns an interior pointer into its object's index
 * with one multiply (Go's divMagic): index = ((addr - start) * divmagic) >> 32, exact
 * for every offset inside the span (the generator checks every one). Large spans have
 * divmagic 0, so every interior pointer maps to object 0.
 *
 * 80 bytes: a free span and a span in use share the union, so a heap of 1-page spans
 * spends 1 % of its size on span records.
 *
 * Who writes what: the page heap (under its lock) owns start, npages, state, rb,
 * nreleased; the central list of the span's class (under its lock) owns freelist,
 * allocated, carved, next/prev of a small malloc span. fastclass, sizeclass, elemsize,
 * divmagic, nelems and kind are set once when the span is handed out and cleared when
 * it comes back, so they are stable while any object of the span is held.
 */
#ifndef HN_SPAN_H
#define HN_SPAN_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/sizeclass.h"

enum hn_span_state {
  HN_SPAN_UNUSED = 0, /* a metadata record not describing memory */
  HN_SPAN_FREE,       /* free pages in the page heap */
  HN_SPAN_SMALL,      /* objects of sizeclass */
  HN_SPAN_LARGE,      /* one large object */
};

enum hn_span_kind {
  HN_KIND_MALLOC = 0, /* objects of malloc/free */
  HN_KIND_GC,         /* objects of the collector's heap; free() rejects them */
};

typedef struct hn_span {
  uintptr_t start;      /* first byte */
  uint32_t npages;      /* length in 8 KiB pages */
  uint8_t fastclass;    /* sizeclass if a small malloc span in use, else 0 */
  uint8_t sizeclass;    /* class of a small span (malloc or GC), else 0 */
  uint8_t state;        /* enum hn_span_state */
  uint8_t kind;         /* enum hn_span_kind */
  uint32_t elemsize;    /* object size; npages * page for a large span (0 above 4 GiB) */
  uint32_t divmagic;    /* reciprocal of elemsize, 0 for a large span */
  uint16_t nelems;      /* objects in the span */
  uint16_t allocated;   /* objects out of the span (held or cached) */
  uint16_t carved;      /* objects cut from the span so far; the rest never touched */
  uint8_t noscan;       /* collector: objects hold no pointers */
  uint8_t zeroed;       /* large span carved from pages all released with DONTNEED */
  union {
    struct { /* a span in use */
      void *freelist;       /* objects returned to this span */
      struct hn_span *next; /* central list of the class, or the metadata free list */
      struct hn_span *prev;
      uint64_t *allocbits;  /* HERON_CHECK: bit set while the program holds the object */
      uint64_t *markbits;   /* collector's mark bits, nelems bits */
      void *gcdata;         /* collector's per-span data */
    };
    struct { /* a free span */
      /* page heap: free spans by (npages, start). Laid out as sys/tree.h's
       * RB_ENTRY(hn_span), which pageheap.c's RB_ macros use; spelled out so that
       * what includes span.h needs no libbsd. */
      struct {
        struct hn_span *rbe_left, *rbe_right, *rbe_parent;
        int rbe_color;
      } rb;
      uint32_t nreleased;   /* pages released to the OS */
      uint32_t freed_ms;    /* when it (or the newest part merged into it) was freed */
    };
  };
} hn_span_t;

static inline uintptr_t hn_span_end(const hn_span_t *s) {
  return s->start + ((uintptr_t)s->npages << HN_PAGE_SHIFT);
}

static inline size_t hn_span_bytes(const hn_span_t *s) { return (size_t)s->npages << HN_PAGE_SHIFT; }

/* Index of the object holding addr (start <= addr < end). */
static inline uint32_t hn_span_object_index(const hn_span_t *s, uintptr_t addr) {
  return (uint32_t)(((uint64_t)(addr - s->start) * s->divmagic) >> 32);
}

/* Start of the object holding addr (start <= addr < end). */
static inline uintptr_t hn_span_object_start(const hn_span_t *s, uintptr_t addr) {
  return s->start + (uintptr_t)hn_span_object_index(s, addr) * s->elemsize;
}

/* Set up s (fresh from the page heap) as a span of class cl; returns 0 or ENOMEM
 * (HERON_CHECK needs a bitmap). Caller owns s. */
int hn_span_init_class(hn_span_t *s, unsigned cl, enum hn_span_kind kind);

#endif
