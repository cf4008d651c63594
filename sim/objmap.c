/*
 * objmap.c: growing and removal for objmap.h.
 */
#include "sim/objmap.h"

#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>

/* 64 Ki slots (1 MiB) to start. A smaller table cost the shipped traces a quarter of
 * their speed (sqlite, 9 k live objects: 31.5 against 22 M events/s at 4096 slots): the
 * blocks of 16 consecutive ids make longer probe runs at the same load in a small table.
 * The price is about 5 ms of start-up to map and fault it in. */
#define OBJMAP_INITIAL_LOG2 16

static hn_objmap_slot *slots_alloc(uint64_t n)
{
    void *p = mmap(NULL, n * sizeof(hn_objmap_slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
    /* Every free probes a random slot: with 4 KiB pages each probe is also a TLB miss,
     * which costs more than the cache miss on a virtual machine. Huge pages where the
     * kernel allows them (transparent_hugepage=madvise or always); a refusal is fine. */
    madvise(p, n * sizeof(hn_objmap_slot), MADV_HUGEPAGE);
    return p;
}

static void set_size(hn_objmap *m, unsigned log2)
{
    m->mask = ((uint64_t)1 << log2) - 1;
    m->shift = 64 - (log2 - HN_OBJMAP_BLOCK_LOG2);
}

int hn_objmap_init(hn_objmap *m)
{
    m->slots = slots_alloc((uint64_t)1 << OBJMAP_INITIAL_LOG2);
    if (!m->slots)
        return -1;
    set_size(m, OBJMAP_INITIAL_LOG2);
    m->count = 0;
    return 0;
}

void hn_objmap_destroy(hn_objmap *m)
{
    if (m->slots)
        munmap(m->slots, (m->mask + 1) * sizeof(hn_objmap_slot));
    m->slots = NULL;
}

int hn_objmap_grow(hn_objmap *m)
{
    hn_objmap old = *m;
    unsigned log2 = 64 - old.shift + HN_OBJMAP_BLOCK_LOG2 + 1;
    hn_objmap_slot *s = slots_alloc((uint64_t)1 << log2);
    if (!s)
        return -1;
    m->slots = s;
    set_size(m, log2);
    for (uint64_t i = 0; i <= old.mask; i++) {
        uint64_t key = old.slots[i].key;
        if (!key)
            continue;
        uint64_t j = hn_objmap_home(m, key);
        while (m->slots[j].key)
            j = (j + 1) & m->mask;
        m->slots[j] = old.slots[i];
    }
    hn_objmap_destroy(&old);
    return 0;
}

void hn_objmap_remove_slot(hn_objmap *m, hn_objmap_slot *s)
{
    uint64_t i = (uint64_t)(s - m->slots);
    /* Shift back every following entry whose home is not between the hole and it. */
    for (uint64_t j = (i + 1) & m->mask; m->slots[j].key; j = (j + 1) & m->mask) {
        uint64_t home = hn_objmap_home(m, m->slots[j].key);
        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = 0;
    /* Cleared too: the collector's replay scans the slots conservatively, and a stale
     * pointer there would keep a freed object alive. */
    m->slots[i].val = 0;
    m->count--;
}
