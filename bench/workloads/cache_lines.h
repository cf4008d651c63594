/*
 * cache_lines.h: what the two false-sharing workloads, cache-scratch and cache-thrash,
 * share: the worker's loop and the result line. They differ only in how the threads
 * come to hold objects of one cache line (see each file).
 */
#ifndef HN_BENCH_CACHE_LINES_H
#define HN_BENCH_CACHE_LINES_H

#include <stdlib.h>

#include "bench.h"

#define HN_CACHE_OBJECT_SIZE 8
#define HN_CACHE_WRITES 2000 /* writes per object: enough that sharing a line dominates */
/* Objects per thread at scale 1. */
#define HN_CACHE_OBJECTS_AT_SCALE_1 6e5

/* Allocates `objects` small objects one after another, writing each HN_CACHE_WRITES
 * times before freeing it. Inline, so the measured loop is compiled into each worker. */
static inline void hn_cache_write_objects(uint64_t objects) {
  for (uint64_t i = 0; i < objects; i++) {
    volatile char *p = hn_bench_xmalloc(HN_CACHE_OBJECT_SIZE);
    for (int k = 0; k < HN_CACHE_WRITES; k++)
      p[k & (HN_CACHE_OBJECT_SIZE - 1)] = (char)(p[0] + 1);
    free((void *)p);
  }
}

/* The result line: `threads` workers of `objects` objects each. */
static inline void hn_cache_result(unsigned threads, uint64_t objects) {
  hn_bench_result(" threads=%u objects=%llu writes=%llu", threads,
                  (unsigned long long)objects * threads,
                  (unsigned long long)objects * threads * HN_CACHE_WRITES);
}

#endif
