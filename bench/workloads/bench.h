/*
 * bench.h: what every workload program of the benchmark suite shares.
 *
 * Each workload is one program, run by bench/run under each allocator (LD_PRELOAD, or
 * nothing for glibc). It takes `SCALE [THREADS]` on the command line, reports which
 * allocator it found itself running on (a `marker` line, from marker symbols looked up
 * with dlsym), does its work, and prints `result key=value ...` lines that the runner
 * parses. Long workloads also print `sample` lines: RSS over time with the live bytes.
 *
 * The hot helpers (random numbers, keeping the compiler from deleting a malloc/free
 * pair) are inline here; the rest lives in common.c.
 */
#ifndef HN_BENCH_H
#define HN_BENCH_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

/* The most THREADS a workload accepts. */
#define HN_BENCH_MAX_THREADS 256

/* Arguments every workload takes: a scale (1.0 is the full run's size; the quick mode
 * passes a few hundredths) and, where the workload uses threads, a thread count. */
typedef struct hn_bench_args {
  double scale;
  unsigned threads;
} hn_bench_args_t;

/* Parse `prog SCALE [THREADS]`; prints a usage error and exits 2 on bad input.
 * default_threads is used when THREADS is absent (0 means the workload has no threads). */
void hn_bench_start(int argc, char **argv, const char *name, unsigned default_threads,
                    hn_bench_args_t *out);

/* scale * base, at least min: how many iterations a workload runs. */
uint64_t hn_bench_iters(const hn_bench_args_t *a, double base, uint64_t min);

/* Seconds on the monotonic clock. */
double hn_bench_now(void);

/* Starts a thread running fn(arg); on failure prints "NAME: error: ..." and exits 1. */
void hn_bench_spawn(pthread_t *tid, void *(*fn)(void *), void *arg);

/* Runs fn on n threads (n <= HN_BENCH_MAX_THREADS), the t-th given args + t * stride
 * (the t-th of an array of per-thread records), and waits for all of them. Starts
 * them as hn_bench_spawn does. */
void hn_bench_run_threads(unsigned n, void *(*fn)(void *), void *args, size_t stride);

/* Seconds since hn_bench_start. */
double hn_bench_elapsed(void);

/* Resident set size of this process in bytes (from /proc/self/statm). */
uint64_t hn_bench_rss(void);

/* Print `sample t=SECONDS rss=BYTES live=BYTES phase=LABEL` (t from hn_bench_start). */
void hn_bench_sample(const char *phase, uint64_t live);

/* Sleep for `seconds`, printing a sample every `every` seconds. Returns the seconds
 * it took, so a memory test can report its busy time (elapsed minus idle). */
double hn_bench_idle(double seconds, double every, const char *phase, uint64_t live);

/* Call malloc_trim(0) if the allocator in use provides it (glibc's own trim is only
 * called when glibc is the allocator). Returns 1 if called, 0 if not; sets *who to the
 * library the function came from, or "none". */
int hn_bench_trim(const char **who);

/* Where the allocator has a report of its own (heron_stats_write, malloc_stats_print
 * of jemalloc, mi_stats_print of mimalloc), write it to stderr: it says where the RSS
 * that the memory tests measure went (in use, cached, free but resident, metadata). */
void hn_bench_allocator_report(void);

/* Allocation that exits with a message on failure (workloads never handle NULL). */
void *hn_bench_xmalloc(size_t size);
void *hn_bench_xrealloc(void *p, size_t size);

/* Print the final `result` line; fmt holds further ` key=value` pairs. */
void hn_bench_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* xorshift64*: a small, fast generator; each thread keeps its own state. */
static inline uint64_t hn_rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

/* A uniform number in [0, n) for n < 2^32: the multiply-shift of the top 32 bits is
 * close enough to uniform for choosing sizes and slots. */
static inline uint64_t hn_rng_below(uint64_t *s, uint64_t n) {
  return ((hn_rng_next(s) >> 32) * n) >> 32;
}

/* A seed that differs per thread and per stream but is the same from run to run. */
static inline uint64_t hn_rng_seed(uint64_t stream) {
  return 0x9E3779B97F4A7C15ULL * (stream + 1) | 1;
}

/* The mixed sizes of the phase and random-free tests: 70 % of objects 16-256 B,
 * 25 % 256 B-4 KiB, 5 % 4-64 KiB, log-uniform inside each band. That is a program's
 * heap by count (mostly small) with a fair share of the bytes in medium objects;
 * the mean is about 1.5 KiB, so 1 GiB is about 700,000 objects. */
static inline size_t hn_bench_mixed_size(uint64_t *s) {
  uint64_t r = hn_rng_below(s, 100);
  unsigned lo = r < 70 ? 4 : r < 95 ? 8 : 12; /* log2 of the band's low end */
  unsigned band = lo + (unsigned)hn_rng_below(s, 4);
  return ((size_t)1 << band) + (size_t)hn_rng_below(s, (uint64_t)1 << band);
}

/* Make the compiler believe p is used, so a malloc/free pair survives optimisation. */
static inline void hn_bench_use(void *p) {
  __asm__ volatile("" : : "r"(p) : "memory");
}

#endif
