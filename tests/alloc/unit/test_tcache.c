/*
 * test_tcache: the per-thread cache: LIFO reuse, bounded lists, batches to and from
 * the central lists, objects freed on another thread, caches handed back at thread
 * exit (also when a later key destructor allocates), thread churn that does not
 * grow memory, and a thread's frees in a class it never allocated from, which must not
 * come back to it (passive false sharing) nor pile up in its cache.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "alloc/tcache.h"
#include "heron/heron.h"

/* Runs fn on a thread of its own and waits for it to end. */
static void run_thread(void *(*fn)(void *)) {
  pthread_t t;
  pthread_create(&t, NULL, fn, NULL);
  pthread_join(t, NULL);
}

static void test_lifo_reuse(void **state) {
  (void)state;
  void *p = heron_malloc(100);
  assert_non_null(p);
  heron_free(p);
  void *q = heron_malloc(100);
  assert_ptr_equal(p, q); /* the hottest object comes back first */
  heron_free(q);
  assert_int_equal(hn_tc.state, HN_TC_ACTIVE);
}

static void test_list_bounded(void **state) {
  (void)state;
  unsigned cl = hn_size_class(48);
  unsigned n = 5 * hn_class_batch[cl];
  void **v = heron_malloc(n * sizeof *v);
  for (unsigned i = 0; i < n; i++) {
    v[i] = heron_malloc(48);
    memset(v[i], (int)i, 48);
  }
  for (unsigned i = 0; i < n; i++) {
    assert_int_equal(((unsigned char *)v[i])[47], (unsigned char)i);
    heron_free(v[i]);
    assert_true(hn_tc.list[cl].count <= hn_tc.list[cl].max);
  }
  assert_true(hn_tc.list[cl].count >= hn_class_batch[cl]);
  heron_free(v);
  hn_tcache_flush();
  for (unsigned c = 1; c < HN_NCLASSES; c++)
    assert_int_equal(hn_tc.list[c].count, 0);
}

/* Producer/consumer: objects made on one thread, checked and freed on another. */
#define RING 1024
#define ITEMS 200000
static void *_Atomic ring[RING];

static void *consumer(void *arg) {
  (void)arg;
  for (unsigned i = 0; i < ITEMS; i++) {
    void *p;
    while (!(p = atomic_exchange(&ring[i % RING], NULL)))
      sched_yield();
    size_t size = 16 + (i % 61) * 16;
    for (size_t k = 0; k < size; k += 64)
      assert_int_equal(((unsigned char *)p)[k], (unsigned char)(i * 7));
    heron_free(p);
  }
  return NULL;
}

static void test_cross_thread_free(void **state) {
  (void)state;
  pthread_t t;
  pthread_create(&t, NULL, consumer, NULL);
  for (unsigned i = 0; i < ITEMS; i++) {
    size_t size = 16 + (i % 61) * 16;
    unsigned char *p = heron_malloc(size);
    assert_non_null(p);
    memset(p, (int)(unsigned char)(i * 7), size);
    void *expected = NULL;
    while (!atomic_compare_exchange_weak(&ring[i % RING], &expected, p)) {
      expected = NULL;
      sched_yield();
    }
  }
  pthread_join(t, NULL);
  heron_stats_t s;
  heron_stats_get(&s);
  assert_int_equal(s.in_use + s.thread_caches + s.central_lists + s.free_resident + s.released + s.metadata,
                   s.mapped);
}

static pthread_key_t late_key;

static void late_destructor(void *v) {
  /* Runs after (or before) heron's own: allocation must still work. */
  heron_free(v);
  void *p = heron_malloc(64);
  assert_non_null(p);
  heron_free(p);
}

static void *short_thread(void *arg) {
  (void)arg;
  void *keep[40];
  for (int i = 0; i < 40; i++)
    keep[i] = heron_malloc(32 + (size_t)i * 24);
  for (int i = 0; i < 40; i++)
    heron_free(keep[i]);
  pthread_setspecific(late_key, heron_malloc(200));
  return NULL;
}

static void test_thread_exit_returns_cache(void **state) {
  (void)state;
  pthread_key_create(&late_key, late_destructor);
  heron_stats_t before, after;
  hn_tcache_flush();
  heron_stats_get(&before);
  run_thread(short_thread);
  heron_stats_get(&after);
  assert_int_equal(after.threads, before.threads);
  assert_int_equal(after.thread_caches, before.thread_caches);
  assert_int_equal(after.in_use, before.in_use);
  assert_true(after.allocations >= before.allocations + 42);
  assert_int_equal(after.allocations - after.frees, before.allocations - before.frees);
}

static void test_thread_churn(void **state) {
  (void)state;
  heron_stats_t first, last;
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 500; i++)
      run_thread(short_thread);
    heron_stats_get(round ? &last : &first);
  }
  /* The second 500 threads found everything the first 500 left behind. */
  assert_int_equal(last.mapped, first.mapped);
  assert_int_equal(last.threads, first.threads);
}

/* Passive false sharing: a thread frees an object another thread allocated (next to
 * that thread's other objects, in one cache line), then allocates the same size. It
 * must get an object of a line of its own, not the one it freed; from then on its list
 * of that class serves it LIFO. */
static void *held[2];

static void *free_then_malloc(void *arg) {
  (void)arg;
  unsigned cl = hn_size_class(8);
  heron_free(held[0]);
  assert_int_equal(hn_tc.list[cl].count, 0);
  assert_int_equal(hn_tc.list[cl].nout, 1);
  uintptr_t q = (uintptr_t)heron_malloc(8);
  assert_true(q != 0);
  assert_int_equal(hn_tc.list[cl].nout, 0); /* handed to the central list */
  for (int i = 0; i < 2; i++)
    assert_true(q / 64 != (uintptr_t)held[i] / 64);
  heron_free((void *)q);
  assert_int_equal((uintptr_t)heron_malloc(8), q);
  heron_free((void *)q);
  return NULL;
}

static void test_freed_neighbour_not_reused(void **state) {
  (void)state;
  held[0] = heron_malloc(8);
  held[1] = heron_malloc(8);
  assert_true((uintptr_t)held[0] / 64 == (uintptr_t)held[1] / 64);
  run_thread(free_then_malloc);
  heron_free(held[1]);
}

/* A thread that only frees (a consumer) keeps less than a batch per class: the rest
 * goes on to the central list, and the statistics count what it keeps. */
#define CONSUMED 200
static void *consumed[CONSUMED];

static void *free_only(void *arg) {
  (void)arg;
  unsigned cl = hn_size_class(144);
  heron_stats_t before, after;
  heron_stats_get(&before);
  for (int i = 0; i < CONSUMED; i++) {
    heron_free(consumed[i]);
    assert_true(hn_tc.list[cl].nout < hn_class_batch[cl]);
    assert_int_equal(hn_tc.list[cl].count, 0);
  }
  assert_int_equal(hn_tc.list[cl].nout, CONSUMED % hn_class_batch[cl]);
  heron_stats_get(&after);
  assert_int_equal(after.thread_caches - before.thread_caches,
                   (uint64_t)hn_tc.list[cl].nout * hn_class_size[cl]);
  return NULL;
}

static void test_free_only_thread(void **state) {
  (void)state;
  for (int i = 0; i < CONSUMED; i++)
    assert_non_null(consumed[i] = heron_malloc(144));
  heron_stats_t before, after;
  heron_stats_get(&before);
  run_thread(free_only);
  heron_stats_get(&after);
  /* All of it back in the central lists: nothing stranded in the dead thread's TLS. */
  assert_int_equal(after.thread_caches, before.thread_caches);
  assert_int_equal(after.in_use, before.in_use - (uint64_t)CONSUMED * hn_class_size[hn_size_class(144)]);
}

/* fork while other threads allocate: the child can allocate, its statistics add up,
 * and it adopted the caches of the threads that did not come along. */
static atomic_int stop_workers;

static void *busy_worker(void *arg) {
  (void)arg;
  while (!atomic_load(&stop_workers)) {
    void *p[50];
    for (int i = 0; i < 50; i++)
      p[i] = heron_malloc((size_t)i * 40 + 1);
    for (int i = 0; i < 50; i++)
      heron_free(p[i]);
  }
  return NULL;
}

static void test_fork_under_load(void **state) {
  (void)state;
#ifdef __SANITIZE_THREAD__
  skip(); /* TSan does not support fork from a multi-threaded process */
#endif
  pthread_t t[3];
  atomic_store(&stop_workers, 0);
  for (int i = 0; i < 3; i++)
    pthread_create(&t[i], NULL, busy_worker, NULL);
  for (int round = 0; round < 50; round++) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      void *p = heron_malloc(1000);
      heron_free(p);
      heron_stats_t s;
      heron_stats_get(&s);
      int ok = s.threads == 1 && s.in_use + s.thread_caches + s.central_lists + s.free_resident +
                                         s.released + s.metadata ==
                                     s.mapped;
      _exit(ok ? 0 : 3);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  atomic_store(&stop_workers, 1);
  for (int i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lifo_reuse),
      cmocka_unit_test(test_list_bounded),
      cmocka_unit_test(test_cross_thread_free),
      cmocka_unit_test(test_thread_exit_returns_cache),
      cmocka_unit_test(test_thread_churn),
      cmocka_unit_test(test_freed_neighbour_not_reused),
      cmocka_unit_test(test_free_only_thread),
      cmocka_unit_test(test_fork_under_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
