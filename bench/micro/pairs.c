/*
 * pairs: the single-thread fast path, malloc/free pairs of 16 B to 1 KiB (the size
 * cycles over 16, 32, ... 1024: 64 sizes). Two patterns:
 *   immediate  each object is freed right after it is made (glibc-simple-like);
 *   ring       each malloc replaces the oldest of 1024 live objects, so every size
 *              class keeps some objects live (closer to real programs, and it keeps an
 *              allocator from emptying and retiring a page on every pair).
 * Every object is written once so it is really used.
 *
 *   pairs immediate|ring [iterations]   prints: pairs-<pattern> <allocator> <iterations> <ns per pair>
 *
 * Built with -fno-builtin so the compiler cannot drop a pair. The allocator is chosen
 * with LD_PRELOAD (bench/micro/run.sh).
 */
#include <stdlib.h>

#include "common.h"

#define RING 1024

static void *ring[RING];

int main(int argc, char **argv) {
  if (argc < 2 || (strcmp(argv[1], "immediate") && strcmp(argv[1], "ring"))) {
    fprintf(stderr, "usage: pairs immediate|ring [iterations]\n");
    return 2;
  }
  int use_ring = !strcmp(argv[1], "ring");
  long iters = argc > 2 ? atol(argv[2]) : 50000000;
  if (iters <= 0) {
    fprintf(stderr, "pairs: error: bad iteration count\n");
    return 2;
  }
  void *volatile sink;
  double t0 = now_seconds();
  if (use_ring) {
    for (long i = 0; i < iters; i++) {
      size_t size = 16 + (size_t)(i & 63) * 16;
      free(ring[i & (RING - 1)]);
      char *p = malloc(size);
      p[0] = (char)i;
      ring[i & (RING - 1)] = p;
    }
  } else {
    for (long i = 0; i < iters; i++) {
      size_t size = 16 + (size_t)(i & 63) * 16;
      char *p = malloc(size);
      p[0] = (char)i;
      sink = p;
      free(p);
    }
  }
  double t = now_seconds() - t0;
  (void)sink;
  printf("pairs-%s %s %ld %.2f\n", argv[1], allocator_name(), iters, t * 1e9 / (double)iters);
  for (int i = 0; i < RING; i++)
    free(ring[i]);
  return 0;
}
