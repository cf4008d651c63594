/*
 * placement.h: where the simulated allocator puts each small object, to count the pages
 * that hold a live object when a mark begins.
 *
 * Marking pays for every page it touches as well as for every object (a TLB miss and
 * a cache line of span metadata, measured on heron's collector: see docs/gcsim.md "The
 * cost model"), and how many pages the live objects sit on depends on the program:
 * a program that frees in batches leaves whole pages dead and refills them together,
 * one whose objects die one by one leaves live objects on nearly every page.
 *
 * Each small class numbers its slots; a new object takes the most recently swept free
 * slot of its class, else a new one at the end (the allocator hands out what a sweep
 * gave back before it grows). A slot's page is its number / objects per 8 KiB page.
 * A freed slot is garbage until the sweep after the mark that finds it dead, as the
 * simulation's own generations say (simulate.c): pending, then condemned at the next
 * cycle's start, free after that cycle's sweep; one freed during a mark survives it
 * and waits one cycle more. A large object counts as one page, its first.
 */
#ifndef HN_SIM_PLACEMENT_H
#define HN_SIM_PLACEMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc/sizeclass.h"

typedef struct hn_slot_list {
    uint32_t *v;
    uint32_t n, cap;
} hn_slot_list;

enum { HN_GEN_PENDING, HN_GEN_CONDEMNED, HN_GEN_SURVIVOR, HN_GEN_COUNT };

typedef struct hn_placement_class {
    hn_slot_list free;               /* swept slots, the last swept on top */
    hn_slot_list gen[HN_GEN_COUNT];  /* garbage slots waiting for their sweep */
    uint32_t next;                   /* slots ever used */
    uint32_t *live;                  /* per page: live objects on it */
    uint32_t npages;                 /* entries of live */
    uint64_t recip;                  /* 2^40 / objects of the class on an 8 KiB page,
                                      * rounded up */
} hn_placement_class;

typedef struct hn_placement {
    hn_placement_class cls[HN_NCLASSES];
    uint64_t live_pages;             /* pages holding a live object, large ones included */
    /* Keep freed slots for reuse (the default). A run that can never sweep (GOGC=off,
     * no memory limit) clears it: its garbage would cost 4 bytes for every free in the
     * trace, for slots no sweep will ever give back (and the simulation, which counts a
     * sweep's small objects from these lists, never sweeps). */
    bool keep_garbage;
} hn_placement;

void hn_placement_init(hn_placement *p);
void hn_placement_destroy(hn_placement *p);
/* The slow paths of the two below: a new slot past the page array's end, a full list. */
int64_t hn_placement_alloc_slow(hn_placement *p, unsigned cl, uint32_t slot);
int hn_placement_push_slow(hn_slot_list *l, uint32_t slot);

/* The page of a slot: slot / (objects a page), by a multiplication rather than a
 * division: the simulation does one an event. */
static inline uint32_t hn_placement_page(const hn_placement_class *k, uint32_t slot)
{
    return (uint32_t)(((uint64_t)slot * k->recip) >> 40);
}

/* A new object of small class cl: its slot, or -1 when out of memory (or out of the
 * 2^32 slots a class can number). */
static inline int64_t hn_placement_alloc(hn_placement *p, unsigned cl)
{
    hn_placement_class *k = &p->cls[cl];
    uint32_t slot;
    if (k->free.n)
        slot = k->free.v[--k->free.n];
    else if (k->next < UINT32_MAX)
        slot = k->next++;
    else
        return -1;
    uint32_t page = hn_placement_page(k, slot);
    if (__builtin_expect(page >= k->npages, 0))
        return hn_placement_alloc_slow(p, cl, slot);
    if (k->live[page]++ == 0)
        p->live_pages++;
    return slot;
}

/* The program freed the object in slot of class cl; it joins garbage generation gen.
 * 0, or -1 when out of memory. */
static inline int hn_placement_free(hn_placement *p, unsigned cl, uint32_t slot, int gen)
{
    hn_placement_class *k = &p->cls[cl];
    if (--k->live[hn_placement_page(k, slot)] == 0)
        p->live_pages--;
    if (!p->keep_garbage)
        return 0;
    hn_slot_list *l = &k->gen[gen];
    if (__builtin_expect(l->n == l->cap, 0))
        return hn_placement_push_slow(l, slot);
    l->v[l->n++] = slot;
    return 0;
}
/* A large object allocated or freed: one page more or less. */
static inline void hn_placement_large(hn_placement *p, int delta)
{
    p->live_pages += (uint64_t)(int64_t)delta;
}
/* A cycle begins: what was pending is condemned. */
void hn_placement_cycle_start(hn_placement *p);
/* The cycle's sweep: condemned slots are free; survivors of the mark become pending. */
int hn_placement_sweep(hn_placement *p);

#endif
