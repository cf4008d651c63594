/*
 * stop_floor.c: the least a signal-based stop of the world can take on this machine,
 * with no collector in it. THREADS threads run (each touches random bytes of its own
 * 64 MiB), and every 5 ms the main thread sends each a signal and waits until every
 * handler has posted a semaphore: the round trip heron's stop makes (gc/threads.c),
 * without the stack scan and with nothing to wait for but the signal's delivery and
 * the thread's scheduling. Prints the number of round trips, their median, p99 and
 * maximum, and the share over 0.5 ms. With `poll`, the threads instead look at a
 * counter between touches and post the semaphore when it changes (a cooperative
 * safepoint's round trip, no signal): what a stop could take without signals.
 *
 *   stop_floor [THREADS [SECONDS [signal|poll]]]     (defaults 2, 10, signal)
 *
 * On a machine where this program's p99 or maximum is high, so is every collector's
 * that stops threads with signals (bdwgc's, heron's); docs/gc.md reads heron's pause
 * tail against it.
 */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PERIOD_NS 5000000
#define SPIN_BYTES ((size_t)64 << 20)
#define MAX_THREADS 64

static sem_t acks;
static int quit;
static int polling;
static unsigned long request; /* poll mode: bumped for each round trip */

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_signal(int sig) {
  (void)sig;
  sem_post(&acks);
}

static void *busy(void *arg) {
  volatile unsigned char *mem = calloc(SPIN_BYTES, 1);
  uint64_t x = (uintptr_t)arg | 1;
  unsigned long seen = 0;
  if (mem == NULL) return NULL;
  while (!__atomic_load_n(&quit, __ATOMIC_RELAXED)) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    mem[(x >> 24) % SPIN_BYTES]++;
    if (polling) {
      unsigned long r = __atomic_load_n(&request, __ATOMIC_ACQUIRE);
      if (r != seen) {
        seen = r;
        sem_post(&acks);
      }
    }
  }
  free((void *)mem);
  return NULL;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  long threads = argc > 1 ? strtol(argv[1], NULL, 10) : 2;
  long seconds = argc > 2 ? strtol(argv[2], NULL, 10) : 10;
  polling = argc > 3 && strcmp(argv[3], "poll") == 0;
  if (argc > 4 || threads < 1 || threads > MAX_THREADS || seconds < 1 || seconds > 3600 ||
      (argc > 3 && !polling && strcmp(argv[3], "signal") != 0)) {
    fprintf(stderr, "usage: stop_floor [THREADS (1-64) [SECONDS (1-3600) [signal|poll]]]\n");
    return 2;
  }
  sem_init(&acks, 0, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t tid[MAX_THREADS];
  for (long i = 0; i < threads; i++) pthread_create(&tid[i], NULL, busy, (void *)(uintptr_t)(i + 1));
  size_t cap = (size_t)(seconds * 1000000000 / PERIOD_NS) + 1, n = 0;
  int64_t *trips = malloc(cap * sizeof *trips);
  if (trips == NULL) return 1;
  int64_t end = now_ns() + seconds * 1000000000;
  while (now_ns() < end && n < cap) {
    struct timespec ts = {0, PERIOD_NS};
    nanosleep(&ts, NULL);
    int64_t t0 = now_ns();
    if (polling)
      __atomic_fetch_add(&request, 1, __ATOMIC_RELEASE);
    else
      for (long i = 0; i < threads; i++) pthread_kill(tid[i], SIGUSR1);
    for (long i = 0; i < threads; i++)
      while (sem_wait(&acks) != 0) {
      }
    trips[n++] = now_ns() - t0;
  }
  __atomic_store_n(&quit, 1, __ATOMIC_RELAXED);
  for (long i = 0; i < threads; i++) pthread_join(tid[i], NULL);
  qsort(trips, n, sizeof *trips, cmp_i64);
  size_t over = 0;
  for (size_t i = 0; i < n; i++) over += trips[i] > 500000;
  printf("stop_floor (%s): %ld threads, %zu round trips: median %.3f ms, p99 %.3f ms, max %.3f ms, "
         "%.2f%% over 0.5 ms\n",
         polling ? "poll" : "signal", threads, n, (double)trips[n / 2] / 1e6, (double)trips[n * 99 / 100] / 1e6,
         (double)trips[n - 1] / 1e6, 100.0 * (double)over / (double)n);
  free(trips);
  return 0;
}
