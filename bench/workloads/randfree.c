/*
 * randfree.c: the random-free test. Fill about 1 GiB (scale 1) of mixed sizes, free
 * 90 % of the objects chosen at random, idle, then allocate as many bytes again. The
 * survivors are scattered over every page, so no allocator can return whole spans; what
 * differs is how much of the holes it gives back (partial span release, purging free
 * pages) and how well the refill reuses them. RSS over time and RSS / live are printed.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((double)(1 << 20))
#define FILL_AT_SCALE_1 (1024 * MIB)
#define FREE_PERCENT 90
#define IDLE_AT_SCALE_1 2.0 /* seconds, as in the phase test */
#define SAMPLE_EVERY 0.1

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "randfree", 0, &a);
  uint64_t rng = hn_rng_seed(800);
  uint64_t target = (uint64_t)(FILL_AT_SCALE_1 * a.scale);
  size_t cap = 4096, n = 0;
  char **p = hn_bench_xmalloc(cap * sizeof *p);
  size_t *size = hn_bench_xmalloc(cap * sizeof *size);
  uint64_t live = 0;
  hn_bench_sample("start", 0);
  /* A sample per 64 MiB filled and per 1/16 of the frees: the curve, not just its ends. */
  const uint64_t sample_bytes = (uint64_t)64 << 20;
  uint64_t next_sample = sample_bytes;
  while (live < target) {
    if (live >= next_sample) {
      hn_bench_sample("fill", live);
      next_sample += sample_bytes;
    }
    if (n == cap) {
      cap *= 2;
      p = hn_bench_xrealloc(p, cap * sizeof *p);
      size = hn_bench_xrealloc(size, cap * sizeof *size);
    }
    size[n] = hn_bench_mixed_size(&rng);
    p[n] = hn_bench_xmalloc(size[n]);
    memset(p[n], (int)(n & 255), size[n]);
    live += size[n];
    n++;
  }
  uint64_t peak_live = live;
  hn_bench_sample("fill", live);
  uint64_t freed_bytes = 0;
  size_t step = n / 16 + 1;
  for (size_t i = 0; i < n; i++) {
    if (hn_rng_below(&rng, 100) < FREE_PERCENT) {
      free(p[i]);
      p[i] = NULL;
      freed_bytes += size[i];
    }
    if ((i + 1) % step == 0) hn_bench_sample("free", live - freed_bytes);
  }
  live -= freed_bytes;
  uint64_t rss_free = hn_bench_rss();
  hn_bench_sample("free", live);
  double idled = hn_bench_idle(IDLE_AT_SCALE_1 * a.scale, SAMPLE_EVERY, "idle", live);
  uint64_t rss_idle = hn_bench_rss();
  uint64_t live_idle = live;
  /* Refill the holes with as many bytes as were freed, new random sizes. */
  uint64_t refilled = 0;
  next_sample = sample_bytes;
  for (size_t i = 0; i < n && refilled < freed_bytes; i++) {
    if (p[i] != NULL) continue;
    if (refilled >= next_sample) {
      hn_bench_sample("refill", live + refilled);
      next_sample += sample_bytes;
    }
    size[i] = hn_bench_mixed_size(&rng);
    p[i] = hn_bench_xmalloc(size[i]);
    memset(p[i], (int)(i & 255), size[i]);
    refilled += size[i];
  }
  live += refilled;
  uint64_t rss_refill = hn_bench_rss();
  hn_bench_sample("refill", live);
  uint64_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != NULL) {
      bad += (unsigned char)p[i][size[i] - 1] != (i & 255);
      free(p[i]);
    }
  }
  free(p);
  free(size);
  if (bad != 0) {
    fprintf(stderr, "randfree: error: %llu live objects corrupted\n", (unsigned long long)bad);
    return 1;
  }
  hn_bench_result(" busy=%.6f peak_live=%llu live=%llu live_refill=%llu rss_free=%llu rss_idle=%llu"
                  " rss_refill=%llu ratio_idle=%.3f ratio_refill=%.3f",
                  hn_bench_elapsed() - idled, (unsigned long long)peak_live, (unsigned long long)live_idle,
                  (unsigned long long)live, (unsigned long long)rss_free,
                  (unsigned long long)rss_idle, (unsigned long long)rss_refill,
                  (double)rss_idle / (double)live_idle, (double)rss_refill / (double)live);
  return 0;
}
