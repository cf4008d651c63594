/*
 * tcache.c: the slow paths of the thread cache (refill, drain, set-up, exit), large
 * objects, the HERON_CHECK paths, and the registry of live caches that statistics
 * and fork read.
 *
 * Thread exit: a pthread key whose destructor drains the cache into the central lists
 * and marks it dead. Destructors of other keys that run later may still malloc or
 * free; a dead cache sends each such object straight to the central lists, so nothing
 * is stranded in TLS that glibc is about to reuse. A thread that never allocates never
 * sets the key and costs nothing at exit.
 *
 * Outboxes. A class's list only starts serving malloc (max above 0) at the thread's
 * first malloc of that class, whose refill comes from the central list. Before that,
 * the thread's frees of the class go to the class's outbox, which malloc never reads,
 * and go on to the central list a batch at a time (the transfer cache, O(1)); the first
 * refill takes its objects first and hands the outbox over after. Why: an object freed
 * by a thread that never allocated in its class was carved for another thread, often
 * next to that thread's objects in one cache line; a LIFO list would hand it straight
 * back to the freeing thread's next malloc and keep doing so, two threads writing one
 * line for the whole run (passive false sharing, cache-scratch: 4x jemalloc's time).
 * The refill instead carves a line of the thread's own (HN_CACHE_LINE). jemalloc does
 * the same for a thread that only freed: no cache until its first malloc. A consumer
 * thread that only frees (producer/consumer) pays the out-of-line free on every
 * object but still moves whole batches through the transfer cache.
 *
 * Locks: threads_lock guards the list of live caches and the sums of exited ones.
 * Order: threads_lock, then central locks, then the page heap, then metadata.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "alloc/central.h"
#include "alloc/lock.h"
#include "alloc/pageheap.h"
#include "alloc/tcache.h"

__thread hn_tcache_t hn_tc __attribute__((tls_model("initial-exec")));

/* Poison written over a freed object in HERON_CHECK mode (after its link word): an
 * odd, non-canonical pattern that faults if used as a pointer. */
#define HN_POISON 0xdf

static pthread_key_t exit_key;
static hn_lock_t threads_lock = HN_LOCK_INIT;
static hn_tcache_t *live;                    /* threads_lock */
static uint64_t dead_nalloc[HN_NCLASSES];    /* threads_lock */
static uint64_t dead_requested;              /* threads_lock */
static atomic_uint_fast64_t direct_nalloc[HN_NCLASSES]; /* objects that bypassed a cache */
static atomic_uint_fast64_t direct_requested;

static void thread_exit(void *arg);

void hn_tcache_global_init(void) { pthread_key_create(&exit_key, thread_exit); }

void hn_threads_lock(void) { hn_lock(&threads_lock); }

void hn_threads_unlock(int child) {
  if (child)
    hn_lock_reset(&threads_lock);
  else
    hn_unlock(&threads_lock);
}

/* A list holds up to two batches, so a thread that frees and mallocs around the
 * boundary does not move a batch each time: at most 128 KiB of a class (a batch is at
 * most 64 KiB of objects). The lists of classes above 1 KiB used to stop at 64 KiB,
 * one batch or two objects for the biggest: a thread cycling through 1024 objects of
 * up to 32 KiB then sent most frees through the central lists, where the other
 * thread's mallocs picked them up, and two threads took 2.8x the time per operation
 * of one (bench-thread: 2.7x; 2.1x with two batches). */
/* Slow start (TCMalloc's): a list begins with room for this many objects and doubles
 * its room on every miss or overflow up to its limit, so a thread that uses a class
 * once holds 2 objects of it, not a batch of 16 pages' worth. */
#define HN_TCACHE_START 2
/* Bytes in a cache line on x86-64 and most arm64 cores. */
#define HN_CACHE_LINE 64u

/* Every list closed to frees (max 0) until a refill opens it, with its limit set. */
static void reset_lists(hn_tcache_t *tc) {
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    tc->list[cl].limit = 2u * hn_class_batch[cl];
    tc->list[cl].max = 0;
  }
}

/* Double the room of a list, up to its limit. */
static void grow(hn_tclist_t *l) {
  uint32_t m = l->max * 2;
  l->max = m < l->limit ? m : l->limit;
}

static void tcache_setup(void) {
  hn_init();
  hn_tc.state = HN_TC_INITIALIZING;
  hn_lock(&threads_lock);
  hn_tc.prev = NULL;
  hn_tc.next = live;
  if (live)
    live->prev = &hn_tc;
  live = &hn_tc;
  hn_unlock(&threads_lock);
  /* Any non-NULL value: the destructor works on hn_tc itself. */
  pthread_setspecific(exit_key, &hn_tc);
  if (hn_opt.check) {
    hn_tc.state = HN_TC_BYPASS;
    return;
  }
  reset_lists(&hn_tc);
  hn_tc.state = HN_TC_ACTIVE;
}

/* Detach up to n objects from list l; returns their head (NULL-terminated). */
static void *take(hn_tclist_t *l, unsigned n) {
  void *head = l->head, *last = head;
  for (unsigned i = 1; i < n; i++)
    last = *(void **)last;
  l->head = *(void **)last;
  *(void **)last = NULL;
  HN_STORE_RELAXED(l->count, l->count - n);
  return head;
}

/* Give class cl's outbox to the central list (at most a batch: it is given on at a
 * full one). */
static void outbox_give(hn_tcache_t *tc, unsigned cl) {
  hn_tclist_t *l = &tc->list[cl];
  unsigned n = l->nout;
  void *head = tc->outbox[cl];
  tc->outbox[cl] = NULL;
  HN_STORE_RELAXED(l->nout, 0);
  hn_central_give(cl, head, n);
}

/* Put p in class cl's outbox; a full batch goes on to the central list. */
static void outbox_push(hn_tcache_t *tc, unsigned cl, void *p) {
  hn_tclist_t *l = &tc->list[cl];
  *(void **)p = tc->outbox[cl];
  tc->outbox[cl] = p;
  HN_STORE_RELAXED(l->nout, l->nout + 1);
  if (l->nout == hn_class_batch[cl])
    outbox_give(tc, cl);
}

static void flush_cache(hn_tcache_t *tc) {
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    hn_tclist_t *l = &tc->list[cl];
    if (l->nout)
      outbox_give(tc, cl);
    while (l->count) {
      unsigned n = l->count < hn_class_batch[cl] ? l->count : hn_class_batch[cl];
      hn_central_give(cl, take(l, n), n);
    }
  }
}

void hn_tcache_flush(void) {
  if (hn_tc.state == HN_TC_ACTIVE)
    flush_cache(&hn_tc);
}

static void unlink_locked(hn_tcache_t *tc) {
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++)
    dead_nalloc[cl] += tc->list[cl].nalloc;
  dead_requested += tc->requested;
  if (tc->prev)
    tc->prev->next = tc->next;
  else
    live = tc->next;
  if (tc->next)
    tc->next->prev = tc->prev;
  tc->next = tc->prev = NULL;
}

static void thread_exit(void *arg) {
  (void)arg;
  int was = hn_tc.state;
  hn_tc.state = HN_TC_DEAD;
  reset_lists(&hn_tc);
  if (was == HN_TC_ACTIVE)
    flush_cache(&hn_tc);
  hn_lock(&threads_lock);
  unlink_locked(&hn_tc);
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++)
    HN_STORE_RELAXED(hn_tc.list[cl].nalloc, 0);
  HN_STORE_RELAXED(hn_tc.requested, 0);
  hn_unlock(&threads_lock);
}

static void set_enomem(void) { errno = ENOMEM; }

/* HERON_CHECK: one object, marked held in its span's bitmap. */
static void *check_malloc(unsigned cl) {
  void *p;
  if (!hn_central_fetch(cl, &p, 1))
    return NULL;
  hn_span_t *s = hn_pagemap_lookup((uintptr_t)p);
  uint32_t i = hn_span_object_index(s, (uintptr_t)p);
  __atomic_fetch_or(&s->allocbits[i >> 6], (uint64_t)1 << (i & 63), __ATOMIC_RELAXED);
  return p;
}

static void check_free(void *p, hn_span_t *s) {
  uintptr_t a = (uintptr_t)p;
  if (a < s->start || a >= hn_span_end(s) || hn_span_object_start(s, a) != a)
    hn_fatal("free(): pointer inside an object, not at its start:", p);
  uint32_t i = hn_span_object_index(s, a);
  uint64_t bit = (uint64_t)1 << (i & 63);
  uint64_t old = __atomic_fetch_and(&s->allocbits[i >> 6], ~bit, __ATOMIC_RELAXED);
  if (!(old & bit))
    hn_fatal("free(): double free of", p);
  memset(p, HN_POISON, s->elemsize);
  *(void **)p = NULL;
  hn_central_give(s->fastclass, p, 1);
}

void *hn_malloc_refill(unsigned cl, size_t n) {
  for (;;) {
    switch (hn_tc.state) {
    case HN_TC_UNINIT:
      tcache_setup();
      continue;
    case HN_TC_ACTIVE: {
      void *head;
      hn_tclist_t *l = &hn_tc.list[cl];
      unsigned batch = hn_class_batch[cl];
      if (l->max == 0)
        l->max = HN_TCACHE_START; /* the first refill opens the list */
      unsigned want = l->max < batch ? l->max : batch;
      /* Never less than a cache line of objects: slow start would otherwise hand two
       * threads that start together neighbouring tiny objects in one line, and each
       * LIFO list then keeps reusing its own (false sharing: 4x jemalloc's time in
       * cache-thrash). Carving is sequential, so whole-line refills stay apart. */
      unsigned line = (HN_CACHE_LINE + hn_class_size[cl] - 1) / hn_class_size[cl];
      if (want < line) {
        want = line < batch ? line : batch;
        if (l->max < want)
          l->max = want;
      }
      grow(l);
      unsigned got = hn_central_fetch(cl, &head, want);
      if (!got) {
        set_enomem();
        return NULL;
      }
      l->head = *(void **)head;
      HN_STORE_RELAXED(l->count, got - 1);
      HN_STORE_RELAXED(l->nalloc, l->nalloc + 1);
      HN_STORE_RELAXED(hn_tc.requested, hn_tc.requested + n);
      /* After the fetch, so that it cannot hand these objects back. */
      if (l->nout)
        outbox_give(&hn_tc, cl);
      return head;
    }
    default: {
      void *p;
      if (hn_tc.state == HN_TC_BYPASS)
        p = check_malloc(cl);
      else if (!hn_central_fetch(cl, &p, 1))
        p = NULL;
      if (!p) {
        set_enomem();
        return NULL;
      }
      atomic_fetch_add_explicit(&direct_nalloc[cl], 1, memory_order_relaxed);
      atomic_fetch_add_explicit(&direct_requested, n, memory_order_relaxed);
      return p;
    }
    }
  }
}

void *hn_malloc_large(size_t n, int *zeroed) {
  if (n > PTRDIFF_MAX) {
    errno = ENOMEM;
    return NULL;
  }
  hn_init();
  uintptr_t pages = (n + HN_PAGE_SIZE - 1) >> HN_PAGE_SHIFT;
  hn_span_t *s = hn_pageheap_alloc_large(pages, 1);
  if (!s)
    return NULL;
  if (zeroed)
    *zeroed = s->zeroed;
  atomic_fetch_add_explicit(&direct_requested, n, memory_order_relaxed);
  return (void *)s->start;
}

/* Free of a pointer whose span has no fast class: a large object, or an error. A big
 * sparse one gives its pages back first, outside the page heap lock (mincore and
 * madvise under it made the other thread spin: mstress's user time went up 70 %); the
 * span is checked again under the lock, as every large free is. */
static void free_not_small(void *p) {
  hn_span_t *u = hn_pagemap_lookup((uintptr_t)p);
  int shed = u && u->state == HN_SPAN_LARGE && u->start == (uintptr_t)p && u->kind == HN_KIND_MALLOC &&
             hn_pageheap_shed_sparse(u);
  hn_pageheap_lock();
  hn_span_t *s = hn_pagemap_lookup((uintptr_t)p);
  if (!s) {
    hn_pageheap_unlock();
    hn_fatal("free(): invalid pointer (not allocated by heron, or freed twice):", p);
  }
  if (s->state == HN_SPAN_FREE) {
    hn_pageheap_unlock();
    hn_fatal("free(): double free (or a pointer into free pages):", p);
  }
  if (s->kind != HN_KIND_MALLOC) {
    hn_pageheap_unlock();
    hn_fatal("free(): pointer into the collector's heap:", p);
  }
  if (s->state != HN_SPAN_LARGE || s->start != (uintptr_t)p) {
    hn_pageheap_unlock();
    hn_fatal("free(): pointer inside an object, not at its start:", p);
  }
  hn_pageheap_count_large_locked(-1);
  if (shed)
    hn_pageheap_free_shed_locked(s);
  else
    hn_pageheap_free_locked(s);
  hn_pageheap_unlock();
}

void hn_free_slow(void *p) {
  if (!p)
    return;
  hn_span_t *s = hn_pagemap_lookup((uintptr_t)p);
  if (!s)
    hn_fatal("free(): invalid pointer (not allocated by heron, or already freed):", p);
  int saved = errno;
  unsigned cl = s->fastclass;
  if (!cl) {
    free_not_small(p);
    errno = saved;
    return;
  }
  for (;;) {
    hn_tclist_t *l = &hn_tc.list[cl];
    switch (hn_tc.state) {
    case HN_TC_UNINIT:
      tcache_setup();
      continue;
    case HN_TC_ACTIVE:
      if (l->max == 0) {
        outbox_push(&hn_tc, cl, p);
        break;
      }
      *(void **)p = l->head;
      l->head = p;
      HN_STORE_RELAXED(l->count, l->count + 1);
      if (l->count > l->max && l->max < l->limit) {
        grow(l);
      } else if (l->count > l->max) {
        unsigned n = hn_class_batch[cl];
        hn_central_give(cl, take(l, n), n);
      }
      break;
    case HN_TC_BYPASS:
      check_free(p, s);
      break;
    default:
      *(void **)p = NULL;
      hn_central_give(cl, p, 1);
      break;
    }
    break;
  }
  errno = saved;
}

/* The fast path's miss on list l of the calling thread: a full list, a list not opened
 * yet (its outbox takes the object without the page map walk and errno save of
 * hn_free_slow: a consumer thread frees every object here), or a class-0 or uncached
 * pointer. The list, not the class, is passed: it is in a register already, where the
 * class would cost the fast path a move to keep. */
void hn_free_miss(void *p, hn_tclist_t *l) {
  unsigned cl = (unsigned)(l - hn_tc.list);
  if (cl == 0 || hn_tc.state != HN_TC_ACTIVE || l->max != 0) {
    hn_free_slow(p);
    return;
  }
  int saved = errno; /* the central list may take a lock that sleeps */
  outbox_push(&hn_tc, cl, p);
  errno = saved;
}

void hn_threads_sum_locked(hn_thread_sums_t *o) {
  memset(o, 0, sizeof *o);
  for (hn_tcache_t *tc = live; tc; tc = tc->next) {
    o->threads++;
    for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
      o->cached[cl] += __atomic_load_n(&tc->list[cl].count, __ATOMIC_RELAXED) +
                       __atomic_load_n(&tc->list[cl].nout, __ATOMIC_RELAXED);
      o->nalloc[cl] += __atomic_load_n(&tc->list[cl].nalloc, __ATOMIC_RELAXED);
    }
    o->requested += __atomic_load_n(&tc->requested, __ATOMIC_RELAXED);
  }
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++)
    o->nalloc[cl] += dead_nalloc[cl] + atomic_load_explicit(&direct_nalloc[cl], memory_order_relaxed);
  o->requested += dead_requested + atomic_load_explicit(&direct_requested, memory_order_relaxed);
}

/* The cache of a thread that was stopped by fork anywhere, even inside its fast path:
 * each list is a valid NULL-terminated chain (a push links the object before
 * publishing it, a pop publishes the next one first), but its count may be off by one.
 * So walk the chains and count for real. */
static void give_chain(unsigned cl, void *p) {
  while (p) {
    void *head = p, *last = p;
    unsigned n = 1;
    while (n < hn_class_batch[cl] && *(void **)last) {
      last = *(void **)last;
      n++;
    }
    p = *(void **)last;
    *(void **)last = NULL;
    hn_central_give(cl, head, n);
  }
}

static void flush_stopped_cache(hn_tcache_t *tc) {
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    void *p = tc->list[cl].head, *out = tc->outbox[cl];
    tc->list[cl].head = NULL;
    tc->list[cl].count = 0;
    tc->outbox[cl] = NULL;
    tc->list[cl].nout = 0;
    give_chain(cl, p);
    give_chain(cl, out);
  }
}

void hn_threads_adopt_child_locked(void) {
  hn_tcache_t *tc = live;
  while (tc) {
    hn_tcache_t *next = tc->next;
    if (tc != &hn_tc) {
      if (tc->state == HN_TC_ACTIVE)
        flush_stopped_cache(tc);
      unlink_locked(tc);
    }
    tc = next;
  }
}
