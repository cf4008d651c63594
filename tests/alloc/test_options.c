/*
 * test_options.c: heron's environment variables, read at start.
 *
 * Each case re-executes this program as `test_alloc_options --child` with one variable set,
 * stdout and stderr on pipes. The child allocates and frees across sizes, trims, and
 * prints "ok". A bad value must cost one warning line naming the variable and its value and
 * saying the default is used, and nothing else: the program runs on. A good value must
 * print nothing. HERON_STATS_AT_EXIT=1 must write the report at exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "alloc_test.h"
#include "child_run.h"

/* The child: a little of everything, then "ok" on stdout and a normal exit (so the
 * at-exit report runs). */
static int child(void) {
  static const size_t sizes[] = {1, 100, 5000, 40000, 3 * T_MIB};
  void *p[5];
  size_t i;
  for (i = 0; i < 5; i++) {
    p[i] = t_malloc(sizes[i]);
    if (!p[i]) return 3;
    memset(p[i], 1, sizes[i]);
  }
  for (i = 0; i < 5; i++) t_free(p[i]);
  t_trim(0);
  printf("ok\n");
  return 0;
}

/* Run the child with name=value; its stdout and stderr come back in out and err. */
static void run(const char *name, const char *value, char *out, size_t out_cap, char *err,
                size_t err_cap) {
  int status = t_child_run("--child", NULL, name, value, out, out_cap, err, err_cap);
  assert_true(status != -1);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail_msg("%s=%s: the child ended with status %#x; stderr: %s", name, value, status, err);
  if (strcmp(out, "ok\n") != 0) fail_msg("%s=%s: the child printed %s", name, value, out);
}

static const char *const bad[][2] = {
    {"HERON_RELEASE", "sometimes"},  {"HERON_RETAIN", "-5"},
    {"HERON_RETAIN", "12x"},         {"HERON_RETAIN_MIN", "4XB"},
    {"HERON_DECAY_MS", "soon"},      {"HERON_CHECK", "maybe"},
    {"HERON_STATS_AT_EXIT", "2"},
};

static const char *const good[][2] = {
    {"HERON_RELEASE", "free"},   {"HERON_RELEASE", "dontneed"}, {"HERON_RETAIN", "50"},
    {"HERON_RETAIN_MIN", "64MiB"}, {"HERON_DECAY_MS", "0"},     {"HERON_CHECK", "1"},
    {"HERON_STATS_AT_EXIT", "0"},
};

static void bad_values_warn_once(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char out[64], err[1024], want[128];
    size_t lines = 0, k;
    run(bad[i][0], bad[i][1], out, sizeof out, err, sizeof err);
    for (k = 0; err[k]; k++) lines += err[k] == '\n';
    snprintf(want, sizeof want, "heron: warning: %s=%s", bad[i][0], bad[i][1]);
    if (lines != 1 || strncmp(err, want, strlen(want)) != 0 || !strstr(err, "default"))
      fail_msg("%s=%s: want one line \"%s: ... default\", got: %s", bad[i][0], bad[i][1], want,
               err);
  }
}

static void good_values_are_quiet(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < sizeof good / sizeof good[0]; i++) {
    char out[64], err[1024];
    run(good[i][0], good[i][1], out, sizeof out, err, sizeof err);
    if (err[0]) fail_msg("%s=%s: stderr: %s", good[i][0], good[i][1], err);
  }
}

static void stats_at_exit(void **state) {
  static char err[65536];
  char out[64];
  (void)state;
  run("HERON_STATS_AT_EXIT", "1", out, sizeof out, err, sizeof err);
  assert_non_null(strstr(err, heron_version()));
  assert_non_null(strstr(err, "mapped"));
  assert_non_null(strstr(err, "allocations"));
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bad_values_warn_once),
      cmocka_unit_test(good_values_are_quiet),
      cmocka_unit_test(stats_at_exit),
  };
  if (argc == 2 && strcmp(argv[1], "--child") == 0) return child();
  if (t_child_init("test_alloc_options") != 0) return 1;
  return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
