/*
 * u64map.h: a hash map from a 64-bit key to two 64-bit values, for the recorder
 * (address -> object id, size) and for the tools' live sets (object id -> size, time).
 *
 * Open addressing with linear probing and Fibonacci hashing; removal shifts the
 * following entries back (no tombstones), so a map that sees as many removals as
 * inserts, as these do, never degrades. Key 0 means empty: callers keep it out.
 * Storage comes from mmap, not malloc, because the recorder runs inside malloc.
 * Not thread-safe: the caller locks.
 */
#ifndef HN_SIM_U64MAP_H
#define HN_SIM_U64MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct hn_u64map_slot {
    uint64_t key;
    uint64_t a;
    uint64_t b;
} hn_u64map_slot;

typedef struct hn_u64map {
    hn_u64map_slot *slots;
    uint64_t mask;   /* capacity - 1; capacity is a power of two */
    unsigned shift;  /* 64 - log2(capacity) */
    uint64_t count;
} hn_u64map;

/* 0, or -1 with errno ENOMEM. */
int hn_u64map_init(hn_u64map *m);
void hn_u64map_destroy(hn_u64map *m);
/* Inserts key (not already present, not 0). 0, or -1 when growing failed. */
int hn_u64map_insert(hn_u64map *m, uint64_t key, uint64_t a, uint64_t b);
/* Removes slot s, found by hn_u64map_find. */
void hn_u64map_remove_slot(hn_u64map *m, hn_u64map_slot *s);

static inline uint64_t hn_u64map_home(const hn_u64map *m, uint64_t key)
{
    return (key * 0x9E3779B97F4A7C15ull) >> m->shift; /* 2^64 / golden ratio */
}

static inline hn_u64map_slot *hn_u64map_find(const hn_u64map *m, uint64_t key)
{
    for (uint64_t i = hn_u64map_home(m, key);; i = (i + 1) & m->mask) {
        hn_u64map_slot *s = &m->slots[i];
        if (s->key == key)
            return s;
        if (s->key == 0)
            return NULL;
    }
}

#endif
