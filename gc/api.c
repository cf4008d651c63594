/*
 * api.c: the public entry points of include/heron/gc.h that are thin: allocation,
 * object queries, roots, threads, the barrier hook, finalizer registration, stats.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gc/barrier.h"
#include "gc/collector.h"
#include "gc/pace.h"
#include "gc/finalize.h"
#include "gc/heap.h"
#include "gc/roots.h"
#include "gc/stats.h"
#include "gc/gctcache.h"
#include "gc/threads.h"
#include "heron/gc.h"

int heron_gc_barrier_on;

/* Objects whose precise layout is an inline bitmap: bit 0 of the descriptor word tags
 * it, so 63 bits remain for 63 words. */
#define INLINE_BITMAP_WORDS 63

/* Whether `bytes` more would take the heap past its trigger, with no cycle marking. */
static int passes_trigger(size_t bytes) {
  if (__atomic_load_n(&heron_gc_barrier_on, __ATOMIC_RELAXED)) return 0;
  uint64_t since = __atomic_load_n(&hn_heap.since_gc, __ATOMIC_RELAXED);
  uint64_t trigger = __atomic_load_n(&hn_heap.trigger, __ATOMIC_RELAXED);
  return since >= trigger || bytes >= trigger - since;
}

/* Allocation past the thread's cache: a refill (small) or a large object. The heap's
 * count of bytes since the last cycle grows only here, so only here can it pass the
 * trigger (Go, too, looks at the trigger when an mcache refills, not at every
 * allocation); while marking, a cycle is already on. *started is set when this
 * allocation started a cycle: it owes no assist (Go's allocation that starts a cycle
 * pays none), as it was not allocated against the cycle's goal. */
static void *__attribute__((noinline)) gc_alloc_slow(hn_gcthread_t *t, size_t size, size_t sz,
                                                     int scan, uintptr_t desc, int *started) {
  if (sz <= HN_MAX_SMALL && sz >= size) {
    void *p = hn_gctcache_refill(&t->tcache, hn_size_class(sz), scan, desc);
    if (p != NULL && passes_trigger(0)) {
      hn_collector_collect(0);
      *started = 1;
    }
    return p;
  }
  /* A large object that passes the trigger starts the cycle first, so it is allocated
   * black (or after the cycle, if that was over first). Allocated white, the mark
   * scanned it while it still held only zeros, the worker and an assist faulting in
   * its fresh pages beside the program's first writes to them: in sqlite's replay at
   * GOGC=200, 258 faults and about 2 ms of marking CPU for one 1 MiB buffer
   * (docs/gc.md "Allocation"). The heap grows by the object's whole pages, its
   * descriptor word included (sz); a size the heap refuses starts nothing. */
  if (size <= HN_HEAP_LARGE_MAX &&
      passes_trigger((sz + HN_PAGE_SIZE - 1) & ~(size_t)(HN_PAGE_SIZE - 1))) {
    hn_collector_collect(0);
    *started = 1;
  }
  return hn_heap_alloc(size, scan, desc);
}

static inline void *gc_alloc(size_t size, int scan, uintptr_t desc) {
  hn_gcthread_t *t = hn_threads_self();
  if (__builtin_expect(t == NULL, 0)) {
    if (hn_collector_ensure_init() != 0 || hn_threads_attach() != 0) {
      errno = ENOMEM;
      return NULL;
    }
    t = hn_threads_self();
  }
  size_t sz = size + (scan == HN_SCAN_PRECISE ? sizeof(uintptr_t) : 0);
  if (sz < 16) sz = 16; /* class 1 (8 bytes) would break 16-byte alignment */
  void *p = NULL;
  int started = 0;
  if (__builtin_expect(sz <= HN_MAX_SMALL && sz >= size, 1))
    p = hn_gctcache_pop(t->tcache, hn_size_class(sz), scan, desc);
  if (__builtin_expect(p == NULL, 0)) {
    p = gc_alloc_slow(t, size, sz, scan, desc, &started);
    if (p == NULL) {
      errno = ENOMEM;
      return NULL;
    }
  }
  hn_threads_poll(t);
  if (__builtin_expect(__atomic_load_n(&heron_gc_barrier_on, __ATOMIC_RELAXED), 0) && !started)
    hn_assist_alloc(t, size);
  return p;
}

void *heron_gc_malloc(size_t size) { return gc_alloc(size, HN_SCAN_CONSERVATIVE, 0); }

void *heron_gc_malloc_noscan(size_t size) { return gc_alloc(size, HN_SCAN_NOSCAN, 0); }

void *heron_gc_malloc_bitmap(size_t size, uint64_t ptrmap) {
  if (size > INLINE_BITMAP_WORDS * sizeof(void *) || (ptrmap >> INLINE_BITMAP_WORDS) != 0) {
    errno = EINVAL;
    return NULL;
  }
  if (ptrmap == 0) return gc_alloc(size, HN_SCAN_NOSCAN, 0);
  /* Every word a pointer: scanning each word of the object is what the bitmap says, and
   * without the descriptor word a two-pointer node takes 16 bytes, not 32. */
  size_t words = (size + sizeof(void *) - 1) / sizeof(void *);
  if (words != 0 && ptrmap == (~(uint64_t)0 >> (64 - words)))
    return gc_alloc(size, HN_SCAN_CONSERVATIVE, 0);
  return gc_alloc(size, HN_SCAN_PRECISE, (uintptr_t)ptrmap << 1 | 1);
}

void *heron_gc_malloc_typed(const heron_gc_type_t *t, size_t count) {
  if (t == NULL || t->size == 0 || t->size % sizeof(void *) != 0 || count == 0 ||
      count > (SIZE_MAX / 2) / t->size || ((uintptr_t)t & 1) != 0) {
    errno = t == NULL || t->size == 0 || count == 0 || t->size % sizeof(void *) ? EINVAL : ENOMEM;
    return NULL;
  }
  return gc_alloc(t->size * count, HN_SCAN_PRECISE, (uintptr_t)t);
}

size_t heron_gc_size(const void *p) {
  size_t size = 0;
  return hn_heap_find_object((uintptr_t)p, &size) ? size : 0;
}

void *heron_gc_base(const void *p) { return (void *)hn_heap_find_object((uintptr_t)p, NULL); }

int heron_gc_add_root(const void *start, size_t size) { return hn_roots_add(start, size); }

int heron_gc_remove_root(const void *start) { return hn_roots_remove(start); }

int heron_gc_thread_attach(void) {
  int err = hn_collector_ensure_init();
  return err ? err : hn_threads_attach();
}

void heron_gc_thread_detach(void) { hn_threads_detach(); }

void heron_gc_blocking_begin(void) { hn_threads_blocking_begin(); }

void heron_gc_blocking_end(void) { hn_threads_blocking_end(); }

int heron_gc_set_finalizer(void *obj, heron_gc_finalizer_fn fn, void *arg) {
  if (hn_heap_find_object((uintptr_t)obj, NULL) != (uintptr_t)obj || obj == NULL) return EINVAL;
  return hn_fin_set((uintptr_t)obj, fn, arg);
}

size_t heron_gc_run_finalizers(void) {
  if (hn_threads_self() == NULL && heron_gc_thread_attach() != 0) return 0;
  return hn_fin_run(SIZE_MAX);
}

void heron_gc_stats_get(heron_gc_stats_t *out) {
  memset(out, 0, sizeof *out);
  /* First, with acquire: every statistic read after it is at least as new as the cycles
   * counted here (collector.c publishes the count after the cycle's marked heap and
   * CPU). Read after the marked heap, the count could be a cycle ahead of it: a replay
   * under TSan sampled a cycle with the one before's heap_live. */
  out->cycles = __atomic_load_n(&hn_gc_counters.cycles, __ATOMIC_ACQUIRE);
#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
  out->heap_in_use = LD(hn_heap.in_use);
  out->heap_live = LD(hn_gc_counters.live);
  out->heap_spans = LD(hn_heap.span_bytes);
  out->spans = LD(hn_heap.spans);
  uint64_t trig = LD(hn_heap.trigger);
  out->next_gc = trig == UINT64_MAX ? UINT64_MAX : out->heap_in_use - LD(hn_heap.since_gc) + trig;
  out->forced_cycles = LD(hn_gc_counters.forced_cycles);
  out->mark_resumes = LD(hn_gc_counters.mark_resumes);
  out->pause_total_ns = LD(hn_gc_counters.pause_total_ns);
  out->pause_max_ns = LD(hn_gc_counters.pause_max_ns);
  out->pause_last_ns = LD(hn_gc_counters.pause_last_ns);
  out->bytes_allocated = LD(hn_heap.alloc_bytes);
  out->objects_allocated = LD(hn_heap.alloc_objects);
  out->bytes_freed = LD(hn_heap.freed_bytes);
  out->objects_freed = LD(hn_heap.freed_objects);
#undef LD
  out->finalizers_queued = hn_fin_queued_count();
  out->finalizers_run = hn_fin_run_count();
  out->weak_cleared = hn_weak_cleared_count();
  out->threads = hn_threads_count();
  out->pauses = __atomic_load_n(&hn_gc_counters.pauses, __ATOMIC_RELAXED);
  hn_pace_stats(out);
}

static size_t put_u64(char *buf, uint64_t v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  return n;
}

void heron_gc_stats_write(int fd, int json) {
  heron_gc_stats_t st;
  heron_gc_stats_get(&st);
  char buf[8192];
  size_t n = 0;
#define APPEND(str)                                   \
  do {                                                \
    size_t l_ = strlen(str);                          \
    memcpy(buf + n, str, l_);                         \
    n += l_;                                          \
  } while (0)
  APPEND(json ? "{" : "heron gc statistics\n");
  int first = 1;
#define FIELD(name, doc)                              \
  if (json) {                                         \
    APPEND(first ? "\"" : ", \"");                    \
    APPEND(#name);                                    \
    APPEND("\": ");                                   \
  } else {                                            \
    APPEND("  ");                                     \
    APPEND(#name);                                    \
    for (size_t pad_ = strlen(#name); pad_ < 20; pad_++) buf[n++] = ' '; \
  }                                                   \
  n += put_u64(buf + n, st.name);                     \
  if (!json) {                                        \
    APPEND("  # ");                                   \
    APPEND(doc);                                      \
    APPEND("\n");                                     \
  }                                                   \
  first = 0;
  HERON_GC_STATS_FIELDS(FIELD)
#undef FIELD
#undef APPEND
  if (json) {
    buf[n++] = '}';
    buf[n++] = '\n';
  }
  (void)first;
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, buf + off, n - off);
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      break;
    }
    off += (size_t)w;
  }
}
