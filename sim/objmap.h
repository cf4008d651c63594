/*
 * objmap.h: the simulator's live objects: object id -> (rounded size, size class), in
 * memory proportional to the live objects.
 *
 * Open addressing with linear probing and backward-shift removal (no tombstones), as
 * sim/u64map.h, with two differences that matter at 20+ million events a second:
 *   - 16-byte slots: the value packs the rounded size (48 bits, every size a trace can
 *     hold) and the class (8 bits);
 *   - block hashing: ids are handed out in order, so 16 consecutive ids share one
 *     block of 16 consecutive slots (256 bytes) and only the block number is hashed
 *     (Fibonacci). A run of allocations then writes the same few cache lines instead
 *     of one random line each, while regular survival patterns (one object in every
 *     1024 kept) still spread over the table as a plain hash would spread them.
 * Key 0 means empty, so keys are id + 1. Not thread-safe.
 */
#ifndef HN_SIM_OBJMAP_H
#define HN_SIM_OBJMAP_H

#include <stdint.h>

#define HN_OBJMAP_BLOCK_LOG2 4 /* 16 slots of 16 bytes: four cache lines */

typedef struct hn_objmap_slot {
    uint64_t key;
    uint64_t val; /* rounded size << 8 | class */
} hn_objmap_slot;

typedef struct hn_objmap {
    hn_objmap_slot *slots;
    uint64_t mask;  /* capacity - 1 */
    unsigned shift; /* 64 - log2(capacity / block) */
    uint64_t count;
} hn_objmap;

int hn_objmap_init(hn_objmap *m);
void hn_objmap_destroy(hn_objmap *m);
/* Doubles the table: 0, or -1 when out of memory. */
int hn_objmap_grow(hn_objmap *m);
void hn_objmap_remove_slot(hn_objmap *m, hn_objmap_slot *s);

static inline uint64_t hn_objmap_home(const hn_objmap *m, uint64_t key)
{
    uint64_t block = (key >> HN_OBJMAP_BLOCK_LOG2) * 0x9E3779B97F4A7C15ull >> m->shift;
    return ((block << HN_OBJMAP_BLOCK_LOG2) | (key & ((1u << HN_OBJMAP_BLOCK_LOG2) - 1))) &
           m->mask;
}

static inline hn_objmap_slot *hn_objmap_find(const hn_objmap *m, uint64_t key)
{
    for (uint64_t i = hn_objmap_home(m, key);; i = (i + 1) & m->mask) {
        hn_objmap_slot *s = &m->slots[i];
        if (s->key == key)
            return s;
        if (s->key == 0)
            return 0;
    }
}

/* Starts loading the slot key's search begins at, so that a lookup a few events later
 * does not wait for memory. */
static inline void hn_objmap_prefetch(const hn_objmap *m, uint64_t key)
{
    const hn_objmap_slot *p = &m->slots[hn_objmap_home(m, key)];
    /* Volatile asm, not __builtin_prefetch: GCC marks a function holding only a
     * prefetch as const and then deletes calls to it, prefetch and all. */
#if defined(__x86_64__)
    __asm__ volatile("prefetcht0 %0" : : "m"(*p));
#else
    __builtin_prefetch(p);
    __asm__ volatile("" : : "r"(p));
#endif
}

/* Inserts a key not present: 0, or -1 when out of memory. Grows at half full. */
static inline int hn_objmap_insert(hn_objmap *m, uint64_t key, uint64_t val)
{
    if (__builtin_expect((m->count + 1) * 2 > m->mask + 1, 0) && hn_objmap_grow(m) < 0)
        return -1;
    uint64_t i = hn_objmap_home(m, key);
    while (m->slots[i].key)
        i = (i + 1) & m->mask;
    m->slots[i].key = key;
    m->slots[i].val = val;
    m->count++;
    return 0;
}

#endif
