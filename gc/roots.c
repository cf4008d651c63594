/*
 * roots.c: the table of registered root ranges.
 *
 * Lock: `roots_lock` guards the table. The collector holds it for the whole cycle
 * (taken before the world stops), so adding a root never races with the scan.
 * The table lives in memory from the OS layer and doubles when full.
 */
#include "gc/roots.h"
#include "gc/lock.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "gc/gcmem.h"

typedef struct root_range {
  uintptr_t lo, hi;
} root_range_t;

/* 4 KiB worth of ranges to start: most programs register a handful. */
#define FIRST_CAP (4096 / sizeof(root_range_t))

static pthread_mutex_t roots_lock = PTHREAD_MUTEX_INITIALIZER;
static root_range_t *table;
static size_t count, cap;

int hn_roots_add(const void *start, size_t size) {
  uintptr_t lo = (uintptr_t)start, hi = lo + size;
  if (start == NULL || hi < lo) return EINVAL;
  hn_gc_lock(&roots_lock);
  if (count == cap) {
    size_t ncap = cap ? cap * 2 : FIRST_CAP;
    root_range_t *nt = hn_gcmem_map(ncap * sizeof *nt);
    if (nt == NULL) {
      pthread_mutex_unlock(&roots_lock);
      return ENOMEM;
    }
    if (table != NULL) {
      memcpy(nt, table, count * sizeof *nt);
      hn_gcmem_unmap(table, cap * sizeof *nt);
    }
    table = nt;
    cap = ncap;
  }
  table[count].lo = lo;
  table[count].hi = hi;
  count++;
  pthread_mutex_unlock(&roots_lock);
  return 0;
}

int hn_roots_remove(const void *start) {
  int r = ENOENT;
  hn_gc_lock(&roots_lock);
  for (size_t i = count; i-- > 0;) {
    if (table[i].lo == (uintptr_t)start) {
      table[i] = table[--count];
      r = 0;
      break;
    }
  }
  pthread_mutex_unlock(&roots_lock);
  return r;
}

void hn_roots_lock(void) { hn_gc_lock(&roots_lock); }
void hn_roots_unlock(void) { pthread_mutex_unlock(&roots_lock); }

size_t hn_roots_each_locked(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg) {
  size_t bytes = 0;
  for (size_t i = 0; i < count; i++) {
    fn(table[i].lo, table[i].hi, arg);
    bytes += table[i].hi - table[i].lo;
  }
  return bytes;
}
