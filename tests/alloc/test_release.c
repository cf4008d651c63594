/*
 * test_release.c: memory goes back to the OS.
 *
 * 64 MiB of small objects and 64 MiB of large ones are allocated and written, then freed:
 * RSS (from /proc/self/statm) must fall by at least half of that without malloc_trim (the
 * hard cap releases at once what is above it; pages free for HERON_DECAY_MS go at a later
 * free, so while it waits, up to 3 s, the test frees a large block now and then, as a
 * running program would), and after malloc_trim(0) by nearly all of it; heron's released bytes grow by as much and
 * no free page is left resident.
 * With HERON_RELEASE=free heron returns pages with MADV_FREE, which leaves them resident
 * until the kernel needs them: RSS is not checked then, but the statistics must still count
 * the pages as released.
 * The drops are measured from the peak, not against the start: ThreadSanitizer's shadow of
 * the written memory stays resident and would hide a return to the starting RSS.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_test.h"

#define SMALL_SIZE 64
#define LARGE_SIZE (4 * T_MIB)
#define MAX_LARGE 16
/* 64 MiB in 64-byte objects and 64 MiB in 4 MiB objects; in sanitizer builds (scale 0.2)
 * 16 MiB of each, which is still far above the few MiB caches and metadata keep. */
static size_t small_count, large_count, total;
static void *volatile poke;

static int lazy_release(void) {
  const char *r = getenv("HERON_RELEASE");
  return r && strcmp(r, "free") == 0;
}

static void print_rss(const char *when, size_t rss) {
  print_message("%-28s RSS %6zu MiB\n", when, rss >> 20);
}

static void print_stats(const char *when, const heron_stats_t *s) {
  print_message("%-28s mapped %zu MiB, in_use %zu MiB, free_resident %zu MiB, released %zu MiB\n",
                when, (size_t)s->mapped >> 20, (size_t)s->in_use >> 20,
                (size_t)s->free_resident >> 20, (size_t)s->released >> 20);
}

static void release_after_free_and_trim(void **state) {
  void **small, *large[MAX_LARGE];
  size_t i, peak, after_free, after_trim;
  double deadline;
  heron_stats_t s_peak, s_free, s_trim;
  (void)state;
  small_count = (size_t)t_scaled(1 << 20, 1 << 18);
  large_count = (size_t)t_scaled(MAX_LARGE, 4);
  if (large_count > MAX_LARGE) large_count = MAX_LARGE;
  total = small_count * SMALL_SIZE + large_count * LARGE_SIZE;
  /* The array of pointers is a mapping of its own, so it does not sit among the objects. */
  small = t_malloc(small_count * sizeof *small);
  assert_non_null(small);
  for (i = 0; i < small_count; i++) {
    small[i] = t_malloc(SMALL_SIZE);
    assert_non_null(small[i]);
    memset(small[i], (int)(i | 1), SMALL_SIZE);
  }
  for (i = 0; i < large_count; i++) {
    large[i] = t_malloc(LARGE_SIZE);
    assert_non_null(large[i]);
    memset(large[i], (int)(i | 1), LARGE_SIZE);
  }
  peak = t_rss();
  print_message("allocated %zu MiB\n", total >> 20);
  print_rss("after allocating", peak);
  heron_stats_get(&s_peak);
  print_stats("", &s_peak);
  assert_true(s_peak.in_use >= total);

  for (i = 0; i < small_count; i++) t_free(small[i]);
  for (i = 0; i < large_count; i++) t_free(large[i]);
  /* Give the decay up to 3 s to release half (in the statistics, and in RSS unless
   * MADV_FREE leaves the pages resident); it runs on a free, so one large block (a span
   * of its own) is taken and given back every 50 ms. */
  deadline = t_now() + 3.0;
  do {
    after_free = t_rss();
    heron_stats_get(&s_free);
    if (s_free.released >= s_peak.released + total / 2 &&
        (lazy_release() || after_free + total / 2 <= peak))
      break;
    usleep(50 * 1000);
    poke = t_malloc(LARGE_SIZE); /* through a volatile, so the pair is not optimised away */
    t_free(poke);
  } while (t_now() < deadline);
  print_rss("after freeing it", after_free);
  heron_stats_get(&s_free);
  print_stats("", &s_free);
  assert_int_equal(t_stats_sum(&s_free), s_free.mapped);
  /* The release policy: at least half of what was freed is released, and what stays free
   * but resident is bounded. */
  if (s_free.released < s_peak.released + total / 2)
    fail_msg("released %llu -> %llu after freeing %zu MiB", (unsigned long long)s_peak.released,
             (unsigned long long)s_free.released, total >> 20);
  assert_true(s_free.released_total > s_peak.released_total);
  assert_true(s_free.os_release_calls > s_peak.os_release_calls);
  if (!lazy_release() && after_free + total / 2 > peak)
    fail_msg("RSS fell from %zu MiB only to %zu MiB after freeing %zu MiB", peak >> 20,
             after_free >> 20, total >> 20);

  t_free(small);
  assert_int_equal(t_trim(0), 1);
  after_trim = t_rss();
  print_rss("after malloc_trim(0)", after_trim);
  heron_stats_get(&s_trim);
  print_stats("", &s_trim);
  assert_int_equal(t_stats_sum(&s_trim), s_trim.mapped);
  /* trim gives back every free page. */
  assert_int_equal(s_trim.free_resident, 0);
  assert_true(s_trim.released >= s_free.released);
  assert_true(s_trim.released >= total * 9 / 10);
  if (!lazy_release()) {
    /* Nearly all of it: what stays is the objects' caches and heron's metadata. */
    if (after_trim + total * 9 / 10 > peak)
      fail_msg("RSS fell from %zu MiB only to %zu MiB after malloc_trim(0)", peak >> 20,
               after_trim >> 20);
    assert_true(after_trim <= after_free + T_MIB);
  }
}

/* Memory released can be used again: allocating the same again after a trim works, and
 * the objects read as what was written (MADV_DONTNEED pages come back zero; MADV_FREE
 * pages may come back with old contents, which is why calloc must not trust them). */
static void reuse_after_release(void **state) {
  enum { N = 64 };
  unsigned char *p[N];
  size_t i, j;
  (void)state;
  for (i = 0; i < N; i++) {
    p[i] = t_malloc(T_MIB);
    assert_non_null(p[i]);
    memset(p[i], 0xee, T_MIB);
  }
  for (i = 0; i < N; i++) t_free(p[i]);
  t_trim(0);
  for (i = 0; i < N; i++) {
    p[i] = t_calloc(1, T_MIB);
    assert_non_null(p[i]);
    for (j = 0; j < T_MIB; j += 512)
      if (p[i][j]) fail_msg("calloc after trim: object %zu byte %zu is %#x", i, j, p[i][j]);
    t_fill(p[i], T_MIB, i);
  }
  for (i = 0; i < N; i++) {
    assert_int_equal(t_check(p[i], T_MIB, i), T_MIB);
    t_free(p[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(release_after_free_and_trim),
      cmocka_unit_test(reuse_after_release),
  };
  return cmocka_run_group_tests_name(lazy_release() ? "release (MADV_FREE)" : "release", tests,
                                     NULL, NULL);
}
