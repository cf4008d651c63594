/*
 * replay_gc.c: `gcsim --replay=gc trace.bin`: the trace run on heron's real collector,
 * on the trace's own time line, measured the way the simulation is reported, to check
 * the one against the other.
 *
 * 1. A child process per setting (the collector starts once per process and keeps its
 *    heap), forked before the collector starts; it sends its result back on a pipe.
 * 2. In the child: heron_gc_init with the GOGC (and memory limit) asked for. Every
 *    allocation event becomes heron_gc_malloc(size), a conservatively scanned object as
 *    a program's objects holding pointers would be (the trace does not say which hold
 *    pointers; scanning every byte is the costly case, and the cost model is measured
 *    on it). The replay writes a byte on each 4 KiB page of an object, as a program
 *    fills what it allocates (the trace does not say which bytes it wrote): the
 *    collector leaves a large object on pages it knows are zero unwritten (gc/heap.c,
 *    needzero), and one nothing wrote was first touched by the mark, a fault a page
 *    (calibrate fitted 0.48-0.58 ns a byte past an object's first KiB so, against
 *    0.11-0.15 with the objects written: docs/gcsim.md "Fidelity"). A realloc is a free
 *    and an allocation: the program's copy is part of the time between events, which
 *    the replay keeps (step 3).
 * 3. Time: before each event the replay waits until the event's time on the trace's time
 *    line, shifted by the pauses and the assists so far, as the simulation shifts the
 *    program (sleeping for long waits, so the collector's worker gets its share). So the
 *    collector's background worker marks while the program allocates at the program's rate,
 *    and a cycle's mark spans as many allocations as it would have in the program. Where
 *    the replay loop is slower than the program (a trace of more than a few million events
 *    a second), it falls behind; the lag is reported (hn_replay_gc_result.behind_ns).
 * 4. What keeps the objects reachable is a tree built from the objects themselves:
 *    the object in slot i of a dense array holds, in its first two words, the objects
 *    of slots 2i+1 and 2i+2 (a binary heap's layout; every object has 16 bytes, heron's
 *    smallest), and a one-word root holds slot 0. A new object takes a random slot
 *    (the object there moves to the end), and a free moves the last slot's object into
 *    the freed slot. Every pointer store goes through the write barrier. Random slots
 *    make the tree's order unrelated to the objects' addresses for every trace: kept in
 *    allocation order, a trace that frees mostly its newest objects (python-json) had
 *    its tree walked nearly in address order (its GC CPU at GOGC=50 was 2.07 %, 2.33-2.45 %
 *    with random slots: `gcsim --replay=gc --procs=2 --time-scale=8 --gogc=50` on
 *    sim/traces/python-json.trace), an order the trace cannot tell the model. So the
 *    collector sees what a program's heap would give it: scan work in the objects,
 *    spread over a tree it can mark in any order, and almost nothing in the roots (a
 *    table of every object registered as a root made each pause scan it, and counted
 *    it as globals in the pacer's goal). The replay's own stack is the program's as the
 *    collector sees it: scanned in the first pause and counted in the pacer's goal
 *    (stack scan work S: goal = M + (M + S + G) * GOGC / 100). The trace does not record
 *    the program's stack and the model counts none, so nothing large lives in gcsim's
 *    frames under the replay (the results and path buffers are on the heap). With two
 *    results on the stack (86 KB), every replay's goal at GOGC=100 was 86 KB over the
 *    model's, and sqlite's peak heap fell in its high mode far more often than the
 *    model's (docs/gcsim.md "Fidelity").
 * 5. Measured: cycles and pauses (the collector's counters); the heap (bytes of objects
 *    not yet swept, read after every event), the live heap each cycle marked; RSS from
 *    /proc/self/statm above what the process held before the replay (its own tables
 *    sized for the trace's peak and written before it, so only the collector's memory
 *    counts); GC CPU from the collector's own statistics: assists, background marking
 *    and pauses (wall time x processors), and sweeping as the sweeper thread's CPU (from
 *    its /proc/self/task clock) plus what the collector thread spent beyond marking and
 *    pauses. The scavenger thread's CPU is kept apart, as Go's GC CPU leaves it out.
 *    The processors are the collector's: the CPUs online, which its pacer plans with.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc/sizeclass.h"
#include "heron/gc.h"
#include "sim/costmodel.h"
#include "sim/gcsim.h"
#include "sim/replay.h"
#include "sim/trace_read.h"
#include "sim/objmap.h"
#include "sim/u64map.h"

/* Time between samples of RSS: a statm read costs a few microseconds, under 1 % of
 * 1 ms; a short trace still gets a hundred samples. (The heap is read after every
 * event.) */
#define GC_RSS_PERIOD_NS 1000000
/* A replay more than this fraction of the trace's duration behind its time line gets a
 * note: it no longer allocates at the program's rate. */
#define REPLAY_BEHIND_NOTE 0.05
/* A wait longer than this sleeps instead of spinning, all but its last REPLAY_SPIN_NS:
 * a spinning replay took a whole processor, and on a two-processor machine with other
 * work on it that starved the collector's worker, which then marked slower than its
 * planned share. The spin covers a sleep's overshoot (timer slack is 50 us). */
#define REPLAY_SLEEP_MIN_NS 200000
#define REPLAY_SPIN_NS 100000
/* Bytes every replayed object has: two child pointers (heron's smallest object). */
#define TREE_MIN_OBJECT 16
/* The replay writes an object once in each span of this many bytes: every page of the
 * smallest size the OS maps (step 2). */
#define REPLAY_PAGE_BYTES 4096

static uint64_t rss_bytes(void)
{
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0)
        return 0;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    unsigned long long size, res;
    if (sscanf(buf, "%llu %llu", &size, &res) != 2)
        return 0;
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The collector's threads, in the order gc/ starts them (thread ids grow in creation
 * order): the scavenger (pace.c's init), the collector, the sweeper. */
enum { TH_SCAVENGER, TH_COLLECTOR, TH_SWEEPER, TH_COUNT };

struct gc_threads {
    int n;                 /* threads found besides the caller */
    pid_t tid[TH_COUNT];
    double cpu0[TH_COUNT]; /* their CPU at the start */
};

/* A thread's CPU time in ns from /proc/self/task/TID/schedstat (nanoseconds on the
 * CPU; the clock-tick figures of stat are 10 ms coarse, longer than a short trace's
 * whole sweep time); 0 if it is gone. */
static double thread_cpu_ns(pid_t tid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    unsigned long long ns = 0;
    if (fscanf(f, "%llu", &ns) != 1)
        ns = 0;
    fclose(f);
    return (double)ns;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return x < y ? -1 : x > y;
}

/* Finds the threads the collector started (every thread but the caller). More than
 * TH_COUNT: n says so, and the caller lumps their CPU together. */
static void gc_threads_find(struct gc_threads *g)
{
    memset(g, 0, sizeof *g);
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    pid_t me = (pid_t)gettid();
    pid_t all[64];
    struct dirent *e;
    while ((e = readdir(d)) && g->n < 64) {
        pid_t t = (pid_t)atoi(e->d_name);
        if (e->d_name[0] != '.' && t != me)
            all[g->n++] = t;
    }
    closedir(d);
    qsort(all, (size_t)g->n, sizeof *all, cmp_pid);
    for (int i = 0; i < g->n && i < TH_COUNT; i++) {
        g->tid[i] = all[i];
        g->cpu0[i] = thread_cpu_ns(all[i]);
    }
}

static double gc_thread_cpu(const struct gc_threads *g, int which)
{
    return g->n > which ? thread_cpu_ns(g->tid[which]) - g->cpu0[which] : 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The objects the trace holds, as a tree the collector marks (step 4 above). The
 * arrays are malloc'd and never scanned: only the tree keeps objects alive. */
struct tree {
    hn_objmap map;   /* id + 1 -> slot */
    void **obj;      /* slot -> object */
    uint64_t *ids;   /* slot -> id */
    uint64_t *sizes; /* slot -> bytes the collector gave it (class-rounded) */
    uint64_t n, cap;
    uint64_t in_class[HN_NCLASSES]; /* objects in each small class; in 0 the large */
    uint64_t large_bytes; /* the large ones' bytes */
    void *root;      /* registered root: the object of slot 0 */
    hn_u64map pages; /* 8 KiB page + 1 -> objects held on it (a) */
    uint64_t live_pages; /* pages holding an object */
    uint64_t rng;    /* xorshift state for the slot a new object takes */
};

/* The word that points at slot i: the root, or a child word of its parent. */
static void **tree_parent_word(struct tree *t, uint64_t i)
{
    if (i == 0)
        return &t->root;
    return &((void **)t->obj[(i - 1) / 2])[(i - 1) & 1];
}

/* The bytes heron's collector gives a request of size bytes (at least 16). */
static uint64_t gc_rounded(uint64_t size)
{
    if (size <= HN_MAX_SMALL)
        return hn_class_size[hn_size_class((size_t)size)];
    return (size + HN_PAGE_SIZE - 1) / HN_PAGE_SIZE * HN_PAGE_SIZE;
}

/* One object of `rounded` bytes (gc_rounded) more (delta 1) or less (-1) in the counts
 * by class (0: large). */
static void tree_count(struct tree *t, uint64_t rounded, int delta)
{
    unsigned c = hn_size_class((size_t)rounded);
    t->in_class[c] += (uint64_t)(int64_t)delta;
    if (!c)
        t->large_bytes += (uint64_t)(int64_t)delta * rounded;
}

/* What a mark that began now would scan, as the cost model counts it. */
static hn_cost_scan tree_scan(const struct tree *t)
{
    hn_cost_scan scan = {.pages = (double)t->live_pages};
    hn_cost_scan_add_classes(&scan, t->in_class, t->large_bytes);
    return scan;
}

/* Links slot i into the tree: its parent's word points at its object, and its object's
 * two words at the objects of its children. */
static void tree_link(struct tree *t, uint64_t i)
{
    void *m = t->obj[i];
    for (uint64_t c = 0; c < 2; c++) {
        uint64_t k = 2 * i + 1 + c;
        HERON_GC_STORE(&((void **)m)[c], k < t->n ? t->obj[k] : NULL);
    }
    HERON_GC_STORE(tree_parent_word(t, i), m);
}

/* Exchanges the objects of slots i and j. */
static void tree_swap(struct tree *t, uint64_t i, uint64_t j)
{
    void *o = t->obj[i];
    t->obj[i] = t->obj[j];
    t->obj[j] = o;
    uint64_t id = t->ids[i];
    t->ids[i] = t->ids[j];
    t->ids[j] = id;
    uint64_t sz = t->sizes[i];
    t->sizes[i] = t->sizes[j];
    t->sizes[j] = sz;
    hn_objmap_find(&t->map, t->ids[i] + 1)->val = i;
    hn_objmap_find(&t->map, t->ids[j] + 1)->val = j;
    tree_link(t, i);
    tree_link(t, j);
}

/* One object more (delta 1) or less (-1) on the page of p: 0, or -1 out of memory. */
static int tree_page(struct tree *t, const void *p, int delta)
{
    uint64_t key = ((uint64_t)(uintptr_t)p >> 13) + 1;
    hn_u64map_slot *s = hn_u64map_find(&t->pages, key);
    if (delta > 0) {
        if (s) {
            s->a++;
            return 0;
        }
        t->live_pages++;
        return hn_u64map_insert(&t->pages, key, 1, 0);
    }
    if (s && --s->a == 0) {
        hn_u64map_remove_slot(&t->pages, s);
        t->live_pages--;
    }
    return 0;
}

/* Makes room for cap objects: 0, or -1 when out of memory. */
static int tree_reserve(struct tree *t, uint64_t cap)
{
    void **o = realloc(t->obj, cap * sizeof *o);
    if (!o)
        return -1;
    t->obj = o;
    uint64_t *ids = realloc(t->ids, cap * sizeof *ids);
    if (!ids)
        return -1;
    t->ids = ids;
    uint64_t *sz = realloc(t->sizes, cap * sizeof *sz);
    if (!sz)
        return -1;
    t->sizes = sz;
    t->cap = cap;
    return 0;
}

/* Sizes the tables for the most objects the trace holds at once (peak) and writes every
 * byte of them, so they are resident before the replay's RSS baseline and only the
 * collector's memory counts above it. The tables take about 80 bytes an object: grown
 * during the replay they had put python-json's replayed RSS peak at 35.5 MiB at
 * GOGC=200 (29.6 MiB without them; the model's 22.4). 0, or -1 when out of memory. */
static int tree_presize(struct tree *t, uint64_t peak)
{
    if (peak < 4096)
        peak = 4096;
    if (tree_reserve(t, peak) < 0)
        return -1;
    memset(t->obj, 0, peak * sizeof *t->obj);
    memset(t->ids, 0, peak * sizeof *t->ids);
    memset(t->sizes, 0, peak * sizeof *t->sizes);
    while ((peak + 1) * 2 > t->map.mask + 1)
        if (hn_objmap_grow(&t->map) < 0)
            return -1;
    memset(t->map.slots, 0, (t->map.mask + 1) * sizeof *t->map.slots);
    return 0;
}

static int tree_add(struct tree *t, uint64_t id, void *p, uint64_t size)
{
    if (t->n == t->cap && tree_reserve(t, t->cap * 2) < 0)
        return -1;
    if (hn_objmap_insert(&t->map, id + 1, t->n) < 0 || tree_page(t, p, 1) < 0)
        return -1;
    uint64_t i = t->n++;
    t->obj[i] = p;
    t->ids[i] = id;
    t->sizes[i] = gc_rounded(size);
    tree_count(t, t->sizes[i], 1);
    HERON_GC_STORE(tree_parent_word(t, i), p);
    t->rng ^= t->rng << 13;
    t->rng ^= t->rng >> 7;
    t->rng ^= t->rng << 17;
    uint64_t j = t->rng % t->n;
    if (j != i)
        tree_swap(t, i, j);
    return 0;
}

/* Drops the object of id: -1 if it is not held. */
static int tree_remove(struct tree *t, uint64_t id)
{
    hn_objmap_slot *s = hn_objmap_find(&t->map, id + 1);
    if (!s)
        return -1;
    uint64_t i = s->val;
    hn_objmap_remove_slot(&t->map, s);
    tree_page(t, t->obj[i], -1);
    uint64_t last = --t->n;
    tree_count(t, t->sizes[i], -1);
    /* The last slot leaves the tree (its children slots are past the end: none). */
    HERON_GC_STORE(tree_parent_word(t, last), NULL);
    if (i == last)
        return 0;
    /* It takes the freed slot: the freed slot's children become its children, and the
     * freed slot's parent points at it. */
    t->obj[i] = t->obj[last];
    t->ids[i] = t->ids[last];
    t->sizes[i] = t->sizes[last];
    hn_objmap_find(&t->map, t->ids[i] + 1)->val = i;
    tree_link(t, i);
    return 0;
}

static void tree_destroy(struct tree *t)
{
    hn_objmap_destroy(&t->map);
    hn_u64map_destroy(&t->pages);
    free(t->obj);
    free(t->ids);
    free(t->sizes);
}

/* The most objects the trace holds at once (a realloc holds one for one), read ahead
 * of the replay; a trace that cannot be read counts up to where it fails, and the
 * replay itself reports why. */
static uint64_t peak_held(const char *trace)
{
    char terr[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open(trace, terr);
    if (!r)
        return 0;
    hn_trace_event ev;
    uint64_t n = 0, peak = 0;
    while (hn_trace_next(r, &ev) > 0) {
        if (ev.kind == HN_EV_FREE)
            n -= n > 0;
        else if (ev.kind != HN_EV_REALLOC && ++n > peak)
            peak = n;
    }
    hn_trace_reader_close(r);
    return peak;
}

int hn_replay_gc_run(const char *trace, int32_t gogc, int64_t memory_limit,
                     double time_scale, hn_replay_gc_result *out, char *err)
{
    memset(out, 0, sizeof *out);
    char terr[HN_TRACE_ERR_LEN];
    hn_trace_reader *r = hn_trace_reader_open(trace, terr);
    if (!r) {
        snprintf(err, HN_REPORT_ERR_LEN, "%s", terr);
        return -1;
    }
    struct tree tree = {.rng = 0x9e3779b97f4a7c15};
    if (hn_objmap_init(&tree.map) < 0 || hn_u64map_init(&tree.pages) < 0 ||
        tree_presize(&tree, peak_held(trace)) < 0) {
        snprintf(err, HN_REPORT_ERR_LEN, "out of memory");
        hn_trace_reader_close(r);
        tree_destroy(&tree);
        return -1;
    }
    heron_gc_config_t cfg = {0};
    cfg.gogc = gogc < 0 ? -1 : gogc == 0 ? 1 : gogc;
    cfg.flags = HERON_GC_FINALIZE_EXPLICIT;
    cfg.memory_limit = memory_limit == INT64_MAX ? -1 : memory_limit;
    int e = heron_gc_init(&cfg);
    if (e == 0)
        e = heron_gc_add_root(&tree.root, sizeof tree.root);
    if (e != 0) {
        snprintf(err, HN_REPORT_ERR_LEN, "the collector did not start: %s", strerror(e));
        hn_trace_reader_close(r);
        tree_destroy(&tree);
        return -1;
    }
    double scale = time_scale > 0 ? time_scale : 1;
    struct timespec began;
    clock_gettime(CLOCK_REALTIME, &began);
    out->start_unix = (double)began.tv_sec + (double)began.tv_nsec / 1e9;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int32_t p = ncpu > 0 ? (int32_t)ncpu : 1;
    uint64_t rss0 = rss_bytes();
    struct gc_threads threads;
    gc_threads_find(&threads);
    hn_summary *u = &out->sum;
    heron_gc_stats_t st, st0;
    heron_gc_stats_get(&st0);
    st = st0;
    uint64_t cycles = st.cycles, sampled_cycle = st.cycles;
    /* held when the mark began */
    hn_cost_scan scan = {0}; /* and the heap then, garbage included */
    double scan_goal = 0; /* the collector's heap goal then */
    /* The collector's counters when the last cycle ended, for its per-cycle sample. */
    heron_gc_stats_t at_cycle = st0;
    double heap_area = 0, rss_area = 0;
    uint64_t last_heap = st.heap_in_use, last_rss = 0;
    int64_t t_first = -1, w_first = 0, w_prev = 0, w_last = 0, next_rss = 0;
    hn_trace_event ev = {0};
    int rc;
    uint64_t n = 0;
    int status = 0;
    while ((rc = hn_trace_next(r, &ev)) > 0) {
        /* When this event is due: its trace time, shifted by what the collector took
         * from this thread so far (pauses, assists). Spin until then. */
        int64_t now = mono_ns();
        if (t_first < 0) {
            t_first = (int64_t)ev.time_ns;
            w_first = w_prev = now;
        }
        int64_t due = w_first + (int64_t)((double)((int64_t)ev.time_ns - t_first) * scale) +
                      (int64_t)(st.pause_total_ns - st0.pause_total_ns) +
                      (int64_t)(st.gc_cpu_assist_ns - st0.gc_cpu_assist_ns);
        if (now < due) {
            /* Waiting for the time stamp is a blocking region: the program was busy
             * here and would have stopped for a pause at its next allocation, within
             * the microsecond between two; the replay, asleep or spinning, would have
             * been signalled after the collector's safepoint wait (gc/threads.c), and
             * its pauses had come out two to three times the simulation's. */
            heron_gc_blocking_begin();
            if (due - now > REPLAY_SLEEP_MIN_NS) {
                /* Far ahead: sleep, leaving the processor to the collector's worker
                 * (and to the machine's other work); spin the last stretch, which a
                 * sleep would overshoot. */
                int64_t ns = due - now - REPLAY_SPIN_NS;
                struct timespec ts = {ns / 1000000000, ns % 1000000000};
                nanosleep(&ts, NULL);
                now = mono_ns();
            }
            while (now < due)
                now = mono_ns();
            heron_gc_blocking_end();
        }
        if ((double)(now - due) > u->behind_ns)
            u->behind_ns = (double)(now - due);
        if (ev.kind == HN_EV_FREE || ev.kind == HN_EV_REALLOC) {
            uint64_t id = ev.kind == HN_EV_FREE ? ev.id : ev.old_id;
            if (tree_remove(&tree, id) < 0) {
                snprintf(err, HN_REPORT_ERR_LEN, "%s: event %" PRIu64 ": object %" PRIu64
                         " is not live", trace, n, id);
                status = -1;
                break;
            }
        }
        if (ev.kind != HN_EV_FREE) {
            size_t size = ev.size < TREE_MIN_OBJECT ? TREE_MIN_OBJECT : (size_t)ev.size;
            void *obj = heron_gc_malloc(size);
            if (!obj) {
                snprintf(err, HN_REPORT_ERR_LEN, "%s: event %" PRIu64 ": the collector "
                         "refused %" PRIu64 " bytes", trace, n, ev.size);
                status = -1;
                break;
            }
            /* The program fills what it allocates (step 2): a write on each page faults
             * in what the collector left unwritten; the bytes are zero already. */
            for (size_t off = 0; off < size; off += REPLAY_PAGE_BYTES)
                ((volatile char *)obj)[off] = 0;
            ((volatile char *)obj)[size - 1] = 0; /* the last page, the object unaligned */
            if (tree_add(&tree, ev.id, obj, size) < 0) {
                snprintf(err, HN_REPORT_ERR_LEN, "out of memory");
                status = -1;
                break;
            }
        }
        heron_gc_stats_get(&st);
        /* After the counts: a cycle that starts between the two reads is sampled now,
         * one that ends between them was sampled when it began. */
        int marking = __atomic_load_n(&heron_gc_barrier_on, __ATOMIC_ACQUIRE);
        /* Marking began for a cycle not sampled yet (its first pause is over): the
         * objects held now are what it scans (those allocated later are black). A whole
         * cycle can pass during one event (the replay sleeps while the worker marks), so
         * one that ended unsampled is sampled now. (The count of pauses cannot tell: a
         * mark resume adds one.) */
        uint64_t this_cycle = marking ? st.cycles + 1 : st.cycles;
        if (sampled_cycle < this_cycle) {
            scan = tree_scan(&tree);
            scan.heap = (double)st.heap_in_use;
            scan_goal = (double)st.heap_goal;
            sampled_cycle = this_cycle;
        }
        if (st.cycles != cycles) {
            uint64_t k = st.cycles - cycles;
            out->spans_sum += (double)st.spans * (double)k;
            if (k == 1 && out->nsamples < HN_REPLAY_CYCLE_SAMPLES)
                out->samples[out->nsamples++] = (hn_replay_cycle_sample){
                    .pause_ns = (double)(st.pause_total_ns - at_cycle.pause_total_ns),
                    .mark_cpu_ns = (double)(st.gc_cpu_background_ns -
                                            at_cycle.gc_cpu_background_ns) +
                                   (double)(st.gc_cpu_assist_ns - at_cycle.gc_cpu_assist_ns),
                    .scan = scan,
                    .goal = scan_goal,
                    .live = (double)st.heap_live,
                };
            u->live_mean += (double)st.heap_live * (double)k;
            if ((double)st.heap_live > u->live_peak)
                u->live_peak = (double)st.heap_live;
            cycles = st.cycles;
            at_cycle = st;
        }
        double dt = (double)(now - w_prev);
        heap_area += (double)last_heap * dt;
        rss_area += (double)last_rss * dt;
        w_prev = now;
        w_last = now;
        last_heap = st.heap_in_use;
        if ((double)last_heap > u->heap_peak)
            u->heap_peak = (double)last_heap;
        n++;
        if (now >= next_rss) {
            next_rss = now + GC_RSS_PERIOD_NS;
            uint64_t rss = rss_bytes();
            last_rss = rss > rss0 ? rss - rss0 : 0;
            if ((double)last_rss > u->rss_peak)
                u->rss_peak = (double)last_rss;
        }
    }
    if (status == 0 && rc < 0) {
        snprintf(err, HN_REPORT_ERR_LEN, "%s", hn_trace_reader_error(r));
        status = -1;
    }
    hn_trace_reader_close(r);
    heron_gc_remove_root(&tree.root);
    tree_destroy(&tree);
    if (status < 0)
        return -1;
    heron_gc_stats_get(&st);
    u->cycles = (double)(st.cycles - st0.cycles);
    u->pauses = (double)(st.pauses - st0.pauses);
    u->pause_total_ns = (double)(st.pause_total_ns - st0.pause_total_ns);
    u->pause_max_ns = (double)st.pause_max_ns;
    u->events = (double)n;
    u->live_mean = u->cycles > 0 ? u->live_mean / u->cycles : 0;
    u->limiter_ns = 0;
    u->released_bytes = (double)(st.scavenged_bytes - st0.scavenged_bytes);
    double wall = (double)(w_last - w_first);
    u->wall_ns = wall;
    u->heap_mean = wall > 0 ? heap_area / wall : (double)st.heap_in_use;
    u->rss_mean = wall > 0 ? rss_area / wall : 0;
    u->assist_cpu_ns = (double)(st.gc_cpu_assist_ns - st0.gc_cpu_assist_ns);
    u->background_cpu_ns = (double)(st.gc_cpu_background_ns - st0.gc_cpu_background_ns);
    u->pause_cpu_ns = (double)(st.gc_cpu_pause_ns - st0.gc_cpu_pause_ns);
    /* Sweeping: the sweeper thread's CPU, and the collector thread's beyond background
     * marking and the pauses (whose wall time it spends stopping and marking). The
     * scavenger's is not GC CPU (nor is it in Go's): it goes apart. */
    double coll = gc_thread_cpu(&threads, TH_COLLECTOR) - u->background_cpu_ns -
                  u->pause_total_ns;
    u->sweep_cpu_ns = gc_thread_cpu(&threads, TH_SWEEPER) + (coll > 0 ? coll : 0);
    if (threads.n != TH_COUNT)
        fprintf(stderr, "gcsim: note: --replay=gc: the collector runs %d threads, not the "
                "%d expected; their CPU is not told apart\n", threads.n, TH_COUNT);
    u->gc_cpu_ns = u->assist_cpu_ns + u->background_cpu_ns + u->pause_cpu_ns + u->sweep_cpu_ns;
    u->total_cpu_ns = wall * p;
    out->procs = p;
    out->trace_ns = t_first >= 0 ? (double)((int64_t)ev.time_ns - t_first) * scale : 0;
    return 0;
}

/* Runs hn_replay_gc_run in a child: 0, or 1 with the message printed. */
int hn_replay_gc_measure(const char *trace, int32_t gogc, int64_t memory_limit,
                         double time_scale, hn_replay_gc_result *out)
{
    int fd;
    pid_t pid = hn_gcsim_fork_piped(&fd);
    if (pid < 0)
        return 1;
    if (pid == 0) {
        /* The result goes into the child's copy of *out, not onto its stack (replay_gc.c,
         * step 4: the collector scans this stack as the program's). */
        char err[HN_REPORT_ERR_LEN];
        int rc = hn_replay_gc_run(trace, gogc, memory_limit, time_scale, out, err);
        if (rc < 0) {
            hn_gcsim_error("--replay=gc: %s", err);
            _exit(1);
        }
        ssize_t w = write(fd, out, sizeof *out);
        _exit(w == (ssize_t)sizeof *out ? 0 : 1);
    }
    ssize_t got = 0;
    while (got < (ssize_t)sizeof *out) {
        ssize_t k = read(fd, (char *)out + got, sizeof *out - (size_t)got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += k;
    }
    close(fd);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(status)) {
        hn_gcsim_error("--replay=gc: the replay died of signal %d", WTERMSIG(status));
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got != (ssize_t)sizeof *out)
        return 1; /* the child printed why */
    return 0;
}

void hn_replay_cycles_header(FILE *f)
{
    fputs("run,start_unix,cycle,pause_ns,mark_cpu_ns,scanned,streamed,objects,heap,pages,"
          "model_mark_ns,goal,live", f);
    for (int k = 0; k < HN_COST_KNOTS; k++)
        fprintf(f, ",at_%.0f", hn_cost_knot_bytes[k]);
    fputc('\n', f);
}

void hn_replay_cycles_write(FILE *f, const char *run, const hn_replay_gc_result *res,
                            const hn_cost *cost)
{
    for (uint32_t k = 0; k < res->nsamples; k++) {
        const hn_replay_cycle_sample *c = &res->samples[k];
        const hn_cost_scan *sc = &c->scan;
        fputc('"', f); /* CSV quoting: a trace's path may hold commas */
        for (const char *q = run; *q; q++) {
            if (*q == '"')
                fputc('"', f);
            fputc(*q, f);
        }
        fprintf(f, "\",%.3f,%" PRIu32 ",%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f",
                res->start_unix, k + 1, c->pause_ns, c->mark_cpu_ns, sc->bytes, sc->streamed,
                sc->objects, sc->heap, sc->pages, hn_cost_mark_ns(cost, sc), c->goal, c->live);
        for (int j = 0; j < HN_COST_KNOTS; j++)
            fprintf(f, ",%.1f", sc->at[j]);
        fputc('\n', f);
    }
}

int hn_replay_gc(const char *trace, int32_t gogc, int64_t memory_limit, double time_scale,
                 hn_run *run, FILE *cycles, const hn_cost *cost)
{
    /* On the heap, as the cycles' run name below: this frame is under the replay's
     * stack, which the collector scans (step 4). */
    hn_replay_gc_result *res = malloc(sizeof *res);
    if (!res) {
        hn_gcsim_error("out of memory");
        return 1;
    }
    if (hn_replay_gc_measure(trace, gogc, memory_limit, time_scale, res) != 0) {
        free(res);
        return 1;
    }
    memset(run, 0, sizeof *run);
    if (gogc < 0)
        snprintf(run->label, sizeof run->label, "gc GOGC=off");
    else
        snprintf(run->label, sizeof run->label, "gc GOGC=%" PRId32, gogc);
    snprintf(run->setting, sizeof run->setting, "replay on heron's collector, %s",
             run->label + 3);
    run->gogc = gogc;
    run->memory_limit = memory_limit;
    run->procs = res->procs;
    run->replay = true;
    run->sum = res->sum;
    int rc = 0;
    if (cycles) {
        size_t len = strlen(trace) + sizeof run->label + 2;
        char *name = malloc(len);
        if (name) {
            snprintf(name, len, "%s %s", trace, run->label + 3);
            hn_replay_cycles_write(cycles, name, res, cost);
            free(name);
        } else {
            hn_gcsim_error("out of memory");
            rc = 1;
        }
    }
    /* A replay that fell far behind the trace ran a slower program than the trace's:
     * its figures are still the collector's, but not for the same allocation rate. */
    if (res->trace_ns > 0 && res->sum.behind_ns > REPLAY_BEHIND_NOTE * res->trace_ns)
        fprintf(stderr, "gcsim: note: --replay=gc %s: the replay fell %.1f ms behind the "
                "trace's %.1f ms (the loop is slower than the program was; "
                "--time-scale slows both)\n", run->label + 3, res->sum.behind_ns / 1e6,
                res->trace_ns / 1e6);
    free(res);
    return rc;
}
