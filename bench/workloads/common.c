/*
 * common.c: start-up, the preload marker, RSS sampling and result lines for the
 * workload programs (see bench.h).
 *
 * The marker is the suite's guard against measuring glibc by mistake: each allocator
 * exports a symbol glibc does not, so dlsym(RTLD_DEFAULT, ...) tells which one won the
 * symbol lookup. bench/run compares the marker with the allocator it preloaded.
 */
#include "bench.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double start_time;
static const char *prog_name = "workload";

/* Marker symbols, checked in this order. glibc exports none of them. */
static const struct {
  const char *symbol;
  const char *alloc;
} markers[] = {
    {"heron_version", "heron"},
    {"mallctl", "jemalloc"},
    {"mi_version", "mimalloc"},
    {"tc_version", "tcmalloc"},
};

static void report_marker(void) {
  const char *found = "glibc";
  const char *lib = "libc";
  for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++) {
    void *sym = dlsym(RTLD_DEFAULT, markers[i].symbol);
    if (sym != NULL) {
      Dl_info info;
      found = markers[i].alloc;
      lib = (dladdr(sym, &info) != 0 && info.dli_fname != NULL) ? info.dli_fname : "?";
      break;
    }
  }
  /* The marker must also own malloc: a library that exports the marker but lost the
   * malloc lookup to libc would still measure glibc. */
  void *m = dlsym(RTLD_DEFAULT, "malloc");
  Dl_info minfo;
  const char *mlib = (m != NULL && dladdr(m, &minfo) != 0 && minfo.dli_fname != NULL)
                         ? minfo.dli_fname
                         : "?";
  printf("marker alloc=%s lib=%s malloc_from=%s\n", found, lib, mlib);
}

static void usage(void) {
  fprintf(stderr, "usage: %s SCALE [THREADS]\n", prog_name);
  exit(2);
}

void hn_bench_start(int argc, char **argv, const char *name, unsigned default_threads,
                    hn_bench_args_t *out) {
  prog_name = name;
  if (argc < 2 || argc > 3) usage();
  char *end = NULL;
  errno = 0;
  double scale = strtod(argv[1], &end);
  if (errno != 0 || end == argv[1] || *end != '\0' || !(scale > 0.0) || scale > 1000.0) {
    fprintf(stderr, "%s: error: bad scale '%s' (want a number in (0, 1000])\n", name, argv[1]);
    exit(2);
  }
  unsigned long threads = default_threads;
  if (argc == 3) {
    errno = 0;
    threads = strtoul(argv[2], &end, 10);
    if (errno != 0 || end == argv[2] || *end != '\0' || threads < 1 ||
        threads > HN_BENCH_MAX_THREADS || default_threads == 0) {
      fprintf(stderr, "%s: error: bad thread count '%s'\n", name, argv[2]);
      exit(2);
    }
  }
  out->scale = scale;
  out->threads = (unsigned)threads;
  setvbuf(stdout, NULL, _IOLBF, 0);
  report_marker();
  start_time = hn_bench_now();
}

uint64_t hn_bench_iters(const hn_bench_args_t *a, double base, uint64_t min) {
  double n = a->scale * base;
  return n < (double)min ? min : (uint64_t)n;
}

double hn_bench_elapsed(void) { return hn_bench_now() - start_time; }

double hn_bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t hn_bench_rss(void) {
  /* statm, not smaps_rollup: it reads the kernel's RSS counters without walking the
   * page tables, so sampling a 1 GiB heap costs microseconds, not milliseconds. */
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL) return 0;
  unsigned long size = 0, resident = 0;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  if (n != 2) return 0;
  return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

void hn_bench_sample(const char *phase, uint64_t live) {
  printf("sample t=%.3f rss=%llu live=%llu phase=%s\n", hn_bench_now() - start_time,
         (unsigned long long)hn_bench_rss(), (unsigned long long)live, phase);
}

double hn_bench_idle(double seconds, double every, const char *phase, uint64_t live) {
  double begin = hn_bench_now();
  double end = begin + seconds;
  for (;;) {
    double left = end - hn_bench_now();
    if (left <= 0) break;
    double step = left < every ? left : every;
    struct timespec ts = {(time_t)step, (long)((step - (double)(time_t)step) * 1e9)};
    nanosleep(&ts, NULL);
    hn_bench_sample(phase, live);
  }
  return hn_bench_now() - begin;
}

int hn_bench_trim(const char **who) {
  *who = "none";
  void *sym = dlsym(RTLD_DEFAULT, "malloc_trim");
  void *m = dlsym(RTLD_DEFAULT, "malloc");
  Dl_info tinfo, minfo;
  if (sym == NULL || m == NULL || dladdr(sym, &tinfo) == 0 || dladdr(m, &minfo) == 0 ||
      tinfo.dli_fname == NULL || minfo.dli_fname == NULL)
    return 0;
  /* jemalloc and mimalloc have no malloc_trim, so the lookup finds glibc's, which would
   * trim glibc's unused arenas and release nothing of the real heap: skip it. */
  if (strcmp(tinfo.dli_fname, minfo.dli_fname) != 0) return 0;
  int (*trim)(size_t);
  memcpy(&trim, &sym, sizeof trim); /* ISO C has no object-to-function pointer cast */
  trim(0);
  *who = tinfo.dli_fname;
  return 1;
}

void hn_bench_allocator_report(void) {
  fflush(stdout);
  void *sym = dlsym(RTLD_DEFAULT, "heron_stats_write");
  if (sym != NULL) {
    void (*write_stats)(int, int);
    memcpy(&write_stats, &sym, sizeof write_stats);
    write_stats(2, 0);
    return;
  }
  sym = dlsym(RTLD_DEFAULT, "mi_stats_print");
  if (sym != NULL) {
    void (*print)(void *);
    memcpy(&print, &sym, sizeof print);
    print(NULL);
    return;
  }
  sym = dlsym(RTLD_DEFAULT, "malloc_stats_print");
  if (sym != NULL) {
    void (*print)(void *, void *, const char *);
    memcpy(&print, &sym, sizeof print);
    print(NULL, NULL, "gmdablxe"); /* the summary only: no per-bin, per-arena tables */
  }
}

void *hn_bench_xmalloc(size_t size) {
  void *p = malloc(size);
  if (p == NULL && size != 0) {
    fprintf(stderr, "%s: error: out of memory allocating %zu bytes\n", prog_name, size);
    exit(1);
  }
  return p;
}

void *hn_bench_xrealloc(void *p, size_t size) {
  void *q = realloc(p, size);
  if (q == NULL && size != 0) {
    fprintf(stderr, "%s: error: out of memory reallocating to %zu bytes\n", prog_name, size);
    exit(1);
  }
  return q;
}

void hn_bench_result(const char *fmt, ...) {
  printf("result name=%s elapsed=%.6f", prog_name, hn_bench_now() - start_time);
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
}

void hn_bench_spawn(pthread_t *tid, void *(*fn)(void *), void *arg) {
  int err = pthread_create(tid, NULL, fn, arg);
  if (err != 0) {
    fprintf(stderr, "%s: error: pthread_create: %s\n", prog_name, strerror(err));
    exit(1);
  }
}

void hn_bench_run_threads(unsigned n, void *(*fn)(void *), void *args, size_t stride) {
  pthread_t tids[HN_BENCH_MAX_THREADS];
  for (unsigned t = 0; t < n; t++) hn_bench_spawn(&tids[t], fn, (char *)args + t * stride);
  for (unsigned t = 0; t < n; t++) pthread_join(tids[t], NULL);
}
