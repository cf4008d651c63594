/*
 * gcmem.h: where the collector's memory comes from.
 *
 *  - hn_gcmem_map/unmap: metadata memory (mark stack chunks, root and finalizer tables,
 *    the GC page map), straight from the allocator's OS layer. Never malloc: these grow
 *    while the world is stopped, and a stopped thread may hold a malloc lock.
 *  - hn_gcmem_meta_*: small span records (span.h) from size-bucketed free lists.
 *  - hn_gcmem_pages_*: runs of 8 KiB pages for GC spans, from the allocator's page heap,
 *    marked kind GC so malloc never hands them out and free() rejects their objects.
 *    Returned pages go back to the page heap and leave through its release policy.
 */
#ifndef HN_GC_GCMEM_H
#define HN_GC_GCMEM_H

#include <stddef.h>
#include <stdint.h>

/* size rounded up to 4 KiB pages. Zeroed memory, or NULL. Any thread, any time. */
void *hn_gcmem_map(size_t size);
void hn_gcmem_unmap(void *p, size_t size);

/* Span records of `bytes` (at most 4 KiB); zeroed. Heap lock. NULL on failure. */
void *hn_gcmem_meta_alloc_locked(size_t bytes, size_t *got);
void hn_gcmem_meta_free_locked(void *p, size_t got);
/* Bytes of span records mapped. */
size_t hn_gcmem_meta_mapped(void);

/* A span of size class cl (0: a large span of npages pages), kind GC, noscan as given.
 * Returns its first byte and the allocator's handle in *handle, or 0 on failure. The
 * pages may hold old data: *zeroed is 1 when the page heap knows they read as zero
 * (fresh from the OS, or all released since), 0 when they may not. Heap lock (the
 * page heap takes its own lock inside). */
uintptr_t hn_gcmem_pages_alloc_locked(unsigned cl, size_t npages, int noscan, void **handle,
                                      int *zeroed);
void hn_gcmem_pages_free_locked(void *handle);
/* Point the allocator's span record at the collector's (its gcdata). */
void hn_gcmem_pages_set_owner(void *handle, void *gcspan);

#endif
