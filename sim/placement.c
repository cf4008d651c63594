/*
 * placement.c: slots, pages and garbage generations of the simulated allocator
 * (placement.h).
 */
#include "sim/placement.h"

#include <stdlib.h>
#include <string.h>

int hn_placement_push_slow(hn_slot_list *l, uint32_t slot)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 256;
        uint32_t *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = slot;
    return 0;
}

/* Moves every slot of from onto to (to keeps its order below them). */
static int move_all(hn_slot_list *to, hn_slot_list *from)
{
    if (from->n == 0)
        return 0;
    if (to->n == 0) {
        hn_slot_list t = *to;
        *to = *from;
        *from = t;
        from->n = 0;
        return 0;
    }
    if ((uint64_t)to->n + from->n > UINT32_MAX)
        return -1;
    uint32_t need = to->n + from->n;
    if (need > to->cap) {
        uint32_t *v = realloc(to->v, (size_t)need * sizeof *v);
        if (!v)
            return -1;
        to->v = v;
        to->cap = need;
    }
    memcpy(to->v + to->n, from->v, (size_t)from->n * sizeof *from->v);
    to->n = need;
    from->n = 0;
    return 0;
}

void hn_placement_init(hn_placement *p)
{
    memset(p, 0, sizeof *p);
    p->keep_garbage = true;
    /* Objects of a class on one 8 KiB page (one, for classes of a page or more), as
     * a reciprocal: slot * recip >> 40 is slot / n for every slot below 2^31 (the
     * rounding error, under slot / 2^40, stays below 1 / n there: n <= 512). */
    for (unsigned c = 1; c < HN_NCLASSES; c++) {
        uint64_t n = HN_PAGE_SIZE / hn_class_size[c];
        if (n == 0)
            n = 1;
        p->cls[c].recip = (((uint64_t)1 << 40) + n - 1) / n;
    }
}

void hn_placement_destroy(hn_placement *p)
{
    for (unsigned c = 0; c < HN_NCLASSES; c++) {
        hn_placement_class *k = &p->cls[c];
        free(k->free.v);
        for (int g = 0; g < HN_GEN_COUNT; g++)
            free(k->gen[g].v);
        free(k->live);
    }
    hn_placement_init(p);
}

int64_t hn_placement_alloc_slow(hn_placement *p, unsigned cl, uint32_t slot)
{
    hn_placement_class *k = &p->cls[cl];
    uint32_t page = hn_placement_page(k, slot);
    uint32_t n = k->npages ? 2 * k->npages : 64;
    while (n <= page)
        n *= 2;
    uint32_t *live = realloc(k->live, (size_t)n * sizeof *live);
    if (!live)
        return -1;
    memset(live + k->npages, 0, (size_t)(n - k->npages) * sizeof *live);
    k->live = live;
    k->npages = n;
    if (k->live[page]++ == 0)
        p->live_pages++;
    return slot;
}

void hn_placement_cycle_start(hn_placement *p)
{
    for (unsigned c = 1; c < HN_NCLASSES; c++) {
        hn_placement_class *k = &p->cls[c];
        /* The condemned list is empty here (the last sweep emptied it): swap. */
        hn_slot_list t = k->gen[HN_GEN_CONDEMNED];
        k->gen[HN_GEN_CONDEMNED] = k->gen[HN_GEN_PENDING];
        k->gen[HN_GEN_PENDING] = t;
        k->gen[HN_GEN_PENDING].n = 0;
    }
}

int hn_placement_sweep(hn_placement *p)
{
    for (unsigned c = 1; c < HN_NCLASSES; c++) {
        hn_placement_class *k = &p->cls[c];
        if (move_all(&k->free, &k->gen[HN_GEN_CONDEMNED]) < 0 ||
            move_all(&k->gen[HN_GEN_PENDING], &k->gen[HN_GEN_SURVIVOR]) < 0)
            return -1;
    }
    return 0;
}
