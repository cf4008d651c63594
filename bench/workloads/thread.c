/*
 * thread.c: glibc-thread-like. Each thread owns 1024 slots and replaces a random slot
 * with a new block of a random size from 4 bytes to 32 KiB, over and over. Sizes are
 * drawn log-uniformly (a random power-of-two band, then uniform inside it), so small
 * blocks are common and the large classes are still exercised. Run with 1 and 2 threads:
 * no object crosses threads, so 2 threads should take about the time of 1 on 2 cores.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1024
/* Replacements per thread at scale 1. */
#define OPS_AT_SCALE_1 2e7

typedef struct worker {
  unsigned index;
  uint64_t ops;
  uint64_t check;
} worker_t;

static size_t random_size(uint64_t *rng) {
  unsigned band = 2 + (unsigned)hn_rng_below(rng, 13); /* 4 B .. 16 KiB band starts */
  size_t size = ((size_t)1 << band) + (size_t)hn_rng_below(rng, (uint64_t)1 << band);
  return size > 32768 ? 32768 : size;
}

static void *run(void *arg) {
  worker_t *w = arg;
  uint64_t rng = hn_rng_seed(w->index);
  void **slots = calloc(SLOTS, sizeof *slots);
  if (slots == NULL) abort();
  uint64_t check = 0;
  for (uint64_t i = 0; i < w->ops; i++) {
    size_t s = (size_t)hn_rng_below(&rng, SLOTS);
    free(slots[s]);
    size_t size = random_size(&rng);
    char *p = hn_bench_xmalloc(size);
    p[0] = (char)i;
    p[size - 1] = (char)size;
    check += (unsigned char)p[size - 1];
    slots[s] = p;
  }
  for (size_t s = 0; s < SLOTS; s++) free(slots[s]);
  free(slots);
  w->check = check;
  return NULL;
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "thread", 1, &a);
  uint64_t ops = hn_bench_iters(&a, OPS_AT_SCALE_1, 1000);
  worker_t *ws = calloc(a.threads, sizeof *ws);
  if (ws == NULL) abort();
  for (unsigned t = 0; t < a.threads; t++) {
    ws[t].index = t;
    ws[t].ops = ops;
  }
  hn_bench_run_threads(a.threads, run, ws, sizeof *ws);
  uint64_t check = 0;
  for (unsigned t = 0; t < a.threads; t++) check += ws[t].check;
  free(ws);
  hn_bench_result(" threads=%u ops=%llu check=%llu", a.threads,
                  (unsigned long long)ops * a.threads, (unsigned long long)check);
  return 0;
}
