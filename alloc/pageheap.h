/*
 * pageheap.h: runs of 8 KiB pages. Spans for size classes, large objects and the
 * collector come from here and go back here; see pageheap.c for the algorithm.
 * Functions ending in _locked need hn_pageheap_lock held; the others take it.
 */
#ifndef HN_PAGEHEAP_H
#define HN_PAGEHEAP_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/span.h"

void hn_pageheap_lock(void);
void hn_pageheap_unlock(void);
void hn_pageheap_unlock_child(void);

/* A span of npages pages whose start is a multiple of align_pages pages (1 = any page),
 * in state `state` (HN_SPAN_SMALL or HN_SPAN_LARGE), every page mapped to it in the
 * page map; s->zeroed says whether its memory is known to read as zero. NULL when the
 * OS refuses memory. */
hn_span_t *hn_pageheap_alloc_locked(uintptr_t npages, uintptr_t align_pages, int state);
hn_span_t *hn_pageheap_alloc(uintptr_t npages, uintptr_t align_pages, int state);
/* The same for one large object (HN_SPAN_LARGE), counted in the large-object stats;
 * NULL with errno = ENOMEM when the OS refuses memory. */
hn_span_t *hn_pageheap_alloc_large(uintptr_t npages, uintptr_t align_pages);
/* Give a span back: coalesced with free neighbours; then the release policy may give
 * free resident pages to the OS. */
void hn_pageheap_free_locked(hn_span_t *s);
void hn_pageheap_free(hn_span_t *s);
/* Before a large object's span s is freed, without the lock (the caller owns s): when
 * the span is 1 MiB or more and less than an eighth of it is resident (the program
 * touched little of it), give all its pages to the OS now and return 1; the caller then
 * frees it with hn_pageheap_free_shed_locked, which records them as released. Otherwise
 * 0, and hn_pageheap_free_locked as usual. */
int hn_pageheap_shed_sparse(const hn_span_t *s);
void hn_pageheap_free_shed_locked(hn_span_t *s);
/* Resize large span s in place to npages: a shrink frees the tail; a growth takes the
 * start of the free run right after s. Returns 0, or -1 when that run is missing or too
 * short (or no record is left). */
int hn_pageheap_resize_locked(hn_span_t *s, uintptr_t npages);
/* Release every free resident page (malloc_trim). Returns the bytes released. */
size_t hn_pageheap_release_all(void);

typedef struct hn_pageheap_stats {
  size_t mapped;        /* bytes reserved for the heap */
  size_t in_use;        /* bytes in spans in use */
  size_t free_resident; /* bytes in free spans, resident */
  size_t released;      /* bytes in free spans, not resident */
  uint64_t spans;       /* spans in use */
  uint64_t large_live;  /* large objects held */
  uint64_t large_allocations;
  uint64_t released_total; /* bytes released since start */
} hn_pageheap_stats_t;

void hn_pageheap_stats_locked(hn_pageheap_stats_t *out);
/* Counted by large malloc/free (page heap lock). */
void hn_pageheap_count_large_locked(int delta);

/* Walk every free span and check the invariants (tests; page heap lock). Returns the
 * number of problems found. */
int hn_pageheap_verify_locked(void);

#endif
