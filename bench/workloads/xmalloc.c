/*
 * xmalloc.c: xmalloc-like. Producer threads allocate blocks (16-256 B) and hand them,
 * in batches, through a shared queue to consumer threads, which free them. Every free
 * is remote, always in the same direction, so an allocator must move memory back from
 * the consumer to the producer cheaply or grow without bound. THREADS is split evenly
 * between producers and consumers (at least one of each).
 */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define BATCH 64             /* blocks per hand-over, as a server's request batch */
#define QUEUE_LIMIT 256      /* batches in flight; producers wait beyond this */
/* Blocks produced at scale 1, over all producers. */
#define BLOCKS_AT_SCALE_1 8e6

/* A block carries the next pointer of its batch in its first word. */
typedef struct block {
  struct block *next;
} block_t;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t not_empty, not_full;
  block_t *batch[QUEUE_LIMIT];
  size_t head, count;
  unsigned producers_left;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
       {0}, 0, 0, 0};

typedef struct worker {
  pthread_t tid;
  unsigned index;
  uint64_t batches;
  uint64_t freed;
} worker_t;

static void *produce(void *arg) {
  worker_t *w = arg;
  uint64_t rng = hn_rng_seed(300 + w->index);
  for (uint64_t b = 0; b < w->batches; b++) {
    block_t *list = NULL;
    for (int i = 0; i < BATCH; i++) {
      size_t size = 16 + (size_t)hn_rng_below(&rng, 256 - 16 + 1);
      block_t *blk = hn_bench_xmalloc(size);
      blk->next = list;
      list = blk;
    }
    pthread_mutex_lock(&q.lock);
    while (q.count == QUEUE_LIMIT) pthread_cond_wait(&q.not_full, &q.lock);
    q.batch[(q.head + q.count) % QUEUE_LIMIT] = list;
    q.count++;
    pthread_cond_signal(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
  }
  pthread_mutex_lock(&q.lock);
  q.producers_left--;
  pthread_cond_broadcast(&q.not_empty);
  pthread_mutex_unlock(&q.lock);
  return NULL;
}

static void *consume(void *arg) {
  worker_t *w = arg;
  for (;;) {
    pthread_mutex_lock(&q.lock);
    while (q.count == 0 && q.producers_left > 0) pthread_cond_wait(&q.not_empty, &q.lock);
    if (q.count == 0) {
      pthread_mutex_unlock(&q.lock);
      return NULL;
    }
    block_t *list = q.batch[q.head];
    q.head = (q.head + 1) % QUEUE_LIMIT;
    q.count--;
    pthread_cond_signal(&q.not_full);
    pthread_mutex_unlock(&q.lock);
    while (list != NULL) {
      block_t *next = list->next;
      free(list);
      w->freed++;
      list = next;
    }
  }
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "xmalloc", 2, &a);
  unsigned producers = a.threads / 2 > 0 ? a.threads / 2 : 1;
  unsigned consumers = a.threads - producers > 0 ? a.threads - producers : 1;
  uint64_t batches = hn_bench_iters(&a, BLOCKS_AT_SCALE_1 / BATCH, producers) / producers;
  worker_t *ws = calloc(producers + consumers, sizeof *ws);
  if (ws == NULL) abort();
  q.producers_left = producers;
  for (unsigned t = 0; t < producers + consumers; t++) {
    ws[t].index = t;
    ws[t].batches = batches;
    hn_bench_spawn(&ws[t].tid, t < producers ? produce : consume, &ws[t]);
  }
  uint64_t freed = 0;
  for (unsigned t = 0; t < producers + consumers; t++) {
    pthread_join(ws[t].tid, NULL);
    freed += ws[t].freed;
  }
  free(ws);
  uint64_t made = batches * producers * BATCH;
  if (freed != made) {
    fprintf(stderr, "xmalloc: error: %llu blocks made, %llu freed\n", (unsigned long long)made,
            (unsigned long long)freed);
    return 1;
  }
  hn_bench_result(" producers=%u consumers=%u blocks=%llu", producers, consumers,
                  (unsigned long long)made);
  return 0;
}
