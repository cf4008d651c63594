/*
 * larson.c: larson-like. A server's life: worker threads each own a table of blocks
 * (16 B - 1 KiB) and replace random entries; after a fixed number of replacements a
 * worker exits and a new thread takes over a *different* worker's table. So most frees
 * are of blocks another, often dead, thread allocated, and threads come and go all the
 * time. This is where allocators that bind memory to threads leak or stall.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>

#define SLOTS 2000           /* blocks per table, as a server's per-connection state */
#define OPS_PER_LIFE 20000   /* replacements a thread does before it exits */
/* Thread lifetimes at scale 1, over all workers. */
#define LIVES_AT_SCALE_1 2000

typedef struct table {
  char *slot[SLOTS];
  uint64_t rng;
} table_t;

typedef struct worker {
  table_t *table;
  uint64_t check;
} worker_t;

static void *run(void *arg) {
  worker_t *w = arg;
  table_t *t = w->table;
  uint64_t check = 0;
  for (int i = 0; i < OPS_PER_LIFE; i++) {
    size_t s = (size_t)hn_rng_below(&t->rng, SLOTS);
    if (t->slot[s] != NULL) check += (unsigned char)t->slot[s][0];
    free(t->slot[s]);
    size_t size = 16 + (size_t)hn_rng_below(&t->rng, 1024 - 16 + 1);
    t->slot[s] = hn_bench_xmalloc(size);
    t->slot[s][0] = (char)size;
  }
  w->check += check;
  return NULL;
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "larson", 2, &a);
  uint64_t lives = hn_bench_iters(&a, LIVES_AT_SCALE_1, (uint64_t)a.threads * 2);
  uint64_t generations = lives / a.threads;
  table_t *tables = calloc(a.threads, sizeof *tables);
  worker_t *ws = calloc(a.threads, sizeof *ws);
  if (tables == NULL || ws == NULL) abort();
  for (unsigned t = 0; t < a.threads; t++) tables[t].rng = hn_rng_seed(200 + t);
  for (uint64_t g = 0; g < generations; g++) {
    /* Rotate: this generation's thread t works on the table thread t-1 left behind. */
    for (unsigned t = 0; t < a.threads; t++) ws[t].table = &tables[(t + g) % a.threads];
    hn_bench_run_threads(a.threads, run, ws, sizeof *ws);
  }
  uint64_t check = 0;
  for (unsigned t = 0; t < a.threads; t++) {
    check += ws[t].check;
    for (size_t s = 0; s < SLOTS; s++) free(tables[t].slot[s]);
  }
  free(tables);
  free(ws);
  hn_bench_result(" threads=%u lives=%llu ops=%llu check=%llu", a.threads,
                  (unsigned long long)(generations * a.threads),
                  (unsigned long long)(generations * a.threads * OPS_PER_LIFE),
                  (unsigned long long)check);
  return 0;
}
