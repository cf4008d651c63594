/*
 * threads.h: the registry of attached threads and stopping the world.
 *
 * Every thread that holds GC pointers attaches; the collector stops them all with a
 * signal (HERON_GC_SIG_SUSPEND), whose handler spills the registers onto the thread's
 * own stack, records its stack pointer, acknowledges and waits in sigsuspend until
 * HERON_GC_SIG_RESUME. The stacks, from the recorded pointer to the stack base, are then
 * scanned conservatively by the marker.
 */
#ifndef HN_GC_THREADS_H
#define HN_GC_THREADS_H

#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>

/* 256 overwritten pointers per flush: the pool lock and the signal mask change once per
 * 256 barrier hits, and 2 KiB per thread. */
#define HN_WB_BUF_N 256

/* hn_gcthread_t.state: how a stop finds the thread (threads.c has the transitions). */
enum { HN_THREAD_RUNNING, HN_THREAD_BLOCKING, HN_THREAD_HELD, HN_THREAD_SIGNALLED };

typedef struct hn_gcthread {
  struct hn_gcthread *next;
  pthread_t tid;
  uintptr_t stack_hi;         /* one past the highest address of the stack */
  uintptr_t stack_lo;         /* lowest address of the stack mapping */
  uintptr_t sp;               /* stack pointer recorded while stopped */
  int attached;               /* attach depth: nested attaches need as many detaches */
  int state;                  /* HN_THREAD_*, atomic */
  unsigned long acked_epoch;  /* the last stop this thread answered (its own) */
  int resume_skip;            /* was blocking when the world stopped (reg_lock) */
  uintptr_t blocking_sp;      /* the stack scan starts here while blocking */
  jmp_buf blocking_regs;      /* the registers at heron_gc_blocking_begin */
  struct hn_gctcache *tcache;   /* this thread's cache of free objects (gctcache.h) */
  /* The deletion barrier's buffer (barrier.c): overwritten pointers waiting to be
   * greyed. Only the owner writes; the collector reads it with the world stopped,
   * including the slot at wb_n, which the owner writes before it counts it. */
  uint32_t wb_n;
  uintptr_t wb[HN_WB_BUF_N];
  int64_t assist_credit;      /* allocation bytes paid for by assists (negative: owed) */
  /* A region the world must not stop inside (barrier flush, assist: they hold work
   * chunks and the pool lock). Only the owner and its own signal handler touch these
   * two: a suspend signal that arrives inside the region sets stop_pending and
   * returns, and the owner stops itself when it leaves the region. */
  int nosuspend;
  int stop_pending;
} hn_gcthread_t;

/* Nonzero while the collector is stopping the world or holds it stopped: a thread in
 * a no-suspend region polls it (with its own stop_pending) and cuts its work short. */
extern int hn_threads_stopping;

/* Enter a no-suspend region (the calling thread's record t). Instead of blocking the
 * suspend signal (two system calls per region, which were a tenth of binary_trees'
 * CPU in assists), the handler defers the stop to hn_threads_nosuspend_end. */
static inline void hn_threads_nosuspend_begin(hn_gcthread_t *t) {
  __atomic_store_n(&t->nosuspend, 1, __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
/* Leave the region; if a stop arrived inside it, stop now (acknowledge, wait for the
 * restart). */
void hn_threads_nosuspend_end(hn_gcthread_t *t);
/* Inside a no-suspend region: nonzero when a stop waits for this thread. */
static inline int hn_threads_stop_pending(const hn_gcthread_t *t) {
  return __atomic_load_n(&t->stop_pending, __ATOMIC_RELAXED) |
         __atomic_load_n(&hn_threads_stopping, __ATOMIC_RELAXED);
}

/* A safepoint (allocation calls it): a thread a stop is waiting for stops here, on its
 * own, before the stop resorts to a signal. One load and a branch when no stop is on. */
void hn_threads_safepoint(hn_gcthread_t *t);
static inline void hn_threads_poll(hn_gcthread_t *t) {
  if (__builtin_expect(__atomic_load_n(&hn_threads_stopping, __ATOMIC_RELAXED), 0))
    hn_threads_safepoint(t);
}

/* Install the signal handlers. Once, from heron_gc_init(). Returns 0 or an errno. */
int hn_threads_init(void);
int hn_threads_attach(void);
void hn_threads_detach(void);
/* The calling thread leaves (begin) and re-enters (end) code that touches GC objects:
 * the collector scans its stack without stopping it (bdwgc's GC_do_blocking). */
void hn_threads_blocking_begin(void);
void hn_threads_blocking_end(void);
/* Take the heap lock (or another lock the collector holds across a stop) for an
 * allocating thread: if it is taken, wait in a blocking region, so a collector that
 * holds it and stops the world counts this thread as stopped without signalling it
 * (a safepoint at the lock). Needs the caller to hold no GC object only in
 * registers it does not reach from its stack, as heron_gc_blocking_begin. */
void hn_threads_lock_at_safepoint(pthread_mutex_t *m);
/* The calling thread's record, or NULL if it is not attached. */
hn_gcthread_t *hn_threads_self(void);
uint64_t hn_threads_count(void);

/* Lock the registry (no attach or detach until unlocked) and stop every other attached
 * thread. The caller records its own registers with hn_threads_spill_self. */
void hn_threads_stop_world(void);
/* Resume the threads stopped by hn_threads_stop_world and unlock the registry. */
void hn_threads_start_world(void);
/* Acknowledgements posted and not yet taken: once every resumed thread has left its
 * handler, as many as threads the last stop signalled (for tests). */
int hn_threads_ack_backlog(void);

/* Calls fn(t, arg) for every attached thread. The world must be stopped. */
void hn_threads_each(void (*fn)(hn_gcthread_t *t, void *arg), void *arg);

/* Calls fn(lo, hi, arg) for the live stack range of every attached thread. The world
 * must be stopped; the calling thread's range starts at `self_sp`. */
void hn_threads_each_stack(uintptr_t self_sp,
                           void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);

#endif
