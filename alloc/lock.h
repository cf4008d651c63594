/*
 * lock.h: the allocator's spinlock.
 *
 * Every critical section in alloc/ is a few dozen instructions (pop a batch, link a
 * span), so a test-and-test-and-set lock beats a futex mutex uncontended (one atomic
 * exchange to take, one store to drop). A waiter spins a little, then yields the CPU,
 * because on 2 cores the holder may be preempted and spinning would only delay it.
 * The lock needs no initialisation beyond zero and never allocates, so it works before
 * main and can be reset in a fork child.
 */
#ifndef HN_LOCK_H
#define HN_LOCK_H

#include <sched.h>
#include <stdatomic.h>

typedef struct hn_lock {
  atomic_int held;
} hn_lock_t;

#define HN_LOCK_INIT {0}

/* Spins before yielding: about the length of a short critical section. */
#define HN_LOCK_SPINS 64

void hn_lock_slow(hn_lock_t *l);

static inline void hn_lock(hn_lock_t *l) {
  if (__builtin_expect(!atomic_exchange_explicit(&l->held, 1, memory_order_acquire), 1))
    return;
  hn_lock_slow(l);
}

static inline void hn_unlock(hn_lock_t *l) { atomic_store_explicit(&l->held, 0, memory_order_release); }

/* In a fork child only: the parent's holder does not exist here. */
static inline void hn_lock_reset(hn_lock_t *l) { atomic_store_explicit(&l->held, 0, memory_order_relaxed); }

#endif
