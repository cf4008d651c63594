/*
 * phase.c: the phase test. A program's first phase builds a large heap (about 1 GiB
 * of mixed sizes at scale 1), its second phase allocates about 100 MiB more, then the
 * whole first phase is freed. What the allocator does with the freed gigabyte is the
 * result: RSS right after the frees, after idling a few seconds (a background or
 * decay-based release gets its chance), and after malloc_trim(0) where the allocator
 * has one. RSS / live compares each with the bytes the program still holds.
 *
 * Every object is written in full, so RSS counts what a real program would touch.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((double)(1 << 20))
#define FIRST_AT_SCALE_1 (1024 * MIB)
#define SECOND_AT_SCALE_1 (100 * MIB)
/* Idle at scale 1: two seconds, a program between bursts of work (kept short so five
 * allocators times six rounds fit the full run). jemalloc's decay (10 s) would need
 * longer, which is the point: RSS while idle is what users see. */
#define IDLE_AT_SCALE_1 2.0
#define SAMPLE_EVERY 0.1

typedef struct heap {
  char **p;
  size_t n, cap;
  uint64_t bytes;
} heap_t;

/* Samples while filling and freeing: one per this many bytes, so the picture shows
 * the RSS curve and not just its end points. */
#define SAMPLE_BYTES ((uint64_t)64 << 20)

static void fill(heap_t *h, uint64_t target, uint64_t *rng, int salt, uint64_t base_live) {
  uint64_t next_sample = h->bytes + SAMPLE_BYTES;
  while (h->bytes < target) {
    if (h->bytes >= next_sample) {
      hn_bench_sample(salt == 1 ? "fill" : "fill2", base_live + h->bytes);
      next_sample += SAMPLE_BYTES;
    }
    if (h->n == h->cap) {
      h->cap = h->cap ? h->cap * 2 : 4096;
      h->p = hn_bench_xrealloc(h->p, h->cap * sizeof *h->p);
    }
    size_t size = hn_bench_mixed_size(rng);
    char *p = hn_bench_xmalloc(size);
    memset(p, salt, size);
    h->p[h->n++] = p;
    h->bytes += size;
  }
}

/* Free every object of h. With sample set, print 16 samples along the way; the live
 * bytes in them are estimated from the share of objects freed (sizes are not kept). */
static void release(heap_t *h, uint64_t other_live, int sample) {
  size_t step = h->n / 16 + 1;
  for (size_t i = 0; i < h->n; i++) {
    free(h->p[i]);
    if (sample && (i + 1) % step == 0)
      hn_bench_sample("free", other_live + (uint64_t)((double)h->bytes * (double)(h->n - i - 1) /
                                                      (double)h->n));
  }
  free(h->p);
  *h = (heap_t){0};
}

int main(int argc, char **argv) {
  hn_bench_args_t a;
  hn_bench_start(argc, argv, "phase", 0, &a);
  uint64_t rng = hn_rng_seed(700);
  heap_t first = {0}, second = {0};
  hn_bench_sample("start", 0);
  fill(&first, (uint64_t)(FIRST_AT_SCALE_1 * a.scale), &rng, 1, 0);
  hn_bench_sample("fill", first.bytes);
  fill(&second, (uint64_t)(SECOND_AT_SCALE_1 * a.scale), &rng, 2, first.bytes);
  uint64_t peak_live = first.bytes + second.bytes;
  hn_bench_sample("fill2", peak_live);
  release(&first, second.bytes, 1);
  uint64_t live = second.bytes;
  uint64_t rss_free = hn_bench_rss();
  hn_bench_sample("free", live);
  double idled = hn_bench_idle(IDLE_AT_SCALE_1 * a.scale, SAMPLE_EVERY, "idle", live);
  uint64_t rss_idle = hn_bench_rss();
  const char *who;
  int trimmed = hn_bench_trim(&who);
  uint64_t rss_trim = hn_bench_rss();
  hn_bench_sample("trim", live);
  hn_bench_allocator_report();
  /* The second phase is still in use: check it was not corrupted by the frees. */
  uint64_t bad = 0;
  for (size_t i = 0; i < second.n; i++) bad += second.p[i][0] != 2;
  release(&second, 0, 0);
  if (bad != 0) {
    fprintf(stderr, "phase: error: %llu live objects corrupted\n", (unsigned long long)bad);
    return 1;
  }
  hn_bench_result(" busy=%.6f live=%llu peak_live=%llu rss_free=%llu rss_idle=%llu rss_trim=%llu"
                  " ratio_free=%.3f ratio_idle=%.3f ratio_trim=%.3f trim=%s",
                  hn_bench_elapsed() - idled, (unsigned long long)live, (unsigned long long)peak_live,
                  (unsigned long long)rss_free, (unsigned long long)rss_idle,
                  (unsigned long long)rss_trim, (double)rss_free / (double)live,
                  (double)rss_idle / (double)live, (double)rss_trim / (double)live,
                  trimmed ? "yes" : "none");
  return 0;
}
