/*
 * model_heap.h: the simulated page heap: which 8 KiB pages a heap of objects occupies
 * and which of them are resident, from the allocator's own size classes.
 *
 * The model (simple on purpose; docs/gcsim.md "What RSS means in the model"):
 *   1. Objects of a size class are packed into spans of that class with no holes:
 *      n objects of class c take ceil(n / objects_per_span(c)) spans of
 *      pages_per_span(c) pages (alloc/sizeclass_table.h). Large objects (over 32 KiB)
 *      take ceil(size / 8 KiB) pages each.
 *   2. Pages a span gives back (at a sweep) stay resident as free pages of the page
 *      heap, and are reused first when the heap grows again.
 *   3. Only the scavenger makes free pages non-resident (released); growth takes
 *      released pages before mapping new ones, faulting them back in.
 *   RSS = in-use pages + free resident pages. Metadata, thread caches and the
 *   program's own non-heap memory are not modelled.
 */
#ifndef HN_SIM_MODEL_HEAP_H
#define HN_SIM_MODEL_HEAP_H

#include <stdint.h>

#include "alloc/sizeclass.h"

typedef struct hn_model_heap {
    uint64_t objects[HN_NCLASSES]; /* objects in the heap per class (live + garbage) */
    uint64_t spans[HN_NCLASSES];   /* spans per class; spans[0]: large objects */
    uint64_t in_use;               /* pages in spans */
    uint64_t free;                 /* free pages, resident */
    uint64_t released;             /* free pages returned to the OS */
    uint64_t faulted;              /* pages taken back from `released` by the last grow */
    uint64_t released_total;       /* pages ever released */
} hn_model_heap;

#define HN_MODEL_PAGE ((uint64_t)HN_PAGE_SIZE)

/* Pages become in use: from free resident pages first, then released ones, then new. */
static inline void hn_model_heap_grow(hn_model_heap *h, uint64_t pages)
{
    h->in_use += pages;
    if (h->free >= pages) {
        h->free -= pages;
        h->faulted = 0;
        return;
    }
    pages -= h->free;
    h->free = 0;
    h->faulted = pages < h->released ? pages : h->released;
    h->released -= h->faulted;
}

/* One object of class cl (> 0) joins the heap; returns pages the heap grew by. */
static inline uint64_t hn_model_heap_add_small(hn_model_heap *h, unsigned cl)
{
    if (h->objects[cl]++ < h->spans[cl] * hn_class_objects[cl])
        return 0;
    h->spans[cl]++;
    hn_model_heap_grow(h, hn_class_pages[cl]);
    return hn_class_pages[cl];
}

static inline void hn_model_heap_add_large(hn_model_heap *h, uint64_t pages)
{
    h->objects[0]++;
    h->spans[0]++;
    hn_model_heap_grow(h, pages);
}

/* A sweep freed n objects of class cl (> 0): empty spans go back as free pages. */
void hn_model_heap_sweep_small(hn_model_heap *h, unsigned cl, uint64_t n);
/* A sweep freed n large objects holding `pages` pages. */
void hn_model_heap_sweep_large(hn_model_heap *h, uint64_t n, uint64_t pages);
/* The scavenger releases up to `bytes` of free resident pages; returns bytes released. */
uint64_t hn_model_heap_release(hn_model_heap *h, uint64_t bytes);
/* Spans in use, all classes and large objects. */
uint64_t hn_model_heap_span_count(const hn_model_heap *h);

static inline uint64_t hn_model_heap_rss(const hn_model_heap *h)
{
    return (h->in_use + h->free) * HN_MODEL_PAGE;
}

#endif
