/*
 * alloctest.c: alloc-test-like. A large working set (2^18 live objects in total) of
 * skewed sizes up to 1 KiB, replaced at random: most requests are small, a few are
 * near 1 KiB, and the random order defeats any LIFO luck in the free lists, so this
 * measures the allocator with caches that miss. THREADS share the slots evenly.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#define LIVE_TOTAL (1u << 18)
/* Replacements per thread at scale 1. */
#define OPS_AT_SCALE_1 6e6

typedef struct worker {
  unsigned index;
  size_t slots;
  uint64_t ops;
  uint64_t check;
} worker_t;

/* Cubing a uniform number skews towards small: half the requests are under 130 bytes. */
static size_t skewed_size(uint64_t *rng) {
  uint64_t r = hn_rng_below(rng, 1024);
  return 8 + (size_t)((r * r * r) >> 20);
}

static void *run(void *arg) {
  worker_t *w = arg;
  uint64_t rng = hn_rng_seed(100 + w->index);
  char **slots = hn_bench_xmalloc(w->slots * sizeof *slots);
  for (size_t s = 0; s < w->slots; s++) {
    slots[s] = hn_bench_xmalloc(skewed_size(&rng));
    slots[s][0] = 1;
  }
  uint64_t check = 0;
  for (uint64_t i = 0; i < w->ops; i++) {
    size_t s = (size_t)hn_rng_below(&rng, w->slots);
    check += (unsigned char)slots[s][0];
    free(slots[s]);
    size_t size = skewed_size(&rng);
    slots[s] = hn_bench_xmalloc(size);
    slots[s][0] = (char)(size & 127);
  }
  for (size_t s = 0; s < w->slots; s++) free(slots[s]);
  free(slots);
  w->check = check;
  return NULL;
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "alloctest", 1, &a);
  uint64_t ops = hn_bench_iters(&a, OPS_AT_SCALE_1, 1000);
  worker_t *ws = calloc(a.threads, sizeof *ws);
  if (ws == NULL) abort();
  for (unsigned t = 0; t < a.threads; t++) {
    ws[t].index = t;
    ws[t].slots = LIVE_TOTAL / a.threads;
    ws[t].ops = ops / a.threads;
  }
  hn_bench_run_threads(a.threads, run, ws, sizeof *ws);
  uint64_t check = 0;
  for (unsigned t = 0; t < a.threads; t++) check += ws[t].check;
  free(ws);
  hn_bench_result(" threads=%u ops=%llu live=%u check=%llu", a.threads,
                  (unsigned long long)ops, LIVE_TOTAL, (unsigned long long)check);
  return 0;
}
