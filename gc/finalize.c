/*
 * finalize.c: the finalizer table, the queue of finalizers ready to run, and the weak
 * reference registry.
 *
 * Finalizers (Go's SetFinalizer semantics):
 *   1. heron_gc_set_finalizer records (obj, fn, arg) in an open-addressing hash table
 *      keyed by the object's address. The table is not a root.
 *   2. At mark termination, after the first drain, every entry whose object is unmarked
 *      moves to the ready queue, and its object is greyed and drained again: the object
 *      and everything it reaches survive this cycle.
 *   3. Objects on the queue are roots at every cycle until their finalizer has run.
 *   4. A finalizer runs exactly once, on the finalizer thread or in
 *      heron_gc_run_finalizers(), never inside an allocation; the runner holds the
 *      object on its own (attached, scanned) stack while fn runs. A later cycle frees the
 *      object, unless fn stored it somewhere reachable.
 * Weak references are cleared at step 2 before finalizer objects are greyed, so a weak
 * reference to an object with a finalizer reads NULL once the object is unreachable.
 *
 * Locks: `fin_lock` guards the table, the queue and the weak registry; the collector
 * holds it for a whole cycle. Memory for the table and the queue comes from the OS
 * layer (gcmem), since the queue grows with the world stopped. Finalizers run with no
 * lock held. A weak reference's target is stored inverted, so a conservative scan of
 * the handle (malloc memory a program registered as a root) does not keep it alive.
 */
#include "gc/finalize.h"
#include "gc/lock.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gc/fatal.h"
#include "gc/gcmem.h"
#include "gc/heap.h"
#include "gc/threads.h"

typedef struct fin_entry {
  uintptr_t obj; /* 0: empty, TOMB: deleted */
  heron_gc_finalizer_fn fn;
  void *arg;
} fin_entry_t;

#define TOMB ((uintptr_t)1)
/* First table: 4 KiB of entries. */
#define FIRST_CAP 128u

struct heron_gc_weak {
  uintptr_t hidden; /* ~target, 0 when cleared */
  struct heron_gc_weak *prev, *next;
};

static pthread_mutex_t fin_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fin_ready = PTHREAD_COND_INITIALIZER;
static fin_entry_t *table;
static size_t cap, used, tombs; /* used counts live entries */
static fin_entry_t *queue;      /* FIFO ring of ready finalizers */
static size_t qcap, qhead, qlen;
static heron_gc_weak_t *weaks;
static uint64_t nqueued, nrun, nweak_cleared;

void hn_fin_lock(void) { hn_gc_lock(&fin_lock); }
void hn_fin_unlock(void) { pthread_mutex_unlock(&fin_lock); }

static inline size_t hash(uintptr_t p, size_t mask) {
  return (size_t)((p >> 4) * 0x9E3779B97F4A7C15ull >> 20) & mask;
}

static int rehash_locked(size_t ncap) {
  fin_entry_t *nt = hn_gcmem_map(ncap * sizeof *nt);
  if (nt == NULL) return ENOMEM;
  for (size_t i = 0; i < cap; i++) {
    if (table[i].obj <= TOMB) continue;
    size_t j = hash(table[i].obj, ncap - 1);
    while (nt[j].obj != 0) j = (j + 1) & (ncap - 1);
    nt[j] = table[i];
  }
  if (table != NULL) hn_gcmem_unmap(table, cap * sizeof *table);
  table = nt;
  cap = ncap;
  tombs = 0;
  return 0;
}

int hn_fin_set(uintptr_t obj, heron_gc_finalizer_fn fn, void *arg) {
  hn_gc_lock(&fin_lock);
  if ((used + tombs + 1) * 2 > cap) { /* keep the load under 1/2, 1/4 after a rehash */
    size_t ncap = FIRST_CAP;
    while ((used + 1) * 4 > ncap) ncap *= 2;
    int err = rehash_locked(ncap);
    if (err) {
      pthread_mutex_unlock(&fin_lock);
      return err;
    }
  }
  size_t mask = cap - 1, j = hash(obj, mask), slot = SIZE_MAX;
  for (; table[j].obj != 0; j = (j + 1) & mask) {
    if (table[j].obj == obj) {
      slot = j;
      break;
    }
    if (table[j].obj == TOMB && slot == SIZE_MAX) slot = j;
  }
  int found = slot != SIZE_MAX && table[slot].obj == obj;
  if (fn == NULL) {
    if (found) {
      table[slot].obj = TOMB;
      used--;
      tombs++;
    }
  } else {
    if (!found) {
      if (slot == SIZE_MAX) {
        slot = j;
      } else {
        tombs--;
      }
      used++;
    }
    table[slot].obj = obj;
    table[slot].fn = fn;
    table[slot].arg = arg;
  }
  pthread_mutex_unlock(&fin_lock);
  return 0;
}

static void queue_push_locked(fin_entry_t e) {
  if (qlen == qcap) {
    size_t ncap = qcap ? qcap * 2 : FIRST_CAP;
    fin_entry_t *nq = hn_gcmem_map(ncap * sizeof *nq);
    if (nq == NULL) hn_gc_fatal("out of memory for the finalizer queue");
    for (size_t i = 0; i < qlen; i++) nq[i] = queue[(qhead + i) % qcap];
    if (queue != NULL) hn_gcmem_unmap(queue, qcap * sizeof *queue);
    queue = nq;
    qcap = ncap;
    qhead = 0;
  }
  queue[(qhead + qlen) % qcap] = e;
  qlen++;
}

void hn_fin_mark_queued_locked(hn_marker_t *m) {
  for (size_t i = 0; i < qlen; i++) hn_mark_ptr(m, queue[(qhead + i) % qcap].obj);
}

uint64_t hn_weak_clear_locked(void) {
  uint64_t n = 0;
  for (heron_gc_weak_t *w = weaks; w != NULL; w = w->next) {
    uintptr_t h = __atomic_load_n(&w->hidden, __ATOMIC_RELAXED);
    if (h != 0 && !hn_mark_is_marked(~h)) {
      __atomic_store_n(&w->hidden, 0, __ATOMIC_RELAXED);
      n++;
    }
  }
  __atomic_store_n(&nweak_cleared, nweak_cleared + n, __ATOMIC_RELAXED);
  return n;
}

uint64_t hn_fin_queue_unreachable_locked(hn_marker_t *m) {
  uint64_t n = 0;
  for (size_t i = 0; i < cap; i++) {
    uintptr_t obj = table[i].obj;
    if (obj <= TOMB || hn_mark_is_marked(obj)) continue;
    queue_push_locked(table[i]);
    table[i].obj = TOMB;
    used--;
    tombs++;
    n++;
  }
  for (size_t i = 0; i < qlen && n > 0; i++) hn_mark_ptr(m, queue[(qhead + i) % qcap].obj);
  __atomic_store_n(&nqueued, nqueued + n, __ATOMIC_RELAXED);
  return n;
}

size_t hn_fin_run(size_t max) {
  size_t ran = 0;
  while (ran < max) {
    hn_gc_lock(&fin_lock);
    if (qlen == 0) {
      pthread_mutex_unlock(&fin_lock);
      break;
    }
    /* volatile: the object stays in this frame, on a scanned stack, while fn runs. */
    volatile fin_entry_t e = queue[qhead];
    qhead = (qhead + 1) % qcap;
    qlen--;
    __atomic_store_n(&nrun, nrun + 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&fin_lock);
    e.fn((void *)e.obj, e.arg);
    ran++;
  }
  return ran;
}

void hn_fin_wait(void) {
  hn_threads_blocking_begin(); /* the finalizer thread waits without being signalled */
  hn_gc_lock(&fin_lock);
  while (qlen == 0) pthread_cond_wait(&fin_ready, &fin_lock);
  pthread_mutex_unlock(&fin_lock);
  hn_threads_blocking_end();
}

void hn_fin_notify(void) {
  hn_gc_lock(&fin_lock);
  pthread_cond_broadcast(&fin_ready);
  pthread_mutex_unlock(&fin_lock);
}

uint64_t hn_fin_run_count(void) { return __atomic_load_n(&nrun, __ATOMIC_RELAXED); }
uint64_t hn_fin_queued_count(void) { return __atomic_load_n(&nqueued, __ATOMIC_RELAXED); }
uint64_t hn_weak_cleared_count(void) { return __atomic_load_n(&nweak_cleared, __ATOMIC_RELAXED); }

heron_gc_weak_t *heron_gc_weak_new(void *obj) {
  if (hn_heap_find_object((uintptr_t)obj, NULL) == 0) {
    errno = EINVAL;
    return NULL;
  }
  heron_gc_weak_t *w = malloc(sizeof *w);
  if (w == NULL) return NULL;
  w->hidden = ~(uintptr_t)obj;
  w->prev = NULL;
  hn_gc_lock(&fin_lock);
  w->next = weaks;
  if (weaks != NULL) weaks->prev = w;
  weaks = w;
  pthread_mutex_unlock(&fin_lock);
  return w;
}

void *heron_gc_weak_get(const heron_gc_weak_t *w) {
  if (w == NULL) return NULL;
  uintptr_t h = __atomic_load_n(&w->hidden, __ATOMIC_RELAXED);
  /* While marking, the target may be white and about to be kept only by the caller's
   * stack, which mark termination does not rescan: shade it (Go shades a weak
   * pointer's target too). Under fin_lock, which mark termination holds while it
   * clears weak references, so the load and the shade are one step for it. With the
   * barrier off, h was loaded before the first pause and the stack scan sees it. */
  if (h && __atomic_load_n(&heron_gc_barrier_on, __ATOMIC_SEQ_CST)) {
    hn_gc_lock(&fin_lock);
    h = __atomic_load_n(&w->hidden, __ATOMIC_RELAXED);
    if (h && __atomic_load_n(&heron_gc_barrier_on, __ATOMIC_RELAXED))
      heron_gc_write_barrier_slow((void *)~h);
    pthread_mutex_unlock(&fin_lock);
  }
  return h ? (void *)~h : NULL;
}

void heron_gc_weak_free(heron_gc_weak_t *w) {
  if (w == NULL) return;
  hn_gc_lock(&fin_lock);
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    weaks = w->next;
  if (w->next != NULL) w->next->prev = w->prev;
  pthread_mutex_unlock(&fin_lock);
  free(w);
}
