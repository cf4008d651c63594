/*
 * prodcons: xmalloc-style producer/consumer. One thread mallocs objects (16 B..1 KiB)
 * and hands them over in blocks of 256 through a lock-free ring; the other thread frees
 * every one of them. This is where a thread cache that never sees its objects come
 * back, and a central list that takes them one by one, turn pathological.
 *
 *   prodcons [objects]      prints: prodcons <allocator> <objects> <ns per object>
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common.h"

#define BLOCK 256 /* objects handed over at once */
#define RING 64   /* blocks in flight */

typedef struct block {
  void *obj[BLOCK];
} block_t;

static block_t blocks[RING];
static atomic_long produced, consumed; /* blocks */
static long nblocks;

static void *consumer(void *arg) {
  (void)arg;
  for (long b = 0; b < nblocks; b++) {
    while (atomic_load_explicit(&produced, memory_order_acquire) <= b)
      sched_yield();
    block_t *blk = &blocks[b % RING];
    for (int i = 0; i < BLOCK; i++)
      free(blk->obj[i]);
    atomic_store_explicit(&consumed, b + 1, memory_order_release);
  }
  return NULL;
}

int main(int argc, char **argv) {
  long objects = argc > 1 ? atol(argv[1]) : 20000000;
  if (objects < BLOCK) {
    fprintf(stderr, "prodcons: error: bad object count\n");
    return 2;
  }
  nblocks = objects / BLOCK;
  pthread_t t;
  double t0 = now_seconds();
  pthread_create(&t, NULL, consumer, NULL);
  for (long b = 0; b < nblocks; b++) {
    while (b - atomic_load_explicit(&consumed, memory_order_acquire) >= RING)
      sched_yield();
    block_t *blk = &blocks[b % RING];
    for (int i = 0; i < BLOCK; i++) {
      char *p = malloc(16 + (size_t)((b * BLOCK + i) & 63) * 16);
      p[0] = 1;
      blk->obj[i] = p;
    }
    atomic_store_explicit(&produced, b + 1, memory_order_release);
  }
  pthread_join(t, NULL);
  double el = now_seconds() - t0;
  printf("prodcons %s %ld %.2f\n", allocator_name(), nblocks * BLOCK, el * 1e9 / (double)(nblocks * BLOCK));
  return 0;
}
