/*
 * fatal.h: the collector's one way to die. Writes "heron gc: fatal: MSG" to stderr with
 * a single write (no allocation, safe with the world stopped) and aborts.
 */
#ifndef HN_GC_FATAL_H
#define HN_GC_FATAL_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline __attribute__((noreturn, cold)) void hn_gc_fatal(const char *msg) {
  char buf[256];
  static const char prefix[] = "heron gc: fatal: ";
  size_t n = sizeof prefix - 1, m = strlen(msg);
  if (m > sizeof buf - n - 1) m = sizeof buf - n - 1;
  memcpy(buf, prefix, n);
  memcpy(buf + n, msg, m);
  buf[n + m] = '\n';
  ssize_t w = write(2, buf, n + m + 1);
  (void)w;
  abort();
}

#endif
