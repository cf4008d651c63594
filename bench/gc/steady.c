/*
 * steady.c: a server-like steady state for a collector: a fixed live heap (a table of
 * records, each a conservative object holding a pointer to a pointer-free payload)
 * and threads that keep replacing random records, so the allocation rate is high and
 * the live heap stays the same. Built twice: on heron (gc_steady) and with -DST_BDWGC
 * on Debian's bdwgc (gc_steady_bdwgc).
 *
 *   gc_steady LIVE_MIB THREADS ALLOC_GIB
 *
 * Prints one line: wall and CPU seconds, peak RSS, cycles, GC CPU (heron: its own
 * accounting of assist + background + pause CPU; bdwgc: the time its collections
 * took, from GC_get_full_gc_total_time, which is world-stopped wall time), and the
 * stop-the-world pauses (bdwgc: from its collection events; heron: run with
 * HERON_GCTRACE=1 and read from the trace lines, as bench/gc/run.sh does).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifdef ST_BDWGC
#define GC_THREADS
#include <gc/gc.h>
#define ST_NAME "bdwgc"
#define ST_ALLOC(n) GC_MALLOC(n)
#define ST_ALLOC_NOSCAN(n) GC_MALLOC_ATOMIC(n)
#define ST_STORE(slot, v) (*(slot) = (v))
#else
#include "heron/gc.h"
#define ST_NAME "heron"
#define ST_ALLOC(n) heron_gc_malloc(n)
#define ST_ALLOC_NOSCAN(n) heron_gc_malloc_noscan(n)
#define ST_STORE(slot, v) HERON_GC_STORE(slot, v)
#endif

/* Records of 64 bytes with a payload of 64..1024 bytes: about 600 bytes per slot, a
 * shape like a cache of small entries. */
#define REC_BYTES 64
#define PAYLOAD_MIN 64
#define PAYLOAD_SPAN 960

typedef struct rec {
  void *payload;
  uint64_t key, len, pad[5];
} rec_t;

static rec_t **table;
static size_t nslots;
static uint64_t per_thread_bytes;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static rec_t *new_rec(uint64_t *seed, uint64_t *bytes) {
  size_t len = PAYLOAD_MIN + (size_t)(rnd(seed) % PAYLOAD_SPAN);
  rec_t *r = ST_ALLOC(sizeof *r);
  char *p = ST_ALLOC_NOSCAN(len);
  if (r == NULL || p == NULL) {
    fprintf(stderr, "gc_steady: error: out of memory\n");
    exit(1);
  }
  p[0] = (char)len;
  r->key = rnd(seed);
  r->len = len;
  ST_STORE(&r->payload, p);
  *bytes += sizeof *r + len;
  return r;
}

static long nthreads;

/* Thread i replaces only slots k with k % nthreads == i: no two mutators race for a
 * slot (a data race in C, and one ThreadSanitizer reports). */
static void *worker(void *arg) {
  size_t me = (size_t)(uintptr_t)arg - 1;
  size_t share = nslots / (size_t)nthreads;
  uint64_t seed = (uint64_t)(uintptr_t)arg * 7919 + 1;
#ifndef ST_BDWGC
  heron_gc_thread_attach(); /* bdwgc registers threads in its pthread_create wrapper */
#endif
  uint64_t done = 0;
  while (done < per_thread_bytes) {
    size_t k = (size_t)(rnd(&seed) % share) * (size_t)nthreads + me;
    ST_STORE(&table[k], new_rec(&seed, &done));
  }
#ifndef ST_BDWGC
  heron_gc_thread_detach();
#endif
  return NULL;
}

#ifdef ST_BDWGC
/* Pause times from bdwgc's events (world stopped to world started). */
#define MAX_PAUSES 100000
static double pause_start, pauses[MAX_PAUSES];
static size_t npauses;
static void on_event(GC_EventType e) {
  if (e == GC_EVENT_PRE_STOP_WORLD) pause_start = now_s();
  if (e == GC_EVENT_POST_START_WORLD && npauses < MAX_PAUSES) pauses[npauses++] = now_s() - pause_start;
}
static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
#endif

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: gc_steady LIVE_MIB THREADS ALLOC_GIB\n");
    return 2;
  }
  char *end;
  long live_mib = strtol(argv[1], &end, 10);
  long threads = strtol(argv[2], &end, 10);
  double alloc_gib = strtod(argv[3], &end);
  if (live_mib < 1 || threads < 1 || threads > 64 || alloc_gib <= 0) {
    fprintf(stderr, "gc_steady: error: bad arguments\n");
    return 2;
  }
  uint64_t avg = REC_BYTES + PAYLOAD_MIN + PAYLOAD_SPAN / 2;
  nslots = (size_t)((uint64_t)live_mib << 20) / avg;
  per_thread_bytes = (uint64_t)(alloc_gib * (double)(1ull << 30)) / (uint64_t)threads;
  nthreads = threads;
#ifdef ST_BDWGC
  GC_INIT();
  GC_set_on_collection_event(on_event);
#else
  heron_gc_init(NULL);
#endif
  double t0 = now_s();
  table = ST_ALLOC(nslots * sizeof *table);
#ifndef ST_BDWGC
  heron_gc_add_root(&table, sizeof table);
#endif
  uint64_t seed = 1, fill = 0;
  for (size_t k = 0; k < nslots; k++) ST_STORE(&table[k], new_rec(&seed, &fill));
  pthread_t tid[64];
  for (long i = 0; i < threads; i++) pthread_create(&tid[i], NULL, worker, (void *)(uintptr_t)(i + 1));
#ifndef ST_BDWGC
  heron_gc_blocking_begin();
#endif
  for (long i = 0; i < threads; i++) pthread_join(tid[i], NULL);
#ifndef ST_BDWGC
  heron_gc_blocking_end();
#endif
  double wall = now_s() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
#ifdef ST_BDWGC
  double gc_s = 0; /* world-stopped time: bdwgc marks in the pause */
  for (size_t i = 0; i < npauses; i++) gc_s += pauses[i];
  qsort(pauses, npauses, sizeof *pauses, cmp_d);
  double sum = 0;
  for (size_t i = 0; i < npauses; i++) sum += pauses[i];
  printf("%s live=%ldMiB threads=%ld alloc=%.1fGiB wall=%.2fs cpu=%.2fs maxrss=%ldMiB cycles=%zu "
         "gc_share=%.1f%% pause_mean=%.3fms pause_p99=%.3fms pause_max=%.3fms\n",
         ST_NAME, live_mib, threads, alloc_gib, wall, cpu, ru.ru_maxrss >> 10, npauses,
         100.0 * gc_s / wall, npauses ? sum / npauses * 1e3 : 0,
         npauses ? pauses[(npauses * 99) / 100 < npauses ? (npauses * 99) / 100 : npauses - 1] * 1e3 : 0,
         npauses ? pauses[npauses - 1] * 1e3 : 0);
#else
  heron_gc_stats_t st;
  heron_gc_stats_get(&st);
  double gc_cpu = (double)(st.gc_cpu_assist_ns + st.gc_cpu_background_ns + st.gc_cpu_pause_ns) / 1e9;
  printf("%s live=%ldMiB threads=%ld alloc=%.1fGiB wall=%.2fs cpu=%.2fs maxrss=%ldMiB cycles=%llu "
         "gc_share=%.1f%% assist=%.2fs background=%.2fs pause_cpu=%.3fs pause_max=%.3fms\n",
         ST_NAME, live_mib, threads, alloc_gib, wall, cpu, ru.ru_maxrss >> 10,
         (unsigned long long)st.cycles, 100.0 * gc_cpu / cpu, st.gc_cpu_assist_ns / 1e9,
         st.gc_cpu_background_ns / 1e9, st.gc_cpu_pause_ns / 1e9, st.pause_max_ns / 1e6);
#endif
  return 0;
}
