/*
 * test_threads.c: the allocator across the life of threads and of the program.
 *
 * churn: 10,000 threads (fewer in sanitizer builds) are created and joined, each allocating
 * and freeing objects of many classes so that it exits with a cache full of free objects;
 * memory after all of them is within a few MiB of memory after the first 100, and no
 * thread's cache outlives it.
 * full_cache_exit: threads exit right after freeing thousands of objects; their caches'
 * bytes go back (thread_caches and in_use return to where they were).
 * key_destructor: pthread_key_create destructors allocate and free after the thread's own
 * exit handling has started, over several destructor rounds.
 * before_main: objects allocated by a constructor, before main, are intact and heron's.
 * dlsym: dlopen/dlsym/dlerror (which allocate, dlerror's message in a new thread's first
 * call) work on the main thread and on fresh threads.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_test.h"

/* What the allocator holds for the program: heron's mapped and unreleased bytes. */
static size_t footprint(void) {
  heron_stats_t s;
  heron_stats_get(&s);
  /* Not mapped alone: heron maps address space in large chunks, which would hide a leak
   * smaller than a chunk. What is mapped and not released is what the memory costs. */
  return (size_t)(s.mapped - s.released);
}

/* ---- before main ---- */

#define EARLY 3
static const size_t early_sizes[EARLY] = {24, 3000, 200000};
static unsigned char *early[EARLY];
static uint64_t early_allocations; /* heron's count of allocations made by the constructor */

/* Priority 101 is the first a program may use: this runs before other constructors. */
__attribute__((constructor(101))) static void allocate_before_main(void) {
  int i;
  heron_stats_t a, b;
  heron_stats_get(&a);
  for (i = 0; i < EARLY; i++) {
    early[i] = t_malloc(early_sizes[i]);
    if (early[i]) t_fill(early[i], early_sizes[i], t_seed(early[i], early_sizes[i], 9));
  }
  heron_stats_get(&b);
  early_allocations = b.allocations - a.allocations;
}

static void before_main(void **state) {
  int i;
  (void)state;
  for (i = 0; i < EARLY; i++) {
    assert_non_null(early[i]);
    assert_int_equal(t_check(early[i], early_sizes[i], t_seed(early[i], early_sizes[i], 9)),
                     early_sizes[i]);
    assert_true(t_usable(early[i]) >= early_sizes[i]);
    /* heron answers for the object: it made it. */
    assert_true(heron_malloc_usable_size(early[i]) >= early_sizes[i]);
    t_free(early[i]);
  }
  assert_true(early_allocations >= EARLY);
}

/* ---- churn ---- */

static void *short_life(void *arg) {
  /* A spread of classes and one large object, all freed: the cache is full at exit. */
  void *objs[64];
  unsigned seed = (unsigned)(uintptr_t)arg, i;
  for (i = 0; i < 64; i++) {
    size_t n = i == 63 ? 70000 : 8 + (size_t)((seed * 131u + i * 977u) % 4096);
    objs[i] = t_malloc(n);
    if (!objs[i]) return (void *)1;
    memset(objs[i], (int)i, n);
  }
  for (i = 0; i < 64; i++) t_free(objs[i]);
  return NULL;
}

/* Run n threads of fn, at most 4 alive at once; 0 if all returned NULL. */
static int run_threads(long n, void *(*fn)(void *)) {
  long done = 0;
  int bad = 0;
  while (done < n) {
    pthread_t t[4];
    int k, m = n - done < 4 ? (int)(n - done) : 4;
    for (k = 0; k < m; k++)
      if (pthread_create(&t[k], NULL, fn, (void *)(uintptr_t)(done + k)) != 0) return -1;
    for (k = 0; k < m; k++) {
      void *r;
      if (pthread_join(t[k], &r) != 0 || r) bad = 1;
    }
    done += m;
  }
  return bad;
}

static void churn(void **state) {
  /* 10,000 threads; a thread's start and end cost 20-50x more under ThreadSanitizer, so
   * sanitizer builds (scale 0.2) run 10,000 * 0.2^2 = 400. */
  long n = (long)(10000 * t_scale() * t_scale());
  size_t first, last;
  heron_stats_t before, after;
  heron_stats_get(&before);
  (void)state;
  if (n < 400) n = 400;
  assert_int_equal(run_threads(100, short_life), 0);
  first = footprint();
  assert_int_equal(run_threads(n - 100, short_life), 0);
  last = footprint();
  print_message("%ld threads: footprint after 100 %zu KiB, after all %zu KiB\n", n, first >> 10,
                last >> 10);
  /* Caches that were never returned would cost at least 64 objects each: 2,000 threads
   * with ~130 KiB apiece already make 250 MiB. */
  if (last > first + 4 * T_MIB)
    fail_msg("memory grew from %zu KiB to %zu KiB over %ld threads", first >> 10, last >> 10, n);
  heron_stats_get(&after);
  assert_int_equal(after.threads, before.threads);
  assert_int_equal(t_stats_sum(&after), after.mapped);
}

/* ---- a thread exits with a full cache ---- */

/* Objects each free_many thread makes and frees: more than a thread cache holds. */
#define FREE_MANY 5000
static long free_many_count;

static void *free_many(void *arg) {
  void *objs[FREE_MANY];
  size_t size = (size_t)(uintptr_t)arg, i, n = (size_t)free_many_count;
  for (i = 0; i < n; i++) {
    objs[i] = t_malloc(size);
    if (!objs[i]) return (void *)1;
  }
  for (i = 0; i < n; i++) t_free(objs[i]);
  return NULL;
}

static void full_cache_exit(void **state) {
  static const size_t sizes[] = {16, 48, 256, 1024, 4000};
  size_t i;
  (void)state;
  free_many_count = t_scaled(FREE_MANY, 1000);
  if (free_many_count > FREE_MANY) free_many_count = FREE_MANY;
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    pthread_t t;
    void *r;
    heron_stats_t a, b;
    heron_stats_get(&a);
    assert_int_equal(pthread_create(&t, NULL, free_many, (void *)(uintptr_t)sizes[i]), 0);
    assert_int_equal(pthread_join(t, &r), 0);
    assert_null(r);
    heron_stats_get(&b);
    /* The thread's cache went back whole: no cache bytes or objects in use are left from
     * it (64 KiB allows for what pthread_create and join allocate on this thread). */
    if (b.thread_caches > a.thread_caches + 64 * T_KIB)
      fail_msg("size %zu: thread_caches %llu -> %llu after the thread exited", sizes[i],
               (unsigned long long)a.thread_caches, (unsigned long long)b.thread_caches);
    assert_true(b.in_use <= a.in_use + 64 * T_KIB);
    assert_int_equal(b.threads, a.threads);
#if !HERON_TEST_PREFIXED
    assert_true(b.allocations - a.allocations >= (uint64_t)free_many_count);
#endif
  }
}

/* ---- allocation in thread-specific-data destructors ---- */

static pthread_key_t key;
static unsigned destructor_calls, destructor_failures;
static pthread_mutex_t destructor_lock = PTHREAD_MUTEX_INITIALIZER;

/* Allocates while the thread is ending; sets the key again twice, so glibc calls it for
 * three rounds (it allows PTHREAD_DESTRUCTOR_ITERATIONS, 4). The value is a heap object
 * allocated by the previous round. */
static void destructor(void *value) {
  unsigned char *v = value, *p, *q;
  unsigned round = v[0];
  int bad = 0;
  if (v[1] != 0xd5) bad = 1;
  t_free(v);
  p = t_malloc(100);
  q = t_calloc(1, 100000);
  if (!p || !q || q[99999]) bad = 1;
  if (p) memset(p, 0x66, 100);
  t_free(q);
  if (round < 3 && p) {
    p[0] = (unsigned char)(round + 1);
    p[1] = 0xd5;
    pthread_setspecific(key, p);
  } else {
    t_free(p);
  }
  pthread_mutex_lock(&destructor_lock);
  destructor_calls++;
  destructor_failures += (unsigned)bad;
  pthread_mutex_unlock(&destructor_lock);
}

static void *with_key(void *arg) {
  unsigned char *v = t_malloc(64);
  (void)arg;
  if (!v) return (void *)1;
  v[0] = 1;
  v[1] = 0xd5;
  /* Allocate first so this thread has a cache to tear down before the destructor runs. */
  t_free(t_malloc(32));
  pthread_setspecific(key, v);
  return NULL;
}

static void key_destructor(void **state) {
  long n = t_scaled(300, 50);
  heron_stats_t a, b;
  (void)state;
  assert_int_equal(pthread_key_create(&key, destructor), 0);
  heron_stats_get(&a);
  assert_int_equal(run_threads(n, with_key), 0);
  assert_int_equal(destructor_failures, 0);
  assert_int_equal(destructor_calls, 3 * (unsigned)n);
  heron_stats_get(&b);
  /* A cache made again for the destructor's allocations is handed back too. */
  assert_int_equal(b.threads, a.threads);
  assert_true(b.in_use <= a.in_use + 64 * T_KIB);
  pthread_key_delete(key);
}

/* ---- dlsym ---- */

static void *use_dl(void *arg) {
  void *h = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
  double (*cosine)(double);
  const char *err;
  (void)arg;
  if (!h) return (void *)1;
  *(void **)&cosine = dlsym(h, "cos");
  if (!cosine || cosine(0.0) != 1.0) return (void *)2;
  /* A missing symbol makes dlerror allocate its message. */
  if (dlsym(h, "heron_test_no_such_symbol")) return (void *)3;
  err = dlerror();
  if (!err || !strstr(err, "heron_test_no_such_symbol")) return (void *)4;
  if (dlsym(RTLD_DEFAULT, "heron_test_missing_too") || !dlerror()) return (void *)5;
  dlclose(h);
  return NULL;
}

static void dlsym_allocates(void **state) {
  (void)state;
  assert_null(use_dl(NULL));
  assert_int_equal(run_threads(16, use_dl), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(before_main),
      cmocka_unit_test(dlsym_allocates),
      cmocka_unit_test(full_cache_exit),
      cmocka_unit_test(key_destructor),
      cmocka_unit_test(churn),
  };
  return cmocka_run_group_tests_name("threads", tests, NULL, NULL);
}
