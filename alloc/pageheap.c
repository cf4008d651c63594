/*
 * pageheap.c: the page heap, the bottom of the allocator above the OS layer.
 *
 * It hands out spans (runs of 8 KiB pages) and takes them back:
 *  1. Address space comes from the OS in reservations of at least HN_RESERVE_BYTES,
 *     aligned to HN_RESERVE_ALIGN, made only when no free run fits. Reservations are
 *     never unmapped, so the heap never maps and unmaps in a loop.
 *  2. Free runs sit in a red-black tree ordered by (pages, address). An allocation takes
 *     the smallest run that fits, the lowest one among equals (best fit, which keeps big
 *     runs whole and packs the heap toward low addresses), and cuts what it needs from
 *     it; the rest goes back to the tree.
 *  3. A freed span is merged with the free runs before and after it, found in O(1)
 *     through the page map entries of the neighbouring pages (a free run has entries at
 *     both ends), so free space never stays split into adjacent pieces.
 *  4. Every page has a "released" bit in the page map leaf: set while not resident
 *     (fresh from the OS or given back with madvise). A free run counts its released
 *     pages, so the statistics know exactly how much free memory is resident.
 *  5. Release is off the free path's common case, as in jemalloc's decay and Go's
 *     scavenger: a heap that churns keeps its pages, memory that stays free goes back
 *     in large coalesced runs. Every free run carries freed_ms, when it became free (a
 *     run merged from parts with resident pages takes the oldest part's time, so an
 *     idle run cannot be kept young by churn at its edge). With S = max(HERON_RETAIN_MIN,
 *     HERON_RETAIN % of the bytes in use) and H = max(64 MiB, S, the most bytes in use
 *     during the current and the previous window of HERON_DECAY_MS):
 *     a. when a span is freed and free resident bytes are above S, and at least
 *        min(100 ms, HERON_DECAY_MS / 4) passed since the last pass, a decay pass walks
 *        up to HN_PASS_VISIT runs, largest first, resuming where the last one stopped,
 *        and releases those free for HERON_DECAY_MS, until at most S are left;
 *     b. when free resident bytes pass H, runs are released regardless of age, largest
 *        first, down to max(S, H / 2): one big batch, then room to churn again;
 *        below H but above max(64 MiB, bytes in use), runs with at least 256 resident
 *        pages (2 MiB) are released regardless of age, largest first: a heap that shed
 *        a whole phase gives it back at once in few calls, while the small holes a
 *        refill reuses first (best fit) stay;
 *     c. malloc_trim(0) releases every free run.
 *     Why: releasing a span the moment it became free (what this file did first) made a
 *     churning program pay a madvise, a TLB shootdown and then page faults for pages it
 *     took back a moment later, in runs of a few pages: rptest and python ran 1.9x
 *     slower than jemalloc, the random-free test's frees 2.5x. H lets a heap keep, for a
 *     decay period or two, the pages of what it held in use that recently: a heap that
 *     churns or shrinks and grows back (random-free's refill) does not reach it, while
 *     free memory beyond the recent heap (fragmentation that makes the heap grow
 *     reservations while old runs stay unused) goes at once. A cap relative to the
 *     bytes in use now (tried first) released 1,200 small runs in the random-free test
 *     as the heap shrank, and its refill faulted them all back (2x jemalloc's time).
 *     The RSS of a program that stops freeing is then bounded by its recent peak, as
 *     with jemalloc's 10 s decay; malloc_trim(0) takes it to what is in use. Passes run only when a span
 *     is freed: a span taken only shrinks free memory, and releasing pages just before
 *     a refill takes them is the worst moment. So an idle program keeps what it had at
 *     its last free (at most H) until it frees again or calls malloc_trim; there is no
 *     background thread.
 *
 * Invariants (page heap lock): free runs in the tree do not touch each other; pages
 * of a span in use all map to it; a free run maps to itself at its first and last page
 * and to NULL between; mapped = in use + free; free = resident + released.
 *
 * Follows TCMalloc's page heap and Go's mheap (page map, coalescing, scavenging).
 */
#include <errno.h>
#include <string.h>
#include <sys/tree.h>
#include <time.h>

#include "alloc/internal.h"
#include "alloc/lock.h"
#include "alloc/pageheap.h"
#include "alloc/pagemap.h"

/* 64 MiB: one reservation serves a mid-sized program for its whole life (one mmap),
 * and costs only address space until pages are touched. */
#define HN_RESERVE_BYTES ((size_t)64 << 20)
/* 2 MiB: the huge page size, so transparent huge pages can back a reservation. */
#define HN_RESERVE_ALIGN ((size_t)2 << 20)

static int span_cmp(const hn_span_t *a, const hn_span_t *b) {
  if (a->npages != b->npages)
    return a->npages < b->npages ? -1 : 1;
  return a->start < b->start ? -1 : a->start > b->start;
}

RB_HEAD(free_tree, hn_span);
RB_GENERATE_INTERNAL(free_tree, hn_span, rb, span_cmp, __attribute__((unused)) static)

static hn_lock_t heap_lock = HN_LOCK_INIT;
static struct free_tree free_runs = RB_INITIALIZER(&free_runs);
static uintptr_t pages_mapped, pages_free, pages_released; /* heap_lock */
static uintptr_t free_run_count;                            /* heap_lock */
/* The most pages in use in the current window of HERON_DECAY_MS and in the one before
 * (heap_lock): the hard cap lets the heap keep what it held that recently. */
static uintptr_t peak_now, peak_before;
static uint32_t window_ms;
static uint64_t spans_in_use, large_live, large_allocations, released_total;

void hn_pageheap_lock(void) { hn_lock(&heap_lock); }
void hn_pageheap_unlock(void) { hn_unlock(&heap_lock); }
void hn_pageheap_unlock_child(void) { hn_lock_reset(&heap_lock); }

static uintptr_t page_of(uintptr_t addr) { return addr >> HN_PAGE_SHIFT; }

/* Milliseconds on a coarse monotonic clock (a vDSO read, no system call). */
static uint32_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

/* Put a free run into the tree and the page map. */
static void insert_free(hn_span_t *s) {
  s->state = HN_SPAN_FREE;
  s->fastclass = 0;
  s->sizeclass = 0;
  RB_INSERT(free_tree, &free_runs, s);
  free_run_count++;
  hn_pagemap_set1_locked(page_of(s->start), s);
  hn_pagemap_set1_locked(page_of(s->start) + s->npages - 1, s);
}

static void remove_free(hn_span_t *s) {
  RB_REMOVE(free_tree, &free_runs, s);
  free_run_count--;
}

/* The stamp of the run that a and b (free, touching) merge into: the older of the two
 * among those with resident pages, since a run with none has nothing to age. Taking the
 * older one means an idle run that absorbs a freshly freed span still goes at its time,
 * taking the fresh pages along once, instead of being kept young for ever by churn at its
 * edge (the newer stamp did that: a block taken and given back every 50 ms kept 30 MiB
 * beside it resident). Wrapping arithmetic. */
static uint32_t merged_stamp(const hn_span_t *a, const hn_span_t *b) {
  int ra = a->nreleased < a->npages, rb = b->nreleased < b->npages;
  if (ra && rb)
    return (int32_t)(a->freed_ms - b->freed_ms) <= 0 ? a->freed_ms : b->freed_ms;
  return rb ? b->freed_ms : a->freed_ms;
}

/* Merge s (out of the tree; its first and last entries may still point at it) with
 * the free runs that touch it, then insert the result. */
static void coalesce_insert(hn_span_t *s) {
  uintptr_t first = page_of(s->start), last = first + s->npages - 1;
  hn_span_t *prev = first ? hn_pagemap_lookup((first - 1) << HN_PAGE_SHIFT) : NULL;
  if (prev && prev != s && prev->state == HN_SPAN_FREE && hn_span_end(prev) == s->start) {
    remove_free(prev);
    hn_pagemap_set1_locked(first - 1, NULL);
    hn_pagemap_set1_locked(first, NULL);
    s->freed_ms = merged_stamp(s, prev);
    s->start = prev->start;
    s->npages += prev->npages;
    s->nreleased += prev->nreleased;
    hn_meta_span_free(prev);
  }
  hn_span_t *next = hn_pagemap_lookup(hn_span_end(s));
  if (next && next != s && next->state == HN_SPAN_FREE && next->start == hn_span_end(s)) {
    remove_free(next);
    hn_pagemap_set1_locked(last, NULL);
    hn_pagemap_set1_locked(page_of(next->start), NULL);
    s->freed_ms = merged_stamp(s, next);
    s->npages += next->npages;
    s->nreleased += next->nreleased;
    hn_meta_span_free(next);
  }
  insert_free(s);
}

/* Reserve a new run from the OS big enough for npages pages. */
static int grow_locked(uintptr_t npages) {
  size_t want = (size_t)npages << HN_PAGE_SHIFT;
  if (want >> HN_PAGE_SHIFT != npages)
    return ENOMEM;
  size_t bytes = want < HN_RESERVE_BYTES ? HN_RESERVE_BYTES : (want + HN_RESERVE_ALIGN - 1) & ~(HN_RESERVE_ALIGN - 1);
  if (bytes < want)
    return ENOMEM;
  void *p;
  int rc = hn_os_reserve(bytes, HN_RESERVE_ALIGN, &p);
  if (rc)
    return rc;
  hn_span_t *s = hn_meta_span_new();
  if (!s || hn_pagemap_ensure_locked((uintptr_t)p, bytes) != 0) {
    if (s)
      hn_meta_span_free(s);
    hn_os_unmap(p, bytes);
    return ENOMEM;
  }
  s->start = (uintptr_t)p;
  s->npages = (uint32_t)(bytes >> HN_PAGE_SHIFT);
  s->nreleased = s->npages;
  hn_pagemap_mark_released_locked(page_of(s->start), s->npages, 1);
  pages_mapped += s->npages;
  pages_free += s->npages;
  pages_released += s->npages;
  coalesce_insert(s);
  return 0;
}

/* Smallest free run of at least n pages (lowest address among equals). */
static hn_span_t *find_fit(uintptr_t n) {
  hn_span_t key;
  key.npages = (uint32_t)n;
  key.start = 0;
  return RB_NFIND(free_tree, &free_runs, &key);
}

hn_span_t *hn_pageheap_alloc_locked(uintptr_t npages, uintptr_t align_pages, int state) {
  /* Span lengths are 32-bit page counts (32 TiB); anything bigger cannot be served. */
  if (npages == 0 || npages >= ((uintptr_t)1 << 31) || align_pages >= ((uintptr_t)1 << 31))
    return NULL;
  uintptr_t need = npages + align_pages - 1;
  hn_span_t *f = find_fit(need);
  if (!f) {
    if (grow_locked(need) != 0)
      return NULL;
    f = find_fit(need);
    if (!f)
      return NULL;
  }
  /* Records for the pieces before and after come first, so failing leaves f intact. */
  uintptr_t align_bytes = align_pages << HN_PAGE_SHIFT;
  uintptr_t start = (f->start + align_bytes - 1) & ~(align_bytes - 1);
  uintptr_t head = page_of(start) - page_of(f->start);
  uintptr_t tail = f->npages - head - npages;
  hn_span_t *hs = NULL, *ts = NULL;
  if (head && !(hs = hn_meta_span_new()))
    return NULL;
  if (tail && !(ts = hn_meta_span_new())) {
    if (hs)
      hn_meta_span_free(hs);
    return NULL;
  }
  remove_free(f);
  uintptr_t total_released = f->nreleased;
  uint32_t freed_ms = f->freed_ms;
  hn_pagemap_set1_locked(page_of(f->start), NULL);
  hn_pagemap_set1_locked(page_of(f->start) + f->npages - 1, NULL);
  uintptr_t used_released = hn_pagemap_count_released_locked(page_of(start), npages);
  if (hs) {
    hs->start = f->start;
    hs->npages = (uint32_t)head;
    hs->nreleased = (uint32_t)hn_pagemap_count_released_locked(page_of(f->start), head);
    hs->freed_ms = freed_ms;
    insert_free(hs);
  }
  if (ts) {
    ts->start = start + (npages << HN_PAGE_SHIFT);
    ts->npages = (uint32_t)tail;
    ts->nreleased = (uint32_t)(total_released - used_released - (hs ? hs->nreleased : 0));
    ts->freed_ms = freed_ms;
    insert_free(ts);
  }
  hn_span_t *s = f;
  memset(s, 0, sizeof *s);
  s->start = start;
  s->npages = (uint32_t)npages;
  s->state = (uint8_t)state;
  s->zeroed = used_released == npages && hn_opt.release == HN_OS_RELEASE_DONTNEED;
  s->elemsize = (uint32_t)((npages << HN_PAGE_SHIFT) > UINT32_MAX ? 0 : npages << HN_PAGE_SHIFT);
  s->nelems = 1;
  hn_pagemap_mark_released_locked(page_of(start), npages, 0);
  hn_pagemap_set_locked(page_of(start), npages, s);
  pages_free -= npages;
  pages_released -= used_released;
  spans_in_use++;
  if (pages_mapped - pages_free > peak_now)
    peak_now = pages_mapped - pages_free;
  return s;
}

/* Release free run s to the OS. Returns the bytes released. */
static size_t release_run(hn_span_t *s) {
  if (s->nreleased == s->npages)
    return 0;
  if (hn_os_release((void *)s->start, hn_span_bytes(s), hn_opt.release) != 0)
    return 0;
  size_t n = (size_t)(s->npages - s->nreleased) << HN_PAGE_SHIFT;
  pages_released += s->npages - s->nreleased;
  released_total += n;
  s->nreleased = s->npages;
  hn_pagemap_mark_released_locked(page_of(s->start), s->npages, 1);
  return n;
}

/* 64 MiB: the floor of the hard cap and of the big-run bound. A program whose whole
 * heap is smaller churns freely
 * (jemalloc keeps a 10 s window of dirty pages of any size; this is far less), and it is
 * one reservation, so the bound costs a small program nothing it would not map anyway. */
#define HN_HARD_MIN ((size_t)64 << 20)
/* 256 pages (2 MiB, a huge page): a run this big is what a program leaves when it frees
 * a whole phase of its heap; one madvise returns it and the kernel can drop whole huge
 * pages. Holes between live objects, which a refill reuses first (best fit), are far
 * smaller. */
#define HN_BIG_RUN 256
/* Big runs looked at per free when releasing them: the tree keeps them at its top, so
 * this bounds the walk over big runs already released (mostly untouched reservations). */
#define HN_BIG_VISIT 64

/* 128 pages (1 MiB) and 8: a large object this big freed with less than an eighth of
 * its memory resident goes back to the OS at once (hn_pageheap_shed_sparse). */
#define HN_SPARSE_MIN 128
#define HN_SPARSE_DIV 8

/* 100 ms: the longest gap between two decay passes of a busy heap. Small beside the
 * default 1 s decay, so pages go about 1.1 s after they were freed; long enough that
 * the pass (a clock read per slow-path call otherwise) costs nothing measurable. */
#define HN_PASS_MS 100
/* Runs a decay pass looks at (largest first, resuming where the last pass stopped):
 * bounds the time one slow-path call holds the page heap lock (about 20 us of tree
 * walking, plus the madvise calls of the runs it releases). */
#define HN_PASS_VISIT 1024

/* Decay sweep state (heap_lock): when the last pass ran, and the key (npages, start)
 * of the run it stopped at; the next pass goes on with the next smaller run. */
static uint32_t last_pass_ms;
static int cursor_set;
static hn_span_t cursor_key;

static size_t resident_bytes(void) { return (pages_free - pages_released) << HN_PAGE_SHIFT; }

/* Free resident bytes always kept: S = max(HERON_RETAIN_MIN, HERON_RETAIN % in use). */
static size_t soft_cap(size_t in_use) {
  size_t cap = in_use / 100 * hn_opt.retain_percent;
  return cap < hn_opt.retain_min ? hn_opt.retain_min : cap;
}

/* The hard cap: released at once, regardless of age, above
 * H = max(64 MiB, S, the most bytes in use in the last one or two decay windows). */
static size_t hard_cap(size_t soft) {
  uintptr_t peak = peak_now > peak_before ? peak_now : peak_before;
  size_t cap = (size_t)peak << HN_PAGE_SHIFT;
  cap = cap > HN_HARD_MIN ? cap : HN_HARD_MIN;
  return cap > soft ? cap : soft;
}

/* Release runs, largest first, regardless of age, until free resident bytes are at
 * most target. */
static void release_largest(size_t target) {
  hn_span_t *s = RB_MAX(free_tree, &free_runs);
  while (s && resident_bytes() > target) {
    release_run(s);
    s = RB_PREV(free_tree, &free_runs, s);
  }
}

/* Release runs with HN_BIG_RUN resident pages or more, largest first, regardless of age,
 * until free resident bytes are at most target. A big run that is mostly released (a
 * reservation's untouched rest, with a span just freed at its edge) is left alone: the
 * madvise would cover the whole run for a few pages, on every such free. */
static void release_big(size_t target) {
  hn_span_t *s = RB_MAX(free_tree, &free_runs);
  for (unsigned seen = 0; s && s->npages >= HN_BIG_RUN && seen < HN_BIG_VISIT && resident_bytes() > target;
       seen++) {
    if (s->npages - s->nreleased >= HN_BIG_RUN)
      release_run(s);
    s = RB_PREV(free_tree, &free_runs, s);
  }
}

/* One decay pass: from where the last pass stopped, towards smaller runs and on from
 * the largest again, release the runs free for at least HERON_DECAY_MS while free
 * resident bytes are above soft; at most HN_PASS_VISIT runs, and each run once. */
static void decay_pass(uint32_t now, size_t soft) {
  hn_span_t *s = NULL;
  if (cursor_set && (s = RB_NFIND(free_tree, &free_runs, &cursor_key)))
    s = RB_PREV(free_tree, &free_runs, s);
  uintptr_t visit = free_run_count < HN_PASS_VISIT ? free_run_count : HN_PASS_VISIT;
  for (uintptr_t seen = 0; seen < visit && resident_bytes() > soft; seen++) {
    if (!s)
      s = RB_MAX(free_tree, &free_runs);
    if (s->nreleased != s->npages && (uint32_t)(now - s->freed_ms) >= hn_opt.decay_ms)
      release_run(s);
    cursor_key.npages = s->npages;
    cursor_key.start = s->start;
    s = RB_PREV(free_tree, &free_runs, s);
  }
  cursor_set = 1;
}

/* The release policy, when a span was freed at `now`. Page heap lock. */
static void apply_release_policy(uint32_t now) {
  uintptr_t in_use_pages = pages_mapped - pages_free;
  if ((uint32_t)(now - window_ms) >= hn_opt.decay_ms) {
    peak_before = peak_now;
    peak_now = in_use_pages;
    window_ms = now;
  }
  size_t resident = resident_bytes();
  size_t soft = soft_cap((size_t)in_use_pages << HN_PAGE_SHIFT);
  if (resident <= soft)
    return;
  size_t hard = hard_cap(soft);
  if (resident > hard) {
    /* Down to half the cap, so a heap sitting at the cap pays one large batch now and
     * then, not a small madvise on every free. */
    release_largest(hard / 2 > soft ? hard / 2 : soft);
    return;
  }
  /* Big runs above max(64 MiB, bytes in use): a heap that shed a phase. */
  size_t in_use = (size_t)in_use_pages << HN_PAGE_SHIFT;
  size_t big_cap = in_use > HN_HARD_MIN ? in_use : HN_HARD_MIN;
  if (resident > big_cap && resident > soft)
    release_big(big_cap > soft ? big_cap : soft);
  uint32_t interval = hn_opt.decay_ms / 4 < HN_PASS_MS ? hn_opt.decay_ms / 4 : HN_PASS_MS;
  if ((uint32_t)(now - last_pass_ms) < interval)
    return;
  last_pass_ms = now;
  decay_pass(now, soft);
}

int hn_pageheap_shed_sparse(const hn_span_t *s) {
  if (s->npages < HN_SPARSE_MIN)
    return 0;
  size_t bytes = hn_span_bytes(s), stop = bytes / HN_OS_PAGE / HN_SPARSE_DIV, resident;
  if (hn_os_resident((void *)s->start, bytes, stop, &resident) != 0 || resident >= stop)
    return 0;
  return hn_os_release((void *)s->start, bytes, hn_opt.release) == 0;
}

static void free_span_locked(hn_span_t *s, int shed) {
  uintptr_t first = page_of(s->start);
  if (s->npages > 2)
    hn_pagemap_set_locked(first + 1, s->npages - 2, NULL);
  s->state = HN_SPAN_FREE;
  s->fastclass = 0;
  s->sizeclass = 0;
  s->nreleased = 0;
  uint32_t now = now_ms();
  s->freed_ms = now;
  pages_free += s->npages;
  spans_in_use--;
  if (shed) {
    s->nreleased = s->npages;
    pages_released += s->npages;
    released_total += hn_span_bytes(s);
    hn_pagemap_mark_released_locked(first, s->npages, 1);
  }
  coalesce_insert(s);
  apply_release_policy(now);
}

void hn_pageheap_free_locked(hn_span_t *s) { free_span_locked(s, 0); }

void hn_pageheap_free_shed_locked(hn_span_t *s) { free_span_locked(s, 1); }

int hn_pageheap_resize_locked(hn_span_t *s, uintptr_t npages) {
  if (npages == 0 || npages >= ((uintptr_t)1 << 31))
    return -1;
  if (npages < s->npages) {
    /* Cut the tail off as a span of its own and free it (coalescing with what follows). */
    hn_span_t *t = hn_meta_span_new();
    if (!t)
      return -1;
    t->start = s->start + (npages << HN_PAGE_SHIFT);
    t->npages = (uint32_t)(s->npages - npages);
    t->state = HN_SPAN_LARGE;
    s->npages = (uint32_t)npages;
    s->elemsize = (uint32_t)((npages << HN_PAGE_SHIFT) > UINT32_MAX ? 0 : npages << HN_PAGE_SHIFT);
    hn_pagemap_set_locked(page_of(t->start), t->npages, t);
    spans_in_use++;
    hn_pageheap_free_locked(t);
    return 0;
  }
  uintptr_t extra = npages - s->npages;
  hn_span_t *next = hn_pagemap_lookup(hn_span_end(s));
  if (extra == 0)
    return 0;
  if (!next || next->state != HN_SPAN_FREE || next->start != hn_span_end(s) || next->npages < extra)
    return -1;
  /* Take the first `extra` pages of the free run that follows. */
  hn_span_t *rest = NULL;
  if (next->npages > extra && !(rest = hn_meta_span_new()))
    return -1;
  remove_free(next);
  uintptr_t nfirst = page_of(next->start);
  hn_pagemap_set1_locked(nfirst, NULL);
  hn_pagemap_set1_locked(nfirst + next->npages - 1, NULL);
  uintptr_t taken_released = hn_pagemap_count_released_locked(nfirst, extra);
  if (rest) {
    rest->start = next->start + (extra << HN_PAGE_SHIFT);
    rest->npages = (uint32_t)(next->npages - extra);
    rest->nreleased = (uint32_t)(next->nreleased - taken_released);
    rest->freed_ms = next->freed_ms;
    insert_free(rest);
  }
  hn_meta_span_free(next);
  hn_pagemap_mark_released_locked(nfirst, extra, 0);
  hn_pagemap_set_locked(nfirst, extra, s);
  pages_free -= extra;
  pages_released -= taken_released;
  if (pages_mapped - pages_free > peak_now)
    peak_now = pages_mapped - pages_free;
  s->npages = (uint32_t)npages;
  s->elemsize = (uint32_t)((npages << HN_PAGE_SHIFT) > UINT32_MAX ? 0 : npages << HN_PAGE_SHIFT);
  return 0;
}

hn_span_t *hn_pageheap_alloc(uintptr_t npages, uintptr_t align_pages, int state) {
  hn_lock(&heap_lock);
  hn_span_t *s = hn_pageheap_alloc_locked(npages, align_pages, state);
  hn_unlock(&heap_lock);
  return s;
}

hn_span_t *hn_pageheap_alloc_large(uintptr_t npages, uintptr_t align_pages) {
  hn_lock(&heap_lock);
  hn_span_t *s = hn_pageheap_alloc_locked(npages, align_pages, HN_SPAN_LARGE);
  if (s)
    hn_pageheap_count_large_locked(1);
  hn_unlock(&heap_lock);
  if (!s)
    errno = ENOMEM;
  return s;
}

void hn_pageheap_free(hn_span_t *s) {
  hn_lock(&heap_lock);
  hn_pageheap_free_locked(s);
  hn_unlock(&heap_lock);
}

size_t hn_pageheap_release_all(void) {
  hn_lock(&heap_lock);
  size_t n = 0;
  hn_span_t *s;
  RB_FOREACH(s, free_tree, &free_runs)
    n += release_run(s);
  hn_unlock(&heap_lock);
  return n;
}

void hn_pageheap_count_large_locked(int delta) {
  if (delta > 0)
    large_allocations++;
  large_live += (uint64_t)(int64_t)delta;
}

void hn_pageheap_stats_locked(hn_pageheap_stats_t *o) {
  o->mapped = pages_mapped << HN_PAGE_SHIFT;
  o->in_use = (pages_mapped - pages_free) << HN_PAGE_SHIFT;
  o->free_resident = (pages_free - pages_released) << HN_PAGE_SHIFT;
  o->released = pages_released << HN_PAGE_SHIFT;
  o->spans = spans_in_use;
  o->large_live = large_live;
  o->large_allocations = large_allocations;
  o->released_total = released_total;
}

int hn_pageheap_verify_locked(void) {
  int bad = 0;
  uintptr_t free_pages = 0, released = 0, runs = 0;
  hn_span_t *s;
  RB_FOREACH(s, free_tree, &free_runs) {
    runs++;
    uintptr_t first = page_of(s->start), last = first + s->npages - 1;
    free_pages += s->npages;
    released += s->nreleased;
    bad += s->state != HN_SPAN_FREE;
    bad += hn_pagemap_lookup(s->start) != s;
    bad += hn_pagemap_lookup(last << HN_PAGE_SHIFT) != s;
    bad += hn_pagemap_count_released_locked(first, s->npages) != s->nreleased;
    for (uintptr_t p = first + 1; p < last; p++)
      bad += hn_pagemap_lookup(p << HN_PAGE_SHIFT) != NULL;
    hn_span_t *prev = first ? hn_pagemap_lookup((first - 1) << HN_PAGE_SHIFT) : NULL;
    bad += prev && prev->state == HN_SPAN_FREE;
    hn_span_t *next = hn_pagemap_lookup((last + 1) << HN_PAGE_SHIFT);
    bad += next && next->state == HN_SPAN_FREE;
  }
  bad += free_pages != pages_free;
  bad += released != pages_released;
  bad += runs != free_run_count;
  return bad;
}
