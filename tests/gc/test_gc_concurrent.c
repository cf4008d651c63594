/*
 * test_gc_concurrent.c: concurrent marking against mutators that move pointers while
 * the collector marks.
 *
 * The lost-object case of a concurrent collector without a barrier: a white object W is
 * reachable only from a slot of an object H the marker has not scanned yet; the mutator
 * loads W, stores it into an object B that is already black (allocated during marking),
 * and clears H's slot. Unless the overwrite of H's slot shades W, the marker never sees
 * W and the sweep frees it while B still points at it. H is put at the end of a long
 * list so marking reaches it late. After every round each W must still be an allocated
 * object with its contents intact, after enough allocation to reuse freed memory.
 *
 * Stranded work: the same move, of a pointer to a long list, leaves the only path to it
 * in the mutator's barrier buffer when the worker runs out of grey objects. Mark
 * termination must give it back to concurrent marking (a mark resume) rather than scan
 * the whole list with the world stopped, and the list must survive.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "gc_test_util.h"
#include "heron/gc.h"

#define LIST_N 200000 /* nodes before H: marking takes milliseconds to reach it */
#define SLOTS 512     /* objects moved per round */
#define PAYLOAD_WORDS 8

typedef struct node {
  struct node *next;
  void *pad;
} node_t;

typedef struct holder {
  uint64_t *slot[SLOTS];
} holder_t;

typedef struct black {
  uint64_t *w;
} black_t;

static void *roots[2];          /* [0]: the list head; [1]: the array of blacks */
static volatile int stop_collector;

static uint64_t pattern(unsigned i, unsigned j) { return (uint64_t)i * 0x9E3779B97F4A7C15ull + j; }

static void *collector_body(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  while (!__atomic_load_n(&stop_collector, __ATOMIC_RELAXED)) {
    heron_gc_collect();
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
  }
  heron_gc_thread_detach();
  return NULL;
}

/* One round: build list -> H with fresh payloads, wait for marking, move every W
 * from H into a black object through the barrier. Returns objects found damaged. */
static int round_body(int round) {
  node_t *head = NULL;
  holder_t *h = heron_gc_malloc(sizeof *h);
  for (unsigned i = 0; i < SLOTS; i++) {
    uint64_t *w = heron_gc_malloc_noscan(PAYLOAD_WORDS * sizeof(uint64_t));
    for (unsigned j = 0; j < PAYLOAD_WORDS; j++) w[j] = pattern(i + (unsigned)round, j);
    HERON_GC_STORE(&h->slot[i], w);
  }
  /* H hangs off the last node: the marker reaches it after LIST_N nodes. */
  node_t *tail = heron_gc_malloc(sizeof *tail);
  HERON_GC_STORE(&tail->pad, h);
  head = tail;
  for (int i = 0; i < LIST_N; i++) {
    node_t *n = heron_gc_malloc(sizeof *n);
    HERON_GC_STORE(&n->next, head);
    head = n;
  }
  HERON_GC_STORE(&roots[0], head);
  h = NULL;
  tail = NULL;
  head = NULL;
  /* Wait (allocating, as a program would) until a cycle is marking. */
  uint64_t spins = 0;
  while (!__atomic_load_n(&heron_gc_barrier_on, __ATOMIC_RELAXED) && spins++ < 200000000u) {
    if ((spins & 1023) == 0) heron_gc_malloc(64);
  }
  black_t **blacks = heron_gc_malloc(SLOTS * sizeof *blacks);
  HERON_GC_STORE(&roots[1], blacks);
  node_t *n = roots[0];
  while (n->next != NULL) n = n->next;
  holder_t *hh = n->pad;
  for (unsigned i = 0; i < SLOTS; i++) {
    black_t *b = heron_gc_malloc(sizeof *b); /* black: allocated during marking */
    HERON_GC_STORE(&blacks[i], b);
    uint64_t *w = hh->slot[i];
    HERON_GC_STORE(&b->w, w);
    HERON_GC_STORE(&hh->slot[i], NULL); /* W's only other reference: shaded here */
  }
  n = NULL;
  hh = NULL;
  /* Let this cycle and the next finish, and reuse whatever was freed. */
  heron_gc_collect();
  heron_gc_collect();
  for (int i = 0; i < 20000; i++) {
    uint64_t *g = heron_gc_malloc_noscan(PAYLOAD_WORDS * sizeof(uint64_t));
    for (unsigned j = 0; j < PAYLOAD_WORDS; j++) g[j] = ~(uint64_t)0;
  }
  int bad = 0;
  blacks = roots[1];
  for (unsigned i = 0; i < SLOTS; i++) {
    uint64_t *w = blacks[i]->w;
    if (w == NULL || heron_gc_base(w) != w) {
      bad++;
      continue;
    }
    for (unsigned j = 0; j < PAYLOAD_WORDS; j++)
      if (w[j] != pattern(i + (unsigned)round, j)) {
        bad++;
        break;
      }
  }
  HERON_GC_STORE(&roots[0], NULL);
  HERON_GC_STORE(&roots[1], NULL);
  return bad;
}

static void mutator(void *arg) {
  int *bad = arg;
  for (int r = 0; r < 6; r++) *bad += round_body(r);
}

static void test_lost_object(void **state) {
  (void)state;
  pthread_t c;
  stop_collector = 0;
  assert_int_equal(pthread_create(&c, NULL, collector_body, NULL), 0);
  int bad = 0;
  gct_on_thread(mutator, &bad);
  __atomic_store_n(&stop_collector, 1, __ATOMIC_RELAXED);
  heron_gc_blocking_begin();
  pthread_join(c, NULL);
  heron_gc_blocking_end();
  assert_int_equal(bad, 0);
}

/* ---- pacing with the real collector ---- */

#define LIVE_SLOTS 32768 /* x 1 KiB: 32 MiB live */
#define OBJ 1024

/* How far past its goal (per mille) the heap may go. The bound, 10 % of the goal
 * and Go's 5 % over a memory limit, holds in an optimised build. Under a sanitizer the
 * marker runs 5-15x slower while the mutator loses less, assists run into the CPU
 * limiter, and the heap passes the goal by more than pacing error; there the tests still
 * check the goals exactly and the heap against a loose bound. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define GOAL_SLACK_PERMILLE 300
#define LIMIT_SLACK_PERMILLE 500
#else
#define GOAL_SLACK_PERMILLE 100
#define LIMIT_SLACK_PERMILLE 50
#endif

typedef struct steady {
  uint64_t peak_in_use, peak_goal_ratio_x1000, cycles, max_goal;
} steady_t;

static void **live_table;

/* A server-like steady state: a fixed live set of LIVE_SLOTS objects, each replaced
 * in turn (the old one becomes garbage), for `rounds` replacements. Samples the heap
 * against the goal of the cycle in progress. */
static void steady_body(void *arg) {
  steady_t *st = arg;
  uint64_t seed = 42;
  heron_gc_stats_t s0, s;
  heron_gc_stats_get(&s0);
  for (uint64_t i = 0; i < 400000; i++) {
    unsigned k = (unsigned)(gct_rand(&seed) % LIVE_SLOTS);
    void *p = heron_gc_malloc_noscan(OBJ);
    HERON_GC_STORE(&live_table[k], p);
    if ((i & 255) == 0) {
      heron_gc_stats_get(&s);
      if (s.cycles < s0.cycles + 2) continue; /* warm-up: the first goals have no history */
      uint64_t heap = s.heap_in_use;
      if (heap > st->peak_in_use) st->peak_in_use = heap;
      if (s.heap_goal != UINT64_MAX && s.heap_goal > 0) {
        uint64_t r = heap * 1000 / s.heap_goal;
        if (r > st->peak_goal_ratio_x1000) st->peak_goal_ratio_x1000 = r;
        if (s.heap_goal > st->max_goal) st->max_goal = s.heap_goal;
      }
    }
  }
  heron_gc_stats_get(&s);
  st->cycles = s.cycles - s0.cycles;
}

static void fill_live(void *arg) {
  (void)arg;
  for (unsigned k = 0; k < LIVE_SLOTS; k++) HERON_GC_STORE(&live_table[k], heron_gc_malloc_noscan(OBJ));
}

static steady_t run_steady(int gogc, int64_t limit) {
  heron_gc_set_gogc(gogc);
  heron_gc_set_memory_limit(limit);
  gct_on_thread(fill_live, NULL);
  heron_gc_collect();
  steady_t st = {0};
  gct_on_thread(steady_body, &st);
  heron_gc_set_memory_limit(INT64_MAX);
  heron_gc_set_gogc(100);
  print_message("gogc=%d limit=%lld: %llu cycles, peak heap %llu KiB, peak heap/goal %.3f\n",
                gogc, (long long)limit, (unsigned long long)st.cycles,
                (unsigned long long)(st.peak_in_use >> 10), st.peak_goal_ratio_x1000 / 1000.0);
  return st;
}

static void test_steady_gogc(void **state) {
  (void)state;
  live_table = heron_gc_malloc(LIVE_SLOTS * sizeof(void *));
  heron_gc_add_root(&live_table, sizeof live_table);
  int gogcs[] = {50, 100, 200};
  for (unsigned i = 0; i < 3; i++) {
    steady_t st = run_steady(gogcs[i], INT64_MAX);
    assert_true(st.cycles >= 3);
    assert_true(st.peak_goal_ratio_x1000 <= 1000 + GOAL_SLACK_PERMILLE);
  }
}

static void test_steady_limit(void **state) {
  (void)state;
  /* GOGC=100 would aim at ~64 MiB; 48 MiB fits the 32 MiB live set. The limit counts
   * all mapped memory (metadata and malloc too), so the heap gets less than 48. */
  int64_t limit = (int64_t)48 << 20;
  steady_t st = run_steady(100, limit);
  assert_true(st.cycles >= 3);
  /* The limit is soft, as Go's: pacing error may pass it briefly (Go's own memory-limit
   * test allows 5 %; see LIMIT_SLACK_PERMILLE). On an idle machine the normal build stays
   * under the limit itself (44-47 MiB peaks measured). */
  assert_true(st.peak_in_use <= (uint64_t)limit + (uint64_t)limit * LIMIT_SLACK_PERMILLE / 1000);
  assert_true(st.max_goal < ((uint64_t)60 << 20));
}

/* ---- work the barrier buffer holds when the worker runs out ---- */

#define STRANDED_N 100000 /* list nodes behind the moved pointer: 1.6 MB of scanning */

typedef struct tagged {
  struct tagged *next;
  uintptr_t tag;
} tagged_t;

/* H's address, complemented: not a root, so only the list from roots[0] reaches H. */
static uintptr_t hidden_holder;
static int strand_ready, cycle_over;

static uintptr_t tag_of(unsigned i) { return ((uintptr_t)i << 1) | 1; } /* odd: no pointer */

/* roots[0] -> LIST_N nodes -> tail -> H; H->slot[0] -> STRANDED_N tagged nodes. */
static void build_stranded(void *arg) {
  (void)arg;
  tagged_t *l = NULL;
  for (unsigned i = 0; i < STRANDED_N; i++) {
    tagged_t *n = heron_gc_malloc(sizeof *n);
    n->tag = tag_of(i);
    HERON_GC_STORE(&n->next, l);
    l = n;
  }
  holder_t *h = heron_gc_malloc(sizeof *h);
  HERON_GC_STORE(&h->slot[0], (uint64_t *)l);
  node_t *head = heron_gc_malloc(sizeof *head);
  HERON_GC_STORE(&head->pad, h);
  for (int i = 0; i < LIST_N; i++) {
    node_t *n = heron_gc_malloc(sizeof *n);
    HERON_GC_STORE(&n->next, head);
    head = n;
  }
  HERON_GC_STORE(&roots[0], head);
  HERON_GC_STORE(&roots[1], NULL);
  hidden_holder = ~(uintptr_t)h;
}

static void *collect_when_ready(void *arg) {
  (void)arg;
  heron_gc_thread_attach();
  while (!__atomic_load_n(&strand_ready, __ATOMIC_ACQUIRE)) sched_yield();
  heron_gc_collect();
  __atomic_store_n(&cycle_over, 1, __ATOMIC_RELEASE);
  heron_gc_thread_detach();
  return NULL;
}

typedef struct strand {
  int stay; /* keep the thread attached until the cycle is over */
  int moved;
} strand_t;

/* Once marking runs, moves the list from H (not scanned yet) into a black object: the
 * overwrite shades the list's head into this thread's barrier buffer, its only path.
 * Then the thread waits for the cycle's end, attached (the buffer stays its own until
 * mark termination), or leaves at once (detaching must hand the buffer over). */
static void strand_list(void *arg) {
  strand_t *st = arg;
  __atomic_store_n(&strand_ready, 1, __ATOMIC_RELEASE);
  /* Descheduled for the whole mark (likely under TSan on two busy cores), the thread
   * sees the cycle over instead: the round moved nothing and is run again. */
  while (!__atomic_load_n(&heron_gc_barrier_on, __ATOMIC_ACQUIRE)) {
    if (__atomic_load_n(&cycle_over, __ATOMIC_ACQUIRE)) return;
  }
  holder_t *h = (holder_t *)~hidden_holder;
  black_t *b = heron_gc_malloc(sizeof *b);
  HERON_GC_STORE(&roots[1], b);
  HERON_GC_STORE(&b->w, h->slot[0]);
  HERON_GC_STORE(&h->slot[0], NULL);
  st->moved = 1;
  if (!st->stay) return;
  heron_gc_blocking_begin();
  while (!__atomic_load_n(&cycle_over, __ATOMIC_ACQUIRE)) sched_yield();
  heron_gc_blocking_end();
}

/* Nodes of the list under roots[1] that are intact, in order. */
static void count_intact(void *arg) {
  unsigned *n = arg;
  black_t *b = roots[1];
  *n = 0;
  for (tagged_t *t = (tagged_t *)b->w; t != NULL; t = t->next) {
    if (heron_gc_base(t) != t || t->tag != tag_of(STRANDED_N - 1 - *n)) return;
    ++*n;
  }
}

static void reuse_freed(void *arg) {
  (void)arg;
  for (int i = 0; i < 200000; i++) {
    tagged_t *g = heron_gc_malloc_noscan(sizeof *g);
    g->next = (tagged_t *)~(uintptr_t)0;
    g->tag = 0;
  }
}

/* One round: build, strand the list during a cycle, check it survived. Returns whether
 * the list was moved while the cycle marked, and the cycle's mark resumes. */
static bool strand_round(int stay, uint64_t *resumes) {
  gct_on_thread(build_stranded, NULL);
  heron_gc_collect(); /* the automatic cycles the build started are over */
  heron_gc_stats_t s0, s1;
  heron_gc_stats_get(&s0);
  __atomic_store_n(&strand_ready, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&cycle_over, 0, __ATOMIC_RELAXED);
  pthread_t c;
  assert_int_equal(pthread_create(&c, NULL, collect_when_ready, NULL), 0);
  strand_t st = {.stay = stay};
  gct_on_thread(strand_list, &st);
  gct_join(c);
  heron_gc_stats_get(&s1);
  HERON_GC_STORE(&roots[0], NULL);
  if (!st.moved) {
    HERON_GC_STORE(&roots[1], NULL);
    return false;
  }
  heron_gc_collect();
  heron_gc_collect();
  gct_on_thread(reuse_freed, NULL);
  unsigned intact = 0;
  gct_on_thread(count_intact, &intact);
  assert_int_equal(intact, STRANDED_N);
  HERON_GC_STORE(&roots[1], NULL);
  *resumes = s1.mark_resumes - s0.mark_resumes;
  return true;
}

/* Runs rounds until one moves the list during its cycle (up to ten); fails if none did. */
static uint64_t strand_moved_round(int stay) {
  uint64_t resumes = 0;
  for (int attempt = 0; attempt < 10; attempt++)
    if (strand_round(stay, &resumes)) return resumes;
  fail_msg("ten rounds' cycles all ended before the thread saw the barrier on");
  return 0;
}

static void test_stranded_work_resumes(void **state) {
  (void)state;
  /* A round moves the list before the worker reaches H, which takes it milliseconds; a
   * round where the worker got there first (the mutator descheduled) shows nothing, so
   * up to five run until one resumes. */
  uint64_t resumed = 0;
  for (int round = 0; round < 5 && resumed == 0; round++) resumed = strand_moved_round(1);
  assert_true(resumed >= 1);
  /* Every pause, the resumed ones too, is every processor's GC time: with no cycle in
   * flight, the pause CPU is the pauses' wall time times the processors. */
  heron_gc_collect();
  heron_gc_stats_t s;
  heron_gc_stats_get(&s);
  assert_int_equal(s.gc_cpu_pause_ns,
                   s.pause_total_ns * (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
}

static void test_detach_hands_over_buffer(void **state) {
  (void)state;
  for (int round = 0; round < 3; round++) strand_moved_round(0);
}

int main(void) {
  heron_gc_config_t cfg = {.gogc = 100};
  if (heron_gc_init(&cfg) != 0) return 1;
  heron_gc_add_root(roots, sizeof roots);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lost_object),
      cmocka_unit_test(test_stranded_work_resumes),
      cmocka_unit_test(test_detach_hands_over_buffer),
      cmocka_unit_test(test_steady_gogc),
      cmocka_unit_test(test_steady_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
