/*
 * cache_thrash.c: cache-thrash. Active false sharing: worker threads, started together,
 * each repeatedly allocate a small object, write it many times and free it. An
 * allocator that carves objects for different threads out of the same cache line makes
 * the cores fight over it; one with per-thread spans does not. Time is the result.
 */
#include "cache_lines.h"

#include <pthread.h>
#include <stdlib.h>

typedef struct worker {
  uint64_t objects;
} worker_t;

static pthread_barrier_t start;

static void *run(void *arg) {
  worker_t *w = arg;
  pthread_barrier_wait(&start);
  hn_cache_write_objects(w->objects);
  return NULL;
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "cache-thrash", 2, &a);
  uint64_t objects = hn_bench_iters(&a, HN_CACHE_OBJECTS_AT_SCALE_1, 10);
  worker_t *ws = calloc(a.threads, sizeof *ws);
  if (ws == NULL) abort();
  pthread_barrier_init(&start, NULL, a.threads);
  for (unsigned t = 0; t < a.threads; t++) ws[t].objects = objects;
  hn_bench_run_threads(a.threads, run, ws, sizeof *ws);
  pthread_barrier_destroy(&start);
  free(ws);
  hn_cache_result(a.threads, objects);
  return 0;
}
