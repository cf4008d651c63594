/*
 * simple.c: glibc-simple-like. The raw fast path: malloc/free pairs of 16-64 bytes,
 * one at a time and in small bursts, on one thread. Nothing is ever freed remotely and
 * nothing stays live, so this measures the cost of one trip through the thread cache.
 */
#include "bench.h"

#include <stdlib.h>

/* Pairs at scale 1: about a second on the fastest allocators at ~10 ns a pair. */
#define PAIRS_AT_SCALE_1 1.5e8
/* A burst holds this many objects live at once: enough to walk a free list, few
 * enough to stay in the thread cache of every allocator. */
#define BURST 16

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "simple", 0, &a);
  uint64_t pairs = hn_bench_iters(&a, PAIRS_AT_SCALE_1, 1000);
  uint64_t sum = 0;
  void *burst[BURST];
  for (uint64_t i = 0; i < pairs;) {
    if ((i & 255) < 128) {
      /* Single pairs: the size cycles over 16, 32, 48, 64 bytes. */
      size_t size = 16 + (size_t)(i & 3) * 16;
      char *p = malloc(size);
      p[0] = (char)i;
      hn_bench_use(p);
      sum += (uint64_t)(unsigned char)p[0];
      free(p);
      i++;
    } else {
      for (int k = 0; k < BURST; k++) {
        char *p = malloc(16 + (size_t)(k & 3) * 16);
        p[0] = (char)k;
        burst[k] = p;
      }
      for (int k = BURST - 1; k >= 0; k--) {
        sum += (uint64_t)(unsigned char)((char *)burst[k])[0];
        free(burst[k]);
      }
      i += BURST;
    }
  }
  hn_bench_result(" pairs=%llu check=%llu", (unsigned long long)pairs, (unsigned long long)sum);
  return 0;
}
