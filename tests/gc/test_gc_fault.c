/*
 * test_gc_fault.c: the OS layer refuses memory (hn_os_fail_nth): allocation returns NULL
 * with errno ENOMEM, nothing is counted, and the collector keeps working after.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alloc/os.h"
#include "gc_test_util.h"

static void test_large_allocation_fails(void **state) {
  (void)state;
  heron_gc_stats_t a, b;
  heron_gc_collect();
  heron_gc_stats_get(&a);
  hn_os_fail_nth(1);
  errno = 0;
  void *p = heron_gc_malloc((size_t)1 << 30); /* needs a new reservation */
  hn_os_fail_nth(0);
  assert_null(p);
  assert_int_equal(errno, ENOMEM);
  heron_gc_stats_get(&b);
  assert_int_equal(b.objects_allocated, a.objects_allocated);
  assert_int_equal(b.heap_in_use, a.heap_in_use);
  p = heron_gc_malloc_noscan(1 << 20);
  assert_non_null(p);
  heron_gc_collect();
  heron_gc_stats_get(&b);
  assert_int_equal(b.cycles - a.cycles, 1);
}

int main(void) {
  heron_gc_config_t cfg = {.gogc = -1, .flags = HERON_GC_FINALIZE_EXPLICIT};
  if (heron_gc_init(&cfg) != 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_large_allocation_fails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
