/*
 * common.h: what the micro benchmarks share: a monotonic clock, and the name of the
 * allocator that really serves malloc (read from /proc/self/maps, so a preload that did
 * not take effect is reported as glibc instead of silently measuring it).
 */
#ifndef BENCH_MICRO_COMMON_H
#define BENCH_MICRO_COMMON_H

#include <stdio.h>
#include <string.h>
#include <time.h>

static inline double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline const char *allocator_name(void) {
  static const char *names[] = {"libheron", "libjemalloc", "libmimalloc", "libtcmalloc"};
  static char line[512];
  FILE *f = fopen("/proc/self/maps", "r");
  const char *found = "glibc";
  if (!f)
    return "unknown";
  while (fgets(line, sizeof line, f)) {
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
      if (strstr(line, names[i])) {
        found = names[i] + 3;
        break;
      }
    }
  }
  fclose(f);
  return found;
}

#endif
