/*
 * u64map.c: growing and removal for u64map.h.
 */
#include "sim/u64map.h"

#include <errno.h>
#include <sys/mman.h>

/* 4096 slots (96 KiB) to start: one mapping covers small programs without a rehash. */
#define MAP_INITIAL_LOG2 12
/* Grow at half full: linear probing stays short (about 1.5 probes per hit). */
#define MAP_MAX_LOAD_NUM 1
#define MAP_MAX_LOAD_DEN 2

static hn_u64map_slot *slots_alloc(uint64_t n)
{
    void *p = mmap(NULL, n * sizeof(hn_u64map_slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    return p;
}

int hn_u64map_init(hn_u64map *m)
{
    m->slots = slots_alloc((uint64_t)1 << MAP_INITIAL_LOG2);
    if (!m->slots)
        return -1;
    m->mask = ((uint64_t)1 << MAP_INITIAL_LOG2) - 1;
    m->shift = 64 - MAP_INITIAL_LOG2;
    m->count = 0;
    return 0;
}

void hn_u64map_destroy(hn_u64map *m)
{
    if (m->slots)
        munmap(m->slots, (m->mask + 1) * sizeof(hn_u64map_slot));
    m->slots = NULL;
}

static void place(hn_u64map *m, uint64_t key, uint64_t a, uint64_t b)
{
    uint64_t i = hn_u64map_home(m, key);
    while (m->slots[i].key)
        i = (i + 1) & m->mask;
    m->slots[i] = (hn_u64map_slot){key, a, b};
}

static int grow(hn_u64map *m)
{
    hn_u64map old = *m;
    hn_u64map_slot *s = slots_alloc((old.mask + 1) * 2);
    if (!s)
        return -1;
    m->slots = s;
    m->mask = old.mask * 2 + 1;
    m->shift = old.shift - 1;
    for (uint64_t i = 0; i <= old.mask; i++)
        if (old.slots[i].key)
            place(m, old.slots[i].key, old.slots[i].a, old.slots[i].b);
    hn_u64map_destroy(&old);
    return 0;
}

int hn_u64map_insert(hn_u64map *m, uint64_t key, uint64_t a, uint64_t b)
{
    if ((m->count + 1) * MAP_MAX_LOAD_DEN > (m->mask + 1) * MAP_MAX_LOAD_NUM && grow(m) < 0)
        return -1;
    place(m, key, a, b);
    m->count++;
    return 0;
}

void hn_u64map_remove_slot(hn_u64map *m, hn_u64map_slot *s)
{
    uint64_t i = (uint64_t)(s - m->slots);
    /* Shift back every following entry whose home is not between the hole and it. */
    for (uint64_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
        uint64_t home = hn_u64map_home(m, m->slots[j].key);
        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = 0;
    m->count--;
}
