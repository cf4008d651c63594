/*
 * central.h: the central free list of each size class, and its transfer cache.
 *
 * Thread caches move objects to and from here in batches (hn_class_batch[cl] objects
 * linked through their first word). Two levels, TCMalloc's way:
 *  - the transfer cache: full batches kept whole, as an array of list heads under
 *    their own lock. A thread that frees a batch and a thread that needs one meet
 *    here in O(1), which makes a producer/consumer pair (one thread mallocs, another
 *    frees) cost one short critical section per batch;
 *  - the spans of the class: objects go back into the free list of the span they came
 *    from; a span with none out goes back to the page heap at once.
 * Locks: tlock guards the transfer cache, lock guards the spans, nonempty, nspans,
 * out; lock order tlock then lock is never needed (no path holds both).
 */
#ifndef HN_CENTRAL_H
#define HN_CENTRAL_H

#include <stdint.h>

#include "alloc/lock.h"
#include "alloc/span.h"

/* Most full batches the transfer cache of a class keeps (fewer for big objects, see
 * central.c). 64 batches of 32 tiny objects let a consumer run 2,048 frees ahead of its
 * producer without touching spans. */
#define HN_TRANSFER_SLOTS 64

typedef struct hn_central {
  hn_lock_t tlock;
  uint32_t ntransfer; /* tlock: full batches held */
  uint32_t tcap;      /* batches allowed (set at init) */
  void *transfer[HN_TRANSFER_SLOTS];
  _Alignas(64) hn_lock_t lock;
  hn_span_t *nonempty; /* lock: spans of the class with free objects */
  uint64_t nspans;     /* lock: spans of the class */
  uint64_t out;        /* lock: objects out of spans (held, in thread or transfer caches) */
} __attribute__((aligned(64))) hn_central_t;

extern hn_central_t hn_centrals[];

void hn_central_init(void);
/* Up to want objects of class cl, linked, into *head; returns how many (0: out of
 * memory). */
unsigned hn_central_fetch(unsigned cl, void **head, unsigned want);
/* Take back n objects of class cl linked from head (NULL-terminated). */
void hn_central_give(unsigned cl, void *head, unsigned n);
/* Move every batch of the transfer caches back into spans (malloc_trim). */
void hn_central_drain_all(void);

void hn_central_lock_all(void);
void hn_central_unlock_all(int child);

typedef struct hn_central_stats {
  uint64_t nspans, out, transfer_objects;
} hn_central_stats_t;
void hn_central_stats(unsigned cl, hn_central_stats_t *out);

/* A span for the collector: npages of class cl (or a large one with cl == 0 and
 * npages pages), kind HN_KIND_GC, from the page heap; see alloc/README.md. */
hn_span_t *hn_span_alloc(unsigned cl, uintptr_t npages, enum hn_span_kind kind);
void hn_span_free(hn_span_t *s);

#endif
