/*
 * collector.c: the collection cycle, its trigger, and the helper threads.
 *
 * A cycle (Go's, mgc.go), run by the collector thread (unattached, never stopped):
 *   1. Sweep termination and mark setup, in one short pause. Take the cycle lock and
 *      the heap lock (no allocation until the world restarts), sweep what is left of
 *      the last cycle, stop the world (threads.c). Scan the roots: registered ranges
 *      (globals), every attached thread's stack and registers, the objects in thread
 *      caches, the finalizer queue. Turn on allocate-black (phase MARK) and the
 *      deletion barrier, restart the world.
 *   2. Concurrent marking: this thread drains the shared work pool at about 25 % of
 *      the CPU (pacer.h's worker plan: one thread, on a duty cycle below one whole
 *      processor), while allocating threads assist in proportion to what they
 *      allocate (barrier.c) and the barrier shades overwritten pointers.
 *   3. Mark termination, the second short pause: grey what is left in the barrier
 *      buffers, rescan the registered roots; if that found more than a short pause's
 *      scanning, restart the world and go back to step 2 with it; else drain; clear
 *      weak references to unmarked objects, queue the finalizers of unmarked objects
 *      and drain again. Stacks are not rescanned: they were scanned in step 1 and the
 *      deletion barrier keeps every object reachable then. The live heap is the bytes
 *      marked plus the bytes allocated black; sweepgen += 2 makes every span unswept;
 *      barrier off.
 *   4. Restart the world; the pacer ends its cycle and sets the next trigger; the
 *      sweeper and the finalizer thread wake. Spans are swept lazily by allocation and
 *      by the background sweeper.
 * A cycle starts when the bytes allocated since the last one pass the pacer's trigger
 * (the allocating thread asks, and waits for the first pause), or on heron_gc_collect.
 * Invariants: nothing is allocated from an unswept span; allocation never runs while
 * the world is stopped (the heap lock is held); nothing in a pause calls malloc or the
 * page heap (a stopped thread may hold their locks: the collector avoids them instead
 * of taking hn_alloc_lock_all, so a pause never waits for a malloc in progress); no
 * stopped thread holds a work chunk (barrier.c defers a stop to the end of a no-suspend region).
 *
 * Lock order: cycle_lock -> heap lock -> roots lock -> finalizer lock -> thread
 * registry; req_lock and pace_lock are leaves taken outside pauses.
 */
#include "gc/collector.h"
#include "gc/duty.h"
#include "gc/lock.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "gc/barrier.h"
#include "gc/finalize.h"
#include "gc/heap.h"
#include "gc/mark.h"
#include "gc/pace.h"
#include "gc/pacer.h"
#include "gc/roots.h"
#include "gc/stats.h"
#include "gc/gctcache.h"
#include "gc/threads.h"
#include "gc/workq.h"
#include "heron/gc.h"

static pthread_mutex_t cycle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;
static unsigned flags;
static heron_gc_config_t pending_cfg;

static pthread_mutex_t sweeper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sweeper_cond = PTHREAD_COND_INITIALIZER;
static uint64_t sweeper_cycle; /* cycles the sweeper was told about, sweeper_lock */

/* Cycle requests (req_lock): cycles are numbered from 1; `requested` is the highest
 * number asked for, `started` the last whose first pause is over, `finished` the last
 * completed. */
static pthread_mutex_t req_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t req_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t progress_cond = PTHREAD_COND_INITIALIZER;
static uint64_t requested, started, finished;
static int forced_pending;

hn_gc_counters_t hn_gc_counters;

static uint64_t now_ns(void) { return (uint64_t)hn_pace_now_ns(); }

static void mark_range_cb(uintptr_t lo, uintptr_t hi, void *arg) {
  hn_mark_range(arg, lo, hi);
}

static void mark_tcache_cb(hn_gcthread_t *t, void *arg) {
  hn_marker_t *m = arg;
  m->marked_bytes += hn_gctcache_mark(t->tcache, &m->marked_objects);
}

static void flush_wb_cb(hn_gcthread_t *t, void *arg) { hn_barrier_flush_into(t, arg); }

/* Begins a stop-the-world pause: takes the locks the pause needs (roots, finalizers)
 * and stops the world; *stop_ns is how long the threads took to stop. Returns the
 * time the pause began, for pause_end. */
static uint64_t pause_begin(int64_t *stop_ns) {
  hn_roots_lock();
  hn_fin_lock();
  uint64_t t0 = now_ns();
  hn_threads_stop_world();
  *stop_ns = (int64_t)(now_ns() - t0);
  return t0;
}

/* Ends the pause begun at t0: restarts the world, records the pause's work (stopped,
 * less the stopping), restart and whole time, and drops the locks. */
static void pause_end(uint64_t t0, int64_t stop_ns, int64_t *work_ns, int64_t *restart_ns,
                      int64_t *stw_ns) {
  uint64_t t1 = now_ns();
  hn_threads_start_world();
  uint64_t t2 = now_ns();
  *work_ns = (int64_t)(t1 - t0) - stop_ns;
  *restart_ns = (int64_t)(t2 - t1);
  *stw_ns = (int64_t)(t2 - t0);
  hn_fin_unlock();
  hn_roots_unlock();
}

/* A debt left from the last cycle's marking is not owed to this one. */
static void clear_credit_cb(hn_gcthread_t *t, void *arg) {
  (void)arg;
  t->assist_credit = 0;
}

static uint64_t since_at_mark_start; /* collector thread only */

/* Step 1. Heap lock held; returns with marking on and the world running. */
static void mark_start_locked(hn_pace_cycle_t *c) {
  hn_marker_t m;
  memset(&m, 0, sizeof m);
  uint64_t t0 = pause_begin(&c->stop1_ns);
  __atomic_store_n(&hn_mark_total_bytes, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&hn_mark_total_objects, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&hn_mark_total_scanned, 0, __ATOMIC_RELAXED);
  hn_roots_each_locked(mark_range_cb, &m);
  c->globals = m.scanned_bytes;
  hn_threads_each_stack(0, mark_range_cb, &m);
  c->stacks = m.scanned_bytes - c->globals;
  hn_threads_each(mark_tcache_cb, &m);
  hn_threads_each(clear_credit_cb, NULL);
  hn_fin_mark_queued_locked(&m);
  m.scanned_bytes = 0; /* roots are counted as globals and stacks, not heap work */
  hn_marker_publish(&m);
  since_at_mark_start = hn_heap.since_gc;
  c->heap_start = __atomic_load_n(&hn_gc_counters.live, __ATOMIC_RELAXED) + since_at_mark_start;
  __atomic_store_n(&hn_heap.phase, HN_PHASE_MARK, __ATOMIC_RELAXED);
  __atomic_store_n(&heron_gc_barrier_on, 1, __ATOMIC_SEQ_CST);
  pause_end(t0, c->stop1_ns, &c->work1_ns, &c->restart1_ns, &c->stw1_ns);
}

/* Scan work per slice of the background worker between clock checks: about 50-100 us
 * of marking, so a slice ends close to its time. */
#define WORKER_CHUNK_WORK ((uint64_t)64 << 10)

/* Step 2: background marking on this thread until no grey object is left. */
static void mark_concurrent(hn_pace_cycle_t *c) {
  hn_pacer_workers plan = hn_pacer_worker_plan(hn_pace_procs());
  double util = plan.dedicated + plan.fractional * hn_pace_procs();
  if (util > 1) util = 1; /* one worker thread */
  if (util <= 0) util = HN_PACER_BG_UTILIZATION;
  int64_t cpu0 = hn_pace_thread_cpu_ns();
  hn_duty duty;
  hn_duty_init(&duty, hn_pace_now_ns(), util);
  for (;;) {
    hn_marker_t m;
    memset(&m, 0, sizeof m);
    uint64_t end = now_ns() + HN_DUTY_SLICE_NS;
    uint64_t done = 0;
    for (;;) {
      uint64_t d = hn_mark_drain_n(&m, WORKER_CHUNK_WORK);
      done += d;
      hn_workq_balance(&m.work);
      if (d < WORKER_CHUNK_WORK || now_ns() >= end) break;
    }
    hn_marker_publish(&m);
    hn_pace_mark_revise(__atomic_load_n(&hn_gc_counters.live, __ATOMIC_RELAXED) +
                            __atomic_load_n(&hn_heap.since_gc, __ATOMIC_RELAXED),
                        (int64_t)(__atomic_load_n(&hn_mark_total_scanned, __ATOMIC_RELAXED) +
                                  c->stacks + c->globals));
    if (!hn_workq_pool_nonempty()) {
      if (__atomic_load_n(&hn_assists_active, __ATOMIC_ACQUIRE) == 0 && !hn_workq_pool_nonempty())
        break;
      struct timespec ts = {0, 50000}; /* an assist holds the last work: wait for it */
      nanosleep(&ts, NULL);
      continue;
    }
    if (util < 1 && done > 0) {
      /* Go's fractional worker: sleep until this thread's CPU since marking began is
       * util times the wall time since then (gc/duty.h). */
      int64_t now = hn_pace_now_ns();
      int64_t due = hn_duty_resume_at(&duty, now, hn_pace_thread_cpu_ns() - cpu0);
      if (due > now) {
        struct timespec ts = {due / 1000000000, due % 1000000000};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        }
      }
    }
  }
  c->background_ns += hn_pace_thread_cpu_ns() - cpu0;
}

/* Scan work mark termination does with the world stopped before it gives what is left
 * back to concurrent marking: about 50-100 us. The barrier buffers can hold the only
 * path to most of the heap: a mutator that overwrote a pointer near the root of a big
 * structure before the worker got there left it shaded in its buffer, and the worker,
 * out of grey objects, ended marking with the structure unmarked; the pause then lasted
 * as long as marking all of it. Go's gcMarkDone flushes the buffers and goes back to
 * marking when that found work; heron does it in the termination's pause. */
#define MARK_TERM_WORK ((uint64_t)64 << 10)
/* Terminations in one cycle that may resume marking; the next one drains whatever is
 * left, so a cycle ends even if every termination finds more work. */
#define MARK_TERM_RESUMES_MAX 8

/* Step 3, with the heap lock held. Returns 0 if it found more than MARK_TERM_WORK of
 * grey work and resumed concurrent marking (world running, phase still MARK; the
 * pause's start and wall time in *pause_start_ns and *stw_ns), 1 when marking is
 * over. */
static int mark_terminate_locked(hn_pace_cycle_t *c, int64_t *pause_start_ns,
                                 int64_t *stw_ns) {
  hn_marker_t m;
  memset(&m, 0, sizeof m);
  int64_t stop_ns;
  uint64_t t0 = pause_begin(&stop_ns);
  hn_threads_each(flush_wb_cb, &m);
  hn_roots_each_locked(mark_range_cb, &m);
  if (c->mark_resumes < MARK_TERM_RESUMES_MAX &&
      hn_mark_drain_n(&m, MARK_TERM_WORK) >= MARK_TERM_WORK) {
    hn_marker_publish(&m); /* the rest goes to the pool, for the worker and assists */
    int64_t work_ns, restart_ns;
    pause_end(t0, stop_ns, &work_ns, &restart_ns, stw_ns);
    c->mark_resumes++;
    *pause_start_ns = (int64_t)t0;
    return 0;
  }
  c->stop2_ns = stop_ns;
  __atomic_store_n(&hn_heap.phase, HN_PHASE_MARKTERM, __ATOMIC_RELAXED);
  hn_mark_drain(&m);
  hn_weak_clear_locked();
  hn_fin_queue_unreachable_locked(&m);
  hn_mark_drain(&m);
  hn_marker_publish(&m);
  __atomic_store_n(&heron_gc_barrier_on, 0, __ATOMIC_SEQ_CST);
  uint64_t since = hn_heap.since_gc;
  uint64_t black = since - since_at_mark_start;
  c->heap_end = __atomic_load_n(&hn_gc_counters.live, __ATOMIC_RELAXED) + since;
  c->marked = __atomic_load_n(&hn_mark_total_bytes, __ATOMIC_RELAXED) + black;
  c->marked_scan = __atomic_load_n(&hn_mark_total_scanned, __ATOMIC_RELAXED);
  __atomic_store_n(&hn_gc_counters.live, c->marked, __ATOMIC_RELAXED);
  __atomic_store_n(&hn_gc_counters.live_objects,
                   __atomic_load_n(&hn_mark_total_objects, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
  __atomic_store_n(&hn_heap.since_gc, 0, __ATOMIC_RELAXED);
  hn_heap.in_use_marked = c->marked;
  hn_heap_release_current_locked();
  hn_heap_flip_locked();
  __atomic_store_n(&hn_heap.phase, HN_PHASE_OFF, __ATOMIC_RELAXED);
  pause_end(t0, c->stop2_ns, &c->work2_ns, &c->restart2_ns, &c->stw2_ns);
  return 1;
}

static void count_pause(uint64_t pause) {
  hn_gc_counters_t *k = &hn_gc_counters;
  __atomic_store_n(&k->pauses, k->pauses + 1, __ATOMIC_RELAXED);
  __atomic_store_n(&k->pause_total_ns, k->pause_total_ns + pause, __ATOMIC_RELAXED);
  __atomic_store_n(&k->pause_last_ns, pause, __ATOMIC_RELAXED);
  if (pause > k->pause_max_ns) __atomic_store_n(&k->pause_max_ns, pause, __ATOMIC_RELAXED);
}

static void run_cycle(int forced) {
  hn_pace_cycle_t c;
  memset(&c, 0, sizeof c);
  c.forced = forced != 0;
  c.start_ns = hn_pace_now_ns();
  pthread_mutex_lock(&cycle_lock);
  hn_gc_lock(&hn_heap.lock);
  hn_heap_finish_sweep_locked();
  hn_heap_release_current_locked();
  mark_start_locked(&c);
  pthread_mutex_unlock(&hn_heap.lock);
  count_pause((uint64_t)c.stw1_ns);
  pthread_mutex_lock(&req_lock);
  started++;
  pthread_cond_broadcast(&progress_cond);
  pthread_mutex_unlock(&req_lock);
  c.mark_start_ns = hn_pace_now_ns();
  hn_pace_mark_start(&c);

  for (;;) {
    mark_concurrent(&c);
    c.mark_end_ns = hn_pace_now_ns();
    hn_gc_lock(&hn_heap.lock);
    int64_t pause_start_ns, stw_ns;
    if (mark_terminate_locked(&c, &pause_start_ns, &stw_ns)) break;
    pthread_mutex_unlock(&hn_heap.lock);
    count_pause((uint64_t)stw_ns);
    hn_pace_mark_resumed(pause_start_ns, stw_ns);
  }
  c.mark_ns = c.mark_end_ns - c.mark_start_ns;
  if (forced) hn_heap_finish_sweep_locked();
  pthread_mutex_unlock(&hn_heap.lock);
  count_pause((uint64_t)c.stw2_ns);
  hn_gc_counters_t *k = &hn_gc_counters;
  hn_workq_trim();
  c.num = k->cycles + 1;
  hn_pace_cycle_end(&c);
  /* The cycle is counted after its CPU is published (hn_pace_cycle_end): a reader of the
   * statistics that sees it counted sees its marking too. Counted first, a replay that
   * sampled each cycle as the count changed (sim/replay_gc.c) found some with next to
   * none of their background marking, which went to the next cycle's, or nowhere for
   * a run's last. */
  __atomic_store_n(&k->mark_resumes, k->mark_resumes + (uint64_t)c.mark_resumes, __ATOMIC_RELAXED);
  if (forced) __atomic_store_n(&k->forced_cycles, k->forced_cycles + 1, __ATOMIC_RELAXED);
  __atomic_store_n(&k->cycles, c.num, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&cycle_lock);
  pthread_mutex_lock(&req_lock);
  finished++;
  pthread_cond_broadcast(&progress_cond);
  pthread_mutex_unlock(&req_lock);
  if (!(flags & HERON_GC_NO_BACKGROUND_SWEEP)) {
    pthread_mutex_lock(&sweeper_lock);
    sweeper_cycle++;
    pthread_cond_signal(&sweeper_cond);
    pthread_mutex_unlock(&sweeper_lock);
  }
  if (hn_fin_queued_count() != hn_fin_run_count()) hn_fin_notify();
  hn_pace_sync_scavenge();
}

static void *collector_main(void *arg) {
  (void)arg;
  /* The background worker's sleeps end on time: the default 50 us of timer slack
   * was 5 % of each 1 ms slice. */
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  for (;;) {
    pthread_mutex_lock(&req_lock);
    while (requested <= finished) pthread_cond_wait(&req_cond, &req_lock);
    int forced = forced_pending;
    forced_pending = 0;
    pthread_mutex_unlock(&req_lock);
    run_cycle(forced);
  }
  return NULL;
}

/* Ask for cycle `want` (or a later one) and wait, outside the stoppable world, until
 * it has started (its first pause is over) or, with `to_finish`, completed. */
static void request_and_wait(uint64_t want, int forced, int to_finish) {
  int attached = hn_threads_self() != NULL;
  if (attached) hn_threads_blocking_begin();
  pthread_mutex_lock(&req_lock);
  if (requested < want) requested = want;
  if (forced) forced_pending = 1;
  pthread_cond_signal(&req_cond);
  while ((to_finish ? finished : started) < want) pthread_cond_wait(&progress_cond, &req_lock);
  pthread_mutex_unlock(&req_lock);
  if (attached) hn_threads_blocking_end();
}

void hn_collector_collect(int forced) {
  if (hn_collector_ensure_init() != 0) return;
  if (!forced) {
    /* The trigger was passed: start the next cycle unless one is asked for or runs.
     * hn_gc_lock: under TSan a thread stopped just after taking req_lock here would
     * leave another blocked in pthread_mutex_lock, where TSan never delivers the
     * suspend signal, and the stop would wait forever (seen in test_gc_threads). */
    hn_gc_lock(&req_lock);
    int busy = requested > finished;
    uint64_t want = finished + 1;
    pthread_mutex_unlock(&req_lock);
    if (busy) return;
    hn_pace_sync_scavenge();
    request_and_wait(want, 0, 0);
    return;
  }
  /* A cycle already marking began before the caller's garbage became garbage: the
   * caller needs the next one to start after now. */
  hn_gc_lock(&req_lock);
  uint64_t want = started + 1;
  pthread_mutex_unlock(&req_lock);
  request_and_wait(want, 1, 1);
  /* Sweep what a later automatic cycle may have left, so statistics show the result. */
  hn_gc_lock(&hn_heap.lock);
  hn_heap_finish_sweep_locked();
  pthread_mutex_unlock(&hn_heap.lock);
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
  /* The sweeper runs only on a CPU nothing else wants, as Go's background sweeper
   * yields to other goroutines; allocation sweeps what it needs itself, and the next
   * cycle finishes the rest. A stop waits for every signalled mutator to be scheduled,
   * and at normal priority the sweeper, which sleeps often and so is owed CPU, could
   * hold the CPU of a preempted mutator for milliseconds (seen at 1 GiB live with 2
   * mutators on 2 CPUs: stops of 2-12 ms waiting for a mutator preempted as it woke a
   * lock's waiter; docs/gc.md has the pauses before and after). SCHED_IDLE needs no
   * privilege. */
  struct sched_param none = {0};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &none);
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

static void init_once_fn(void) {
  heron_gc_config_t cfg = pending_cfg;
  flags = cfg.flags;
  if ((init_err = hn_heap_init()) != 0) return;
  if ((init_err = hn_threads_init()) != 0) return;
  hn_workq_reserve();
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  /* Helper threads start with our signals blocked: the collector, sweeper and
   * scavenger are never stopped (they hold no GC pointers); the finalizer thread
   * unblocks them when it attaches. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  if (hn_pace_init(cfg.gogc, cfg.memory_limit, (flags & HERON_GC_NO_SCAVENGER) != 0) != 0)
    init_err = EAGAIN;
  if (!init_err && pthread_create(&t, &attr, collector_main, NULL) != 0) init_err = EAGAIN;
  if (!init_err && !(flags & HERON_GC_NO_BACKGROUND_SWEEP) &&
      pthread_create(&t, &attr, sweeper_main, NULL) != 0)
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

/* Initialisation maps the heap's first region on the caller's stack, and its base is
 * the address of the first object the region will hold: a copy left in the dead stack
 * would become an unwritten slot of the caller's later frames and keep that object.
 * (Seen once under ASan: a freed list kept from the node at the heap's base, whose
 * address sat in main's frames; other round addresses still do: test_gc_deep.) */
int heron_gc_init(const heron_gc_config_t *cfg) {
  if (cfg != NULL) pending_cfg = *cfg;
  int err = hn_collector_ensure_init();
  if (err == 0 && hn_threads_self() == NULL) err = hn_threads_attach();
  clear_stack_below();
  return err;
}

void heron_gc_collect(void) {
  clear_stack_below();
  hn_collector_collect(1);
}
