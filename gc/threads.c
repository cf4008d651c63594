/*
 * threads.c: attached threads, and stopping and resuming them with signals.
 *
 * Protocol (bdwgc's, in outline):
 *   1. The collector takes `reg_lock` (no attach/detach can run) and bumps `stop_epoch`.
 *   2. It sends HERON_GC_SIG_SUSPEND to every other attached thread with pthread_kill.
 *   3. Each handler (with every signal blocked) spills the callee-saved registers onto
 *      its stack (the kernel's signal frame already holds the rest), stores its stack
 *      pointer, posts `ack` and waits in sigsuspend with only HERON_GC_SIG_RESUME open,
 *      until `resume_epoch` reaches the epoch it was stopped in.
 *      A thread inside a no-suspend region (a barrier flush or an assist, which hold
 *      work chunks) is not stopped there: its handler sets `stop_pending` and returns,
 *      the region cuts its work short (it polls the flag and `hn_threads_stopping`),
 *      and the thread stops itself as it leaves (hn_threads_nosuspend_end), with the
 *      same acknowledgement and wait.
 *   4. The collector waits for one `ack` per thread. A thread blocked in read() or
 *      spinning without calling the library is reached the same way: the signal
 *      interrupts it wherever it is, and SA_RESTART restarts the system call after.
 *   5. To resume, the collector publishes `resume_epoch` and sends HERON_GC_SIG_RESUME.
 *      Each thread posts a second `ack` as it leaves the handler; the collector takes
 *      those at the start of the next stop, so no thread is still inside the handler
 *      when the next stop begins, and the pause does not wait for every resumed
 *      thread to be scheduled again (the world counts as started once the resume
 *      signals are sent, as Go's startTheWorld counts it when the Ps are restarted).
 * Blocking regions (heron_gc_blocking_begin/end, and heron's own waits: a lock the
 * collector holds across a stop, an assist waiting for work) take no lock. Each thread
 * has a state that it and the collector change by compare-and-swap:
 *   RUNNING   -> BLOCKING   the thread enters a region (its registers saved first);
 *   BLOCKING  -> RUNNING    it leaves;
 *   BLOCKING  -> HELD       a stop counts it as stopped without a signal, and scans its
 *                           stack from the region's start; HELD -> BLOCKING at the
 *                           restart, and a thread leaving meanwhile waits on the futex;
 *   RUNNING   -> SIGNALLED  a stop signals it; the thread goes back to RUNNING as it
 *                           leaves suspend_self.
 * A thread that finds itself SIGNALLED as it enters a region stops there, before any
 * blocking call (under TSan a signal is delivered only when an intercepted call
 * returns, which a blocking one may never do while the world is stopped); the
 * signal, delivered later, finds the stop answered (acked_epoch) and returns. With the
 * registry lock in these transitions, as before, a thread entering a region during a
 * stop slept on that lock and had to be woken and scheduled to answer the signal:
 * stops of 1-3 ms in some pauses at 1 GiB live on 2 CPUs.
 * sem_post, sigsuspend and pthread_kill are async-signal-safe; the handler touches only
 * atomics and its own thread's record, and keeps errno.
 */
#include "gc/threads.h"
#include "gc/lock.h"

#include <errno.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "heron/gc.h"
#include "gc/barrier.h"
#include "gc/fatal.h"
#include "gc/gctcache.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER; /* guards `threads`, `nthreads` */
static hn_gcthread_t *threads;
static uint64_t nthreads;
static sem_t ack;
static unsigned long stop_epoch;   /* written by the collector under reg_lock */
static unsigned long resume_epoch; /* read by handlers, atomically */
static unsigned pending_resume_acks; /* resumed threads not yet out of the handler (reg_lock) */
static pthread_key_t exit_key;     /* detaches a thread that exits while attached */

static __thread hn_gcthread_t *self_rec __attribute__((tls_model("initial-exec")));

hn_gcthread_t *hn_threads_self(void) { return self_rec; }

uint64_t hn_threads_count(void) { return __atomic_load_n(&nthreads, __ATOMIC_RELAXED); }

int hn_threads_stopping;

/* Acknowledge the stop of the current epoch and wait for the restart: from the signal
 * handler (in_handler), or from hn_threads_nosuspend_end for a stop deferred there. */
static void __attribute__((noinline)) suspend_self(hn_gcthread_t *t, int in_handler) {
  /* Outside the handler (whose mask blocks every signal), both signals are blocked here
   * first: a restart's RESUME that arrived between the test of resume_epoch and
   * sigsuspend would be taken by its empty handler, and sigsuspend would wait for
   * another that never comes (a replay hung so, stopped in a region's entry). The
   * SUSPEND still pending then finds the stop answered when the mask is restored. */
  sigset_t ours, before;
  sigemptyset(&ours);
  sigaddset(&ours, HERON_GC_SIG_SUSPEND);
  sigaddset(&ours, HERON_GC_SIG_RESUME);
  if (!in_handler) pthread_sigmask(SIG_BLOCK, &ours, &before);
  volatile unsigned long my_epoch = __atomic_load_n(&stop_epoch, __ATOMIC_ACQUIRE); /* read after setjmp */
  /* One exchange, so the handler, interrupting a stop the thread makes itself, finds it
   * answered (or the other way round): each stop gets one acknowledgement. */
  if (__atomic_exchange_n(&t->acked_epoch, my_epoch, __ATOMIC_ACQ_REL) == my_epoch) {
    if (!in_handler) pthread_sigmask(SIG_SETMASK, &before, NULL);
    return;
  }
  /* The kernel saved every register of the interrupted code in the signal frame, above
   * this frame; setjmp adds the handler's own (all of them when called directly). The
   * scan starts at `regs`. */
  jmp_buf regs;
  setjmp(regs);
  __atomic_store_n(&t->sp, (uintptr_t)&regs, __ATOMIC_RELEASE);
  sem_post(&ack);
  sigset_t wait_mask;
  sigfillset(&wait_mask);
  sigdelset(&wait_mask, HERON_GC_SIG_RESUME);
  while (__atomic_load_n(&resume_epoch, __ATOMIC_ACQUIRE) < my_epoch)
    sigsuspend(&wait_mask);
  __atomic_store_n(&t->sp, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&t->state, HN_THREAD_RUNNING, __ATOMIC_RELEASE);
  sem_post(&ack);
  if (in_handler) {
    /* The kernel restores the interrupted mask on return; a sanitizer that runs this
     * handler itself (deferred) may not, so open our two signals again explicitly. */
    pthread_sigmask(SIG_UNBLOCK, &ours, NULL);
  } else {
    pthread_sigmask(SIG_SETMASK, &before, NULL);
  }
  __asm__ volatile("" : : "r"(&regs) : "memory");
}

static void suspend_handler(int sig, siginfo_t *info, void *uctx) {
  (void)sig;
  (void)info;
  (void)uctx;
  int saved_errno = errno;
  hn_gcthread_t *t = self_rec;
  /* Not attached (detached between the kill and delivery), or a signal whose stop the
   * thread answered as it entered a blocking region. */
  if (t == NULL || __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) != HN_THREAD_SIGNALLED) {
    errno = saved_errno;
    return;
  }
  if (__atomic_load_n(&t->nosuspend, __ATOMIC_RELAXED)) {
    __atomic_store_n(&t->stop_pending, 1, __ATOMIC_RELAXED); /* the owner stops at the end */
  } else {
    suspend_self(t, 1);
  }
  errno = saved_errno;
}

void hn_threads_nosuspend_end(hn_gcthread_t *t) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(&t->nosuspend, 0, __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  /* A signal after the store above finds nosuspend clear and stops the thread itself;
   * one before it left stop_pending set. Each stop sends one signal, so not both. */
  if (__atomic_load_n(&t->stop_pending, __ATOMIC_RELAXED)) {
    __atomic_store_n(&t->stop_pending, 0, __ATOMIC_RELAXED);
    suspend_self(t, 0);
  } else {
    hn_threads_poll(t); /* a stop waiting for its signal to be sent: answer it now */
  }
}

static void resume_handler(int sig) { (void)sig; }

static void exit_destructor(void *p) {
  hn_gcthread_t *t = p;
  if (t != NULL && self_rec == t) {
    t->attached = 1;
    hn_threads_detach();
  }
}

int hn_threads_init(void) {
  if (sem_init(&ack, 0, 0) != 0) return errno;
  int err = pthread_key_create(&exit_key, exit_destructor);
  if (err) return err;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sa.sa_sigaction = suspend_handler;
  sigfillset(&sa.sa_mask); /* nothing interrupts the handler; RESUME stays pending */
  if (sigaction(HERON_GC_SIG_SUSPEND, &sa, NULL) != 0) return errno;
  struct sigaction sr;
  memset(&sr, 0, sizeof sr);
  sr.sa_flags = SA_RESTART;
  sr.sa_handler = resume_handler;
  sigfillset(&sr.sa_mask);
  if (sigaction(HERON_GC_SIG_RESUME, &sr, NULL) != 0) return errno;
  return 0;
}

int hn_threads_attach(void) {
  if (self_rec != NULL) {
    self_rec->attached++;
    return 0;
  }
  pthread_attr_t attr;
  void *addr;
  size_t size;
  int err = pthread_getattr_np(pthread_self(), &attr);
  if (err) return err;
  err = pthread_attr_getstack(&attr, &addr, &size);
  pthread_attr_destroy(&attr);
  if (err) return err;
  hn_gcthread_t *t = calloc(1, sizeof *t);
  if (t == NULL) return ENOMEM;
  t->tid = pthread_self();
  t->stack_lo = (uintptr_t)addr;
  t->stack_hi = (uintptr_t)addr + size;
  t->attached = 1;
  /* Unblock our signals in this thread: a program that blocks them would hang the GC. */
  sigset_t ours;
  sigemptyset(&ours);
  sigaddset(&ours, HERON_GC_SIG_SUSPEND);
  sigaddset(&ours, HERON_GC_SIG_RESUME);
  pthread_sigmask(SIG_UNBLOCK, &ours, NULL);
  hn_gc_lock(&reg_lock);
  t->next = threads;
  threads = t;
  __atomic_store_n(&nthreads, nthreads + 1, __ATOMIC_RELAXED);
  self_rec = t;
  pthread_mutex_unlock(&reg_lock);
  pthread_setspecific(exit_key, t);
  return 0;
}

void hn_threads_detach(void) {
  hn_gcthread_t *t = self_rec;
  if (t == NULL) return;
  if (--t->attached > 0) return;
  /* Pointers the barrier shaded may be the only path to objects a black one holds:
   * dropped with the record, those objects were swept while still reachable. */
  hn_barrier_flush(t);
  /* Emptied before the registry lock (the flush takes the heap lock), freed only once the
   * thread has left the registry: until then a collector may mark through it. */
  hn_gctcache_t *tc = t->tcache;
  hn_gctcache_flush(tc);
  hn_gc_lock(&reg_lock);
  for (hn_gcthread_t **pp = &threads; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == t) {
      *pp = t->next;
      break;
    }
  }
  __atomic_store_n(&nthreads, nthreads - 1, __ATOMIC_RELAXED);
  self_rec = NULL;
  pthread_mutex_unlock(&reg_lock);
  pthread_setspecific(exit_key, NULL);
  free(tc);
  free(t);
}

static int in_blocking_region(const hn_gcthread_t *t) {
  int st = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
  return st == HN_THREAD_BLOCKING || st == HN_THREAD_HELD;
}

/* The registers and stack pointer are saved before the state says BLOCKING, and not
 * touched while it does (a nested call returns at once). */
void __attribute__((noinline)) hn_threads_blocking_begin(void) {
  hn_gcthread_t *t = self_rec;
  if (t == NULL || in_blocking_region(t)) return;
  memset(&t->blocking_regs, 0, sizeof t->blocking_regs);
  setjmp(t->blocking_regs);
  t->blocking_sp = (uintptr_t)__builtin_frame_address(0);
  for (;;) {
    int st = HN_THREAD_RUNNING;
    if (__atomic_compare_exchange_n(&t->state, &st, HN_THREAD_BLOCKING, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
      return;
    suspend_self(t, 0); /* SIGNALLED: answer the stop here, then try again */
  }
}

void hn_threads_blocking_end(void) {
  hn_gcthread_t *t = self_rec;
  if (t == NULL) return;
  for (;;) {
    int st = HN_THREAD_BLOCKING;
    if (__atomic_compare_exchange_n(&t->state, &st, HN_THREAD_RUNNING, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
      return;
    if (st != HN_THREAD_HELD) return; /* not in a region (an unmatched or nested end) */
    /* The world is stopped with this thread counted in: wait for the restart. */
    syscall(SYS_futex, &t->state, FUTEX_WAIT_PRIVATE, HN_THREAD_HELD, NULL, NULL, 0);
  }
}

void hn_threads_lock_at_safepoint(pthread_mutex_t *m) {
  if (pthread_mutex_trylock(m) == 0) return;
  hn_gcthread_t *t = self_rec;
  /* Inside a no-suspend region a thread must not stop (it holds work chunks), so it
   * does not enter a blocking region, where it might; no such region takes this lock. */
  if (t == NULL || in_blocking_region(t) || __atomic_load_n(&t->nosuspend, __ATOMIC_RELAXED)) {
    hn_gc_lock(m);
    return;
  }
  /* The collector takes the heap lock before it stops the world and holds it until
   * the restart, so a thread waiting here is where a stop would leave it. Signalled
   * instead, a thread asleep on the lock had to be woken and scheduled to run its
   * handler: on this 2-vCPU VM that took 1.5-16 ms in a few first pauses of 1 GiB
   * runs (the handler's entry time and interrupted PC, recorded for a trial, were in
   * __lll_lock_wait each time), where a running thread answers in 10 us. */
  hn_threads_blocking_begin();
  hn_gc_lock(m);
  hn_threads_blocking_end();
}

static void wait_acks(unsigned n) {
  for (unsigned i = 0; i < n; i++)
    while (sem_wait(&ack) != 0)
      if (errno != EINTR) hn_gc_fatal("sem_wait failed while stopping the world");
}

/* Takes acknowledgements until n are taken or ns nanoseconds passed; returns how many. */
static unsigned wait_acks_for(unsigned n, long ns) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += ns;
  if (until.tv_nsec >= 1000000000) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000;
  }
  unsigned taken = 0;
  while (taken < n) {
    if (sem_timedwait(&ack, &until) == 0)
      taken++;
    else if (errno == ETIMEDOUT)
      break;
    else if (errno != EINTR)
      hn_gc_fatal("sem_timedwait failed while stopping the world");
  }
  return taken;
}

/* How long a stop waits for threads to reach a safepoint before it signals them: an
 * allocating thread polls within microseconds (bench/gc/stop_floor's poll mode: a
 * median of 2-12 us on this VM, where a signal's round trip takes 70-110 us and, 3 %
 * of the time, over 0.5 ms). */
#define SAFEPOINT_WAIT_NS 20000

void __attribute__((noinline)) hn_threads_safepoint(hn_gcthread_t *t) {
  if (t == NULL || __atomic_load_n(&t->nosuspend, __ATOMIC_RELAXED)) return;
  if (__atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == HN_THREAD_SIGNALLED) suspend_self(t, 0);
}

void hn_threads_stop_world(void) {
  hn_gc_lock(&reg_lock);
  wait_acks(pending_resume_acks);
  pending_resume_acks = 0;
  __atomic_store_n(&stop_epoch, stop_epoch + 1, __ATOMIC_RELEASE);
  __atomic_store_n(&hn_threads_stopping, 1, __ATOMIC_RELAXED);
  unsigned sent = 0;
  for (hn_gcthread_t *t = threads; t != NULL; t = t->next) {
    t->resume_skip = 0;
    if (t == self_rec) continue;
    /* RUNNING or BLOCKING: the last stop's signalled threads have all left suspend_self
     * (their resume acks were taken above), and its held ones were released. */
    int st = __atomic_load_n(&t->state, __ATOMIC_SEQ_CST);
    while (!__atomic_compare_exchange_n(&t->state, &st,
                                        st == HN_THREAD_BLOCKING ? HN_THREAD_HELD
                                                                 : HN_THREAD_SIGNALLED,
                                        0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    if (st == HN_THREAD_BLOCKING) {
      t->resume_skip = 1;
      continue;
    }
    sent++;
  }
  /* Threads that allocate stop at their next allocation (hn_threads_safepoint); those
   * that have not answered after SAFEPOINT_WAIT_NS get the signal. Each answers once,
   * however it is reached (acked_epoch), so `sent` acknowledgements come in all. */
  unsigned taken = wait_acks_for(sent, SAFEPOINT_WAIT_NS);
  if (taken < sent) {
    for (hn_gcthread_t *t = threads; t != NULL; t = t->next) {
      if (t == self_rec || t->resume_skip ||
          __atomic_load_n(&t->acked_epoch, __ATOMIC_ACQUIRE) == stop_epoch)
        continue;
      int err = pthread_kill(t->tid, HERON_GC_SIG_SUSPEND);
      if (err) hn_gc_fatal("pthread_kill failed: an attached thread exited without detaching");
    }
    wait_acks(sent - taken);
  }
}

int hn_threads_ack_backlog(void) {
  int v = 0;
  sem_getvalue(&ack, &v);
  return v;
}

void hn_threads_start_world(void) {
  __atomic_store_n(&hn_threads_stopping, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&resume_epoch, stop_epoch, __ATOMIC_RELEASE);
  unsigned sent = 0;
  for (hn_gcthread_t *t = threads; t != NULL; t = t->next) {
    if (t == self_rec) continue;
    if (t->resume_skip) {
      __atomic_store_n(&t->state, HN_THREAD_BLOCKING, __ATOMIC_SEQ_CST);
      syscall(SYS_futex, &t->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
      continue;
    }
    if (pthread_kill(t->tid, HERON_GC_SIG_RESUME) != 0)
      hn_gc_fatal("pthread_kill failed while resuming the world");
    sent++;
  }
  pending_resume_acks = sent;
  pthread_mutex_unlock(&reg_lock);
}

void hn_threads_each(void (*fn)(hn_gcthread_t *t, void *arg), void *arg) {
  for (hn_gcthread_t *t = threads; t != NULL; t = t->next) fn(t, arg);
}

void hn_threads_each_stack(uintptr_t self_sp,
                           void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg) {
  for (hn_gcthread_t *t = threads; t != NULL; t = t->next) {
    if (t->resume_skip && t != self_rec) {
      fn((uintptr_t)&t->blocking_regs, (uintptr_t)(&t->blocking_regs + 1), arg);
      fn(t->blocking_sp, t->stack_hi, arg);
      continue;
    }
    uintptr_t lo = t == self_rec ? self_sp : __atomic_load_n(&t->sp, __ATOMIC_ACQUIRE);
    if (lo < t->stack_lo || lo >= t->stack_hi) lo = t->stack_lo; /* on an alternate stack */
    fn(lo, t->stack_hi, arg);
  }
}
