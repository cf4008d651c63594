/* tests/gc/test_pacer.c: the pacer against hand-computed cases: the GOGC goal
 * with stacks and globals, the 4 MiB minimum, GOGC=off, the memory-limit goal
 * and its headroom, the trigger's bounds, cons/mark smoothing, the assist
 * ratio and its 64 KiB chunks, and the worker plan. Every expected number is
 * worked out in the comment next to it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gc/pacer.h"

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)

static const hn_pacer_mem no_mem = {0, 0, 0};

/* Run a cycle that allocates nothing while marking (so cons/mark is not
 * touched) and ends with the given findings. */
static void run_cycle(hn_pacer *p, uint64_t marked, int64_t heap_scan,
                      int64_t stack_scan, bool sweep_done)
{
    hn_pacer_revise_in in = {.heap_live = p->heap_marked, .heap_scan = (uint64_t)heap_scan};
    hn_pacer_start_cycle(p, 0, 4, &in);
    hn_pacer_measurements m = {
        .now_ns = 1000000,
        .procs = 4,
        .heap_live = p->heap_marked,
        .heap_scan_work = heap_scan,
        .stack_scan_work = stack_scan,
        .heap_marked = marked,
        .sweep_done = sweep_done,
    };
    hn_pacer_end_cycle(p, &m);
}

static void test_goal_with_stacks_and_globals(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, 100, HN_PACER_NO_LIMIT);
    hn_pacer_set_globals(&p, 1 * MiB);
    run_cycle(&p, 100 * MiB, 50 * MiB, 2 * MiB, true);
    /* M=100 MiB, S=2 MiB, G=1 MiB: 100 + 103 * 100/100 = 203 MiB. */
    assert_int_equal(hn_pacer_heap_goal(&p, &no_mem), 203 * MiB);

    /* GOGC=50: 100 MiB + 103 MiB * 50/100 = 104857600 + 54001664. */
    hn_pacer_set_gogc(&p, 50);
    hn_pacer_commit(&p, 100 * MiB, true);
    assert_int_equal(hn_pacer_heap_goal(&p, &no_mem), 158859264);

    /* GOGC=200: 100 + 206 = 306 MiB. */
    hn_pacer_set_gogc(&p, 200);
    hn_pacer_commit(&p, 100 * MiB, true);
    assert_int_equal(hn_pacer_heap_goal(&p, &no_mem), 306 * MiB);

    /* The pure function agrees, including an odd byte count: (1001 + 10 +
     * 0) * 33 / 100 = 333.63 -> 333; 1001 + 333 = 1334, over heap_minimum 0. */
    assert_int_equal(hn_pacer_gogc_goal(1001, 10, 0, 33, 0), 1334);
    assert_int_equal(hn_pacer_gogc_goal(1001, 10, 0, -1, 0), UINT64_MAX);
}

static void test_heap_minimum_scales_with_gogc(void **state)
{
    (void)state;
    static const struct {
        int32_t gogc;
        uint64_t goal;
    } cases[] = {
        /* M = 1 MiB: the GOGC goals 1.5, 2 and 3 MiB all fall under 4 MiB *
         * GOGC/100 = 2, 4 and 8 MiB. */
        {50, 2 * MiB},
        {100, 4 * MiB},
        {200, 8 * MiB},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hn_pacer p;
        hn_pacer_init(&p, cases[i].gogc, HN_PACER_NO_LIMIT);
        assert_int_equal(p.heap_minimum, 4 * MiB * (uint64_t)cases[i].gogc / 100);
        run_cycle(&p, 1 * MiB, 1 * MiB, 0, true);
        assert_int_equal(hn_pacer_heap_goal(&p, &no_mem), cases[i].goal);
    }
    /* Before any cycle the goal is the minimum itself. */
    hn_pacer p;
    hn_pacer_init(&p, 100, HN_PACER_NO_LIMIT);
    assert_int_equal(hn_pacer_heap_goal(&p, &no_mem), 4 * MiB);
    /* Above the minimum it plays no part: M = 10 MiB at GOGC=50 -> 15 MiB. */
    hn_pacer_init(&p, 50, HN_PACER_NO_LIMIT);
    run_cycle(&p, 10 * MiB, 10 * MiB, 0, true);
    assert_int_equal(hn_pacer_heap_goal(&p, &no_mem), 15 * MiB);
}

static void test_gogc_zero(void **state)
{
    (void)state;
    /* GOGC=0: no minimum, the goal is the live heap, collect continuously. */
    hn_pacer p;
    hn_pacer_init(&p, 0, HN_PACER_NO_LIMIT);
    assert_int_equal(p.heap_minimum, 0);
    run_cycle(&p, 10 * MiB, 10 * MiB, 0, true);
    hn_pacer_trigger_out t = hn_pacer_trigger(&p, &no_mem);
    assert_int_equal(t.goal, 10 * MiB);
    assert_int_equal(t.trigger, 10 * MiB);
    assert_true(hn_pacer_should_start(&p, &no_mem, 10 * MiB));
}

static void test_gogc_off_without_limit(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, HN_PACER_GOGC_OFF, HN_PACER_NO_LIMIT);
    assert_int_equal(p.gc_percent, -1);
    run_cycle(&p, 100 * MiB, 100 * MiB, 0, true);
    hn_pacer_trigger_out t = hn_pacer_trigger(&p, &no_mem);
    assert_int_equal(t.goal, UINT64_MAX);
    assert_int_equal(t.trigger, UINT64_MAX);
    assert_false(hn_pacer_should_start(&p, &no_mem, 1000 * 1000 * MiB));
    /* Every negative GOGC is off. */
    hn_pacer_set_gogc(&p, -42);
    assert_int_equal(p.gc_percent, HN_PACER_GOGC_OFF);
}

static void test_gogc_off_with_limit(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, HN_PACER_GOGC_OFF, (int64_t)(100 * MiB));
    /* mapped 50 MiB, free 5, allocated 40: non-heap = 5 MiB. goal = 100 - 5
     * = 95 MiB = 99614720; headroom = 99614720 / 100 * 3 = 996147 * 3 =
     * 2988441 (over 1 MiB); goal = 96626279. M = 0 floors nothing. */
    hn_pacer_mem mem = {50 * MiB, 5 * MiB, 40 * MiB};
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &mem), 96626279);
    hn_pacer_trigger_out t = hn_pacer_trigger(&p, &mem);
    assert_int_equal(t.goal, 96626279);
    assert_true(t.memory_limited);
    assert_true(t.trigger <= t.goal);
    assert_true(hn_pacer_should_start(&p, &mem, t.trigger));
    assert_false(hn_pacer_should_start(&p, &mem, t.trigger - 1));
}

static void test_limit_goal_headroom(void **state)
{
    (void)state;
    hn_pacer p;
    /* Small limit: 3 % of 20 MiB is 629145 < 1 MiB, so 1 MiB of headroom.
     * mapped 10 MiB all heap: non-heap 0, goal = 20 MiB - 1 MiB. */
    hn_pacer_init(&p, 100, (int64_t)(20 * MiB));
    hn_pacer_mem mem = {10 * MiB, 0, 10 * MiB};
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &mem), 19 * MiB);

    /* Large limit: 1 GiB, non-heap 24 MiB: goal = 1000 MiB = 1048576000;
     * headroom = 10485760 * 3 = 31457280; goal = 1017118720. */
    hn_pacer_set_memory_limit(&p, (int64_t)(1024 * MiB));
    hn_pacer_mem big = {524 * MiB, 100 * MiB, 400 * MiB};
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &big), 1017118720);

    /* Tiny limit where goal - headroom < headroom: goal = headroom. Limit
     * 1.5 MiB, nothing used: goal 1.5 MiB, headroom 1 MiB, 0.5 MiB left is
     * less than the headroom -> 1 MiB. */
    hn_pacer_set_memory_limit(&p, (int64_t)(3 * MiB / 2));
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &no_mem), 1 * MiB);

    /* No limit: no goal from it. */
    hn_pacer_set_memory_limit(&p, HN_PACER_NO_LIMIT);
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &mem), UINT64_MAX);
    /* A negative value only reads the limit. */
    assert_int_equal(hn_pacer_set_memory_limit(&p, -1), HN_PACER_NO_LIMIT);
    assert_int_equal(p.memory_limit, HN_PACER_NO_LIMIT);
}

static void test_limit_goal_floor_and_overage(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, 100, (int64_t)(100 * MiB));
    run_cycle(&p, 80 * MiB, 80 * MiB, 0, true);
    /* Non-heap 30 MiB: 70 MiB = 73400320 - 2202009 = 71198311 is below the
     * live heap M = 80 MiB, so the goal is M. */
    hn_pacer_mem mem = {90 * MiB, 0, 60 * MiB};
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &mem), 80 * MiB);

    /* Over the limit: mapped 110 MiB, free 10, allocated 90: non-heap 10 MiB
     * and overage 10 MiB: 80 MiB = 83886080 - 838860 * 3 = 81369500, which
     * is below M = 83886080, so the floor holds. */
    hn_pacer_mem over = {110 * MiB, 10 * MiB, 90 * MiB};
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &over), 80 * MiB);

    /* The overage term without the floor: M = 0. */
    hn_pacer_init(&p, 100, (int64_t)(100 * MiB));
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &over), 81369500);
    /* Compare: same non-heap but under the limit (mapped 100 MiB, free 10,
     * allocated 80): 90 MiB = 94371840 - 943718 * 3 = 91540686. */
    hn_pacer_mem under = {100 * MiB, 10 * MiB, 80 * MiB};
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &under), 91540686);

    /* Non-heap plus overage reaching the limit: the goal is M. */
    hn_pacer_init(&p, 100, (int64_t)(10 * MiB));
    run_cycle(&p, 3 * MiB, 3 * MiB, 0, true);
    hn_pacer_mem hopeless = {15 * MiB, 0, 5 * MiB};
    assert_int_equal(hn_pacer_memory_limit_goal(&p, &hopeless), 3 * MiB);

    /* The cycle's goal is the smaller one: GOGC goal 6 MiB vs limit goal
     * 10 MiB - 1 MiB = 9 MiB (mapped all heap). */
    hn_pacer_mem fine = {5 * MiB, 0, 5 * MiB};
    assert_int_equal(hn_pacer_heap_goal(&p, &fine), 6 * MiB);
    hn_pacer_set_memory_limit(&p, (int64_t)(6 * MiB));
    /* Limit 6 MiB: 6 - 1 = 5 MiB < 6 MiB. */
    assert_int_equal(hn_pacer_heap_goal(&p, &fine), 5 * MiB);
}

static void test_trigger_bounds(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, 100, HN_PACER_NO_LIMIT);
    run_cycle(&p, 100 * MiB, 10 * MiB, 0, true);
    /* goal = 200 MiB = 209715200; (goal - M) / 64 = 1638400.
     * lower = 1638400 * 45 + 104857600 = 178585600.
     * upper = max(1638400 * 61 + 104857600 = 204800000, goal - 4 MiB =
     * 205520896) = 205520896. */
    assert_true(p.cons_mark == 0);
    hn_pacer_trigger_out t = hn_pacer_trigger(&p, &no_mem);
    assert_int_equal(t.goal, 209715200);
    assert_int_equal(t.min_trigger, 178585600);
    assert_int_equal(t.max_trigger, 205520896);
    /* cons/mark 0: no runway, the trigger sits at the upper bound. */
    assert_int_equal(t.trigger, 205520896);

    /* In between: cons/mark 0.5, Hs = 10 MiB: runway = 0.5 * 0.75 / 0.25 *
     * 10485760 = 15728640; trigger = 209715200 - 15728640 = 193986560. */
    p.cons_mark = 0.5;
    hn_pacer_commit(&p, 100 * MiB, true);
    assert_int_equal(p.runway, 15728640);
    t = hn_pacer_trigger(&p, &no_mem);
    assert_int_equal(t.trigger, 193986560);

    /* Lower bound: cons/mark 10 gives a runway of 300 MiB, past the goal. */
    p.cons_mark = 10;
    hn_pacer_commit(&p, 100 * MiB, true);
    assert_int_equal(p.runway, 300 * MiB);
    t = hn_pacer_trigger(&p, &no_mem);
    assert_int_equal(t.trigger, 178585600);
    /* Runway just under the goal but far below the lower bound: still it. */
    p.cons_mark = 6;
    hn_pacer_commit(&p, 100 * MiB, true);
    assert_int_equal(hn_pacer_trigger(&p, &no_mem).trigger, 178585600);
}

static void test_trigger_small_heap_upper_bound(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, 100, HN_PACER_NO_LIMIT);
    run_cycle(&p, 2 * MiB, 2 * MiB, 0, true);
    /* goal = 4 MiB (the minimum); (goal - M) / 64 = 32768; upper = 32768 * 61
     * + 2 MiB = 4096000; goal - 4 MiB does not apply (goal is not above 4
     * MiB). With no runway the trigger is 4096000. */
    hn_pacer_trigger_out t = hn_pacer_trigger(&p, &no_mem);
    assert_int_equal(t.goal, 4 * MiB);
    assert_int_equal(t.max_trigger, 4096000);
    assert_int_equal(t.trigger, 4096000);
    assert_int_equal(t.min_trigger, 32768 * 45 + 2 * MiB);
}

static void test_trigger_sweep_and_limit(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, 100, HN_PACER_NO_LIMIT);
    run_cycle(&p, 10 * MiB, 10 * MiB, 0, true);
    /* Sweeping not finished with the live count at 25 MiB: the sweeper's
     * floor, 26 MiB, is above the GOGC goal of 20 MiB and lifts both the goal
     * and the trigger to it. */
    hn_pacer_commit(&p, 25 * MiB, false);
    hn_pacer_trigger_out t = hn_pacer_trigger(&p, &no_mem);
    assert_int_equal(t.goal, 26 * MiB);
    assert_int_equal(t.trigger, 26 * MiB);

    /* Memory-limited: limit 16 MiB, mapped 12 MiB all heap: goal = 16 - 1 =
     * 15 MiB = 15728640 < 20 MiB. The sweep floor does not apply here.
     * (goal - M) / 64 = 81920: lower = 81920 * 45 + 10485760 = 14172160;
     * upper = 81920 * 61 + 10485760 = 15482880 (goal - 4 MiB is lower). */
    hn_pacer_set_memory_limit(&p, (int64_t)(16 * MiB));
    hn_pacer_commit(&p, 25 * MiB, false);
    hn_pacer_mem mem = {12 * MiB, 0, 12 * MiB};
    t = hn_pacer_trigger(&p, &mem);
    assert_true(t.memory_limited);
    assert_int_equal(t.goal, 15 * MiB);
    assert_int_equal(t.min_trigger, 14172160);
    assert_int_equal(t.max_trigger, 15482880);
    assert_int_equal(t.trigger, 15482880);
}

static void test_min_runway_while_marking(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, 100, HN_PACER_NO_LIMIT);
    run_cycle(&p, 10 * MiB, 10 * MiB, 0, true);
    /* A cycle that started late, at 19.99 MiB, against a 20 MiB goal: the
     * goal moves to triggered + 64 KiB. */
    uint64_t late = 20 * MiB - 10 * KiB;
    hn_pacer_revise_in in = {.heap_live = late, .heap_scan = 10 * MiB};
    hn_pacer_start_cycle(&p, 0, 4, &in);
    assert_int_equal(hn_pacer_heap_goal(&p, &no_mem), late + 64 * KiB);
}

/* One cycle with a chosen cons/mark: no assists, no idle, so the measurement
 * is (allocated) * 0.25 / (scan * 0.75). */
static double measure(hn_pacer *p, uint64_t allocated, int64_t scan)
{
    hn_pacer_revise_in in = {.heap_live = p->heap_marked + 1 * MiB, .heap_scan = (uint64_t)scan};
    hn_pacer_start_cycle(p, 1000, 4, &in);
    hn_pacer_measurements m = {
        .now_ns = 1000 + 1000000,
        .procs = 4,
        .heap_live = in.heap_live + allocated,
        .heap_scan_work = scan,
        .heap_marked = 10 * MiB,
        .sweep_done = true,
    };
    return hn_pacer_end_cycle(p, &m);
}

static void test_cons_mark_max_of_five(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, 100, HN_PACER_NO_LIMIT);
    /* scan 1e7: allocated 15e6 -> 15e6 * 0.25 / 7.5e6 = 0.5; 6e6 -> 0.2;
     * 9e6 -> 0.3; 3e6 -> 0.1. */
    static const struct {
        uint64_t allocated;
        double measured;
        double estimate; /* max of this and the 4 before */
    } seq[] = {
        {15000000, 0.5, 0.5}, /* 0.5 */
        {6000000, 0.2, 0.5},  /* 0.5 0.2 */
        {9000000, 0.3, 0.5},  /* 0.5 0.2 0.3 */
        {3000000, 0.1, 0.5},  /* 0.5 0.2 0.3 0.1 */
        {3000000, 0.1, 0.5},  /* 0.5 0.2 0.3 0.1 0.1: 0.5 still in */
        {3000000, 0.1, 0.3},  /* 0.2 0.3 0.1 0.1 0.1: 0.5 dropped */
        {3000000, 0.1, 0.3},  /* 0.3 0.1 0.1 0.1 0.1 */
        {3000000, 0.1, 0.1},  /* 0.1 x5 */
        {15000000, 0.5, 0.5}, /* a new high is taken at once */
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        double got = measure(&p, seq[i].allocated, 10000000);
        assert_float_equal(got, seq[i].measured, 1e-12);
        assert_float_equal(p.cons_mark, seq[i].estimate, 1e-12);
    }
    /* The runway follows: 0.5 * 3 * (Hs = 1e7) = 15e6. */
    assert_int_equal(p.runway, 15000000);
    assert_int_equal(p.cycles, sizeof seq / sizeof seq[0]);
}

static void test_cons_mark_with_assists_and_idle(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, 100, HN_PACER_NO_LIMIT);
    hn_pacer_revise_in in = {.heap_live = 5 * MiB, .heap_scan = 4 * MiB};
    hn_pacer_start_cycle(&p, 0, 4, &in);
    /* 1 s of marking on 4 procs: assists 1 CPU-s -> u = 0.25 + 0.25 = 0.5;
     * idle marking 0.4 CPU-s -> 0.1. Allocated = scanned = 8 MiB:
     * cons/mark = 1 * (0.5 + 0.1) / (1 * 0.5) = 1.2. */
    hn_pacer_measurements m = {
        .now_ns = 1000000000,
        .procs = 4,
        .assist_time_ns = 1000000000,
        .idle_mark_time_ns = 400000000,
        .heap_live = 13 * MiB,
        .heap_scan_work = 6 * MiB,
        .stack_scan_work = 1 * MiB,
        .globals_scan_work = 1 * MiB,
        .heap_marked = 6 * MiB,
        .sweep_done = true,
    };
    assert_float_equal(hn_pacer_end_cycle(&p, &m), 1.2, 1e-12);
    assert_float_equal(p.cons_mark, 1.2, 1e-12);
    assert_int_equal(p.heap_marked, 6 * MiB);
    assert_int_equal(p.last_heap_scan, 6 * MiB);
    assert_int_equal(p.last_stack_scan, 1 * MiB);
    assert_false(p.marking);

    /* Nothing allocated during marking: no measurement, estimate kept. */
    in.heap_live = 6 * MiB;
    hn_pacer_start_cycle(&p, 0, 4, &in);
    m.heap_live = 6 * MiB;
    assert_float_equal(hn_pacer_end_cycle(&p, &m), 0, 0);
    assert_float_equal(p.cons_mark, 1.2, 1e-12);
}

/* A second cycle that starts late enough for assists: after a first that marked
 * 100 MiB and scanned 50 MiB, the goal is 200 MiB and marking starts at 180 MiB:
 * 50 MiB of expected work over 20 MiB of runway = 2.5 units per byte, 0.4 bytes
 * per unit. Returns the start's inputs, for later revisions. */
static hn_pacer_revise_in start_assisted_cycle(hn_pacer *p)
{
    hn_pacer_init(p, 100, HN_PACER_NO_LIMIT);
    run_cycle(p, 100 * MiB, 50 * MiB, 0, true);
    hn_pacer_revise_in in = {.heap_live = 180 * MiB, .heap_scan = 60 * MiB};
    hn_pacer_start_cycle(p, 0, 4, &in);
    return in;
}

static void test_assist_ratio(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_revise_in in = start_assisted_cycle(&p);
    assert_float_equal(p.assist_work_per_byte, 2.5, 0);
    assert_float_equal(p.assist_bytes_per_work, 0.4, 0);

    /* Halfway: 25 MiB scanned at 190 MiB: 25 MiB / 10 MiB = 2.5 still. */
    in.heap_live = 190 * MiB;
    in.scan_work_done = 25 * MiB;
    hn_pacer_revise_out r = hn_pacer_revise(&p, &in);
    assert_int_equal(r.heap_goal, 200 * MiB);
    assert_int_equal(r.scan_work_remaining, 25 * MiB);
    assert_int_equal(r.heap_remaining, 10 * MiB);
    assert_float_equal(p.assist_work_per_byte, 2.5, 0);

    /* More work than expected (60 MiB > 50 MiB): the heap grew. Goal
     * extended to (20 MiB / 50 MiB) * 60 MiB + 180 MiB = 213909504, under the
     * hard cap 2 * 200 MiB; remaining work 0 -> floor 1000; distance
     * 213909504 - 190 MiB = 14680064. */
    in.scan_work_done = 60 * MiB;
    r = hn_pacer_revise(&p, &in);
    assert_false(r.hard_goal);
    assert_int_equal(r.heap_goal, 213909504);
    assert_int_equal(r.scan_work_expected, 60 * MiB);
    assert_int_equal(r.scan_work_remaining, 1000);
    assert_int_equal(r.heap_remaining, 14680064);
    assert_float_equal(p.assist_work_per_byte, 1000.0 / 14680064.0, 1e-18);

    /* Past the goal without extra work: 210 MiB live, 30 MiB done. The hard
     * goal is 1.1 * 200 MiB = 230686720; work expected becomes the worst case
     * 60 MiB; (60 - 30) MiB over (230686720 - 220200960 = 10 MiB) = 3. */
    in.heap_live = 210 * MiB;
    in.scan_work_done = 30 * MiB;
    r = hn_pacer_revise(&p, &in);
    assert_true(r.hard_goal);
    assert_int_equal(r.heap_goal, 230686720);
    assert_float_equal(p.assist_work_per_byte, 3.0, 0);
    assert_float_equal(p.assist_bytes_per_work, 1.0 / 3.0, 1e-15);

    /* Past even the hard goal: the distance is floored at 1 byte. */
    in.heap_live = 300 * MiB;
    r = hn_pacer_revise(&p, &in);
    assert_int_equal(r.heap_remaining, 1);
}

static void test_assist_chunks(void **state)
{
    (void)state;
    hn_pacer p;
    start_assisted_cycle(&p);
    /* 2.5 units of work per byte, 0.4 bytes per unit. */
    assert_int_equal(hn_pacer_assist_work_for(&p, 1000), 2500);
    assert_int_equal(hn_pacer_assist_credit(&p, 1000), 401);

    /* 1000 bytes of debt owe 2500 units: under 64 KiB, so a whole 65536-unit
     * chunk is done, paying for 0.4 * 65536 = 26214.4 -> 26214 bytes. */
    hn_pacer_assist a = hn_pacer_assist_plan(&p, 1000, 0, false);
    assert_false(a.skipped);
    assert_int_equal(a.owed_work, 65536);
    assert_int_equal(a.paid_bytes, 26214);
    assert_int_equal(a.stolen, 0);
    assert_int_equal(a.scan_work, 65536);

    /* Some background credit: all 10000 units are stolen, worth 1 + 4000
     * bytes; the thread scans the other 55536. */
    a = hn_pacer_assist_plan(&p, 1000, 10000, false);
    assert_int_equal(a.stolen, 10000);
    assert_int_equal(a.stolen_bytes, 4001);
    assert_int_equal(a.scan_work, 55536);

    /* Enough credit: the whole chunk is stolen, nothing to scan. */
    a = hn_pacer_assist_plan(&p, 1000, 100000, false);
    assert_int_equal(a.stolen, 65536);
    assert_int_equal(a.stolen_bytes, 26214);
    assert_int_equal(a.scan_work, 0);

    /* Large debt: 1 MiB owes 2621440 units, no rounding up. */
    a = hn_pacer_assist_plan(&p, 1 * MiB, -5, false);
    assert_int_equal(a.owed_work, 2621440);
    assert_int_equal(a.paid_bytes, 1 * MiB);
    assert_int_equal(a.stolen, 0); /* negative credit is not stolen */
    assert_int_equal(a.scan_work, 2621440);

    /* The CPU limiter is on: no assist. */
    a = hn_pacer_assist_plan(&p, 1 * MiB, 0, true);
    assert_true(a.skipped);
    assert_int_equal(a.scan_work, 0);
}

static void test_periodic_cycle(void **state)
{
    (void)state;
    hn_pacer p;
    hn_pacer_init(&p, 100, HN_PACER_NO_LIMIT);
    const int64_t s = 1000000000;
    /* No cycle yet: never. */
    assert_false(hn_pacer_periodic_due(&p, 1000 * s, 0));
    /* Exactly 2 minutes after the last one: not yet; a nanosecond later: due. */
    assert_false(hn_pacer_periodic_due(&p, 5 * s + 120 * s, 5 * s));
    assert_true(hn_pacer_periodic_due(&p, 5 * s + 120 * s + 1, 5 * s));
    /* GOGC=off turns periodic cycles off too, even with a limit. */
    hn_pacer_set_gogc(&p, -1);
    hn_pacer_set_memory_limit(&p, (int64_t)(64 * MiB));
    assert_false(hn_pacer_periodic_due(&p, 500 * s, 5 * s));
}

static void test_sweep_pacing(void **state)
{
    (void)state;
    /* Trigger 100 MiB, live 50 MiB: 49 MiB of distance after the 1 MiB
     * margin; 8000 of 10000 pages left: 8000 / 51380224 pages per byte. */
    double ppb = hn_pacer_sweep_pages_per_byte(100 * MiB, 50 * MiB, 10000, 2000, 8192, false);
    assert_float_equal(ppb, 8000.0 / 51380224.0, 1e-18);
    /* Done, or nothing left: no proportional sweeping. */
    assert_float_equal(hn_pacer_sweep_pages_per_byte(100 * MiB, 50 * MiB, 10000, 2000, 8192, true), 0, 0);
    assert_float_equal(hn_pacer_sweep_pages_per_byte(100 * MiB, 50 * MiB, 10000, 10000, 8192, false), 0, 0);
    /* Trigger closer than the margin: one page of distance. */
    assert_float_equal(hn_pacer_sweep_pages_per_byte(50 * MiB + 1000, 50 * MiB, 100, 0, 8192, false),
                       100.0 / 8192.0, 0);

    /* Debt: 0.001 pages per byte; 1 MiB allocated since the basis plus a
     * 64 KiB span = 1114112 bytes -> 1114 pages; 100 swept by the caller and
     * 900 since the basis: 114 still owed. */
    assert_int_equal(hn_pacer_sweep_debt(0.001, 51 * MiB, 50 * MiB, 64 * KiB, 900, 100), 114);
    /* Ahead of schedule: nothing owed. */
    assert_int_equal(hn_pacer_sweep_debt(0.001, 51 * MiB, 50 * MiB, 64 * KiB, 2000, 0), 0);
    /* Live below the basis (a cycle reset it): only the span counts. */
    assert_int_equal(hn_pacer_sweep_debt(0.001, 40 * MiB, 50 * MiB, 64 * KiB, 0, 0), 65);
    assert_int_equal(hn_pacer_sweep_debt(0, 51 * MiB, 50 * MiB, 64 * KiB, 0, 0), 0);
}

static void test_worker_plan(void **state)
{
    (void)state;
    static const struct {
        int32_t procs;
        int32_t dedicated;
        double fractional;
    } cases[] = {
        {1, 0, 0.25},       /* 0.25 rounds to 0: all fractional */
        {2, 0, 0.25},       /* 0.5 rounds to 1, 100 % over: drop it */
        {3, 0, 0.25},       /* 0.75 -> 1, 33 % over: drop it */
        {4, 1, 0},          /* exact */
        {5, 1, 0},          /* 1.25 -> 1, 20 % under: fine */
        {6, 1, 0.5 / 6},    /* 1.5 -> 2, 33 % over: 1 + fractional 0.5 */
        {8, 2, 0},
        {10, 3, 0},         /* 2.5 -> 3, 20 % over: fine */
        {64, 16, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hn_pacer_workers w = hn_pacer_worker_plan(cases[i].procs);
        assert_int_equal(w.dedicated, cases[i].dedicated);
        assert_float_equal(w.fractional, cases[i].fractional, 1e-15);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goal_with_stacks_and_globals),
        cmocka_unit_test(test_heap_minimum_scales_with_gogc),
        cmocka_unit_test(test_gogc_zero),
        cmocka_unit_test(test_gogc_off_without_limit),
        cmocka_unit_test(test_gogc_off_with_limit),
        cmocka_unit_test(test_limit_goal_headroom),
        cmocka_unit_test(test_limit_goal_floor_and_overage),
        cmocka_unit_test(test_trigger_bounds),
        cmocka_unit_test(test_trigger_small_heap_upper_bound),
        cmocka_unit_test(test_trigger_sweep_and_limit),
        cmocka_unit_test(test_min_runway_while_marking),
        cmocka_unit_test(test_cons_mark_max_of_five),
        cmocka_unit_test(test_cons_mark_with_assists_and_idle),
        cmocka_unit_test(test_assist_ratio),
        cmocka_unit_test(test_assist_chunks),
        cmocka_unit_test(test_periodic_cycle),
        cmocka_unit_test(test_sweep_pacing),
        cmocka_unit_test(test_worker_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
