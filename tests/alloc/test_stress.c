/*
 * test_stress.c: many threads allocating, checking and freeing each other's objects.
 *
 * mixed_threads: 4 threads for a few seconds (HERON_TEST_SCALE shortens it in sanitizer
 * builds) allocate sizes from 1 B to 6 MiB, skewed towards small, fill each object with a
 * pattern made from its address, size and owner, and check the pattern before every free or
 * realloc. A third of the objects go through a shared ring to be checked and freed (or
 * reallocated, or kept) by another thread, so every path of a remote free is taken.
 * producer_consumer: one thread only allocates, another only frees, for millions of objects;
 * memory mapped and not released must stay bounded, which fails if remotely freed memory
 * never finds its way back to the allocating thread.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_test.h"

#define N_THREADS 4
/* Objects a thread holds at once: with the size mix below (about 20 KiB a object on
 * average) 4 threads hold about 20 MiB, plus what waits in the ring. */
#define SLOTS 256
/* Objects in flight between threads (a power of two). */
#define RING_CAP 1024
/* Operations each thread does at the least: about 1,000 allocations of its own and a few
 * hundred objects handed over, whatever the clock says. */
#define MIN_OPS 4000

typedef struct obj {
  unsigned char *p;
  size_t size;
  uint64_t seed;
} obj_t;

/* A bounded ring of objects under a mutex, with condition variables for the blocking
 * producer/consumer use. */
typedef struct ring {
  pthread_mutex_t lock;
  pthread_cond_t not_empty, not_full;
  size_t head, tail; /* head - tail objects are in the ring */
  obj_t items[RING_CAP];
} ring_t;

static ring_t ring = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
                      PTHREAD_COND_INITIALIZER, 0, 0, {{0, 0, 0}}};

/* Push without waiting; 0 when the ring is full. */
static int ring_push(const obj_t *o) {
  int ok = 0;
  pthread_mutex_lock(&ring.lock);
  if (ring.head - ring.tail < RING_CAP) {
    ring.items[ring.head++ % RING_CAP] = *o;
    ok = 1;
    pthread_cond_signal(&ring.not_empty);
  }
  pthread_mutex_unlock(&ring.lock);
  return ok;
}

/* Pop without waiting; 0 when the ring is empty. */
static int ring_pop(obj_t *o) {
  int ok = 0;
  pthread_mutex_lock(&ring.lock);
  if (ring.head != ring.tail) {
    *o = ring.items[ring.tail++ % RING_CAP];
    ok = 1;
    pthread_cond_signal(&ring.not_full);
  }
  pthread_mutex_unlock(&ring.lock);
  return ok;
}

/* xorshift64*: each thread's own random numbers. */
static uint64_t rnd(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ull;
}

/* A size from 1 B to 6 MiB: 60 % up to 128 B, 25 % up to 1 KiB, 10 % up to 32 KiB (the
 * largest class), 4 % up to 256 KiB, 0.8 % up to 1 MiB, 0.2 % up to 6 MiB. */
static size_t pick_size(uint64_t *s) {
  uint64_t r = rnd(s), k = r % 1000, v = r >> 20;
  if (k < 600) return 1 + v % 128;
  if (k < 850) return 129 + v % 896;
  if (k < 950) return 1025 + v % (32 * T_KIB - 1024);
  if (k < 990) return 32 * T_KIB + 1 + v % (224 * T_KIB);
  if (k < 998) return 256 * T_KIB + 1 + v % (768 * T_KIB);
  return T_MIB + 1 + v % (5 * T_MIB);
}

typedef struct worker {
  pthread_t thread;
  unsigned id;
  double end;
  uint64_t allocs, frees, reallocs, handed, received;
  char error[200]; /* empty when all went well */
} worker_t;

static void check_obj(worker_t *w, const obj_t *o, const char *when) {
  size_t bad = t_check(o->p, o->size, o->seed);
  if (bad != o->size && !w->error[0])
    snprintf(w->error, sizeof w->error, "thread %u: %s: object %p of %zu bytes differs at %zu",
             w->id, when, (void *)o->p, o->size, bad);
  if (t_usable(o->p) < o->size && !w->error[0])
    snprintf(w->error, sizeof w->error, "thread %u: %s: usable size %zu < %zu", w->id, when,
             t_usable(o->p), o->size);
}

static int new_obj(worker_t *w, obj_t *o, uint64_t *s) {
  size_t size = pick_size(s);
  int zeroed = rnd(s) % 8 == 0;
  o->p = zeroed ? t_calloc(1, size) : t_malloc(size);
  if (!o->p) {
    snprintf(w->error, sizeof w->error, "thread %u: allocating %zu bytes failed", w->id, size);
    return 0;
  }
  if (zeroed) {
    size_t i;
    for (i = 0; i < size; i++)
      if (o->p[i]) {
        snprintf(w->error, sizeof w->error, "thread %u: calloc(1, %zu) byte %zu not zero",
                 w->id, size, i);
        return 0;
      }
  }
  o->size = size;
  o->seed = t_seed(o->p, size, w->id);
  t_fill(o->p, size, o->seed);
  w->allocs++;
  return 1;
}

static void free_obj(worker_t *w, obj_t *o, const char *when) {
  check_obj(w, o, when);
  t_free(o->p);
  o->p = NULL;
  w->frees++;
}

static void realloc_obj(worker_t *w, obj_t *o, uint64_t *s) {
  size_t size = pick_size(s), keep = size < o->size ? size : o->size;
  unsigned char *q;
  check_obj(w, o, "before realloc");
  q = t_realloc(o->p, size);
  if (!q) {
    snprintf(w->error, sizeof w->error, "thread %u: realloc to %zu failed", w->id, size);
    return;
  }
  o->p = q;
  if (t_check(q, keep, o->seed) != keep && !w->error[0])
    snprintf(w->error, sizeof w->error, "thread %u: realloc %zu -> %zu lost contents at %zu",
             w->id, o->size, size, t_check(q, keep, o->seed));
  o->size = size;
  o->seed = t_seed(q, size, w->id);
  t_fill(q, size, o->seed);
  w->reallocs++;
}

static void *mixed_worker(void *arg) {
  worker_t *w = arg;
  obj_t slots[SLOTS];
  uint64_t s = t_hash(w->id + 1), ops = 0;
  size_t i;
  memset(slots, 0, sizeof slots);
  /* Until the deadline, and at least MIN_OPS operations however slow the build. */
  while (!w->error[0] && (ops < MIN_OPS || ops % 256 || t_now() < w->end)) {
    uint64_t op = rnd(&s) % 100;
    obj_t *o = &slots[rnd(&s) % SLOTS];
    ops++;
    if (op < 55) {
      if (o->p) free_obj(w, o, "local free");
      else new_obj(w, o, &s);
    } else if (op < 68) {
      if (o->p) realloc_obj(w, o, &s);
      else new_obj(w, o, &s);
    } else if (op < 84) {
      if (o->p && ring_push(o)) {
        o->p = NULL;
        w->handed++;
      }
    } else {
      obj_t got;
      if (ring_pop(&got)) {
        w->received++;
        /* Keep a third of what arrives, to realloc or free later from this thread. */
        if (!o->p && rnd(&s) % 3 == 0) {
          check_obj(w, &got, "received");
          *o = got;
        } else {
          free_obj(w, &got, "remote free");
        }
      }
    }
  }
  for (i = 0; i < SLOTS; i++)
    if (slots[i].p) free_obj(w, &slots[i], "final free");
  return NULL;
}

static void mixed_threads(void **state) {
  worker_t w[N_THREADS];
  double seconds = 4.0 * t_scale();
  uint64_t allocs = 0, frees = 0, handed = 0, received = 0, drained = 0;
  obj_t o;
  unsigned i;
  heron_stats_t before, after;
  /* The main thread frees the leftovers at the end: give it its cache before counting. */
  t_free(t_malloc(1));
  heron_stats_get(&before);
  (void)state;
  if (seconds < 1.0) seconds = 1.0;
  memset(w, 0, sizeof w);
  for (i = 0; i < N_THREADS; i++) {
    w[i].id = i + 1;
    w[i].end = t_now() + seconds;
    assert_int_equal(pthread_create(&w[i].thread, NULL, mixed_worker, &w[i]), 0);
  }
  /* Statistics read while the workers run: reading never waits for them, and every
   * snapshot adds up. */
  {
    unsigned snapshots = 0, bad = 0;
    heron_stats_t s;
    double end = w[0].end;
    while (t_now() < end) {
      heron_stats_get(&s);
      snapshots++;
      if (t_stats_sum(&s) != s.mapped && !bad++)
        print_message("snapshot %u: sum %llu != mapped %llu\n", snapshots,
                      (unsigned long long)t_stats_sum(&s), (unsigned long long)s.mapped);
      usleep(2000);
    }
    print_message("%u snapshots during the run, %u did not add up\n", snapshots, bad);
    assert_int_equal(bad, 0);
  }
  for (i = 0; i < N_THREADS; i++) assert_int_equal(pthread_join(w[i].thread, NULL), 0);
  for (i = 0; i < N_THREADS; i++) {
    if (w[i].error[0]) fail_msg("%s", w[i].error);
    allocs += w[i].allocs;
    frees += w[i].frees;
    handed += w[i].handed;
    received += w[i].received;
  }
  while (ring_pop(&o)) {
    worker_t main_w;
    memset(&main_w, 0, sizeof main_w);
    free_obj(&main_w, &o, "drain");
    if (main_w.error[0]) fail_msg("%s", main_w.error);
    drained++;
  }
  print_message("%llu allocations, %llu handed to another thread\n", (unsigned long long)allocs,
                (unsigned long long)handed);
  assert_int_equal(handed, received + drained);
  assert_int_equal(allocs, frees + drained);
  assert_true(allocs > 1000);
  assert_true(handed > 100);
  heron_stats_get(&after);
  assert_int_equal(t_stats_sum(&after), after.mapped);
#if !HERON_TEST_PREFIXED
  /* heron served the test: it counted at least every object the workers made. */
  assert_true(after.allocations - before.allocations >= allocs);
#endif
  /* Everything the workers made is freed and their caches went back with them; what the
   * main thread did meanwhile (thread start-up) is a few KiB. */
  if (after.in_use > before.in_use + 256 * T_KIB)
    fail_msg("in_use %llu after, %llu before", (unsigned long long)after.in_use,
             (unsigned long long)before.in_use);
  assert_int_equal(after.threads, before.threads);
}

/* Producer/consumer: rounds of BATCH objects made by one thread and freed by another. */
#define BATCH 256

static long pc_rounds;
static size_t pc_warm, pc_end;
static char pc_error[200];

static size_t footprint(void) {
  heron_stats_t s;
  heron_stats_get(&s);
  /* Not mapped alone: heron maps address space in large chunks, which would hide a leak
   * smaller than a chunk. What is mapped and not released is what the memory costs. */
  return (size_t)(s.mapped - s.released);
}

static void ring_push_wait(const obj_t *o) {
  pthread_mutex_lock(&ring.lock);
  while (ring.head - ring.tail == RING_CAP) pthread_cond_wait(&ring.not_full, &ring.lock);
  ring.items[ring.head++ % RING_CAP] = *o;
  pthread_cond_signal(&ring.not_empty);
  pthread_mutex_unlock(&ring.lock);
}

static void ring_pop_wait(obj_t *o) {
  pthread_mutex_lock(&ring.lock);
  while (ring.head == ring.tail) pthread_cond_wait(&ring.not_empty, &ring.lock);
  *o = ring.items[ring.tail++ % RING_CAP];
  pthread_cond_signal(&ring.not_full);
  pthread_mutex_unlock(&ring.lock);
}

static void *producer(void *arg) {
  uint64_t s = 99;
  long r;
  int i;
  (void)arg;
  for (r = 0; r < pc_rounds; r++) {
    if (r == pc_rounds / 10) pc_warm = footprint();
    for (i = 0; i < BATCH; i++) {
      obj_t o;
      o.size = 16 + rnd(&s) % 1009;
      o.p = t_malloc(o.size);
      if (!o.p) {
        snprintf(pc_error, sizeof pc_error, "producer: malloc(%zu) failed", o.size);
        o.size = 0;
      } else {
        /* The head and tail words are enough to see an object given out twice. */
        o.seed = t_seed(o.p, o.size, 7);
        t_fill(o.p, 8, o.seed);
        memcpy(o.p + o.size - 8, &o.seed, 8);
      }
      ring_push_wait(&o);
    }
  }
  pc_end = footprint();
  return NULL;
}

static void *consumer(void *arg) {
  long n = pc_rounds * BATCH, i;
  (void)arg;
  for (i = 0; i < n; i++) {
    obj_t o;
    uint64_t tail;
    ring_pop_wait(&o);
    if (!o.p) continue;
    memcpy(&tail, o.p + o.size - 8, 8);
    if ((t_check(o.p, 8, o.seed) != 8 || tail != o.seed) && !pc_error[0])
      snprintf(pc_error, sizeof pc_error, "consumer: object %p of %zu bytes was overwritten",
               (void *)o.p, o.size);
    t_free(o.p);
  }
  return NULL;
}

static void producer_consumer(void **state) {
  pthread_t p, c;
  (void)state;
  /* 8000 rounds of 256 objects of 16..1024 bytes: 2M objects, about 1 GiB allocated in
   * all, while at most RING_CAP + BATCH (about 1 MiB) are alive at once. */
  pc_rounds = t_scaled(8000, 500);
  assert_int_equal(pthread_create(&c, NULL, consumer, NULL), 0);
  assert_int_equal(pthread_create(&p, NULL, producer, NULL), 0);
  assert_int_equal(pthread_join(p, NULL), 0);
  assert_int_equal(pthread_join(c, NULL), 0);
  if (pc_error[0]) fail_msg("%s", pc_error);
  print_message("footprint after %ld rounds %zu KiB, after %ld rounds %zu KiB\n",
                pc_rounds / 10, pc_warm >> 10, pc_rounds, pc_end >> 10);
  /* A leak of remotely freed memory grows by hundreds of MiB here. */
  if (pc_end > pc_warm + 32 * T_MIB)
    fail_msg("memory grew from %zu KiB to %zu KiB", pc_warm >> 10, pc_end >> 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(mixed_threads),
      cmocka_unit_test(producer_consumer),
  };
  return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
