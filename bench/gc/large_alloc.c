/*
 * large_alloc.c: what a large heron_gc_malloc costs when its pages come fresh from the
 * OS, and what it leaves resident. COUNT objects of SIZE bytes are allocated and kept
 * (GOGC=off: no cycle runs), the program touching only each one's first word, as a
 * program that allocates a buffer and fills it later, or never wholly. Prints the
 * median time of an allocation and the resident memory the allocations added.
 *
 *   large_alloc [SIZE_KIB [COUNT]]     (defaults 1024 and 256: 256 MiB)
 *
 * A collector that zeroes every object writes every page of the buffer: RSS grows by
 * the whole COUNT * SIZE and each allocation pays its page faults. Pages the page heap
 * knows are zero (fresh from the OS, or released since) need no zeroing (gc/heap.c,
 * needzero; Go's mspan.needzero), and RSS grows by what the program touches.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "heron/gc.h"

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f == NULL) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  long size_kib = argc > 1 ? atol(argv[1]) : 1024;
  long count = argc > 2 ? atol(argv[2]) : 256;
  if (size_kib < 33 || size_kib > (1L << 20) || count < 1 || count > 100000) {
    fprintf(stderr, "usage: large_alloc [SIZE_KIB (33..1048576) [COUNT (1..100000)]]\n");
    return 2;
  }
  heron_gc_config_t cfg = {.gogc = -1, .memory_limit = -1};
  if (heron_gc_init(&cfg) != 0) {
    fprintf(stderr, "large_alloc: heron_gc_init failed\n");
    return 1;
  }
  size_t size = (size_t)size_kib << 10;
  void **keep = calloc((size_t)count, sizeof *keep);
  int64_t *ns = calloc((size_t)count, sizeof *ns);
  if (keep == NULL || ns == NULL || heron_gc_add_root(keep, (size_t)count * sizeof *keep) != 0) {
    fprintf(stderr, "large_alloc: out of memory\n");
    return 1;
  }
  long rss0 = rss_kib();
  for (long i = 0; i < count; i++) {
    int64_t t0 = now_ns();
    char *p = heron_gc_malloc_noscan(size);
    ns[i] = now_ns() - t0;
    if (p == NULL) {
      fprintf(stderr, "large_alloc: allocation %ld failed\n", i);
      return 1;
    }
    p[0] = 1;
    keep[i] = p;
  }
  long rss1 = rss_kib();
  qsort(ns, (size_t)count, sizeof *ns, cmp_i64);
  printf("large_alloc: %ld objects of %ld KiB: median %.1f us an allocation, "
         "RSS +%.1f MiB\n", count, size_kib, (double)ns[count / 2] / 1e3,
         (double)(rss1 - rss0) / 1024);
  heron_gc_remove_root(keep);
  free(keep);
  free(ns);
  return 0;
}
