/*
 * test_sizeclass: the generated size-class table obeys Go's rule and the lookup
 * tables give the smallest class that holds every size from 0 to 32 KiB.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc/sizeclass.h"

static void test_sizes_grow_and_align(void **state) {
  (void)state;
  assert_int_equal(hn_class_size[0], 0);
  assert_int_equal(hn_class_size[1], 8);
  assert_int_equal(hn_class_size[HN_NCLASSES - 1], 32768);
  for (unsigned cl = 2; cl < HN_NCLASSES; cl++) {
    assert_true(hn_class_size[cl] > hn_class_size[cl - 1]);
    assert_int_equal(hn_class_size[cl] % 16, 0); /* malloc's 16-byte promise */
    if (hn_class_size[cl] > HN_SMALL_LIMIT)
      assert_int_equal(hn_class_size[cl] % HN_LARGE_STEP, 0);
  }
}

/* From 128 B up a request is rounded up by at most 1/8 of its class, and every
 * span's unused tail is at most 1/8 of the span. */
static void test_go_rule(void **state) {
  (void)state;
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    size_t span = hn_class_span_bytes(cl), size = hn_class_size[cl];
    assert_true(span % size <= span / 8);
    assert_int_equal(hn_class_objects[cl], span / size);
    assert_true(hn_class_objects[cl] <= HN_MAX_OBJECTS);
    assert_true(hn_class_batch[cl] >= 2 && hn_class_batch[cl] <= 32);
    if (cl > 1 && hn_class_size[cl - 1] >= 128) {
      size_t smallest_request = hn_class_size[cl - 1] + 1;
      assert_true((size - smallest_request) * 8 <= size);
    }
  }
}

static void test_lookup_exhaustive(void **state) {
  (void)state;
  for (size_t n = 0; n <= HN_MAX_SMALL; n++) {
    unsigned cl = hn_size_class(n);
    assert_true(cl >= 1 && cl < HN_NCLASSES);
    assert_true(hn_class_size[cl] >= n);
    assert_true(cl == 1 || hn_class_size[cl - 1] < (n ? n : 1));
  }
  assert_int_equal(hn_size_class(HN_MAX_SMALL + 1), 0);
  assert_int_equal(hn_size_class(SIZE_MAX), 0);
}

static void test_divmagic_every_offset(void **state) {
  (void)state;
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    uint64_t span = hn_class_span_bytes(cl), size = hn_class_size[cl];
    for (uint64_t off = 0; off < span; off++)
      assert_int_equal((off * hn_class_divmagic[cl]) >> 32, off / size);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sizes_grow_and_align),
      cmocka_unit_test(test_go_rule),
      cmocka_unit_test(test_lookup_exhaustive),
      cmocka_unit_test(test_divmagic_every_offset),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
