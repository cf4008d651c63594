/*
 * rptest.c: rptest-like. Each thread keeps a window of blocks of 8 B - 16,000 B
 * (log-uniform, so small blocks dominate by count and large ones by bytes), writes into
 * every block it gets, and frees the oldest. One block in four is not freed by its owner
 * but mailed to the next thread, which frees it: steady cross-thread frees mixed with
 * local ones, with the memory touched as a real program would.
 */
#include "bench.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 4096          /* live blocks per thread */
#define MAIL_BATCH 128       /* blocks per mailing */
/* Allocations per thread at scale 1. */
#define OPS_AT_SCALE_1 4.5e6

typedef struct block {
  struct block *next;
} block_t;

/* A thread's inbox. Once its owner has finished (closed), senders free their batch
 * themselves, so a thread that finishes early does not leave mail piling up. */
typedef struct mailbox {
  pthread_mutex_t lock;
  block_t *list;
  int closed;
} mailbox_t;

typedef struct worker {
  unsigned index, count;
  uint64_t ops;
  mailbox_t *boxes;
  uint64_t check;
} worker_t;

static size_t pick_size(uint64_t *rng) {
  unsigned band = 3 + (unsigned)hn_rng_below(rng, 11); /* 8 B .. 8 KiB band starts */
  size_t size = ((size_t)1 << band) + (size_t)hn_rng_below(rng, (uint64_t)1 << band);
  return size > 16000 ? 16000 : size;
}

static void free_list(block_t *b) {
  while (b != NULL) {
    block_t *next = b->next;
    free(b);
    b = next;
  }
}

static void *run(void *arg) {
  worker_t *w = arg;
  uint64_t rng = hn_rng_seed(500 + w->index);
  char **window = calloc(WINDOW, sizeof *window);
  if (window == NULL) abort();
  mailbox_t *out = &w->boxes[(w->index + 1) % w->count];
  mailbox_t *in = &w->boxes[w->index];
  block_t *outgoing = NULL;
  unsigned outgoing_n = 0;
  uint64_t check = 0;
  for (uint64_t i = 0; i < w->ops; i++) {
    size_t slot = (size_t)(i % WINDOW);
    char *old = window[slot];
    if (old != NULL) {
      check += (unsigned char)old[0];
      if (hn_rng_below(&rng, 4) == 0) {
        block_t *b = (block_t *)(void *)old;
        b->next = outgoing;
        outgoing = b;
        if (++outgoing_n == MAIL_BATCH) {
          pthread_mutex_lock(&out->lock);
          if (out->closed) {
            pthread_mutex_unlock(&out->lock);
            free_list(outgoing);
          } else {
            block_t *tail = outgoing;
            while (tail->next != NULL) tail = tail->next;
            tail->next = out->list;
            out->list = outgoing;
            pthread_mutex_unlock(&out->lock);
          }
          outgoing = NULL;
          outgoing_n = 0;
        }
      } else {
        free(old);
      }
    }
    size_t size = pick_size(&rng);
    char *p = hn_bench_xmalloc(size);
    memset(p, (int)(i & 255), size < 256 ? size : 256);
    p[size - 1] = 1;
    window[slot] = p;
    if ((i & 1023) == 0) {
      pthread_mutex_lock(&in->lock);
      block_t *mail = in->list;
      in->list = NULL;
      pthread_mutex_unlock(&in->lock);
      free_list(mail);
    }
  }
  pthread_mutex_lock(&in->lock);
  in->closed = 1;
  block_t *mail = in->list;
  in->list = NULL;
  pthread_mutex_unlock(&in->lock);
  free_list(mail);
  free_list(outgoing);
  for (size_t s = 0; s < WINDOW; s++) free(window[s]);
  free(window);
  w->check = check;
  return NULL;
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "rptest", 2, &a);
  uint64_t ops = hn_bench_iters(&a, OPS_AT_SCALE_1, 2 * WINDOW);
  worker_t *ws = calloc(a.threads, sizeof *ws);
  mailbox_t *boxes = calloc(a.threads, sizeof *boxes);
  if (ws == NULL || boxes == NULL) abort();
  for (unsigned t = 0; t < a.threads; t++) pthread_mutex_init(&boxes[t].lock, NULL);
  for (unsigned t = 0; t < a.threads; t++)
    ws[t] = (worker_t){.index = t, .count = a.threads, .ops = ops, .boxes = boxes};
  hn_bench_run_threads(a.threads, run, ws, sizeof *ws);
  uint64_t check = 0;
  for (unsigned t = 0; t < a.threads; t++) check += ws[t].check;
  for (unsigned t = 0; t < a.threads; t++) free_list(boxes[t].list);
  free(boxes);
  free(ws);
  hn_bench_result(" threads=%u ops=%llu check=%llu", a.threads,
                  (unsigned long long)ops * a.threads, (unsigned long long)check);
  return 0;
}
