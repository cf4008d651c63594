/*
 * barrier.c: what mutators do for concurrent marking: the deletion write barrier and
 * mark assists.
 *
 * Barrier (Yuasa's deletion barrier, the half of Go's hybrid barrier that suffices when
 * every stack is scanned in the first pause): while marking, a store of a GC pointer
 * into a heap object or a registered root first shades the pointer it overwrites. So
 * everything reachable when marking began is marked (snapshot at the beginning);
 * objects allocated since are black. The overwritten pointer goes into the thread's
 * buffer; a full buffer is greyed into a work chunk that goes to the shared pool. The
 * collector greys what is left in every buffer at mark termination, the world stopped.
 *
 * Stopped anywhere: the owner writes wb[n] before it raises wb_n, and the collector
 * greys wb[0..wb_n] inclusive, so a pointer stored but not yet counted is not lost.
 * The flush and the assists run in no-suspend regions (threads.h: a stop signal that
 * arrives there is deferred to the region's end), so no thread is ever stopped holding
 * a work chunk or the pool lock; an assist polls for a pending stop every
 * ASSIST_STEP_WORK of scanning and ends early, so a stop waits for one flush or one
 * such step.
 *
 * Assists (Go's gcAssistAlloc): while marking, each allocated byte costs the thread
 * credit; a thread in debt scans work_per_byte * debt bytes of grey objects, and at
 * least HN_PACER_OVER_ASSIST_WORK, before it goes on. Not while the CPU limiter is
 * limiting. With no grey work in the pool (the background worker holds what remains,
 * or marking is about to end) a thread keeps its debt and, past ASSIST_SLACK_BYTES of
 * it, waits for work or for the end of marking.
 */
#include <string.h>

#include "gc/barrier.h"
#include "gc/lock.h"
#include "gc/mark.h"
#include "gc/pace.h"
#include "gc/pacer.h"
#include "gc/threads.h"
#include "heron/gc.h"

uint64_t hn_mark_total_bytes, hn_mark_total_objects, hn_mark_total_scanned;
int hn_assists_active;


void hn_marker_publish(hn_marker_t *m) {
  hn_workq_dispose(&m->work);
  __atomic_fetch_add(&hn_mark_total_bytes, m->marked_bytes, __ATOMIC_RELAXED);
  __atomic_fetch_add(&hn_mark_total_objects, m->marked_objects, __ATOMIC_RELAXED);
  __atomic_fetch_add(&hn_mark_total_scanned, m->scanned_bytes, __ATOMIC_RELAXED);
  m->marked_bytes = m->marked_objects = m->scanned_bytes = 0;
}

void hn_barrier_flush_into(hn_gcthread_t *t, hn_marker_t *m) {
  uint32_t n = t->wb_n;
  if (n < HN_WB_BUF_N) n++; /* the slot written but maybe not yet counted */
  for (uint32_t i = 0; i < n; i++) hn_mark_ptr(m, t->wb[i]);
  t->wb_n = 0;
  memset(t->wb, 0, sizeof t->wb);
}

/* In a no-suspend region, marking cannot end under us; if it already ended (the thread
 * was stopped between the flag test and here), mark termination greyed this buffer,
 * and greying now would set mark bits in spans being swept. */
void hn_barrier_flush(hn_gcthread_t *t) {
  hn_threads_nosuspend_begin(t);
  if (__atomic_load_n(&heron_gc_barrier_on, __ATOMIC_SEQ_CST)) {
    hn_marker_t m;
    memset(&m, 0, sizeof m);
    hn_barrier_flush_into(t, &m);
    hn_marker_publish(&m);
  } else {
    t->wb_n = 0;
  }
  hn_threads_nosuspend_end(t);
}

void heron_gc_write_barrier_slow(void *old) {
  if (old == NULL) return;
  hn_gcthread_t *t = hn_threads_self();
  if (t == NULL) {
    /* An unattached thread (never stopped): grey directly into the pool. It can
     * race with mark termination; unattached threads should not hold GC pointers. */
    hn_marker_t m;
    memset(&m, 0, sizeof m);
    hn_mark_ptr(&m, (uintptr_t)old);
    hn_marker_publish(&m);
    return;
  }
  uint32_t n = t->wb_n;
  t->wb[n] = (uintptr_t)old;
  __asm__ volatile("" : : : "memory"); /* the slot before the count */
  t->wb_n = n + 1;
  if (n + 1 == HN_WB_BUF_N) hn_barrier_flush(t);
}

/* Scan work an assist does between looks at a pending stop: a stop waits for about
 * this much scanning (tens of microseconds) rather than a whole assist, which at 1 GiB
 * live took up to 15 ms with the machine loaded and was the tail of pause 2. */
#define ASSIST_STEP_WORK ((uint64_t)8 << 10)
/* How often a thread waiting for grey work looks at the pool: the worker shares work
 * every 50-100 us of marking. */
#define ASSIST_WAIT_NS 20000
/* Debt a thread may carry while there is no grey work to pay it with: 64 KiB of
 * allocation per thread past the pacer's plan, and a binary tree's allocator waits
 * once per 2048 nodes at most rather than at every node. */
#define ASSIST_SLACK_BYTES ((int64_t)64 << 10)

/* Waits until the pool may hold grey work (1) or marking has ended (0). The wait is
 * a blocking region: marking ends with a stop, and a thread asleep here, signalled,
 * had to be woken and scheduled to answer it; on 2 CPUs busy with both mutators and
 * the worker that took 1-12 ms in some second pauses at 1 GiB live. */
static int wait_for_grey_work(void) {
  int work = 1;
  hn_threads_blocking_begin();
  while (!hn_workq_pool_maybe_nonempty()) {
    if (!__atomic_load_n(&heron_gc_barrier_on, __ATOMIC_ACQUIRE)) {
      work = 0;
      break;
    }
    hn_gc_stoppable_sleep(ASSIST_WAIT_NS);
  }
  hn_threads_blocking_end();
  return work;
}

void hn_assist_alloc(hn_gcthread_t *t, size_t bytes) {
  t->assist_credit -= (int64_t)bytes;
  if (t->assist_credit >= 0) return;
  if (hn_pace_limiting()) return;
  uint64_t wpb = __atomic_load_n(&hn_pace_work_per_byte_fx, __ATOMIC_RELAXED);
  uint64_t bpw = __atomic_load_n(&hn_pace_bytes_per_work_fx, __ATOMIC_RELAXED);
  if (wpb == 0) {
    t->assist_credit = 0;
    return;
  }
  double owed = (double)(-t->assist_credit) * (double)wpb / HN_PACE_FX_ONE;
  if (!hn_workq_pool_maybe_nonempty()) {
    /* No grey work to take: the background worker holds it (it shares some every
     * WORKER_CHUNK_WORK of marking), or marking is about to end. The debt is kept,
     * not forgiven (forgiving it let a fast allocator run the heap 10-20 % past its
     * goal), and up to ASSIST_SLACK_BYTES of it the thread goes on allocating,
     * looking at the pool again at its next allocation (one load: it used to cost
     * an assist's four system calls). Past that it waits for work or for the end of
     * marking, as Go parks such an assist; the sleep is interrupted by a stop like
     * any system call. Pause 1 clears every thread's debt. */
    if (-t->assist_credit < ASSIST_SLACK_BYTES) return;
    if (!wait_for_grey_work()) {
      t->assist_credit = 0;
      return;
    }
  }
  uint64_t work = owed < (double)HN_PACER_OVER_ASSIST_WORK ? (uint64_t)HN_PACER_OVER_ASSIST_WORK
                                                          : (uint64_t)owed;
  hn_threads_nosuspend_begin(t);
  if (!__atomic_load_n(&heron_gc_barrier_on, __ATOMIC_SEQ_CST)) {
    /* Marking ended before the region began (see hn_barrier_flush). */
    hn_threads_nosuspend_end(t);
    t->assist_credit = 0;
    return;
  }
  __atomic_fetch_add(&hn_assists_active, 1, __ATOMIC_ACQ_REL);
  /* CPU time, not wall time: under load an assist's wall time includes preemption,
   * and the limiter, counting that as GC CPU, turned assists off and let the heap
   * pass its goal. Two system calls per assist of at least 64 KiB of scanning. */
  int64_t t0 = hn_pace_thread_cpu_ns();
  hn_marker_t m;
  memset(&m, 0, sizeof m);
  uint64_t done = 0;
  while (done < work) {
    uint64_t step = work - done < ASSIST_STEP_WORK ? work - done : ASSIST_STEP_WORK;
    uint64_t d = hn_mark_drain_n(&m, step);
    done += d;
    if (d < step || hn_threads_stop_pending(t)) break;
  }
  hn_marker_publish(&m);
  int64_t t1 = hn_pace_thread_cpu_ns();
  __atomic_fetch_sub(&hn_assists_active, 1, __ATOMIC_ACQ_REL);
  hn_threads_nosuspend_end(t);
  hn_pace_note_assist(t1 - t0);
  /* Out of work part way, the rest of the debt stays, as above. */
  t->assist_credit += 1 + (int64_t)((double)done * (double)bpw / HN_PACE_FX_ONE);
}
