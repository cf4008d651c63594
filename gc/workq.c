/*
 * workq.c: the shared pool of mark work chunks (see workq.h).
 *
 * Lock: `pool_lock` guards `full`, `empty` and the counters. A worker's own chunks are
 * touched only by that worker. `full` is stored atomically so that
 * hn_workq_pool_maybe_nonempty can peek at it without the lock.
 */
#include "gc/workq.h"

#include <pthread.h>
#include <string.h>

#include "gc/fatal.h"
#include "gc/gcmem.h"

/* Chunks are mapped 32 at a time (1 MiB): one mapping call per megabyte of grey objects. */
#define CHUNKS_PER_MAP 32u
/* Empty chunks kept mapped between cycles: 4 MiB covers the mark stack of most heaps
 * without a mapping call per cycle. */
#define KEEP_CHUNKS 128u

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static hn_workchunk_t *full;
static hn_workchunk_t *empty;
static size_t nfull, nempty, nmapped;

/* Threads the CHUNKS_PER_MAP chunks of a fresh mapping onto `empty`. pool_lock held. */
static void add_mapped_locked(char *mem) {
  for (unsigned i = 0; i < CHUNKS_PER_MAP; i++) {
    hn_workchunk_t *c = (hn_workchunk_t *)(mem + (size_t)i * HN_WORKQ_CHUNK_BYTES);
    c->next = empty;
    empty = c;
  }
  nempty += CHUNKS_PER_MAP;
  nmapped += CHUNKS_PER_MAP;
}

/* Put chunk c, which holds work, on `full`. pool_lock held. */
static void publish_locked(hn_workchunk_t *c) {
  c->next = full;
  __atomic_store_n(&full, c, __ATOMIC_RELAXED);
  nfull++;
}

static hn_workchunk_t *get_empty_locked(void) {
  if (empty == NULL) {
    char *mem = hn_gcmem_map((size_t)CHUNKS_PER_MAP * HN_WORKQ_CHUNK_BYTES);
    if (mem == NULL) hn_gc_fatal("out of memory for the mark stack");
    add_mapped_locked(mem);
  }
  hn_workchunk_t *c = empty;
  empty = c->next;
  nempty--;
  c->n = 0;
  c->next = NULL;
  return c;
}

void hn_workq_reserve(void) {
  pthread_mutex_lock(&pool_lock);
  if (nmapped == 0) {
    char *mem = hn_gcmem_map((size_t)CHUNKS_PER_MAP * HN_WORKQ_CHUNK_BYTES);
    if (mem != NULL) {
      /* Faulted in now, not in the first pause, which pushes into fresh chunks: their
       * page faults (about 250 for 1 MiB) were 0.5-0.8 ms of that pause. */
      memset(mem, 0, (size_t)CHUNKS_PER_MAP * HN_WORKQ_CHUNK_BYTES);
      add_mapped_locked(mem);
    }
  }
  pthread_mutex_unlock(&pool_lock);
}

void hn_workq_push_slow(hn_gcwork_t *w, uintptr_t obj) {
  if (w->cur == NULL || w->cur->n == HN_WORKQ_CHUNK_CAP) {
    if (w->spare != NULL && w->spare->n < HN_WORKQ_CHUNK_CAP) {
      hn_workchunk_t *t = w->cur;
      w->cur = w->spare;
      w->spare = t;
    } else {
      pthread_mutex_lock(&pool_lock);
      if (w->spare != NULL) /* both full: publish one so other workers can take it */
        publish_locked(w->spare);
      w->spare = w->cur;
      w->cur = get_empty_locked();
      pthread_mutex_unlock(&pool_lock);
    }
  }
  w->cur->obj[w->cur->n++] = obj;
}

int hn_workq_refill(hn_gcwork_t *w) {
  if (w->spare != NULL && w->spare->n > 0) {
    hn_workchunk_t *t = w->cur;
    w->cur = w->spare;
    w->spare = t;
    return 1;
  }
  pthread_mutex_lock(&pool_lock);
  if (full == NULL) {
    pthread_mutex_unlock(&pool_lock);
    return 0;
  }
  hn_workchunk_t *c = full;
  __atomic_store_n(&full, c->next, __ATOMIC_RELAXED);
  nfull--;
  c->next = NULL;
  if (w->cur != NULL) { /* empty: return it */
    if (w->spare == NULL) {
      w->spare = w->cur;
    } else {
      w->cur->next = empty;
      empty = w->cur;
      nempty++;
    }
  }
  w->cur = c;
  pthread_mutex_unlock(&pool_lock);
  return 1;
}

void hn_workq_dispose(hn_gcwork_t *w) {
  pthread_mutex_lock(&pool_lock);
  hn_workchunk_t *cs[2] = {w->cur, w->spare};
  for (int i = 0; i < 2; i++) {
    hn_workchunk_t *c = cs[i];
    if (c == NULL) continue;
    if (c->n > 0) {
      publish_locked(c);
    } else {
      c->next = empty;
      empty = c;
      nempty++;
    }
  }
  w->cur = w->spare = NULL;
  pthread_mutex_unlock(&pool_lock);
}

void hn_workq_balance(hn_gcwork_t *w) {
  if (__atomic_load_n(&full, __ATOMIC_RELAXED) != NULL) return;
  hn_workchunk_t *give = NULL;
  pthread_mutex_lock(&pool_lock);
  if (full != NULL) { /* someone published meanwhile */
  } else if (w->spare != NULL && w->spare->n > 0) {
    give = w->spare;
    w->spare = NULL;
  } else if (w->cur != NULL && w->cur->n >= HN_WORKQ_BALANCE_MIN) {
    /* The older half: nearer the roots of what is being traced, so bigger pieces. */
    hn_workchunk_t *c = w->cur;
    size_t half = c->n / 2;
    give = get_empty_locked();
    memcpy(give->obj, c->obj, half * sizeof c->obj[0]);
    give->n = half;
    memmove(c->obj, c->obj + half, (c->n - half) * sizeof c->obj[0]);
    c->n -= half;
  }
  if (give != NULL) publish_locked(give);
  pthread_mutex_unlock(&pool_lock);
}

int hn_workq_pool_maybe_nonempty(void) { return __atomic_load_n(&full, __ATOMIC_RELAXED) != NULL; }

int hn_workq_pool_nonempty(void) {
  pthread_mutex_lock(&pool_lock);
  int r = full != NULL;
  pthread_mutex_unlock(&pool_lock);
  return r;
}

size_t hn_workq_mapped(void) {
  pthread_mutex_lock(&pool_lock);
  size_t r = nmapped * HN_WORKQ_CHUNK_BYTES;
  pthread_mutex_unlock(&pool_lock);
  return r;
}

void hn_workq_trim(void) {
  /* Chunks come in mappings of CHUNKS_PER_MAP; unmapping single chunks of a mapping is
   * fine for the OS layer (page-aligned, whole pages). */
  pthread_mutex_lock(&pool_lock);
  while (nempty > KEEP_CHUNKS) {
    hn_workchunk_t *c = empty;
    empty = c->next;
    nempty--;
    nmapped--;
    hn_gcmem_unmap(c, HN_WORKQ_CHUNK_BYTES);
  }
  pthread_mutex_unlock(&pool_lock);
}
