/*
 * test_cxx.cc: C++ operator new and delete are heron's.
 *
 * Two checks for every variant (plain, nothrow, sized, aligned, array, and their mixes):
 * the mangled name resolves, in this process, to code inside libheron (dladdr), so heron's
 * definition wins over libstdc++'s; and calling it moves heron's allocation and free
 * counters by one, with a usable size that covers the request and the alignment asked for.
 * Also: nothrow new of an impossible size returns nullptr without calling the new-handler;
 * plain new calls the new-handler while there is one and then throws std::bad_alloc. Built
 * only without sanitizers (they own operator new).
 */
#include <dlfcn.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
extern "C" { /* cmocka's header declares its functions without C linkage */
#include <cmocka.h>
}

#include "heron/heron.h"

namespace {

/* Pointers go through here so the compiler cannot pair a new with its delete and drop
 * both, which C++14 allows for new-expressions. */
void *volatile sink;

const char *const mangled[] = {
    "_Znwm",                                  // new(size_t)
    "_Znam",                                  // new[](size_t)
    "_ZnwmRKSt9nothrow_t",                    // new(size_t, nothrow)
    "_ZnamRKSt9nothrow_t",                    // new[](size_t, nothrow)
    "_ZnwmSt11align_val_t",                   // new(size_t, align)
    "_ZnamSt11align_val_t",                   // new[](size_t, align)
    "_ZnwmSt11align_val_tRKSt9nothrow_t",     // new(size_t, align, nothrow)
    "_ZnamSt11align_val_tRKSt9nothrow_t",     // new[](size_t, align, nothrow)
    "_ZdlPv",                                 // delete(void *)
    "_ZdaPv",                                 // delete[](void *)
    "_ZdlPvm",                                // delete(void *, size_t)
    "_ZdaPvm",                                // delete[](void *, size_t)
    "_ZdlPvRKSt9nothrow_t",                   // delete(void *, nothrow)
    "_ZdaPvRKSt9nothrow_t",                   // delete[](void *, nothrow)
    "_ZdlPvSt11align_val_t",                  // delete(void *, align)
    "_ZdaPvSt11align_val_t",                  // delete[](void *, align)
    "_ZdlPvmSt11align_val_t",                 // delete(void *, size_t, align)
    "_ZdaPvmSt11align_val_t",                 // delete[](void *, size_t, align)
    "_ZdlPvSt11align_val_tRKSt9nothrow_t",    // delete(void *, align, nothrow)
    "_ZdaPvSt11align_val_tRKSt9nothrow_t",    // delete[](void *, align, nothrow)
};

void names_resolve_to_heron(void **) {
  for (const char *name : mangled) {
    void *f = dlsym(RTLD_DEFAULT, name);
    Dl_info info;
    if (!f) fail_msg("%s does not resolve", name);
    if (!dladdr(f, &info) || !info.dli_fname) fail_msg("%s: dladdr found no object", name);
    if (!std::strstr(info.dli_fname, "libheron"))
      fail_msg("%s resolves to %s, not to libheron", name, info.dli_fname);
  }
}

struct counts {
  uint64_t allocations, frees;
};

counts now() {
  heron_stats_t s;
  heron_stats_get(&s);
  return {s.allocations, s.frees};
}

/* One allocation through `alloc`, checked, then freed through `release`: each must move
 * heron's counter by exactly one. */
template <typename A, typename R>
void one(const char *what, size_t size, size_t align, A alloc, R release) {
  counts a = now();
  void *p = alloc();
  sink = p;
  counts b = now();
  if (!p) fail_msg("%s returned null", what);
  if (b.allocations - a.allocations != 1)
    fail_msg("%s: heron counted %llu allocations, not 1", what,
             (unsigned long long)(b.allocations - a.allocations));
  if (heron_malloc_usable_size(p) < size)
    fail_msg("%s: usable size %zu < %zu", what, heron_malloc_usable_size(p), size);
  if (reinterpret_cast<uintptr_t>(p) % align)
    fail_msg("%s: %p is not aligned to %zu", what, p, align);
  std::memset(p, 0x3c, size);
  release(sink);
  counts c = now();
  if (c.frees - b.frees != 1)
    fail_msg("%s: heron counted %llu frees, not 1", what, (unsigned long long)(c.frees - b.frees));
}

void variants_served_by_heron(void **) {
  static const size_t sizes[] = {1, 24, 100, 4000, 40000, 3u << 20};
  const std::nothrow_t &nt = std::nothrow;
  for (size_t n : sizes) {
    one("new", n, alignof(std::max_align_t), [&] { return ::operator new(n); },
        [](void *p) { ::operator delete(p); });
    one("new[]", n, alignof(std::max_align_t), [&] { return ::operator new[](n); },
        [](void *p) { ::operator delete[](p); });
    one("new nothrow", n, 1, [&] { return ::operator new(n, nt); },
        [&](void *p) { ::operator delete(p, nt); });
    one("new[] nothrow", n, 1, [&] { return ::operator new[](n, nt); },
        [&](void *p) { ::operator delete[](p, nt); });
    one("sized delete", n, 1, [&] { return ::operator new(n); },
        [&](void *p) { ::operator delete(p, n); });
    one("sized delete[]", n, 1, [&] { return ::operator new[](n); },
        [&](void *p) { ::operator delete[](p, n); });
    for (size_t al : {size_t(32), size_t(256), size_t(4096), size_t(65536)}) {
      std::align_val_t a{al};
      one("aligned new", n, al, [&] { return ::operator new(n, a); },
          [&](void *p) { ::operator delete(p, a); });
      one("aligned new[]", n, al, [&] { return ::operator new[](n, a); },
          [&](void *p) { ::operator delete[](p, a); });
      one("aligned new nothrow", n, al, [&] { return ::operator new(n, a, nt); },
          [&](void *p) { ::operator delete(p, a, nt); });
      one("aligned new[] nothrow", n, al, [&] { return ::operator new[](n, a, nt); },
          [&](void *p) { ::operator delete[](p, a, nt); });
      one("sized aligned delete", n, al, [&] { return ::operator new(n, a); },
          [&](void *p) { ::operator delete(p, n, a); });
      one("sized aligned delete[]", n, al, [&] { return ::operator new[](n, a); },
          [&](void *p) { ::operator delete[](p, n, a); });
    }
  }
}

/* new-expressions as a program writes them. */
struct alignas(128) wide {
  unsigned char bytes[300];
};

void expressions_served_by_heron(void **) {
  counts a = now();
  int *i = new int(7);
  sink = i;
  wide *w = new wide();
  sink = w;
  std::string *s = new std::string(1000, 'x');
  sink = s;
  double *arr = new double[5000]();
  sink = arr;
  counts b = now();
  assert_true(b.allocations - a.allocations >= 5);
  assert_int_equal(reinterpret_cast<uintptr_t>(w) % 128, 0);
  assert_true(heron_malloc_usable_size(w) >= sizeof(wide));
  assert_true(heron_malloc_usable_size(arr) >= 5000 * sizeof(double));
  assert_int_equal(*i, 7);
  assert_true(arr[4999] == 0.0);
  delete i;
  delete w;
  delete s;
  delete[] arr;
  counts c = now();
  assert_true(c.frees - b.frees >= 5);
}

/* Plain new of a size no memory can hold throws std::bad_alloc, as the standard asks
 * (heron's operator new is C; it throws through libstdc++'s __throw_bad_alloc). */
template <typename F>
void throws_bad_alloc(const char *what, F f) {
  try {
    sink = f();
  } catch (const std::bad_alloc &) {
    return;
  }
  fail_msg("%s of 2^50 bytes returned %p instead of throwing std::bad_alloc", what, sink);
}

/* The new-handler is called while one is installed, and new retries after each call. */
int handler_calls;
void counting_handler() {
  if (++handler_calls == 3) std::set_new_handler(nullptr); /* give up: new throws */
}

struct handler_gave_up {};
void throwing_handler() { throw handler_gave_up(); }

void impossible_sizes(void **) {
  size_t huge = size_t(1) << 50;
  std::set_new_handler(counting_handler);
  handler_calls = 0;
  /* The nothrow forms return null and leave the handler alone (they cannot let an
   * exception out, and heron cannot catch one in C). */
  assert_null(::operator new(huge, std::nothrow));
  assert_null(::operator new[](huge, std::nothrow));
  assert_null(::operator new(huge, std::align_val_t{64}, std::nothrow));
  assert_null(::operator new[](huge, std::align_val_t{4096}, std::nothrow));
  assert_int_equal(handler_calls, 0);

  throws_bad_alloc("new", [&] { return ::operator new(huge); });
  assert_int_equal(handler_calls, 3);
  assert_null(std::get_new_handler());
  throws_bad_alloc("new[]", [&] { return ::operator new[](huge); });
  throws_bad_alloc("aligned new", [&] { return ::operator new(huge, std::align_val_t{4096}); });
  throws_bad_alloc("aligned new[]", [&] { return ::operator new[](huge, std::align_val_t{64}); });
  handler_calls = 0;
  std::set_new_handler(counting_handler);
  throws_bad_alloc("aligned new with a handler",
                   [&] { return ::operator new(huge, std::align_val_t{256}); });
  assert_int_equal(handler_calls, 3);

  /* What the handler throws comes out of new. */
  std::set_new_handler(throwing_handler);
  bool thrown = false;
  try {
    sink = ::operator new(huge);
  } catch (const handler_gave_up &) {
    thrown = true;
  }
  std::set_new_handler(nullptr);
  assert_true(thrown);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(names_resolve_to_heron),
      cmocka_unit_test(variants_served_by_heron),
      cmocka_unit_test(expressions_served_by_heron),
      cmocka_unit_test(impossible_sizes),
  };
  return cmocka_run_group_tests_name("c++ new/delete", tests, nullptr, nullptr);
}
