/*
 * pace.c: the running collector driving the pure pacer (pacer.h, limiter.h,
 * scavenge_goal.h), as Go's gcControllerState is driven by mgc.go:
 *   1. Between cycles the trigger is the pacer's, published as bytes of allocation
 *      since the last mark termination (hn_heap.trigger), so the allocation path
 *      compares two counters.
 *   2. At the start of marking hn_pacer_start_cycle fixes the goal and the assist
 *      ratio; the background worker calls hn_pacer_revise as scan work is done, and
 *      the ratio is published in fixed point for assists.
 *   3. At the end, what the cycle measured (allocation during marking, scan work,
 *      assist and background CPU) goes to hn_pacer_end_cycle, which updates cons/mark
 *      and computes the next goal and trigger.
 * The memory-limit goal is fed with the allocator's numbers: mapped and not released
 * (mapped_ready), free resident pages (heap_free) and the collector's spans
 * (heap_alloc). The limiter sees each pause and each assist. The background scavenger
 * releases free pages toward the scavenger goals at about 1 % of the CPU.
 */
#include "gc/pace.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alloc/pageheap.h"
#include "gc/gctrace.h"
#include "gc/heap.h"
#include "gc/limiter.h"
#include "gc/pacer.h"
#include "gc/scavenge_goal.h"
#include "gc/settings.h"
#include "gc/stats.h"

uint64_t hn_pace_work_per_byte_fx, hn_pace_bytes_per_work_fx;

static pthread_mutex_t pace_lock = PTHREAD_MUTEX_INITIALIZER;
static hn_pacer pacer;     /* pace_lock */
static hn_limiter limiter; /* pace_lock */
static int limiting;       /* limiter's verdict, read with relaxed atomics */
static int gctrace;
static int32_t procs = 1;
static int64_t start_ns;

/* Statistics (pace_lock to write, relaxed atomics to read). */
static uint64_t st_goal, st_assist_ns, st_background_ns, st_pause_cpu_ns, st_scavenged;
static uint64_t st_scav_base; /* the page heap's released_total at start */
static int64_t pending_assist_ns; /* assists since the last limiter update, atomic */
static uint64_t assist_at_mark_start; /* st_assist_ns when marking began (pace_lock) */
/* Span bytes in use when the last mark ended (pace_lock): Go's heapInUse at mark
 * termination, which the scavenger scales by the goal's change. Not the marked bytes:
 * a retention of 110 % of the live heap sits below every cycle's peak, so free pages
 * the next cycle would fill again were released between cycles (the "scavenger
 * released" line of `gcsim --cost=default --gogc=100 sim/traces/python-json.trace`:
 * 9.95 MiB so at a19f57e, 0 B with heapInUse at 84c79d1). */
static uint64_t last_heap_in_use;

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t hn_pace_now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

int64_t hn_pace_thread_cpu_ns(void) { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

int32_t hn_pace_procs(void) { return procs; }

static void warn(const char *what, const char *msg, const char *dflt) {
  char line[HN_SETTINGS_ERR_MAX + 96];
  size_t n = 0;
  const char *parts[] = {"heron: warning: ", what, ": ", msg, "; using ", dflt, "\n"};
  for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
    size_t l = strlen(parts[i]);
    if (n + l > sizeof line) l = sizeof line - n;
    memcpy(line + n, parts[i], l);
    n += l;
  }
  ssize_t w = write(2, line, n);
  (void)w;
}

/* The allocator's view of memory. Takes the page heap lock: never with the world
 * stopped. */
static hn_pacer_mem mem_now(hn_pageheap_stats_t *st_out) {
  hn_pageheap_stats_t st;
  hn_pageheap_lock();
  hn_pageheap_stats_locked(&st);
  hn_pageheap_unlock();
  if (st_out) *st_out = st;
  hn_pacer_mem m;
  m.mapped_ready = st.mapped - st.released;
  m.heap_free = st.free_resident;
  m.heap_alloc = __atomic_load_n(&hn_heap.span_bytes, __ATOMIC_RELAXED);
  if (m.heap_free + m.heap_alloc > m.mapped_ready) m.heap_alloc = m.mapped_ready - m.heap_free;
  return m;
}

static uint64_t heap_live_now(void) {
  return __atomic_load_n(&hn_gc_counters.live, __ATOMIC_RELAXED) +
         __atomic_load_n(&hn_heap.since_gc, __ATOMIC_RELAXED);
}

static void publish_ratio_locked(void) {
  double w = pacer.assist_work_per_byte * HN_PACE_FX_ONE;
  double b = pacer.assist_bytes_per_work * HN_PACE_FX_ONE;
  __atomic_store_n(&hn_pace_work_per_byte_fx, w > 1e18 ? (uint64_t)1e18 : (uint64_t)w,
                   __ATOMIC_RELAXED);
  __atomic_store_n(&hn_pace_bytes_per_work_fx, b > 1e18 ? (uint64_t)1e18 : (uint64_t)b,
                   __ATOMIC_RELAXED);
}

/* pace_lock. */
static void publish_locked(void) {
  hn_pacer_mem mem = mem_now(NULL);
  hn_pacer_trigger_out t = hn_pacer_trigger(&pacer, &mem);
  uint64_t marked = pacer.heap_marked;
  uint64_t since = t.trigger == UINT64_MAX ? UINT64_MAX
                   : t.trigger > marked    ? t.trigger - marked
                                           : 0;
  __atomic_store_n(&hn_heap.trigger, since, __ATOMIC_RELAXED);
  __atomic_store_n(&st_goal, t.goal, __ATOMIC_RELAXED);
  /* Empty spans are kept while the GC heap is under 110 % of the goal (the scavenger's
   * retention), so the pages the next cycle will need are not refaulted. */
  uint64_t goal = t.goal == UINT64_MAX ? marked + HN_PACER_HEAP_MINIMUM : t.goal;
  __atomic_store_n(&hn_heap.retain, goal + goal / 10, __ATOMIC_RELAXED);
}

uint64_t hn_pace_goal(void) { return __atomic_load_n(&st_goal, __ATOMIC_RELAXED); }

void hn_pace_mark_start(hn_pace_cycle_t *c) {
  pthread_mutex_lock(&pace_lock);
  hn_pacer_revise_in in;
  memset(&in, 0, sizeof in);
  in.heap_live = c->heap_start;
  in.heap_scan = c->heap_start;
  in.max_stack_scan = c->stacks;
  in.mem = mem_now(NULL);
  assist_at_mark_start = __atomic_load_n(&st_assist_ns, __ATOMIC_RELAXED);
  hn_pacer_start_cycle(&pacer, c->mark_start_ns, procs, &in);
  hn_pacer_revise(&pacer, &in);
  hn_limiter_start_transition(&limiter, true, c->start_ns, 0, 0);
  hn_limiter_finish_transition(&limiter, c->mark_start_ns);
  __atomic_store_n(&st_pause_cpu_ns, st_pause_cpu_ns + (uint64_t)c->stw1_ns * (uint64_t)procs,
                   __ATOMIC_RELAXED);
  __atomic_store_n(&limiting, hn_limiter_limiting(&limiter), __ATOMIC_RELAXED);
  __atomic_store_n(&st_goal, hn_pacer_heap_goal(&pacer, &in.mem), __ATOMIC_RELAXED);
  publish_ratio_locked();
  pthread_mutex_unlock(&pace_lock);
}

void hn_pace_mark_resumed(int64_t pause_start_ns, int64_t stw_ns) {
  pthread_mutex_lock(&pace_lock);
  /* GC stays enabled across the pause: a transition from marking to marking. */
  hn_limiter_start_transition(&limiter, true, pause_start_ns,
                              __atomic_exchange_n(&pending_assist_ns, 0, __ATOMIC_RELAXED), 0);
  hn_limiter_finish_transition(&limiter, pause_start_ns + stw_ns);
  __atomic_store_n(&limiting, hn_limiter_limiting(&limiter), __ATOMIC_RELAXED);
  __atomic_store_n(&st_pause_cpu_ns, st_pause_cpu_ns + (uint64_t)stw_ns * (uint64_t)procs,
                   __ATOMIC_RELAXED);
  pthread_mutex_unlock(&pace_lock);
}

void hn_pace_mark_revise(uint64_t heap_live, int64_t scan_work_done) {
  pthread_mutex_lock(&pace_lock);
  if (pacer.marking) {
    hn_pacer_revise_in in;
    memset(&in, 0, sizeof in);
    in.heap_live = heap_live;
    in.heap_scan = heap_live;
    in.scan_work_done = scan_work_done;
    in.mem = mem_now(NULL);
    hn_pacer_revise(&pacer, &in);
    publish_ratio_locked();
    int64_t now = hn_pace_now_ns();
    if (hn_limiter_need_update(&limiter, now)) {
      int64_t a = __atomic_exchange_n(&pending_assist_ns, 0, __ATOMIC_RELAXED);
      hn_limiter_update(&limiter, now, a, 0);
      __atomic_store_n(&limiting, hn_limiter_limiting(&limiter), __ATOMIC_RELAXED);
    }
  }
  pthread_mutex_unlock(&pace_lock);
}

bool hn_pace_limiting(void) { return __atomic_load_n(&limiting, __ATOMIC_RELAXED) != 0; }

void hn_pace_note_assist(int64_t ns) {
  __atomic_fetch_add(&pending_assist_ns, ns, __ATOMIC_RELAXED);
  __atomic_fetch_add(&st_assist_ns, (uint64_t)ns, __ATOMIC_RELAXED);
}

static void trace_line(const hn_pace_cycle_t *c, uint64_t goal) {
  hn_gctrace_cycle t;
  memset(&t, 0, sizeof t);
  t.num = c->num;
  t.since_start_ns = c->start_ns - start_ns;
  int64_t wall = hn_pace_now_ns() - start_ns;
  uint64_t gc_cpu = __atomic_load_n(&st_assist_ns, __ATOMIC_RELAXED) +
                    __atomic_load_n(&st_background_ns, __ATOMIC_RELAXED) +
                    __atomic_load_n(&st_pause_cpu_ns, __ATOMIC_RELAXED);
  t.gc_cpu_fraction = wall > 0 ? (double)gc_cpu / ((double)wall * procs) : 0;
  t.stw1_ns = c->stw1_ns;
  t.mark_ns = c->mark_ns;
  t.stw2_ns = c->stw2_ns;
  t.stw1_cpu_ns = c->stw1_ns * procs;
  t.stw2_cpu_ns = c->stw2_ns * procs;
  t.assist_cpu_ns = c->assist_ns;
  t.background_cpu_ns = c->background_ns;
  t.heap_start = c->heap_start;
  t.heap_end = c->heap_end;
  t.heap_marked = c->marked;
  t.heap_goal = goal;
  t.stacks = c->stacks;
  t.globals = c->globals;
  t.procs = procs;
  t.forced = c->forced;
  char line[2 * HN_GCTRACE_LINE_MAX + 2]; /* the cycle's line and the pauses' line */
  size_t n = hn_gctrace_format(line, HN_GCTRACE_LINE_MAX, &t);
  if (n > HN_GCTRACE_LINE_MAX - 1) n = HN_GCTRACE_LINE_MAX - 1;
  line[n++] = '\n';
  if (gctrace >= 2) {
    const int64_t parts[6] = {c->stop1_ns, c->work1_ns, c->restart1_ns,
                              c->stop2_ns, c->work2_ns, c->restart2_ns};
    size_t m = hn_gctrace_format_pauses(line + n, HN_GCTRACE_LINE_MAX, t.num, parts);
    if (m > HN_GCTRACE_LINE_MAX - 1) m = HN_GCTRACE_LINE_MAX - 1;
    n += m;
    line[n++] = '\n';
  }
  ssize_t w = write(2, line, n);
  (void)w;
}

void hn_pace_cycle_end(hn_pace_cycle_t *c) {
  pthread_mutex_lock(&pace_lock);
  uint64_t goal = __atomic_load_n(&st_goal, __ATOMIC_RELAXED);
  c->assist_ns = (int64_t)(__atomic_load_n(&st_assist_ns, __ATOMIC_RELAXED) - assist_at_mark_start);
  hn_pacer_measurements m;
  memset(&m, 0, sizeof m);
  m.now_ns = c->mark_end_ns;
  m.procs = procs;
  m.assist_time_ns = c->assist_ns;
  m.heap_live = c->heap_end;
  m.heap_scan_work = (int64_t)c->marked_scan;
  m.stack_scan_work = (int64_t)c->stacks;
  m.globals_scan_work = (int64_t)c->globals;
  m.heap_marked = c->marked;
  m.sweep_done = false;
  m.mem = mem_now(NULL);
  last_heap_in_use = __atomic_load_n(&hn_heap.span_bytes, __ATOMIC_RELAXED);
  hn_pacer_set_globals(&pacer, c->globals);
  if (pacer.marking) hn_pacer_end_cycle(&pacer, &m);
  hn_limiter_start_transition(&limiter, false, c->mark_end_ns,
                              __atomic_exchange_n(&pending_assist_ns, 0, __ATOMIC_RELAXED), 0);
  hn_limiter_finish_transition(&limiter, c->mark_end_ns + c->stw2_ns);
  __atomic_store_n(&limiting, hn_limiter_limiting(&limiter), __ATOMIC_RELAXED);
  __atomic_store_n(&st_pause_cpu_ns, st_pause_cpu_ns + (uint64_t)c->stw2_ns * (uint64_t)procs,
                   __ATOMIC_RELAXED);
  __atomic_store_n(&st_background_ns, st_background_ns + (uint64_t)c->background_ns,
                   __ATOMIC_RELAXED);
  hn_pacer_commit(&pacer, heap_live_now(), false);
  publish_locked();
  __atomic_store_n(&hn_pace_work_per_byte_fx, 0, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&pace_lock);
  if (gctrace) trace_line(c, goal);
}

/* ---- settings ---- */

static int32_t gogc_from_env(void) {
  int32_t v = HN_SETTINGS_GOGC_DEFAULT;
  char err[HN_SETTINGS_ERR_MAX];
  if (hn_settings_parse_gogc(getenv("GOGC"), &v, err, sizeof err) != 0) {
    warn("GOGC", err, "100");
    v = HN_SETTINGS_GOGC_DEFAULT;
  }
  return v;
}

static int64_t limit_from_env(void) {
  int64_t v = HN_PACER_NO_LIMIT;
  char err[HN_SETTINGS_ERR_MAX];
  if (hn_settings_parse_gomemlimit(getenv("GOMEMLIMIT"), &v, err, sizeof err) != 0) {
    warn("GOMEMLIMIT", err, "off");
    v = HN_PACER_NO_LIMIT;
  }
  return v;
}

/* HERON_GCTRACE=1, or gctrace=1 among GODEBUG's comma-separated settings;
 * HERON_GCTRACE=2 adds each pause's parts. */
static int gctrace_from_env(void) {
  const char *h = getenv("HERON_GCTRACE");
  if (h != NULL && strcmp(h, "2") == 0) return 2;
  if (h != NULL && h[0] != '\0' && strcmp(h, "0") != 0) return 1;
  const char *g = getenv("GODEBUG");
  for (const char *p = g; p != NULL && *p;) {
    if (strncmp(p, "gctrace=", 8) == 0) return p[8] != '\0' && p[8] != '0' && p[8] != ',';
    p = strchr(p, ',');
    if (p) p++;
  }
  return 0;
}

int heron_gc_set_gogc(int g) {
  pthread_mutex_lock(&pace_lock);
  int old = hn_pacer_set_gogc(&pacer, g < 0 ? HN_PACER_GOGC_OFF : g);
  hn_pacer_commit(&pacer, heap_live_now(), true);
  publish_locked();
  pthread_mutex_unlock(&pace_lock);
  return old;
}

int64_t heron_gc_set_memory_limit(int64_t limit) {
  pthread_mutex_lock(&pace_lock);
  int64_t old = hn_pacer_set_memory_limit(&pacer, limit);
  if (limit >= 0) {
    hn_pacer_commit(&pacer, heap_live_now(), true);
    publish_locked();
  }
  pthread_mutex_unlock(&pace_lock);
  return old;
}

/* ---- the scavenger ---- */

static uint64_t released_total(void) {
  hn_pageheap_stats_t st;
  mem_now(&st);
  return st.released_total;
}

/* Release free pages if the goals ask for it; returns CPU-ns spent. */
static int64_t scavenge_once(bool sync_only) {
  hn_pageheap_stats_t st;
  hn_pacer_mem mem = mem_now(&st);
  pthread_mutex_lock(&pace_lock);
  hn_scavenge_goal_in in;
  memset(&in, 0, sizeof in);
  in.memory_limit = pacer.memory_limit;
  in.heap_goal = hn_pacer_heap_goal(&pacer, &mem);
  in.last_heap_goal = pacer.last_heap_goal;
  in.last_heap_in_use = last_heap_in_use;
  in.heap_retained = st.in_use + st.free_resident;
  in.mapped_ready = mem.mapped_ready;
  in.phys_page_size = 4096;
  int64_t limit = pacer.memory_limit;
  bool lim = hn_limiter_limiting(&limiter);
  pthread_mutex_unlock(&pace_lock);
  uint64_t want;
  if (sync_only) {
    want = limit != HN_PACER_NO_LIMIT && !lim && mem.mapped_ready > (uint64_t)limit
               ? mem.mapped_ready - (uint64_t)limit
               : 0;
  } else {
    hn_scavenge_goals g = hn_scavenge_goals_compute(&in);
    want = hn_scavenge_background_remaining(&g, in.heap_retained, in.mapped_ready);
  }
  if (want == 0 || st.free_resident == 0) return 0;
  int64_t cpu0 = hn_pace_thread_cpu_ns();
  /* The page heap releases its free resident pages as a whole; the goal decides
   * when, the page heap's coalescing decides which. */
  hn_pageheap_release_all();
  int64_t cpu = hn_pace_thread_cpu_ns() - cpu0;
  __atomic_store_n(&st_scavenged, released_total() - st_scav_base, __ATOMIC_RELAXED);
  return cpu;
}

void hn_pace_sync_scavenge(void) {
  int64_t ns = scavenge_once(true);
  if (ns > 0) hn_pace_note_assist(ns);
}

/* Wakes every 10 ms when idle: often enough to follow a shrinking goal, rare enough
 * to cost nothing measurable. After releasing, sleeps as hn_scavenge_sleep_ns says,
 * so the work stays near 1 % of the CPU. */
#define SCAVENGE_IDLE_NS 10000000
static void *scavenger_main(void *arg) {
  (void)arg;
  for (;;) {
    int64_t worked = scavenge_once(false);
    int64_t sleep_ns = worked > 0 ? hn_scavenge_sleep_ns(worked, procs) : SCAVENGE_IDLE_NS;
    struct timespec ts = {sleep_ns / 1000000000, sleep_ns % 1000000000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int hn_pace_init(int cfg_gogc, int64_t cfg_limit, bool no_scavenger) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  procs = n > 0 ? (int32_t)n : 1;
  start_ns = hn_pace_now_ns();
  int32_t g = cfg_gogc != 0 ? (cfg_gogc < 0 ? HN_PACER_GOGC_OFF : cfg_gogc) : gogc_from_env();
  int64_t l = cfg_limit != 0 ? (cfg_limit < 0 ? HN_PACER_NO_LIMIT : cfg_limit) : limit_from_env();
  gctrace = gctrace_from_env();
  pthread_mutex_lock(&pace_lock);
  hn_pacer_init(&pacer, g, l);
  hn_limiter_init(&limiter, start_ns, procs);
  publish_locked();
  pthread_mutex_unlock(&pace_lock);
  st_scav_base = released_total();
  if (no_scavenger) return 0;
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int err = pthread_create(&t, &attr, scavenger_main, NULL);
  pthread_attr_destroy(&attr);
  return err;
}

void hn_pace_stats(heron_gc_stats_t *out) {
#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
  out->heap_goal = LD(st_goal);
  out->gc_cpu_assist_ns = LD(st_assist_ns);
  out->gc_cpu_background_ns = LD(st_background_ns);
  out->gc_cpu_idle_ns = 0;
  out->gc_cpu_pause_ns = LD(st_pause_cpu_ns);
  out->scavenged_bytes = LD(st_scavenged);
  out->limiter_activations = LD(limiter.activations);
  int32_t g = LD(pacer.gc_percent);
  out->gogc = g < 0 ? UINT64_MAX : (uint64_t)g;
  out->memory_limit = (uint64_t)LD(pacer.memory_limit);
#undef LD
}
