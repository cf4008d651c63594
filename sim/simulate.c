/*
 * simulate.c: the collector modelled over a trace's time line.
 *
 * The trace says when the program allocated and freed each object. The model assumes
 * the program were collected instead: a freed object is garbage, which stays in the
 * heap until the sweep after the next mark, since that mark is what finds it
 * unreachable. Objects are counted at their size class's size (alloc/sizeclass.h),
 * large ones in whole pages. The cycle follows Go's, with gc/'s pacer deciding:
 *
 *   1. Between cycles, each allocation raises the heap (Go's heapLive); when it reaches
 *      the pacer's trigger, a cycle starts.
 *   2. Sweep termination: a pause of half the cost model's fixed cost. The garbage
 *      freed so far is "condemned": this mark will not reach it.
 *   3. Mark: the objects the program still holds are the scan work. Background
 *      workers scan at the pacer's worker plan (25 % of the processors) for what the
 *      cost model charges the objects held, by their sizes (mark_ns_per_streamed_byte
 *      past an object's first KiB), and mark_ns_per_page per page holding one
 *      (sim/placement.h: where the allocator put them), an effective cost per byte
 *      of this mark's work; an allocating thread that runs
 *      out of credit asks the pacer's assist plan what it owes and scans it itself,
 *      which stretches the program's time line. Objects freed during the mark were
 *      reachable when it began (the snapshot barrier) and objects allocated during it
 *      are black: both survive until the next cycle.
 *   4. Mark termination: the second half of the fixed pause. The pacer's end_cycle
 *      gets what was measured (cons/mark, marked heap), and the next goal and trigger
 *      follow from it.
 *   5. Sweep: condemned objects leave the heap, empty spans become free pages
 *      (sim/model_heap.h). Sweeping costs sweep_ns_per_span per span in use; it runs
 *      beside the program (Go's background and lazy sweeping), so it takes CPU but no
 *      wall time.
 * Around the cycle, the CPU limiter sees every pause, the background share while
 * marking, and assist time, every 10 ms of model time, and when it limits, assists are
 * skipped. The scavenger's goals are recomputed at each cycle's end; the background
 * scavenger releases free pages at its 1 % CPU rate toward them, and an allocation
 * that grows the heap over the memory limit releases the difference at once.
 *
 * Where heron's collector (gc/) is not Go's, the model follows heron's, since
 * `--replay=gc` checks the model against it:
 *   - one background mark worker: its share is the pacer's worker plan, at most one
 *     processor, taken as heron's worker takes it: full-speed slices and sleeps
 *     between them (gc/duty.h, sim/bg_worker.h);
 *   - assists scan all they owe themselves: heron keeps no pool of background credit
 *     to steal from;
 *   - objects under 16 bytes take 16 (heron's smallest object, for 16-byte alignment);
 *   - each trace thread allocates small objects through a thread cache: a refill puts
 *     HN_GCTCACHE_N objects of the class (a span's worth, if fewer) into the heap at
 *     once, and the ones not allocated yet stay heap, marked, until they are (Go counts
 *     a cached span's free slots in its heap the same way). Without it the model's
 *     heap trailed the replays' by 1-4 %, its first goals came out lower, and sqlite
 *     ran a cycle more at GOGC 100 and 200.
 * As in both, the pacer's commit at mark termination is told sweeping is not done, so
 * the next trigger is at least 1 MiB above the marked heap (the sweeper's runway).
 *
 * Time: model time = trace time + pauses + assist time so far. The available CPU is
 * model wall time * procs; GC CPU % is GC CPU over that, as in Go's gctrace.
 */
#include "sim/simulate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gc/gctcache.h"
#include "gc/gctrace.h"

/* The physical page the scavenger releases in. */
#define SIM_PHYS_PAGE 4096u
/* heron's collector has one background mark worker thread (sim/bg_worker.h). */
#define HN_SIM_BG_WORKERS 1.0
/* heron's smallest object: class 1 (8 bytes) would break 16-byte alignment. */
#define HN_SIM_MIN_OBJECT 16u

static hn_pacer_mem mem_now(const hn_sim *s)
{
    hn_pacer_mem m;
    m.mapped_ready = hn_model_heap_rss(&s->heap);
    m.heap_free = s->heap.free * HN_MODEL_PAGE;
    m.heap_alloc = s->heap_bytes;
    return m;
}

static void refresh_trigger(hn_sim *s)
{
    hn_pacer_mem m = mem_now(s);
    hn_pacer_trigger_out t = hn_pacer_trigger(&s->pacer, &m);
    s->trigger = t.goal == UINT64_MAX ? UINT64_MAX : t.trigger;
    /* Under a memory limit the goal moves with the page heap between cycles: the goal
     * reported (gctrace, series) is the one this trigger was computed for. */
    s->goal = t.goal;
    s->trigger_stale = false;
}

int hn_sim_init(hn_sim *s, const hn_sim_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->procs = cfg->procs > 0 ? cfg->procs : 1;
    s->procs_wanted = s->procs;
    hn_pacer_init(&s->pacer, cfg->gogc, cfg->memory_limit);
    hn_limiter_init(&s->limiter, 0, s->procs);
    s->scav.gc_percent_goal = HN_SCAVENGE_NONE;
    s->scav.memory_limit_goal = HN_SCAVENGE_NONE;
    if (hn_objmap_init(&s->objects) < 0)
        return -1;
    hn_placement_init(&s->place);
    s->place.keep_garbage =
        !(cfg->gogc == HN_PACER_GOGC_OFF && cfg->memory_limit == HN_PACER_NO_LIMIT);
    if (cfg->series && hn_series_init(&s->series) < 0) {
        hn_objmap_destroy(&s->objects);
        return -1;
    }
    refresh_trigger(s);
    s->next_check = INT64_MAX;
    return 0;
}

void hn_sim_destroy(hn_sim *s)
{
    free(s->cached);
    hn_objmap_destroy(&s->objects);
    hn_placement_destroy(&s->place);
    hn_series_destroy(&s->series);
}

static void note(hn_sim *s)
{
    if (s->cfg.series)
        hn_series_note(&s->series, s->now, s->heap_bytes, hn_model_heap_rss(&s->heap),
                       s->goal, s->pacer.heap_marked);
}

/* Time-weighted sums up to model time t. */
static inline void integrate(hn_sim *s, int64_t t)
{
    double dt = (double)(t - s->last_area_t);
    s->heap_area += (double)s->heap_bytes * dt;
    s->rss_area += (double)hn_model_heap_rss(&s->heap) * dt;
    s->cpu_area += (double)s->procs * dt;
    s->last_area_t = t;
}

static void pause(hn_sim *s, int64_t ns)
{
    integrate(s, s->now);
    s->now += ns;
    s->shift += ns;
    s->sum.pauses++;
    s->sum.pause_total_ns += (double)ns;
    if ((double)ns > s->sum.pause_max_ns)
        s->sum.pause_max_ns = (double)ns;
    s->sum.pause_cpu_ns += (double)ns * s->procs;
}

/* Background marking from mark_progress_t up to t, the worker at `speed` of a processor
 * while it runs. */
static void progress_at(hn_sim *s, int64_t t, double speed)
{
    if (t <= s->mark_progress_t)
        return;
    double cpu = hn_bg_worker_run(&s->worker, t, speed);
    double work = s->mark_ns_per_byte > 0 ? cpu / s->mark_ns_per_byte
                                                   : s->scan_total;
    s->scan_done += work;
    s->bg_ns_cycle += cpu;
    s->sum.background_cpu_ns += cpu;
    s->mark_progress_t = t;
}

static void progress(hn_sim *s, int64_t t)
{
    progress_at(s, t, 1.0);
}

/* When background marking alone would finish the scan work. */
static int64_t mark_done_time(const hn_sim *s)
{
    double left = s->scan_total - s->scan_done;
    if (left <= 0)
        return s->mark_progress_t;
    return hn_bg_worker_time_for(&s->worker, left * s->mark_ns_per_byte) + 1;
}

static int64_t next_check_time(const hn_sim *s)
{
    int64_t t = s->limiter.last_update_ns + HN_LIMITER_UPDATE_PERIOD_NS + 1;
    if (s->marking && s->mark_done_at < t)
        t = s->mark_done_at;
    return t;
}

static hn_pacer_revise_in revise_in(const hn_sim *s)
{
    hn_pacer_revise_in in = {0};
    in.heap_live = s->heap_bytes;
    in.heap_scan = s->heap_bytes;
    in.scan_work_done = (int64_t)s->scan_done;
    in.mem = mem_now(s);
    return in;
}

static int finish_cycle(hn_sim *s, int64_t t);

static void start_cycle(hn_sim *s)
{
    s->cycle_start = s->now;
    s->heap_at_trigger = s->heap_bytes;
    s->goal_at_start = s->goal;
    hn_limiter_start_transition(&s->limiter, true, s->now, (int64_t)s->assist_ns_window, 0);
    s->assist_ns_window = 0;
    int64_t p1 = (int64_t)(s->cfg.cost.pause_ns / 2);
    pause(s, p1);
    s->pause_cycle = p1;
    hn_limiter_finish_transition(&s->limiter, s->now);

    s->condemned = s->pending;
    memset(&s->pending, 0, sizeof s->pending);
    hn_placement_cycle_start(&s->place);
    s->scan_total = (double)s->live_bytes;
    /* The pacer counts scan work in bytes: the mark's cost (costmodel.h) over its bytes
     * is a cost per byte at this mark's mix of bytes, objects and pages. */
    s->mark_ns_per_byte = 0; /* nothing held: nothing to mark */
    if (s->live_bytes > 0) {
        hn_cost_scan scan = {.heap = (double)s->heap_bytes,
                             .pages = (double)s->place.live_pages};
        hn_cost_scan_add_classes(&scan, s->live_in_class, s->live_large_bytes);
        s->mark_ns_per_byte = hn_cost_mark_ns(&s->cfg.cost, &scan) / (double)s->live_bytes;
    }
    s->scan_done = 0;
    s->alloc_credit = 0;
    s->assist_ns_cycle = 0;
    s->bg_ns_cycle = 0;
    s->marking = true;
    s->mark_start = s->now;
    s->mark_progress_t = s->now;

    hn_pacer_revise_in in = revise_in(s);
    hn_pacer_workers w = hn_pacer_start_cycle(&s->pacer, s->now, s->procs, &in);
    /* heron's one worker thread: the plan's share, at most one processor. */
    double bg_cpus = (double)w.dedicated + w.fractional * s->procs;
    if (bg_cpus > HN_SIM_BG_WORKERS)
        bg_cpus = HN_SIM_BG_WORKERS;
    if (bg_cpus <= 0)
        bg_cpus = HN_PACER_BG_UTILIZATION;
    hn_bg_worker_start(&s->worker, s->now, bg_cpus);
    s->mark_done_at = mark_done_time(s);
    s->next_check = next_check_time(s);
    if (s->cfg.series)
        hn_series_mark_cycle(&s->series, s->cycle_start);
    note(s);
}

static void gctrace_line(hn_sim *s, int64_t mark_end, uint64_t heap_end, uint64_t marked)
{
    hn_gctrace_cycle c = {0};
    c.num = (uint64_t)s->sum.cycles;
    c.since_start_ns = s->cycle_start - s->start;
    double avail = s->cpu_area + (double)(s->now - s->last_area_t) * s->procs;
    double gc = s->sum.pause_cpu_ns + s->sum.background_cpu_ns + s->sum.assist_cpu_ns +
                s->sum.sweep_cpu_ns;
    c.gc_cpu_fraction = avail > 0 ? gc / avail : 0;
    c.stw1_ns = s->pause_cycle;
    c.mark_ns = mark_end - s->mark_start;
    c.stw2_ns = s->now - mark_end;
    c.stw1_cpu_ns = c.stw1_ns * s->procs;
    c.assist_cpu_ns = (int64_t)s->assist_ns_cycle;
    c.background_cpu_ns = (int64_t)s->bg_ns_cycle;
    c.stw2_cpu_ns = c.stw2_ns * s->procs;
    c.heap_start = s->heap_at_trigger;
    c.heap_end = heap_end;
    c.heap_marked = marked;
    c.heap_goal = s->goal_at_start;
    c.procs = s->procs;
    char line[HN_GCTRACE_LINE_MAX];
    hn_gctrace_format(line, sizeof line, &c);
    fprintf(s->cfg.gctrace, "%s\n", line);
}

/* 0, or -1 (errno ENOMEM). */
static int sweep(hn_sim *s)
{
    double spans = (double)hn_model_heap_span_count(&s->heap);
    s->sum.sweep_cpu_ns += spans * s->cfg.cost.sweep_ns_per_span;
    for (unsigned c = 1; c < HN_NCLASSES; c++) {
        uint32_t n = s->place.cls[c].gen[HN_GEN_CONDEMNED].n;
        if (n)
            hn_model_heap_sweep_small(&s->heap, c, n);
    }
    if (s->condemned.large)
        hn_model_heap_sweep_large(&s->heap, s->condemned.large, s->condemned.large_pages);
    s->heap_bytes -= s->condemned.bytes;
    memset(&s->condemned, 0, sizeof s->condemned);
    /* The condemned slots become free; what this mark kept only because it was freed
     * too late dies at the next one. */
    if (hn_placement_sweep(&s->place) < 0)
        return -1;
    s->pending.large += s->survivor.large;
    s->pending.large_pages += s->survivor.large_pages;
    s->pending.bytes += s->survivor.bytes;
    memset(&s->survivor, 0, sizeof s->survivor);
    return 0;
}

/* in_use_pages: the pages of spans in use at mark termination, before the sweep
 * (Go's heapInUse when gcPaceScavenger runs). */
static void update_scavenger(hn_sim *s, uint64_t in_use_pages)
{
    hn_scavenge_goal_in in = {0};
    in.memory_limit = s->cfg.memory_limit;
    in.heap_goal = s->goal;
    in.last_heap_goal = s->pacer.last_heap_goal;
    in.last_heap_in_use = in_use_pages * HN_MODEL_PAGE;
    in.heap_retained = hn_model_heap_rss(&s->heap);
    in.mapped_ready = hn_model_heap_rss(&s->heap);
    in.phys_page_size = SIM_PHYS_PAGE;
    s->scav = hn_scavenge_goals_compute(&in);
}

/* Mark done at model time t (>= the last event): mark termination, then sweep. */
static int finish_cycle(hn_sim *s, int64_t t)
{
    progress(s, t);
    integrate(s, s->now);
    s->now = t;
    uint64_t heap_end = s->heap_bytes;
    uint64_t marked = s->heap_bytes - s->condemned.bytes;
    hn_limiter_start_transition(&s->limiter, false, s->now, (int64_t)s->assist_ns_window, 0);
    s->assist_ns_window = 0;
    int64_t p2 = (int64_t)(s->cfg.cost.pause_ns / 2);
    pause(s, p2); /* counted even when the cost model makes it free */
    hn_limiter_finish_transition(&s->limiter, s->now);
    s->marking = false;

    hn_pacer_measurements m = {0};
    m.now_ns = t;
    m.procs = s->procs;
    m.assist_time_ns = (int64_t)s->assist_ns_cycle;
    m.heap_live = heap_end;
    m.heap_scan_work = (int64_t)s->scan_total;
    m.heap_marked = marked;
    /* Sweeping starts now and runs beside the program (Go's and heron's commit at
     * mark termination says so): the next trigger keeps the sweeper's 1 MiB. */
    m.sweep_done = false;
    m.mem = mem_now(s);
    hn_pacer_end_cycle(&s->pacer, &m);

    s->sum.cycles++;
    s->live_sum += (double)marked;
    if ((double)marked > s->sum.live_peak)
        s->sum.live_peak = (double)marked;
    if (s->cfg.gctrace)
        gctrace_line(s, t, heap_end, marked);

    uint64_t rss_before = hn_model_heap_rss(&s->heap);
    uint64_t in_use_pages = s->heap.in_use;
    if (sweep(s) < 0)
        return -1;
    refresh_trigger(s);
    hn_pacer_mem mem = mem_now(s);
    s->goal = hn_pacer_heap_goal(&s->pacer, &mem);
    update_scavenger(s, in_use_pages);
    note(s);
    if (s->cfg.series) {
        hn_series_cycle c = {
            .num = (uint64_t)s->sum.cycles, .start = s->cycle_start - s->start,
            .mark_end = t - s->start, .end = s->now - s->start,
            .heap_start = s->heap_at_trigger, .heap_end = heap_end, .live = marked,
            .goal = s->goal_at_start, .rss = rss_before,
            .pause_ns = s->pause_cycle + p2, .assist_ns = s->assist_ns_cycle,
            .background_ns = s->bg_ns_cycle,
        };
        if (hn_series_add_cycle(&s->series, &c) < 0)
            return -1;
    }
    s->next_check = next_check_time(s);
    return 0;
}

/* Things due by model time t: the end of marking, limiter updates, the scavenger. */
static int time_step(hn_sim *s, int64_t t)
{
    if (s->marking && s->mark_done_at <= t) {
        if (finish_cycle(s, s->mark_done_at) < 0)
            return -1;
        return 0; /* the caller recomputes t: the pause moved it */
    }
    if (s->marking)
        progress(s, t);
    if (hn_limiter_need_update(&s->limiter, t)) {
        int64_t dt = t - s->limiter.last_update_ns;
        hn_limiter_update(&s->limiter, t, (int64_t)s->assist_ns_window, 0);
        s->assist_ns_window = 0;
        uint64_t owed = hn_scavenge_background_remaining(&s->scav, hn_model_heap_rss(&s->heap),
                                                         hn_model_heap_rss(&s->heap));
        if (owed && s->heap.free) {
            uint64_t can = hn_scavenge_rate_bytes(dt, s->procs, 0, SIM_PHYS_PAGE);
            integrate(s, t);
            s->sum.released_bytes +=
                (double)hn_model_heap_release(&s->heap, owed < can ? owed : can);
            if (s->cfg.memory_limit != HN_PACER_NO_LIMIT)
                s->trigger_stale = true;
        }
    }
    s->next_check = next_check_time(s);
    return 0;
}

/* The heap grew by `pages`: synchronous scavenging (memory limit, GOGC retain goal). */
static void grew(hn_sim *s, uint64_t pages)
{
    if (s->cfg.memory_limit != HN_PACER_NO_LIMIT)
        s->trigger_stale = true;
    if (s->cfg.memory_limit == HN_PACER_NO_LIMIT && s->scav.gc_percent_goal == HN_SCAVENGE_NONE)
        return;
    uint64_t rss = hn_model_heap_rss(&s->heap);
    hn_scavenge_sync_in in = {0};
    in.memory_limit = s->cfg.memory_limit;
    in.limiting = hn_limiter_limiting(&s->limiter);
    in.scav_bytes = s->heap.faulted * HN_MODEL_PAGE;
    in.mapped_ready = rss - in.scav_bytes;
    in.gc_percent_goal = s->scav.gc_percent_goal;
    in.growth = pages * HN_MODEL_PAGE;
    in.heap_retained = rss - in.growth;
    hn_scavenge_sync r = hn_scavenge_sync_amount(&in);
    if (r.bytes && s->heap.free)
        s->sum.released_bytes += (double)hn_model_heap_release(&s->heap, r.bytes);
}

/* An allocation while marking: pay for it with credit or an assist of one's own (heron's
 * assists do not steal background credit, unlike Go's). */
static int assist(hn_sim *s, uint64_t bytes)
{
    s->alloc_credit -= (int64_t)bytes;
    if (s->alloc_credit >= 0)
        return 0;
    progress(s, s->now);
    /* Go's assists report their time and update the limiter when its period is up.
     * The model's assists are coarser (one per debt, not per 64 KiB), so it also
     * updates when the assist time since the last update could have filled the
     * bucket: otherwise one window of assists could run past a full bucket. */
    if (hn_limiter_need_update(&s->limiter, s->now) ||
        (s->assist_ns_window > 0 &&
         s->assist_ns_window >= (double)(s->limiter.capacity - s->limiter.fill))) {
        hn_limiter_update(&s->limiter, s->now, (int64_t)s->assist_ns_window, 0);
        s->assist_ns_window = 0;
    }
    hn_pacer_revise_in in = revise_in(s);
    hn_pacer_revise(&s->pacer, &in);
    hn_pacer_assist a = hn_pacer_assist_plan(&s->pacer, -s->alloc_credit, 0,
                                             hn_limiter_limiting(&s->limiter));
    if (a.skipped) {
        /* The limiter forgives the debt: Go's assist returns without working. */
        s->alloc_credit = 0;
        return 0;
    }
    s->alloc_credit += a.paid_bytes;
    if (a.scan_work > 0) {
        double left = s->scan_total - s->scan_done;
        double work = (double)a.scan_work < left ? (double)a.scan_work : left;
        /* No more than the limiter's bucket has room for: Go's assists are many small
         * ones, each asking the limiter first; one big one in the model must not run
         * past the point where the bucket fills and the limiter would refuse. */
        double room = (double)(s->limiter.capacity - s->limiter.fill) - s->assist_ns_window;
        if (s->mark_ns_per_byte > 0 && work * s->mark_ns_per_byte > room)
            work = room / s->mark_ns_per_byte + HN_PACER_OVER_ASSIST_WORK;
        if (work < 0)
            work = 0;
        double ns = work * s->mark_ns_per_byte;
        s->scan_done += work;
        s->assist_ns_cycle += ns;
        s->assist_ns_window += ns;
        s->sum.assist_cpu_ns += ns;
        progress(s, s->now);
        integrate(s, s->now);
        s->now += (int64_t)ns;
        s->shift += (int64_t)ns;
        /* While this thread assists, the worker keeps only the processors it leaves:
         * none at all with one processor (Go's fractional worker cannot run on the P
         * the assisting goroutine holds). */
        progress_at(s, s->now, s->procs > 1 ? 1.0 : 0.0);
    }
    s->mark_done_at = mark_done_time(s);
    s->next_check = next_check_time(s);
    if (s->scan_done >= s->scan_total)
        return finish_cycle(s, s->now);
    return 0;
}

/* The refill's size and a thread's cache row for class cl: the objects a refill takes
 * (heap.c takes up to HN_GCTCACHE_N from one bitmap word; the model takes them all). */
static uint8_t *cache_slot(hn_sim *s, uint32_t thread, unsigned cl)
{
    if (thread >= s->ncached) {
        uint32_t n = thread + 1 > 2 * s->ncached ? thread + 1 : 2 * s->ncached;
        uint8_t(*c)[HN_NCLASSES] = realloc(s->cached, (size_t)n * sizeof *c);
        if (!c)
            return NULL;
        memset(c + s->ncached, 0, (size_t)(n - s->ncached) * sizeof *c);
        s->cached = c;
        s->ncached = n;
    }
    return &s->cached[thread][cl];
}

static int alloc_obj(hn_sim *s, uint32_t thread, uint64_t id, uint64_t size)
{
    if (size < HN_SIM_MIN_OBJECT)
        size = HN_SIM_MIN_OBJECT;
    unsigned cl = size <= HN_MAX_SMALL ? hn_size_class((size_t)size) : 0;
    uint64_t rounded;
    uint64_t g = 0;
    uint64_t joined = 0; /* bytes the heap grows by: a refill's objects, or none */
    bool started = false; /* this allocation started a cycle: it owes no assist */
    if (cl) {
        rounded = hn_class_size[cl];
        uint8_t *c = cache_slot(s, thread, cl);
        if (!c) {
            errno = ENOMEM;
            return -1;
        }
        if (*c == 0) {
            /* A refill: the object and the rest of its batch join the heap at once, as
             * heron counts them (and marks the cached ones) until allocated. A batch is
             * HN_GCTCACHE_N objects, or a span's worth of a class with fewer. */
            unsigned batch = hn_class_objects[cl] < HN_GCTCACHE_N ? hn_class_objects[cl]
                                                                   : HN_GCTCACHE_N;
            for (unsigned i = 0; i < batch; i++)
                g += hn_model_heap_add_small(&s->heap, cl);
            *c = (uint8_t)(batch - 1);
            joined = (uint64_t)batch * rounded;
        } else {
            --*c;
        }
    } else {
        g = (size + HN_MODEL_PAGE - 1) / HN_MODEL_PAGE;
        rounded = g * HN_MODEL_PAGE;
        /* heron starts the cycle before a large object that passes the trigger
         * (gc/api.c): the object is allocated black, not marked, and owes no assist. */
        if (!s->marking) {
            if (s->trigger_stale)
                refresh_trigger(s);
            if (s->heap_bytes + rounded >= s->trigger) {
                start_cycle(s);
                started = true;
            }
        }
        hn_model_heap_add_large(&s->heap, g);
        joined = rounded;
    }
    uint64_t where = rounded;
    if (cl) {
        int64_t slot = hn_placement_alloc(&s->place, cl);
        if (slot < 0) {
            errno = ENOMEM;
            return -1;
        }
        where = (uint64_t)slot;
    } else {
        hn_placement_large(&s->place, 1);
    }
    if (hn_objmap_insert(&s->objects, id + 1, where << 8 | cl) < 0) {
        errno = ENOMEM;
        return -1;
    }
    s->heap_bytes += joined;
    s->live_bytes += rounded;
    s->live_in_class[cl]++;
    if (!cl)
        s->live_large_bytes += rounded;
    if (g) {
        grew(s, g);
        double rss = (double)hn_model_heap_rss(&s->heap);
        if (rss > s->sum.rss_peak)
            s->sum.rss_peak = rss;
    }
    if ((double)s->heap_bytes > s->sum.heap_peak)
        s->sum.heap_peak = (double)s->heap_bytes;
    if (s->marking)
        return started ? 0 : assist(s, rounded);
    if (s->trigger_stale)
        refresh_trigger(s);
    if (s->heap_bytes >= s->trigger)
        start_cycle(s);
    return 0;
}

static int free_obj(hn_sim *s, uint64_t id)
{
    hn_objmap_slot *slot = hn_objmap_find(&s->objects, id + 1);
    if (!slot) {
        errno = EINVAL;
        return -1;
    }
    unsigned cl = (unsigned)(slot->val & 0xff);
    uint64_t where = slot->val >> 8;
    uint64_t rounded = cl ? hn_class_size[cl] : where;
    hn_objmap_remove_slot(&s->objects, slot);
    if (!cl)
        hn_placement_large(&s->place, -1);
    else if (hn_placement_free(&s->place, cl, (uint32_t)where,
                               s->marking ? HN_GEN_SURVIVOR : HN_GEN_PENDING) < 0)
        return -1;
    s->live_bytes -= rounded;
    s->live_in_class[cl]--;
    if (!cl)
        s->live_large_bytes -= rounded;
    hn_sim_gen *g = s->marking ? &s->survivor : &s->pending;
    g->bytes += rounded;
    if (cl == 0) {
        g->large++;
        g->large_pages += rounded / HN_MODEL_PAGE;
    }
    return 0;
}

int hn_sim_event(hn_sim *s, const hn_trace_event *ev)
{
    if (!s->started) {
        s->started = true;
        s->start = (int64_t)ev->time_ns;
        s->now = s->start;
        s->last_area_t = s->start;
        hn_limiter_init(&s->limiter, s->start, s->procs);
        hn_pacer_mem mem = mem_now(s);
        s->goal = hn_pacer_heap_goal(&s->pacer, &mem);
        s->next_check = next_check_time(s);
    }
    int64_t tt = (int64_t)ev->time_ns;
    if (__builtin_expect(s->cfg.time_scale > 0 && s->cfg.time_scale != 1, 0))
        tt = s->start + (int64_t)((double)(tt - s->start) * s->cfg.time_scale);
    int64_t t = tt + s->shift;
    while (t >= s->next_check) {
        if (time_step(s, t) < 0)
            return -1;
        t = tt + s->shift;
    }
    integrate(s, t);
    s->now = t;
    s->sum.events++;
    if (__builtin_expect((int32_t)ev->thread >= s->procs_wanted, 0) && s->cfg.procs == 0)
        s->procs_wanted = (int32_t)ev->thread + 1;
    if (__builtin_expect(s->procs_wanted != s->procs, 0) && !s->marking) {
        /* A new thread: one more processor from now on (the limiter's bucket too). */
        s->procs = s->procs_wanted;
        hn_limiter_reset_capacity(&s->limiter, s->now, s->procs);
    }
    if (ev->kind == HN_EV_FREE || ev->kind == HN_EV_REALLOC) {
        if (free_obj(s, ev->kind == HN_EV_FREE ? ev->id : ev->old_id) < 0)
            return -1;
    }
    if (ev->kind != HN_EV_FREE && alloc_obj(s, ev->thread, ev->id, ev->size) < 0)
        return -1;
    if (s->cfg.series)
        note(s);
    return 0;
}

void hn_sim_finish(hn_sim *s)
{
    if (s->marking)
        progress(s, s->now);
    integrate(s, s->now);
    hn_limiter_update(&s->limiter, s->now, (int64_t)s->assist_ns_window, 0);
    hn_summary *u = &s->sum;
    double wall = (double)(s->now - s->start);
    u->wall_ns = wall;
    u->heap_mean = wall > 0 ? s->heap_area / wall : (double)s->heap_bytes;
    u->rss_mean = wall > 0 ? s->rss_area / wall : (double)hn_model_heap_rss(&s->heap);
    u->live_mean = u->cycles > 0 ? s->live_sum / u->cycles : 0;
    u->gc_cpu_ns = u->assist_cpu_ns + u->background_cpu_ns + u->pause_cpu_ns + u->sweep_cpu_ns;
    u->total_cpu_ns = s->cpu_area;
    u->limiter_ns = (double)s->limiter.enabled_ns;
}
