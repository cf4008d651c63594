/* tests/gc/test_scavenge_goal.c: the scavenger's goals and pace against
 * hand-computed cases: the GOGC retain goal (ratio of goals, +10 %, page
 * rounding, the one-page dead band), 95 % of the memory limit, the background
 * work left, synchronous release on the allocation path, and the 1 % CPU pace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gc/scavenge_goal.h"

#define MiB ((uint64_t)1 << 20)
#define PAGE ((uint64_t)4096)

static hn_scavenge_goal_in base(void)
{
    return (hn_scavenge_goal_in){
        .memory_limit = INT64_MAX,
        .heap_goal = 200 * MiB,
        .last_heap_goal = 100 * MiB,
        .last_heap_in_use = 110 * MiB,
        .heap_retained = 300 * MiB,
        .mapped_ready = 310 * MiB,
        .phys_page_size = PAGE,
    };
}

static void test_gc_percent_goal(void **state)
{
    (void)state;
    hn_scavenge_goal_in in = base();
    /* The heap goal doubled: 110 MiB in use * 2 = 220 MiB, + 22 MiB = 242 MiB
     * (page aligned already). */
    hn_scavenge_goals g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.gc_percent_goal, 242 * MiB);
    assert_int_equal(g.memory_limit_goal, HN_SCAVENGE_NONE);
    assert_int_equal(hn_scavenge_background_remaining(&g, in.heap_retained, in.mapped_ready),
                     58 * MiB);

    /* Shrinking goal: 100 -> 50 MiB halves the need: 55 + 5.5 = 60.5 MiB. */
    in.heap_goal = 50 * MiB;
    g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.gc_percent_goal, 121 * MiB / 2);

    /* Rounding: 1000001 in use, same goal: 1000001 + 100000 (integer tenth)
     * = 1100001, up to the next 4 KiB page = 1101824. */
    in.heap_goal = in.last_heap_goal;
    in.last_heap_in_use = 1000001;
    in.heap_retained = 2 * MiB;
    g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.gc_percent_goal, 1101824);

    /* Within a page of the goal: nothing to do. */
    in.heap_retained = 1101824 + PAGE - 1;
    g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.gc_percent_goal, HN_SCAVENGE_NONE);
    in.heap_retained = 1101824 + PAGE;
    g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.gc_percent_goal, 1101824);
    /* Under it: nothing to do. */
    in.heap_retained = 1000000;
    g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.gc_percent_goal, HN_SCAVENGE_NONE);
    assert_int_equal(hn_scavenge_background_remaining(&g, in.heap_retained, 0), 0);

    /* Before the first cycle: no GOGC goal. */
    in = base();
    in.last_heap_goal = 0;
    g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.gc_percent_goal, HN_SCAVENGE_NONE);
}

static void test_memory_limit_goal(void **state)
{
    (void)state;
    hn_scavenge_goal_in in = base();
    in.memory_limit = (int64_t)(100 * MiB);
    /* 95 % of 100 MiB = 99614720; mapped 310 MiB is over it. */
    in.mapped_ready = 99 * MiB;
    hn_scavenge_goals g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.memory_limit_goal, 99614720);
    /* Background work: the larger of the two overages: 300 - 242 = 58 MiB
     * vs 99 MiB - 99614720 = 4194304. */
    assert_int_equal(hn_scavenge_background_remaining(&g, in.heap_retained, in.mapped_ready),
                     58 * MiB);
    in.heap_retained = 200 * MiB; /* GOGC goal met */
    g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.gc_percent_goal, HN_SCAVENGE_NONE);
    assert_int_equal(hn_scavenge_background_remaining(&g, in.heap_retained, in.mapped_ready),
                     103809024 - 99614720);
    /* At or under 95 %: no limit goal. */
    in.mapped_ready = 99614720;
    g = hn_scavenge_goals_compute(&in);
    assert_int_equal(g.memory_limit_goal, HN_SCAVENGE_NONE);
}

static void test_sync_release(void **state)
{
    (void)state;
    /* 99 MiB mapped under a 100 MiB limit; the allocation faults 2 MiB of
     * released pages back in: 1 MiB over, released at once, forced. */
    hn_scavenge_sync_in in = {
        .memory_limit = (int64_t)(100 * MiB),
        .mapped_ready = 99 * MiB,
        .scav_bytes = 2 * MiB,
        .gc_percent_goal = HN_SCAVENGE_NONE,
    };
    hn_scavenge_sync s = hn_scavenge_sync_amount(&in);
    assert_int_equal(s.bytes, 1 * MiB);
    assert_true(s.force);
    /* Exactly at the limit: nothing. */
    in.scav_bytes = 1 * MiB;
    s = hn_scavenge_sync_amount(&in);
    assert_int_equal(s.bytes, 0);
    assert_false(s.force);
    /* The CPU limiter on: no synchronous release. */
    in.scav_bytes = 2 * MiB;
    in.limiting = true;
    s = hn_scavenge_sync_amount(&in);
    assert_int_equal(s.bytes, 0);

    /* Heap growth past the GOGC goal: retained 99 MiB + 4 MiB growth against
     * a 100 MiB goal: 3 MiB over, less than the growth: release 3 MiB. */
    hn_scavenge_sync_in grow = {
        .memory_limit = INT64_MAX,
        .gc_percent_goal = 100 * MiB,
        .heap_retained = 99 * MiB,
        .growth = 4 * MiB,
    };
    s = hn_scavenge_sync_amount(&grow);
    assert_int_equal(s.bytes, 3 * MiB);
    assert_false(s.force);
    /* Far over the goal: at most the growth. */
    grow.heap_retained = 200 * MiB;
    s = hn_scavenge_sync_amount(&grow);
    assert_int_equal(s.bytes, 4 * MiB);
    /* No growth, no release. */
    grow.growth = 0;
    s = hn_scavenge_sync_amount(&grow);
    assert_int_equal(s.bytes, 0);
    /* Both reasons: the larger wins, forced because of the limit. */
    grow.growth = 4 * MiB;
    grow.memory_limit = (int64_t)(100 * MiB);
    grow.mapped_ready = 101 * MiB;
    grow.scav_bytes = 1 * MiB;
    s = hn_scavenge_sync_amount(&grow);
    assert_int_equal(s.bytes, 4 * MiB);
    assert_true(s.force);
}

static void test_background_pace(void **state)
{
    (void)state;
    /* 2 ms of work at 1 % of 4 procs: the period is 2 / 0.04 = 50 ms, so
     * sleep 48 ms. */
    assert_int_equal(hn_scavenge_sleep_ns(2000000, 4), 48000000);
    /* Less than 1 ms of work counts as 1 ms: period 25 ms, sleep 24 ms. */
    assert_int_equal(hn_scavenge_sleep_ns(500000, 4), 24000000);
    /* One processor: 1 ms of work every 100 ms. */
    assert_int_equal(hn_scavenge_sleep_ns(1000000, 1), 99000000);
    /* 1 % of 100 procs is a whole CPU: no sleep. */
    assert_int_equal(hn_scavenge_sleep_ns(1000000, 100), 0);

    /* Budget: 1 s on 4 procs = 40 ms of CPU; capped at the wall time. */
    assert_int_equal(hn_scavenge_cpu_budget_ns(1000000000, 4), 40000000);
    assert_int_equal(hn_scavenge_cpu_budget_ns(1000000, 400), 1000000);
    assert_int_equal(hn_scavenge_cpu_budget_ns(-5, 4), 0);
    /* At 10 us a page: 4000 pages of 4 KiB in that second. */
    assert_int_equal(hn_scavenge_rate_bytes(1000000000, 4, 0, PAGE), 4000 * PAGE);
    /* Measured 40 us a page: a quarter of that. */
    assert_int_equal(hn_scavenge_rate_bytes(1000000000, 4, 40000, PAGE), 1000 * PAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gc_percent_goal),
        cmocka_unit_test(test_memory_limit_goal),
        cmocka_unit_test(test_sync_release),
        cmocka_unit_test(test_background_pace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
