/*
 * model_heap.c: the slow paths of the simulated page heap (model_heap.h): sweeping
 * spans back to free pages and the scavenger's release.
 */
#include "sim/model_heap.h"

void hn_model_heap_sweep_small(hn_model_heap *h, unsigned cl, uint64_t n)
{
    if (n > h->objects[cl])
        n = h->objects[cl];
    h->objects[cl] -= n;
    uint64_t per = hn_class_objects[cl];
    uint64_t spans = (h->objects[cl] + per - 1) / per;
    if (spans < h->spans[cl]) {
        uint64_t pages = (h->spans[cl] - spans) * hn_class_pages[cl];
        h->spans[cl] = spans;
        h->in_use -= pages;
        h->free += pages;
    }
}

void hn_model_heap_sweep_large(hn_model_heap *h, uint64_t n, uint64_t pages)
{
    h->objects[0] -= n;
    h->spans[0] -= n;
    h->in_use -= pages;
    h->free += pages;
}

uint64_t hn_model_heap_release(hn_model_heap *h, uint64_t bytes)
{
    uint64_t pages = bytes / HN_MODEL_PAGE;
    if (pages > h->free)
        pages = h->free;
    h->free -= pages;
    h->released += pages;
    h->released_total += pages;
    return pages * HN_MODEL_PAGE;
}

uint64_t hn_model_heap_span_count(const hn_model_heap *h)
{
    uint64_t n = 0;
    for (unsigned c = 0; c < HN_NCLASSES; c++)
        n += h->spans[c];
    return n;
}
