/*
 * mark.c: the mark loop.
 *
 * A candidate word is greyed in four steps, no function pointer and no division:
 *   1. range test against [lo, hi) of all GC spans, then two loads in the GC page map
 *      give the span (gcmap.h);
 *   2. the object index from the span's reciprocal (span.h), after a test against the
 *      end of the last object (the tail of a span holds no object);
 *   3. the alloc bit: a word that points at a free slot is not a reference;
 *   4. test-and-set of the mark bit; a newly marked object that can hold pointers is
 *      pushed on the work list.
 * Draining pops an object (through a prefetch FIFO, below), finds its span again, and
 * scans it by its kind:
 * conservative (every word; a large one in 128 KiB oblets, below), precise (the
 * pointer words named by the descriptor in its last word: an inline bitmap tagged with
 * bit 0, or a heron_gc_type_t pointer).
 *
 * The scanning functions read memory the sanitizers do not know about (other
 * threads' stacks, with their redzones) and are built without their instrumentation.
 */
#include "gc/mark.h"

#include "gc/gcmap.h"
#include "gc/span.h"
#include "heron/gc.h"

#if defined(__clang__)
#define HN_NO_SANITIZE __attribute__((no_sanitize("address", "thread", "memory")))
#else
#define HN_NO_SANITIZE __attribute__((no_sanitize_address, no_sanitize_thread))
#endif

static inline void grey(hn_marker_t *m, uintptr_t p) {
  hn_gcspan_t *s = hn_gcmap_lookup(p);
  if (s == NULL || p >= s->limit) return;
  uint32_t idx = hn_gcspan_index(s, p);
  uint64_t bit = (uint64_t)1 << (idx & 63);
  uint32_t w = idx >> 6;
  if (!(__atomic_load_n(&s->alloc_bits[w], __ATOMIC_ACQUIRE) & bit) ||
      (__atomic_load_n(&s->mark_bits[w], __ATOMIC_RELAXED) & bit))
    return;
  /* Several markers (background worker, assists, the barrier's flush) race for the
   * same object: the one whose or flips the bit owns pushing it. */
  if (__atomic_fetch_or(&s->mark_bits[w], bit, __ATOMIC_RELAXED) & bit) return;
  m->marked_bytes += s->elem_size;
  m->marked_objects++;
  if (s->scan != HN_SCAN_NOSCAN) hn_workq_push(&m->work, hn_gcspan_obj(s, idx));
}

void hn_mark_ptr(hn_marker_t *m, uintptr_t p) { grey(m, p); }

HN_NO_SANITIZE void hn_mark_range(hn_marker_t *m, uintptr_t lo, uintptr_t hi) {
  lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
  const uintptr_t rlo = __atomic_load_n(&hn_gcmap_lo, __ATOMIC_RELAXED);
  const uintptr_t rhi = __atomic_load_n(&hn_gcmap_hi, __ATOMIC_RELAXED);
  for (uintptr_t a = lo; a + sizeof(uintptr_t) <= hi; a += sizeof(uintptr_t)) {
    uintptr_t v = *(const volatile uintptr_t *)a;
    if (v - rlo < rhi - rlo) grey(m, v);
  }
  m->scanned_bytes += hi > lo ? hi - lo : 0;
}

HN_NO_SANITIZE static void scan_precise(hn_marker_t *m, uintptr_t obj, uint32_t size) {
  const uintptr_t *words = (const uintptr_t *)obj;
  size_t n = size / sizeof(uintptr_t) - 1; /* the last word is the descriptor */
  uintptr_t desc = words[n];
  if (desc & 1) {
    uint64_t map = (uint64_t)desc >> 1;
    while (map) {
      unsigned i = (unsigned)__builtin_ctzll(map);
      map &= map - 1;
      if (i < n) grey(m, words[i]);
    }
    return;
  }
  const heron_gc_type_t *t = (const heron_gc_type_t *)desc;
  if (t == NULL) return; /* not yet initialised: it holds only zeros */
  size_t ew = t->size / sizeof(uintptr_t);
  if (ew == 0) return;
  const uint64_t *pm = t->ptrmap;
  for (size_t base = 0; base < n; base += ew) {
    size_t lim = n - base < ew ? n - base : ew;
    for (size_t wi = 0; wi < (lim + 63) / 64; wi++) {
      uint64_t map = pm[wi];
      while (map) {
        size_t i = wi * 64 + (unsigned)__builtin_ctzll(map);
        map &= map - 1;
        if (i >= lim) break;
        grey(m, words[base + i]);
      }
    }
  }
}

/* Objects leave the work list through a small FIFO: each is prefetched when it enters
 * and scanned PREFETCH_DEPTH pops later, when its cache line has arrived (Cher, Hosking
 * and Vijaykumar, "Software prefetching for mark-sweep garbage collection", 2004).
 * Popped straight off the LIFO list, the next object is the one just pushed, and the
 * load of its first word was most of the mark loop's time. */
#define PREFETCH_DEPTH 8

/* Large conservative objects are scanned in pieces of this size (Go's oblets): a
 * 16 MiB table is then 1024 work entries that the worker and assists share and stop
 * between, not one scan that holds all of the marking. Smaller than Go's 128 KiB: a
 * drain's budget is checked between objects, and 2048 words that each point somewhere
 * random in a 1 GiB heap already take about a millisecond. */
#define OBLET_BYTES ((uint32_t)16 << 10)

HN_NO_SANITIZE static inline void scan_one(hn_marker_t *m, uintptr_t obj) {
  const hn_gcspan_t *s = hn_gcmap_lookup(obj);
  uint32_t size = s->elem_size;
  m->scanned_bytes += size;
  if (s->scan == HN_SCAN_PRECISE) {
    scan_precise(m, obj, size);
    return;
  }
  uintptr_t end = obj + size;
  if (size > OBLET_BYTES && s->nelems == 1) {
    /* A large conservative object, the only object of its span, is scanned as oblets:
     * its first entry on the work list is its start, which queues the other oblets;
     * any other entry in such a span is an oblet's start. Objects of the small classes
     * above OBLET_BYTES share their spans and are scanned whole: taken for oblets,
     * every object but the first lost all of itself past its first OBLET_BYTES. */
    end = s->base + size;
    if (obj == s->base)
      for (uintptr_t o = obj + OBLET_BYTES; o < end; o += OBLET_BYTES) hn_workq_push(&m->work, o);
    if (end - obj > OBLET_BYTES) end = obj + OBLET_BYTES;
    m->scanned_bytes -= size - (end - obj);
  }
  const uintptr_t rlo = __atomic_load_n(&hn_gcmap_lo, __ATOMIC_RELAXED);
  const uintptr_t rhi = __atomic_load_n(&hn_gcmap_hi, __ATOMIC_RELAXED);
  for (const uintptr_t *w = (const uintptr_t *)obj; (uintptr_t)w < end; w++) {
    uintptr_t v = *w;
    if (v - rlo < rhi - rlo) grey(m, v);
  }
}

HN_NO_SANITIZE void hn_mark_drain(hn_marker_t *m) { hn_mark_drain_n(m, UINT64_MAX); }

/* The ring holds objects already popped: on a budget they are scanned before the
 * function returns, so the budget may be passed by up to PREFETCH_DEPTH objects. */
HN_NO_SANITIZE uint64_t hn_mark_drain_n(hn_marker_t *m, uint64_t budget) {
  uintptr_t ring[PREFETCH_DEPTH];
  unsigned head = 0, n = 0;
  uint64_t start = m->scanned_bytes;
  for (;;) {
    while (n < PREFETCH_DEPTH && m->scanned_bytes - start < budget) {
      uintptr_t obj = hn_workq_pop(&m->work);
      if (obj == 0) break;
      __builtin_prefetch((const void *)obj);
      ring[(head + n++) % PREFETCH_DEPTH] = obj;
    }
    if (n == 0) return m->scanned_bytes - start;
    uintptr_t obj = ring[head];
    head = (head + 1) % PREFETCH_DEPTH;
    n--;
    scan_one(m, obj);
  }
}

int hn_mark_is_marked(uintptr_t p) {
  hn_gcspan_t *s = hn_gcmap_lookup(p);
  if (s == NULL || p >= s->limit) return 0;
  return hn_bit_test(s->mark_bits, hn_gcspan_index(s, p));
}
