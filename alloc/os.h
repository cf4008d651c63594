/*
 * os.h: the allocator's only door to the kernel (mmap, madvise, munmap, mincore).
 *
 * Contract:
 *  - Addresses and lengths are multiples of HN_OS_PAGE (4 KiB, the kernel's page; heron's
 *    8 KiB pages are always aligned to it). Violations return EINVAL.
 *  - Every function returns 0 or an errno value; none sets errno, none prints.
 *  - A range goes through three states:
 *      reserved   hn_os_reserve() mapped it readable and writable but untouched: it has
 *                 address space and no memory (MAP_NORESERVE, no commit charge);
 *      committed  the first touch of a page makes it resident (the kernel's fault);
 *      released   hn_os_release() gave its pages back with madvise; the range stays
 *                 reserved and is committed again by the next touch. With
 *                 HN_OS_RELEASE_DONTNEED it reads as zeros after release, with
 *                 HN_OS_RELEASE_FREE it keeps its old contents until the kernel needs the
 *                 memory.
 *    hn_os_unmap() ends the reservation.
 *  - For tests, hn_os_fail_nth(n) makes the n-th call from now (1 = the next) fail with
 *    ENOMEM without calling the kernel; 0 turns this off. It counts reserve and release
 *    calls only.
 */
#ifndef HN_OS_H
#define HN_OS_H

#include <stddef.h>
#include <stdint.h>

#define HN_OS_PAGE ((size_t)4096)

enum hn_os_release_how {
  HN_OS_RELEASE_DONTNEED, /* RSS drops at once, pages read back as zero */
  HN_OS_RELEASE_FREE,     /* cheaper, RSS drops only under memory pressure */
};

/* Reserve size bytes aligned to align (a power of two >= HN_OS_PAGE). */
int hn_os_reserve(size_t size, size_t align, void **out);
/* Release committed pages of a reserved range. MADV_FREE falls back to DONTNEED on
 * kernels without it. */
int hn_os_release(void *addr, size_t size, enum hn_os_release_how how);
int hn_os_unmap(void *addr, size_t size);
/* How many of the HN_OS_PAGE pages of a reserved range are resident (mincore), into
 * *out; counting stops once it reaches stop_at (the caller's answer is known). */
int hn_os_resident(void *addr, size_t size, size_t stop_at, size_t *out);
void hn_os_fail_nth(unsigned long n);

/* Calls made so far (the statistics' os_reserve_calls and os_release_calls). */
uint64_t hn_os_reserve_calls(void);
uint64_t hn_os_release_calls(void);

#endif
