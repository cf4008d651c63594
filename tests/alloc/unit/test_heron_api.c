/*
 * test_heron_api: the logic of heron.c under its heron_ names: aligned allocation
 * picks a class whose objects are aligned or an aligned large span, realloc keeps a
 * block while it is the right class, calloc zeroes reused memory, and trim answers
 * whether it released anything. (The glibc edge cases of the drop-in names are tested
 * in tests/alloc/.)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "alloc/pagemap.h"
#include "alloc/sizeclass.h"
#include "heron/heron.h"

static void test_aligned(void **state) {
  (void)state;
  for (size_t align = 1; align <= ((size_t)4 << 20); align *= 2) {
    for (size_t size = 0; size < 70000; size = size * 3 + 1) {
      void *p = heron_aligned_alloc(align, size);
      assert_non_null(p);
      assert_int_equal((uintptr_t)p % align, 0);
      assert_true(heron_malloc_usable_size(p) >= size);
      memset(p, 0x5a, size);
      heron_free(p);
    }
  }
  /* A small alignment is served from a size class, not from whole pages. */
  void *p = heron_aligned_alloc(64, 100);
  assert_int_equal(heron_malloc_usable_size(p) % 64, 0);
  assert_true(heron_malloc_usable_size(p) < HN_PAGE_SIZE);
  heron_free(p);
  void *q = NULL;
  assert_int_equal(heron_posix_memalign(&q, 3 * sizeof(void *), 8), EINVAL);
  assert_int_equal(heron_posix_memalign(&q, 4, 8), EINVAL); /* not a multiple of void * */
  assert_int_equal(heron_posix_memalign(&q, (size_t)1 << 20, 10), 0);
  assert_int_equal((uintptr_t)q % ((size_t)1 << 20), 0);
  heron_free(q);
  errno = 0;
  assert_null(heron_aligned_alloc(24, 8));
  assert_int_equal(errno, EINVAL);
}

static void test_realloc_in_place(void **state) {
  (void)state;
  char *p = heron_malloc(100);
  memset(p, 7, 100);
  size_t usable = heron_malloc_usable_size(p);
  assert_ptr_equal(heron_realloc(p, usable), p); /* same class */
  char *q = heron_realloc(p, usable + 1);          /* next class: moves, keeps data */
  assert_ptr_not_equal(q, p);
  for (int i = 0; i < 100; i++)
    assert_int_equal(q[i], 7);
  char *big = heron_realloc(q, 1 << 20);
  for (int i = 0; i < 100; i++)
    assert_int_equal(big[i], 7);
  /* Large blocks grow and shrink in place when they can; the data stays either way. */
  memset(big, 9, 1 << 20);
  big = heron_realloc(big, 3 << 20);
  assert_int_equal(big[(1 << 20) - 1], 9);
  big = heron_realloc(big, 100000);
  assert_int_equal(big[99999], 9);
  assert_true(heron_malloc_usable_size(big) >= 100000 && heron_malloc_usable_size(big) < 120000);
  big = heron_realloc(big, 1 << 20);
  for (int i = 0; i < 100; i++)
    assert_int_equal(big[i], 9);
  memset(big, 7, 100);
  assert_ptr_equal(heron_realloc(big, (1 << 20) - 100000), big); /* large, shrinks a little */
  char *small = heron_realloc(big, 50);                          /* shrinks a lot: moves */
  assert_ptr_not_equal(small, big);
  assert_int_equal(small[49], 7);
  assert_null(heron_realloc(small, 0)); /* frees, like glibc */
  errno = 0;
  assert_null(heron_reallocarray(NULL, SIZE_MAX / 2, 3));
  assert_int_equal(errno, ENOMEM);
}

static void test_calloc_zeroes(void **state) {
  (void)state;
  for (size_t size = 8; size < 300000; size *= 3) {
    unsigned char *p = heron_malloc(size);
    memset(p, 0xff, size);
    heron_free(p);
    unsigned char *z = heron_calloc(1, size);
    for (size_t i = 0; i < size; i++)
      assert_int_equal(z[i], 0);
    heron_free(z);
  }
  errno = 0;
  assert_null(heron_calloc(SIZE_MAX / 4, 8));
  assert_int_equal(errno, ENOMEM);
  errno = 0;
  assert_null(heron_malloc((size_t)PTRDIFF_MAX + 1));
  assert_int_equal(errno, ENOMEM);
}

static void test_free_keeps_errno_and_trim(void **state) {
  (void)state;
  void *p = heron_malloc(3 << 20);
  memset(p, 1, 3 << 20);
  errno = 12345;
  heron_free(p);
  heron_free(NULL);
  assert_int_equal(errno, 12345);
  heron_trim(0);
  assert_int_equal(heron_trim(0), 0); /* nothing left to release */
  assert_string_equal(heron_version(), "heron 0.1.0");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aligned),
      cmocka_unit_test(test_realloc_in_place),
      cmocka_unit_test(test_calloc_zeroes),
      cmocka_unit_test(test_free_keeps_errno_and_trim),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
