/*
 * lock.h: taking a lock that the collector may hold while it stops the world.
 *
 * A mutator waiting for such a lock must still be stoppable. Normally it is: the
 * suspend signal interrupts the futex wait. Under ThreadSanitizer it is not: TSan
 * defers a signal until the thread returns from an intercepted call, and a thread
 * blocked in pthread_mutex_lock never returns while the collector holds the lock. There
 * the lock is taken by trylock and a short sleep (an intercepted call, so the deferred
 * signal is delivered) between attempts. gcc-12's TSan runtime also leaves a thread's
 * signal mask full after it delivered a deferred signal in some paths, so the loop
 * unblocks the collector's two signals each time round. The loop is also a safepoint:
 * a thread in it once never ran its handler for a stop's signal (neither pending in the
 * kernel nor run, its stop never acknowledged), and the collector, holding the lock,
 * waited for it for ever.
 */
#ifndef HN_GC_LOCK_H
#define HN_GC_LOCK_H

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "gc/threads.h"
#include "heron/gc.h"

#if defined(__SANITIZE_THREAD__)
#define HN_GC_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HN_GC_TSAN 1
#endif
#endif

/* Sleep briefly where a collector's stop must still reach the thread: a waiting loop
 * of a mutator. Under TSan the collector's signals are unblocked first (above). */
static inline void hn_gc_stoppable_sleep(long ns) {
#ifdef HN_GC_TSAN
  sigset_t ours;
  sigemptyset(&ours);
  sigaddset(&ours, HERON_GC_SIG_SUSPEND);
  sigaddset(&ours, HERON_GC_SIG_RESUME);
  pthread_sigmask(SIG_UNBLOCK, &ours, NULL);
#endif
  struct timespec ts = {0, ns};
  nanosleep(&ts, NULL);
}

static inline void hn_gc_lock(pthread_mutex_t *m) {
#ifdef HN_GC_TSAN
  while (pthread_mutex_trylock(m) != 0) {
    hn_threads_poll(hn_threads_self());
    hn_gc_stoppable_sleep(20000); /* 20 us: the wait is for a collector's pause */
  }
#else
  pthread_mutex_lock(m);
#endif
}

#endif
