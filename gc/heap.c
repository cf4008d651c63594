/*
 * heap.c: GC spans, allocation from them, and sweeping.
 *
 * Allocation (heap lock): the class's current span hands out the next slot whose alloc
 * bit is clear, scanning from `freeindex`. When it is full it moves to the swept full
 * list, and the next span comes from, in order:
 *   1. the swept partial list;
 *   2. the class's unswept spans, swept here first (lazy sweeping, Go's
 *      mcentral.cacheSpan): a span is swept before anything is allocated from it;
 *   3. a new span from the page heap.
 * Large objects (above the largest class) get a span each.
 *
 * Sweeping a span (heap lock, span.sweepgen == heap - 2): objects allocated but not
 * marked are freed (alloc := mark, mark := 0), the span's sweepgen becomes the heap's,
 * and an empty span goes back to the page heap (and from there to the OS under the
 * allocator's release policy). The background sweeper (collector.c) and heron_gc_collect
 * call hn_heap_sweep_one_locked; allocation sweeps the spans of its own class.
 *
 * The swept and unswept lists of a class are the two halves of `partial` and `full`,
 * picked by the parity of sweepgen / 2, so the flip at the end of marking makes every
 * swept span unswept in O(1) (Go's mcentral.partial[2] / full[2]).
 */
#include "gc/heap.h"
#include "gc/lock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gc/fatal.h"
#include "gc/gcmap.h"
#include "gc/gcmem.h"
#include "gc/gctcache.h"
#include "gc/threads.h"

hn_heap_t hn_heap = {.lock = PTHREAD_MUTEX_INITIALIZER, .sweepgen = 4,
                     .sweep_next = HN_SCAN_KINDS,
                     .trigger = HN_HEAP_MIN_TRIGGER};

static inline unsigned swept_idx(void) { return (hn_heap.sweepgen >> 1) & 1; }

static inline void counter_add(uint64_t *c, uint64_t d) {
  __atomic_store_n(c, *c + d, __ATOMIC_RELAXED);
}
static inline void counter_sub(uint64_t *c, uint64_t d) {
  __atomic_store_n(c, *c - d, __ATOMIC_RELAXED);
}

int hn_heap_init(void) { return hn_gcmap_init(); }

static inline void push(hn_gcspan_t **list, hn_gcspan_t *s) {
  s->next = *list;
  *list = s;
}

static inline hn_gcspan_t *pop(hn_gcspan_t **list) {
  hn_gcspan_t *s = *list;
  if (s != NULL) *list = s->next;
  return s;
}

/* A new span for gclass (or a large span of npages when cl == 0). *zeroed: whether the
 * page heap knows its pages read as zero (fresh, or all released since). Heap lock. */
static hn_gcspan_t *span_new_locked(unsigned cl, int scan, size_t npages, int *zeroed) {
  uint32_t nelems = cl ? hn_class_objects[cl] : 1;
  uint32_t nwords = (nelems + 63) / 64;
  size_t got;
  hn_gcspan_t *s = hn_gcmem_meta_alloc_locked(sizeof *s + 2 * nwords * sizeof(uint64_t), &got);
  if (s == NULL) return NULL;
  if (cl) npages = hn_class_pages[cl];
  void *handle;
  uintptr_t base =
      hn_gcmem_pages_alloc_locked(cl, npages, scan == HN_SCAN_NOSCAN, &handle, zeroed);
  if (base == 0) {
    hn_gcmem_meta_free_locked(s, got);
    return NULL;
  }
  s->meta_bytes = got;
  s->base = base;
  s->npages = npages;
  s->elem_size = cl ? hn_class_size[cl] : (uint32_t)(npages << HN_GC_PAGE_SHIFT);
  s->divmul = cl ? hn_class_divmagic[cl] : 0;
  s->nelems = nelems;
  s->nwords = nwords;
  s->limit = base + (uintptr_t)nelems * s->elem_size;
  s->sweepgen = hn_heap.sweepgen;
  s->gclass = (uint16_t)(cl * HN_SCAN_KINDS + (unsigned)scan);
  s->scan = (uint8_t)scan;
  s->pages = handle;
  s->alloc_bits = s->bits;
  s->mark_bits = s->bits + nwords;
  hn_gcmem_pages_set_owner(handle, s);
  if (hn_gcmap_set(base, npages, s) != 0) {
    hn_gcmem_pages_free_locked(handle);
    hn_gcmem_meta_free_locked(s, got);
    return NULL;
  }
  counter_add(&hn_heap.span_bytes, npages << HN_GC_PAGE_SHIFT);
  counter_add(&hn_heap.spans, 1);
  return s;
}

static void span_free_locked(hn_gcspan_t *s) {
  hn_gcmap_set(s->base, s->npages, NULL);
  counter_sub(&hn_heap.span_bytes, s->npages << HN_GC_PAGE_SHIFT);
  counter_sub(&hn_heap.spans, 1);
  hn_gcmem_pages_free_locked(s->pages);
  hn_gcmem_meta_free_locked(s, s->meta_bytes);
}

/* Sweep s (which needs it). Returns s, or NULL if it was empty and went back to the page
 * heap (unless keep_empty, when the caller is about to allocate from it). */
static hn_gcspan_t *sweep_span_locked(hn_gcspan_t *s, int keep_empty) {
  if (s->sweepgen != hn_heap.sweepgen - 2) hn_gc_fatal("sweeping a span that does not need it");
  s->sweepgen = hn_heap.sweepgen - 1;
  uint32_t live = 0;
  for (uint32_t w = 0; w < s->nwords; w++) {
    uint64_t m = s->mark_bits[w];
    s->alloc_bits[w] = m;
    s->mark_bits[w] = 0;
    live += (uint32_t)__builtin_popcountll(m);
  }
  uint32_t freed = s->nalloc - live;
  s->nalloc = live;
  s->freeindex = 0;
  s->sweepgen = hn_heap.sweepgen;
  counter_sub(&hn_heap.unswept, 1);
  if (freed) {
    counter_add(&hn_heap.freed_objects, freed);
    counter_add(&hn_heap.freed_bytes, (uint64_t)freed * s->elem_size);
    counter_sub(&hn_heap.in_use, (uint64_t)freed * s->elem_size);
  }
  /* An empty span goes back to the page heap only when the GC heap holds more than it
   * will grow into before the next cycle (Go's scavenger keeps about 10 % over the
   * goal): returning and refaulting the same pages every cycle cost a fifth of the
   * CPU of binary_trees in page faults. */
  if (live == 0 && !keep_empty &&
      hn_heap.span_bytes > __atomic_load_n(&hn_heap.retain, __ATOMIC_RELAXED)) {
    span_free_locked(s);
    return NULL;
  }
  return s;
}

/* File a swept span on its class's swept lists. */
static void file_swept_locked(hn_gcspan_t *s) {
  unsigned sw = swept_idx();
  if (s->gclass < HN_SCAN_KINDS) {
    push(&hn_heap.large[sw], s);
    return;
  }
  hn_gcclass_t *c = &hn_heap.cls[s->gclass];
  push(s->nalloc == s->nelems ? &c->full[sw] : &c->partial[sw], s);
}

static uint32_t next_free(const hn_gcspan_t *s) {
  for (uint32_t i = s->freeindex; i < s->nelems;) {
    uint64_t free_bits = ~s->alloc_bits[i >> 6] >> (i & 63);
    if (free_bits) {
      i += (uint32_t)__builtin_ctzll(free_bits);
      return i < s->nelems ? i : s->nelems;
    }
    i = (i | 63) + 1;
  }
  return s->nelems;
}

/* Find the class a span to allocate from. Heap lock. */
static hn_gcspan_t *refill_locked(hn_gcclass_t *c, unsigned cl, int scan) {
  unsigned sw = swept_idx();
  if (c->cur != NULL) {
    push(&c->full[sw], c->cur);
    c->cur = NULL;
  }
  hn_gcspan_t *s = pop(&c->partial[sw]);
  while (s == NULL) {
    hn_gcspan_t *u = pop(&c->partial[sw ^ 1]);
    if (u == NULL) u = pop(&c->full[sw ^ 1]);
    if (u == NULL) break;
    u = sweep_span_locked(u, 1);
    if (u->nalloc < u->nelems)
      s = u;
    else
      push(&c->full[sw], u);
  }
  int zeroed; /* small objects are zeroed as they are taken (take_run_locked) */
  if (s == NULL) s = span_new_locked(cl, scan, 0, &zeroed);
  c->cur = s;
  return s;
}

static void *alloc_large(size_t size, int scan, uintptr_t desc) {
  size_t npages = (size + HN_PAGE_SIZE - 1) >> HN_GC_PAGE_SHIFT;
  if (size > HN_HEAP_LARGE_MAX) return NULL;
  hn_threads_lock_at_safepoint(&hn_heap.lock);
  int zeroed;
  hn_gcspan_t *s = span_new_locked(0, scan, npages, &zeroed);
  if (s == NULL) {
    pthread_mutex_unlock(&hn_heap.lock);
    return NULL;
  }
  void *obj = (void *)s->base;
  /* Zero with the lock held: once this returns, a cycle may scan the object. Pages the
   * page heap knows are zero (fresh, or released since) are not written (Go's
   * needzero): a large buffer costs no page faults until the program touches it.
   * Small objects are zeroed even so: a program writes them right away, so skipping
   * it saves a memset, not the faults, and a test mutator that never touched its
   * objects then allocated without faulting, faster than its pacer's history of it
   * (test_steady_gogc with a busy second CPU: heap 1.5-2.2 times its goal, where the
   * CPU limiter let it pass). */
  if (!zeroed) memset(obj, 0, s->elem_size);
  if (scan == HN_SCAN_PRECISE) ((uintptr_t *)(s->base + s->elem_size))[-1] = desc;
  /* Allocate black: the mark bit first, so a concurrent marker that sees the alloc
   * bit finds the object marked and never scans it half-initialised. */
  if (hn_heap.phase == HN_PHASE_MARK) hn_bit_set_atomic(s->mark_bits, 0);
  hn_bit_set_published(s->alloc_bits, 0);
  s->nalloc = 1;
  push(&hn_heap.large[swept_idx()], s);
  counter_add(&hn_heap.in_use, s->elem_size);
  counter_add(&hn_heap.alloc_bytes, s->elem_size);
  counter_add(&hn_heap.alloc_objects, 1);
  counter_add(&hn_heap.since_gc, s->elem_size);
  pthread_mutex_unlock(&hn_heap.lock);
  return obj;
}

void *hn_heap_alloc(size_t size, int scan, uintptr_t desc) {
  if (scan == HN_SCAN_PRECISE) size += sizeof(uintptr_t);
  if (size < 16) size = 16; /* class 1 (8 bytes) would break 16-byte alignment */
  if (size > HN_MAX_SMALL) return alloc_large(size, scan, desc);
  unsigned cl = hn_size_class(size);
  hn_gcclass_t *c = &hn_heap.cls[cl * HN_SCAN_KINDS + (unsigned)scan];
  hn_threads_lock_at_safepoint(&hn_heap.lock);
  hn_gcspan_t *s = c->cur;
  uint32_t idx = s != NULL ? next_free(s) : 0;
  if (s == NULL || idx == s->nelems) {
    s = refill_locked(c, cl, scan);
    if (s == NULL) {
      pthread_mutex_unlock(&hn_heap.lock);
      return NULL;
    }
    idx = next_free(s);
  }
  if (hn_heap.phase == HN_PHASE_MARK) hn_bit_set_atomic(s->mark_bits, idx); /* allocate black */
  hn_bit_set_published(s->alloc_bits, idx);
  s->freeindex = idx + 1;
  s->nalloc++;
  uint32_t esize = s->elem_size;
  void *obj = (void *)hn_gcspan_obj(s, idx);
  if (esize <= 128) { /* small: inline stores beat a call to memset */
    uint64_t *w = obj;
    for (uint32_t i = 0; i < esize / 8; i++) w[i] = 0;
  } else {
    memset(obj, 0, esize);
  }
  if (scan == HN_SCAN_PRECISE) ((uintptr_t *)((char *)obj + esize))[-1] = desc;
  counter_add(&hn_heap.in_use, esize);
  counter_add(&hn_heap.alloc_bytes, esize);
  counter_add(&hn_heap.alloc_objects, 1);
  counter_add(&hn_heap.since_gc, esize);
  pthread_mutex_unlock(&hn_heap.lock);
  return obj;
}

uintptr_t hn_heap_find_object(uintptr_t p, size_t *size) {
  uintptr_t obj = 0;
  hn_gc_lock(&hn_heap.lock);
  hn_gcspan_t *s = hn_gcmap_lookup(p);
  if (s != NULL && p >= s->base && p < s->limit) {
    uint32_t idx = hn_gcspan_index(s, p);
    if (hn_bit_test(s->alloc_bits, idx)) {
      obj = hn_gcspan_obj(s, idx);
      if (size != NULL)
        *size = s->elem_size - (s->scan == HN_SCAN_PRECISE ? sizeof(uintptr_t) : 0);
    }
  }
  pthread_mutex_unlock(&hn_heap.lock);
  return obj;
}

int hn_heap_sweep_one_locked(void) {
  unsigned un = swept_idx() ^ 1;
  hn_gcspan_t *s = pop(&hn_heap.large[un]);
  if (s != NULL) {
    s = sweep_span_locked(s, 0);
    if (s != NULL) file_swept_locked(s);
    return 1;
  }
  /* A class's unswept lists only shrink between two flips (new spans and swept ones go
   * on the swept lists), so the walk resumes where the last one found its span: from
   * the first class every time, sweeping a heap of large classes walked the empty lists
   * of all the small ones for each span. */
  for (; hn_heap.sweep_next < HN_GCLASSES; hn_heap.sweep_next++) {
    hn_gcclass_t *c = &hn_heap.cls[hn_heap.sweep_next];
    s = pop(&c->partial[un]);
    if (s == NULL) s = pop(&c->full[un]);
    if (s == NULL) continue;
    s = sweep_span_locked(s, 0);
    if (s != NULL) file_swept_locked(s);
    return 1;
  }
  return 0;
}

void hn_heap_finish_sweep_locked(void) {
  while (hn_heap_sweep_one_locked()) {
  }
}

void hn_heap_release_current_locked(void) {
  unsigned sw = swept_idx();
  for (unsigned g = HN_SCAN_KINDS; g < HN_GCLASSES; g++) {
    hn_gcclass_t *c = &hn_heap.cls[g];
    if (c->cur != NULL) {
      push(c->cur->nalloc == c->cur->nelems ? &c->full[sw] : &c->partial[sw], c->cur);
      c->cur = NULL;
    }
  }
}

void hn_heap_flip_locked(void) {
  uint64_t live = hn_heap.in_use_marked, trig = hn_heap.trigger;
  uint64_t goal = trig > UINT64_MAX / 2 - live ? live + HN_HEAP_MIN_TRIGGER : live + trig;
  __atomic_store_n(&hn_heap.retain, goal + goal / 10, __ATOMIC_RELAXED);
  /* Every span is on a list now (hn_heap_release_current_locked ran), all swept. */
  __atomic_store_n(&hn_heap.unswept, hn_heap.spans, __ATOMIC_RELAXED);
  __atomic_store_n(&hn_heap.sweepgen, hn_heap.sweepgen + 2, __ATOMIC_RELAXED);
  hn_heap.sweep_next = HN_SCAN_KINDS;
}

/* Take up to `want` free slots of s from the bitmap word holding slot idx (the first
 * free one), into out; returns how many. Heap lock. One word at a time, because the
 * bits of a word are set together: while marking, one atomic or makes them all black
 * (a locked instruction per object was a sixth of the refill's time on binary_trees),
 * one release store publishes their alloc bits, and each run of adjacent slots is
 * zeroed by one memset (a 32-byte object's own inline zeroing compiled to `rep stos`,
 * whose start-up cost was half of the refill's time). */
static uint32_t take_run_locked(hn_gcspan_t *s, uint32_t idx, uint32_t want, uintptr_t *out) {
  uint32_t w = idx >> 6;
  uint64_t free_bits = ~s->alloc_bits[w] & (~(uint64_t)0 << (idx & 63));
  uint32_t in_word = s->nelems - (w << 6); /* slots of this word that exist */
  if (in_word < 64) free_bits &= ((uint64_t)1 << in_word) - 1;
  uint64_t rest = free_bits;
  for (uint32_t k = 0; k < want && rest != 0; k++) rest &= rest - 1;
  uint64_t take = free_bits & ~rest;
  if (hn_heap.phase == HN_PHASE_MARK) /* allocate black, before the alloc bits */
    __atomic_fetch_or(&s->mark_bits[w], take, __ATOMIC_RELEASE);
  __atomic_store_n(&s->alloc_bits[w], s->alloc_bits[w] | take, __ATOMIC_RELEASE);
  uint32_t n = 0;
  uint32_t esize = s->elem_size;
  uintptr_t base = s->base + (uintptr_t)(w << 6) * esize;
  while (take != 0) {
    uint32_t a = (uint32_t)__builtin_ctzll(take);
    uint64_t above = ~(take >> a); /* zero bits of the run starting at a */
    uint32_t len = above == 0 ? 64 - a : (uint32_t)__builtin_ctzll(above);
    uintptr_t obj = base + (uintptr_t)a * esize;
    memset((void *)obj, 0, (size_t)len * esize);
    for (uint32_t i = 0; i < len; i++) out[n++] = obj + (uintptr_t)i * esize;
    s->freeindex = (w << 6) + a + len;
    take = len + a >= 64 ? 0 : take & (~(uint64_t)0 << (a + len));
  }
  s->nalloc += n;
  return n;
}

/* ---- thread caches (gctcache.h) ---- */

void *hn_gctcache_refill(hn_gctcache_t **tcp, unsigned cl, int scan, uintptr_t desc) {
  if (*tcp == NULL) {
    *tcp = calloc(1, sizeof(hn_gctcache_t));
    if (*tcp == NULL) return NULL;
  }
  hn_gctcache_class_t *tc = &(*tcp)->cls[cl * HN_SCAN_KINDS + (unsigned)scan];
  hn_gcclass_t *c = &hn_heap.cls[cl * HN_SCAN_KINDS + (unsigned)scan];
  hn_threads_lock_at_safepoint(&hn_heap.lock);
  uint32_t esize = hn_class_size[cl];
  uint32_t got = 0;
  while (got < HN_GCTCACHE_N) {
    hn_gcspan_t *s = c->cur;
    uint32_t idx = s != NULL ? next_free(s) : 0;
    if (s == NULL || idx == s->nelems) {
      if (got > 0) break; /* enough for now; the next refill moves on */
      s = refill_locked(c, cl, scan);
      if (s == NULL) break;
      idx = next_free(s);
    }
    got += take_run_locked(s, idx, HN_GCTCACHE_N - got, tc->obj + got);
  }
  if (got == 0) {
    pthread_mutex_unlock(&hn_heap.lock);
    return NULL;
  }
  counter_add(&hn_heap.in_use, (uint64_t)got * esize);
  counter_add(&hn_heap.alloc_bytes, (uint64_t)got * esize);
  counter_add(&hn_heap.alloc_objects, got);
  counter_add(&hn_heap.since_gc, (uint64_t)got * esize);
  /* The last one goes to the caller; the rest become the cache, published under the
   * lock so a collector (which takes the heap lock first) sees them. */
  uintptr_t obj = tc->obj[got - 1];
  tc->n = got - 1;
  pthread_mutex_unlock(&hn_heap.lock);
  if (scan == HN_SCAN_PRECISE) ((uintptr_t *)(obj + esize))[-1] = desc;
  return (void *)obj;
}

void hn_gctcache_flush(hn_gctcache_t *tc) {
  if (tc == NULL) return;
  hn_gc_lock(&hn_heap.lock);
  for (unsigned g = 0; g < HN_GCLASSES; g++) {
    hn_gctcache_class_t *c = &tc->cls[g];
    for (uint32_t i = 0; i < c->n; i++) {
      hn_gcspan_t *s = hn_gcmap_lookup(c->obj[i]);
      uint32_t idx = hn_gcspan_index(s, c->obj[i]);
      uint64_t bit = (uint64_t)1 << (idx & 63);
      __atomic_fetch_and(&s->alloc_bits[idx >> 6], ~bit, __ATOMIC_RELAXED);
      __atomic_fetch_and(&s->mark_bits[idx >> 6], ~bit, __ATOMIC_RELAXED);
      s->nalloc--;
      if (idx < s->freeindex && s->sweepgen == hn_heap.sweepgen) s->freeindex = idx;
      counter_sub(&hn_heap.in_use, s->elem_size);
      counter_sub(&hn_heap.alloc_bytes, s->elem_size);
      counter_sub(&hn_heap.alloc_objects, 1);
      if (hn_heap.since_gc >= s->elem_size) counter_sub(&hn_heap.since_gc, s->elem_size);
    }
    c->n = 0;
  }
  pthread_mutex_unlock(&hn_heap.lock);
}

uint64_t hn_gctcache_mark(const hn_gctcache_t *tc, uint64_t *objects) {
  uint64_t bytes = 0;
  if (tc == NULL) return 0;
  for (unsigned g = 0; g < HN_GCLASSES; g++) {
    const hn_gctcache_class_t *c = &tc->cls[g];
    for (uint32_t i = 0; i < c->n; i++) {
      hn_gcspan_t *s = hn_gcmap_lookup(c->obj[i]);
      uint32_t idx = hn_gcspan_index(s, c->obj[i]);
      if (!hn_bit_test(s->mark_bits, idx)) {
        hn_bit_set_atomic(s->mark_bits, idx);
        bytes += s->elem_size;
        (*objects)++;
      }
    }
  }
  return bytes;
}
