/*
 * malloc_override.c: the drop-in surface. Linking libheron or loading it with
 * LD_PRELOAD makes these the program's malloc, free, ... and C++ operator new/delete
 * (by their Itanium-ABI mangled names, written in C). Not built when a sanitizer owns
 * malloc. The names with leading underscores are the C library's and the C++ ABI's, so
 * they are required here.
 *
 * operator new behaves as the C++ standard asks without any C++ here: when memory runs
 * out it calls the new-handler while one is installed and retries, then throws
 * std::bad_alloc, both through libstdc++'s own functions, referenced weakly (a C program
 * without libstdc++ gets one line on stderr and an abort instead, and never calls
 * operator new anyway). The nothrow forms return NULL without calling the handler
 * (docs/allocator.md says why).
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/tcache.h"
#include "heron/heron.h"

#define EXPORT __attribute__((visibility("default")))

EXPORT void *malloc(size_t size) { return hn_malloc_inline(size); }
EXPORT void free(void *ptr) { hn_free_inline(ptr); }
EXPORT void *calloc(size_t nmemb, size_t size) { return heron_calloc(nmemb, size); }
EXPORT void *realloc(void *ptr, size_t size) { return heron_realloc(ptr, size); }
EXPORT void *reallocarray(void *ptr, size_t nmemb, size_t size) { return heron_reallocarray(ptr, nmemb, size); }
EXPORT int posix_memalign(void **out, size_t alignment, size_t size) {
  return heron_posix_memalign(out, alignment, size);
}
EXPORT void *aligned_alloc(size_t alignment, size_t size) { return heron_aligned_alloc(alignment, size); }
EXPORT void *memalign(size_t alignment, size_t size) { return heron_memalign(alignment, size); }
EXPORT void *valloc(size_t size) { return heron_valloc(size); }
EXPORT void *pvalloc(size_t size) { return heron_pvalloc(size); }
EXPORT size_t malloc_usable_size(void *ptr) { return heron_malloc_usable_size(ptr); }

void cfree(void *ptr);
EXPORT void cfree(void *ptr) { hn_free_inline(ptr); }
void free_sized(void *ptr, size_t size);
EXPORT void free_sized(void *ptr, size_t size) {
  (void)size;
  hn_free_inline(ptr);
}
void free_aligned_sized(void *ptr, size_t alignment, size_t size);
EXPORT void free_aligned_sized(void *ptr, size_t alignment, size_t size) {
  (void)alignment;
  (void)size;
  hn_free_inline(ptr);
}

/* glibc's internal names, which some programs and libraries call directly. */
void *__libc_malloc(size_t size);
void __libc_free(void *ptr);
void *__libc_calloc(size_t nmemb, size_t size);
void *__libc_realloc(void *ptr, size_t size);
void *__libc_memalign(size_t alignment, size_t size);
void *__libc_valloc(size_t size);
void *__libc_pvalloc(size_t size);
EXPORT void *__libc_malloc(size_t size) { return hn_malloc_inline(size); }
EXPORT void __libc_free(void *ptr) { hn_free_inline(ptr); }
EXPORT void *__libc_calloc(size_t nmemb, size_t size) { return heron_calloc(nmemb, size); }
EXPORT void *__libc_realloc(void *ptr, size_t size) { return heron_realloc(ptr, size); }
EXPORT void *__libc_memalign(size_t alignment, size_t size) { return heron_memalign(alignment, size); }
EXPORT void *__libc_valloc(size_t size) { return heron_valloc(size); }
EXPORT void *__libc_pvalloc(size_t size) { return heron_pvalloc(size); }

EXPORT int malloc_trim(size_t pad) { return heron_trim(pad); }
EXPORT void malloc_stats(void) { heron_stats_write(2, 0); }
EXPORT int mallopt(int param, int value) {
  (void)param;
  (void)value;
  return 1;
}

EXPORT struct mallinfo2 mallinfo2(void) {
  heron_stats_t s;
  heron_stats_get(&s);
  struct mallinfo2 m;
  memset(&m, 0, sizeof m);
  m.arena = s.mapped - s.metadata;
  m.uordblks = s.in_use;
  m.fordblks = s.thread_caches + s.central_lists + s.free_resident;
  m.keepcost = s.free_resident;
  m.hblkhd = s.metadata;
  return m;
}

EXPORT struct mallinfo mallinfo(void) {
  struct mallinfo2 m2 = mallinfo2();
  struct mallinfo m;
  memset(&m, 0, sizeof m);
  m.arena = (int)m2.arena;
  m.uordblks = (int)m2.uordblks;
  m.fordblks = (int)m2.fordblks;
  m.keepcost = (int)m2.keepcost;
  m.hblkhd = (int)m2.hblkhd;
  return m;
}

/* C++ operator new and delete. nothrow_t is passed by reference (a pointer here);
 * align_val_t is a size_t. */
typedef void (*new_handler_fn)(void);
/* std::get_new_handler() and std::__throw_bad_alloc() from libstdc++: weak, so that they
 * are NULL when no libstdc++ is loaded. The exception unwinds through the C frames below
 * by their .eh_frame unwind tables (x86-64 and AArch64 compilers emit them for C too). */
new_handler_fn _ZSt15get_new_handlerv(void) __attribute__((weak, visibility("default")));
void _ZSt17__throw_bad_allocv(void) __attribute__((weak, noreturn, visibility("default")));

/* Out of memory in operator new: the handler loop, then std::bad_alloc or, with no C++
 * runtime to throw it, one line and abort. align 0: plain new. */
static HN_COLD void *new_failed(size_t size, size_t align) {
  for (;;) {
    new_handler_fn handler = _ZSt15get_new_handlerv ? _ZSt15get_new_handlerv() : NULL;
    if (!handler)
      break;
    handler(); /* may free memory, throw, abort, or install another handler */
    void *p = align ? heron_aligned_alloc(align, size) : hn_malloc_inline(size);
    if (p)
      return p;
  }
  if (_ZSt17__throw_bad_allocv)
    _ZSt17__throw_bad_allocv();
  static const char msg[] = "heron: error: operator new: out of memory\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  abort();
}

static void *new_impl(size_t size) {
  void *p = hn_malloc_inline(size);
  if (HN_UNLIKELY(!p))
    return new_failed(size, 0);
  return p;
}

static void *new_aligned(size_t size, size_t align) {
  void *p = heron_aligned_alloc(align, size);
  if (HN_UNLIKELY(!p))
    return new_failed(size, align);
  return p;
}

#define NEW_FAMILY(X)                                                                       \
  X(void *, _Znwm, (size_t n), new_impl(n))                                                 \
  X(void *, _Znam, (size_t n), new_impl(n))                                                 \
  X(void *, _ZnwmRKSt9nothrow_t, (size_t n, const void *nt), ((void)nt, hn_malloc_inline(n))) \
  X(void *, _ZnamRKSt9nothrow_t, (size_t n, const void *nt), ((void)nt, hn_malloc_inline(n))) \
  X(void *, _ZnwmSt11align_val_t, (size_t n, size_t a), new_aligned(n, a))                  \
  X(void *, _ZnamSt11align_val_t, (size_t n, size_t a), new_aligned(n, a))                  \
  X(void *, _ZnwmSt11align_val_tRKSt9nothrow_t, (size_t n, size_t a, const void *nt),       \
    ((void)nt, heron_aligned_alloc(a, n)))                                                  \
  X(void *, _ZnamSt11align_val_tRKSt9nothrow_t, (size_t n, size_t a, const void *nt),       \
    ((void)nt, heron_aligned_alloc(a, n)))

#define DELETE_FAMILY(X)                                                                    \
  X(_ZdlPv, (void *p))                                                                      \
  X(_ZdaPv, (void *p))                                                                      \
  X(_ZdlPvRKSt9nothrow_t, (void *p, const void *nt))                                        \
  X(_ZdaPvRKSt9nothrow_t, (void *p, const void *nt))                                        \
  X(_ZdlPvm, (void *p, size_t n))                                                           \
  X(_ZdaPvm, (void *p, size_t n))                                                           \
  X(_ZdlPvSt11align_val_t, (void *p, size_t a))                                             \
  X(_ZdaPvSt11align_val_t, (void *p, size_t a))                                             \
  X(_ZdlPvSt11align_val_tRKSt9nothrow_t, (void *p, size_t a, const void *nt))               \
  X(_ZdaPvSt11align_val_tRKSt9nothrow_t, (void *p, size_t a, const void *nt))               \
  X(_ZdlPvmSt11align_val_t, (void *p, size_t n, size_t a))                                  \
  X(_ZdaPvmSt11align_val_t, (void *p, size_t n, size_t a))

#define DECLARE_NEW(ret, name, params, body) ret name params;
#define DEFINE_NEW(ret, name, params, body) EXPORT ret name params { return body; }
NEW_FAMILY(DECLARE_NEW)
NEW_FAMILY(DEFINE_NEW)

#define DECLARE_DELETE(name, params) void name params;
/* Only the pointer matters: the span knows the size and the alignment. */
#define DEFINE_DELETE(name, params) \
  EXPORT void name params { hn_free_inline(p); }
DELETE_FAMILY(DECLARE_DELETE)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
DELETE_FAMILY(DEFINE_DELETE)
#pragma GCC diagnostic pop
