/*
 * test_misuse.c: pointers heron never returned, and double frees, stop the program.
 *
 * Each misuse runs in a fresh process: the test re-executes itself as
 * `test_alloc_misuse --case NAME` (so options such as HERON_CHECK=1 are read at start), with
 * stderr on a pipe. The child must die by SIGABRT, having written exactly one line, which
 * starts with "heron: error: ", names the problem and the pointer. A child that survives
 * the misuse exits 0, which fails the test.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "alloc_test.h"
#include "child_run.h"

/* The misuses. Each sets up and returns the bad pointer; the child prints it to stdout,
 * for the message check, and then frees (or reallocs) it. stack is a buffer in the
 * child's frame. */
typedef void *(*misuse_fn)(char *stack);

/* The bad pointer; volatile keeps the compiler from seeing which object it came from. */
static void *volatile launder;

static void *stack_address(char *stack) { return stack + 16; }

static void *inside_large(char *stack) {
  char *p = t_malloc(T_MIB);
  (void)stack;
  return p ? p + 512 * T_KIB + 16 : NULL;
}

/* 64 MiB past a small object, on a 16-byte boundary: an address that looks like heap but
 * lies in no span (the child has allocated only this object). */
static void *heap_looking(char *stack) {
  char *p = t_malloc(64);
  (void)stack;
  return p ? (void *)(((uintptr_t)p + 64 * T_MIB) & ~(uintptr_t)15) : NULL;
}

static void *freed_large(char *stack) {
  void *p = t_malloc(300 * T_KIB);
  (void)stack;
  if (!p) return NULL;
  memset(p, 1, 300 * T_KIB);
  launder = p;
  t_free(launder);
  return launder;
}

/* A small object freed, then another of its class freed after it, so the first is not
 * simply the head of a free list. */
static void *freed_small(char *stack) {
  void *p = t_malloc(32), *other = t_malloc(32);
  (void)stack;
  if (!p || !other) return NULL;
  launder = p;
  t_free(launder);
  t_free(other);
  return launder;
}

static void *inside_small(char *stack) {
  char *p = t_malloc(64);
  (void)stack;
  return p ? p + 16 : NULL;
}

typedef struct misuse {
  const char *name;
  misuse_fn fn;
  int realloc;               /* realloc the pointer instead of freeing it */
  int check;                 /* run with HERON_CHECK=1 */
  const char *words[3];      /* the line names the problem with one of these */
} misuse_t;

static const misuse_t misuses[] = {
    {"free-stack", stack_address, 0, 0, {"invalid pointer", NULL, NULL}},
    {"realloc-stack", stack_address, 1, 0, {"invalid pointer", NULL, NULL}},
    {"free-inside-large", inside_large, 0, 0, {"inside an object", "invalid pointer", NULL}},
    {"free-heap-looking", heap_looking, 0, 0, {"invalid pointer", NULL, NULL}},
    {"double-free-large", freed_large, 0, 0, {"double free", "freed twice", NULL}},
    {"double-free-small", freed_small, 0, 1, {"double free", "freed twice", NULL}},
    {"free-inside-small", inside_small, 0, 1, {"inside an object", "invalid pointer", NULL}},
};
#define N_MISUSES (sizeof misuses / sizeof misuses[0])

/* The child's side: set up the misuse, print the pointer on stdout, do it, and (if still
 * alive) exit 0. */
static int run_case(const char *name) {
  char stack[64];
  size_t i;
  /* Unbuffered, so printing the pointer allocates nothing: a stdio buffer allocated
   * between the two frees of a double free could take the freed memory and hide it. */
  setvbuf(stdout, NULL, _IONBF, 0);
  memset(stack, 0, sizeof stack);
  for (i = 0; i < N_MISUSES; i++)
    if (strcmp(misuses[i].name, name) == 0) {
      launder = misuses[i].fn(stack);
      if (!launder) return 4;
      printf("%p\n", launder);
      fflush(stdout);
      if (misuses[i].realloc) {
        void *q = t_realloc(launder, 100);
        printf("realloc survived: %p\n", q);
      } else {
        t_free(launder);
      }
      return 0;
    }
  fprintf(stderr, "test_alloc_misuse: error: unknown case %s\n", name);
  return 2;
}

static void expect_abort(void **state) {
  const misuse_t *m = *state;
  int status;
  char err[4096], out[256];
  size_t i, lines = 0;
  int named = 0;
  /* The child writes a line to stdout and one to stderr. */
  status = t_child_run("--case", m->name, m->check ? "HERON_CHECK" : NULL, "1", out, sizeof out,
                       err, sizeof err);
  assert_true(status != -1);
  if (!WIFSIGNALED(status))
    fail_msg("%s: the child was not stopped (exit status %d), stderr: %s", m->name,
             WIFEXITED(status) ? WEXITSTATUS(status) : -1, err);
  if (WTERMSIG(status) != SIGABRT)
    fail_msg("%s: the child died by signal %d, not SIGABRT; stderr: %s", m->name,
             WTERMSIG(status), err);
  for (i = 0; err[i]; i++) lines += err[i] == '\n';
  if (lines != 1 || err[strlen(err) - 1] != '\n')
    fail_msg("%s: want one line on stderr, got: %s", m->name, err);
  if (strncmp(err, "heron: error: ", 14) != 0)
    fail_msg("%s: the line does not start with \"heron: error: \": %s", m->name, err);
  for (i = 0; i < 3 && m->words[i]; i++) named |= strstr(err, m->words[i]) != NULL;
  if (!named) fail_msg("%s: the line does not name the problem (%s): %s", m->name, m->words[0], err);
  /* The pointer, as the child printed it with %p. */
  if (strchr(out, '\n')) *strchr(out, '\n') = '\0';
  assert_true(strncmp(out, "0x", 2) == 0);
  if (!strstr(err, out))
    fail_msg("%s: the line does not name the pointer %s: %s", m->name, out, err);
}

int main(int argc, char **argv) {
  struct CMUnitTest tests[N_MISUSES];
  size_t i;
  if (argc == 3 && strcmp(argv[1], "--case") == 0) return run_case(argv[2]);
  if (t_child_init("test_alloc_misuse") != 0) return 1;
  for (i = 0; i < N_MISUSES; i++) {
    memset(&tests[i], 0, sizeof tests[i]);
    tests[i].name = misuses[i].name;
    tests[i].test_func = expect_abort;
    tests[i].initial_state = (void *)&misuses[i];
  }
  return cmocka_run_group_tests_name("misuse", tests, NULL, NULL);
}
