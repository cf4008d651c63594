/*
 * test_os_fault: the OS layer fails the Nth call (reserve or release); the allocator
 * answers NULL with ENOMEM or keeps the pages resident, and its metadata and
 * statistics stay consistent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "alloc/internal.h"
#include "alloc/pageheap.h"
#include "heron/heron.h"

static void assert_consistent(void) {
  hn_pageheap_lock();
  assert_int_equal(hn_pageheap_verify_locked(), 0);
  hn_pageheap_unlock();
  heron_stats_t s;
  heron_stats_get(&s);
  assert_int_equal(s.in_use + s.thread_caches + s.central_lists + s.free_resident + s.released + s.metadata,
                   s.mapped);
}

/* 200 MiB: more than any free run, so the page heap must reserve. */
#define BIG ((size_t)200 << 20)

static void test_reserve_fails(void **state) {
  (void)state;
  void *warm = heron_malloc(100);
  hn_os_fail_nth(1);
  errno = 0;
  void *p = heron_malloc(BIG);
  assert_null(p);
  assert_int_equal(errno, ENOMEM);
  assert_consistent();
  p = heron_malloc(BIG); /* the failure was one call only */
  assert_non_null(p);
  memset(p, 1, 4096);
  heron_free(p);
  heron_free(warm);
  assert_consistent();
}

/* Fail each of the first calls in turn while growing the heap many times. */
static void test_every_nth(void **state) {
  (void)state;
  for (unsigned long n = 1; n <= 6; n++) {
    void *ps[4];
    hn_os_fail_nth(n);
    for (int i = 0; i < 4; i++) {
      errno = 0;
      ps[i] = heron_malloc(BIG + (size_t)i * HN_PAGE_SIZE);
      assert_true(ps[i] != NULL || errno == ENOMEM);
    }
    hn_os_fail_nth(0);
    for (int i = 0; i < 4; i++)
      heron_free(ps[i]);
    assert_consistent();
  }
}

static void test_release_fails(void **state) {
  (void)state;
  hn_options_t saved = hn_opt;
  void *p = heron_malloc(1 << 20);
  memset(p, 7, 1 << 20);
  hn_opt.retain_min = 0;
  hn_opt.retain_percent = 0;
  heron_stats_t before, after;
  heron_stats_get(&before);
  hn_os_fail_nth(1); /* the madvise of the policy fails: the pages stay resident */
  heron_free(p);
  hn_os_fail_nth(0);
  heron_stats_get(&after);
  assert_true(after.free_resident >= (1 << 20));
  assert_consistent();
  assert_int_equal(heron_trim(0), 1);
  heron_stats_get(&after);
  assert_int_equal(after.free_resident, 0);
  assert_consistent();
  hn_opt = saved;
}

static void test_os_contract(void **state) {
  (void)state;
  void *p;
  assert_int_equal(hn_os_reserve(1000, HN_OS_PAGE, &p), EINVAL);
  assert_int_equal(hn_os_reserve(HN_OS_PAGE, 3 * HN_OS_PAGE, &p), EINVAL);
  assert_int_equal(hn_os_reserve((size_t)4 << 20, (size_t)2 << 20, &p), 0);
  assert_int_equal((uintptr_t)p % ((size_t)2 << 20), 0);
  memset(p, 1, (size_t)4 << 20);
  assert_int_equal(hn_os_release((char *)p + 1, HN_OS_PAGE, HN_OS_RELEASE_DONTNEED), EINVAL);
  assert_int_equal(hn_os_release(p, (size_t)4 << 20, HN_OS_RELEASE_DONTNEED), 0);
  assert_int_equal(((unsigned char *)p)[12345], 0); /* DONTNEED reads back zero */
  assert_int_equal(hn_os_release(p, HN_OS_PAGE, HN_OS_RELEASE_FREE), 0);
  assert_int_equal(hn_os_unmap(p, (size_t)4 << 20), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reserve_fails),
      cmocka_unit_test(test_every_nth),
      cmocka_unit_test(test_release_fails),
      cmocka_unit_test(test_os_contract),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
