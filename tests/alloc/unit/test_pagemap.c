/*
 * test_pagemap: page -> span lookups across leaves, addresses outside the 47-bit space,
 * and the released bits across word and leaf boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc/pageheap.h"
#include "alloc/pagemap.h"

/* An address range nobody maps in this test: 2^46, the middle of the user space,
 * spanning the boundary between two leaves. */
#define BASE (((uintptr_t)1 << 46) - ((uintptr_t)64 << HN_PAGE_SHIFT))

static void test_lookup_and_clear(void **state) {
  (void)state;
  hn_span_t a = {0}, b = {0};
  hn_pageheap_lock();
  assert_int_equal(hn_pagemap_ensure_locked(BASE, (size_t)128 << HN_PAGE_SHIFT), 0);
  uintptr_t first = BASE >> HN_PAGE_SHIFT;
  hn_pagemap_set_locked(first, 64, &a);
  hn_pagemap_set_locked(first + 64, 64, &b);
  hn_pageheap_unlock();
  assert_ptr_equal(hn_pagemap_lookup(BASE), &a);
  assert_ptr_equal(hn_pagemap_lookup(BASE + 12345), &a);
  assert_ptr_equal(hn_pagemap_lookup(BASE + ((uintptr_t)64 << HN_PAGE_SHIFT) - 1), &a);
  assert_ptr_equal(hn_pagemap_lookup(BASE + ((uintptr_t)64 << HN_PAGE_SHIFT)), &b);
  assert_ptr_equal(hn_pagemap_lookup(BASE + ((uintptr_t)128 << HN_PAGE_SHIFT) - 8), &b);
  assert_null(hn_pagemap_lookup(BASE + ((uintptr_t)128 << HN_PAGE_SHIFT)));
  assert_null(hn_pagemap_lookup(BASE - 1));
  hn_pageheap_lock();
  hn_pagemap_set_locked(first, 128, NULL);
  hn_pageheap_unlock();
  assert_null(hn_pagemap_lookup(BASE));
  assert_null(hn_pagemap_lookup(BASE + ((uintptr_t)100 << HN_PAGE_SHIFT)));
}

static void test_outside_address_space(void **state) {
  (void)state;
  assert_null(hn_pagemap_lookup(0));
  assert_null(hn_pagemap_lookup((uintptr_t)1 << 47));
  assert_null(hn_pagemap_lookup(UINTPTR_MAX));
  assert_null(hn_pagemap_lookup((uintptr_t)0xdeadbeef00000000ull));
}

static void test_released_bits(void **state) {
  (void)state;
  uintptr_t first = BASE >> HN_PAGE_SHIFT;
  hn_pageheap_lock();
  hn_pagemap_mark_released_locked(first, 128, 0);
  assert_int_equal(hn_pagemap_count_released_locked(first, 128), 0);
  /* 3..130 straddles two words of one leaf and the leaf boundary at page 64. */
  hn_pagemap_mark_released_locked(first + 3, 100, 1);
  assert_int_equal(hn_pagemap_count_released_locked(first, 128), 100);
  assert_int_equal(hn_pagemap_count_released_locked(first + 3, 100), 100);
  assert_int_equal(hn_pagemap_count_released_locked(first, 3), 0);
  assert_int_equal(hn_pagemap_count_released_locked(first + 103, 25), 0);
  assert_int_equal(hn_pagemap_count_released_locked(first + 60, 10), 10);
  hn_pagemap_mark_released_locked(first + 64, 1, 0);
  assert_int_equal(hn_pagemap_count_released_locked(first, 128), 99);
  hn_pageheap_unlock();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lookup_and_clear),
      cmocka_unit_test(test_outside_address_space),
      cmocka_unit_test(test_released_bits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
