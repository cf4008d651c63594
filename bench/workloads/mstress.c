/*
 * mstress.c: mstress-like. Generations of threads work on shared tables of blocks:
 * each operation frees, allocates, or reallocs a random entry (sizes mostly 8 B - 2 KiB,
 * one in 2,000 a huge block of 1-4 MiB), and a thread exits with its blocks still live;
 * the next generation's threads pick up the tables in a new order. Heavy realloc, frees
 * of blocks from dead threads, and rare huge blocks that should not bloat the heap.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 10000        /* blocks per table */
#define OPS_PER_LIFE 50000 /* operations per thread lifetime */
#define HUGE_ONE_IN 2000   /* rare huge blocks: frequent enough to matter, rare enough to be rare */
/* Thread lifetimes at scale 1, over all threads. */
#define LIVES_AT_SCALE_1 300

typedef struct entry {
  char *p;
  size_t size;
} entry_t;

typedef struct table {
  entry_t e[SLOTS];
  uint64_t rng;
} table_t;

typedef struct worker {
  table_t *table;
  uint64_t check;
} worker_t;

static size_t pick_size(uint64_t *rng) {
  if (hn_rng_below(rng, HUGE_ONE_IN) == 0)
    return ((size_t)1 << 20) + (size_t)hn_rng_below(rng, 3u << 20);
  unsigned band = 3 + (unsigned)hn_rng_below(rng, 8); /* 8 B .. 1 KiB band starts */
  return ((size_t)1 << band) + (size_t)hn_rng_below(rng, (uint64_t)1 << band);
}

static void *run(void *arg) {
  worker_t *w = arg;
  table_t *t = w->table;
  uint64_t check = 0;
  for (int i = 0; i < OPS_PER_LIFE; i++) {
    entry_t *e = &t->e[hn_rng_below(&t->rng, SLOTS)];
    unsigned op = (unsigned)hn_rng_below(&t->rng, 10);
    if (e->p != NULL) check += (unsigned char)e->p[e->size - 1];
    if (op < 2) { /* free */
      free(e->p);
      e->p = NULL;
      e->size = 0;
    } else if (op < 5 && e->p != NULL) { /* realloc to a new size, keep the head */
      size_t size = pick_size(&t->rng);
      e->p = hn_bench_xrealloc(e->p, size);
      e->size = size;
      e->p[size - 1] = (char)size;
    } else { /* replace */
      free(e->p);
      e->size = pick_size(&t->rng);
      e->p = hn_bench_xmalloc(e->size);
      memset(e->p, (int)(e->size & 255), e->size < 64 ? e->size : 64);
      e->p[e->size - 1] = (char)e->size;
    }
  }
  w->check += check;
  return NULL;
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "mstress", 2, &a);
  uint64_t generations = hn_bench_iters(&a, LIVES_AT_SCALE_1, (uint64_t)a.threads * 2) / a.threads;
  table_t *tables = calloc(a.threads, sizeof *tables);
  worker_t *ws = calloc(a.threads, sizeof *ws);
  if (tables == NULL || ws == NULL) abort();
  for (unsigned t = 0; t < a.threads; t++) tables[t].rng = hn_rng_seed(400 + t);
  for (uint64_t g = 0; g < generations; g++) {
    for (unsigned t = 0; t < a.threads; t++) ws[t].table = &tables[(t * 7 + g) % a.threads];
    hn_bench_run_threads(a.threads, run, ws, sizeof *ws);
  }
  uint64_t check = 0;
  for (unsigned t = 0; t < a.threads; t++) {
    check += ws[t].check;
    for (size_t s = 0; s < SLOTS; s++) free(tables[t].e[s].p);
  }
  free(tables);
  free(ws);
  hn_bench_result(" threads=%u lives=%llu check=%llu", a.threads,
                  (unsigned long long)(generations * a.threads), (unsigned long long)check);
  return 0;
}
