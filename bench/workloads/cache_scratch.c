/*
 * cache_scratch.c: cache-scratch. Passive false sharing: the main thread allocates one
 * small object per worker back to back (so they likely share a cache line) and hands
 * each worker one. A worker frees its object, then repeatedly allocates a small object,
 * writes it many times and frees it. An allocator that gives the freed neighbour back
 * to the worker makes two cores write the same cache line. Time is the result.
 */
#include "cache_lines.h"

#include <stdlib.h>

typedef struct worker {
  volatile char *first;
  uint64_t objects;
} worker_t;

static void *run(void *arg) {
  worker_t *w = arg;
  free((void *)w->first);
  hn_cache_write_objects(w->objects);
  return NULL;
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "cache-scratch", 2, &a);
  uint64_t objects = hn_bench_iters(&a, HN_CACHE_OBJECTS_AT_SCALE_1, 10);
  worker_t *ws = calloc(a.threads, sizeof *ws);
  if (ws == NULL) abort();
  for (unsigned t = 0; t < a.threads; t++) {
    ws[t].first = hn_bench_xmalloc(HN_CACHE_OBJECT_SIZE);
    ws[t].objects = objects;
  }
  hn_bench_run_threads(a.threads, run, ws, sizeof *ws);
  free(ws);
  hn_cache_result(a.threads, objects);
  return 0;
}
