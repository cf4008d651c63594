/*
 * liveset.h: the objects of a trace that are live at the current event, with the size
 * and creation time of each, in memory proportional to the live objects.
 *
 * The reader checks what it can in constant memory; a tool that keeps a live set also
 * checks that every free and realloc names a live object (a trace the recorder wrote
 * always does, so anything else is a corrupt trace). `gcsim info` uses it, and so can the
 * simulator. Keys are id + 1 because the map reserves 0.
 */
#ifndef HN_SIM_LIVESET_H
#define HN_SIM_LIVESET_H

#include "sim/u64map.h"

typedef struct hn_liveset {
    hn_u64map map;
    uint64_t bytes; /* sum of the live objects' sizes */
} hn_liveset;

static inline int hn_liveset_init(hn_liveset *s)
{
    s->bytes = 0;
    return hn_u64map_init(&s->map);
}

static inline void hn_liveset_destroy(hn_liveset *s)
{
    hn_u64map_destroy(&s->map);
}

static inline uint64_t hn_liveset_count(const hn_liveset *s)
{
    return s->map.count;
}

/* 0, or -1 when out of memory. */
static inline int hn_liveset_add(hn_liveset *s, uint64_t id, uint64_t size, uint64_t time)
{
    s->bytes += size;
    return hn_u64map_insert(&s->map, id + 1, size, time);
}

/* Removes id and gives its size and creation time: 0, or -1 if id is not live. */
static inline int hn_liveset_remove(hn_liveset *s, uint64_t id, uint64_t *size, uint64_t *time)
{
    hn_u64map_slot *slot = hn_u64map_find(&s->map, id + 1);
    if (!slot)
        return -1;
    *size = slot->a;
    *time = slot->b;
    s->bytes -= slot->a;
    hn_u64map_remove_slot(&s->map, slot);
    return 0;
}

#endif
