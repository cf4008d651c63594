/*
 * alloc_test.h: what the allocator's API, stress, fork, thread, release and misuse tests share.
 *
 * Which names a test calls depends on the build (meson passes the macros):
 *   HERON_TEST_PREFIXED=1  sanitizer builds: the sanitizer owns malloc, so the tests call
 *                          heron_malloc and the rest of the prefixed API.
 *   HERON_TEST_PREFIXED=0  normal build: the test links libheron, which replaces malloc, so
 *                          the standard names are heron's and are what the tests call.
 * t_malloc & co below are those names.
 *
 * Also here: a pattern to fill objects with and check (the stress and fork tests), RSS read
 * from /proc, the time, and the scale factor meson passes for slow (sanitizer) builds.
 */
#ifndef HERON_TESTS_ALLOC_TEST_H
#define HERON_TESTS_ALLOC_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heron/heron.h"

#ifndef HERON_TEST_PREFIXED
#define HERON_TEST_PREFIXED 0
#endif

#if HERON_TEST_PREFIXED
#define t_malloc heron_malloc
#define t_free heron_free
#define t_calloc heron_calloc
#define t_realloc heron_realloc
#define t_usable heron_malloc_usable_size
#define t_trim heron_trim
#else
#include <malloc.h>
#define t_malloc malloc
#define t_free free
#define t_calloc calloc
#define t_realloc realloc
#define t_usable malloc_usable_size
#define t_trim malloc_trim
#endif

/* The multiplier of the golden ratio: spreads a seed's bits over a word. */
#define T_MIX 0x9E3779B97F4A7C15ull

static inline uint64_t t_hash(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb93fe1a85ec9ull;
  x ^= x >> 33;
  return x;
}

/* The seed of an object's pattern: its address, its size and who filled it, so that an
 * object handed to the wrong owner, moved without its contents, or overlapping another
 * fails the check. */
static inline uint64_t t_seed(const void *p, size_t size, unsigned owner) {
  return t_hash((uint64_t)(uintptr_t)p ^ ((uint64_t)size << 20) ^ ((uint64_t)owner << 52));
}

/* Word i of a pattern. */
static inline uint64_t t_word(uint64_t seed, size_t i) { return seed + (uint64_t)(i + 1) * T_MIX; }

/* Fill size bytes at p with the pattern of seed. */
static inline void t_fill(void *p, size_t size, uint64_t seed) {
  unsigned char *b = p;
  size_t words = size / 8, i;
  for (i = 0; i < words; i++) {
    uint64_t w = t_word(seed, i);
    memcpy(b + i * 8, &w, 8);
  }
  if (size % 8) {
    uint64_t w = t_word(seed, words);
    memcpy(b + words * 8, &w, size % 8);
  }
}

/* The offset of the first byte in [0, size) that differs from seed's pattern, or size if
 * none does. */
static inline size_t t_check(const void *p, size_t size, uint64_t seed) {
  const unsigned char *b = p;
  size_t words = size / 8, i;
  for (i = 0; i < words; i++) {
    uint64_t w = t_word(seed, i), got;
    memcpy(&got, b + i * 8, 8);
    if (got != w) {
      unsigned char want[8];
      size_t k;
      memcpy(want, &w, 8);
      for (k = 0; k < 8 && b[i * 8 + k] == want[k]; k++) {}
      return i * 8 + k;
    }
  }
  if (size % 8) {
    uint64_t w = t_word(seed, words);
    unsigned char want[8];
    size_t k;
    memcpy(want, &w, 8);
    for (k = 0; k < size % 8; k++)
      if (b[words * 8 + k] != want[k]) return words * 8 + k;
  }
  return size;
}

/* Monotonic time in seconds. */
static inline double t_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resident set size in bytes, from /proc/self/statm (read with a stack buffer, so reading
 * it never allocates). 0 if it cannot be read. */
static inline size_t t_rss(void) {
  char buf[128];
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  ssize_t n;
  unsigned long size = 0, resident = 0;
  if (fd < 0) return 0;
  n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  if (sscanf(buf, "%lu %lu", &size, &resident) != 2) return 0;
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* The scale of a test's work: HERON_TEST_SCALE from the environment (meson sets it lower in
 * sanitizer builds, where everything runs 5-20x slower), 1.0 when unset or malformed. */
static inline double t_scale(void) {
  const char *s = getenv("HERON_TEST_SCALE");
  char *end;
  double v;
  if (!s || !*s) return 1.0;
  v = strtod(s, &end);
  if (*end != '\0' || !(v > 0.0) || v > 100.0) return 1.0;
  return v;
}

/* n scaled, at least lo. */
static inline long t_scaled(long n, long lo) {
  long v = (long)((double)n * t_scale());
  return v < lo ? lo : v;
}

/* The sum the statistics promise equals mapped. */
static inline uint64_t t_stats_sum(const heron_stats_t *s) {
  return s->in_use + s->thread_caches + s->central_lists + s->free_resident + s->released +
         s->metadata;
}

#define T_KIB ((size_t)1 << 10)
#define T_MIB ((size_t)1 << 20)

#endif
