/*
 * collector.c: the collection cycle, its trigger, and the helper threads.
 *
 * A cycle (stop-the-world marking, concurrent sweeping; Go's phases with the marking
 * done inside the pause for now):
 *   1. Sweep termination. Take the cycle lock, then the heap lock (no allocation from
 *      here to step 7), and sweep every span still unswept from the last cycle; move
 *      the classes' current spans to their swept lists.
 *   2. Take the roots and finalizer locks, then stop the world (threads.c): every other
 *      attached thread is parked in the suspend handler with its registers spilled.
 *   3. Mark roots: registered ranges, the stacks of all attached threads (from their
 *      recorded stack pointers up, conservatively), the objects whose finalizers wait
 *      to run.
 *   4. Drain the work list (mark.c): no recursion, so depth costs no C stack.
 *   5. Clear weak references to unmarked objects; queue the finalizers of unmarked
 *      objects and grey those objects; drain again.
 *   6. Mark termination: the live heap is the bytes marked; sweepgen += 2 makes every
 *      span unswept; the next trigger is live * GOGC / 100 bytes of new allocation, at
 *      least 4 MiB (issue 5 replaces this rule with the pacer).
 *   7. Restart the world, drop the locks, wake the background sweeper and the
 *      finalizer thread. Spans are swept lazily by allocation and by the sweeper.
 * Invariants: nothing is allocated from an unswept span, so objects allocated after
 * step 6 survive the sweep; allocation never runs while the world is stopped (the heap
 * lock is held), so the collector meets every span in a consistent state; no malloc
 * inside the pause (a stopped thread may hold a malloc lock).
 *
 * Lock order: cycle_lock -> heap lock -> roots lock -> finalizer lock -> thread registry.
 */
#include "gc/collector.h"
#include "gc/lock.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gc/finalize.h"
#include "gc/heap.h"
#include "gc/mark.h"
#include "gc/roots.h"
#include "gc/settings.h"
#include "gc/stats.h"
#include "gc/gctcache.h"
#include "gc/threads.h"
#include "heron/gc.h"

static pthread_mutex_t cycle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;
static int gogc = 100;
static unsigned flags;
static heron_gc_config_t pending_cfg;

static pthread_mutex_t sweeper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sweeper_cond = PTHREAD_COND_INITIALIZER;
static uint64_t sweeper_cycle; /* cycles the sweeper was told about, sweeper_lock */

hn_gc_counters_t hn_gc_counters;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void set_trigger_locked(uint64_t live) {
  int g = __atomic_load_n(&gogc, __ATOMIC_RELAXED);
  uint64_t t;
  if (g < 0) {
    t = UINT64_MAX;
  } else {
    t = live / 100 * (uint64_t)g + live % 100 * (uint64_t)g / 100;
    uint64_t min = HN_HEAP_MIN_TRIGGER / 100 * (uint64_t)(g ? g : 1);
    if (t < min) t = min;
  }
  __atomic_store_n(&hn_heap.trigger, t, __ATOMIC_RELAXED);
}

static void mark_range_cb(uintptr_t lo, uintptr_t hi, void *arg) {
  hn_mark_range(arg, lo, hi);
}

static void mark_tcache_cb(hn_gcthread_t *t, void *arg) {
  hn_marker_t *m = arg;
  m->marked_bytes += hn_gctcache_mark(t->tcache, &m->marked_objects);
}

/* Steps 2-6 with the heap lock held. Keeps the caller's registers in `regs`, in the
 * frame the stack scan starts from. */
static void __attribute__((noinline)) mark_stopped(uint64_t *pause_ns) {
  jmp_buf regs;
  setjmp(regs);
  hn_marker_t m;
  memset(&m, 0, sizeof m);
  hn_roots_lock();
  hn_fin_lock();
  uint64_t t0 = now_ns();
  hn_threads_stop_world();
  __atomic_store_n(&hn_heap.phase, HN_PHASE_MARKTERM, __ATOMIC_RELAXED);
  hn_roots_each_locked(mark_range_cb, &m);
  hn_threads_each_stack((uintptr_t)&regs, mark_range_cb, &m);
  hn_threads_each(mark_tcache_cb, &m);
  hn_fin_mark_queued_locked(&m);
  hn_mark_drain(&m);
  hn_weak_clear_locked();
  hn_fin_queue_unreachable_locked(&m);
  hn_mark_drain(&m);
  hn_workq_dispose(&m.work);
  __atomic_store_n(&hn_gc_counters.live, m.marked_bytes, __ATOMIC_RELAXED);
  __atomic_store_n(&hn_gc_counters.live_objects, m.marked_objects, __ATOMIC_RELAXED);
  __atomic_store_n(&hn_heap.since_gc, 0, __ATOMIC_RELAXED);
  set_trigger_locked(m.marked_bytes);
  hn_heap.in_use_marked = m.marked_bytes;
  hn_heap_flip_locked();
  __atomic_store_n(&hn_heap.phase, HN_PHASE_OFF, __ATOMIC_RELAXED);
  hn_threads_start_world();
  uint64_t pause = now_ns() - t0;
  hn_fin_unlock();
  hn_roots_unlock();
  __asm__ volatile("" : : "r"(&regs) : "memory");
  *pause_ns = pause;
}

void hn_collector_collect(int forced) {
  if (hn_collector_ensure_init() != 0) return;
  hn_gc_lock(&cycle_lock);
  hn_gc_lock(&hn_heap.lock);
  if (!forced && __atomic_load_n(&hn_heap.since_gc, __ATOMIC_RELAXED) < hn_heap.trigger) {
    /* another thread ran the cycle this one was waiting for */
    pthread_mutex_unlock(&hn_heap.lock);
    pthread_mutex_unlock(&cycle_lock);
    return;
  }
  hn_heap_finish_sweep_locked();
  hn_heap_release_current_locked();
  uint64_t pause;
  mark_stopped(&pause);
  hn_gc_counters_t *c = &hn_gc_counters;
  __atomic_store_n(&c->cycles, c->cycles + 1, __ATOMIC_RELAXED);
  if (forced) __atomic_store_n(&c->forced_cycles, c->forced_cycles + 1, __ATOMIC_RELAXED);
  __atomic_store_n(&c->pause_total_ns, c->pause_total_ns + pause, __ATOMIC_RELAXED);
  __atomic_store_n(&c->pause_last_ns, pause, __ATOMIC_RELAXED);
  if (pause > c->pause_max_ns) __atomic_store_n(&c->pause_max_ns, pause, __ATOMIC_RELAXED);
  if (forced) hn_heap_finish_sweep_locked();
  pthread_mutex_unlock(&hn_heap.lock);
  hn_workq_trim();
  pthread_mutex_unlock(&cycle_lock);
  if (!(flags & HERON_GC_NO_BACKGROUND_SWEEP)) {
    pthread_mutex_lock(&sweeper_lock);
    sweeper_cycle++;
    pthread_cond_signal(&sweeper_cond);
    pthread_mutex_unlock(&sweeper_lock);
  }
  if (hn_fin_queued_count() != hn_fin_run_count()) hn_fin_notify();
}

void hn_collector_maybe_collect(void) {
  if (__atomic_load_n(&hn_heap.since_gc, __ATOMIC_RELAXED) >=
      __atomic_load_n(&hn_heap.trigger, __ATOMIC_RELAXED))
    hn_collector_collect(0);
}

/* Sweeps up to SWEEP_BATCH spans per lock hold: allocation waits at most that many
 * spans' sweeps (a few microseconds), and the lock changes hands 8x less often than
 * one span at a time, which made the allocating thread sleep on the futex. */
#define SWEEP_BATCH 8
static void *sweeper_main(void *arg) {
  (void)arg;
  uint64_t seen = 0;
  for (;;) {
    pthread_mutex_lock(&sweeper_lock);
    while (sweeper_cycle == seen) pthread_cond_wait(&sweeper_cond, &sweeper_lock);
    seen = sweeper_cycle;
    pthread_mutex_unlock(&sweeper_lock);
    for (;;) {
      hn_gc_lock(&hn_heap.lock);
      int more = 1;
      for (int i = 0; i < SWEEP_BATCH && more; i++) more = hn_heap_sweep_one_locked();
      pthread_mutex_unlock(&hn_heap.lock);
      if (!more) break;
    }
  }
  return NULL;
}

/* Attached: the object being finalized lives on this thread's stack. */
static void *finalizer_main(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  for (;;) {
    hn_fin_wait();
    hn_fin_run(SIZE_MAX);
  }
  return NULL;
}

/* GOGC parsed as Go parses it (settings.c); a bad value keeps the default, as Go does. */
static int gogc_from_env(void) {
  int32_t v = HN_SETTINGS_GOGC_DEFAULT;
  if (hn_settings_parse_gogc(getenv("GOGC"), &v, NULL, 0) != 0) v = HN_SETTINGS_GOGC_DEFAULT;
  return v < 0 ? -1 : (int)v;
}

static void init_once_fn(void) {
  heron_gc_config_t cfg = pending_cfg;
  gogc = cfg.gogc != 0 ? (cfg.gogc < 0 ? -1 : cfg.gogc) : gogc_from_env();
  flags = cfg.flags;
  set_trigger_locked(0);
  if ((init_err = hn_heap_init()) != 0) return;
  if ((init_err = hn_threads_init()) != 0) return;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  /* Helper threads start with our signals blocked: the sweeper is never stopped (it
   * holds no GC pointers); the finalizer thread unblocks them when it attaches. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  if (!(flags & HERON_GC_NO_BACKGROUND_SWEEP) && pthread_create(&t, &attr, sweeper_main, NULL) != 0)
    init_err = EAGAIN;
  if (!init_err && !(flags & HERON_GC_FINALIZE_EXPLICIT) &&
      pthread_create(&t, &attr, finalizer_main, NULL) != 0)
    init_err = EAGAIN;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
}

int hn_collector_ensure_init(void) {
  pthread_once(&init_once, init_once_fn);
  return init_err;
}

int heron_gc_init(const heron_gc_config_t *cfg) {
  if (cfg != NULL) pending_cfg = *cfg;
  int err = hn_collector_ensure_init();
  if (err) return err;
  return hn_threads_self() != NULL ? 0 : hn_threads_attach();
}

int heron_gc_set_gogc(int g) {
  hn_collector_ensure_init();
  hn_gc_lock(&hn_heap.lock);
  int old = gogc;
  __atomic_store_n(&gogc, g < 0 ? -1 : g, __ATOMIC_RELAXED);
  set_trigger_locked(__atomic_load_n(&hn_gc_counters.live, __ATOMIC_RELAXED));
  pthread_mutex_unlock(&hn_heap.lock);
  return old;
}

/* Zero 16 KiB of dead stack below the stack pointer before a cycle: the collector's own
 * frames are then laid over zeros instead of the stale pointers of earlier, deeper
 * calls (bdwgc's GC_clear_stack), which the scan of the live stack would see in their
 * unwritten slots. On x86-64 the stores start right at the stack pointer; elsewhere a
 * zeroed local array does the same less exactly (it misses its own frame's top). */
#define CLEAR_STACK_BYTES 16384
#if defined(__x86_64__)
static inline __attribute__((always_inline)) void clear_stack_below(void) {
  uintptr_t count = CLEAR_STACK_BYTES / 8;
  uintptr_t dst;
  __asm__ volatile("lea -8(%%rsp), %%rdi\n\t"
                   "sub %[bytes], %%rdi\n\t"
                   "xor %%eax, %%eax\n\t"
                   "rep stosq"
                   : "+c"(count), "=&D"(dst)
                   : [bytes] "i"(CLEAR_STACK_BYTES)
                   : "rax", "memory");
}
#else
static void __attribute__((noinline)) clear_stack_below(void) {
  volatile char buf[CLEAR_STACK_BYTES];
  memset((char *)buf, 0, sizeof buf);
  __asm__ volatile("" : : "r"(buf) : "memory");
}
#endif

void heron_gc_collect(void) {
  clear_stack_below();
  hn_collector_collect(1);
}
