/*
 * options.c: options from environment variables, read once at initialisation with
 * getenv (which does not allocate). A bad value gets one warning line on stderr and
 * the default. docs/allocator.md lists them.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/internal.h"

/* Defaults (docs/allocator.md says why): DONTNEED so RSS falls at once; free resident
 * pages kept however old up to 10 % of the pages in use (Go keeps about 10 % over its
 * heap goal), and at least 4 MiB, so a small program never madvises. */
#define HN_DEFAULT_RETAIN_PERCENT 10
#define HN_DEFAULT_RETAIN_MIN ((size_t)4 << 20)
/* 1 s: far longer than a producer takes to reuse a span another thread just emptied,
 * far shorter than jemalloc's 10 s decay, so RSS follows the program closely. */
#define HN_DEFAULT_DECAY_MS 1000

hn_options_t hn_opt = {
    .release = HN_OS_RELEASE_DONTNEED,
    .retain_percent = HN_DEFAULT_RETAIN_PERCENT,
    .retain_min = HN_DEFAULT_RETAIN_MIN,
    .decay_ms = HN_DEFAULT_DECAY_MS,
};

static void warn(const char *name, const char *value, const char *expect) {
  char buf[256];
  size_t n = 0;
  const char *parts[] = {"heron: warning: ", name, "=", value, ": expected ", expect, ", using the default\n"};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    for (const char *c = parts[i]; *c && n < sizeof buf - 2; c++)
      buf[n++] = *c;
  }
  if (buf[n - 1] != '\n')
    buf[n++] = '\n';
  ssize_t w = write(2, buf, n);
  (void)w;
}

/* A size in bytes with an optional suffix: B, KiB, MiB, GiB (or K, M, G). */
static int parse_size(const char *s, size_t *out) {
  char *end;
  if (*s < '0' || *s > '9')
    return -1;
  unsigned long long v = strtoull(s, &end, 10);
  unsigned shift = 0;
  if (!strcmp(end, "") || !strcmp(end, "B"))
    shift = 0;
  else if (!strcmp(end, "K") || !strcmp(end, "KiB"))
    shift = 10;
  else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
    shift = 20;
  else if (!strcmp(end, "G") || !strcmp(end, "GiB"))
    shift = 30;
  else
    return -1;
  if (v > (~0ULL >> shift))
    return -1;
  *out = (size_t)(v << shift);
  return 0;
}

static int parse_bool(const char *s, int *out) {
  if (!strcmp(s, "1") || !strcmp(s, "yes") || !strcmp(s, "true")) {
    *out = 1;
    return 0;
  }
  if (!strcmp(s, "0") || !strcmp(s, "no") || !strcmp(s, "false")) {
    *out = 0;
    return 0;
  }
  return -1;
}

void hn_options_read(void) {
  const char *v;
  if ((v = getenv("HERON_RELEASE"))) {
    if (!strcmp(v, "dontneed"))
      hn_opt.release = HN_OS_RELEASE_DONTNEED;
    else if (!strcmp(v, "free"))
      hn_opt.release = HN_OS_RELEASE_FREE;
    else
      warn("HERON_RELEASE", v, "dontneed or free");
  }
  if ((v = getenv("HERON_RETAIN"))) {
    char *end;
    unsigned long p = strtoul(v, &end, 10);
    if (*v >= '0' && *v <= '9' && *end == '\0' && p <= 1000)
      hn_opt.retain_percent = (unsigned)p;
    else
      warn("HERON_RETAIN", v, "a percentage 0..1000");
  }
  if ((v = getenv("HERON_RETAIN_MIN"))) {
    size_t n;
    if (parse_size(v, &n) == 0)
      hn_opt.retain_min = n;
    else
      warn("HERON_RETAIN_MIN", v, "a size like 4MiB");
  }
  if ((v = getenv("HERON_DECAY_MS"))) {
    char *end;
    unsigned long ms = strtoul(v, &end, 10);
    if (*v >= '0' && *v <= '9' && *end == '\0' && ms <= 3600000)
      hn_opt.decay_ms = (uint32_t)ms;
    else
      warn("HERON_DECAY_MS", v, "milliseconds 0..3600000");
  }
  if ((v = getenv("HERON_CHECK")) && parse_bool(v, &hn_opt.check))
    warn("HERON_CHECK", v, "0 or 1");
  if ((v = getenv("HERON_STATS_AT_EXIT")) && parse_bool(v, &hn_opt.stats_at_exit))
    warn("HERON_STATS_AT_EXIT", v, "0 or 1");
}
