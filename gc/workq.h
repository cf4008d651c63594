/*
 * workq.h: the mark work list. Grey objects wait here instead of on the C stack, so a
 * list of a million nodes marks in constant stack space.
 *
 * The list is a pool of fixed-size chunks of object addresses. Each marker owns a
 * hn_gcwork_t holding up to two chunks (Go's gcWork: wbuf1/wbuf2), pushes and pops there
 * without locks, and trades whole chunks with the shared pool (`full` and `empty` lists,
 * one lock) only when its own run out or fill up. Several workers can therefore drain
 * the same pool; this issue uses one (the collector) and the next adds background
 * workers and assists. Chunks come from the OS layer, never from malloc, because the
 * pool grows while the world is stopped and a stopped thread may hold a malloc lock.
 */
#ifndef HN_GC_WORKQ_H
#define HN_GC_WORKQ_H

#include <stddef.h>
#include <stdint.h>

/* 32 KiB chunks: big enough that the shared lock is taken once per ~4000 objects,
 * small enough that an idle worker's held chunks waste little. */
#define HN_WORKQ_CHUNK_BYTES (32u * 1024u)
#define HN_WORKQ_CHUNK_CAP ((HN_WORKQ_CHUNK_BYTES - 2 * sizeof(void *)) / sizeof(uintptr_t))

typedef struct hn_workchunk {
  struct hn_workchunk *next;
  size_t n;
  uintptr_t obj[HN_WORKQ_CHUNK_CAP];
} hn_workchunk_t;

typedef struct hn_gcwork {
  hn_workchunk_t *cur;
  hn_workchunk_t *spare;
} hn_gcwork_t;

/* Map the pool's first chunks and fault them in (once, at start-up, outside any
 * pause). */
void hn_workq_reserve(void);
/* Out of line: trade chunks with the pool. */
void hn_workq_push_slow(hn_gcwork_t *w, uintptr_t obj);
/* Returns 0 when the worker and the shared pool are both empty. */
int hn_workq_refill(hn_gcwork_t *w);
/* Give the worker's chunks back to the pool (those with work go to `full`). */
void hn_workq_dispose(hn_gcwork_t *w);
/* A worker holding fewer grey objects than this keeps them: sharing fewer would cost
 * the pool lock for less than a microsecond of scanning elsewhere. */
#define HN_WORKQ_BALANCE_MIN 8
/* If the shared pool is empty, give it part of w's work (its spare chunk, or the older
 * half of its current one), so assists and other markers find some (Go's
 * gcWork.balance). A depth-first trace keeps only a few dozen grey objects, all in one
 * worker's chunk, so without this the pool stayed empty and assists never helped. */
void hn_workq_balance(hn_gcwork_t *w);
/* Nonzero if the shared pool holds grey objects. */
int hn_workq_pool_nonempty(void);
/* The same without the lock, a hint that may be stale by the time it returns: for an
 * allocating thread deciding whether an assist could find work. */
int hn_workq_pool_maybe_nonempty(void);
/* Bytes of chunks the pool has mapped (its own metadata). */
size_t hn_workq_mapped(void);
/* Unmap the empty chunks beyond a small reserve; call after a cycle. */
void hn_workq_trim(void);

static inline void hn_workq_push(hn_gcwork_t *w, uintptr_t obj) {
  hn_workchunk_t *c = w->cur;
  if (__builtin_expect(c != NULL && c->n < HN_WORKQ_CHUNK_CAP, 1)) {
    c->obj[c->n++] = obj;
    return;
  }
  hn_workq_push_slow(w, obj);
}

/* Pops a grey object; 0 when there is none anywhere. */
static inline uintptr_t hn_workq_pop(hn_gcwork_t *w) {
  hn_workchunk_t *c = w->cur;
  if (__builtin_expect(c != NULL && c->n > 0, 1)) return c->obj[--c->n];
  if (!hn_workq_refill(w)) return 0;
  c = w->cur;
  return c->obj[--c->n];
}

#endif
