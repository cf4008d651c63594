/*
 * test_gc_threads.c: collection with several threads.
 *   - mutators build, check and drop graphs (held only by their stacks) while other
 *     threads force cycles and allocation triggers more; every held graph stays intact;
 *   - a thread blocked in read() on a pipe is stopped and resumed (its read restarts
 *     and gets its data), and the object only its stack holds survives;
 *   - a thread spinning in a loop that never calls the library is stopped too;
 *   - a thread that exits while attached is detached by heron;
 *   - a thread waiting for the heap lock counts as stopped without being signalled.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gc/heap.h"
#include "gc/lock.h"
#include "gc/threads.h"
#include "gc_test_util.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

typedef struct gnode {
  struct gnode *kid[2];
  uint64_t *data; /* noscan */
  uint64_t id, sum;
} gnode_t;

static gnode_t *make(uint64_t id, int depth) {
  gnode_t *n = heron_gc_malloc_bitmap(sizeof *n, 0x7);
  if (n == NULL) abort();
  n->id = id;
  size_t len = 1 + id % 13;
  n->data = heron_gc_malloc_noscan(len * 8);
  uint64_t s = id;
  for (size_t i = 0; i < len; i++) n->sum ^= n->data[i] = gct_rand(&s);
  if (depth > 0) {
    n->kid[0] = make(id * 2 + 1, depth - 1);
    n->kid[1] = make(id * 2 + 2, depth - 1);
  }
  return n;
}

static int check(const gnode_t *n, uint64_t id, int depth) {
  if (n == NULL || n->id != id) return 0;
  size_t len = 1 + id % 13;
  uint64_t s = id, sum = 0;
  for (size_t i = 0; i < len; i++) {
    uint64_t v = gct_rand(&s);
    if (n->data[i] != v) return 0;
    sum ^= v;
  }
  if (sum != n->sum) return 0;
  if (depth == 0) return n->kid[0] == NULL && n->kid[1] == NULL;
  return check(n->kid[0], id * 2 + 1, depth - 1) && check(n->kid[1], id * 2 + 2, depth - 1);
}

static volatile int stop_collector;
static int bad;

#define HELD 8
#define DEPTH 7

static void *mutator(void *arg) {
  uint64_t seed = (uintptr_t)arg;
  heron_gc_thread_attach();
  gnode_t *held[HELD] = {0}; /* on this stack only */
  uint64_t ids[HELD] = {0};
  for (int it = 0; it < 1500; it++) {
    int k = (int)(gct_rand(&seed) % HELD);
    if (held[k] != NULL && !check(held[k], ids[k], DEPTH)) __atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
    ids[k] = gct_rand(&seed) % 1000000;
    held[k] = make(ids[k], DEPTH); /* the old graph becomes garbage */
    for (int j = 0; j < 20; j++) heron_gc_malloc(gct_rand(&seed) % 300); /* garbage */
  }
  for (int k = 0; k < HELD; k++)
    if (held[k] != NULL && !check(held[k], ids[k], DEPTH)) __atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
  heron_gc_thread_detach();
  return NULL;
}

static void *collector(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  struct timespec ts = {0, 2000000};
  while (!__atomic_load_n(&stop_collector, __ATOMIC_RELAXED)) {
    heron_gc_collect();
    heron_gc_blocking_begin();
    nanosleep(&ts, NULL);
    heron_gc_blocking_end();
  }
  heron_gc_thread_detach();
  return NULL;
}

static void test_mutators(void **state) {
  (void)state;

  enum { NMUT = 3 };
  pthread_t m[NMUT], c;
  heron_gc_stats_t a, b;
  heron_gc_stats_get(&a);
  stop_collector = 0;
  pthread_create(&c, NULL, collector, NULL);
  for (int i = 0; i < NMUT; i++) pthread_create(&m[i], NULL, mutator, (void *)(uintptr_t)(i + 1));
  heron_gc_blocking_begin();
  for (int i = 0; i < NMUT; i++) pthread_join(m[i], NULL);
  __atomic_store_n(&stop_collector, 1, __ATOMIC_RELAXED);
  pthread_join(c, NULL);
  heron_gc_blocking_end();
  heron_gc_stats_get(&b);
  assert_int_equal(bad, 0);
  assert_true(b.cycles - a.cycles >= 5);
  assert_true(b.objects_freed > a.objects_freed);
  heron_gc_collect();
  heron_gc_stats_get(&b);
  assert_true(b.heap_in_use < (2u << 20)); /* every graph was dropped */
}

/* ---- a thread blocked in read() ---- */

static int pipefd[2];
static volatile int reader_ready;

static void *reader(void *arg) {
  int *result = arg;
  heron_gc_thread_attach();
  uint64_t *mine = heron_gc_malloc_noscan(64); /* held by this stack only */
  mine[0] = 0xfeedface;
  uint64_t *volatile keep = mine;
  mine = NULL;
  __atomic_store_n(&reader_ready, 1, __ATOMIC_RELEASE);
  char buf[4];
  ssize_t n;
  do {
    n = read(pipefd[0], buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  result[0] = n == 4 && buf[0] == 'g' && buf[3] == '!';
  result[1] = heron_gc_base(keep) == keep && keep[0] == 0xfeedface;
  heron_gc_thread_detach();
  return NULL;
}

static __attribute__((unused)) void test_blocked_in_read(void **state) {
  (void)state;
  assert_int_equal(pipe(pipefd), 0);
  int result[2] = {0, 0};
  pthread_t t;
  pthread_create(&t, NULL, reader, result);
  while (!__atomic_load_n(&reader_ready, __ATOMIC_ACQUIRE)) sched_yield();
  struct timespec ts = {0, 20000000};
  nanosleep(&ts, NULL); /* let it block in read() */
  heron_gc_stats_t a, b;
  heron_gc_stats_get(&a);
  for (int i = 0; i < 5; i++) heron_gc_collect(); /* would hang if it stalled */
  heron_gc_stats_get(&b);
  assert_int_equal(b.cycles - a.cycles, 5);
  assert_int_equal(write(pipefd[1], "gcs!", 4), 4);
  gct_join(t);
  assert_true(result[0]);
  assert_true(result[1]);
  close(pipefd[0]);
  close(pipefd[1]);
}

/* ---- a thread spinning without calls ---- */

static volatile int spin_stop, spin_ready;

static void *spinner(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  __atomic_store_n(&spin_ready, 1, __ATOMIC_RELEASE);
  unsigned long n = 0;
  while (!spin_stop) n++;
  heron_gc_thread_detach();
  return (void *)n;
}

static __attribute__((unused)) void test_spinning_thread(void **state) {
  (void)state;
  pthread_t t;
  spin_stop = 0;
  pthread_create(&t, NULL, spinner, NULL);
  while (!__atomic_load_n(&spin_ready, __ATOMIC_ACQUIRE)) sched_yield();
  heron_gc_stats_t a, b;
  heron_gc_stats_get(&a);
  for (int i = 0; i < 5; i++) heron_gc_collect();
  heron_gc_stats_get(&b);
  spin_stop = 1;
  gct_join(t);
  assert_int_equal(b.cycles - a.cycles, 5);
}

/* ---- exit while attached ---- */

static void *exits_attached(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  heron_gc_malloc(100);
  return NULL; /* no detach: the thread's key destructor does it */
}

static void test_exit_attached(void **state) {
  (void)state;
  heron_gc_stats_t a;
  heron_gc_stats_get(&a);
  pthread_t t;
  pthread_create(&t, NULL, exits_attached, NULL);
  gct_join(t);
  heron_gc_collect(); /* would fail to signal a thread that is gone */
  heron_gc_stats_t b;
  heron_gc_stats_get(&b);
  assert_int_equal(b.threads, a.threads);
  assert_int_equal(b.cycles - a.cycles, 1);
}

/* ---- a thread waiting for the heap lock ---- */

static hn_gcthread_t *waiter_rec;
static int waiter_got_lock;

static void *lock_waiter(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  __atomic_store_n(&waiter_rec, hn_threads_self(), __ATOMIC_RELEASE);
  hn_threads_lock_at_safepoint(&hn_heap.lock);
  __atomic_store_n(&waiter_got_lock, 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&hn_heap.lock);
  heron_gc_thread_detach();
  return NULL;
}

/* The collector stops the world holding the heap lock, so a thread waiting for that
 * lock is where a stop would leave it: it waits in a blocking region, and a stop
 * counts it as stopped without signalling it (a signal had to wake it and wait for it
 * to be scheduled: up to 16 ms of a pause on a busy machine). */
static void test_heap_lock_waiter_not_signalled(void **state) {
  (void)state;
  hn_gc_lock(&hn_heap.lock); /* no collection can start a pause while we hold it */
  pthread_t t;
  pthread_create(&t, NULL, lock_waiter, NULL);
  hn_gcthread_t *w;
  while ((w = __atomic_load_n(&waiter_rec, __ATOMIC_ACQUIRE)) == NULL ||
         __atomic_load_n(&w->state, __ATOMIC_ACQUIRE) != HN_THREAD_BLOCKING) {
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  hn_threads_stop_world();
  int skipped = w->resume_skip;
  hn_threads_start_world();
  assert_true(skipped);
  assert_false(__atomic_load_n(&waiter_got_lock, __ATOMIC_ACQUIRE));
  pthread_mutex_unlock(&hn_heap.lock);
  gct_join(t);
  assert_true(waiter_got_lock);
}

/* A thread the stop has signalled, entering a blocking region before the signal
 * arrives, stops there itself (under TSan the signal may never arrive inside the
 * region's blocking call); the signal, arriving later, is ignored: no second
 * acknowledgement, no second stop. The signal is held back with the mask to make
 * the order certain. */
static hn_gcthread_t *late_rec;
/* Blocks (or unblocks) the suspend signal in the calling thread: a stop's signal then
 * waits, and the thread must answer the stop some other way. */
static void hold_suspend_signal(int hold) {
  sigset_t sus;
  sigemptyset(&sus);
  sigaddset(&sus, HERON_GC_SIG_SUSPEND);
  pthread_sigmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &sus, NULL);
}

static int late_resumed, late_quit;
static uint64_t late_ticks;

static void *late_signal_thread(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  hold_suspend_signal(1);
  hn_gcthread_t *me = hn_threads_self();
  __atomic_store_n(&late_rec, me, __ATOMIC_RELEASE);
  struct timespec ts = {0, 100000};
  while (__atomic_load_n(&me->state, __ATOMIC_ACQUIRE) != HN_THREAD_SIGNALLED)
    nanosleep(&ts, NULL);
  heron_gc_blocking_begin(); /* stops here until the restart */
  heron_gc_blocking_end();
  hold_suspend_signal(0); /* the held-back signal arrives now */
  __atomic_store_n(&late_resumed, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n(&late_quit, __ATOMIC_ACQUIRE)) {
    __atomic_fetch_add(&late_ticks, 1, __ATOMIC_RELAXED);
    nanosleep(&ts, NULL);
  }
  heron_gc_thread_detach();
  return NULL;
}

static void test_signal_after_region_stop(void **state) {
  (void)state;
  pthread_t t = gct_spawn(late_signal_thread);
  hn_gcthread_t *w;
  struct timespec ts = {0, 100000};
  while ((w = __atomic_load_n(&late_rec, __ATOMIC_ACQUIRE)) == NULL) nanosleep(&ts, NULL);
  hn_threads_stop_world(); /* returns once the thread has stopped in blocking_begin */
  int skipped = w->resume_skip;
  hn_threads_start_world();
  assert_false(skipped);
  while (!__atomic_load_n(&late_resumed, __ATOMIC_ACQUIRE)) nanosleep(&ts, NULL);
  assert_int_equal(hn_threads_ack_backlog(), 1); /* its resume ack, and no other */
  /* The late signal found the stop answered: the thread runs, and the next stops
   * count one acknowledgement from it each. */
  for (int i = 0; i < 3; i++) {
    uint64_t before = __atomic_load_n(&late_ticks, __ATOMIC_RELAXED);
    while (__atomic_load_n(&late_ticks, __ATOMIC_RELAXED) < before + 2) nanosleep(&ts, NULL);
    hn_threads_stop_world();
    uint64_t stopped_at = __atomic_load_n(&late_ticks, __ATOMIC_RELAXED);
    nanosleep(&ts, NULL);
    assert_int_equal(__atomic_load_n(&late_ticks, __ATOMIC_RELAXED), stopped_at);
    hn_threads_start_world();
  }
  __atomic_store_n(&late_quit, 1, __ATOMIC_RELEASE);
  gct_join(t);
}

/* A thread entering and leaving blocking regions in a loop while the world is stopped
 * and restarted thousands of times: it often meets a stop at a region's entry and
 * answers it there. A restart's signal taken between its test of the epoch and its
 * wait left it waiting for good (a replay hung so); the alarm catches that. */
static int churn_quit;
static uint64_t churn_rounds;

static void *region_churn(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  while (!__atomic_load_n(&churn_quit, __ATOMIC_ACQUIRE)) {
    heron_gc_blocking_begin();
    heron_gc_blocking_end();
    __atomic_fetch_add(&churn_rounds, 1, __ATOMIC_RELAXED);
  }
  heron_gc_thread_detach();
  return NULL;
}

static void test_stops_meet_region_entries(void **state) {
  (void)state;
  pthread_t t = gct_spawn(region_churn);
  struct timespec ts = {0, 10000};
  while (__atomic_load_n(&churn_rounds, __ATOMIC_RELAXED) == 0) nanosleep(&ts, NULL);
  for (int i = 0; i < 3000; i++) {
    uint64_t before = __atomic_load_n(&churn_rounds, __ATOMIC_RELAXED);
    hn_threads_stop_world();
    hn_threads_start_world();
    /* The thread goes on after each restart (a lost restart stops it for good). */
    while (__atomic_load_n(&churn_rounds, __ATOMIC_RELAXED) == before) sched_yield();
  }
  __atomic_store_n(&churn_quit, 1, __ATOMIC_RELEASE);
  gct_join(t);
}

/* Allocation is a safepoint: a thread that allocates stops there when a stop asks,
 * without the signal. Here the signal is blocked, so nothing else could stop it. */
static int alloc_loop_quit;
static uint64_t alloc_loop_count;
static hn_gcthread_t *alloc_loop_rec;

static void *alloc_loop(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  hold_suspend_signal(1);
  __atomic_store_n(&alloc_loop_rec, hn_threads_self(), __ATOMIC_RELEASE);
  while (!__atomic_load_n(&alloc_loop_quit, __ATOMIC_ACQUIRE)) {
    void *volatile p = heron_gc_malloc_noscan(32);
    (void)p;
    /* A pause now and then keeps the heap small with no collection to free it. */
    if (__atomic_fetch_add(&alloc_loop_count, 1, __ATOMIC_RELAXED) % 1024 == 0) {
      struct timespec ts = {0, 10000};
      nanosleep(&ts, NULL);
    }
  }
  hold_suspend_signal(0); /* signals sent meanwhile find no stop */
  heron_gc_thread_detach();
  return NULL;
}

static void test_allocation_is_a_safepoint(void **state) {
  (void)state;
  /* No cycles of its own: the thread then enters no blocking region, and only the
   * safepoint can stop it (without it the first stop would wait for good). */
  int gogc = heron_gc_set_gogc(-1);
  pthread_t t = gct_spawn(alloc_loop);
  struct timespec ts = {0, 100000};
  while (__atomic_load_n(&alloc_loop_rec, __ATOMIC_ACQUIRE) == NULL) nanosleep(&ts, NULL);
  for (int i = 0; i < 200; i++) {
    uint64_t before = __atomic_load_n(&alloc_loop_count, __ATOMIC_RELAXED);
    while (__atomic_load_n(&alloc_loop_count, __ATOMIC_RELAXED) == before) sched_yield();
    hn_threads_stop_world(); /* returns once the thread stopped at an allocation */
    uint64_t stopped_at = __atomic_load_n(&alloc_loop_count, __ATOMIC_RELAXED);
    /* Stopped where its stack scan starts, or held in a blocking region (its own
     * collections: waiting for a cycle to start, or an assist for grey work). */
    assert_true(alloc_loop_rec->resume_skip || alloc_loop_rec->sp != 0);
    for (int k = 0; k < 100; k++) sched_yield();
    assert_int_equal(__atomic_load_n(&alloc_loop_count, __ATOMIC_RELAXED), stopped_at);
    hn_threads_start_world();
  }
  __atomic_store_n(&alloc_loop_quit, 1, __ATOMIC_RELEASE);
  gct_join(t);
  heron_gc_set_gogc(gogc);
}

static void alarm_handler(int sig) {
  (void)sig;
  static const char msg[] = "test_gc_threads: a collection hung\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(1);
}

int main(void) {
  heron_gc_config_t cfg = {.gogc = 50};
  if (heron_gc_init(&cfg) != 0) return 1;
  signal(SIGALRM, alarm_handler);
  alarm(100);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mutators),
#ifdef UNDER_TSAN
      /* Not under ThreadSanitizer: TSan defers an asynchronous signal until the thread
       * returns from an intercepted call, so a thread blocked in read() or spinning is
       * never stopped there. The normal and ASan builds run both. */
#else
      cmocka_unit_test(test_blocked_in_read),
      cmocka_unit_test(test_spinning_thread),
#endif
      cmocka_unit_test(test_exit_attached),
      cmocka_unit_test(test_heap_lock_waiter_not_signalled),
      cmocka_unit_test(test_signal_after_region_stop),
      cmocka_unit_test(test_stops_meet_region_entries),
      cmocka_unit_test(test_allocation_is_a_safepoint),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
