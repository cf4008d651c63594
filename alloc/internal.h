/*
 * internal.h: what every allocator file shares: branch hints, the fatal error path,
 * the options read from the environment, and the metadata allocator.
 */
#ifndef HN_INTERNAL_H
#define HN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "alloc/os.h"
#include "alloc/span.h"

#define HN_LIKELY(x) __builtin_expect(!!(x), 1)
#define HN_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HN_NOINLINE __attribute__((noinline))
#define HN_COLD __attribute__((cold, noinline))

/* Options, read once at initialisation (options.c, documented in docs/allocator.md). */
typedef struct hn_options {
  enum hn_os_release_how release; /* HERON_RELEASE=dontneed|free */
  unsigned retain_percent;        /* HERON_RETAIN: free resident pages kept, % of pages in use */
  size_t retain_min;              /* HERON_RETAIN_MIN: ... but at least this many bytes */
  uint32_t decay_ms;              /* HERON_DECAY_MS: free pages younger than this are kept */
  int check;                      /* HERON_CHECK=1: strict checks, poisoning */
  int stats_at_exit;              /* HERON_STATS_AT_EXIT=1 */
} hn_options_t;

extern hn_options_t hn_opt;
void hn_options_read(void);

/* Write "heron: error: <what> <pointer>" to stderr from a stack buffer and abort. */
HN_COLD __attribute__((noreturn)) void hn_fatal(const char *what, const void *ptr);

/* Initialisation state: zero until hn_init_slow finished. */
extern int hn_ready;
void hn_init_slow(void);
static inline void hn_init(void) {
  if (HN_UNLIKELY(!__atomic_load_n(&hn_ready, __ATOMIC_ACQUIRE)))
    hn_init_slow();
}

/* Take (and release) every allocator lock, in the lock order; what fork does. The
 * collector calls these around suspending threads, so that no thread is stopped inside
 * an allocator critical section and the collector can allocate while the world is
 * stopped. Not from a thread that holds an allocator lock. */
void hn_alloc_lock_all(void);
void hn_alloc_unlock_all(void);

/* Metadata: memory for heron's own records, never given back to the OS nor to malloc.
 * All functions take the metadata lock themselves (the innermost lock). */
void *hn_meta_alloc(size_t size); /* zeroed, 16-byte aligned; NULL when the OS says no */
hn_span_t *hn_meta_span_new(void);
void hn_meta_span_free(hn_span_t *s);
uint64_t *hn_meta_bitmap_new(void); /* HN_MAX_OBJECTS bits, zeroed */
void hn_meta_bitmap_free(uint64_t *b);
size_t hn_meta_mapped(void);
/* Give back the pages of metadata chunks holding no live record (malloc_trim).
 * Returns the bytes released. */
size_t hn_meta_release_free(void);
void hn_meta_lock_all(void);
void hn_meta_unlock_all(int child);

#endif
