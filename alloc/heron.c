/*
 * heron.c: the heron_ API (include/heron/heron.h) on top of the thread caches and the
 * page heap: initialisation, aligned allocation, realloc, trim, fork handling and the
 * fatal error path.
 *
 * Initialisation is lazy (the first malloc, or the library constructor, whichever
 * comes first) and thread-safe without allocating: a three-state flag, the loser spins
 * until the winner is done. Nothing in it calls malloc; pthread_atfork, which may,
 * is called after the allocator is ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/central.h"
#include "alloc/pageheap.h"
#include "alloc/tcache.h"
#include "heron/heron.h"

int hn_ready;
static atomic_int init_state; /* 0 not started, 1 running, 2 done */

/* malloc's alignment promise: 16 bytes, what glibc gives on x86-64 (alignof(max_align_t)). */
#define HN_MIN_ALIGN 16
/* The largest alignment served: 1 GiB. Beyond it the page heap would reserve (without
 * commit charge) alignment-sized address space per call; such requests get ENOMEM. */
#define HN_MAX_ALIGN ((size_t)1 << 30)

void hn_lock_slow(hn_lock_t *l) {
  for (;;) {
    for (int i = 0; i < HN_LOCK_SPINS; i++) {
      if (!atomic_load_explicit(&l->held, memory_order_relaxed) &&
          !atomic_exchange_explicit(&l->held, 1, memory_order_acquire))
        return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause(); /* let the sibling hyperthread run while we wait */
#endif
    }
    sched_yield();
  }
}

void hn_fatal(const char *what, const void *ptr) {
  char buf[200];
  size_t n = 0;
  for (const char *c = "heron: error: "; *c; c++)
    buf[n++] = *c;
  for (const char *c = what; *c && n < sizeof buf - 24; c++)
    buf[n++] = *c;
  buf[n++] = ' ';
  buf[n++] = '0';
  buf[n++] = 'x';
  uintptr_t v = (uintptr_t)ptr;
  int started = 0;
  for (int shift = (int)sizeof v * 8 - 4; shift >= 0; shift -= 4) {
    unsigned d = (v >> shift) & 15;
    if (d || started || shift == 0) {
      buf[n++] = "0123456789abcdef"[d];
      started = 1;
    }
  }
  buf[n++] = '\n';
  ssize_t w = write(2, buf, n);
  (void)w;
  abort();
}

void hn_alloc_lock_all(void) {
  hn_init();
  hn_threads_lock();
  hn_central_lock_all();
  hn_pageheap_lock();
  hn_meta_lock_all();
}

void hn_alloc_unlock_all(void) {
  hn_meta_unlock_all(0);
  hn_pageheap_unlock();
  hn_central_unlock_all(0);
  hn_threads_unlock(0);
}

static void fork_prepare(void) { hn_alloc_lock_all(); }

static void fork_parent(void) { hn_alloc_unlock_all(); }

static void fork_child(void) {
  hn_meta_unlock_all(1);
  hn_pageheap_unlock_child();
  hn_central_unlock_all(1);
  /* Still holding the threads lock: give back the caches of the threads that did not
   * come along, so the child's statistics still add up. */
  hn_threads_adopt_child_locked();
  hn_threads_unlock(1);
}

/* A copy of stderr taken at start-up: programs like ls close fd 2 in their own atexit
 * handlers, which run before this one. Close-on-exec, so children do not inherit it. */
static int stats_fd = -1;

static void stats_at_exit(void) {
  if (hn_opt.stats_at_exit)
    heron_stats_write(stats_fd >= 0 ? stats_fd : 2, 0);
}

void hn_init_slow(void) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&init_state, &expected, 1)) {
    hn_options_read();
    hn_central_init();
    hn_tcache_global_init();
    atomic_store(&init_state, 2);
    __atomic_store_n(&hn_ready, 1, __ATOMIC_RELEASE);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    if (hn_opt.stats_at_exit) {
      stats_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
      atexit(stats_at_exit);
    }
    return;
  }
  while (atomic_load(&init_state) != 2)
    sched_yield();
}

/* Early start: a preloaded library's constructor runs before main and before most
 * other constructors. */
__attribute__((constructor)) static void heron_constructor(void) { hn_init(); }

HERON_API void *heron_malloc(size_t size) { return hn_malloc_inline(size); }

HERON_API void heron_free(void *ptr) { hn_free_inline(ptr); }

HERON_API void heron_free_sized(void *ptr, size_t size) {
  (void)size;
  hn_free_inline(ptr);
}

HERON_API void *heron_calloc(size_t nmemb, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(nmemb, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  if (total > HN_MAX_SMALL) {
    int zeroed = 0;
    void *p = hn_malloc_large(total, &zeroed);
    if (p && !zeroed)
      memset(p, 0, total);
    return p;
  }
  void *p = hn_malloc_inline(total);
  if (p)
    memset(p, 0, total);
  return p;
}

/* Usable size of a pointer heron returned (0 for NULL); bad pointers are fatal. */
static size_t usable_size(const void *p, const char *who) {
  if (!p)
    return 0;
  hn_span_t *s = hn_pagemap_lookup((uintptr_t)p);
  if (s && s->fastclass)
    return s->elemsize;
  if (!s || s->state != HN_SPAN_LARGE || s->start != (uintptr_t)p || s->kind != HN_KIND_MALLOC)
    hn_fatal(who, p);
  return hn_span_bytes(s);
}

HERON_API size_t heron_malloc_usable_size(void *ptr) {
  return usable_size(ptr, "malloc_usable_size(): invalid pointer");
}

HERON_API void *heron_realloc(void *ptr, size_t size) {
  if (!ptr)
    return hn_malloc_inline(size);
  if (size == 0) {
    hn_free_inline(ptr);
    return NULL;
  }
  size_t old = usable_size(ptr, "realloc(): invalid pointer");
  if (size <= old && old <= HN_MAX_SMALL && hn_size_class(size) == hn_size_class(old))
    return ptr; /* still the right class */
  if (old > HN_MAX_SMALL && size > HN_MAX_SMALL && size <= PTRDIFF_MAX) {
    /* A large block shrinks or grows in place when the page heap allows. */
    if (size <= old && size > old / 2)
      return ptr;
    uintptr_t pages = (size + HN_PAGE_SIZE - 1) >> HN_PAGE_SHIFT;
    hn_pageheap_lock();
    hn_span_t *s = hn_pagemap_lookup((uintptr_t)ptr);
    int done = s && s->state == HN_SPAN_LARGE && s->start == (uintptr_t)ptr &&
               hn_pageheap_resize_locked(s, pages) == 0;
    hn_pageheap_unlock();
    if (done)
      return ptr;
  }
  void *q = hn_malloc_inline(size);
  if (!q)
    return NULL;
  memcpy(q, ptr, size < old ? size : old);
  hn_free_inline(ptr);
  return q;
}

HERON_API void *heron_reallocarray(void *ptr, size_t nmemb, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(nmemb, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return heron_realloc(ptr, total);
}

/* size bytes aligned to align (a power of two). */
static void *aligned_alloc_impl(size_t align, size_t size) {
  if (align <= HN_MIN_ALIGN && size > 8)
    return hn_malloc_inline(size);
  if (size > PTRDIFF_MAX || align > HN_MAX_ALIGN) {
    errno = ENOMEM;
    return NULL;
  }
  if (align < HN_PAGE_SIZE) {
    /* A class whose size is a multiple of align: its objects sit at multiples of
     * their size from a page-aligned span start, so they are aligned. */
    for (unsigned cl = hn_size_class(size ? size : 1); cl && cl < HN_NCLASSES; cl++) {
      if (hn_class_size[cl] % align == 0)
        return hn_malloc_inline(hn_class_size[cl]);
    }
  }
  hn_init();
  uintptr_t pages = (size + HN_PAGE_SIZE - 1) >> HN_PAGE_SHIFT;
  uintptr_t align_pages = align > HN_PAGE_SIZE ? align >> HN_PAGE_SHIFT : 1;
  if (pages == 0)
    pages = 1;
  hn_span_t *s = hn_pageheap_alloc_large(pages, align_pages);
  if (!s)
    return NULL;
  return (void *)s->start;
}

static int pow2(size_t x) { return x && !(x & (x - 1)); }

HERON_API int heron_posix_memalign(void **out, size_t alignment, size_t size) {
  if (!pow2(alignment) || alignment % sizeof(void *))
    return EINVAL;
  int saved = errno;
  void *p = aligned_alloc_impl(alignment, size);
  int rc = p ? 0 : errno;
  errno = saved;
  if (!p)
    return rc;
  *out = p;
  return 0;
}

HERON_API void *heron_aligned_alloc(size_t alignment, size_t size) {
  if (!pow2(alignment)) {
    errno = EINVAL;
    return NULL;
  }
  return aligned_alloc_impl(alignment, size);
}

HERON_API void *heron_memalign(size_t alignment, size_t size) { return heron_aligned_alloc(alignment, size); }

HERON_API void *heron_valloc(size_t size) { return aligned_alloc_impl(HN_OS_PAGE, size); }

HERON_API void *heron_pvalloc(size_t size) {
  size_t rounded = (size + HN_OS_PAGE - 1) & ~(HN_OS_PAGE - 1);
  if (rounded < size) {
    errno = ENOMEM;
    return NULL;
  }
  return aligned_alloc_impl(HN_OS_PAGE, rounded ? rounded : HN_OS_PAGE);
}

HERON_API int heron_trim(size_t pad) {
  (void)pad;
  hn_init();
  int saved = errno;
  hn_pageheap_stats_t before, after;
  hn_pageheap_lock();
  hn_pageheap_stats_locked(&before);
  hn_pageheap_unlock();
  hn_tcache_flush();
  hn_central_drain_all();
  hn_pageheap_release_all();
  size_t meta = hn_meta_release_free();
  hn_pageheap_lock();
  hn_pageheap_stats_locked(&after);
  hn_pageheap_unlock();
  errno = saved;
  /* Spans emptied by the flush may already have been released by the policy. */
  return after.released_total > before.released_total || meta > 0;
}

HERON_API const char *heron_version(void) { return "heron 0.1.0"; }
