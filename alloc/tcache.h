/*
 * tcache.h: the per-thread cache and the malloc/free fast paths.
 *
 * Each thread has, in initial-exec TLS (one %fs-relative access, no call), a singly
 * linked free list per size class. malloc pops, free pushes; a miss or an overflow goes
 * out of line to tcache.c, which moves a batch to or from the central list.
 *
 * A list's count and the allocation counters are written only by the owning thread,
 * with relaxed atomic stores (plain moves on x86), so heron_stats_get can read them
 * from another thread without stopping it. A list's max is 0 while the cache is not
 * set up (fresh thread, thread past its exit destructor, HERON_CHECK), always 0 for
 * class 0, which routes large objects, never-initialised threads and bad pointers to
 * the slow path without an extra test on the fast one, and 0 for a class until the
 * thread's first malloc of it refills the list: until then the thread's frees of that
 * class go to its outbox (tcache.c), never to the list malloc pops.
 */
#ifndef HN_TCACHE_H
#define HN_TCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/internal.h"
#include "alloc/pagemap.h"
#include "alloc/sizeclass.h"

typedef struct hn_tclist {
  void *head;      /* free objects, linked through their first word */
  uint32_t count;  /* objects in the list */
  uint32_t max;    /* a free past it grows it (slow start) or drains a batch */
  uint64_t nalloc; /* objects of this class handed out by this thread */
  uint32_t limit;  /* what max grows to (slow start, see tcache.c) */
  uint32_t nout;   /* objects in the class's outbox (32 bytes: an index is one shift) */
} hn_tclist_t;

enum hn_tcache_state {
  HN_TC_UNINIT = 0, /* no cache yet (TLS starts zeroed) */
  HN_TC_ACTIVE,
  HN_TC_INITIALIZING, /* setting up: allocations go straight to the central lists */
  HN_TC_DEAD,         /* thread exit destructor ran: no caching from now on */
  HN_TC_BYPASS,       /* HERON_CHECK: every object goes through the checked slow path */
};

typedef struct hn_tcache {
  hn_tclist_t list[HN_NCLASSES];
  uint64_t requested; /* bytes asked for, since the thread started */
  int state;
  struct hn_tcache *next, *prev; /* all live caches (threads lock) */
  /* Per class, objects this thread freed before it ever allocated from the class,
   * linked, bound for the central list (nout counts them): see tcache.c. */
  void *outbox[HN_NCLASSES];
} hn_tcache_t;

extern __thread hn_tcache_t hn_tc __attribute__((tls_model("initial-exec")));

void *hn_malloc_refill(unsigned cl, size_t n);
void *hn_malloc_large(size_t n, int *zeroed);
void hn_free_slow(void *p);
void hn_free_miss(void *p, hn_tclist_t *l);

#define HN_STORE_RELAXED(lv, v) __atomic_store_n(&(lv), (v), __ATOMIC_RELAXED)

/* The calling thread's cache, its address computed once: without the empty asm GCC
 * rebuilds the %fs-relative address before every store, a few instructions each. */
static inline hn_tcache_t *hn_tcache_self(void) {
  hn_tcache_t *tc = &hn_tc;
  __asm__("" : "+r"(tc));
  return tc;
}

static inline void *hn_malloc_inline(size_t n) {
  unsigned cl;
  if (HN_LIKELY(n <= HN_SMALL_LIMIT))
    cl = hn_size_to_class8[(n + 7) >> 3];
  else if (n <= HN_MAX_SMALL)
    cl = hn_size_to_class128[(n - HN_SMALL_LIMIT + HN_LARGE_STEP - 1) >> 7];
  else
    return hn_malloc_large(n, NULL);
  hn_tcache_t *tc = hn_tcache_self();
  hn_tclist_t *l = &tc->list[cl];
  void *p = l->head;
  if (HN_LIKELY(p != NULL)) {
    uint32_t count = l->count;
    uint64_t nalloc = l->nalloc, requested = tc->requested;
    l->head = *(void **)p;
    HN_STORE_RELAXED(l->count, count - 1);
    HN_STORE_RELAXED(l->nalloc, nalloc + 1);
    HN_STORE_RELAXED(tc->requested, requested + n);
    return p;
  }
  return hn_malloc_refill(cl, n);
}

static inline void hn_free_inline(void *p) {
  hn_pm_leaf_t *leaf = hn_pagemap_leaf((uintptr_t)p);
  if (HN_LIKELY(leaf != NULL)) {
    unsigned cl = atomic_load_explicit(&leaf->cls[hn_pagemap_index((uintptr_t)p)], memory_order_relaxed);
    hn_tcache_t *tc = hn_tcache_self();
    hn_tclist_t *l = &tc->list[cl];
    uint32_t c = l->count;
    if (HN_LIKELY(c < l->max)) {
      *(void **)p = l->head;
      l->head = p;
      HN_STORE_RELAXED(l->count, c + 1);
      return;
    }
    hn_free_miss(p, l);
    return;
  }
  hn_free_slow(p);
}

/* Give every object of the calling thread's cache back to the central lists. */
void hn_tcache_flush(void);

/* Threads lock, and the per-thread sums heron_stats_get needs. */
void hn_threads_lock(void);
void hn_threads_unlock(int child);
typedef struct hn_thread_sums {
  uint64_t cached[HN_NCLASSES]; /* objects in thread caches */
  uint64_t nalloc[HN_NCLASSES]; /* objects allocated, live and exited threads */
  uint64_t requested;
  uint64_t threads;
} hn_thread_sums_t;
void hn_threads_sum_locked(hn_thread_sums_t *out);
/* In a fork child (locks held): drain the caches of threads that do not exist here. */
void hn_threads_adopt_child_locked(void);

void hn_tcache_global_init(void);

#endif
