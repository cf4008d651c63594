/*
 * test_central: batches move between callers and the central list of a class; whole
 * batches meet in the transfer cache in O(1); partial ones go back to their spans,
 * and a span with nothing out goes back to the page heap at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "alloc/central.h"
#include "alloc/internal.h"
#include "alloc/pagemap.h"

/* A class no other test in this process touches. */
#define CL 20

static unsigned walk(void *head, void **out, unsigned max) {
  unsigned n = 0;
  for (void *p = head; p && n < max; p = *(void **)p)
    out[n++] = p;
  return n;
}

static void test_fetch_batch(void **state) {
  (void)state;
  unsigned batch = hn_class_batch[CL];
  void *head, *objs[64];
  assert_int_equal(hn_central_fetch(CL, &head, batch), batch);
  assert_int_equal(walk(head, objs, 64), batch);
  for (unsigned i = 0; i < batch; i++) {
    hn_span_t *s = hn_pagemap_lookup((uintptr_t)objs[i]);
    assert_non_null(s);
    assert_int_equal(s->sizeclass, CL);
    assert_int_equal(s->fastclass, CL);
    assert_int_equal(hn_span_object_start(s, (uintptr_t)objs[i] + hn_class_size[CL] - 1), (uintptr_t)objs[i]);
    for (unsigned j = 0; j < i; j++)
      assert_ptr_not_equal(objs[i], objs[j]);
  }
  hn_central_stats_t st;
  hn_central_stats(CL, &st);
  assert_int_equal(st.out, batch);
  assert_true(st.nspans >= 1);

  /* A whole batch waits in the transfer cache and comes back as it went. */
  hn_central_give(CL, head, batch);
  hn_central_stats(CL, &st);
  assert_int_equal(st.transfer_objects, batch);
  void *again;
  assert_int_equal(hn_central_fetch(CL, &again, batch), batch);
  assert_ptr_equal(again, head);

  /* Partial batches go to the spans; with nothing out, the spans go to the page heap. */
  void *rest = objs[1];
  *(void **)objs[0] = NULL;
  hn_central_give(CL, objs[0], 1);
  hn_central_give(CL, rest, batch - 1);
  hn_central_stats(CL, &st);
  assert_int_equal(st.out, 0);
  assert_int_equal(st.transfer_objects, 0);
  assert_int_equal(st.nspans, 0);
}

static void test_fetch_spans_many(void **state) {
  (void)state;
  /* More objects than one span holds: the central list grows spans as it needs. */
  unsigned per_span = hn_class_objects[CL], want = per_span * 3 + 5, got = 0;
  void *heads[64];
  unsigned counts[64], nb = 0;
  while (got < want) {
    unsigned n = hn_central_fetch(CL, &heads[nb], 7);
    assert_int_equal(n, 7);
    counts[nb++] = n;
    got += n;
  }
  hn_central_stats_t st;
  hn_central_stats(CL, &st);
  assert_int_equal(st.out, got);
  assert_true(st.nspans >= 4);
  for (unsigned i = 0; i < nb; i++)
    hn_central_give(CL, heads[i], counts[i]);
  hn_central_drain_all();
  hn_central_stats(CL, &st);
  assert_int_equal(st.out, 0);
  assert_int_equal(st.nspans, 0);
}

static void test_transfer_cap(void **state) {
  (void)state;
  unsigned batch = hn_class_batch[CL];
  void *heads[HN_TRANSFER_SLOTS + 4];
  unsigned cap = hn_centrals[CL].tcap, n = cap + 2;
  for (unsigned i = 0; i < n; i++)
    assert_int_equal(hn_central_fetch(CL, &heads[i], batch), batch);
  for (unsigned i = 0; i < n; i++)
    hn_central_give(CL, heads[i], batch);
  hn_central_stats_t st;
  hn_central_stats(CL, &st);
  assert_int_equal(st.transfer_objects, (uint64_t)cap * batch); /* bounded */
  assert_int_equal(st.out, (uint64_t)cap * batch);
  hn_central_drain_all();
  hn_central_stats(CL, &st);
  assert_int_equal(st.out, 0);
  assert_int_equal(st.nspans, 0);
}

int main(void) {
  hn_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fetch_batch),
      cmocka_unit_test(test_fetch_spans_many),
      cmocka_unit_test(test_transfer_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
