/*
 * large.c: malloc-large. Blocks of 5-25 MiB, a few live at a time, each written one
 * byte per 4 KiB page as a program filling a buffer would. Whether the allocator keeps
 * freed large blocks mapped (fast reuse, higher RSS), unmaps them (a fault per page on
 * reuse), or zeroes them shows up here as sys time, minor faults and peak RSS.
 */
#include "bench.h"

#include <stdlib.h>

#define LIVE 4            /* blocks live at once */
#define MIB ((size_t)1 << 20)
#define TOUCH_STRIDE 4096 /* the kernel's page: one write faults in one page */
/* Blocks allocated at scale 1. */
#define BLOCKS_AT_SCALE_1 60

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "large", 0, &a);
  uint64_t blocks = hn_bench_iters(&a, BLOCKS_AT_SCALE_1, 8);
  uint64_t rng = hn_rng_seed(600);
  char *live[LIVE] = {0};
  uint64_t check = 0, bytes = 0;
  for (uint64_t i = 0; i < blocks; i++) {
    size_t slot = (size_t)(i % LIVE);
    free(live[slot]);
    size_t size = 5 * MIB + (size_t)hn_rng_below(&rng, 20 * MIB + 1);
    char *p = hn_bench_xmalloc(size);
    for (size_t off = 0; off < size; off += TOUCH_STRIDE) p[off] = (char)off;
    check += (unsigned char)p[size / 2];
    bytes += size;
    live[slot] = p;
  }
  for (size_t s = 0; s < LIVE; s++) free(live[s]);
  hn_bench_result(" blocks=%llu bytes=%llu check=%llu", (unsigned long long)blocks,
                  (unsigned long long)bytes, (unsigned long long)check);
  return 0;
}
