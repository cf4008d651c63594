/*
 * test_fork.c: fork from a multi-threaded program while other threads allocate and free.
 *
 * Three threads allocate, fill, check and free without pause (small and large objects, some
 * freed by another thread through a shared slot array) while the main thread forks again and
 * again. Each child allocates and frees objects of every size range, checks them, and exits
 * 0; if fork caught an allocator lock held by a thread that does not exist in the child, the
 * child hangs. The parent gives each child a deadline and kills it when it passes, so a
 * deadlock fails the test instead of hanging it; an alarm guards the whole test as well.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "alloc_test.h"

#define N_THREADS 3
/* Slots shared by the threads: whoever finds an object there checks and frees it. */
#define SHARED 64
/* A child normally finishes in milliseconds; 10 s covers a loaded 2-core machine under
 * ThreadSanitizer and is still far below the test's timeout. */
#define CHILD_DEADLINE 10.0

typedef struct obj {
  unsigned char *p;
  size_t size;
  uint64_t seed;
} obj_t;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static obj_t shared[SHARED];
static volatile int stop;
/* Set while a child runs: the workers, busy in the allocator up to the fork, then rest so
 * the child is not starved of the 2 cores (it would pass, slowly). */
static volatile int child_running;
static char worker_error[200];

static uint64_t rnd(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

static size_t pick_size(uint64_t *s) {
  uint64_t r = rnd(s);
  switch (r % 16) {
  case 0: return 32 * T_KIB + 1 + (r >> 8) % (512 * T_KIB); /* large */
  case 1: case 2: return 1024 + (r >> 8) % (31 * T_KIB);
  default: return 1 + (r >> 8) % 512;
  }
}

static int check_and_free(obj_t *o) {
  int ok = t_check(o->p, o->size, o->seed) == o->size;
  t_free(o->p);
  o->p = NULL;
  return ok;
}

static void *worker(void *arg) {
  uint64_t s = t_hash((uintptr_t)arg + 1);
  obj_t local[32];
  memset(local, 0, sizeof local);
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    obj_t *o;
    if (__atomic_load_n(&child_running, __ATOMIC_RELAXED)) {
      usleep(200);
      continue;
    }
    o = &local[rnd(&s) % 32];
    if (o->p) {
      if (rnd(&s) % 4 == 0) {
        /* Swap it with the shared slot: the next owner checks and frees it. */
        unsigned k = (unsigned)(rnd(&s) % SHARED);
        obj_t old;
        pthread_mutex_lock(&shared_lock);
        old = shared[k];
        shared[k] = *o;
        pthread_mutex_unlock(&shared_lock);
        o->p = NULL;
        if (old.p && !check_and_free(&old))
          snprintf(worker_error, sizeof worker_error, "shared object of %zu bytes corrupted",
                   old.size);
      } else if (!check_and_free(o)) {
        snprintf(worker_error, sizeof worker_error, "object corrupted");
      }
    } else {
      o->size = pick_size(&s);
      o->p = t_malloc(o->size);
      if (!o->p) {
        snprintf(worker_error, sizeof worker_error, "malloc(%zu) failed", o->size);
        break;
      }
      o->seed = t_seed(o->p, o->size, 1);
      t_fill(o->p, o->size, o->seed);
    }
  }
  for (unsigned i = 0; i < 32; i++)
    if (local[i].p) check_and_free(&local[i]);
  return NULL;
}

#if !HERON_TEST_PREFIXED
/* A thread in the child: the allocator's list of threads, reset by the fork, takes a new
 * one. (Not under ThreadSanitizer, which stops a child of a threaded parent that starts
 * threads, nor, to keep one rule, under AddressSanitizer.) */
static void *child_thread(void *arg) {
  unsigned i;
  (void)arg;
  for (i = 0; i < 100; i++) {
    unsigned char *p = t_malloc(1 + i * 37);
    if (!p) return (void *)1;
    memset(p, (int)i, 1 + i * 37);
    t_free(p);
  }
  return NULL;
}
#endif

/* What a child does: allocate and free across every size range, and check the objects;
 * every fourth child also runs a thread. Exit 0 when all is well, 3 when an object was
 * wrong, 4 when an allocation failed, 5 when the thread could not run. */
static void child(unsigned round) {
  static const size_t sizes[] = {1, 16, 100, 1000, 8192, 32768, 40000, 200000};
  obj_t objs[32];
  unsigned i;
  alarm((unsigned)CHILD_DEADLINE + 5); /* should the parent itself be gone */
  for (i = 0; i < 32; i++) {
    /* The last one is a large object, a span of its own. */
    objs[i].size = (i == 31 ? T_MIB : sizes[i % (sizeof sizes / sizeof sizes[0])]) + round % 7;
    objs[i].p = i % 5 == 0 ? t_calloc(1, objs[i].size) : t_malloc(objs[i].size);
    if (!objs[i].p) _exit(4);
    objs[i].seed = t_seed(objs[i].p, objs[i].size, 2);
    t_fill(objs[i].p, objs[i].size, objs[i].seed);
  }
  /* Objects the parent's threads were holding at the fork are the child's too: free some,
   * unless the fork caught a thread in the middle of changing the slots. */
  if (pthread_mutex_trylock(&shared_lock) == 0) {
    for (i = 0; i < SHARED; i += 4)
      if (shared[i].p && t_check(shared[i].p, shared[i].size, shared[i].seed) == shared[i].size)
        t_free(shared[i].p);
    pthread_mutex_unlock(&shared_lock);
  }
#if !HERON_TEST_PREFIXED
  if (round % 4 == 0) {
    pthread_t t;
    void *r;
    if (pthread_create(&t, NULL, child_thread, NULL) != 0 || pthread_join(t, &r) != 0) _exit(5);
    if (r) _exit(4);
  }
#endif
  for (i = 0; i < 32; i++) {
    unsigned char *q;
    if (t_check(objs[i].p, objs[i].size, objs[i].seed) != objs[i].size) _exit(3);
    q = t_realloc(objs[i].p, objs[i].size * 2);
    if (!q) _exit(4);
    if (t_check(q, objs[i].size, objs[i].seed) != objs[i].size) _exit(3);
    t_free(q);
  }
  _exit(0);
}

/* Wait for pid until the deadline; kill it and return -1 if it does not end in time. */
static int wait_with_deadline(pid_t pid, int *status) {
  double end = t_now() + CHILD_DEADLINE;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return 0;
    if (r < 0 && errno != EINTR) return -1;
    if (t_now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, status, 0);
      return -1;
    }
    usleep(1000);
  }
}

static void fork_under_load(void **state) {
  pthread_t threads[N_THREADS];
  long forks = t_scaled(60, 15), i;
  unsigned k;
  (void)state;
  alarm(120);
  stop = 0;
  for (k = 0; k < N_THREADS; k++)
    assert_int_equal(pthread_create(&threads[k], NULL, worker, (void *)(uintptr_t)k), 0);
  for (i = 0; i < forks; i++) {
    int status = 0;
    pid_t pid;
    usleep(500 + (i % 10) * 300); /* let the workers get back into the allocator */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) child((unsigned)i);
    __atomic_store_n(&child_running, 1, __ATOMIC_RELAXED);
    if (wait_with_deadline(pid, &status) != 0) {
      __atomic_store_n(&child_running, 0, __ATOMIC_RELAXED);
      __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
      fail_msg("fork %ld: child %d did not exit within %.0f s (deadlock in the allocator?)", i,
               (int)pid, CHILD_DEADLINE);
    }
    __atomic_store_n(&child_running, 0, __ATOMIC_RELAXED);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      fail_msg("fork %ld: child %s %d", i, WIFEXITED(status) ? "exited with" : "killed by signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  for (k = 0; k < N_THREADS; k++) assert_int_equal(pthread_join(threads[k], NULL), 0);
  for (k = 0; k < SHARED; k++)
    if (shared[k].p) assert_true(check_and_free(&shared[k]));
  if (worker_error[0]) fail_msg("%s", worker_error);
  alarm(0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(fork_under_load),
  };
  return cmocka_run_group_tests_name("fork", tests, NULL, NULL);
}
