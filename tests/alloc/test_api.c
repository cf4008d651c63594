/*
 * test_api.c: glibc's edge cases of the malloc API, through the standard names (when heron
 * replaces malloc: the normal build) and through the heron_* names (every build with heron).
 *
 * Each test takes an api_t, a table of the allocation functions, and runs once per table.
 * Calling through the table also keeps the compiler from folding a malloc it can see
 * (gcc removes malloc/free pairs and warns about impossible sizes it can prove).
 * The tests that read heron's statistics and size classes are at the end.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_test.h"

typedef struct api {
  const char *name;
  void *(*malloc)(size_t);
  void (*free)(void *);
  void *(*calloc)(size_t, size_t);
  void *(*realloc)(void *, size_t);
  void *(*reallocarray)(void *, size_t, size_t);
  int (*posix_memalign)(void **, size_t, size_t);
  void *(*aligned_alloc)(size_t, size_t);
  void *(*memalign)(size_t, size_t);
  void *(*valloc)(size_t);
  void *(*pvalloc)(size_t);
  size_t (*usable)(void *);
} api_t;

#if !HERON_TEST_PREFIXED
static const api_t std_api = {
    "std", malloc, free, calloc, realloc, reallocarray, posix_memalign,
    aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size,
};
#endif

static const api_t heron_api = {
    "heron",           heron_malloc,        heron_free,          heron_calloc,
    heron_realloc,     heron_reallocarray,  heron_posix_memalign, heron_aligned_alloc,
    heron_memalign,    heron_valloc,        heron_pvalloc,       heron_malloc_usable_size,
};

/* Sizes that cross heron's boundaries: tiny, class sizes and one past them, the largest
 * class (32 KiB) and one past it (a large object), and several pages of large objects. */
static const size_t boundary_sizes[] = {
    1,     7,     8,      9,      16,     17,      100,     128,     129,     1000,
    1024,  4095,  4096,   8191,   8192,   8193,    32767,   32768,   32769,   65536,
    65537, 98304, 262144, 262145, 1048576, 1048577, 4194304, 4194305, 16777216,
};
#define N_BOUNDARY (sizeof boundary_sizes / sizeof boundary_sizes[0])

/* Impossible sizes: above PTRDIFF_MAX, and below it but past any address space (2^50 is
 * beyond the 47-bit user address space of x86-64 and the 48-bit one of arm64). */
static const size_t huge_sizes[] = {
    (size_t)PTRDIFF_MAX + 1, SIZE_MAX, SIZE_MAX - 4096, (size_t)1 << 50,
};
#define N_HUGE (sizeof huge_sizes / sizeof huge_sizes[0])

static const api_t *api_of(void **state) { return *state; }

static void free_null_keeps_errno(void **state) {
  const api_t *a = api_of(state);
  errno = 4321;
  a->free(NULL);
  assert_int_equal(errno, 4321);
}

static void free_keeps_errno(void **state) {
  const api_t *a = api_of(state);
  size_t i;
  for (i = 0; i < N_BOUNDARY; i++) {
    void *p = a->malloc(boundary_sizes[i]);
    assert_non_null(p);
    memset(p, 0x5a, boundary_sizes[i]);
    errno = 1234;
    a->free(p);
    assert_int_equal(errno, 1234);
  }
}

static void realloc_null_is_malloc(void **state) {
  const api_t *a = api_of(state);
  size_t i;
  for (i = 0; i < N_BOUNDARY; i++) {
    size_t n = boundary_sizes[i];
    unsigned char *p = a->realloc(NULL, n);
    assert_non_null(p);
    assert_true(a->usable(p) >= n);
    memset(p, 0xa5, n);
    assert_int_equal(p[n - 1], 0xa5);
    a->free(p);
  }
}

/* glibc frees the object and returns NULL; heron's in_use shows the object gone. */
static void realloc_zero_frees(void **state) {
  const api_t *a = api_of(state);
  size_t i;
  for (i = 0; i < N_BOUNDARY; i++) {
    heron_stats_t before, after;
    void *p;
    heron_stats_get(&before);
    p = a->malloc(boundary_sizes[i]);
    assert_non_null(p);
    assert_null(a->realloc(p, 0));
    heron_stats_get(&after);
    if (after.in_use != before.in_use)
      fail_msg("realloc(malloc(%zu), 0): in_use %llu -> %llu", boundary_sizes[i],
               (unsigned long long)before.in_use, (unsigned long long)after.in_use);
  }
}

/* Grow one object through every boundary size and shrink it back: each step keeps the
 * bytes both sizes share. */
static void realloc_keeps_contents(void **state) {
  const api_t *a = api_of(state);
  size_t i, size = boundary_sizes[0];
  unsigned char *p = a->malloc(size);
  uint64_t seed = 1;
  assert_non_null(p);
  t_fill(p, size, seed);
  for (i = 1; i < 2 * N_BOUNDARY; i++) {
    size_t next = i < N_BOUNDARY ? boundary_sizes[i] : boundary_sizes[2 * N_BOUNDARY - 1 - i];
    size_t keep = next < size ? next : size;
    unsigned char *q = a->realloc(p, next);
    assert_non_null(q);
    assert_true(a->usable(q) >= next);
    assert_int_equal(t_check(q, keep, seed), keep);
    seed = t_hash(seed + i);
    t_fill(q, next, seed);
    p = q;
    size = next;
  }
  a->free(p);
}

/* realloc to a size in the same class, and shrinking a large object a little, may keep
 * the address; whatever it returns holds the contents. */
static void realloc_in_place_sizes(void **state) {
  const api_t *a = api_of(state);
  size_t i;
  for (i = 0; i < N_BOUNDARY; i++) {
    size_t n = boundary_sizes[i], m = n - n / 8;
    unsigned char *p = a->malloc(n), *q;
    assert_non_null(p);
    t_fill(p, n, n);
    q = a->realloc(p, m ? m : 1);
    assert_non_null(q);
    assert_int_equal(t_check(q, m, n), m);
    a->free(q);
  }
}

/* The offset of the first non-zero byte of p[0..n), or n. memcmp by pages, which the
 * sanitizers check as one range rather than byte by byte. */
static size_t first_nonzero(const unsigned char *p, size_t n) {
  static const unsigned char zero[4096];
  size_t off = 0;
  while (off < n) {
    size_t len = n - off < sizeof zero ? n - off : sizeof zero;
    if (memcmp(p + off, zero, len) != 0) {
      while (!p[off]) off++;
      return off;
    }
    off += len;
  }
  return n;
}

static void calloc_zeroes(void **state) {
  const api_t *a = api_of(state);
  size_t i, k;
  for (i = 0; i < N_BOUNDARY; i++) {
    size_t n = boundary_sizes[i];
    /* Dirty memory of this size first, so calloc is likely to get it back. */
    for (k = 0; k < 4; k++) {
      unsigned char *p = a->malloc(n), *z;
      size_t j;
      assert_non_null(p);
      memset(p, 0xff, n);
      a->free(p);
      z = a->calloc(1, n);
      assert_non_null(z);
      if ((j = first_nonzero(z, n)) < n)
        fail_msg("calloc(1, %zu) byte %zu is %#x", n, j, z[j]);
      memset(z, 0xff, n);
      a->free(z);
    }
  }
  {
    unsigned char *z = a->calloc(1000, 24);
    assert_non_null(z);
    assert_int_equal(first_nonzero(z, 24000), 24000);
    a->free(z);
  }
}

static void calloc_overflow(void **state) {
  const api_t *a = api_of(state);
  static const size_t pairs[][2] = {
      {SIZE_MAX / 2 + 1, 2},
      {(size_t)1 << 32, (size_t)1 << 32},
      {SIZE_MAX, SIZE_MAX},
      {3, SIZE_MAX / 3 + 1},
      {(size_t)PTRDIFF_MAX, 2},
      {1, (size_t)PTRDIFF_MAX + 1},
  };
  size_t i;
  for (i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    errno = 0;
    assert_null(a->calloc(pairs[i][0], pairs[i][1]));
    assert_int_equal(errno, ENOMEM);
  }
}

static void huge_sizes_fail(void **state) {
  const api_t *a = api_of(state);
  size_t i;
  void *p = a->malloc(100), *out;
  assert_non_null(p);
  memset(p, 0x33, 100);
  for (i = 0; i < N_HUGE; i++) {
    size_t n = huge_sizes[i];
    errno = 0;
    assert_null(a->malloc(n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(a->calloc(1, n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(a->realloc(NULL, n));
    assert_int_equal(errno, ENOMEM);
    /* A failed realloc leaves the object alone. */
    errno = 0;
    assert_null(a->realloc(p, n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(a->aligned_alloc(64, n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(a->memalign(4096, n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(a->valloc(n));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(a->pvalloc(n));
    assert_int_equal(errno, ENOMEM);
    out = &out;
    assert_int_equal(a->posix_memalign(&out, 64, n), ENOMEM);
  }
  for (i = 0; i < 100; i++) assert_int_equal(((unsigned char *)p)[i], 0x33);
  a->free(p);
}

static void reallocarray_overflow(void **state) {
  const api_t *a = api_of(state);
  unsigned char *p = a->reallocarray(NULL, 10, 10), *q;
  size_t i;
  assert_non_null(p);
  assert_true(a->usable(p) >= 100);
  memset(p, 0x77, 100);
  errno = 0;
  assert_null(a->reallocarray(p, SIZE_MAX / 2, 3));
  assert_int_equal(errno, ENOMEM);
  errno = 0;
  assert_null(a->reallocarray(p, (size_t)1 << 33, (size_t)1 << 31));
  assert_int_equal(errno, ENOMEM);
  for (i = 0; i < 100; i++) assert_int_equal(p[i], 0x77);
  q = a->reallocarray(p, 1000, 100);
  assert_non_null(q);
  for (i = 0; i < 100; i++) assert_int_equal(q[i], 0x77);
  a->free(q);
}

static void bad_alignment(void **state) {
  const api_t *a = api_of(state);
  /* Not a power of two, or (for posix_memalign) not a multiple of sizeof(void *). */
  static const size_t bad_posix[] = {0, 1, 2, 4, 3, 12, 24, 48, 4097, SIZE_MAX};
  static const size_t bad_aligned[] = {0, 3, 24, 48, 4097, (size_t)1 << 63 | 1, SIZE_MAX};
  size_t i;
  for (i = 0; i < sizeof bad_posix / sizeof bad_posix[0]; i++) {
    void *out = &out;
    assert_int_equal(a->posix_memalign(&out, bad_posix[i], 64), EINVAL);
    assert_ptr_equal(out, &out); /* untouched on failure */
  }
  /* C17 (DR 460) and glibc from 2.38 reject them (Debian 12's glibc 2.36 still takes any). */
  for (i = 0; i < sizeof bad_aligned / sizeof bad_aligned[0]; i++) {
    errno = 0;
    assert_null(a->aligned_alloc(bad_aligned[i], 64));
    assert_int_equal(errno, EINVAL);
  }
  /* memalign is older and looser in glibc: an alignment no object can have is EINVAL;
   * one that is merely not a power of two may be rounded up to one. */
  errno = 0;
  assert_null(a->memalign(SIZE_MAX, 64));
  assert_int_equal(errno, EINVAL);
  errno = 0;
  assert_null(a->memalign(SIZE_MAX / 2 + 2, 64));
  assert_int_equal(errno, EINVAL);
  /* A valid alignment no address space can honour: ENOMEM, as for an impossible size. */
  {
    void *out = &out;
    assert_int_equal(a->posix_memalign(&out, (size_t)1 << 50, 64), ENOMEM);
    assert_ptr_equal(out, &out);
    errno = 0;
    assert_null(a->aligned_alloc((size_t)1 << 62, 64));
    assert_int_equal(errno, ENOMEM);
  }
  {
    void *p = a->memalign(24, 64);
    if (p) {
      assert_int_equal((uintptr_t)p % 32, 0);
      a->free(p);
    } else {
      assert_int_equal(errno, EINVAL);
    }
  }
}

static void check_aligned(const api_t *a, void *p, size_t align, size_t n) {
  assert_non_null(p);
  if ((uintptr_t)p % align) fail_msg("%s: %p not aligned to %zu (size %zu)", a->name, p, align, n);
  assert_true(a->usable(p) >= n);
  memset(p, 0xc3, a->usable(p));
}

/* Every power of two from 8 B to 2 MiB, each with sizes below, at and above it. */
static void alignments(void **state) {
  const api_t *a = api_of(state);
  size_t align;
  for (align = 8; align <= 2 * T_MIB; align *= 2) {
    const size_t sizes[] = {1, align / 2 + 1, align, align + 1, 3 * align, 100};
    size_t k;
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
      size_t n = sizes[k];
      void *p = NULL, *held[3];
      int j;
      assert_int_equal(a->posix_memalign(&p, align, n), 0);
      check_aligned(a, p, align, n);
      held[0] = p;
      p = a->aligned_alloc(align, n);
      check_aligned(a, p, align, n);
      held[1] = p;
      p = a->memalign(align, n);
      check_aligned(a, p, align, n);
      held[2] = p;
      for (j = 0; j < 3; j++) a->free(held[j]);
    }
  }
}

static void usable_size_covers_request(void **state) {
  const api_t *a = api_of(state);
  static const size_t large[] = {65537, 100000, T_MIB, T_MIB + 1, 10 * T_MIB + 3, 64 * T_MIB};
  size_t n, i;
  for (n = 0; n <= 64 * T_KIB; n++) {
    unsigned char *p = a->malloc(n);
    size_t u;
    assert_non_null(p);
    u = a->usable(p);
    if (u < n) fail_msg("%s: usable size %zu < %zu", a->name, u, n);
    /* The whole usable size is ours to write. */
    if (u) {
      p[0] = 1;
      p[u - 1] = 2;
    }
    a->free(p);
  }
  for (i = 0; i < sizeof large / sizeof large[0]; i++) {
    unsigned char *p = a->malloc(large[i]);
    size_t u;
    assert_non_null(p);
    u = a->usable(p);
    assert_true(u >= large[i]);
    p[0] = 1;
    p[u - 1] = 2;
    a->free(p);
  }
  assert_int_equal(a->usable(NULL), 0);
}

static void valloc_pvalloc(void **state) {
  const api_t *a = api_of(state);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  static const size_t sizes[] = {0, 1, 100, 4095, 4096, 4097, 8193, 100000, 3 * T_MIB + 5};
  size_t i;
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i], rounded = (n + page - 1) / page * page;
    void *v = a->valloc(n), *pv = a->pvalloc(n);
    assert_non_null(v);
    assert_non_null(pv);
    assert_int_equal((uintptr_t)v % page, 0);
    assert_int_equal((uintptr_t)pv % page, 0);
    assert_true(a->usable(v) >= n);
    /* pvalloc rounds the size up to whole pages. */
    if (a->usable(pv) < rounded) fail_msg("pvalloc(%zu) usable %zu < %zu", n, a->usable(pv), rounded);
    memset(pv, 0x11, rounded);
    if (n) memset(v, 0x22, n);
    a->free(v);
    a->free(pv);
  }
}

#define API_TESTS(api)                                                          \
  cmocka_unit_test_prestate(free_null_keeps_errno, (void *)&(api)),             \
      cmocka_unit_test_prestate(free_keeps_errno, (void *)&(api)),              \
      cmocka_unit_test_prestate(realloc_null_is_malloc, (void *)&(api)),        \
      cmocka_unit_test_prestate(realloc_zero_frees, (void *)&(api)),            \
      cmocka_unit_test_prestate(realloc_keeps_contents, (void *)&(api)),        \
      cmocka_unit_test_prestate(realloc_in_place_sizes, (void *)&(api)),        \
      cmocka_unit_test_prestate(calloc_zeroes, (void *)&(api)),                 \
      cmocka_unit_test_prestate(calloc_overflow, (void *)&(api)),               \
      cmocka_unit_test_prestate(huge_sizes_fail, (void *)&(api)),               \
      cmocka_unit_test_prestate(reallocarray_overflow, (void *)&(api)),         \
      cmocka_unit_test_prestate(bad_alignment, (void *)&(api)),                 \
      cmocka_unit_test_prestate(alignments, (void *)&(api)),                    \
      cmocka_unit_test_prestate(usable_size_covers_request, (void *)&(api)),    \
      cmocka_unit_test_prestate(valloc_pvalloc, (void *)&(api))

#if !HERON_TEST_PREFIXED
/* The glibc extras a drop-in must answer. */
static void mallinfo_mallopt_trim(void **state) {
  enum { N = 4096, SIZE = 1000 };
  static void *held[N];
  struct mallinfo2 mi;
  size_t i;
  (void)state;
  for (i = 0; i < N; i++) {
    held[i] = malloc(SIZE);
    assert_non_null(held[i]);
    memset(held[i], 1, SIZE);
  }
  mi = mallinfo2();
  /* The program holds at least N * SIZE bytes, and the heap is at least that big. */
  assert_true(mi.uordblks + mi.hblkhd >= (size_t)N * SIZE);
  assert_true(mi.arena + mi.hblkhd >= mi.uordblks);
  {
    /* heron may ignore the tunables, but answers 1 (done) or 0 (unknown). */
    int r = mallopt(M_TRIM_THRESHOLD, 128 * 1024);
    assert_true(r == 0 || r == 1);
  }
  for (i = 0; i < N; i++) free(held[i]);
  {
    struct mallinfo2 after = mallinfo2();
    assert_true(after.uordblks + after.hblkhd + (size_t)N * SIZE / 2 <= mi.uordblks + mi.hblkhd);
  }
  /* 4 MiB just freed: there are whole free pages to give back. */
  assert_int_equal(malloc_trim(0), 1);
  assert_int_equal(malloc_trim(0) & ~1, 0);
}
#endif

#if !HERON_TEST_PREFIXED
/* Out of address space (RLIMIT_AS 256 MiB above what the process has): a request too big
 * for it, and filling it with 1 MiB objects, end in NULL and ENOMEM, not a crash; once
 * they are freed, allocation works again. In a child, whose limit does not bind the test.
 * Not under sanitizers, whose shadow memory needs terabytes of address space. */
static int address_space_child(void) {
  enum { MAX_HELD = 1024 };
  static void *held[MAX_HELD];
  struct rlimit rl;
  unsigned long vm = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  size_t n = 0, i;
  void *p;
  if (!f || fscanf(f, "%lu", &vm) != 1) return 20;
  fclose(f);
  rl.rlim_cur = rl.rlim_max = (rlim_t)vm * (rlim_t)sysconf(_SC_PAGESIZE) + 256 * T_MIB;
  if (setrlimit(RLIMIT_AS, &rl) != 0) return 21;
  errno = 0;
  if ((p = malloc(512 * T_MIB)) != NULL || errno != ENOMEM) return 10;
  while (n < MAX_HELD) {
    errno = 0;
    p = malloc(T_MIB);
    if (!p) break;
    memset(p, 1, 4096);
    held[n++] = p;
  }
  if (n == MAX_HELD || errno != ENOMEM) return 11;
  if (n < 64) return 12; /* 256 MiB of room held fewer than 64 objects of 1 MiB */
  for (i = 0; i < n; i++) free(held[i]);
  p = calloc(1, T_MIB);
  if (!p) return 13;
  free(p);
  return 0;
}

static void out_of_address_space(void **state) {
  int status = 0;
  pid_t pid;
  (void)state;
  fflush(NULL);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(address_space_child());
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (!WIFEXITED(status))
    fail_msg("the child died by signal %d when address space ran out", WTERMSIG(status));
  switch (WEXITSTATUS(status)) {
  case 0: break;
  case 10: fail_msg("malloc(512 MiB) under a 256 MiB limit did not give NULL and ENOMEM");
  case 11: fail_msg("filling the address space did not end in NULL and ENOMEM");
  case 12: fail_msg("fewer than 64 objects of 1 MiB fit in 256 MiB of address space");
  case 13: fail_msg("calloc(1, 1 MiB) failed after everything was freed");
  default: fail_msg("the child could not set its limit (exit %d)", WEXITSTATUS(status));
  }
}

/* Linking libheron replaces the whole drop-in surface: every name resolves, in this
 * process, to code inside libheron rather than the C library. */
static void drop_in_names_are_heron(void **state) {
  static const char *const names[] = {
      "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
      "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size", "cfree",
      "__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc", "__libc_memalign",
      "__libc_valloc", "__libc_pvalloc", "malloc_trim", "malloc_stats", "mallinfo2", "mallopt",
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    void *f = dlsym(RTLD_DEFAULT, names[i]);
    Dl_info info;
    if (!f) fail_msg("%s does not resolve", names[i]);
    if (!dladdr(f, &info) || !info.dli_fname || !strstr(info.dli_fname, "libheron"))
      fail_msg("%s resolves to %s, not to libheron", names[i],
               info.dli_fname ? info.dli_fname : "nothing");
  }
}

/* cfree frees; malloc_stats writes heron's report on stderr. */
static void cfree_and_malloc_stats(void **state) {
  void (*cfree_fn)(void *);
  char buf[8192];
  int fd = memfd_create("heron-api-stats", 0), saved;
  heron_stats_t a, b;
  ssize_t n;
  void *p;
  (void)state;
  *(void **)&cfree_fn = dlsym(RTLD_DEFAULT, "cfree");
  assert_non_null(cfree_fn);
  p = malloc(1000);
  heron_stats_get(&a);
  cfree_fn(p);
  heron_stats_get(&b);
  assert_int_equal(b.frees - a.frees, 1);
  assert_true(fd >= 0);
  fflush(stderr);
  saved = dup(2);
  assert_true(saved >= 0);
  assert_true(dup2(fd, 2) == 2);
  malloc_stats();
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  n = pread(fd, buf, sizeof buf - 1, 0);
  close(fd);
  assert_true(n > 0);
  buf[n] = '\0';
  assert_non_null(strstr(buf, heron_version()));
  assert_non_null(strstr(buf, "in_use"));
  assert_non_null(strstr(buf, "mapped"));
}
#endif

static void version(void **state) {
  const char *(*by_name)(void);
  (void)state;
  assert_string_equal(heron_version(), "heron " HERON_TEST_VERSION);
  /* The marker tools look up to see that heron is loaded. */
  *(void **)&by_name = dlsym(RTLD_DEFAULT, "heron_version");
  assert_non_null(by_name);
  assert_ptr_equal(by_name(), heron_version());
}

static void assert_stats_add_up(const heron_stats_t *s) {
  if (t_stats_sum(s) != s->mapped)
    fail_msg("stats do not add up: in_use %llu + thread_caches %llu + central_lists %llu + "
             "free_resident %llu + released %llu + metadata %llu = %llu != mapped %llu",
             (unsigned long long)s->in_use, (unsigned long long)s->thread_caches,
             (unsigned long long)s->central_lists, (unsigned long long)s->free_resident,
             (unsigned long long)s->released, (unsigned long long)s->metadata,
             (unsigned long long)t_stats_sum(s), (unsigned long long)s->mapped);
}

static void stats_add_up(void **state) {
  enum { N = 2000 };
  static void *held[N];
  heron_stats_t s;
  size_t i;
  (void)state;
  heron_stats_get(&s);
  assert_stats_add_up(&s);
  assert_true(s.mapped > 0);
  for (i = 0; i < N; i++) {
    held[i] = heron_malloc(boundary_sizes[i % N_BOUNDARY] % (300 * T_KIB) + i % 7);
    assert_non_null(held[i]);
  }
  heron_stats_get(&s);
  assert_stats_add_up(&s);
  for (i = 0; i < N; i += 2) heron_free(held[i]);
  heron_stats_get(&s);
  assert_stats_add_up(&s);
  for (i = 1; i < N; i += 2) heron_free(held[i]);
  heron_stats_get(&s);
  assert_stats_add_up(&s);
  heron_trim(0);
  heron_stats_get(&s);
  assert_stats_add_up(&s);
  assert_int_equal(s.free_resident, 0);
}

/* One malloc moves in_use by the object's rounded size (its usable size), allocations by
 * one, requested by exactly the size asked for, and stats that add up; its free moves
 * in_use back and frees by one, and leaves requested alone (requested is the sum of every
 * size asked for since start, heron.h: heron does not store request sizes, so "still held"
 * could not be known without slowing every free). */
static void stats_track_one_malloc(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < N_BOUNDARY; i++) {
    size_t n = boundary_sizes[i];
    heron_stats_t a, b, c;
    void *p;
    heron_stats_get(&a);
    p = heron_malloc(n);
    heron_stats_get(&b);
    assert_non_null(p);
    if (b.in_use - a.in_use != heron_malloc_usable_size(p))
      fail_msg("malloc(%zu): in_use grew by %llu, usable size %zu", n,
               (unsigned long long)(b.in_use - a.in_use), heron_malloc_usable_size(p));
    assert_int_equal(b.allocations - a.allocations, 1);
    assert_stats_add_up(&b);
    heron_free(p);
    heron_stats_get(&c);
    if (c.in_use != a.in_use)
      fail_msg("malloc(%zu) then free: in_use %llu -> %llu", n, (unsigned long long)a.in_use,
               (unsigned long long)c.in_use);
    assert_int_equal(c.frees - b.frees, 1);
    assert_stats_add_up(&c);
    if (b.requested - a.requested != n || c.requested != b.requested)
      fail_msg("malloc(%zu) then free: requested %llu -> %llu -> %llu", n,
               (unsigned long long)a.requested, (unsigned long long)b.requested,
               (unsigned long long)c.requested);
  }
}

/* heron_free_sized, given the size the caller asked for, frees like heron_free. */
static void free_sized(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < N_BOUNDARY; i++) {
    size_t n = boundary_sizes[i];
    heron_stats_t a, b;
    void *p;
    heron_stats_get(&a);
    p = heron_malloc(n);
    assert_non_null(p);
    memset(p, 0x42, n);
    heron_free_sized(p, n);
    heron_stats_get(&b);
    assert_int_equal(b.in_use, a.in_use);
    assert_int_equal(b.frees - a.frees, 1);
  }
}


/* The size classes seen from outside: increasing, 8-byte multiples from 8 B up to at least
 * 32 KiB, each object's usable size is its class's size, and a malloc counts in its class. */
static void size_classes(void **state) {
  unsigned n = heron_size_classes(), c;
  uint32_t prev = 0;
  heron_class_stats_t cs;
  (void)state;
  assert_true(n > 8);
  assert_int_not_equal(heron_class_stats_get(n, &cs), 0);
  for (c = 1; c < n; c++) {
    heron_class_stats_t before, after;
    void *p;
    assert_int_equal(heron_class_stats_get(c, &before), 0);
    assert_true(before.size > prev);
    assert_int_equal(before.size % 8, 0);
    assert_true(before.span_pages >= 1);
    /* Go's rule: the tail a span cannot use is at most 1/8 of it. */
    assert_true((before.span_pages * HERON_PAGE_SIZE) % before.size * 8 <=
                before.span_pages * HERON_PAGE_SIZE);
    p = heron_malloc(prev + 1);
    assert_non_null(p);
    assert_int_equal(heron_malloc_usable_size(p), before.size);
    assert_int_equal(heron_class_stats_get(c, &after), 0);
    assert_int_equal(after.in_use, before.in_use + 1);
    assert_int_equal(after.allocations, before.allocations + 1);
    heron_free(p);
    p = heron_malloc(before.size);
    assert_int_equal(heron_malloc_usable_size(p), before.size);
    heron_free(p);
    prev = before.size;
  }
  assert_true(prev >= 32 * T_KIB);
}

/* The text report and its JSON twin come out on a file descriptor and carry the fields. */
static void stats_report(void **state) {
  char buf[65536];
  int fd = memfd_create("heron-api-report", 0), json;
  (void)state;
  assert_true(fd >= 0);
  for (json = 0; json <= 1; json++) {
    ssize_t n;
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    heron_stats_write(fd, json);
    n = pread(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
#define CHECK_FIELD(name, doc) \
  if (!strstr(buf, #name)) fail_msg("%s report lacks %s", json ? "json" : "text", #name);
    HERON_STATS_BYTE_FIELDS(CHECK_FIELD)
    HERON_STATS_COUNT_FIELDS(CHECK_FIELD)
#undef CHECK_FIELD
    if (json) {
      assert_int_equal(buf[0], '{');
      assert_non_null(strrchr(buf, '}'));
    }
  }
  close(fd);
}

int main(void) {
  int failed = 0;
#if !HERON_TEST_PREFIXED
  const struct CMUnitTest std_tests[] = {
      API_TESTS(std_api),
      cmocka_unit_test(mallinfo_mallopt_trim),
      cmocka_unit_test(drop_in_names_are_heron),
      cmocka_unit_test(out_of_address_space),
      cmocka_unit_test(cfree_and_malloc_stats),
  };
  failed += cmocka_run_group_tests_name("api std", std_tests, NULL, NULL);
#endif
  {
    const struct CMUnitTest heron_tests[] = {
        API_TESTS(heron_api),
        cmocka_unit_test(version),
        cmocka_unit_test(stats_add_up),
        cmocka_unit_test(stats_track_one_malloc),
        cmocka_unit_test(free_sized),
        cmocka_unit_test(size_classes),
        cmocka_unit_test(stats_report),
    };
    failed += cmocka_run_group_tests_name("api heron", heron_tests, NULL, NULL);
  }
  return failed ? 1 : 0;
}
