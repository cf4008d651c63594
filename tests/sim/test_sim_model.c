/*
 * test_sim_model.c: the simulator's model, fed synthetic events directly: the page heap
 * model's arithmetic, and the pacer's behaviour as the simulator shows it (doubling
 * GOGC about halves the cycles; a memory limit below the GOGC goal keeps the heap under
 * the limit while the live heap fits; the CPU limiter caps GC CPU near 50 % when it
 * does not fit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gc/gctcache.h"
#include "sim/costmodel.h"
#include "sim/simulate.h"

/* A program with `live` bytes held in objects of `size` bytes, first-in first-out:
 * every step allocates one object and frees the oldest, at `rate` bytes per second,
 * for `seconds`. */
struct fifo {
    uint64_t size, nlive, rate;
    double seconds;
};

/* Highest heap after `after_ns` of the run, from the time series (0 if not kept). */
static double late_peak;
static int64_t late_after_ns;

/* Marking cost in the runs: the default's cost of an object, times this factor (tests
 * raise it to make marking costly with few events, so they stay fast under the
 * sanitizers). */
static double mark_scale = 1;

static hn_summary run(const struct fifo *f, int32_t gogc, int64_t limit, int32_t procs)
{
    hn_sim_config cfg = {0};
    cfg.series = true;
    cfg.gogc = gogc;
    cfg.memory_limit = limit;
    cfg.procs = procs;
    hn_cost_defaults(&cfg.cost);
    for (int k = 0; k < HN_COST_KNOTS; k++)
        cfg.cost.mark_ns_at[k] *= mark_scale;
    hn_sim sim;
    assert_int_equal(hn_sim_init(&sim, &cfg), 0);
    hn_trace_event ev = {0};
    uint64_t dt = f->size * 1000000000ull / f->rate;
    uint64_t steps = (uint64_t)(f->seconds * 1e9) / dt;
    uint64_t id = 0;
    for (uint64_t i = 0; i < steps; i++) {
        ev.time_ns = i * dt;
        ev.kind = HN_EV_MALLOC;
        ev.size = f->size;
        ev.id = id++;
        assert_int_equal(hn_sim_event(&sim, &ev), 0);
        if (i >= f->nlive) {
            ev.kind = HN_EV_FREE;
            ev.id = i - f->nlive;
            assert_int_equal(hn_sim_event(&sim, &ev), 0);
        }
    }
    hn_sim_finish(&sim);
    late_peak = 0;
    for (size_t k = 0; k < sim.series.npts; k++)
        if (sim.series.pts[k].t - sim.series.origin >= late_after_ns &&
            (double)sim.series.pts[k].heap_max > late_peak)
            late_peak = (double)sim.series.pts[k].heap_max;
    hn_summary s = sim.sum;
    hn_sim_destroy(&sim);
    return s;
}

/* 16 MiB live in 1 KiB objects (a class of its own: no rounding), 64 MiB/s. */
static const struct fifo steady = {1024, 16384, 64u << 20, 4.0};

static void test_doubling_gogc_halves_cycles(void **state)
{
    (void)state;
    hn_summary a = run(&steady, 100, HN_PACER_NO_LIMIT, 1);
    hn_summary b = run(&steady, 200, HN_PACER_NO_LIMIT, 1);
    hn_summary c = run(&steady, 400, HN_PACER_NO_LIMIT, 1);
    assert_true(a.cycles >= 10);
    double r1 = b.cycles / a.cycles, r2 = c.cycles / b.cycles;
    assert_true(r1 > 0.4 && r1 < 0.65);
    assert_true(r2 > 0.4 && r2 < 0.65);
    /* ... and the heap grows: the trade the GOGC knob makes. */
    assert_true(b.heap_peak > a.heap_peak * 1.3);
    assert_true(b.gc_cpu_ns < a.gc_cpu_ns);
}

static void test_gogc_off_never_collects(void **state)
{
    (void)state;
    hn_summary s = run(&steady, HN_PACER_GOGC_OFF, HN_PACER_NO_LIMIT, 1);
    assert_true(s.cycles == 0);
    /* Nothing is ever swept: the heap is every byte allocated, and the objects the
     * last thread-cache refill took that were not allocated yet. */
    uint64_t dt = steady.size * 1000000000ull / steady.rate;
    uint64_t n = (uint64_t)(steady.seconds * 1e9) / dt;
    unsigned cl = hn_size_class(steady.size);
    uint64_t batch = hn_class_objects[cl] < HN_GCTCACHE_N ? hn_class_objects[cl] : HN_GCTCACHE_N;
    uint64_t cached = (batch - n % batch) % batch;
    assert_true(s.heap_peak == (double)((n + cached) * hn_class_size[cl]));
}

static void test_limit_below_goal_holds_heap(void **state)
{
    (void)state;
    /* GOGC=100 lets the heap reach about 2 x 16 MiB; a 24 MiB limit must hold it. */
    int64_t limit = 24 << 20;
    hn_summary free_run = run(&steady, 100, HN_PACER_NO_LIMIT, 1);
    assert_true(free_run.heap_peak > (double)limit);
    /* The limit is soft, as Go's: the first cycles start with no cons/mark history and
     * may overshoot a little; after the first second the heap stays under it. */
    late_after_ns = 1000000000;
    hn_summary lim = run(&steady, 100, limit, 1);
    assert_true(lim.heap_peak <= (double)limit * 1.05);
    assert_true(late_peak > 0 && late_peak <= (double)limit);
    assert_true(lim.rss_peak <= (double)limit * 1.05);
    assert_true(lim.cycles > free_run.cycles);
    /* With GOGC=off the limit alone paces the collector. Its first cycle starts with
     * no cons/mark history and overshoots, as Go's does; after that the heap stays
     * under the limit. */
    hn_summary off = run(&steady, HN_PACER_GOGC_OFF, limit, 1);
    assert_true(off.cycles > 0);
    assert_true(off.heap_peak <= (double)limit * 1.2);
    assert_true(late_peak > 0 && late_peak <= (double)limit);
    late_after_ns = 0;
}

/* The first cycle under a memory limit, before any cons/mark measurement: as in Go
 * (gcControllerState.init leaves consMark at 0 and commits with the limit already
 * set), the limit's goal applies from the start and the runway is 0, so the cycle
 * starts at the trigger's upper bound, 61/64 of the way from 0 to the goal, and its
 * goal is the limit's: the limit less its 1 MiB headroom and the spans' unused bytes. */
static void test_first_cycle_under_limit(void **state)
{
    (void)state;
    hn_sim_config cfg = {0};
    cfg.series = true;
    cfg.gogc = HN_PACER_GOGC_OFF;
    cfg.memory_limit = 24 << 20;
    cfg.procs = 1;
    hn_cost_defaults(&cfg.cost);
    hn_sim sim;
    assert_int_equal(hn_sim_init(&sim, &cfg), 0);
    hn_trace_event ev = {0};
    for (uint64_t i = 0; sim.series.ncycles == 0 && i < 100000; i++) {
        ev.time_ns = i * 1000;
        ev.kind = HN_EV_MALLOC;
        ev.size = 1024;
        ev.id = i;
        assert_int_equal(hn_sim_event(&sim, &ev), 0);
        if (sim.marking && sim.cycle_start == sim.now - (int64_t)(cfg.cost.pause_ns / 2)) {
            /* The cycle just started, at the goal it was triggered for. */
            uint64_t goal = sim.goal_at_start;
            assert_true(goal <= (24u << 20) - (1u << 20));
            assert_true(goal >= (24u << 20) - (1u << 20) - (256u << 10));
            uint64_t upper = goal / 64 * 61;
            assert_true(sim.heap_at_trigger >= upper && sim.heap_at_trigger < upper + 1024);
            break;
        }
    }
    assert_true(sim.marking || sim.series.ncycles > 0);
    hn_sim_destroy(&sim);
}

static void test_limiter_caps_cpu_when_live_does_not_fit(void **state)
{
    (void)state;
    /* 16 MiB live under an 8 MiB limit, allocated fast enough that assists alone would
     * take most of the CPU: the collector would run without end, and the CPU limiter
     * keeps its share near 50 % (it first lets one CPU-second of excess through). */
    static const struct fifo fast = {1024, 16384, 128u << 20, 6.0};
    mark_scale = 3;
    hn_summary s = run(&fast, 100, 8 << 20, 1);
    double pct = 100 * s.gc_cpu_ns / s.total_cpu_ns;
    assert_true(s.limiter_ns > 0);
    assert_true(pct > 40 && pct < 62);
    /* Without the limit's pressure the same program spends far less. */
    hn_summary f0 = run(&fast, 100, HN_PACER_NO_LIMIT, 1);
    assert_true(100 * f0.gc_cpu_ns / f0.total_cpu_ns < pct);
    mark_scale = 1;
    /* The slower program under the same limit: what the limiter counts (pauses,
     * marking, assists) stays near half too; sweeping runs beside it, as in Go, and
     * took another 6 % here. */
    hn_summary slow = run(&steady, 100, 8 << 20, 1);
    double spct = 100 * (slow.gc_cpu_ns - slow.sweep_cpu_ns) / slow.total_cpu_ns;
    assert_true(spct > 25 && spct < 58);
    assert_true(100 * slow.gc_cpu_ns / slow.total_cpu_ns < 65);
}

/* A model at GOGC=100, no memory limit, one processor, the default costs. */
static void init_gogc100(hn_sim *sim)
{
    hn_sim_config cfg = {0};
    cfg.gogc = 100;
    cfg.memory_limit = HN_PACER_NO_LIMIT;
    cfg.procs = 1;
    hn_cost_defaults(&cfg.cost);
    assert_int_equal(hn_sim_init(sim, &cfg), 0);
}

/* A large object that takes the heap past its trigger starts the cycle before it joins
 * the heap, as heron's collector does (gc/api.c): the mark does not scan it, and its
 * allocation owes no assist. */
static void test_large_alloc_starts_cycle_first(void **state)
{
    (void)state;
    hn_sim sim;
    init_gogc100(&sim);
    /* 1 KiB objects up to within 2 MiB of the trigger (the 4 MiB minimum goal). */
    hn_trace_event ev = {0};
    uint64_t id = 0;
    while (sim.heap_bytes + (2u << 20) < sim.trigger) {
        ev = (hn_trace_event){.time_ns = id * 1000, .id = id, .size = 1024,
                              .kind = HN_EV_MALLOC};
        id++;
        assert_int_equal(hn_sim_event(&sim, &ev), 0);
    }
    assert_false(sim.marking);
    uint64_t before = sim.live_bytes;
    ev = (hn_trace_event){.time_ns = id * 1000, .id = id, .size = 2u << 20,
                          .kind = HN_EV_MALLOC};
    assert_int_equal(hn_sim_event(&sim, &ev), 0);
    assert_true(sim.marking);
    assert_true(sim.scan_total == (double)before); /* the 1 KiB objects, not the 2 MiB */
    assert_true(sim.heap_at_trigger < sim.trigger);
    assert_int_equal(sim.live_bytes, before + (2u << 20));
    assert_true(sim.alloc_credit == 0 && sim.assist_ns_cycle == 0); /* no assist */
    hn_sim_destroy(&sim);
}

static void test_garbage_waits_for_the_sweep_after_next_mark(void **state)
{
    (void)state;
    hn_sim sim;
    init_gogc100(&sim);
    /* 1 MiB of 1 KiB objects, then free them all: still heap until a cycle. */
    hn_trace_event ev = {0};
    for (uint64_t i = 0; i < 1024; i++) {
        ev = (hn_trace_event){.time_ns = i * 1000, .id = i, .size = 1024, .kind = HN_EV_MALLOC};
        assert_int_equal(hn_sim_event(&sim, &ev), 0);
    }
    for (uint64_t i = 0; i < 1024; i++) {
        ev = (hn_trace_event){.time_ns = 2000000 + i, .id = i, .kind = HN_EV_FREE};
        assert_int_equal(hn_sim_event(&sim, &ev), 0);
    }
    assert_int_equal(sim.heap_bytes, 1 << 20);
    assert_int_equal(sim.live_bytes, 0);
    assert_int_equal(sim.sum.cycles, 0);
    /* 1 MiB in 1 KiB objects fills 128 one-page spans exactly (8 per span). */
    assert_int_equal(sim.heap.in_use, 128);
    /* A free of an object that is not live is refused. */
    ev.id = 5;
    assert_int_equal(hn_sim_event(&sim, &ev), -1);
    /* Allocate past the 4 MiB minimum goal: the first cycle sweeps the garbage. */
    uint64_t id = 1024;
    for (uint64_t i = 0; sim.sum.cycles == 0 && i < 100000; i++) {
        ev = (hn_trace_event){.time_ns = 3000000 + i * 1000, .id = id++, .size = 1024,
                              .kind = HN_EV_MALLOC};
        assert_int_equal(hn_sim_event(&sim, &ev), 0);
    }
    assert_int_equal(sim.sum.cycles, 1);
    assert_true(sim.sum.heap_peak >= 4 << 20);
    /* The freed megabyte went; what remains is what the program holds and what its
     * thread cache holds for it. */
    assert_int_equal(sim.heap_bytes, sim.live_bytes + sim.cached[0][hn_size_class(1024)] * 1024);
    /* Its pages stay resident as free pages until the scavenger takes them. */
    assert_true(sim.heap.free >= 128);
    hn_sim_destroy(&sim);
}

static void test_model_heap_spans(void **state)
{
    (void)state;
    hn_model_heap h;
    memset(&h, 0, sizeof h);
    unsigned cl = hn_size_class(1024);
    assert_int_equal(hn_class_size[cl], 1024);
    uint64_t per = hn_class_objects[cl];
    uint64_t grown = 0;
    for (uint64_t i = 0; i < per * 3 + 1; i++)
        grown += hn_model_heap_add_small(&h, cl);
    assert_int_equal(h.spans[cl], 4);
    assert_int_equal(grown, 4 * hn_class_pages[cl]);
    hn_model_heap_sweep_small(&h, cl, per * 2);
    assert_int_equal(h.spans[cl], 2);
    assert_int_equal(h.free, 2 * hn_class_pages[cl]);
    assert_int_equal(hn_model_heap_release(&h, HN_MODEL_PAGE * 100), 2 * hn_class_pages[cl] * HN_MODEL_PAGE);
    assert_int_equal(h.released, 2 * hn_class_pages[cl]);
    /* Growth takes released pages back before mapping new ones. */
    hn_model_heap_add_large(&h, 1);
    assert_int_equal(h.faulted, 1);
    assert_int_equal(hn_model_heap_rss(&h), (h.in_use) * HN_MODEL_PAGE);
}

/* Slots and pages (sim/placement.h): objects fill a class's pages in order; a page
 * counts while one object on it lives; a freed slot is reused only after the sweep of
 * the cycle that condemned it (a survivor of a mark one cycle later), the last swept
 * first; a program that frees whole pages holds fewer pages than one that frees one
 * object a page, with as many objects. */
static void test_placement_pages(void **state)
{
    (void)state;
    unsigned cl = hn_size_class(1024);
    uint32_t per = HN_PAGE_SIZE / 1024;
    hn_placement p;
    hn_placement_init(&p);
    for (uint32_t i = 0; i < 4 * per; i++)
        assert_int_equal(hn_placement_alloc(&p, cl), i);
    assert_int_equal(p.live_pages, 4);
    /* Every page but the first loses one object: still four pages. */
    for (uint32_t k = 1; k < 4; k++)
        assert_int_equal(hn_placement_free(&p, cl, k * per, HN_GEN_PENDING), 0);
    assert_int_equal(p.live_pages, 4);
    /* The first page dies whole, during a mark: one page fewer. */
    for (uint32_t i = 0; i < per; i++)
        assert_int_equal(hn_placement_free(&p, cl, i, HN_GEN_SURVIVOR), 0);
    assert_int_equal(p.live_pages, 3);
    /* Nothing freed is reused before a sweep: a new object takes a new slot. */
    assert_int_equal(hn_placement_alloc(&p, cl), 4 * per);
    assert_int_equal(p.live_pages, 4);
    /* The cycle condemns the pending three; its sweep frees them, the last freed first;
     * the survivors wait for the next cycle's sweep. */
    hn_placement_cycle_start(&p);
    assert_int_equal(hn_placement_sweep(&p), 0);
    assert_int_equal(hn_placement_alloc(&p, cl), 3 * per);
    assert_int_equal(hn_placement_alloc(&p, cl), 2 * per);
    assert_int_equal(hn_placement_alloc(&p, cl), 1 * per);
    assert_int_equal(hn_placement_alloc(&p, cl), 4 * per + 1);
    hn_placement_cycle_start(&p);
    assert_int_equal(hn_placement_sweep(&p), 0);
    assert_int_equal(hn_placement_alloc(&p, cl), per - 1);
    assert_int_equal(p.live_pages, 5);
    /* Large objects: a page each. */
    hn_placement_large(&p, 1);
    assert_int_equal(p.live_pages, 6);
    hn_placement_large(&p, -1);
    assert_int_equal(p.live_pages, 5);
    hn_placement_destroy(&p);

    /* 64 pages of objects; then a batch program frees the first 32 pages whole, a
     * scattered one half of the objects of every page: the same objects held, 32
     * pages against 64. */
    hn_placement batch, scattered;
    hn_placement_init(&batch);
    hn_placement_init(&scattered);
    for (uint32_t i = 0; i < 64 * per; i++) {
        assert_true(hn_placement_alloc(&batch, cl) >= 0);
        assert_true(hn_placement_alloc(&scattered, cl) >= 0);
    }
    for (uint32_t i = 0; i < 32 * per; i++) {
        assert_int_equal(hn_placement_free(&batch, cl, i, HN_GEN_PENDING), 0);
        assert_int_equal(hn_placement_free(&scattered, cl, 2 * i, HN_GEN_PENDING), 0);
    }
    assert_int_equal(batch.live_pages, 32);
    assert_int_equal(scattered.live_pages, 64);
    hn_placement_destroy(&batch);
    hn_placement_destroy(&scattered);

    /* A run that never sweeps keeps no garbage: pages still count, slots are new. */
    hn_placement_init(&p);
    p.keep_garbage = false;
    for (uint32_t i = 0; i < per; i++)
        assert_int_equal(hn_placement_alloc(&p, cl), i);
    assert_int_equal(hn_placement_free(&p, cl, 0, HN_GEN_PENDING), 0);
    assert_int_equal(p.cls[cl].gen[HN_GEN_PENDING].n, 0);
    hn_placement_cycle_start(&p);
    assert_int_equal(hn_placement_sweep(&p), 0);
    assert_int_equal(hn_placement_alloc(&p, cl), per);
    assert_int_equal(p.live_pages, 2);
    hn_placement_destroy(&p);
}

/* The model of heron's worker (sim/bg_worker.h) at a half share: full-speed slices of
 * 1 ms, a sleep after each; a mark of under a slice is over in it; time_for agrees
 * with running to that time; an assist with one processor (speed 0) starves it. */
/* The cache term's share is of the pages holding the marked objects (cost file version
 * 6), or of the heap (versions 3 to 5): 1000 objects on 64 pages (512 KiB) fit a 1 MiB
 * cache however much garbage the heap holds besides; on 1024 pages (8 MiB) 7/8 of
 * them miss it. */
static void test_cost_cache_share(void **state)
{
    (void)state;
    hn_cost c;
    memset(&c, 0, sizeof c);
    for (int k = 0; k < HN_COST_KNOTS; k++)
        c.mark_ns_at[k] = 10;
    c.mark_ns_per_object_uncached = 100;
    c.cache_bytes = 1 << 20;
    hn_cost_scan s = {.heap = 64 << 20, .pages = 64};
    hn_cost_scan_add(&s, 64, 1000);
    assert_float_equal(hn_cost_mark_ns(&c, &s), 10 * 1000, 1e-6);
    s.pages = 1024;
    assert_float_equal(hn_cost_mark_ns(&c, &s), (10 + 100 * 0.875) * 1000, 1e-6);
    c.cache_of_heap = 1;
    s.pages = 64;
    assert_float_equal(hn_cost_mark_ns(&c, &s), (10 + 100 * (1 - 1.0 / 64)) * 1000, 1e-6);
    s.heap = 512 << 10;
    s.pages = 1024;
    assert_float_equal(hn_cost_mark_ns(&c, &s), 10 * 1000, 1e-6);
}

/* An object's cost by its size (costmodel.h): the knots' own at their sizes, on the line
 * between two knots, the first knot's under it, and over the last knot the last knot's
 * plus the streamed bytes'; the scan's sums count every object whole. */
static void test_cost_by_size(void **state)
{
    (void)state;
    hn_cost c;
    memset(&c, 0, sizeof c);
    for (int k = 0; k < HN_COST_KNOTS; k++)
        c.mark_ns_at[k] = 100 * (k + 1) + (k == 2 ? 1000 : 0); /* 48 bytes: dear */
    c.mark_ns_per_streamed_byte = 0.5;
    struct {
        double size, ns;
    } want[] = {
        {8, 100},    {16, 100},  {32, 200}, {40, (200 + 1300) / 2.0}, {48, 1300},
        {56, (1300 + 400) / 2.0}, {96, 450}, {1024, 800}, {3072, 800 + 0.5 * 2048},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        hn_cost_scan s = {0};
        hn_cost_scan_add(&s, want[i].size, 3);
        assert_float_equal(hn_cost_mark_ns(&c, &s), 3 * want[i].ns, 1e-6);
        assert_float_equal(s.objects, 3, 0);
        assert_float_equal(s.bytes, 3 * want[i].size, 0);
    }
    /* Two large objects of 40 KiB together: each the last knot's cost and its bytes past
     * the first KiB streamed. */
    hn_cost_scan s = {0};
    hn_cost_scan_add_large(&s, 80 << 10, 2);
    assert_float_equal(s.streamed, (80 << 10) - 2048, 0);
    assert_float_equal(hn_cost_mark_ns(&c, &s), 2 * 800 + 0.5 * ((80 << 10) - 2048), 1e-6);
}

static void test_bg_worker_slices(void **state)
{
    (void)state;
    const int64_t ms = 1000000;
    hn_bg_worker w;
    hn_bg_worker_start(&w, 100 * ms, 0.5);
    assert_int_equal(hn_bg_worker_time_for(&w, 0.6 * ms), 100 * ms + 600000);
    assert_int_equal(hn_bg_worker_time_for(&w, 1.0 * ms), 101 * ms);
    assert_int_equal(hn_bg_worker_time_for(&w, 1.5 * ms), 102 * ms + 500000);
    assert_int_equal(hn_bg_worker_time_for(&w, 3.0 * ms), 105 * ms);
    /* 0-1 ms runs, 1-2 sleeps, 2-3 runs, 3-3.5 sleeps. */
    assert_true(hn_bg_worker_run(&w, 101 * ms, 1) == 1.0 * ms);
    assert_true(hn_bg_worker_run(&w, 102 * ms, 1) == 0);
    assert_true(w.sleeping);
    assert_true(hn_bg_worker_run(&w, 103 * ms + 500000, 1) == 1.0 * ms);
    assert_true(w.sleeping);
    assert_int_equal(w.wake, 104 * ms);
    /* From asleep: 2.5 ms more is 104-105, 106-107, 108-108.5. */
    int64_t t = hn_bg_worker_time_for(&w, 2.5 * ms);
    assert_int_equal(t, 108 * ms + 500000);
    assert_true(hn_bg_worker_run(&w, t, 1) == 2.5 * ms);
    /* At a share of one it never sleeps. */
    hn_bg_worker_start(&w, 0, 1.0);
    assert_int_equal(hn_bg_worker_time_for(&w, 7.5 * ms), 7500000);
    assert_true(hn_bg_worker_run(&w, 7500000, 1) == 7.5 * ms);
    /* Starved from 0.5 to 5 ms (an assist with one processor): no CPU, the deficit
     * past two slices forgiven, then slices back to back until it is on its share. */
    hn_bg_worker_start(&w, 0, 0.5);
    assert_true(hn_bg_worker_run(&w, 500000, 1) == 0.5 * ms);
    assert_true(hn_bg_worker_run(&w, 5 * ms, 0) == 0);
    assert_int_equal(w.duty.wall0, 2 * ms); /* forgiven at 4 and 5 ms: 1 ms each */
    t = hn_bg_worker_time_for(&w, 3 * ms);
    double cpu = hn_bg_worker_run(&w, t, 1);
    assert_true(cpu > 2.999 * ms && cpu < 3.001 * ms);
    assert_true(t < 5 * ms + 2 * 3 * ms); /* sooner than at the half share */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_heap_spans),
        cmocka_unit_test(test_placement_pages),
        cmocka_unit_test(test_cost_cache_share),
        cmocka_unit_test(test_cost_by_size),
        cmocka_unit_test(test_bg_worker_slices),
        cmocka_unit_test(test_garbage_waits_for_the_sweep_after_next_mark),
        cmocka_unit_test(test_large_alloc_starts_cycle_first),
        cmocka_unit_test(test_doubling_gogc_halves_cycles),
        cmocka_unit_test(test_gogc_off_never_collects),
        cmocka_unit_test(test_limit_below_goal_holds_heap),
        cmocka_unit_test(test_first_cycle_under_limit),
        cmocka_unit_test(test_limiter_caps_cpu_when_live_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
