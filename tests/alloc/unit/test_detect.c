/*
 * test_detect: pointers heron never returned, large objects freed twice, pointers
 * inside a large object, and (with HERON_CHECK=1, the "detect-check" run) small
 * double frees and frees of interior pointers stop the program with one line on
 * stderr; in check mode freed memory is poisoned. Each misuse runs in a forked child
 * whose stderr and exit signal the parent checks.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "alloc/internal.h"
#include "heron/heron.h"

/* Run misuse() in a child; return what it wrote to stderr, assert it aborted. */
static const char *expect_abort(void (*misuse)(void)) {
  static char buf[512];
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    misuse();
    _exit(0); /* not reached when detected */
  }
  close(fds[1]);
  size_t n = 0;
  ssize_t r;
  while ((r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
    n += (size_t)r;
  buf[n] = 0;
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGABRT);
  assert_non_null(strstr(buf, "heron: error: "));
  assert_non_null(strchr(buf, '\n'));
  assert_true(strchr(buf, '\n') == buf + strlen(buf) - 1); /* one line */
  return buf;
}

static void free_stack_pointer(void) {
  int x;
  heron_free(&x);
}

static void free_large_twice(void) {
  void *p = heron_malloc(100000);
  heron_free(p);
  heron_free(p);
}

static void free_inside_large(void) {
  char *p = heron_malloc(100000);
  heron_free(p + 4096);
}

static void usable_size_of_garbage(void) { heron_malloc_usable_size((void *)0x1000); }

static void test_always_detected(void **state) {
  (void)state;
  assert_non_null(strstr(expect_abort(free_stack_pointer), "not allocated by heron"));
  assert_non_null(strstr(expect_abort(free_large_twice), "free"));
  assert_non_null(strstr(expect_abort(free_inside_large), "inside an object"));
  assert_non_null(strstr(expect_abort(usable_size_of_garbage), "malloc_usable_size"));
}

static void free_small_twice(void) {
  void *p = heron_malloc(40);
  void *q = heron_malloc(40);
  heron_free(p);
  heron_free(q);
  heron_free(p);
}

static void free_inside_small(void) {
  char *p = heron_malloc(200);
  heron_free(p + 16);
}

static void test_check_mode(void **state) {
  (void)state;
  if (!hn_opt.check) {
    skip();
    return;
  }
  assert_non_null(strstr(expect_abort(free_small_twice), "double free"));
  assert_non_null(strstr(expect_abort(free_inside_small), "inside an object"));
  /* Freed memory is poisoned past the free-list link. */
  unsigned char *p = heron_malloc(96);
  memset(p, 0, 96);
  heron_free(p);
  for (int i = 8; i < 96; i++)
    assert_int_equal(p[i], 0xdf);
  /* And a fresh allocation still works and can be freed. */
  void *q = heron_malloc(96);
  assert_non_null(q);
  heron_free(q);
}

int main(void) {
  hn_init();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_always_detected),
      cmocka_unit_test(test_check_mode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
