/*
 * central.c: central free lists and transfer caches (see central.h), and span set-up
 * for a size class.
 */
#include <errno.h>
#include <string.h>

#include "alloc/central.h"
#include "alloc/internal.h"
#include "alloc/pageheap.h"
#include "alloc/pagemap.h"

hn_central_t hn_centrals[HN_NCLASSES];

/* A transfer cache holds at most this many bytes per class, so that all of them
 * together stay around 10 MiB even when every class is busy (128 KiB: 4 batches of
 * 1 KiB objects, 64 of tiny ones), and malloc_trim empties them. */
#define HN_TRANSFER_BYTES ((size_t)128 << 10)
/* ... but at least two batches, so a producer and a consumer can still meet there. */
#define HN_TRANSFER_MIN 2

void hn_central_init(void) {
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    size_t per = (size_t)hn_class_batch[cl] * hn_class_size[cl];
    size_t cap = HN_TRANSFER_BYTES / per;
    hn_centrals[cl].tcap = (uint32_t)(cap < HN_TRANSFER_MIN ? HN_TRANSFER_MIN : cap > HN_TRANSFER_SLOTS ? HN_TRANSFER_SLOTS : cap);
  }
}

int hn_span_init_class(hn_span_t *s, unsigned cl, enum hn_span_kind kind) {
  s->sizeclass = (uint8_t)cl;
  s->kind = (uint8_t)kind;
  s->elemsize = hn_class_size[cl];
  s->divmagic = hn_class_divmagic[cl];
  s->nelems = hn_class_objects[cl];
  s->allocated = 0;
  s->carved = 0;
  s->freelist = NULL;
  if (hn_opt.check && kind == HN_KIND_MALLOC) {
    s->allocbits = hn_meta_bitmap_new();
    if (!s->allocbits)
      return ENOMEM;
  }
  return 0;
}

/* Span list of a class: doubly linked, NULL-terminated, head in c->nonempty. */
static void list_push(hn_central_t *c, hn_span_t *s) {
  s->prev = NULL;
  s->next = c->nonempty;
  if (c->nonempty)
    c->nonempty->prev = s;
  c->nonempty = s;
}

static void list_remove(hn_central_t *c, hn_span_t *s) {
  if (s->prev)
    s->prev->next = s->next;
  else
    c->nonempty = s->next;
  if (s->next)
    s->next->prev = s->prev;
  s->next = s->prev = NULL;
}

static int span_has_free(const hn_span_t *s) { return s->freelist || s->carved < s->nelems; }

/* A new span of class cl in the class's list. Central lock of cl. */
static hn_span_t *grow_locked(hn_central_t *c, unsigned cl) {
  hn_span_t *s = hn_pageheap_alloc(hn_class_pages[cl], 1, HN_SPAN_SMALL);
  if (!s)
    return NULL;
  if (hn_span_init_class(s, cl, HN_KIND_MALLOC) != 0) {
    hn_pageheap_free(s);
    return NULL;
  }
  s->fastclass = (uint8_t)cl;
  hn_pagemap_set_class(s, cl);
  c->nspans++;
  list_push(c, s);
  return s;
}

/* Give an empty span back to the page heap. Central lock of its class. */
static void span_release_locked(hn_central_t *c, hn_span_t *s) {
  list_remove(c, s);
  c->nspans--;
  if (s->allocbits) {
    hn_meta_bitmap_free(s->allocbits);
    s->allocbits = NULL;
  }
  s->fastclass = 0;
  hn_pagemap_set_class(s, 0);
  hn_pageheap_free(s);
}

static unsigned fetch_from_spans(unsigned cl, void **head, unsigned want) {
  hn_central_t *c = &hn_centrals[cl];
  void *first = NULL, **link = &first;
  unsigned n = 0;
  uint32_t size = hn_class_size[cl];
  hn_lock(&c->lock);
  while (n < want) {
    hn_span_t *s = c->nonempty;
    if (!s && !(s = grow_locked(c, cl)))
      break;
    unsigned took = 0;
    while (n + took < want && s->freelist) {
      void *o = s->freelist;
      s->freelist = *(void **)o;
      *link = o;
      link = (void **)o;
      took++;
    }
    while (n + took < want && s->carved < s->nelems) {
      void *o = (void *)(s->start + (uintptr_t)s->carved * size);
      s->carved++;
      *link = o;
      link = (void **)o;
      took++;
    }
    s->allocated += took;
    n += took;
    if (!span_has_free(s))
      list_remove(c, s);
  }
  *link = NULL;
  c->out += n;
  hn_unlock(&c->lock);
  *head = first;
  return n;
}

unsigned hn_central_fetch(unsigned cl, void **head, unsigned want) {
  hn_central_t *c = &hn_centrals[cl];
  if (want == hn_class_batch[cl]) {
    hn_lock(&c->tlock);
    if (c->ntransfer) {
      *head = c->transfer[--c->ntransfer];
      hn_unlock(&c->tlock);
      return want;
    }
    hn_unlock(&c->tlock);
  }
  return fetch_from_spans(cl, head, want);
}

/* Return objects to their spans. */
static void give_to_spans(unsigned cl, void *head, unsigned n) {
  hn_central_t *c = &hn_centrals[cl];
  hn_lock(&c->lock);
  while (head) {
    void *o = head;
    head = *(void **)o;
    hn_span_t *s = hn_pagemap_lookup((uintptr_t)o);
    if (!span_has_free(s))
      list_push(c, s);
    *(void **)o = s->freelist;
    s->freelist = o;
    if (--s->allocated == 0)
      span_release_locked(c, s);
  }
  c->out -= n;
  hn_unlock(&c->lock);
}

void hn_central_give(unsigned cl, void *head, unsigned n) {
  hn_central_t *c = &hn_centrals[cl];
  if (n == hn_class_batch[cl]) {
    hn_lock(&c->tlock);
    if (c->ntransfer < c->tcap) {
      c->transfer[c->ntransfer++] = head;
      hn_unlock(&c->tlock);
      return;
    }
    hn_unlock(&c->tlock);
  }
  give_to_spans(cl, head, n);
}

void hn_central_drain_all(void) {
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    hn_central_t *c = &hn_centrals[cl];
    for (;;) {
      hn_lock(&c->tlock);
      void *b = c->ntransfer ? c->transfer[--c->ntransfer] : NULL;
      hn_unlock(&c->tlock);
      if (!b)
        break;
      give_to_spans(cl, b, hn_class_batch[cl]);
    }
  }
}

void hn_central_lock_all(void) {
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++)
    hn_lock(&hn_centrals[cl].tlock);
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++)
    hn_lock(&hn_centrals[cl].lock);
}

void hn_central_unlock_all(int child) {
  for (unsigned cl = 1; cl < HN_NCLASSES; cl++) {
    if (child) {
      hn_lock_reset(&hn_centrals[cl].lock);
      hn_lock_reset(&hn_centrals[cl].tlock);
    } else {
      hn_unlock(&hn_centrals[cl].lock);
      hn_unlock(&hn_centrals[cl].tlock);
    }
  }
}

void hn_central_stats(unsigned cl, hn_central_stats_t *o) {
  hn_central_t *c = &hn_centrals[cl];
  hn_lock(&c->tlock);
  uint64_t t = c->ntransfer;
  hn_unlock(&c->tlock);
  hn_lock(&c->lock);
  o->nspans = c->nspans;
  o->out = c->out;
  hn_unlock(&c->lock);
  o->transfer_objects = t * hn_class_batch[cl];
}

hn_span_t *hn_span_alloc(unsigned cl, uintptr_t npages, enum hn_span_kind kind) {
  hn_init();
  if (cl >= HN_NCLASSES)
    return NULL;
  hn_span_t *s = hn_pageheap_alloc(cl ? hn_class_pages[cl] : npages, 1, cl ? HN_SPAN_SMALL : HN_SPAN_LARGE);
  if (!s)
    return NULL;
  if (cl && hn_span_init_class(s, cl, kind) != 0) {
    hn_pageheap_free(s);
    return NULL;
  }
  s->kind = (uint8_t)kind;
  return s;
}

void hn_span_free(hn_span_t *s) {
  if (s->allocbits) {
    hn_meta_bitmap_free(s->allocbits);
    s->allocbits = NULL;
  }
  hn_pageheap_free(s);
}
