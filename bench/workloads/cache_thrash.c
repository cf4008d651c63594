/*
 * cache_thrash.c: cache-thrash. Active false sharing: worker threads, started together,
 * each repeatedly allocate a small object, write it many times and free it. An
 * allocator that carves objects for different threads out of the same cache line makes
 * the cores fight over it; one with per-thread spans does not. Time is the result.
 */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define OBJECT_SIZE 8
#define WRITES 2000 /* writes per object: enough that sharing a line dominates */
/* Objects per thread at scale 1. */
#define OBJECTS_AT_SCALE_1 6e5

typedef struct worker {
  uint64_t objects;
} worker_t;

static pthread_barrier_t start;

static void *run(void *arg) {
  worker_t *w = arg;
  pthread_barrier_wait(&start);
  for (uint64_t i = 0; i < w->objects; i++) {
    volatile char *p = hn_bench_xmalloc(OBJECT_SIZE);
    for (int k = 0; k < WRITES; k++) p[k & (OBJECT_SIZE - 1)] = (char)(p[0] + 1);
    free((void *)p);
  }
  return NULL;
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "cache-thrash", 2, &a);
  uint64_t objects = hn_bench_iters(&a, OBJECTS_AT_SCALE_1, 10);
  worker_t *ws = calloc(a.threads, sizeof *ws);
  if (ws == NULL) abort();
  pthread_barrier_init(&start, NULL, a.threads);
  for (unsigned t = 0; t < a.threads; t++) ws[t].objects = objects;
  hn_bench_run_threads(a.threads, run, ws, sizeof *ws);
  pthread_barrier_destroy(&start);
  free(ws);
  hn_bench_result(" threads=%u objects=%llu writes=%llu", a.threads,
                  (unsigned long long)objects * a.threads,
                  (unsigned long long)objects * a.threads * WRITES);
  return 0;
}
