/*
 * test_stats: with no other thread running, the byte fields add up to mapped exactly,
 * in_use is exactly the class sizes of the objects this test holds plus the pages of
 * its large objects, the counters count, and the text and JSON reports carry the same
 * numbers. The collector's spans count in in_use, whole, and move no malloc counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "alloc/central.h"
#include "alloc/pageheap.h"
#include "alloc/sizeclass.h"
#include "heron/heron.h"

static void assert_adds_up(const heron_stats_t *s) {
  assert_int_equal(s->in_use + s->thread_caches + s->central_lists + s->free_resident + s->released +
                       s->metadata,
                   s->mapped);
}

#define N 3000

static void test_exact_sum_and_in_use(void **state) {
  (void)state;
  heron_stats_t base;
  heron_stats_get(&base);
  assert_adds_up(&base);
  static void *objs[N];
  uint64_t expect = 0;
  for (int i = 0; i < N; i++) {
    size_t size = (size_t)(i * 37) % 40000 + 1; /* small and large */
    objs[i] = heron_malloc(size);
    assert_non_null(objs[i]);
    expect += size <= HN_MAX_SMALL ? hn_class_size[hn_size_class(size)]
                                   : (size + HN_PAGE_SIZE - 1) / HN_PAGE_SIZE * HN_PAGE_SIZE;
  }
  heron_stats_t s;
  heron_stats_get(&s);
  assert_adds_up(&s);
  assert_int_equal(s.in_use - base.in_use, expect);
  assert_int_equal(s.allocations - base.allocations, N);
  assert_int_equal(s.frees - base.frees, 0);
  for (int i = 0; i < N; i += 2)
    heron_free(objs[i]);
  heron_stats_get(&s);
  assert_adds_up(&s);
  assert_int_equal(s.frees - base.frees, (N + 1) / 2);
  for (int i = 1; i < N; i += 2)
    heron_free(objs[i]);
  heron_stats_get(&s);
  assert_adds_up(&s);
  assert_int_equal(s.in_use, base.in_use);
  assert_int_equal(s.allocations - s.frees, base.allocations - base.frees);

  /* Trim: caches reachable from here are flushed and every free page released. */
  heron_trim(0);
  heron_stats_get(&s);
  assert_adds_up(&s);
  assert_int_equal(s.thread_caches, 0);
  assert_int_equal(s.free_resident, 0);
  assert_int_equal(s.in_use, base.in_use);
}

/* The collector's spans, taken as gc/gcmem.c takes them (a large one straight from the
 * page heap, kind and geometry set by the caller afterwards; a small one through
 * hn_span_alloc), are in in_use at their whole size: the sum still holds, and no malloc
 * counter moves (allocations, frees, large objects, the class's spans and objects). */
static void test_gc_spans_in_use(void **state) {
  (void)state;
  enum { CL = 5, LARGE_PAGES = 40 };
  heron_stats_t base, s;
  heron_class_stats_t cbase, c;
  heron_stats_get(&base);
  assert_int_equal(heron_class_stats_get(CL, &cbase), 0);
  hn_span_t *large = hn_pageheap_alloc(LARGE_PAGES, 1, HN_SPAN_LARGE);
  assert_non_null(large);
  large->kind = HN_KIND_GC;
  large->elemsize = LARGE_PAGES * HN_PAGE_SIZE;
  large->nelems = 1;
  large->divmagic = 0;
  hn_span_t *small = hn_span_alloc(CL, 0, HN_KIND_GC);
  assert_non_null(small);
  heron_stats_get(&s);
  assert_adds_up(&s);
  assert_int_equal(s.in_use - base.in_use, (uint64_t)(LARGE_PAGES + hn_class_pages[CL]) * HN_PAGE_SIZE);
  assert_int_equal(s.allocations, base.allocations);
  assert_int_equal(s.frees, base.frees);
  assert_int_equal(s.large_allocations, base.large_allocations);
  assert_int_equal(s.spans - base.spans, 2);
  assert_int_equal(heron_class_stats_get(CL, &c), 0);
  assert_int_equal(c.spans, cbase.spans);
  assert_int_equal(c.in_use, cbase.in_use);
  assert_int_equal(c.cached, cbase.cached);
  hn_span_free(small);
  hn_span_free(large);
  heron_stats_get(&s);
  assert_adds_up(&s);
  assert_int_equal(s.in_use, base.in_use);
  assert_int_equal(s.spans, base.spans);
  assert_int_equal(s.allocations - s.frees, base.allocations - base.frees);
}

static void test_class_stats(void **state) {
  (void)state;
  unsigned cl = hn_size_class(700);
  heron_class_stats_t before, after;
  assert_int_equal(heron_class_stats_get(cl, &before), 0);
  void *p[10];
  for (int i = 0; i < 10; i++)
    p[i] = heron_malloc(700);
  assert_int_equal(heron_class_stats_get(cl, &after), 0);
  assert_int_equal(after.size, hn_class_size[cl]);
  assert_int_equal(after.span_pages, hn_class_pages[cl]);
  assert_int_equal(after.in_use - before.in_use, 10);
  assert_int_equal(after.allocations - before.allocations, 10);
  assert_true(after.spans >= 1);
  assert_int_equal(after.in_use + after.cached, after.spans * hn_class_objects[cl]);
  for (int i = 0; i < 10; i++)
    heron_free(p[i]);
  assert_int_equal(heron_class_stats_get(0, &after), -1);
  assert_int_equal(heron_class_stats_get(heron_size_classes(), &after), -1);
}

static char *report(int json) {
  static char buf[1 << 16];
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  heron_stats_write(fds[1], json);
  close(fds[1]);
  size_t n = 0;
  ssize_t r;
  while ((r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
    n += (size_t)r;
  close(fds[0]);
  buf[n] = 0;
  return buf;
}

static uint64_t field(const char *text, const char *key) {
  const char *p = strstr(text, key);
  assert_non_null(p);
  p += strlen(key);
  while (*p == ' ' || *p == ':' || *p == '"')
    p++;
  return strtoull(p, NULL, 10);
}

static void test_reports(void **state) {
  (void)state;
  void *keep = heron_malloc(12345);
  heron_trim(0);
  heron_stats_t s;
  heron_stats_get(&s);
  char *text = report(0);
  assert_non_null(strstr(text, "in_use"));
  assert_non_null(strstr(text, "= mapped"));
  assert_non_null(strstr(text, "size classes"));
  assert_int_equal(field(text, "= mapped"), s.mapped);
  assert_int_equal(field(text, "+ metadata"), s.metadata);
  char *json = report(1);
  assert_true(json[0] == '{');
  assert_non_null(strstr(json, "\"classes\":["));
  assert_int_equal(field(json, "\"mapped\""), s.mapped);
  assert_int_equal(field(json, "\"in_use\""), s.in_use);
  assert_int_equal(field(json, "\"released\""), s.released);
  heron_free(keep);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exact_sum_and_in_use),
      cmocka_unit_test(test_class_stats),
      cmocka_unit_test(test_gc_spans_in_use),
      cmocka_unit_test(test_reports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
