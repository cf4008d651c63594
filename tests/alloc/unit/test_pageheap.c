/*
 * test_pageheap: spans come out of the page heap best-fit, go back coalesced with
 * their free neighbours, honour alignment, and the release policy and released-page
 * accounting match what was touched and given back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "alloc/internal.h"
#include "alloc/pageheap.h"
#include "alloc/pagemap.h"
#include "heron/heron.h"

#define PG HN_PAGE_SIZE

static int verify(void) {
  hn_pageheap_lock();
  int bad = hn_pageheap_verify_locked();
  hn_pageheap_unlock();
  return bad;
}

static hn_pageheap_stats_t stats(void) {
  hn_pageheap_stats_t s;
  hn_pageheap_lock();
  hn_pageheap_stats_locked(&s);
  hn_pageheap_unlock();
  return s;
}

/* Options under which only the caps release anything at a free: no floor, and a run
 * stays young for a minute; nothing is free resident to begin with. Returns the
 * options to restore. */
static hn_options_t release_by_caps(void) {
  hn_options_t saved = hn_opt;
  hn_pageheap_release_all();
  hn_opt.retain_percent = 0;
  hn_opt.retain_min = 0;
  hn_opt.decay_ms = 60000;
  return saved;
}

static void test_coalesce(void **state) {
  (void)state;
  hn_span_t *a = hn_pageheap_alloc(1, 1, HN_SPAN_LARGE);
  hn_span_t *b = hn_pageheap_alloc(3, 1, HN_SPAN_LARGE);
  hn_span_t *c = hn_pageheap_alloc(2, 1, HN_SPAN_LARGE);
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(c);
  uintptr_t a_start = a->start;
  /* Best fit from one free run at the lowest address: consecutive. */
  assert_int_equal(b->start, a->start + PG);
  assert_int_equal(c->start, b->start + 3 * PG);
  for (uintptr_t p = b->start; p < hn_span_end(b); p += 1024)
    assert_ptr_equal(hn_pagemap_lookup(p), b);
  assert_int_equal(verify(), 0);

  hn_pageheap_free(b); /* a hole of 3 pages between a and c */
  assert_int_equal(verify(), 0);
  hn_span_t *hole = hn_pagemap_lookup(a_start + PG);
  assert_non_null(hole);
  assert_int_equal(hole->state, HN_SPAN_FREE);
  assert_int_equal(hole->npages, 3);
  assert_null(hn_pagemap_lookup(a_start + 2 * PG)); /* interior of a free run */

  hn_span_t *b2 = hn_pageheap_alloc(3, 1, HN_SPAN_LARGE); /* best fit: the hole */
  assert_int_equal(b2->start, a_start + PG);
  hn_pageheap_free(b2);

  hn_pageheap_free(a); /* merges with the hole: 4 pages from a_start */
  hn_span_t *run = hn_pagemap_lookup(a_start);
  assert_int_equal(run->state, HN_SPAN_FREE);
  assert_int_equal(run->start, a_start);
  assert_int_equal(run->npages, 4);
  assert_int_equal(verify(), 0);

  hn_pageheap_free(c); /* and everything with the rest of the reservation */
  assert_int_equal(verify(), 0);
  run = hn_pagemap_lookup(a_start);
  assert_true(run->npages >= 64 * 128);
  assert_ptr_equal(hn_pagemap_lookup(hn_span_end(run) - 1), run);
}

static void test_alignment(void **state) {
  (void)state;
  hn_span_t *small = hn_pageheap_alloc(1, 1, HN_SPAN_LARGE);
  for (uintptr_t align = 2; align <= 256; align *= 2) {
    hn_span_t *s = hn_pageheap_alloc(3, align, HN_SPAN_LARGE);
    assert_non_null(s);
    assert_int_equal(s->start % (align * PG), 0);
    assert_int_equal(s->npages, 3);
    hn_pageheap_free(s);
    assert_int_equal(verify(), 0);
  }
  hn_pageheap_free(small);
  assert_int_equal(verify(), 0);
}

static void test_release_and_zero(void **state) {
  (void)state;
  hn_options_t saved = hn_opt;
  hn_opt.retain_min = 0;
  hn_opt.retain_percent = 0;
  hn_opt.decay_ms = 0; /* a pass at every free, releasing runs of any age */
  hn_span_t *s = hn_pageheap_alloc(16, 1, HN_SPAN_LARGE);
  memset((void *)s->start, 0xab, 16 * PG);
  hn_pageheap_stats_t before = stats();
  hn_pageheap_free(s); /* cap 0, decay 0: released at once */
  hn_pageheap_stats_t after = stats();
  assert_int_equal(after.free_resident, 0);
  assert_true(after.released_total - before.released_total >= 16 * PG);
  assert_int_equal(after.mapped, after.in_use + after.free_resident + after.released);
  s = hn_pageheap_alloc(16, 1, HN_SPAN_LARGE);
  assert_true(s->zeroed);
  for (size_t i = 0; i < 16 * PG; i++)
    assert_int_equal(((unsigned char *)s->start)[i], 0);
  memset((void *)s->start, 1, PG); /* touch one page */
  hn_opt = saved;
  hn_opt.retain_min = (size_t)1 << 30; /* keep everything */
  hn_pageheap_free(s);
  after = stats();
  assert_int_equal(after.free_resident, 16 * PG); /* counted as resident when freed */
  assert_true(hn_pageheap_release_all() >= 16 * PG);
  after = stats();
  assert_int_equal(after.free_resident, 0);
  assert_int_equal(verify(), 0);
  hn_opt = saved;
}

/* Above the soft cap, runs free for HERON_DECAY_MS go at the next free once a decay
 * pass is due; above the hard cap (the most in use lately, at least 64 MiB) any run
 * goes, largest first, down to half the cap. */
static void test_release_by_age(void **state) {
  (void)state;
  hn_options_t saved = release_by_caps();
  hn_opt.retain_min = 16 * PG;
  hn_span_t *a = hn_pageheap_alloc(24, 1, HN_SPAN_LARGE);
  hn_span_t *sep1 = hn_pageheap_alloc(1, 1, HN_SPAN_LARGE); /* keep runs apart */
  hn_span_t *c = hn_pageheap_alloc(2, 1, HN_SPAN_LARGE);
  hn_span_t *sep2 = hn_pageheap_alloc(1, 1, HN_SPAN_LARGE);
  memset((void *)a->start, 1, 24 * PG);
  memset((void *)c->start, 1, 2 * PG);
  hn_pageheap_free(a); /* 24 pages: above the soft cap, far below the hard one: kept */
  assert_int_equal(stats().free_resident, 24 * PG);
  /* Once a is old, the next free runs a pass (due every decay / 4 here) that releases it. */
  hn_opt.decay_ms = 20;
  struct timespec pause = {0, 60 * 1000 * 1000};
  nanosleep(&pause, NULL);
  hn_pageheap_stats_t before = stats();
  hn_pageheap_free(c); /* 26 pages: a is old and goes; c is young and stays */
  hn_pageheap_stats_t after = stats();
  assert_int_equal(after.free_resident, 2 * PG);
  assert_int_equal(after.released_total - before.released_total, 24 * PG);
  /* The hard cap is the most in use lately (at least 64 MiB): a run of 4000 pages freed
   * and then one of 9000 (each too big for the other's place, the second its own
   * reservation) make free resident memory pass the 9000-page peak; the largest run is
   * released at once, young as it is, and the rest (4000 + 2 pages) stays. */
  hn_opt.decay_ms = 60000;
  hn_span_t *a2 = hn_pageheap_alloc(4000, 1, HN_SPAN_LARGE);
  assert_non_null(a2);
  hn_pageheap_free(a2);
  assert_int_equal(stats().free_resident, 4002 * PG);
  hn_span_t *b = hn_pageheap_alloc(9000, 1, HN_SPAN_LARGE);
  assert_non_null(b);
  before = stats();
  hn_pageheap_free(b);
  after = stats();
  assert_int_equal(after.free_resident, 4002 * PG);
  assert_true(after.released_total - before.released_total >= 9000 * PG);
  hn_pageheap_free(sep1);
  hn_pageheap_free(sep2);
  assert_int_equal(verify(), 0);
  hn_opt = saved;
}

/* A young run below the hard cap is never released by a free, however many frees come:
 * a churning heap keeps its pages. */
static void test_churn_keeps_pages(void **state) {
  (void)state;
  hn_options_t saved = release_by_caps();
  hn_pageheap_stats_t before = stats();
  for (int i = 0; i < 1000; i++) {
    hn_span_t *s = hn_pageheap_alloc((uintptr_t)(1 + i % 7), 1, HN_SPAN_LARGE);
    hn_span_t *t = hn_pageheap_alloc(3, 1, HN_SPAN_LARGE);
    memset((void *)s->start, 1, PG);
    hn_pageheap_free(s);
    hn_pageheap_free(t);
  }
  hn_pageheap_stats_t after = stats();
  assert_int_equal(after.released_total, before.released_total);
  assert_true(after.free_resident > 0);
  assert_int_equal(verify(), 0);
  hn_opt = saved;
}

/* Below the hard cap, a heap that shed big runs (256 resident pages or more) beyond
 * max(64 MiB, in use) gives them back at once: 2 x 5000 pages freed leave at most 64 MiB. */
static void test_big_runs_released(void **state) {
  (void)state;
  hn_options_t saved = release_by_caps();
  hn_span_t *x = hn_pageheap_alloc(5000, 1, HN_SPAN_LARGE);
  hn_span_t *y = hn_pageheap_alloc(5000, 1, HN_SPAN_LARGE);
  assert_non_null(x);
  assert_non_null(y);
  hn_pageheap_free(x); /* 39 MiB: under 64 MiB, kept */
  assert_int_equal(stats().free_resident, 5000 * PG);
  hn_pageheap_stats_t before = stats();
  hn_pageheap_free(y); /* 78 MiB, within the recent peak but above 64 MiB */
  hn_pageheap_stats_t after = stats();
  assert_true(after.free_resident <= (size_t)64 << 20);
  assert_true(after.released_total - before.released_total >= 5000 * PG);
  assert_int_equal(verify(), 0);
  hn_opt = saved;
}

/* A large span of 1 MiB or more freed with less than an eighth of it touched goes back
 * to the OS at once (mstress: huge blocks written at their ends only); one touched
 * densely, or a smaller one, stays resident for reuse. */
static void test_sparse_large_shed(void **state) {
  (void)state;
  hn_options_t saved = hn_opt;
  hn_opt.retain_min = (size_t)1 << 30; /* no other rule releases anything here */
  hn_opt.decay_ms = 60000;
  hn_pageheap_release_all();
  hn_span_t *sep = hn_pageheap_alloc(1, 1, HN_SPAN_LARGE);
  hn_span_t *s = hn_pageheap_alloc(256, 1, HN_SPAN_LARGE);
  hn_span_t *sep2 = hn_pageheap_alloc(1, 1, HN_SPAN_LARGE);
  assert_non_null(s);
  ((char *)s->start)[0] = 1; /* its ends only: 2 of 512 kernel pages */
  ((char *)hn_span_end(s))[-1] = 1;
  hn_pageheap_stats_t before = stats();
  assert_int_equal(hn_pageheap_shed_sparse(s), 1);
  hn_pageheap_lock();
  hn_pageheap_free_shed_locked(s);
  hn_pageheap_unlock();
  hn_pageheap_stats_t after = stats();
  assert_int_equal(after.free_resident, before.free_resident);
  assert_int_equal(after.released_total - before.released_total, 256 * PG);
  assert_int_equal(verify(), 0);
  /* The released pages read as zero when the span is taken again. */
  s = hn_pageheap_alloc(256, 1, HN_SPAN_LARGE);
  assert_true(s->zeroed);
  assert_int_equal(((char *)s->start)[0], 0);
  /* Touched at every eighth kernel page, plus one: not sparse. */
  for (size_t off = 0; off < 256 * PG; off += 8 * HN_OS_PAGE)
    ((char *)s->start)[off] = 1;
  ((char *)s->start)[HN_OS_PAGE] = 1;
  assert_int_equal(hn_pageheap_shed_sparse(s), 0);
  hn_pageheap_free(s);
  assert_int_equal(stats().free_resident, before.free_resident + 256 * PG);
  /* Under 1 MiB: never shed, however little was touched. */
  hn_span_t *t = hn_pageheap_alloc(127, 1, HN_SPAN_LARGE);
  hn_pageheap_release_all();
  assert_int_equal(hn_pageheap_shed_sparse(t), 0);
  hn_pageheap_free(t);
  hn_pageheap_free(sep);
  hn_pageheap_free(sep2);
  assert_int_equal(verify(), 0);
  /* The same through free(): a 4 MiB block written at its ends. */
  heron_stats_t b, a;
  char *big = heron_malloc((size_t)4 << 20);
  assert_non_null(big);
  big[0] = big[((size_t)4 << 20) - 1] = 1;
  heron_stats_get(&b);
  heron_free(big);
  heron_stats_get(&a);
  assert_int_equal(a.released_total - b.released_total, (size_t)4 << 20);
  assert_int_equal(a.os_release_calls - b.os_release_calls, 1);
  hn_opt = saved;
}

static void test_huge_run_and_limits(void **state) {
  (void)state;
  /* Bigger than a reservation: gets its own. */
  hn_span_t *s = hn_pageheap_alloc(10000, 1, HN_SPAN_LARGE);
  assert_non_null(s);
  assert_ptr_equal(hn_pagemap_lookup(s->start + 9999 * PG + 5), s);
  hn_pageheap_free(s);
  assert_int_equal(verify(), 0);
  assert_null(hn_pageheap_alloc(0, 1, HN_SPAN_LARGE));
  assert_null(hn_pageheap_alloc((uintptr_t)1 << 40, 1, HN_SPAN_LARGE));
  hn_pageheap_stats_t st = stats();
  assert_int_equal(st.mapped, st.in_use + st.free_resident + st.released);
}

/* A large span grows into the free run after it and shrinks by freeing its tail. */
static void test_resize_in_place(void **state) {
  (void)state;
  hn_span_t *a = hn_pageheap_alloc(4, 1, HN_SPAN_LARGE);
  hn_span_t *b = hn_pageheap_alloc(4, 1, HN_SPAN_LARGE);
  hn_span_t *c = hn_pageheap_alloc(4, 1, HN_SPAN_LARGE);
  uintptr_t start = a->start;
  hn_pageheap_free(b); /* 4 free pages after a */
  hn_pageheap_lock();
  assert_int_equal(hn_pageheap_resize_locked(a, 9), -1); /* c is in the way */
  assert_int_equal(hn_pageheap_resize_locked(a, 6), 0);
  assert_int_equal(hn_pageheap_verify_locked(), 0);
  hn_pageheap_unlock();
  assert_int_equal(a->start, start);
  assert_int_equal(a->npages, 6);
  assert_ptr_equal(hn_pagemap_lookup(start + 5 * PG + 100), a);
  hn_span_t *rest = hn_pagemap_lookup(start + 6 * PG);
  assert_int_equal(rest->state, HN_SPAN_FREE);
  assert_int_equal(rest->npages, 2);
  hn_pageheap_lock();
  assert_int_equal(hn_pageheap_resize_locked(a, 8), 0); /* takes the whole run */
  assert_int_equal(hn_pagemap_lookup(start + 8 * PG), c);
  assert_int_equal(hn_pageheap_resize_locked(a, 3), 0); /* shrink: 5 pages free again */
  assert_int_equal(hn_pageheap_verify_locked(), 0);
  hn_pageheap_unlock();
  assert_int_equal(a->npages, 3);
  rest = hn_pagemap_lookup(start + 3 * PG);
  assert_int_equal(rest->state, HN_SPAN_FREE);
  assert_int_equal(rest->npages, 5);
  hn_pageheap_free(a);
  hn_pageheap_free(c);
  assert_int_equal(verify(), 0);
  hn_pageheap_stats_t st = stats();
  assert_int_equal(st.mapped, st.in_use + st.free_resident + st.released);
}

/* Span records of chunks with nothing live go back to the OS on trim, and the chunks
 * are used again afterwards. */
#define NREC 20000
static hn_span_t *recs[NREC];

static void test_meta_release(void **state) {
  (void)state;
  size_t before = hn_meta_mapped();
  for (int i = 0; i < NREC; i++) {
    recs[i] = hn_meta_span_new();
    assert_non_null(recs[i]);
    recs[i]->start = (uintptr_t)i;
  }
  size_t after = hn_meta_mapped();
  assert_true(after > before);
  for (int i = 0; i < NREC; i++)
    assert_int_equal(recs[i]->start, (uintptr_t)i);
  for (int i = 0; i < NREC; i++)
    hn_meta_span_free(recs[i]);
  /* Most of the chunks those records filled (not the bump pointer's). */
  assert_true(hn_meta_release_free() >= (size_t)NREC * sizeof(hn_span_t) / 4);
  assert_int_equal(hn_meta_release_free(), 0); /* nothing left to give */
  for (int i = 0; i < NREC; i++) {
    recs[i] = hn_meta_span_new();
    assert_non_null(recs[i]);
    assert_int_equal(recs[i]->start, 0); /* zeroed */
    recs[i]->start = (uintptr_t)i + 1;
  }
  assert_int_equal(hn_meta_mapped(), after); /* released chunks were reused */
  for (int i = 0; i < NREC; i++)
    assert_int_equal(recs[i]->start, (uintptr_t)i + 1);
  for (int i = 0; i < NREC; i++)
    hn_meta_span_free(recs[i]);
  assert_int_equal(verify(), 0);
}

int main(void) {
  hn_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_coalesce),
      cmocka_unit_test(test_alignment),
      cmocka_unit_test(test_release_and_zero),
      cmocka_unit_test(test_release_by_age),
      cmocka_unit_test(test_churn_keeps_pages),
      cmocka_unit_test(test_big_runs_released),
      cmocka_unit_test(test_sparse_large_shed),
      cmocka_unit_test(test_resize_in_place),
      cmocka_unit_test(test_meta_release),
      cmocka_unit_test(test_huge_run_and_limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
