/*
 * heron.h: the allocator's public API.
 *
 * Linking libheron (or loading it with LD_PRELOAD) replaces malloc and the rest of the
 * C and C++ allocation surface. The heron_ prefixed functions below are the same
 * allocator under names that never clash with the C library's, for programs that want
 * heron beside another malloc (and for sanitizer builds, where the sanitizer owns malloc).
 */
#ifndef HERON_HERON_H
#define HERON_HERON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HERON_API __attribute__((visibility("default")))
#else
#define HERON_API
#endif

#define HERON_PAGE_SHIFT 13
#define HERON_PAGE_SIZE ((size_t)1 << HERON_PAGE_SHIFT) /* 8 KiB, as TCMalloc and Go */

/* The allocator under its own names. Semantics are glibc's: NULL with errno ENOMEM on
 * failure, EINVAL for a bad alignment, heron_free(NULL) does nothing and keeps errno. */
HERON_API void *heron_malloc(size_t size);
HERON_API void heron_free(void *ptr);
HERON_API void *heron_calloc(size_t nmemb, size_t size);
HERON_API void *heron_realloc(void *ptr, size_t size);
HERON_API void *heron_reallocarray(void *ptr, size_t nmemb, size_t size);
HERON_API int heron_posix_memalign(void **out, size_t alignment, size_t size);
HERON_API void *heron_aligned_alloc(size_t alignment, size_t size);
HERON_API void *heron_memalign(size_t alignment, size_t size);
HERON_API void *heron_valloc(size_t size);
HERON_API void *heron_pvalloc(size_t size);
HERON_API size_t heron_malloc_usable_size(void *ptr);
/* Free with the size the caller allocated (C23 free_sized, C++ sized delete). */
HERON_API void heron_free_sized(void *ptr, size_t size);

/* Return every free page to the OS (malloc_trim(0)). Returns 1 if memory was released. */
HERON_API int heron_trim(size_t pad);

/*
 * Statistics. One list of fields makes the struct, the text report and the JSON.
 * The byte fields add up:
 *   in_use + thread_caches + central_lists + free_resident + released + metadata == mapped
 * Reading them never stops other threads: per-thread counters are merged on read, so
 * a snapshot taken while other threads allocate is consistent to within their caches.
 */
#define HERON_STATS_BYTE_FIELDS(X)                                                    \
  X(in_use, "bytes in objects the program holds (rounded to their size class)")       \
  X(thread_caches, "bytes free in per-thread caches")                                 \
  X(central_lists, "bytes free in central free lists and transfer caches")           \
  X(free_resident, "bytes in free pages of the page heap, still resident")           \
  X(released, "bytes in free pages returned to the OS with madvise")                 \
  X(metadata, "bytes of heron's own metadata (spans, page map, caches)")             \
  X(mapped, "bytes of address space mapped from the OS")

#define HERON_STATS_COUNT_FIELDS(X)                                                   \
  X(requested, "bytes asked for since start (the sum of requests, before rounding)") \
  X(allocations, "objects allocated since start")                                     \
  X(frees, "objects freed since start")                                               \
  X(large_allocations, "objects allocated straight from the page heap")              \
  X(spans, "spans in use")                                                            \
  X(threads, "threads with a live cache")                                             \
  X(os_reserve_calls, "address space reservations (mmap)")                            \
  X(os_release_calls, "releases to the OS (madvise)")                                 \
  X(released_total, "bytes returned to the OS since start")

typedef struct heron_stats {
#define HERON_STATS_FIELD(name, doc) uint64_t name;
  HERON_STATS_BYTE_FIELDS(HERON_STATS_FIELD)
  HERON_STATS_COUNT_FIELDS(HERON_STATS_FIELD)
#undef HERON_STATS_FIELD
} heron_stats_t;

/* Per size class: what the text report's class table shows. */
typedef struct heron_class_stats {
  uint32_t size;          /* object size of the class in bytes */
  uint32_t span_pages;    /* pages per span of this class */
  uint64_t in_use;        /* objects the program holds */
  uint64_t cached;        /* objects free in thread caches and central lists */
  uint64_t spans;         /* spans of this class */
  uint64_t allocations;   /* objects allocated since start */
} heron_class_stats_t;

HERON_API void heron_stats_get(heron_stats_t *out);
/* Number of size classes; class 0 is unused, classes are 1..heron_size_classes()-1. */
HERON_API unsigned heron_size_classes(void);
HERON_API int heron_class_stats_get(unsigned size_class, heron_class_stats_t *out);
/* Write the text report (what malloc_stats() prints) to a file descriptor, without
 * allocating. json != 0 writes the same fields as one JSON object. */
HERON_API void heron_stats_write(int fd, int json);

/* "heron X.Y.Z": a marker that a program is running on heron (tests and benchmarks
 * look it up with dlsym to check that a preload took effect). */
HERON_API const char *heron_version(void);

#ifdef __cplusplus
}
#endif

#endif
