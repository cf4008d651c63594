/*
 * binary_trees.c: a GCBench-like workload (the Benchmarks Game's binary-trees shape):
 * a stretch tree of depth max+1, a long-lived tree of depth max kept for the whole
 * run, and 2^(max-d+4) short-lived trees of each depth d = 4, 6, ..., max, each built
 * and checked. Nodes are two pointer words, allocated with a bitmap naming both (heron
 * keeps such an object in its 16 bytes, with no descriptor word; bdwgc's GC_MALLOC adds
 * a byte for pointers just past an object, so its nodes take 32: its "allocated"
 * figure is twice heron's). Prints the checks, then one line of figures: wall time,
 * CPU time, peak RSS, cycles and stop-the-world pauses.
 *
 *   binary_trees [max_depth]     (default 18; a max_depth of 4..30)
 *
 * Built a second time with -DBT_BDWGC against Debian's libgc (bdwgc) as
 * binary_trees_bdwgc, the same program on the other collector (GC_MALLOC, its
 * default conservative scanning, GC_get_full_gc_total_time for its pauses).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#ifdef BT_BDWGC
#include <gc/gc.h>
#define BT_NAME "bdwgc"
#define BT_ALLOC(size) GC_MALLOC(size)
#else
#include "heron/gc.h"
#define BT_NAME "heron"
#define BT_ALLOC(size) heron_gc_malloc_bitmap(size, 0x3) /* two pointer words */
#endif

typedef struct node {
  struct node *left, *right;
} node_t;

static node_t *make(int depth) {
  node_t *n = BT_ALLOC(sizeof *n);
  if (n == NULL) {
    fprintf(stderr, "binary_trees: error: out of memory\n");
    exit(1);
  }
  if (depth > 0) {
    n->left = make(depth - 1);
    n->right = make(depth - 1);
  }
  return n;
}

static long check(const node_t *n) {
  return 1 + (n->left ? check(n->left) + check(n->right) : 0);
}

static double now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int max = 18;
  if (argc > 2) {
    fprintf(stderr, "usage: binary_trees [max_depth]\n");
    return 2;
  }
  if (argc == 2) {
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (*end != 0 || v < 4 || v > 30) {
      fprintf(stderr, "binary_trees: error: %s: max_depth must be 4..30\n", argv[1]);
      return 2;
    }
    max = (int)v;
  }
#ifdef BT_BDWGC
  GC_INIT();
  GC_start_performance_measurement(); /* so GC_get_full_gc_total_time counts */
#else
  if (heron_gc_init(NULL) != 0) return 1;
#endif
  double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);

  printf("stretch tree of depth %d\t check: %ld\n", max + 1, check(make(max + 1)));
  node_t *volatile long_lived = make(max);
  for (int d = 4; d <= max; d += 2) {
    long iterations = 1L << (max - d + 4), sum = 0;
    for (long i = 0; i < iterations; i++) sum += check(make(d));
    printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d, sum);
  }
  printf("long lived tree of depth %d\t check: %ld\n", max, check(long_lived));

  double wall = now(CLOCK_MONOTONIC) - t0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
#ifdef BT_BDWGC
  unsigned long long cycles = (unsigned long long)GC_get_gc_no();
  double pause_total_ms = (double)GC_get_full_gc_total_time(), pause_max_ms = -1;
  unsigned long long alloc_mib = (unsigned long long)(GC_get_total_bytes() >> 20);
#else
  heron_gc_stats_t st;
  heron_gc_stats_get(&st);
  unsigned long long cycles = (unsigned long long)st.cycles;
  double pause_total_ms = (double)st.pause_total_ns / 1e6, pause_max_ms = (double)st.pause_max_ns / 1e6;
  unsigned long long alloc_mib = (unsigned long long)(st.bytes_allocated >> 20);
#endif
  printf("%s: wall %.3f s, cpu %.3f s, peak RSS %ld MiB, %llu cycles, pause total %.1f ms, "
         "max %.3f ms, mean %.3f ms, allocated %llu MiB\n",
         BT_NAME, wall, cpu, ru.ru_maxrss / 1024, cycles, pause_total_ms, pause_max_ms,
         cycles ? pause_total_ms / (double)cycles : 0.0, alloc_mib);
  return 0;
}
