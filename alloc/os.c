/*
 * os.c: mmap, madvise, munmap and mincore behind the contract in os.h. Nothing else in
 * heron calls them.
 */
#include "alloc/os.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>

static atomic_ulong fail_countdown;
static atomic_uint_fast64_t reserve_calls, release_calls;

void hn_os_fail_nth(unsigned long n) { atomic_store(&fail_countdown, n); }

/* True when fault injection says this call must fail. */
static int injected_failure(void) {
  unsigned long c = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
  while (c != 0) {
    if (atomic_compare_exchange_weak(&fail_countdown, &c, c - 1))
      return c == 1;
  }
  return 0;
}

static int aligned(uintptr_t x, size_t a) { return (x & (a - 1)) == 0; }

int hn_os_reserve(size_t size, size_t align, void **out) {
  if (size == 0 || !aligned(size, HN_OS_PAGE) || align < HN_OS_PAGE || (align & (align - 1)))
    return EINVAL;
  if (injected_failure())
    return ENOMEM;
  size_t total = size + (align > HN_OS_PAGE ? align : 0);
  if (total < size)
    return ENOMEM;
  atomic_fetch_add_explicit(&reserve_calls, 1, memory_order_relaxed);
  int saved = errno;
  void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) {
    int e = errno;
    errno = saved;
    return e;
  }
  uintptr_t base = (uintptr_t)p, start = (base + align - 1) & ~(uintptr_t)(align - 1);
  /* Trim the slack so only the aligned range stays mapped. */
  if (start > base)
    munmap(p, start - base);
  if (base + total > start + size)
    munmap((void *)(start + size), base + total - (start + size));
  errno = saved;
  *out = (void *)start;
  return 0;
}

int hn_os_release(void *addr, size_t size, enum hn_os_release_how how) {
  if (!aligned((uintptr_t)addr, HN_OS_PAGE) || !aligned(size, HN_OS_PAGE))
    return EINVAL;
  if (size == 0)
    return 0;
  if (injected_failure())
    return ENOMEM;
  atomic_fetch_add_explicit(&release_calls, 1, memory_order_relaxed);
  int saved = errno, rc = 0;
  if (how == HN_OS_RELEASE_FREE) {
    if (madvise(addr, size, MADV_FREE) == 0)
      goto out;
    if (errno != EINVAL) {
      rc = errno;
      goto out;
    }
  }
  if (madvise(addr, size, MADV_DONTNEED) != 0)
    rc = errno;
out:
  errno = saved;
  return rc;
}

int hn_os_unmap(void *addr, size_t size) {
  if (!aligned((uintptr_t)addr, HN_OS_PAGE) || !aligned(size, HN_OS_PAGE) || size == 0)
    return EINVAL;
  int saved = errno, rc = 0;
  if (munmap(addr, size) != 0)
    rc = errno;
  errno = saved;
  return rc;
}

/* Pages asked about per mincore call: a 4 KiB vector on the stack covers 16 MiB. */
#define HN_OS_MINCORE_CHUNK 4096

int hn_os_resident(void *addr, size_t size, size_t stop_at, size_t *out) {
  *out = 0;
  if (!aligned((uintptr_t)addr, HN_OS_PAGE) || !aligned(size, HN_OS_PAGE))
    return EINVAL;
  unsigned char vec[HN_OS_MINCORE_CHUNK];
  int saved = errno, rc = 0;
  size_t n = 0;
  for (size_t off = 0; off < size && n < stop_at; off += HN_OS_MINCORE_CHUNK * HN_OS_PAGE) {
    size_t len = size - off < HN_OS_MINCORE_CHUNK * HN_OS_PAGE ? size - off : HN_OS_MINCORE_CHUNK * HN_OS_PAGE;
    if (mincore((char *)addr + off, len, vec) != 0) {
      rc = errno;
      break;
    }
    for (size_t i = 0; i < len / HN_OS_PAGE; i++)
      n += vec[i] & 1;
  }
  errno = saved;
  *out = n;
  return rc;
}

uint64_t hn_os_reserve_calls(void) { return atomic_load(&reserve_calls); }
uint64_t hn_os_release_calls(void) { return atomic_load(&release_calls); }
